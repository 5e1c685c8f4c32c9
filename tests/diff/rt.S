/* rt.S: the fixed frame around every generated differential-test program.
 *
 * Runs in M-mode on hart 0 of a `virt` board started with `-bios none`
 * (umbra or QEMU). _start installs a trap handler, turns the FPU on
 * (mstatus.FS = Initial) and jumps to the generated `test_body`, which sets
 * every register, runs the random instructions and jumps to `test_end`.
 *
 * A trap is recorded (mcause, mepc, mtval) and the program resumes after
 * the trapping instruction, so generated items may trap on purpose
 * (reserved encodings, misaligned AMOs, ecall ...). The handler keeps every
 * register; it parks x31 in sscratch, which no generated program touches,
 * so that a trap changes nothing the program can see (programs do read and
 * write mscratch, and the spec-decided traps of rvgen's emit_spec_trap
 * happen on one machine only). After MAX_TRAPS traps the program
 * ends as if it had reached test_end, with a "traps overflow" line.
 *
 * test_end saves x1..x31, f0..f31 and fcsr, then prints them and the
 * generated `scratch` buffer on the NS16550A UART, one value per line:
 *
 *     trap <mcause> <mepc> <mtval>     one per trap, in order
 *     traps overflow                   if the handler gave up
 *     x01 <16 hex digits>  ... x31
 *     f00 <16 hex digits>  ... f31
 *     fcsr <16 hex digits>
 *     m0000 <16 hex digits> ...         scratch, one doubleword per line
 *     end
 *
 * and powers the board off through the sifive,test device. Nothing here
 * reads time, cycle or instret, whose values legitimately differ.
 * Other harts, if any, park in WFI.
 */
#define UART_BASE     0x10000000
#define UART_LSR      5
#define UART_LSR_THRE 0x20
#define TEST_BASE     0x100000
#define TEST_PASS     0x5555
#define TEST_FAIL_1   0x13333          /* FAIL with exit code 1 */

/* save_area slots, in doublewords */
#define SLOT_X        0                /* x0..x31 */
#define SLOT_F        32               /* f0..f31 */
#define SLOT_FCSR     64
#define SLOT_OVERFLOW  65               /* 1: too many traps ended the program */
#define SLOTS         66

#define MAX_TRAPS     256
/* trap_state: saved t0, t1, the trap count, then MAX_TRAPS 32-byte records */
#define TS_T0         0
#define TS_T1         8
#define TS_COUNT      16
#define TS_LOG        32
#define TS_CAUSE      0
#define TS_EPC        8
#define TS_TVAL       16

    .option norvc
    .section .text.init, "ax"
    .globl _start
_start:
    csrr    t0, mhartid
    bnez    t0, park
    lla     t0, trap_entry
    csrw    mtvec, t0
    csrwi   mie, 0
    li      t0, (1 << 13)              /* mstatus.FS = Initial (priv. spec 3.1.6.6) */
    csrs    mstatus, t0
    j       test_body
park:
    wfi
    j       park

/* Save x1..x31 into save_area, leaving x31 pointing at it. x31 itself goes
 * through sscratch, scratch state that needs no register (see above). */
.macro SAVE_X
    csrw    sscratch, x31
    lla     x31, save_area
    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
    sd      x\r, (SLOT_X + \r) * 8(x31)
    .endr
    csrr    x30, sscratch
    sd      x30, (SLOT_X + 31) * 8(x31)
    lla     x30, panic_entry           /* a trap from here on is the frame's own bug */
    csrw    mtvec, x30
.endm

    .text
    .balign 4
trap_entry:
    csrw    sscratch, x31
    lla     x31, trap_state
    sd      t0, TS_T0(x31)
    sd      t1, TS_T1(x31)
    ld      t0, TS_COUNT(x31)
    li      t1, MAX_TRAPS
    bgeu    t0, t1, too_many_traps
    addi    t1, t0, 1
    sd      t1, TS_COUNT(x31)
    slli    t1, t0, 5
    add     t1, t1, x31
    csrr    t0, mcause
    sd      t0, TS_LOG + TS_CAUSE(t1)
    csrr    t0, mepc
    sd      t0, TS_LOG + TS_EPC(t1)
    csrr    t0, mtval
    sd      t0, TS_LOG + TS_TVAL(t1)
    /* resume after the trapping instruction, 4 bytes long if its low two
     * bits are 11, else 2 (unpriv. spec 1.5) */
    csrr    t0, mepc
    lhu     t1, 0(t0)
    andi    t1, t1, 3
    xori    t1, t1, 3
    addi    t0, t0, 2
    bnez    t1, 1f
    addi    t0, t0, 2
1:  csrw    mepc, t0
    ld      t0, TS_T0(x31)
    ld      t1, TS_T1(x31)
    csrr    x31, sscratch
    mret

too_many_traps:
    ld      t0, TS_T0(x31)
    ld      t1, TS_T1(x31)
    csrr    x31, sscratch
    SAVE_X
    li      t1, 1
    sd      t1, SLOT_OVERFLOW * 8(x31)
    j       dump

    .globl test_end
test_end:
    SAVE_X
    sd      x0, SLOT_OVERFLOW * 8(x31)

dump:
    li      t1, (3 << 13)              /* FS on again: a program may end with FS = Off */
    csrs    mstatus, t1
    .irp r, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd     f\r, (SLOT_F + \r) * 8(x31)
    .endr
    frcsr   t1
    sd      t1, SLOT_FCSR * 8(x31)
    mv      s1, x31                    /* s1: save_area for the rest */

    /* the trap records */
    lla     s4, trap_state
    ld      s5, TS_COUNT(s4)
    addi    s4, s4, TS_LOG
    j       11f
10: lla     a1, str_trap
    jal     puts
    ld      a1, TS_CAUSE(s4)
    jal     puthex
    li      a0, ' '
    jal     t6, putc
    ld      a1, TS_EPC(s4)
    jal     puthex
    li      a0, ' '
    jal     t6, putc
    ld      a1, TS_TVAL(s4)
    jal     puthex
    li      a0, '\n'
    jal     t6, putc
    addi    s4, s4, 32
    addi    s5, s5, -1
11: bnez    s5, 10b
    ld      t1, SLOT_OVERFLOW * 8(s1)
    beqz    t1, 1f
    lla     a1, str_overflow
    jal     puts
1:
    /* x01..x31 */
    li      s2, 1
    li      s3, 32
    addi    s4, s1, (SLOT_X + 1) * 8
2:  li      a0, 'x'
    mv      a1, s2
    jal     putname
    ld      a1, 0(s4)
    jal     putvalue
    addi    s2, s2, 1
    addi    s4, s4, 8
    bltu    s2, s3, 2b

    /* f00..f31 */
    li      s2, 0
    addi    s4, s1, SLOT_F * 8
3:  li      a0, 'f'
    mv      a1, s2
    jal     putname
    ld      a1, 0(s4)
    jal     putvalue
    addi    s2, s2, 1
    addi    s4, s4, 8
    bltu    s2, s3, 3b

    lla     a1, str_fcsr
    jal     puts
    ld      a1, SLOT_FCSR * 8(s1)
    jal     putvalue

    /* scratch, one doubleword per line, labelled with its byte offset */
    lla     s4, scratch
    lla     s5, scratch_end
    li      s2, 0
4:  li      a0, 'm'
    jal     t6, putc
    mv      a1, s2
    li      a2, 4
    jal     puthexn
    ld      a1, 0(s4)
    jal     putvalue
    addi    s2, s2, 8
    addi    s4, s4, 8
    bltu    s4, s5, 4b

    lla     a1, str_end
    jal     puts
    li      t0, TEST_BASE
    li      t1, TEST_PASS
    sw      t1, 0(t0)
5:  j       5b

/* A trap inside the frame: say so and fail, so a broken frame never looks
 * like a register dump. */
    .balign 4
panic_entry:
    lla     a1, str_panic
    jal     puts
    li      t0, TEST_BASE
    li      t1, TEST_FAIL_1
    sw      t1, 0(t0)
6:  j       6b

/* putc: a0 = byte. Link in t6; clobbers t0, t1. Waits for THRE (LSR bit 5). */
putc:
    li      t0, UART_BASE
7:  lbu     t1, UART_LSR(t0)
    andi    t1, t1, UART_LSR_THRE
    beqz    t1, 7b
    sb      a0, 0(t0)
    jr      t6

/* puts: a1 = NUL-terminated string. Link in ra; clobbers a0, a1, t0, t1, t6. */
puts:
    lbu     a0, 0(a1)
    beqz    a0, 8f
    jal     t6, putc
    addi    a1, a1, 1
    j       puts
8:  ret

/* puthexn: a1 = value, a2 = digit count (from the low end). puthex: 16 digits.
 * Link in ra; clobbers a0, a2, a3, t0, t1, t6. */
puthex:
    li      a2, 16
puthexn:
    addi    a2, a2, -1
    slli    a3, a2, 2
    srl     a0, a1, a3
    andi    a0, a0, 15
    addi    a0, a0, '0'
    li      t0, '9'
    bleu    a0, t0, 9f
    addi    a0, a0, 'a' - '9' - 1
9:  jal     t6, putc
    bnez    a2, puthexn
    ret

/* putname: a0 = letter, a1 = index 0..99: prints e.g. "x07". Link in ra;
 * the return address is kept in a5 across the putc calls. */
putname:
    mv      a5, ra
    mv      a4, a1
    jal     t6, putc
    li      t0, 10
    divu    a0, a4, t0
    addi    a0, a0, '0'
    jal     t6, putc
    li      t0, 10
    remu    a0, a4, t0
    addi    a0, a0, '0'
    jal     t6, putc
    jr      a5

/* putvalue: a1 = value: prints " <16 hex digits>\n". Link in ra. */
putvalue:
    mv      a5, ra
    li      a0, ' '
    jal     t6, putc
    jal     puthex
    li      a0, '\n'
    jal     t6, putc
    jr      a5

    .section .rodata
str_trap:   .asciz "trap "
str_fcsr:   .asciz "fcsr"
str_end:    .asciz "end\n"
str_overflow: .asciz "traps overflow\n"
str_panic:  .asciz "panic: trap inside the dump frame\n"

    .data
    .balign 8
save_area:  .zero SLOTS * 8
trap_state: .zero TS_LOG + 32 * MAX_TRAPS
