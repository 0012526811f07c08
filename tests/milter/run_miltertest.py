"""Runs cordon_milter.lua with Debian's miltertest (libmilter's MTA side)
against `cordon run` with a milter section, then robustness checks over a
raw socket that no well-behaved MTA sends: an oversized frame (closed, with
the log line naming milter.max_frame_bytes), an unknown command and an empty
macro packet during a message (tempfailed, never accepted), a connection
closed mid-message (the next connection is served), a detection engine
failure (tempfailed). Fails when a check
fails or miltertest is missing."""

import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import peers
from prevent_support import HOLD_POLICY, STANDARD_POLICIES, eight_block_policies


def frame(code, data=b""):
    return struct.pack(">I", len(data) + 1) + code + data


def z(text):
    return text.encode() + b"\0"


def read_frame(sock):
    head = b""
    while len(head) < 4:
        more = sock.recv(4 - len(head))
        if not more:
            return None
        head += more
    (length,) = struct.unpack(">I", head)
    body = b""
    while len(body) < length:
        more = sock.recv(length - len(body))
        if not more:
            return None
        body += more
    return body[:1], body[1:]


def negotiated(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(frame(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
    code, _ = read_frame(s)
    assert code == b"O", code
    return s


def message_frames(body):
    return (frame(b"M", z("<alice@corp.test>")) + frame(b"R", z("<bob@ext.test>"))
            + frame(b"L", z("Subject") + z(" raw")) + frame(b"N") + frame(b"B", body))


def raw_checks(port, cordon):
    failures = []

    def check(ok, what):
        print(("ok: " if ok else "FAILED: ") + what)
        if not ok:
            failures.append(what)

    # An oversized frame: the connection is closed, the log says why.
    s = negotiated(port)
    s.sendall(struct.pack(">I", 200000) + b"B" + b"x" * 1000)
    check(read_frame(s) is None, "oversized frame: connection closed without a reply")
    s.close()
    deadline = time.time() + 5
    while time.time() < deadline and "over milter.max_frame_bytes (70000)" not in cordon.output():
        time.sleep(0.1)
    check("sent a frame of 200000 bytes, over milter.max_frame_bytes (70000)" in cordon.output(),
          "oversized frame: the log line names the limit")

    # Empty macro packets, then an unknown command mid-message: tempfail.
    s = negotiated(port)
    s.sendall(frame(b"D") + frame(b"D", b"M") + frame(b"M", z("<alice@corp.test>"))
              + frame(b"Z", b"junk") + frame(b"R", z("<bob@ext.test>")) + frame(b"N")
              + frame(b"B", b"Lunch?\r\n") + frame(b"E"))
    code, data = read_frame(s)
    check(code == b"y" and data.startswith(b"451 4.3.0"),
          f"unknown command mid-message: tempfailed ({code} {data[:40]})")
    # The connection goes on: the next message is judged normally.
    s.sendall(message_frames(b"Lunch at noon?\r\n") + frame(b"E"))
    code, _ = read_frame(s)
    check(code == b"a", "the next message on the connection is accepted")
    # Abort, then a message that blocks.
    s.sendall(frame(b"M", z("<x@corp.test>")) + frame(b"A")
              + message_frames(b"card 4111 1111 1111 1111\r\n") + frame(b"E"))
    code, data = read_frame(s)
    check(code == b"y" and data.startswith(b"550-5.7.0 Incident ID: "),
          "after an abort, a card number is refused with the block reply")
    s.close()

    # The detection engine fails on this message: tempfail, never accept.
    s = negotiated(port)
    s.sendall(message_frames(b"text with FAILSCANMARKER inside\r\n") + frame(b"E"))
    code, data = read_frame(s)
    check(code == b"y" and data.startswith(b"451 4.3.0"),
          f"a failed scan is a tempfail ({code} {data[:40]})")
    s.close()

    # Closed mid-message, then a new connection is served.
    s = negotiated(port)
    s.sendall(message_frames(b"half a message"))
    s.close()
    s = negotiated(port)
    s.sendall(message_frames(b"Tea?\r\n") + frame(b"E"))
    code, _ = read_frame(s)
    check(code == b"a", "after a connection closed mid-message, the next one is served")
    s.sendall(frame(b"Q"))
    s.close()
    return failures


def main():
    if not shutil.which("miltertest"):
        print("miltertest is not installed (scripts/install-deps.sh installs it)")
        return 1
    work = tempfile.mkdtemp(prefix="cordon-miltertest-")
    port = peers.free_port()
    config = (f"data_dir: {work}/data\nmilter:\n  listen: 127.0.0.1:{port}\n"
              "  max_frame_bytes: 70000\npolicies:\n"
              + STANDARD_POLICIES + eight_block_policies() + HOLD_POLICY)
    # Scans of texts holding the marker fail as an engine error would.
    cordon = peers.Cordon(config, work, ports=[port],
                          env={"CORDON_TEST_FAIL_SCAN": "FAILSCANMARKER"})
    try:
        cordon.start()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cordon_milter.lua")
        r = subprocess.run(["miltertest", "-D", f"port={port}", "-s", script],
                           capture_output=True, text=True, timeout=60)
        print(r.stdout + r.stderr)
        ok = r.returncode == 0 and "all checks passed" in r.stdout
        ok = not raw_checks(port, cordon) and ok
        if not ok:
            print("cordon log:\n" + cordon.output())
        return 0 if ok else 1
    finally:
        cordon.kill()
        cordon.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
