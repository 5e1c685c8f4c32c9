#!/bin/sh
# gdb-multiarch drives umbra's gdb stub in batch mode against gdb_guest.c on
# 2 harts, started with -S: a breakpoint on a function, its argument and a
# global (the guest computed both; the expected value is worked out here),
# a single step, a write watchpoint with old and new value (and the global's
# new value read from memory), hart 1's thread and its mhartid CSR, a read
# watchpoint that hart 1 hits while hart 0 is held (scheduler-locking:
# vCont for one thread; reported in its thread), then a continue to
# the guest's poweroff: gdb must see the exit and umbra must exit with 0.
#   gdb_baremetal.sh MACHINE
set -eu
. "$(dirname "$0")/lib.sh"
machine=$1
need_cmd riscv64-unknown-elf-gcc gcc-riscv64-unknown-elf
need_cmd gdb-multiarch gdb-multiarch
need_cmd timeout coreutils
work=$(mktemp -d)
trap 'kill $umbra_pid 2>/dev/null || true; rm -rf "$work"' EXIT
umbra_pid=

riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -mno-relax -ffreestanding \
    -nostdlib -nostartfiles -static -O1 -g -Wl,-N,--no-warn-rwx-segments,-Ttext=0x80000000 \
    -o "$work/guest.elf" "$(dirname "$0")/gdb_guest.c" || fail "cannot build gdb_guest.c"

# The sum of i*i for i = 1..100, which the guest computes and passes on.
expected=0
i=1
while [ $i -le 100 ]; do expected=$((expected + i * i)); i=$((i + 1)); done

start_gdb_machine "$work" "$machine" -machine virt -nographic -smp 2 -bios none -kernel "$work/guest.elf"

cat >"$work/script.gdb" <<EOF
set pagination off
set confirm off
target remote :$port
info threads
break checkpoint
continue
info registers pc
printf "A0=%d\n", \$a0
stepi
info registers pc
printf "MAGIC_BEFORE=%d\n", magic
watch watched
continue
printf "MAGIC=%d\n", magic
x/1gd &magic
thread 2
printf "HART1_MHARTID=%d\n", \$mhartid
printf "HART1_ID=%d\n", hart1_id
info registers priv
thread 1
delete
thread 2
set scheduler-locking on
rwatch hart1_counter
continue
set scheduler-locking off
delete
continue
EOF
set +e
timeout -k 5 120 gdb-multiarch -batch -nx -x "$work/script.gdb" "$work/guest.elf" \
    >"$work/gdb.log" 2>&1
gdb_status=$?
set -e
cat "$work/gdb.log"
wait_machine 60
echo "umbra exit status $status"
cat "$work/umbra.log"

[ "$gdb_status" -eq 0 ] || fail "gdb exited with status $gdb_status"
grep -q 'Thread 2 ' "$work/gdb.log" || fail "no second thread listed"
grep -q 'Breakpoint 1, checkpoint' "$work/gdb.log" || fail "did not stop at checkpoint"
grep -q '^pc[[:space:]]*0x[0-9a-f]*[[:space:]]*0x[0-9a-f]* <checkpoint>' "$work/gdb.log" ||
    fail "pc is not at checkpoint"
grep -q "^A0=$expected\$" "$work/gdb.log" || fail "a0 is not $expected"
grep -q '^pc[[:space:]]*0x[0-9a-f]*[[:space:]]*0x[0-9a-f]* <checkpoint+[0-9]*>' "$work/gdb.log" ||
    fail "stepi did not advance inside checkpoint"
# One instruction into checkpoint(), its store to magic has not happened.
grep -q '^MAGIC_BEFORE=0$' "$work/gdb.log" || fail "magic was written before the store"
grep -q "^MAGIC=$expected\$" "$work/gdb.log" || fail "magic in memory is not $expected"
grep -q "<magic>:[[:space:]]*$expected\$" "$work/gdb.log" || fail "x/1gd &magic is not $expected"
grep -q 'Hardware watchpoint 2: watched' "$work/gdb.log" || fail "no hardware watchpoint hit"
grep -q 'Old value = 0' "$work/gdb.log" || fail "watchpoint: old value is not 0"
grep -q 'New value = 42' "$work/gdb.log" || fail "watchpoint: new value is not 42"
grep -q '^HART1_MHARTID=1$' "$work/gdb.log" || fail "thread 2's mhartid is not 1"
grep -q '^HART1_ID=1$' "$work/gdb.log" || fail "hart1_id in memory is not 1"
grep -q '^priv[[:space:]]*0x3' "$work/gdb.log" || fail "priv register is not M (3)"
# hart 1's load of its counter stops the machine in thread 2.
grep -q 'Thread 2 hit Hardware read watchpoint 3: hart1_counter' "$work/gdb.log" ||
    fail "no read watchpoint hit in thread 2"
grep -q 'exited normally' "$work/gdb.log" || fail "gdb did not see the guest exit"
[ "$status" -eq 0 ] || fail "umbra exit status $status, expected 0"
echo "PASS"
