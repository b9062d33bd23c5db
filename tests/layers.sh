#!/usr/bin/env bash
# tests/layers.sh DIR... - the module graph of each directory of objects
# (build/VARIANT/obj/shim, .../tools), from the objects themselves: module A
# uses module B when A's object leaves undefined a global symbol B's object
# defines. Modules sit in layers with no circle (a lower layer gets
# callbacks, never calls up), so the graph must have no cycle.
#
# Prints each directory's modules by layer (a module's layer is one more
# than the highest layer it uses) and exits 0; or, for each circle, one
# line naming it with the symbols that close it,
#   circle in shim: segment -> listener_table (aw_table_lock) -> segment (aw_segment_now)
# and exits 1. AW_LAYERS_KNOWN=FILE names circles known and tolerated, one a
# line as "DIR-NAME: a b ..." (the circle's modules, sorted): they are
# reported, not failed; a known circle that is gone is said so.
# Exit 2: a directory holds no object (the build is missing).
set -u
known=${AW_LAYERS_KNOWN:-/dev/null}
status=0
for dir in "$@"; do
	set -- "$dir"/*.o
	[ -e "$1" ] || {
		echo "layers: no objects in $dir (build first)" >&2
		exit 2
	}
	name=$(basename "$dir")
	# one nm for the directory: "PATH.o: [VALUE] TYPE SYMBOL" lines
	nm -A -g "$dir"/*.o | awk '{
		m = $1; sub(/:.*/, "", m); sub(/.*\//, "", m); sub(/\.o$/, "", m)
		print ($2 == "U" || $2 == "w" ? "U" : "D"), $NF, m
		if (!(m in seen)) { seen[m] = 1; print "M", m, m }
	}' | awk -v dir="$name" -v knownfile="$known" '
	$1 == "M" { mod[$2] = 1; n++; next }
	$1 == "D" { def[$2] = $3; next }
	{ uses[NR] = $3 " " $2 }
	END {
		# edge[a, b]: the first symbol (by name) through which a uses b
		for (i in uses) {
			split(uses[i], u, " ")
			b = def[u[2]]
			if (b == "" || b == u[1]) continue
			k = u[1] SUBSEP b
			if (!(k in edge) || u[2] < edge[k]) edge[k] = u[2]
		}
		for (k in edge) { split(k, p, SUBSEP); reach[p[1], p[2]] = 1 }
		for (x in mod) for (a in mod) if ((a, x) in reach)
			for (b in mod) if ((x, b) in reach) reach[a, b] = 1
		while ((getline line < knownfile) > 0)
			if (index(line, dir ": ") == 1) known[substr(line, length(dir) + 3)] = 1
		bad = 0
		for (a in mod) {
			if (!((a, a) in reach) || (a in done)) continue
			members = ""
			for (b in mod) if (((a, b) in reach) && ((b, a) in reach)) {
				done[b] = 1; list[++c] = b
			}
			# the circle members, sorted: its name in the known list
			for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++)
				if (list[j] < list[i]) { t = list[i]; list[i] = list[j]; list[j] = t }
			for (i = 1; i <= c; i++) members = members (i > 1 ? " " : "") list[i]
			# one line per shortest circle through each member
			lines = ""
			for (i = 1; i <= c; i++) {
				path = cycle(list[i])
				key = circle_key(path)
				if (key in printed) continue
				printed[key] = 1
				lines = lines "\n  " path
			}
			c = 0
			if (members in known) {
				print "known circle in " dir " among " members ":" lines
				seen[members] = 1
				continue
			}
			print "circle in " dir " among " members ":" lines
			bad = 1
		}
		for (k in known) if (!(k in seen))
			print "known circle in " dir " is gone (remove it from the list): " k
		if (bad) exit 1
		# layers: longest path down to a module that uses none (a known
		# circle'"'"'s own edges left out)
		for (round = 0; round < n; round++)
			for (k in edge) {
				split(k, p, SUBSEP)
				if ((p[2], p[1]) in reach) continue
				if (level[p[1]] < level[p[2]] + 1) level[p[1]] = level[p[2]] + 1
			}
		top = 0
		for (a in mod) if (level[a] > top) top = level[a]
		for (l = 0; l <= top; l++) {
			s = ""
			for (a in mod) if (level[a] == l) s = s " " a
			printf "%s layer %d:%s\n", dir, l, s
		}
	}
	# a circle'"'"'s modules, sorted: one key for each of its rotations
	function circle_key(path,    w, m, k, i, j, t, key) {
		split(path, w, " ")
		k = 0
		for (i = 1; i in w; i++) if (w[i] !~ /^[(-]/) m[++k] = w[i]
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
			if (m[j] < m[i]) { t = m[i]; m[i] = m[j]; m[j] = t }
		key = ""
		for (i = 1; i <= k; i++) if (i == 1 || m[i] != m[i - 1]) key = key "," m[i]
		return key
	}
	# the shortest way from s back to s (breadth first), with the symbols
	function cycle(s,    q, h, t, x, y, from, out, k, p) {
		h = 1; t = 1; q[1] = s
		while (h <= t) {
			x = q[h++]
			for (k in edge) {
				split(k, p, SUBSEP)
				if (p[1] != x || (p[2] in from)) continue
				from[p[2]] = x
				if (p[2] == s) { h = t + 1; break }
				q[++t] = p[2]
			}
		}
		out = ""; y = s
		do {
			x = from[y]
			out = " -> " y " (" edge[x, y] ")" out
			y = x
		} while (y != s)
		return s out
	}
	' || status=1
done
exit $status
