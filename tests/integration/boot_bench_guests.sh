#!/bin/sh
# The benchmark guests of bench/run.sh, briefly, so that CI checks them:
# ptbench (mmap/mprotect/munmap/fork/exec with cross-hart fault checks, and a
# 256-page working set per thread read back after every step) for a few
# guest seconds, visiting one other thread's slot per step (umbra.visits=1,
# the slots in turn: with 3 or more harts not every slot at every step), then compute (integer, memory and floating-point
# kernels, each checked another way) at scale 1, each on HARTS harts; both
# must print their PASS line with a positive rate and power off.
#   boot_bench_guests.sh MACHINE GUEST_DIR INITRD_DIR HARTS SECONDS
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
initrds=$3
harts=$4
seconds=$5
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd timeout coreutils
for name in ptbench compute; do
    [ -f "$initrds/$name.cpio.gz" ] || fail "no $name initramfs in $initrds"
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_linux "$log" "$machine" "$guest" "$harts" -initrd "$initrds/ptbench.cpio.gz" \
    -append "console=ttyS0 umbra.seconds=$seconds umbra.wss=256 umbra.visits=1"
[ "$status" -ne 124 ] || fail "ptbench timed out"
visits=$(( harts > 1 ? 1 : 0 ))
grep -q "^ptbench: $harts online hart(s), $harts thread(s), .* working set 256 pages per thread, $visits visit(s) per step" "$log" ||
    fail "ptbench did not run one thread with a 256-page working set and $visits visit(s) per step on each of $harts harts"
line=$(tr -d '\r' <"$log" | grep '^UMBRA-PTBENCH PASS') || fail "no 'UMBRA-PTBENCH PASS' line"
echo "$line" | grep -Eq 'ops=[1-9][0-9]* ops_per_s=[0-9]*[1-9]' || fail "ptbench rate not positive: $line"
tr -d '\r' <"$log" | grep -Eq '^ptbench: .*exec [1-9]' || fail "ptbench completed no exec"
if [ "$harts" -gt 1 ]; then
    tr -d '\r' <"$log" | grep -Eq '; [1-9][0-9]* decided cross-hart probes' ||
        fail "ptbench decided no cross-hart probe"
fi
# the guest's idle share, which bench/run.sh reports beside the ops
tr -d '\r' <"$log" | grep -Eq '^ptbench: guest CPUs idle ([0-9]|[1-9][0-9]|100) % of the run$' ||
    fail "ptbench printed no guest idle share of 0-100 %"
[ "$status" -eq 0 ] || fail "ptbench: exit status $status, expected 0 (guest poweroff)"

run_linux "$log" "$machine" "$guest" "$harts" -initrd "$initrds/compute.cpio.gz" \
    -append "console=ttyS0 umbra.scale=1"
[ "$status" -ne 124 ] || fail "compute timed out"
line=$(tr -d '\r' <"$log" | grep '^UMBRA-COMPUTE PASS') || fail "no 'UMBRA-COMPUTE PASS' line"
echo "$line" | grep -Eq 'score=[0-9]*[1-9].* int_ms=.* mem_ms=.* fp_ms=' ||
    fail "compute: malformed result: $line"
[ "$status" -eq 0 ] || fail "compute: exit status $status, expected 0 (guest poweroff)"
echo "PASS"
