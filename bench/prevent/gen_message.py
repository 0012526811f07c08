#!/usr/bin/env python3
"""Writes a clean (policy-free) business e-mail of about SIZE bytes: prose
with order numbers, dates and amounts, so the detectors have candidates to
look at but nothing fires. Usage: gen_message.py SIZE OUT"""

import random
import sys

WORDS = ("the quarterly report shows revenue growth in all regions and the team "
         "will review the forecast next week please confirm attendance for the "
         "meeting about the supplier contract and the updated delivery schedule").split()


def main():
    size, out = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(size)
    lines = ["From: bench@corp.test", "To: peer@ext.test", "Subject: Weekly status",
             "Date: Mon, 2 Sep 2024 10:00:00 +0000", "MIME-Version: 1.0",
             "Content-Type: text/plain; charset=us-ascii", ""]
    body = 0
    while body < size:
        words = [rng.choice(WORDS) for _ in range(10)]
        words.insert(rng.randrange(10), f"order {rng.randrange(10**5, 10**6)}")
        words.insert(rng.randrange(10), f"EUR {rng.randrange(100, 99999)}.{rng.randrange(100):02d}")
        line = " ".join(words).capitalize() + "."
        lines.append(line)
        body += len(line) + 2
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
