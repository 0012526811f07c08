"""cordon prevent inspects attachments: a card number in a spreadsheet cell
inside a zip attachment is blocked, with the member's exact component path
in the incident; a clean zip passes."""

import base64
import io
import smtplib
import unittest
import zipfile

import peers
from prevent_support import STANDARD_POLICIES, PreventFixture


def xlsx_with(cell_text):
    """A minimal Office Open XML workbook whose first sheet holds one inline string."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
                   '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                   '</Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                   '</Relationships>')
        z.writestr("xl/workbook.xml",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                   'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                   '<sheets><sheet name="Customers" sheetId="1" r:id="rId1"/></sheets></workbook>')
        z.writestr("xl/_rels/workbook.xml.rels",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                   '</Relationships>')
        z.writestr("xl/worksheets/sheet1.xml",
                   '<?xml version="1.0" encoding="UTF-8"?>'
                   '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                   f'<row r="1"><c r="A1" t="inlineStr"><is><t>{cell_text}</t></is></c></row>'
                   '</sheetData></worksheet>')
    return buf.getvalue()


def zip_of(name, data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
    return buf.getvalue()


def message_with_attachment(subject, filename, data):
    b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
    return ("From: alice@corp.test\r\nTo: bob@ext.test\r\n"
            f"Subject: {subject}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain\r\n\r\nReport attached.\r\n"
            f'--b1\r\nContent-Type: application/octet-stream\r\n'
            f'Content-Disposition: attachment; filename="{filename}"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{b64}--b1--\r\n")


class PreventAttachmentsTest(unittest.TestCase):
    def setUp(self):
        self.f = PreventFixture(STANDARD_POLICIES)
        self.addCleanup(self.f.stop)

    def send(self, message):
        with smtplib.SMTP("127.0.0.1", self.f.port, timeout=30) as s:
            return s.sendmail("alice@corp.test", ["bob@ext.test"], message)

    def test_card_in_xlsx_inside_zip_is_blocked_with_its_component_path(self):
        data = zip_of("q3/customers.xlsx", xlsx_with("4111 1111 1111 1111"))
        with self.assertRaises(smtplib.SMTPDataError) as raised:
            self.send(message_with_attachment("q3 report", "report.zip", data))
        self.assertEqual(raised.exception.smtp_code, 550)
        [incident] = self.f.incidents()
        components = {m["component"] for p in incident["policies"] for m in p["matches"]}
        self.assertIn("attachment:report.zip/q3/customers.xlsx", components)
        self.assertEqual(self.f.delivered(), [])

    def test_clean_zip_is_relayed(self):
        data = zip_of("q3/customers.xlsx", xlsx_with("Order 12345, all paid"))
        self.send(message_with_attachment("clean report", "report.zip", data))
        peers.wait_until(lambda: len(self.f.delivered()) == 1, timeout=10, what="delivery")
        self.assertEqual(self.f.incidents(), [])


if __name__ == "__main__":
    unittest.main()
