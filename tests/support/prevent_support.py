"""Shared set-up for the prevent role's end-to-end tests: a cordon process
running only the prevent role in forward mode to an smtp-sink, and the
policy texts the tests configure."""

import email
import hashlib
import json
import os
import shutil
import smtplib
import socket
import tempfile

import peers

CARD = "4111 1111 1111 1111"

# 270 characters: long enough that eight of them cannot fit in one reply.
def long_text(i):
    head = f"Policy {i}: this message was blocked because it matched rule number {i}. "
    return (head + "x" * 270)[:270]


EIGHT_KEYWORDS = [f"secretword{i}" for i in range(8)]


def eight_block_policies():
    out = []
    for i, word in enumerate(EIGHT_KEYWORDS):
        out.append(f"""  - name: Block policy {i}
    severity: high
    match:
      any:
        - keywords: [{word}]
    respond:
      - block: "{long_text(i)}"
""")
    return "".join(out)


STANDARD_POLICIES = """  - name: Cards
    severity: high
    match:
      any:
        - identifier: credit_card
    respond:
      - block: "Your message contains a payment card number."
  - name: Neptune
    severity: medium
    match:
      any:
        - keywords: [project neptune]
    respond:
      - modify: {subject_prefix: "[DLP] ", add_header: "X-DLP-Policy: neptune"}
  - name: Quarantine
    severity: medium
    match:
      any:
        - keywords: [quarantineme]
    respond:
      - redirect: quarantine@example.com
"""

# The milter puts a message it holds in the MTA's hold queue (prevent
# refuses it like a block).
HOLD_POLICY = """  - name: Hold for review
    severity: medium
    match:
      any:
        - keywords: [holdme]
    respond:
      - hold: "Review by the DLP team"
"""


def prevent_config(data_dir, port, next_hop_port, policies, filters=None, extra_prevent="",
                   incidents="sqlite"):
    text = f"""data_dir: {data_dir}
incidents: {incidents}
prevent:
  listen: 127.0.0.1:{port}
  mode: forward
  next_hop: 127.0.0.1:{next_hop_port}
{extra_prevent}"""
    if filters:
        text += f"""  filters: {{sender: "{filters[0]}", recipient: "{filters[1]}"}}\n"""
    text += "policies:\n" + policies
    return text


def make_message(subject, body, sender="alice@corp.test", to="bob@ext.test", extra=""):
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{message_id(subject, body)}@corp.test>\r\n{extra}\r\n{body}\r\n")


def message_id(*parts):
    """Stable, and letters only: a run of digits in a header could look like
    a card number to the detectors."""
    digest = hashlib.sha1(repr(parts).encode()).hexdigest()
    return digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def raw_transaction(port, sender, recipients, message):
    """One SMTP transaction over a plain socket; returns the raw bytes of
    the reply to the end of data, exactly as they came off the wire."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")

        def reply():
            data = b""
            while True:
                line = f.readline()
                if not line:
                    raise ConnectionError("connection closed")
                data += line
                if line[3:4] == b" ":
                    return data

        reply()
        for cmd in [b"EHLO test.example", f"MAIL FROM:<{sender}>".encode()] + \
                [f"RCPT TO:<{r}>".encode() for r in recipients] + [b"DATA"]:
            s.sendall(cmd + b"\r\n")
            reply()
        s.sendall(message.encode() + b".\r\n")
        final = reply()
        s.sendall(b"QUIT\r\n")
        return final


class PreventFixture:
    """cordon prevent (forward mode) in front of an smtp-sink that dumps."""

    def __init__(self, policies, filters=None, start_sink=True, extra_prevent="", env=None,
                 console=False, incidents="sqlite"):
        """env: extra environment of the cordon process; console: also run
        the console role (for /metrics) on self.console_port; incidents:
        the `incidents:` setting (a postgresql:// URL for a shared store)."""
        self.dir = tempfile.mkdtemp(prefix="cordon-prevent-")
        os.chmod(self.dir, 0o755)
        self.port = peers.free_port()
        self.sink_port = peers.free_port()
        self.dump = os.path.join(self.dir, "dump")
        self.data_dir = os.path.join(self.dir, "data")
        self.console_port = peers.free_port() if console else None
        self.incidents_setting = incidents
        text = prevent_config(self.data_dir, self.port, self.sink_port, policies, filters,
                              extra_prevent, incidents)
        if console:
            text = f"console:\n  listen: 127.0.0.1:{self.console_port}\n" + text
        ports = [self.port] + ([self.console_port] if console else [])
        self.cordon = peers.Cordon(text, self.dir, ports=ports, env=env)
        self.sink = None
        if start_sink:
            self.start_sink()
        self.cordon.start()

    def start_sink(self, extra_args=()):
        self.sink = peers.SmtpSink(self.sink_port, dump_dir=self.dump, extra_args=extra_args)

    def rewrite_config(self, policies, filters=None):
        with open(self.cordon.config_path, "w") as f:
            f.write(prevent_config(self.data_dir, self.port, self.sink_port, policies, filters,
                                   incidents=self.incidents_setting))

    def delivered(self):
        """Messages in the sink, parsed (smtp-sink prepends X-Rcpt-Args etc.)."""
        return [email.message_from_bytes(m) for m in (self.sink.messages() if self.sink else [])]

    def incidents(self):
        r = self.cordon.run("incidents", "--format", "json")
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        return json.loads(r.stdout)

    def deployment_id(self):
        with open(os.path.join(self.data_dir, "deployment-id")) as f:
            return f.read().strip()

    def send(self, message, sender="alice@corp.test", recipients=("bob@ext.test",)):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as c:
            return c.sendmail(sender, list(recipients), message)

    def stop(self):
        # SIGKILL: a graceful stop waits out the runtime's 5 s grace period,
        # and nothing here depends on it (incidents are committed per message).
        self.cordon.kill()
        self.cordon.stop()
        if self.sink:
            self.sink.stop()
            self.sink.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
