"""Small scripted SMTP servers that play a DLP host for the gateway's
end-to-end tests: each misbehaves in one precise way (never greets, greets
421, defers at RCPT, rejects at end of data, offers no STARTTLS), or acts
like prevent in reflect mode (relays the message back to the gateway's
resubmission port inside its own session, then answers with what the
gateway said), stamping it as prevent does so that the resubmission port
takes it."""

import hashlib
import hmac
import os
import re
import smtplib
import socket
import threading

# ... and every field whose name starts with x-cordon- (cordon's own trace).
TRACE_HEADERS = {"received", "return-path", "delivered-to", "x-original-to"}


def deployment(data_dir):
    """(id, key) of the deployment of data_dir, as src/inspect/stamp.cpp
    reads them: the first word of deployment-id and of deployment-key."""
    def word(name):
        with open(os.path.join(data_dir, name), "rb") as f:
            return f.read().split()[0]
    return word("deployment-id").decode(), word("deployment-key")


def content_hash(content):
    """SHA-256 (hex) of the message without its top-level trace fields
    (inspect::content_hash). Enough of RFC 5322 for the tests' messages:
    CRLF lines, folded fields, the empty line ends the header section."""
    h = hashlib.sha256()
    in_trace, in_header = False, True
    for line in content.splitlines(keepends=True):
        if in_header and line in (b"\r\n", b"\n"):
            in_header = False
        elif in_header:
            if line[:1] not in (b" ", b"\t"):
                name = line.split(b":", 1)[0].strip().lower().decode(errors="replace")
                in_trace = b":" in line and (name in TRACE_HEADERS or
                                             name.startswith("x-cordon-"))
            if in_trace:
                continue
        h.update(line)
    return h.hexdigest()


def mac(key, content):
    """HMAC-SHA256 under the key's text of content_hash, cut to 128 bits."""
    return hmac.new(key, content_hash(content).encode(), hashlib.sha256).hexdigest()[:32]


def stamp(content, data_dir, verdict="pass"):
    """content with prevent's X-Cordon-Inspected stamp of data_dir's deployment on top."""
    dep_id, key = deployment(data_dir)
    return f"X-Cordon-Inspected: {dep_id}; {verdict}; mac={mac(key, content)}\r\n".encode() + content


def stamp_header(stamped):
    """The stamp line of a stamp()ed message, to copy onto another."""
    return re.match(rb"X-Cordon-Inspected: [^\r\n]*\r\n", stamped).group(0)


class FakeDlp:
    """A one-thread-per-connection SMTP server on 127.0.0.1.

    replies: {"greeting"|"ehlo"|"mail"|"rcpt"|"data"|"dot"|"dot_after_reflect": "CODE text"}
    overrides the normal reply of that stage; "silent" as the greeting
    accepts the connection and never says anything. reflect_port relays
    each accepted message there (reflect mode), stamped with the deployment
    of stamp_dir (the gateway's data_dir) when given, after transform (a
    DLP that edits the message), reflect_times times over one session.
    starttls adds STARTTLS to the EHLO reply (it is never actually served).
    """

    def __init__(self, port, replies=None, reflect_port=None, starttls=False, stamp_dir=None,
                 transform=None, reflect_times=1):
        self.port = port
        self.transform = transform  # bytes -> bytes, applied before the stamp (a DLP that edits)
        self.reflect_times = reflect_times
        self.stamp_dir = stamp_dir
        self.replies = replies or {}
        self.reflect_port = reflect_port
        self.starttls = starttls
        self.messages = []  # (sender, recipients, content bytes)
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(50)
        self.open_clients = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def stop(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.open_clients:
            try:
                c.close()
            except OSError:
                pass

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.open_clients.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _reply(self, stage, default):
        return self.replies.get(stage, default)

    def _serve(self, conn):
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line.encode() + b"\r\n")

        try:
            greeting = self._reply("greeting", "220 fake-dlp ESMTP")
            if greeting == "silent":
                f.read()  # until the client gives up
                return
            send(greeting)
            if not greeting.startswith("2"):
                return
            sender, rcpts = None, []
            while True:
                line = f.readline()
                if not line:
                    return
                verb = line.decode(errors="replace").strip()
                upper = verb.upper()
                if upper.startswith("EHLO") or upper.startswith("HELO"):
                    r = self._reply("ehlo", None)
                    if r:
                        send(r)
                    elif self.starttls:
                        send("250-fake-dlp")
                        send("250-STARTTLS")
                        send("250 8BITMIME")
                    else:
                        send("250-fake-dlp")
                        send("250 8BITMIME")
                elif upper.startswith("MAIL"):
                    sender = verb[verb.index("<") + 1:verb.index(">")]
                    rcpts = []
                    send(self._reply("mail", "250 2.1.0 Ok"))
                elif upper.startswith("RCPT"):
                    r = self._reply("rcpt", "250 2.1.5 Ok")
                    if r.startswith("2"):
                        rcpts.append(verb[verb.index("<") + 1:verb.index(">")])
                    send(r)
                elif upper == "DATA":
                    r = self._reply("data", "354 go ahead")
                    send(r)
                    if not r.startswith("3"):
                        continue
                    lines = []
                    while True:
                        l = f.readline()
                        if not l or l == b".\r\n":
                            break
                        lines.append(l[1:] if l.startswith(b"..") else l)
                    content = b"".join(lines)
                    self.messages.append((sender, rcpts, content))
                    send(self._dot_reply(sender, rcpts, content))
                elif upper == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                elif upper == "RSET":
                    send("250 2.0.0 Ok")
                else:
                    send("502 5.5.1 Not implemented")
        except OSError:
            return
        finally:
            conn.close()

    def _dot_reply(self, sender, rcpts, content):
        if "dot" in self.replies:
            return self.replies["dot"]
        if self.reflect_port is None:
            return "250 2.0.0 Ok: inspected"
        if self.transform:
            content = self.transform(content)
        if self.stamp_dir:
            content = stamp(content, self.stamp_dir)
        try:
            with smtplib.SMTP("127.0.0.1", self.reflect_port, timeout=10) as s:
                for _ in range(self.reflect_times):
                    s.sendmail(sender, rcpts, content)
            # A DLP that resubmitted and then fails its own reply (as when the
            # gateway's wait for it runs out).
            return self.replies.get("dot_after_reflect", "250 2.0.0 Ok: passed and reflected")
        except smtplib.SMTPResponseException as e:
            return f"{e.smtp_code} {e.smtp_error.decode(errors='replace')}"
        except (OSError, smtplib.SMTPException) as e:
            return f"451 4.4.0 reflect failed: {e}"
