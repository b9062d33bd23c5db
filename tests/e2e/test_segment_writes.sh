#!/usr/bin/env bash
# One module writes the segment: outside shim/segment_writer.{c,h}, no shim
# source stores into it. The segment is reached through pointers to its
# structs, so each file's names for them are gathered from its own
# declarations (non-const pointers to struct aw_segment, aw_seg_header,
# aw_listener, aw_stripe, aw_hist_head, aw_stack; globals, parameters and
# members alike), and every write through one of those names is reported:
#   - an assignment (=, op=) or ++/-- on NAME->...;
#   - an atomic store or read-modify-write (__atomic_* but loads) on
#     &NAME->...;
#   - memcpy/memset/memmove/zero_words into NAME or &NAME->...;
#   - &NAME->... handed to any function but the writer's (aw_segment_write_*)
#     and atomic loads: a helper that stores through it is a store too.
# Not seen: an array member passed bare (it decays to a pointer) to a
# function that writes through it; reads pass arrays that way (addresses to
# the log), so the writer's functions take the struct, never its arrays.
# Left out: events, frames and modules (struct aw_event, aw_frame,
# aw_module) are built by the shim in its own memory and handed to the
# writer whole; the segment's own are reached only through the pointers
# above. acceptwatch_abi.h is the layout, shared with the reader: its
# aw_seg_header_layout fills a header the caller gives it.
# The check is run on shim/, then on a file with two stores planted (it
# must find exactly those).
. "$AW_ROOT/tests/lib.sh"
command -v perl >/dev/null || aw_skip "perl is not installed"

# Prints every store found in the shim sources of directory $1 (not the
# writer's, not the ABI header); fails when there is one.
stores_outside_writer() {
	local files
	files=$(ls "$1"/*.[ch] | grep -v -e '/segment_writer\.[ch]$' \
		-e '/acceptwatch_abi\.h$')
	[ -n "$files" ] || aw_fail "no shim sources in $1"
	# shellcheck disable=SC2086
	perl -e '
my $types = qr/aw_segment|aw_seg_header|aw_listener|aw_stripe|aw_hist_head|aw_stack/;
my $found = 0;
for my $file (@ARGV) {
	open(my $fh, "<", $file) or die "$file: $!\n";
	my $text = do { local $/; <$fh> };
	close($fh);
	# Comments and strings say nothing about stores.
	$text =~ s{/\*.*?\*/}{ my $c = $&; $c =~ tr/\n//cd; $c }gse;
	$text =~ s{//[^\n]*}{}g;
	$text =~ s{"(?:[^"\\\n]|\\.)*"}{""}g;
	my %names;
	$names{$2} = 1 while $text =~ /(?<!const )struct ($types)\s*\*\s*(\w+)/g;
	next unless %names;
	my $n = join("|", map { quotemeta } sort keys %names);
	my $member = qr/(?:$n)\s*->(?:[\w.>-]|\[[^\]]*\]|\([^()]*\))*/;
	my @rules = (
		qr/(?<![\w.>])$member\s*(?:[-+*\/%&|^]|<<|>>)?=(?!=)/,
		qr/(?<![\w.>])$member\s*(?:\+\+|--)/,
		qr/(?:\+\+|--)\s*$member/,
		qr/__atomic_(?!load)\w+\s*\(\s*&\s*$member/,
		qr/\b(?:memcpy|memset|memmove|zero_words)\s*\(\s*(?:\([\w\s]*\*\s*\)\s*)?\(?\s*&?\s*(?:$n)\b/,
		qr/\b(?!aw_segment_write_|__atomic_load)\w+\s*\((?:[^;(){}]*,)?\s*&\s*$member/,
	);
	my %seen;
	for my $re (@rules) {
		while ($text =~ /$re/g) {
			my $line = 1 + (substr($text, 0, $-[0]) =~ tr/\n//);
			next if $seen{$line}++;
			(my $what = $&) =~ s/\s+/ /g;
			print "$file:$line: $what\n";
			$found++;
		}
	}
}
exit($found ? 1 : 0);
' $files
}

stores_outside_writer "$AW_ROOT/shim" ||
	aw_fail "the segment is written outside shim/segment_writer.{c,h} (above)"
echo "no segment store outside the writer in shim/"

# In the test's own directory: lib.sh's EXIT trap removes it.
planted=$AW_TMP/planted
mkdir "$planted" || aw_fail "mkdir $planted"
cat >"$planted/planted.c" <<'PLANTED'
void planted(struct aw_segment *s, uint32_t uid)
{
	s->header.flags |= 1;
	__atomic_store_n(&s->header.uid, uid, __ATOMIC_RELAXED);
}
PLANTED
found=$(stores_outside_writer "$planted") && aw_fail "planted stores not found"
echo "$found"
[ "$(echo "$found" | grep -c "^$planted/planted.c:[34]: ")" = 2 ] &&
	[ "$(echo "$found" | wc -l)" = 2 ] ||
	aw_fail "expected the two planted stores alone"
