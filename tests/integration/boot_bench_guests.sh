#!/bin/sh
# The benchmark guests of bench/run.sh, briefly, so that CI checks them:
# ptbench (mmap/mprotect/munmap/fork/exec with cross-hart fault checks, and a
# 256-page working set per thread read back after every step, counting
# the ops of each second) for a few
# guest seconds, visiting one other thread's slot per step (umbra.visits=1,
# the slots in turn: with 3 or more harts not every slot at every step),
# then again for 2 s with its threads in processes of two (umbra.group=2:
# each process's own slots, and counts gathered across processes), then
# compute (integer, memory and floating-point kernels, each checked another
# way) at scale 1, each on HARTS harts; all must print their PASS line with
# a positive rate and power off.
#   boot_bench_guests.sh MACHINE GUEST_DIR INITRD_DIR HARTS SECONDS
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
initrds=$3
harts=$4
guest_seconds=$5
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd timeout coreutils
for name in ptbench compute; do
    [ -f "$initrds/$name.cpio.gz" ] || fail "no $name initramfs in $initrds"
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# ops_of PASS_LINE: the ops count of a UMBRA-PTBENCH PASS line
ops_of() { echo "$1" | sed -n 's/.* ops=\([0-9]*\) .*/\1/p'; }

# expect_cross_hart_probes WHAT: with more than one hart, ptbench's log
# must show probes of other threads' slots whose outcome was decided.
expect_cross_hart_probes() {
    [ "$harts" -gt 1 ] || return 0
    tr -d '\r' <"$log" | grep -Eq '; [1-9][0-9]* decided cross-hart probes' ||
        fail "$1 decided no cross-hart probe"
}

run_linux "$log" "$machine" "$guest" "$harts" -initrd "$initrds/ptbench.cpio.gz" \
    -append "console=ttyS0 umbra.seconds=$guest_seconds umbra.wss=256 umbra.visits=1"
[ "$status" -ne 124 ] || fail "ptbench timed out"
visits=$(( harts > 1 ? 1 : 0 ))
grep -q "^ptbench: $harts online hart(s), $harts thread(s) in 1 process(es), .* working set 256 pages per thread, $visits visit(s) per step" "$log" ||
    fail "ptbench did not run one thread with a 256-page working set and $visits visit(s) per step on each of $harts harts"
line=$(tr -d '\r' <"$log" | grep '^UMBRA-PTBENCH PASS') || fail "no 'UMBRA-PTBENCH PASS' line"
echo "$line" | grep -Eq 'ops=[1-9][0-9]* ops_per_s=[0-9]*[1-9]' || fail "ptbench rate not positive: $line"
tr -d '\r' <"$log" | grep -Eq '^ptbench: .*exec [1-9]' || fail "ptbench completed no exec"
expect_cross_hart_probes ptbench
# the ops of each guest second, from which bench/run.sh takes the rate
# after the first: one count per second of the run, together no more
# than the total and not none
ops=$(ops_of "$line")
by_second=$(tr -d '\r' <"$log" | sed -n 's/^ptbench: ops by second://p')
[ "$(echo $by_second | wc -w)" -eq "$guest_seconds" ] ||
    fail "ptbench: not $guest_seconds per-second counts: '$by_second'"
sum=$(echo $by_second | awk '{ for (i = 1; i <= NF; i++) s += $i; print s + 0 }')
[ "$sum" -gt 0 ] && [ "$sum" -le "$ops" ] ||
    fail "ptbench: per-second counts ($by_second) sum to $sum, not within 1..ops=$ops"
# the guest's idle share, which bench/run.sh reports beside the ops
tr -d '\r' <"$log" | grep -Eq '^ptbench: guest CPUs idle ([0-9]|[1-9][0-9]|100) % of the run$' ||
    fail "ptbench printed no guest idle share of 0-100 %"
[ "$status" -eq 0 ] || fail "ptbench: exit status $status, expected 0 (guest poweroff)"

# In processes of two: every process must count its ops and, where it has
# two threads, its cross-hart probes; the PASS line sums them all.
run_linux "$log" "$machine" "$guest" "$harts" -initrd "$initrds/ptbench.cpio.gz" \
    -append "console=ttyS0 umbra.seconds=2 umbra.visits=1 umbra.group=2"
[ "$status" -ne 124 ] || fail "grouped ptbench timed out"
processes=$(( (harts + 1) / 2 ))
grep -q "^ptbench: $harts online hart(s), $harts thread(s) in $processes process(es), " "$log" ||
    fail "grouped ptbench did not run $harts threads in $processes processes"
line=$(tr -d '\r' <"$log" | grep '^UMBRA-PTBENCH PASS') || fail "grouped ptbench: no PASS line"
ops=$(ops_of "$line")
counts=$(tr -d '\r' <"$log" | sed -n 's/^ptbench: mmap \([0-9]*\), mprotect \([0-9]*\), munmap \([0-9]*\), fork \([0-9]*\), exec \([0-9]*\) in .*/\1 \2 \3 \4 \5/p')
[ -n "$ops" ] && [ -n "$counts" ] || fail "grouped ptbench: no op counts"
[ "$(echo $counts | awk '{ print $1 + $2 + $3 + $4 + $5 }')" = "$ops" ] ||
    fail "grouped ptbench: ops=$ops is not the sum of its counts ($counts)"
[ "$ops" -gt 0 ] || fail "grouped ptbench counted no ops"
per_thread=$(tr -d '\r' <"$log" | sed -n 's/^ptbench: ops per thread: //p')
[ "$(echo $per_thread | wc -w)" -eq "$harts" ] || fail "grouped ptbench: not $harts per-thread counts: $per_thread"
for n in $per_thread; do
    [ "$n" -gt 0 ] || fail "grouped ptbench: a thread counted no ops (its process's counts lost?): $per_thread"
done
expect_cross_hart_probes "grouped ptbench"
[ "$status" -eq 0 ] || fail "grouped ptbench: exit status $status, expected 0 (guest poweroff)"

run_linux "$log" "$machine" "$guest" "$harts" -initrd "$initrds/compute.cpio.gz" \
    -append "console=ttyS0 umbra.scale=1"
[ "$status" -ne 124 ] || fail "compute timed out"
line=$(tr -d '\r' <"$log" | grep '^UMBRA-COMPUTE PASS') || fail "no 'UMBRA-COMPUTE PASS' line"
echo "$line" | grep -Eq 'score=[0-9]*[1-9].* int_ms=.* mem_ms=.* fp_ms=' ||
    fail "compute: malformed result: $line"
[ "$status" -eq 0 ] || fail "compute: exit status $status, expected 0 (guest poweroff)"
echo "PASS"
