/* sbi_check: a bare-metal S-mode program for -bios builtin on 2 harts. It
 * talks to umbra's SBI only through ECALLs and checks what comes back.
 *
 * Hart 0 starts here in S-mode (a0 = 0, a1 = device tree, satp = 0); hart 1
 * is STOPPED. Hart 0 counts boots in a RAM word a reset keeps, prints
 * "sbi-check boot N" through the legacy putchar, and checks:
 *  20 Base: spec version 2.0, implementation id "UMBR";
 *  21 probe: HSM present, an unknown extension absent;
 *  22 unknown extension: SBI_ERR_NOT_SUPPORTED;
 *  23 HSM: hart 1 STOPPED; 24 hart_start(1) succeeds; 25 hart 1 runs with
 *     a0 = 1, a1 = the opaque value (it reports both); 26 hart 1 stops
 *     itself and is seen STOPPED; 27 a second start of hart 1 works too;
 *     28 starting a started hart is SBI_ERR_ALREADY_AVAILABLE;
 *  29 IPI to itself sets sip.SSIP;
 *  30 remote SFENCE.VMA and FENCE.I on every hart succeed; 31 a hart mask
 *     naming a missing hart is SBI_ERR_INVALID_PARAM;
 *  32 TIME: set_timer(now + 1 ms) raises sip.STIP (waited for with WFI),
 *     set_timer(-1) lowers it;
 *  33 DBCN console_write of a string returns its length.
 * Then boot 1 asks SRST for a cold reboot (which must not return) and
 * boot 2 prints "sbi-check boot 2 ok" and asks SRST for a shutdown. A failed
 * check prints "sbi-check FAIL n" and shuts down with reason "system
 * failure", which umbra turns into exit status 1.
 */
#include "boot_count.h"
#define HART1_SEEN 0x80100008       /* hart 1 writes 0x100 + a0, then a1 */
#define HART1_ARG 0x80100010

#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_HSM 0x48534d
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434e

    .section .text
    .globl _start
_start:
    bnez a0, hang                   /* only hart 0 starts here */
    li sp, 0x80180000
    COUNT_AND_ANNOUNCE_BOOT

    li s1, 20                       /* Base */
    li a7, EXT_BASE
    li a6, 0
    ecall
    bnez a0, fail
    li t0, 0x02000000
    bne a1, t0, fail
    li a7, EXT_BASE
    li a6, 1
    ecall
    li t0, 0x554d4252
    bne a1, t0, fail

    li s1, 21                       /* probe */
    li a7, EXT_BASE
    li a6, 3
    li a0, EXT_HSM
    ecall
    li t0, 1
    bne a1, t0, fail
    li a7, EXT_BASE
    li a6, 3
    li a0, 0x12345
    ecall
    bnez a1, fail

    li s1, 22                       /* unknown extension */
    li a7, 0x12345
    li a6, 0
    ecall
    li t0, -2
    bne a0, t0, fail

    li s1, 23                       /* hart 1 is stopped */
    li a0, 1
    call hart_status
    li t0, 1
    bne a0, t0, fail

    li s1, 24                       /* start it */
    li t0, HART1_SEEN
    sd zero, 0(t0)
    li a0, 0x5a
    call start_hart1
    bnez a0, fail
    li s1, 25                       /* it runs, with a0 = 1 and a1 = 0x5a */
    li a0, 0x5a
    call wait_hart1
    li s1, 26                       /* it stopped itself */
1:  li a0, 1
    call hart_status
    li t0, 1
    bne a0, t0, 1b

    li s1, 27                       /* and starts again */
    li t0, HART1_SEEN
    sd zero, 0(t0)
    li a0, 0x77
    call start_hart1
    bnez a0, fail
    li a0, 0x77
    call wait_hart1
    li s1, 28                       /* hart 0 is running: not startable */
    li a7, EXT_HSM
    li a6, 0
    li a0, 0
    la a1, hang
    li a2, 0
    ecall
    li t0, -6
    bne a0, t0, fail

    li s1, 29                       /* IPI to itself (sie.SSIE on, sstatus.SIE off) */
    csrs sie, 2
    li a7, EXT_IPI
    li a6, 0
    li a0, 1
    li a1, 0
    ecall
    bnez a0, fail
    csrr t0, sip
    andi t0, t0, 2
    beqz t0, fail
    csrc sip, 2

    li s1, 30                       /* remote fences on everyone */
    li a7, EXT_RFENCE
    li a6, 1
    li a0, 0
    li a1, -1
    li a2, 0
    li a3, -1
    ecall
    bnez a0, fail
    li a7, EXT_RFENCE
    li a6, 0
    li a0, 3
    li a1, 0
    ecall
    bnez a0, fail
    li s1, 31                       /* hart 2 does not exist */
    li a7, EXT_RFENCE
    li a6, 1
    li a0, 4
    li a1, 0
    li a2, 0
    li a3, -1
    ecall
    li t0, -3
    bne a0, t0, fail

    li s1, 32                       /* the S timer, 1 ms from now */
    li t0, 0x20
    csrs sie, t0
    rdtime a0
    li t0, 10000
    add a0, a0, t0
    li a7, EXT_TIME
    li a6, 0
    ecall
    bnez a0, fail
2:  wfi
    csrr t0, sip
    andi t0, t0, 0x20
    beqz t0, 2b
    li a0, -1
    li a7, EXT_TIME
    li a6, 0
    ecall
    csrr t0, sip
    andi t0, t0, 0x20
    bnez t0, fail

    li s1, 33                       /* DBCN write */
    la a1, dbcn_text
    la t1, dbcn_end
    sub s2, t1, a1
    mv a0, s2
    li a2, 0
    li a7, EXT_DBCN
    li a6, 0
    ecall
    bnez a0, fail
    bne a1, s2, fail

    li t0, 1
    bne s0, t0, second_boot
    la a0, ok1
    call puts
    li a7, EXT_SRST                 /* cold reboot */
    li a6, 0
    li a0, 1
    li a1, 0
    ecall
    li s1, 34                       /* it returned */
    j fail

second_boot:
    la a0, ok2
    call puts
    li a7, EXT_SRST                 /* shutdown */
    li a6, 0
    li a0, 0
    li a1, 0
    ecall
    j hang

fail:
    la a0, failed
    call puts
    li t0, 10
    divu a0, s1, t0
    addi a0, a0, '0'
    call putc
    li t0, 10
    remu a0, s1, t0
    addi a0, a0, '0'
    call putc
    li a0, '\n'
    call putc
    li a7, EXT_SRST                 /* shutdown, reason: system failure */
    li a6, 0
    li a0, 0
    li a1, 1
    ecall
hang:
    wfi
    j hang

/* a0 = HSM status of hart a0 */
hart_status:
    li a7, EXT_HSM
    li a6, 2
    ecall
    mv a0, a1
    ret

/* hart_start(1, hart1_entry, a0); a0 = the error */
start_hart1:
    mv a2, a0
    li a0, 1
    la a1, hart1_entry
    li a7, EXT_HSM
    li a6, 0
    ecall
    ret

/* Wait until hart 1 reports a0 = 1 and a1 = the value in a0 here. */
wait_hart1:
    li t0, HART1_SEEN
3:  ld t1, 0(t0)
    beqz t1, 3b
    li t2, 0x101
    bne t1, t2, fail
    fence r, r
    ld t1, 8(t0)
    bne t1, a0, fail
    ret

/* Hart 1: report a0 and a1, then stop (HSM hart_stop does not return). */
hart1_entry:
    li t0, HART1_ARG
    sd a1, 0(t0)
    addi a0, a0, 0x100
    fence w, w
    li t0, HART1_SEEN
    sd a0, 0(t0)
    li a7, EXT_HSM
    li a6, 1
    ecall
    j hang

/* Legacy console putchar (extension 0x01). */
putc:
    li a7, 1
    ecall
    ret

puts:
    addi sp, sp, -16
    sd ra, 8(sp)
    sd s2, 0(sp)
    mv s2, a0
4:  lbu a0, 0(s2)
    beqz a0, 5f
    call putc
    addi s2, s2, 1
    j 4b
5:  ld s2, 0(sp)
    ld ra, 8(sp)
    addi sp, sp, 16
    ret

    .section .rodata
banner: .asciz "sbi-check boot "
ok1: .asciz "sbi-check boot 1 ok\n"
ok2: .asciz "sbi-check boot 2 ok\n"
failed: .asciz "sbi-check FAIL "
dbcn_text: .ascii "sbi-check dbcn write\n"
dbcn_end:
