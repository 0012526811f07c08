"""What an administrator meets around `cordon run`: a second run on a
data_dir in use refuses to start (and a crashed one leaves no stale lock);
a configuration without policies is warned about at start; SIGHUP logs what
it applied and what needs a restart, and says when there is nothing to
reload (the embedded default)."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest

import peers
from console_client import ConsoleClient

# Where examples/default.yaml (the embedded default) puts the console.
EMBEDDED_CONSOLE_PORT = 8025

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

    def test_sighup_logs_what_it_applied_and_what_needs_a_restart(self):
        port = peers.free_port()
        c = peers.Cordon(prevent_config(port, POLICY), self.workdir, ports=[port]).start()
        self.instances.append(c)
        other = peers.free_port()
        with open(c.config_path, "w") as f:
            f.write(prevent_config(other, POLICY))
        c.reload()
        peers.wait_until(lambda: "reload: prevent.listen" in c.output(), what="the reload log")
        out = c.output()
        self.assertIn("configuration reloaded from", out)
        self.assertIn("applied 1 policies", out)
        self.assertIn(f"reload: prevent.listen 127.0.0.1:{port} -> 127.0.0.1:{other}: needs a "
                      "restart to take effect", out)
        peers.wait_for_port(port)  # still listening where it started

        # Unchanged listen address: nothing pending.
        with open(c.config_path, "w") as f:
            f.write(prevent_config(port, POLICY))
        c.reload()
        peers.wait_until(lambda: "nothing in the new configuration needs a restart" in c.output(),
                         what="the second reload")

    def test_sighup_on_the_embedded_default_says_there_is_nothing_to_reload(self):
        log_path = os.path.join(self.workdir, "embedded.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([peers.cordon_bin(), "run"], cwd=self.workdir, stdout=log,
                                    stderr=subprocess.STDOUT)
        try:
            def output():
                with open(log_path, "rb") as f:
                    return f.read().decode(errors="replace")
            try:
                peers.wait_until(lambda: "cordon running" in output() or proc.poll() is not None,
                                 what="start-up")
            except TimeoutError:
                pass
            if proc.poll() is not None:
                # The embedded default listens on fixed ports; another
                # process on this machine may hold one.
                self.skipTest("the embedded default could not start here: " + output()[-300:])
            proc.send_signal(signal.SIGHUP)
            peers.wait_until(lambda: "nothing to reload" in output(), what="the SIGHUP log")
            self.assertIn("SIGHUP: running the embedded default (no --config): nothing to reload",
                          output())
            self.assertIsNone(proc.poll())

            # The console says so before anyone presses Reload, and refuses it.
            password = peers.wait_until(
                lambda: re.search(r"created user 'admin' with password '([0-9a-f]+)'", output()),
                what="the generated console password").group(1)
            console = ConsoleClient(EMBEDDED_CONSOLE_PORT)
            self.assertEqual(console.login("admin", password).status, 200)
            policies = console.get("/api/v1/policies")
            self.assertEqual(policies.status, 200)
            self.assertEqual(policies.json()["reload"],
                             {"available": False,
                              "reason": "running on the embedded default: nothing to reload"})
            refused = console.request("POST", "/api/v1/reload")
            self.assertEqual(refused.status, 409)
            self.assertIn("nothing to reload", refused.json()["error"])
        finally:
            proc.terminate()
            proc.wait(timeout=15)


if __name__ == "__main__":
    unittest.main()
