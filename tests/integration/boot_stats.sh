#!/bin/sh
# --stats-json after a 4-hart Linux boot: under --coherence=patch every hart
# produced and applied patches, and all harts together walked the guest page
# tables at most half as often as under --coherence=flush for the same boot.
#   boot_stats.sh MACHINE GUEST_DIR
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
need_file "$FW_JUMP" opensbi
need_guest "$guest"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# field FILE NAME: the values of one integer field, one per hart
field() {
    sed -n "s/.*\"$2\": \([0-9]*\).*/\1/p" "$1"
}

for strategy in patch flush; do
    run_linux "$dir/$strategy.log" "$machine" "$guest" 4 -initrd "$guest/smoke.cpio.gz" \
        -append "console=ttyS0" --coherence=$strategy --stats-json "$dir/$strategy.json"
    expect_smoke_pass "$dir/$strategy.log"
    cat "$dir/$strategy.json"
    [ "$(field "$dir/$strategy.json" hart | wc -l)" -eq 4 ] || fail "expected 4 harts in the JSON"
done

for name in patches_produced patches_applied; do
    field "$dir/patch.json" $name | awk -v n=$name '$1 == 0 { print "hart " NR-1 ": " n " is 0"; bad = 1 }
                                                   END { exit bad }' ||
        fail "under --coherence=patch every hart must produce and apply patches"
done
walks_patch=$(field "$dir/patch.json" page_walks | awk '{ s += $1 } END { print s }')
walks_flush=$(field "$dir/flush.json" page_walks | awk '{ s += $1 } END { print s }')
echo "page walks: patch $walks_patch, flush $walks_flush"
[ $((walks_patch * 2)) -le "$walks_flush" ] ||
    fail "patch walked $walks_patch times, more than half of flush's $walks_flush"
echo "PASS"
