#!/usr/bin/env bash
# acceptwatch stat --prometheus: the exposition is checked by
# `promtool check metrics` and against the format rules by a parser of our
# own (names,
# label syntax and escapes, HELP/TYPE once per family and first, families
# contiguous, no duplicate series, *_total counters, histograms cumulative
# with +Inf = _count), with label values that need escaping (a comm with a
# quote and a backslash, a Unix socket path with a quote); the figures
# agree with stat --json; by default no pid label, a netns label, the
# last accept as a Unix time, floats in their fewest digits (--by-process
# gives the per-process series); --output replaces the file atomically (mode 0644,
# no temporary left) and fails cleanly into a missing directory.
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
command -v promtool >/dev/null || aw_skip "promtool is not installed (make deps)"

cat >"$AW_TMP/prom_check.py" <<'PY'
#!/usr/bin/env python3
"""Check a Prometheus text exposition (format 0.0.4) against its rules,
without promtool: names, label syntax and escapes, HELP/TYPE once per
family and before its samples, families contiguous, no duplicate series,
counters named *_total, histograms cumulative with +Inf equal to _count.

usage: prom_check.py FILE [--dump]   exit 0 valid, 1 invalid (reasons on
stdout). With --dump, prints the samples as JSON for the caller to query:
[[name, {label: value}, value], ...]."""
import json
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}
errors = []


def err(lineno, msg):
    errors.append("line %d: %s" % (lineno, msg))


def parse_labels(s, lineno):
    """s starts after '{'; returns (labels, rest after '}')."""
    labels, i = {}, 0
    while True:
        if s[i:i + 1] == "}":
            return labels, s[i + 1:]
        m = re.match(r"([a-zA-Z_][a-zA-Z0-9_]*)=\"", s[i:])
        if not m:
            raise ValueError("bad label at %r" % s[i:i + 20])
        name, i = m.group(1), i + m.end()
        val = []
        while True:
            c = s[i:i + 1]
            if c == "":
                raise ValueError("unterminated label value")
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", "\"", "n"):
                    raise ValueError("bad escape \\%s" % e)
                val.append("\n" if e == "n" else e)
                i += 2
                continue
            if c == "\"":
                i += 1
                break
            if c == "\n":
                raise ValueError("raw newline in label value")
            val.append(c)
            i += 1
        if name in labels:
            raise ValueError("label %s twice" % name)
        if name.startswith("__"):
            raise ValueError("reserved label name %s" % name)
        labels[name] = "".join(val)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise ValueError("expected , or } at %r" % s[i:i + 20])


def value(tok):
    if tok in ("+Inf", "-Inf", "NaN"):
        return float(tok.replace("Inf", "inf").replace("NaN", "nan"))
    return float(tok)


def family_of(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
            return name[:-len(suf)]
    return name


def main():
    path = sys.argv[1]
    text = open(path, encoding="utf-8").read()
    if text and not text.endswith("\n"):
        errors.append("no final newline")
    helps, types, seen_fams, samples, series = {}, {}, [], [], set()
    current = None
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not NAME.match(name):
                    err(lineno, "bad metric name %r" % name)
                if parts[1] == "HELP":
                    if name in helps:
                        err(lineno, "HELP for %s twice" % name)
                    if name in types:
                        err(lineno, "HELP for %s after its TYPE" % name)
                    helps[name] = parts[3] if len(parts) > 3 else ""
                else:
                    if name in types:
                        err(lineno, "TYPE for %s twice" % name)
                    t = parts[3] if len(parts) > 3 else ""
                    if t not in TYPES:
                        err(lineno, "bad type %r" % t)
                    types[name] = t
                    if name in seen_fams:
                        err(lineno, "TYPE for %s after its samples" % name)
                continue
            continue
        if not line.strip():
            err(lineno, "blank line")
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$", line)
        if not m:
            err(lineno, "bad sample line %r" % line)
            continue
        name, rest = m.group(1), m.group(2)
        labels = {}
        try:
            if rest.startswith("{"):
                labels, rest = parse_labels(rest[1:], lineno)
            toks = rest.split()
            if len(toks) not in (1, 2) or not rest.startswith(" "):
                raise ValueError("want ' VALUE [TIMESTAMP]', got %r" % rest)
            v = value(toks[0])
        except ValueError as e:
            err(lineno, str(e))
            continue
        fam = family_of(name, types)
        if fam not in types:
            err(lineno, "sample of %s before/without its TYPE" % fam)
        if fam not in helps:
            err(lineno, "sample of %s without HELP" % fam)
        if fam != current:
            if fam in seen_fams:
                err(lineno, "family %s not contiguous" % fam)
            seen_fams.append(fam)
            current = fam
        if types.get(fam) == "counter":
            if not name.endswith("_total"):
                err(lineno, "counter %s not named *_total" % name)
            if v < 0 or math.isnan(v):
                err(lineno, "counter %s is %r" % (name, v))
        key = (name, tuple(sorted(labels.items())))
        if key in series:
            err(lineno, "duplicate series %s%s" % key)
        series.add(key)
        samples.append((lineno, name, labels, v))
    check_histograms(types, samples)
    if "--dump" in sys.argv[2:]:
        print(json.dumps([[n, l, v] for _, n, l, v in samples]))
    if errors:
        print("\n".join(errors[:50]))
        sys.exit(1)


def check_histograms(types, samples):
    hist = {}
    for lineno, name, labels, v in samples:
        fam = family_of(name, types)
        if types.get(fam) != "histogram":
            continue
        base = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        h = hist.setdefault((fam, base), {"buckets": [], "sum": None,
                                          "count": None, "line": lineno})
        if name.endswith("_bucket"):
            if "le" not in labels:
                err(lineno, "bucket without le")
                continue
            h["buckets"].append((value(labels["le"]), v, lineno))
        elif name.endswith("_sum"):
            h["sum"] = v
        elif name.endswith("_count"):
            h["count"] = v
        else:
            err(lineno, "histogram sample %s" % name)
    for (fam, base), h in hist.items():
        b = h["buckets"]
        where = "%s%s" % (fam, dict(base))
        if not b or not math.isinf(b[-1][0]):
            err(h["line"], "%s: no +Inf bucket last" % where)
            continue
        for (le1, c1, _), (le2, c2, ln) in zip(b, b[1:]):
            if not le2 > le1:
                err(ln, "%s: le not increasing (%r, %r)" % (where, le1, le2))
            if c2 < c1:
                err(ln, "%s: buckets not cumulative (%r > %r)" % (where, c1, c2))
        if h["count"] is None or h["sum"] is None:
            err(h["line"], "%s: no _sum or _count" % where)
        elif b[-1][1] != h["count"]:
            err(h["line"], "%s: +Inf %r != _count %r" % (where, b[-1][1], h["count"]))


main()
PY

# A server whose comm needs escaping: exec'd through a link of that name
# (aw_start_server runs "server"), so started by hand here.
weird="$AW_TMP/we\"ird\\srv"
ln -s "$AW_BIN/server" "$weird"
LD_PRELOAD=$AW_SHIM "$weird" --backlog 8 --delay-ms 100 >"$AW_TMP/w.out" 2>"$AW_TMP/w.err" &
W_PID=$!
aw_register_pid "$W_PID"
for ((i = 0; i < 100; i++)); do
	read -r line <"$AW_TMP/w.out" && [[ $line == "ready "* ]] && break
	sleep 0.05
done
W_PORT=${line#ready }
[ -n "$W_PORT" ] || aw_fail "weird server not ready: $(cat "$AW_TMP/w.err")"
LD_PRELOAD=$AW_SHIM aw_start_server U --unix "$AW_TMP/q\"s.sock" --backlog 4
LD_PRELOAD=$AW_SHIM aw_start_server F --backlog 128
read -r _ completed _ <<<"$("$AW_BIN/burst" --port "$W_PORT" -n 5 --timeout-ms 5000)"
[ "$completed" = 5 ] || aw_fail "burst completed $completed of 5"
read -r _ completed _ <<<"$("$AW_BIN/burst" --port "$F_PORT" -n 20)"
[ "$completed" = 20 ] || aw_fail "burst completed $completed of 20"

pids="$W_PID $U_PID $F_PID"
"$AW_TOOL" stat --prometheus --by-process $pids >"$AW_TMP/m.prom" ||
	aw_fail "stat --prometheus --by-process failed"
"$AW_TOOL" stat --json $pids >"$AW_TMP/m.json"
head -30 "$AW_TMP/m.prom"
python3 "$AW_TMP/prom_check.py" "$AW_TMP/m.prom" --dump >"$AW_TMP/samples.json" ||
	aw_fail "invalid exposition: $(tail -5 "$AW_TMP/samples.json")"

# Prometheus's own linter agrees.
promtool check metrics <"$AW_TMP/m.prom" || aw_fail "promtool check metrics"

# The figures, read back through the parser, agree with the JSON report.
python3 - "$AW_TMP/samples.json" "$AW_TMP/m.json" "$W_PID" "$F_PID" <<'PY' || aw_fail "figures disagree"
import json, sys
samples = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
wpid, fpid = sys.argv[3], sys.argv[4]
def get(name, pid, **extra):
    got = [v for n, l, v in samples if n == name and l.get("pid") == pid
           and all(l.get(k) == x for k, x in extra.items())]
    assert len(got) == 1, (name, pid, extra, got)
    return got[0]
procs = {str(p["pid"]): p for p in doc["processes"]}
# Escaped label values come back as they are in the segment.
w = [l for n, l, v in samples if n == "acceptwatch_accepts_total" and l.get("pid") == wpid][0]
assert w["comm"] == 'we"ird\\srv', w
assert any(l.get("address", "").endswith('q"s.sock') for n, l, v in samples), "unix path"
def sock(name, ino):
    got = [v for n, l, v in samples if n == name and l.get("inode") == str(ino)]
    assert len(got) == 1, (name, ino, got)
    return got[0]
for pid in (wpid, fpid):
    L = procs[pid]["listeners"][0]
    assert get("acceptwatch_accepts_total", pid) == L["accepts"]
    assert get("acceptwatch_queue_peak", pid) == L["queue"]["peak"]
    # Socket series once per socket, joined to the process by inode.
    ino = L["ino"]
    assert sock("acceptwatch_socket_backlog_effective", ino) == L["effective_backlog"]
    assert sock("acceptwatch_socket_backlog_clamped", ino) == (1 if L["clamped"] else 0)
    assert sock("acceptwatch_socket_drops_total", ino) == L["drops"]
    assert sock("acceptwatch_socket_processes", ino) == 1
    for fam, key in (("acceptwatch_accept_gap_seconds", "gap_ns"),
                     ("acceptwatch_accept_away_seconds", "away_ns"),
                     ("acceptwatch_queue_wait_seconds", "queue_wait_ms")):
        assert get(fam + "_count", pid) == L[key]["count"], fam
        unit = 1e3 if key.endswith("_ms") else 1e9
        assert abs(get(fam + "_sum", pid) - L[key]["sum"] / unit) < 1e-6, fam
assert sock("acceptwatch_socket_backlog_clamped", procs[fpid]["listeners"][0]["ino"]) == 1
assert [v for n, l, v in samples if n == "acceptwatch_build_info"] == [1]
assert [v for n, l, v in samples if n == "acceptwatch_processes"] == [3]
# 100 ms away per accept: the gap buckets split at 0.1 s / 0.25 s.
assert get("acceptwatch_accept_away_seconds_bucket", wpid, le="0.05") == 0
assert get("acceptwatch_accept_away_seconds_bucket", wpid, le="0.25") >= 4
print("figures agree")
PY

# The default: the same figures summed per socket, no pid label (and
# --by-socket, its old name, the same); labelled with the network
# namespace; the last accept a Unix time (not an age); valid.
"$AW_TOOL" stat --prometheus $pids >"$AW_TMP/s.prom" || aw_fail "stat --prometheus failed"
"$AW_TOOL" stat --prometheus --by-socket $pids >"$AW_TMP/s2.prom" || aw_fail "--by-socket failed"
promtool check metrics <"$AW_TMP/s.prom" || aw_fail "promtool check metrics (default)"
python3 "$AW_TMP/prom_check.py" "$AW_TMP/s.prom" --dump >"$AW_TMP/s.json" ||
	aw_fail "invalid default exposition: $(tail -5 "$AW_TMP/s.json")"
netns=$(stat -L -c %i /proc/self/ns/net)
python3 - "$AW_TMP/s.json" "$AW_TMP/m.json" "$netns" "$AW_TMP/s2.prom" <<'PY' || aw_fail "default figures disagree"
import json, sys, time
samples = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
netns = sys.argv[3]
assert not any("pid" in l for n, l, v in samples), "a pid label"
assert not any(n.endswith("_age_seconds") for n, l, v in samples), "an age"
for p in doc["processes"]:
    for L in p["listeners"]:
        got = [(v, l) for n, l, v in samples if n == "acceptwatch_accepts_total"
               and l["inode"] == str(L["ino"])]
        assert [v for v, l in got] == [L["accepts"]], (L["address"], got)
        assert got[0][1].get("netns") == netns, got
        ts = [v for n, l, v in samples
              if n == "acceptwatch_last_accept_timestamp_seconds"
              and l["inode"] == str(L["ino"])]
        if L["accepts"]:
            assert len(ts) == 1 and time.time() - 120 < ts[0] <= time.time() + 1, ts
# Every value in its fewest digits: none of %.17g's tails.
for line in open(sys.argv[4]):
    if not line.startswith("#"):
        v = line.rsplit(" ", 1)[1].strip()
        f = float(v)
        short = str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
        assert v == short, (line, short)
print("default agrees")
PY
cmp -s "$AW_TMP/s.prom" "$AW_TMP/s2.prom" ||
	diff <(grep -v '^acceptwatch_last\|^acceptwatch_socket_drops' "$AW_TMP/s.prom") \
		<(grep -v '^acceptwatch_last\|^acceptwatch_socket_drops' "$AW_TMP/s2.prom") >/dev/null ||
	aw_fail "--by-socket differs from the default"
"$AW_TOOL" stat --by-process >/dev/null 2>&1
[ $? = 2 ] || aw_fail "--by-process without --prometheus: want exit 2"

# --output: atomic replacement, readable by a collector, nothing left over.
mkdir "$AW_TMP/tf"
echo stale >"$AW_TMP/tf/acceptwatch.prom"
"$AW_TOOL" stat --prometheus --output "$AW_TMP/tf/acceptwatch.prom" $pids ||
	aw_fail "--output failed"
python3 "$AW_TMP/prom_check.py" "$AW_TMP/tf/acceptwatch.prom" || aw_fail "--output file invalid"
grep -q stale "$AW_TMP/tf/acceptwatch.prom" && aw_fail "--output did not replace the file"
[ "$(stat -c %a "$AW_TMP/tf/acceptwatch.prom")" = 644 ] || aw_fail "mode not 0644"
[ "$(ls -A "$AW_TMP/tf")" = acceptwatch.prom ] || aw_fail "left over: $(ls -A "$AW_TMP/tf")"
# Scan mode (no pids) goes through the same path.
"$AW_TOOL" stat --prometheus --output "$AW_TMP/tf/acceptwatch.prom" || aw_fail "--output scan failed"
python3 "$AW_TMP/prom_check.py" "$AW_TMP/tf/acceptwatch.prom" || aw_fail "scan output invalid"
"$AW_TOOL" stat --prometheus --output "$AW_TMP/nodir/x.prom" $pids 2>"$AW_TMP/e"
[ $? = 1 ] || aw_fail "--output into a missing directory: want exit 1"
[ ! -e "$AW_TMP/nodir" ] || aw_fail "created something"
"$AW_TOOL" stat --prometheus --json >/dev/null 2>&1
[ $? = 2 ] || aw_fail "--prometheus --json: want exit 2"
# A parser that accepts everything proves nothing: it must refuse these.
printf 'a_total 1\n' >"$AW_TMP/bad1"
printf '# HELP x h\n# TYPE x gauge\nx{a="b\\q"} 1\n' >"$AW_TMP/bad2"
printf '# HELP h h\n# TYPE h histogram\nh_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n' >"$AW_TMP/bad3"
for b in bad1 bad2 bad3; do
	python3 "$AW_TMP/prom_check.py" "$AW_TMP/$b" >/dev/null && aw_fail "parser accepted $b"
done
echo ok
