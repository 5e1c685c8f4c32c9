# Shared helpers of the boot tests (sourced, POSIX sh).
# A test exits 0 on pass, 1 on failure, and 77 (CTest's SKIP_RETURN_CODE)
# only when a Debian package it needs is not installed.

FW_JUMP=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin
# The firmware run_linux boots with: OpenSBI's fw_jump unless the test's
# environment says otherwise (BIOS=builtin: umbra's own SBI).
BIOS=${BIOS:-$FW_JUMP}
UBOOT_SMODE=/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin

skip() {
    echo "SKIP: $*"
    exit 77
}

fail() {
    echo "FAIL: $*"
    exit 1
}

# need_file PATH PACKAGE
need_file() {
    [ -f "$1" ] || skip "$1 is missing: install the Debian package '$2'"
}

# need_cmd COMMAND PACKAGE
need_cmd() {
    command -v "$1" >/dev/null 2>&1 || skip "'$1' is missing: install the Debian package '$2'"
}

# need_bios: the firmware run_linux needs (nothing for -bios builtin)
need_bios() {
    [ "$BIOS" = builtin ] || need_file "$BIOS" opensbi
}

# need_guest DIR: the Linux guest images (not a package: their absence is a failure)
need_guest() {
    [ -f "$1/Image" ] && [ -f "$1/smoke.cpio.gz" ] ||
        fail "no Image and smoke.cpio.gz in $1 (set the CMake cache variable UMBRA_GUEST_DIR)"
}

# run_machine LOG SECONDS ARGS...: run the machine with stdin closed, output
# to LOG and to our stdout; sets $status to its exit status (124: timed out).
run_machine() {
    log=$1
    seconds=$2
    shift 2
    echo "+ $*"
    set +e
    timeout -k 5 "$seconds" "$@" </dev/null >"$log" 2>&1
    status=$?
    set -e
    cat "$log"
}

# build_bare_check SOURCE TEXT_ADDRESS OUT: a bare-metal check program from
# tests/integration (riscv64-unknown-elf-gcc, linked at TEXT_ADDRESS).
build_bare_check() {
    need_cmd riscv64-unknown-elf-gcc gcc-riscv64-unknown-elf
    riscv64-unknown-elf-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles \
        -static -Wl,-N,--no-warn-rwx-segments,-Ttext="$2" -o "$3" "$(dirname "$0")/$1" ||
        fail "cannot build $1"
}

# run_linux LOG MACHINE GUEST_DIR HARTS ARGS...: $BIOS (OpenSBI's fw_jump by
# default) + the guest's kernel on HARTS harts with 512 MiB, plus ARGS
# (initrd, drives, -append, umbra options); sets $status like run_machine.
#
# A boot whose user program died of the guest kernel's own vDSO bug runs
# once more. Linux 6.1's riscv vDSO clock_gettime, when it races a
# timekeeping update on another hart, calls cpu_relax(), which reads a
# static key through a GOT entry that nothing relocates in the vDSO: a load
# from address 0x4 and SIGSEGV. QEMU shows it too; a loaded host, which
# stretches the update, makes it likelier. umbra's own guests read the
# clock by system call instead (guests/linux/guest_init.h); the shared
# smoke guest uses the vDSO. Any other failure, or the same fault twice,
# stands.
run_linux() {
    log=$1
    machine=$2
    guest=$3
    harts=$4
    shift 4
    for attempt in 1 2; do
        run_machine "$log" 540 "$machine" -machine virt -nographic -smp "$harts" -m 512M \
            -bios "$BIOS" -kernel "$guest/Image" "$@"
        if [ "$attempt" = 2 ] || ! vdso_clock_fault "$log"; then
            return 0
        fi
        echo "== the guest kernel's vDSO clock_gettime fault at address 0x4 (Linux 6.1 riscv): once more"
    done
}

# vdso_clock_fault LOG: did a user program die of that fault?
vdso_clock_fault() {
    grep -q 'unhandled signal 11 code 0x1 at 0x0000000000000004' "$1" &&
        grep -q 'badaddr: 0000000000000004 cause: 000000000000000d' "$1"
}

# expect_smoke_pass LOG: the smoke guest's result line and a clean exit
expect_smoke_pass() {
    [ "$status" -ne 124 ] || fail "timed out"
    grep -q '^UMBRA-SMOKE PASS' "$1" || fail "no 'UMBRA-SMOKE PASS' line"
    [ "$status" -eq 0 ] || fail "exit status $status, expected 0 (guest poweroff)"
}

# start_gdb_machine WORK MACHINE ARGS...: MACHINE ARGS -S -gdb tcp::PORT in
# the background, output to WORK/umbra.log, once its stub listens; tries a
# few ports in case one is taken. Sets $port and $umbra_pid.
start_gdb_machine() {
    gdb_work=$1
    shift
    for try in 1 2 3 4 5; do
        port=$((20000 + ($$ * 7 + try * 3571) % 40000))
        timeout -k 5 300 "$@" -S -gdb "tcp::$port" </dev/null >"$gdb_work/umbra.log" 2>&1 &
        umbra_pid=$!
        n=0
        while [ $n -lt 100 ]; do
            grep -q 'gdb stub listening' "$gdb_work/umbra.log" && return 0
            kill -0 "$umbra_pid" 2>/dev/null || break
            sleep 0.1
            n=$((n + 1))
        done
        kill "$umbra_pid" 2>/dev/null || true
        wait "$umbra_pid" 2>/dev/null || true
    done
    cat "$gdb_work/umbra.log"
    fail "umbra's gdb stub did not start"
}

# wait_machine SECONDS: wait that long at most for start_gdb_machine's umbra
# to exit (then kill it); sets $status to its exit status.
wait_machine() {
    n=0
    while kill -0 "$umbra_pid" 2>/dev/null && [ $n -lt $(($1 * 10)) ]; do
        sleep 0.1
        n=$((n + 1))
    done
    kill "$umbra_pid" 2>/dev/null || true
    set +e
    wait "$umbra_pid"
    status=$?
    set -e
    umbra_pid=
}
