#!/usr/bin/env bash
# Install, from Debian's archive, everything umbra needs to build, test and
# boot its guests. Idempotent: packages already present are left alone.
#   scripts/deps.sh           install what is missing (needs root or sudo)
#   scripts/deps.sh --check   only report what is missing (exit 1 if any)
set -euo pipefail

PACKAGES=(
  build-essential cmake clang libclang-rt-14-dev pkg-config   # host toolchain, sanitizer runtimes
  libfdt-dev device-tree-compiler                             # device tree generation / inspection
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf        # bare-metal guest test programs
  gcc-riscv64-linux-gnu libc6-dev-riscv64-cross               # Linux guest programs
  qemu-system-misc                                            # the reference machine (tests, benchmarks)
  opensbi u-boot-qemu                                         # firmware that boots on umbra
  e2fsprogs e2tools cpio expect spin                          # disk images, console driver, model checker
  gdb-multiarch                                               # the gdb stub's tests
  hyperfine gnuplot-nox time                                  # benchmarks
  groff-base bsdextrautils binutils-riscv64-unknown-elf       # manual page check, trace test
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${1:-}" = "--check" ]; then
  [ ${#missing[@]} -eq 0 ] && exit 0
  echo "missing Debian packages: ${missing[*]}" >&2
  exit 1
fi

[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo ">> installing: ${missing[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
