#!/usr/bin/env bash
# Verify patch_channel.pml with spin: exhaustive search, all asserts, no
# invalid end states. Usage: run-spin.sh MODEL.pml EXPECT(pass|fail) [-D...]
set -euo pipefail
model="$1"; expect="$2"; shift 2
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cp "$model" "$work/model.pml"
cd "$work"
spin -a "$@" model.pml >/dev/null
gcc -O2 -DSAFETY -o pan pan.c
./pan -m100000 > result.txt 2>&1 || true
errors="$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' result.txt | head -1)"
states="$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' result.txt | head -1)"
echo "spin $* : errors=$errors states=$states"
if [ "$expect" = pass ] && [ "$errors" = 0 ]; then exit 0; fi
if [ "$expect" = fail ] && [ -n "$errors" ] && [ "$errors" != 0 ]; then exit 0; fi
cat result.txt
exit 1
