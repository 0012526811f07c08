"""A bounce is never lost: when the DSN for a bounced message cannot be
committed to the spool (here: the queue's disk is below min_free), the
original message stays queued, DLP is not asked again, and the DSN goes out
at a later attempt once it can be queued. And a bounce never carries blocked
data out: when the headers are the payload, a DSN to a sender outside the
local domains returns nothing of the message, one to a local sender only
its Date and Message-ID."""

import unittest

from gateway_case import GatewayCase, message
from gateway_fakes import FakeDlp
from peers import free_port

NO_SPACE = "  min_free: 1000000GB\n"  # every Spool::begin refuses with no_space


class DsnNeverLost(GatewayCase):

    def test_dsn_that_cannot_be_queued_keeps_the_message_queued_until_it_can(self):
        dlp = FakeDlp(free_port(), replies={"rcpt": "451 4.7.1 not now"})
        self.cleanups.append(dlp.stop)
        host = f"127.0.0.1:{dlp.port}"
        self.start_gateway([host], schedule="[1s]")
        qid = self.send(message("card", body="my card 4111 1111 1111 1111\n"))
        self.wait_queued(qid, lambda m: m["state"] == "deferred", "deferred by DLP")

        # Restart with a queue that refuses every new message, and let DLP bounce it.
        self.cordon.stop()
        dlp.replies = {"dot": "550 5.7.0 blocked: payment card number"}
        self.start_gateway([host], schedule="[1s]", extra_gateway=NO_SPACE)
        m = self.wait_queued(qid, lambda m: "dlp-bounced" in self.events(m)
                             and m["state"] == "deferred", "bounced but kept: the DSN is owed")
        self.assertRegex(self.log(), rf"queue {qid}: cannot queue the failure DSN")
        inspected = len(dlp.messages)
        # Later attempts retry only the DSN, never DLP.
        self.wait_queued(qid, lambda later: later["attempts"] >= m["attempts"] + 1,
                         "another attempt at queueing the DSN")
        self.assertEqual(len(dlp.messages), inspected)
        self.assertEqual(self.maildir_files(), [])

        # Space again: the DSN is queued, delivered, and the message removed.
        self.cordon.stop()
        self.start_gateway([host], schedule="[1s]")
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        self.assertEqual(len(msgs), 1)
        dsn = msgs[0]
        self.assertEqual(dsn["Return-Path"], "<>")
        self.assertEqual(dsn["Delivered-To"], "alice@example.com")
        raw = bytes(dsn)
        self.assertIn(b"Action: failed", raw)
        self.assertIn(b"Status: 5.7.0", raw)
        self.assertIn(b"Final-Recipient: rfc822; bob@example.net", raw)
        self.assertIn(b"Diagnostic-Code: smtp; 550 5.7.0 blocked: payment card number", raw)
        self.assertNotIn(b"4111 1111 1111 1111", raw)  # nothing of what DLP stopped
        self.assertEqual(len(dlp.messages), inspected)
        self.assertEqual(self.log().count(f"queue {qid}: dlp-bounced"), 1)

    def test_dsn_of_a_blocked_message_never_returns_the_headers_that_carried_the_data(self):
        dlp = FakeDlp(free_port(), replies={"dot": "550 5.7.0 blocked: payment card number"})
        self.cleanups.append(dlp.stop)
        self.start_gateway([f"127.0.0.1:{dlp.port}"],
                           extra_gateway="  local_domains: [example.com]\n")
        payload = ("From: x@example.com\r\nTo: bob@example.net\r\n"
                   "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                   "Subject: 4111 1111 1111 1111\r\nX-Data: QUtJQUlPU0ZPRE5ON0VYQU1QTEU=\r\n"
                   "Message-ID: <{}@example.com>\r\n\r\n4111 1111 1111 1111\r\n")
        # From a relay_networks client, but the DSN would go to whatever MAIL FROM says.
        outside = self.send(payload.format("outside"), sender="exfil@outside.test")
        local = self.send(payload.format("local"), sender="alice@example.com")
        msgs = self.wait_maildir(2)
        self.wait_gone(outside)
        self.wait_gone(local)
        by_rcpt = {m["Delivered-To"]: bytes(m).replace(b"\r\n", b"\n") for m in msgs}
        self.assertEqual(set(by_rcpt), {"exfil@outside.test", "alice@example.com"})
        for raw in by_rcpt.values():
            self.assertIn(b"Status: 5.7.0", raw)
            self.assertNotIn(b"4111", raw)
            self.assertNotIn(b"QUtJQUlPU0ZPRE5ON0VYQU1QTEU", raw)
            self.assertNotIn(b"X-Data", raw)
        self.assertNotIn(b"text/rfc822-headers", by_rcpt["exfil@outside.test"])
        self.assertNotIn(b"outside@example.com", by_rcpt["exfil@outside.test"])
        self.assertIn(b"Your message is not attached", by_rcpt["exfil@outside.test"])
        self.assertIn(b"Content-Type: text/rfc822-headers", by_rcpt["alice@example.com"])
        self.assertIn(b"Content-Type: text/rfc822-headers\n\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n"
                      b"Message-ID: <local@example.com>\n\n--", by_rcpt["alice@example.com"])


if __name__ == "__main__":
    unittest.main()
