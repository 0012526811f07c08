"""Two cordon prevent processes, each with its own data directory, sharing
one PostgreSQL incident store (a throwaway server started once): a message
both see is one incident, both replies name it; with the database stopped
a node keeps blocking and names an outbox reference, and writes the
incident once the database is back. A monitor node, and a milter in the
same process, record into the same database."""

import os
import re
import smtplib
import subprocess
import tempfile
import unittest

import peers
from prevent_support import CARD, STANDARD_POLICIES, PreventFixture, make_message


def incident_ref(exc):
    text = exc.smtp_error.decode() if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    m = re.search(r"Incident ID: (\S+)", text)
    return m.group(1) if m else None


class SharedIncidentStore(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = peers.Postgres()
        url = cls.pg.url()
        cls.node1 = PreventFixture(STANDARD_POLICIES, incidents=url)
        cls.node2 = PreventFixture(STANDARD_POLICIES, incidents=url)

    @classmethod
    def tearDownClass(cls):
        cls.node1.stop()
        cls.node2.stop()
        cls.pg.destroy()

    def block_ref(self, node, message):
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            node.send(message)
        self.assertEqual(caught.exception.smtp_code, 550)
        return incident_ref(caught.exception)

    def test_1_the_same_message_through_both_nodes_is_one_incident(self):
        message = make_message("Card for both", f"card {CARD}")
        first = self.block_ref(self.node1, message)
        second = self.block_ref(self.node2, message)
        self.assertTrue(first.isdigit(), first)
        self.assertEqual(first, second)
        # Either node's configuration lists the one shared incident.
        for node in (self.node1, self.node2):
            mine = [i for i in node.incidents() if str(i["id"]) == first]
            self.assertEqual(len(mine), 1)
            self.assertEqual(mine[0]["repeat_count"], 1)
        self.assertFalse(os.path.exists(os.path.join(self.node1.data_dir, "incidents.db")))

    def test_2_database_down_the_outbox_names_a_reference_and_drains_once(self):
        before = len(self.node1.incidents())
        self.pg.stop()
        try:
            ref = self.block_ref(self.node1, make_message("Card while down", f"card {CARD} a"))
            self.assertRegex(ref, r"^P-[0-9a-f]{16}$")
        finally:
            self.pg.start()
        outbox = os.path.join(self.node1.data_dir, "incident-outbox")
        self.assertEqual(len(os.listdir(outbox)), 1)

        def drained():
            # The next message makes the node replay the outbox first.
            got = self.block_ref(self.node1, make_message("Card after", f"card {CARD} b"))
            return got if got.isdigit() else None
        peers.wait_until(drained, timeout=15, interval=0.5, what="the database to take writes")
        self.assertEqual(os.listdir(outbox), [])
        incidents = self.node2.incidents()
        subjects = [i["subject"] for i in incidents]
        self.assertEqual(subjects.count("Card while down"), 1)
        self.assertGreaterEqual(len(incidents), before + 2)

    def test_3_a_node_starts_and_blocks_while_the_database_is_down(self):
        self.pg.stop()
        node3 = None
        try:
            node3 = PreventFixture(STANDARD_POLICIES, incidents=self.pg.url())
            ref = self.block_ref(node3, make_message("Card at start", f"card {CARD} c"))
            self.assertRegex(ref, r"^P-[0-9a-f]{16}$")
            self.pg.start()
            peers.wait_until(
                lambda: self.block_ref(node3, make_message("Card later", f"card {CARD} d"))
                .isdigit(), timeout=15, interval=0.5, what="the database")
            subjects = [i["subject"] for i in self.node1.incidents()]
            self.assertEqual(subjects.count("Card at start"), 1)
        finally:
            self.pg.start()
            if node3:
                node3.stop()

    def test_4_a_monitor_node_and_a_milter_in_one_process_share_the_database(self):
        # The capture is crafted by the monitor's own scapy script; Debian's
        # python3 has scapy.
        with tempfile.TemporaryDirectory() as tmp:
            source = os.environ["CORDON_SOURCE_DIR"]
            subprocess.run(["/usr/bin/python3", os.path.join(source, "tests/monitor/make_captures.py"),
                            tmp], check=True, capture_output=True, timeout=120)
            milter_port = peers.free_port()
            node = peers.Cordon(
                f"data_dir: {tmp}/data\nincidents: {self.pg.url()}\n"
                f"monitor:\n  capture: {tmp}/basic.pcap\n"
                f"milter:\n  listen: 127.0.0.1:{milter_port}\n"
                "policies:\n" + STANDARD_POLICIES, tmp, ports=(milter_port,))
            node.start()
            try:
                def monitored():
                    return [i for i in self.node1.incidents()
                            if i["subject"] == "basic" and i["action"] == "monitored"]
                peers.wait_until(monitored, timeout=20, interval=0.2,
                                 what="the monitor's incident in the shared database")
                self.assertEqual(len(monitored()), 1)
                self.assertIn("milter listening", node.output())
                # One store, one outbox, in the node's own data directory.
                self.assertFalse(os.path.exists(os.path.join(tmp, "data", "incidents.db")))
            finally:
                node.stop()


if __name__ == "__main__":
    unittest.main()
