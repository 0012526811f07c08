#!/usr/bin/env python3
"""Per-message latency of one SMTP path: sends the message in FILE COUNT
times, one after another over one session (smtplib), and prints the p50 and
p99 of the time from MAIL FROM to the final reply, in milliseconds.
Usage: latency.py PORT COUNT FILE"""

import smtplib
import statistics
import sys
import time


def main():
    port, count, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with open(path) as f:
        message = f.read().replace("\n", "\r\n")
    times = []
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as c:
        c.ehlo()
        for i in range(count):
            msg = f"Message-ID: <lat{i}.{time.time_ns()}@corp.test>\r\n" + message
            start = time.perf_counter()
            c.sendmail("bench@corp.test", ["peer@ext.test"], msg)
            times.append((time.perf_counter() - start) * 1000)
    q = statistics.quantiles(times, n=100)
    print(f"{q[49]:.2f} {q[98]:.2f}")


if __name__ == "__main__":
    main()
