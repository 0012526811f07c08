"""Clean mail written by real mailer code must pass the built-in policy pack.

Generated values in a message's structure -- the boundary Python's `email`
package writes ("===============<19 digits>=="), the 64-bit random number
in its Message-IDs, DKIM and ARC hashes, Received ids, the boundaries and
queue ids of Postfix delivery reports -- are sometimes Luhn-valid numbers
with a card prefix. cordon must not read them as data: this test writes a
few thousand clean messages with Python's `email` (both its modern
EmailMessage API and the legacy email.mime classes), swaks and Postfix-style
delivery status notifications, scans them all with one `cordon scan` and
asserts that not one of them fires a policy. It also checks that the corpus
really holds card-shaped structure values (else it would prove nothing),
and that one of those values in a body is still found (the scan works).

Environment: CORDON_BIN (the cordon binary), CLEAN_MAIL_SEED (default
fixed), CLEAN_MAIL_COUNT (Python messages, default 2000).
"""

import base64
import email.generator
import email.policy
import email.utils
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_support import card_shaped, scan  # noqa: E402

SEED = int(os.environ.get("CLEAN_MAIL_SEED", "20261202"))
COUNT = int(os.environ.get("CLEAN_MAIL_COUNT", "2000"))
HERE = os.path.dirname(os.path.abspath(__file__))

WORDS = ("quarterly report meeting agenda budget review draft minutes project "
         "timeline invoice delivery schedule update notes lunch thanks regards "
         "please find attached see below tomorrow friday office team plan offer "
         "customer order shipped tracking holiday travel hotel room booking").split()
NAMES = ["Ann Smith", "Bob Jones", "Chloé Durand", "Dieter Müller", "Eve O'Neil",
         "Fatima Zahra", "Gao Wei", "Hana Nováková"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "corp.example"]


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def address(rng):
    name = rng.choice(NAMES)
    local = name.split()[0].lower().encode("ascii", "ignore").decode() or "user"
    return email.utils.formataddr((name, "%s@%s" % (local, rng.choice(DOMAINS))))


def b64(rng, n):
    return base64.b64encode(rng.randbytes(n)).decode()


def trace_headers(rng):
    """What the mail path prepends: Received, DKIM, ARC, authentication
    results (as raw text, the way an MTA adds them)."""
    when = email.utils.formatdate(rng.randint(1500000000, 1800000000))
    lines = []
    for _ in range(rng.randint(1, 3)):
        lines.append(
            "Received: from mx%d.%s (mx%d.%s [192.0.2.%d])\r\n\tby smtp.%s with ESMTPS id %s\r\n"
            "\tfor <x@example.com>; %s" % (
                rng.randint(1, 9), rng.choice(DOMAINS), rng.randint(1, 9), rng.choice(DOMAINS),
                rng.randint(1, 254), rng.choice(DOMAINS),
                "%d" % rng.getrandbits(64) if rng.random() < 0.5 else b64(rng, 9), when))
    lines.append("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=s%d;\r\n"
                 "\tt=%d; bh=%s;\r\n\th=From:To:Subject:Date; b=%s" % (
                     rng.choice(DOMAINS), rng.getrandbits(64), rng.randint(1500000000, 1800000000),
                     b64(rng, 32), b64(rng, 128)))
    lines.append("ARC-Seal: i=1; a=rsa-sha256; t=%d; cv=none; d=%s; s=arc-%d;\r\n\tb=%s" % (
        rng.randint(1500000000, 1800000000), rng.choice(DOMAINS), rng.getrandbits(64), b64(rng, 64)))
    lines.append("Authentication-Results: mx.%s; dkim=pass header.i=@%s header.s=%d" % (
        rng.choice(DOMAINS), rng.choice(DOMAINS), rng.getrandbits(64)))
    lines.append("X-Google-Smtp-Source: %s" % b64(rng, 48))
    lines.append("X-Received: by 2002:a05:%x with SMTP id %d;\r\n\t%s" % (
        rng.getrandbits(16), rng.getrandbits(64), when))
    return ("\r\n".join(lines) + "\r\n").encode()


def common_headers(rng, msg, refs):
    msg["From"] = address(rng)
    msg["To"] = ", ".join(address(rng) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.3:
        msg["Cc"] = address(rng)
    msg["Subject"] = words(rng, rng.randint(2, 8)).capitalize()
    msg["Date"] = email.utils.formatdate(rng.randint(1500000000, 1800000000), localtime=False)
    msg["Message-ID"] = email.utils.make_msgid(domain=rng.choice(DOMAINS))
    if refs:
        msg["In-Reply-To"] = refs[-1]
        msg["References"] = " ".join(refs[-5:])
    msg["X-Mailer"] = "Python email %d.%d" % sys.version_info[:2]


def body_text(rng):
    lines = [words(rng, rng.randint(5, 14)) for _ in range(rng.randint(1, 12))]
    if rng.random() < 0.3:
        lines.append("Total: %d.%02d EUR, due %04d-%02d-%02d, ref %d" % (
            rng.randint(1, 9999), rng.randint(0, 99), rng.randint(2020, 2030),
            rng.randint(1, 12), rng.randint(1, 28), rng.randint(1, 99999)))
    return "\n".join(lines) + "\n"


def modern(rng, refs):
    msg = EmailMessage(policy=email.policy.SMTP)
    common_headers(rng, msg, refs)
    text = body_text(rng)
    msg.set_content(text)
    if rng.random() < 0.5:
        msg.add_alternative("<html><body><p>%s</p></body></html>" % text.replace("\n", "<br>"),
                            subtype="html")
    for _ in range(rng.choice((0, 0, 1, 2))):
        data = rng.randbytes(rng.randint(50, 2000))
        msg.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename="%s-%d.bin" % (rng.choice(WORDS), rng.randint(1, 99)))
    if rng.random() < 0.1:
        inner = EmailMessage(policy=email.policy.SMTP)
        common_headers(rng, inner, [])
        inner.set_content(body_text(rng))
        msg.add_attachment(inner)
    return msg


def legacy(rng, refs):
    msg = MIMEMultipart(rng.choice(("mixed", "alternative", "related")))
    common_headers(rng, msg, refs)
    msg.attach(MIMEText(body_text(rng), "plain", rng.choice(("utf-8", "us-ascii"))))
    if rng.random() < 0.5:
        msg.attach(MIMEText("<p>%s</p>" % words(rng, 12), "html"))
    if rng.random() < 0.4:
        part = MIMEApplication(rng.randbytes(300), Name="data.bin")
        part["Content-Disposition"] = 'attachment; filename="data.bin"'
        msg.attach(part)
    return msg


def postfix_dsn(rng, original):
    """A delivery status notification shaped as Postfix's bounce(8) writes it."""
    queue_id = "".join(rng.choice("0123456789ABCDEF") for _ in range(10))
    when = rng.randint(1500000000, 1800000000)
    host = "mx.%s" % rng.choice(DOMAINS)
    boundary = "%s.%d/%s" % (queue_id, when, host)
    rcpt = "user%d@%s" % (rng.randint(1, 999), rng.choice(DOMAINS))
    headers = original.split("\n\n", 1)[0]
    text = (
        "Return-Path: <>\n"
        "Received: by %s (Postfix)\n\tid %s; %s\n"
        "Date: %s\nFrom: MAILER-DAEMON@%s (Mail Delivery System)\n"
        "Subject: Undelivered Mail Returned to Sender\nTo: sender@example.com\n"
        "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status;\n"
        "\tboundary=\"%s\"\nContent-Transfer-Encoding: 8bit\n"
        "Message-Id: <%s%s@%s>\n\n"
        "This is a MIME-encapsulated message.\n\n--%s\n"
        "Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
        "This is the mail system at host %s.\n\nI'm sorry to have to inform you that your "
        "message could not\nbe delivered to one or more recipients. It's attached below.\n\n"
        "<%s>: host %s[192.0.2.%d] said: 550 5.1.1 <%s>:\n    Recipient address rejected: "
        "User unknown in virtual mailbox table (in\n    reply to RCPT TO command)\n\n--%s\n"
        "Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; %s\nX-Postfix-Queue-ID: %s\nX-Postfix-Sender: rfc822; "
        "sender@example.com\nArrival-Date: %s\n\nFinal-Recipient: rfc822; %s\n"
        "Original-Recipient: rfc822;%s\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; %s\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown\n\n"
        "--%s\nContent-Description: Undelivered Message Headers\n"
        "Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: 8bit\n\n%s\n\n--%s--\n"
    ) % (host, queue_id, email.utils.formatdate(when), email.utils.formatdate(when), host,
         boundary, email.utils.formatdate(when)[:0] + "%d" % when, queue_id, host, boundary,
         host, rcpt, host, rng.randint(1, 254), rcpt, boundary, host, queue_id,
         email.utils.formatdate(when), rcpt, rcpt, host, rcpt, boundary, headers, boundary)
    return text


def swaks_messages(directory, count):
    """Messages as swaks writes them, received by a sink on its pipe."""
    swaks = shutil.which("swaks")
    if not swaks:
        raise AssertionError("swaks is missing (scripts/install-deps.sh installs it)")
    attachment = os.path.join(directory, "notes.txt")
    with open(attachment, "w") as f:
        f.write("meeting notes\n")
    files = []
    for i in range(count):
        path = os.path.join(directory, "swaks-%d.eml" % i)
        args = [swaks, "--pipe", "%s %s %s" % (sys.executable, os.path.join(HERE, "smtp_sink.py"),
                                               path),
                "--to", "rcpt%d@example.com" % i, "--from", "sender@example.org",
                "--header", "X-Run: %d" % i]
        if i % 2:
            args += ["--attach", attachment]
        subprocess.run(args, capture_output=True, timeout=60, check=True)
        files.append(path)
    return files


class CleanMailPasses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        cls.tmp = tempfile.TemporaryDirectory(prefix="cordon-clean-mail-", dir=shm)
        rng = random.Random(SEED)
        random.seed(SEED)  # email.generator draws boundaries from the global generator
        cls.files = []
        cls.structure_numbers = []
        refs = []
        for i in range(COUNT):
            msg = (legacy if i % 3 else modern)(rng, refs)
            refs.append(msg["Message-ID"])
            raw = msg.as_bytes(policy=email.policy.compat32 if i % 3 else email.policy.SMTP)
            if rng.random() < 0.5:
                raw = trace_headers(rng) + raw
            cls.structure_numbers += re.findall(rb"=(\d{19})==", raw)
            cls.structure_numbers += re.findall(rb"<\d+\.\d+\.(\d+)@", raw)
            path = os.path.join(cls.tmp.name, "py-%05d.eml" % i)
            with open(path, "wb") as f:
                f.write(raw)
            cls.files.append(path)
            if i % 10 == 0:
                dsn = postfix_dsn(rng, raw.decode("utf-8", "replace").replace("\r\n", "\n"))
                path = os.path.join(cls.tmp.name, "dsn-%05d.eml" % i)
                with open(path, "w") as f:
                    f.write(dsn)
                cls.files.append(path)
        cls.files += swaks_messages(cls.tmp.name, 4)
        cls.card_shaped = sorted({n.decode() for n in cls.structure_numbers
                                  if card_shaped(n.decode())})
        # Control: the card-shaped structure values written in a body are
        # found, so the corpus does hold values that would read as cards.
        cls.control = os.path.join(cls.tmp.name, "control.eml")
        with open(cls.control, "w") as f:
            f.write("Subject: control\n\n%s\n" % "\n".join(cls.card_shaped))
        cls.rows = scan(cls.files + [cls.control])

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_corpus_holds_values_that_read_as_cards(self):
        row = self.rows[self.control]
        self.assertEqual(row["verdict"], "block", row)
        found = sum(m["count"] for p in row["policies"] for m in p["matches"])
        print("card-shaped structure values: %d, found as cards in a body: %d" % (
            len(self.card_shaped), found), file=sys.stderr)
        self.assertGreaterEqual(found, 5, "the generated boundaries and Message-IDs should "
                                "include numbers cordon reads as cards")

    def test_no_clean_message_fires_a_policy(self):
        fired = [(f, [p["name"] for p in self.rows[f]["policies"]])
                 for f in self.files if self.rows[f]["verdict"] != "pass"]
        print("clean messages: %d (Python email %d, DSN %d, swaks %d); card-shaped structure "
              "values: %d; fired: %d" % (
                  len(self.files), COUNT, sum("dsn-" in f for f in self.files),
                  sum("swaks-" in f for f in self.files), len(self.card_shaped), len(fired)),
              file=sys.stderr)
        self.assertEqual(fired, [], "clean messages fired policies (first 5): %s" % fired[:5])


if __name__ == "__main__":
    unittest.main()
