#!/bin/sh
# Builds machine_check.S and runs it with -bios none on 2 harts: the boot
# registers and fw_dynamic_info must be right, and one guest reset must
# restart the machine (exit status 2), or end it with status 0 under
# -no-reboot.
#   boot_machine_check.sh MACHINE
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
need_cmd timeout coreutils
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_bare_check machine_check.S 0x80000000 "$work/check.elf"

run_machine "$work/log" 60 "$machine" -machine virt -nographic -smp 2 -bios none \
    -kernel "$work/check.elf"
[ "$status" -eq 2 ] || fail "exit status $status, expected 2 (one reset, then the second boot's code)"
grep -q 'machine-check boot 1' "$work/log" || fail "no first boot"
grep -q 'machine-check boot 2' "$work/log" || fail "no second boot after the reset"

run_machine "$work/log" 60 "$machine" -machine virt -nographic -smp 2 -bios none \
    -kernel "$work/check.elf" -no-reboot
[ "$status" -eq 0 ] || fail "exit status $status with -no-reboot, expected 0"
grep -q 'machine-check boot 1' "$work/log" || fail "no first boot"
! grep -q 'machine-check boot 2' "$work/log" || fail "-no-reboot rebooted"
echo "PASS"
