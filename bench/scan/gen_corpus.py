#!/usr/bin/env python3
"""Synthetic corpus and policy set for the scan benchmark.

Writes into OUT_DIR:
  corpus.mbox   mail-like messages as sent: headers, text bodies, base64 and
                quoted-printable parts (the bytes a MIME parser would see)
  decoded.txt   the same messages with every part decoded (the text the
                detection engine scans); messages start with "From " lines
  keywords.txt  1,000 keywords and phrases (one per line)
  regexes.txt   50 regular expressions, valid for Vectorscan and ripgrep
With --files-mb / --mime-mb, also (the whole-path benchmark):
  plain/        plain 7-bit text/plain message files of ~150 KB each
  mime/         mixed MIME messages (base64 attachments, quoted-printable,
                HTML, legacy charsets), one file each
  config.yaml   a cordon configuration with the same keywords and regexes
  patterns.txt  the same for `rg -i -f`: keywords as \\b...\\b, then the regexes
True matches (cards, SSNs, IBANs, keywords, regex hits) are sparse.
Deterministic: the same size gives the same files.
"""
import argparse
import base64
import os
import quopri
import random

COMMON = (
    "the of and to in is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her all she there would their we him been has when who "
    "will more no if out so said what up its about into than them can only other new some could "
    "time these two may then do first any my now such like our over man me even most made after "
    "also did many before must through back years where much your way well down should because "
    "each just those people how too little state good very make world still own see men work "
    "long get here between both life being under never day same another know while last might "
    "us great old year off come since against go came right used take three meeting quarterly "
    "report invoice shipment customer account please regards thanks attached review budget "
    "schedule project team update forecast contract delivery order payment").split()


def luhn_complete(prefix, length, rng):
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(digits + check)):
            d = int(ch)
            if i % 2 == 1:
                d = d * 2 - 9 if d * 2 > 9 else d * 2
            total += d
        if total % 10 == 0:
            return digits + check
    raise AssertionError("unreachable")


def make_keywords(rng):
    syllables = "ka lo mi ne ru sa te vo zi pra qui sel dor fen gal hum jor lex mav nix".split()
    words = set(["confidential", "project neptune", "geheim", "strictly private", "internal only",
                 "do not forward", "vertraulich", "confidentiel", "merger plan", "salary review"])
    while len(words) < 1000:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.15:
            w += " " + "".join(rng.choice(syllables) for _ in range(rng.randint(2, 3)))
        words.add(w)
    return sorted(words)


def make_regexes(rng):
    regexes = ["ACME-[0-9]{6}", "INV-[0-9]{4}-[0-9]{5}", "[0-9]{3}-[0-9]{3}-[0-9]{4}",
               "PO[0-9]{8}", "(?i)internal use only", "[A-Z]{2}[0-9]{6}[A-Z]"]
    while len(regexes) < 50:
        prefix = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(3, 4)))
        shape = rng.choice(["-[0-9]{%d}" % rng.randint(4, 8), "_[A-Z0-9]{%d}" % rng.randint(6, 10),
                            "[0-9]{2}-[A-Z]{2}-[0-9]{3}"])
        r = prefix + shape
        if r not in regexes:
            regexes.append(r)
    return regexes


def sensitive_line(rng, keywords):
    kind = rng.randrange(6)
    if kind == 0:
        card = luhn_complete(rng.choice(["4", "51", "37", "6011"]), 16 if rng.random() < 0.8 else 15, rng)
        return "Card: " + (" ".join(card[i:i + 4] for i in range(0, len(card), 4)))
    if kind == 1:
        return "SSN %03d-%02d-%04d" % (rng.randint(1, 665), rng.randint(1, 99), rng.randint(1, 9999))
    if kind == 2:
        return "IBAN DE89 3704 0044 0532 0130 00"
    if kind == 3:
        return "This is %s material." % rng.choice(keywords)
    if kind == 4:
        return "Reference ACME-%06d" % rng.randint(0, 999999)
    return "api_key=" + "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(32))


def paragraph(rng, keywords, lines):
    out = []
    for _ in range(lines):
        if rng.random() < 0.01:
            out.append(sensitive_line(rng, keywords))
            continue
        words = [rng.choice(COMMON) for _ in range(rng.randint(6, 14))]
        if rng.random() < 0.05:  # order numbers, dates, amounts: digits that are not secrets
            words.append(rng.choice(["#%d" % rng.randint(10**8, 10**16), "2024-%02d-%02d" % (rng.randint(1, 12), rng.randint(1, 28)),
                                     "$%d.%02d" % (rng.randint(1, 99999), rng.randint(0, 99))]))
        line = " ".join(words).capitalize() + "."
        out.append(">" + line if line.startswith("From ") else line)  # mbox escaping
    return "\n".join(out) + "\n"


def message(rng, keywords, n):
    sender = "user%d@example.com" % rng.randint(1, 500)
    rcpt = "peer%d@partner.example" % rng.randint(1, 500)
    subject = " ".join(rng.choice(COMMON) for _ in range(rng.randint(3, 7)))
    headers = ("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%d@example.com>\n"
               "Date: Mon, 3 Jun 2024 10:%02d:00 +0000\nMIME-Version: 1.0\n" % (sender, rcpt, subject, n, n % 60))
    body = paragraph(rng, keywords, rng.randint(5, 60))
    raw_parts, decoded_parts = [], [body]
    boundary = "b%08x" % rng.getrandbits(32)
    raw_parts.append("--%s\nContent-Type: text/plain; charset=utf-8\n\n%s" % (boundary, body))
    if rng.random() < 0.3:
        attachment = paragraph(rng, keywords, rng.randint(20, 200))
        encoded = base64.encodebytes(attachment.encode()).decode()
        raw_parts.append("--%s\nContent-Type: text/csv; name=data.csv\nContent-Transfer-Encoding: base64\n"
                         "Content-Disposition: attachment; filename=data.csv\n\n%s" % (boundary, encoded))
        decoded_parts.append(attachment)
    if rng.random() < 0.3:
        html_text = paragraph(rng, keywords, rng.randint(5, 30)).replace("\n", " ")
        qp = quopri.encodestring(("<p>" + html_text + " caf\u00e9 \u00fcber</p>").encode()).decode()
        raw_parts.append("--%s\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n%s\n"
                         % (boundary, qp))
        decoded_parts.append(html_text + " caf\u00e9 \u00fcber\n")
    envelope = "From %s Mon Jun  3 10:00:00 2024\n" % sender
    raw = (envelope + headers + 'Content-Type: multipart/mixed; boundary="%s"\n\n' % boundary
           + "\n".join(raw_parts) + "--%s--\n" % boundary)
    decoded = envelope + headers + "\n" + "\n".join(decoded_parts)
    return raw, decoded


def line_pool(rng, keywords, count):
    """Pre-made lines: file corpora of hundreds of MB are drawn from them."""
    return paragraph(rng, keywords, count).splitlines()


def plain_message(rng, pool, n, size):
    sender = "user%d@example.com" % rng.randint(1, 500)
    rcpt = "peer%d@partner.example" % rng.randint(1, 500)
    subject = " ".join(rng.choice(COMMON) for _ in range(rng.randint(3, 7)))
    out = ["From: %s\nTo: %s\nSubject: %s\nMessage-ID: <p%d@example.com>\n"
           "Date: Mon, 3 Jun 2024 10:%02d:00 +0000\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n"
           % (sender, rcpt, subject, n, n % 60)]
    length = len(out[0])
    start = rng.randrange(len(pool))
    i = start
    while length < size:
        line = pool[i % len(pool)]
        out.append(line + "\n")
        length += len(line) + 1
        i += rng.randint(1, 7)
    return "".join(out)


def mime_message(rng, keywords, pool, n):
    """Mixed MIME as it arrives: several parts, encodings and charsets."""
    sender = "user%d@example.com" % rng.randint(1, 500)
    rcpt = "peer%d@partner.example" % rng.randint(1, 500)
    subject = " ".join(rng.choice(COMMON) for _ in range(rng.randint(3, 7)))
    boundary = "b%08x" % rng.getrandbits(32)

    def text(lines):
        start = rng.randrange(len(pool))
        return "\n".join(pool[(start + k * 3) % len(pool)] for k in range(lines)) + "\n"

    parts = ["Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n"
             + text(rng.randint(20, 400))]
    if rng.random() < 0.5:
        html = "<html><body><p>" + text(rng.randint(20, 300)).replace("\n", "</p>\n<p>") + \
               " caf\u00e9 \u00fcber</p></body></html>"
        parts.append("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
                     + quopri.encodestring(html.encode()).decode() + "\n")
    if rng.random() < 0.3:
        latin = text(rng.randint(20, 200)) + "Gr\u00fc\u00dfe, Fran\u00e7ois\n"
        parts.append("Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
                     + quopri.encodestring(latin.encode("latin-1")).decode() + "\n")
    if rng.random() < 0.5:
        csv = text(rng.randint(100, 1500))
        parts.append("Content-Type: text/csv; name=data.csv\nContent-Transfer-Encoding: base64\n"
                     "Content-Disposition: attachment; filename=data.csv\n\n"
                     + base64.encodebytes(csv.encode()).decode())
    if rng.random() < 0.2:
        blob = rng.randbytes(rng.randint(2000, 20000))
        parts.append("Content-Type: application/octet-stream; name=blob.bin\nContent-Transfer-Encoding: base64\n"
                     "Content-Disposition: attachment; filename=blob.bin\n\n"
                     + base64.encodebytes(blob).decode())
    head = ("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <m%d@example.com>\n"
            "Date: Mon, 3 Jun 2024 10:%02d:00 +0000\nMIME-Version: 1.0\n"
            'Content-Type: multipart/mixed; boundary="%s"\n\n' % (sender, rcpt, subject, n, n % 60, boundary))
    return head + "".join("--%s\n%s" % (boundary, p) for p in parts) + "--%s--\n" % boundary


def yaml_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_file_corpora(args, rng, keywords, regexes):
    pool = line_pool(rng, keywords, 20000)
    with open(os.path.join(args.out_dir, "config.yaml"), "w") as f:
        f.write("# Generated by gen_corpus.py: the benchmark's keywords and regexes.\npolicies:\n")
        for i in range(0, len(keywords), 100):
            f.write("  - name: Keywords %d\n    match:\n      any:\n        - keywords: [%s]\n"
                    % (i // 100, ", ".join(yaml_quote(k) for k in keywords[i:i + 100])))
        f.write("  - name: Regexes\n    match:\n      any:\n")
        for r in regexes:
            f.write("        - regex: '%s'\n" % r)
    with open(os.path.join(args.out_dir, "patterns.txt"), "w") as f:
        for k in keywords:
            f.write("\\b" + k.replace(" ", "\\s+") + "\\b\n")
        for r in regexes:
            f.write(r + "\n")
    for sub, total, make in (("plain", args.files_mb, lambda n: plain_message(rng, pool, n, rng.randint(140000, 160000))),
                             ("mime", args.mime_mb, lambda n: mime_message(rng, keywords, pool, n))):
        if total <= 0:
            continue
        d = os.path.join(args.out_dir, sub)
        os.makedirs(d, exist_ok=True)
        written, n = 0, 0
        while written < total * 1e6:
            data = make(n).encode()
            with open(os.path.join(d, "%05d.eml" % n), "wb") as f:
                f.write(data)
            written += len(data)
            n += 1
        print("wrote %d %s messages, %.1f MB, to %s" % (n, sub, written / 1e6, d))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--size-mb", type=float, default=64, help="size of decoded.txt (default 64)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--files-mb", type=float, default=0, help="plain message files, MB (default none)")
    parser.add_argument("--mime-mb", type=float, default=0, help="mixed MIME message files, MB (default none)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    keywords = make_keywords(rng)
    regexes = make_regexes(rng)
    with open(os.path.join(args.out_dir, "keywords.txt"), "w") as f:
        f.write("\n".join(keywords) + "\n")
    with open(os.path.join(args.out_dir, "regexes.txt"), "w") as f:
        f.write("\n".join(regexes) + "\n")
    target = int(args.size_mb * 1024 * 1024)
    written = 0
    n = 0
    with open(os.path.join(args.out_dir, "corpus.mbox"), "w", encoding="utf-8") as raw_out, \
         open(os.path.join(args.out_dir, "decoded.txt"), "w", encoding="utf-8") as decoded_out:
        while written < target:
            raw, decoded = message(rng, keywords, n)
            raw_out.write(raw)
            decoded_out.write(decoded)
            written += len(decoded.encode())
            n += 1
    print("wrote %d messages, %.1f MB decoded, to %s" % (n, written / 1048576, args.out_dir))
    write_file_corpora(args, rng, keywords, regexes)


if __name__ == "__main__":
    main()
