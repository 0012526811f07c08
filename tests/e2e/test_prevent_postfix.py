"""A private Postfix as the upstream MTA (relayhost = cordon prevent), cordon
prevent in forward mode, smtp-sink as the next hop: what a real MTA makes of
prevent's answers. A block must bounce at once (never a 421 "not RFC
conformant" and a day of retries); a next hop that is down must defer, and
the message must arrive once it is back."""

import re
import smtplib
import unittest

import peers
from prevent_support import (EIGHT_KEYWORDS, STANDARD_POLICIES, PreventFixture,
                             eight_block_policies, make_message)

SENDER = "alice@bounces.test"  # DSNs to this domain are discarded by the upstream


class PostfixUpstream:
    def __init__(self, prevent_port):
        self.port = peers.free_port()
        self.pf = peers.Postfix(self.port, name="upstream", main_cf={
            "relayhost": f"[127.0.0.1]:{prevent_port}",
            # The bounce of a blocked message goes nowhere instead of
            # through prevent again.
            "transport_maps": "inline:{bounces.test=discard:}",
            "smtp_helo_timeout": "10s",
        })
        self.pf.start()

    def submit(self, message, recipients=("bob@ext.test",)):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as c:
            c.sendmail(SENDER, list(recipients), message)

    def stop(self):
        self.pf.stop()


class PreventBehindPostfixTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(STANDARD_POLICIES + eight_block_policies())
        self.addCleanup(self.f.stop)
        self.up = PostfixUpstream(self.f.port)
        self.addCleanup(self.up.stop)

    def test_clean_message_is_delivered_through_prevent(self):
        self.up.submit(make_message("clean", "Lunch at noon?", sender=SENDER))
        self.up.pf.wait_log(r"to=<bob@ext\.test>.*status=sent")
        [m] = peers.wait_until(self.f.delivered, timeout=10, what="delivery")
        self.assertEqual(m["Subject"], "clean")
        self.assertTrue(any("upstream.test" in r for r in m.get_all("Received")))
        self.assertRegex(m["X-Cordon-Inspected"], f"^{self.f.deployment_id()}; pass; mac=")

    def test_eight_long_block_texts_bounce_at_once_with_one_incident(self):
        body = "Internal only: " + ", ".join(EIGHT_KEYWORDS)
        self.up.submit(make_message("eight", body, sender=SENDER))
        match = self.up.pf.wait_log(r"to=<bob@ext\.test>.*status=bounced \((.*)\)")
        said = match.group(1)
        log = self.up.pf.log()
        self.assertNotIn("status=deferred", log)
        self.assertNotIn("not RFC", log)
        self.assertNotRegex(log, r"said: 421")
        [incident] = self.f.incidents()
        self.assertIn(f"said: 550-5.7.0 Incident ID: {incident['id']}", said)
        self.assertRegex(said, r"550 5\.7\.0 \.\.\. and \d+ more violations")
        self.assertEqual(len(incident["policies"]), 8)
        self.assertEqual(incident["repeat_count"], 0)
        self.assertEqual(self.f.delivered(), [])

    def test_redirect_and_modify_are_applied_to_the_delivered_copies(self):
        self.up.submit(make_message("redir", "please quarantineme", sender=SENDER))
        self.up.submit(make_message("mod", "about project neptune", sender=SENDER))
        self.up.pf.wait_log(r"(?s)status=sent.*status=sent")
        msgs = peers.wait_until(lambda: len(self.f.delivered()) == 2 and self.f.delivered(),
                                timeout=10, what="two deliveries")
        by_subject = {m["Subject"]: m for m in msgs}
        self.assertIn("quarantine@example.com", by_subject["redir"]["X-Rcpt-Args"])
        self.assertNotIn("bob@ext.test", by_subject["redir"]["X-Rcpt-Args"])
        self.assertEqual(by_subject["[DLP] mod"]["X-DLP-Policy"], "neptune")


class PostfixDefersWhilePreventsNextHopIsDownTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(STANDARD_POLICIES, start_sink=False)
        self.addCleanup(self.f.stop)
        self.up = PostfixUpstream(self.f.port)
        self.addCleanup(self.up.stop)

    def test_deferred_with_4xx_then_delivered_when_the_next_hop_is_back(self):
        self.up.submit(make_message("later", "see you", sender=SENDER))
        match = self.up.pf.wait_log(r"to=<bob@ext\.test>.*status=deferred \((.*)\)")
        self.assertRegex(match.group(1), r"said: 451 4\.4\.1")
        self.assertNotIn("status=bounced", self.up.pf.log())
        self.f.start_sink()
        self.up.pf.flush()
        self.up.pf.wait_log(r"to=<bob@ext\.test>.*status=sent", timeout=30)
        [m] = peers.wait_until(self.f.delivered, timeout=10, what="delivery")
        self.assertEqual(m["Subject"], "later")


if __name__ == "__main__":
    unittest.main()
