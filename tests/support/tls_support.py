"""TLS helpers for end-to-end tests: a throwaway self-signed certificate
(openssl command line) and a STARTTLS conversation over a raw socket."""

import os
import socket
import ssl
import subprocess


def make_self_signed(directory, name="localhost"):
    """Writes cert.pem and key.pem (EC P-256, one day) into `directory`;
    returns their paths."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    f"/CN={name}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def read_reply(f):
    out = b""
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        out += line
        if line[3:4] != b"-":
            return out.decode("latin-1")


def starttls_with_injection(port, injected=b"MAIL FROM:<evil@attacker.example>\r\n"):
    """EHLO, then STARTTLS with `injected` pipelined behind it in the same
    segment (CVE-2011-0411), the handshake, EHLO and a RCPT inside TLS.
    Returns the replies by step."""
    replies = {}
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        replies["greeting"] = read_reply(f)
        s.sendall(b"EHLO probe.example\r\n")
        replies["ehlo"] = read_reply(f)
        s.sendall(b"STARTTLS\r\n" + injected)
        replies["starttls"] = read_reply(f)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            tf = t.makefile("rb")
            t.sendall(b"EHLO probe.example\r\n")
            replies["ehlo_tls"] = read_reply(tf)
            t.sendall(b"RCPT TO:<victim@example.net>\r\n")
            replies["rcpt"] = read_reply(tf)
            t.sendall(b"QUIT\r\n")
            replies["quit"] = read_reply(tf)
    return replies
