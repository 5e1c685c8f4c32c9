/* decode: one RISC-V instruction (32-bit or compressed) → struct insn.
 *
 * Owns the encoding knowledge of RV64GC (unprivileged spec chapters 2, 7, 8,
 * 11, 13, 16 "C", 24 opcode map; privileged spec for SRET/MRET/WFI/
 * SFENCE.VMA). A compressed instruction is expanded to the same struct insn
 * as its 32-bit equivalent, so execute has one case per operation.
 * decode is a pure function of the instruction bits: the result can be cached
 * per guest-physical code page. Called on the hart's own thread.
 */
#ifndef UMBRA_CPU_DECODE_H
#define UMBRA_CPU_DECODE_H
#include <stdbool.h>
#include <stdint.h>

/* Every operation umbra executes. X(name) — the name is the mnemonic with
 * '.' written as '_'. */
#define INSN_LIST(X) \
    X(ILLEGAL) \
    /* RV64I */ \
    X(LUI) X(AUIPC) X(JAL) X(JALR) \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) \
    X(SB) X(SH) X(SW) X(SD) \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) \
    X(FENCE) X(FENCE_I) X(ECALL) X(EBREAK) \
    /* Zicsr */ \
    X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI) \
    /* M */ \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
    /* A */ \
    X(LR_W) X(SC_W) X(AMOSWAP_W) X(AMOADD_W) X(AMOXOR_W) X(AMOAND_W) X(AMOOR_W) \
    X(AMOMIN_W) X(AMOMAX_W) X(AMOMINU_W) X(AMOMAXU_W) \
    X(LR_D) X(SC_D) X(AMOSWAP_D) X(AMOADD_D) X(AMOXOR_D) X(AMOAND_D) X(AMOOR_D) \
    X(AMOMIN_D) X(AMOMAX_D) X(AMOMINU_D) X(AMOMAXU_D) \
    /* F */ \
    X(FLW) X(FSW) X(FMADD_S) X(FMSUB_S) X(FNMSUB_S) X(FNMADD_S) \
    X(FADD_S) X(FSUB_S) X(FMUL_S) X(FDIV_S) X(FSQRT_S) \
    X(FSGNJ_S) X(FSGNJN_S) X(FSGNJX_S) X(FMIN_S) X(FMAX_S) \
    X(FCVT_W_S) X(FCVT_WU_S) X(FCVT_L_S) X(FCVT_LU_S) \
    X(FCVT_S_W) X(FCVT_S_WU) X(FCVT_S_L) X(FCVT_S_LU) \
    X(FMV_X_W) X(FMV_W_X) X(FEQ_S) X(FLT_S) X(FLE_S) X(FCLASS_S) \
    /* D */ \
    X(FLD) X(FSD) X(FMADD_D) X(FMSUB_D) X(FNMSUB_D) X(FNMADD_D) \
    X(FADD_D) X(FSUB_D) X(FMUL_D) X(FDIV_D) X(FSQRT_D) \
    X(FSGNJ_D) X(FSGNJN_D) X(FSGNJX_D) X(FMIN_D) X(FMAX_D) \
    X(FCVT_S_D) X(FCVT_D_S) \
    X(FCVT_W_D) X(FCVT_WU_D) X(FCVT_L_D) X(FCVT_LU_D) \
    X(FCVT_D_W) X(FCVT_D_WU) X(FCVT_D_L) X(FCVT_D_LU) \
    X(FMV_X_D) X(FMV_D_X) X(FEQ_D) X(FLT_D) X(FLE_D) X(FCLASS_D) \
    /* privileged */ \
    X(SRET) X(MRET) X(WFI) X(SFENCE_VMA)

enum insn_op {
#define INSN_ENUM(name) OP_##name,
    INSN_LIST(INSN_ENUM)
#undef INSN_ENUM
    OP_COUNT
};

struct insn {
    uint16_t op;        /* enum insn_op */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t rm;         /* F/D: rounding-mode field; A: aq<<1 | rl; FENCE: fm */
    uint8_t len;        /* 2 (compressed) or 4 */
    int32_t imm;        /* sign-extended immediate (every RV64GC immediate
                           fits in 32 bits); CSR number for Zicsr; shamt for
                           shifts; pred<<4|succ for FENCE. 16 bytes in all:
                           a decoded page holds 2048 of these. */
    uint32_t raw;       /* the instruction bits as fetched (16 or 32 bits),
                           reported in mtval/stval on an illegal-instruction trap */
};

/* FENCE's predecessor and successor sets (unprivileged spec 2.7): imm
 * holds pred << 4 | succ, each I O R W from bit 3 down. */
enum { FENCE_W = 1, FENCE_R = 2, FENCE_O = 4, FENCE_I = 8 };

/* PAUSE (Zihintpause): FENCE with pred = W, succ = 0, fm = 0 and rd = rs1
 * = x0. It orders nothing, but says that the loop it sits in waits. */
static inline bool insn_is_pause(const struct insn *in)
{
    return in->op == OP_FENCE && in->imm == FENCE_W << 4 && in->rm == 0 && in->rd == 0 &&
           in->rs1 == 0;
}

/* Does FENCE in order a store before a later load? An x86-64 host (TSO)
 * keeps every other order by itself, so only such a fence needs a host
 * fence. Unknown fm values are a plain FENCE (unprivileged spec 2.7). */
static inline bool insn_fence_orders_store_load(const struct insn *in)
{
    unsigned pred = (unsigned)(in->imm >> 4) & 0xf, succ = (unsigned)in->imm & 0xf;
    return (pred & (FENCE_W | FENCE_O)) && (succ & (FENCE_R | FENCE_I));
}

/* Decode one instruction. `raw` holds the fetched bits; if the low two bits
 * are not 0b11 only the low 16 are looked at. Unknown and reserved encodings
 * decode to OP_ILLEGAL (with len and raw filled in). */
void decode(uint32_t raw, struct insn *out);

/* Mnemonic for an op ("addi", "fcvt.w.s"), for traces and tests. */
const char *insn_name(enum insn_op op);
#endif
