#!/bin/sh
# The monitor behind Ctrl-A C, on a terminal (expect): builds monitor_park.S
# and runs it on 2 harts; monitor.exp checks the registers, statistics and
# shadow table the monitor reports against what the guest set up.
#   monitor.sh MACHINE
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
need_cmd riscv64-unknown-elf-nm binutils-riscv64-unknown-elf
need_cmd expect expect
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build_bare_check monitor_park.S 0x80000000 "$work/park.elf"
# the root table's frame number, as the monitor prints it (0x...)
root=$(riscv64-unknown-elf-nm "$work/park.elf" | sed -n 's/^0*\([0-9a-f]*\)[0-9a-f]\{3\} . root$/\1/p')
[ -n "$root" ] || fail "no 'root' symbol in the guest"
exec expect -f "$(dirname "$0")/monitor.exp" "$machine" "$work/park.elf" "$root"
