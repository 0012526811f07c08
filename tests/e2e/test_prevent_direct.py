"""cordon prevent (forward mode) driven straight with smtplib and raw sockets,
with smtp-sink as the next hop: relaying, the block reply byte for byte,
incidents, redirect, modify, L7 filters, loop prevention, content that
cannot be read, a detection engine failure (injected) and a downstream that
is down."""

import re
import smtplib
import unittest

import peers
from console_client import ConsoleClient
from prevent_support import (CARD, EIGHT_KEYWORDS, STANDARD_POLICIES, PreventFixture,
                             eight_block_policies, make_message, raw_transaction)


# Test-only fault injection (src/inspect/inspect.hpp): a scan of a text
# holding this marker fails as a detection engine error would.
FAIL_SCAN_MARKER = "cordon-test-scan-fault-marker"

ENCRYPTED_MESSAGE = (
    "From: alice@corp.test\r\nTo: bob@ext.test\r\nSubject: sealed\r\n"
    "Message-ID: <sealed@corp.test>\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e\r\n"
    "\r\n--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
    "--e\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n"
    "hQEMA\r\n-----END PGP MESSAGE-----\r\n--e--\r\n")


class PreventDirectTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(STANDARD_POLICIES + eight_block_policies(),
                                filters=("-*@ignored.test", ""),
                                env={"CORDON_TEST_FAIL_SCAN": FAIL_SCAN_MARKER}, console=True)
        self.addCleanup(self.f.stop)

    def metrics(self):
        return ConsoleClient(self.f.console_port).get("/metrics").body

    def wait_delivered(self, n):
        return peers.wait_until(lambda: len(self.f.delivered()) >= n and self.f.delivered(),
                                timeout=10, what=f"{n} message(s) in the sink")

    def test_clean_message_is_relayed_with_the_inspected_header(self):
        self.f.send(make_message("hello", "Nothing to see here."))
        [m] = self.wait_delivered(1)
        self.assertEqual(m["Subject"], "hello")
        self.assertIn("Nothing to see here.", m.get_payload())
        self.assertRegex(m["X-Cordon-Inspected"],
                         f"^{self.f.deployment_id()}; pass; mac=[0-9a-f]{{32}}$")
        self.assertEqual(self.f.incidents(), [])

    def test_block_reply_is_conformant_byte_for_byte_and_names_one_incident(self):
        body = "Please keep " + " ".join(EIGHT_KEYWORDS) + " private."
        message = make_message("eight", body)
        raw = raw_transaction(self.f.port, "alice@corp.test", ["bob@ext.test"], message)
        self.assertTrue(raw.endswith(b"\r\n"))
        lines = raw[:-2].split(b"\r\n")
        self.assertGreater(len(lines), 1)
        for line in lines[:-1]:
            self.assertTrue(line.startswith(b"550-5.7.0 "), line)
        self.assertTrue(lines[-1].startswith(b"550 5.7.0 "), lines[-1])
        for line in lines:
            self.assertLessEqual(len(line) + 2, 512)
            self.assertTrue(all(32 <= b < 127 for b in line), line)
        self.assertLessEqual(len(raw), 1000)
        incidents = self.f.incidents()
        self.assertEqual(len(incidents), 1)
        incident = incidents[0]
        self.assertEqual(lines[0], f"550-5.7.0 Incident ID: {incident['id']}".encode())
        self.assertRegex(lines[-1].decode(), r"550 5\.7\.0 \.\.\. and \d+ more violations")
        self.assertEqual(len(incident["policies"]), 8)
        self.assertEqual(incident["action"], "block")
        self.assertEqual(incident["sender"], "alice@corp.test")
        self.assertEqual(incident["subject"], "eight")
        # Nothing reached the next hop.
        self.assertEqual(self.f.delivered(), [])

        # The same message again, as an upstream MTA would re-send it with a
        # new Received header: same incident, repeat counted, same id named.
        again = raw_transaction(self.f.port, "alice@corp.test", ["bob@ext.test"],
                                "Received: from somewhere by mx.test; Mon, 1 Jan 2024\r\n" +
                                message)
        self.assertEqual(again.split(b"\r\n")[0], lines[0])
        incidents = self.f.incidents()
        self.assertEqual(len(incidents), 1)
        self.assertEqual(incidents[0]["repeat_count"], 1)

    def test_card_number_is_blocked_and_masked_in_incident_and_log(self):
        with self.assertRaises(smtplib.SMTPDataError) as ctx:
            self.f.send(make_message("card", f"card {CARD} exp 12/29"))
        self.assertEqual(ctx.exception.smtp_code, 550)
        [incident] = self.f.incidents()
        text = str(incident)
        self.assertNotIn(CARD.replace(" ", ""), text.replace(" ", ""))
        self.assertNotIn("4111111111111111", self.f.cordon.output().replace(" ", ""))

    def test_a_failed_scan_is_deferred_with_451_and_counted_never_relayed(self):
        with self.assertRaises(smtplib.SMTPDataError) as ctx:
            self.f.send(make_message("fault", f"card {CARD} {FAIL_SCAN_MARKER}"))
        self.assertEqual(ctx.exception.smtp_code, 451)
        self.assertTrue(ctx.exception.smtp_error.startswith(b"4.3.0 "), ctx.exception.smtp_error)
        self.assertEqual(self.f.incidents(), [])
        self.assertRegex(self.metrics(), r"(?m)^cordon_prevent_scan_errors_total 1$")
        # Later messages are scanned as before.
        self.f.send(make_message("fine", "Nothing to see here."))
        [m] = self.wait_delivered(1)
        self.assertEqual(m["Subject"], "fine")

    def test_unreadable_content_is_blocked_with_a_reply_naming_it(self):
        raw = raw_transaction(self.f.port, "alice@corp.test", ["bob@ext.test"], ENCRYPTED_MESSAGE)
        lines = raw[:-2].split(b"\r\n")
        [incident] = self.f.incidents()
        self.assertEqual(lines[0], f"550-5.7.0 Incident ID: {incident['id']}".encode())
        self.assertTrue(lines[-1].startswith(b"550 5.7.0 "), lines[-1])
        self.assertIn(b"could not be inspected (the message body: encrypted)", raw)
        self.assertEqual([p["name"] for p in incident["policies"]], ["Unscannable content"])
        self.assertEqual(self.f.delivered(), [])
        self.assertRegex(self.metrics(), r"(?m)^cordon_prevent_unscannable_total 1$")

    def test_modify_prefixes_subject_and_adds_header(self):
        self.f.send(make_message("status", "Update on project neptune follows."))
        [m] = self.wait_delivered(1)
        self.assertEqual(m["Subject"], "[DLP] status")
        self.assertEqual(m["X-DLP-Policy"], "neptune")
        [incident] = self.f.incidents()
        self.assertEqual(incident["action"], "modify")
        self.assertRegex(m["X-Cordon-Inspected"],
                         f"^{self.f.deployment_id()}; modify; incident={incident['id']}; mac=")

    def test_redirect_sends_the_message_to_the_redirect_address_only(self):
        self.f.send(make_message("q", "please quarantineme now"), recipients=["bob@ext.test"])
        [m] = self.wait_delivered(1)
        self.assertIn("quarantine@example.com", m["X-Rcpt-Args"])
        self.assertNotIn("bob@ext.test", m["X-Rcpt-Args"])
        self.assertIn("alice@corp.test", m["X-Mail-Args"])
        [incident] = self.f.incidents()
        self.assertEqual(incident["action"], "redirect")

    def test_block_beats_modify_and_every_fired_policy_is_recorded(self):
        with self.assertRaises(smtplib.SMTPDataError):
            self.f.send(make_message("both", f"project neptune card {CARD}"))
        [incident] = self.f.incidents()
        self.assertEqual(incident["action"], "block")
        self.assertEqual(sorted(p["name"] for p in incident["policies"]), ["Cards", "Neptune"])

    def test_filtered_sender_passes_uninspected(self):
        self.f.send(make_message("card", f"card {CARD}", sender="eve@ignored.test"),
                    sender="eve@ignored.test")
        [m] = self.wait_delivered(1)
        self.assertRegex(m["X-Cordon-Inspected"], f"^{self.f.deployment_id()}; ignored; mac=")
        self.assertEqual(self.f.incidents(), [])

    def test_own_stamp_skips_inspection_and_forged_or_copied_ones_do_not(self):
        # A card number from an ignored sender is relayed with our stamp.
        self.f.send(make_message("card", f"card {CARD}", sender="eve@ignored.test"),
                    sender="eve@ignored.test")
        [raw] = peers.wait_until(self.f.sink.messages, timeout=10, what="delivery")
        relayed = strip_sink_headers(raw)
        stamp = next(l for l in relayed.split("\r\n") if l.startswith("X-Cordon-Inspected:"))

        # The relayed copy coming back (reflect mode, or a mail loop) is not
        # inspected again, whoever sends it.
        self.f.send(relayed)
        peers.wait_until(lambda: len(self.f.sink.messages()) == 2, timeout=10, what="relay")
        self.assertEqual(self.f.incidents(), [])

        # The same stamp on other content, our id without the key, and a
        # foreign deployment's stamp are all inspected.
        for forged in [stamp + "\r\n" + make_message("copied", f"card {CARD}"),
                       f"X-Cordon-Inspected: {self.f.deployment_id()}; pass\r\n" +
                       make_message("no mac", f"card {CARD}"),
                       "X-Cordon-Inspected: 0123456789abcdef; pass\r\n" +
                       make_message("foreign", f"card {CARD}")]:
            with self.assertRaises(smtplib.SMTPDataError):
                self.f.send(forged)
        self.assertEqual(len(self.f.incidents()), 3)


def strip_sink_headers(raw):
    """The message as prevent relayed it: smtp-sink's own Received and X-*
    trace headers and the empty line it appends removed, CRLF line ends."""
    text = raw.decode().replace("\r\n", "\n")
    if text.endswith("\n\n"):
        text = text[:-1]
    head, body = text.split("\n\n", 1)
    fields, keep = [], True
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            if keep:
                fields.append(line)
            continue
        name = line.split(":", 1)[0].lower()
        keep = not (name == "received" and "smtp-sink" in head) and name not in (
            "x-client-addr", "x-client-proto", "x-helo-args", "x-mail-args", "x-rcpt-args")
        if keep:
            fields.append(line)
    return ("\n".join(fields) + "\n\n" + body).replace("\n", "\r\n")


class PreventDownstreamRefusesTest(unittest.TestCase):
    """The next hop's refusals reach the upstream as they were given."""

    def start(self, sink_args):
        self.f = PreventFixture(STANDARD_POLICIES, start_sink=False)
        self.addCleanup(self.f.stop)
        self.f.start_sink(sink_args)

    def test_a_soft_refused_recipient_is_refused_upstream_with_4xx(self):
        self.start(["-r", "RCPT"])
        with smtplib.SMTP("127.0.0.1", self.f.port, timeout=30) as c:
            c.ehlo()
            self.assertEqual(c.mail("alice@corp.test")[0], 250)
            code, _ = c.rcpt("bob@ext.test")
            self.assertEqual(code // 100, 4)

    def test_a_hard_refusal_at_end_of_data_is_a_5xx_upstream(self):
        self.start(["-f", "."])
        with self.assertRaises(smtplib.SMTPDataError) as ctx:
            self.f.send(make_message("hello", "clean"))
        self.assertEqual(ctx.exception.smtp_code // 100, 5)
        self.assertEqual(self.f.incidents(), [])


class PreventDownstreamDownTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(STANDARD_POLICIES, start_sink=False)
        self.addCleanup(self.f.stop)

    def test_unreachable_next_hop_is_a_451_never_a_250(self):
        with smtplib.SMTP("127.0.0.1", self.f.port, timeout=30) as c:
            c.ehlo()
            code, text = c.mail("alice@corp.test")
            self.assertEqual(code, 451)
            self.assertTrue(text.startswith(b"4.4.1"), text)
        self.f.start_sink()
        self.f.send(make_message("later", "fine now"))
        peers.wait_until(lambda: self.f.delivered(), timeout=10, what="delivery")
        metrics = self.f.cordon.output()
        self.assertRegex(metrics, r"next hop 127\.0\.0\.1:\d+: failed at connect")


if __name__ == "__main__":
    unittest.main()
