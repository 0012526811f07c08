"""Durability as the kernel sees it: the gateway runs under strace, clients
send messages, and the trace is checked for every `250 ... queued as ID`
written to a client socket: before that write began, the message's content
file, its envelope and its directory had completed an fsync after their last
change, it had been renamed out of staging/, and the queue directory it was
renamed into had completed an fsync that began after the rename; for the
250 DLP gets for an inspected copy kept in its original's entry, the copy's
file and the entry's directory had completed theirs too; and a message
directory reused from a finished message had its removal from active/
fsynced before the new message took it. A process kill
cannot show a missing fsync (the page cache survives it); the trace can.

The checker is tested too, on the recorded trace with each kind of fsync
taken out in turn and with a reply moved before its fsync, so that a checker
that passes everything is caught."""

import os
import signal
import re
import shutil
import smtplib
import subprocess
import tempfile
import threading
import unittest

from gateway_case import gateway_yaml, message
from gateway_fakes import FakeDlp
from peers import Cordon, cordon_bin, free_port, wait_for_port, wait_until

SYSCALLS = "write,writev,sendto,sendmsg,fsync,fdatasync,rename,renameat,renameat2,openat,linkat"
REPLY = re.compile(r"250 2\.0\.0 Ok: queued as ([0-9A-Z]{16})")
LINE = re.compile(r"^(\d+)\s+\d\d:\d\d:\d\d\.\d+\s+(.*)$")
CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+)")


def parse_trace(text):
    """The completed system calls of an `strace -f -tt -y` log, in order:
    dicts with name, args, result, start (line of entry) and end (line of
    return). A call split by another thread ("unfinished"/"resumed") is
    joined; its start is where it was entered."""
    pending, calls = {}, []
    for index, raw in enumerate(text.splitlines()):
        m = LINE.match(raw)
        if not m:
            continue
        pid, rest = m.group(1), m.group(2)
        if rest.endswith("<unfinished ...>"):
            pending[pid] = (index, rest[: -len("<unfinished ...>")].rstrip())
            continue
        start = index
        resumed = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", rest)
        if resumed:
            if pid not in pending:
                continue
            start, head = pending.pop(pid)
            rest = head + resumed.group(2)
        c = CALL.match(rest)
        if c:
            calls.append({"name": c.group(1), "args": c.group(2), "result": int(c.group(3)),
                          "start": start, "end": index})
    return calls


def fd_path(args):
    """The path strace -y shows for a call's first (fd) argument."""
    m = re.match(r"^-?\d+<([^>]*)>", args)
    return m.group(1) if m else ""


def string_args(args):
    return re.findall(r'"((?:[^"\\]|\\.)*)"', args)


class TraceChecker:
    """What one trace proves about each queued message."""

    def __init__(self, calls):
        self.calls = calls

    def replies(self):
        """(queue id, index of the call that wrote it) for each 250 after DATA."""
        out = []
        for i, c in enumerate(self.calls):
            if c["name"] in ("write", "writev", "sendto", "sendmsg") and c["result"] > 0:
                if not fd_path(c["args"]).startswith(("TCP", "socket:")):
                    continue
                for qid in REPLY.findall(c["args"]):
                    out.append((qid, i))
        return out

    def _fsynced(self, match, after, before):
        """A completed fsync/fdatasync on a path `match` accepts, entered
        after line `after` and returned before line `before`."""
        return any(c["name"] in ("fsync", "fdatasync") and c["result"] == 0
                   and match(fd_path(c["args"]))
                   and c["start"] > after and c["end"] < before for c in self.calls)

    def problems(self, qid, reply_index):
        reply = self.calls[reply_index]["start"]
        msg_dir = re.compile(r"/queue/[a-z]+/" + qid + r"$")
        in_dir = re.compile(r"/queue/[a-z]+/" + qid + r"/([^/]+)$")
        before = self.calls[:reply_index]
        problems = []

        for label, name_ok, required in (
                ("content", lambda n: n == "content", True),
                ("envelope", lambda n: n.startswith("envelope.json"), True),
                # The inspected copy kept in the entry, when there is one.
                ("inspected copy", lambda n: n.startswith("inspected.json"), False)):
            def match(path, name_ok=name_ok):
                m = in_dir.search(path)
                return bool(m) and name_ok(m.group(1))
            writes = [c["end"] for c in before
                      if c["name"] in ("write", "writev") and match(fd_path(c["args"]))]
            if not writes:
                if required:
                    problems.append(f"{label}: never written")
            elif not self._fsynced(match, max(writes), reply):
                problems.append(f"{label}: no fsync after its last write and before the 250")

        # Entries made in the message's directory: files created, renamed in, linked.
        changed = -1
        for c in before:
            strings = string_args(c["args"])
            if c["result"] < 0 or not strings:
                continue
            if (c["name"] == "openat" and "O_CREAT" in c["args"]) or (
                    c["name"] in ("rename", "renameat", "renameat2", "linkat")):
                if in_dir.search(strings[-1]):
                    changed = max(changed, c["end"])
        if changed < 0:
            problems.append("message directory: no entry created")
        elif not self._fsynced(lambda p: bool(msg_dir.search(p)), changed, reply):
            problems.append("message directory: no fsync after its last entry and before the 250")

        moved = [c for c in before
                 if c["name"] in ("rename", "renameat", "renameat2") and c["result"] == 0
                 and len(s := string_args(c["args"])) >= 2
                 and re.search(r"/queue/staging/" + qid + "$", s[0])
                 and re.search(r"/queue/(incoming|deferred)/" + qid + "$", s[1])]
        # A directory reused from a finished message: its removal from its
        # queue state was fsynced before the new message took it.
        for reuse in [c for c in before
                      if c["name"] in ("rename", "renameat", "renameat2") and c["result"] == 0
                      and len(s := string_args(c["args"])) >= 2 and ".spare-" in s[0]
                      and re.search(r"/queue/staging/" + qid + "$", s[1])]:
            spare = string_args(reuse["args"])[0]
            freed = [c for c in before
                     if c["name"] in ("rename", "renameat", "renameat2") and c["result"] == 0
                     and c["end"] < reuse["start"]
                     and len(s := string_args(c["args"])) >= 2 and s[1] == spare]
            if not freed:
                problems.append("reused directory: never removed from its queue state")
                continue
            source = os.path.dirname(string_args(freed[-1]["args"])[0])
            if not self._fsynced(lambda p: p == source, freed[-1]["end"], reuse["start"]):
                problems.append(f"reused directory: no fsync of {os.path.basename(source)}/ "
                                "between its removal and its reuse")

        if not moved:
            problems.append("never renamed out of staging/")
        else:
            rename = moved[-1]
            state_dir = os.path.dirname(string_args(rename["args"])[1])
            if not self._fsynced(lambda p: p == state_dir, rename["end"], reply):
                problems.append(f"{os.path.basename(state_dir)}/: no fsync after the rename "
                                "and before the 250")
        return problems

    def all_problems(self):
        return {qid: p for qid, i in self.replies() if (p := self.problems(qid, i))}


class StracedCordon(Cordon):
    """cordon run under strace -f; the trace goes to trace_path."""

    def __init__(self, config_text, workdir, ports):
        super().__init__(config_text, workdir, ports)
        self.trace_path = os.path.join(workdir, "strace.log")

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["strace", "-f", "-tt", "-y", "-s", "256", "-o", self.trace_path,
             "-e", f"trace={SYSCALLS}", cordon_bin(), "run", "--config", self.config_path],
            cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT)
        for p in self.ports:
            wait_for_port(p, timeout=30, proc=self.proc)
        return self

    def stop(self):
        # SIGTERM to strace detaches it and leaves cordon running: stop
        # cordon itself, and strace ends with it.
        if self.proc and self.proc.poll() is None:
            try:
                with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                    children = [int(pid) for pid in f.read().split()]
            except OSError:
                children = []
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                for pid in children:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        super().stop()

    def trace(self):
        with open(self.trace_path, errors="replace") as f:
            return f.read()


@unittest.skipUnless(shutil.which("strace"), "strace is not installed")
class Durability(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # One traced gateway for the file: strace makes everything slow.
        cls.workdir = tempfile.mkdtemp(prefix="cordon-durable-")
        os.chmod(cls.workdir, 0o755)
        port, resubmit = free_port(), free_port()
        # DLP down and bypass on: every message goes straight to the Maildir.
        text = gateway_yaml(os.path.join(cls.workdir, "data"), port, resubmit,
                            [f"127.0.0.1:{free_port()}"])
        traced = StracedCordon(text, cls.workdir, (port, resubmit)).start()
        cls.accepted, lock = [], threading.Lock()

        def send(tag):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                s.ehlo("durable.test")
                for i in range(3):
                    s.mail("alice@example.com")
                    s.rcpt("bob@example.net")
                    body = "line\n" * (400 * (i + 1))
                    code, reply = s.data(message(f"{tag}-{i}", body=body).encode())
                    if code == 250:
                        with lock:
                            cls.accepted.append(reply.decode().rsplit(" ", 1)[1])
        try:
            send("alone")  # one at a time
            threads = [threading.Thread(target=send, args=(f"t{n}",)) for n in range(8)]
            for t in threads:  # and many finishing DATA together
                t.start()
            for t in threads:
                t.join()
        finally:
            traced.stop()
        cls.calls = parse_trace(traced.trace())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_every_250_follows_the_fsyncs_of_its_message(self):
        self.assertEqual(len(self.accepted), 27)
        checker = TraceChecker(self.calls)
        self.assertEqual(sorted(q for q, _ in checker.replies()), sorted(self.accepted),
                         "every 250 the clients got is found in the trace")
        self.assertEqual(checker.all_problems(), {})

    def test_the_checker_sees_each_missing_fsync(self):
        # Take out, one kind at a time, every fsync the check relies on:
        # each removal must be reported for every message.
        self.assertTrue(TraceChecker(self.calls).replies())
        kinds = {
            "content": lambda p: p.endswith("/content"),
            "envelope": lambda p: "/envelope.json" in p,
            "message directory": lambda p: re.search(r"/queue/[a-z]+/[0-9A-Z]{16}$", p),
            "incoming/": lambda p: p.endswith("/queue/incoming"),
        }
        for label, drop in kinds.items():
            kept = [c for c in self.calls
                    if not (c["name"] in ("fsync", "fdatasync") and drop(fd_path(c["args"])))]
            found = TraceChecker(kept)
            for qid, index in found.replies():
                problems = found.problems(qid, index)
                self.assertTrue(any(p.startswith(label) for p in problems),
                                f"dropping the {label} fsync goes unnoticed for {qid}: {problems}")

    def test_reused_directories_were_durably_removed_first(self):
        # Messages delivered one after another reuse the directories of the
        # ones delivered before them; the check must see a missing fsync of
        # active/ between a directory's removal and its reuse.
        reused = [q for q, _ in TraceChecker(self.calls).replies()
                  if any(c["name"] == "renameat2" and c["result"] == 0
                         and re.search(r"\.spare-.*/queue/staging/" + q + '"', c["args"])
                         for c in self.calls)]
        self.assertGreater(len(reused), 0, "no directory was reused")
        kept = [c for c in self.calls
                if not (c["name"] in ("fsync", "fdatasync")
                        and fd_path(c["args"]).endswith("/queue/active"))]
        found = TraceChecker(kept)
        for qid, index in found.replies():
            if qid in reused:
                self.assertIn("reused directory: no fsync of active/ between its removal and "
                              "its reuse", found.problems(qid, index), qid)

    def test_a_250_before_the_fsync_completes_is_seen(self):
        # The same trace with one message's reply moved before the first
        # fsync of incoming/ completed.
        checker = TraceChecker(self.calls)
        qid, index = checker.replies()[0]
        moved = dict(self.calls[index])
        first_sync = min(c["end"] for c in self.calls if c["name"] == "fsync"
                         and fd_path(c["args"]).endswith("/queue/incoming"))
        moved["start"] = moved["end"] = first_sync - 0.5
        calls = sorted(self.calls[:index] + self.calls[index + 1:] + [moved],
                       key=lambda c: c["start"])
        found = TraceChecker(calls)
        index = next(i for q, i in found.replies() if q == qid)
        self.assertNotEqual(found.problems(qid, index), [])


@unittest.skipUnless(shutil.which("strace"), "strace is not installed")
class InspectedCopyDurability(unittest.TestCase):
    """Reflect mode: the 250 the gateway gives DLP for an inspected copy kept
    in its original's entry follows the fsync of that copy's file and of the
    entry's directory."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="cordon-durable-copy-")
        os.chmod(cls.workdir, 0o755)
        data = os.path.join(cls.workdir, "data")
        port, resubmit, dlp_port = free_port(), free_port(), free_port()
        cls.dlp = FakeDlp(dlp_port, reflect_port=resubmit, stamp_dir=data)
        text = gateway_yaml(data, port, resubmit, [f"127.0.0.1:{dlp_port}"], session_timeout="20s")
        traced = StracedCordon(text, cls.workdir, (port, resubmit)).start()
        maildir = os.path.join(data, "maildir", "new")

        def send(tag):
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
                for i in range(2):
                    s.sendmail("alice@example.com", ["bob@example.net"],
                               message(f"{tag}-{i}").encode())
        try:
            threads = [threading.Thread(target=send, args=(f"c{n}",)) for n in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wait_until(lambda: os.path.isdir(maildir) and len(os.listdir(maildir)) == 6,
                       timeout=60, what="six messages in the Maildir")
        finally:
            traced.stop()
            cls.dlp.stop()
        cls.calls = parse_trace(traced.trace())
        with open(traced.log_path, errors="replace") as f:
            cls.log = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_the_250_for_a_copy_kept_in_place_follows_its_fsyncs(self):
        kept = re.findall(r"queue ([0-9A-Z]{16}): inspected copy of queue \1 kept in its entry",
                          self.log)
        self.assertEqual(len(kept), 6, self.log[-2000:])
        checker = TraceChecker(self.calls)
        replies = [q for q, _ in checker.replies()]
        for qid in kept:
            self.assertEqual(replies.count(qid), 2, f"{qid}: the client's 250 and DLP's")
        self.assertEqual(checker.all_problems(), {})
        # And the check sees a missing fsync of the copy's file.
        kept_calls = [c for c in self.calls
                      if not (c["name"] in ("fsync", "fdatasync")
                              and "/inspected.json" in fd_path(c["args"]))]
        found = TraceChecker(kept_calls)
        missing = found.all_problems()
        self.assertEqual(sorted(missing), sorted(kept))
        for qid, problems in missing.items():
            self.assertTrue(any(p.startswith("inspected copy") for p in problems), problems)


if __name__ == "__main__":
    unittest.main()
