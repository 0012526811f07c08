#!/usr/bin/env python3
"""Builds the attachment corpus for the extract tests and benchmark, with
real tools only: Python's zipfile/tarfile/gzip/bz2/lzma, Info-ZIP `zip -e`
for a password-protected zip, and hand-written PDF, RTF, CFB and Office
XML (the formats are specified; no office suite is needed).

Usage: make_corpus.py OUTPUT_DIR [--bombs]

Every file carries known values (see VALUES) so tests can assert exactly
what is found and where."""

import bz2
import email.message
import email.policy
import gzip
import hashlib
import io
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

VALUES = {
    "card_xlsx": "4111111111111111",   # shared string cell
    "card_inline": "5555555555554444",  # inline string cell, second sheet
    "card_docx": "4012888888881881",
    "card_pptx": "378282246310005",
    "card_odt": "6011111111111117",
    "card_ods": "5105105105105100",
    "card_pdf": "4222222222222",       # 13-digit Visa
    "card_rtf": "3530111333300000",
    "card_csv": "6011000990139424",
    "card_nested": "4916338506082832",
    "ssn": "219-09-9999",
}

XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def docx(paragraphs, header=None):
    body = "".join(f'<w:p><w:r><w:t xml:space="preserve">{esc(p)}</w:t></w:r></w:p>' for p in paragraphs)
    doc = (XML + '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
           f"<w:body>{body}</w:body></w:document>")
    entries = [
        ("[Content_Types].xml", XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("_rels/.rels", XML + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        ("word/document.xml", doc),
    ]
    if header:
        entries.append(("word/header1.xml", XML + '<w:hdr xmlns:w="x"><w:p><w:r><w:t>' + esc(header) + "</w:t></w:r></w:p></w:hdr>"))
    return zip_bytes(entries)


def xlsx(shared_rows, inline_rows):
    """Sheet 1: cells from the shared string table and numbers; sheet 2:
    inline strings. Each row is a list of values (str or int)."""
    shared = []

    def sheet(rows, inline):
        out = []
        for r, row in enumerate(rows, 1):
            cells = []
            for c, v in enumerate(row):
                ref = f"{chr(65 + c)}{r}"
                if isinstance(v, int):
                    cells.append(f'<c r="{ref}"><v>{v}</v></c>')
                elif inline:
                    cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{esc(v)}</t></is></c>')
                else:
                    shared.append(v)
                    cells.append(f'<c r="{ref}" t="s"><v>{len(shared) - 1}</v></c>')
            out.append(f'<row r="{r}">{"".join(cells)}</row>')
        return (XML + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f'<sheetData>{"".join(out)}</sheetData></worksheet>')

    s1 = sheet(shared_rows, False)
    s2 = sheet(inline_rows, True)
    sst = (XML + f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(shared)}">'
           + "".join(f"<si><t>{esc(s)}</t></si>" for s in shared) + "</sst>")
    return zip_bytes([
        ("[Content_Types].xml", XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
        ("xl/workbook.xml", XML + '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheets>'
         '<sheet name="Q3" sheetId="1"/><sheet name="Extra" sheetId="2"/></sheets></workbook>'),
        ("xl/sharedStrings.xml", sst),
        ("xl/worksheets/sheet1.xml", s1),
        ("xl/worksheets/sheet2.xml", s2),
    ])


def pptx(slides):
    entries = [
        ("[Content_Types].xml", XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
        ("ppt/presentation.xml", XML + '<p:presentation xmlns:p="p"/>'),
    ]
    # Written out of order: extraction must read slide 2 before slide 10.
    for i in reversed(range(len(slides))):
        paras = "".join(f"<a:p><a:r><a:t>{esc(t)}</a:t></a:r></a:p>" for t in slides[i])
        entries.append((f"ppt/slides/slide{i + 1}.xml",
                        XML + f'<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody>{paras}'
                        "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"))
    return zip_bytes(entries)


def odf(kind, body):
    mimetype = f"application/vnd.oasis.opendocument.{kind}"
    content = (XML + '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">'
               f"<office:body>{body}</office:body></office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype)  # stored, first, as ODF requires
        z.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", XML + "<manifest:manifest xmlns:manifest=\"m\"/>", zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def odt(paragraphs):
    return odf("text", "<office:text>" + "".join(f"<text:p>{esc(p)}</text:p>" for p in paragraphs) + "</office:text>")


def ods(rows):
    trs = "".join("<table:table-row>" + "".join(
        f'<table:table-cell office:value-type="string"><text:p>{esc(c)}</text:p></table:table-cell>' for c in row)
        + "</table:table-row>" for row in rows)
    return odf("spreadsheet", f'<office:spreadsheet><table:table table:name="S">{trs}</table:table></office:spreadsheet>')


def odp(texts):
    return odf("presentation", "<office:presentation>" + "".join(
        f"<draw:page><draw:frame><draw:text-box><text:p>{esc(t)}</text:p></draw:text-box></draw:frame></draw:page>"
        for t in texts) + "</office:presentation>")


# ---- PDF ----

PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key, data):
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 255
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for b in data:
        i = (i + 1) & 255
        j = (j + s[i]) & 255
        s[i], s[j] = s[j], s[i]
        out.append(b ^ s[(s[i] + s[j]) & 255])
    return bytes(out)


def pdf(lines, user_password=None):
    """A one-page PDF with Helvetica text; with user_password, encrypted with
    the standard security handler (RC4 40-bit, revision 2)."""
    ops = ["BT /F1 12 Tf 72 720 Td 14 TL"]
    for ln in lines:
        ops.append("(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*")
    ops.append("ET")
    content = "\n".join(ops).encode("latin-1")
    file_id = hashlib.md5(b"cordon-test").digest()
    encrypt = None
    key = None
    if user_password is not None:
        pw = lambda p: (p.encode() + PAD)[:32]
        owner_key = hashlib.md5(pw("owner-secret")).digest()[:5]
        o = rc4(owner_key, pw(user_password))
        perms = -4
        key = hashlib.md5(pw(user_password) + o + struct.pack("<i", perms) + file_id).digest()[:5]
        u = rc4(key, PAD)
        encrypt = f"<< /Filter /Standard /V 1 /R 2 /O <{o.hex()}> /U <{u.hex()}> /P {perms} >>".encode()
        obj_key = hashlib.md5(key + struct.pack("<i", 4)[:3] + b"\0\0").digest()[:10]
        content = rc4(obj_key, content)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    if encrypt:
        objs.append(encrypt)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objs) + 1} /Root 1 0 R /ID [<{file_id.hex()}> <{file_id.hex()}>]"
    if encrypt:
        trailer += f" /Encrypt {len(objs)} 0 R"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# ---- CFB (encrypted OOXML container) ----

def encrypted_ooxml():
    """A Compound File Binary container as MS-OFFCRYPTO stores a
    password-protected docx: EncryptionInfo + EncryptedPackage streams."""
    sec = 512
    info = b"\x04\x00\x04\x00\x40\x00\x00\x00" + os.urandom(4096 - 8)  # agile encryption header
    package = os.urandom(4096)
    n_info, n_pkg = len(info) // sec, len(package) // sec
    ENDOFCHAIN, FATSECT, FREESECT = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    fat = [FATSECT, ENDOFCHAIN]  # sector 0: FAT, sector 1: directory
    first_info = 2
    for i in range(n_info):
        fat.append(first_info + i + 1 if i < n_info - 1 else ENDOFCHAIN)
    first_pkg = first_info + n_info
    for i in range(n_pkg):
        fat.append(first_pkg + i + 1 if i < n_pkg - 1 else ENDOFCHAIN)
    fat += [FREESECT] * (128 - len(fat))

    def entry(name, kind, left, right, child, start, size):
        n = (name + "\0").encode("utf-16-le")
        return (n.ljust(64, b"\0") + struct.pack("<HBB", len(n), kind, 1)
                + struct.pack("<III", left, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
                + struct.pack("<IQ", start, size))
    NOSTREAM = 0xFFFFFFFF
    directory = (entry("Root Entry", 5, NOSTREAM, NOSTREAM, 1, ENDOFCHAIN, 0)
                 + entry("EncryptionInfo", 2, NOSTREAM, 2, NOSTREAM, first_info, len(info))
                 + entry("EncryptedPackage", 2, NOSTREAM, NOSTREAM, NOSTREAM, first_pkg, len(package))
                 + b"\0" * 128)
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
              + b"\0" * 6 + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0))
    difat = [0] + [FREESECT] * 108
    header += struct.pack("<109I", *difat)
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + info + package


# ---- archives ----

def tar_bytes(entries, mode):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def encrypted_zip(workdir, entries, password="s3cret"):
    stage = os.path.join(workdir, "stage-enc")
    os.makedirs(stage, exist_ok=True)
    for name, data in entries:
        with open(os.path.join(stage, name), "wb") as f:
            f.write(data)
    out = os.path.join(workdir, "encrypted.zip")
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["zip", "-q", "-e", "-P", password, out] + [n for n, _ in entries], cwd=stage, check=True)
    shutil.rmtree(stage)
    with open(out, "rb") as f:
        return f.read()


def zeros_zip(size, name="zeros.bin"):
    """A zip of `size` zero bytes compressed ~1000:1, written block by block
    (full flushes make every 1 MiB block compress identically) so that a
    1 GiB bomb takes a second to make."""
    block = 1 << 20
    assert size % block == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = c.compress(b"\0" * block) + c.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # empty final block
    crc = 0
    zero = b"\0" * block
    for _ in range(size // block):
        crc = zlib.crc32(zero, crc)
    data = unit * (size // block) + tail
    n = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(n), 0) + n
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                          len(n), 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


def nested_bomb(levels=3, copies=16, inner_size=64 << 20):
    """42.zip style: every level holds `copies` copies of the level below."""
    data = zeros_zip(inner_size)
    for level in range(levels):
        data = zip_bytes([(f"level{level}-{i}.zip", data) for i in range(copies)])
    return data


def deep_zip(depth, payload):
    data = payload
    for level in range(depth, 0, -1):
        data = zip_bytes([(f"d{level}.zip" if level < depth else "secret.txt", data)])
    return data


# ---- messages ----

def message(subject, attachments, forward=False):
    inner = email.message.EmailMessage(policy=email.policy.SMTP)
    inner["From"] = "alice@example.com"
    inner["To"] = "bob@partner.example"
    inner["Subject"] = subject
    inner.set_content("Please see the attached files.\n")
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        inner.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if not forward:
        return inner.as_bytes()
    outer = email.message.EmailMessage(policy=email.policy.SMTP)
    outer["From"] = "carol@example.com"
    outer["To"] = "dave@outside.example"
    outer["Subject"] = "Fwd: " + subject
    outer.set_content("Forwarding this.\n")
    outer.add_attachment(inner, filename="fwd.eml")
    return outer.as_bytes()


def rtf(text_lines):
    body = "\\par\n".join(text_lines)
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 Arial;}}{\\colortbl;\\red0\\green0\\blue0;}"
            "{\\*\\generator Hidden 4111111111111111;}\\f0\\fs20 " + body + "}").encode("latin-1")


def corpus():
    v = VALUES
    files = {}
    files["customers.xlsx"] = xlsx(
        [["Name", "Card", "Balance"], ["Jane Roe", v["card_xlsx"], 1200], ["Total", "", 98765]],
        [["Note", "card " + v["card_inline"]]])
    files["memo.docx"] = docx(["Quarterly memo", "Card on file: " + v["card_docx"]], header="Internal use")
    files["deck.pptx"] = pptx([["Slide one"], ["Amex " + v["card_pptx"]]] + [[f"Slide {i}"] for i in range(3, 11)])
    files["notes.odt"] = odt(["Notes", "card " + v["card_odt"]])
    files["sheet.ods"] = ods([["Name", "Card"], ["Max", v["card_ods"]]])
    files["talk.odp"] = odp(["Title slide", "Closing remarks"])
    files["statement.pdf"] = pdf(["Statement", "Card " + v["card_pdf"]])
    files["locked.pdf"] = pdf(["Card " + v["card_pdf"]], user_password="open-sesame")
    files["letter.rtf"] = rtf(["Dear customer,", "your card 3530\\'a0111333300000 is \\u8364? ready.",
                               "SSN " + v["ssn"]])
    files["export.csv"] = ("name;card;city\nJürgen;" + v["card_csv"] + ";Köln\n").encode("utf-16")
    files["page.html"] = ("<html><head><meta charset=\"iso-8859-1\"></head><body><p>Caf\xe9</p>"
                          "<td>" + v["ssn"] + "</td></body></html>").encode("latin-1")
    files["secret.docx"] = encrypted_ooxml()
    files["report.zip"] = zip_bytes([("q3/customers.xlsx", files["customers.xlsx"]),
                                     ("q3/readme.txt", b"nothing here\n")])
    files["bundle.tar.gz"] = tar_bytes([("docs/memo.docx", files["memo.docx"]),
                                        ("docs/export.csv", files["export.csv"])], "w:gz")
    files["archive.tar.bz2"] = tar_bytes([("notes.odt", files["notes.odt"])], "w:bz2")
    files["archive.tar.xz"] = tar_bytes([("letter.rtf", files["letter.rtf"])], "w:xz")
    files["plain.tar"] = tar_bytes([("sheet.ods", files["sheet.ods"])], "w")
    files["statement.pdf.gz"] = gzip.compress(files["statement.pdf"])
    files["export.csv.bz2"] = bz2.compress(files["export.csv"])
    files["letter.rtf.xz"] = lzma.compress(files["letter.rtf"])
    files["nested.zip"] = zip_bytes([("inner/level2.zip", zip_bytes([("level3.tar.gz", tar_bytes(
        [("deep/card.txt", ("card " + v["card_nested"] + "\n").encode())], "w:gz"))]))])
    files["deep.zip"] = deep_zip(12, ("card " + v["card_nested"] + "\n").encode())
    return files


def main():
    out = sys.argv[1]
    bombs = "--bombs" in sys.argv
    os.makedirs(out, exist_ok=True)
    files = corpus()
    if shutil.which("zip"):
        files["encrypted.zip"] = encrypted_zip(out, [("payroll.xlsx", files["customers.xlsx"])])
    if bombs:
        files["zeros.zip"] = zeros_zip(1 << 30)
        files["42.zip"] = nested_bomb()
    for name, data in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    # Messages for `cordon scan`.
    msgs = {
        "forwarded-zip-xlsx.eml": message("Q3 numbers", [("report.zip", files["report.zip"], "application/zip")],
                                          forward=True),
        "pdf-locked.eml": message("statement", [("locked.pdf", files["locked.pdf"], "application/pdf")]),
        "docs.eml": message("docs", [("memo.docx", files["memo.docx"], "application/octet-stream"),
                                     ("letter.rtf", files["letter.rtf"], "application/rtf")]),
        "clean.eml": message("lunch", [("talk.odp", files["talk.odp"], "application/vnd.oasis.opendocument.presentation")]),
        "program.eml": message("tool", [("setup.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
                                         + b"\xb8" + b"\x00" * 47 + b"\x80\x00\x00\x00" + b"\x00" * 64
                                         + b"PE\x00\x00\x4c\x01\x01\x00" + b"\x00" * 200, "text/plain")]),
    }
    if "encrypted.zip" in files:
        msgs["encrypted-zip.eml"] = message("payroll", [("payroll.zip", files["encrypted.zip"], "application/zip")])
    if bombs:
        msgs["bomb.eml"] = message("zeros", [("zeros.zip", files["zeros.zip"], "application/zip")])
        msgs["bomb42.eml"] = message("42", [("42.zip", files["42.zip"], "application/zip")])
    for name, data in msgs.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
