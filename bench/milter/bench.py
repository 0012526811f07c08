"""Cost of cordon's milter in a Postfix, in one run, on the same machine and
the same sink: smtp-source (20 sessions, 10 KB messages) into
  with milter: a private Postfix with smtpd_milters = cordon's milter role
               (the built-in policy pack) relaying to smtp-sink
  without:     the same Postfix settings, no milter, same smtp-sink
Accepted = messages / time smtp-source took (Postfix answers the end of
DATA only after the milter's verdict); delivered = messages / time until
the queue was empty. A card number must be refused through the milter, or
the figures are not of an inspecting cordon."""

import argparse
import os
import shutil
import smtplib
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


def policy_pack():
    """The built-in policies, from the embedded default configuration."""
    with open(os.path.join(src, "src", "config", "default_config.cpp")) as f:
        text = f.read()
    start = text.index("\npolicies:\n") + 1
    return text[start:text.index(')yaml"', start)]


def smtp_source(port, count):
    start = time.time()
    subprocess.run(["smtp-source", "-s", str(SESSIONS), "-l", str(SIZE), "-m", str(count),
                    "-f", "alice@example.com", "-t", "bob@example.net", f"127.0.0.1:{port}"],
                   check=True, capture_output=True, timeout=900)
    return start, time.time()


def run_postfix(count, sink_port, milter_port, name):
    port = free_port()
    settings = {"relayhost": f"[127.0.0.1]:{sink_port}",
                "default_destination_concurrency_limit": "40",
                "smtp_connection_cache_on_demand": "yes",
                "default_process_limit": "100"}
    if milter_port:
        settings.update({"smtpd_milters": f"inet:127.0.0.1:{milter_port}",
                         "milter_default_action": "tempfail"})
    pf = Postfix(port, main_cf=settings, name=name)
    pf.start()
    try:
        start, sent = smtp_source(port, count)
        wait_until(lambda: not pf.queue_ids(), timeout=900, interval=0.2, what="postfix queue")
        done = time.time()
        refused = None
        if milter_port:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
                    c.sendmail("a@corp.test", ["b@ext.test"],
                               "Subject: x\r\n\r\ncard 4111 1111 1111 1111\r\n")
            except smtplib.SMTPDataError as e:
                refused = e.smtp_code
        tempfails = pf.log().count("4.7.1 Service unavailable")
    finally:
        pf.stop()
    return start, sent, done, refused, tempfails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--messages", type=int, default=2000)
    args = ap.parse_args()
    os.environ["CORDON_BIN"] = os.path.join(os.path.abspath(args.build), "cordon")
    workdir = tempfile.mkdtemp(prefix="cordon-bench-milter-")
    os.chmod(workdir, 0o755)
    sink = SmtpSink(free_port(), backlog=256)
    milter_port = free_port()
    config = (f"data_dir: {workdir}/data\nlog: {{level: warn}}\n"
              f"milter:\n  listen: 127.0.0.1:{milter_port}\n" + policy_pack())
    cordon = Cordon(config, workdir, ports=[milter_port])
    n = args.messages
    try:
        cordon.start()
        ms, msent, mdone, refused, tempfails = run_postfix(n, sink.port, milter_port, "milter")
        ps, psent, pdone, _, _ = run_postfix(n, sink.port, None, "plain")
        log = cordon.output()
    finally:
        cordon.stop()
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    m_acc, m_del = n / (msent - ms), n / (mdone - ms)
    p_acc, p_del = n / (psent - ps), n / (pdone - ps)
    print(f"{n} messages of {SIZE} bytes, {SESSIONS} sessions (smtp-source), "
          f"built-in policy pack")
    print(f"postfix + cordon milter -> smtp-sink: accepted {m_acc:8.1f} msg/s, "
          f"delivered {m_del:8.1f} msg/s")
    print(f"postfix, no milter      -> smtp-sink: accepted {p_acc:8.1f} msg/s, "
          f"delivered {p_del:8.1f} msg/s")
    print(f"ratio with/without milter: accepted {m_acc / p_acc:.2f}, delivered {m_del / p_del:.2f}")
    if refused is None:
        sys.exit("a card number passed the milter: the figures are not of an inspecting cordon")
    print(f"check: a card number is refused with {refused} through the milter (policies active)")
    if tempfails:
        print(f"note: {tempfails} tempfail(s) in the Postfix log", file=sys.stderr)
    warnings = [l for l in log.splitlines() if "warn" in l or "error" in l]
    if warnings:
        print("cordon warnings:\n" + "\n".join(warnings[-5:]), file=sys.stderr)


if __name__ == "__main__":
    main()
