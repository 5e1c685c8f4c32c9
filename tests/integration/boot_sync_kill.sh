#!/bin/sh
# What the guest synced is in the image when umbra is killed: the sync-kill
# guest fills the raw disk /dev/vda with a pattern seeded from this run,
# fsync()s it (virtio-blk FLUSH) and prints "UMBRA-SYNCKILL SYNCED <crc>
# <bytes>"; the script sends SIGKILL to umbra the moment that line appears
# and compares `cksum` of the image with the guest's. Run once per cache
# mode given (writeback, the default, when none is). cache=unsafe promises
# nothing about synced data, so for it the comparison is only reported.
# Then the host-side errors: a disk image that is truncated to a partial
# sector or is a directory is refused with a message naming it (exit 1),
# and an unknown cache mode is a usage error (exit 2), before any guest runs.
#   boot_sync_kill.sh MACHINE GUEST_DIR INITRD [CACHE-MODE...]
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
initrd=$3
shift 3
[ $# -gt 0 ] || set -- writeback
need_file "$FW_JUMP" opensbi
need_guest "$guest"
need_cmd cksum coreutils
[ -f "$initrd" ] || fail "no sync-kill initramfs at $initrd"

work=$(mktemp -d)
pid=
cleanup() {
    [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# synced_line_whole LOG: the SYNCED line is in LOG with its newline. The
# console writes a character at a time, so a grep can see the line while
# its byte count is still arriving; wc -l counts only ended lines.
synced_line_whole() {
    n=$(grep -n '^UMBRA-SYNCKILL SYNCED' "$1" | head -n 1 | cut -d: -f1)
    [ -n "$n" ] && [ "$(wc -l < "$1")" -ge "$n" ]
}

# run_and_kill CACHE SEED: boot, wait for the SYNCED line, SIGKILL umbra.
run_and_kill() {
    disk=$work/disk-$1.img
    log=$work/log-$1
    rm -f "$disk"
    truncate -s 4M "$disk"
    echo "+ umbra ... -drive file=$disk,format=raw,cache=$1 -append umbra.seed=$2"
    "$machine" -machine virt -nographic -smp 2 -m 512M -bios "$FW_JUMP" \
        -kernel "$guest/Image" -initrd "$initrd" \
        -drive "file=$disk,format=raw,if=none,id=hd0,cache=$1" \
        -device virtio-blk-device,drive=hd0 \
        -append "console=ttyS0 umbra.seed=$2" </dev/null >"$log" 2>&1 &
    pid=$!
    waited=0
    while ! synced_line_whole "$log"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$log"
            fail "cache=$1: umbra ended before the guest synced"
        fi
        grep -q '^UMBRA-SYNCKILL FAIL' "$log" && { cat "$log"; fail "cache=$1: the guest failed"; }
        [ $waited -lt 3000 ] || { cat "$log"; fail "cache=$1: no SYNCED line within 300 s"; }
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    tail -n 3 "$log"
    want=$(grep '^UMBRA-SYNCKILL SYNCED' "$log" | head -n 1 | tr -d '\r' | cut -d' ' -f3-4)
    got=$(cksum < "$disk" | cut -d' ' -f1-2)
    echo "cache=$1: guest synced '$want', image after SIGKILL '$got'"
    if [ "$1" = unsafe ]; then
        [ "$want" = "$got" ] || echo "cache=unsafe: the image differs (allowed)"
        return 0
    fi
    [ "$want" = "$got" ] || fail "cache=$1: the image lost data the guest had synced"
}

seed=$(( $(date +%s) % 100000 + $$ ))
for mode in "$@"; do
    run_and_kill "$mode" "$seed"
    seed=$((seed + 1))
done

# expect_refused STATUS PATTERN ARGS...: umbra stops before the guest runs.
expect_refused() {
    want=$1
    pattern=$2
    shift 2
    set +e
    "$machine" -machine virt -nographic -bios "$FW_JUMP" -kernel "$guest/Image" "$@" \
        </dev/null >"$work/err" 2>&1
    got=$?
    set -e
    cat "$work/err"
    [ "$got" -eq "$want" ] || fail "exit status $got, expected $want for: $*"
    grep -q "$pattern" "$work/err" || fail "no message matching '$pattern' for: $*"
}
head -c 1000 /dev/zero > "$work/partial.img"
expect_refused 1 "partial.img.*multiple of 512" -drive "file=$work/partial.img,format=raw"
mkdir "$work/dir.img"
expect_refused 1 "dir.img" -drive "file=$work/dir.img,format=raw"
expect_refused 2 "cache=sometimes" -drive "file=$work/partial.img,format=raw,cache=sometimes"
echo "PASS"
