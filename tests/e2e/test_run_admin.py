"""What an administrator meets around `cordon run`: a second run on a
data_dir in use refuses to start (and a crashed one leaves no stale lock);
a configuration without policies is warned about at start."""

import os
import shutil
import subprocess
import tempfile
import unittest

import peers

POLICY = """
policies:
  - name: Codes
    match: {any: [{regex: 'ACME-[0-9]{6}'}]}
"""


def prevent_config(port, extra=""):
    return f"""data_dir: ./data
prevent:
  listen: 127.0.0.1:{port}
  next_hop: 127.0.0.1:9
{extra}"""


class RunAdmin(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="cordon-run-admin-")
        self.instances = []

    def tearDown(self):
        for c in self.instances:
            c.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def run_once(self, config_text, timeout=20):
        """`cordon run` expected to stop by itself; returns (code, output)."""
        path = os.path.join(self.workdir, "second.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        r = subprocess.run([peers.cordon_bin(), "run", "--config", path], cwd=self.workdir,
                           capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr

    def test_a_second_run_on_the_same_data_dir_refuses_to_start(self):
        port = peers.free_port()
        first = peers.Cordon(prevent_config(port, POLICY), self.workdir, ports=[port]).start()
        self.instances.append(first)
        code, out = self.run_once(prevent_config(peers.free_port(), POLICY))
        self.assertEqual(code, 2, out)
        self.assertIn("cannot start: data_dir ./data is in use: another cordon run "
                      f"(pid {first.proc.pid}) runs the prevent role on it", out)
        self.assertIsNone(first.proc.poll(), "the first one keeps running")

        # A crash (SIGKILL) leaves no stale lock: the kernel drops it.
        first.kill()
        port = peers.free_port()
        again = peers.Cordon(prevent_config(port, POLICY), self.workdir, ports=[port]).start()
        self.instances.append(again)
        self.assertIsNone(again.proc.poll())

    def test_start_up_warns_when_no_policy_can_ever_block(self):
        port = peers.free_port()
        c = peers.Cordon(prevent_config(port), self.workdir, ports=[port]).start()
        self.instances.append(c)
        peers.wait_until(lambda: "cordon running" in c.output(), what="start-up")
        self.assertRegex(c.output(), r"warn.*cordon\.yaml: no policies: prevent inspects messages "
                                     r"for nothing, so no message is ever blocked")


if __name__ == "__main__":
    unittest.main()
