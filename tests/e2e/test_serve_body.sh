#!/usr/bin/env bash
# acceptwatch serve's answer, as a fleet scrapes it:
#  - a pre-fork server of 40 workers on one socket: by default one series
#    per family for the socket, no pid label, the accepts summed over the
#    workers (equal to the clients counted); --by-process gives a series
#    per process;
#  - "Accept-Encoding: gzip" gets gzip (Content-Encoding, Vary), which
#    inflates to a valid exposition with the same samples as the plain
#    answer; no Accept-Encoding, or gzip;q=0, gets plain text;
#  - the answer is streamed (chunked, no Content-Length): never built
#    whole in memory (make bench holds the memory budget).
. "$AW_ROOT/tests/lib.sh"
aw_enter_netns 16 "$@"
aw_enter_private_shm "$@"
for t in promtool curl python3; do
	command -v "$t" >/dev/null || aw_skip "$t is not installed (make deps)"
done

NW=40
LD_PRELOAD=$AW_SHIM aw_start_server F --backlog 128 --fork "$NW"
read -r _ c1 _ <<<"$("$AW_BIN/burst" --port "$F_PORT" -n 50)"
[ "$c1" = 50 ] || aw_fail "burst completed $c1 of 50"
# Every worker has its segment (they listen through the parent's socket,
# a segment each once they accept or probe): wait for NW + 1 processes.
for ((i = 0; i < 200; i++)); do
	n=$("$AW_TOOL" stat --prometheus | sed -n 's/^acceptwatch_processes //p')
	[ "${n:-0}" -ge $((NW + 1)) ] && break
	sleep 0.05
done
[ "${n:-0}" -ge $((NW + 1)) ] || aw_fail "only ${n:-0} segments of $((NW + 1)) processes"

start_serve() { # NAME [OPTIONS...] -> ${NAME}_URL, ${NAME}_PID
	local name=$1 u i
	shift
	"$AW_TOOL" serve --listen "127.0.0.1:$(aw_free_port)" "$@" 2>"$AW_TMP/$name.err" &
	eval "${name}_PID=$!"
	aw_register_pid "$!"
	for ((i = 0; i < 100; i++)); do
		u=$(sed -n 's,^acceptwatch: serving \(http://.*\)$,\1,p' "$AW_TMP/$name.err")
		[ -n "$u" ] && break
		sleep 0.05
	done
	[ -n "$u" ] || aw_fail "serve $* did not start: $(cat "$AW_TMP/$name.err")"
	eval "${name}_URL=$u"
}
start_serve D
start_serve P --by-process

curl -sf -D "$AW_TMP/h.plain" -o "$AW_TMP/plain.prom" "$D_URL" || aw_fail "plain GET failed"
curl -sf -H 'Accept-Encoding: gzip' -D "$AW_TMP/h.gz" -o "$AW_TMP/m.gz" "$D_URL" ||
	aw_fail "gzip GET failed"
curl -sf -H 'Accept-Encoding: br, gzip;q=0' -D "$AW_TMP/h.q0" -o "$AW_TMP/q0.prom" "$D_URL" ||
	aw_fail "gzip;q=0 GET failed"
curl -sf -o "$AW_TMP/proc.prom" "$P_URL" || aw_fail "--by-process GET failed"

grep -qi '^content-encoding: gzip' "$AW_TMP/h.gz" || aw_fail "no gzip: $(cat "$AW_TMP/h.gz")"
grep -qi '^vary: accept-encoding' "$AW_TMP/h.gz" || aw_fail "no Vary: $(cat "$AW_TMP/h.gz")"
grep -qi '^content-encoding' "$AW_TMP/h.plain" && aw_fail "plain answer encoded"
grep -qi '^content-encoding' "$AW_TMP/h.q0" && aw_fail "gzip;q=0 answered with gzip"
grep -qi '^transfer-encoding: chunked' "$AW_TMP/h.plain" ||
	aw_fail "not streamed: $(cat "$AW_TMP/h.plain")"
grep -qi '^content-length' "$AW_TMP/h.plain" && aw_fail "built whole: a Content-Length"
python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' \
	"$AW_TMP/m.gz" >"$AW_TMP/gz.prom" || aw_fail "the gzip answer does not inflate"
for f in plain gz q0 proc; do
	promtool check metrics <"$AW_TMP/$f.prom" || aw_fail "promtool check metrics ($f)"
done

python3 - "$AW_TMP" "$NW" "$F_PORT" <<'PY' || aw_fail "figures disagree"
import os, re, sys
tmp, nw, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def samples(name):
    out = {}
    for line in open(os.path.join(tmp, name)):
        if line.startswith("#"):
            continue
        key, v = line.rsplit(" ", 1)
        out[key] = float(v)
    return out
plain, gz, proc = samples("plain.prom"), samples("gz.prom"), samples("proc.prom")
# The same samples, but those that move between two scrapes. The last
# accept's Unix time is worked out at each scrape from the wall and the
# monotonic clock read a few ns apart: equal within a millisecond.
stamp = "acceptwatch_last_accept_timestamp_seconds"
moving = ("acceptwatch_scrape_duration_seconds", "acceptwatch_socket_drops_total",
          stamp)
# Sockets without the shim (the two exporters' own) are the kernel's,
# sampled at 10 Hz: one the sampler had not met yet at the first scrape
# is there at the second. Only the server's socket is compared.
ours = lambda k: 'address="' not in k or 'address="127.0.0.1:%s"' % port in k
same = lambda s: {k: v for k, v in s.items()
                  if not k.startswith(moving) and ours(k)}
assert same(plain) == same(gz), set(same(plain).items()) ^ set(same(gz).items())
stamps = lambda s: {k: v for k, v in s.items() if k.startswith(stamp)}
assert stamps(plain).keys() == stamps(gz).keys(), (stamps(plain), stamps(gz))
assert all(abs(v - stamps(gz)[k]) < 1e-3 for k, v in stamps(plain).items()), \
    (stamps(plain), stamps(gz))
assert not any('pid="' in k for k in plain), "a pid label by default"
acc = [v for k, v in plain.items() if k.startswith("acceptwatch_accepts_total{")
       and 'address="127.0.0.1:%s"' % port in k]
assert acc == [50], acc
pacc = [v for k, v in proc.items() if k.startswith("acceptwatch_accepts_total{")
        and 'address="127.0.0.1:%s"' % port in k]
assert len(pacc) == nw + 1 and sum(pacc) == 50, pacc
n_plain, n_proc = len(plain), len(proc)
print("series: default %d, --by-process %d" % (n_plain, n_proc))
# One socket: the default does not grow with the workers.
assert n_plain < 120, n_plain
assert n_proc > nw * 70, n_proc
PY
ls -l "$AW_TMP"/plain.prom "$AW_TMP"/m.gz "$AW_TMP"/proc.prom

aw_stop "$D_PID" || aw_fail "serve exited $? on SIGTERM"
aw_stop "$P_PID" || aw_fail "serve --by-process exited $? on SIGTERM"
echo ok
