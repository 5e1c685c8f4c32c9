/* crt0.S: start-up and trap entry of umbra's bare-metal guest test runtime.
 *
 * Owns what must be written in assembly: the reset entry (_start), the M- and
 * S-mode trap entries (direct and vectored), the switch to a lower privilege
 * level and back (rt_run_at / rt_lower_exit), and a guarded call through a
 * function pointer that survives an instruction-fetch fault (rt_try_jump).
 * The C side of the trap handling is in rt.c. Hart 0 runs the test; any other
 * hart parks in WFI.
 */
#include "rt_defs.h"

/* Save / restore x1 and x3..x31 in the frame at sp (x2, the interrupted sp,
 * is stored separately because sp already points at the frame). */
.macro SAVE_REGS
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd x\n, \n*8(sp)
    .endr
.endm
.macro RESTORE_REGS
    .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld x\n, \n*8(sp)
    .endr
    ld sp, 2*8(sp)
.endm

/* One trap entry. The scratch CSR holds the handler stack's top while code
 * runs outside the handler and zero while the handler runs, so a trap taken
 * inside the handler is recognised (sp swaps to zero) and reported instead of
 * corrupting the frame. `slot` is the vector slot (-1 for direct mode). */
.macro TRAP_ENTRY scratch, xret, handler, nested, slot
    csrrw sp, \scratch, sp
    beqz sp, \nested
    addi sp, sp, -RT_FRAME_SIZE
    SAVE_REGS
    csrrw t0, \scratch, zero
    sd t0, 2*8(sp)
    mv a0, sp
    li a1, \slot
    call \handler
    addi t0, sp, RT_FRAME_SIZE
    csrw \scratch, t0
    RESTORE_REGS
    \xret
.endm

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norvc
    csrr t0, mhartid
    bnez t0, rt_park
    la sp, __stack_top
    la t0, __mtrap_stack_top
    csrw mscratch, t0
    la t0, rt_trap_entry_m
    csrw mtvec, t0
    la t0, __strap_stack_top
    csrw sscratch, t0
    la t0, rt_trap_entry_s
    csrw stvec, t0
    /* FP on (mstatus.FS = Initial), so F/D code may run from the start. */
    li t0, (1 << MSTATUS_FS_SHIFT)
    csrs mstatus, t0
    csrwi fcsr, 0
    /* S and U may touch all of memory until a test says otherwise: PMP
     * entry 15 (pmpcfg2 byte 7) as a NAPOT region covering everything.
     * With any PMP entry implemented, S/U accesses no entry matches fail
     * (privileged spec 3.7.1), so this is needed before any mode switch. */
    li t0, -1
    csrw pmpaddr15, t0
    li t0, (0x1f << 56)
    csrw pmpcfg2, t0
    /* Zero .bss. */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sd zero, 0(t0)
    addi t0, t0, 8
    j 1b
2:  call main
    call rt_exit
    .option pop

/* A parked hart leaves when a program has set rt_secondary_entry and woken
 * it (a CLINT software interrupt kicks it out of WFI): it calls the entry
 * with a0 = mhartid on the stack rt_secondary_stacks + (mhartid + 1) *
 * RT_SECONDARY_STACK. Programs that leave it zero keep every other hart
 * parked. */
rt_park:
    wfi
    la t0, rt_secondary_entry
    ld t0, 0(t0)
    beqz t0, rt_park
    csrr a0, mhartid
    addi t1, a0, 1
    slli t1, t1, RT_SECONDARY_STACK_SHIFT
    la sp, rt_secondary_stacks
    ld sp, 0(sp)
    add sp, sp, t1
    jalr t0
    j rt_park

    .data
    .balign 8
    .globl rt_secondary_entry, rt_secondary_stacks
rt_secondary_entry: .dword 0    /* in .data, not .bss: parked harts read it */
rt_secondary_stacks: .dword 0   /* before hart 0 clears .bss */

/* ---------------------------------------------------------------- traps */
    .text
    .align 6
    .globl rt_trap_entry_m
rt_trap_entry_m:
    TRAP_ENTRY mscratch, mret, rt_trap_m, rt_nested_m, -1

    .align 6
    .globl rt_trap_entry_s
rt_trap_entry_s:
    TRAP_ENTRY sscratch, sret, rt_trap_s, rt_nested_s, -1

rt_nested_m:
    csrrw sp, mscratch, sp
    la sp, __panic_stack_top
    li a0, PRV_M
    call rt_nested_trap
rt_nested_s:
    csrrw sp, sscratch, sp
    la sp, __panic_stack_top
    li a0, PRV_S
    call rt_nested_trap

/* Vector tables for mtvec/stvec MODE=Vectored (privileged spec 3.1.7): an
 * interrupt with cause c enters at BASE + 4*c, so each slot jumps to an
 * entry that tells the handler which slot it came through. Slot 0 is also
 * where every exception enters. */
.macro VECTOR_TABLE prefix
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    .option push
    .option norvc
    j \prefix\()_\n
    .option pop
    .endr
.endm
.macro VECTOR_ENTRIES prefix, scratch, xret, handler, nested
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
\prefix\()_\n:
    TRAP_ENTRY \scratch, \xret, \handler, \nested, \n
    .endr
.endm

    .align 8
    .globl rt_mtvec_table
rt_mtvec_table:
    VECTOR_TABLE rt_mvec
    .align 8
    .globl rt_stvec_table
rt_stvec_table:
    VECTOR_TABLE rt_svec
    VECTOR_ENTRIES rt_mvec, mscratch, mret, rt_trap_m, rt_nested_m
    VECTOR_ENTRIES rt_svec, sscratch, sret, rt_trap_s, rt_nested_s

/* ------------------------------------------------------ privilege switch */

/* uint64_t rt_run_at(uint64_t priv, uint64_t (*fn)(uint64_t), uint64_t arg,
 *                    uint64_t stack)
 * Called in M-mode: runs fn(arg) at privilege `priv` (on `stack` if it is
 * non-zero, else on the current stack) and returns what fn returned. fn
 * returns into an exit stub, whose ECALL the trap handler turns into a jump
 * to rt_lower_resume, back in M-mode. */
    .globl rt_run_at
rt_run_at:
    la t0, rt_mctx
    sd ra, 0*8(t0)
    sd sp, 1*8(t0)
    sd gp, 2*8(t0)
    sd tp, 3*8(t0)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    sd s\n, (4+\n)*8(t0)
    .endr
    li t1, MSTATUS_MPP
    csrc mstatus, t1
    slli t1, a0, MSTATUS_MPP_SHIFT
    csrs mstatus, t1
    csrw mepc, a1
    /* fn returns through an exit stub it may execute: U code only runs
     * from user pages and S code never does (privileged spec 4.3.1). */
    la ra, rt_lower_exit_s
    bnez a0, 1f
    la ra, rt_lower_exit
1:  beqz a3, 2f
    mv sp, a3
2:  mv a0, a2
    mret

    .globl rt_lower_resume
rt_lower_resume:
    la t0, rt_mctx
    ld ra, 0*8(t0)
    ld sp, 1*8(t0)
    ld gp, 2*8(t0)
    ld tp, 3*8(t0)
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11
    ld s\n, (4+\n)*8(t0)
    .endr
    ret

/* The exit stubs: S-mode code returns through the first, U-mode code
 * through the second, which lives in the user-text pages. */
    .globl rt_lower_exit_s
rt_lower_exit_s:
    li a7, RT_RETURN_MAGIC
    ecall
1:  j 1b

    .section .utext, "ax", @progbits
    .globl rt_lower_exit
rt_lower_exit:
    li a7, RT_RETURN_MAGIC
    ecall
1:  j 1b

/* uint64_t rt_try_jump(uint64_t target, uint64_t arg)
 * Calls target(arg) in the current mode. If fetching at target faults, the
 * trap handler resumes at the recovery label (rt_recover_pc) and the call
 * returns whatever a0 held then (arg). */
    .text
    .globl rt_try_jump
rt_try_jump:
    addi sp, sp, -16
    sd ra, 8(sp)
    la t0, 1f
    la t1, rt_recover_pc
    sd t0, 0(t1)
    mv t1, a0
    mv a0, a1
    jalr t1
1:  la t1, rt_recover_pc
    sd zero, 0(t1)
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

    .bss
    .align 3
rt_mctx:
    .space 16*8
