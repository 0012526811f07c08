"""Runs the console browser test: starts `cordon run` with a console,
puts incidents into its store, installs playwright-core with `npm ci`, and
runs console.test.mjs against headless Chromium. Screenshots go to
$CORDON_SCREENSHOT_DIR (CTest sets it to the build directory)."""

import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time

import peers
from console_client import console_config, db_path, generated_password, seed_incident

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "/usr/bin/chromium"
DAY = 86400

CARD = ("credit_card", "body", 3, ["4111********1111", "5500********0004", "3400*******0009"],
        ["…please charge the card 4111********1111 for the March invoice…",
         "…the second card 5500********0004 expires in May…",
         "Amex 3400*******0009 (corporate)"])
IBAN = ("iban", "attachment:payroll.xlsx", 12, ["DE89************3000", "GB29**************26"])
NEPTUNE = ("keywords", "subject", 1, ["project neptune"])
KEY = ("aws_access_key", "body", 1, ["AKIA************MPLE"])


def seed(db):
    """Two weeks of varied incidents, so the list pages and the charts have shape."""
    now = int(time.time())
    senders = ["alice@corp.example", "bob@corp.example", "carol@corp.example",
               "dave@corp.example", "erin@corp.example"]
    kinds = [
        ("PCI card numbers", "high", CARD, "block", "Q3 invoices with card details"),
        ("Payroll IBANs", "medium", IBAN, "block", "Payroll export for the bank"),
        ("Project Neptune", "low", NEPTUNE, "pass", "Project Neptune kickoff notes"),
        ("Cloud secrets", "high", KEY, "block", "deploy credentials"),
        ("Project Neptune", "info", NEPTUNE, "monitored", "Re: neptune lunch"),
    ]
    ids = []
    for n in range(36):
        name, severity, match, action, subject = kinds[(n * 7) % len(kinds)]
        ids.append(seed_incident(
            db, sender=senders[(n * 3) % len(senders)],
            recipients=[f"partner{n % 4}@partner.example"] + (["cfo@rival.example"] if n % 5 == 0 else []),
            subject=f"{subject} #{n + 1}", policies=[(name, severity, [match])], action=action,
            first_seen=now - (n * 9 + 1) * 3600, repeat_count=2 if n % 11 == 0 else 0,
            **({"headers": f"From: alice@corp.example\nSubject: {subject} #{n + 1}\n",
                "preview": "Hello Bob,\nplease charge the card 4111********1111 for the March invoice."}
               if match is CARD else {})))
    return ids


def main():
    if not os.path.exists(CHROMIUM):
        print(f"{CHROMIUM} is not installed", file=sys.stderr)
        return 1
    npm = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, capture_output=True, text=True)
    if npm.returncode != 0:
        print(npm.stdout, npm.stderr, file=sys.stderr)
        return 1
    workdir = tempfile.mkdtemp(prefix="cordon-browser-")
    port = peers.free_port()
    # A gateway whose DLP host never answers, bypass off: what it receives
    # stays queued, for the queue view; the host's breaker opens after five.
    gateway_port = peers.free_port()
    extra = """prevent:
  listen: 127.0.0.1:%d
  filters: {sender: "-*@internal.example", recipient: ""}
gateway:
  listen: 127.0.0.1:%d
  resubmit_listen: 127.0.0.1:%d
  hostname: gw.test
  dlp: {hosts: [127.0.0.1:%d], connect_timeout: 1s, bypass: false}
  deliver: maildir
  retry: {schedule: [1h], max_lifetime: 1d}
""" % (peers.free_port(), gateway_port, peers.free_port(), peers.free_port())
    cordon = peers.Cordon(console_config(port, extra), workdir, ports=[port, gateway_port]).start()
    try:
        password = generated_password(cordon)
        seed(db_path(cordon))
        for n in range(5):
            with smtplib.SMTP("127.0.0.1", gateway_port, timeout=30) as s:
                s.sendmail(f"sender{n}@corp.example", ["bob@partner.example"],
                           f"Subject: queued {n}\r\n\r\nhello\r\n")
        env = dict(os.environ,
                   CONSOLE_URL=f"http://127.0.0.1:{port}",
                   CONSOLE_PASSWORD=password,
                   CHROMIUM=CHROMIUM,
                   CORDON_SCREENSHOT_DIR=os.environ.get("CORDON_SCREENSHOT_DIR", workdir),
                   USER_DATA_DIR=os.path.join(workdir, "chromium-profile"))
        test = subprocess.run(["node", "console.test.mjs"], cwd=HERE, env=env, timeout=150)
        if test.returncode != 0:
            print(cordon.output()[-4000:], file=sys.stderr)
        return test.returncode
    finally:
        cordon.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
