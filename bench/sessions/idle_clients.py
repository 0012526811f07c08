#!/usr/bin/env python3
"""Opens N SMTP sessions to 127.0.0.1:PORT, takes each past EHLO and leaves
it idle; reads the server's RSS (VmRSS of PID) before and after and prints
the cost per session; then checks that a new client is still served (one
message with smtplib) while the N sessions stay open.
Usage: idle_clients.py PORT PID N"""

import resource
import smtplib
import socket
import sys
import time


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def read_reply(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("server closed: " + data.decode("latin-1"))
        data += chunk
        lines = data.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return data


def session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    if not read_reply(s).startswith(b"220 "):
        raise RuntimeError("no greeting")
    s.sendall(b"EHLO idle.example\r\n")
    if not read_reply(s).startswith(b"250"):
        raise RuntimeError("EHLO refused")
    return s


def main():
    port, pid, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 256), hard))
    # Warm up: one session allocates what every later one shares.
    warm = [session(port) for _ in range(10)]
    for s in warm:
        s.close()
    time.sleep(0.5)
    before = rss_kb(pid)
    start = time.time()
    held = [session(port) for _ in range(n)]
    time.sleep(1.0)
    after = rss_kb(pid)
    print(f"sessions {n} opened past EHLO in {time.time() - start:.1f} s")
    print(f"server RSS {before} KB before, {after} KB with {n} idle sessions")
    per_session = (after - before) / n
    print(f"KB per idle session: {per_session:.1f}")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        refused = c.sendmail("s@example.com", ["r@example.com"], "Subject: still served\r\n\r\nok\r\n")
        print("new client while they idle:", "served" if not refused else f"refused {refused}")
    met = n >= 10000 and per_session <= 50 and not refused
    print(f"goal: 10,000 idle sessions at <= 50 KB each, a new client served: "
          f"{'met' if met else 'NOT met'}")
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
