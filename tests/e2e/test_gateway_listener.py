"""The gateway's listeners: never an open relay, the resubmission port
only for DLP hosts and only for messages stamped by this deployment's DLP
for their own content (and what comes in there skips DLP), 452 4.3.1 when the
queue's disk is below min_free, and DSN/delay bookkeeping (max_lifetime
bounce with 4.4.7, one delay warning)."""

import smtplib
import unittest

from gateway_case import GatewayCase, message
from gateway_fakes import FakeDlp, stamp, stamp_header
from peers import free_port


class Listeners(GatewayCase):

    def test_outside_client_may_send_only_to_local_domains(self):
        # 127.0.0.1 is outside relay_networks here.
        self.start_gateway([f"127.0.0.1:{free_port()}"], relay_networks="[127.0.0.2/32]",
                           extra_gateway="  local_domains: [example.org]\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
            s.ehlo("outside.test")
            s.mail("mallory@outside.test")
            code, text = s.rcpt("victim@example.net")
            self.assertEqual(code, 554)
            self.assertIn(b"5.7.1", text)
            self.assertIn(b"Relay access denied", text)
            code, _ = s.rcpt("Bob@Example.ORG")
            self.assertEqual(code, 250)
        self.assertIn("relay denied: client 127.0.0.1 to <victim@example.net>", self.log())

    def test_routed_local_parts_never_relay_for_outside_clients(self):
        # A client on 127.0.0.2, outside relay_networks, tries every form a
        # downstream MTA with default settings would route to ext.example.
        self.start_gateway([f"127.0.0.1:{free_port()}"], relay_networks="[127.0.0.1/32]",
                           extra_gateway="  local_domains: [corp.example]\n")
        routed = ["user%ext.example@corp.example", '"user@ext.example"@corp.example',
                  '"user%ext.example"@corp.example', "ext.example!user@corp.example",
                  "user!ext.example@corp.example"]
        # (A source route "@ext.example:user@corp.example" is discarded by the
        # command parser, as RFC 5321 4.1.1.3 allows: the recipient is then
        # user@corp.example, which routes nowhere else.)
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10,
                          source_address=("127.0.0.2", 0)) as s:
            s.ehlo("outside.test")
            s.mail("mallory@outside.test")
            for rcpt in routed:
                code, text = s.docmd(f"RCPT TO:<{rcpt}>")
                self.assertEqual(code, 554, rcpt)
                self.assertIn(b"5.7.1", text, rcpt)
            # Ordinary local recipients, quoted or tagged, still pass.
            for rcpt in ['"john doe"@corp.example', "user+tag@Corp.Example", "postmaster"]:
                code, _ = s.docmd(f"RCPT TO:<{rcpt}>")
                self.assertEqual(code, 250, rcpt)

    def test_inside_client_may_relay(self):
        self.start_gateway([f"127.0.0.1:{free_port()}"], relay_networks="[127.0.0.2/32]")
        qid = self.send(message("from inside"), source="127.0.0.2")
        self.wait_maildir(1)
        self.assertIn(f"queue {qid}: queued", self.log())

    def test_without_local_domains_outside_clients_get_nothing_through(self):
        self.start_gateway([f"127.0.0.1:{free_port()}"], relay_networks="[10.0.0.0/8]")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
            s.ehlo("outside.test")
            s.mail("a@outside.test")
            self.assertEqual(s.rcpt("b@example.org")[0], 554)

    def test_resubmission_refused_from_a_non_dlp_address(self):
        self.start_gateway(["127.0.0.2:10025"])
        with smtplib.SMTP("127.0.0.1", self.resubmit_port, timeout=10) as s:
            s.ehlo("not-dlp.test")
            code, text = s.mail("a@example.com")
            self.assertEqual(code, 550)
            self.assertIn(b"5.7.1", text)

    def resubmit_refusal(self, content):
        """The reply to `content` on the resubmission port (from 127.0.0.1, a DLP host)."""
        with smtplib.SMTP("127.0.0.1", self.resubmit_port, timeout=10) as s:
            s.ehlo("dlp-host.test")
            s.mail("alice@example.com")
            s.rcpt("bob@example.net")
            code, text = s.data(content)  # the reply after the end of data: no exception
            return code, text.decode()

    def test_resubmission_takes_only_messages_stamped_for_their_own_content(self):
        dlp = FakeDlp(free_port())
        self.cleanups.append(dlp.stop)
        self.start_gateway([f"127.0.0.1:{dlp.port}"])
        card = message("card 4111 1111 1111 1111", body="4111 1111 1111 1111\n").encode()

        # Any process on a DLP host's address, without prevent's stamp.
        code, text = self.resubmit_refusal(card)
        self.assertEqual((code, text),
                         (550, "5.7.1 Message refused: not inspected by this deployment's DLP"))
        self.assertRegex(self.log(), r"gateway resubmission from 127\.0\.0\.1 refused: not "
                                     r"inspected by this deployment's DLP \(X-Cordon-Inspected "
                                     r"missing; this deployment is [0-9a-f]{32}\)")

        # A valid stamp copied from a message DLP passed onto other content.
        copied = stamp_header(stamp(message("clean").encode(), self.data_dir)) + card
        self.assertEqual(self.resubmit_refusal(copied)[0], 550)
        self.assertIn("X-Cordon-Inspected does not match this content", self.log())
        self.assertEqual(self.queue(), [])

        # Stamped by this deployment for this content: queued, delivered, never sent to DLP.
        qid = self.send(stamp(message("already inspected").encode(), self.data_dir).decode(),
                        port=self.resubmit_port)
        msgs = self.wait_maildir(1)
        self.assertEqual(msgs[0]["Subject"], "already inspected")
        self.assertIsNone(msgs[0]["X-Cordon-DLP"])
        self.assertEqual(dlp.connections, 0)
        self.assertIn(f"queue {qid}: queued from=client.test <alice@example.com> recipients=1",
                      self.log())
        self.assertIn("listener=resubmit", self.log())
        self.assertEqual(len(self.maildir_files()), 1)  # the refused two were never queued

    def test_below_min_free_answers_452(self):
        self.start_gateway([f"127.0.0.1:{free_port()}"], extra_gateway="  min_free: 1000000GB\n")
        with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
            s.ehlo("client.test")
            s.mail("a@example.com")
            s.rcpt("b@example.net")
            with self.assertRaises(smtplib.SMTPDataError) as refused:
                s.data(b"Subject: x\r\n\r\nx\r\n")
            self.assertEqual(refused.exception.smtp_code, 452)
            self.assertIn(b"4.3.1", refused.exception.smtp_error)
        self.assertEqual(self.queue(), [])

    def test_two_recipients_one_maildir_file_with_both_delivered_to(self):
        self.start_gateway([f"127.0.0.1:{free_port()}"])
        self.send(message("two"), rcpts=("a@example.net", "b@example.net"))
        msgs = self.wait_maildir(1)
        self.assertEqual(msgs[0].get_all("Delivered-To"), ["a@example.net", "b@example.net"])

    def test_expiry_bounces_with_4_4_7_after_one_delay_warning(self):
        dlp = FakeDlp(free_port(), replies={"rcpt": "451 4.7.1 not now"})
        self.cleanups.append(dlp.stop)
        self.start_gateway([f"127.0.0.1:{dlp.port}"], max_lifetime="6s",
                           extra_gateway="  delay_warning: 2s\n")
        qid = self.send(message("expires"))
        msgs = self.wait_maildir(2, timeout=30)
        self.wait_gone(qid)
        bodies = [bytes(m) for m in msgs]
        delayed = [b for b in bodies if b"Action: delayed" in b]
        failed = [b for b in bodies if b"Action: failed" in b]
        self.assertEqual(len(delayed), 1)
        self.assertEqual(len(failed), 1)
        self.assertIn(b"Status: 4.4.7", failed[0])
        self.assertIn(b"451 4.7.1 not now", failed[0])
        self.assertEqual(len(self.maildir_files()), 2)


if __name__ == "__main__":
    unittest.main()
