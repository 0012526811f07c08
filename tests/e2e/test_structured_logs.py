"""JSON log lines (log.format: json) with structured fields: one line per
message decision in prevent and in the gateway (queue_id, message_id,
sender, rcpt_count, verdict, policies, incident, reply code), the
operator's `cordon queue` actions logged by the running gateway when it
picks them up, and the cordon_queue_messages{state} gauge in /metrics."""

import json
import os
import shutil
import smtplib
import tempfile
import unittest
import urllib.request

from peers import Cordon, free_port, wait_until
from prevent_support import STANDARD_POLICIES, make_message

CARD = "4111 1111 1111 1111"


def json_lines(cordon):
    """Every line of the log, each parsed: a line that is not one JSON
    object fails the test."""
    return [json.loads(line) for line in cordon.output().splitlines() if line.strip()]


class Deployment:
    """gateway + prevent (reflect) + console in one process, JSON logs.
    `dlp_up=False` points the gateway at a closed port, fail closed."""

    def __init__(self, dlp_up=True):
        self.dir = tempfile.mkdtemp(prefix="cordon-logs-")
        os.chmod(self.dir, 0o755)
        self.port, self.resubmit, self.prevent = free_port(), free_port(), free_port()
        self.console = free_port()
        dlp = self.prevent if dlp_up else free_port()
        prevent = f"""prevent:
  listen: 127.0.0.1:{self.prevent}
  mode: reflect
  next_hop: 127.0.0.1:{self.resubmit}
""" if dlp_up else ""
        text = f"""data_dir: {self.dir}/data
log: {{format: json}}
console:
  listen: 127.0.0.1:{self.console}
gateway:
  listen: 127.0.0.1:{self.port}
  resubmit_listen: 127.0.0.1:{self.resubmit}
  hostname: gw.test
  dlp:
    hosts: [127.0.0.1:{dlp}]
    connect_timeout: 1s
    bypass: {"true" if dlp_up else "false"}
  retry: {{schedule: [1h], max_lifetime: 2h}}
{prevent}policies:
{STANDARD_POLICIES}"""
        ports = [self.port, self.resubmit, self.console] + ([self.prevent] if dlp_up else [])
        self.cordon = Cordon(text, self.dir, ports=ports).start()

    def send(self, message, sender="alice@example.com", rcpts=("bob@example.net",)):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as s:
            s.ehlo("client.test")
            code, text = s.mail(sender)[0], None
            for r in rcpts:
                s.rcpt(r)
            code, text = s.data(message.encode())
            assert code == 250, text
            return text.decode().rsplit(" ", 1)[1]

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.console}/metrics", timeout=10) as r:
            return r.read().decode()

    def stop(self):
        self.cordon.kill()
        self.cordon.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class DecisionLinesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Deployment()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def line(self, predicate, what):
        return wait_until(lambda: next((l for l in json_lines(self.d.cordon) if predicate(l)), None),
                          what=what)

    def test_a_blocked_message_has_one_prevent_and_one_gateway_decision_line(self):
        qid = self.d.send(make_message("logged card", CARD, sender="alice@example.com",
                                       to="bob@example.net"),
                          rcpts=("bob@example.net", "carol@example.net"))
        gw = self.line(lambda l: l.get("role") == "gateway" and l.get("event") == "decision"
                       and l.get("queue_id") == qid, "the gateway's decision line")
        pv = self.line(lambda l: l.get("role") == "prevent" and l.get("verdict") == "block"
                       and l.get("message_id") == gw["message_id"], "prevent's decision line")
        self.assertEqual(pv["level"], "info")
        self.assertEqual(pv["queue_id"], qid)  # the gateway's X-Cordon-Queue-Id
        self.assertEqual(pv["sender"], "alice@example.com")
        self.assertEqual(pv["rcpt_count"], 2)
        self.assertEqual(pv["policies"], ["Cards"])
        self.assertIsInstance(pv["incident"], int)
        self.assertEqual((pv["reply_code"], pv["reply_enhanced"]), (550, "5.7.0"))
        self.assertEqual(pv["client"], "127.0.0.1")
        self.assertIn("msg", pv)
        self.assertRegex(gw["message_id"], r"@corp\.test$")
        self.assertEqual(gw["sender"], "alice@example.com")
        self.assertEqual(gw["rcpt_count"], 2)
        self.assertEqual(gw["verdict"], "bounced")
        self.assertEqual(gw["dlp"], "bounced")
        self.assertEqual(gw["incident"], pv["incident"])
        self.assertEqual((gw["reply_code"], gw["reply_enhanced"]), (550, "5.7.0"))
        self.assertNotIn("4111 1111 1111 1111", self.d.cordon.output())

    def test_a_clean_message_is_passed_then_delivered(self):
        qid = self.d.send(make_message("logged clean", "hello there"))
        gw = self.line(lambda l: l.get("role") == "gateway" and l.get("queue_id") == qid
                       and l.get("event") == "decision", "the gateway's decision line")
        self.assertEqual((gw["verdict"], gw["dlp"]), ("passed", "passed"))
        self.assertEqual(gw["reply_code"], 250)
        self.assertIsNone(gw["incident"])
        pv = self.line(lambda l: l.get("role") == "prevent" and l.get("message_id") == gw["message_id"],
                       "prevent's decision line")
        self.assertEqual((pv["verdict"], pv["policies"], pv["incident"]), ("pass", [], None))
        self.assertEqual(pv["reply_code"], 250)


class OperatorActionsTest(unittest.TestCase):
    def test_hold_and_release_are_logged_by_the_daemon_and_counted_by_state(self):
        d = Deployment(dlp_up=False)
        self.addCleanup(d.stop)
        qid = d.send(make_message("to hold", "hello"))
        wait_until(lambda: 'cordon_queue_messages{state="deferred"} 1' in d.metrics(),
                   what="the deferred gauge")
        r = d.cordon.run("queue", "hold", qid)
        self.assertEqual(r.returncode, 0, r.stderr)
        held = wait_until(lambda: next((l for l in json_lines(d.cordon)
                                        if l.get("event") == "operator_action"), None),
                          what="the daemon's log line of the hold")
        self.assertEqual((held["action"], held["queue_id"], held["role"]), ("hold", qid, "gateway"))
        self.assertEqual(held["msg"].split(" by ")[0], f"queue {qid}: hold")
        metrics = wait_until(lambda: (lambda m: 'cordon_queue_messages{state="hold"} 1' in m and m)(
            d.metrics()), what="the hold gauge")
        self.assertIn('cordon_queue_messages{state="deferred"} 0', metrics)
        self.assertIn('cordon_queue_messages{state="active"} 0', metrics)
        self.assertEqual(d.cordon.run("queue", "release", qid).returncode, 0)
        wait_until(lambda: any(l.get("action") == "release" and l.get("queue_id") == qid
                               for l in json_lines(d.cordon)), what="the release line")
        # Each record is logged once, then gone.
        self.assertEqual(sum(l.get("event") == "operator_action" for l in json_lines(d.cordon)), 2)
        self.assertEqual(os.listdir(os.path.join(d.dir, "data", "queue", "actions")), [])


if __name__ == "__main__":
    unittest.main()
