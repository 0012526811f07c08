"""SIGHUP reload of cordon prevent: a changed policy applies to new sessions
at once, an open session is not dropped and finishes under the snapshot it
began with, and a broken configuration is refused while the old one stays
in force."""

import smtplib
import unittest

import peers
from prevent_support import PreventFixture, make_message

MODIFY_NEPTUNE = """  - name: Neptune
    match:
      any:
        - keywords: [project neptune]
    respond:
      - modify: {subject_prefix: "[DLP] "}
"""

BLOCK_NEPTUNE = """  - name: Neptune
    match:
      any:
        - keywords: [project neptune]
    respond:
      - block: "Project Neptune is confidential."
"""


class PreventReloadTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(MODIFY_NEPTUNE)
        self.addCleanup(self.f.stop)

    def reload(self, expect):
        before = self.f.cordon.output().count(expect)
        self.f.cordon.reload()
        peers.wait_until(lambda: self.f.cordon.output().count(expect) > before, timeout=10,
                         what=f"'{expect}' in cordon's log")

    def test_open_session_survives_reload_and_new_sessions_use_the_new_policy(self):
        old = smtplib.SMTP("127.0.0.1", self.f.port, timeout=30)
        self.addCleanup(old.close)
        old.ehlo()

        self.f.rewrite_config(BLOCK_NEPTUNE)
        self.reload("configuration reloaded")

        # The session opened before the reload is still served, under the
        # policy it began with (modify, not block).
        old.sendmail("alice@corp.test", ["bob@ext.test"],
                     make_message("old session", "about project neptune"))
        [m] = peers.wait_until(self.f.delivered, timeout=10, what="delivery")
        self.assertEqual(m["Subject"], "[DLP] old session")
        self.assertEqual(old.noop()[0], 250)

        with self.assertRaises(smtplib.SMTPDataError) as ctx:
            self.f.send(make_message("new session", "about project neptune"))
        self.assertEqual(ctx.exception.smtp_code, 550)
        self.assertIn(b"Project Neptune is confidential.", ctx.exception.smtp_error)

    def test_broken_configuration_is_refused_and_the_old_one_stays(self):
        with open(self.f.cordon.config_path, "a") as f:
            f.write("  - name: Broken\n    match: {any: [{regex: '(unclosed'}]}\n")
        self.reload("reload refused")
        self.f.send(make_message("still", "about project neptune"))
        [m] = peers.wait_until(self.f.delivered, timeout=10, what="delivery")
        self.assertEqual(m["Subject"], "[DLP] still")


if __name__ == "__main__":
    unittest.main()
