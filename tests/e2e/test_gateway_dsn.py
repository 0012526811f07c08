"""A bounce is never lost: when the DSN for a bounced message cannot be
committed to the spool (here: the queue's disk is below min_free), the
original message stays queued, DLP is not asked again, and the DSN goes out
at a later attempt once it can be queued."""

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
        self.assertNotIn(b"4111 1111 1111 1111", raw)  # headers only, as for any DLP bounce
        self.assertEqual(len(dlp.messages), inspected)
        self.assertEqual(self.log().count(f"queue {qid}: dlp-bounced"), 1)


if __name__ == "__main__":
    unittest.main()
