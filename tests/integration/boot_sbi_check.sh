#!/bin/sh
# Builds sbi_check.S and runs it with -bios builtin on 2 harts: every SBI
# check must pass on both boots, the SRST cold reboot in between must
# restart the machine (harts stopped again, RAM kept), and the SRST
# shutdown must end it with status 0; under -no-reboot the reboot ends it.
#   boot_sbi_check.sh MACHINE
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
need_cmd timeout coreutils
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_bare_check sbi_check.S 0x80200000 "$work/check.elf"

run_machine "$work/log" 60 "$machine" -machine virt -nographic -smp 2 -bios builtin \
    -kernel "$work/check.elf"
! grep -q 'sbi-check FAIL' "$work/log" || fail "a check failed (see its number in sbi_check.S)"
grep -q 'sbi-check boot 1 ok' "$work/log" || fail "the first boot did not finish"
grep -q 'sbi-check boot 2 ok' "$work/log" || fail "no second boot after the SRST reboot"
[ "$(grep -c 'sbi-check dbcn write' "$work/log")" -eq 2 ] || fail "DBCN output missing"
[ "$status" -eq 0 ] || fail "exit status $status, expected 0 (SRST shutdown)"

run_machine "$work/log" 60 "$machine" -machine virt -nographic -smp 2 -bios builtin \
    -kernel "$work/check.elf" -no-reboot
grep -q 'sbi-check boot 1 ok' "$work/log" || fail "the first boot did not finish"
! grep -q 'sbi-check boot 2' "$work/log" || fail "-no-reboot rebooted"
[ "$status" -eq 0 ] || fail "exit status $status with -no-reboot, expected 0"
echo "PASS"
