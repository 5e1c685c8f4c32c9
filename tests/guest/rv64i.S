/* rv64i.S: every RV64I base instruction (unprivileged spec chapters 2 and 5),
 * each at its edge values: sign and zero extension, overflow wrap-around,
 * shift amounts taken from the low 6 (or, for *W, 5) bits, signed versus
 * unsigned compares, x0 as destination, rd equal to a source, and a FENCE.I
 * that makes a store into the instruction stream visible.
 * ECALL and EBREAK are exercised by traps.c. Assembled without compressed
 * instructions, so each mnemonic is its 32-bit base encoding.
 */
#include "asm_checks.h"

    .option norvc
    .text
    .globl main
main:
    addi sp, sp, -16
    sd ra, 8(sp)

    /* ---- LUI: imm << 12, sign-extended from bit 31 (2.4, 5.2) ---- */
    lui s3, 0x80000
    CHECK_REG(1, s3, 0xffffffff80000000)
    lui s3, 0x7ffff
    CHECK_REG(2, s3, 0x7ffff000)
    lui s3, 0xfffff
    CHECK_REG(3, s3, 0xfffffffffffff000)
    lui x0, 0x12345
    CHECK_REG(4, x0, 0)

    /* ---- AUIPC: pc + sign-extended (imm << 12) ---- */
1:  auipc s3, 0
    la s4, 1b
    CHECK_SAME(5, s3, s4)
1:  auipc s3, 0x1
    la s4, 1b
    addi s4, s4, 0x7ff
    addi s4, s4, 0x7ff
    addi s4, s4, 2
    CHECK_SAME(6, s3, s4)
1:  auipc s3, 0xfffff           /* pc - 4096 */
    la s4, 1b
    sub s3, s4, s3
    CHECK_REG(7, s3, 4096)

    /* ---- JAL: link = pc + 4, forward and backward targets ---- */
    jal s3, 2f
1:  j rt_asm_bad_path
2:  la s4, 1b
    CHECK_SAME(8, s3, s4)
    j 4f
3:  jal x0, 5f                  /* backward target reached, now jump on */
4:  jal s3, 3b
5:  la s2, 4b                  /* link of the jal at 4: */
    addi s2, s2, 4
    CHECK_SAME(9, s3, s2)

    /* ---- JALR: target = (rs1 + imm) & ~1, link = pc + 4 ---- */
    la s1, 2f
    jalr s3, 1(s1)              /* lowest bit of the sum is cleared */
1:  j rt_asm_bad_path
2:  la s4, 1b
    CHECK_SAME(10, s3, s4)
    la s1, 2f
    addi s1, s1, 8
    jalr s3, -8(s1)             /* negative offset */
1:  j rt_asm_bad_path
2:  la s4, 1b
    CHECK_SAME(11, s3, s4)
    la s1, 2f
    jalr s1, 0(s1)              /* rd == rs1: the target uses the old rs1 */
1:  j rt_asm_bad_path
2:  la s4, 1b
    CHECK_SAME(12, s1, s4)

    /* ---- Branches: taken / not taken, signed versus unsigned ---- */
    TEST_BRANCH(13, beq, 5, 5, 1)
    TEST_BRANCH(14, beq, 5, 6, 0)
    TEST_BRANCH(15, beq, -1, 0xffffffffffffffff, 1)
    TEST_BRANCH(16, bne, 5, 6, 1)
    TEST_BRANCH(17, bne, 0, 0, 0)
    TEST_BRANCH(18, bne, 0x100000000, 0, 1)
    TEST_BRANCH(19, blt, -1, 0, 1)
    TEST_BRANCH(20, blt, 0, -1, 0)
    TEST_BRANCH(21, blt, 3, 3, 0)
    TEST_BRANCH(22, blt, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_BRANCH(23, bge, 3, 3, 1)
    TEST_BRANCH(24, bge, -1, 0, 0)
    TEST_BRANCH(25, bge, 0x7fffffffffffffff, 0x8000000000000000, 1)
    TEST_BRANCH(26, bltu, 0, -1, 1)
    TEST_BRANCH(27, bltu, -1, 0, 0)
    TEST_BRANCH(28, bltu, 7, 7, 0)
    TEST_BRANCH(29, bgeu, -1, 0, 1)
    TEST_BRANCH(30, bgeu, 0, -1, 0)
    TEST_BRANCH(31, bgeu, 7, 7, 1)

    /* ---- Loads: sign / zero extension, positive and negative offsets ----
     * ldata holds the bytes 81 02 83 04 85 86 07 f8 (little-endian). */
    la s1, ldata
    lb s3, 0(s1)
    CHECK_REG(32, s3, 0xffffffffffffff81)
    lb s3, 1(s1)
    CHECK_REG(33, s3, 0x02)
    lbu s3, 0(s1)
    CHECK_REG(34, s3, 0x81)
    lh s3, 0(s1)
    CHECK_REG(35, s3, 0x0281)
    lh s3, 4(s1)
    CHECK_REG(36, s3, 0xffffffffffff8685)
    lhu s3, 4(s1)
    CHECK_REG(37, s3, 0x8685)
    lw s3, 0(s1)
    CHECK_REG(38, s3, 0x04830281)
    lw s3, 4(s1)
    CHECK_REG(39, s3, 0xfffffffff8078685)
    lwu s3, 4(s1)
    CHECK_REG(40, s3, 0xf8078685)
    ld s3, 0(s1)
    CHECK_REG(41, s3, 0xf807868504830281)
    addi s2, s1, 8
    lb s3, -8(s2)
    CHECK_REG(42, s3, 0xffffffffffffff81)
    lhu s3, -2(s2)
    CHECK_REG(43, s3, 0xf807)
    ld s3, -8(s2)
    CHECK_REG(44, s3, 0xf807868504830281)
    lw x0, 0(s1)
    CHECK_REG(45, x0, 0)
    mv s3, s1
    ld s3, 0(s3)                /* rd == rs1 */
    CHECK_REG(46, s3, 0xf807868504830281)

    /* ---- Stores: only the addressed bytes change ---- */
    la s1, sdata
    li s2, 0x1122334455667788
    sd s2, 0(s1)
    li s2, 0xa5a5a5a5a5a5a5ab
    sb s2, 1(s1)
    ld s3, 0(s1)
    CHECK_REG(47, s3, 0x112233445566ab88)
    sh s2, 2(s1)
    ld s3, 0(s1)
    CHECK_REG(48, s3, 0x11223344a5abab88)
    sw s2, 4(s1)
    ld s3, 0(s1)
    CHECK_REG(49, s3, 0xa5a5a5aba5abab88)
    addi s4, s1, 16
    sd s2, -8(s4)
    ld s3, 8(s1)
    CHECK_REG(50, s3, 0xa5a5a5a5a5a5a5ab)
    sd x0, 8(s1)                /* x0 as the stored value is zero */
    ld s3, 8(s1)
    CHECK_REG(51, s3, 0)

    /* ---- Register-immediate arithmetic ---- */
    TEST_RI(52, addi, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RI(53, addi, 0xfffffffffffff800, 0, -2048)
    TEST_RI(54, addi, 0x7ff, 0, 2047)
    TEST_RI(55, addi, 0, -1, 1)
    TEST_RI(56, slti, 1, -1, 0)
    TEST_RI(57, slti, 0, 0, -1)
    TEST_RI(58, slti, 0, 5, 5)
    TEST_RI(59, slti, 1, 0x8000000000000000, -2048)
    TEST_RI(60, sltiu, 1, 0, 1)
    TEST_RI(61, sltiu, 0, 1, 1)
    TEST_RI(62, sltiu, 1, 0xfffffffffffffffe, -1)  /* imm sign-extends, then compares unsigned */
    TEST_RI(63, sltiu, 0, -1, -1)
    TEST_RI(64, xori, 0xfffffffffffff0f0, 0x0f0f, -1)
    TEST_RI(65, xori, 0x0f0e, 0x0f0f, 1)
    TEST_RI(66, ori, 0xfffffffffffff800, 0, -2048)
    TEST_RI(67, ori, 0x7ff, 0x700, 0xff)
    TEST_RI(68, andi, 0x7f0, 0xffffffffffff0ff0, 0x7ff)
    TEST_RI(69, andi, 0xffffffffffff0800, 0xffffffffffff0f00, -2048)
    TEST_RI(70, slli, 0x8000000000000000, 1, 63)
    TEST_RI(71, slli, 0xfffffffffffffffe, -1, 1)
    TEST_RI(72, slli, 0x100000000, 1, 32)
    TEST_RI(73, srli, 1, 0x8000000000000000, 63)
    TEST_RI(74, srli, 0x00ffffffffffffff, -1, 8)
    TEST_RI(75, srli, 0xffffffff, 0xffffffff00000000, 32)
    TEST_RI(76, srai, 0xffffffffffffffff, 0x8000000000000000, 63)
    TEST_RI(77, srai, 0xff80000000000000, 0x8000000000000000, 8)
    TEST_RI(78, srai, 0x3fffffffffffffff, 0x7fffffffffffffff, 1)
    TEST_RI(79, srai, 0x1234, 0x1234, 0)

    /* ---- Register-register arithmetic ---- */
    TEST_RR(80, add, 0x8000000000000000, 0x7fffffffffffffff, 1)
    TEST_RR(81, add, 0, -1, 1)
    TEST_RR(82, add, 0xfffffffffffffffe, 0x8000000000000000, 0x7ffffffffffffffe)
    TEST_RR(83, sub, 0xffffffffffffffff, 0, 1)
    TEST_RR(84, sub, 0x7fffffffffffffff, 0x8000000000000000, 1)
    TEST_RR(85, sub, 0, 0x123456789, 0x123456789)
    TEST_RR(86, sll, 0x8000000000000000, 1, 63)
    TEST_RR(87, sll, 2, 1, 65)                    /* shamt = rs2[5:0] */
    TEST_RR(88, sll, 0x123, 0x123, 64)
    TEST_RR(89, slt, 1, 0x8000000000000000, 0)
    TEST_RR(90, slt, 0, 0, 0x8000000000000000)
    TEST_RR(91, slt, 0, 7, 7)
    TEST_RR(92, slt, 1, -2, -1)
    TEST_RR(93, sltu, 0, 0x8000000000000000, 0)
    TEST_RR(94, sltu, 1, 0, 0x8000000000000000)
    TEST_RR(95, sltu, 1, 0, 1)                    /* snez */
    TEST_RR(96, sltu, 0, -1, -1)
    TEST_RR(97, xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(98, srl, 1, 0x8000000000000000, 63)
    TEST_RR(99, srl, 0x4000000000000000, 0x8000000000000000, 0xffffffffffffffc1)  /* shamt 1 */
    TEST_RR(100, srl, 0xffffffff, 0xffffffff00000000, 32)
    TEST_RR(101, sra, 0xc000000000000000, 0x8000000000000000, 1)
    TEST_RR(102, sra, 0xffffffffffffffff, 0x8000000000000000, 127)  /* shamt 63 */
    TEST_RR(103, sra, 0x0000000000000001, 0x4000000000000000, 62)
    TEST_RR(104, or, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    TEST_RR(105, and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f)
    li s1, 21
    add s1, s1, s1              /* rd == rs1 == rs2 */
    CHECK_REG(106, s1, 42)
    li s1, 9
    add x0, s1, s1              /* writes to x0 are discarded */
    CHECK_REG(107, x0, 0)

    /* ---- 32-bit (W) operations: result is the low 32 bits sign-extended,
     * operands' upper halves are ignored (5.2) ---- */
    TEST_RI(108, addiw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RI(109, addiw, 1, 0xffffffff00000001, 0)      /* sext.w */
    TEST_RI(110, addiw, 0x7fffffff, 0x80000000, -1)
    TEST_RI(111, addiw, 0xfffffffffffff800, 0x1234500000000, -2048)
    TEST_RI(112, slliw, 0xffffffff80000000, 1, 31)
    TEST_RI(113, slliw, 0x23456780, 0xab12345678, 4)
    TEST_RI(114, slliw, 0, 0x100000000, 1)
    TEST_RI(115, srliw, 1, 0xffffffff80000000, 31)
    TEST_RI(116, srliw, 0x7fffffff, 0xffffffffffffffff, 1)
    TEST_RI(117, srliw, 0xffffffff80000000, 0x80000000, 0)
    TEST_RI(118, sraiw, 0xffffffffffffffff, 0x80000000, 31)
    TEST_RI(119, sraiw, 0xffffffffc0000000, 0x80000000, 1)
    TEST_RI(120, sraiw, 0x3fffffff, 0xffffffff7fffffff, 1)
    TEST_RR(121, addw, 0xffffffff80000000, 0x7fffffff, 1)
    TEST_RR(122, addw, 0, 0xffffffff, 1)
    TEST_RR(123, addw, 3, 0x1200000001, 0x3400000002)
    TEST_RR(124, subw, 0x7fffffff, 0x80000000, 1)
    TEST_RR(125, subw, 0xffffffffffffffff, 0, 1)
    TEST_RR(126, subw, 0, 0x100000005, 5)
    TEST_RR(127, sllw, 0xffffffff80000000, 1, 31)
    TEST_RR(128, sllw, 2, 1, 33)                       /* shamt = rs2[4:0] */
    TEST_RR(129, sllw, 0, 0x80000000, 1)
    TEST_RR(130, srlw, 1, 0x80000000, 31)
    TEST_RR(131, srlw, 0x40000000, 0xffffffff80000000, 33)
    TEST_RR(132, srlw, 0xffffffff80000000, 0x1280000000, 0)
    TEST_RR(133, sraw, 0xffffffffc0000000, 0x80000000, 1)
    TEST_RR(134, sraw, 0xffffffffffffffff, 0x80000000, 63)  /* shamt 31 */
    TEST_RR(135, sraw, 0x3fffffff, 0xffffffff7fffffff, 1)

    /* ---- FENCE, and FENCE.I making a store to code visible (2.7,
     * Zifencei chapter 3): patch "li a0, 1" into "li a0, 2". ---- */
    fence
    fence rw, rw
    fence.i
    la s1, patch_site
    li s2, 0x00200513           /* addi a0, zero, 2 */
    sw s2, 0(s1)
    fence.i
    jal ra, patch_site
    CHECK_REG(136, a0, 2)

    ld ra, 8(sp)
    addi sp, sp, 16
    call pass

rt_asm_bad_path:
    li a0, RT_EXIT_BAD_PATH     /* a jump landed on a path it must skip */
    call fail

    /* The patched routine: "li a0, 1; ret", rewritten at run time. Lives
     * in .data so that the code pages themselves are never written. */
    .data
    .align 2
patch_site:
    addi a0, zero, 1
    ret

    .align 3
ldata:
    .byte 0x81, 0x02, 0x83, 0x04, 0x85, 0x86, 0x07, 0xf8
sdata:
    .dword 0, 0
