#!/bin/sh
# OpenSBI + Linux + umbra's torture initramfs: threads on different harts
# check munmap/mprotect/mremap shoot-downs and copy-on-write after fork, then
# the guest prints UMBRA-TORTURE PASS and powers off. Extra arguments are
# umbra options (a --coherence/--shadow/--stale setting, --audit).
#   boot_torture.sh MACHINE GUEST_DIR INITRD HARTS [UMBRA-OPTION...]
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
initrd=$3
harts=$4
shift 4
need_bios
need_guest "$guest"
[ -f "$initrd" ] || fail "no torture initramfs at $initrd"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_linux "$log" "$machine" "$guest" "$harts" -initrd "$initrd" \
    -append "console=ttyS0 earlycon=sbi" "$@"
[ "$status" -ne 124 ] || fail "timed out"
! grep -q "umbra: audit:" "$log" || fail "the audit reported a coherence violation"
grep -q '^UMBRA-TORTURE PASS' "$log" || fail "no 'UMBRA-TORTURE PASS' line"
grep -q "torture: $harts online hart(s)" "$log" || fail "the guest did not see $harts harts"
[ "$status" -eq 0 ] || fail "exit status $status, expected 0 (guest poweroff)"
echo "PASS"
