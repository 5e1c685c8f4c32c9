#!/bin/sh
# SIGTERM, SIGINT and SIGHUP end umbra as Ctrl-A X does, as QEMU ends on
# them: a line on stderr naming the signal and the sender ("umbra:
# terminating on signal 15 from pid N (sh)"), exit status 0, and --stats,
# --stats-json and --profile written with what the harts did. The guest
# (spin_forever.S) counts for ever on 2 harts, so only the signal ends it.
#   signal.sh MACHINE
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
work=$(mktemp -d)
trap 'kill -9 $umbra_pid 2>/dev/null || true; rm -rf "$work"' EXIT
umbra_pid=
build_bare_check spin_forever.S 0x80000000 "$work/spin.elf"

# signal_run SIGNAL NUMBER: start the guest, let it run, send SIGNAL, check
# the run ended as a quit does.
signal_run() {
    rm -f "$work/stats.json" "$work/profile.txt"
    "$machine" -machine virt -nographic -smp 2 -bios none \
        -kernel "$work/spin.elf" --stats --stats-json "$work/stats.json" \
        --profile "$work/profile.txt" </dev/null >"$work/umbra.log" 2>&1 &
    umbra_pid=$!
    sleep 1
    kill -0 "$umbra_pid" 2>/dev/null || { cat "$work/umbra.log"; fail "umbra ended by itself"; }
    kill -s "$1" "$umbra_pid"
    n=0
    while kill -0 "$umbra_pid" 2>/dev/null && [ $n -lt 300 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    ended=yes
    kill -0 "$umbra_pid" 2>/dev/null && ended=no && kill -9 "$umbra_pid"
    set +e
    wait "$umbra_pid"
    status=$?
    set -e
    umbra_pid=
    cat "$work/umbra.log"
    [ "$ended" = yes ] || fail "SIG$1: umbra still ran 30 s later"
    [ "$status" -eq 0 ] || fail "SIG$1: exit status $status, expected 0"
    grep -q "^umbra: terminating on signal $2 from pid $$ " "$work/umbra.log" ||
        fail "SIG$1: no 'terminating on signal $2 from pid $$' line"
    grep -q '^umbra stats: ' "$work/umbra.log" || fail "SIG$1: no --stats table"
    # Both harts ran: each retired millions of instructions in that second.
    for hart in 0 1; do
        n=$(sed -n "s/.*{\"hart\": $hart, \"instret\": \([0-9]*\),.*/\1/p" "$work/stats.json")
        [ -n "$n" ] && [ "$n" -gt 1000000 ] ||
            fail "SIG$1: --stats-json: hart $hart instret '${n}', expected over 1000000"
    done
    # The profile charges the loop (its two instructions at 0x80000000).
    grep -q ' M  0x0000000080000000$' "$work/profile.txt" ||
        fail "SIG$1: --profile has no line for the loop at 0x80000000"
}

signal_run TERM 15
signal_run INT 2
signal_run HUP 1
echo "PASS: SIGTERM, SIGINT and SIGHUP end the run with status 0 and its reports"
