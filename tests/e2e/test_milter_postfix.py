"""cordon's milter role inside a real Postfix: a private Postfix (started once
for the suite) with smtpd_milters pointing at cordon and smtp-sink as the
next hop. What Postfix makes of the milter's answers: one conformant
multi-line 550 at the end of DATA for a message that fires several block
policies (read from swaks and from Postfix's log), headers added and the
subject prefixed, recipients replaced, a message in Postfix's hold queue, a
clean message delivered byte for byte, several messages on one connection,
one incident for a re-sent message, new policies after a reload (SIGHUP),
and a tempfail once cordon is gone."""

import json
import os
import re
import shutil
import smtplib
import subprocess
import tempfile
import unittest
import urllib.request

import peers
from prevent_support import (EIGHT_KEYWORDS, HOLD_POLICY, STANDARD_POLICIES,
                             eight_block_policies, make_message)


class MilterInPostfixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="cordon-milter-")
        os.chmod(cls.dir, 0o755)
        cls.milter_port = peers.free_port()
        cls.sink_port = peers.free_port()
        cls.smtp_port = peers.free_port()
        cls.console_port = peers.free_port()
        config = f"""data_dir: {cls.dir}/data
console:
  listen: 127.0.0.1:{cls.console_port}
milter:
  listen: 127.0.0.1:{cls.milter_port}
policies:
""" + STANDARD_POLICIES + eight_block_policies() + HOLD_POLICY
        cls.cordon = peers.Cordon(config, cls.dir, ports=[cls.milter_port, cls.console_port])
        cls.sink = peers.SmtpSink(cls.sink_port, dump_dir=os.path.join(cls.dir, "dump"))
        cls.pf = peers.Postfix(cls.smtp_port, name="milter", main_cf={
            "maillog_file_prefixes": "/tmp",
            "relayhost": f"[127.0.0.1]:{cls.sink_port}",
            "smtpd_milters": f"inet:127.0.0.1:{cls.milter_port}",
            "milter_default_action": "tempfail",
            "milter_protocol": "6",
        })
        try:
            cls.cordon.start()
            cls.pf.start()
    
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()
        cls.cordon.kill()
        cls.cordon.stop()
        cls.sink.stop()
        cls.sink.proc.stderr.close()
        if not os.environ.get("KEEP"):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def swaks(self, subject, body, to="bob@ext.test"):
        """Sends with swaks a message whose bytes depend only on subject and
        body (a fixed Date and Message-ID), so that a re-send is the same
        message; returns swaks' exit code and transcript."""
        path = os.path.join(self.dir, "swaks.eml")
        with open(path, "w") as f:
            f.write(make_message(subject, body, extra="Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n")
                    .replace("\r\n", "\n"))
        r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(self.smtp_port),
                            "--helo", "sender.test", "--from", "alice@corp.test", "--to", to,
                            "--data", path],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout + r.stderr

    def delivered(self, subject):
        for raw in self.sink.messages():
            if re.search(rb"(?m)^Subject: .*" + re.escape(subject.encode()) + rb"\r?$", raw):
                return raw
        return None

    def wait_delivered(self, subject):
        return peers.wait_until(lambda: self.delivered(subject), timeout=20,
                                what=f"delivery of {subject}")

    def incidents(self):
        r = self.cordon.run("incidents", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_block_is_one_conformant_multiline_reply_at_end_of_data(self):
        body = "Internal only: " + ", ".join(EIGHT_KEYWORDS)
        code, out = self.swaks("eight", body)
        self.assertNotEqual(code, 0, out)
        # swaks marks the server's error lines with "<**"; the reply to DATA's end.
        lines = [l[4:] for l in out.splitlines() if l.startswith("<** ")]
        self.assertGreater(len(lines), 1, out)
        for l in lines[:-1]:
            self.assertRegex(l, r"^550-5\.7\.0 ")
        self.assertRegex(lines[-1], r"^550 5\.7\.0 ")
        self.assertTrue(all(len(l) + 2 <= 512 for l in lines))
        self.assertLessEqual(sum(len(l) + 2 for l in lines), 1000)
        self.assertNotIn("%%", out)
        incident = [i for i in self.incidents() if i["subject"] == "eight"]
        self.assertEqual(len(incident), 1)
        self.assertEqual(lines[0], f"550-5.7.0 Incident ID: {incident[0]['id']}")
        self.assertRegex(lines[-1], r"\.\.\. and \d+ more violations")
        self.assertEqual(len(incident[0]["policies"]), 8)
        # The client Postfix told the milter about: address and HELO name.
        self.assertEqual(incident[0]["client_address"], "127.0.0.1")
        self.assertEqual(incident[0]["client_helo"], "sender.test")
        log = self.pf.wait_log(r"milter-reject: END-OF-MESSAGE .*5\.7\.0 Incident ID: "
                               + str(incident[0]["id"]))
        self.assertTrue(log)
        self.assertIsNone(self.delivered("eight"))

        # Sent again: the same incident, a repeat count, never a second one.
        code, _ = self.swaks("eight", body)
        self.assertNotEqual(code, 0)
        again = [i for i in self.incidents() if i["subject"] == "eight"]
        self.assertEqual(len(again), 1)
        self.assertEqual(again[0]["repeat_count"], 1)

    def test_metrics_count_the_decisions(self):
        # Runs after the block and hold tests (by name): both are counted.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.console_port}/metrics",
                                    timeout=10) as r:
            text = r.read().decode()

        def value(series):
            m = re.search(r"(?m)^" + re.escape(series) + r" (\d+)", text)
            return int(m.group(1)) if m else 0
        self.assertGreaterEqual(value('cordon_milter_messages_total{result="blocked"}'), 2)
        self.assertGreaterEqual(value('cordon_milter_messages_total{result="held"}'), 1)
        self.assertGreaterEqual(value('cordon_milter_messages_total{result="inspected"}'), 3)
        self.assertGreaterEqual(value("cordon_milter_connections_total"), 3)

    def test_modify_adds_the_header_and_prefixes_the_subject(self):
        code, out = self.swaks("mod", "about project neptune")
        self.assertEqual(code, 0, out)
        raw = self.wait_delivered("[DLP] mod")
        self.assertRegex(raw, rb"(?m)^X-DLP-Policy: neptune\r?$")
        self.assertNotRegex(raw, rb"(?m)^Subject: mod\r?$")

    def test_redirect_replaces_the_recipients(self):
        code, out = self.swaks("redir", "please quarantineme", to="bob@ext.test,amy@ext.test")
        self.assertEqual(code, 0, out)
        raw = self.wait_delivered("redir")
        rcpts = re.findall(rb"(?m)^X-Rcpt-Args: (.*?)\r?$", raw)
        self.assertIn(b"quarantine@example.com", b" ".join(rcpts))
        self.assertNotIn(b"bob@ext.test", b" ".join(rcpts))
        self.assertNotIn(b"amy@ext.test", b" ".join(rcpts))

    def test_hold_puts_the_message_in_the_hold_queue(self):
        code, out = self.swaks("held", "please holdme")
        self.assertEqual(code, 0, out)
        [incident] = [i for i in self.incidents() if i["subject"] == "held"]
        self.assertEqual(incident["action"], "hold")
        # Postfix logs the hold, not the milter's reason; cordon logs the reason.
        self.pf.wait_log(r"milter-hold: END-OF-MESSAGE .*milter triggers HOLD action; "
                         r"from=<alice@corp\.test> to=<bob@ext\.test>")
        self.assertRegex(self.cordon.output(),
                         r"incident=%d -> hold \(cordon incident %d: Review by the DLP team\)"
                         % (incident["id"], incident["id"]))

        def held():
            out = subprocess.run(["postqueue", "-c", self.pf.etc, "-j"], capture_output=True,
                                 text=True).stdout
            return [json.loads(l) for l in out.splitlines()
                    if l.strip() and json.loads(l)["queue_name"] == "hold"]
        [entry] = peers.wait_until(held, timeout=10, what="a message in the hold queue")
        self.assertEqual([r["address"] for r in entry["recipients"]], ["bob@ext.test"])
        self.assertIsNone(self.delivered("held"))

    def test_clean_messages_on_one_connection_are_delivered_byte_for_byte(self):
        date = "Date: Tue, 1 Dec 2026 10:00:00 +0000\r\n"  # else Postfix adds one
        first = make_message("clean one", "Lunch at noon?\r\n-- \r\nAlice\r\n\r\n",
                             extra=date + "X-Odd:  two  spaces\r\nX-Folded: a\r\n\tb\r\n")
        second = make_message("clean two", "Tea at four?", extra=date)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as c:
            c.sendmail("alice@corp.test", ["bob@ext.test"], first)
            c.sendmail("alice@corp.test", ["carol@ext.test"], second)
        for subject, original in (("clean one", first), ("clean two", second)):
            raw = self.wait_delivered(subject).replace(b"\r\n", b"\n")
            # smtp-sink and Postfix put their own lines above the message.
            self.assertIn(b"\n" + original.replace("\r\n", "\n").encode(), raw)
            self.assertNotIn(b"X-DLP", raw)

    def test_reload_applies_new_policies_to_the_next_message(self):
        code, out = self.swaks("before reload", "the word is zanzibarword")
        self.assertEqual(code, 0, out)
        with open(self.cordon.config_path) as f:
            config = f.read()
        with open(self.cordon.config_path, "w") as f:
            f.write(config + """  - name: Reloaded
    severity: high
    match:
      any:
        - keywords: [zanzibarword]
    respond:
      - block: "Added by a reload."
""")
        self.cordon.reload()
        peers.wait_until(lambda: "configuration reloaded" in self.cordon.output(), timeout=30,
                         what="the reload")
        code, out = self.swaks("after reload", "the word is zanzibarword")
        self.assertNotEqual(code, 0, out)
        self.assertRegex(out, r"<\*\* 550 5\.7\.0 Added by a reload\.")

    def test_z_cordon_stopped_makes_postfix_tempfail(self):
        # Last (by name): it stops the suite's cordon.
        self.cordon.kill()
        code, out = self.swaks("after stop", "Lunch at noon?")
        self.assertNotEqual(code, 0, out)
        self.assertRegex(out, r"<\*\* 451 4\.7\.1")
        self.pf.wait_log(r"connect to Milter service inet:127\.0\.0\.1:%d" % self.milter_port)
        self.assertIsNone(self.delivered("after stop"))


if __name__ == "__main__":
    unittest.main()
