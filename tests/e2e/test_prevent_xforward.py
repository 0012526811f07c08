"""XFORWARD on prevent (Postfix's XFORWARD extension): offered only to the
clients in prevent.xforward_networks, the forwarded client address and
HELO name recorded in the incident instead of the forwarding MTA's,
attributes reset with each transaction, and passed on to a next hop that
offers XFORWARD itself. Then with Postfix itself as the upstream, handing
mail to prevent as an after-queue content_filter."""

import smtplib
import unittest

import peers
from prevent_support import STANDARD_POLICIES, PreventFixture, make_message
from xforward_sink import XforwardSink

CARD = "4111 1111 1111 1111"


def incident_with_subject(fixture, subject):
    return peers.wait_until(
        lambda: next((i for i in fixture.incidents() if i["subject"] == subject), None),
        what=f"the incident of {subject!r}")


class PreventXforwardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.f = PreventFixture(STANDARD_POLICIES, start_sink=False,
                               extra_prevent="  xforward_networks: [127.0.0.1/32]\n")
        # A next hop that answers XFORWARD only with the MAIL of its
        # pipelined group: every message relayed here proves prevent sends
        # them in one batch (one round trip per message, not two).
        cls.sink = XforwardSink(cls.f.sink_port, hold_xforward_reply=True)

    @classmethod
    def tearDownClass(cls):
        cls.sink.stop()
        cls.f.stop()

    def connect(self, source="127.0.0.1"):
        s = smtplib.SMTP("127.0.0.1", self.f.port, timeout=30, source_address=(source, 0))
        self.addCleanup(s.close)
        s.ehlo("mta.example")
        return s

    def test_offered_to_xforward_networks_only(self):
        s = self.connect()
        self.assertEqual(s.esmtp_features.get("xforward"),
                         "NAME ADDR PORT PROTO HELO IDENT SOURCE")
        other = self.connect(source="127.0.0.2")  # inside client_networks, outside xforward_networks
        self.assertFalse(other.has_extn("xforward"))
        code, text = other.docmd("XFORWARD ADDR=192.0.2.66")
        self.assertEqual((code, text), (550, b"5.7.0 Error: insufficient authorization"))

    def test_the_forwarded_client_is_recorded_in_the_incident(self):
        s = self.connect()
        code, _ = s.docmd("XFORWARD NAME=pc.client.example ADDR=192.0.2.7 PROTO=ESMTP")
        self.assertEqual(code, 250)
        self.assertEqual(s.docmd("XFORWARD HELO=laptop.client.example")[0], 250)
        with self.assertRaises(smtplib.SMTPDataError) as refused:
            s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("xf-card", CARD))
        self.assertEqual(refused.exception.smtp_code, 550)
        incident = incident_with_subject(self.f, "xf-card")
        self.assertEqual(incident["client_address"], "192.0.2.7")
        self.assertEqual(incident["client_helo"], "laptop.client.example")
        self.assertIn("client=192.0.2.7", self.f.cordon.output())

    def test_without_xforward_the_connection_is_the_client(self):
        s = self.connect()
        with self.assertRaises(smtplib.SMTPDataError):
            s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("plain-card", CARD))
        incident = incident_with_subject(self.f, "plain-card")
        self.assertEqual(incident["client_address"], "127.0.0.1")
        self.assertEqual(incident["client_helo"], "mta.example")

    def test_untrusted_xforward_never_reaches_the_incident(self):
        s = self.connect(source="127.0.0.2")
        s.docmd("XFORWARD ADDR=192.0.2.66 HELO=forged.example")
        with self.assertRaises(smtplib.SMTPDataError):
            s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("forged-card", CARD))
        incident = incident_with_subject(self.f, "forged-card")
        self.assertEqual(incident["client_address"], "127.0.0.2")
        self.assertEqual(incident["client_helo"], "mta.example")

    def test_forwarded_to_a_next_hop_that_offers_it_and_reset_per_transaction(self):
        s = self.connect()
        self.assertEqual(s.docmd("XFORWARD ADDR=IPV6:2001:db8::5 HELO=v6.example")[0], 250)
        s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("xf-clean-1", "hello"))
        # No XFORWARD for the second message: this session's own client goes on.
        s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("xf-clean-2", "hello"))
        msgs = peers.wait_until(
            lambda: [m for m in self.sink.received() if b"xf-clean-" in m["content"]]
            if len([m for m in self.sink.received() if b"xf-clean-" in m["content"]]) == 2
            else None, what="two messages at the next hop")
        first = next(m for m in msgs if b"xf-clean-1" in m["content"])
        second = next(m for m in msgs if b"xf-clean-2" in m["content"])
        self.assertEqual(first["xforward"]["ADDR"], "IPV6:2001:db8::5")
        self.assertEqual(first["xforward"]["HELO"], "v6.example")
        self.assertEqual(first["xforward"]["NAME"], "[UNAVAILABLE]")
        self.assertEqual(second["xforward"]["ADDR"], "127.0.0.1")
        self.assertEqual(second["xforward"]["HELO"], "mta.example")
        self.assertEqual(second["xforward"]["PROTO"], "ESMTP")

    def test_xforward_and_mail_go_out_in_one_pipelined_batch(self):
        s = self.connect()
        s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("xf-batch", "hello"))
        peers.wait_until(lambda: any(b"xf-batch" in m["content"] for m in self.sink.received()),
                         what="the message at the next hop")
        self.assertGreater(self.sink.held_replies, 0)

    def test_a_redirected_copy_keeps_the_forwarded_client(self):
        s = self.connect()
        self.assertEqual(s.docmd("XFORWARD ADDR=192.0.2.44 HELO=redir.example")[0], 250)
        s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("xf-redir", "quarantineme"))
        [m] = peers.wait_until(
            lambda: [m for m in self.sink.received() if b"xf-redir" in m["content"]],
            what="the redirected copy at the next hop")
        self.assertEqual(m["recipients"], ["<quarantine@example.com>"])
        self.assertEqual(m["xforward"]["ADDR"], "192.0.2.44")
        self.assertEqual(m["xforward"]["HELO"], "redir.example")

    def test_refused_inside_a_transaction_and_on_bad_syntax(self):
        s = self.connect()
        self.assertEqual(s.docmd("XFORWARD ADDR")[0], 501)
        self.assertEqual(s.docmd("XFORWARD COLOUR=blue")[0], 501)
        self.assertEqual(s.docmd("XFORWARD HELO=a(b)")[0], 501)
        self.assertEqual(s.mail("alice@corp.test")[0], 250)
        self.assertEqual(s.docmd("XFORWARD ADDR=192.0.2.1")[0], 503)


SENDER = "alice@bounces.test"  # the upstream discards DSNs to this domain


class PostfixContentFilterTest(unittest.TestCase):
    """Postfix (content_filter = prevent, smtp_send_xforward_command = yes)
    takes mail from a client on 127.0.0.2; prevent records that client and
    passes it on to its next hop."""

    @classmethod
    def setUpClass(cls):
        cls.f = PreventFixture(STANDARD_POLICIES, start_sink=False,
                               extra_prevent="  xforward_networks: [127.0.0.1/32]\n")
        cls.sink = XforwardSink(cls.f.sink_port)
        cls.pf_port = peers.free_port()
        cls.pf = peers.Postfix(cls.pf_port, name="xfwd", main_cf={
            "content_filter": f"cordon:[127.0.0.1]:{cls.f.port}",
            "transport_maps": "inline:{bounces.test=discard:}",
            "smtpd_client_restrictions": "",
        }, extra_services=[
            "cordon  unix  -  -  n  -  4  smtp",
            "  -o smtp_send_xforward_command=yes",
            "  -o disable_mime_output_conversion=yes",
        ])
        cls.pf.start()

    @classmethod
    def tearDownClass(cls):
        cls.pf.stop()
        cls.sink.stop()
        cls.f.stop()

    def submit(self, message):
        with smtplib.SMTP("127.0.0.1", self.pf_port, timeout=30,
                          source_address=("127.0.0.2", 0)) as c:
            c.ehlo("outside.example")
            c.sendmail(SENDER, ["bob@ext.test"], message)

    def test_the_incident_names_postfixs_client_not_postfix(self):
        self.submit(make_message("pf-card", CARD, sender=SENDER))
        self.pf.wait_log(r"to=<bob@ext\.test>.*relay=127\.0\.0\.1.*status=bounced")
        incident = incident_with_subject(self.f, "pf-card")
        self.assertEqual(incident["client_address"], "127.0.0.2")
        self.assertEqual(incident["client_helo"], "outside.example")

    def test_the_next_hop_learns_postfixs_client(self):
        self.submit(make_message("pf-clean", "hello", sender=SENDER))
        [m] = peers.wait_until(
            lambda: [m for m in self.sink.received() if b"pf-clean" in m["content"]],
            timeout=30, what="the clean message at the next hop")
        self.assertEqual(m["xforward"]["ADDR"], "127.0.0.2")
        self.assertEqual(m["xforward"]["HELO"], "outside.example")
        self.assertRegex(m["xforward"]["IDENT"], r"^[0-9A-Za-z]+$")  # Postfix's queue id


if __name__ == "__main__":
    unittest.main()
