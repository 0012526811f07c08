"""The console's REST API against a real `cordon run`: authentication,
sessions, CSRF, incident listing/filtering/detail/status workflow, policies,
stats, reload, /health and /metrics. Incidents are put into the store the
way the SQLite backend writes them."""

import http.client
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import tempfile
import time
import unittest

import peers
from console_client import (ConsoleClient, console_config, db_path, generated_password,
                            password_hash, seed_incident)

CARD = ("credit_card", "body", 2, ["4111********1111", "5500********0004"])
NEPTUNE = ("keywords", "subject", 1, ["project neptune"])
DAY = 86400


class ConsoleApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="cordon-console-")
        cls.port = peers.free_port()
        cls.cordon = peers.Cordon(console_config(cls.port), cls.workdir, ports=[cls.port]).start()
        cls.password = generated_password(cls.cordon)
        db = db_path(cls.cordon)
        now = int(time.time())
        cls.ids = {
            "card": seed_incident(db, sender="alice@corp.example", recipients=["bob@partner.example"],
                                  subject="Invoice cards", policies=[("PCI card numbers", "high", [CARD])],
                                  first_seen=now - 3600),
            "neptune": seed_incident(db, sender="carol@corp.example",
                                     recipients=["dave@rival.example", "erin@rival.example"],
                                     subject="Project Neptune roadmap",
                                     policies=[("Project Neptune", "medium", [NEPTUNE])],
                                     action="pass", first_seen=now - 2 * DAY, repeat_count=3),
            "both": seed_incident(db, sender="alice@corp.example", recipients=["frank@other.example"],
                                  subject="Neptune cards",
                                  policies=[("PCI card numbers", "high", [CARD]),
                                            ("Project Neptune", "medium", [NEPTUNE])],
                                  first_seen=now - 10 * DAY),
        }

    @classmethod
    def tearDownClass(cls):
        cls.cordon.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def client(self):
        c = ConsoleClient(self.port)
        r = c.login("admin", self.password)
        self.assertEqual(r.status, 200, r.body)
        return c

    # ---- unauthenticated ----

    def test_health_needs_no_login(self):
        r = ConsoleClient(self.port).get("/api/v1/health")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), {"status": "ok"})

    def test_no_incident_data_reaches_an_anonymous_client(self):
        anon = ConsoleClient(self.port)
        card = self.ids["card"]
        for method, path in [("GET", "/api/v1/incidents"), ("GET", f"/api/v1/incidents/{card}"),
                             ("GET", "/api/v1/stats"), ("GET", "/api/v1/policies"),
                             ("GET", "/api/v1/session"), ("PATCH", f"/api/v1/incidents/{card}"),
                             ("POST", "/api/v1/reload"), ("GET", "/api/v1/no-such-route"),
                             ("DELETE", f"/api/v1/incidents/{card}")]:
            r = anon.request(method, path, body={"status": "resolved"} if method == "PATCH" else None)
            self.assertEqual(r.status, 401, f"{method} {path}: {r.body}")
            self.assertEqual(r.header("content-type"), "application/json")
            self.assertIn("error", r.json())
            for secret in ("alice@", "Invoice", "4111", "PCI"):
                self.assertNotIn(secret, r.body)

    def test_a_forged_or_stale_cookie_is_refused(self):
        anon = ConsoleClient(self.port)
        anon.cookie = "cordon_session=" + "ab" * 32
        self.assertEqual(anon.get("/api/v1/incidents").status, 401)
        c = self.client()
        self.assertEqual(c.request("POST", "/api/v1/logout").status, 200)
        self.assertEqual(c.get("/api/v1/incidents").status, 401)

    def test_wrong_password_and_unknown_user_are_refused_alike(self):
        anon = ConsoleClient(self.port)
        r1 = anon.login("admin", "not-the-password")
        r2 = anon.login("mallory", self.password)
        self.assertEqual((r1.status, r2.status), (401, 401))
        self.assertEqual(r1.json(), r2.json())
        self.assertIsNone(r1.header("set-cookie"))

    def test_login_needs_a_json_body(self):
        anon = ConsoleClient(self.port)
        r = anon.request("POST", "/api/v1/login", raw=b"username=admin&password=x",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 400)

    # ---- sessions and CSRF ----

    def test_login_sets_a_strict_http_only_session_cookie(self):
        anon = ConsoleClient(self.port)
        r = anon.login("admin", self.password)
        self.assertEqual(r.status, 200)
        cookie = r.header("set-cookie")
        self.assertRegex(cookie, r"^cordon_session=[0-9a-f]{64};")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie)  # plain HTTP on loopback
        body = r.json()
        self.assertEqual(body["user"], "admin")
        self.assertRegex(body["csrf_token"], r"^[0-9a-f]{64}$")
        s = anon.get("/api/v1/session").json()
        self.assertEqual((s["user"], s["csrf_token"]), ("admin", body["csrf_token"]))

    def test_writes_without_the_csrf_token_are_refused(self):
        c = self.client()
        target = f"/api/v1/incidents/{self.ids['neptune']}"
        r = c.request("PATCH", target, {"comment": "no token"}, csrf=False)
        self.assertEqual(r.status, 403, r.body)
        r = c.request("PATCH", target, {"comment": "bad token"}, csrf=False,
                      headers={"X-CSRF-Token": "0" * 64})
        self.assertEqual(r.status, 403, r.body)
        self.assertEqual(c.request("POST", "/api/v1/reload", csrf=False).status, 403)
        self.assertEqual(c.request("POST", "/api/v1/logout", csrf=False).status, 403)
        history = c.get(target).json()["history"]
        self.assertFalse(any("token" in h["comment"] for h in history))

    def test_another_sessions_csrf_token_does_not_work(self):
        a, b = self.client(), self.client()
        a.csrf = b.csrf
        r = a.request("PATCH", f"/api/v1/incidents/{self.ids['neptune']}", {"comment": "x"})
        self.assertEqual(r.status, 403)

    # ---- incidents ----

    def test_list_returns_every_incident_newest_first_with_total(self):
        r = self.client().get("/api/v1/incidents")
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["total"], 3)
        self.assertEqual([i["id"] for i in body["items"]],
                         sorted(self.ids.values(), reverse=True))
        card = next(i for i in body["items"] if i["id"] == self.ids["card"])
        self.assertEqual(card["severity"], "high")
        self.assertEqual(card["policies"][0]["matches"][0]["samples"][0], "4111********1111")

    def test_filters_narrow_the_list(self):
        c = self.client()
        ids = self.ids

        def found(query):
            r = c.get("/api/v1/incidents?" + query)
            self.assertEqual(r.status, 200, r.body)
            return sorted(i["id"] for i in r.json()["items"])

        self.assertEqual(found("severity=high"), sorted([ids["card"], ids["both"]]))
        self.assertEqual(found("severity=medium"), [ids["neptune"]])
        self.assertEqual(found("policy=Project%20Neptune"), sorted([ids["neptune"], ids["both"]]))
        self.assertEqual(found("sender=ALICE@corp.example"), sorted([ids["card"], ids["both"]]))
        self.assertEqual(found("recipient=rival"), [ids["neptune"]])
        self.assertEqual(found("action=pass"), [ids["neptune"]])
        self.assertEqual(found("q=roadmap"), [ids["neptune"]])
        self.assertEqual(found("q=frank"), [ids["both"]])
        today = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 5 * DAY))
        self.assertEqual(found("from=" + today), sorted([ids["card"], ids["neptune"]]))
        self.assertEqual(found("until=" + today), [ids["both"]])
        self.assertEqual(found("severity=high&sender=alice@corp.example&q=invoice"), [ids["card"]])
        self.assertEqual(found("policy=&severity="), sorted(ids.values()))  # blank = no filter

    def test_paging_and_sorting(self):
        c = self.client()
        page1 = c.get("/api/v1/incidents?limit=2&page=1&sort=time&order=asc").json()
        page2 = c.get("/api/v1/incidents?limit=2&page=2&sort=time&order=asc").json()
        self.assertEqual(page1["total"], 3)
        self.assertEqual([i["id"] for i in page1["items"]], [self.ids["both"], self.ids["neptune"]])
        self.assertEqual([i["id"] for i in page2["items"]], [self.ids["card"]])
        by_repeats = c.get("/api/v1/incidents?sort=repeat_count&order=desc").json()["items"]
        self.assertEqual(by_repeats[0]["id"], self.ids["neptune"])

    def test_bad_parameters_are_400_with_a_reason(self):
        c = self.client()
        for query, word in [("severity=urgent", "severity"), ("page=0", "page"),
                            ("limit=100000", "limit"), ("sort=subject", "sort"),
                            ("from=yesterday", "from"), ("colour=red", "colour"),
                            ("order=sideways", "order"), ("status=open", "status")]:
            r = c.get("/api/v1/incidents?" + query)
            self.assertEqual(r.status, 400, query)
            self.assertIn(word, r.json()["error"])

    def test_detail_and_missing_incident(self):
        c = self.client()
        r = c.get(f"/api/v1/incidents/{self.ids['both']}")
        self.assertEqual(r.status, 200)
        detail = r.json()
        self.assertEqual(detail["subject"], "Neptune cards")
        self.assertEqual({p["name"] for p in detail["policies"]},
                         {"PCI card numbers", "Project Neptune"})
        self.assertEqual(detail["recipients"], ["frank@other.example"])
        for path in ("/api/v1/incidents/999999", "/api/v1/incidents/abc", "/api/v1/incidents/-1"):
            r = c.get(path)
            self.assertEqual(r.status, 404, path)
            self.assertEqual(r.json(), {"error": "no such incident"})

    def test_status_workflow_with_comments(self):
        c = self.client()
        target = f"/api/v1/incidents/{self.ids['card']}"
        r = c.request("PATCH", target, {"status": "in_progress", "comment": "looking at it"})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["status"], "in_progress")
        r = c.request("PATCH", target, {"status": "new"})
        self.assertEqual(r.status, 409, r.body)
        r = c.request("PATCH", target, {"status": "resolved", "comment": "sender retrained"})
        self.assertEqual(r.status, 200)
        r = c.request("PATCH", target, {"status": "false_positive"})
        self.assertEqual(r.status, 409)
        r = c.request("PATCH", target, {"status": "in_progress", "comment": "reopened"})
        self.assertEqual(r.status, 200)
        history = c.get(target).json()["history"]
        self.assertEqual([(h["status"], h["comment"]) for h in history],
                         [("in_progress", "looking at it"), ("resolved", "sender retrained"),
                          ("in_progress", "reopened")])
        found = c.get("/api/v1/incidents?status=in_progress").json()["items"]
        self.assertIn(self.ids["card"], [i["id"] for i in found])

    def test_bad_patches_are_rejected(self):
        c = self.client()
        target = f"/api/v1/incidents/{self.ids['both']}"
        for body in ({"status": "closed"}, {"status": 3}, {"owner": "me"}, {}, [1]):
            r = c.request("PATCH", target, body)
            self.assertEqual(r.status, 400, f"{body}: {r.body}")
        r = c.request("PATCH", target, raw=b"{not json", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400)
        self.assertEqual(c.request("PATCH", "/api/v1/incidents/424242", {"status": "resolved"}).status, 404)

    def test_wrong_method_is_405_with_allow(self):
        c = self.client()
        r = c.request("DELETE", f"/api/v1/incidents/{self.ids['card']}")
        self.assertEqual(r.status, 405)
        self.assertIn("PATCH", r.header("allow"))
        self.assertEqual(c.get("/api/v1/nothing-here").status, 404)

    # ---- policies, stats, reload ----

    def test_policies_in_force(self):
        body = self.client().get("/api/v1/policies").json()
        self.assertEqual([p["name"] for p in body["policies"]], ["PCI card numbers", "Project Neptune"])
        pci = body["policies"][0]
        self.assertEqual(pci["severity"], "high")
        self.assertEqual(pci["responses"], [{"block": "This message contains payment card data and was not sent."}])
        self.assertIn("console", body["roles"])
        # Run from a file: the Reload button is live.
        self.assertEqual(body["reload"], {"available": True})

    def test_stats_count_by_severity_policy_sender_and_action(self):
        stats = self.client().get("/api/v1/stats?days=30").json()
        self.assertEqual(stats["total"], 3)
        top = {p["policy"]: p["count"] for p in stats["top_policies"]}
        self.assertEqual(top, {"PCI card numbers": 2, "Project Neptune": 2})
        senders = {s["sender"]: s["count"] for s in stats["top_senders"]}
        self.assertEqual(senders["alice@corp.example"], 2)
        actions = {a["action"]: a["count"] for a in stats["by_action"]}
        self.assertEqual(actions, {"block": 2, "pass": 1})
        per_day = sum(d["count"] for d in stats["by_severity_per_day"])
        self.assertEqual(per_day, 3)
        self.assertEqual(set(stats["messages"]), {"received", "inspected", "ignored", "blocked", "passed", "bypassed"})
        # An incident to two addresses of one domain counts once for it.
        domains = {d["domain"]: d["count"] for d in stats["top_recipient_domains"]}
        self.assertEqual(domains, {"partner.example": 1, "rival.example": 1, "other.example": 1})
        # The hourly view covers the last 24 hours only: the incident an hour old.
        hours = stats["by_severity_per_hour"]
        self.assertEqual(sum(h["count"] for h in hours), 1)
        self.assertRegex(hours[0]["hour"], r"^\d{4}-\d\d-\d\dT\d\d$")
        self.assertEqual(hours[0]["severity"], "high")
        recent = self.client().get("/api/v1/stats?days=1").json()
        self.assertEqual(recent["total"], 1)
        self.assertEqual(self.client().get("/api/v1/stats?days=0").status, 400)

    def test_reload_applies_a_good_config_and_reports_a_bad_one(self):
        c = self.client()
        path = self.cordon.config_path
        with open(path) as f:
            original = f.read()
        try:
            with open(path, "w") as f:
                f.write(original.replace("name: Project Neptune", "name: Project Triton"))
            r = c.request("POST", "/api/v1/reload")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["status"], "ok")
            names = [p["name"] for p in c.get("/api/v1/policies").json()["policies"]]
            self.assertIn("Project Triton", names)
            with open(path, "w") as f:
                f.write(original.replace("severity: high", "severity: extreme"))
            r = c.request("POST", "/api/v1/reload")
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("severity", r.json()["error"])
            self.assertIn("cordon.yaml:", r.json()["error"])
            names = [p["name"] for p in c.get("/api/v1/policies").json()["policies"]]
            self.assertIn("Project Triton", names)  # the refused config changed nothing
        finally:
            with open(path, "w") as f:
                f.write(original)
            c.request("POST", "/api/v1/reload")

    # ---- metrics and the web UI ----

    def test_metrics_are_prometheus_text_and_count_logins(self):
        self.client()
        r = ConsoleClient(self.port).get("/metrics")  # open on loopback by default
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/plain"))
        self.assertRegex(r.body, r'cordon_console_logins_total\{result="ok"\} [1-9]')
        self.assertIn("# TYPE cordon_console_sessions gauge", r.body)

    def test_the_web_ui_is_served_with_a_strict_content_security_policy(self):
        r = ConsoleClient(self.port).get("/")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        self.assertIn("<html", r.body.lower())
        self.assertIn("default-src 'none'", r.header("content-security-policy"))
        self.assertEqual(r.header("x-frame-options"), "DENY")
        self.assertEqual(ConsoleClient(self.port).get("/no/such/file.js").status, 404)


class ConsoleLoginTest(unittest.TestCase):
    """The generated admin password and the failed-login slowdown, each on
    an instance of its own (the slowdown locks out this test's address)."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="cordon-console-login-")
        self.port = peers.free_port()
        self.cordon = peers.Cordon(console_config(self.port), self.workdir, ports=[self.port]).start()

    def tearDown(self):
        self.cordon.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def test_generated_password_is_shown_once_and_kept_hashed(self):
        password = generated_password(self.cordon)
        users = os.path.join(self.workdir, "data", "console-users")
        self.assertEqual(os.stat(users).st_mode & 0o777, 0o600)
        with open(users) as f:
            content = f.read()
        self.assertNotIn(password, content)
        self.assertRegex(content, r"^admin:pbkdf2-sha256\$\d+\$[0-9a-f]+\$[0-9a-f]{64}\n$")
        self.cordon.stop()
        first_log = self.cordon.output()
        self.cordon.start()
        self.assertEqual(self.cordon.output().count(password), first_log.count(password))
        self.assertEqual(ConsoleClient(self.port).login("admin", password).status, 200)

    def test_repeated_failures_slow_down_further_attempts(self):
        password = generated_password(self.cordon)
        anon = ConsoleClient(self.port)
        statuses = [anon.login("admin", f"guess-{n}").status for n in range(6)]
        self.assertEqual(statuses, [401] * 5 + [429])
        r = anon.login("admin", password)  # even the right password waits its turn
        self.assertEqual(r.status, 429, r.body)
        self.assertGreaterEqual(int(r.header("retry-after")), 1)
        metrics = anon.get("/metrics").body
        self.assertRegex(metrics, r'cordon_console_logins_total\{result="throttled"\} [1-9]')
        self.assertRegex(metrics, r'cordon_console_logins_total\{result="failed"\} [1-9]')


if __name__ == "__main__":
    unittest.main()


class ConsoleConfiguredTest(unittest.TestCase):
    """console.users, session_ttl, metrics_public and TLS from the configuration."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="cordon-console-cfg-")
        self.port = peers.free_port()
        self.cordon = None

    def tearDown(self):
        if self.cordon:
            self.cordon.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, console_keys):
        config = console_config(self.port).replace(
            f"  listen: 127.0.0.1:{self.port}\n", f"  listen: 127.0.0.1:{self.port}\n{console_keys}")
        self.cordon = peers.Cordon(config, self.workdir, ports=[self.port]).start()

    def test_configured_users_sign_in_and_no_password_is_generated(self):
        self.start(f"""  users:
    - {{name: alice, password_hash: "{password_hash('alice-secret')}"}}
    - {{name: bob, password_hash: "{password_hash('bob-secret')}"}}
  session_ttl: 2m
  metrics_public: false
""")
        alice = ConsoleClient(self.port)
        r = alice.login("alice", "alice-secret")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("Max-Age=120;", r.header("set-cookie"))
        self.assertLessEqual(r.json()["expires_in"], 120)
        self.assertEqual(ConsoleClient(self.port).login("bob", "alice-secret").status, 401)
        self.assertEqual(ConsoleClient(self.port).login("admin", "").status, 401)
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "data", "console-users")))
        self.assertNotIn("created user", self.cordon.output())
        # metrics_public: false puts /metrics behind the login too.
        self.assertEqual(ConsoleClient(self.port).get("/metrics").status, 401)
        self.assertEqual(alice.get("/metrics").status, 200)

    def test_a_malformed_configured_hash_stops_cordon_with_the_reason(self):
        config = console_config(self.port).replace(
            f"  listen: 127.0.0.1:{self.port}\n",
            f"  listen: 127.0.0.1:{self.port}\n  users:\n"
            "    - {name: alice, password_hash: \"pbkdf2-sha256$5$00$00\"}\n")
        cordon = peers.Cordon(config, self.workdir)
        cordon.start()
        self.assertEqual(cordon.proc.wait(timeout=30), 2)
        cordon.stop()
        self.assertIn("console user 'alice'", cordon.output())
        self.assertIn("iteration", cordon.output())

    def test_tls_serves_https_only_with_a_secure_cookie(self):
        cert = os.path.join(self.workdir, "console.crt")
        key = os.path.join(self.workdir, "console.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        self.start(f"""  users:
    - {{name: alice, password_hash: "{password_hash('alice-secret')}"}}
  tls_cert: {cert}
  tls_key: {key}
""")
        context = ssl.create_default_context(cafile=cert)
        alice = ConsoleClient(self.port, tls_context=context)
        self.assertEqual(alice.get("/api/v1/health").json(), {"status": "ok"})
        r = alice.login("alice", "alice-secret")
        self.assertEqual(r.status, 200, r.body)
        self.assertIn("; Secure", r.header("set-cookie"))
        self.assertEqual(alice.get("/api/v1/incidents").status, 200)
        with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
            ConsoleClient(self.port).get("/api/v1/health")  # plain HTTP is not served


class ConsoleWithPreventTest(unittest.TestCase):
    """Incidents and message counters made by real mail through prevent
    (forward mode to smtp-sink), seen through the console API."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="cordon-console-prevent-")
        self.port, self.smtp_port, sink_port = (peers.free_port() for _ in range(3))
        self.sink = peers.SmtpSink(sink_port)
        extra = (f"prevent:\n  listen: 127.0.0.1:{self.smtp_port}\n  mode: forward\n"
                 f"  next_hop: 127.0.0.1:{sink_port}\n")
        self.cordon = peers.Cordon(console_config(self.port, extra), self.workdir,
                                   ports=[self.port, self.smtp_port]).start()
        self.client = ConsoleClient(self.port)
        self.assertEqual(self.client.login("admin", generated_password(self.cordon)).status, 200)

    def tearDown(self):
        self.cordon.stop()
        self.sink.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def send(self, subject, body):
        message = (f"From: alice@corp.example\r\nTo: bob@partner.example\r\nSubject: {subject}\r\n"
                   f"Message-ID: <{subject.replace(' ', '.')}@corp.example>\r\n\r\n{body}\r\n")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as smtp:
            smtp.sendmail("alice@corp.example", ["bob@partner.example"], message)

    def test_headers_and_preview_are_for_admins_only_and_masked(self):
        with self.assertRaises(smtplib.SMTPDataError) as blocked:
            self.send("preview of the booking", "Dear Bob,\r\nthe card is 4111 1111 1111 1111 for the hotel.")
        incident_id = int(re.search(rb"Incident ID: (\d+)", blocked.exception.smtp_error).group(1))
        r = self.client.get(f"/api/v1/incidents/{incident_id}")
        detail = r.json()
        self.assertFalse(detail["content_hidden"])
        self.assertIn("Subject: preview of the booking", detail["headers"])
        self.assertIn("From: alice@corp.example", detail["headers"])
        self.assertIn("Dear Bob,", detail["preview"])
        self.assertIn("4111********1111", detail["preview"])
        for digits in ("4111111111111111", "4111 1111 1111 1111"):
            self.assertNotIn(digits, r.body.replace(" ", "") if " " not in digits else r.body)
        # Lists and workflow replies never carry the content.
        self.assertNotIn("preview", self.client.get("/api/v1/incidents").json()["items"][0])

        created = self.client.request("POST", "/api/v1/users",
                                      {"name": "ann", "password": "ann-password-123", "role": "analyst"})
        self.assertEqual(created.status, 201, created.body)
        ann = ConsoleClient(self.port)
        self.assertEqual(ann.login("ann", "ann-password-123").status, 200)
        seen = ann.get(f"/api/v1/incidents/{incident_id}").json()
        self.assertTrue(seen["content_hidden"])
        self.assertNotIn("headers", seen)
        self.assertNotIn("preview", seen)
        self.assertEqual(seen["policies"], detail["policies"])  # samples and contexts still

    def test_a_blocked_message_becomes_an_incident_in_the_console(self):
        self.send("lunch", "See you at noon.")
        with self.assertRaises(smtplib.SMTPDataError) as blocked:
            self.send("card for the booking", "Use card 4111 1111 1111 1111 please.")
        self.assertEqual(blocked.exception.smtp_code, 550)
        incident_id = int(re.search(rb"Incident ID: (\d+)", blocked.exception.smtp_error).group(1))

        detail = self.client.get(f"/api/v1/incidents/{incident_id}").json()
        self.assertEqual(detail["subject"], "card for the booking")
        self.assertEqual(detail["sender"], "alice@corp.example")
        self.assertEqual(detail["recipients"], ["bob@partner.example"])
        self.assertEqual(detail["action"], "block")
        self.assertEqual([p["name"] for p in detail["policies"]], ["PCI card numbers"])
        listing = self.client.get("/api/v1/incidents?q=booking&severity=high").json()
        self.assertEqual([i["id"] for i in listing["items"]], [incident_id])
        for r in (self.client.get(f"/api/v1/incidents/{incident_id}"), self.client.get("/api/v1/incidents")):
            self.assertNotIn("4111111111111111", r.body.replace(" ", ""))
            self.assertNotIn("4111 1111 1111 1111", r.body)

        messages = self.client.get("/api/v1/stats").json()["messages"]
        self.assertEqual((messages["received"], messages["inspected"], messages["blocked"],
                          messages["passed"]), (2, 2, 1, 1))
