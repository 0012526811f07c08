"""The gateway's DLP pool against scripted DLP hosts: one test per case of
README ("The three behaviours", 3) (bypass only when no DLP host accepts TCP, or the one
that did timed out; 4xx stays queued; 5xx bounces with a DSN; failover on
timeout; TLS required; fail closed), each checking the outcome, the trace
of `cordon queue list --format json`, and the Maildir/DSN content."""

import re
import unittest

from gateway_case import GatewayCase, message
from gateway_fakes import FakeDlp
from peers import SmtpSink, free_port, wait_until


class DlpPool(GatewayCase):

    def fake(self, **kwargs):
        dlp = FakeDlp(free_port(), stamp_dir=self.data_dir, **kwargs)
        self.cleanups.append(dlp.stop)
        return dlp

    def host(self, port):
        return f"127.0.0.1:{port}"

    # --- the message passes DLP -------------------------------------------------

    def test_reflect_pass_delivers_the_inspected_copy_once(self):
        dlp = self.fake(reflect_port=self.resubmit_port)
        self.start_gateway([self.host(dlp.port)])
        qid = self.send(message("clean one"))
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(m["Return-Path"], "<alice@example.com>")
        self.assertEqual(m["Delivered-To"], "bob@example.net")
        self.assertEqual(m["X-Cordon-Queue-Id"], qid)  # the copy names the original
        self.assertIsNone(m["X-Cordon-DLP"])
        self.assertEqual(m["Subject"], "clean one")
        self.assertRegex(self.log(), rf"queue {qid}: dlp-passed: 127\.0\.0\.1:{dlp.port} said")
        self.assertRegex(self.log(), rf"inspected copy of queue {qid}")
        self.assertEqual(self.queue(), [])

    def test_reflect_pass_keeps_the_inspected_copy_in_its_entry(self):
        # The copy is the original content with DLP's lines on top: only
        # those lines are written, into the original's entry, and the
        # message is delivered under its own queue id.
        dlp = self.fake(reflect_port=self.resubmit_port)
        self.start_gateway([self.host(dlp.port)], console=True)
        qid = self.send(message("kept in place", body="one body\n" * 50))
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        self.assertEqual(self.queue(), [])
        log = self.log()
        self.assertIn(f"queue {qid}: inspected copy of queue {qid} kept in its entry", log)
        self.assertIn('cordon_gateway_inspected_copies_total{stored="in_place"} 1', self.metrics())
        queued = re.findall(r"queue ([0-9A-Z]{16}): queued from=.* listener=(\w+)", log)
        self.assertEqual(queued, [(qid, "client"), (qid, "resubmit")])
        # Maildir lines end in LF: compare with LF line ends.
        raw = open(self.maildir_files()[0], "rb").read().replace(b"\r\n", b"\n")
        sent_to_dlp = dlp.messages[0][2].replace(b"\r\n", b"\n")
        self.assertTrue(raw.endswith(sent_to_dlp), "the delivered message ends with what DLP got")
        self.assertIn(b"\nX-Cordon-Inspected: ", raw[: len(raw) - len(sent_to_dlp)])
        self.assertEqual(msgs[0]["X-Cordon-Queue-Id"], qid)
        self.assertIsNotNone(msgs[0]["X-Cordon-Inspected"])
        received = msgs[0].get_all("Received")
        self.assertIn(f"id {qid};", received[0])  # the resubmission's, naming the entry

    def test_a_copy_dlp_changed_is_queued_whole(self):
        dlp = self.fake(reflect_port=self.resubmit_port,
                        transform=lambda c: c.replace(b"edited here", b"EDITED HERE"))
        self.start_gateway([self.host(dlp.port)], console=True)
        qid = self.send(message("edited", body="edited here\n"))
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        self.assertEqual(self.queue(), [])
        log = self.log()
        self.assertNotIn("kept in its entry", log)
        copy = re.search(rf"queue ([0-9A-Z]{{16}}): inspected copy of queue {qid}", log).group(1)
        self.assertNotEqual(copy, qid)
        self.assertIn(b"EDITED HERE", bytes(msgs[0]))
        self.assertIn('cordon_gateway_inspected_copies_total{stored="whole"} 1', self.metrics())

    def test_a_second_copy_of_one_message_is_queued_whole(self):
        dlp = self.fake(reflect_port=self.resubmit_port, reflect_times=2)
        self.start_gateway([self.host(dlp.port)])
        qid = self.send(message("twice"))
        msgs = self.wait_maildir(2)
        self.wait_gone(qid)
        self.assertEqual(self.queue(), [])
        log = self.log()
        self.assertIn(f"inspected copy of queue {qid} kept in its entry", log)
        copies = re.findall(rf"queue ([0-9A-Z]{{16}}): inspected copy of queue {qid}$", log, re.M)
        self.assertEqual(len(copies), 1)
        self.assertNotEqual(copies[0], qid)
        self.assertEqual([m["Subject"] for m in msgs], ["twice", "twice"])

    def test_a_copy_kept_in_place_supersedes_a_failed_dlp_reply(self):
        # DLP resubmitted, then answered 451: the inspected copy is there,
        # so it is delivered once and the original is not inspected again.
        dlp = self.fake(reflect_port=self.resubmit_port,
                        replies={"dot_after_reflect": "451 4.4.2 lost the reply"})
        self.start_gateway([self.host(dlp.port)])
        qid = self.send(message("late reply"))
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        self.assertEqual(self.queue(), [])
        self.assertEqual(len(dlp.messages), 1)
        self.assertEqual(len(self.maildir_files()), 1)
        self.assertEqual(msgs[0]["Subject"], "late reply")
        self.assertIn(f"queue {qid}: the inspected copy in this entry goes to delivery", self.log())

    def test_a_kept_copy_waits_for_a_delivery_slot_and_is_delivered_once(self):
        # One delivery at a time to a next hop that takes a second per
        # message: copies that come back meanwhile go through incoming/.
        dlp = self.fake(reflect_port=self.resubmit_port)
        hop = free_port()
        sink = SmtpSink(hop, dump_dir=f"{self.workdir}/sink", extra_args=("-w", "1"))
        self.cleanups.append(sink.stop)
        self.start_gateway([self.host(dlp.port)], deliver=self.host(hop),
                           extra_gateway="  concurrency: 1\n", session_timeout="20s")
        qids = [self.send(message(f"slot {i}")) for i in range(3)]
        wait_until(lambda: len(sink.messages()) == 3, timeout=30, what="three messages at the hop")
        for qid in qids:
            self.wait_gone(qid)
        self.assertEqual(self.queue(), [])
        log = self.log()
        self.assertIn("the inspected copy waits for a delivery slot", log)
        subjects = sorted(re.search(rb"Subject: (slot \d)", m).group(1) for m in sink.messages())
        self.assertEqual(subjects, [b"slot 0", b"slot 1", b"slot 2"])

    def test_timeout_on_first_host_fails_over_to_the_second(self):
        silent = self.fake(replies={"greeting": "silent"})
        good = self.fake(reflect_port=self.resubmit_port)
        self.start_gateway([self.host(silent.port), self.host(good.port)], session_timeout="1s")
        qid = self.send(message("failover"))
        msgs = self.wait_maildir(1)
        self.assertIsNone(msgs[0]["X-Cordon-DLP"])
        self.assertEqual(len(good.messages), 1)
        self.assertRegex(self.log(), rf"queue {qid}: dlp-passed: 127\.0\.0\.1:{good.port}")
        self.assertNotIn("dlp-bypass", self.log())

    # --- bypass ----------------------------------------------------------------

    def test_no_host_accepts_tcp_bypasses_with_reason(self):
        closed1, closed2 = free_port(), free_port()
        self.start_gateway([self.host(closed1), self.host(closed2)])
        qid = self.send(message("bypass unreachable"))
        msgs = self.wait_maildir(1)
        self.assertEqual(msgs[0]["X-Cordon-DLP"], "bypassed, not inspected (unreachable)")
        self.assertRegex(self.log(), rf"warning queue {qid}: DLP bypass \(unreachable\)")
        self.assertIn(f"127.0.0.1:{closed1}: no TCP connection", self.log())
        self.assertIn(f"127.0.0.1:{closed2}: no TCP connection", self.log())

    def test_bypass_is_in_the_queue_trace(self):
        # The next hop is down, so the bypassed message stays queued and
        # its trace can be read back.
        closed, next_hop = free_port(), free_port()
        self.start_gateway([self.host(closed)], deliver=self.host(next_hop))
        qid = self.send(message("bypass trace"))
        m = self.wait_queued(qid, lambda m: m["state"] == "deferred", "deferred after bypass")
        events = self.events(m)
        self.assertEqual(events[:3], ["queued", "dlp-bypass", "delivery-deferred"])
        bypass = m["trace"][1]["detail"]
        self.assertTrue(bypass.startswith("unreachable: no DLP host accepts a TCP connection"), bypass)
        # The next attempt goes straight to delivery: DLP is not asked twice.
        sink = SmtpSink(next_hop, dump_dir=f"{self.workdir}/sink")
        self.cleanups.append(sink.stop)
        self.wait_gone(qid)
        body = sink.messages()[0]
        self.assertIn(b"X-Cordon-DLP: bypassed, not inspected (unreachable)", body)

    def test_timeout_and_no_other_host_accepting_tcp_bypasses(self):
        silent = self.fake(replies={"greeting": "silent"})
        closed = free_port()
        self.start_gateway([self.host(silent.port), self.host(closed)], session_timeout="1s")
        qid = self.send(message("bypass timeout"))
        msgs = self.wait_maildir(1)
        self.assertEqual(msgs[0]["X-Cordon-DLP"], "bypassed, not inspected (session_timeout)")
        self.assertRegex(self.log(), rf"queue {qid}: dlp-bypass: session_timeout: session timed out "
                                     rf"and no other DLP host accepts a TCP connection: "
                                     rf"127\.0\.0\.1:{silent.port}: session timed out at greeting")

    def test_smtp_sink_delaying_past_the_timeout_bypasses(self):
        dlp_port = free_port()
        sink = SmtpSink(dlp_port, extra_args=["-w", "5"])
        self.cleanups.append(sink.stop)
        self.start_gateway([self.host(dlp_port)], session_timeout="1s")
        qid = self.send(message("sink delay"))
        msgs = self.wait_maildir(1)
        self.assertEqual(msgs[0]["X-Cordon-DLP"], "bypassed, not inspected (session_timeout)")
        self.assertRegex(self.log(), rf"queue {qid}: dlp-bypass: session_timeout: .*timed out at data")

    def test_two_hosts_accepting_tcp_and_timing_out_stay_queued(self):
        a = self.fake(replies={"greeting": "silent"})
        b = self.fake(replies={"greeting": "silent"})
        self.start_gateway([self.host(a.port), self.host(b.port)], session_timeout="1s",
                           schedule="[30s]")
        qid = self.send(message("two timeouts"))
        m = self.wait_queued(qid, lambda m: m["state"] == "deferred", "deferred")
        self.assertEqual(self.events(m), ["queued", "dlp-deferred"])
        self.assertIn("more than one DLP host accepts TCP connections", m["trace"][1]["detail"])
        self.assertEqual(self.maildir_files(), [])

    def test_bypass_off_keeps_the_message_queued(self):
        closed = free_port()
        self.start_gateway([self.host(closed)], bypass=False, schedule="[30s]")
        qid = self.send(message("fail closed"))
        m = self.wait_queued(qid, lambda m: m["state"] == "deferred", "deferred")
        self.assertEqual(self.events(m), ["queued", "dlp-deferred"])
        self.assertTrue(m["trace"][1]["detail"].startswith("fail-closed (bypass: false), unreachable"))
        self.assertEqual(m["attempts"], 1)
        self.assertEqual(self.maildir_files(), [])

    # --- deferral: 4xx at any stage ---------------------------------------------

    def assert_deferred(self, dlp, reply_fragment):
        qid = self.send(message("deferred"))
        m = self.wait_queued(qid, lambda m: m["state"] == "deferred" and m["attempts"] >= 2,
                             "two deferred attempts")
        events = self.events(m)
        self.assertEqual(events[0], "queued")
        self.assertTrue(all(e == "dlp-deferred" for e in events[1:]), events)
        self.assertIn(reply_fragment, m["trace"][1]["detail"])
        self.assertEqual(self.maildir_files(), [])
        self.assertNotIn("dlp-bypass", self.log())
        return qid

    def test_greeting_421_stays_queued_and_is_retried(self):
        dlp = self.fake(replies={"greeting": "421 4.3.2 busy, come back later"})
        self.start_gateway([self.host(dlp.port)])
        self.assert_deferred(dlp, "said at greeting: 421 4.3.2 busy, come back later")
        self.assertGreaterEqual(dlp.connections, 2)

    def test_451_at_rcpt_stays_queued(self):
        dlp = self.fake(replies={"rcpt": "451 4.7.1 policy service unavailable"})
        self.start_gateway([self.host(dlp.port)])
        self.assert_deferred(dlp, "said at rcpt: 451 4.7.1 policy service unavailable")

    def test_smtp_sink_421_and_hangup_at_data_stays_queued(self):
        dlp_port = free_port()
        sink = SmtpSink(dlp_port, extra_args=["-Q", "DATA"])
        self.cleanups.append(sink.stop)
        self.start_gateway([self.host(dlp_port)])
        self.assert_deferred(None, "421")

    def test_deferred_message_is_delivered_once_dlp_recovers(self):
        dlp = self.fake(replies={"rcpt": "451 4.7.1 try later"})
        self.start_gateway([self.host(dlp.port)])
        qid = self.send(message("recovers"))
        self.wait_queued(qid, lambda m: m["state"] == "deferred", "deferred")
        dlp.replies = {}
        dlp.reflect_port = self.resubmit_port
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        self.assertEqual(msgs[0]["X-Cordon-Queue-Id"], qid)

    # --- bounce: 5xx at any stage ----------------------------------------------

    def test_550_at_end_of_data_bounces_with_a_dsn(self):
        text = "550 5.7.0 Your message was not sent: it contains a payment card number (incident 42)"
        dlp = self.fake(replies={"dot": text})
        self.start_gateway([self.host(dlp.port)])
        qid = self.send(message("card", body="my card 4111 1111 1111 1111\n"))
        msgs = self.wait_maildir(1)
        self.wait_gone(qid)
        dsn = msgs[0]
        self.assertEqual(dsn["Return-Path"], "<>")
        self.assertEqual(dsn["Delivered-To"], "alice@example.com")
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        raw = bytes(dsn)
        self.assertIn(b"Action: failed", raw)
        self.assertIn(b"Status: 5.7.0", raw)
        self.assertIn(b"Final-Recipient: rfc822; bob@example.net", raw)
        self.assertIn(b"Diagnostic-Code: smtp; 550 5.7.0 Your message was not sent", raw)
        # Headers only: the DSN never echoes what DLP stopped.
        self.assertNotIn(b"4111 1111 1111 1111", raw)
        self.assertRegex(self.log(), rf"queue {qid}: dlp-bounced: 127\.0\.0\.1:{dlp.port} said at "
                                     rf"data_end: 550")
        self.assertRegex(self.log(), rf"queue {qid}: dsn: failure notice to <alice@example.com>")

    def test_smtp_sink_5xx_at_mail_bounces(self):
        dlp_port = free_port()
        sink = SmtpSink(dlp_port, extra_args=["-f", "MAIL"])
        self.cleanups.append(sink.stop)
        self.start_gateway([self.host(dlp_port)])
        qid = self.send(message("sink 5xx"))
        msgs = self.wait_maildir(1)
        self.assertEqual(msgs[0]["Delivered-To"], "alice@example.com")
        self.assertRegex(self.log(), rf"queue {qid}: dlp-bounced: .* said at mail: 5\d\d")

    def test_bounce_of_a_null_sender_message_sends_no_dsn(self):
        dlp = self.fake(replies={"dot": "550 5.7.0 blocked"})
        self.start_gateway([self.host(dlp.port)])
        qid = self.send(message("null sender"), sender="")
        self.wait_gone(qid)
        wait_until(lambda: f"queue {qid}: no DSN" in self.log(), what="no-DSN log line")
        self.assertEqual(self.maildir_files(), [])

    # --- TLS -------------------------------------------------------------------

    def test_tls_required_but_not_offered_stays_queued(self):
        dlp = self.fake()
        closed = free_port()
        self.start_gateway([self.host(dlp.port), self.host(closed)], tls="required",
                           schedule="[30s]")
        qid = self.send(message("tls"))
        m = self.wait_queued(qid, lambda m: m["state"] == "deferred", "deferred")
        self.assertEqual(self.events(m), ["queued", "dlp-deferred"])
        self.assertIn("TLS to DLP is required and was not negotiated", m["trace"][1]["detail"])
        self.assertEqual(dlp.messages, [])
        self.assertEqual(self.maildir_files(), [])


if __name__ == "__main__":
    unittest.main()
