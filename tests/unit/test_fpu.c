/* test_fpu: F and D computational instructions against hand-derived values.
 *
 * Every expected bit pattern below is worked out from the IEEE 754 encoding
 * and the RISC-V rules (unprivileged spec chapters 11 and 12), with the
 * derivation in the comment next to it: ties in each rounding mode, overflow,
 * underflow with tininess after rounding, fused multiply-add, NaN-boxing,
 * canonical NaNs, min/max, compares, saturating conversions, FCLASS and the
 * reserved rounding modes. Last, the host fast paths (add, subtract,
 * multiply, divide, the four FMAs under RNE) are compared bit for bit, flags
 * included, with the integer path on random and deliberately exact operands.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cpu/fpu.h"

static struct hart H;

enum { RD = 5 };

/* Run one instruction with f1/f2/f3 = a/b/c and x1 = a; fflags starts at 0. */
static bool run(int op, int rm, uint64_t a, uint64_t b, uint64_t c)
{
    struct insn in = { 0 };
    in.op = (uint16_t)op;
    in.rd = RD;
    in.rs1 = 1;
    in.rs2 = 2;
    in.rs3 = 3;
    in.rm = (uint8_t)rm;
    in.len = 4;
    H.f[1] = a;
    H.f[2] = b;
    H.f[3] = c;
    H.x[1] = a;
    H.f[RD] = 0xdeadbeefdeadbeefull;
    H.x[RD] = 0xdeadbeefdeadbeefull;
    H.fflags = 0;
    return fpu_execute(&H, &in);
}

/* Result in f[RD] / x[RD], and the flags, for a three-operand op. */
#define F3(op, rm, a, b, c, want, want_flags) do { \
    CHECK(run(op, rm, a, b, c)); \
    CHECK_EQ(H.f[RD], want); \
    CHECK_EQ(H.fflags, want_flags); \
} while (0)
#define F2(op, rm, a, b, want, want_flags) F3(op, rm, a, b, 0, want, want_flags)
#define F1(op, rm, a, want, want_flags) F3(op, rm, a, 0, 0, want, want_flags)
#define X2(op, rm, a, b, want, want_flags) do { \
    CHECK(run(op, rm, a, b, 0)); \
    CHECK_EQ(H.x[RD], want); \
    CHECK_EQ(H.fflags, want_flags); \
} while (0)
#define X1(op, rm, a, want, want_flags) X2(op, rm, a, 0, want, want_flags)

/* Singles live NaN-boxed in the 64-bit registers. */
#define S(v) (0xffffffff00000000ull | (uint32_t)(v))

enum { RNE = RM_RNE, RTZ = RM_RTZ, RDN = RM_RDN, RUP = RM_RUP, RMM = RM_RMM, DYN = RM_DYN };
#define NX FFLAG_NX
#define UF FFLAG_UF
#define OF FFLAG_OF
#define DZ FFLAG_DZ
#define NV FFLAG_NV

/* single constants: sign | exponent (bias 127) << 23 | fraction */
#define S_ONE      0x3f800000u
#define S_TWO      0x40000000u
#define S_THREE    0x40400000u
#define S_HALF     0x3f000000u
#define S_M_ONE    0xbf800000u
#define S_INF      0x7f800000u
#define S_M_INF    0xff800000u
#define S_MAX      0x7f7fffffu      /* (2 - 2^-23) * 2^127 */
#define S_MIN_NORM 0x00800000u      /* 2^-126 */
#define S_MIN_SUB  0x00000001u      /* 2^-149 */
#define S_QNAN     0x7fc00000u      /* also the canonical NaN */
#define S_SNAN     0x7f800001u
#define S_M_ZERO   0x80000000u

/* double constants: exponent bias 1023, 52 fraction bits */
#define D_ONE   0x3ff0000000000000ull
#define D_TWO   0x4000000000000000ull
#define D_M_ONE 0xbff0000000000000ull
#define D_INF   0x7ff0000000000000ull
#define D_M_INF 0xfff0000000000000ull
#define D_MAX   0x7fefffffffffffffull
#define D_QNAN  0x7ff8000000000000ull   /* also the canonical NaN */
#define D_SNAN  0x7ff0000000000001ull
#define D_M_ZERO 0x8000000000000000ull

static void test_add_rounding(void)
{
    /* 1 + 2^-24: exactly half an ulp (ulp of 1.0f is 2^-23) above 1.0.
     * 2^-24 = exponent 103 = 0x67 -> 0x33800000. */
    const uint32_t s_2m24 = 0x33800000u;
    F2(OP_FADD_S, RNE, S(S_ONE), S(s_2m24), S(0x3f800000), NX);   /* tie -> even (1.0) */
    F2(OP_FADD_S, RMM, S(S_ONE), S(s_2m24), S(0x3f800001), NX);   /* tie -> away */
    F2(OP_FADD_S, RTZ, S(S_ONE), S(s_2m24), S(0x3f800000), NX);
    F2(OP_FADD_S, RDN, S(S_ONE), S(s_2m24), S(0x3f800000), NX);
    F2(OP_FADD_S, RUP, S(S_ONE), S(s_2m24), S(0x3f800001), NX);
    /* (1 + 2^-23) + 2^-24: tie between 0x3f800001 (odd) and 0x3f800002 (even). */
    F2(OP_FADD_S, RNE, S(0x3f800001), S(s_2m24), S(0x3f800002), NX);
    F2(OP_FADD_S, RMM, S(0x3f800001), S(s_2m24), S(0x3f800002), NX);
    F2(OP_FADD_S, RTZ, S(0x3f800001), S(s_2m24), S(0x3f800001), NX);
    /* -1 - 2^-24 = -(1 + 2^-24): directed modes on a negative value. */
    F2(OP_FSUB_S, RNE, S(S_M_ONE), S(s_2m24), S(0xbf800000), NX);
    F2(OP_FSUB_S, RMM, S(S_M_ONE), S(s_2m24), S(0xbf800001), NX);
    F2(OP_FSUB_S, RTZ, S(S_M_ONE), S(s_2m24), S(0xbf800000), NX);
    F2(OP_FSUB_S, RDN, S(S_M_ONE), S(s_2m24), S(0xbf800001), NX);  /* towards -inf */
    F2(OP_FSUB_S, RUP, S(S_M_ONE), S(s_2m24), S(0xbf800000), NX);
    /* 1 + 3*2^-26 = 1 + 0.375 ulp: below the half-way point, not a tie.
     * 3*2^-26 = 1.5 * 2^-25 -> exponent 102 (0x66), fraction 0x400000. */
    F2(OP_FADD_S, RNE, S(S_ONE), S(0x33400000), S(0x3f800000), NX);
    F2(OP_FADD_S, RMM, S(S_ONE), S(0x33400000), S(0x3f800000), NX);
    F2(OP_FADD_S, RUP, S(S_ONE), S(0x33400000), S(0x3f800001), NX);
    /* Exact results raise nothing: 1 + 2 = 3. */
    F2(OP_FADD_S, RNE, S(S_ONE), S(S_TWO), S(S_THREE), 0);

    /* Double: 1 + 2^-53 is half an ulp above 1 (2^-53 = exponent 970 = 0x3ca). */
    F2(OP_FADD_D, RNE, D_ONE, 0x3ca0000000000000ull, D_ONE, NX);
    F2(OP_FADD_D, RMM, D_ONE, 0x3ca0000000000000ull, 0x3ff0000000000001ull, NX);
    F2(OP_FADD_D, RUP, D_ONE, 0x3ca0000000000000ull, 0x3ff0000000000001ull, NX);
    F2(OP_FSUB_D, RDN, D_M_ONE, 0x3ca0000000000000ull, 0xbff0000000000001ull, NX);
    F2(OP_FSUB_D, RUP, D_M_ONE, 0x3ca0000000000000ull, D_M_ONE, NX);
}

static void test_signed_zero_sums(void)
{
    /* IEEE 754 6.3: an exact zero sum of opposite-signed operands is +0,
     * except -0 when rounding towards -inf; like-signed zeros keep the sign. */
    F2(OP_FSUB_S, RNE, S(S_ONE), S(S_ONE), S(0), 0);
    F2(OP_FSUB_S, RDN, S(S_ONE), S(S_ONE), S(S_M_ZERO), 0);
    F2(OP_FADD_S, RNE, S(0), S(S_M_ZERO), S(0), 0);
    F2(OP_FADD_S, RDN, S(0), S(S_M_ZERO), S(S_M_ZERO), 0);
    F2(OP_FADD_S, RNE, S(S_M_ZERO), S(S_M_ZERO), S(S_M_ZERO), 0);
    F2(OP_FSUB_D, RDN, D_TWO, D_TWO, D_M_ZERO, 0);
    F2(OP_FSUB_D, RUP, D_TWO, D_TWO, 0, 0);
    /* x + 0 is x, including a subnormal x. */
    F2(OP_FADD_S, RNE, S(S_MIN_SUB), S(S_M_ZERO), S(S_MIN_SUB), 0);
}

static void test_overflow(void)
{
    /* FLT_MAX * 2 = (2 - 2^-23) * 2^128: beyond every finite number. Rounding
     * towards zero (or away from the sign's infinity) gives FLT_MAX. */
    F2(OP_FMUL_S, RNE, S(S_MAX), S(S_TWO), S(S_INF), OF | NX);
    F2(OP_FMUL_S, RMM, S(S_MAX), S(S_TWO), S(S_INF), OF | NX);
    F2(OP_FMUL_S, RTZ, S(S_MAX), S(S_TWO), S(S_MAX), OF | NX);
    F2(OP_FMUL_S, RDN, S(S_MAX), S(S_TWO), S(S_MAX), OF | NX);
    F2(OP_FMUL_S, RUP, S(S_MAX), S(S_TWO), S(S_INF), OF | NX);
    F2(OP_FMUL_S, RNE, S(S_MAX), S(0xc0000000), S(S_M_INF), OF | NX);
    F2(OP_FMUL_S, RTZ, S(S_MAX), S(0xc0000000), S(0xff7fffff), OF | NX);
    F2(OP_FMUL_S, RDN, S(S_MAX), S(0xc0000000), S(S_M_INF), OF | NX);
    F2(OP_FMUL_S, RUP, S(S_MAX), S(0xc0000000), S(0xff7fffff), OF | NX);
    F2(OP_FMUL_S, RMM, S(S_MAX), S(0xc0000000), S(S_M_INF), OF | NX);
    /* FLT_MAX + half its ulp (ulp = 2^104, half = 2^103 = exponent 230 =
     * 0xe6 -> 0x73000000): a tie; RNE rounds to the even neighbour 2^128,
     * which overflows. RTZ's rounded result is FLT_MAX itself: no overflow. */
    F2(OP_FADD_S, RNE, S(S_MAX), S(0x73000000), S(S_INF), OF | NX);
    F2(OP_FADD_S, RMM, S(S_MAX), S(0x73000000), S(S_INF), OF | NX);
    F2(OP_FADD_S, RUP, S(S_MAX), S(0x73000000), S(S_INF), OF | NX);
    F2(OP_FADD_S, RTZ, S(S_MAX), S(0x73000000), S(S_MAX), NX);
    F2(OP_FADD_S, RDN, S(S_MAX), S(0x73000000), S(S_MAX), NX);
    /* Double: DBL_MAX + DBL_MAX. */
    F2(OP_FADD_D, RNE, D_MAX, D_MAX, D_INF, OF | NX);
    F2(OP_FADD_D, RTZ, D_MAX, D_MAX, D_MAX, OF | NX);
    F2(OP_FADD_D, RDN, D_MAX | D_M_ZERO, D_MAX | D_M_ZERO, D_M_INF, OF | NX);
    F2(OP_FADD_D, RUP, D_MAX | D_M_ZERO, D_MAX | D_M_ZERO, D_MAX | D_M_ZERO, OF | NX);
}

static void test_underflow(void)
{
    /* 2^-126 * 0.5 = 2^-127: tiny but exact (subnormal 0x00400000): no flags. */
    F2(OP_FMUL_S, RNE, S(S_MIN_NORM), S(S_HALF), S(0x00400000), 0);
    /* 2^-149 * 0.5 = 2^-150: half-way between 0 and the smallest subnormal. */
    F2(OP_FMUL_S, RNE, S(S_MIN_SUB), S(S_HALF), S(0), UF | NX);
    F2(OP_FMUL_S, RMM, S(S_MIN_SUB), S(S_HALF), S(S_MIN_SUB), UF | NX);
    F2(OP_FMUL_S, RUP, S(S_MIN_SUB), S(S_HALF), S(S_MIN_SUB), UF | NX);
    F2(OP_FMUL_S, RDN, S(S_MIN_SUB), S(S_HALF), S(0), UF | NX);
    F2(OP_FMUL_S, RTZ, S(S_MIN_SUB), S(S_HALF), S(0), UF | NX);
    F2(OP_FMUL_S, RDN, S(S_MIN_SUB), S(0xbf000000), S(0x80000001), UF | NX);
    F2(OP_FMUL_S, RUP, S(S_MIN_SUB), S(0xbf000000), S(S_M_ZERO), UF | NX);
    /* 3 * 2^-149 * 0.5 = 1.5 * 2^-149: tie between subnormals 1 and 2. */
    F2(OP_FMUL_S, RNE, S(0x00000003), S(S_HALF), S(0x00000002), UF | NX);
    F2(OP_FMUL_S, RMM, S(0x00000003), S(S_HALF), S(0x00000002), UF | NX);
    F2(OP_FMUL_S, RTZ, S(0x00000003), S(S_HALF), S(0x00000001), UF | NX);
    /* Exact subnormal difference: 2^-126 - 2^-149 = 0x007fffff. */
    F2(OP_FSUB_S, RNE, S(S_MIN_NORM), S(S_MIN_SUB), S(0x007fffff), 0);

    /* Tininess after rounding (spec 11.4). (1 - 2^-24) * 2^-126 =
     * 2^-126 - 2^-150 has 24 significant bits, so with an unbounded exponent
     * it is exact and below 2^-126: tiny. As a subnormal (quantum 2^-149) it
     * is a tie between 0x007fffff (odd) and 0x00800000 (even): RNE gives
     * the smallest normal, yet UF is raised because the result was tiny. */
    F2(OP_FMUL_S, RNE, S(0x3f7fffff), S(S_MIN_NORM), S(S_MIN_NORM), UF | NX);
    /* 2^-126 - 2^-151, formed exactly inside a fused multiply-add as
     * (-2^-75) * 2^-76 + 2^-126 (2^-75: exponent 52 -> 0x1a000000; 2^-76:
     * exponent 51 -> 0x19800000). Rounded to 24 bits with an unbounded
     * exponent it is a tie between 2^-126 - 2^-150 (odd) and 2^-126 (even):
     * RNE and RMM reach 2^-126, so the result is NOT tiny: NX without UF.
     * RTZ/RDN stay below 2^-126: tiny, UF. */
    F3(OP_FMADD_S, RNE, S(0x9a000000), S(0x19800000), S(S_MIN_NORM), S(S_MIN_NORM), NX);
    F3(OP_FMADD_S, RMM, S(0x9a000000), S(0x19800000), S(S_MIN_NORM), S(S_MIN_NORM), NX);
    F3(OP_FMADD_S, RUP, S(0x9a000000), S(0x19800000), S(S_MIN_NORM), S(S_MIN_NORM), NX);
    F3(OP_FMADD_S, RTZ, S(0x9a000000), S(0x19800000), S(S_MIN_NORM), S(0x007fffff), UF | NX);
    F3(OP_FMADD_S, RDN, S(0x9a000000), S(0x19800000), S(S_MIN_NORM), S(0x007fffff), UF | NX);

    /* Double: DBL_MIN * 0.5 = 2^-1023 exact (fraction bit 51); 2^-1074 / 2
     * ties between 0 and the smallest subnormal. */
    F2(OP_FMUL_D, RNE, 0x0010000000000000ull, 0x3fe0000000000000ull, 0x0008000000000000ull, 0);
    F2(OP_FMUL_D, RNE, 1, 0x3fe0000000000000ull, 0, UF | NX);
    F2(OP_FMUL_D, RMM, 1, 0x3fe0000000000000ull, 1, UF | NX);
    F2(OP_FMUL_D, RUP, 1, 0x3fe0000000000000ull, 1, UF | NX);
}

static void test_mul_div_sqrt(void)
{
    /* 1/3 = 1.010101...b * 2^-2. Single: fraction 0x2aaaaa, next bits 1010...
     * (above half) -> RNE 0x3eaaaaab; truncation 0x3eaaaaaa. */
    F2(OP_FDIV_S, RNE, S(S_ONE), S(S_THREE), S(0x3eaaaaab), NX);
    F2(OP_FDIV_S, RTZ, S(S_ONE), S(S_THREE), S(0x3eaaaaaa), NX);
    F2(OP_FDIV_S, RDN, S(S_ONE), S(S_THREE), S(0x3eaaaaaa), NX);
    F2(OP_FDIV_S, RUP, S(S_ONE), S(S_THREE), S(0x3eaaaaab), NX);
    F2(OP_FDIV_S, RDN, S(S_M_ONE), S(S_THREE), S(0xbeaaaaab), NX);
    F2(OP_FDIV_S, RUP, S(S_M_ONE), S(S_THREE), S(0xbeaaaaaa), NX);
    /* Double: fraction 0x5555555555555, next bits 0101... (below half). */
    F2(OP_FDIV_D, RNE, D_ONE, 0x4008000000000000ull, 0x3fd5555555555555ull, NX);
    F2(OP_FDIV_D, RUP, D_ONE, 0x4008000000000000ull, 0x3fd5555555555556ull, NX);
    F2(OP_FDIV_D, RMM, D_ONE, 0x4008000000000000ull, 0x3fd5555555555555ull, NX);
    /* (1 + 2^-26)^2 = 1 + 2^-25 + 2^-52 fits 53 bits exactly (fraction
     * 1 << 27 | 1); (1 + 2^-26)(1 + 2^-27) = 1 + 2^-26 + 2^-27 + 2^-53 needs
     * 54: a tie, RNE keeps the even 1 + 2^-26 + 2^-27 (fraction 0x6000000). */
    F2(OP_FMUL_D, RNE, 0x3ff0000004000000ull, 0x3ff0000004000000ull, 0x3ff0000008000001ull, 0);
    F2(OP_FMUL_D, RNE, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x3ff0000006000000ull, NX);
    F2(OP_FMUL_D, RUP, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x3ff0000006000001ull, NX);
    F2(OP_FMUL_D, RMM, 0x3ff0000004000000ull, 0x3ff0000002000000ull, 0x3ff0000006000001ull, NX);
    /* 9 / 3 = 3 exactly; 7 / 3 = 2.333... (1.0010101...b * 2, fraction
     * 0x2aaaaaaaaaaaa then 1010... -> RNE rounds up to ...aab). */
    F2(OP_FDIV_D, RNE, 0x4022000000000000ull, 0x4008000000000000ull, 0x4008000000000000ull, 0);
    F2(OP_FDIV_D, RNE, 0x401c000000000000ull, 0x4008000000000000ull, 0x4002aaaaaaaaaaabull, NX);
    F2(OP_FDIV_D, RTZ, 0x401c000000000000ull, 0x4008000000000000ull, 0x4002aaaaaaaaaaaaull, NX);
    /* Exact: 6 / 3 = 2, 3 * 0.5 = 1.5 (0x3fc00000). */
    F2(OP_FDIV_S, RNE, S(0x40c00000), S(S_THREE), S(S_TWO), 0);
    F2(OP_FMUL_S, RNE, S(S_THREE), S(S_HALF), S(0x3fc00000), 0);
    /* Division by zero: DZ and a signed infinity; 0/0 and inf/inf are NV. */
    F2(OP_FDIV_S, RNE, S(S_ONE), S(0), S(S_INF), DZ);
    F2(OP_FDIV_S, RNE, S(S_M_ONE), S(0), S(S_M_INF), DZ);
    F2(OP_FDIV_D, RNE, D_ONE, D_M_ZERO, D_M_INF, DZ);
    F2(OP_FDIV_S, RNE, S(0), S(0), S(S_QNAN), NV);
    F2(OP_FDIV_D, RNE, D_INF, D_M_INF, D_QNAN, NV);
    F2(OP_FDIV_S, RNE, S(S_INF), S(0), S(S_INF), 0);        /* inf / 0: no DZ */
    F2(OP_FDIV_S, RNE, S(S_ONE), S(S_M_INF), S(S_M_ZERO), 0);
    /* inf * 0 is invalid. */
    F2(OP_FMUL_S, RNE, S(S_INF), S(S_M_ZERO), S(S_QNAN), NV);
    F2(OP_FMUL_D, RNE, D_M_ZERO, D_INF, D_QNAN, NV);

    /* sqrt(2) = 1.6a09e667f3bcc908...h. Single keeps 23 fraction bits
     * 0x3504f3, the next bit is 0 -> RNE and RTZ 0x3fb504f3, RUP ...f4. */
    F1(OP_FSQRT_S, RNE, S(S_TWO), S(0x3fb504f3), NX);
    F1(OP_FSQRT_S, RTZ, S(S_TWO), S(0x3fb504f3), NX);
    F1(OP_FSQRT_S, RUP, S(S_TWO), S(0x3fb504f4), NX);
    /* Double keeps 6a09e667f3bcc, then 9h = 1001b: above half -> ...bcd. */
    F1(OP_FSQRT_D, RNE, D_TWO, 0x3ff6a09e667f3bcdull, NX);
    F1(OP_FSQRT_D, RTZ, D_TWO, 0x3ff6a09e667f3bccull, NX);
    F1(OP_FSQRT_D, RMM, D_TWO, 0x3ff6a09e667f3bcdull, NX);
    /* Exact roots: sqrt(4) = 2; sqrt(2^-1074) = 2^-537 (exponent 486 = 0x1e6). */
    F1(OP_FSQRT_S, RNE, S(0x40800000), S(S_TWO), 0);
    F1(OP_FSQRT_D, RNE, 1, 0x1e60000000000000ull, 0);
    /* sqrt(-0) = -0, sqrt(+inf) = +inf, sqrt of a negative is invalid. */
    F1(OP_FSQRT_S, RNE, S(S_M_ZERO), S(S_M_ZERO), 0);
    F1(OP_FSQRT_D, RNE, D_INF, D_INF, 0);
    F1(OP_FSQRT_S, RNE, S(S_M_ONE), S(S_QNAN), NV);
    F1(OP_FSQRT_D, RNE, D_M_INF, D_QNAN, NV);
    F1(OP_FSQRT_S, RNE, S(0x80000001), S(S_QNAN), NV);
}

static void test_fma(void)
{
    /* a = 1 + 2^-12 (0x3f800800): a*a = 1 + 2^-11 + 2^-24, and 2^-24 is half
     * an ulp of 1 + 2^-11: a separate multiply rounds to even, 1 + 2^-11
     * (0x3f801000), losing 2^-24. Fused: a*a - (1 + 2^-11) = 2^-24 exactly. */
    F2(OP_FMUL_S, RNE, S(0x3f800800), S(0x3f800800), S(0x3f801000), NX);
    F2(OP_FSUB_S, RNE, S(0x3f801000), S(0x3f801000), S(0), 0);
    F3(OP_FMSUB_S, RNE, S(0x3f800800), S(0x3f800800), S(0x3f801000), S(0x33800000), 0);
    /* Double: a = 1 + 2^-27 (fraction 1 << 25): a*a = 1 + 2^-26 + 2^-54;
     * FMSUB with c = 1 + 2^-26 leaves 2^-54 (exponent 969 = 0x3c9). */
    F3(OP_FMSUB_D, RNE, 0x3ff0000002000000ull, 0x3ff0000002000000ull, 0x3ff0000004000000ull,
       0x3c90000000000000ull, 0);
    /* 1*1 + 2^-24: the same tie as in test_add_rounding, rounded once. */
    F3(OP_FMADD_S, RNE, S(S_ONE), S(S_ONE), S(0x33800000), S(S_ONE), NX);
    F3(OP_FMADD_S, RMM, S(S_ONE), S(S_ONE), S(0x33800000), S(0x3f800001), NX);
    /* The four sign variants: 2*3 with c = 1. */
    F3(OP_FMADD_S, RNE, S(S_TWO), S(S_THREE), S(S_ONE), S(0x40e00000), 0);   /*  7 */
    F3(OP_FMSUB_S, RNE, S(S_TWO), S(S_THREE), S(S_ONE), S(0x40a00000), 0);   /*  5 */
    F3(OP_FNMSUB_S, RNE, S(S_TWO), S(S_THREE), S(S_ONE), S(0xc0a00000), 0);  /* -5 */
    F3(OP_FNMADD_S, RNE, S(S_TWO), S(S_THREE), S(S_ONE), S(0xc0e00000), 0);  /* -7 */
    F3(OP_FNMADD_D, RNE, D_TWO, 0x4008000000000000ull, D_ONE, 0xc01c000000000000ull, 0);
    /* Zero signs: (+0*1) + (-0) = +0, or -0 rounding down; FNMADD of
     * zeros is -(+0) - (+0) = -0 in every mode. */
    F3(OP_FMADD_S, RNE, S(0), S(S_ONE), S(S_M_ZERO), S(0), 0);
    F3(OP_FMADD_S, RDN, S(0), S(S_ONE), S(S_M_ZERO), S(S_M_ZERO), 0);
    F3(OP_FNMADD_S, RNE, S(0), S(S_ONE), S(0), S(S_M_ZERO), 0);
    F3(OP_FNMADD_D, RUP, 0, D_ONE, 0, D_M_ZERO, 0);
    /* Exact cancellation of a non-zero product: +0 (RNE), -0 (RDN). */
    F3(OP_FMSUB_D, RNE, D_TWO, D_ONE, D_TWO, 0, 0);
    F3(OP_FMSUB_D, RDN, D_TWO, D_ONE, D_TWO, D_M_ZERO, 0);
    /* Spec 11.6: inf * 0 raises NV even when the addend is a quiet NaN. */
    F3(OP_FMADD_S, RNE, S(S_INF), S(0), S(S_QNAN), S(S_QNAN), NV);
    F3(OP_FMADD_D, RNE, D_M_ZERO, D_INF, D_QNAN, D_QNAN, NV);
    F3(OP_FMADD_D, RNE, D_INF, 0, D_ONE, D_QNAN, NV);
    /* A quiet NaN addend otherwise raises nothing; a signalling one NV. */
    F3(OP_FMADD_S, RNE, S(S_ONE), S(S_ONE), S(S_QNAN), S(S_QNAN), 0);
    F3(OP_FMADD_S, RNE, S(S_ONE), S(S_ONE), S(S_SNAN), S(S_QNAN), NV);
    /* inf - inf inside the fma is invalid; inf + finite is inf. */
    F3(OP_FMADD_S, RNE, S(S_INF), S(S_ONE), S(S_M_INF), S(S_QNAN), NV);
    F3(OP_FMSUB_S, RNE, S(S_INF), S(S_ONE), S(S_M_INF), S(S_INF), 0);
    F3(OP_FMADD_D, RNE, D_ONE, D_ONE, D_M_INF, D_M_INF, 0);
    /* Overflow through the product: FLT_MAX * 2 + 1. */
    F3(OP_FMADD_S, RTZ, S(S_MAX), S(S_TWO), S(S_ONE), S(S_MAX), OF | NX);
}

static void test_nan_boxing(void)
{
    /* A single read from a register that is not a valid NaN box is the
     * canonical NaN (spec 12.2): a quiet NaN, so no flag. */
    F2(OP_FADD_S, RNE, 0x000000003f800000ull, S(S_ONE), S(S_QNAN), 0);
    F2(OP_FADD_S, RNE, 0xfffffffe3f800000ull, S(S_ONE), S(S_QNAN), 0);
    /* Every single result is boxed. */
    F2(OP_FADD_S, RNE, S(S_ONE), S(S_ONE), 0xffffffff40000000ull, 0);
    /* Sign injection works on the unboxed bits: a bad box yields the
     * canonical NaN's bits with the injected sign. */
    F2(OP_FSGNJ_S, RNE, 0x000000003f800000ull, S(S_ONE), S(0x7fc00000), 0);
    F2(OP_FSGNJN_S, RNE, 0x000000003f800000ull, S(S_ONE), S(0xffc00000), 0);
    F2(OP_FSGNJ_S, RNE, S(S_ONE), 0x00000000bf800000ull, S(S_ONE), 0);  /* rs2 unboxed: +NaN */
    /* Moves transfer the low 32 bits, boxed or not (spec 12.2). */
    X1(OP_FMV_X_W, RNE, 0x1234567887654321ull, 0xffffffff87654321ull, 0);
    X1(OP_FMV_X_W, RNE, S(0x7fffffff), 0x000000007fffffffull, 0);
    F1(OP_FMV_W_X, RNE, 0x1234567889abcdefull, S(0x89abcdef), 0);
    X1(OP_FMV_X_D, RNE, 0x7ff0000000000001ull, 0x7ff0000000000001ull, 0);
    F1(OP_FMV_D_X, RNE, 0xfff4000000000123ull, 0xfff4000000000123ull, 0);
    /* FCLASS and FCVT.D.S see the canonical NaN. */
    X1(OP_FCLASS_S, RNE, 0x000000003f800000ull, 1u << 9, 0);
    F1(OP_FCVT_D_S, RNE, 0x000000003f800000ull, D_QNAN, 0);
}

static void test_canonical_nan(void)
{
    /* No payload propagation (spec 11.3). */
    F2(OP_FADD_S, RNE, S(0x7fc12345), S(S_ONE), S(S_QNAN), 0);
    F2(OP_FADD_S, RNE, S(0xffc00000), S(S_ONE), S(S_QNAN), 0);
    F2(OP_FMUL_S, RNE, S(S_ONE), S(S_SNAN), S(S_QNAN), NV);
    F2(OP_FSUB_S, RNE, S(S_INF), S(S_INF), S(S_QNAN), NV);
    F2(OP_FADD_D, RNE, D_M_INF, D_INF, D_QNAN, NV);
    F2(OP_FMUL_D, RNE, D_SNAN, D_ONE, D_QNAN, NV);
    F2(OP_FDIV_D, RNE, 0xfff8000000abcdefull, D_ONE, D_QNAN, 0);
    F1(OP_FCVT_S_D, RNE, D_SNAN, S(S_QNAN), NV);
    F1(OP_FCVT_S_D, RNE, 0x7ff800000000beefull, S(S_QNAN), 0);
    F1(OP_FCVT_D_S, RNE, S(S_SNAN), D_QNAN, NV);
    F1(OP_FCVT_D_S, RNE, S(0xffc00001), D_QNAN, 0);
    /* Sign injection is not arithmetic: no canonicalisation, no flags. */
    F2(OP_FSGNJN_D, RNE, D_SNAN, D_ONE, 0xfff0000000000001ull, 0);
    F2(OP_FSGNJX_S, RNE, S(0xff800001), S(S_M_ONE), S(0x7f800001), 0);
}

static void test_sign_injection(void)
{
    F2(OP_FSGNJ_D, RNE, D_ONE, 0xc000000000000000ull, D_M_ONE, 0);
    F2(OP_FSGNJN_D, RNE, D_ONE, 0xc000000000000000ull, D_ONE, 0);
    F2(OP_FSGNJX_D, RNE, D_M_ONE, 0xc000000000000000ull, D_ONE, 0);
    F2(OP_FSGNJX_D, RNE, D_M_ONE, D_TWO, D_M_ONE, 0);
    F2(OP_FSGNJ_S, RNE, S(S_ONE), S(S_M_ZERO), S(S_M_ONE), 0);
    F2(OP_FSGNJN_S, RNE, S(S_ONE), S(S_ONE), S(S_M_ONE), 0);   /* fneg */
    F2(OP_FSGNJX_S, RNE, S(S_M_ONE), S(S_M_ONE), S(S_ONE), 0); /* fabs */
}

static void test_min_max(void)
{
    /* IEEE 754-2019 minimumNumber/maximumNumber: -0 < +0. */
    F2(OP_FMIN_S, RNE, S(0), S(S_M_ZERO), S(S_M_ZERO), 0);
    F2(OP_FMIN_S, RNE, S(S_M_ZERO), S(0), S(S_M_ZERO), 0);
    F2(OP_FMAX_S, RNE, S(S_M_ZERO), S(0), S(0), 0);
    F2(OP_FMAX_S, RNE, S(0), S(S_M_ZERO), S(0), 0);
    F2(OP_FMIN_D, RNE, 0, D_M_ZERO, D_M_ZERO, 0);
    F2(OP_FMAX_D, RNE, D_M_ZERO, 0, 0, 0);
    /* Ordinary values, negatives, infinities. */
    F2(OP_FMIN_S, RNE, S(S_ONE), S(S_TWO), S(S_ONE), 0);
    F2(OP_FMAX_S, RNE, S(S_ONE), S(S_TWO), S(S_TWO), 0);
    F2(OP_FMAX_S, RNE, S(S_M_ONE), S(0xc0000000), S(S_M_ONE), 0);
    F2(OP_FMIN_S, RNE, S(S_M_ONE), S(0xc0000000), S(0xc0000000), 0);
    F2(OP_FMIN_D, RNE, D_M_INF, D_ONE, D_M_INF, 0);
    F2(OP_FMAX_D, RNE, D_M_INF, D_MAX, D_MAX, 0);
    /* One NaN: the other operand; NV only if the NaN signals. */
    F2(OP_FMIN_S, RNE, S(S_QNAN), S(S_ONE), S(S_ONE), 0);
    F2(OP_FMAX_S, RNE, S(S_ONE), S(0xffc00000), S(S_ONE), 0);
    F2(OP_FMIN_S, RNE, S(S_SNAN), S(S_ONE), S(S_ONE), NV);
    F2(OP_FMAX_D, RNE, D_ONE, D_SNAN, D_ONE, NV);
    /* Both NaN: the canonical NaN. */
    F2(OP_FMAX_S, RNE, S(0x7fc00001), S(0xffc00000), S(S_QNAN), 0);
    F2(OP_FMIN_S, RNE, S(S_SNAN), S(S_QNAN), S(S_QNAN), NV);
    F2(OP_FMIN_D, RNE, 0x7ff8000000000001ull, D_SNAN, D_QNAN, NV);
    /* A bad NaN box counts as a quiet NaN operand. */
    F2(OP_FMIN_S, RNE, 0x3f800000ull, S(S_TWO), S(S_TWO), 0);
}

static void test_compare(void)
{
    /* FEQ is quiet: NV only for a signalling NaN. */
    X2(OP_FEQ_S, RNE, S(S_QNAN), S(S_ONE), 0, 0);
    X2(OP_FEQ_S, RNE, S(S_SNAN), S(S_ONE), 0, NV);
    X2(OP_FEQ_S, RNE, S(S_QNAN), S(S_QNAN), 0, 0);
    X2(OP_FEQ_S, RNE, S(0), S(S_M_ZERO), 1, 0);
    X2(OP_FEQ_S, RNE, S(S_ONE), S(S_ONE), 1, 0);
    X2(OP_FEQ_D, RNE, D_ONE, D_TWO, 0, 0);
    X2(OP_FEQ_D, RNE, D_M_ZERO, 0, 1, 0);
    X2(OP_FEQ_D, RNE, D_SNAN, D_SNAN, 0, NV);
    /* FLT and FLE signal on any NaN. */
    X2(OP_FLT_S, RNE, S(S_QNAN), S(S_ONE), 0, NV);
    X2(OP_FLE_S, RNE, S(S_ONE), S(S_QNAN), 0, NV);
    X2(OP_FLT_D, RNE, D_ONE, D_QNAN, 0, NV);
    X2(OP_FLE_D, RNE, D_SNAN, D_ONE, 0, NV);
    /* Ordering, with -0 == +0. */
    X2(OP_FLT_S, RNE, S(S_M_ZERO), S(0), 0, 0);
    X2(OP_FLE_S, RNE, S(S_M_ZERO), S(0), 1, 0);
    X2(OP_FLE_S, RNE, S(0), S(S_M_ZERO), 1, 0);
    X2(OP_FLT_S, RNE, S(S_M_ONE), S(S_ONE), 1, 0);
    X2(OP_FLT_S, RNE, S(S_ONE), S(S_M_ONE), 0, 0);
    X2(OP_FLT_S, RNE, S(0xc0000000), S(S_M_ONE), 1, 0);   /* -2 < -1 */
    X2(OP_FLE_S, RNE, S(S_M_ONE), S(0xc0000000), 0, 0);
    X2(OP_FLE_S, RNE, S(S_TWO), S(S_TWO), 1, 0);
    X2(OP_FLT_S, RNE, S(S_TWO), S(S_TWO), 0, 0);
    X2(OP_FLT_D, RNE, D_M_INF, D_M_ONE, 1, 0);
    X2(OP_FLT_D, RNE, D_MAX, D_INF, 1, 0);
    X2(OP_FLE_D, RNE, 1, 0, 0, 0);                        /* subnormal > 0 */
    X2(OP_FLT_D, RNE, 0x8000000000000001ull, 0, 1, 0);
}

static void test_classify(void)
{
    /* Spec 11.9 FCLASS bits: 0 -inf, 1 -normal, 2 -subnormal, 3 -0, 4 +0,
     * 5 +subnormal, 6 +normal, 7 +inf, 8 sNaN, 9 qNaN. */
    X1(OP_FCLASS_S, RNE, S(S_M_INF), 1u << 0, 0);
    X1(OP_FCLASS_S, RNE, S(S_M_ONE), 1u << 1, 0);
    X1(OP_FCLASS_S, RNE, S(0x807fffff), 1u << 2, 0);
    X1(OP_FCLASS_S, RNE, S(S_M_ZERO), 1u << 3, 0);
    X1(OP_FCLASS_S, RNE, S(0), 1u << 4, 0);
    X1(OP_FCLASS_S, RNE, S(S_MIN_SUB), 1u << 5, 0);
    X1(OP_FCLASS_S, RNE, S(S_MIN_NORM), 1u << 6, 0);
    X1(OP_FCLASS_S, RNE, S(S_INF), 1u << 7, 0);
    X1(OP_FCLASS_S, RNE, S(S_SNAN), 1u << 8, 0);
    X1(OP_FCLASS_S, RNE, S(0xffbfffff), 1u << 8, 0);
    X1(OP_FCLASS_S, RNE, S(S_QNAN), 1u << 9, 0);
    X1(OP_FCLASS_S, RNE, S(0xffc00001), 1u << 9, 0);

    X1(OP_FCLASS_D, RNE, D_M_INF, 1u << 0, 0);
    X1(OP_FCLASS_D, RNE, 0x8010000000000000ull, 1u << 1, 0);
    X1(OP_FCLASS_D, RNE, 0x800fffffffffffffull, 1u << 2, 0);
    X1(OP_FCLASS_D, RNE, D_M_ZERO, 1u << 3, 0);
    X1(OP_FCLASS_D, RNE, 0, 1u << 4, 0);
    X1(OP_FCLASS_D, RNE, 1, 1u << 5, 0);
    X1(OP_FCLASS_D, RNE, D_MAX, 1u << 6, 0);
    X1(OP_FCLASS_D, RNE, D_INF, 1u << 7, 0);
    X1(OP_FCLASS_D, RNE, D_SNAN, 1u << 8, 0);
    X1(OP_FCLASS_D, RNE, D_QNAN, 1u << 9, 0);
}

#define I32_MAX_X 0x000000007fffffffull      /* INT32_MAX, sign-extended */
#define I32_MIN_X 0xffffffff80000000ull      /* INT32_MIN, sign-extended */
#define ALL_ONES  0xffffffffffffffffull

static void test_to_int32(void)
{
    /* 2^31 (exponent 1054 = 0x41e) is just out of range for W. */
    X1(OP_FCVT_W_D, RNE, 0x41e0000000000000ull, I32_MAX_X, NV);
    /* 2^31 - 1: exponent 1053, fraction (2^30 - 1) << 22. */
    X1(OP_FCVT_W_D, RNE, 0x41dfffffffc00000ull, I32_MAX_X, 0);
    /* 2^31 - 0.5 (fraction (2^31 - 1) << 21): a tie; RNE picks the even
     * 2^31, out of range; RTZ gives 2^31 - 1 inexactly. */
    X1(OP_FCVT_W_D, RNE, 0x41dfffffffe00000ull, I32_MAX_X, NV);
    X1(OP_FCVT_W_D, RTZ, 0x41dfffffffe00000ull, I32_MAX_X, NX);
    X1(OP_FCVT_W_D, RDN, 0x41dfffffffe00000ull, I32_MAX_X, NX);
    /* -2^31 is in range. -2^31 - 1 (fraction 1 << 21) is not. */
    X1(OP_FCVT_W_D, RNE, 0xc1e0000000000000ull, I32_MIN_X, 0);
    X1(OP_FCVT_W_D, RNE, 0xc1e0000000200000ull, I32_MIN_X, NV);
    /* -2^31 - 0.5 (fraction 1 << 20): RNE ties to the even -2^31 (in range,
     * inexact); RMM and RDN go to -2^31 - 1 (invalid); RUP/RTZ to -2^31. */
    X1(OP_FCVT_W_D, RNE, 0xc1e0000000100000ull, I32_MIN_X, NX);
    X1(OP_FCVT_W_D, RMM, 0xc1e0000000100000ull, I32_MIN_X, NV);
    X1(OP_FCVT_W_D, RDN, 0xc1e0000000100000ull, I32_MIN_X, NV);
    X1(OP_FCVT_W_D, RUP, 0xc1e0000000100000ull, I32_MIN_X, NX);
    X1(OP_FCVT_W_D, RTZ, 0xc1e0000000100000ull, I32_MIN_X, NX);
    /* NaN -> INT32_MAX; +-inf saturate; -0 -> 0 exactly. */
    X1(OP_FCVT_W_D, RNE, D_QNAN, I32_MAX_X, NV);
    X1(OP_FCVT_W_D, RNE, 0xfff8000000000000ull, I32_MAX_X, NV);
    X1(OP_FCVT_W_D, RNE, D_INF, I32_MAX_X, NV);
    X1(OP_FCVT_W_D, RNE, D_M_INF, I32_MIN_X, NV);
    X1(OP_FCVT_W_D, RNE, D_M_ZERO, 0, 0);
    /* 2.5 (0x4004...) and -2.5 in every mode. */
    X1(OP_FCVT_W_D, RNE, 0x4004000000000000ull, 2, NX);
    X1(OP_FCVT_W_D, RMM, 0x4004000000000000ull, 3, NX);
    X1(OP_FCVT_W_D, RUP, 0x4004000000000000ull, 3, NX);
    X1(OP_FCVT_W_D, RDN, 0x4004000000000000ull, 2, NX);
    X1(OP_FCVT_W_D, RTZ, 0x4004000000000000ull, 2, NX);
    X1(OP_FCVT_W_D, RNE, 0xc004000000000000ull, (uint64_t)-2, NX);
    X1(OP_FCVT_W_D, RMM, 0xc004000000000000ull, (uint64_t)-3, NX);
    X1(OP_FCVT_W_D, RDN, 0xc004000000000000ull, (uint64_t)-3, NX);
    X1(OP_FCVT_W_D, RUP, 0xc004000000000000ull, (uint64_t)-2, NX);
    X1(OP_FCVT_W_D, RTZ, 0xc004000000000000ull, (uint64_t)-2, NX);
    /* Single sources: 2^31 (0x4f000000) invalid, -2^31 (0xcf000000) fine. */
    X1(OP_FCVT_W_S, RNE, S(0x4f000000), I32_MAX_X, NV);
    X1(OP_FCVT_W_S, RNE, S(0xcf000000), I32_MIN_X, 0);
    X1(OP_FCVT_W_S, RNE, S(0x4effffff), 0x7fffff80ull, 0);  /* 2^31 - 128 */
    X1(OP_FCVT_W_S, RNE, 0x000000003f800000ull, I32_MAX_X, NV); /* bad box = NaN */

    /* Unsigned: -0.5 rounds to -0 = 0 (valid, inexact) in RNE/RTZ/RUP, but
     * to -1 (invalid, 0) in RDN and RMM. -1 is invalid in every mode. */
    X1(OP_FCVT_WU_D, RNE, 0xbfe0000000000000ull, 0, NX);
    X1(OP_FCVT_WU_D, RTZ, 0xbfe0000000000000ull, 0, NX);
    X1(OP_FCVT_WU_D, RUP, 0xbfe0000000000000ull, 0, NX);
    X1(OP_FCVT_WU_D, RDN, 0xbfe0000000000000ull, 0, NV);
    X1(OP_FCVT_WU_D, RMM, 0xbfe0000000000000ull, 0, NV);
    X1(OP_FCVT_WU_D, RNE, D_M_ONE, 0, NV);
    X1(OP_FCVT_WU_D, RNE, D_M_INF, 0, NV);
    /* 2^32 - 1 fits and is sign-extended as a 32-bit result; 2^32 does not. */
    X1(OP_FCVT_WU_D, RNE, 0x41efffffffe00000ull, ALL_ONES, 0);
    X1(OP_FCVT_WU_D, RNE, 0x41f0000000000000ull, ALL_ONES, NV);
    X1(OP_FCVT_WU_D, RNE, D_INF, ALL_ONES, NV);
    X1(OP_FCVT_WU_D, RNE, D_QNAN, ALL_ONES, NV);
    X1(OP_FCVT_WU_D, RNE, 0x41dfffffffc00000ull, I32_MAX_X, 0);
    X1(OP_FCVT_WU_S, RNE, S(0x4f800000), ALL_ONES, NV);      /* 2^32 */
    X1(OP_FCVT_WU_S, RNE, S(0x4f000000), I32_MIN_X, 0);      /* 2^31 -> 0x80000000 */
    X1(OP_FCVT_WU_S, RNE, S(0xbf000000), 0, NX);             /* -0.5 */
}

static void test_to_int64(void)
{
    /* 2^63 (exponent 1086 = 0x43e) out of range; -2^63 in range. */
    X1(OP_FCVT_L_D, RNE, 0x43e0000000000000ull, 0x7fffffffffffffffull, NV);
    X1(OP_FCVT_L_D, RNE, 0xc3e0000000000000ull, 0x8000000000000000ull, 0);
    /* The largest double below 2^63 is 2^63 - 2^10. */
    X1(OP_FCVT_L_D, RNE, 0x43dfffffffffffffull, 0x7ffffffffffffc00ull, 0);
    /* The smallest double below -2^63: -(2^63 + 2^11), invalid. */
    X1(OP_FCVT_L_D, RNE, 0xc3e0000000000001ull, 0x8000000000000000ull, NV);
    X1(OP_FCVT_L_D, RNE, D_QNAN, 0x7fffffffffffffffull, NV);
    X1(OP_FCVT_L_D, RNE, D_M_INF, 0x8000000000000000ull, NV);
    X1(OP_FCVT_L_D, RNE, D_INF, 0x7fffffffffffffffull, NV);
    X1(OP_FCVT_L_D, RDN, 0xbfe0000000000000ull, ALL_ONES, NX);  /* -0.5 -> -1 */
    X1(OP_FCVT_L_D, RNE, 1, 0, NX);                           /* subnormal */
    X1(OP_FCVT_L_D, RUP, 1, 1, NX);
    X1(OP_FCVT_L_S, RNE, S(0x5f000000), 0x7fffffffffffffffull, NV);  /* 2^63 */
    X1(OP_FCVT_L_S, RNE, S(0xdf000000), 0x8000000000000000ull, 0);   /* -2^63 */

    /* 2^64 (exponent 1087 = 0x43f) out of range for LU; 2^64 - 2^11 fits. */
    X1(OP_FCVT_LU_D, RNE, 0x43f0000000000000ull, ALL_ONES, NV);
    X1(OP_FCVT_LU_D, RNE, 0x43efffffffffffffull, 0xfffffffffffff800ull, 0);
    X1(OP_FCVT_LU_D, RNE, 0x43e0000000000000ull, 0x8000000000000000ull, 0);
    X1(OP_FCVT_LU_D, RNE, 0xbfe0000000000000ull, 0, NX);
    X1(OP_FCVT_LU_D, RDN, 0xbfe0000000000000ull, 0, NV);
    X1(OP_FCVT_LU_D, RNE, D_M_INF, 0, NV);
    X1(OP_FCVT_LU_D, RNE, D_QNAN, ALL_ONES, NV);
    X1(OP_FCVT_LU_S, RNE, S(0x5f800000), ALL_ONES, NV);        /* 2^64 */
    X1(OP_FCVT_LU_S, RNE, S(0xbf000000), 0, NX);
    X1(OP_FCVT_LU_S, RMM, S(0x3fc00000), 2, NX);               /* 1.5 -> 2 */
}

static void test_from_int(void)
{
    /* 2^24 + 1 needs 25 bits: a tie between 2^24 (0x4b800000) and
     * 2^24 + 2 (0x4b800001). */
    F1(OP_FCVT_S_W, RNE, 16777217, S(0x4b800000), NX);
    F1(OP_FCVT_S_W, RMM, 16777217, S(0x4b800001), NX);
    F1(OP_FCVT_S_W, RUP, 16777217, S(0x4b800001), NX);
    F1(OP_FCVT_S_W, RDN, 16777217, S(0x4b800000), NX);
    F1(OP_FCVT_S_W, RTZ, 16777217, S(0x4b800000), NX);
    F1(OP_FCVT_S_W, RNE, (uint64_t)-16777217, S(0xcb800000), NX);
    F1(OP_FCVT_S_W, RMM, (uint64_t)-16777217, S(0xcb800001), NX);
    F1(OP_FCVT_S_W, RDN, (uint64_t)-16777217, S(0xcb800001), NX);
    F1(OP_FCVT_S_W, RUP, (uint64_t)-16777217, S(0xcb800000), NX);
    /* W reads only the low 32 bits of x: 0x1_00000005 converts as 5. */
    F1(OP_FCVT_S_W, RNE, 0x0000000100000005ull, S(0x40a00000), 0);
    F1(OP_FCVT_S_W, RNE, 0x00000000ffffffffull, S(S_M_ONE), 0);
    /* Zero converts to +0 in every mode. */
    F1(OP_FCVT_S_W, RDN, 0, S(0), 0);
    F1(OP_FCVT_D_L, RDN, 0, 0, 0);
    /* 2^32 - 1 as a single: nearest is 2^32 (0x4f800000); RTZ 2^32 - 256. */
    F1(OP_FCVT_S_WU, RNE, 0xffffffffull, S(0x4f800000), NX);
    F1(OP_FCVT_S_WU, RTZ, 0xffffffffull, S(0x4f7fffff), NX);
    F1(OP_FCVT_D_WU, RNE, ALL_ONES, 0x41efffffffe00000ull, 0);
    F1(OP_FCVT_D_W, RNE, ALL_ONES, D_M_ONE, 0);
    F1(OP_FCVT_D_W, RNE, 0x80000000ull, 0xc1e0000000000000ull, 0);  /* -2^31 */
    /* 64-bit sources. */
    F1(OP_FCVT_D_L, RNE, 0x8000000000000000ull, 0xc3e0000000000000ull, 0);
    F1(OP_FCVT_D_L, RNE, 0x0020000000000001ull, 0x4340000000000000ull, NX); /* 2^53+1 */
    F1(OP_FCVT_D_L, RMM, 0x0020000000000001ull, 0x4340000000000001ull, NX);
    F1(OP_FCVT_D_LU, RNE, ALL_ONES, 0x43f0000000000000ull, NX);
    F1(OP_FCVT_D_LU, RTZ, ALL_ONES, 0x43efffffffffffffull, NX);
    F1(OP_FCVT_S_L, RNE, 0x8000000000000000ull, S(0xdf000000), 0);
    F1(OP_FCVT_S_LU, RNE, ALL_ONES, S(0x5f800000), NX);
    F1(OP_FCVT_S_LU, RTZ, ALL_ONES, S(0x5f7fffff), NX);
}

static void test_float_float(void)
{
    /* 1 + 2^-24 as a double (fraction 1 << 28) narrows to a tie. */
    F1(OP_FCVT_S_D, RNE, 0x3ff0000010000000ull, S(S_ONE), NX);
    F1(OP_FCVT_S_D, RMM, 0x3ff0000010000000ull, S(0x3f800001), NX);
    F1(OP_FCVT_S_D, RUP, 0x3ff0000010000000ull, S(0x3f800001), NX);
    /* DBL_MAX overflows a single. */
    F1(OP_FCVT_S_D, RNE, D_MAX, S(S_INF), OF | NX);
    F1(OP_FCVT_S_D, RTZ, D_MAX, S(S_MAX), OF | NX);
    /* 2^-150 (exponent 873 = 0x369): half the smallest single subnormal. */
    F1(OP_FCVT_S_D, RNE, 0x3690000000000000ull, S(0), UF | NX);
    F1(OP_FCVT_S_D, RMM, 0x3690000000000000ull, S(S_MIN_SUB), UF | NX);
    F1(OP_FCVT_S_D, RUP, 0x3690000000000000ull, S(S_MIN_SUB), UF | NX);
    /* 2^-127 (exponent 896 = 0x380) is an exact single subnormal. */
    F1(OP_FCVT_S_D, RNE, 0x3800000000000000ull, S(0x00400000), 0);
    F1(OP_FCVT_S_D, RNE, D_M_INF, S(S_M_INF), 0);
    F1(OP_FCVT_S_D, RNE, D_M_ZERO, S(S_M_ZERO), 0);
    /* Widening is exact: 2^-149 = double exponent 874 = 0x36a. */
    F1(OP_FCVT_D_S, RNE, S(S_MIN_SUB), 0x36a0000000000000ull, 0);
    F1(OP_FCVT_D_S, RNE, S(0x3fb504f3), 0x3ff6a09e60000000ull, 0);
    F1(OP_FCVT_D_S, RNE, S(S_M_INF), D_M_INF, 0);
    F1(OP_FCVT_D_S, RNE, S(S_M_ZERO), D_M_ZERO, 0);
}

static void test_rounding_mode_field(void)
{
    uint8_t before;
    /* rm 5 and 6 are reserved: illegal, nothing written. */
    for (int rm = 5; rm <= 6; rm++) {
        H.fflags = 0;
        CHECK(!run(OP_FADD_S, rm, S(S_ONE), S(0x33800000), 0));
        CHECK_EQ(H.f[RD], 0xdeadbeefdeadbeefull);
        CHECK_EQ(H.fflags, 0);
        CHECK(!run(OP_FCVT_W_D, rm, D_QNAN, 0, 0));
        CHECK_EQ(H.x[RD], 0xdeadbeefdeadbeefull);
        CHECK_EQ(H.fflags, 0);
    }
    /* DYN takes frm; frm 5..7 make the instruction illegal. */
    for (int frm = 5; frm <= 7; frm++) {
        H.frm = (uint8_t)frm;
        CHECK(!run(OP_FMADD_D, DYN, D_ONE, D_ONE, D_ONE));
        CHECK_EQ(H.f[RD], 0xdeadbeefdeadbeefull);
        CHECK(!run(OP_FCVT_D_W, DYN, 1, 0, 0));
    }
    /* ...but ops without a rounding mode ignore frm. */
    H.frm = 7;
    X2(OP_FEQ_S, 2, S(S_ONE), S(S_ONE), 1, 0);
    X1(OP_FCLASS_D, 1, D_ONE, 1u << 6, 0);
    F2(OP_FMIN_S, 0, S(S_ONE), S(S_TWO), S(S_ONE), 0);
    F2(OP_FSGNJN_D, 1, D_ONE, D_ONE, D_M_ONE, 0);
    /* DYN with a valid frm uses it: RMM, RUP, RNE on the 1 + 2^-24 tie. */
    H.frm = RM_RMM;
    F2(OP_FADD_S, DYN, S(S_ONE), S(0x33800000), S(0x3f800001), NX);
    H.frm = RM_RUP;
    F2(OP_FSUB_S, DYN, S(S_M_ONE), S(0x33800000), S(S_M_ONE), NX);
    H.frm = RM_RNE;
    F2(OP_FADD_S, DYN, S(S_ONE), S(0x33800000), S(S_ONE), NX);
    /* A static rm overrides frm. */
    H.frm = RM_RUP;
    F2(OP_FADD_S, RTZ, S(S_ONE), S(0x33800000), S(S_ONE), NX);
    H.frm = 0;

    /* Flags accrue; they are never cleared by an instruction. */
    struct insn in = { 0 };
    in.op = OP_FDIV_S;
    in.rd = 6;
    in.rs1 = 7;
    in.rs2 = 8;
    in.rm = RNE;
    H.f[7] = S(S_ONE);
    H.f[8] = S(0);
    H.fflags = NV;
    CHECK(fpu_execute(&H, &in));
    CHECK_EQ(H.fflags, NV | DZ);
    H.f[8] = S(S_THREE);
    CHECK(fpu_execute(&H, &in));
    CHECK_EQ(H.fflags, NV | DZ | NX);
    before = H.fflags;
    H.f[8] = S(S_ONE);
    CHECK(fpu_execute(&H, &in));
    CHECK_EQ(H.fflags, before);

    /* x0 is never written. */
    in.op = OP_FEQ_D;
    in.rd = 0;
    H.x[0] = 0;
    H.f[7] = D_ONE;
    H.f[8] = D_ONE;
    CHECK(fpu_execute(&H, &in));
    CHECK_EQ(H.x[0], 0);
    in.op = OP_FCVT_L_D;
    CHECK(fpu_execute(&H, &in));
    CHECK_EQ(H.x[0], 0);
}

/* ---- host fast path against the integer path ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* An operand the fast paths must judge right: a random significand near 1
 * (inexact results), a small integer or an integer scaled by a power of two
 * (exact sums and products), or 0 / the negated product of the other two
 * (exact cancellation, same lowest bit). */
static uint64_t operand_d(uint64_t x, uint64_t y)
{
    double v, a, b;
    switch (rng() % 5) {
    case 0: return (rng() >> 12) | (uint64_t)(1023 - 40 + rng() % 80) << 52 | (rng() & 1) << 63;
    case 1: v = (double)((int64_t)(rng() % 8193) - 4096); break;
    case 2: v = (double)((int64_t)(rng() % 1025) - 512) * (double)(1ull << (rng() % 40)) / 1048576.0; break;
    case 3: memcpy(&a, &x, 8); memcpy(&b, &y, 8); v = -(a * b); break;
    default: return 0;
    }
    uint64_t r;
    memcpy(&r, &v, 8);
    return r;
}

static uint32_t operand_s(uint32_t x, uint32_t y)
{
    float v, a, b;
    switch (rng() % 5) {
    case 0: return (uint32_t)(rng() >> 41) | (uint32_t)(127 - 20 + rng() % 40) << 23 | (uint32_t)(rng() & 1) << 31;
    case 1: v = (float)((int)(rng() % 513) - 256); break;
    case 2: v = (float)((int)(rng() % 65) - 32) * (float)(1u << (rng() % 20)) / 1024.0f; break;
    case 3: memcpy(&a, &x, 4); memcpy(&b, &y, 4); v = -(a * b); break;
    default: return 0;
    }
    uint32_t r;
    memcpy(&r, &v, 4);
    return r;
}

static const int fast_ops[] = {
    OP_FADD_D, OP_FSUB_D, OP_FMUL_D, OP_FDIV_D, OP_FMADD_D, OP_FMSUB_D, OP_FNMSUB_D, OP_FNMADD_D,
    OP_FADD_S, OP_FSUB_S, OP_FMUL_S, OP_FDIV_S, OP_FMADD_S, OP_FMSUB_S, OP_FNMSUB_S, OP_FNMADD_S,
};

static void test_host_fast_path(void)
{
    unsigned exact = 0, inexact = 0, mismatches = 0;
    for (unsigned i = 0; i < 400000; i++) {
        int op = fast_ops[i % (sizeof fast_ops / sizeof fast_ops[0])];
        bool dbl = op >= OP_FMADD_D && op <= OP_FCLASS_D;
        uint64_t a, b, c;
        if (dbl) {
            a = operand_d(D_ONE, D_ONE);
            b = operand_d(a, D_ONE);
            c = operand_d(a, b);
        } else {
            a = S(operand_s(S_ONE, S_ONE));
            b = S(operand_s((uint32_t)a, S_ONE));
            c = S(operand_s((uint32_t)a, (uint32_t)b));
        }
        fpu_set_host_fast(true);
        CHECK(run(op, RNE, a, b, c));
        uint64_t fast = H.f[RD];
        uint32_t fast_flags = H.fflags;
        fpu_set_host_fast(false);
        CHECK(run(op, RNE, a, b, c));
        if (fast != H.f[RD] || fast_flags != H.fflags) {
            if (mismatches++ < 5)
                fprintf(stderr, "%s %016llx %016llx %016llx: fast %016llx/%x, exact %016llx/%x\n",
                        insn_name((enum insn_op)op), (unsigned long long)a, (unsigned long long)b,
                        (unsigned long long)c, (unsigned long long)fast, fast_flags,
                        (unsigned long long)H.f[RD], (unsigned)H.fflags);
        }
        if (H.fflags == 0)
            exact++;
        else if (H.fflags == NX)
            inexact++;
    }
    fpu_set_host_fast(true);
    CHECK_EQ(mismatches, 0);
    /* both outcomes are well represented, or the comparison proves little */
    CHECK(exact > 40000);
    CHECK(inexact > 40000);
}

int main(void)
{
    memset(&H, 0, sizeof H);
    test_add_rounding();
    test_signed_zero_sums();
    test_overflow();
    test_underflow();
    test_mul_div_sqrt();
    test_fma();
    test_nan_boxing();
    test_canonical_nan();
    test_sign_injection();
    test_min_max();
    test_compare();
    test_classify();
    test_to_int32();
    test_to_int64();
    test_from_int();
    test_float_float();
    test_rounding_mode_field();
    test_host_fast_path();
    return check_summary();
}
