"""`run_as:`: cordon started as root binds its listeners (a port below 1024
included) and then runs as the user: every thread's ids are the user's and
no capability is left, mail still flows through gateway and prevent, and
what cordon writes is the user's. A data_dir the user cannot write stops it
at start with a message naming the fix."""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import unittest

import peers

USER = "nobody"


def free_low_port():
    """A port below 1024 on 127.0.0.1 that nothing listens on."""
    for port in range(1000, 900, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise unittest.SkipTest("no free port below 1024 on 127.0.0.1")


def status_fields(pid):
    """{task id: {"Uid": [...], "Gid": [...], "CapEff": "...", ...}} of every thread."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*/status"):
        fields = {}
        with open(task) as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.split()
        out[task] = fields
    return out


def config(data_dir, port, resubmit, prevent, extra=""):
    return f"""data_dir: {data_dir}
run_as: {USER}
gateway:
  listen: 127.0.0.1:{port}
  resubmit_listen: 127.0.0.1:{resubmit}
  dlp: {{hosts: [127.0.0.1:{prevent}]}}
  deliver: maildir
prevent:
  listen: 127.0.0.1:{prevent}
  mode: reflect
  next_hop: 127.0.0.1:{resubmit}
include_builtin_policies: true
{extra}"""


@unittest.skipUnless(os.geteuid() == 0, "run_as needs the test to run as root")
class RunAs(unittest.TestCase):
    def setUp(self):
        self.user = pwd.getpwnam(USER)
        self.workdir = tempfile.mkdtemp(prefix="cordon-run-as-")
        # The user reads the configuration (and reloads it) and reaches data_dir.
        os.chmod(self.workdir, 0o755)
        self.data = os.path.join(self.workdir, "data")
        os.mkdir(self.data, 0o750)
        self.cordon = None

    def tearDown(self):
        if self.cordon:
            self.cordon.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, chown=True):
        if chown:
            os.chown(self.data, self.user.pw_uid, self.user.pw_gid)
        self.port, resubmit, prevent = free_low_port(), peers.free_port(), peers.free_port()
        self.cordon = peers.Cordon(config(self.data, self.port, resubmit, prevent), self.workdir)
        os.chmod(self.cordon.config_path, 0o644)
        return self.cordon

    def swaks(self, subject, body):
        return subprocess.run(["swaks", "--server", f"127.0.0.1:{self.port}", "--from",
                               "alice@corp.example", "--to", "bob@partner.example", "--header",
                               f"Subject: {subject}", "--body", body],
                              capture_output=True, text=True, timeout=60)

    def test_binds_a_low_port_then_runs_as_the_user_with_no_capability_and_mail_flows(self):
        c = self.start().start()
        peers.wait_until(lambda: "root privileges dropped" in c.output(), timeout=20,
                         what="the privilege drop in the log")
        uid, gid = str(self.user.pw_uid), str(self.user.pw_gid)
        threads = status_fields(c.proc.pid)
        self.assertGreater(len(threads), 1)
        for task, fields in threads.items():
            self.assertEqual(fields["Uid"], [uid] * 4, task)
            self.assertEqual(fields["Gid"], [gid] * 4, task)
            for cap in ("CapEff", "CapPrm", "CapAmb"):
                self.assertEqual(int(fields[cap][0], 16), 0, f"{task} {cap}")

        r = self.swaks("clean", "Lunch at noon?")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        maildir = os.path.join(self.data, "maildir", "new")
        delivered = peers.wait_until(lambda: os.path.isdir(maildir) and os.listdir(maildir),
                                     timeout=30, what="the clean message delivered")
        self.assertEqual(os.stat(os.path.join(maildir, delivered[0])).st_uid, self.user.pw_uid)

        # A card number: blocked by prevent, the incident written as the user.
        self.assertEqual(self.swaks("card", "Card 4111 1111 1111 1111 exp 12/29").returncode, 0)
        db = os.path.join(self.data, "incidents.db")
        peers.wait_until(lambda: os.path.exists(db), timeout=30, what="incidents.db")
        peers.wait_until(lambda: "Incident ID: 1" in self.bounces(), timeout=30,
                         what="the block reply in the DSN")
        # Before `cordon incidents` runs as root beside it.
        for entry in os.listdir(self.data):
            self.assertEqual(os.stat(os.path.join(self.data, entry)).st_uid, self.user.pw_uid,
                             entry)
        self.assertIn("Payment card numbers", c.run("incidents").stdout)

    def bounces(self):
        maildir = os.path.join(self.data, "maildir", "new")
        text = ""
        for name in os.listdir(maildir):
            with open(os.path.join(maildir, name), errors="replace") as f:
                text += f.read()
        return text

    def test_a_data_dir_the_user_cannot_write_stops_the_start_naming_the_fix(self):
        c = self.start(chown=False)
        r = subprocess.run([peers.cordon_bin(), "run", "--config", c.config_path],
                           cwd=self.workdir, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(f"is not readable and writable by user {USER}", r.stderr)
        self.assertIn(f"chown -R {USER}: {self.data}", r.stderr)

    def test_an_entry_of_data_dir_left_by_root_stops_the_start(self):
        os.chown(self.data, self.user.pw_uid, self.user.pw_gid)
        with open(os.path.join(self.data, "incidents.db"), "w"):
            pass
        os.chmod(os.path.join(self.data, "incidents.db"), 0o600)
        c = self.start(chown=False)
        r = subprocess.run([peers.cordon_bin(), "run", "--config", c.config_path],
                           cwd=self.workdir, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("incidents.db is not readable and writable by user", r.stderr)

    def test_an_unknown_user_stops_the_start(self):
        c = self.start()
        with open(c.config_path) as f:
            text = f.read().replace(f"run_as: {USER}", "run_as: no-such-user-cordon")
        with open(c.config_path, "w") as f:
            f.write(text)
        r = subprocess.run([peers.cordon_bin(), "run", "--config", c.config_path],
                           cwd=self.workdir, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("no user 'no-such-user-cordon'", r.stderr)


if __name__ == "__main__":
    unittest.main()
