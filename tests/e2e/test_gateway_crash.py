"""Crash consistency: clients send messages while the gateway is killed
with SIGKILL; after a restart every message that got a 250 is delivered
(at least once). Duplicates are possible by design (a crash between the
Maildir rename and the queue removal) and are reported, not failed."""

import collections
import os
import re
import smtplib
import threading
import time
import unittest

from gateway_case import GatewayCase, message
from peers import free_port, wait_for_port


class CrashConsistency(GatewayCase):

    def test_every_accepted_message_survives_kill_9(self):
        self.kill_while_sending(clients=4)

    def test_kill_9_during_group_commits_loses_no_accepted_message(self):
        # Sixteen sessions finishing DATA all the time: the kill lands while
        # commits wait on a shared fsync of incoming/ (one runs, the next
        # batch gathers). Whoever got a 250 had their own fsync complete.
        self.kill_while_sending(clients=16, small=True)

    def kill_while_sending(self, clients, small=False):
        # DLP down: every message is bypassed straight into the Maildir, so
        # the Maildir file names carry the queue ids the clients were given.
        self.start_gateway([f"127.0.0.1:{free_port()}"])
        body = "x\n" if small else ("x" * 78 + "\n") * 25
        accepted, lock, stop = [], threading.Lock(), threading.Event()

        def client(n):
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                        s.ehlo("crash.test")
                        s.mail("alice@example.com")
                        s.rcpt("bob@example.net")
                        code, text = s.data(message(f"m{n}-{i}", body=body).encode())
                        if code == 250:
                            with lock:
                                accepted.append(text.decode().rsplit(" ", 1)[1])
                except (OSError, smtplib.SMTPException):
                    time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        self.cordon.kill()  # SIGKILL in the middle of sessions and deliveries
        killed_at = len(accepted)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(killed_at, 10, "too few messages before the kill to mean anything")

        self.cordon.start()
        self.wait(lambda: self.queue() == [], "the queue to drain after restart", timeout=60)
        delivered = collections.Counter()
        for path in self.maildir_files():
            m = re.search(r"Q([0-9A-Z]{16})R", os.path.basename(path))
            delivered[m.group(1)] += 1
        missing = [q for q in accepted if q not in delivered]
        duplicates = {q: n for q, n in delivered.items() if n > 1}
        print(f"\ncrash test: {len(accepted)} accepted, {len(delivered)} delivered, "
              f"{len(duplicates)} duplicate(s)")
        self.assertEqual(missing, [])
        self.assertLessEqual(set(delivered), set(accepted) | set(delivered))
        self.assertIn("recovered", self.log())


if __name__ == "__main__":
    unittest.main()
