#!/bin/sh
# gdb-multiarch against OpenSBI (fw_jump) and the Linux Image on 2 harts,
# started with -S: a breakpoint at the kernel entry 0x80200000, continue;
# the hart that arrives must be in S-mode at that pc with a0 = its hart id
# (OpenSBI's boot protocol) and a1 = the device tree; memory read through
# gdb at the entry must match the Image file's first bytes and the device
# tree's magic. Then `kill`: umbra must exit.
#   gdb_opensbi.sh MACHINE GUEST_DIR
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
guest=$2
need_guest "$guest"
need_file "$FW_JUMP" opensbi
need_cmd gdb-multiarch gdb-multiarch
need_cmd od coreutils
work=$(mktemp -d)
trap 'kill $umbra_pid 2>/dev/null || true; rm -rf "$work"' EXIT
umbra_pid=

# The Image's first two 32-bit words, as gdb's x/2wx prints them.
set -- $(od -An -tx4 -N8 "$guest/Image")
word0=0x$1
word1=0x$2

start_gdb_machine "$work" "$machine" -machine virt -nographic -smp 2 -m 256M -bios "$FW_JUMP" \
    -kernel "$guest/Image"

cat >"$work/script.gdb" <<EOF
set pagination off
set confirm off
set architecture riscv:rv64
target remote :$port
break *0x80200000
continue
info registers pc
printf "A0=%d\n", \$a0
printf "PRIV=%d\n", \$priv
thread
x/2wx 0x80200000
printf "FDT=0x%x\n", *(unsigned int *)\$a1
kill
EOF
set +e
timeout -k 5 120 gdb-multiarch -batch -nx -x "$work/script.gdb" >"$work/gdb.log" 2>&1
gdb_status=$?
set -e
cat "$work/gdb.log"
wait_machine 30
echo "umbra exit status $status"
cat "$work/umbra.log"

grep -q '^pc  *0x80200000' "$work/gdb.log" || fail "did not stop at 0x80200000"
# The thread gdb reports is hart index + 1; a0 must hold that hart's id.
thread=$(sed -n 's/^\[Current thread is \([0-9]*\) .*/\1/p' "$work/gdb.log" | tail -1)
[ -n "$thread" ] || fail "gdb named no current thread"
grep -q "^A0=$((thread - 1))\$" "$work/gdb.log" || fail "a0 is not the hart id $((thread - 1))"
grep -q '^PRIV=1$' "$work/gdb.log" || fail "the kernel entry is not reached in S-mode"
grep -q "^0x80200000:[[:space:]]*$word0[[:space:]]*$word1" "$work/gdb.log" ||
    fail "memory at 0x80200000 is not the Image's first words ($word0 $word1)"
# The device tree blob starts with 0xd00dfeed, big-endian.
grep -q '^FDT=0xedfe0dd0$' "$work/gdb.log" || fail "a1 does not point at a device tree"
[ "$status" -eq 0 ] || fail "umbra exit status $status after kill, expected 0"
echo "PASS"
