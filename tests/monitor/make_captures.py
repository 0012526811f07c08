"""Crafted SMTP captures for the monitor's TCP and SMTP edge cases.

Deterministic: the same files every run (fixed addresses, sequence numbers
and timestamps), written with scapy into a directory, no network. Each
scenario is a function returning its packets; `write_all(DIR)` writes
DIR/<name>.pcap for every one and returns their names. The test
(test_monitor_crafted.py) states what cordon must find in each.
"""

import sys

from scapy.all import IP, IPv6, TCP, Ether, Dot1Q, Raw, fragment, wrpcap
from scapy.layers.l2 import CookedLinux, CookedLinuxV2

CARD = "4111 1111 1111 1111"
T0 = 1_700_000_000.0


def body(subject, text):
    return (f"From: alice@corp.example\r\nTo: bob@partner.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@corp.example>\r\n\r\n{text}\r\n")


class Conn:
    """One TCP connection between a client and a server, packet by packet.

    c()/s() send data from the client/server, split into `mss` segments,
    each acknowledged by the peer; the methods return the data packets so a
    scenario can reorder, drop or alter them."""

    def __init__(self, pkts, client=("10.0.0.1", 40001), server=("10.0.0.2", 25), cisn=1000,
                 sisn=900000, v6=False, mss=1400, link="ether", vlan=None):
        self.pkts = pkts
        self.client, self.server = client, server
        self.cseq, self.sseq = cisn, sisn
        self.v6, self.mss, self.link, self.vlan = v6, mss, link, vlan

    def _ip(self, from_client):
        src, dst = (self.client, self.server) if from_client else (self.server, self.client)
        ip = IPv6(src=src[0], dst=dst[0]) if self.v6 else IP(src=src[0], dst=dst[0])
        return ip, src[1], dst[1]

    def wrap(self, l3):
        if self.link == "sll":
            return CookedLinux(pkttype=0, lladdrtype=772, proto=0x86DD if self.v6 else 0x0800) / l3
        if self.link == "sll2":
            return CookedLinuxV2(proto=0x86DD if self.v6 else 0x0800, ifindex=1,
                                 lladdrtype=772, pkttype=0) / l3
        if self.link == "raw":
            return l3
        eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        if self.vlan is not None:
            return eth / Dot1Q(vlan=self.vlan) / l3
        return eth / l3

    def packet(self, from_client, flags, seq, ack, data=b""):
        ip, sport, dport = self._ip(from_client)
        seg = TCP(sport=sport, dport=dport, flags=flags, seq=seq % 2**32, ack=ack % 2**32,
                  window=65535)
        p = self.wrap(ip / seg / Raw(data) if data else ip / seg)
        return p

    def add(self, p):
        p.time = T0 + len(self.pkts) * 0.001
        self.pkts.append(p)
        return p

    def open(self):
        self.add(self.packet(True, "S", self.cseq, 0))
        self.add(self.packet(False, "SA", self.sseq, self.cseq + 1))
        self.cseq += 1
        self.sseq += 1
        self.add(self.packet(True, "A", self.cseq, self.sseq))
        return self

    def segments(self, from_client, data):
        if isinstance(data, str):
            data = data.encode()
        out = []
        for i in range(0, len(data), self.mss):
            piece = data[i:i + self.mss]
            if from_client:
                out.append(self.packet(True, "PA", self.cseq, self.sseq, piece))
                self.cseq += len(piece)
            else:
                out.append(self.packet(False, "PA", self.sseq, self.cseq, piece))
                self.sseq += len(piece)
        return out

    def ack_from(self, from_client):
        if from_client:
            return self.packet(True, "A", self.cseq, self.sseq)
        return self.packet(False, "A", self.sseq, self.cseq)

    def c(self, data, ack=True):
        segs = self.segments(True, data)
        for p in segs:
            self.add(p)
        if ack:
            self.add(self.ack_from(False))
        return segs

    def s(self, data, ack=True):
        segs = self.segments(False, data)
        for p in segs:
            self.add(p)
        if ack:
            self.add(self.ack_from(True))
        return segs

    def close(self):
        self.add(self.packet(True, "FA", self.cseq, self.sseq))
        self.cseq += 1
        self.add(self.packet(False, "FA", self.sseq, self.cseq))
        self.sseq += 1
        self.add(self.packet(True, "A", self.cseq, self.sseq))

    def rst(self, from_client=True):
        self.add(self.packet(from_client, "R", self.cseq if from_client else self.sseq, 0))


def dialogue(conn, sender="alice@corp.example", rcpts=(("bob@partner.example", True),),
             content=None, subject="hello", text="plain words", quit=True):
    conn.s("220 mx.example ESMTP\r\n")
    conn.c("EHLO client.example\r\n")
    conn.s("250-mx.example\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
    conn.c(f"MAIL FROM:<{sender}>\r\n")
    conn.s("250 2.1.0 Ok\r\n")
    for r, ok in rcpts:
        conn.c(f"RCPT TO:<{r}>\r\n")
        conn.s("250 2.1.5 Ok\r\n" if ok else "550 5.1.1 no such user\r\n")
    conn.c("DATA\r\n")
    conn.s("354 End data with <CR><LF>.<CR><LF>\r\n")
    conn.c((content if content is not None else body(subject, text)) + ".\r\n")
    conn.s("250 2.0.0 Ok: queued\r\n")
    if quit:
        conn.c("QUIT\r\n")
        conn.s("221 2.0.0 Bye\r\n")


def basic():
    pkts = []
    c = Conn(pkts).open()
    stuffed = body("basic", f"card {CARD}\r\n..leading dot line\r\n..\r\nlast line")
    dialogue(c, rcpts=(("bob@partner.example", True), ("nobody@partner.example", False),
                       ("carol@partner.example", True)), content=stuffed)
    c.close()
    return pkts


def pipelining():
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx.example ESMTP\r\n")
    c.c("EHLO client.example\r\n")
    c.s("250-mx.example\r\n250 PIPELINING\r\n")
    c.c("MAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\n"
        "RCPT TO:<gone@partner.example>\r\nRCPT TO:<dan@partner.example>\r\nDATA\r\n")
    c.s("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 unknown\r\n250 2.1.5 Ok\r\n354 go\r\n")
    c.c(body("pipelined one", f"card {CARD}") + ".\r\nMAIL FROM:<alice@corp.example>\r\n"
        "RCPT TO:<erin@partner.example>\r\nDATA\r\n")
    c.s("250 2.0.0 queued 1\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n")
    c.c(body("pipelined two", "nothing secret") + ".\r\nQUIT\r\n")
    c.s("250 2.0.0 queued 2\r\n221 bye\r\n")
    c.close()
    return pkts


def reorder():
    """Out-of-order content segments, a retransmission, and an overlapping
    copy whose bytes differ (the first copy wins)."""
    pkts = []
    c = Conn(pkts, mss=200).open()
    c.s("220 mx.example ESMTP\r\n")
    c.c("EHLO client.example\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    text = "\r\n".join(f"line {i:03} of the reordered message" for i in range(40))
    segs = c.segments(True, body("reordered", text + f"\r\ncard {CARD}") + ".\r\n")
    order = list(range(len(segs)))
    order[1], order[3] = order[3], order[1]
    order[4], order[5] = order[5], order[4]
    # Segment 7 arrives first and waits; a copy of it with other bytes
    # overlaps it (the first copy wins, counted as conflicting).
    c.add(segs[7])
    bad = segs[7].copy()
    bad[Raw].load = b"X" * len(bad[Raw].load)
    c.add(bad)
    for i in order:
        if i != 7:
            c.add(segs[i])
    c.add(segs[2].copy())  # retransmission
    c.add(c.ack_from(False))
    c.s("250 queued\r\n")
    c.c("QUIT\r\n")
    c.s("221 bye\r\n")
    c.close()
    return pkts


def wrap():
    pkts = []
    c = Conn(pkts, cisn=2**32 - 300, sisn=2**32 - 20, mss=100).open()
    dialogue(c, text=f"wrapped sequence numbers {CARD} " + "filler " * 60)
    c.close()
    return pkts


def split_end():
    """CRLF.CRLF split at every byte across two segments, one connection per split."""
    pkts = []
    for k in range(0, 6):
        c = Conn(pkts, client=("10.0.0.1", 41000 + k)).open()
        c.s("220 mx\r\n")
        c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
        c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
        data = (body(f"split {k}", "text\r\n..dotted") + ".\r\n").encode()
        cut = len(data) - 5 + k - 1 if k > 0 else len(data) - 6
        c.c(data[:cut])
        c.c(data[cut:])
        c.s("250 queued\r\n")
        c.c("QUIT\r\n")
        c.s("221 bye\r\n")
        c.close()
    return pkts


def fin_early():
    """The FIN arrives before the last data segment."""
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    first = c.segments(True, body("fin early", f"card {CARD}"))
    last = c.segments(True, ".\r\nQUIT\r\n")
    fin = c.packet(True, "FA", c.cseq, c.sseq)
    for p in first:
        c.add(p)
    c.add(fin)
    for p in last:
        c.add(p)
    c.cseq += 1
    c.add(c.ack_from(False))
    c.s("250 queued\r\n221 bye\r\n", ack=False)
    c.add(c.packet(False, "FA", c.sseq, c.cseq))
    return pkts


def rst_data():
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("reset", f"card {CARD}\r\nand then the line drops"))
    c.rst()
    return pkts


def midstream():
    """The capture begins after the greeting and EHLO, inside the connection."""
    pkts = []
    c = Conn(pkts).open()
    dialogue(c, subject="midstream", text=f"card {CARD}")
    c.close()
    # Drop the handshake, the greeting and the EHLO exchange.
    return pkts[3 + 6:]


def one_direction():
    pkts = []
    c = Conn(pkts).open()
    dialogue(c, rcpts=(("bob@partner.example", True), ("rejected@partner.example", False)),
             subject="client side only", text=f"card {CARD}")
    c.close()
    client = c.client
    return [p for p in pkts if p[TCP].sport == client[1]]


def bad_checksums():
    pkts = []
    c = Conn(pkts).open()
    dialogue(c, subject="bad checksums", text=f"card {CARD}")
    c.close()
    for p in pkts:
        p[TCP].chksum = 0x1234
        p[IP].chksum = 0x4321
    return pkts


def truncated():
    """A content frame cut short by the capture's snap length; the server
    acknowledges it all: a gap, the message incomplete but inspected."""
    pkts = []
    c = Conn(pkts, mss=300).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    segs = c.segments(True, body("truncated", "x" * 700 + f"\r\ncard {CARD}") + ".\r\n")
    for p in segs:
        c.add(p)
    c.add(c.ack_from(False))
    c.s("250 queued\r\n")
    c.c("QUIT\r\n")
    c.s("221 bye\r\n")
    c.close()
    # Marks the second content segment for truncation (done at write time).
    segs[1].truncate_to = 100
    return pkts


def fragments():
    pkts = []
    c = Conn(pkts, mss=1400).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    segs = c.segments(True, body("fragmented", "y" * 600 + f" card {CARD} " + "z" * 400) + ".\r\n")
    for p in segs:
        frags = fragment(p[IP], fragsize=256)
        # Out of order too: last fragment first.
        frags = frags[-1:] + frags[:-1]
        for f in frags:
            c.add(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / f)
    c.add(c.ack_from(False))
    c.s("250 queued\r\n")
    c.c("QUIT\r\n")
    c.s("221 bye\r\n")
    c.close()
    return pkts


def gap():
    """A content segment lost to the capture (the server acknowledged it),
    then a second message on the same connection."""
    pkts = []
    c = Conn(pkts, mss=300).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    segs = c.segments(True, body("gap one", "w" * 900 + f"\r\ncard {CARD}") + ".\r\n")
    for i, p in enumerate(segs):
        if i != 1:
            c.add(p)
    c.add(c.ack_from(False))
    c.s("250 queued 1\r\n")
    c.c("MAIL FROM:<alice@corp.example>\r\nRCPT TO:<fred@partner.example>\r\nDATA\r\n")
    c.s("250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("gap two", "after the gap") + ".\r\nQUIT\r\n")
    c.s("250 queued 2\r\n221 bye\r\n")
    c.close()
    return pkts


def gap_end():
    """The segment with the final dot and the next commands is lost: the
    server's reply ends the message; the next command resynchronises."""
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("gap end", f"card {CARD}"))
    lost = c.segments(True, ".\r\nRSET\r\n")
    c.add(c.ack_from(False))
    del lost
    c.s("250 queued\r\n250 reset\r\n")
    c.c("MAIL FROM:<alice@corp.example>\r\nRCPT TO:<gina@partner.example>\r\nDATA\r\n")
    c.s("250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("after gap end", "fine") + ".\r\nQUIT\r\n")
    c.s("250 queued 2\r\n221 bye\r\n")
    c.close()
    return pkts


def rejected_data():
    """DATA refused: what the client sends next is read as commands."""
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n554 5.5.1 no valid recipients\r\n")
    c.c("RSET\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<hank@partner.example>\r\nDATA\r\n")
    c.s("250 reset\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("after rejected data", "second try") + ".\r\nQUIT\r\n")
    c.s("250 queued\r\n221 bye\r\n")
    c.close()
    return pkts


def bdat():
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\n")
    c.s("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n")
    m1 = body("chunked", f"card {CARD}\r\n.a line with a leading dot kept")
    a, b = m1[:50], m1[50:]
    c.c(f"MAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nBDAT {len(a)}\r\n{a}"
        f"BDAT {len(b)}\r\n{b}BDAT 0 LAST\r\n")
    c.s("250 ok\r\n250 ok\r\n250 chunk\r\n250 chunk\r\n250 queued\r\n")
    # A second message whose middle chunk the server refuses.
    m2 = body("chunk refused", "part one ")
    c.c(f"MAIL FROM:<alice@corp.example>\r\nRCPT TO:<ivy@partner.example>\r\nBDAT {len(m2)}\r\n{m2}"
        f"BDAT 17\r\nREFUSED CHUNK 1\r\nBDAT 0 LAST\r\n")
    c.s("250 ok\r\n250 ok\r\n250 chunk\r\n552 5.3.4 too big\r\n554 5.5.0 transaction failed\r\n")
    c.c("QUIT\r\n")
    c.s("221 bye\r\n")
    c.close()
    return pkts


def starttls():
    pkts = []
    c = Conn(pkts, server=("10.0.0.2", 587)).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\n")
    c.s("250-mx\r\n250 STARTTLS\r\n")
    c.c("STARTTLS\r\n")
    c.s("220 2.0.0 Ready to start TLS\r\n")
    c.c(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1MAIL FROM:<x@y>\r\nDATA\r\n" + bytes(range(256)))
    c.s(b"\x16\x03\x03\x00\x7a\x02" + bytes(200))
    c.close()
    return pkts


def auth():
    pkts = []
    c = Conn(pkts, server=("10.0.0.2", 587)).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\n")
    c.s("250-mx\r\n250 AUTH LOGIN PLAIN\r\n")
    c.c("AUTH LOGIN\r\n")
    c.s("334 VXNlcm5hbWU6\r\n")
    c.c("RSET\r\n")  # a user name that reads like a command: never one
    c.s("334 UGFzc3dvcmQ6\r\n")
    c.c("MAIL FROM:<decoy@evil.example>\r\n")  # the password line
    c.s("235 2.7.0 Authentication successful\r\n")
    c.c("MAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("after auth", f"card {CARD}") + ".\r\nQUIT\r\n")
    c.s("250 queued\r\n221 bye\r\n")
    c.close()
    return pkts


def long_line():
    pkts = []
    c = Conn(pkts).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\n")
    c.s("250 mx\r\n")
    c.c("NOOP " + "A" * 20000 + "\r\n")
    c.s("500 5.5.2 line too long\r\n")
    c.c("MAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("after a long line", "ok") + ".\r\nQUIT\r\n")
    c.s("250 queued\r\n221 bye\r\n")
    c.close()
    return pkts


def links(link, v6=False, vlan=None):
    def make():
        pkts = []
        server = ("2001:db8::2", 25) if v6 else ("10.0.0.2", 25)
        client = ("2001:db8::1", 40001) if v6 else ("10.0.0.1", 40001)
        c = Conn(pkts, client=client, server=server, v6=v6, link=link, vlan=vlan).open()
        dialogue(c, subject=f"link {link}", text=f"card {CARD}")
        c.close()
        return pkts
    return make


def ip_filtered():
    pkts = []
    c = Conn(pkts, client=("10.9.9.9", 40001)).open()
    dialogue(c, subject="from the backup relay", text=f"card {CARD}")
    c.close()
    c = Conn(pkts, client=("10.1.1.1", 40002)).open()
    dialogue(c, subject="from a workstation", text=f"card {CARD}")
    c.close()
    return pkts


def idle():
    """Two connections; the first goes quiet for longer than idle_timeout."""
    pkts = []
    c = Conn(pkts, client=("10.0.0.1", 40010)).open()
    c.s("220 mx\r\n")
    c.c("EHLO x\r\nMAIL FROM:<alice@corp.example>\r\nRCPT TO:<bob@partner.example>\r\nDATA\r\n")
    c.s("250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n")
    c.c(body("went idle", f"card {CARD}"))
    d = Conn(pkts, client=("10.0.0.1", 40011)).open()
    dialogue(d, subject="later")
    d.close()
    # The second connection is an hour later.
    for i, p in enumerate(pkts):
        if p[TCP].sport == 40011 or p[TCP].dport == 40011:
            p.time += 3600
    return pkts


SCENARIOS = {
    "basic": basic, "pipelining": pipelining, "reorder": reorder, "wrap": wrap,
    "split_end": split_end, "fin_early": fin_early, "rst_data": rst_data,
    "midstream": midstream, "one_direction": one_direction, "bad_checksums": bad_checksums,
    "truncated": truncated, "fragments": fragments, "gap": gap, "gap_end": gap_end,
    "rejected_data": rejected_data, "bdat": bdat, "starttls": starttls, "auth": auth,
    "long_line": long_line, "sll": links("sll"), "sll2_v6": links("sll2", v6=True),
    "vlan_v6": links("ether", v6=True, vlan=42), "raw": links("raw"),
    "ip_filtered": ip_filtered, "idle": idle,
}

LINKTYPES = {"sll": 113, "sll2_v6": 276, "raw": 101}


def write_one(path, pkts, linktype=None):
    """A classic pcap file, written by hand so that a frame can be recorded
    shorter than it was on the wire (caplen < len)."""
    import struct
    if linktype is None:
        linktype = 1
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype))
        for p in pkts:
            raw = bytes(p)
            cut = getattr(p, "truncate_to", None)
            data = raw[:cut] if cut is not None else raw
            usec = int(round(float(p.time) * 1e6))
            f.write(struct.pack("<IIII", usec // 1000000, usec % 1000000, len(data), len(raw)))
            f.write(data)


def write_all(directory):
    import os
    os.makedirs(directory, exist_ok=True)
    for name, make in SCENARIOS.items():
        write_one(os.path.join(directory, name + ".pcap"), make(), LINKTYPES.get(name))
    return list(SCENARIOS)


if __name__ == "__main__":
    print("\n".join(write_all(sys.argv[1])))
