"""`make install DESTDIR=...` and `make deb` as an administrator runs them:
the binary, a man page per command generated from --help, the example
configuration (which passes check-config), the systemd unit with its
user, capability and hardening, and a .deb with the same files, a Depends
on the libraries the binary links, the conffile and the maintainer scripts
that create the user cordon and /var/lib/cordon. Uses the built binary
(NO_BUILD=1): nothing is compiled."""

import gzip
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.environ["CORDON_SOURCE_DIR"]
BUILD = os.environ["CORDON_BUILD_DIR"]
BIN = os.environ["CORDON_BIN"]
PAGES = ["cordon", "cordon-run", "cordon-scan", "cordon-check-config", "cordon-filter-test",
         "cordon-incidents", "cordon-queue", "cordon-monitor"]


def make(*args, env=None):
    r = subprocess.run(["make", "-s", "-C", SOURCE, f"BUILD_DIR={BUILD}", "NO_BUILD=1", *args],
                       capture_output=True, text=True, timeout=240,
                       env={**os.environ, **(env or {})})
    if r.returncode != 0:
        raise AssertionError(f"make {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r


def unit_settings(text):
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cordon-install-")
        cls.root = os.path.join(cls.tmp, "root")
        make("install", f"DESTDIR={cls.root}", "PREFIX=/usr")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def test_the_binary_is_installed_and_runs(self):
        r = subprocess.run([self.path("/usr/bin/cordon"), "--version"], capture_output=True,
                           text=True)
        self.assertEqual(r.stdout.split()[0], "cordon")
        self.assertTrue(os.access(self.path("/usr/bin/cordon"), os.X_OK))

    def test_the_installed_binary_reads_a_pdf_with_the_installed_module(self):
        module = self.path("/usr/lib/cordon/cordon-pdf.so")
        self.assertTrue(os.path.isfile(module))
        sys.path.insert(0, os.path.join(SOURCE, "tests", "extract"))
        import make_corpus
        eml = os.path.join(self.tmp, "pdf.eml")
        with open(eml, "wb") as f:
            f.write(make_corpus.message("statement", [
                ("statement.pdf", make_corpus.pdf(["Card 4111 1111 1111 1111"]),
                 "application/pdf")]))
        # The dynamic loader names each file it maps: the module must be the
        # installed one, not the build's.
        r = subprocess.run([self.path("/usr/bin/cordon"), "scan", "--format", "json", eml],
                           capture_output=True, text=True, env={**os.environ, "LD_DEBUG": "files"})
        tried = [line for line in r.stderr.splitlines() if "cordon-pdf.so" in line
                 and "file=" in line]
        self.assertTrue(any(module in line for line in tried), "\n".join(tried))
        self.assertFalse(any(BUILD in line for line in tried), "\n".join(tried))
        self.assertIn("credit_card", r.stdout)

    def test_each_command_has_a_man_page_made_from_its_help(self):
        for page in PAGES:
            with gzip.open(self.path(f"/usr/share/man/man1/{page}.1.gz"), "rt") as f:
                text = f.read()
            self.assertIn(f'.TH {page.upper()} "1"', text, page)
        with gzip.open(self.path("/usr/share/man/man1/cordon-run.1.gz"), "rt") as f:
            run_page = f.read()
        self.assertIn("config", run_page)
        self.assertIn("log\\-format", run_page)

    def test_the_example_configuration_is_valid_and_runs_from_var_lib_cordon(self):
        config = self.path("/etc/cordon/cordon.yaml")
        self.assertEqual(os.stat(config).st_mode & 0o777, 0o640)
        r = subprocess.run([BIN, "check-config", config], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(config) as f:
            text = f.read()
        self.assertIn("data_dir: /var/lib/cordon", text)
        self.assertIn("listen: 0.0.0.0:25", text)

    def test_an_existing_configuration_is_left_alone(self):
        root = os.path.join(self.tmp, "again")
        os.makedirs(os.path.join(root, "etc", "cordon"))
        mine = os.path.join(root, "etc", "cordon", "cordon.yaml")
        with open(mine, "w") as f:
            f.write("data_dir: /srv/mine\n")
        r = make("install", f"DESTDIR={root}", "PREFIX=/usr")
        with open(mine) as f:
            self.assertEqual(f.read(), "data_dir: /srv/mine\n")
        self.assertIn("left as it is", r.stderr)

    def test_the_unit_runs_cordon_unprivileged_with_port_25_and_hardening(self):
        with open(self.path("/usr/lib/systemd/system/cordon.service")) as f:
            unit = unit_settings(f.read())
        self.assertEqual(unit["ExecStart"], ["/usr/bin/cordon run --config /etc/cordon/cordon.yaml"])
        self.assertEqual(unit["ExecReload"], ["/bin/kill -HUP $MAINPID"])
        self.assertEqual(unit["User"], ["cordon"])
        self.assertEqual(unit["AmbientCapabilities"], ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(unit["CapabilityBoundingSet"], ["CAP_NET_BIND_SERVICE"])
        self.assertEqual(unit["ProtectSystem"], ["strict"])
        self.assertEqual(unit["ReadWritePaths"], ["/var/lib/cordon"])
        for key in ("NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                    "RestrictSUIDSGID"):
            self.assertEqual(unit[key], ["yes"], key)
        if shutil.which("systemd-analyze"):
            r = subprocess.run(["systemd-analyze", "verify",
                                self.path("/usr/lib/systemd/system/cordon.service")],
                               capture_output=True, text=True)
            self.assertNotIn("Unknown key", r.stderr)

    def test_a_prefix_names_the_binary_in_the_unit(self):
        root = os.path.join(self.tmp, "local")
        make("install", f"DESTDIR={root}", "PREFIX=/usr/local")
        with open(os.path.join(root, "usr/local/lib/systemd/system/cordon.service")) as f:
            self.assertIn("ExecStart=/usr/local/bin/cordon run --config /etc/cordon/cordon.yaml",
                          f.read())
        self.assertTrue(os.path.exists(os.path.join(root, "usr/local/bin/cordon")))
        self.assertTrue(os.path.exists(os.path.join(root, "etc/cordon/cordon.yaml")))


class Deb(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cordon-deb-")
        r = make("deb", env={"OUT_DIR": cls.tmp})
        cls.deb = r.stdout.strip().splitlines()[-1]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dpkg_deb(self, *args):
        r = subprocess.run(["dpkg-deb", *args, self.deb], capture_output=True, text=True,
                           check=True)
        return r.stdout

    def test_the_package_holds_the_installed_files_owned_by_root(self):
        self.assertTrue(os.path.basename(self.deb).startswith("cordon_"))
        listing = {}
        for line in self.dpkg_deb("-c").splitlines():
            fields = line.split()
            listing[fields[5]] = (fields[0], fields[1])
        for path in ["./usr/bin/cordon", "./usr/lib/cordon/cordon-pdf.so",
                     "./usr/lib/systemd/system/cordon.service",
                     "./etc/cordon/cordon.yaml", "./usr/share/doc/cordon/deploy.md",
                     *[f"./usr/share/man/man1/{p}.1.gz" for p in PAGES]]:
            self.assertIn(path, listing)
            self.assertEqual(listing[path][1], "root/root", path)
        self.assertEqual(listing["./usr/bin/cordon"][0], "-rwxr-xr-x")

    def test_control_names_the_libraries_and_the_conffile(self):
        control = self.dpkg_deb("-I")
        fields = {}
        for line in self.dpkg_deb("-f").splitlines():
            if ":" in line and not line.startswith(" "):
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        self.assertEqual(fields["Package"], "cordon")
        self.assertEqual(fields["Architecture"],
                         subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                                        text=True).stdout.strip())
        depends = fields["Depends"]
        # libpq is loaded with dlopen, poppler by the PDF module, and the
        # statically linked libmagic reads its database from libmagic-mgc.
        for lib in ("libc6", "libpq5", "libssl", "libpoppler-cpp", "libmagic-mgc"):
            self.assertIn(lib, depends)
        self.assertIn("(>= ", depends)
        for script in ("postinst", "prerm", "postrm", "conffiles"):
            self.assertIn(script, control)
        conffiles = subprocess.run(["dpkg-deb", "--ctrl-tarfile", self.deb], capture_output=True,
                                   check=True).stdout
        self.assertIn(b"/etc/cordon/cordon.yaml", conffiles)

    def test_the_maintainer_scripts_create_the_user_and_its_state_directory(self):
        ctrl = os.path.join(self.tmp, "control")
        subprocess.run(["dpkg-deb", "-e", self.deb, ctrl], check=True)
        with open(os.path.join(ctrl, "postinst")) as f:
            postinst = f.read()
        self.assertIn("useradd --system", postinst)
        self.assertIn("install -d -o cordon -g cordon -m 0750 /var/lib/cordon", postinst)
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(ctrl, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            self.assertEqual(subprocess.run(["sh", "-n", path]).returncode, 0, script)


if __name__ == "__main__":
    unittest.main()
