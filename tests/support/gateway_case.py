"""Shared set-up for the gateway's end-to-end tests: a cordon running only
the gateway in a temporary data directory, helpers to send mail, read the
queue (`cordon queue list --format json`) and the Maildir."""

import email
import email.policy
import json
import os
import shutil
import smtplib
import tempfile
import urllib.request
import unittest

from peers import Cordon, free_port, wait_until


def gateway_yaml(data_dir, port, resubmit_port, dlp_hosts, deliver="maildir", extra_gateway="",
                 connect_timeout="1s", session_timeout="2s", tls="none", bypass=True,
                 schedule="[1s]", max_lifetime="1h", relay_networks="[127.0.0.0/8]"):
    hosts = ", ".join(dlp_hosts)
    return f"""data_dir: {data_dir}
gateway:
  listen: 127.0.0.1:{port}
  resubmit_listen: 127.0.0.1:{resubmit_port}
  relay_networks: {relay_networks}
  hostname: gw.test
  dlp:
    hosts: [{hosts}]
    connect_timeout: {connect_timeout}
    session_timeout: {session_timeout}
    tls: {tls}
    bypass: {"true" if bypass else "false"}
  deliver: {deliver}
  retry: {{schedule: {schedule}, max_lifetime: {max_lifetime}}}
{extra_gateway}"""


def message(subject="hello", body="A clean message.\n", sender="alice@example.com",
            to="bob@example.net", message_id=None):
    mid = message_id or f"<{subject.replace(' ', '-')}@example.com>"
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n\r\n"
            + body.replace("\n", "\r\n"))


class GatewayCase(unittest.TestCase):
    """Each test starts its own gateway with `self.start_gateway(...)`."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="cordon-gw-")
        os.chmod(self.workdir, 0o755)  # smtp-sink writes its dump directory as nobody
        self.data_dir = os.path.join(self.workdir, "data")
        self.port = free_port()
        self.resubmit_port = free_port()
        self.cordon = None
        self.cleanups = []

    def tearDown(self):
        for c in reversed(self.cleanups):
            c()
        if self.cordon:
            self.cordon.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start_gateway(self, dlp_hosts, console=False, **kwargs):
        """console: also run the console (for metrics())."""
        text = gateway_yaml(self.data_dir, self.port, self.resubmit_port, dlp_hosts, **kwargs)
        ports = [self.port, self.resubmit_port]
        if console:
            self.console_port = free_port()
            text += f"console:\n  listen: 127.0.0.1:{self.console_port}\n"
            ports.append(self.console_port)
        self.cordon = Cordon(text, self.workdir, ports=tuple(ports)).start()
        return self.cordon

    def metrics(self):
        """The console's /metrics text (start_gateway(console=True))."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.console_port}/metrics",
                                    timeout=10) as r:
            return r.read().decode()

    def send(self, content=None, sender="alice@example.com", rcpts=("bob@example.net",),
             port=None, source=None):
        """Sends one message; returns the queue id from the 250 reply."""
        content = content or message()
        with smtplib.SMTP("127.0.0.1", port or self.port, timeout=30,
                          source_address=(source, 0) if source else None) as s:
            s.ehlo("client.test")
            s.mail(sender)
            for r in rcpts:
                code, text = s.rcpt(r)
                if code >= 400:
                    raise smtplib.SMTPRecipientsRefused({r: (code, text)})
            code, text = s.data(content.encode())
            self.assertEqual(code, 250, text)
            text = text.decode()
            self.assertRegex(text, r"^2\.0\.0 Ok: queued as [0-9A-Z]{16}$")
            return text.rsplit(" ", 1)[1]

    def queue(self):
        r = self.cordon.run("queue", "list", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def queued(self, qid):
        return next((m for m in self.queue() if m["id"] == qid), None)

    def wait(self, predicate, what, timeout=20):
        """wait_until, failing with the queue and the end of cordon's log."""
        try:
            return wait_until(predicate, timeout=timeout, what=what)
        except TimeoutError:
            self.fail(f"timed out waiting for {what}\nqueue: {self.queue()}\n"
                      f"log:\n{self.log()[-3000:]}")

    def wait_queued(self, qid, predicate, what, timeout=20):
        def check():
            m = self.queued(qid)
            return m if m and predicate(m) else None
        return self.wait(check, what, timeout)

    def wait_gone(self, qid, timeout=20):
        self.wait(lambda: self.queued(qid) is None, f"{qid} to leave the queue", timeout)

    def maildir_files(self):
        new = os.path.join(self.data_dir, "maildir", "new")
        if not os.path.isdir(new):
            return []
        return sorted(os.path.join(new, n) for n in os.listdir(new))

    def maildir_messages(self):
        out = []
        for path in self.maildir_files():
            with open(path, "rb") as f:
                out.append(email.message_from_bytes(f.read(), policy=email.policy.default))
        return out

    def wait_maildir(self, count, timeout=20):
        self.wait(lambda: len(self.maildir_files()) >= count, f"{count} message(s) in the maildir",
                  timeout)
        return self.maildir_messages()

    def events(self, m):
        return [t["event"] for t in m["trace"]]

    def log(self):
        return self.cordon.output()
