"""Indexed Document Matching through cordon prevent: documents indexed by
`cordon idm index` from a PDF and a DOCX; half of one, re-wrapped and
re-cased, inside a DOCX or a PDF attachment is blocked and the incident
names the document and its share; a short excerpt and unrelated text are
delivered; SIGHUP after re-indexing applies the new index; check-config
refuses the index of another profile."""

import os
import random
import subprocess
import sys
import tempfile
import unittest

import peers
from prevent_support import PreventFixture, make_message
from test_prevent_attachments import message_with_attachment

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "extract"))
import make_corpus  # noqa: E402  (hand-written PDF and DOCX)

BIN = os.environ.get("CORDON_BIN", os.path.join(os.getcwd(), "cordon"))

POLICY = """  - name: Board papers
    match:
      any:
        - idm: {profile: board, min_percent: 30}
    respond:
      - block: "Your message contains a confidential document."
"""

WORDS = ("board revenue quarter forecast merger the of and strategy risk market growth "
         "capital margin to in acquire target plan budget cost review a is approved pending "
         "europe asia product launch delay staff legal counsel advice share price offer").split()
FOOTER = ("Confidential: for the board of directors of Example Holdings only. Do not "
          "forward or copy without the consent of the company secretary.")


def lines(seed, count):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(10)) + "." for _ in range(count)]


def mangle(text_lines):
    """Re-wrapped, upper-cased, re-punctuated."""
    words = " ".join(text_lines).replace(".", "").split()
    return [" ; ".join(words[i:i + 7]).upper() for i in range(0, len(words), 7)]


class PreventIdmTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cordon-idm-")
        for d in ("keys", "index", "docs"):
            os.makedirs(os.path.join(self.dir, d))
        self.board = lines(1, 120)
        self.merger = lines(2, 120)
        footer = os.path.join(self.dir, "footer.txt")
        with open(footer, "w") as f:
            f.write(FOOTER + "\n")
        self.index = os.path.join(self.dir, "index", "board.idm")
        self.idm = (f"idm:\n  key_file: {os.path.join(self.dir, 'keys', 'idm.key')}\n"
                    f"  profiles:\n    - {{name: board, index: {self.index}, "
                    f"boilerplate: [{footer}]}}\n")
        self.build({"board-paper.pdf": make_corpus.pdf(self.board + [FOOTER]),
                    "merger.docx": make_corpus.docx(self.merger + [FOOTER])})
        self.f = PreventFixture(POLICY + self.idm)
        self.addCleanup(self.f.stop)

    def build(self, files):
        docs = os.path.join(self.dir, "docs")
        for name in os.listdir(docs):
            os.remove(os.path.join(docs, name))
        for name, data in files.items():
            with open(os.path.join(docs, name), "wb") as f:
                f.write(data)
        conf = os.path.join(self.dir, "index.yaml")
        with open(conf, "w") as f:
            f.write(self.idm)
        r = subprocess.run([BIN, "idm", "index", "--config", conf, "--profile", "board", docs],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"indexed {len(files)} documents", r.stdout)

    def assert_blocked(self, message):
        with self.assertRaises(Exception) as ctx:
            self.f.send(message)
        self.assertEqual(getattr(ctx.exception, "smtp_code", None), 550, ctx.exception)
        self.assertIn(b"confidential document", ctx.exception.smtp_error)

    def test_excerpts_in_attachments_are_blocked_and_short_ones_delivered(self):
        half_board = mangle(self.board[30:90])
        self.assert_blocked(message_with_attachment(
            "draft", "draft.docx", make_corpus.docx(half_board)))
        self.assert_blocked(message_with_attachment(
            "scan", "scan.pdf", make_corpus.pdf(self.merger[0:60])))
        # A tenth, unrelated text, and the footer alone: delivered.
        self.f.send(message_with_attachment(
            "tenth", "tenth.docx", make_corpus.docx(mangle(self.board[50:62]))))
        self.f.send(make_message("unrelated", "\r\n".join(lines(3, 120))))
        self.f.send(make_message("footer", FOOTER + "\r\n" + FOOTER))
        peers.wait_until(lambda: len(self.f.delivered()) == 3, timeout=10, what="3 deliveries")
        incidents = self.f.incidents()
        self.assertEqual(len(incidents), 2)
        matches = [m for i in incidents for p in i["policies"] for m in p["matches"]]
        self.assertEqual({m["rule"] for m in matches}, {"idm:board"})
        samples = sorted(s for m in matches for s in m["samples"])
        self.assertEqual(len(samples), 2, samples)
        self.assertTrue(samples[0].startswith("board-paper.pdf "), samples)
        self.assertTrue(samples[1].startswith("merger.docx "), samples)
        for s in samples:
            self.assertGreaterEqual(int(s.split()[-1].rstrip("%")), 30, s)
        components = {m["component"] for m in matches}
        self.assertEqual(components, {"attachment:draft.docx", "attachment:scan.pdf"})

    def test_a_rebuilt_index_applies_after_sighup(self):
        self.build({"merger.docx": make_corpus.docx(self.merger)})
        before = self.f.cordon.output().count("configuration reloaded")
        self.f.cordon.reload()
        peers.wait_until(lambda: self.f.cordon.output().count("configuration reloaded") > before,
                         timeout=10, what="reload")
        self.f.send(message_with_attachment(
            "old", "draft.docx", make_corpus.docx(self.board[30:90])))
        self.assert_blocked(message_with_attachment(
            "new", "m.docx", make_corpus.docx(self.merger[10:80])))
        peers.wait_until(lambda: len(self.f.delivered()) == 1, timeout=10, what="1 delivery")

    def test_files_without_text_are_named_and_fail_the_run(self):
        docs = os.path.join(self.dir, "docs")
        with open(os.path.join(docs, "photo.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
        with open(os.path.join(docs, "memo.txt"), "w") as f:
            f.write("\n".join(self.board))
        conf = os.path.join(self.dir, "index.yaml")
        r = subprocess.run([BIN, "idm", "index", "--config", conf, "--profile", "board", docs],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("skipped " + os.path.join(docs, "photo.png"), r.stderr)
        self.assertIn("indexed 3 documents", r.stdout)
        r = subprocess.run([BIN, "idm", "index", "--config", conf, "--profile", "nope", docs],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no IDM profile 'nope'", r.stderr)

    def test_check_config_refuses_the_index_of_another_profile(self):
        conf = os.path.join(self.dir, "other.yaml")
        with open(conf, "w") as f:
            f.write(self.idm.replace("name: board", "name: legal") + "policies:\n" +
                    POLICY.replace("profile: board", "profile: legal"))
        r = subprocess.run([BIN, "check-config", conf], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("index of the IDM profile 'board'", r.stderr)
        with open(self.index, "rb") as f:
            data = f.read()
        for plain in (b"revenue", b"board revenue", b"confidential", b"REVENUE"):
            self.assertNotIn(plain, data)


if __name__ == "__main__":
    unittest.main()
