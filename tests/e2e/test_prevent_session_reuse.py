"""Next hop sessions kept between upstream sessions (prevent forward mode):
messages that arrive over separate upstream connections reach the next hop
over fewer connections than messages, XFORWARD still goes with every
transaction, and a kept session the next hop closed meanwhile (a plain
close, a 421, Postfix's smtp-sink timing it out) is replaced without losing
or doubling a message."""

import os
import re
import smtplib
import subprocess
import time
import unittest

import peers
from prevent_support import STANDARD_POLICIES, PreventFixture, make_message
from xforward_sink import XforwardSink

MESSAGES = 6


class CountingSmtpSink:
    """smtp-sink -c (counters of ended sessions and received messages on
    stdout) dumping each message into dump_dir."""

    def __init__(self, port, dump_dir, extra_args=()):
        peers.require_postfix()
        os.makedirs(dump_dir, exist_ok=True)
        os.chmod(dump_dir, 0o777)
        self.dump_dir = dump_dir
        self.out_path = os.path.join(dump_dir, "..", f"sink-{port}.out")
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(
            ["smtp-sink", "-c", "-d", os.path.join(dump_dir, "%M."), "-u", "nobody",
             *extra_args, f"127.0.0.1:{port}", "100"],
            stdout=self.out, stderr=subprocess.DEVNULL)
        peers.wait_for_port(port, proc=self.proc)
        # wait_for_port's probe is a session too: the counts start after it.
        self.base = peers.wait_until(lambda: self.counters() if self.counters()[0] >= 1 else None,
                                     what="smtp-sink counting the port probe")

    def counters(self):
        """(sessions ended, messages received) so far."""
        with open(self.out_path, "rb") as f:
            found = re.findall(rb"sess=(\d+) quit=\d+ mesg=(\d+)", f.read())
        return (int(found[-1][0]), int(found[-1][1])) if found else (0, 0)

    def sessions_and_messages(self):
        s, m = self.counters()
        return s - self.base[0], m - self.base[1]

    def subjects(self):
        out = []
        for root, _, files in os.walk(self.dump_dir):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    found = re.search(rb"^Subject: (.*?)\r?$", f.read(), re.M)
                    out.append(found.group(1).decode() if found else None)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.out.close()


def send_each_over_its_own_session(port, subjects, pause=0.0, xforward=None):
    """One upstream session per message; the replies to DATA (all must be
    250: sendmail raises otherwise)."""
    for i, subject in enumerate(subjects):
        if i and pause:
            time.sleep(pause)
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.ehlo("mta.example")
            if xforward:
                code, _ = c.docmd(f"XFORWARD ADDR={xforward(i)} HELO=pc{i}.example")
                assert code == 250, code
            c.sendmail("alice@corp.test", ["bob@ext.test"], make_message(subject, "hello"))


def stopped_log(fixture):
    """cordon's log after a graceful stop (which logs the session counts)."""
    fixture.cordon.stop()
    return fixture.cordon.output()


class SmtpSinkReuseTest(unittest.TestCase):
    def start(self, sink_args=()):
        self.f = PreventFixture(STANDARD_POLICIES, start_sink=False)
        self.addCleanup(self.f.stop)
        self.sink = CountingSmtpSink(self.f.sink_port, self.f.dump, extra_args=sink_args)
        self.addCleanup(self.sink.stop)

    def delivered_once(self, subjects):
        peers.wait_until(lambda: len(self.sink.subjects()) >= len(subjects), timeout=30,
                         what="every message at smtp-sink")
        time.sleep(0.3)  # a doubled message would arrive by now
        self.assertEqual(sorted(self.sink.subjects()), sorted(subjects))

    def test_messages_from_separate_sessions_share_next_hop_connections(self):
        self.start()
        subjects = [f"reuse-{i}" for i in range(MESSAGES)]
        send_each_over_its_own_session(self.f.port, subjects, pause=0.05)
        self.delivered_once(subjects)
        # Killing cordon ends the parked session too: then every session
        # smtp-sink saw has ended and is counted.
        self.f.cordon.kill()
        sessions, messages = peers.wait_until(
            lambda: self.sink.sessions_and_messages()
            if self.sink.sessions_and_messages()[1] == MESSAGES and
            self.sink.sessions_and_messages()[0] >= 1 else None,
            what="smtp-sink's counters")
        time.sleep(0.3)
        sessions, messages = self.sink.sessions_and_messages()
        self.assertEqual(messages, MESSAGES)
        self.assertLess(sessions, MESSAGES)
        self.assertEqual(sessions, 1)  # sequential messages: one session carries them all

    def test_a_session_smtp_sink_timed_out_is_replaced(self):
        # smtp-sink drops a connection idle for 1 s; prevent keeps one for 2 s.
        self.start(sink_args=("-t", "1"))
        subjects = [f"timedout-{i}" for i in range(3)]
        send_each_over_its_own_session(self.f.port, subjects, pause=1.5)
        self.delivered_once(subjects)
        self.assertNotRegex(self.f.cordon.output(), r"\bwarn")  # no next hop failure logged
        self.assertIn("(2 found closed by the next hop)", stopped_log(self.f))


class XforwardSinkReuseTest(unittest.TestCase):
    def start(self, hang_up=None):
        self.f = PreventFixture(STANDARD_POLICIES, start_sink=False,
                                extra_prevent="  xforward_networks: [127.0.0.1/32]\n")
        self.addCleanup(self.f.stop)
        self.sink = XforwardSink(self.f.sink_port, hang_up=hang_up)
        self.addCleanup(self.sink.stop)

    def received(self, count):
        peers.wait_until(lambda: len(self.sink.received()) >= count, timeout=30,
                         what=f"{count} messages at the next hop")
        time.sleep(0.3)  # a doubled message would arrive by now
        return self.sink.received()

    def subjects(self, messages):
        return [re.search(rb"Subject: (\S+)", m["content"]).group(1).decode() for m in messages]

    def test_xforward_goes_with_every_transaction_over_a_reused_session(self):
        self.start()
        subjects = [f"xf-reuse-{i}" for i in range(MESSAGES)]
        send_each_over_its_own_session(self.f.port, subjects, pause=0.05,
                                       xforward=lambda i: f"192.0.2.{10 + i}")
        got = self.received(MESSAGES)
        self.assertEqual(self.subjects(got), subjects)
        for i, m in enumerate(got):
            self.assertEqual(m["xforward"]["ADDR"], f"192.0.2.{10 + i}")
            self.assertEqual(m["xforward"]["HELO"], f"pc{i}.example")
        self.assertLess(self.sink.connection_count(), MESSAGES)
        self.assertEqual(self.sink.connection_count(), 1)
        self.assertIn(f"{MESSAGES - 1} next hop sessions reused, 1 opened (0 found closed",
                      stopped_log(self.f))

    def test_a_next_hop_that_closes_after_each_message_gets_each_once(self):
        self.start(hang_up="close")
        subjects = [f"closed-{i}" for i in range(MESSAGES)]
        send_each_over_its_own_session(self.f.port, subjects, pause=0.05)
        got = self.received(MESSAGES)
        self.assertEqual(self.subjects(got), subjects)
        self.assertEqual(self.sink.connection_count(), MESSAGES)
        self.assertNotRegex(self.f.cordon.output(), r"\bwarn")
        self.assertIn(f"0 next hop sessions reused, {MESSAGES} opened ({MESSAGES - 1} found closed",
                      stopped_log(self.f))

    def test_a_next_hop_that_answers_421_to_a_kept_session_gets_each_once(self):
        self.start(hang_up="421")
        subjects = [f"timeout421-{i}" for i in range(MESSAGES)]
        send_each_over_its_own_session(self.f.port, subjects, pause=0.05,
                                       xforward=lambda i: f"192.0.2.{30 + i}")
        got = self.received(MESSAGES)
        self.assertEqual(self.subjects(got), subjects)
        for i, m in enumerate(got):
            self.assertEqual(m["xforward"]["ADDR"], f"192.0.2.{30 + i}")
        self.assertEqual(self.sink.connection_count(), MESSAGES)
        self.assertNotRegex(self.f.cordon.output(), r"\bwarn")
        self.assertIn(f"0 next hop sessions reused, {MESSAGES} opened ({MESSAGES - 1} found closed",
                      stopped_log(self.f))


if __name__ == "__main__":
    unittest.main()
