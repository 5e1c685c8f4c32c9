#!/usr/bin/env bash
# First run on a fresh Debian 12 machine: install dependencies, build umbra,
# then boot the default guest (OpenSBI + Linux + the smoke initramfs, 4 harts).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$top/scripts/deps.sh"
"$top/scripts/build.sh"
guest="${UMBRA_GUEST_DIR:-$top/../shared/guests/linux}"
if [ ! -f "$guest/Image" ]; then
  echo ">> no guest images in $guest; building them from Debian packages"
  guest="$top/guests/out"
  "$top/guests/build-linux.sh" "$guest"
fi
exec "$top/build/umbra" -machine virt -smp 4 -m 512M \
  -bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin \
  -kernel "$guest/Image" -initrd "$guest/smoke.cpio.gz" \
  -append "console=ttyS0 earlycon=sbi"
