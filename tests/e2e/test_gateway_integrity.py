"""Queue integrity in a running gateway: a queue entry damaged while the
gateway runs is quarantined once (queue/corrupt/, one log line, counted in
cordon_queue_quarantined_total, listed by `cordon queue list` as "corrupt")
and its damaged content is never delivered; and a full disk never strands a
message in queue/active/: it goes back to deferred/, `cordon queue flush`
acts on it, and its envelope is saved when space returns, without a
restart.

The full disk is the gateway process's own: its RLIMIT_FSIZE soft limit is
set to 0 with prlimit(2) while it runs (cordon ignores SIGXFSZ), so every
write to a regular file fails with EFBIG, which cordon treats as ENOSPC, and
renames still work, as on a full disk; raising the limit again is "space
returns". This needs no privilege (a small tmpfs would need mount rights CI
may not have). The gateway's log goes through a pipe here, since its log
file could not grow under the limit either."""

import json
import os
import re
import resource
import subprocess
import threading
import time
import unittest
import urllib.request

from gateway_case import GatewayCase, gateway_yaml, message
from peers import Cordon, cordon_bin, free_port, wait_for_port


class PipedCordon(Cordon):
    """Cordon whose output reaches its log file through this process."""

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([cordon_bin(), "run", "--config", self.config_path],
                                     cwd=self.workdir, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.copier = threading.Thread(target=self._copy, daemon=True)
        self.copier.start()
        for p in self.ports:
            wait_for_port(p, proc=self.proc)
        return self

    def _copy(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        if getattr(self, "copier", None):
            self.copier.join(timeout=10)
            self.proc.stdout.close()
        super().stop()


class QueueIntegrity(GatewayCase):

    def start(self, bypass, schedule="[1h]", piped=False):
        self.console_port = getattr(self, "console_port", None) or free_port()
        closed = f"127.0.0.1:{free_port()}"  # DLP unreachable: bypass, or fail closed
        text = gateway_yaml(self.data_dir, self.port, self.resubmit_port, [closed],
                            bypass=bypass, schedule=schedule)
        text += f"console:\n  listen: 127.0.0.1:{self.console_port}\n"
        kind = PipedCordon if piped else Cordon
        self.cordon = kind(text, self.workdir,
                           ports=(self.port, self.resubmit_port, self.console_port)).start()

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.console_port}/metrics",
                                    timeout=10) as r:
            return r.read().decode()

    def entry(self, state, qid):
        return os.path.join(self.data_dir, "queue", state, qid)

    def test_damaged_entries_are_quarantined_once_and_never_delivered(self):
        # Fail closed with DLP down: the messages wait in deferred/ for an hour.
        self.start(bypass=False)
        altered = self.send(message("altered", body="Amount: 100 EUR\n"))
        unreadable = self.send(message("unreadable"))
        for qid in (altered, unreadable):
            self.wait_queued(qid, lambda m: m["state"] == "deferred", f"{qid} deferred")
        self.cordon.stop()

        # Damage both while the gateway is down: the same size, so start-up
        # recovery (which checks sizes) lets them through to the running queue.
        path = os.path.join(self.entry("deferred", altered), "content")
        with open(path, "rb") as f:
            content = f.read()
        with open(path, "wb") as f:
            f.write(content.replace(b"100 EUR", b"900 EUR"))
        with open(os.path.join(self.entry("deferred", unreadable), "envelope.json"), "w") as f:
            f.write("{ not an envelope")

        # Now bypass would deliver whatever it reads straight into the Maildir.
        self.start(bypass=True)
        r = self.cordon.run("queue", "flush")
        self.assertEqual(r.returncode, 0, r.stderr)

        def corrupt(qid):
            return lambda: (self.queued(qid) or {}).get("state") == "corrupt"
        self.wait(corrupt(altered), f"{altered} quarantined")
        self.wait(corrupt(unreadable), f"{unreadable} quarantined")
        time.sleep(2.5)  # a few more scans: none may log or count them again

        self.assertEqual(self.maildir_files(), [], "damaged content was delivered")
        log = self.log()
        self.assertEqual(len(re.findall(rf"queue {altered}: quarantined .*\(checksum\)", log)), 1,
                         log[-3000:])
        self.assertEqual(len(re.findall(rf"queue {unreadable}: quarantined .*\(envelope\)", log)),
                         1, log[-3000:])
        self.assertNotIn(f"queue {unreadable}: unreadable", log)
        metrics = self.metrics()
        self.assertIn('cordon_queue_quarantined_total{reason="checksum"} 1', metrics)
        self.assertIn('cordon_queue_quarantined_total{reason="envelope"} 1', metrics)

        listed = {m["id"]: m for m in self.queue()}
        self.assertEqual(listed[altered]["quarantine"]["reason"], "checksum")
        self.assertEqual(listed[altered]["sender"], "alice@example.com")
        self.assertEqual(listed[unreadable]["quarantine"]["reason"], "envelope")
        self.assertTrue(os.path.isdir(os.path.join(self.data_dir, "queue", "corrupt", altered)))

    def test_a_full_disk_strands_nothing_in_active_and_flush_acts_on_it(self):
        self.start(bypass=False, piped=True)
        qid = self.send(message("full disk"))
        self.wait_queued(qid, lambda m: m["state"] == "deferred" and m["attempts"] == 1,
                         "the first attempt deferred")

        pid = self.cordon.proc.pid
        soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, hard))  # the disk is full
        try:
            r = self.cordon.run("queue", "flush")  # this process has space: the flush is saved
            self.assertIn("flushed 1 message", r.stdout)
            self.wait(lambda: "cannot save its envelope" in self.log(),
                      "the second attempt's envelope to fail to save")
            # Back in deferred/ (the old envelope on disk), not stranded in active/.
            self.wait_queued(qid, lambda m: m["state"] == "deferred", "back in deferred")
            self.assertFalse(os.path.exists(self.entry("active", qid)))
            self.assertEqual(self.queued(qid)["attempts"], 1)

            # The operator's flush acts on it: another attempt, from the kept envelope.
            r = self.cordon.run("queue", "flush")
            self.assertIn("flushed 1 message", r.stdout)
            self.wait(lambda: self.log().count(f"queue {qid}: deferred until") >= 3,
                      "a third attempt")
            self.wait_queued(qid, lambda m: m["state"] == "deferred", "back in deferred again")
            time.sleep(1.5)  # scans retry the save quietly
            self.assertEqual(self.log().count(f"queue {qid}: cannot save its envelope"), 1)
            self.assertIn("cordon_queue_unsaved_envelopes 1", self.metrics())
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))  # space returns

        m = self.wait_queued(qid, lambda m: m["attempts"] == 3, "the kept envelope saved")
        self.assertEqual(m["state"], "deferred")
        self.assertEqual(self.events(m).count("dlp-deferred"), 3)
        self.assertIn(f"queue {qid}: envelope saved", self.log())
        self.wait(lambda: "cordon_queue_unsaved_envelopes 0" in self.metrics(),
                  "no envelope kept any more")
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "queue", "active")), [])


if __name__ == "__main__":
    unittest.main()
