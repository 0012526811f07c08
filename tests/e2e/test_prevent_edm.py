"""Exact Data Match through cordon prevent: two fields of one indexed row in
a message (the body, a CSV attachment, an XLSX row) are blocked with the fields masked in
the incident; fields of two rows are not; SIGHUP after `cordon edm index`
rebuilt the index applies the new table; check-config refuses a profile
whose index indexes other columns."""

import base64
import json
import os
import subprocess
import tempfile
import unittest

import peers
from prevent_support import PreventFixture, make_message
from test_prevent_attachments import message_with_attachment, xlsx_with

BIN = os.environ.get("CORDON_BIN", os.path.join(os.getcwd(), "cordon"))

POLICY = """  - name: Customer records
    match:
      any:
        - edm: {profile: customers, min_fields: 2}
    respond:
      - block: "Your message contains customer records."
"""

TABLE_1 = ("name,ssn,card,email\n"
           "John Smith,123-45-6789,4111 1111 1111 1111,john.smith@example.com\n"
           "Mary Jones,987-65-4321,5500 0000 0000 0004,mary@jones.test\n")
TABLE_2 = "name,ssn,card,email\nZed Zulu,222-33-4444,,zed@zulu.test\n"


def csv_attachment(subject, csv_text):
    b64 = base64.b64encode(csv_text.encode()).decode()
    return make_message(
        subject, "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\n"
        "Content-Type: text/csv\r\nContent-Disposition: attachment; filename=\"export.csv\"\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{b64}\r\n--b--\r\n",
        extra="MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n")


class PreventEdmTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cordon-edm-")
        os.makedirs(os.path.join(self.dir, "keys"))
        os.makedirs(os.path.join(self.dir, "index"))
        self.key = os.path.join(self.dir, "keys", "edm.key")
        self.index = os.path.join(self.dir, "index", "customers.edm")
        self.edm = (f"edm:\n  key_file: {self.key}\n  profiles:\n"
                    f"    - {{name: customers, index: {self.index}, "
                    "columns: [name, ssn, card, email]}\n")
        self.build(TABLE_1)
        self.f = PreventFixture(POLICY + self.edm)
        self.addCleanup(self.f.stop)

    def build(self, table):
        csv = os.path.join(self.dir, "table.csv")
        with open(csv, "w") as f:
            f.write(table)
        conf = os.path.join(self.dir, "index.yaml")
        with open(conf, "w") as f:
            f.write(self.edm)
        r = subprocess.run([BIN, "edm", "index", "--config", conf, "--profile", "customers", csv],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        os.remove(csv)

    def assert_blocked(self, message):
        with self.assertRaises(Exception) as ctx:
            self.f.send(message)
        self.assertEqual(getattr(ctx.exception, "smtp_code", None), 550, ctx.exception)
        self.assertIn(b"customer records", ctx.exception.smtp_error)

    def test_fields_of_one_row_are_blocked_and_recorded_masked(self):
        self.assert_blocked(make_message("hi", "Customer JOHN  SMITH, ssn 123 45 6789"))
        self.assert_blocked(csv_attachment("export", "id,name,ssn\n7,Mary Jones,987654321\n"))
        # Two cells of a spreadsheet row.
        two_cells = ('MARY JONES</t></is></c><c r="B1" t="inlineStr"><is><t>'
                     "5500-0000-0000-0004")
        self.assert_blocked(message_with_attachment("sheet", "customers.xlsx", xlsx_with(two_cells)))
        # Two rows, one field each; a near-miss; a single field: delivered.
        self.f.send(make_message("two rows", "John Smith, ssn 987-65-4321"))
        self.f.send(make_message("near miss", "John Smith, ssn 123-45-6788"))
        self.f.send(make_message("one field", "mail john.smith@example.com"))
        peers.wait_until(lambda: len(self.f.delivered()) == 3, timeout=10, what="3 deliveries")
        incidents = self.f.incidents()
        self.assertEqual(len(incidents), 3)
        text = repr(incidents)
        # Nor in the database itself (the admin's preview of a message is not
        # kept when an EDM row matched: it would hold the fields as written).
        stored = b""
        for name in os.listdir(self.f.data_dir):
            if name.startswith("incidents.db"):
                with open(os.path.join(self.f.data_dir, name), "rb") as f:
                    stored += f.read()
        self.assertIn(b"edm:customers", stored)
        for plain in ("123 45 6789", "123456789", "987654321", "Mary Jones", "JOHN  SMITH",
                      "MARY JONES", "5500-0000-0000-0004"):
            self.assertNotIn(plain, text)
            self.assertNotIn(plain.encode(), stored)
        rules = {m["rule"] for i in incidents for p in i["policies"] for m in p["matches"]}
        self.assertEqual(rules, {"edm:customers"})
        components = {m["component"] for i in incidents for p in i["policies"] for m in p["matches"]}
        self.assertIn("attachment:export.csv", components)
        self.assertTrue(any(c.startswith("attachment:customers.xlsx") for c in components),
                        components)

    def test_a_rebuilt_index_applies_after_sighup(self):
        self.f.send(make_message("before", "Zed Zulu 222-33-4444"))
        self.build(TABLE_2)
        before = self.f.cordon.output().count("configuration reloaded")
        self.f.cordon.reload()
        peers.wait_until(lambda: self.f.cordon.output().count("configuration reloaded") > before,
                         timeout=10, what="reload")
        self.assert_blocked(make_message("after", "Zed Zulu 222-33-4444"))
        self.f.send(make_message("old row", "John Smith 123-45-6789"))
        peers.wait_until(lambda: len(self.f.delivered()) == 2, timeout=10, what="2 deliveries")

    def test_cordon_scan_finds_the_same_rows(self):
        conf = os.path.join(self.dir, "scan.yaml")
        with open(conf, "w") as f:
            f.write(self.edm + "policies:\n" + POLICY)
        paths = []
        for name, body in (("one-row", "Customer John Smith, SSN 123-45-6789."),
                           ("two-rows", "John Smith, SSN 987-65-4321")):
            path = os.path.join(self.dir, name + ".eml")
            message = make_message(name, body)
            with open(path, "wb") as f:
                f.write(message if isinstance(message, bytes) else message.encode())
            paths.append(path)
        r = subprocess.run([BIN, "scan", "--config", conf, "--format", "json", *paths],
                           capture_output=True, text=True)
        verdicts = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        self.assertEqual(len(verdicts), 2, r.stdout + r.stderr)
        fired = [[p["name"] for p in v["policies"]] for v in verdicts]
        self.assertEqual(fired, [["Customer records"], []], r.stdout)
        self.assertNotIn("John", r.stdout.split('"policies"')[1])  # fields shown masked

    def test_check_config_refuses_an_index_of_other_columns(self):
        conf = os.path.join(self.dir, "other.yaml")
        with open(conf, "w") as f:
            f.write(self.edm.replace("columns: [name, ssn, card, email]", "columns: [name, ssn]")
                    + "policies:\n" + POLICY)
        r = subprocess.run([BIN, "check-config", conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("run cordon edm index again", r.stderr)
        with open(self.index, "rb") as f:
            data = f.read()
        for plain in (b"John", b"john", b"123456789", b"4111", b"example.com", b"Mary"):
            self.assertNotIn(plain, data)


if __name__ == "__main__":
    unittest.main()
