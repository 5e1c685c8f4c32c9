#!/usr/bin/env bash
# guest/profile: --profile with --profile-symbols on a program whose two
# loops have known weights (profile.c). The program must pass, the report
# must put hot_loop first (the most host time), count about 200 times the
# instructions there as in cold_loop, all in M-mode; a missing map must
# stop umbra before the guest runs, with exit status 1 and the file named.
# Usage: profile.sh UMBRA PROGRAM.elf NM
set -u
umbra="$1" elf="$2" nm="$3"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
fail() { echo "profile: $*"; exit 1; }

"$nm" "$elf" >"$dir/prog.map" || fail "$nm could not read $elf"
"$umbra" -bios none -kernel "$elf" --profile "$dir/report" \
    --profile-symbols "$dir/prog.map" </dev/null >"$dir/out" 2>&1
status=$?
cat "$dir/out"
[ "$status" = 0 ] || fail "exit status $status"
tr -d '\r' <"$dir/out" | grep -qx PASS || fail "the program never printed PASS"
cat "$dir/report"

# Data lines: share, host ms, instructions, blocks, privilege, where.
first="$(grep -v '^#' "$dir/report" | head -1 | awk '{print $6}')"
[ "$first" = hot_loop ] || fail "the most host time went to '$first', not hot_loop"
hot="$(awk '$6 == "hot_loop" {print $3}' "$dir/report")"
cold="$(awk '$6 == "cold_loop" {print $3}' "$dir/report")"
[ -n "$hot" ] && [ -n "$cold" ] || fail "hot_loop or cold_loop missing from the report"
# 200 times the rounds; a block that begins in one may run into the next
# function, so allow 150 to 250.
[ "$((hot / cold))" -ge 150 ] && [ "$((hot / cold))" -le 250 ] ||
    fail "hot_loop has $hot instructions, cold_loop $cold: not about 200 times"
grep -v '^#' "$dir/report" | awk '$5 != "M" {bad = 1} END {exit bad}' ||
    fail "a line is not in M-mode"

"$umbra" -bios none -kernel "$elf" --profile "$dir/report2" \
    --profile-symbols "$dir/no-such.map" </dev/null >"$dir/out2" 2>&1
status=$?
[ "$status" = 1 ] || fail "a missing map: exit status $status, expected 1"
grep -q "no-such.map" "$dir/out2" || fail "a missing map: the message does not name it"
[ ! -s "$dir/report2" ] || fail "a missing map: a report was written"
echo "profile: PASS"
