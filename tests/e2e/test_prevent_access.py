"""Prevent is never an open relay: only clients inside prevent.client_networks
(default: loopback) may use it; anyone else gets 554 5.7.1 at the greeting
and nothing reaches the next hop."""

import smtplib
import unittest

import peers
from prevent_support import STANDARD_POLICIES, PreventFixture, make_message


class PreventAccessTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(STANDARD_POLICIES,
                                extra_prevent="  client_networks: [127.0.0.1/32]\n")
        self.addCleanup(self.f.stop)

    def test_a_client_outside_client_networks_is_refused_at_the_greeting(self):
        with self.assertRaises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP("127.0.0.1", self.f.port, timeout=10, source_address=("127.0.0.2", 0))
        self.assertEqual(refused.exception.smtp_code, 554)
        self.assertIn(b"5.7.1", refused.exception.smtp_error)
        self.assertIn(b"Access denied", refused.exception.smtp_error)
        peers.wait_until(lambda: "connection from 127.0.0.2 refused" in self.f.cordon.output(),
                         timeout=5, what="the refusal in the log")
        self.assertEqual(self.f.delivered(), [])

    def test_a_client_inside_client_networks_is_relayed(self):
        self.f.send(make_message("hello", "Nothing to see here."))
        peers.wait_until(lambda: len(self.f.delivered()) == 1, timeout=10, what="one delivery")


if __name__ == "__main__":
    unittest.main()
