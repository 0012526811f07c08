"""No hiding place lets a payment card number through as clean.

One message per place where a sender can put data out of a reader's (or a
naive scanner's) sight -- header fields and display names, file names,
multipart preamble and epilogue, HTML comments, hidden elements and
entities, inline uuencode, unknown transfer encodings, message/partial
fragments, Unicode disguises of the digits -- each holding a different
Luhn-valid card number. All are scanned by one `cordon scan` with the
built-in policy pack; each must be blocked by the card policy with that
card's masked sample (so it is the planted number that was found, not
something else). See the "Hiding places" table in docs/detection.md.

Environment: CORDON_BIN (the cordon binary).
"""

import base64
import io
import os
import random
import sys
import tempfile
import unittest
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scan_support import scan  # noqa: E402

RNG = random.Random(20261202)


def luhn_complete(prefix_and_body):
    digits = [int(c) for c in prefix_and_body]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return prefix_and_body + str((10 - total % 10) % 10)


def new_card():
    return luhn_complete("4" + "".join(RNG.choice("0123456789") for _ in range(14)))


def mask(card):
    return card[:4] + "*" * (len(card) - 8) + card[-4:]


def groups(card, sep=" "):
    return sep.join(card[i:i + 4] for i in range(0, len(card), 4))


def fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else
                   ("\u3000" if c == " " else c) for c in s)


def digits_of_script(s, zero):
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in s)


def b64(s):
    return base64.encodebytes(s.encode("utf-8") if isinstance(s, str) else s).decode()


def rfc2047(s):
    return "=?utf-8?b?%s?=" % base64.b64encode(s.encode()).decode()


HEAD = "From: ann@example.com\nTo: bob@example.com\nSubject: hello\nMIME-Version: 1.0\n"


def plain(body, head=HEAD, charset="utf-8"):
    return head + "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: base64\n\n%s" % (
        charset, b64(body))


def html(markup):
    return HEAD + "Content-Type: text/html; charset=utf-8\n\n<html><body><p>Hi</p>%s</body></html>\n" % markup


def mixed(parts, preamble="", epilogue=""):
    out = HEAD + "Content-Type: multipart/mixed; boundary=\"BOUND\"\n\n" + preamble
    for p in parts:
        out += "\n--BOUND\n" + p
    return out + "\n--BOUND--\n" + epilogue


TEXT_PART = "Content-Type: text/plain\n\nsee attached\n"


def uuencode(name, data):
    import binascii
    lines = ["begin 644 %s" % name]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n").replace(" ", "`"))
    lines += ["`", "end"]
    return "\n".join(lines) + "\n"


def zip_of(name, text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, text)
    return buf.getvalue()


def partial(id_, number, total, body):
    t = "; total=%d" % total if total else ""
    return "Content-Type: message/partial; id=\"%s\"; number=%d%s\n\n%s" % (id_, number, t, body)


# Each builder gets a fresh card number and returns the message text.
CASES = {
    # Header fields other than Subject, and display names.
    "from_display_name": lambda c: HEAD.replace("From: ann@example.com",
                                                "From: \"Ann %s\" <ann@example.com>" % groups(c))
    + "\nhi\n",
    "to_display_name_rfc2047": lambda c: HEAD.replace(
        "To: bob@example.com", "To: %s <bob@example.com>" % rfc2047("Bob " + c)) + "\nhi\n",
    "cc_display_name": lambda c: HEAD + "Cc: \"%s\" <c@example.com>\n\nhi\n" % c,
    "reply_to_display_name": lambda c: HEAD + "Reply-To: Card %s <r@example.com>\n\nhi\n" % c,
    "comments_field": lambda c: HEAD + "Comments: card %s\n\nhi\n" % groups(c, "-"),
    "keywords_field": lambda c: HEAD + "Keywords: urgent, %s\n\nhi\n" % c,
    "organization_field": lambda c: HEAD + "Organization: %s\n\nhi\n" % groups(c),
    "x_field": lambda c: HEAD + "X-Note: %s\n\nhi\n" % c,
    "x_field_rfc2047": lambda c: HEAD + "X-Note: %s\n\nhi\n" % rfc2047("card " + groups(c)),
    "x_field_folded": lambda c: HEAD + "X-Note: card\n %s\n\nhi\n" % groups(c),
    "part_content_description": lambda c: mixed(
        [TEXT_PART, "Content-Type: application/octet-stream\nContent-Description: %s\n"
         "Content-Transfer-Encoding: base64\n\nAAECAw==\n" % groups(c)]),
    "part_x_field": lambda c: mixed([TEXT_PART.replace("\n\n", "\nX-Ref: %s\n\n" % c, 1)]),
    "attachment_file_name_rfc2231": lambda c: mixed(
        [TEXT_PART, "Content-Type: application/octet-stream\nContent-Disposition: attachment; "
         "filename*=utf-8''card%%20%s.bin\nContent-Transfer-Encoding: base64\n\nAAECAw==\n"
         % groups(c, "%20")]),
    "attachment_file_name_rfc2047": lambda c: mixed(
        [TEXT_PART, "Content-Type: application/octet-stream; name=\"%s\"\n"
         "Content-Transfer-Encoding: base64\n\nAAECAw==\n" % rfc2047(c + ".bin")]),
    "attached_message_x_field": lambda c: mixed(
        [TEXT_PART, "Content-Type: message/rfc822\n\nSubject: fwd\nX-Account: %s\n\ninner\n" % c]),
    # Multipart preamble and epilogue.
    "preamble": lambda c: mixed([TEXT_PART], preamble="card %s\n" % groups(c)),
    "epilogue": lambda c: mixed([TEXT_PART], epilogue="card %s\n" % groups(c)),
    # HTML out of sight.
    "html_comment": lambda c: html("<!-- card %s -->" % groups(c)),
    "html_display_none": lambda c: html("<div style=\"display:none\">%s</div>" % c),
    "html_hidden_attribute": lambda c: html("<span hidden>%s</span>" % groups(c)),
    "html_tiny_white_font": lambda c: html(
        "<font size=\"1\" color=\"#ffffff\" style=\"font-size:0px\">%s</font>" % c),
    "html_script": lambda c: html("<script>var card = '%s';</script>" % c),
    "html_style": lambda c: html("<style>/* %s */ p {}</style>" % groups(c)),
    "html_decimal_entities": lambda c: html("".join("&#%d;" % ord(d) for d in c)),
    "html_hex_entities": lambda c: html(" ".join("".join("&#x%x;" % ord(d) for d in g)
                                                 for g in groups(c).split())),
    "html_zero_width_entities": lambda c: html("&#8203;".join(groups(c).split())),
    "html_soft_hyphen_entities": lambda c: html("&shy;".join(c)),
    "html_data_attribute": lambda c: html("<span data-card=\"%s\">x</span>" % c),
    "html_input_value": lambda c: html("<input type=\"hidden\" value=\"%s\">" % c),
    "html_split_by_tags": lambda c: html("<b>%s</b><i>%s</i>" % (c[:8], c[8:])),
    # Encodings.
    "inline_uuencode_text": lambda c: HEAD + "\nfile follows\n" + uuencode(
        "cards.txt", ("card %s\n" % groups(c)).encode()) + "bye\n",
    "inline_uuencode_zip": lambda c: HEAD + "\n" + uuencode(
        "cards.zip", zip_of("cards.txt", "card %s\n" % groups(c))),
    "unknown_encoding_base64": lambda c: HEAD + "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: x-private\n\n" + b64("card %s" % groups(c)),
    "unknown_encoding_quoted_printable": lambda c: HEAD + "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: 9bit\n\ncard %s=\n%s\n" % (c[:2], groups(c, "=20")[2:]),
    # message/partial.
    "partial_fragments_reassembled": lambda c: mixed(
        [partial("p1@example.com", 2, 2, "%s\n" % groups(c)[10:]),
         partial("p1@example.com", 1, 0,
                 "Subject: inner\nContent-Type: text/plain\n\ncard " + groups(c)[:10])]),
    "partial_fragments_base64_across": lambda c: (lambda enc: mixed(
        [partial("p2@example.com", 1, 2, "Subject: inner\nContent-Type: text/plain\n"
                 "Content-Transfer-Encoding: base64\n\n" + enc[:12]),
         partial("p2@example.com", 2, 2, enc[12:])]))(b64("card number %s\n" % groups(c))),
    "partial_lone_fragment": lambda c: HEAD + "Content-Type: message/partial; id=\"p3@x\"; "
    "number=2; total=3\n\nrest of it: %s\n" % groups(c),
    # Unicode disguises of the digits.
    "fullwidth_digits": lambda c: plain("card %s\n" % fullwidth(groups(c))),
    "fullwidth_subject": lambda c: HEAD.replace("Subject: hello",
                                                "Subject: %s" % rfc2047(fullwidth(c))) + "\nhi\n",
    "zero_width_spaces": lambda c: plain("card %s\n" % "\u200b".join(c)),
    "zero_width_joiners": lambda c: plain("card %s\n" % "\u200d".join(groups(c).split())),
    "word_joiners": lambda c: plain("card %s\n" % "\u2060".join(c)),
    "byte_order_marks": lambda c: plain("card %s\n" % "\ufeff".join(groups(c).split())),
    "soft_hyphens": lambda c: plain("card %s\n" % "\u00ad".join(c)),
    "no_break_spaces": lambda c: plain("card %s\n" % groups(c, "\u00a0")),
    "en_dashes": lambda c: plain("card %s\n" % groups(c, "\u2013")),
    "dots": lambda c: plain("card %s\n" % groups(c, ".")),
    "arabic_indic_digits": lambda c: plain("card %s\n" % digits_of_script(c, 0x0660)),
    "devanagari_digits": lambda c: plain("card %s\n" % digits_of_script(groups(c), 0x0966)),
    "mathematical_digits": lambda c: plain("card %s\n" % digits_of_script(c, 0x1D7CE)),
    "fullwidth_utf16_body": lambda c: HEAD + "Content-Type: text/plain; charset=utf-16\n"
    "Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(
        ("card %s\n" % fullwidth(c)).encode("utf-16")).decode(),
    "fullwidth_and_zero_width_in_html": lambda c: html("&#8203;".join(fullwidth(c))),
}


class NoHidingPlacePassesAsClean(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="cordon-hiding-")
        cls.cards = {}
        files = []
        for name, build in CASES.items():
            card = new_card()
            cls.cards[name] = card
            path = os.path.join(cls.tmp.name, name + ".eml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(build(card))
            files.append(path)
        cls.rows = scan(files)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_place_is_found(self):
        missed = []
        for name, card in self.cards.items():
            row = self.rows[os.path.join(self.tmp.name, name + ".eml")]
            samples = [s for p in row["policies"] if p["name"] == "Payment card numbers"
                       for m in p["matches"] for s in m["samples"]]
            if row["verdict"] != "block" or mask(card) not in samples:
                missed.append((name, row["verdict"], samples, row.get("problems")))
        print("hiding places: %d, passed as clean or missed: %d" % (len(self.cards),
                                                                   len(missed)), file=sys.stderr)
        self.assertEqual(missed, [], "\n".join(map(str, missed)))

    def test_no_output_holds_a_full_number(self):
        for name, card in self.cards.items():
            row = self.rows[os.path.join(self.tmp.name, name + ".eml")]
            self.assertNotIn(card, str(row), name)


if __name__ == "__main__":
    unittest.main()
