#!/bin/sh
# Visits (src/cpu/hart.c, visit): when harts outnumber the host CPUs, a hart
# that raises the msip of a hart asleep in WFI runs that hart's firmware
# answer (OpenSBI's remote fences and IPIs) on its own thread, instead of
# waiting for the sleeper's thread to be woken and scheduled. A 4-hart Linux
# boot under OpenSBI confined to one host CPU must pass with visits made;
# with a CPU per hart (2 harts on 2 CPUs) none are made.
#   boot_visits.sh MACHINE GUEST_DIR
set -eu
. "$(dirname "$0")/lib.sh"
umbra=$1            # not "machine": run_linux sets that to the wrapper
guest=$2
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd taskset util-linux

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# visits_after CPUS HARTS: boot the smoke guest on HARTS harts confined to
# CPUS (a taskset list); prints the visits of all harts together.
visits_after() {
    printf '#!/bin/sh\nexec taskset -c %s "%s" "$@"\n' "$1" "$umbra" >"$dir/machine"
    chmod +x "$dir/machine"
    run_linux "$dir/log" "$dir/machine" "$guest" "$2" -initrd "$guest/smoke.cpio.gz" \
        -append console=ttyS0 --stats-json "$dir/stats.json" >&2
    expect_smoke_pass "$dir/log" >&2
    sed -n 's/.*"visits": \([0-9]*\).*/\1/p' "$dir/stats.json" | awk '{ s += $1 } END { print s + 0 }'
}

visits=$(visits_after 0 4)
echo "4 harts on 1 CPU: $visits visits"
[ "$visits" -gt 0 ] || fail "4 harts on 1 CPU made no visits"

if [ "$(nproc)" -ge 2 ]; then
    visits=$(visits_after 0,1 2)
    echo "2 harts on 2 CPUs: $visits visits"
    [ "$visits" -eq 0 ] || fail "with a CPU per hart no hart may visit another"
fi
echo "PASS"
