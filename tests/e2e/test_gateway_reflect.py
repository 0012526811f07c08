"""The embedded default flow end to end: gateway -> prevent (reflect) ->
gateway -> Maildir, with the default configuration's exact text
(examples/default.yaml, kept identical to the embedded default) moved onto
free ports. A clean message lands in the Maildir once; a message with a card
number is bounced with a conformant 550 5.7.0 DSN (which lands in the
Maildir too) and one incident in `cordon incidents`."""

import json
import os
import smtplib
import subprocess
import unittest

from gateway_case import GatewayCase
from peers import Cordon, free_port


class EmbeddedDefaultFlow(GatewayCase):

    def setUp(self):
        super().setUp()
        source = os.environ.get("CORDON_SOURCE_DIR", os.path.join(os.getcwd(), "..", ".."))
        with open(os.path.join(source, "examples", "default.yaml")) as f:
            text = f.read()
        self.prevent_port, console_port = free_port(), free_port()
        for old, new in (("./cordon-data", self.data_dir), ("127.0.0.1:2525", f"127.0.0.1:{self.port}"),
                         ("127.0.0.1:10026", f"127.0.0.1:{self.resubmit_port}"),
                         ("127.0.0.1:10025", f"127.0.0.1:{self.prevent_port}"),
                         ("127.0.0.1:8025", f"127.0.0.1:{console_port}")):
            self.assertIn(old, text)
            text = text.replace(old, new)
        self.cordon = Cordon(text, self.workdir,
                             ports=(self.port, self.resubmit_port, self.prevent_port)).start()

    def swaks(self, subject, body):
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.port}", "--from",
                            "alice@example.com", "--to", "bob@example.net", "--header",
                            f"Subject: {subject}", "--body", body],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"<-  250 2\.0\.0 Ok: queued as [0-9A-Z]{16}")

    def test_clean_message_reaches_the_maildir_once(self):
        self.swaks("clean", "Lunch at noon?")
        msgs = self.wait_maildir(1)
        self.wait(lambda: self.queue() == [], "an empty queue")
        self.assertEqual(len(self.maildir_files()), 1)
        self.assertEqual(msgs[0]["Subject"], "clean")
        self.assertEqual(msgs[0]["Delivered-To"], "bob@example.net")
        self.assertIsNone(msgs[0]["X-Cordon-DLP"])  # inspected, not bypassed

    def test_card_number_bounces_with_a_550_5_7_0_dsn_and_one_incident(self):
        self.swaks("card", "My card is 4111 1111 1111 1111, exp 12/29.")
        msgs = self.wait_maildir(1)
        self.wait(lambda: self.queue() == [], "an empty queue")
        self.assertEqual(len(self.maildir_files()), 1)  # the DSN only: the message was stopped
        dsn = msgs[0]
        self.assertEqual(dsn["Return-Path"], "<>")
        self.assertEqual(dsn["Delivered-To"], "alice@example.com")
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        raw = bytes(dsn)
        self.assertIn(b"Status: 5.7.0", raw)
        self.assertIn(b"Diagnostic-Code: smtp; 550-5.7.0 Incident ID:", raw)
        self.assertIn(b"payment card number", raw)
        self.assertNotIn(b"4111 1111 1111 1111", raw)

        r = self.cordon.run("incidents", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        incidents = json.loads(r.stdout)
        self.assertEqual(len(incidents), 1)
        self.assertEqual(incidents[0]["action"], "block")
        self.assertEqual(incidents[0]["policies"][0]["name"], "Payment card numbers")
        self.assertIn(f"Incident ID: {incidents[0]['id']}", raw.decode())

    def test_the_same_message_sent_twice_is_one_incident_seen_twice(self):
        # A client re-sending the very same bytes: the gateway gives each
        # submission a new X-Cordon-Queue-Id, which is not content.
        content = (b"From: alice@example.com\r\nTo: bob@example.net\r\nSubject: card again\r\n"
                   b"Message-ID: <resend-1@example.com>\r\n\r\n"
                   b"My card is 4111 1111 1111 1111, exp 12/29.\r\n")
        for attempt in range(2):
            with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
                s.sendmail("alice@example.com", ["bob@example.net"], content)
            self.wait_maildir(attempt + 1)  # each submission is bounced with a DSN
        self.wait(lambda: self.queue() == [], "an empty queue")
        r = self.cordon.run("incidents", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        incidents = json.loads(r.stdout)
        self.assertEqual(len(incidents), 1, incidents)
        self.assertEqual(incidents[0]["repeat_count"], 1)  # seen once more


if __name__ == "__main__":
    unittest.main()
