/* decode: RV64GC instruction bits → struct insn (see decode.h).
 *
 * The 32-bit decoder follows the base opcode map (unprivileged spec ch. 34,
 * "RV32/64G Instruction Set Listings"): one function per major opcode, each
 * checking every fixed field so that unknown funct3/funct7 combinations are
 * illegal. The compressed decoder (ch. 16 "C" Standard Extension, RVC opcode
 * map) expands each 16-bit form to the operands of its 32-bit equivalent;
 * reserved encodings and RV32/RV128-only forms are illegal. HINT encodings
 * decode to their base instruction, which executes as a no-op (x0 destination
 * or zero shift), as the spec allows.
 */
#include "cpu/decode.h"

#include <stdbool.h>

/* ------------------------------------------------------------ bit fields */

/* Bits hi..lo of v, right-aligned. */
static inline uint32_t bits(uint32_t v, unsigned hi, unsigned lo)
{
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

/* Sign-extend the low `width` bits of v. */
static inline int64_t sext(uint64_t v, unsigned width)
{
    unsigned shift = 64 - width;
    return (int64_t)(v << shift) >> shift;
}

/* Immediate formats of the 32-bit encodings (spec 2.3, figure 2.4). */
static int64_t imm_i(uint32_t r) { return sext(bits(r, 31, 20), 12); }

static int64_t imm_s(uint32_t r)
{
    return sext(bits(r, 31, 25) << 5 | bits(r, 11, 7), 12);
}

static int64_t imm_b(uint32_t r)
{
    uint32_t v = bits(r, 31, 31) << 12 | bits(r, 7, 7) << 11 |
                 bits(r, 30, 25) << 5 | bits(r, 11, 8) << 1;
    return sext(v, 13);
}

static int64_t imm_u(uint32_t r) { return sext(r & 0xfffff000u, 32); }

static int64_t imm_j(uint32_t r)
{
    uint32_t v = bits(r, 31, 31) << 20 | bits(r, 19, 12) << 12 |
                 bits(r, 20, 20) << 11 | bits(r, 30, 21) << 1;
    return sext(v, 21);
}

/* --------------------------------------------------------- 32-bit forms */

/* Major opcodes, inst[6:0] (spec table 34.1 "RISC-V base opcode map"). */
enum {
    OPC_LOAD = 0x03, OPC_LOAD_FP = 0x07, OPC_MISC_MEM = 0x0f, OPC_OP_IMM = 0x13,
    OPC_AUIPC = 0x17, OPC_OP_IMM_32 = 0x1b, OPC_STORE = 0x23, OPC_STORE_FP = 0x27,
    OPC_AMO = 0x2f, OPC_OP = 0x33, OPC_LUI = 0x37, OPC_OP_32 = 0x3b,
    OPC_MADD = 0x43, OPC_MSUB = 0x47, OPC_NMSUB = 0x4b, OPC_NMADD = 0x4f,
    OPC_OP_FP = 0x53, OPC_BRANCH = 0x63, OPC_JALR = 0x67, OPC_JAL = 0x6f,
    OPC_SYSTEM = 0x73,
};

/* A table entry of OP_ILLEGAL (0) means "no such instruction". */
static const uint16_t load_ops[8] = {
    OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, OP_ILLEGAL,
};
static const uint16_t store_ops[8] = { OP_SB, OP_SH, OP_SW, OP_SD };
static const uint16_t branch_ops[8] = {
    OP_BEQ, OP_BNE, OP_ILLEGAL, OP_ILLEGAL, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU,
};
static const uint16_t op_imm_ops[8] = {
    OP_ADDI, OP_SLLI, OP_SLTI, OP_SLTIU, OP_XORI, OP_SRLI, OP_ORI, OP_ANDI,
};
static const uint16_t op_base_ops[8] = {
    OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND,
};
static const uint16_t op_muldiv_ops[8] = {
    OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU,
};
static const uint16_t op32_muldiv_ops[8] = {
    OP_MULW, OP_ILLEGAL, OP_ILLEGAL, OP_ILLEGAL, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW,
};
static const uint16_t csr_ops[8] = {
    OP_ILLEGAL, OP_CSRRW, OP_CSRRS, OP_CSRRC, OP_ILLEGAL, OP_CSRRWI, OP_CSRRSI, OP_CSRRCI,
};

/* AMO funct5, inst[31:27] (spec ch. 8, table 8.x); index = funct5, value for
 * the .W form; the .D form is the same op + (OP_LR_D - OP_LR_W). */
static uint16_t amo_w_op(unsigned funct5)
{
    switch (funct5) {
    case 0x02: return OP_LR_W;
    case 0x03: return OP_SC_W;
    case 0x01: return OP_AMOSWAP_W;
    case 0x00: return OP_AMOADD_W;
    case 0x04: return OP_AMOXOR_W;
    case 0x0c: return OP_AMOAND_W;
    case 0x08: return OP_AMOOR_W;
    case 0x10: return OP_AMOMIN_W;
    case 0x14: return OP_AMOMAX_W;
    case 0x18: return OP_AMOMINU_W;
    case 0x1c: return OP_AMOMAXU_W;
    default: return OP_ILLEGAL;
    }
}

static uint16_t decode_load(uint32_t r) { return load_ops[bits(r, 14, 12)]; }
static uint16_t decode_store(uint32_t r) { return store_ops[bits(r, 14, 12)]; }
static uint16_t decode_branch(uint32_t r) { return branch_ops[bits(r, 14, 12)]; }

static uint16_t decode_load_fp(uint32_t r)
{
    switch (bits(r, 14, 12)) {
    case 2: return OP_FLW;
    case 3: return OP_FLD;
    default: return OP_ILLEGAL;
    }
}

static uint16_t decode_store_fp(uint32_t r)
{
    switch (bits(r, 14, 12)) {
    case 2: return OP_FSW;
    case 3: return OP_FSD;
    default: return OP_ILLEGAL;
    }
}

/* FENCE ignores rs1, rd and unknown fm values (spec 2.7: base
 * implementations treat them as a plain FENCE, which FENCE.TSO and PAUSE
 * are); FENCE.I ignores imm, rs1 and rd (Zifencei). */
static uint16_t decode_misc_mem(uint32_t r)
{
    switch (bits(r, 14, 12)) {
    case 0: return OP_FENCE;
    case 1: return OP_FENCE_I;
    default: return OP_ILLEGAL;
    }
}

/* RV64 shifts by immediate: shamt is inst[25:20], funct6 inst[31:26]
 * (spec 4.2.1); 0 = logical, 0x10 = arithmetic right. */
static uint16_t decode_op_imm(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12), funct6 = bits(r, 31, 26);
    if (f3 == 1)
        return funct6 == 0 ? OP_SLLI : OP_ILLEGAL;
    if (f3 == 5)
        return funct6 == 0 ? OP_SRLI : funct6 == 0x10 ? OP_SRAI : OP_ILLEGAL;
    return op_imm_ops[f3];
}

/* *IW shifts: shamt is 5 bits; inst[25] set is reserved (spec 4.2.1). */
static uint16_t decode_op_imm_32(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12), funct7 = bits(r, 31, 25);
    switch (f3) {
    case 0: return OP_ADDIW;
    case 1: return funct7 == 0 ? OP_SLLIW : OP_ILLEGAL;
    case 5: return funct7 == 0 ? OP_SRLIW : funct7 == 0x20 ? OP_SRAIW : OP_ILLEGAL;
    default: return OP_ILLEGAL;
    }
}

static uint16_t decode_op(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12), funct7 = bits(r, 31, 25);
    switch (funct7) {
    case 0x00: return op_base_ops[f3];
    case 0x01: return op_muldiv_ops[f3];
    case 0x20: return f3 == 0 ? OP_SUB : f3 == 5 ? OP_SRA : OP_ILLEGAL;
    default: return OP_ILLEGAL;
    }
}

static uint16_t decode_op_32(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12), funct7 = bits(r, 31, 25);
    switch (funct7) {
    case 0x00: return f3 == 0 ? OP_ADDW : f3 == 1 ? OP_SLLW : f3 == 5 ? OP_SRLW : OP_ILLEGAL;
    case 0x01: return op32_muldiv_ops[f3];
    case 0x20: return f3 == 0 ? OP_SUBW : f3 == 5 ? OP_SRAW : OP_ILLEGAL;
    default: return OP_ILLEGAL;
    }
}

/* LR has no rs2: a non-zero rs2 field is reserved (spec 8.2). */
static uint16_t decode_amo(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12);
    uint16_t op = amo_w_op(bits(r, 31, 27));
    if (op == OP_ILLEGAL || (f3 != 2 && f3 != 3))
        return OP_ILLEGAL;
    if (op == OP_LR_W && bits(r, 24, 20) != 0)
        return OP_ILLEGAL;
    return f3 == 3 ? (uint16_t)(op + (OP_LR_D - OP_LR_W)) : op;
}

/* Fused multiply-add: fmt inst[26:25] is 0 = S, 1 = D; H and Q are not
 * implemented. The four opcodes are consecutive in both enum and map. */
static uint16_t decode_fma(uint32_t r)
{
    static const uint16_t s_ops[4] = { OP_FMADD_S, OP_FMSUB_S, OP_FNMSUB_S, OP_FNMADD_S };
    static const uint16_t d_ops[4] = { OP_FMADD_D, OP_FMSUB_D, OP_FNMSUB_D, OP_FNMADD_D };
    unsigned which = bits(r, 3, 2);     /* 0x43, 0x47, 0x4b, 0x4f */
    switch (bits(r, 26, 25)) {
    case 0: return s_ops[which];
    case 1: return d_ops[which];
    default: return OP_ILLEGAL;
    }
}

/* OP-FP (spec ch. 11, 12 listings). funct7 = funct5 << 2 | fmt. For the
 * operations whose funct3 is a rounding mode it is not checked here: the
 * rounding mode is validated when the instruction executes (spec 11.2). */
static uint16_t decode_op_fp(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12), rs2 = bits(r, 24, 20);
    unsigned funct5 = bits(r, 31, 27), fmt = bits(r, 26, 25);
    bool d = fmt == 1;
    if (fmt > 1)
        return OP_ILLEGAL;
    switch (funct5) {
    case 0x00: return d ? OP_FADD_D : OP_FADD_S;
    case 0x01: return d ? OP_FSUB_D : OP_FSUB_S;
    case 0x02: return d ? OP_FMUL_D : OP_FMUL_S;
    case 0x03: return d ? OP_FDIV_D : OP_FDIV_S;
    case 0x0b:
        if (rs2 != 0) return OP_ILLEGAL;
        return d ? OP_FSQRT_D : OP_FSQRT_S;
    case 0x04:
        if (f3 > 2) return OP_ILLEGAL;
        return (uint16_t)((d ? OP_FSGNJ_D : OP_FSGNJ_S) + f3);
    case 0x05:
        if (f3 > 1) return OP_ILLEGAL;
        return (uint16_t)((d ? OP_FMIN_D : OP_FMIN_S) + f3);
    case 0x08:  /* FCVT.S.D (fmt S, rs2 = 1) and FCVT.D.S (fmt D, rs2 = 0) */
        if (d) return rs2 == 0 ? OP_FCVT_D_S : OP_ILLEGAL;
        return rs2 == 1 ? OP_FCVT_S_D : OP_ILLEGAL;
    case 0x14: {
        static const uint16_t s_ops[3] = { OP_FLE_S, OP_FLT_S, OP_FEQ_S };
        static const uint16_t d_ops[3] = { OP_FLE_D, OP_FLT_D, OP_FEQ_D };
        if (f3 > 2) return OP_ILLEGAL;
        return d ? d_ops[f3] : s_ops[f3];
    }
    case 0x18:  /* FCVT.{W,WU,L,LU}.fmt by rs2 */
        if (rs2 > 3) return OP_ILLEGAL;
        return (uint16_t)((d ? OP_FCVT_W_D : OP_FCVT_W_S) + rs2);
    case 0x1a:  /* FCVT.fmt.{W,WU,L,LU} by rs2 */
        if (rs2 > 3) return OP_ILLEGAL;
        return (uint16_t)((d ? OP_FCVT_D_W : OP_FCVT_S_W) + rs2);
    case 0x1c:  /* FMV.X.fmt (funct3 0) and FCLASS (funct3 1) */
        if (rs2 != 0) return OP_ILLEGAL;
        if (f3 == 0) return d ? OP_FMV_X_D : OP_FMV_X_W;
        if (f3 == 1) return d ? OP_FCLASS_D : OP_FCLASS_S;
        return OP_ILLEGAL;
    case 0x1e:  /* FMV.fmt.X */
        if (rs2 != 0 || f3 != 0) return OP_ILLEGAL;
        return d ? OP_FMV_D_X : OP_FMV_W_X;
    default:
        return OP_ILLEGAL;
    }
}

/* SYSTEM with funct3 = 0: the environment and privileged instructions are
 * matched on their whole fixed encodings (privileged spec table 2.x
 * "RISC-V Privileged Instructions"); SFENCE.VMA has register operands. */
static uint16_t decode_system_priv(uint32_t r)
{
    switch (r) {
    case 0x00000073: return OP_ECALL;
    case 0x00100073: return OP_EBREAK;
    case 0x10200073: return OP_SRET;
    case 0x30200073: return OP_MRET;
    case 0x10500073: return OP_WFI;
    default: break;
    }
    if (bits(r, 31, 25) == 0x09 && bits(r, 11, 7) == 0)
        return OP_SFENCE_VMA;
    return OP_ILLEGAL;
}

static uint16_t decode_system(uint32_t r)
{
    unsigned f3 = bits(r, 14, 12);
    return f3 == 0 ? decode_system_priv(r) : csr_ops[f3];
}

/* Fill the operand fields the way the op's format defines them. */
static void set_operands_32(uint32_t r, struct insn *in)
{
    unsigned opcode = bits(r, 6, 0);
    in->rd = (uint8_t)bits(r, 11, 7);
    in->rs1 = (uint8_t)bits(r, 19, 15);
    in->rs2 = (uint8_t)bits(r, 24, 20);
    in->rs3 = (uint8_t)bits(r, 31, 27);
    in->rm = (uint8_t)bits(r, 14, 12);
    switch (opcode) {
    case OPC_LUI: case OPC_AUIPC:
        in->imm = imm_u(r);
        break;
    case OPC_JAL:
        in->imm = imm_j(r);
        break;
    case OPC_BRANCH:
        in->imm = imm_b(r);
        break;
    case OPC_STORE: case OPC_STORE_FP:
        in->imm = imm_s(r);
        break;
    case OPC_OP_IMM: case OPC_OP_IMM_32:
        /* shifts carry shamt (6 bits, or 5 for the W forms whose inst[25]
         * was checked to be zero) */
        in->imm = (bits(r, 13, 12) == 1) ? bits(r, 25, 20) : imm_i(r);
        break;
    case OPC_SYSTEM:
        in->imm = bits(r, 31, 20);      /* CSR number */
        break;
    case OPC_MISC_MEM:
        in->imm = bits(r, 27, 20);      /* pred << 4 | succ */
        in->rm = (uint8_t)bits(r, 31, 28);  /* fm */
        break;
    case OPC_AMO:
        in->imm = 0;
        in->rm = (uint8_t)bits(r, 26, 25);  /* aq << 1 | rl */
        break;
    default:    /* I-type loads, JALR; R-type ops (imm unused) */
        in->imm = imm_i(r);
        break;
    }
}

static void decode32(uint32_t r, struct insn *in)
{
    uint16_t op;
    switch (bits(r, 6, 0)) {
    case OPC_LOAD: op = decode_load(r); break;
    case OPC_LOAD_FP: op = decode_load_fp(r); break;
    case OPC_MISC_MEM: op = decode_misc_mem(r); break;
    case OPC_OP_IMM: op = decode_op_imm(r); break;
    case OPC_AUIPC: op = OP_AUIPC; break;
    case OPC_OP_IMM_32: op = decode_op_imm_32(r); break;
    case OPC_STORE: op = decode_store(r); break;
    case OPC_STORE_FP: op = decode_store_fp(r); break;
    case OPC_AMO: op = decode_amo(r); break;
    case OPC_OP: op = decode_op(r); break;
    case OPC_LUI: op = OP_LUI; break;
    case OPC_OP_32: op = decode_op_32(r); break;
    case OPC_MADD: case OPC_MSUB: case OPC_NMSUB: case OPC_NMADD: op = decode_fma(r); break;
    case OPC_OP_FP: op = decode_op_fp(r); break;
    case OPC_BRANCH: op = decode_branch(r); break;
    case OPC_JALR: op = bits(r, 14, 12) == 0 ? OP_JALR : OP_ILLEGAL; break;
    case OPC_JAL: op = OP_JAL; break;
    case OPC_SYSTEM: op = decode_system(r); break;
    default: op = OP_ILLEGAL; break;
    }
    in->op = op;
    if (op != OP_ILLEGAL)
        set_operands_32(r, in);
}

/* ------------------------------------------------------ compressed forms */

/* The 3-bit register fields rd', rs1', rs2' name x8..x15 (spec 16.2). */
static uint8_t creg(uint32_t r, unsigned lo) { return (uint8_t)(8 + bits(r, lo + 2, lo)); }

/* Scattered immediates of the RVC formats (spec 16.3-16.5, RVC tables).
 * Each comment lists the immediate bits held by inst[hi..lo]. */

/* C.ADDI, C.LI, C.ANDI, C.ADDIW: inst[12] = imm[5], inst[6:2] = imm[4:0] */
static int64_t cimm6(uint32_t r) { return sext(bits(r, 12, 12) << 5 | bits(r, 6, 2), 6); }

/* C.SLLI/SRLI/SRAI: shamt[5] = inst[12], shamt[4:0] = inst[6:2] */
static unsigned cshamt(uint32_t r) { return bits(r, 12, 12) << 5 | bits(r, 6, 2); }

/* C.ADDI4SPN: inst[12:11] = nzuimm[5:4], [10:7] = [9:6], [6] = [2], [5] = [3] */
static int64_t cimm_addi4spn(uint32_t r)
{
    return bits(r, 12, 11) << 4 | bits(r, 10, 7) << 6 | bits(r, 6, 6) << 2 | bits(r, 5, 5) << 3;
}

/* C.LW/C.SW: inst[12:10] = uimm[5:3], [6] = [2], [5] = [6] */
static int64_t cimm_lw(uint32_t r)
{
    return bits(r, 12, 10) << 3 | bits(r, 6, 6) << 2 | bits(r, 5, 5) << 6;
}

/* C.LD/C.SD/C.FLD/C.FSD: inst[12:10] = uimm[5:3], [6:5] = [7:6] */
static int64_t cimm_ld(uint32_t r) { return bits(r, 12, 10) << 3 | bits(r, 6, 5) << 6; }

/* C.ADDI16SP: inst[12] = nzimm[9], [6] = [4], [5] = [6], [4:3] = [8:7], [2] = [5] */
static int64_t cimm_addi16sp(uint32_t r)
{
    uint32_t v = bits(r, 12, 12) << 9 | bits(r, 6, 6) << 4 | bits(r, 5, 5) << 6 |
                 bits(r, 4, 3) << 7 | bits(r, 2, 2) << 5;
    return sext(v, 10);
}

/* C.LUI: inst[12] = nzimm[17], [6:2] = [16:12] */
static int64_t cimm_lui(uint32_t r)
{
    return sext(bits(r, 12, 12) << 17 | bits(r, 6, 2) << 12, 18);
}

/* C.J: inst[12:2] = offset[11|4|9:8|10|6|7|3:1|5] */
static int64_t cimm_j(uint32_t r)
{
    uint32_t v = bits(r, 12, 12) << 11 | bits(r, 11, 11) << 4 | bits(r, 10, 9) << 8 |
                 bits(r, 8, 8) << 10 | bits(r, 7, 7) << 6 | bits(r, 6, 6) << 7 |
                 bits(r, 5, 3) << 1 | bits(r, 2, 2) << 5;
    return sext(v, 12);
}

/* C.BEQZ/C.BNEZ: inst[12:10] = offset[8|4:3], [6:2] = [7:6|2:1|5] */
static int64_t cimm_b(uint32_t r)
{
    uint32_t v = bits(r, 12, 12) << 8 | bits(r, 11, 10) << 3 | bits(r, 6, 5) << 6 |
                 bits(r, 4, 3) << 1 | bits(r, 2, 2) << 5;
    return sext(v, 9);
}

/* C.LWSP: inst[12] = uimm[5], [6:4] = [4:2], [3:2] = [7:6] */
static int64_t cimm_lwsp(uint32_t r)
{
    return bits(r, 12, 12) << 5 | bits(r, 6, 4) << 2 | bits(r, 3, 2) << 6;
}

/* C.LDSP/C.FLDSP: inst[12] = uimm[5], [6:5] = [4:3], [4:2] = [8:6] */
static int64_t cimm_ldsp(uint32_t r)
{
    return bits(r, 12, 12) << 5 | bits(r, 6, 5) << 3 | bits(r, 4, 2) << 6;
}

/* C.SWSP: inst[12:9] = uimm[5:2], [8:7] = [7:6] */
static int64_t cimm_swsp(uint32_t r) { return bits(r, 12, 9) << 2 | bits(r, 8, 7) << 6; }

/* C.SDSP/C.FSDSP: inst[12:10] = uimm[5:3], [9:7] = [8:6] */
static int64_t cimm_sdsp(uint32_t r) { return bits(r, 12, 10) << 3 | bits(r, 9, 7) << 6; }

static void set_c(struct insn *in, uint16_t op, unsigned rd, unsigned rs1, unsigned rs2,
                  int64_t imm)
{
    in->op = op;
    in->rd = (uint8_t)rd;
    in->rs1 = (uint8_t)rs1;
    in->rs2 = (uint8_t)rs2;
    in->imm = imm;
}

/* Quadrant 0: stack-pointer-based ADDI and register-based loads/stores.
 * funct3 100 is reserved (Zcb is not implemented). */
static void decode_c0(uint32_t r, struct insn *in)
{
    uint8_t rdp = creg(r, 2), rs1p = creg(r, 7);
    switch (bits(r, 15, 13)) {
    case 0: {   /* C.ADDI4SPN; nzuimm = 0 is reserved (this includes 0x0000) */
        int64_t imm = cimm_addi4spn(r);
        if (imm != 0)
            set_c(in, OP_ADDI, rdp, 2, 0, imm);
        break;
    }
    case 1: set_c(in, OP_FLD, rdp, rs1p, 0, cimm_ld(r)); break;
    case 2: set_c(in, OP_LW, rdp, rs1p, 0, cimm_lw(r)); break;
    case 3: set_c(in, OP_LD, rdp, rs1p, 0, cimm_ld(r)); break;
    case 5: set_c(in, OP_FSD, 0, rs1p, rdp, cimm_ld(r)); break;
    case 6: set_c(in, OP_SW, 0, rs1p, rdp, cimm_lw(r)); break;
    case 7: set_c(in, OP_SD, 0, rs1p, rdp, cimm_ld(r)); break;
    default: break;
    }
}

/* Quadrant 1, funct3 100: C.SRLI, C.SRAI, C.ANDI and the register-register
 * ALU group. The two forms with inst[12] = 1, inst[6:5] = 1x are reserved. */
static void decode_c1_alu(uint32_t r, struct insn *in)
{
    static const uint16_t rr_ops[2][4] = {
        { OP_SUB, OP_XOR, OP_OR, OP_AND },
        { OP_SUBW, OP_ADDW, OP_ILLEGAL, OP_ILLEGAL },
    };
    uint8_t rd = creg(r, 7);
    switch (bits(r, 11, 10)) {
    case 0: set_c(in, OP_SRLI, rd, rd, 0, cshamt(r)); break;
    case 1: set_c(in, OP_SRAI, rd, rd, 0, cshamt(r)); break;
    case 2: set_c(in, OP_ANDI, rd, rd, 0, cimm6(r)); break;
    default: {
        uint16_t op = rr_ops[bits(r, 12, 12)][bits(r, 6, 5)];
        if (op != OP_ILLEGAL)
            set_c(in, op, rd, rd, creg(r, 2), 0);
        break;
    }
    }
}

/* Quadrant 1: immediates, control transfer, ALU. */
static void decode_c1(uint32_t r, struct insn *in)
{
    unsigned rd = bits(r, 11, 7);
    switch (bits(r, 15, 13)) {
    case 0: set_c(in, OP_ADDI, rd, rd, 0, cimm6(r)); break;    /* C.ADDI, C.NOP */
    case 1:     /* C.ADDIW; rd = 0 is reserved */
        if (rd != 0)
            set_c(in, OP_ADDIW, rd, rd, 0, cimm6(r));
        break;
    case 2: set_c(in, OP_ADDI, rd, 0, 0, cimm6(r)); break;     /* C.LI */
    case 3:     /* C.ADDI16SP (rd = 2) or C.LUI; a zero immediate is reserved */
        if (rd == 2) {
            if (cimm_addi16sp(r) != 0)
                set_c(in, OP_ADDI, 2, 2, 0, cimm_addi16sp(r));
        } else if (cimm_lui(r) != 0) {
            set_c(in, OP_LUI, rd, 0, 0, cimm_lui(r));
        }
        break;
    case 4: decode_c1_alu(r, in); break;
    case 5: set_c(in, OP_JAL, 0, 0, 0, cimm_j(r)); break;      /* C.J */
    case 6: set_c(in, OP_BEQ, 0, creg(r, 7), 0, cimm_b(r)); break;
    default: set_c(in, OP_BNE, 0, creg(r, 7), 0, cimm_b(r)); break;
    }
}

/* Quadrant 2, funct3 100: C.JR, C.MV, C.EBREAK, C.JALR, C.ADD. */
static void decode_c2_jr_mv(uint32_t r, struct insn *in)
{
    unsigned rs1 = bits(r, 11, 7), rs2 = bits(r, 6, 2);
    if (bits(r, 12, 12) == 0) {
        if (rs2 != 0)
            set_c(in, OP_ADD, rs1, 0, rs2, 0);          /* C.MV */
        else if (rs1 != 0)
            set_c(in, OP_JALR, 0, rs1, 0, 0);           /* C.JR; rs1 = 0 reserved */
    } else {
        if (rs2 != 0)
            set_c(in, OP_ADD, rs1, rs1, rs2, 0);        /* C.ADD */
        else if (rs1 != 0)
            set_c(in, OP_JALR, 1, rs1, 0, 0);           /* C.JALR */
        else
            set_c(in, OP_EBREAK, 0, 0, 0, 0);           /* C.EBREAK */
    }
}

/* Quadrant 2: stack-pointer-based loads/stores, C.SLLI, jumps and moves. */
static void decode_c2(uint32_t r, struct insn *in)
{
    unsigned rd = bits(r, 11, 7), rs2 = bits(r, 6, 2);
    switch (bits(r, 15, 13)) {
    case 0: set_c(in, OP_SLLI, rd, rd, 0, cshamt(r)); break;
    case 1: set_c(in, OP_FLD, rd, 2, 0, cimm_ldsp(r)); break;  /* C.FLDSP */
    case 2:     /* C.LWSP; rd = 0 reserved */
        if (rd != 0)
            set_c(in, OP_LW, rd, 2, 0, cimm_lwsp(r));
        break;
    case 3:     /* C.LDSP; rd = 0 reserved */
        if (rd != 0)
            set_c(in, OP_LD, rd, 2, 0, cimm_ldsp(r));
        break;
    case 4: decode_c2_jr_mv(r, in); break;
    case 5: set_c(in, OP_FSD, 0, 2, rs2, cimm_sdsp(r)); break; /* C.FSDSP */
    case 6: set_c(in, OP_SW, 0, 2, rs2, cimm_swsp(r)); break;  /* C.SWSP */
    default: set_c(in, OP_SD, 0, 2, rs2, cimm_sdsp(r)); break; /* C.SDSP */
    }
}

static void decode16(uint32_t r, struct insn *in)
{
    switch (r & 3) {
    case 0: decode_c0(r, in); break;
    case 1: decode_c1(r, in); break;
    default: decode_c2(r, in); break;
    }
}

/* ---------------------------------------------------------------- public */

void decode(uint32_t raw, struct insn *out)
{
    bool compressed = (raw & 3) != 3;
    *out = (struct insn){ .op = OP_ILLEGAL };
    if (compressed) {
        out->raw = raw & 0xffff;
        out->len = 2;
        decode16(out->raw, out);
    } else {
        out->raw = raw;
        out->len = 4;
        decode32(raw, out);
    }
    if (out->op == OP_ILLEGAL) {
        /* An illegal instruction carries no operands: only raw and len. */
        uint32_t keep_raw = out->raw;
        uint8_t keep_len = out->len;
        *out = (struct insn){ .op = OP_ILLEGAL, .raw = keep_raw, .len = keep_len };
    }
}

static const char *const insn_names[OP_COUNT] = {
#define INSN_NAME(name) [OP_##name] = #name,
    INSN_LIST(INSN_NAME)
#undef INSN_NAME
};

/* Mnemonics are generated once from the enum names: lower case, '_' → '.'.
 * The table is small and built on first use; a race on first use between
 * threads writes the same bytes, so it is guarded by a once-flag. */
#include <ctype.h>
#include <pthread.h>

static char mnemonic_store[OP_COUNT][16];
static pthread_once_t mnemonic_once = PTHREAD_ONCE_INIT;

static void build_mnemonics(void)
{
    for (unsigned op = 0; op < OP_COUNT; op++) {
        const char *src = insn_names[op];
        unsigned i = 0;
        for (; src[i] && i + 1 < sizeof mnemonic_store[op]; i++)
            mnemonic_store[op][i] = src[i] == '_' ? '.' : (char)tolower((unsigned char)src[i]);
        mnemonic_store[op][i] = '\0';
    }
}

const char *insn_name(enum insn_op op)
{
    if ((unsigned)op >= OP_COUNT)
        return "?";
    pthread_once(&mnemonic_once, build_mnemonics);
    return mnemonic_store[op];
}
