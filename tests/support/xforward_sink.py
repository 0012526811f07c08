"""A minimal SMTP sink for end-to-end tests that offers XFORWARD and keeps,
per message, the XFORWARD attributes it was given, the envelope and the
content, and counts the connections it accepted. With hang_up it ends each
connection after one message: "close" closes it right after the 250,
"421" answers the next command 421 and closes (an idle timeout). With
hold_xforward_reply it answers XFORWARD only once the next command of the
same pipelined group (MAIL) has arrived, as a strict check that a client
pipelines them: one that waits for the XFORWARD reply first never gets it.
Plain sockets and threads; 127.0.0.1 only."""

import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def reply(self, text):
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        sink = self.server.sink
        with sink.lock:
            sink.connections += 1
        self.reply("220 sink.test ESMTP")
        delivered = False
        forwarded, sender, rcpts = {}, None, []
        held = []  # XFORWARD replies waiting for the rest of their group
        while True:
            line = self.rfile.readline()
            if not line:
                return
            line = line.decode("latin-1").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if held and verb != "XFORWARD":
                with sink.lock:
                    sink.held_replies += len(held)
                for r in held:
                    self.reply(r)
                held = []
            if delivered and sink.hang_up == "421":
                self.reply("421 4.4.2 sink.test Error: timeout exceeded")
                return
            if verb in ("EHLO", "HELO"):
                forwarded, sender, rcpts = {}, None, []
                lines = ["sink.test", "PIPELINING", "8BITMIME"]
                if sink.offer_xforward:
                    lines.append("XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT")
                for i, l in enumerate(lines):
                    self.reply(("250 " if i == len(lines) - 1 else "250-") + l)
            elif verb == "XFORWARD":
                with sink.lock:
                    sink.xforward_lines.append(line)
                for item in line.split()[1:]:
                    name, _, value = item.partition("=")
                    forwarded[name.upper()] = value
                if sink.hold_xforward_reply:
                    held.append("250 2.0.0 Ok")
                else:
                    self.reply("250 2.0.0 Ok")
            elif verb == "MAIL":
                sender = line[10:]
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                rcpts.append(line[8:])
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while True:
                    l = self.rfile.readline()
                    if not l or l == b".\r\n":
                        break
                    data += l
                with sink.lock:
                    sink.messages.append({"xforward": dict(forwarded), "sender": sender,
                                          "recipients": list(rcpts), "content": data})
                forwarded, sender, rcpts = {}, None, []
                self.reply("250 2.0.0 Ok: queued")
                delivered = True
                if sink.hang_up == "close":
                    return
            elif verb == "RSET":
                forwarded, sender, rcpts = {}, None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("250 2.0.0 Ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class XforwardSink:
    def __init__(self, port, offer_xforward=True, hang_up=None, hold_xforward_reply=False):
        self.port = port
        self.offer_xforward = offer_xforward
        self.hang_up = hang_up
        self.hold_xforward_reply = hold_xforward_reply
        self.held_replies = 0
        self.lock = threading.Lock()
        self.messages = []
        self.xforward_lines = []
        self.connections = 0
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.sink = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.messages)

    def connection_count(self):
        with self.lock:
            return self.connections

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
