"""Real SMTP peers for end-to-end tests: free ports, cordon processes,
smtp-sink, and private Postfix instances, all on 127.0.0.1 and all stopped
by the test that started them.

A private Postfix instance needs (a) its config directory listed in the
system main.cf's alternate_config_directories, (b) a data_directory owned by
the postfix user, (c) no chroot in master.cf, and (d) maillog_file under a
maillog_file_prefixes directory so that the test can read what it did.
"""

import contextlib
import fcntl
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

SYSTEM_MAIN_CF = "/etc/postfix/main.cf"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=15.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def wait_until(predicate, timeout=20.0, interval=0.1, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def require_postfix():
    """Skips the calling test where Postfix is not installed: install-deps.sh
    leaves it out on a machine whose MTA is another one, which Postfix would
    replace."""
    if shutil.which("smtp-sink") is None and not os.path.exists("/usr/sbin/smtp-sink"):
        raise unittest.SkipTest("Postfix is not installed (smtp-sink missing): "
                                "scripts/install-deps.sh does not install it beside another MTA")


def cordon_bin():
    return os.environ.get("CORDON_BIN", os.path.join(os.getcwd(), "cordon"))


class Cordon:
    """`cordon run --config` in a temporary data directory."""

    def __init__(self, config_text, workdir, ports=(), env=None):
        self.workdir = workdir
        self.env = None if env is None else {**os.environ, **env}
        self.config_path = os.path.join(workdir, "cordon.yaml")
        with open(self.config_path, "w") as f:
            f.write(config_text)
        self.ports = ports
        self.proc = None
        self.log_path = os.path.join(workdir, "cordon.log")

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([cordon_bin(), "run", "--config", self.config_path],
                                     cwd=self.workdir, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=self.env)
        for p in self.ports:
            wait_for_port(p, proc=self.proc)
        return self

    def reload(self):
        self.proc.send_signal(signal.SIGHUP)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def run(self, *args):
        """Runs a cordon subcommand against this instance's config."""
        return subprocess.run([cordon_bin(), *args, "--config", self.config_path],
                              cwd=self.workdir, capture_output=True, text=True, timeout=60)


class SmtpSink:
    """Postfix's smtp-sink; with dump_dir it saves each message as a file."""

    def __init__(self, port, dump_dir=None, extra_args=(), backlog=100):
        require_postfix()
        args = ["smtp-sink"]
        if dump_dir:
            os.makedirs(dump_dir, exist_ok=True)
            os.chmod(dump_dir, 0o777)
            args += ["-d", os.path.join(dump_dir, "%M.")]
        args += ["-u", "nobody", *extra_args, f"127.0.0.1:{port}", str(backlog)]
        self.port = port
        self.dump_dir = dump_dir
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(port, proc=self.proc)

    def messages(self):
        """The saved messages (raw bytes), oldest first."""
        if not self.dump_dir:
            return []
        out = []
        for root, _, files in os.walk(self.dump_dir):
            for name in sorted(files):
                with open(os.path.join(root, name), "rb") as f:
                    out.append(f.read())
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def _system_main_cf_lock():
    os.makedirs("/run/lock", exist_ok=True)
    with open("/run/lock/cordon-test-postfix.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _alternate_dirs(update):
    with _system_main_cf_lock():
        if not os.path.exists(SYSTEM_MAIN_CF):
            open(SYSTEM_MAIN_CF, "a").close()
        out = subprocess.run(["postconf", "-h", "alternate_config_directories"],
                             capture_output=True, text=True).stdout
        dirs = [d for d in re.split(r"[\s,]+", out.strip()) if d and os.path.isdir(d)]
        dirs = update(dirs)
        subprocess.run(["postconf", "-e", "alternate_config_directories = " + " ".join(dirs)],
                       check=True)


class Postfix:
    """A private Postfix instance under a temporary directory.

    smtpd listens on `port`; `main_cf` adds or overrides main.cf settings
    (e.g. relayhost, content_filter); `extra_services` adds master.cf lines.
    """

    def __init__(self, port, main_cf=None, extra_services=(), name="pf"):
        require_postfix()
        self.port = port
        self.root = tempfile.mkdtemp(prefix=f"cordon-{name}-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        self.log_path = os.path.join(self.root, "log", "maillog")
        for d in ("etc", "spool", "data", "log"):
            os.makedirs(os.path.join(self.root, d))
        shutil.chown(os.path.join(self.root, "data"), "postfix")
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(self.root, "spool"),
            "data_directory": os.path.join(self.root, "data"),
            "mail_owner": "postfix",
            "myhostname": f"{name}.test",
            "mydomain": "test",
            "myorigin": "test",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "maillog_file": self.log_path,
            "maillog_file_prefixes": "/tmp",
            "smtputf8_enable": "no",
            "alias_maps": "",
            "alias_database": "",
            "local_recipient_maps": "",
            "biff": "no",
            # Tests want failures decided quickly, and retries soon.
            "queue_run_delay": "2s",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "smtp_connect_timeout": "5s",
            "delay_warning_time": "0",
        }
        settings.update(main_cf or {})
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in settings.items():
                f.write(f"{k} = {v}\n")
        self._write_master_cf(extra_services)

    def _write_master_cf(self, extra_services):
        lines = []
        with open("/etc/postfix/master.cf") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                if line[0].isspace():
                    lines.append(line.rstrip("\n"))
                    continue
                parts = line.split()
                if parts[0] == "smtp" and parts[1] == "inet":
                    parts[0] = f"127.0.0.1:{self.port}"
                if len(parts) >= 8:
                    parts[4] = "n"  # no chroot: the queue lives in a temp dir
                lines.append("  ".join(parts))
        lines.extend(extra_services)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        _alternate_dirs(lambda dirs: dirs + [self.etc])
        r = subprocess.run(["postfix", "-c", self.etc, "start"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"postfix start failed: {r.stdout}{r.stderr}\n{self.log()}")
        wait_for_port(self.port)
        return self

    def stop(self):
        subprocess.run(["postfix", "-c", self.etc, "stop"], capture_output=True)
        _alternate_dirs(lambda dirs: [d for d in dirs if d != self.etc])
        shutil.rmtree(self.root, ignore_errors=True)

    def flush(self):
        subprocess.run(["postqueue", "-c", self.etc, "-f"], capture_output=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=30.0):
        """Waits for a log line matching the regex; returns the match."""
        rx = re.compile(pattern)
        return wait_until(lambda: rx.search(self.log()), timeout=timeout,
                          what=f"postfix log /{pattern}/")

    def queue_ids(self):
        out = subprocess.run(["postqueue", "-c", self.etc, "-j"], capture_output=True,
                             text=True).stdout
        return [l for l in out.splitlines() if l.strip()]


class Postgres:
    """A throwaway PostgreSQL server (Debian's postgresql package): initdb
    and pg_ctl in a temporary directory, on a free loopback port, trust
    authentication for the user `cordon`. initdb refuses to run as root, so
    as root the server runs as the `postgres` user. Tests run it without
    fsync; a benchmark asks for fsync=True, as in production."""

    def __init__(self, fsync=False):
        self.fsync = fsync
        versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not versions:
            raise RuntimeError("no PostgreSQL under /usr/lib/postgresql (package postgresql)")
        self.bin = os.path.dirname(versions[-1])
        self.dir = tempfile.mkdtemp(prefix="cordon-pg-")
        self.as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.running = False
        subprocess.run(self.as_user + [f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-U",
                                       "cordon", "--auth=trust", "--locale=C", "-E", "UTF8",
                                       "--no-sync"],
                       check=True, capture_output=True)
        self.start()

    def url(self, db="postgres"):
        return f"postgresql://cordon@127.0.0.1:{self.port}/{db}"

    def start(self):
        """Starts the server unless it runs already."""
        if self.running:
            return
        subprocess.run(self.as_user + [
            f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-l", f"{self.dir}/server.log", "-w",
            "-o", f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir}"
            + ("" if self.fsync else " -c fsync=off"),
            "start"], check=True, capture_output=True)
        self.running = True

    def stop(self, mode="immediate"):
        """Immediate: connections are cut as by a crash or a network loss."""
        self.running = False
        subprocess.run(self.as_user + [f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", mode,
                                       "-w", "stop"], capture_output=True)

    def destroy(self):
        self.stop("fast")
        shutil.rmtree(self.dir, ignore_errors=True)
