#!/usr/bin/env bash
# Soak run (not part of CI): OpenSBI + Linux on N harts running the torture
# guest over and over (umbra.seconds=S) with --audit, for S seconds.
#
# Passes when the guest ends with UMBRA-TORTURE PASS and powers off (exit 0),
# the audit reported no violation, and umbra's own memory stayed flat.
# A watchdog fails the run when no progress line ("torture: ...") appears
# for WATCHDOG seconds: it prints the console's last lines, every umbra
# thread's state and CPU time (spinning or blocked?) and, with gdb, every
# thread's stack, then kills umbra.
#
# Every 10 s it samples umbra's memory from /proc/PID/smaps: the guest-RAM
# mapping (grows as the guest first touches its pages, bounded by -m), the
# translated code (the executable mappings: each hart's code buffer fills
# as the guest runs code it has not run before, and is emptied when full,
# so it grows for a long time, bounded by 64 MiB a hart) and everything
# else, umbra's own memory (must be flat: at the end at most RSS_SLACK_KB
# above its level after the first torture pass).
#
#   bench/soak.sh [SECONDS] [HARTS]        (defaults: 600 s, 4 harts)
# Environment: UMBRA (default build/umbra), GUEST, INITRD, WATCHDOG (120),
#   RSS_SLACK_KB (4096), UMBRA_FLAGS (default --audit), LOG (keep the
#   console log there).
set -euo pipefail
top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
umbra="${UMBRA:-$top/build/umbra}"
guest="${GUEST:-$top/../shared/guests/linux}"
initrd="${INITRD:-$top/build/tests/linux/torture.cpio.gz}"
seconds="${1:-600}" harts="${2:-4}"
watchdog="${WATCHDOG:-120}" slack_kb="${RSS_SLACK_KB:-4096}"
flags="${UMBRA_FLAGS:---audit}"
ram_mb=512
fw=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
for f in "$umbra" "$guest/Image" "$initrd" "$fw"; do
    [ -f "$f" ] || { echo "soak: missing $f"; exit 1; }
done
log="${LOG:-$(mktemp)}"
samples=$(mktemp)
pid=
cleanup() {
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    rm -f "$samples"
    [ -n "${LOG:-}" ] || rm -f "$log"
}
trap cleanup EXIT

# guest_kb code_kb own_kb: Rss of the guest-RAM mapping (an rw-p mapping
# of exactly -m bytes), of the translated code (rwxp) and of everything else.
sample_rss() {
    awk -v ram_kb=$((ram_mb * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / { perms = $2; size = -1; next }
        /^Size:/ { size = $2; next }
        /^Rss:/ { if (size == ram_kb && perms == "rw-p") g += $2
                  else if (perms == "rwxp") c += $2
                  else o += $2 }
        END { printf "%d %d %d\n", g, c, o }' "/proc/$pid/smaps"
}

progress() { grep -c '^torture:' "$log" || true; }

# Running, not exited: an exited child stays a zombie (state Z) until waited for.
alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

diagnose() {
    echo "soak: HANG: no progress line for $watchdog s (last: $(grep '^torture:' "$log" | tail -n 1))"
    echo "--- console, last 25 lines"
    tail -n 25 "$log"
    echo "--- umbra threads: state, user+system CPU ticks (sampled twice, 2 s apart)"
    for round in 1 2; do
        for t in /proc/"$pid"/task/*; do
            printf '%s %s\n' "$(cat "$t/comm")" \
                "$(awk '{ print "tid " $1 " state " $3 " cpu " $14 + $15 }' "$t/stat")"
        done
        [ $round = 2 ] || { sleep 2; echo "--- 2 s later"; }
    done
    if command -v gdb >/dev/null 2>&1; then
        echo "--- stacks"
        timeout 60 gdb -p "$pid" -batch -ex "thread apply all bt 12" 2>/dev/null | grep -E '^(Thread|#)' || true
    fi
}

echo "soak: $harts harts, $seconds s of torture, $flags, watchdog $watchdog s"
start=$(date +%s)
"$umbra" -machine virt -nographic -smp "$harts" -m ${ram_mb}M -bios "$fw" \
    -kernel "$guest/Image" -initrd "$initrd" $flags \
    -append "console=ttyS0 umbra.seconds=$seconds" </dev/null >"$log" 2>&1 &
pid=$!

last_count=0 last_change=$start next_sample=$start
status=running
while alive; do
    now=$(date +%s)
    count=$(progress)
    if [ "$count" != "$last_count" ]; then
        last_count=$count last_change=$now
    elif [ $((now - last_change)) -ge "$watchdog" ]; then
        diagnose
        status=hang
        break
    fi
    if [ "$now" -ge "$next_sample" ]; then
        rss=$(sample_rss 2>/dev/null) && echo "$((now - start)) $(grep -c '^torture: loop' "$log" || true) $rss" >>"$samples"
        next_sample=$((next_sample + 10))
    fi
    if [ $((now - start)) -gt $((seconds + 600)) ]; then
        echo "soak: still running $((seconds + 600)) s after the start"
        diagnose
        status=overtime
        break
    fi
    sleep 1
done
if [ "$status" = running ]; then
    set +e
    wait "$pid"
    code=$?
    set -e
    pid=
    status=exited
else
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    code=-1
fi
elapsed=$(( $(date +%s) - start ))
loops=$(grep -c '^torture: loop' "$log" || true)
violations=$(grep -c 'umbra: audit:' "$log" || true)

# RSS figures: total, translated code, umbra's own; the baseline for
# "flat" is the first sample taken after the first torture pass ended.
read -r first_total last_total max_total code_base code_last own_base own_last own_max <<<"$(awk '
    { total = $3 + $4 + $5
      if (NR == 1) first = total
      last = total; if (total > max) max = total
      if (base == "" && $2 >= 1) { base = $5; cbase = $4 }
      code = $4; own = $5; if (own > omax) omax = own }
    END { if (base == "") { base = own; cbase = code }
          printf "%d %d %d %d %d %d %d %d\n", first, last, max, cbase, code, base, own, omax }' "$samples")"
nsamples=$(wc -l <"$samples")
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

echo "soak: ran $elapsed s, $loops torture passes, exit status $code, audit violations $violations"
echo "soak: RSS total (MiB)  first $(mib "$first_total")  last $(mib "$last_total")  max $(mib "$max_total")  ($nsamples samples, 10 s apart)"
echo "soak: translated code (MiB)  after pass 1 $(mib "$code_base")  last $(mib "$code_last")  (at most 64 a hart)"
echo "soak: umbra's own RSS (MiB, without guest RAM and code)  after pass 1 $(mib "$own_base")  last $(mib "$own_last")  max $(mib "$own_max")"

result=PASS
[ "$status" = exited ] || result=FAIL
[ "$code" = 0 ] || { echo "soak: umbra exit status $code (3 = audit violation)"; result=FAIL; }
[ "$violations" = 0 ] || { grep 'umbra: audit:' "$log" | head -n 5; result=FAIL; }
grep -q '^UMBRA-TORTURE PASS' "$log" || { grep '^UMBRA-TORTURE' "$log" || echo "soak: no result line"; result=FAIL; }
[ "$loops" -ge 1 ] || { echo "soak: no torture pass completed"; result=FAIL; }
if [ "$own_last" -gt $((own_base + slack_kb)) ]; then
    echo "soak: umbra's own memory grew by $(( (own_last - own_base) / 1024 )) MiB: not flat"
    result=FAIL
fi
if [ "$result" != PASS ]; then
    echo "--- console, last 15 lines"
    tail -n 15 "$log"
fi
echo "soak: $result"
[ "$result" = PASS ]
