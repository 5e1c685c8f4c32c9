#!/bin/sh
# How umbra asks the host to schedule its hart threads. Each is named
# "hart N"; with more harts than the host CPUs umbra may use (its affinity
# mask, set here with taskset) they are SCHED_BATCH, so that a hart that
# wakes does not preempt a running one, and a hart that raises the msip of
# a hart asleep in WFI runs that hart's firmware answer on its own thread
# (visits, src/cpu/hart.c); with a CPU per hart they stay SCHED_OTHER, as
# does the main thread, and nobody visits. The smoke guest must boot
# either way.
#   boot_host_sched.sh MACHINE GUEST_DIR
set -eu
. "$(dirname "$0")/lib.sh"
umbra=$1            # not "machine": run_linux sets that to the wrapper
guest=$2
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd taskset util-linux

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# policy_of TASK_DIR: the scheduling policy field of /proc/PID/task/TID/stat
# (0 SCHED_OTHER, 3 SCHED_BATCH), counted after the ")" that ends the name
policy_of() {
    sed 's/.*) //' "$1/stat" | awk '{ print $39 }'
}

# watch_threads HARTS: once the machine started by $dir/machine has HARTS
# threads named "hart N", write "NAME POLICY" for each of its threads to
# $dir/threads (at most 15 s).
watch_threads() {
    n=0
    while [ $n -lt 300 ]; do
        pid=$(cat "$dir/pid" 2>/dev/null || true)
        if [ -n "$pid" ] && [ -d "/proc/$pid/task" ] &&
           [ "$(cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -c '^hart ')" -eq "$1" ]; then
            for task in /proc/"$pid"/task/*; do
                echo "$(cat "$task/comm") $(policy_of "$task")" >>"$dir/threads"
            done
            return 0
        fi
        sleep 0.05
        n=$((n + 1))
    done
}

# boot_and_look CPUS HARTS: boot the smoke guest on HARTS harts confined to
# CPUS (a taskset list) and look at its threads while it runs; $visits is
# then the visits of all harts together (--stats-json).
boot_and_look() {
    printf '#!/bin/sh\necho $$ >"%s/pid"\nexec taskset -c %s "%s" "$@"\n' "$dir" "$1" "$umbra" \
        >"$dir/machine"
    chmod +x "$dir/machine"
    rm -f "$dir/pid"
    : >"$dir/threads"
    watch_threads "$2" &
    watcher=$!
    run_linux "$dir/log" "$dir/machine" "$guest" "$2" -initrd "$guest/smoke.cpio.gz" \
        -append console=ttyS0 --stats-json "$dir/stats.json"
    wait "$watcher" || true
    expect_smoke_pass "$dir/log"
    cat "$dir/threads"
    [ "$(grep -c '^hart ' "$dir/threads")" -eq "$2" ] || fail "did not see $2 threads named 'hart N'"
    visits=$(sed -n 's/.*"visits": \([0-9]*\).*/\1/p' "$dir/stats.json" |
             awk '{ s += $1 } END { print s + 0 }')
    echo "visits: $visits"
}

# more harts than CPUs: every hart thread SCHED_BATCH, the main thread not
boot_and_look 0 2
grep '^hart ' "$dir/threads" | awk '$3 != 3 { bad = 1 } END { exit bad }' ||
    fail "with 2 harts on 1 CPU every hart thread must be SCHED_BATCH (3)"
grep -v '^hart ' "$dir/threads" | awk '$NF != 0 { bad = 1 } END { exit bad }' ||
    fail "umbra's other threads must stay SCHED_OTHER (0)"
[ "$visits" -gt 0 ] || fail "with 2 harts on 1 CPU no hart visited the other"

# a CPU per hart: nothing changes (2 harts if the host has 2 CPUs)
harts=1
[ "$(nproc)" -ge 2 ] && harts=2
boot_and_look "0-$((harts - 1))" $harts
grep '^hart ' "$dir/threads" | awk '$3 != 0 { bad = 1 } END { exit bad }' ||
    fail "with a CPU per hart every hart thread must stay SCHED_OTHER (0)"
[ "$visits" -eq 0 ] || fail "with a CPU per hart no hart may visit another"
echo "PASS"
