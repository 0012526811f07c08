"""`cordon monitor --pcap` on crafted captures (make_captures.py): the TCP
and SMTP edge cases, each capture made at test time by scapy, no network."""

import json
import os
import subprocess
import tempfile
import unittest

import make_captures

CORDON = os.environ.get("CORDON_BIN", "cordon")


class Crafted(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = os.path.join(cls.tmp.name, "pcaps")
        make_captures.write_all(cls.dir)
        cls.env = {**os.environ, "XDG_CACHE_HOME": os.path.join(cls.tmp.name, "cache")}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def monitor(self, name, *extra, expect_rc=None, save=False):
        args = [CORDON, "monitor", "--pcap", os.path.join(self.dir, name + ".pcap"),
                "--format", "json", "--stats", *extra]
        saved = None
        if save:
            saved = tempfile.mkdtemp(dir=self.tmp.name)
            args += ["--save", saved]
        p = subprocess.run(args, capture_output=True, text=True, env=self.env, timeout=120)
        if expect_rc is not None:
            self.assertEqual(p.returncode, expect_rc, p.stderr)
        records = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
        for r in records:
            for key in ("time", "session", "sender", "recipients", "inspected", "filter", "tls",
                        "complete", "verdict", "policies", "incident"):
                self.assertIn(key, r)
        if save:
            contents = []
            for i in range(1, len(records) + 1):
                path = os.path.join(saved, f"{i}.eml")
                if not os.path.exists(path):
                    contents.append(None)
                    continue
                with open(path, "rb") as f:
                    contents.append(f.read())
            return records, p, contents
        return records, p

    POLICIES = ("policies:\n  - name: Payment card numbers\n    severity: high\n"
                "    match: {any: [{identifier: credit_card}]}\n"
                "    respond: [{block: \"card numbers are not sent\"}]\n")

    def config(self, text):
        text += self.POLICIES
        path = os.path.join(self.tmp.name, f"cfg{abs(hash(text))}.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def assert_blocked_card(self, r):
        self.assertTrue(r["inspected"])
        self.assertEqual(r["verdict"], "block")
        self.assertEqual(r["policies"][0]["name"], "Payment card numbers")
        self.assertEqual(r["policies"][0]["matches"][0]["samples"], ["4111********1111"])

    def test_basic_counts_only_accepted_recipients_and_unstuffs_dots(self):
        records, p, contents = self.monitor("basic", expect_rc=1, save=True)
        self.assertEqual(len(records), 1)
        r = records[0]
        self.assertEqual(r["session"], "10.0.0.1:40001 > 10.0.0.2:25")
        self.assertEqual(r["sender"], "alice@corp.example")
        self.assertEqual(r["recipients"], ["bob@partner.example", "carol@partner.example"])
        self.assertTrue(r["complete"])
        self.assertFalse(r["tls"])
        self.assertIsNone(r["incident"])
        self.assertEqual(r["reply"], 250)
        self.assert_blocked_card(r)
        self.assertIn(b"\r\n.leading dot line\r\n.\r\nlast line\r\n", contents[0])
        self.assertTrue(contents[0].endswith(b"last line\r\n"))

    def test_pipelined_commands_pair_with_their_replies(self):
        records, _ = self.monitor("pipelining", expect_rc=1)
        self.assertEqual([r["subject"] for r in records], ["pipelined one", "pipelined two"])
        self.assertEqual(records[0]["recipients"], ["bob@partner.example", "dan@partner.example"])
        self.assertEqual(records[1]["recipients"], ["erin@partner.example"])
        self.assert_blocked_card(records[0])
        self.assertEqual(records[1]["verdict"], "pass")

    def test_reordered_retransmitted_and_conflicting_segments(self):
        records, p, contents = self.monitor("reorder", expect_rc=1, save=True)
        self.assertEqual(len(records), 1)
        self.assert_blocked_card(records[0])
        self.assertTrue(records[0]["complete"])
        for i in range(40):
            self.assertIn(f"line {i:03} of the reordered message".encode(), contents[0])
        self.assertNotIn(b"XXXX", contents[0])  # the first copy of the bytes wins
        self.assertIn("0 gaps", p.stderr)
        self.assertNotIn(" 0 conflicting bytes", p.stderr)

    def test_sequence_numbers_wrap(self):
        records, _ = self.monitor("wrap", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertTrue(records[0]["complete"])
        self.assert_blocked_card(records[0])

    def test_end_of_data_split_at_every_byte(self):
        records, _, contents = self.monitor("split_end", expect_rc=0, save=True)
        self.assertEqual([r["subject"] for r in records], [f"split {k}" for k in range(6)])
        for r, c in zip(records, contents):
            self.assertTrue(r["complete"])
            self.assertTrue(c.endswith(b"text\r\n.dotted\r\n"), c)

    def test_fin_before_the_last_data(self):
        records, _ = self.monitor("fin_early", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertTrue(records[0]["complete"])
        self.assertEqual(records[0]["reply"], 250)

    def test_reset_in_data_is_incomplete_and_still_inspected(self):
        records, _ = self.monitor("rst_data", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertFalse(records[0]["complete"])
        self.assertIn("rst", records[0]["incomplete"])
        self.assert_blocked_card(records[0])

    def test_capture_starting_mid_connection(self):
        records, _ = self.monitor("midstream", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["sender"], "alice@corp.example")
        self.assert_blocked_card(records[0])

    def test_client_direction_only_counts_unanswered_recipients(self):
        records, _ = self.monitor("one_direction", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["recipients"],
                         ["bob@partner.example", "rejected@partner.example"])
        self.assertIsNone(records[0]["reply"])
        self.assert_blocked_card(records[0])

    def test_bad_checksums_are_not_dropped(self):
        records, _ = self.monitor("bad_checksums", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assert_blocked_card(records[0])

    def test_truncated_frame_is_a_gap(self):
        records, p = self.monitor("truncated", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertFalse(records[0]["complete"])
        self.assertIn("gap of 254 bytes", records[0]["incomplete"])
        self.assert_blocked_card(records[0])

    def test_ipv4_fragments_out_of_order(self):
        records, _ = self.monitor("fragments", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertTrue(records[0]["complete"])
        self.assert_blocked_card(records[0])

    def test_gap_marks_the_message_incomplete_and_the_next_one_is_whole(self):
        records, p = self.monitor("gap", expect_rc=1)
        self.assertEqual([r["subject"] for r in records], ["gap one", "gap two"])
        self.assertFalse(records[0]["complete"])
        self.assertEqual(records[0]["incomplete"], "gap of 300 bytes")
        self.assert_blocked_card(records[0])
        self.assertTrue(records[1]["complete"])
        self.assertEqual(records[1]["recipients"], ["fred@partner.example"])
        self.assertIn("1 gaps (300 bytes)", p.stderr)

    def test_gap_over_the_final_dot_resynchronises_at_the_next_command(self):
        records, _ = self.monitor("gap_end", expect_rc=1)
        self.assertEqual([r["subject"] for r in records], ["gap end", "after gap end"])
        self.assertFalse(records[0]["complete"])
        self.assert_blocked_card(records[0])
        self.assertEqual(records[1]["recipients"], ["gina@partner.example"])
        self.assertTrue(records[1]["complete"])

    def test_rejected_data_bytes_are_read_as_commands(self):
        records, _ = self.monitor("rejected_data", expect_rc=0)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["recipients"], ["hank@partner.example"])

    def test_bdat_chunks_last_and_a_rejected_chunk(self):
        records, _, contents = self.monitor("bdat", expect_rc=1, save=True)
        self.assertEqual(len(records), 2)
        self.assertTrue(records[0]["bdat"])
        self.assertTrue(records[0]["complete"])
        self.assert_blocked_card(records[0])
        self.assertIn(b"\r\n.a line with a leading dot kept\r\n", contents[0])  # no unstuffing
        self.assertFalse(records[1]["complete"])
        self.assertEqual(records[1]["reply"], 554)
        self.assertNotIn(b"REFUSED", contents[1])
        self.assertIn(b"part one", contents[1])

    def test_starttls_session_is_recorded_encrypted(self):
        records, p = self.monitor("starttls", expect_rc=0)
        self.assertEqual(len(records), 1)
        self.assertTrue(records[0]["tls"])
        self.assertFalse(records[0]["inspected"])
        self.assertIn("1 encrypted", p.stderr)

    def test_auth_exchange_is_skipped(self):
        records, _ = self.monitor("auth", expect_rc=1)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["sender"], "alice@corp.example")
        self.assertEqual(records[0]["recipients"], ["bob@partner.example"])
        self.assert_blocked_card(records[0])

    def test_very_long_line_is_bounded(self):
        records, _ = self.monitor("long_line", expect_rc=0)
        self.assertEqual(len(records), 1)
        self.assertEqual(records[0]["subject"], "after a long line")

    def test_link_types_and_ipv6(self):
        for name, session in [("sll", "10.0.0.1:40001 > 10.0.0.2:25"),
                              ("sll2_v6", "[2001:db8::1]:40001 > [2001:db8::2]:25"),
                              ("vlan_v6", "[2001:db8::1]:40001 > [2001:db8::2]:25"),
                              ("raw", "10.0.0.1:40001 > 10.0.0.2:25")]:
            with self.subTest(name):
                records, _ = self.monitor(name, expect_rc=1)
                self.assertEqual(len(records), 1)
                self.assertEqual(records[0]["session"], session)
                self.assert_blocked_card(records[0])

    def test_ip_filter_and_l7_filters(self):
        cfg = self.config("monitor:\n  capture: /dev/null\n  ports: [25]\n"
                          "  ip_filter: \"-10.9.9.9/32, +10.0.0.0/8, *\"\n"
                          "  filters: {sender: \"\", recipient: \"-bob@partner.example\"}\n")
        records, _ = self.monitor("ip_filtered", "--config", cfg, expect_rc=0)
        self.assertEqual(len(records), 2)
        self.assertFalse(records[0]["inspected"])
        self.assertIn('mask 1 "-10.9.9.9/32"', records[0]["filter"])
        self.assertFalse(records[1]["inspected"])
        self.assertIn("-bob@partner.example", records[1]["filter"])
        cfg = self.config("monitor:\n  capture: /dev/null\n  ports: [25]\n"
                          "  ip_filter: \"-10.9.9.9/32, +10.0.0.0/8, *\"\n")
        records, _ = self.monitor("ip_filtered", "--config", cfg, expect_rc=1)
        self.assertFalse(records[0]["inspected"])
        self.assert_blocked_card(records[1])

    def test_idle_connection_times_out_on_capture_time(self):
        cfg = self.config("monitor:\n  capture: /dev/null\n  ports: [25]\n  idle_timeout: 60s\n")
        records, p = self.monitor("idle", "--config", cfg, expect_rc=1)
        self.assertEqual([r["subject"] for r in records], ["went idle", "later"])
        self.assertIn("idle", records[0]["incomplete"])
        self.assert_blocked_card(records[0])

    def test_ports_not_followed_yield_nothing(self):
        records, _ = self.monitor("basic", "--port", "2525", expect_rc=0)
        self.assertEqual(records, [])

    def test_incidents_are_recorded_as_monitored_and_deduplicated(self):
        data = os.path.join(self.tmp.name, "data")
        cfg = self.config(f"data_dir: {data}\nmonitor:\n  capture: /dev/null\n")
        first, _ = self.monitor("basic", "--config", cfg, "--record", expect_rc=1)
        again, _ = self.monitor("basic", "--config", cfg, "--record", expect_rc=1)
        self.assertIsInstance(first[0]["incident"], int)
        self.assertEqual(first[0]["incident"], again[0]["incident"])
        self.assertTrue(again[0].get("repeated"))
        out = subprocess.run([CORDON, "incidents", "--config", cfg, "--format", "json"],
                             capture_output=True, text=True, env=self.env, timeout=60)
        incidents = json.loads(out.stdout)
        self.assertEqual(len(incidents), 1)
        self.assertEqual(incidents[0]["action"], "monitored")
        self.assertEqual(incidents[0]["repeat_count"], 1)
        # The SMTP client as seen on the wire: its address and EHLO name.
        self.assertEqual(incidents[0]["client_address"], "10.0.0.1")
        self.assertEqual(incidents[0]["client_helo"], "client.example")

    def test_check_config_refuses_a_bad_ip_filter(self):
        path = os.path.join(self.tmp.name, "bad-ip.yaml")
        with open(path, "w") as f:
            f.write("monitor:\n  capture: eth0\n  ip_filter: \"+10.0.0.0/8, 300.1.1.1\"\n")
        p = subprocess.run([CORDON, "check-config", path], capture_output=True, text=True,
                           env=self.env)
        self.assertEqual(p.returncode, 2)
        self.assertIn("ip_filter mask 2", p.stderr + p.stdout)

    def test_unreadable_capture_is_an_error(self):
        p = subprocess.run([CORDON, "monitor", "--pcap", os.path.join(self.tmp.name, "nope.pcap")],
                           capture_output=True, text=True, env=self.env)
        self.assertEqual(p.returncode, 2)
        junk = os.path.join(self.tmp.name, "junk.pcap")
        with open(junk, "wb") as f:
            f.write(b"not a capture at all")
        p = subprocess.run([CORDON, "monitor", "--pcap", junk], capture_output=True, text=True,
                           env=self.env)
        self.assertEqual(p.returncode, 2)


if __name__ == "__main__":
    unittest.main()
