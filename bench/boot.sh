#!/usr/bin/env bash
# Boot-to-result times: OpenSBI + Linux + an initramfs to its PASS line, on
# umbra (each --coherence strategy) and on Debian's qemu-system-riscv64 (the
# peer), interleaved in one invocation, RUNS times each; prints medians and
# ratios and writes CSV.
#   bench/boot.sh [-r RUNS] [-s "1 2 4"] [-i INITRD] [-o results.csv]
# Environment: UMBRA (default build/umbra), GUEST (default ../shared/guests/linux)
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umbra="${UMBRA:-$top/build/umbra}"
guest="${GUEST:-$top/../shared/guests/linux}"
fw=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
runs=3 smps="1 2 4" initrd="$guest/smoke.cpio.gz" csv="$top/bench/results/boot.csv"
while getopts "r:s:i:o:" opt; do
  case $opt in
    r) runs=$OPTARG ;; s) smps=$OPTARG ;; i) initrd=$OPTARG ;; o) csv=$OPTARG ;;
    *) exit 2 ;;
  esac
done
mkdir -p "$(dirname "$csv")"
pass_re='UMBRA-(SMOKE|TORTURE) PASS'

# one_run NAME SMP CMD...: wall seconds of one boot, or "fail"
one_run() {
  local start end out
  start=$(date +%s.%N)
  out=$(timeout 600 "${@:3}" </dev/null 2>&1 || true)
  end=$(date +%s.%N)
  if grep -Eq "$pass_re" <<<"$out"; then echo "$end - $start" | bc; else echo fail; fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

declare -A times
configs=(qemu patch flush eager)
echo "machine: $(nproc) host cores, $(uname -m); qemu: $(qemu-system-riscv64 --version | head -1)"
for smp in $smps; do
  for ((r = 1; r <= runs; r++)); do
    for c in "${configs[@]}"; do
      common=(-smp "$smp" -m 512M -bios "$fw" -kernel "$guest/Image" -initrd "$initrd"
              -append "console=ttyS0")
      if [ "$c" = qemu ]; then
        t=$(one_run "$c" "$smp" qemu-system-riscv64 -machine virt -nographic "${common[@]}")
      else
        t=$(one_run "$c" "$smp" "$umbra" "${common[@]}" --coherence="$c")
      fi
      times[$c,$smp]+="$t "
    done
  done
done

echo "workload,smp,machine,median_s,runs" > "$csv"
printf "%-5s %-10s %10s %12s\n" smp machine median_s "vs qemu"
for smp in $smps; do
  q=$(tr ' ' '\n' <<<"${times[qemu,$smp]}" | grep -v '^$' | grep -v fail | median)
  for c in "${configs[@]}"; do
    m=$(tr ' ' '\n' <<<"${times[$c,$smp]}" | grep -v '^$' | grep -v fail | median)
    ratio=$(awk -v a="$m" -v b="$q" 'BEGIN { if (a && b) printf "%.2fx", a / b; else print "-" }')
    printf "%-5s %-10s %10s %12s\n" "$smp" "$c" "${m:-fail}" "$ratio"
    echo "$(basename "$initrd"),$smp,$c,${m:-fail},${times[$c,$smp]}" >> "$csv"
  done
done
echo "CSV: $csv"
