#!/usr/bin/env python3
"""real_json.py - questions about one `acceptwatch stat --json` output, for
the real-server tests (tests/e2e/real_lib.sh).

    real_json.py FILE PORT q EXPR              print EXPR's value
    real_json.py FILE PORT check EXPR MSG ...  exit 1 with the first MSG
                                               whose EXPR is not true

EXPR is Python over `ls`, the listener objects of 127.0.0.1:PORT in every
process row (closed ones left out), `ps`, those rows' pids (same order),
and `doc`, the whole document. Lists and objects print as JSON. A failed
check also prints each row's main figures.
"""
import json
import sys


def main():
    path, port, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with open(path) as f:
        doc = json.load(f)
    addr = "127.0.0.1:" + port
    rows = [(p, l) for p in doc["processes"] for l in p["listeners"]
            if l["address"] == addr and not l["closed"]]
    names = {"ls": [l for _, l in rows], "ps": [p["pid"] for p, _ in rows],
             "doc": doc}

    def ev(expr):
        try:
            return eval(expr, dict(names))
        except Exception as e:
            sys.exit("real_json: %s: %s: %r" % (path, expr, e))

    if cmd == "q":
        v = ev(args[0])
        print(json.dumps(v) if isinstance(v, (dict, list)) else v)
        return 0
    for expr, msg in zip(args[::2], args[1::2]):
        if ev(expr) is not True:
            print("%s [%s, on %s in %s]" % (msg, expr, addr, path))
            for p, l in rows:
                print("  pid %s: accepts %s drained %s errors %s backlog %s/%s "
                      "clamped %s queue %s drops %s stalled %s slow %s "
                      "wait max %s" % (
                          p["pid"], l["accepts"], l["drained"], l["errors"],
                          l["requested_backlog"], l["effective_backlog"],
                          l["clamped"], l["queue"], l["drops"], l["stalled"],
                          l["slow_events"], l["queue_wait_ms"]["max"]))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
