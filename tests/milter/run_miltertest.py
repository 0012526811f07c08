"""Runs cordon_milter.lua with Debian's miltertest (libmilter's MTA side)
against `cordon run` with a milter section; fails when a check of the
script fails or miltertest is missing."""

import os
import shutil
import subprocess
import sys
import tempfile

import peers
from prevent_support import STANDARD_POLICIES, eight_block_policies

HOLD = """  - name: Hold for review
    severity: medium
    match:
      any:
        - keywords: [holdme]
    respond:
      - hold: "Review by the DLP team"
"""


def main():
    if not shutil.which("miltertest"):
        print("miltertest is not installed (scripts/install-deps.sh installs it)")
        return 1
    work = tempfile.mkdtemp(prefix="cordon-miltertest-")
    port = peers.free_port()
    config = (f"data_dir: {work}/data\nmilter:\n  listen: 127.0.0.1:{port}\npolicies:\n"
              + STANDARD_POLICIES + eight_block_policies() + HOLD)
    cordon = peers.Cordon(config, work, ports=[port])
    try:
        cordon.start()
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cordon_milter.lua")
        r = subprocess.run(["miltertest", "-D", f"port={port}", "-s", script],
                           capture_output=True, text=True, timeout=60)
        print(r.stdout + r.stderr)
        ok = r.returncode == 0 and "all checks passed" in r.stdout
        if not ok:
            print("cordon log:\n" + cordon.output())
        return 0 if ok else 1
    finally:
        cordon.kill()
        cordon.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
