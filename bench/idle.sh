#!/usr/bin/env bash
# What an idle, booted Linux costs the host: boots OpenSBI + Linux + the idle
# guest on N harts, and between the guest's START and PASS lines (it sleeps
# there) reads umbra's CPU time from /proc; prints CPU time / wall time as a
# percentage of one host core.
#   bench/idle.sh [HARTS] [SECONDS]       (defaults: 4 harts, 10 s)
# Environment: UMBRA (default build/umbra), GUEST, INITRD
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umbra="${UMBRA:-$top/build/umbra}"
guest="${GUEST:-$top/../shared/guests/linux}"
initrd="${INITRD:-$top/build/tests/linux/idle.cpio.gz}"
harts="${1:-4}" seconds="${2:-10}"
fw=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$umbra" -smp "$harts" -m 512M -bios "$fw" -kernel "$guest/Image" -initrd "$initrd" \
    -append "console=ttyS0 umbra.idle=$seconds" </dev/null >"$log" 2>&1 &
pid=$!
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
until grep -q "UMBRA-IDLE START" "$log"; do sleep 0.05; kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }; done
sleep 1                                 # let the boot's last work settle
c0=$(cpu) t0=$(date +%s.%N)
sleep $((seconds - 2))
c1=$(cpu) t1=$(date +%s.%N)
wait $pid
grep -q "UMBRA-IDLE PASS" "$log" || { cat "$log"; exit 1; }
awk -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v hz="$ticks" -v n="$harts" \
    'BEGIN { pct = 100 * (c1 - c0) / hz / (t1 - t0);
             printf "idle %d-hart Linux: %.2f %% of one host core (%.2f s CPU over %.2f s)\n",
                    n, pct, (c1 - c0) / hz, t1 - t0 }'
