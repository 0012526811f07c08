"""Blocked messages per second through cordon prevent with each incident
store: SQLite (the single-node default) and a throwaway PostgreSQL with
fsync on, as in production. smtp-source sends MESSAGES card-carrying
10 KB messages over 20 sessions to prevent (forward mode to smtp-sink);
every one is refused with 550 and written as an incident (half of them
repeats of one message, which bump its repeat count). Prints messages/s
for each store, their ratio, and checks that every message became an
incident write (none lost).
Usage: prevent_bench.py BUILD_DIR [MESSAGES]"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "support"))
import peers  # noqa: E402

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
messages = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
os.environ["CORDON_BIN"] = os.path.join(build, "cordon")
SESSIONS = 20
CARD = "4111 1111 1111 1111"

POLICY = """policies:
  - name: Cards
    severity: high
    match: {any: [{identifier: credit_card}]}
    respond: [{block: "no card numbers"}]
"""


def message(path, n_distinct):
    # smtp-source sends the same file each time: one distinct message, so
    # half the writes below come from a second file with its own text.
    body = "\n".join(textwrap.wrap("Quarterly figures attached, nothing unusual. " * 220, 76))
    with open(path, "w") as f:
        # Line ends as smtp-source wants them in its file: it sends CRLF.
        f.write(f"From: a@corp.test\nTo: b@ext.test\nSubject: card {n_distinct}\n\n"
                f"pay with {CARD} ref {n_distinct}\n{body}\n")


def run(store_url, work, sink_port):
    port = peers.free_port()
    data = tempfile.mkdtemp(dir=work)
    node = peers.Cordon(f"data_dir: {data}\nincidents: {store_url}\nlog: {{level: warn}}\n"
                        f"prevent:\n  listen: 127.0.0.1:{port}\n  mode: forward\n"
                        f"  next_hop: 127.0.0.1:{sink_port}\n" + POLICY, data, ports=(port,),
                        env={"XDG_CACHE_HOME": os.path.join(work, "cache")})
    node.start()
    try:
        start = time.monotonic()
        # -A: carry on after the 550 each message gets.
        procs = [subprocess.Popen(["smtp-source", "-A", "-s", str(SESSIONS // 2), "-m",
                                   str(messages // 2), "-F", os.path.join(work, f"m{i}.eml"),
                                   f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for i in (1, 2)]
        for p in procs:
            p.wait()
        seconds = time.monotonic() - start
        out = node.run("incidents", "--format", "json", "--limit", "100")
        incidents = json.loads(out.stdout) if out.returncode == 0 else []
        writes = sum(i.get("repeat_count", 0) + 1 for i in incidents)
        outbox = os.path.join(data, "incident-outbox")
        waiting = len(os.listdir(outbox)) if os.path.isdir(outbox) else 0
        return messages / seconds, len(incidents), writes, waiting
    finally:
        node.stop()


def main():
    with tempfile.TemporaryDirectory() as work:
        for i in (1, 2):
            message(os.path.join(work, f"m{i}.eml"), i)
        sink_port = peers.free_port()
        sink = peers.SmtpSink(sink_port)
        pg = peers.Postgres(fsync=True)
        try:
            print(f"prevent: {messages} card messages, {SESSIONS} sessions, every one blocked "
                  "and written as an incident")
            results = {}
            for name, url in (("sqlite", "sqlite"), ("postgresql", pg.url())):
                rate, rows, repeats, waiting = run(url, work, sink_port)
                results[name] = rate
                print(f"  {name:<11} {rate:7.0f} blocked msg/s  ({rows} incidents, "
                      f"{repeats} writes counted in them, {waiting} left in the outbox)")
                if repeats != messages:
                    print(f"  ERROR: {messages} messages but {repeats} incident writes",
                          file=sys.stderr)
                    sys.exit(1)
            print(f"  postgresql / sqlite: {results['postgresql'] / results['sqlite']:.2f}x")
        finally:
            pg.destroy()
            sink.stop()


if __name__ == "__main__":
    main()
