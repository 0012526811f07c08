"""`cordon monitor --pcap` on captures of real SMTP peers: tcpdump on the
loopback interface records swaks (with and without --pipeline), Python's
smtplib and Postfix's smtp-source talking to Postfix's smtp-sink; cordon's
findings are compared with what the clients sent and with tshark's
`--export-objects imf` (every message tshark finds, cordon must find).
The peers are started once for the whole suite."""

import email
import json
import os
import signal
import smtplib
import subprocess
import tempfile
import time
import unittest

from peers import SmtpSink, free_port, wait_until

CORDON = os.environ.get("CORDON_BIN", "cordon")
CARD = "4111 1111 1111 1111"


def subject_of(raw):
    return email.message_from_bytes(raw).get("Subject", "")


class Tcpdump:
    """tcpdump -i lo -w FILE port P, started and stopped by the test."""

    def __init__(self, path, port):
        self.proc = subprocess.Popen(
            ["tcpdump", "-i", "lo", "-B", "65536", "-U", "--immediate-mode", "-s", "0", "-w", path,
             f"tcp port {port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        if "listening" not in line:
            raise RuntimeError(f"tcpdump did not start: {line}")
        time.sleep(0.2)

    def stop(self):
        time.sleep(1.0)  # the last ACKs and FINs reach the file
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=10)


class Peers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.port = free_port()
        cls.pcap = os.path.join(cls.tmp.name, "lo.pcap")
        cls.sink = SmtpSink(cls.port)
        cls.dump = Tcpdump(cls.pcap, cls.port)
        cls.sent = []  # (subject, sender, recipients)
        try:
            cls.run_clients()
        finally:
            cls.dump.stop()
            cls.sink.stop()
        cls.saved = os.path.join(cls.tmp.name, "saved")
        os.makedirs(cls.saved)
        env = {**os.environ, "XDG_CACHE_HOME": os.path.join(cls.tmp.name, "cache")}
        cls.result = subprocess.run(
            [CORDON, "monitor", "--pcap", cls.pcap, "--port", str(cls.port), "--format", "json",
             "--stats", "--save", cls.saved], capture_output=True, text=True, env=env, timeout=120)
        cls.records = [json.loads(l) for l in cls.result.stdout.splitlines() if l.strip()]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def run_clients(cls):
        port = str(cls.port)
        for pipeline in (False, True):
            subject = f"swaks {'pipelined' if pipeline else 'plain'}"
            args = ["swaks", "--server", "127.0.0.1", "--port", port, "--from",
                    "alice@corp.example", "--to", "bob@partner.example,carol@partner.example",
                    "--header", f"Subject: {subject}", "--body",
                    f"card {CARD}\n.a line starting with a dot\n", "--silent", "2"]
            if pipeline:
                args.append("--pipeline")
            subprocess.run(args, check=True, timeout=30, stdout=subprocess.DEVNULL)
            cls.sent.append((subject, "alice@corp.example",
                             ["bob@partner.example", "carol@partner.example"]))
        with smtplib.SMTP("127.0.0.1", cls.port, timeout=10) as s:
            for n, text in enumerate(["nothing to see here", f"my card is {CARD}"]):
                subject = f"smtplib {n}"
                msg = (f"From: dave@corp.example\r\nTo: erin@partner.example\r\nSubject: {subject}"
                       f"\r\nMessage-ID: <smtplib{n}@corp.example>\r\n\r\n{text}\r\n"
                       + "a long line " * 500 + "\r\n")
                s.sendmail("dave@corp.example", ["erin@partner.example"], msg)
                cls.sent.append((subject, "dave@corp.example", ["erin@partner.example"]))
        # smtp-source: 20 messages of 20 KB, two sessions at a time.
        subprocess.run(["smtp-source", "-m", "20", "-s", "2", "-l", "20000", "-f",
                        "source@corp.example", "-t", "sink@partner.example", "-c",
                        f"127.0.0.1:{port}"], check=True, timeout=60, stdout=subprocess.DEVNULL)
        for _ in range(20):
            cls.sent.append(("smtp-source", "source@corp.example", ["sink@partner.example"]))

    def saved_message(self, index):
        with open(os.path.join(self.saved, f"{index + 1}.eml"), "rb") as f:
            return f.read()

    def test_every_message_sent_is_found_whole(self):
        self.assertIn(self.result.returncode, (0, 1), self.result.stderr)
        self.assertEqual(len(self.records), len(self.sent), self.result.stderr)
        for r in self.records:
            self.assertTrue(r["complete"], r)
            self.assertTrue(r["inspected"], r)
            self.assertFalse(r["tls"])
            self.assertEqual(r["reply"], 250)
            self.assertRegex(r["session"], rf"^127\.0\.0\.1:\d+ > 127\.0\.0\.1:{self.port}$")
        self.assertIn(" 0 gaps", self.result.stderr)

    def test_envelopes_and_verdicts_match_what_was_sent(self):
        self.assertEqual(self.result.returncode, 1)
        got = sorted((r.get("subject", ""), r["sender"], r["recipients"]) for r in self.records)
        want = sorted((s if s != "smtp-source" else "", f, t) for s, f, t in self.sent)
        # smtp-source's messages have no Subject header.
        self.assertEqual(got, want)
        verdicts = {r.get("subject", ""): r["verdict"] for r in self.records}
        self.assertEqual(verdicts["swaks plain"], "block")
        self.assertEqual(verdicts["swaks pipelined"], "block")
        self.assertEqual(verdicts["smtplib 0"], "pass")
        self.assertEqual(verdicts["smtplib 1"], "block")

    def test_dot_unstuffed_content(self):
        for i, r in enumerate(self.records):
            if r.get("subject", "").startswith("swaks"):
                self.assertIn(b"\r\n.a line starting with a dot\r\n", self.saved_message(i))
            if r.get("subject") == "smtplib 1":
                self.assertIn(f"my card is {CARD}".encode(), self.saved_message(i))

    def test_tshark_finds_a_subset_of_what_cordon_finds(self):
        out = os.path.join(self.tmp.name, "tshark")
        os.makedirs(out, exist_ok=True)
        subprocess.run(["tshark", "-r", self.pcap, "-q", "-d", f"tcp.port=={self.port},smtp",
                        "--export-objects", f"imf,{out}"], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        theirs = []
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name), "rb") as f:
                theirs.append(f.read())
        self.assertGreater(len(theirs), 0)
        ours = [self.saved_message(i) for i in range(len(self.records))]
        def normalise(b, stuffed=False):
            b = b.replace(b"\r\n", b"\n")
            if stuffed:  # tshark exports DATA as sent, dots still stuffed
                b = b.replace(b"\n..", b"\n.")
            return b.rstrip(b"\n")
        ours_set = {normalise(m) for m in ours}
        for message in theirs:
            self.assertTrue(normalise(message, stuffed=True) in ours_set,
                            f"tshark found a message cordon did not: {message[:300]!r}")
        self.assertGreaterEqual(len(ours), len(theirs))


class LiveRole(unittest.TestCase):
    """`cordon run` with a monitor section capturing on lo: swaks mails
    smtp-sink, the role logs the message and records a "monitored" incident."""

    def test_live_capture_records_a_monitored_incident(self):
        from peers import Cordon
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            sink = SmtpSink(port)
            data = os.path.join(tmp, "data")
            console = free_port()
            config = (f"data_dir: {data}\nconsole:\n  listen: 127.0.0.1:{console}\n"
                      f"monitor:\n  capture: lo\n  ports: [{port}]\n"
                      "  filters: {sender: \"-*@internal.example\", recipient: \"\"}\n"
                      "policies:\n  - name: Payment card numbers\n    severity: high\n"
                      "    match: {any: [{identifier: credit_card}]}\n"
                      "    respond: [{block: \"no card numbers\"}]\n")
            cordon = Cordon(config, tmp, ports=(console,),
                            env={"XDG_CACHE_HOME": os.path.join(tmp, "cache")})
            cordon.start()
            try:
                wait_until(lambda: "monitor capturing on lo" in cordon.output(), what="capture")
                for sender, subject in (("alice@corp.example", "live card"),
                                        ("ops@internal.example", "live internal")):
                    subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from",
                                    sender, "--to", "bob@partner.example", "--header",
                                    f"Subject: {subject}", "--body", f"card {CARD}", "--silent",
                                    "2"], check=True, timeout=30, stdout=subprocess.DEVNULL)
                wait_until(lambda: cordon.output().count("monitor: 20") >= 2, what="two records")
                out = subprocess.run([CORDON, "incidents", "--config", cordon.config_path,
                                      "--format", "json"], capture_output=True, text=True,
                                     timeout=60)
                incidents = json.loads(out.stdout)
                self.assertEqual(len(incidents), 1, cordon.output())
                self.assertEqual(incidents[0]["action"], "monitored")
                self.assertEqual(incidents[0]["subject"], "live card")
                self.assertIn("ignore (mask 1 \"-*@internal.example\")", cordon.output())
                import urllib.request
                def metric(text, name):
                    for line in text.splitlines():
                        if line.startswith(name + " "):
                            return float(line.split()[-1])
                    return None
                def metrics():
                    with urllib.request.urlopen(f"http://127.0.0.1:{console}/metrics") as r:
                        return r.read().decode()
                # Counters follow the engine every 1024 frames and on each
                # quiet 200 ms of capture.
                wait_until(lambda: metric(metrics(), "cordon_monitor_sessions_total") == 2,
                           what="metrics")
                text = metrics()
                self.assertEqual(metric(text, 'cordon_monitor_messages_total{result="all"}'), 2)
                self.assertEqual(metric(text, 'cordon_monitor_messages_total{result="inspected"}'), 1)
                self.assertEqual(metric(text, 'cordon_monitor_messages_total{result="ignored"}'), 1)
                self.assertEqual(metric(text, "cordon_monitor_incidents_total"), 1)
                self.assertEqual(metric(text, "cordon_monitor_gaps_total"), 0)
                self.assertEqual(metric(text, "cordon_monitor_drops_total"), 0)
                self.assertGreater(metric(text, "cordon_monitor_packets_total"), 20)
                self.assertGreater(metric(text, "cordon_monitor_bytes_total"), 1000)

                # SIGHUP: the new policies and filters judge what is captured
                # from then on, on the same capture.
                with open(cordon.config_path, "w") as f:
                    f.write(config.replace('"-*@internal.example"', '""') +
                            "  - name: Neptune\n    match: {any: [{keywords: [project neptune]}]}\n"
                            "    respond: [{block: \"no neptune\"}]\n")
                cordon.reload()
                wait_until(lambda: "configuration reloaded" in cordon.output(), what="reload")
                subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port), "--from",
                                "ops@internal.example", "--to", "bob@partner.example", "--header",
                                "Subject: after reload", "--body", "about project neptune",
                                "--silent", "2"], check=True, timeout=30,
                               stdout=subprocess.DEVNULL)
                wait_until(lambda: cordon.output().count("monitor: 20") >= 3, what="third record")
                out = subprocess.run([CORDON, "incidents", "--config", cordon.config_path,
                                      "--format", "json"], capture_output=True, text=True,
                                     timeout=60)
                after = [i for i in json.loads(out.stdout) if i["subject"] == "after reload"]
                self.assertEqual(len(after), 1, cordon.output())
                self.assertEqual(after[0]["policies"][0]["name"] if isinstance(
                    after[0]["policies"][0], dict) else after[0]["policies"][0], "Neptune")
            finally:
                cordon.stop()
                sink.stop()


# The L7 filter seed table of docs/configuration.md (the same rows as
# tests/policy/filter_test.cpp), judged by the monitor on a real capture:
# (sender filter, recipient filter, MAIL FROM, RCPT TOs, expected).
SEED_CASES = [
    ("", "+bob@test1.com, -*test1.com, -*test2.com", "someone@sender.example",
     ["bob@test1.com", "amy@test1.com"], True),
    ("", "+bob@test1.com, -*test1.com, -*test2.com", "someone@sender.example",
     ["amy@test1.com", "joe@test2.com"], False),
    ("", "+bob@test1.com, -*test1.com, -*test2.com", "someone@sender.example",
     ["amy@test1.com", "joe@test2.com", "sue@test3.com"], True),
    ("", "+bob@test1.com, -*test1.com, -*test2.com, *", "someone@sender.example",
     ["amy@test1.com", "joe@test2.com", "sue@test3.com"], False),
    ("", "-*@test1.com", "someone@sender.example", ["amy@test.com"], True),
    ("", "-*@test1.com", "someone@sender.example", ["amy@test1.com"], False),
    ("+bob@test1.com, -*test1.com, -*test2.com", "", "bob@test1.com", ["someone@rcpt.example"], True),
    ("+bob@test1.com, -*test1.com, -*test2.com", "", "amy@test1.com", ["someone@rcpt.example"], False),
    ("+bob@test1.com, -*test1.com, -*test2.com", "", "sue@test3.com", ["someone@rcpt.example"], True),
    ("+bob@test1.com, -*test1.com, -*test2.com, *", "", "sue@test3.com", ["someone@rcpt.example"],
     False),
    ("-*@test1.com", "", "amy@test.com", ["someone@rcpt.example"], True),
    ("-*@test1.com", "", "amy@test1.com", ["someone@rcpt.example"], False),
    ("-bob@test1.com, +*test1.com", "", "bob@test1.com", ["someone@rcpt.example"], False),
    ("-bob@test1.com, +*test1.com", "", "amy@test1.com", ["someone@rcpt.example"], True),
    ("-bob@test1.com, +*test1.com", "", "sue@other.com", ["someone@rcpt.example"], True),
    ("+*@xyz.com, *", "-*@xyz.com", "a@xyz.com", ["b@xyz.com"], False),
    ("+*@xyz.com, *", "-*@xyz.com", "a@xyz.com", ["c@abc.com"], True),
    ("+*@test.com, -bob@test.com", "", "bob@test.com", ["someone@rcpt.example"], True),
    ("-bob@test.com, +*@test.com, *", "", "bob@test.com", ["someone@rcpt.example"], False),
    ("-bob@test.com, +*@test.com, *", "", "amy@test.com", ["someone@rcpt.example"], True),
    ("-bob@test.com, +*@test.com, *", "", "amy@else.com", ["someone@rcpt.example"], False),
    ("", "-*@xyz.com, -*@abc.com", "someone@sender.example", ["a@xyz.com"], False),
    ("", "-*@xyz.com, -*@abc.com", "someone@sender.example", ["a@abc.com"], False),
    ("", "-*@xyz.com, -*@abc.com", "someone@sender.example", ["a@xyz.com", "b@abc.com"], False),
    ("", "-*@xyz.com, -*@abc.com", "someone@sender.example", ["a@xyz.com", "b@other.com"], True),
]


class SeedFilters(unittest.TestCase):
    """Every envelope of the seed table is sent once through smtp-sink while
    tcpdump records; for each filter pair `cordon monitor` reads the capture
    with those filters and says, per message, inspected or not."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.port = free_port()
        cls.pcap = os.path.join(cls.tmp.name, "seed.pcap")
        sink = SmtpSink(cls.port)
        dump = Tcpdump(cls.pcap, cls.port)
        envelopes = sorted({(f, tuple(t)) for _, _, f, t, _ in SEED_CASES})
        try:
            with smtplib.SMTP("127.0.0.1", cls.port, timeout=10) as s:
                for n, (sender, rcpts) in enumerate(envelopes):
                    s.sendmail(sender, list(rcpts),
                               f"From: {sender}\r\nSubject: seed {n}\r\n\r\ncard {CARD}\r\n")
        finally:
            dump.stop()
            sink.stop()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def judged(self, sender_filter, recipient_filter):
        config = os.path.join(self.tmp.name, "seed.yaml")
        with open(config, "w") as f:
            f.write(f"monitor:\n  capture: {self.pcap}\n  ports: [{self.port}]\n"
                    f"  filters: {{sender: \"{sender_filter}\", recipient: \"{recipient_filter}\"}}\n"
                    "policies:\n  - name: Payment card numbers\n    severity: high\n"
                    "    match: {any: [{identifier: credit_card}]}\n"
                    "    respond: [{block: \"no card numbers\"}]\n")
        env = {**os.environ, "XDG_CACHE_HOME": os.path.join(self.tmp.name, "cache")}
        out = subprocess.run([CORDON, "monitor", "--pcap", self.pcap, "--config", config,
                              "--format", "json"], capture_output=True, text=True, env=env,
                             timeout=60)
        self.assertIn(out.returncode, (0, 1), out.stderr)
        records = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
        return {(r["sender"], tuple(r["recipients"])): r for r in records}

    def test_every_seed_case_is_judged_as_the_table_says(self):
        by_filters = {}
        for sf, rf, sender, rcpts, expected in SEED_CASES:
            by_filters.setdefault((sf, rf), []).append((sender, tuple(rcpts), expected))
        for (sf, rf), cases in by_filters.items():
            records = self.judged(sf, rf)
            for sender, rcpts, expected in cases:
                with self.subTest(sender_filter=sf, recipient_filter=rf, sender=sender,
                                  recipients=rcpts):
                    r = records.get((sender, rcpts))
                    self.assertIsNotNone(r, f"no record for {sender} -> {rcpts}")
                    self.assertEqual(r["inspected"], expected, r)
                    # An inspected message with a card would be blocked; an
                    # ignored one is not judged at all.
                    self.assertEqual(r["verdict"], "block" if expected else "pass", r)
