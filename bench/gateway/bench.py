"""Gateway throughput beside Postfix, in one run, on the same machine and
the same sink: smtp-source (20 sessions, 10 KB messages) into
  cordon: gateway -> prevent (reflect, built-in policy pack) -> gateway -> smtp-sink
  postfix: a private Postfix instance relaying to the same smtp-sink
Accepted = messages / time smtp-source took; delivered = messages / time
until the queue was empty (both from the first connection). --runs N
alternates the two N times (each on a fresh data directory) and prints
the median ratios: one pass on a shared machine is noisy. --rest S (35 by
default) waits before each pass, so that neither inherits the other's
freshly deleted queue files. With
--no-dlp the gateway's DLP host is a closed port (every message bypassed)
and prevent does not run. cordon's data_dir is made under $TMPDIR: point
it at the file system to measure (the private Postfix instance always
lives under /tmp)."""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.abspath(os.path.join(here, "..", ".."))
sys.path.insert(0, os.path.join(src, "tests", "support"))
from peers import Cordon, Postfix, SmtpSink, free_port, wait_until  # noqa: E402

SESSIONS = 20
SIZE = 10 * 1024


def smtp_source(port, count):
    start = time.time()
    subprocess.run(["smtp-source", "-s", str(SESSIONS), "-l", str(SIZE), "-m", str(count),
                    "-f", "alice@example.com", "-t", "bob@example.net", f"127.0.0.1:{port}"],
                   check=True, capture_output=True, timeout=600)
    return start, time.time()


def cpu_seconds(pid):
    """utime + stime of every thread of `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cordon_config(data_dir, gw, resubmit, dlp, sink, with_prevent):
    with open(os.path.join(src, "examples", "default.yaml")) as f:
        text = f.read()
    text = text.replace("./cordon-data", data_dir)
    text = text.replace("127.0.0.1:2525", f"127.0.0.1:{gw}")
    text = text.replace("127.0.0.1:10026", f"127.0.0.1:{resubmit}")
    text = text.replace("127.0.0.1:10025", f"127.0.0.1:{dlp}")
    text = text.replace("deliver: maildir", f"deliver: 127.0.0.1:{sink}")
    text = re.sub(r"\nconsole:\n  listen: [^\n]*\n", "\n", text)
    text = text.replace("gateway:\n", "gateway:\n  min_free: 0\n  concurrency: 40\n", 1)
    if not with_prevent:
        text = re.sub(r"\nprevent:\n(  [^\n]*\n)+", "\n", text)
    return "log: {level: " + os.environ.get("BENCH_LOG", "warn") + "}\n" + text


def run_cordon(count, sink_port, with_prevent, workdir):
    gw, resubmit, dlp = free_port(), free_port(), free_port()
    data = os.path.join(workdir, "cordon-data")
    ports = (gw, resubmit, dlp) if with_prevent else (gw, resubmit)
    c = Cordon(cordon_config(data, gw, resubmit, dlp, sink_port, with_prevent), workdir, ports)
    c.start()
    try:
        cpu0 = cpu_seconds(c.proc.pid)
        start, sent = smtp_source(gw, count)

        def drained():
            r = c.run("queue", "list", "--format", "json")
            return r.returncode == 0 and r.stdout.strip() == "[]"
        wait_until(drained, timeout=600, interval=0.2, what="cordon queue to drain")
        done = time.time()
        cpu = cpu_seconds(c.proc.pid) - cpu0
    finally:
        c.stop()
    return start, sent, done, c.output(), cpu


def run_postfix(count, sink_port):
    port = free_port()
    pf = Postfix(port, main_cf={"relayhost": f"[127.0.0.1]:{sink_port}",
                                "default_destination_concurrency_limit": "40",
                                "smtp_connection_cache_on_demand": "yes"}, name="bench")
    pf.start()
    try:
        start, sent = smtp_source(port, count)
        wait_until(lambda: not pf.queue_ids(), timeout=600, interval=0.2, what="postfix queue")
        done = time.time()
    finally:
        pf.stop()
    return start, sent, done


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3,
                    help="alternating cordon/Postfix passes; the ratios' median is the figure")
    ap.add_argument("--rest", type=float, default=35,
                    help="seconds of rest before each pass, so that neither inherits the "
                         "other's freshly deleted queue files (ext4 without a journal skips "
                         "inodes deleted in the last 5-35 s when it allocates one)")
    ap.add_argument("--no-dlp", action="store_true")
    args = ap.parse_args()
    os.environ["CORDON_BIN"] = os.path.join(os.path.abspath(args.build), "cordon")
    n = args.messages
    path = ("gateway -> smtp-sink (DLP bypassed: no prevent)" if args.no_dlp
            else "gateway -> prevent -> gateway -> smtp-sink")
    print(f"{n} messages of {SIZE} bytes, {SESSIONS} sessions (smtp-source), {args.runs} run(s)")
    accepted, delivered = [], []
    for run in range(args.runs):
        workdir = tempfile.mkdtemp(prefix="cordon-bench-gw-")
        os.chmod(workdir, 0o755)
        sink = SmtpSink(free_port(), backlog=256)
        try:
            time.sleep(args.rest)
            cs, csent, cdone, log, ccpu = run_cordon(n, sink.port, not args.no_dlp, workdir)
            time.sleep(args.rest)
            ps, psent, pdone = run_postfix(n, sink.port)
        finally:
            sink.stop()
            shutil.rmtree(workdir, ignore_errors=True)
        c_acc, c_del = n / (csent - cs), n / (cdone - cs)
        p_acc, p_del = n / (psent - ps), n / (pdone - ps)
        accepted.append(c_acc / p_acc)
        delivered.append(c_del / p_del)
        print(f"run {run + 1}: cordon  {path}: accepted {c_acc:8.1f} msg/s, "
              f"delivered {c_del:8.1f} msg/s")
        print(f"run {run + 1}: postfix relay -> smtp-sink: accepted {p_acc:8.1f} msg/s, "
              f"delivered {p_del:8.1f} msg/s")
        print(f"run {run + 1}: ratio cordon/postfix: accepted {c_acc / p_acc:.2f}, "
              f"delivered {c_del / p_del:.2f}")
        print(f"run {run + 1}: cordon CPU (gateway and prevent, one process): "
              f"{ccpu / n * 1e6:.0f} us per message")
        for line in log.splitlines():
            if "deliveries over reused SMTP sessions" in line:
                print(f"run {run + 1}: cordon " + line.split("gateway: ", 1)[1])
        warnings = [l for l in log.splitlines() if "bypass" in l]
        if not args.no_dlp and warnings:
            print(f"note: {len(warnings)} bypass warning(s) in the cordon log", file=sys.stderr)
    acc, dlv = statistics.median(accepted), statistics.median(delivered)
    print(f"ratio cordon/postfix (median of {args.runs}): accepted {acc:.2f}, delivered {dlv:.2f}")
    if not args.no_dlp:
        met = acc >= 1.0 and dlv >= 1.0
        print(f"goal: accepted and delivered >= 1.0x the Postfix relay: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
