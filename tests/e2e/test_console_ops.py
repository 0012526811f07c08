"""The console's operations views against a real `cordon run` with a
gateway: the queue (list for every user; hold, release, delete and flush for
admins only, each logged by the running gateway as `cordon queue` is) and the
server's health (roles, listeners, DLP hosts with their circuit breakers,
bypass counts), which must agree with /metrics."""

import re
import shutil
import smtplib
import tempfile
import time
import unittest

import peers
from console_client import ConsoleClient, generated_password


def config(console_port, gateway_port, resubmit_port, dlp_port):
    # Nothing listens on the DLP port, and bypass is off: every message
    # stays queued (deferred), and each attempt is a breaker failure.
    return f"""
data_dir: ./data
console:
  listen: 127.0.0.1:{console_port}
gateway:
  listen: 127.0.0.1:{gateway_port}
  resubmit_listen: 127.0.0.1:{resubmit_port}
  relay_networks: [127.0.0.0/8]
  hostname: gw.test
  dlp:
    hosts: [127.0.0.1:{dlp_port}]
    connect_timeout: 1s
    bypass: false
  deliver: maildir
  retry: {{schedule: [1h], max_lifetime: 1d}}
policies:
  - name: PCI card numbers
    severity: high
    match:
      any:
        - identifier: credit_card
"""


class ConsoleOpsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="cordon-console-ops-")
        cls.port, cls.gw, cls.resubmit, cls.dlp = (peers.free_port() for _ in range(4))
        cls.cordon = peers.Cordon(config(cls.port, cls.gw, cls.resubmit, cls.dlp), cls.workdir,
                                  ports=[cls.port, cls.gw]).start()
        cls.password = generated_password(cls.cordon)
        admin = cls.admin()
        r = admin.request("POST", "/api/v1/users",
                          {"name": "ann", "password": "ann-password-123", "role": "analyst"})
        assert r.status == 201, r.body
        # Five failed attempts open the DLP host's breaker.
        cls.ids = [cls.send(f"message {n}") for n in range(5)]
        peers.wait_until(lambda: len([m for m in admin.get("/api/v1/queue").json()["messages"]
                                      if m["state"] == "deferred"]) == 5, what="five deferred")

    @classmethod
    def tearDownClass(cls):
        cls.cordon.stop()
        shutil.rmtree(cls.workdir, ignore_errors=True)

    @classmethod
    def admin(cls):
        c = ConsoleClient(cls.port)
        assert c.login("admin", cls.password).status == 200
        return c

    @staticmethod
    def analyst(port):
        c = ConsoleClient(port)
        assert c.login("ann", "ann-password-123").status == 200
        return c

    @classmethod
    def send(cls, subject):
        with smtplib.SMTP("127.0.0.1", cls.gw, timeout=30) as s:
            s.ehlo("client.test")
            s.mail("alice@example.com")
            s.rcpt("bob@example.net")
            code, text = s.data(f"From: alice@example.com\r\nTo: bob@example.net\r\n"
                                f"Subject: {subject}\r\n\r\nhello\r\n".encode())
        assert code == 250, text
        return re.search(r"queued as (\S+)", text.decode()).group(1)

    def queue(self, client=None):
        return {m["id"]: m for m in (client or self.admin()).get("/api/v1/queue").json()["messages"]}

    def test_an_analyst_sees_the_queue_but_may_not_change_it(self):
        ann = self.analyst(self.port)
        listed = self.queue(ann)
        self.assertIn(self.ids[0], listed)  # (another test deletes one of them)
        m = listed[self.ids[0]]
        self.assertEqual(m["sender"], "alice@example.com")
        self.assertEqual(m["recipients"], [{"address": "bob@example.net", "state": "pending"}])
        self.assertGreaterEqual(m["attempts"], 1)
        for method, path in (("POST", f"/api/v1/queue/{self.ids[0]}/hold"),
                             ("POST", f"/api/v1/queue/{self.ids[0]}/release"),
                             ("DELETE", f"/api/v1/queue/{self.ids[0]}"),
                             ("POST", "/api/v1/queue/flush")):
            r = ann.request(method, path)
            self.assertEqual(r.status, 403, (method, path, r.body))
        self.assertEqual(self.queue()[self.ids[0]]["state"], "deferred")
        self.assertEqual(ConsoleClient(self.port).get("/api/v1/queue").status, 401)

    def test_an_admin_holds_releases_and_deletes_and_the_gateway_logs_it(self):
        admin = self.admin()
        qid = self.ids[1]
        r = admin.request("POST", f"/api/v1/queue/{qid}/hold")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["was"], "deferred")
        self.assertEqual(self.queue()[qid]["state"], "hold")
        peers.wait_until(lambda: f"queue {qid}: hold by the operator" in self.cordon.output(),
                         what="the gateway's log line of the hold")
        # Release of a message not on hold is refused, as `cordon queue` does.
        self.assertEqual(admin.request("POST", f"/api/v1/queue/{self.ids[2]}/release").status, 409)
        self.assertEqual(admin.request("POST", f"/api/v1/queue/{qid}/release").status, 200)
        self.assertNotEqual(self.queue()[qid]["state"], "hold")
        peers.wait_until(lambda: f"queue {qid}: release by the operator" in self.cordon.output(),
                         what="the gateway's log line of the release")
        victim = self.ids[3]
        r = admin.request("DELETE", f"/api/v1/queue/{victim}")
        self.assertEqual(r.status, 200, r.body)
        self.assertNotIn(victim, self.queue())
        self.assertEqual(admin.request("DELETE", f"/api/v1/queue/{victim}").status, 404)
        peers.wait_until(lambda: f"queue {victim}: delete by the operator" in self.cordon.output(),
                         what="the gateway's log line of the delete")
        self.assertEqual(admin.request("POST", "/api/v1/queue/not-an-id/hold").status, 400)
        self.assertIn(f"console: admin queue delete {victim}", self.cordon.output())
        # Without the CSRF token, nothing happens.
        self.assertEqual(admin.request("DELETE", f"/api/v1/queue/{self.ids[4]}", csrf=False).status, 403)

    def test_the_server_view_agrees_with_metrics(self):
        admin = self.admin()
        peers.wait_until(lambda: re.search(r'cordon_dlp_breaker_state\{host="127\.0\.0\.1:\d+",'
                                           r'state="open"\} 1', admin.get("/metrics").body),
                         what="the DLP host's breaker open after five failures")
        s = self.analyst(self.port).get("/api/v1/server").json()
        self.assertEqual(set(s["roles"]), {"gateway", "console"})
        listeners = {(l["role"], l["name"]): l for l in s["listeners"]}
        self.assertEqual(listeners[("gateway", "client")]["address"], f"127.0.0.1:{self.gw}")
        self.assertGreaterEqual(listeners[("gateway", "client")]["received"], 5)
        self.assertEqual(listeners[("console", "http")]["address"], f"127.0.0.1:{self.port}")
        self.assertEqual(s["dlp_hosts"], [{"host": f"127.0.0.1:{self.dlp}", "breaker": "open"}])
        self.assertFalse(s["dlp_bypass"])
        self.assertEqual(s["bypassed"]["total"], 0)
        self.assertGreaterEqual(s["fail_closed"], 5)
        metrics = admin.get("/metrics").body
        fail_closed = sum(float(v) for v in re.findall(r"^cordon_dlp_fail_closed_total\S* (\S+)$",
                                                        metrics, re.M))
        self.assertGreaterEqual(fail_closed, s["fail_closed"])


if __name__ == "__main__":
    unittest.main()
