"""Incident retention: `cordon incidents purge --older-than` and the daily
purge of `cordon run` (`retention: {incidents: ...}`) delete the incidents
last seen before the cutoff with their status history, keep the others,
and the purge is counted in cordon_incidents_purged_total. The store
contract suite (tests/incidents) checks the same on SQLite and PostgreSQL;
this checks the wiring."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.request

import peers

DAY = 86400


def config(prevent, console, retention):
    return f"""data_dir: ./data
prevent:
  listen: 127.0.0.1:{prevent}
  mode: forward
  next_hop: 127.0.0.1:9
console:
  listen: 127.0.0.1:{console}
include_builtin_policies: true
retention:
  incidents: {retention}
"""


class Retention(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="cordon-retention-")
        self.prevent, self.console = peers.free_port(), peers.free_port()
        # A first run without retention creates the store's schema.
        first = peers.Cordon(config(self.prevent, self.console, "0"), self.workdir,
                             ports=(self.prevent, self.console))
        first.start()
        first.stop()
        self.db = os.path.join(self.workdir, "data", "incidents.db")
        self.assertTrue(os.path.exists(self.db), first.output())
        self.cordon = peers.Cordon(config(self.prevent, self.console, "30d"), self.workdir)

    def tearDown(self):
        self.cordon.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def add(self, subject, first_seen_days_ago, last_seen_days_ago):
        """An incident with a status change, as prevent and the console write them."""
        now = int(time.time())
        with sqlite3.connect(self.db) as db:
            cur = db.execute(
                "INSERT INTO incidents (first_seen, last_seen, sender, recipients, "
                "recipients_search, subject, message_id, content_hash, policy_key, policies, "
                "max_severity, action) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (now - first_seen_days_ago * DAY, now - last_seen_days_ago * DAY,
                 "alice@corp.example", '["bob@partner.example"]', "bob@partner.example",
                 subject, f"<{subject}@corp.example>", f"hash-{subject}", "Codes",
                 '[{"name":"Codes","severity":"high","matches":[]}]', 3, "block"))
            db.execute("INSERT INTO incident_policies (incident_id, name, severity) "
                       "VALUES (?, 'Codes', 3)", (cur.lastrowid,))
            db.execute("INSERT INTO status_history (incident_id, time, status, comment) "
                       "VALUES (?, ?, 'resolved', 'done')", (cur.lastrowid, now))
            return cur.lastrowid

    def subjects(self):
        r = self.cordon.run("incidents", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return sorted(i["subject"] for i in json.loads(r.stdout))

    def orphans(self):
        with sqlite3.connect(self.db) as db:
            return db.execute(
                "SELECT (SELECT COUNT(*) FROM status_history WHERE incident_id NOT IN "
                "(SELECT id FROM incidents)) + (SELECT COUNT(*) FROM incident_policies "
                "WHERE incident_id NOT IN (SELECT id FROM incidents))").fetchone()[0]

    def test_the_cli_purges_what_was_last_seen_before_the_cutoff(self):
        self.add("old", 200, 100)
        self.add("seen-again", 200, 10)
        self.add("recent", 5, 5)
        self.assertEqual(len(self.subjects()), 3)
        r = subprocess.run([peers.cordon_bin(), "incidents", "purge", "--older-than", "90d",
                            "--config", self.cordon.config_path], cwd=self.workdir,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("purged 1 incidents last seen before", r.stdout)
        self.assertEqual(self.subjects(), ["recent", "seen-again"])
        self.assertEqual(self.orphans(), 0)
        bad = subprocess.run([peers.cordon_bin(), "incidents", "purge", "--older-than", "soon",
                              "--config", self.cordon.config_path], cwd=self.workdir,
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("bad duration", bad.stderr)

    def test_cordon_run_purges_at_start_and_counts_it(self):
        self.add("old-1", 100, 40)
        self.add("old-2", 100, 31)
        self.add("recent", 20, 20)
        self.cordon.ports = (self.prevent, self.console)
        self.cordon.start()
        peers.wait_until(lambda: "retention: purged 2 incident(s)" in self.cordon.output(),
                         timeout=20, what="the purge in the log")
        self.assertEqual(self.subjects(), ["recent"])
        self.assertEqual(self.orphans(), 0)
        with urllib.request.urlopen(f"http://127.0.0.1:{self.console}/metrics", timeout=10) as r:
            metrics = r.read().decode()
        self.assertIn("cordon_incidents_purged_total 2", metrics)
        self.assertIn("cordon_incident_purge_failures_total 0", metrics)


if __name__ == "__main__":
    unittest.main()
