/* rv_asm.h: instruction words assembled from the unprivileged spec's base
 * formats (R, I, S, B, J; spec 2.2-2.3), for unit tests that put real
 * code into guest RAM (test_exec, test_jit). test_decode keeps its own
 * encoder on purpose: it checks the decoder against a second reading of
 * the format diagrams. */
#ifndef UMBRA_TEST_RV_ASM_H
#define UMBRA_TEST_RV_ASM_H
#include <stdint.h>

static inline uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static inline uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static inline uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned opc)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | opc;
}

/* B-type: imm[12|10:5] in inst[31:25], imm[4:1|11] in inst[11:7] */
static inline uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}

/* J-type: imm[20|10:1|11|19:12] in inst[31:12] */
static inline uint32_t enc_j(int32_t imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}

#define OP 0x33
#define OP_32 0x3b
#define OP_IMM 0x13
#define OP_IMM_32 0x1b
#define LOAD 0x03
#define STORE 0x23
#define AMO 0x2f
#define SYSTEM 0x73

static inline uint32_t addi(unsigned rd, unsigned rs1, int32_t imm) { return enc_i(imm, rs1, 0, rd, OP_IMM); }
static inline uint32_t csr_i(unsigned f3, unsigned rd, unsigned csr, unsigned rs1)
{
    return enc_i((int32_t)csr, rs1, f3, rd, SYSTEM);
}
static inline uint32_t amo_insn(unsigned funct5, unsigned f3, unsigned rd, unsigned rs1, unsigned rs2)
{
    return enc_r(funct5 << 2, rs2, rs1, f3, rd, AMO);
}

static inline uint32_t enc_u(uint32_t imm, unsigned rd, unsigned opc) { return (imm & 0xfffff000u) | rd << 7 | opc; }
#endif
