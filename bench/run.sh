#!/usr/bin/env bash
# umbra's benchmark suite: the same guests on umbra (each --coherence
# strategy, and -bios builtin when the binary has it) and on Debian's
# qemu-system-riscv64 -machine virt (the peer), side by side. Every run is
# OpenSBI fw_jump + the Linux Image + an initramfs, -m 512M, the same -smp.
#
#   boot     the smoke initramfs to UMBRA-SMOKE PASS; wall seconds
#   ptbench  guests/linux/ptbench.c for T guest seconds; ops/s (mmap,
#            mprotect, munmap, fork, exec under TLB shoot-downs)
#   ptbench-ws  the same with a W-page working set per thread, read back
#            after every step (umbra.wss=W): what a shoot-down that drops
#            every translation costs a program that keeps using memory
#   ptbench-1v  ptbench visiting one other thread's slot per step instead
#            of all of them (umbra.visits=1): the guest work of a step no
#            longer grows with the number of harts, so ops/s at -smp 4 and
#            8 against -smp 2 measure how the machine copes with more harts
#            than host cores, together with how much more the guest's
#            threads queue on their one mm's lock (the scaling table)
#   ptbench-pairs  ptbench-1v with its threads in processes of two
#            (umbra.group=2): every step still shoots down a translation
#            on another hart, but the guest's own contention stays that of
#            two threads at any -smp, so against -smp 2 only the machine's
#            handling of more harts than host cores is measured
#   compute  guests/linux/compute.c at work scale K on 1 hart; its score
#            (integer, memory and floating-point kernels)
#
# Runs are interleaved round-robin (run 1 of every cell and configuration,
# then run 2, ...), so a change in host load spreads over all of them. A
# run whose guest program died of Linux 6.1's own vDSO clock fault (a load
# from address 0x4) runs once more, and says so; any other failure stands.
# Prints every run (with guest MIPS per hart from --stats-json: instret /
# wall time; for ptbench on umbra also guest instructions per operation,
# all harts together, boot included; for ptbench, its rate after the first
# guest second, the warm-up, and its slowest thread's operations as a
# fraction of its busiest's), then a table of medians and speed ratios, the
# paired ratios of patch to flush and builtin to builtin-flush round by
# round, and the scaling tables (over the whole run and after the first
# second);
# writes OUT/runs.csv, OUT/summary.csv and OUT/bench.png (gnuplot).
#
#   bench/run.sh [-r RUNS] [-w "boot ptbench ptbench-ws ptbench-1v ptbench-pairs compute"]
#                [-s "SMPS"] [-c "CONFIGS"] [-t SECONDS] [-W PAGES] [-k SCALE] [-o OUT] [-q]
#     -r  runs per cell (default 3)
#     -w  workloads (default all six)
#     -s  one -smp list for every workload (default: boot "1 2 4",
#         ptbench "1 2 4 8", ptbench-ws "2 4", ptbench-1v and ptbench-pairs
#         "2 4 8", compute "1")
#     -c  configurations (default "qemu patch flush eager interp", plus
#         "builtin" and "builtin-flush" when umbra has -bios builtin: umbra's
#         own SBI with --coherence=patch and =flush; interp = patch with
#         --engine=interp, every instruction interpreted)
#     -t  ptbench guest seconds (default 4)   -W  ptbench-ws pages (default 4096)
#     -k  compute scale (default 2)
#     -o  output folder (default bench/results; quick mode: /tmp/umbra-bench-quick)
#     -q  quick mode: 1 run, -t 2, -k 1, boot and ptbench at -smp "1 2",
#         ptbench-1v and ptbench-pairs at "2 4"
# Environment: UMBRA (default build/umbra), GUEST (Image, smoke.cpio.gz;
# default ../shared/guests/linux), INITRDS (ptbench/compute.cpio.gz;
# default: tests/linux/ next to the umbra binary).
# Exit status: 0, 1 if a run failed or a file is missing, 2 for bad flags.
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umbra="${UMBRA:-$top/build/umbra}"
guest="${GUEST:-$top/../shared/guests/linux}"
initrds="${INITRDS:-$(dirname "$umbra")/tests/linux}"
# the boot tests' helpers: FW_JUMP, and vdso_clock_fault for run_one
. "$top/tests/integration/lib.sh"
fw=$FW_JUMP

usage() { sed -n '/^#   bench\/run.sh/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

runs="" workloads="boot ptbench ptbench-ws ptbench-1v ptbench-pairs compute" smp_all="" configs="" seconds="" wss=""
scale="" out="" quick=0
while getopts "r:w:s:c:t:W:k:o:qh" opt; do
  case $opt in
    r) runs=$OPTARG ;; w) workloads=$OPTARG ;; s) smp_all=$OPTARG ;; c) configs=$OPTARG ;;
    t) seconds=$OPTARG ;; W) wss=$OPTARG ;; k) scale=$OPTARG ;; o) out=$OPTARG ;; q) quick=1 ;;
    *) usage ;;
  esac
done
[ $OPTIND -gt $# ] || usage
if [ $quick = 1 ]; then
  : "${runs:=1}" "${seconds:=2}" "${scale:=1}" "${out:=${TMPDIR:-/tmp}/umbra-bench-quick}"
fi
: "${runs:=3}" "${seconds:=4}" "${wss:=4096}" "${scale:=2}" "${out:=$top/bench/results}"
is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
for n in "$runs" "$seconds" "$wss" "$scale"; do is_count "$n" || usage; done
[ "$wss" -le 65536 ] || { echo "run.sh: -W $wss is more than 65536 pages" >&2; exit 2; }
for w in $workloads; do
  case $w in boot | ptbench | ptbench-ws | ptbench-1v | ptbench-pairs | compute) ;;
    *) echo "run.sh: unknown workload '$w'" >&2; exit 2 ;; esac
done
for s in $smp_all; do
  if ! is_count "$s" || [ "$s" -gt 8 ]; then echo "run.sh: -smp $s is not 1..8" >&2; exit 2; fi
done

has_builtin() { [[ $("$umbra" --help 2>&1 || true) == *"-bios builtin"* ]]; }
[ -x "$umbra" ] || { echo "run.sh: no umbra binary at $umbra (set UMBRA)" >&2; exit 1; }
if [ -z "$configs" ]; then
  configs="qemu patch flush eager interp"
  if has_builtin; then configs+=" builtin builtin-flush"; fi
fi
for c in $configs; do
  case $c in qemu | patch | flush | eager | interp | builtin | builtin-flush) ;;
    *) echo "run.sh: unknown configuration '$c'" >&2; exit 2 ;;
  esac
done
need() { [ -e "$1" ] || { echo "run.sh: $1 is missing ($2)" >&2; exit 1; }; }
need "$fw" "Debian package opensbi"
need "$guest/Image" "set GUEST"
for w in $workloads; do
  case $w in
    boot) need "$guest/smoke.cpio.gz" "set GUEST" ;;
    ptbench*) need "$initrds/ptbench.cpio.gz" "build the ptbench_initramfs target or set INITRDS" ;;
    *) need "$initrds/$w.cpio.gz" "build the ${w}_initramfs target or set INITRDS" ;;
  esac
done
case " $configs " in *" qemu "*) command -v qemu-system-riscv64 >/dev/null ||
  { echo "run.sh: qemu-system-riscv64 is missing (Debian package qemu-system-misc)" >&2; exit 1; } ;;
esac
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

smps_of() {
  if [ -n "$smp_all" ]; then echo "$smp_all"; return; fi
  case $1 in
    boot) [ $quick = 1 ] && echo "1 2" || echo "1 2 4" ;;
    ptbench) [ $quick = 1 ] && echo "1 2" || echo "1 2 4 8" ;;
    ptbench-ws) [ $quick = 1 ] && echo "2" || echo "2 4" ;;
    ptbench-1v | ptbench-pairs) [ $quick = 1 ] && echo "2 4" || echo "2 4 8" ;;
    compute) echo 1 ;;
  esac
}
unit_of() { case $1 in boot) echo s ;; ptbench*) echo ops/s ;; compute) echo score ;; esac; }

# ------------------------------------------------------------ one run
# run_one WORKLOAD SMP CONFIG: sets $value (or "fail"), $wall, $mips (per
# hart, space-separated; "-" on QEMU), $steady (ptbench: ops/s after the
# first guest second, else "-") and $detail.
run_one() {
  local w=$1 smp=$2 c=$3 initrd append log=$work/log json=$work/stats.json
  case $w in
    boot) initrd=$guest/smoke.cpio.gz append="console=ttyS0" ;;
    ptbench) initrd=$initrds/ptbench.cpio.gz append="console=ttyS0 umbra.seconds=$seconds" ;;
    ptbench-ws) initrd=$initrds/ptbench.cpio.gz
                append="console=ttyS0 umbra.seconds=$seconds umbra.wss=$wss" ;;
    ptbench-1v) initrd=$initrds/ptbench.cpio.gz
                append="console=ttyS0 umbra.seconds=$seconds umbra.visits=1" ;;
    ptbench-pairs) initrd=$initrds/ptbench.cpio.gz
                append="console=ttyS0 umbra.seconds=$seconds umbra.visits=1 umbra.group=2" ;;
    compute) initrd=$initrds/compute.cpio.gz append="console=ttyS0 umbra.scale=$scale" ;;
  esac
  local common=(-smp "$smp" -m 512M -kernel "$guest/Image" -initrd "$initrd" -append "$append")
  local cmd
  case $c in
    qemu) cmd=(qemu-system-riscv64 -machine virt -nographic -bios "$fw" "${common[@]}") ;;
    builtin) cmd=("$umbra" -bios builtin "${common[@]}" --stats-json "$json") ;;
    builtin-flush) cmd=("$umbra" -bios builtin "${common[@]}" --coherence=flush --stats-json "$json") ;;
    interp) cmd=("$umbra" -bios "$fw" "${common[@]}" --engine=interp --stats-json "$json") ;;
    *) cmd=("$umbra" -bios "$fw" "${common[@]}" --coherence="$c" --stats-json "$json") ;;
  esac
  local start end attempt rerun=""
  for attempt in 1 2; do
    rm -f "$json"
    start=$(date +%s.%N)
    timeout -k 5 900 "${cmd[@]}" </dev/null >"$log" 2>&1 || true
    end=$(date +%s.%N)
    tr -d '\r' <"$log" >"$log.txt"
    # The smoke guest's user programs use the vDSO, whose clock_gettime in
    # Linux 6.1 riscv can load from address 0x4 when it races a timekeeping
    # update (on QEMU too; see run_linux in tests/integration/lib.sh): that
    # run measured nothing, and runs once more. Any other failure stands.
    if [ "$attempt" = 1 ] && vdso_clock_fault "$log.txt"; then
      rerun="; once more after the guest kernel's vDSO clock fault"
      reruns=$((reruns + 1))
      continue
    fi
    break
  done
  wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
  value=fail detail="" steady=-
  case $w in
    boot) grep -q '^UMBRA-SMOKE PASS' "$log.txt" && value=$wall ;;
    ptbench*)
      value=$(sed -n 's/^UMBRA-PTBENCH PASS ops=[0-9]* ops_per_s=\([0-9.]*\).*/\1/p' "$log.txt")
      detail=$(sed -n 's/^ptbench: \(mmap .*\) in .*/\1/p' "$log.txt")
      detail+=$(sed -n 's/^ptbench: guest CPUs idle \([0-9]*\) %.*/; guest idle \1 %/p' "$log.txt")
      # how evenly the harts got their turns: the slowest thread's ops as a
      # fraction of the busiest's (a machine that lets one hart's code wait
      # while another runs alone shows here, as a high ops/s can hide it)
      detail+=$(sed -n 's/^ptbench: ops per thread://p' "$log.txt" | awk '{
        lo = hi = $1; for (i = 2; i <= NF; i++) { if ($i < lo) lo = $i; if ($i > hi) hi = $i }
        if (NF >= 2 && hi > 0) printf "; slowest thread %.2f of the busiest", lo / hi }')
      # ptbench prints the ops of each guest second; the first is the
      # warm-up (every hart meets the code for the first time)
      steady=$(sed -n 's/^ptbench: ops by second://p' "$log.txt" |
        awk '{ for (i = 2; i <= NF; i++) s += $i } END { if (NF >= 2) printf "%.1f", s / (NF - 1); else print "-" }')
      [ -n "$steady" ] || steady=-
      [ "$steady" = - ] || detail+="; $steady ops/s after the first second" ;;
    compute)
      value=$(sed -n 's/^UMBRA-COMPUTE PASS score=\([0-9.]*\).*/\1/p' "$log.txt")
      detail=$(sed -n 's/^UMBRA-COMPUTE PASS score=[0-9.]* //p' "$log.txt") ;;
  esac
  [ -n "$value" ] || value=fail
  # guest instructions retired per hart, from --stats-json (none on QEMU)
  local instret=""
  [ -f "$json" ] && instret=$({ grep -o '"instret": [0-9]*' "$json" || true; } | awk '{ print $2 }')
  mips=-
  if [ -n "$instret" ]; then
    mips=$(awk -v t="$wall" '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / t / 1e6 }' <<<"$instret")
  fi
  # ptbench on umbra: guest instructions per operation, all harts together,
  # the boot's included (about 50 M, a tenth of a 4-s run): how the guest's
  # own work per op grows with the harts it spreads over
  if [[ $w == ptbench* && -n $instret && $value != fail ]]; then
    local ops
    ops=$(sed -n 's/^UMBRA-PTBENCH PASS ops=\([0-9]*\).*/\1/p' "$log.txt")
    detail+=$(awk -v ops="$ops" '{ s += $1 } END {
                if (ops > 0) printf "; %.1f k insns/op with boot", s / ops / 1e3 }' <<<"$instret")
  fi
  if [ "$value" = fail ]; then
    local keep="$out/fail-$w-smp$smp-$c.log"
    cp "$log.txt" "$keep"
    detail="no PASS line (log: $keep)"
  fi
  detail+=$rerun
}

# numbers: the numbers on stdin, one per line, sorted; blank lines,
# "fail" and "-" left out.
numbers() { { grep -Ev '^(|fail|-)$' || true; } | sort -g; }

# sorted_middle: the median of the sorted numbers on stdin, unrounded;
# "-" if there are none.
sorted_middle() {
  awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
                            else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# middle: the median of the numbers on stdin (as `numbers` takes them).
middle() { numbers | sorted_middle; }

# median: middle of a space-separated list, rounded for the tables.
median() {
  tr ' ' '\n' | middle |
    awk '{ if ($1 == "-") print; else if ($1 >= 1000) printf "%.0f\n", $1; else printf "%.4g\n", $1 }'
}

# mean per-hart MIPS of one run's list
mean() { tr ' ' '\n' | numbers | awk '{ s += $1 } END { if (NR) printf "%.1f", s / NR; else print "-" }'; }

# ------------------------------------------------------------- the runs
echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "peer: $(qemu-system-riscv64 --version 2>/dev/null | head -1 || echo none)"
echo "umbra: $umbra ($("$umbra" --version | head -1))"
echo "runs per cell: $runs; ptbench $seconds s, ptbench-ws $wss pages per thread; compute scale $scale"
echo "configurations: $configs"
declare -A vals mipsv steadyv
failures=0 reruns=0
# ------------------------------------------------------------ the summary
# speed A B: how many times faster A is than B (>1: A is faster); for boot
# the values are times, for the others rates.
speed() {
  awk -v w="$1" -v a="$2" -v b="$3" 'BEGIN {
    if (a == "-" || b == "-" || a <= 0 || b <= 0) { print "-"; exit }
    printf "%.2f", w == "boot" ? b / a : a / b }'
}
has() { [[ " $configs " == *" $1 "* ]]; }

summary_csv="$out/summary.csv"
# summarize ROUNDS: medians of the completed rounds to summary.csv and the
# table to stdout.
summarize() {
  echo "workload,smp,config,median,unit,mips_per_hart,speed_vs_qemu,patch_speed_vs_this" >"$summary_csv"
  echo
  echo "Medians of $1 run(s). Speed ratios: >1 means the first is faster (boot: time ratio"
  echo "inverted). MIPS/hart: guest instructions per hart / wall time, median of runs."
  local header line
  header=$(printf "%-13s %-4s %-6s" workload smp unit)
  for c in $configs; do header+=$(printf " %9s" "$c"); done
  for c in $configs; do [ "$c" = qemu ] || header+=$(printf " %9s" "$c/qemu"); done
  has patch && has flush && header+=$(printf " %11s" "patch/flush")
  has patch && has eager && header+=$(printf " %11s" "patch/eager")
  has patch && has interp && header+=$(printf " %12s" "patch/interp")
  has builtin && has builtin-flush && header+=$(printf " %13s" "builtin/b-fl")
  has patch && header+=$(printf " %10s" "patch MIPS")
  echo "$header"
  for w in $workloads; do
    for smp in $(smps_of "$w"); do
      local -A med=()
      line=$(printf "%-13s %-4s %-6s" "$w" "$smp" "$(unit_of "$w")")
      for c in $configs; do
        med[$c]=$(median <<<"${vals[$w,$smp,$c]}")
        line+=$(printf " %9s" "${med[$c]}")
      done
      for c in $configs; do
        [ "$c" = qemu ] || line+=$(printf " %9s" "$(speed "$w" "${med[$c]}" "${med[qemu]:--}")")
      done
      has patch && has flush && line+=$(printf " %11s" "$(speed "$w" "${med[patch]}" "${med[flush]}")")
      has patch && has eager && line+=$(printf " %11s" "$(speed "$w" "${med[patch]}" "${med[eager]}")")
      has patch && has interp && line+=$(printf " %12s" "$(speed "$w" "${med[patch]}" "${med[interp]}")")
      has builtin && has builtin-flush &&
        line+=$(printf " %13s" "$(speed "$w" "${med[builtin]}" "${med[builtin-flush]}")")
      has patch && line+=$(printf " %10s" "$(median <<<"${mipsv[$w,$smp,patch]}")")
      echo "$line"
      for c in $configs; do
        echo "$w,$smp,$c,${med[$c]},$(unit_of "$w"),$(median <<<"${mipsv[$w,$smp,$c]}"),$(
          speed "$w" "${med[$c]}" "${med[qemu]:--}"),$(speed "$w" "${med[patch]:--}" "${med[$c]}")" \
          >>"$summary_csv"
      done
      done
  done
  paired_table
  scaling_table
}

# paired_table: the mechanism's own comparisons (patch against flush,
# builtin against builtin-flush) round by round. The two runs of a round
# ran a minute apart or less, so a change in the host's load, which moves
# every figure by tens of percent over a whole invocation, moves both
# alike; the range shows how far one round can fall from another.
paired_table() {
  local -a pairs=()
  has patch && has flush && pairs+=(patch:flush)
  has builtin && has builtin-flush && pairs+=(builtin:builtin-flush)
  [ "${#pairs[@]}" -gt 0 ] || return 0
  echo
  echo "Paired ratios: each round's A/B, their median [lowest-highest]."
  local w smp pair line
  line=$(printf "%-13s %-4s" workload smp)
  for pair in "${pairs[@]}"; do line+=$(printf " %22s" "${pair%:*}/${pair#*:}"); done
  echo "$line"
  for w in $workloads; do
    for smp in $(smps_of "$w"); do
      line=$(printf "%-13s %-4s" "$w" "$smp")
      for pair in "${pairs[@]}"; do
        line+=$(printf " %22s" "$(paired_ratios "$w" "$smp" "${pair%:*}" "${pair#*:}")")
      done
      echo "$line"
    done
  done
}

# paired_ratios W SMP A B: "median [lowest-highest]" of the rounds' A/B
# speed ratios, rounds where either failed left out; "-" if none is left.
paired_ratios() {
  local -a a b
  read -ra a <<<"${vals[$1,$2,$3]:-}"
  read -ra b <<<"${vals[$1,$2,$4]:-}"
  local i ratios=""
  for i in "${!a[@]}"; do
    [[ ${a[$i]} =~ ^[0-9.]+$ && ${b[$i]:-} =~ ^[0-9.]+$ ]] || continue
    ratios+="$(speed "$1" "${a[$i]}" "${b[$i]}") "
  done
  local sorted
  sorted=$(tr ' ' '\n' <<<"$ratios" | numbers)
  [ -n "$sorted" ] || { echo -; return; }
  awk -v m="$(sorted_middle <<<"$sorted")" '{ v[NR] = $1 } END { printf "%.2f [%.2f-%.2f]", m, v[1], v[NR] }' <<<"$sorted"
}

# scaling_table: for ptbench, ptbench-1v and ptbench-pairs, each configuration's median at
# every -smp above 2 as a percentage of its own -smp 2 median (the
# target is 80 % at -smp 4 and 8 on a 2-core host): over the whole run,
# then after its first second.
scaling_table() {
  scaling_rows vals "Scaling: ops/s at -smp N as % of the same configuration's -smp 2 ($(nproc) host CPUs)."
  scaling_rows steadyv "The same, from the second guest second on (the first is the warm-up)."
}

# scaling_rows ARRAY TITLE: the table of scaling_table from the runs' values
# in ARRAY (vals or steadyv).
scaling_rows() {
  local -n from=$1
  local w smp c base v printed=0
  for w in ptbench ptbench-1v ptbench-pairs; do
    [[ " $workloads " == *" $w "* ]] || continue
    [[ " $(smps_of "$w") " == *" 2 "* ]] || continue
    for smp in $(smps_of "$w"); do
      [ "$smp" -gt 2 ] || continue
      if [ $printed = 0 ]; then
        echo
        echo "$2"
        printf "%-13s %-4s" workload smp
        for c in $configs; do printf " %9s" "$c"; done
        echo
        printed=1
      fi
      printf "%-13s %-4s" "$w" "$smp"
      for c in $configs; do
        base=$(median <<<"${from[$w,2,$c]}")
        v=$(median <<<"${from[$w,$smp,$c]}")
        printf " %9s" "$(awk -v a="$v" -v b="$base" 'BEGIN {
          if (a == "-" || b == "-" || b <= 0) print "-"; else printf "%.0f%%", 100 * a / b }')"
      done
      echo
    done
  done
}

# --------------------------------------------------------------- the plot
# Boot time per smp per configuration (bars), the ptbench variants' ops/s
# against smp (lines, log scale), from summary.csv.
plot() {
  local cols=() i=0 dat_boot=$work/boot.dat
  for c in $configs; do cols+=("$c"); done
  for w in boot ptbench ptbench-ws ptbench-1v ptbench-pairs; do
    local dat=$work/$w.dat
    echo "# smp ${cols[*]}" >"$dat"
    for smp in $(smps_of "$w"); do
      local row=$smp
      for c in "${cols[@]}"; do
        local v
        v=$(awk -F, -v w="$w" -v s="$smp" -v c="$c" '$1 == w && $2 == s && $3 == c { print $4 }' "$summary_csv")
        row+=" ${v:--}"
      done
      echo "$row" >>"$dat"
    done
  done
  local boot_plot=""
  for c in "${cols[@]}"; do
    i=$((i + 1))
    boot_plot+="${boot_plot:+, }'$dat_boot' using $((i + 1)):xtic(1) title '$c'"
  done
  local panels=()
  [[ " $workloads " == *" boot "* ]] && panels+=("set title 'Linux boot to PASS (lower is better)'; set xlabel 'harts (-smp)'; set ylabel 'seconds'; set style data histograms; set style histogram clustered gap 1; set style fill solid 0.8 border -1; set yrange [0:*]; unset logscale y; plot $boot_plot")
  ops_panel ptbench 0.8:10 'ptbench: page-table ops under shoot-downs (higher is better)'
  ops_panel ptbench-ws 1.5:6 "ptbench-ws: the same, $wss-page working set per thread"
  ops_panel ptbench-1v 1.5:10 'ptbench-1v: one visit per step, harts beyond 2 host cores'
  ops_panel ptbench-pairs 1.5:10 'ptbench-pairs: the same, threads in processes of two'

  [ ${#panels[@]} -gt 0 ] || return 0
  {
    local n=${#panels[@]} panel_rows=1 panel_cols=${#panels[@]}
    [ "$n" -le 3 ] || { panel_rows=2; panel_cols=$(((n + 1) / 2)); }
    echo "set terminal pngcairo size $((640 * panel_cols)),$((480 * panel_rows)) font ',10'"
    echo "set output '$out/bench.png'"
    echo "set datafile missing '-'; set key top left; set grid ytics"
    echo "set multiplot layout $panel_rows,$panel_cols"
    for p in "${panels[@]}"; do echo "$p"; echo "reset; set datafile missing '-'; set key top left; set grid ytics"; done
    echo "unset multiplot"
  } >"$work/plot.gp"
  gnuplot "$work/plot.gp" && echo "plot: $out/bench.png"
}
# ops_panel WORKLOAD XRANGE TITLE: adds the workload's ops/s against smp
# (one line per configuration) to plot's panels, if it was run.
ops_panel() {
  [[ " $workloads " == *" $1 "* ]] || return 0
  local c i=0 lines=""
  for c in "${cols[@]}"; do
    i=$((i + 1))
    lines+="${lines:+, }'$work/$1.dat' using 1:$((i + 1)) with linespoints title '$c'"
  done
  panels+=("set title '$3'; set xlabel 'harts (-smp)'; set ylabel 'ops/s (guest clock)'; set key top right; set style data linespoints; set logscale y; set autoscale y; set logscale x 2; set xrange [$2]; plot $lines")
}

plot_if_possible() {
  if command -v gnuplot >/dev/null; then
    plot || echo "run.sh: gnuplot failed; no plot" >&2
  else
    echo "run.sh: gnuplot is missing (Debian package gnuplot-nox); no plot" >&2
  fi
}

runs_csv="$out/runs.csv"
echo "workload,smp,config,run,value,unit,wall_s,mips_per_hart,detail" >"$runs_csv"
echo "load average at the start: $(cut -d" " -f1-3 /proc/loadavg)"
t_start=$(date +%s)
for ((r = 1; r <= runs; r++)); do
  for w in $workloads; do
    for smp in $(smps_of "$w"); do
      for c in $configs; do
        run_one "$w" "$smp" "$c"
        [ "$value" != fail ] || failures=$((failures + 1))
        vals[$w,$smp,$c]+="$value "
        steadyv[$w,$smp,$c]+="$steady "
        mipsv[$w,$smp,$c]+="$(mean <<<"$mips") "
        printf "run %d %-13s smp%-2s %-13s %10s %-6s wall %7.2f s  MIPS/hart %s  %s\n" \
          "$r" "$w" "$smp" "$c" "$value" "$(unit_of "$w")" "$wall" "$mips" "$detail"
        echo "$w,$smp,$c,$r,$value,$(unit_of "$w"),$wall,$mips,\"$detail\"" >>"$runs_csv"
      done
    done
  done
  # after every round, so that an interrupted run still leaves its results
  summarize "$r" >"$work/table.txt"
  plot_if_possible >/dev/null
done
echo "all runs: $(($(date +%s) - t_start)) s; load average at the end: $(cut -d" " -f1-3 /proc/loadavg)"
[ "$reruns" -eq 0 ] || echo "runs made once more after the guest kernel's vDSO clock fault: $reruns"
cat "$work/table.txt"
echo "CSV: $runs_csv $summary_csv"
[ ! -f "$out/bench.png" ] || echo "plot: $out/bench.png"

[ "$failures" -eq 0 ] || { echo "$failures run(s) failed" >&2; exit 1; }
