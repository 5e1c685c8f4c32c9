#!/usr/bin/env bash
# Rebuild umbra's Linux test guest from Debian 12 packages only:
#   OUT/Image          riscv64 Linux 6.1 kernel (from linux-source-6.1)
#   OUT/System.map     its symbols (for umbra --profile-symbols)
#   OUT/kernel.config  the configuration it was built with
#   OUT/smoke.cpio.gz  initramfs whose /init is guests/linux/smoke.c
#
# Usage: guests/build-linux.sh [OUT]          (default OUT: guests/out)
# Environment: WORK (scratch dir, default /tmp/umbra-kbuild), JOBS,
#              SKIP_KERNEL=1 (initramfs only),
#              VARIANT=tickless (the same kernel with a tickless idle,
#              NO_HZ_IDLE, as distribution kernels are configured: the
#              options in linux/options-tickless.txt go on top).
# The build is pinned (build user/host/time, gzip -n) so it is reproducible.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)"
work="${WORK:-/tmp/umbra-kbuild}"
jobs="${JOBS:-$(nproc)}"
cross=riscv64-linux-gnu-
tarball=/usr/src/linux-source-6.1.tar.xz
ksrc="$work/linux-source-6.1"

export KBUILD_BUILD_USER=umbra KBUILD_BUILD_HOST=umbra KBUILD_BUILD_VERSION=1
export KBUILD_BUILD_TIMESTAMP="2025-01-01 00:00:00 UTC" SOURCE_DATE_EPOCH=1735689600

need=(linux-source-6.1 gcc-riscv64-linux-gnu libc6-dev-riscv64-cross bc flex bison
      libssl-dev libelf-dev xz-utils cpio make gcc gzip)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

option_files=("$here/linux/options.txt")
case "${VARIANT:-}" in
  "") ;;
  tickless) option_files+=("$here/linux/options-tickless.txt") ;;
  *) echo "build-linux.sh: unknown VARIANT '$VARIANT' (known: tickless)" >&2; exit 2 ;;
esac

mkdir -p "$work"
[ -f "$ksrc/Makefile" ] || tar -C "$work" -xJf "$tarball"
kmake() { make -C "$ksrc" ARCH=riscv CROSS_COMPILE="$cross" "$@"; }

apply_options() {
  local file="$1" args=()
  while read -r line; do
    line="${line%%#*}"; line="${line// /}"
    [ -n "$line" ] || continue
    case "$line" in
      +*) args+=(-e "${line#+}") ;;
      -*) args+=(-d "${line#-}") ;;
      *=*) args+=(--set-val "${line%%=*}" "${line#*=}") ;;
    esac
  done < "$file"
  "$ksrc/scripts/config" --file "$ksrc/.config" "${args[@]}"
}

# Every "+NAME" option must survive olddefconfig's dependency resolution.
verify_options() {
  local bad=0
  for sym in $(sed -n 's/^+\([A-Z0-9_]*\).*/\1/p' "${option_files[@]}"); do
    grep -q "^CONFIG_${sym}=y" "$ksrc/.config" || { echo "!! CONFIG_$sym did not stay enabled" >&2; bad=1; }
  done
  grep -q '^CONFIG_MODULES=y' "$ksrc/.config" && { echo "!! modules are enabled" >&2; bad=1; }
  return $bad
}

if [ "${SKIP_KERNEL:-0}" != 1 ]; then
  kmake tinyconfig
  for f in "${option_files[@]}"; do apply_options "$f"; done
  kmake olddefconfig
  verify_options
  kmake -j"$jobs" Image
  cp "$ksrc/arch/riscv/boot/Image" "$out/Image"
  cp "$ksrc/System.map" "$out/System.map"
  cp "$ksrc/.config" "$out/kernel.config"
fi

# /init: the smoke program, static, then an initramfs made with the kernel's
# gen_init_cpio so that device nodes need no root.
${cross}gcc -O2 -static -Wall -Wextra -pthread -o "$work/smoke" "$here/linux/smoke.c" -lm
${cross}strip "$work/smoke"
touch -d "@$SOURCE_DATE_EPOCH" "$work/smoke"
[ -f "$ksrc/usr/gen_init_cpio.c" ] || tar -C "$work" -xJf "$tarball" linux-source-6.1/usr/gen_init_cpio.c
gcc -O2 -o "$work/gen_init_cpio" "$ksrc/usr/gen_init_cpio.c"
cat > "$work/initramfs.list" <<LIST
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
nod /dev/null 0666 0 0 c 1 3
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 01777 0 0
dir /mnt 0755 0 0
file /init $work/smoke 0755 0 0
LIST
"$work/gen_init_cpio" -t "$SOURCE_DATE_EPOCH" "$work/initramfs.list" | gzip -9 -n > "$out/smoke.cpio.gz"
echo ">> $out: $(ls "$out" | tr '\n' ' ')"
