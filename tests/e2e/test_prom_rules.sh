#!/usr/bin/env bash
# The Prometheus rules: dist/prometheus/acceptwatch-rules.yml passes
# `promtool check rules`, and `promtool test rules` shows its alerts firing
# once per socket (a pre-fork server's drops, a stalled socket) and its
# recording rule summing accepts over the workers; the example in the
# README's "Monitoring with Prometheus" section passes `promtool check
# rules` too, and uses only series the reader prints.
. "$AW_ROOT/tests/lib.sh"
command -v promtool >/dev/null || aw_skip "promtool is not installed (make deps)"
R=$AW_ROOT/dist/prometheus
promtool check rules "$R/acceptwatch-rules.yml" || aw_fail "promtool check rules"
(cd "$R" && promtool test rules acceptwatch-rules.test.yml) || aw_fail "promtool test rules"

# The README's example: the yaml block of the section.
sed -n '/^### Monitoring with Prometheus/,/^## /p' "$AW_ROOT/README.md" |
	awk '/^```yaml$/ {n++; on = 1; next} /^```$/ {on = 0} on && n >= 1 {print > ("'"$AW_TMP"'/block" n ".yml")}'
block=$(grep -l '^groups:' "$AW_TMP"/block*.yml | head -1)
[ -n "$block" ] || aw_fail "no rules example in the README"
promtool check rules "$block" || aw_fail "the README's rules: promtool check rules"
# Every acceptwatch_* series the rules name is one the reader prints.
names=$(grep -oh 'acceptwatch_[a-z_]*' "$block" "$R/acceptwatch-rules.yml" | sort -u)
grep -q . <<<"$names" || aw_fail "no series named"
for n in $names; do
	grep -q "\"$n\"" "$AW_ROOT/tools/report_prom.c" || aw_fail "the rules name $n, which the reader does not print"
done
echo ok
