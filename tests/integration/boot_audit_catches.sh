#!/bin/sh
# --audit stops a broken consumer: with --test-drop-patch every hart ignores
# every 10th patch that takes a grant away; the audit must then report a
# coherence violation (hart, address, derived and fresh entries) and umbra
# exit 3. (Ignoring only the 10th could go unseen: a later patch to the
# same entry, or a flooded page, can hide any one loss before the fence.)
#   boot_audit_catches.sh MACHINE GUEST_DIR
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
need_file "$FW_JUMP" opensbi
need_guest "$guest"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_linux "$log" "$machine" "$guest" 4 -initrd "$guest/smoke.cpio.gz" \
    -append "console=ttyS0" --audit --test-drop-patch=10
[ "$status" -ne 124 ] || fail "timed out"
grep -q "umbra: audit: coherence violation on hart [0-9]" "$log" || fail "no audit diagnosis"
grep -q "derived 0x[0-9a-f]* but a fresh walk gives 0x[0-9a-f]*" "$log" || fail "no derived/fresh values"
[ "$status" -eq 3 ] || fail "exit status $status, expected 3 (audit violation)"
echo "PASS"
