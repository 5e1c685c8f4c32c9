#!/bin/sh
# --trace=all writes what really happened:
#  1. the traps guest (bare metal): every illegal-instruction trap names a pc
#     whose instruction bits (read back from the ELF with objdump) are the
#     trap's tval, every environment-call trap's pc holds an ECALL, and ECALLs
#     from M, S and U all appear;
#  2. OpenSBI + Linux smoke on 2 harts: per hart, the SFENCE.VMA lines, the
#     patches posted (or refused by a full ring) and the patch outcomes
#     (applied, stale-invalidated) count exactly what --stats-json reports;
#  3. the same boot under -bios builtin: the SFENCE.VMA and SBI remote-fence
#     lines of each hart add up to its coherency events.
#   trace.sh MACHINE TRAPS_ELF GUEST_DIR
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
elf=$2
guest=$3
need_cmd riscv64-unknown-elf-objdump binutils-riscv64-unknown-elf
need_file "$FW_JUMP" opensbi
need_guest "$guest"
[ -f "$elf" ] || fail "no guest program $elf"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# ---- 1. traps
run_machine "$dir/traps.out" 60 "$machine" -bios none -kernel "$elf" \
    --trace=all,file="$dir/traps.log"
[ "$status" -eq 0 ] || fail "traps guest: exit status $status"
# pc -> instruction bits, as "pc bits" lines without leading zeros
riscv64-unknown-elf-objdump -d "$elf" |
    sed -n 's/^ *\([0-9a-f]*\):[[:space:]]*\([0-9a-f]*\)[[:space:]].*/\1 \2/p' |
    sed 's/ 0*\([0-9a-f]\)/ \1/' >"$dir/bits"
riscv64-unknown-elf-objdump -d "$elf" | sed -n 's/^ *\([0-9a-f]*\):.*[[:space:]]ecall$/\1/p' \
    >"$dir/ecalls"
illegal=0
while read -r _t _trap _hart _cause _name tval pc _priv; do
    tval=${tval#tval=0x}
    pc=${pc#pc=0x}
    grep -qx "$pc $tval" "$dir/bits" || fail "illegal-instruction trap at $pc: tval $tval is not the instruction there"
    illegal=$((illegal + 1))
done <<EOF
$(grep ' trap .*(illegal-instruction)' "$dir/traps.log")
EOF
[ "$illegal" -ge 5 ] || fail "only $illegal illegal-instruction traps logged"
for mode in M S U; do
    grep -q " trap hart=0 cause=0x[0-9a-f]* (ecall-from-$mode) tval=0x0 " "$dir/traps.log" ||
        fail "no ecall-from-$mode trap logged"
done
grep ' trap .*(ecall-from-' "$dir/traps.log" | sed 's/.* pc=0x\([0-9a-f]*\) .*/\1/' |
    while read -r pc; do
        grep -qx "$pc" "$dir/ecalls" || fail "ecall trap at $pc, where there is no ECALL"
    done
echo "traps: $illegal illegal-instruction traps, each at the instruction its tval holds"

# ---- 2. Linux on 2 harts
run_linux "$dir/linux.out" "$machine" "$guest" 2 -initrd "$guest/smoke.cpio.gz" \
    -append "console=ttyS0" --trace=all,file="$dir/linux.log" --stats-json "$dir/stats.json"
expect_smoke_pass "$dir/linux.out"
cat "$dir/stats.json"

# stat HART NAME: one counter of one hart from the JSON
stat() {
    sed -n "s/.*\"hart\": $1,.*\"$2\": \([0-9]*\).*/\1/p" "$dir/stats.json"
}
# count HART KIND: the trace lines of that kind for that hart
count() {
    awk -v h="$1" -v k="$2" '
        $2 == "sfence.vma" && k == "sfence" && $3 == "hart=" h { n++ }
        $2 == "patch" && (k == "posted" || k == "overflow") && $3 == "producer=" h && $NF == k { n++ }
        $2 == "patch" && k != "posted" && k != "overflow" && $4 == "consumer=" h && $NF == k { n++ }
        END { print n + 0 }' "$dir/linux.log"
}
for h in 0 1; do
    sfences=$(count $h sfence)
    produced=$(($(count $h posted) + $(count $h overflow)))
    applied=$(count $h applied)
    stale=$(($(count $h stale-invalidated) + $(count $h stale-rewalked)))
    echo "hart $h: trace sfence $sfences produced $produced applied $applied stale $stale"
    [ "$sfences" -eq "$(stat $h coherency_events)" ] || fail "hart $h: sfence lines != coherency_events"
    [ "$produced" -eq "$(stat $h patches_produced)" ] || fail "hart $h: patch posts != patches_produced"
    [ "$applied" -eq "$(stat $h patches_applied)" ] || fail "hart $h: applied lines != patches_applied"
    [ "$stale" -eq "$(stat $h patches_stale)" ] || fail "hart $h: stale lines != patches_stale"
    [ "$applied" -gt 0 ] || fail "hart $h applied no patch"
done
grep -q ' drain hart=1 from=0 patches=' "$dir/linux.log" || fail "no drain of hart 0's patches by hart 1"
grep -q ' trap hart=1 cause=0x8000000000000005 (supervisor-timer)' "$dir/linux.log" ||
    fail "no supervisor timer interrupt on hart 1"

# ---- 3. the same under -bios builtin: SBI remote fences are coherency
# events too, logged as remote-sfence.vma (served for another hart) and
# sbi-sfence.vma (the caller's own)
run_machine "$dir/builtin.out" 540 "$machine" -machine virt -nographic -smp 2 -m 512M \
    -bios builtin -kernel "$guest/Image" -initrd "$guest/smoke.cpio.gz" -append "console=ttyS0" \
    --trace=coherence,file="$dir/builtin.log" --stats-json "$dir/stats.json"
expect_smoke_pass "$dir/builtin.out"
for h in 0 1; do
    fences=$(awk -v h="$h" '$3 == "hart=" h && ($2 == "sfence.vma" || $2 == "remote-sfence.vma" ||
                            $2 == "sbi-sfence.vma") { n++ } END { print n + 0 }' "$dir/builtin.log")
    echo "hart $h under -bios builtin: $fences fence lines"
    [ "$fences" -eq "$(stat $h coherency_events)" ] || fail "hart $h: fence lines != coherency_events"
done
grep -q ' remote-sfence.vma hart=' "$dir/builtin.log" || fail "no remote fence served"
echo "PASS"
