/* c.S: every RV64C instruction (unprivileged spec chapter 16, "C" standard
 * extension), written with explicit c.* mnemonics so that the assembler
 * must emit the 16-bit encoding. Each is checked against the result its
 * 32-bit expansion defines: scaled and zero-extended offsets, sign-extended
 * immediates, C.ADDIW's 32-bit wrap, C.SRAI versus C.SRLI, C.JALR and C.JAL
 * style links being pc + 2, branch and jump targets.
 * C.EBREAK and illegal compressed encodings are exercised by traps.c.
 * Registers: CIW/CL/CS/CA/CB formats reach only x8..x15 (s0, s1, a0..a5).
 */
#include "asm_checks.h"

    .option rvc
    .text
    .globl main
main:
    addi sp, sp, -64
    sd ra, 56(sp)

    /* ---- Quadrant 0 ---- */
    c.addi4spn a3, sp, 16               /* a3 = sp + 16 */
    addi a4, sp, 16
    CHECK_SAME(1, a3, a4)
    c.addi4spn a3, sp, 1020             /* largest: 1020 = 4 * 255 */
    addi a4, sp, 1020
    CHECK_SAME(2, a3, a4)
    la s0, cdata
    c.lw a3, 4(s0)                      /* sign-extends */
    CHECK_REG(3, a3, 0xffffffff89abcdef)
    c.lw a3, 0(s0)
    CHECK_REG(4, a3, 0x01234567)
    c.ld a4, 8(s0)
    CHECK_REG(5, a4, 0xfedcba9876543210)
    c.ld a4, 248(s0)                    /* largest: 8 * 31 */
    CHECK_REG(6, a4, 0x0badc0de0badc0de)
    li a5, 0x1122334455667788
    c.sd a5, 16(s0)
    ld a3, 16(s0)
    CHECK_REG(7, a3, 0x1122334455667788)
    li a5, 0xffffffffaabbccdd
    c.sw a5, 20(s0)                     /* writes only the upper word */
    ld a3, 16(s0)
    CHECK_REG(8, a3, 0xaabbccdd55667788)
    c.fld fa0, 24(s0)
    fmv.x.d a3, fa0
    CHECK_REG(9, a3, 0x400921fb54442d18)     /* pi */
    li a3, 0x3ff0000000000000
    fmv.d.x fa1, a3
    c.fsd fa1, 32(s0)
    ld a4, 32(s0)
    CHECK_REG(10, a4, 0x3ff0000000000000)

    /* ---- Quadrant 1 ---- */
    li a3, 100
    c.nop
    CHECK_REG(11, a3, 100)
    c.addi a3, -32
    CHECK_REG(12, a3, 68)
    c.addi a3, 31
    CHECK_REG(13, a3, 99)
    li a3, 0x7fffffff
    c.addiw a3, 1                       /* 32-bit wrap, sign-extended */
    CHECK_REG(14, a3, 0xffffffff80000000)
    li a3, 0x1234567880000000
    c.addiw a3, 0                       /* sext.w */
    CHECK_REG(15, a3, 0xffffffff80000000)
    c.li a3, -32
    CHECK_REG(16, a3, 0xffffffffffffffe0)
    c.li a3, 31
    CHECK_REG(17, a3, 31)
    mv s2, sp
    c.addi16sp sp, -512                 /* smallest: -512 */
    sub a3, s2, sp
    CHECK_REG(18, a3, 512)
    c.addi16sp sp, 496                  /* largest: 496 */
    c.addi16sp sp, 16
    CHECK_SAME(19, sp, s2)
    c.lui a3, 1
    CHECK_REG(20, a3, 0x1000)
    c.lui a3, 0x1f
    CHECK_REG(21, a3, 0x1f000)
    c.lui a3, 0xfffe0                   /* nzimm[17] set: sign-extends */
    CHECK_REG(22, a3, 0xfffffffffffe0000)
    li s0, 0x8000000000000000
    c.srli s0, 63
    CHECK_REG(23, s0, 1)
    li s0, 0x8000000000000000
    c.srli s0, 1
    CHECK_REG(24, s0, 0x4000000000000000)
    li s0, 0x8000000000000000
    c.srai s0, 1
    CHECK_REG(25, s0, 0xc000000000000000)
    li s0, 0x8000000000000000
    c.srai s0, 63
    CHECK_REG(26, s0, 0xffffffffffffffff)
    li s0, 0x123456789
    c.andi s0, -32                      /* imm sign-extends: clears 5 bits */
    CHECK_REG(27, s0, 0x123456780)
    li s0, 0x123456789
    c.andi s0, 15
    CHECK_REG(28, s0, 9)
    li s0, 5
    li s1, 7
    c.sub s0, s1
    CHECK_REG(29, s0, 0xfffffffffffffffe)
    li s0, 0xff00ff00ff00ff00
    li s1, 0x0ff00ff00ff00ff0
    c.xor s0, s1
    CHECK_REG(30, s0, 0xf0f0f0f0f0f0f0f0)
    li s0, 0xff00ff00ff00ff00
    c.or s0, s1
    CHECK_REG(31, s0, 0xfff0fff0fff0fff0)
    li s0, 0xff00ff00ff00ff00
    c.and s0, s1
    CHECK_REG(32, s0, 0x0f000f000f000f00)
    li s0, 0x80000000
    li s1, 1
    c.subw s0, s1
    CHECK_REG(33, s0, 0x7fffffff)
    li s0, 0
    c.subw s0, s1
    CHECK_REG(34, s0, 0xffffffffffffffff)
    li s0, 0x7fffffff
    c.addw s0, s1
    CHECK_REG(35, s0, 0xffffffff80000000)
    li s0, 0x1200000005
    li s1, 0x3400000006
    c.addw s0, s1
    CHECK_REG(36, s0, 11)

    /* C.J forward and backward. */
    li a3, 0
    c.j 2f
1:  li a3, 1
    c.j 3f
2:  c.j 1b
    j rt_c_bad_path
3:  CHECK_REG(37, a3, 1)
    /* C.BEQZ / C.BNEZ, taken and not taken. */
    li s0, 0
    li a3, 0
    c.beqz s0, 1f
    li a3, 9
1:  CHECK_REG(38, a3, 0)
    li s0, 0x100000000                  /* non-zero only above bit 31 */
    c.beqz s0, rt_c_bad_path_near
    c.bnez s0, 1f
    j rt_c_bad_path
1:  li s0, 0
    c.bnez s0, rt_c_bad_path_near
    li s0, -1
    li a3, 0
    c.bnez s0, 2f
1:  li a3, 9
2:  CHECK_REG(39, a3, 0)

    /* ---- Quadrant 2 ---- */
    li a3, 1
    c.slli a3, 63
    CHECK_REG(40, a3, 0x8000000000000000)
    li a3, 0x0000000180000001
    c.slli a3, 4
    CHECK_REG(41, a3, 0x0000001800000010)
    li a3, 0x00000000aabbccdd
    sd a3, 0(sp)
    li a3, 0x8877665544332211
    sd a3, 8(sp)
    c.lwsp a4, 0(sp)                    /* sign-extends */
    CHECK_REG(42, a4, 0xffffffffaabbccdd)
    c.lwsp a4, 12(sp)
    CHECK_REG(43, a4, 0xffffffff88776655)
    c.ldsp a4, 8(sp)
    CHECK_REG(44, a4, 0x8877665544332211)
    li a5, 0x0102030405060708
    c.sdsp a5, 16(sp)
    ld a4, 16(sp)
    CHECK_REG(45, a4, 0x0102030405060708)
    li a5, 0xcafef00d
    c.swsp a5, 16(sp)
    ld a4, 16(sp)
    CHECK_REG(46, a4, 0x01020304cafef00d)
    li a5, 0xbff8000000000000           /* -1.5 */
    sd a5, 24(sp)
    c.fldsp fs1, 24(sp)
    fmv.x.d a4, fs1
    CHECK_REG(47, a4, 0xbff8000000000000)
    c.fsdsp fs1, 32(sp)
    ld a4, 32(sp)
    CHECK_REG(48, a4, 0xbff8000000000000)
    li a3, 0x1234
    c.mv a4, a3
    CHECK_REG(49, a4, 0x1234)
    li a3, 0x7fffffffffffffff
    li a4, 1
    c.add a3, a4
    CHECK_REG(50, a3, 0x8000000000000000)
    /* C.JR: jump, no link. */
    la t0, 1f
    li a3, 0
    c.jr t0
    li a3, 9
1:  CHECK_REG(51, a3, 0)
    /* C.JALR: link = address of the C.JALR + 2. */
    la t0, rt_c_return_link
    c.jalr t0
2:  addi a4, ra, 0
    la a5, 2b
    CHECK_SAME(52, a4, a5)
    CHECK_SAME(53, a0, a5)               /* the callee saw the same link */

    ld ra, 56(sp)
    addi sp, sp, 64
    call pass

rt_c_return_link:                       /* a0 = its own return address */
    c.mv a0, ra
    c.jr ra

rt_c_bad_path_near:
rt_c_bad_path:
    li a0, RT_EXIT_BAD_PATH
    call fail

    .data
    .align 3
cdata:
    .word 0x01234567, 0x89abcdef
    .dword 0xfedcba9876543210
    .dword 0
    .dword 0x400921fb54442d18
    .dword 0
    .fill 26, 8, 0
    .dword 0x0badc0de0badc0de           /* at offset 248 */
