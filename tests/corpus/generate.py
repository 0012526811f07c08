#!/usr/bin/env python3
"""Generates cordon's golden corpus: tests/corpus/*.eml and expected.json.

Every message is scanned by `cordon scan --format json` with the built-in
policy pack (examples/default.yaml); expected.json says, per file, the
verdict and, per fired policy, which rule matched in which component and how
many UNIQUE values it found. It also lists every planted card number so a
test can prove no output ever contains one in full.

True positives cover every identifier of the default pack (credit_card,
us_ssn, iban, private_key, aws_access_key) in plain, base64 and
quoted-printable parts, UTF-16 and ISO-8859-1 text, HTML, RFC 2047 subjects,
RFC 2231 file names and forwarded (nested) messages. Near misses cover
Luhn-invalid 16-digit numbers, order and tracking numbers, impossible SSNs,
IBANs with a bad checksum, public keys and AWS-like strings.

Python 3 standard library only; deterministic (fixed seed, fixed dates):
running it twice gives byte-identical files. Run from anywhere:
    python3 tests/corpus/generate.py
"""

import base64
import json
import os
import quopri
import random
import string
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = random.Random(20240611)

CARD_POLICY = "Payment card numbers"
SSN_POLICY = "US Social Security numbers"
IBAN_POLICY = "Bank account numbers (IBAN)"
KEY_POLICY = "Private keys"
AWS_POLICY = "AWS access keys"

CARD = "identifier:credit_card"
SSN = "identifier:us_ssn"
IBAN = "identifier:iban"
KEY = "identifier:private_key"
AWS = "identifier:aws_access_key"

POLICY_ORDER = [CARD_POLICY, SSN_POLICY, IBAN_POLICY, KEY_POLICY, AWS_POLICY]
RULE_OF = {CARD_POLICY: CARD, SSN_POLICY: SSN, IBAN_POLICY: IBAN, KEY_POLICY: KEY, AWS_POLICY: AWS}

planted_cards = []


# ---- values -----------------------------------------------------------------

def luhn_check_digit(partial):
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:  # these digits are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number):
    return luhn_check_digit(number[:-1]) == number[-1]


def card(prefix, length=16):
    body = prefix + "".join(RNG.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = body + luhn_check_digit(body)
    planted_cards.append(number)
    return number


def luhn_invalid(prefix, length=16):
    body = prefix + "".join(RNG.choice(string.digits) for _ in range(length - len(prefix) - 1))
    good = luhn_check_digit(body)
    return body + str((int(good) + 1 + RNG.randrange(8)) % 10)


def spaced(number, groups):
    out, i = [], 0
    for g in groups:
        out.append(number[i:i + g])
        i += g
    return " ".join(out)


def ssn():
    # Area 001-665 or 667-899, group 01-99, serial 0001-9999.
    while True:
        area = RNG.randrange(1, 900)
        if area != 666:
            break
    return "%03d-%02d-%04d" % (area, RNG.randrange(1, 100), RNG.randrange(1, 10000))


def iban(country, bban):
    rearranged = bban + country + "00"
    digits = "".join(str(int(c, 36)) for c in rearranged)
    check = 98 - int(digits) % 97
    return "%s%02d%s" % (country, check, bban)


def iban_bad_checksum(country, bban):
    good = iban(country, bban)
    wrong = int(good[2:4]) % 97 + 1  # 02..98 stay two digits and differ from the right one
    return "%s%02d%s" % (country, wrong if wrong >= 2 else 2, bban)


def aws_key():
    return "AKIA" + "".join(RNG.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def pem_private_key():
    raw = bytes(RNG.randrange(256) for _ in range(600))
    # Shaped like a PKCS#1 key (cordon checks the DER structure of a key's
    # body): SEQUENCE { INTEGER 0, INTEGER <589 random bytes> }, 600 bytes in
    # all, so the random stream (and every other file) stays the same.
    raw = b"\x30\x82\x02\x54" + b"\x02\x01\x00" + b"\x02\x82\x02\x4d" + raw[11:]
    b64 = base64.b64encode(raw).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----\n"


def pem_public_key():
    raw = bytes(RNG.randrange(256) for _ in range(270))
    b64 = base64.b64encode(raw).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n"


# ---- message building ---------------------------------------------------------

SEQ = [0]


def headers(subject, extra=()):
    SEQ[0] += 1
    h = [
        "From: Alice Example <alice@corp.example>",
        "To: Bob Partner <bob@partner.example>",
        "Subject: " + subject,
        "Date: Tue, 11 Jun 2024 09:%02d:00 +0000" % (SEQ[0] % 60),
        "Message-ID: <corpus-%03d@corp.example>" % SEQ[0],
        "MIME-Version: 1.0",
    ]
    h.extend(extra)
    return "\n".join(h) + "\n"


def b64(data):
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + 76] for i in range(0, len(text), 76)) + "\n"


def qp(data):
    return quopri.encodestring(data).decode("ascii")


def part(content_type, body, encoding="7bit", disposition=None):
    h = ["Content-Type: " + content_type, "Content-Transfer-Encoding: " + encoding]
    if disposition:
        h.append("Content-Disposition: " + disposition)
    return "\n".join(h) + "\n\n" + body


def multipart(subtype, parts, boundary):
    out = ""
    for p in parts:
        out += "--" + boundary + "\n" + p
        if not out.endswith("\n"):
            out += "\n"
    return out + "--" + boundary + "--\n"


def simple(subject, body, content_type="text/plain; charset=us-ascii", encoding="7bit", extra=()):
    return (headers(subject, list(extra) + ["Content-Type: " + content_type,
                                            "Content-Transfer-Encoding: " + encoding])
            + "\n" + body)


def mixed(subject, parts, boundary="=_corpus_boundary_1"):
    return (headers(subject, ['Content-Type: multipart/mixed; boundary="%s"' % boundary])
            + "\nThis is a multi-part message in MIME format.\n\n"
            + multipart("mixed", parts, boundary))


def rfc2047_b(text):
    return "=?UTF-8?B?" + base64.b64encode(text.encode("utf-8")).decode() + "?="


# ---- the corpus -----------------------------------------------------------------

messages = {}   # file name -> bytes
expected = {}   # file name -> verdict description


def add(name, content, fired=None, line_end="\n"):
    """fired: {policy: [(component, count), ...]} (rule implied by the policy)."""
    fired = fired or {}
    policies = []
    for policy in POLICY_ORDER:
        if policy in fired:
            policies.append({
                "name": policy,
                "matches": [{"rule": RULE_OF[policy], "component": comp, "count": n}
                            for comp, n in fired[policy]],
            })
    data = content.replace("\n", line_end).encode("ascii") if isinstance(content, str) else content
    messages[name] = data
    expected[name] = {"verdict": "block" if policies else "pass", "policies": policies}


def build():
    # -- true positives: cards --
    visa = card("4")
    add("tp_card_plain.eml",
        simple("Order details", "Hi Bob,\n\nPlease charge my card %s, expiry 09/27.\n\nThanks,\nAlice\n" % visa),
        {CARD_POLICY: [("body", 1)]})

    mc, amex, disc = card("51"), card("37", 15), card("6011")
    body = ("Cards on file:\n  Mastercard %s\n  Amex %s\n  Discover %s\n"
            "Again, the Mastercard: %s\n" % (spaced(mc, [4, 4, 4, 4]), spaced(amex, [4, 6, 5]),
                                              "-".join([disc[0:4], disc[4:8], disc[8:12], disc[12:16]]),
                                              mc))
    add("tp_card_three_unique_formats.eml", simple("Cards", body), {CARD_POLICY: [("body", 3)]})

    c = card("4")
    add("tp_card_base64_body.eml",
        simple("Payment", b64(("The corporate card is %s.\n" % c).encode()), encoding="base64"),
        {CARD_POLICY: [("body", 1)]})

    c = card("55")
    html = ("<html><body><p>Dear&nbsp;customer,</p><p>Your card <b>%s</b> was charged "
            "&euro;12.00.</p></body></html>\n" % spaced(c, [4, 4, 4, 4]))
    add("tp_card_html_qp.eml",
        simple("Receipt", qp(html.encode()), content_type="text/html; charset=utf-8",
               encoding="quoted-printable"),
        {CARD_POLICY: [("body", 1)]})

    c = card("4")
    latin = "Prière de débiter la carte %s pour la réservation à Genève.\n" % c
    add("tp_card_latin1_qp.eml",
        simple("=?ISO-8859-1?Q?R=E9servation?=", qp(latin.encode("iso-8859-1")), content_type="text/plain; charset=iso-8859-1",
               encoding="quoted-printable"),
        {CARD_POLICY: [("body", 1)]})

    c = card("4")
    utf16 = ("Liste des cartes\r\nCarte : %s\r\nMerci\r\n" % c).encode("utf-16")
    filename = "résumé cartes.txt"
    add("tp_card_utf16_attachment_rfc2231.eml",
        mixed("Files", [
            part("text/plain; charset=us-ascii", "See attached.\n"),
            part("text/plain; charset=utf-16", b64(utf16), "base64",
                 "attachment; filename*=UTF-8''" + urllib.parse.quote(filename.encode("utf-8"))),
        ]),
        {CARD_POLICY: [("attachment:" + filename, 1)]})

    c = card("4")
    add("tp_card_rfc2047_subject.eml",
        simple(rfc2047_b("Karte %s bitte belasten" % c), "Siehe Betreff.\n"),
        # The decoded Subject is also part of the "header" component.
        {CARD_POLICY: [("subject", 1), ("header", 1)]})

    c = card("4")
    inner = (
        "From: Carol <carol@corp.example>\nTo: Alice <alice@corp.example>\n"
        "Subject: card for the trip\nDate: Mon, 10 Jun 2024 17:00:00 +0000\n"
        "Message-ID: <inner-1@corp.example>\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=us-ascii\n\nUse %s for the hotel.\n" % c)
    add("tp_card_forwarded_nested.eml",
        mixed("Fwd: card for the trip", [
            part("text/plain; charset=us-ascii", "FYI, see the forwarded message.\n"),
            part("message/rfc822", inner, "7bit", 'attachment; filename="trip.eml"'),
        ]),
        # The forwarded message's body is named after the attachment.
        {CARD_POLICY: [("attachment:trip.eml", 1)]})

    add("tp_card_crlf.eml", simple("CRLF line ends", "Card: %s\n" % card("4")),
        {CARD_POLICY: [("body", 1)]}, line_end="\r\n")

    # -- true positives: other identifiers --
    s1, s2 = ssn(), ssn()
    add("tp_ssn_body.eml",
        simple("Employee records", "New hires:\n  J. Doe, SSN %s\n  R. Roe, SSN %s\n  J. Doe again: %s\n"
               % (s1, s2, s1)),
        {SSN_POLICY: [("body", 2)]})

    gb = iban("GB", "NWBK" + "".join(RNG.choice(string.digits) for _ in range(14)))
    de = iban("DE", "".join(RNG.choice(string.digits) for _ in range(18)))
    add("tp_iban_body.eml",
        simple("Bank details", "Please pay to %s (UK) or %s (DE).\n"
               % (" ".join(gb[i:i + 4] for i in range(0, len(gb), 4)), de)),
        {IBAN_POLICY: [("body", 2)]})

    add("tp_private_key_attachment.eml",
        mixed("server key", [
            part("text/plain; charset=us-ascii", "Here is the key for the staging box.\n"),
            part("application/x-pem-file", b64(pem_private_key().encode()), "base64",
                 'attachment; filename="staging.pem"'),
        ]),
        {KEY_POLICY: [("attachment:staging.pem", 1)]})

    k = aws_key()
    add("tp_aws_key_body.eml",
        simple("deploy creds", "aws_access_key_id = %s\nregion = eu-west-1\n" % k),
        {AWS_POLICY: [("body", 1)]})

    c, s, k = card("4"), ssn(), aws_key()
    add("tp_multi_policy.eml",
        mixed("everything", [
            part("text/plain; charset=us-ascii", "Card %s and SSN %s.\n" % (c, s)),
            part("text/plain; charset=us-ascii", "AWS_ACCESS_KEY_ID=%s\n" % k, "7bit",
                 'attachment; filename="env.txt"'),
        ]),
        {CARD_POLICY: [("body", 1)], SSN_POLICY: [("body", 1)], AWS_POLICY: [("attachment:env.txt", 1)]})

    # -- true negatives and near misses --
    add("tn_clean_plain.eml",
        simple("Lunch", "Hi Bob,\n\nLunch on Thursday at 12:30? Room 4 on floor 2.\n\nAlice\n"))

    add("tn_clean_html_attachment.eml",
        mixed("Agenda", [
            part("text/html; charset=utf-8", qp("<p>Agenda for <i>Q3</i> planning &amp; review</p>\n".encode()),
                 "quoted-printable"),
            part("text/csv; charset=us-ascii", b64(b"item,owner\nbudget,alice\nhiring,bob\n"), "base64",
                 'attachment; filename="agenda.csv"'),
        ]))

    bad_cards = [luhn_invalid("4"), luhn_invalid("51"), luhn_invalid("6011")]
    assert not any(luhn_valid(n) for n in bad_cards)
    add("near_luhn_invalid.eml",
        simple("Numbers", "These are not card numbers: %s, %s and %s.\n"
               % (bad_cards[0], spaced(bad_cards[1], [4, 4, 4, 4]), bad_cards[2])))

    add("near_order_numbers.eml",
        simple("Your order", "Order #20240611-0042 shipped.\nTracking: 1Z999AA10123456784\n"
               "Invoice 000123456 dated 2024-06-11, amount 1,234.56 EUR.\n"
               "Call +1 (555) 010-4477 or +44 20 7946 0958.\nTimestamp 1718096400123.\n"))

    add("near_invalid_ssns.eml",
        simple("Test data", "Placeholder IDs: 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 234-56-0000.\n"))

    add("near_bad_iban.eml",
        simple("Bank", "Account %s has a typo.\n"
               % iban_bad_checksum("DE", "".join(RNG.choice(string.digits) for _ in range(18)))))

    add("near_public_key.eml",
        simple("my public key", "Add this to the server:\n\n" + pem_public_key()))

    add("near_aws_like.eml",
        simple("ids", "Ticket AKIA1234 and akia%s are not keys; nor is AKIA%s.\n"
               % ("".join(RNG.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(16)),
                  "".join(RNG.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(10)))))


def main():
    build()
    for old in os.listdir(HERE):
        if old.endswith(".eml") and old not in messages:
            os.remove(os.path.join(HERE, old))
    for name, data in messages.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
    doc = {
        "_about": "Generated by generate.py; verdicts under the built-in policy pack. "
                  "count = unique values per component.",
        "planted_cards": planted_cards,
        "messages": dict(sorted(expected.items())),
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
