/* boot_count.h: what machine_check.S and sbi_check.S both do first on each
 * boot — count it in a RAM word that survives a reset, and print
 * "<banner><count>\n" with the program's own puts and putc. The count is
 * left in s0; RAM at BOOT_COUNTER starts zeroed, so the first boot is 1. */
#ifndef BOOT_COUNT_H
#define BOOT_COUNT_H
#define BOOT_COUNTER 0x80100000

.macro COUNT_AND_ANNOUNCE_BOOT
    li t0, BOOT_COUNTER
    ld s0, 0(t0)
    addi s0, s0, 1
    sd s0, 0(t0)
    la a0, banner
    call puts
    addi a0, s0, '0'
    call putc
    li a0, '\n'
    call putc
.endm
#endif
