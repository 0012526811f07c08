"""STARTTLS on cordon's SMTP listeners (gateway.tls_cert/tls_key and
prevent.tls_cert/tls_key): offered only when configured, swaks --tls
delivers through it, the session starts over after the handshake (RFC
3207: EHLO again, nothing pipelined in plaintext behind STARTTLS is
executed), require_tls refuses MAIL before TLS, and check-config names a
missing or unusable certificate at its file:line:col."""

import os
import shutil
import smtplib
import subprocess
import tempfile
import unittest

from gateway_case import gateway_yaml
from peers import Cordon, cordon_bin, free_port, wait_until
from prevent_support import PreventFixture, STANDARD_POLICIES, make_message
from tls_support import make_self_signed, starttls_with_injection


def swaks(port, *extra):
    return subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                           "--from", "alice@example.com", "--to", "bob@example.net",
                           "--header", "Subject: over tls", *extra],
                          capture_output=True, text=True, timeout=60)


class Gateway:
    """A gateway whose DLP host is down (bypass: delivered to its Maildir)."""

    def __init__(self, extra_gateway=""):
        self.dir = tempfile.mkdtemp(prefix="cordon-tls-")
        os.chmod(self.dir, 0o755)
        self.cert, self.key = make_self_signed(self.dir)
        self.data_dir = os.path.join(self.dir, "data")
        self.port, resubmit = free_port(), free_port()
        text = gateway_yaml(self.data_dir, self.port, resubmit, [f"127.0.0.1:{free_port()}"],
                            extra_gateway=extra_gateway.format(cert=self.cert, key=self.key))
        self.cordon = Cordon(text, self.dir, ports=(self.port, resubmit)).start()

    def maildir(self):
        new = os.path.join(self.data_dir, "maildir", "new")
        if not os.path.isdir(new):
            return []
        out = []
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                out.append(f.read().decode(errors="replace"))
        return out

    def stop(self):
        self.cordon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


TLS_KEYS = "  tls_cert: {cert}\n  tls_key: {key}\n"


class GatewayStartTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(TLS_KEYS)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_swaks_tls_delivers_and_the_received_header_says_esmtps(self):
        r = swaks(self.gw.port, "--tls", "--header", "Message-ID: <swaks-tls@example.com>")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("<-  220 2.0.0 Ready to start TLS", r.stdout)
        self.assertNotIn("<~  250-STARTTLS", r.stdout)  # not offered again inside TLS
        found = wait_until(lambda: [m for m in self.gw.maildir() if "swaks-tls@" in m],
                           what="the message in the maildir")
        self.assertRegex(found[0], r"by gw\.test \(cordon\) with ESMTPS id [0-9A-Z]{16}")

    def test_starttls_is_advertised_before_tls_only(self):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=10) as s:
            s.ehlo("client.test")
            self.assertTrue(s.has_extn("starttls"))
            s.starttls()
            s.ehlo("client.test")
            self.assertFalse(s.has_extn("starttls"))
            self.assertEqual(s.docmd("STARTTLS")[0], 503)

    def test_plaintext_pipelined_after_starttls_is_not_executed(self):
        r = starttls_with_injection(self.gw.port)
        self.assertTrue(r["starttls"].startswith("220 2.0.0"), r)
        self.assertNotIn("STARTTLS", r["ehlo_tls"])
        # The injected MAIL never happened, so RCPT is out of sequence.
        self.assertTrue(r["rcpt"].startswith("503 5.5.1"), r)
        self.assertIn("discarded 35 octets pipelined after STARTTLS", self.gw.cordon.output())

    def test_the_session_starts_over_after_tls(self):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=10) as s:
            s.ehlo("client.test")
            s.starttls()
            # No EHLO inside TLS yet: what was said before the handshake is forgotten.
            code, text = s.docmd("MAIL FROM:<alice@example.com>")
            self.assertEqual(code, 503, text)


class GatewayWithoutCertificateTest(unittest.TestCase):
    def test_starttls_is_neither_advertised_nor_accepted(self):
        gw = Gateway()
        self.addCleanup(gw.stop)
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=10) as s:
            s.ehlo("client.test")
            self.assertFalse(s.has_extn("starttls"))
            code, text = s.docmd("STARTTLS")
            self.assertEqual(code, 502, text)
        r = swaks(gw.port, "--tls")
        self.assertNotEqual(r.returncode, 0, r.stdout)


class GatewayRequireTlsTest(unittest.TestCase):
    def test_mail_before_starttls_is_refused_and_accepted_after(self):
        gw = Gateway(TLS_KEYS + "  require_tls: true\n")
        self.addCleanup(gw.stop)
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=10) as s:
            s.ehlo("client.test")
            code, text = s.mail("alice@example.com")
            self.assertEqual((code, text), (530, b"5.7.0 Must issue a STARTTLS command first"))
        r = swaks(gw.port, "--tls")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class ReflectWithRequireTlsTest(unittest.TestCase):
    def test_require_tls_is_for_clients_prevent_still_resubmits(self):
        d = tempfile.mkdtemp(prefix="cordon-tls-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        cert, key = make_self_signed(d)
        port, resubmit, prevent = free_port(), free_port(), free_port()
        text = gateway_yaml(os.path.join(d, "data"), port, resubmit, [f"127.0.0.1:{prevent}"],
                            extra_gateway=f"""  tls_cert: {cert}
  tls_key: {key}
  require_tls: true
prevent:
  listen: 127.0.0.1:{prevent}
  mode: reflect
  next_hop: 127.0.0.1:{resubmit}
""")
        cordon = Cordon(text, d, ports=(port, resubmit, prevent)).start()
        self.addCleanup(cordon.stop)
        r = swaks(port, "--tls", "--header", "Message-ID: <reflected-tls@example.com>")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        new = os.path.join(d, "data", "maildir", "new")

        def delivered():
            out = []
            for name in os.listdir(new) if os.path.isdir(new) else []:
                with open(os.path.join(new, name), "rb") as f:
                    out.append(f.read())
            return out

        [m] = wait_until(delivered, what="a message in the maildir")
        # The inspected message itself, not a DSN about a refused resubmission.
        self.assertNotIn(b"multipart/report", m)
        self.assertIn(b"X-Cordon-Inspected:", m)
        self.assertNotIn("530 5.7.0", cordon.output())


class PreventStartTlsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cordon-tls-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        cert, key = make_self_signed(self.dir)
        self.f = PreventFixture(STANDARD_POLICIES, extra_prevent=(
            f"  tls_cert: {cert}\n  tls_key: {key}\n  require_tls: true\n"))
        self.addCleanup(self.f.stop)

    def test_prevent_inspects_over_tls_and_refuses_plaintext_mail(self):
        with smtplib.SMTP("127.0.0.1", self.f.port, timeout=10) as s:
            s.ehlo("gw.test")
            self.assertTrue(s.has_extn("starttls"))
            self.assertEqual(s.mail("alice@corp.test")[0], 530)
        with smtplib.SMTP("127.0.0.1", self.f.port, timeout=30) as s:
            s.starttls()
            s.sendmail("alice@corp.test", ["bob@ext.test"], make_message("tls", "hello"))
            with self.assertRaises(smtplib.SMTPDataError) as refused:
                s.sendmail("alice@corp.test", ["bob@ext.test"],
                           make_message("card", "4111 1111 1111 1111"))
            self.assertEqual(refused.exception.smtp_code, 550)
        [m] = wait_until(self.f.delivered, what="the clean message at the next hop")
        self.assertEqual(m["Subject"], "tls")
        r = starttls_with_injection(self.f.port)
        self.assertTrue(r["rcpt"].startswith("503 5.5.1"), r)


class CheckConfigTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cordon-tls-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cert, self.key = make_self_signed(self.dir)

    def check(self, section_text):
        path = os.path.join(self.dir, "cordon.yaml")
        with open(path, "w") as f:
            f.write(f"data_dir: {self.dir}/data\n{section_text}")
        return subprocess.run([cordon_bin(), "check-config", path], capture_output=True,
                              text=True, timeout=30), path

    def test_a_valid_pair_passes(self):
        r, _ = self.check(f"gateway:\n  tls_cert: {self.cert}\n  tls_key: {self.key}\n"
                          f"prevent:\n  tls_cert: {self.cert}\n  tls_key: {self.key}\n")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_a_missing_certificate_is_named_at_its_line_and_column(self):
        missing = os.path.join(self.dir, "nope.pem")
        r, path = self.check(f"gateway:\n  tls_cert: {missing}\n  tls_key: {self.key}\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:3:13: error: gateway.tls_cert: cannot read {missing}: "
                      "No such file or directory", r.stdout + r.stderr)

    def test_a_key_that_is_no_pem_file_is_an_error(self):
        junk = os.path.join(self.dir, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a key\n")
        r, path = self.check(f"prevent:\n  tls_cert: {self.cert}\n  tls_key: {junk}\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:4:12: error: prevent.tls_key: {junk} holds no PEM data",
                      r.stdout + r.stderr)

    def test_cert_without_key_is_an_error(self):
        r, path = self.check(f"prevent:\n  tls_cert: {self.cert}\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{path}:3:13: error: prevent: tls_cert and tls_key go together",
                      r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
