#!/usr/bin/env python3
"""client.py - a bounded loopback client for the real-server tests.

    client.py --port P -n N [--proto http|redis] [--timeout-ms T]
              [--host 127.0.0.1] [--started FILE]

Opens N non-blocking TCP connections to a loopback port at once. Each one,
as soon as it is connected, sends one real request (http: "GET / HTTP/1.0",
redis: "PING") and counts as completed when the server's reply begins as it
should ("HTTP/" or "+PONG"); anything else, a reset, or the deadline
(default 20000 ms) counts as failed. --started writes the wall-clock time
in ns (as `date +%s%N`) to FILE just before the first connect. Prints one line "completed C failed F"
and exits 0; exit 2 on usage errors.

Sending first matters for the same reason it does in burst.c: when the
accept queue was full as our ACK arrived, the server side kept no
connection; our request's retransmissions carry the ACK again and create it
once the queue has room. With a full queue the kernel drops SYNs and the
connect is retried by the kernel after 1 s, 3 s, 7 s..., so a burst on a
stopped server completes in steps.
"""
import argparse
import errno
import ipaddress
import selectors
import socket
import sys
import time

MAX_CONNS = 2000
REQUEST = {
    "http": b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n",
    "redis": b"PING\r\n",
}
REPLY = {"http": b"HTTP/", "redis": b"+PONG"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", type=int, required=True)
    ap.add_argument("--proto", choices=sorted(REQUEST), default="http")
    ap.add_argument("--timeout-ms", type=int, default=20000)
    ap.add_argument("--started")
    a = ap.parse_args()
    if not ipaddress.ip_address(a.host).is_loopback:
        ap.error("--host must be a loopback address")
    if not 1 <= a.n <= MAX_CONNS or not 1 <= a.timeout_ms <= 600000:
        ap.error("-n must be 1..%d, --timeout-ms 1..600000" % MAX_CONNS)
    request, want = REQUEST[a.proto], REPLY[a.proto]
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET

    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(a.n):
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        socks.append(s)
    state = {}  # socket -> bytes received so far, or None while connecting
    failed = completed = 0
    if a.started:
        with open(a.started, "w") as f:
            f.write("%d\n" % time.time_ns())
    for s in socks:
        err = s.connect_ex((a.host, a.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            failed += 1
            continue
        state[s] = None
        sel.register(s, selectors.EVENT_WRITE)

    deadline = time.monotonic() + a.timeout_ms / 1000
    while state:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(left):
            s = key.fileobj
            done = None
            if state[s] is None:  # connect finished (or failed)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    done = False
                else:
                    try:
                        s.sendall(request)
                        state[s] = b""
                        sel.modify(s, selectors.EVENT_READ)
                    except OSError:
                        done = False
            else:
                try:
                    data = s.recv(64)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                got = state[s] + data
                state[s] = got
                if got[: len(want)] == want[: len(got)] and len(got) >= len(want):
                    done = True
                elif not data or got[: len(want)] != want[: len(got)]:
                    done = False
            if done is not None:
                sel.unregister(s)
                s.close()
                del state[s]
                completed += done
                failed += not done
    failed += len(state)
    for s in state:
        s.close()
    print("completed %d failed %d" % (completed, failed), flush=True)


if __name__ == "__main__":
    sys.exit(main())
