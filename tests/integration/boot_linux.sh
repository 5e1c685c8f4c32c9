#!/bin/sh
# OpenSBI (fw_jump) + Linux + the smoke initramfs: the guest checks SMP,
# interrupts, timers, fork/exec, threads and pipes, prints UMBRA-SMOKE PASS
# and powers off; umbra must then exit with status 0.
# With BIOS=builtin in the environment umbra's own SBI replaces OpenSBI, and
# on several harts the remote fences of --stats-json must have been used:
# Linux's TLB shoot-downs reach other harts as SBI remote SFENCE.VMA calls.
# Under OpenSBI with more harts than host CPUs, harts waiting in OpenSBI's
# remote fences for a target that is not running must have slept on the
# answer, or given the pool's worker to the target (ipi_waits), instead of
# spinning on the CPU the target needs. Under
# OpenSBI on several harts the secondaries' wait for sbi_hart_start, a WFI
# loop with the cold-boot IPI still pending in OpenSBI 1.1, must have slept
# (wfi_poll_sleeps) instead of spinning through WFIs that return at once.
# A secondary whose host thread has not run by the time Linux starts it
# never waits there (on a loaded host the boot hart can get that far
# alone), so a run with no such sleep boots once more before it fails;
# test_trap's test_wfi_polling checks the mechanism without the timing.
# On an x86-64 host hot code must have been translated (jit_units).
#   boot_linux.sh MACHINE GUEST_DIR [HARTS]
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
harts=${3:-4}
need_bios
need_guest "$guest"
need_cmd timeout coreutils

log=$(mktemp)
json=$(mktemp)
trap 'rm -f "$log" "$json"' EXIT
# sum NAME: one field of every hart's object, added up
sum() { sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$json" | awk '{ s += $1 } END { print s + 0 }'; }
# boot: the smoke guest, its log in $log and its counters in $json
boot() {
    run_linux "$log" "$machine" "$guest" "$harts" -initrd "$guest/smoke.cpio.gz" \
        -append "console=ttyS0 earlycon=sbi" --stats-json "$json"
    expect_smoke_pass "$log"
}
boot
grep -q "online cpus (sysconf) = $harts" "$log" || fail "the guest did not see $harts harts"
if [ "$BIOS" = builtin ]; then
    grep -q "SBI implementation ID=0x554d4252" "$log" || fail "Linux did not find umbra's SBI"
    if [ "$harts" -gt 1 ]; then
        asked=$(( $(sum remote_fences_queued) + $(sum remote_fences_waited) ))
        served=$(sum remote_fences_served)
        echo "remote fences: queued $(sum remote_fences_queued), waited $(sum remote_fences_waited), served $served"
        [ "$asked" -gt 0 ] || fail "no remote fence was asked for"
        [ "$served" -gt 0 ] && [ "$served" -le "$asked" ] ||
            fail "$served remote fences served for $asked asked"
    fi
elif [ "$harts" -gt 1 ]; then
    echo "wfi_poll_sleeps: $(sum wfi_poll_sleeps) on $harts harts"
    if [ "$(sum wfi_poll_sleeps)" -eq 0 ]; then
        echo "== no hart slept waiting for hart start (its thread may not have run before Linux started it): once more"
        boot
        echo "wfi_poll_sleeps: $(sum wfi_poll_sleeps) on $harts harts"
        [ "$(sum wfi_poll_sleeps)" -gt 0 ] || fail "no hart slept in OpenSBI's WFI loop for hart start"
    fi
    if [ "$harts" -gt "$(nproc)" ]; then
        echo "ipi_waits: $(sum ipi_waits) on $harts harts, $(nproc) host CPUs"
        [ "$(sum ipi_waits)" -gt 0 ] || fail "no hart waited for an IPI's answer off the CPU"
    fi
fi
if [ "$(uname -m)" = x86_64 ]; then
    echo "jit_units: $(sum jit_units) on $harts harts"
    [ "$(sum jit_units)" -gt 0 ] || fail "no code was translated (--engine=jit is the default)"
fi
echo "PASS"
