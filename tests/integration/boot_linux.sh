#!/bin/sh
# OpenSBI (fw_jump) + Linux + the smoke initramfs: the guest checks SMP,
# interrupts, timers, fork/exec, threads and pipes, prints UMBRA-SMOKE PASS
# and powers off; umbra must then exit with status 0.
#   boot_linux.sh MACHINE GUEST_DIR [HARTS]
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
harts=${3:-4}
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd timeout coreutils

log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_linux "$log" "$machine" "$guest" "$harts" -initrd "$guest/smoke.cpio.gz" \
    -append "console=ttyS0 earlycon=sbi"
expect_smoke_pass "$log"
grep -q "online cpus (sysconf) = $harts" "$log" || fail "the guest did not see $harts harts"
echo "PASS"
