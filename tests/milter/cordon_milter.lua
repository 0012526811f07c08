-- Drives cordon's milter role with Debian's miltertest (the MTA side of
-- libmilter's protocol): negotiation, macros, several messages on one
-- connection, abort, block, modify, redirect and pass.
-- Run by run_miltertest.py with -D port=PORT.

local function check(ok, what)
  if not ok then error("FAILED: " .. what) end
  mt.echo("ok: " .. what)
end

local function connect()
  local conn = mt.connect("inet:" .. port .. "@127.0.0.1", 20, 0.25)
  check(conn ~= nil, "connect to cordon's milter")
  check(mt.negotiate(conn, nil, nil, nil) == nil, "negotiate")
  check(mt.macro(conn, SMFIC_CONNECT, "j", "mx.test", "{client_addr}", "192.0.2.5") == nil,
        "connect macros")
  check(mt.conninfo(conn, "client.test", "192.0.2.5") == nil, "conninfo")
  check(mt.helo(conn, "client.test") == nil, "helo")
  return conn
end

local function message(conn, subject, body, rcpts)
  check(mt.macro(conn, SMFIC_MAIL, "i", "QID" .. subject, "{auth_authen}", "alice") == nil,
        "mail macros")
  check(mt.mailfrom(conn, "<alice@corp.test>") == nil, "mail from")
  for _, r in ipairs(rcpts or {"<bob@ext.test>"}) do
    check(mt.rcptto(conn, r) == nil, "rcpt " .. r)
  end
  check(mt.header(conn, "From", "alice@corp.test") == nil, "header From")
  check(mt.header(conn, "Subject", subject) == nil, "header Subject")
  check(mt.eoh(conn) == nil, "eoh")
  check(mt.bodystring(conn, body .. "\r\n") == nil, "body")
  check(mt.eom(conn) == nil, "eom")
end

local conn = connect()
-- the MTA offered every action: cordon asks for the ones it uses
check(mt.test_action(conn, SMFIF_ADDHDRS), "asks to add headers")
check(mt.test_action(conn, SMFIF_DELRCPT), "asks to delete recipients")
check(mt.test_action(conn, SMFIF_QUARANTINE), "asks to quarantine")
check(not mt.test_action(conn, SMFIF_CHGBODY), "never asks to replace the body")
check(mt.test_option(conn, SMFIP_NR_RCPT), "no reply for RCPT")
check(mt.test_option(conn, SMFIP_NR_BODY), "no reply for body chunks")

-- 1. a clean message passes untouched
message(conn, "clean", "Lunch at noon?")
check(mt.getreply(conn) == SMFIR_ACCEPT, "clean message accepted")
check(not mt.eom_check(conn, MT_HDRINSERT), "clean message: no header inserted")

-- 2. an aborted message leaves nothing behind
check(mt.mailfrom(conn, "<alice@corp.test>") == nil, "mail from (to abort)")
check(mt.rcptto(conn, "<gone@ext.test>") == nil, "rcpt (to abort)")
check(mt.abort(conn) == nil, "abort")

-- 3. block: the merged reply, one code on every line, the incident named
message(conn, "cards", "card 4111 1111 1111 1111 and secretword1 secretword2")
check(mt.getreply(conn) == SMFIR_REPLYCODE, "card message gets a reply code")
-- (miltertest's MT_SMTPREPLY check does not parse multi-line replies; the
-- reply's text is checked through Postfix in tests/e2e/test_milter_postfix.py)

-- 4. modify: header inserted on top, subject prefixed
message(conn, "neptune", "about project neptune")
check(mt.getreply(conn) == SMFIR_ACCEPT, "modified message accepted")
check(mt.eom_check(conn, MT_HDRINSERT, "X-DLP-Policy"), "X-DLP-Policy inserted")
check(mt.eom_check(conn, MT_HDRCHANGE, "Subject"), "Subject changed")

-- 5. redirect: recipients replaced
message(conn, "redir", "please quarantineme", {"<bob@ext.test>", "<amy@ext.test>"})
check(mt.getreply(conn) == SMFIR_ACCEPT, "redirected message accepted")
check(mt.eom_check(conn, MT_RCPTDELETE, "bob@ext.test"), "bob deleted")
check(mt.eom_check(conn, MT_RCPTDELETE, "amy@ext.test"), "amy deleted")
check(mt.eom_check(conn, MT_RCPTADD, "quarantine@example.com"), "redirect address added")

-- 6. hold: quarantined with the incident named
message(conn, "hold", "please holdme")
check(mt.getreply(conn) == SMFIR_ACCEPT, "held message accepted into the hold queue")
check(mt.eom_check(conn, MT_QUARANTINE), "quarantine requested")

check(mt.disconnect(conn) == nil, "disconnect")
mt.echo("all checks passed")
