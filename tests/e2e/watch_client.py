#!/usr/bin/env python3
"""watch_client.py - connections at a steady rate, for the watch tests.

    watch_client.py --port P --rate R --seconds S [--http] [--timeout-s T]

Starts one non-blocking loopback connection every 1/R s for S seconds.
Each sends a request as soon as it is connected (one byte, or with --http
"GET / HTTP/1.0") and is done when the server's first byte arrives; its
queue wait is that moment minus the moment connect() completed (the
client's view of the time in the accept queue, plus the server's reply).
A connection that got nothing after --timeout-s (default 40) failed.

Prints one line "completed C failed F wait_p50_ms X wait_max_ms Y" when
every connection is done, and exits 0 (2 on usage errors).
"""
import argparse
import errno
import selectors
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--timeout-s", type=float, default=40.0)
    a = ap.parse_args()
    if a.rate <= 0 or a.seconds <= 0 or a.rate * a.seconds > 2000:
        sys.exit(2)
    request = b"GET / HTTP/1.0\r\n\r\n" if a.http else b"x"
    total = int(round(a.rate * a.seconds))
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    started = 0
    conns = {}  # sock -> [t_start, t_established or None]
    waits = []
    failed = 0
    while started < total or conns:
        now = time.monotonic()
        while started < total and now >= start + started / a.rate:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", a.port))
            if err not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
            else:
                conns[s] = [now, None]
                sel.register(s, selectors.EVENT_WRITE)
            started += 1
        next_start = start + started / a.rate if started < total else now + 0.05
        for key, ev in sel.select(max(0.0, min(0.05, next_start - now))):
            s = key.fileobj
            st = conns[s]
            t = time.monotonic()
            if st[1] is None:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    failed += 1
                    sel.unregister(s)
                    s.close()
                    del conns[s]
                    continue
                st[1] = t
                try:
                    s.send(request)
                except OSError:
                    pass
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                got = s.recv(64)
            except OSError:
                got = b""
            if got:
                waits.append(t - st[1])
            else:
                failed += 1
            sel.unregister(s)
            s.close()
            del conns[s]
        t = time.monotonic()
        for s in [s for s, st in conns.items() if t - st[0] > a.timeout_s]:
            failed += 1
            sel.unregister(s)
            s.close()
            del conns[s]
    waits.sort()
    p50 = waits[(len(waits) + 1) // 2 - 1] * 1000 if waits else 0
    mx = waits[-1] * 1000 if waits else 0
    print("completed %d failed %d wait_p50_ms %.0f wait_max_ms %.0f"
          % (len(waits), failed, p50, mx))


main()
