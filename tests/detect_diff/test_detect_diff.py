"""Differential test of cordon's data identifiers against python-stdnum.

Generates thousands of valid and invalid values per identifier kind (cards
per IIN range and length, IBANs per registry country, SSNs, ABA routing
numbers, UK NINOs, AWS access key ids, private key blocks), writes each
into a message of its own in every separator format people use, scans the
messages with `cordon scan --format json` in batches (many files per
process) and compares cordon's verdict on each value with the oracle's:
100% agreement is required.

Oracles: python-stdnum (Debian's python3-stdnum) where it has the rule --
stdnum.luhn, stdnum.iban (registry structure and mod 97; national account
checks are not part of an IBAN's validity here), stdnum.us.ssn,
stdnum.us.rtn -- and, where it has none, the published rules written out
below independently of cordon's code: the card schemes' IIN table, the
Federal Reserve routing prefixes, HMRC's NINO prefix rules (stdnum has no
NINO module), AWS's key id prefixes, and the DER / openssh-key-v1 /
OpenPGP structures of private keys.

Verdicts: a valid value must be reported by its policy as exactly one
unique value whose masked sample is the expected mask of that value; an
invalid value must not fire its policy. Invalid values that contain a valid
value at a group boundary (a 17-digit number whose first 16 digits are a
card) are ambiguous, not invalid, and are not generated.

Prints recall and false positives per kind. Environment: CORDON_BIN (the
cordon binary), DETECT_DIFF_SEED (default fixed), DETECT_DIFF_SCALE
(multiplies the number of values, default 1).
"""

import base64
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
import time
import unittest

try:
    from stdnum import iban as std_iban
    from stdnum import luhn as std_luhn
    from stdnum.us import rtn as std_rtn
    from stdnum.us import ssn as std_ssn
    from stdnum import numdb as std_numdb
except ImportError:  # pragma: no cover - reported as a test failure below
    std_iban = None

SEED = int(os.environ.get("DETECT_DIFF_SEED", "20240615"))
SCALE = float(os.environ.get("DETECT_DIFF_SCALE", "1"))
BATCH = 5000

KINDS = ["credit_card", "iban", "us_ssn", "aba_routing", "uk_nino", "aws_access_key",
         "private_key"]

CONFIG = "policies:\n" + "".join(
    "  - name: %s\n"
    "    match: {any: [{identifier: %s, confidence: low}]}\n"
    "    respond: [{block: \"%s\"}]\n" % (k, k, k) for k in KINDS)


def n_of(count):
    return max(1, int(round(count * SCALE)))


# ---- payment cards: the published IIN table ---------------------------------

def lengths(a, b):
    return set(range(a, b + 1))


# (low prefix, high prefix, allowed lengths, scheme)
IIN_TABLE = [
    ("4", "4", {13, 16, 19}, "Visa"),
    ("51", "55", {16}, "Mastercard"),
    ("2221", "2720", {16}, "Mastercard"),
    ("34", "34", {15}, "American Express"),
    ("37", "37", {15}, "American Express"),
    ("6011", "6011", lengths(16, 19), "Discover"),
    ("644", "649", lengths(16, 19), "Discover"),
    ("65", "65", lengths(16, 19), "Discover"),
    ("622126", "622925", lengths(16, 19), "Discover (UnionPay co-badged)"),
    ("3528", "3589", lengths(16, 19), "JCB"),
    ("300", "305", lengths(14, 19), "Diners Club"),
    ("3095", "3095", lengths(14, 19), "Diners Club"),
    ("36", "36", lengths(14, 19), "Diners Club"),
    ("38", "39", lengths(14, 19), "Diners Club"),
    ("62", "62", lengths(14, 19), "UnionPay"),
    ("5018", "5018", lengths(12, 19), "Maestro"),
    ("5020", "5020", lengths(12, 19), "Maestro"),
    ("5038", "5038", lengths(12, 19), "Maestro"),
    ("5893", "5893", lengths(12, 19), "Maestro"),
    ("6304", "6304", lengths(12, 19), "Maestro"),
    ("6759", "6759", lengths(12, 19), "Maestro (UK)"),
    ("6761", "6763", lengths(12, 19), "Maestro"),
    ("676770", "676770", lengths(12, 19), "Maestro UK"),
    ("676774", "676774", lengths(12, 19), "Maestro UK"),
    ("5019", "5019", {16}, "Dankort"),
    ("4571", "4571", {16}, "Visa/Dankort"),
    ("2200", "2204", lengths(16, 19), "Mir"),
    ("1", "1", {15}, "UATP"),
    ("506099", "506198", {16, 18, 19}, "Verve"),
    ("507865", "507964", {16, 18, 19}, "Verve"),
    ("650002", "650027", {16, 18, 19}, "Verve"),
    ("636", "636", lengths(16, 19), "InterPayment"),
    ("637", "639", {16}, "InstaPayment"),
    ("9792", "9792", {16}, "Troy"),
    ("9860", "9860", {16}, "Humo"),
    ("8600", "8600", {16}, "Uzcard"),
    ("2205", "2205", {16}, "BORICA"),
    ("60400100", "60420099", lengths(16, 19), "UkrCard"),
    ("60", "60", {16}, "RuPay"),
    ("81", "82", {16}, "RuPay"),
    ("508", "508", {16}, "RuPay"),
    ("353", "353", {16}, "RuPay"),
    ("356", "356", {16}, "RuPay"),
    ("9891", "9891", {16}, "DinaCard"),
    ("31", "31", {19}, "China T-Union"),
]

# Prefixes no scheme in the table has (look-alikes).
NO_SCHEME_PREFIXES = ["0", "7", "2100", "2206", "2721", "56", "57", "58", "59", "33", "32",
                      "6000", "64", "66", "67", "68", "69", "83", "9", "90", "5017", "3096"]


def card_brand(d):
    for low, high, lens, scheme in IIN_TABLE:
        prefix = d[:len(low)]
        if low <= prefix <= high and len(d) in lens:
            return scheme
    return None


def card_valid(d):
    """stdnum's Luhn, the IIN table, and no filler (all digits but the
    check digit the same: 4444444444444448)."""
    if not d.isdigit() or not 12 <= len(d) <= 19:
        return False
    if not std_luhn.is_valid(d) or card_brand(d) is None:
        return False
    return len(set(d[:-1])) > 1


def card_groupings(n):
    """Groupings of an n-digit number: the usual one and irregular ones."""
    usual = {12: [4, 4, 4], 13: [4, 4, 5], 14: [4, 6, 4], 15: [4, 6, 5], 16: [4, 4, 4, 4],
             17: [4, 4, 4, 5], 18: [4, 4, 4, 6], 19: [4, 4, 4, 4, 3]}[n]
    irregular = [4, 8] + ([n - 12] if n > 12 else [])
    out = [usual, irregular]
    if n >= 15:
        out.append([4, 4, 4, n - 12])  # 4-4-4-3, 4-4-4-4, ... (19: 4-4-4-7)
    return out


def join_groups(value, groups, sep):
    parts, p = [], 0
    for g in groups:
        parts.append(value[p:p + g])
        p += g
    assert p == len(value), (value, groups)
    return sep.join(parts)


def sub_readings(value, groups):
    """Compact values of every proper run of whole groups."""
    bounds = [0]
    for g in groups:
        bounds.append(bounds[-1] + g)
    out = []
    for i in range(len(groups)):
        for j in range(i + 1, len(groups) + 1):
            if (i, j) != (0, len(groups)):
                out.append(value[bounds[i]:bounds[j]])
    return out


def card_formats(d):
    """(text, groups) for every format: plain, then space/dash/dot for each
    grouping."""
    out = [(d, [len(d)])] if 12 <= len(d) <= 19 else [(d, [len(d)])]
    if 12 <= len(d) <= 19:
        for groups in card_groupings(len(d)):
            for sep in " -.":
                out.append((join_groups(d, groups, sep), groups))
    return out


def card_mask(d):
    return d[:4] + "*" * (len(d) - 8) + d[-4:]


def luhn_complete(rng, prefix, n):
    body = prefix + "".join(rng.choice(string.digits) for _ in range(n - len(prefix) - 1))
    return body + std_luhn.calc_check_digit(body)


def random_prefix(rng, low, high):
    return str(rng.randint(int(low), int(high))).zfill(len(low))


def card_values(rng):
    values = []
    for low, high, lens, _ in IIN_TABLE:
        for n in sorted(lens):
            for _ in range(n_of(4)):
                d = luhn_complete(rng, random_prefix(rng, low, high), n)
                values.append(d)                                      # valid
                flipped = d[:-1] + str((int(d[-1]) + rng.randint(1, 9)) % 10)
                values.append(flipped)                                # Luhn
            for m in (n - 1, n + 1):                                  # lengths
                if 12 <= m <= 19 and m not in lens:
                    values.append(luhn_complete(rng, random_prefix(rng, low, high), m))
    for prefix in NO_SCHEME_PREFIXES:
        for n in (12, 13, 14, 15, 16, 17, 18, 19):
            values.append(luhn_complete(rng, prefix, n))
    values += ["4444444444444448", "5555555555555557", "4111111111111111", "6011111111111117"]
    return values


# ---- IBAN: the ISO 13616 registry (python-stdnum's copy) --------------------

def iban_registry():
    db = std_numdb.get("iban")
    out = {}
    for _, low, high, props, _ in db.prefixes:
        if low == high and "bban" in props:
            fields = [(int(n), c) for n, c in re.findall(r"([0-9]+)!([nac])", props["bban"])]
            out[low] = fields
    return out


def random_bban(rng, fields):
    classes = {"n": string.digits, "a": string.ascii_uppercase,
               "c": string.digits + string.ascii_uppercase}
    return "".join(rng.choice(classes[c]) for n, c in fields for _ in range(n))


def with_check_digits(country, bban):
    return country + std_iban.calc_check_digits(country + "00" + bban) + bban


def iban_valid(compact):
    return std_iban.is_valid(compact, check_country=False)


def iban_formats(compact, fields):
    """(text, groups): compact, lower case, groups of four with each
    separator, lower case grouped, and grouped at the BBAN fields."""
    fours = [4] * (len(compact) // 4) + ([len(compact) % 4] if len(compact) % 4 else [])
    out = [(compact, [len(compact)]), (compact.lower(), [len(compact)])]
    for sep in " -.":
        out.append((join_groups(compact, fours, sep), fours))
    out.append((join_groups(compact.lower(), fours, " "), fours))
    field_groups = [4] + [n for n, _ in fields]
    if fields and sum(field_groups) == len(compact):
        out.append((join_groups(compact, field_groups, " "), field_groups))
    mixed = "".join(c.lower() if i % 3 == 0 else c for i, c in enumerate(compact))
    out.append((mixed, [len(compact)]))
    return out


def iban_mask(compact):
    return compact[:4] + "*" * min(len(compact) - 8, 32) + compact[-4:]


def iban_values(rng, registry):
    values = []  # (compact, fields used for the field grouping)
    countries = sorted(registry)
    for cc in countries:
        fields = registry[cc]
        for _ in range(n_of(3)):
            good = with_check_digits(cc, random_bban(rng, fields))
            values.append((good, fields))                             # valid
            ck = int(good[2:4])
            bad_ck = "%02d" % ((ck + rng.randint(1, 95) - 2) % 97 + 2)
            values.append((good[:2] + bad_ck + good[4:], fields))     # check digits
            i = rng.randrange(4, len(good))
            repl = rng.choice([c for c in (string.digits if good[i].isdigit()
                                           else string.ascii_uppercase) if c != good[i]])
            values.append((good[:i] + repl + good[i + 1:], fields))  # one character
        bban = random_bban(rng, fields)
        values.append((with_check_digits(cc, bban[:-1]), fields))     # too short
        values.append((with_check_digits(cc, bban + rng.choice(string.digits)), fields))
        # Checksum-valid, wrong character class in one BBAN position.
        pos, flips = 0, []
        for n, c in fields:
            if c in "na":
                flips.append((pos + rng.randrange(n), c))
            pos += n
        for p, c in flips[:2]:
            wrong = rng.choice(string.ascii_uppercase if c == "n" else string.digits)
            values.append((with_check_digits(cc, bban[:p] + wrong + bban[p + 1:]), fields))
    for cc in ["US", "ZZ", "XA", "CA", "AU", "JP", "CN", "IN"]:               # not in registry
        fields = registry["DE"]
        values.append((with_check_digits(cc, random_bban(rng, fields)), fields))
    return values


# ---- US SSN, ABA routing numbers, UK NINO -----------------------------------

def ssn_values(rng):
    out = []
    for _ in range(n_of(500)):
        out.append("%03d%02d%04d" % (rng.randint(1, 899), rng.randint(1, 99),
                                     rng.randint(1, 9999)))
    for _ in range(n_of(60)):
        area = rng.choice([0, 666, rng.randint(900, 999)])
        out.append("%03d%02d%04d" % (area, rng.randint(0, 99), rng.randint(0, 9999)))
        out.append("%03d%02d%04d" % (rng.randint(1, 899), 0, rng.randint(1, 9999)))
        out.append("%03d%02d%04d" % (rng.randint(1, 899), rng.randint(1, 99), 0))
    out += ["078051120", "457555462", "219099999", "666123456", "123456789"]
    return out


SSN_FORMATS = ["{a}-{g}-{s}", "{a} {g} {s}", "{a}.{g}.{s}", "{a}-{g} {s}", "{a} {g}-{s}",
               "{a}.{g}-{s}", "{a}{g}{s}"]

ABA_PREFIXES = set(range(0, 13)) | set(range(21, 33)) | set(range(61, 73)) | {80}


def aba_valid(d):
    """stdnum's checksum and the Federal Reserve's assigned prefixes."""
    return std_rtn.is_valid(d) and int(d[:2]) in ABA_PREFIXES


def aba_values(rng):
    out = []
    for _ in range(n_of(1000)):
        prefix = "%02d" % (rng.choice(sorted(ABA_PREFIXES)) if rng.random() < 0.7
                           else rng.randint(0, 99))
        body = prefix + "".join(rng.choice(string.digits) for _ in range(6))
        good = body + std_rtn.calc_check_digit(body)
        out.append(good)
        if rng.random() < 0.5:
            out.append(good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10))
    return out


def nino_valid(compact):
    """HMRC's rules (National Insurance Manual NIM39110): two prefix
    letters, first not D F I Q U V, second not D F I O Q U V, the pairs BG
    GB KN NK NT TN ZZ never allocated; six digits; suffix A B C or D."""
    if not re.fullmatch(r"[A-Z]{2}[0-9]{6}[A-Z]", compact):
        return False
    a, b = compact[0], compact[1]
    if a in "DFIQUV" or b in "DFIOQUV":
        return False
    if compact[:2] in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        return False
    return compact[8] in "ABCD"


def nino_values(rng):
    out = []
    letters = string.ascii_uppercase
    for _ in range(n_of(700)):
        out.append(rng.choice(letters) + rng.choice(letters) +
                   "".join(rng.choice(string.digits) for _ in range(6)) +
                   rng.choice("ABCD" if rng.random() < 0.8 else "EFXZ"))
    out += ["BG123456A", "GB123456A", "KN123456A", "NK123456A", "NT123456A", "TN123456A",
            "ZZ123456A", "AB123456C", "OA123456A", "AO123456A"]
    return out


NINO_FORMATS = ["{p}{d}{s}", "{p} {d1} {d2} {d3} {s}", "{pl} {d1} {d2} {d3} {sl}",
                "{pl}{d}{sl}", "{p} {d} {s}"]


# ---- AWS access key ids ------------------------------------------------------

AWS_PREFIXES = ["AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA",
                "AROA", "ASCA"]
BASE32 = string.ascii_uppercase + "234567"


def aws_valid(value):
    """AWS's documented unique-id prefixes, then 16 base32 characters."""
    head, tail = value[:4], value[4:]
    prefix_ok = head in AWS_PREFIXES or re.fullmatch(r"A3T[A-Z0-9]", head) is not None
    return prefix_ok and re.fullmatch(r"[A-Z2-7]{16}", tail) is not None


def aws_values(rng):
    out = []

    def tail(n=16, alphabet=BASE32):
        return "".join(rng.choice(alphabet) for _ in range(n))

    for prefix in AWS_PREFIXES:
        for _ in range(n_of(60)):
            out.append(prefix + tail())
    for _ in range(n_of(120)):
        out.append("A3T" + rng.choice(string.ascii_uppercase + string.digits) + tail())
    for _ in range(n_of(600)):
        kind = rng.randrange(5)
        good = rng.choice(AWS_PREFIXES) + tail()
        if kind == 0:
            out.append(rng.choice(["AKIB", "AKIX", "ASIB", "AAAA", "ABCD", "AKID", "A3X4",
                                   "B3TA", "AXIA"]) + tail())
        elif kind == 1:
            out.append(good.lower())
        elif kind == 2:
            i = rng.randrange(4, 20)
            out.append(good[:i] + rng.choice("0189") + good[i + 1:])
        elif kind == 3:
            out.append(good[:-1])
        else:
            out.append(good + rng.choice(BASE32))
    return out


# ---- private keys: DER, openssh-key-v1, OpenPGP -------------------------------

def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def der_int(rng, nbytes):
    v = bytearray(rng.randbytes(nbytes))
    v[0] = (v[0] & 0x7F) | 0x40
    return tlv(0x02, bytes(v))


def rsa_der(rng):
    bits = rng.choice([32, 64, 128, 256])
    ints = [tlv(0x02, b"\x00"), der_int(rng, bits), tlv(0x02, b"\x01\x00\x01")]
    ints += [der_int(rng, bits), der_int(rng, bits // 2), der_int(rng, bits // 2),
             der_int(rng, bits // 2), der_int(rng, bits // 2), der_int(rng, bits // 2)]
    return tlv(0x30, b"".join(ints))


def ec_der(rng):
    oid = tlv(0x06, bytes.fromhex("2a8648ce3d030107"))
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, rng.randbytes(32)) + tlv(0xA0, oid) +
               tlv(0xA1, tlv(0x03, b"\x00\x04" + rng.randbytes(64))))


def dsa_der(rng):
    return tlv(0x30, tlv(0x02, b"\x00") + b"".join(der_int(rng, n) for n in (128, 20, 128,
                                                                              128, 20)))


def pkcs8_der(rng):
    alg = tlv(0x30, tlv(0x06, bytes.fromhex("2b6570")))
    return tlv(0x30, tlv(0x02, b"\x00") + alg + tlv(0x04, tlv(0x04, rng.randbytes(32))))


def encrypted_pkcs8_der(rng):
    alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d01050d")) +
              tlv(0x30, tlv(0x04, rng.randbytes(16))))
    return tlv(0x30, alg + tlv(0x04, rng.randbytes(rng.choice([48, 96, 1200]))))


def ssh_string(b):
    return len(b).to_bytes(4, "big") + b


def openssh_blob(rng):
    public = ssh_string(b"ssh-ed25519") + ssh_string(rng.randbytes(32))
    check = rng.randbytes(4)
    private = check + check + public + ssh_string(rng.randbytes(64)) + ssh_string(b"test")
    private += bytes(range(1, 1 + (-len(private)) % 8))
    return (b"openssh-key-v1\0" + ssh_string(b"none") + ssh_string(b"none") + ssh_string(b"") +
            (1).to_bytes(4, "big") + ssh_string(public) + ssh_string(private))


def pgp_packet(tag, body, new_format=True):
    if new_format:
        n = len(body)
        if n < 192:
            length = bytes([n])
        elif n < 8384:
            length = bytes([((n - 192) >> 8) + 192, (n - 192) & 0xFF])
        else:
            length = b"\xff" + n.to_bytes(4, "big")
        return bytes([0xC0 | tag]) + length + body
    n = len(body)
    if n < 256:
        return bytes([0x80 | (tag << 2)]) + bytes([n]) + body
    return bytes([0x80 | (tag << 2) | 1]) + n.to_bytes(2, "big") + body


def pgp_secret_key(rng, tag=5, version=4, algorithm=22, new_format=True):
    body = bytes([version]) + rng.randbytes(4) + bytes([algorithm]) + rng.randbytes(
        rng.choice([60, 120, 300]))
    packets = pgp_packet(tag, body, new_format)
    packets += pgp_packet(13, b"Test User <test@example.com>", new_format)
    packets += pgp_packet(2, rng.randbytes(rng.choice([80, 150])), new_format)
    return packets


def crc24(data):
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


# The reference structure checks, from the specifications (X.690 DER,
# OpenSSH PROTOCOL.key, RFC 9580), independent of cordon's code.

def ref_tlv(data, pos, limit):
    if pos + 2 > limit:
        return None
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        return None
    first = data[pos + 1]
    if first < 0x80:
        header, length = 2, first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + 2 + n > limit or data[pos + 2] == 0:
            return None
        length = int.from_bytes(data[pos + 2:pos + 2 + n], "big")
        if length < 0x80:
            return None
        header = 2 + n
    if pos + header + length > limit:
        return None
    return tag, header, length


def ref_der_length(data):
    outer = ref_tlv(data, 0, len(data))
    if not outer or outer[0] != 0x30:
        return None
    end = outer[1] + outer[2]
    pos, children = outer[1], 0
    while pos < end:
        child = ref_tlv(data, pos, end)
        if not child:
            return None
        tag, header, length = child
        if children == 0:
            version = tag == 0x02 and length == 1 and data[pos + 2] in (0, 1)
            if not version and tag != 0x30:
                return None
        pos += header + length
        children += 1
    return end if children >= 2 else None


def ref_openssh_length(data):
    magic = b"openssh-key-v1\0"
    if not data.startswith(magic):
        return None
    pos = len(magic)

    def string_at(p):
        if p + 4 > len(data):
            return None, p
        n = int.from_bytes(data[p:p + 4], "big")
        if p + 4 + n > len(data):
            return None, p
        return data[p + 4:p + 4 + n], p + 4 + n

    cipher, pos = string_at(pos)
    kdf, pos = string_at(pos) if cipher is not None else (None, pos)
    opts, pos = string_at(pos) if kdf is not None else (None, pos)
    printable = re.compile(rb"[\x21-\x7e]{1,64}")
    if opts is None or not printable.fullmatch(cipher) or not printable.fullmatch(kdf):
        return None
    if pos + 4 > len(data):
        return None
    count = int.from_bytes(data[pos:pos + 4], "big")
    pos += 4
    if not 1 <= count <= 64:
        return None
    for _ in range(count):
        key, pos = string_at(pos)
        if not key:
            return None
    private, pos = string_at(pos)
    if not private or len(private) % 8:
        return None
    return pos


def ref_pgp_packet(data, pos):
    if pos >= len(data) or not data[pos] & 0x80:
        return None
    b = data[pos]
    if b & 0x40:
        tag = b & 0x3F
        if pos + 2 > len(data):
            return None
        l1 = data[pos + 1]
        if l1 < 192:
            header, length = 2, l1
        elif l1 < 224:
            if pos + 3 > len(data):
                return None
            header, length = 3, ((l1 - 192) << 8) + data[pos + 2] + 192
        elif l1 == 255:
            if pos + 6 > len(data):
                return None
            header, length = 6, int.from_bytes(data[pos + 2:pos + 6], "big")
        else:
            return None
    else:
        tag, kind = (b >> 2) & 0x0F, b & 3
        if kind == 3:
            return None
        n = (1, 2, 4)[kind]
        if pos + 1 + n > len(data):
            return None
        header, length = 1 + n, int.from_bytes(data[pos + 1:pos + 1 + n], "big")
    if tag == 0 or pos + header + length > len(data):
        return None
    return tag, header, length


PGP_ALGORITHMS = {1, 2, 3, 16, 17, 18, 19, 22, 25, 26, 27, 28}


def ref_pgp_length(data):
    first = ref_pgp_packet(data, 0)
    if not first or first[0] != 5 or first[2] < 6:
        return None
    _, header, length = first
    version = data[header]
    if not 3 <= version <= 6:
        return None
    algorithm_at = header + (7 if version == 3 else 5)
    if algorithm_at >= header + length or data[algorithm_at] not in PGP_ALGORITHMS:
        return None
    pos = header + length
    while pos < len(data):
        nxt = ref_pgp_packet(data, pos)
        if not nxt:
            break
        pos += nxt[1] + nxt[2]
    return pos


def ref_structure_length(label, data):
    if label.startswith("PGP "):
        return ref_pgp_length(data)
    if label.startswith("OPENSSH "):
        return ref_openssh_length(data)
    return ref_der_length(data)


def ref_key_valid(label, body_b64, has_end, legacy_encrypted):
    """The reference verdict on a key block: the base64 body decodes to the
    structure its label promises, exactly (with an END line) or at least
    (without one). Legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) bodies are
    ciphertext: whole 8-byte blocks, at least 64 bytes, END line required."""
    try:
        data = base64.b64decode(body_b64, validate=True) if body_b64 else b""
    except ValueError:
        if has_end:
            return False
        body_b64 = body_b64[:len(body_b64) // 4 * 4]
        try:
            data = base64.b64decode(body_b64, validate=True)
        except ValueError:
            return False
    if legacy_encrypted:
        return has_end and len(data) >= 64 and len(data) % 8 == 0
    length = ref_structure_length(label, data)
    if length is None:
        return False
    return length == len(data) if has_end else True


def pem_lines(b64, width):
    return [b64[i:i + width] for i in range(0, len(b64), width)]


def key_cases(rng):
    """(text, label, expected) for key blocks in every layout."""
    cases = []
    layouts = ["lf64", "crlf64", "lf76", "indent", "json", "no_end"]

    def block(label, data, layout, headers=(), pgp=False, b64=None):
        b64 = base64.b64encode(data).decode() if b64 is None else b64
        width = 76 if layout == "lf76" else 64
        lines = pem_lines(b64, width) if b64 else []
        if pgp:
            lines = [""] + lines + ["=" + base64.b64encode(
                crc24(data).to_bytes(3, "big")).decode()]
            headers = ()
        elif headers:
            lines = list(headers) + [""] + lines
        begin, end = "-----BEGIN %s-----" % label, "-----END %s-----" % label
        if layout == "no_end":
            return "\n".join([begin] + lines) + "\n\nThanks,\nBob"
        if layout == "json":
            inner = "\\n".join([begin] + lines + [end]) + "\\n"
            return '{"type": "service_account", "private_key": "%s", "id": 7}' % inner
        if layout == "indent":
            return "key: |\n" + "\n".join("  " + l for l in [begin] + lines + [end])
        nl = "\r\n" if layout == "crlf64" else "\n"
        return nl.join([begin] + lines + [end])

    def add(label, data, layout, headers=(), b64=None, end_label=None, legacy=False):
        pgp = label.startswith("PGP ")
        text = block(label, data, layout, headers, pgp, b64)
        if end_label:
            text = text.replace("-----END %s-----" % label, "-----END %s-----" % end_label)
        body = base64.b64encode(data).decode() if b64 is None else b64
        has_end = layout != "no_end"
        expected = end_label is None and ref_key_valid(label, body, has_end, legacy)
        cases.append((text, label, expected))

    makers = [("RSA PRIVATE KEY", rsa_der), ("EC PRIVATE KEY", ec_der),
              ("DSA PRIVATE KEY", dsa_der), ("PRIVATE KEY", pkcs8_der),
              ("ENCRYPTED PRIVATE KEY", encrypted_pkcs8_der), ("OPENSSH PRIVATE KEY", openssh_blob),
              ("PGP PRIVATE KEY BLOCK", pgp_secret_key)]
    for label, make in makers:
        for layout in layouts:
            for _ in range(n_of(4)):
                data = make(rng)
                add(label, data, layout)                                  # valid
                add(label, data[:-rng.randint(1, 40)], layout)            # truncated
                add(label, rng.randbytes(len(data)), layout)              # random body
                if layout != "no_end":
                    add(label, data + rng.randbytes(rng.randint(1, 5)), layout)  # trailing
            add(label, data, layout, end_label="PUBLIC KEY" if layout != "no_end" else None)
            for placeholder in ["MIIE...", "MIIEowIBAAKCAQEA", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                                "<your key here>", "REDACTED", "...", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"]:
                add(label, b"", layout, b64=placeholder)
    for layout in layouts:
        for _ in range(n_of(3)):
            # Legacy encrypted PEM: ciphertext under Proc-Type/DEK-Info.
            headers = ("Proc-Type: 4,ENCRYPTED", "DEK-Info: AES-128-CBC,%s" % rng.randbytes(
                16).hex().upper())
            add("RSA PRIVATE KEY", rng.randbytes(16 * rng.randint(4, 40)), layout, headers,
                legacy=True)
            add("EC PRIVATE KEY", rng.randbytes(16 * rng.randint(4, 8) + 5), layout, headers,
                legacy=True)
            add("EC PRIVATE KEY", rng.randbytes(32), layout, headers, legacy=True)
            # A DER key under another structure's label, a public-key packet.
            add("OPENSSH PRIVATE KEY", pkcs8_der(rng), layout)
            add("PGP PRIVATE KEY BLOCK", openssh_blob(rng), layout)
            add("PGP PRIVATE KEY BLOCK", pgp_secret_key(rng, tag=6), layout)
            add("PGP PRIVATE KEY BLOCK", pgp_secret_key(rng, version=2), layout)
            add("PGP PRIVATE KEY BLOCK", pgp_secret_key(rng, algorithm=99), layout)
            add("PGP PRIVATE KEY BLOCK", pgp_secret_key(rng, new_format=False), layout)
            # Non-minimal DER length, a wrong outer tag.
            der = pkcs8_der(rng)
            add("PRIVATE KEY", b"\x30\x81" + der[1:] if der[1] < 0x80 else der[:1] + b"\x84\x00"
                + der[1:], layout)
            add("PRIVATE KEY", b"\x31" + der[1:], layout)
            add("RSA PRIVATE KEY", tlv(0x30, tlv(0x02, b"\x05") + der_int(rng, 64)), layout)
    return cases


# ---- messages and the cordon run --------------------------------------------

CONTEXTS = ["Please use {v} for the payment.\n", "{v}\n", "value: {v}\n", "({v})\n",
            "Details below\n\n  {v}  \n\nthanks\n", "ref: {v}; ok\n", "<{v}>\n"]


def message(body):
    return ("From: sender@corp.example\nTo: rcpt@ext.example\nSubject: detection test\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n" + body)


class Case:
    __slots__ = ("kind", "value", "text", "expected", "mask", "file")

    def __init__(self, kind, value, text, expected, mask):
        self.kind, self.value, self.text = kind, value, text
        self.expected, self.mask, self.file = expected, mask, None


def build_cases(rng):
    cases = []

    def add(kind, value, text, expected, mask):
        cases.append(Case(kind, value, text, expected, mask))

    skipped = {k: 0 for k in KINDS}
    for d in card_values(rng):
        valid = card_valid(d)
        for text, groups in card_formats(d):
            if not valid and any(len(s) >= 12 and card_valid(s) for s in sub_readings(d, groups)):
                skipped["credit_card"] += 1
                continue
            add("credit_card", d, text, valid, card_mask(d))
    registry = iban_registry()
    for compact, fields in iban_values(rng, registry):
        valid = iban_valid(compact)
        for text, groups in iban_formats(compact, fields):
            if not valid and any(len(s) >= 15 and s[:2].isalpha() and s[2:4].isdigit() and
                                 iban_valid(s) for s in sub_readings(compact, groups)):
                skipped["iban"] += 1
                continue
            add("iban", compact, text, valid, iban_mask(compact))
    for d in ssn_values(rng):
        for fmt in SSN_FORMATS:
            add("us_ssn", d, fmt.format(a=d[:3], g=d[3:5], s=d[5:]), std_ssn.is_valid(d),
                "***-**-" + d[5:])
    for d in aba_values(rng):
        for text in (d, "%s-%s-%s" % (d[:4], d[4:8], d[8])):
            add("aba_routing", d, text, aba_valid(d), "*****" + d[5:])
    for v in nino_values(rng):
        p, d, s = v[:2], v[2:8], v[8]
        for fmt in NINO_FORMATS:
            text = fmt.format(p=p, pl=p.lower(), d=d, d1=d[:2], d2=d[2:4], d3=d[4:], s=s,
                              sl=s.lower())
            add("uk_nino", v, text, nino_valid(v), p + "*" * 7)
    for v in aws_values(rng):
        add("aws_access_key", v, v, aws_valid(v), v[:4] + "*" * 16)
    for text, label, expected in key_cases(rng):
        add("private_key", label, text, expected, "-----BEGIN %s----- [masked]" % label)
    return cases, skipped


def run_cordon(binary, config, files):
    """file -> {policy name: (count, samples)} for every file."""
    out = {}
    for i in range(0, len(files), BATCH):
        batch = files[i:i + BATCH]
        proc = subprocess.run([binary, "scan", "--config", config, "--format", "json"] + batch,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode not in (0, 1):
            raise AssertionError("cordon scan exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
        for line in proc.stdout.splitlines():
            row = json.loads(line)
            if "error" in row:
                raise AssertionError("cordon could not scan %s: %s" % (row["file"], row["error"]))
            fired = {}
            for policy in row["policies"]:
                count = sum(m["count"] for m in policy["matches"])
                samples = [s for m in policy["matches"] for s in m["samples"]]
                fired[policy["name"]] = (count, samples)
            out[row["file"]] = fired
    if len(out) != len(files):
        raise AssertionError("cordon reported %d of %d files" % (len(out), len(files)))
    return out


class DetectDifferential(unittest.TestCase):
    """One scan of every generated message; one test per identifier kind."""

    @classmethod
    def setUpClass(cls):
        if std_iban is None:  # OracleInstalled fails and says what to install
            raise unittest.SkipTest("python-stdnum is missing")
        binary = os.environ.get("CORDON_BIN")
        if not binary or not os.access(binary, os.X_OK):
            raise AssertionError("CORDON_BIN must name the cordon binary")
        started = time.monotonic()
        # Tens of thousands of small files: on tmpfs when there is one.
        shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
        cls.tmp = tempfile.TemporaryDirectory(prefix="cordon-detect-diff-", dir=shm)
        rng = random.Random(SEED)
        cls.cases, cls.skipped = build_cases(rng)
        config = os.path.join(cls.tmp.name, "config.yaml")
        with open(config, "w") as f:
            f.write(CONFIG)
        files = []
        for i, case in enumerate(cls.cases):
            case.file = os.path.join(cls.tmp.name, "m%06d.eml" % i)
            body = CONTEXTS[i % len(CONTEXTS)].format(v=case.text)
            with open(case.file, "w", newline="") as f:
                f.write(message(body))
            files.append(case.file)
        generated = time.monotonic()
        cls.results = run_cordon(binary, config, files)
        cls.timing = (generated - started, time.monotonic() - generated)
        cls.verdicts = {}
        for case in cls.cases:
            fired = cls.results[case.file].get(case.kind)
            found = fired is not None and fired[0] == 1 and fired[1] == [case.mask]
            cls.verdicts[case.file] = (found, fired)

    @classmethod
    def tearDownClass(cls):
        if not hasattr(cls, "cases"):
            return
        lines = ["", "detect differential (seed %d, %d messages, generated in %.1fs, scanned "
                 "in %.1fs):" % (SEED, len(cls.cases), cls.timing[0], cls.timing[1]),
                 "%-16s %7s %7s %7s %9s %7s %8s" % ("kind", "valid", "found", "recall",
                                                    "invalid", "FP", "skipped")]
        for kind in KINDS:
            rows = [c for c in cls.cases if c.kind == kind]
            valid = [c for c in rows if c.expected]
            invalid = [c for c in rows if not c.expected]
            found = sum(1 for c in valid if cls.verdicts[c.file][0])
            fp = sum(1 for c in invalid if cls.verdicts[c.file][1] is not None)
            recall = 100.0 * found / len(valid) if valid else 100.0
            lines.append("%-16s %7d %7d %6.2f%% %9d %7d %8d" % (kind, len(valid), found, recall,
                                                               len(invalid), fp,
                                                               cls.skipped[kind]))
        sys.stderr.write("\n".join(lines) + "\n")
        cls.tmp.cleanup()

    def check_kind(self, kind):
        rows = [c for c in self.cases if c.kind == kind]
        # Enough of both for the comparison to mean something.
        self.assertGreater(len([c for c in rows if c.expected]), n_of(100))
        self.assertGreater(len([c for c in rows if not c.expected]), n_of(100))
        disagreements = []
        for c in rows:
            found, fired = self.verdicts[c.file]
            if c.expected != found or (not c.expected and fired is not None):
                disagreements.append("%s %r in %r: oracle %s, cordon %s" % (
                    kind, c.value, c.text[:200], "valid" if c.expected else "invalid",
                    fired if fired is not None else "nothing"))
        self.assertEqual(disagreements, [], "\n" + "\n".join(disagreements[:25]) +
                         "\n(%d disagreements)" % len(disagreements))

    def test_credit_card(self):
        self.check_kind("credit_card")

    def test_iban(self):
        self.check_kind("iban")

    def test_us_ssn(self):
        self.check_kind("us_ssn")

    def test_aba_routing(self):
        self.check_kind("aba_routing")

    def test_uk_nino(self):
        self.check_kind("uk_nino")

    def test_aws_access_key(self):
        self.check_kind("aws_access_key")

    def test_private_key(self):
        self.check_kind("private_key")


class OracleInstalled(unittest.TestCase):
    def test_python_stdnum_is_installed(self):
        self.assertIsNotNone(std_iban, "python-stdnum is missing: run scripts/install-deps.sh "
                             "(Debian package python3-stdnum)")


if __name__ == "__main__":
    unittest.main()
