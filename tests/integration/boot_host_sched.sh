#!/bin/sh
# How umbra asks the host to run its harts. With more harts than the host
# CPUs umbra may use (its affinity mask, set here with taskset), the harts
# share a pool of one thread per CPU, named "hart pool N", which switch
# between harts at block boundaries (src/cpu/pool.h; --stats-json counts
# each hart's slices). With a CPU per hart, or --hart-pool=off, each hart
# has a thread named "hart N" and no slices; those threads are SCHED_BATCH
# when harts outnumber CPUs, so that a hart that wakes does not preempt a
# running one, and stay SCHED_OTHER otherwise, as the main thread always
# does. The smoke guest must boot every way.
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

# watch_threads PATTERN COUNT: once the machine started by $dir/machine has
# COUNT threads whose name matches PATTERN, write "NAME POLICY" for each of
# its threads to $dir/threads (at most 15 s).
watch_threads() {
    n=0
    while [ $n -lt 300 ]; do
        pid=$(cat "$dir/pid" 2>/dev/null || true)
        if [ -n "$pid" ] && [ -d "/proc/$pid/task" ] &&
           [ "$(cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -c "$1")" -eq "$2" ]; then
            for task in /proc/"$pid"/task/*; do
                echo "$(cat "$task/comm") $(policy_of "$task")" >>"$dir/threads"
            done
            return 0
        fi
        sleep 0.05
        n=$((n + 1))
    done
}

# boot_and_look CPUS HARTS PATTERN COUNT [OPTION...]: boot the smoke guest
# on HARTS harts confined to CPUS (a taskset list), waiting to see COUNT
# threads named PATTERN while it runs; $slices is then the slices of all
# harts together (--stats-json).
boot_and_look() {
    cpus=$1 harts=$2 pattern=$3 count=$4
    shift 4
    printf '#!/bin/sh\necho $$ >"%s/pid"\nexec taskset -c %s "%s" "$@"\n' "$dir" "$cpus" "$umbra" \
        >"$dir/machine"
    chmod +x "$dir/machine"
    rm -f "$dir/pid"
    : >"$dir/threads"
    watch_threads "$pattern" "$count" &
    watcher=$!
    run_linux "$dir/log" "$dir/machine" "$guest" "$harts" -initrd "$guest/smoke.cpio.gz" \
        -append console=ttyS0 --stats-json "$dir/stats.json" "$@"
    wait "$watcher" || true
    expect_smoke_pass "$dir/log"
    cat "$dir/threads"
    [ "$(grep -c "$pattern" "$dir/threads")" -eq "$count" ] ||
        fail "did not see $count threads named '$pattern'"
    slices=$(sed -n 's/.*"slices": \([0-9]*\).*/\1/p' "$dir/stats.json" |
             awk '{ s += $1 } END { print s + 0 }')
    echo "slices: $slices"
}

# every thread SCHED_OTHER (0)
all_sched_other() {
    awk '$NF != 0 { bad = 1 } END { exit bad }' "$dir/threads" ||
        fail "$1: every thread must stay SCHED_OTHER (0)"
}

# more harts than CPUs: one pool thread runs both harts
boot_and_look 0 2 '^hart pool ' 1
grep -q '^hart [0-9]' "$dir/threads" && fail "with 2 harts on 1 CPU no hart may have a thread of its own"
all_sched_other "with a pool"
[ "$slices" -gt 0 ] || fail "with 2 harts on 1 CPU the pool ran no slices"

# the same without the pool: a thread per hart, SCHED_BATCH, and no slices
boot_and_look 0 2 '^hart [0-9]' 2 --hart-pool=off
grep '^hart [0-9]' "$dir/threads" | awk '$NF != 3 { bad = 1 } END { exit bad }' ||
    fail "with 2 harts on 1 CPU every hart thread must be SCHED_BATCH (3)"
grep -v '^hart [0-9]' "$dir/threads" | awk '$NF != 0 { bad = 1 } END { exit bad }' ||
    fail "umbra's other threads must stay SCHED_OTHER (0)"
[ "$slices" -eq 0 ] || fail "--hart-pool=off must run no slices"

# a CPU per hart: nothing changes (2 harts if the host has 2 CPUs)
harts=1
[ "$(nproc)" -ge 2 ] && harts=2
boot_and_look "0-$((harts - 1))" $harts '^hart [0-9]' $harts
grep -q '^hart pool ' "$dir/threads" && fail "with a CPU per hart there must be no pool"
all_sched_other "with a CPU per hart"
[ "$slices" -eq 0 ] || fail "with a CPU per hart no pool may run slices"
echo "PASS"
