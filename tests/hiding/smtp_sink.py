"""A minimal SMTP server on standard input/output, for `swaks --pipe`:
accepts one transaction and writes the message it received to argv[1]."""

import sys


def main():
    out_path = sys.argv[1]
    rd, wr = sys.stdin.buffer, sys.stdout.buffer

    def reply(text):
        wr.write(text.encode() + b"\r\n")
        wr.flush()

    reply("220 sink.example ESMTP")
    while True:
        line = rd.readline()
        if not line:
            return
        verb = line.strip().split(b" ", 1)[0].upper()
        if verb in (b"EHLO", b"HELO"):
            reply("250 sink.example")
        elif verb == b"DATA":
            reply("354 go ahead")
            data = bytearray()
            while True:
                chunk = rd.readline()
                if not chunk or chunk in (b".\r\n", b".\n"):
                    break
                if chunk.startswith(b".."):
                    chunk = chunk[1:]
                data += chunk
            with open(out_path, "wb") as f:
                f.write(bytes(data))
            reply("250 2.0.0 queued")
        elif verb == b"QUIT":
            reply("221 bye")
            return
        else:
            reply("250 ok")


if __name__ == "__main__":
    main()
