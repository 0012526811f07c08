"""Runs `cordon scan --format json` (built-in policy pack) over many files
in one process and returns its verdict rows by file name."""

import json
import os
import subprocess


def cordon_binary():
    binary = os.environ.get("CORDON_BIN")
    if not binary or not os.access(binary, os.X_OK):
        raise AssertionError("CORDON_BIN must name the cordon binary")
    return binary


def scan(files):
    proc = subprocess.run([cordon_binary(), "scan", "--format", "json"] + list(files),
                          capture_output=True, text=True, timeout=240)
    if proc.returncode not in (0, 1):
        raise AssertionError("cordon scan exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
    rows = {}
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        rows[row["file"]] = row
    missing = [f for f in files if f not in rows]
    if missing:
        raise AssertionError("no verdict for %d file(s), e.g. %s" % (len(missing), missing[0]))
    return rows


def luhn_ok(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_shaped(digits):
    """Luhn-valid with a common card prefix and length: what would have
    read as a payment card number."""
    return (13 <= len(digits) <= 19 and luhn_ok(digits) and
            (digits[0] == "4" or digits[:2] in ("51", "52", "53", "54", "55", "34", "37",
                                                 "36", "38", "65") or
             digits[:4] == "6011" or 2221 <= int(digits[:4]) <= 2720 or
             3528 <= int(digits[:4]) <= 3589))
