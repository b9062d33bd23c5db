#!/bin/sh
# Prints the path of the C library's detached debug file (libc6-dbg), found
# by its build-id as libdwfl finds it; exits 1 when it is not installed.
libc=$(ldd /bin/sh | awk '$1 == "libc.so.6" { print $3 }')
[ -n "$libc" ] || exit 1
id=$(readelf -n "$libc" | awk '/Build ID:/ { print $3 }')
[ -n "$id" ] || exit 1
f=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug
[ -f "$f" ] || exit 1
echo "$f"
