/* machine_check: a bare-metal program that checks the boot state the board
 * hands to every hart, then the reset path.
 *
 * Every hart: a0 = mhartid. Hart 0 then checks a1 (a device tree: 2 MiB
 * aligned, magic 0xd00dfeed) and a2 (OpenSBI's fw_dynamic_info: magic
 * "OSBI", version 2, next_addr = this program's entry with -bios none,
 * next_mode = S), prints "machine-check boot N" on the UART, N counting
 * boots in a RAM word that a reset must keep, and
 *  - on boot 1 asks the sifive,test device for a reset (0x7777);
 *  - on boot 2 reports "fail" with code 2, so the exit status 2 proves
 *    exactly one reset, after which the images were placed again.
 * A failed check exits through sifive,test with the check's number (10+).
 */
#define TEST_DEV 0x100000
#define UART_THR 0x10000000
#include "boot_count.h"

    .section .text
    .globl _start
_start:
    csrr t0, mhartid
    li a7, 10
    bne a0, t0, fail
    bnez a0, park

    li a7, 11                   /* the device tree: magic, read as a LE word */
    lwu t1, 0(a1)
    li t2, 0xedfe0dd0
    bne t1, t2, fail
    li a7, 12
    li t2, 0x1fffff
    and t1, a1, t2
    bnez t1, fail

    li a7, 13                   /* fw_dynamic_info */
    ld t1, 0(a2)
    li t2, 0x4942534f
    bne t1, t2, fail
    li a7, 14
    ld t1, 8(a2)
    li t2, 2
    bne t1, t2, fail
    li a7, 15
    ld t1, 16(a2)
    la t2, _start
    bne t1, t2, fail
    li a7, 16
    ld t1, 24(a2)
    li t2, 1
    bne t1, t2, fail

    COUNT_AND_ANNOUNCE_BOOT

    li t0, TEST_DEV
    li t1, 1
    bne s0, t1, 1f
    li t1, 0x7777               /* boot 1: reset */
    sw t1, 0(t0)
    j park
1:  slli t1, s0, 16             /* boot 2 and later: fail with code = boots */
    li t2, 0x3333
    or t1, t1, t2
    sw t1, 0(t0)
park:
    wfi
    j park

fail:                           /* exit status a7 */
    slli t1, a7, 16
    li t2, 0x3333
    or t1, t1, t2
    li t0, TEST_DEV
    sw t1, 0(t0)
    j park

putc:
    li t0, UART_THR
    sb a0, 0(t0)
    ret

puts:
    mv t3, a0
    mv t4, ra
2:  lbu a0, 0(t3)
    beqz a0, 3f
    call putc
    addi t3, t3, 1
    j 2b
3:  mv ra, t4
    ret

    .section .rodata
banner:
    .string "machine-check boot "
