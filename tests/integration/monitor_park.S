/* monitor_park.S: a bare-metal guest that parks with known register values
 * for the monitor test (monitor.sh). Run with -bios none on 2 harts.
 *
 * Hart 0 builds a one-level Sv39 table (two 1 GiB pages: the UART's and
 * RAM's, identity mapped), turns on translation with ASID 5, drops to
 * S-mode, sets s1 = 0x5ca1ab1e (s2 = the root frame number already),
 * waits until hart 1 is ready, prints "monitor-park ready", then waits in
 * WFI. Hart 1 stays in M-mode, sets s1 = 0xfeedf00d, says it is ready
 * and waits in WFI. Every register the test reads is set before the line
 * it waits for, which the monitor may interrupt anywhere. No interrupt is
 * enabled, so both stay there until umbra quits.
 */
    .section .text
    .globl _start
_start:
    csrr    a0, mhartid
    bnez    a0, hart1

    /* PMP entry 0: all of memory, RWX, so S-mode may use it (3.7.1). */
    li      t0, -1
    srli    t0, t0, 10
    csrw    pmpaddr0, t0
    li      t0, 0x1f                    /* NAPOT | X | W | R */
    csrw    pmpcfg0, t0

    /* root[0]: 0x00000000 (UART at 0x10000000), V R W A D
     * root[2]: 0x80000000 (RAM), V R W X A D */
    la      t1, root
    li      t2, 0xc7
    sd      t2, 0(t1)
    li      t2, (0x80000000 >> 12) << 10 | 0xcf
    sd      t2, 16(t1)
    srli    s2, t1, 12                  /* root frame */
    li      t0, 8                       /* Sv39 */
    slli    t0, t0, 60
    li      t3, 5                       /* ASID 5 */
    slli    t3, t3, 44
    or      t0, t0, t3
    or      t0, t0, s2
    csrw    satp, t0
    sfence.vma

    /* mret into S-mode at s_mode */
    li      t0, 3 << 11
    csrc    mstatus, t0
    li      t0, 1 << 11
    csrs    mstatus, t0
    la      t0, s_mode
    csrw    mepc, t0
    mret

s_mode:
    li      s1, 0x5ca1ab1e
    la      t0, hart1_ready
5:  lw      t1, 0(t0)
    beqz    t1, 5b
    la      t1, message
    li      t2, 0x10000000              /* UART THR */
1:  lbu     t3, 0(t1)
    beqz    t3, 2f
    sb      t3, 0(t2)
    addi    t1, t1, 1
    j       1b
2:
3:  wfi
    j       3b

hart1:
    li      s1, 0xfeedf00d
    la      t0, hart1_ready
    li      t1, 1
    sw      t1, 0(t0)
4:  wfi
    j       4b

    .section .rodata
message:
    .asciz  "monitor-park ready\n"

    .section .bss
    .align  12
root:
    .zero   4096
hart1_ready:
    .zero   4
