#!/usr/bin/env bash
# What an idle, booted Linux costs the host: boots OpenSBI + Linux + the idle
# guest on N harts and, between the guest's START and PASS lines (it sleeps
# there), reads the emulator's CPU time from /proc; prints CPU time / wall
# time as a percentage of one host core. With -p the peer,
# qemu-system-riscv64 -machine virt, runs the same guest right after each
# umbra run, so the two see the same host.
#   bench/idle.sh [-p] [-r RUNS] [-k KERNEL] [HARTS] [SECONDS]
#     -p         also measure QEMU (Debian's qemu-system-riscv64)
#     -r RUNS    runs of each (default 1)
#     -k KERNEL  the Linux Image (default ../shared/guests/linux/Image; the
#                tickless variant is built by VARIANT=tickless
#                guests/build-linux.sh)
#     HARTS, SECONDS: defaults 4 harts, 10 s of idleness
# Environment: UMBRA (default build/umbra), INITRD
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umbra="${UMBRA:-$top/build/umbra}"
kernel="$top/../shared/guests/linux/Image"
initrd="${INITRD:-$top/build/tests/linux/idle.cpio.gz}"
fw=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
peer=0 runs=1
usage() { sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 2; }
while getopts "pr:k:h" opt; do
  case $opt in
    p) peer=1 ;;
    r) runs=$OPTARG ;;
    k) kernel=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
harts="${1:-4}" seconds="${2:-10}"
[[ "$runs" =~ ^[1-9][0-9]*$ && "$harts" =~ ^[1-8]$ && "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 4 ]] ||
  { echo "idle.sh: RUNS must be positive, HARTS 1-8, SECONDS at least 4" >&2; exit 2; }
for f in "$umbra" "$kernel" "$initrd" "$fw"; do
  [ -e "$f" ] || { echo "idle.sh: $f is missing (build umbra first?)" >&2; exit 1; }
done
if [ $peer = 1 ] && ! command -v qemu-system-riscv64 >/dev/null; then
  echo "idle.sh: qemu-system-riscv64 is missing (Debian package qemu-system-misc)" >&2; exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
ticks=$(getconf CLK_TCK)
guest=(-smp "$harts" -m 512M -bios "$fw" -kernel "$kernel" -initrd "$initrd"
       -append "console=ttyS0 umbra.idle=$seconds")

# measure NAME COMMAND...: one run; prints NAME's share of a host core.
measure() {
  local name=$1; shift
  "$@" </dev/null >"$log" 2>&1 &
  local pid=$!
  cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
  until grep -q "UMBRA-IDLE START" "$log"; do
    sleep 0.05
    kill -0 $pid 2>/dev/null || { cat "$log"; echo "idle.sh: $name exited before the guest went idle" >&2; exit 1; }
  done
  sleep 1                               # let the boot's last work settle
  local c0 t0 c1 t1
  c0=$(cpu) t0=$(date +%s.%N)
  sleep $((seconds - 2))
  c1=$(cpu) t1=$(date +%s.%N)
  wait $pid || true
  grep -q "UMBRA-IDLE PASS" "$log" || { cat "$log"; echo "idle.sh: $name: no PASS line" >&2; exit 1; }
  awk -v name="$name" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" -v n="$harts" \
      'BEGIN { pct = 100 * (c1 - c0) / hz / (t1 - t0);
               printf "idle %d-hart Linux on %s: %.2f %% of one host core (%.2f s CPU over %.2f s)\n",
                      n, name, pct, (c1 - c0) / hz, t1 - t0 }'
}

for _ in $(seq "$runs"); do
  measure umbra "$umbra" "${guest[@]}"
  [ $peer = 0 ] || measure qemu qemu-system-riscv64 -machine virt -nographic "${guest[@]}"
done
