"""Two console processes (each with its own data directory) on one
throwaway PostgreSQL: a user created and signed in on one is valid on the
other, a console restart keeps the session, a status change on one reaches
the other's open long-poll (GET /changes, fed by LISTEN/NOTIFY), and the
history names who made it. Roles, owners, bulk changes, CSV export and
saved filters are checked on the same pair."""

import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import peers
from console_client import ConsoleClient, console_config, generated_password


def psql(pg, sql):
    out = subprocess.run([f"{pg.bin}/psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "cordon",
                          "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def seed(pg, subject, sender="alice@corp.example", policy="PCI card numbers"):
    policies = ('[{"name": "%s", "severity": "high", "matches": [{"rule": "credit_card", '
                '"component": "body", "count": 1, "samples": ["4111********1111"]}]}]' % policy)
    now = int(time.time())
    incident = psql(pg, (
        "INSERT INTO incidents (first_seen, last_seen, sender, recipients, recipients_search, "
        "subject, message_id, content_hash, policy_key, policies, max_severity, action) VALUES "
        f"({now}, {now}, '{sender}', '[\"bob@partner.example\"]', 'bob@partner.example\n', "
        f"'{subject}', '<m@x>', '', '{policy}', '{policies}', 3, 'block') RETURNING id"))
    psql(pg, f"INSERT INTO incident_policies VALUES ({incident}, '{policy}', 3)")
    return int(incident.splitlines()[0])


class ConsolesSharingPostgres(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = peers.Postgres()
        cls.dirs = [tempfile.mkdtemp(prefix="cordon-console-pg-") for _ in range(2)]
        cls.ports = [peers.free_port(), peers.free_port()]
        cls.nodes = []
        for d, port in zip(cls.dirs, cls.ports):
            config = console_config(port).replace("data_dir: ./data\n",
                                                  f"data_dir: ./data\nincidents: {cls.pg.url()}\n")
            cls.nodes.append(peers.Cordon(config, d, ports=[port]).start())
            if len(cls.nodes) == 1:
                cls.admin_password = generated_password(cls.nodes[0])
        cls.admin = ConsoleClient(cls.ports[0])
        assert cls.admin.login("admin", cls.admin_password).status == 200

    @classmethod
    def tearDownClass(cls):
        for n in cls.nodes:
            n.stop()
        cls.pg.destroy()
        for d in cls.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def analyst(self, name, port_index=1):
        r = self.admin.request("POST", "/api/v1/users",
                               {"name": name, "password": f"{name}-password-1", "role": "analyst"})
        self.assertIn(r.status, (201, 409), r.body)
        c = ConsoleClient(self.ports[port_index])
        self.assertEqual(c.login(name, f"{name}-password-1").status, 200)
        return c

    def test_1_the_second_node_made_no_admin_of_its_own(self):
        self.assertNotIn("created user 'admin'", self.nodes[1].output())
        # The first node's generated admin signs in on the second node.
        other = ConsoleClient(self.ports[1])
        self.assertEqual(other.login("admin", self.admin_password).status, 200)

    def test_2_a_user_made_on_one_node_signs_in_and_keeps_its_session_on_the_other(self):
        carol = self.analyst("carol")
        # The session cookie from node 2 is valid on node 1 too.
        on_first = ConsoleClient(self.ports[0])
        on_first.cookie, on_first.csrf = carol.cookie, carol.csrf
        r = on_first.get("/api/v1/session")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["user"], "carol")
        self.assertEqual(r.json()["role"], "analyst")
        # No token in the database, only its hash.
        token = carol.cookie.split("=", 1)[1]
        self.assertEqual(psql(self.pg, f"SELECT COUNT(*) FROM console_sessions "
                                       f"WHERE token_hash = '{token}'"), "0")
        # A restart of node 2 signs no one out.
        self.nodes[1].stop()
        self.nodes[1].start()
        self.assertEqual(carol.get("/api/v1/session").status, 200)
        # An analyst may not manage users or reload.
        self.assertEqual(carol.get("/api/v1/users").status, 403)
        self.assertEqual(carol.request("POST", "/api/v1/reload").status, 403)
        self.assertEqual(self.admin.get("/api/v1/users").status, 200)

    def test_3_a_change_on_one_node_reaches_the_long_poll_of_the_other(self):
        incident = seed(self.pg, "Live update")
        dave = self.analyst("dave", port_index=1)
        token = dave.get("/api/v1/changes").json()["token"]
        seen = {}

        def wait():
            started = time.monotonic()
            seen["response"] = dave.get(f"/api/v1/changes?since={token}&wait=20")
            seen["after"] = time.monotonic() - started
        waiter = threading.Thread(target=wait)
        waiter.start()
        time.sleep(0.5)
        changed_at = time.monotonic()
        r = self.admin.request("PATCH", f"/api/v1/incidents/{incident}",
                               {"status": "in_progress", "assignee": "dave", "comment": "yours"})
        self.assertEqual(r.status, 200, r.body)
        waiter.join(25)
        self.assertTrue(seen["response"].json()["changed"])
        self.assertNotEqual(seen["response"].json()["token"], token)
        self.assertLess(time.monotonic() - changed_at, 5)
        got = dave.get(f"/api/v1/incidents/{incident}").json()
        self.assertEqual(got["assignee"], "dave")
        self.assertEqual(got["history"][-1]["user"], "admin")
        self.assertEqual(got["history"][-1]["assignee"], "dave")
        mine = dave.get("/api/v1/incidents?assignee=dave").json()
        self.assertEqual([i["id"] for i in mine["items"]], [incident])

    def test_4_bulk_changes_export_and_saved_filters(self):
        erin = self.analyst("erin", port_index=0)
        ids = [seed(self.pg, f"Bulk {n}", sender=f"bulk{n}@corp.example") for n in range(3)]
        r = erin.request("POST", "/api/v1/incidents/bulk",
                         {"ids": ids + [999999], "status": "resolved", "assignee": "erin"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["changed"], 3)
        self.assertEqual(r.json()["failed"], 1)
        self.assertEqual(r.json()["results"][-1]["status"], 404)
        for i in ids:
            got = erin.get(f"/api/v1/incidents/{i}").json()
            self.assertEqual((got["status"], got["assignee"], got["history"][-1]["user"]),
                             ("resolved", "erin", "erin"))
        csv = erin.get("/api/v1/incidents.csv?sender_contains=bulk&status=resolved")
        self.assertEqual(csv.status, 200, csv.body)
        self.assertTrue(csv.header("content-type").startswith("text/csv"))
        lines = csv.body.strip().split("\r\n")
        self.assertTrue(lines[0].startswith("id,time,last_seen,severity,status,assignee"))
        self.assertEqual(len(lines), 4)
        self.assertIn("bulk0@corp.example", csv.body)
        # A subject a spreadsheet would run as a formula is exported inert.
        formula = seed(self.pg, "=HYPERLINK(\"http://x.example\")", sender="sheet@corp.example")
        csv = erin.get("/api/v1/incidents.csv?sender_contains=sheet").body
        self.assertIn(f'{formula},', csv)
        self.assertIn('"\'=HYPERLINK(""http://x.example"")"', csv)
        self.assertEqual(erin.request("PATCH", f"/api/v1/incidents/{formula}",
                                      {"assignee": "nobody-such"}).status, 400)
        r = erin.request("PUT", "/api/v1/filters/mine", {"query": "assignee=erin&status=resolved"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(erin.request("PUT", "/api/v1/filters/bad", {"query": "nope=1"}).status, 400)
        # Saved per user, visible from the other node.
        other = ConsoleClient(self.ports[1])
        other.cookie, other.csrf = erin.cookie, erin.csrf
        self.assertEqual(other.get("/api/v1/filters").json()["filters"],
                         [{"name": "mine", "query": "assignee=erin&status=resolved"}])
        self.assertEqual(self.admin.get("/api/v1/filters").json()["filters"], [])


if __name__ == "__main__":
    unittest.main()
