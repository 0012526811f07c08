#!/usr/bin/env python3
"""Drives the smtp peer tests' server from Python: smtplib conversations and
raw byte-level conversations (pipelining, smuggling, STARTTLS injection).
Usage: smtp_probe.py SCENARIO PORT [ARG]. Prints what the server answered."""

import codecs
import smtplib
import socket
import ssl
import sys
import time
from email.message import EmailMessage

HOST = "127.0.0.1"


def read_until_quiet(sock, quiet=1.0, limit=10.0):
    """Everything the server sends until it closes or stays quiet."""
    sock.settimeout(quiet)
    data = b""
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            data += b"<closed>"
            break
        data += chunk
    return data


def read_reply(f):
    lines = []
    while True:
        line = f.readline()
        if not line:
            return "<closed>"
        lines.append(line.decode("ascii", "replace"))
        if len(line) < 4 or line[3:4] != b"-":
            return "".join(lines)


def raw(port, payload):
    """Sends the (backslash-escaped) payload in one write; prints all replies."""
    data = codecs.decode(payload, "unicode_escape").encode("latin-1")
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(data)
        sys.stdout.write(read_until_quiet(s).decode("latin-1"))


def idle(port, seconds):
    """Connects and sends nothing; prints what arrives."""
    with socket.create_connection((HOST, port), timeout=5) as s:
        sys.stdout.write(read_until_quiet(s, quiet=float(seconds)).decode("latin-1"))


def starttls_inject(port):
    """Pipelines plaintext MAIL behind STARTTLS (CVE-2011-0411 style)."""
    s = socket.create_connection((HOST, port), timeout=5)
    f = s.makefile("rb")
    read_reply(f)
    s.sendall(b"EHLO probe.example\r\n")
    read_reply(f)
    s.sendall(b"STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n")
    print("STARTTLS:", read_reply(f).strip())
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname="localhost")
    tf = t.makefile("rb")
    t.sendall(b"EHLO probe.example\r\n")
    print("EHLO:", read_reply(tf).replace("\r\n", "|"))
    t.sendall(b"RCPT TO:<victim@example.com>\r\n")
    print("RCPT:", read_reply(tf).strip())
    t.sendall(b"QUIT\r\n")
    print("QUIT:", read_reply(tf).strip())


def message(body, subject="probe"):
    m = EmailMessage()
    m["From"] = "sender@example.com"
    m["To"] = "rcpt@example.com"
    m["Subject"] = subject
    m.set_content(body)
    return m


def report(fn):
    try:
        print("OK", fn())
    except smtplib.SMTPResponseException as e:
        print("ERR", e.smtp_code, e.smtp_error.decode("ascii", "replace"))
    except smtplib.SMTPRecipientsRefused as e:
        print("REFUSED", {k: (v[0], v[1].decode()) for k, v in e.recipients.items()})


def smtplib_8bit(port):
    def go():
        with smtplib.SMTP(HOST, port, timeout=10) as c:
            c.ehlo("probe.example")
            print("FEATURES", sorted(c.esmtp_features))
            body = "Gr\u00fc\u00dfe aus K\u00f6ln\n.leading dot\n"
            m = message(body)
            m.set_content(body, cte="8bit")
            return c.send_message(m, mail_options=["BODY=8BITMIME"])
    report(go)


def smtplib_starttls(port):
    def go():
        with smtplib.SMTP(HOST, port, timeout=10) as c:
            c.ehlo("probe.example")
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c.starttls(context=ctx)
            c.ehlo("probe.example")
            return c.send_message(message("over tls\n"))
    report(go)


def smtplib_size(port, size):
    """smtplib announces SIZE= at MAIL when the server offers SIZE."""
    def go():
        with smtplib.SMTP(HOST, port, timeout=10) as c:
            return c.send_message(message("x" * int(size) + "\n"))
    report(go)


def smtplib_recipients(port, count):
    def go():
        with smtplib.SMTP(HOST, port, timeout=10) as c:
            rcpts = [f"r{i}@example.com" for i in range(int(count))]
            return c.sendmail("sender@example.com", rcpts, message("many\n").as_string())
    report(go)


def smtplib_many_recipients(port, count):
    """Sends one message to COUNT recipients; prints how many were accepted
    and the distinct refusals (code and enhanced code)."""
    with smtplib.SMTP(HOST, port, timeout=30) as c:
        rcpts = [f"r{i}@example.com" for i in range(int(count))]
        refused = c.sendmail("sender@example.com", rcpts, message("many\n").as_string())
        kinds = sorted({(code, text.decode().split(" ")[0]) for code, text in refused.values()})
        print("ACCEPTED", int(count) - len(refused), "REFUSED", len(refused), kinds)
        print("NOOP", c.noop()[0])


if __name__ == "__main__":
    scenario, port = sys.argv[1], int(sys.argv[2])
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    {
        "raw": lambda: raw(port, arg),
        "idle": lambda: idle(port, arg),
        "starttls_inject": lambda: starttls_inject(port),
        "smtplib_8bit": lambda: smtplib_8bit(port),
        "smtplib_starttls": lambda: smtplib_starttls(port),
        "smtplib_size": lambda: smtplib_size(port, arg),
        "smtplib_recipients": lambda: smtplib_recipients(port, arg),
        "smtplib_many_recipients": lambda: smtplib_many_recipients(port, arg),
    }[scenario]()
