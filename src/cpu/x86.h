/* x86: the few x86-64 instruction forms the translator (jit.c) emits.
 *
 * Owns the byte encoding (Intel SDM volume 2, chapter 2: REX prefix,
 * ModRM, SIB, displacements) of register-register, register-memory and
 * register-immediate forms, with memory always addressed as [base + disp].
 * Writes into a struct x86_buf, which stops writing (and says so) when the
 * buffer is full instead of overrunning it. Pure functions of their
 * arguments; called by the translator on a hart's own thread.
 */
#ifndef UMBRA_CPU_X86_H
#define UMBRA_CPU_X86_H
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum x86_reg {
    RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7,
    R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15,
};

/* Condition codes (the low nibble of Jcc / SETcc). */
enum x86_cond {
    CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5, CC_BE = 0x6, CC_A = 0x7,
    CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf,
};

/* The arithmetic group: `op r/m, reg` is opcode 8*n+1, `op r/m, imm` is
 * 81 /n (SDM "ADD", "OR", ... tables). */
enum x86_alu { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };

/* The shift group, C1 /n ib and D3 /n. */
enum x86_shift { SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAR = 7 };

struct x86_buf {
    uint8_t *p, *end;
    bool full;                  /* something did not fit; the contents are garbage */
};

static inline void x86_bytes(struct x86_buf *b, const void *src, unsigned n)
{
    if (b->full || (unsigned)(b->end - b->p) < n) {
        b->full = true;
        return;
    }
    memcpy(b->p, src, n);
    b->p += n;
}

static inline void x86_u8(struct x86_buf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    x86_bytes(b, &c, 1);
}

static inline void x86_u32(struct x86_buf *b, uint32_t v) { x86_bytes(b, &v, 4); }
static inline void x86_u64(struct x86_buf *b, uint64_t v) { x86_bytes(b, &v, 8); }

static inline bool x86_fits_i8(int64_t v) { return v >= -128 && v <= 127; }
static inline bool x86_fits_i32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

/* REX (SDM 2.2.1): W = 64-bit operand, R/B extend ModRM.reg / ModRM.rm. */
static inline void x86_rex(struct x86_buf *b, bool w, unsigned reg, unsigned rm)
{
    unsigned rex = 0x40 | (w ? 8u : 0u) | (reg >> 3 & 1) << 2 | (rm >> 3 & 1);
    if (rex != 0x40)
        x86_u8(b, rex);
}

/* ModRM for [base + disp]: RSP/R12 as a base need a SIB byte, RBP/R13 a
 * displacement even when it is 0 (SDM table 2-2). */
static inline void x86_modrm_mem(struct x86_buf *b, unsigned reg, unsigned base, int32_t disp)
{
    unsigned mod = disp == 0 && (base & 7) != RBP ? 0u : x86_fits_i8(disp) ? 1u : 2u;
    x86_u8(b, mod << 6 | (reg & 7) << 3 | (base & 7));
    if ((base & 7) == RSP)
        x86_u8(b, 0x24);
    if (mod == 1)
        x86_u8(b, (uint8_t)(int8_t)disp);
    else if (mod == 2)
        x86_u32(b, (uint32_t)disp);
}

/* opcode (1 or 2 bytes, 0x0f first) with reg and [base + disp]. */
static inline void x86_op_mem(struct x86_buf *b, bool w, unsigned opcode, unsigned reg,
                              unsigned base, int32_t disp)
{
    x86_rex(b, w, reg, base);
    if (opcode > 0xff)
        x86_u8(b, opcode >> 8);
    x86_u8(b, opcode & 0xff);
    x86_modrm_mem(b, reg, base, disp);
}

/* opcode with ModRM.reg = reg and ModRM.rm = the register rm. */
static inline void x86_op_reg(struct x86_buf *b, bool w, unsigned opcode, unsigned reg, unsigned rm)
{
    x86_rex(b, w, reg, rm);
    if (opcode > 0xff)
        x86_u8(b, opcode >> 8);
    x86_u8(b, opcode & 0xff);
    x86_u8(b, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

/* mov r64, [base + disp] / mov [base + disp], r64 */
static inline void x86_load64(struct x86_buf *b, unsigned r, unsigned base, int32_t disp)
{
    x86_op_mem(b, true, 0x8b, r, base, disp);
}

static inline void x86_store64(struct x86_buf *b, unsigned r, unsigned base, int32_t disp)
{
    x86_op_mem(b, true, 0x89, r, base, disp);
}

/* mov dst, src (64-bit) */
static inline void x86_mov(struct x86_buf *b, unsigned dst, unsigned src)
{
    x86_op_reg(b, true, 0x89, src, dst);
}

/* r = v, in the shortest of the three encodings. */
static inline void x86_mov_imm(struct x86_buf *b, unsigned r, uint64_t v)
{
    if (v == 0) {
        x86_op_reg(b, false, 0x31, r, r);                   /* xor r32, r32 */
    } else if (v <= UINT32_MAX) {
        x86_rex(b, false, 0, r);                            /* mov r32, imm32 */
        x86_u8(b, 0xb8 + (r & 7));
        x86_u32(b, (uint32_t)v);
    } else if (x86_fits_i32((int64_t)v)) {
        x86_op_reg(b, true, 0xc7, 0, r);                    /* mov r64, simm32 */
        x86_u32(b, (uint32_t)v);
    } else {
        x86_rex(b, true, 0, r);                             /* movabs r64, imm64 */
        x86_u8(b, 0xb8 + (r & 7));
        x86_u64(b, v);
    }
}

/* r = v in the 10-byte encoding whatever v is, so that v can be patched
 * later; returns where the 8 bytes of v are. */
static inline uint8_t *x86_mov_imm64(struct x86_buf *b, unsigned r, uint64_t v)
{
    x86_rex(b, true, 0, r);                                 /* movabs r64, imm64 */
    x86_u8(b, 0xb8 + (r & 7));
    x86_u64(b, v);
    return b->full ? NULL : b->p - 8;
}

/* mov qword [base + disp], simm32 */
static inline void x86_store_imm32(struct x86_buf *b, unsigned base, int32_t disp, int32_t v)
{
    x86_op_mem(b, true, 0xc7, 0, base, disp);
    x86_u32(b, (uint32_t)v);
}

/* mov byte [base + disp], v */
static inline void x86_store_imm8(struct x86_buf *b, unsigned base, int32_t disp, uint8_t v)
{
    x86_op_mem(b, false, 0xc6, 0, base, disp);
    x86_u8(b, v);
}

/* op dst, src — 64-bit (w) or 32-bit */
static inline void x86_alu(struct x86_buf *b, bool w, enum x86_alu op, unsigned dst, unsigned src)
{
    x86_op_reg(b, w, 8u * op + 1, src, dst);
}

/* op r, simm32 (the 8-bit form when the immediate fits) */
static inline void x86_alu_imm(struct x86_buf *b, bool w, enum x86_alu op, unsigned r, int32_t imm)
{
    if (x86_fits_i8(imm)) {
        x86_op_reg(b, w, 0x83, op, r);
        x86_u8(b, (uint8_t)(int8_t)imm);
    } else {
        x86_op_reg(b, w, 0x81, op, r);
        x86_u32(b, (uint32_t)imm);
    }
}

/* op r, [base + disp] (64-bit): opcode 8*n+3 */
static inline void x86_alu_mem(struct x86_buf *b, enum x86_alu op, unsigned r, unsigned base,
                               int32_t disp)
{
    x86_op_mem(b, true, 8u * op + 3, r, base, disp);
}

/* shift r by an immediate, or by cl (count < 0) */
static inline void x86_shift(struct x86_buf *b, bool w, enum x86_shift op, unsigned r, int count)
{
    if (count < 0) {
        x86_op_reg(b, w, 0xd3, op, r);
    } else {
        x86_op_reg(b, w, 0xc1, op, r);
        x86_u8(b, (unsigned)count);
    }
}

/* movsxd dst, src32: sign-extend the low 32 bits */
static inline void x86_movsxd(struct x86_buf *b, unsigned dst, unsigned src)
{
    x86_op_reg(b, true, 0x63, dst, src);
}

/* imul dst, src (64-bit or 32-bit) */
static inline void x86_imul(struct x86_buf *b, bool w, unsigned dst, unsigned src)
{
    x86_op_reg(b, w, 0x0faf, dst, src);
}

/* rdx:rax = rax * r, signed (imul) or unsigned (mul) */
static inline void x86_mul_wide(struct x86_buf *b, bool is_signed, unsigned r)
{
    x86_op_reg(b, true, 0xf7, is_signed ? 5 : 4, r);
}

/* r = (flags satisfy cc) ? 1 : 0, for r in RAX..RBX */
static inline void x86_setcc(struct x86_buf *b, enum x86_cond cc, unsigned r)
{
    x86_op_reg(b, false, 0x0f90 | cc, 0, r);
    x86_op_reg(b, false, 0x0fb6, r, r);                     /* movzx r32, r8 */
}

/* test byte [base + disp], imm8 */
static inline void x86_test_mem8(struct x86_buf *b, unsigned base, int32_t disp, uint8_t imm)
{
    x86_op_mem(b, false, 0xf6, 0, base, disp);
    x86_u8(b, imm);
}

/* test r, r (64-bit) */
static inline void x86_test(struct x86_buf *b, unsigned r)
{
    x86_op_reg(b, true, 0x85, r, r);
}

/* lea dst, [base + disp] */
static inline void x86_lea(struct x86_buf *b, unsigned dst, unsigned base, int32_t disp)
{
    x86_op_mem(b, true, 0x8d, dst, base, disp);
}

/* lea r, [rip + disp]: r = target */
static inline void x86_lea_rip(struct x86_buf *b, unsigned r, const uint8_t *target)
{
    x86_rex(b, true, r, 0);
    x86_u8(b, 0x8d);
    x86_u8(b, 0x05 | (r & 7) << 3);     /* mod 00, rm 101: rip-relative */
    x86_u32(b, (uint32_t)(int32_t)(target - (b->p + 4)));
}

/* cmp byte [base + disp], imm8 (80 /7) and cmp dword [base + disp], imm8
 * sign-extended (83 /7) */
static inline void x86_cmp_mem8(struct x86_buf *b, unsigned base, int32_t disp, uint8_t imm)
{
    x86_op_mem(b, false, 0x80, 7, base, disp);
    x86_u8(b, imm);
}

static inline void x86_cmp_mem32(struct x86_buf *b, unsigned base, int32_t disp, int8_t imm)
{
    x86_op_mem(b, false, 0x83, 7, base, disp);
    x86_u8(b, (uint8_t)imm);
}

/* cmp dword [base + disp], imm32 with a 4-byte immediate whatever imm
 * is, so that it can be patched later; returns where the immediate is. */
static inline uint8_t *x86_cmp_mem32_imm32(struct x86_buf *b, unsigned base, int32_t disp,
                                           uint32_t imm)
{
    x86_op_mem(b, false, 0x81, 7, base, disp);
    x86_u32(b, imm);
    return b->full ? NULL : b->p - 4;
}

/* Scalar SSE: `op xmm, [base + disp]` with the mandatory prefix (F2 for
 * double, F3 for single), which goes before any REX (SDM 2.1.2): movsd /
 * movss (0f10), sqrt (0f51), add (0f58), mul (0f59), sub (0f5c), div
 * (0f5e). Only xmm0-7 are used. */
enum x86_sse { SSE_LOAD = 0x0f10, SSE_SQRT = 0x0f51, SSE_ADD = 0x0f58, SSE_MUL = 0x0f59,
               SSE_SUB = 0x0f5c, SSE_DIV = 0x0f5e };

static inline void x86_sse_mem(struct x86_buf *b, bool is_double, enum x86_sse op, unsigned xmm,
                               unsigned base, int32_t disp)
{
    x86_u8(b, is_double ? 0xf2 : 0xf3);
    x86_op_mem(b, false, (unsigned)op, xmm, base, disp);
}

/* movq r64, xmm (66 REX.W 0f 7e) or movd r32, xmm (66 0f 7e) */
static inline void x86_mov_from_xmm(struct x86_buf *b, bool w, unsigned r, unsigned xmm)
{
    x86_u8(b, 0x66);
    x86_op_reg(b, w, 0x0f7e, xmm, r);
}

/* FMA3, the 213 forms (SDM "VFMADD213SD" and its neighbours; VEX.LIG.66.0F38,
 * W1 double, W0 single): dst = +-(src * dst) +- [base + disp], rounded once. */
enum x86_fma { FMA_ADD = 0xa9, FMA_SUB = 0xab, FMA_NEG_ADD = 0xad, FMA_NEG_SUB = 0xaf };

static inline void x86_fma213_mem(struct x86_buf *b, bool is_double, enum x86_fma op, unsigned dst,
                                  unsigned src, unsigned base, int32_t disp)
{
    x86_u8(b, 0xc4);                                    /* three-byte VEX */
    x86_u8(b, (~dst >> 3 & 1) << 7 | 1u << 6 | (~base >> 3 & 1) << 5 | 0x02);   /* R X B, 0F38 */
    x86_u8(b, (is_double ? 0x80u : 0u) | (~src & 0xf) << 3 | 0x01);   /* W, vvvv, L = 0, 66 */
    x86_u8(b, (unsigned)op);
    x86_modrm_mem(b, dst, base, disp);
}

/* Jumps with 32-bit displacements. x86_jcc and x86_jmp return where the
 * displacement is, for x86_patch once the target is known (NULL if the
 * buffer is full). */
static inline uint8_t *x86_jcc(struct x86_buf *b, enum x86_cond cc)
{
    x86_u8(b, 0x0f);
    x86_u8(b, 0x80 | cc);
    x86_u32(b, 0);
    return b->full ? NULL : b->p - 4;
}

static inline uint8_t *x86_jmp(struct x86_buf *b)
{
    x86_u8(b, 0xe9);
    x86_u32(b, 0);
    return b->full ? NULL : b->p - 4;
}

/* Point the displacement at `at` to `target`. */
static inline void x86_patch(uint8_t *at, const uint8_t *target)
{
    if (!at)
        return;
    int32_t rel = (int32_t)(target - (at + 4));
    memcpy(at, &rel, 4);
}

/* call an absolute address through rax */
static inline void x86_call(struct x86_buf *b, uintptr_t fn)
{
    x86_rex(b, true, 0, RAX);
    x86_u8(b, 0xb8);
    x86_u64(b, (uint64_t)fn);
    x86_u8(b, 0xff);
    x86_u8(b, 0xd0);
}

static inline void x86_push(struct x86_buf *b, unsigned r)
{
    x86_rex(b, false, 0, r);
    x86_u8(b, 0x50 + (r & 7));
}

static inline void x86_pop(struct x86_buf *b, unsigned r)
{
    x86_rex(b, false, 0, r);
    x86_u8(b, 0x58 + (r & 7));
}

static inline void x86_ret(struct x86_buf *b) { x86_u8(b, 0xc3); }

/* A full fence, what compilers emit for a sequentially consistent one:
 * lock or qword [rsp], 0 (cheaper than mfence, and enough for ordinary
 * write-back memory). */
static inline void x86_full_fence(struct x86_buf *b)
{
    static const uint8_t lock_or[] = { 0xf0, 0x48, 0x83, 0x0c, 0x24, 0x00 };
    x86_bytes(b, lock_or, sizeof lock_or);
}
#endif
