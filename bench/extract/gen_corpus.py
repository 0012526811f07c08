#!/usr/bin/env python3
"""Mixed attachment corpus for the extraction benchmark: the test corpus
(tests/extract/make_corpus.py) plus bulk files of each kind, every one
seeded with card numbers. Usage: gen_corpus.py OUTPUT_DIR [--scale N]"""
import io
import os
import sys
import tarfile
import zipfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "extract"))
import make_corpus as mc  # noqa: E402

CARDS = ["4111111111111111", "5555555555554444", "4012888888881881", "378282246310005"]


def rows(n):
    for i in range(n):
        yield [f"Customer {i}", f"{i % 97} Main Street", CARDS[i % len(CARDS)] if i % 50 == 0 else f"ref-{i:08d}", i * 7]


def main():
    out = sys.argv[1]
    scale = int(sys.argv[sys.argv.index("--scale") + 1]) if "--scale" in sys.argv else 1
    os.makedirs(out, exist_ok=True)
    files = {k: v for k, v in mc.corpus().items() if k not in ("deep.zip",)}
    n = 20000 * scale
    files["bulk.xlsx"] = mc.xlsx(list(rows(n)), [[f"note {i}", f"value {i}"] for i in range(n // 10)])
    files["bulk.docx"] = mc.docx([f"Paragraph {i}: the quarterly figures for account ref-{i:08d} "
                                  + (f"card {CARDS[i % 4]}" if i % 100 == 0 else "are unchanged.")
                                  for i in range(n)])
    csv = "".join(";".join(map(str, r)) + "\n" for r in rows(n * 2)).encode()
    files["bulk.csv"] = csv
    files["bulk.tar.gz"] = mc.tar_bytes([("export/part1.csv", csv), ("export/part2.csv", csv[::-1])], "w:gz")
    files["bulk.zip"] = mc.zip_bytes([("a/bulk.docx", files["bulk.docx"]), ("b/bulk.xlsx", files["bulk.xlsx"]),
                                      ("c/bulk.csv", csv)])
    files["bulk.pdf"] = mc.pdf([f"Line {i} ref-{i:08d}" + (f" card {CARDS[i % 4]}" if i % 20 == 0 else "")
                                for i in range(50)])
    files["bulk.odt"] = mc.odt([f"Paragraph {i} ref-{i:08d}" for i in range(n)])
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
