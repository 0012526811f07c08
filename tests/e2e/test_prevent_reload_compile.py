"""A reload that has to compile a big policy set (20,000 keywords, seconds of
Vectorscan compile) must not stall the sessions that are open meanwhile: the
compile runs off the I/O thread, the new snapshot is swapped in once it is
ready, and the compiled database is cached for the next reload."""

import os
import random
import smtplib
import time
import unittest

import peers
from prevent_support import PreventFixture, make_message

SMALL = """  - name: Neptune
    match:
      any:
        - keywords: [project neptune]
    respond:
      - modify: {subject_prefix: "[DLP] "}
"""

MARKER = "zanzibarquokka"


def many_keywords(count=20000):
    """`count` distinct letter-only keywords (digits could look like card
    numbers) plus MARKER, in one block policy."""
    rng = random.Random(20000)
    words = {MARKER}
    while len(words) < count + 1:
        words.add("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(12)))
    return f"""  - name: Many
    match:
      any:
        - keywords: [{", ".join(sorted(words))}]
    respond:
      - block: "Many keywords matched."
"""


class PreventReloadCompileTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(SMALL)
        self.addCleanup(self.f.stop)

    def count(self, text):
        return self.f.cordon.output().count(text)

    def test_open_session_is_answered_while_the_new_policy_set_compiles(self):
        old = smtplib.SMTP("127.0.0.1", self.f.port, timeout=120)
        self.addCleanup(old.close)
        old.ehlo()

        self.f.rewrite_config(many_keywords())
        started_before = self.count("SIGHUP: reloading configuration")
        done_before = self.count("configuration reloaded")
        self.f.cordon.reload()
        peers.wait_until(lambda: self.count("SIGHUP: reloading configuration") > started_before,
                         timeout=10, what="the reload to start")
        reload_started = time.monotonic()

        # The reload is under way (the compile takes seconds): the open
        # session's next command is answered now, not after the compile.
        sent = time.monotonic()
        code = old.noop()[0]
        answered = time.monotonic()
        finished_when_answered = self.count("configuration reloaded") > done_before
        self.assertEqual(code, 250)

        peers.wait_until(lambda: self.count("configuration reloaded") > done_before,
                         timeout=300, interval=0.05, what="the reload to finish")
        reload_took = time.monotonic() - reload_started
        self.assertFalse(finished_when_answered,
                         f"NOOP answered after {answered - sent:.2f}s, only once the reload "
                         f"({reload_took:.2f}s) had finished")
        self.assertLess(answered - sent, reload_took / 2)

        # The compiled database was cached in data_dir: reloading the same
        # policies again loads it instead of compiling.
        self.assertTrue(os.listdir(os.path.join(self.f.data_dir, "detect-cache")))
        done_before = self.count("configuration reloaded")
        again_started = time.monotonic()
        self.f.cordon.reload()
        peers.wait_until(lambda: self.count("configuration reloaded") > done_before,
                         timeout=300, interval=0.05, what="the second reload to finish")
        self.assertLess(time.monotonic() - again_started, reload_took / 2)

        # The open session keeps its snapshot; a new one gets the new set.
        old.sendmail("alice@corp.test", ["bob@ext.test"],
                     make_message("old session", "about project neptune " + MARKER))
        [m] = peers.wait_until(self.f.delivered, timeout=10, what="delivery")
        self.assertEqual(m["Subject"], "[DLP] old session")
        with self.assertRaises(smtplib.SMTPDataError) as ctx:
            self.f.send(make_message("new session", "about " + MARKER))
        self.assertEqual(ctx.exception.smtp_code, 550)


if __name__ == "__main__":
    unittest.main()
