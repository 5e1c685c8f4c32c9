#!/bin/sh
# Wrapper of boot_uboot.exp: skips when a package it needs is missing.
#   boot_uboot.sh MACHINE
set -eu
. "$(dirname "$0")/lib.sh"
need_file "$FW_JUMP" opensbi
need_file "$UBOOT_SMODE" u-boot-qemu
need_cmd expect expect
exec expect -f "$(dirname "$0")/boot_uboot.exp" "$1" "$FW_JUMP" "$UBOOT_SMODE"
