#!/usr/bin/env python3
"""A TCP server on 127.0.0.1 with TCP_DEFER_ACCEPT set after listen()
(apache's default): prints "ready PORT", then accepts, reads and closes
until SIGTERM. --backlog N (default 128)."""
import signal
import socket
import sys

backlog = 128
if len(sys.argv) == 3 and sys.argv[1] == "--backlog":
    backlog = int(sys.argv[2])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(backlog)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1)
print("ready", s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        c.recv(64)
    except OSError:
        pass
    c.close()
