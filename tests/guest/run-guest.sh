#!/usr/bin/env bash
# Run one bare-metal guest test program and judge how it ended.
# Usage: run-guest.sh EXPECTED_EXIT COMMAND [ARG...]
#
# Passes when COMMAND exits with status EXPECTED_EXIT *and* the program's own
# last words agree: "PASS" for 0, "FAIL <n>" for n (printed through HTIF by
# tests/guest/runtime/rt.c). Requiring both rules out a host that exits with
# the right status without having run the program to its end.
set -u
expected="$1"; shift
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

"$@" </dev/null >"$out" 2>&1
status=$?
cat "$out"

if [ "$expected" = 0 ]; then want="PASS"; else want="FAIL $expected"; fi
if [ "$status" != "$expected" ]; then
    echo "run-guest: exit status $status, expected $expected"
    exit 1
fi
if ! tr -d '\r' <"$out" | grep -qx "$want"; then
    echo "run-guest: the program never printed \"$want\""
    exit 1
fi
exit 0
