/* d.c: the D extension (unprivileged spec chapter 12), with the same
 * discipline as f.c: every result is the full register plus the exact fflags
 * raised. Rounding in each static mode and through frm, overflow and
 * underflow with tininess after rounding, the canonical NaN
 * 0x7ff8000000000000, fcvt saturation (table 11.4 applied to doubles),
 * conversions between single and double (rounding, NaN canonicalisation,
 * the result NaN-boxed, an improperly boxed single input read as the
 * canonical NaN), fmin/fmax, one rounding in fused multiply-add, fclass and
 * comparisons.
 */
#include "fp.h"

#define ONE    0x3ff0000000000000ull
#define TWO    0x4000000000000000ull
#define THREE  0x4008000000000000ull
#define HALF   0x3fe0000000000000ull
#define SIGN   0x8000000000000000ull
#define INF    0x7ff0000000000000ull
#define QNAN   0x7ff8000000000000ull    /* the canonical NaN */
#define SNAN   0x7ff0000000000001ull
#define MAXD   0x7fefffffffffffffull
#define MINN   0x0010000000000000ull    /* 2^-1022 */
#define MINSUB 0x0000000000000001ull    /* 2^-1074 */
#define EPS53  0x3ca0000000000000ull    /* 2^-53: half an ulp of 1.0 */

#define S_ONE  0x3f800000u
#define S_QNAN 0x7fc00000u
#define S_SNAN 0x7f800001u

static void rounding(void)
{
    expect_fp(1, FOP2("fadd.d", "rne", ONE, EPS53), ONE, NX);
    expect_fp(2, FOP2("fadd.d", "rtz", ONE, EPS53), ONE, NX);
    expect_fp(3, FOP2("fadd.d", "rdn", ONE, EPS53), ONE, NX);
    expect_fp(4, FOP2("fadd.d", "rup", ONE, EPS53), ONE + 1, NX);
    expect_fp(5, FOP2("fadd.d", "rmm", ONE, EPS53), ONE + 1, NX);
    expect_fp(6, FOP2("fadd.d", "rdn", SIGN | ONE, SIGN | EPS53), (SIGN | ONE) + 1, NX);
    expect_fp(7, FOP2("fadd.d", "rup", SIGN | ONE, SIGN | EPS53), SIGN | ONE, NX);
    expect_fp(8, FOP2("fdiv.d", "rne", ONE, THREE), 0x3fd5555555555555ull, NX);
    expect_fp(9, FOP2("fdiv.d", "rup", ONE, THREE), 0x3fd5555555555556ull, NX);
    expect_fp(10, FOP2("fdiv.d", "rdn", SIGN | ONE, THREE), 0xbfd5555555555556ull, NX);
    set_frm(RM_RUP);
    expect_fp(11, FOP2("fadd.d", "dyn", ONE, EPS53), ONE + 1, NX);
    set_frm(RM_RMM);
    expect_fp(12, FOP2("fadd.d", "dyn", SIGN | ONE, SIGN | EPS53), (SIGN | ONE) + 1, NX);
    set_frm(RM_RNE);
    expect_fp(13, FOP2("fadd.d", "dyn", ONE, EPS53), ONE, NX);
}

static void overflow_underflow(void)
{
    expect_fp(14, FOP2("fmul.d", "rne", MAXD, TWO), INF, OF | NX);
    expect_fp(15, FOP2("fmul.d", "rtz", MAXD, TWO), MAXD, OF | NX);
    expect_fp(16, FOP2("fmul.d", "rdn", SIGN | MAXD, TWO), SIGN | INF, OF | NX);
    expect_fp(17, FOP2("fmul.d", "rup", SIGN | MAXD, TWO), SIGN | MAXD, OF | NX);
    expect_fp(18, FOP2("fmul.d", "rne", MINN, HALF), 0x0008000000000000ull, 0);   /* exact */
    expect_fp(19, FOP2("fmul.d", "rne", MINSUB, HALF), 0, UF | NX);
    expect_fp(20, FOP2("fmul.d", "rup", MINSUB, HALF), MINSUB, UF | NX);
    /* 2^-1022 (1 - 2^-104): not tiny after rounding. */
    expect_fp(21, FOP2("fmul.d", "rne", 0x000fffffffffffffull, ONE + 1), MINN, NX);
    expect_fp(22, FOP2("fmul.d", "rtz", 0x000fffffffffffffull, ONE + 1), 0x000fffffffffffffull, UF | NX);
}

static void special_values(void)
{
    expect_fp(23, FOP2("fdiv.d", "rne", ONE, 0), INF, DZ);
    expect_fp(24, FOP2("fdiv.d", "rne", SIGN | ONE, 0), SIGN | INF, DZ);
    expect_fp(25, FOP2("fdiv.d", "rne", 0, 0), QNAN, NV);
    expect_fp(26, FOP2("fmul.d", "rne", SIGN | INF, 0), QNAN, NV);
    expect_fp(27, FOP2("fsub.d", "rne", INF, INF), QNAN, NV);
    expect_fp(28, FOP2("fadd.d", "rne", 0x7ff8000000000badull, ONE), QNAN, 0);
    expect_fp(29, FOP2("fadd.d", "rne", 0xfff8000000000000ull, ONE), QNAN, 0);
    expect_fp(30, FOP2("fadd.d", "rne", ONE, SNAN), QNAN, NV);
    expect_fp(31, FOP2("fsub.d", "rdn", TWO, TWO), SIGN, 0);
    expect_fp(32, FOP1("fsqrt.d", "rne", 0x4010000000000000ull), TWO, 0);
    expect_fp(33, FOP1("fsqrt.d", "rne", SIGN), SIGN, 0);
    expect_fp(34, FOP1("fsqrt.d", "rne", SIGN | MINSUB), QNAN, NV);
    expect_fp(35, FOP1("fsqrt.d", "rne", TWO), 0x3ff6a09e667f3bcdull, NX);
    expect_fp(36, FOP1("fsqrt.d", "rtz", TWO), 0x3ff6a09e667f3bccull, NX);
}

static void single_double(void)
{
    expect_fp(37, FOP1X("fcvt.d.s", BOX(S_ONE)), ONE, 0);
    expect_fp(38, FOP1X("fcvt.d.s", BOX(1)), 0x36a0000000000000ull, 0);       /* 2^-149 */
    expect_fp(39, FOP1X("fcvt.d.s", BOX(S_SNAN)), QNAN, NV);
    expect_fp(40, FOP1X("fcvt.d.s", BOX(0x7fc12345)), QNAN, 0);
    expect_fp(41, FOP1X("fcvt.d.s", 0x000000003f800000ull), QNAN, 0);          /* not boxed */
    expect_fp(42, FOP1("fcvt.s.d", "rne", 0x3fd5555555555555ull), BOX(0x3eaaaaab), NX);
    expect_fp(43, FOP1("fcvt.s.d", "rtz", 0x3fd5555555555555ull), BOX(0x3eaaaaaa), NX);
    expect_fp(44, FOP1("fcvt.s.d", "rne", 0x3ff0000010000000ull), BOX(S_ONE), NX);  /* 1 + 2^-24 */
    expect_fp(45, FOP1("fcvt.s.d", "rup", 0x3ff0000010000000ull), BOX(0x3f800001), NX);
    expect_fp(46, FOP1("fcvt.s.d", "rne", MAXD), BOX(0x7f800000), OF | NX);
    expect_fp(47, FOP1("fcvt.s.d", "rtz", MAXD), BOX(0x7f7fffff), OF | NX);
    expect_fp(48, FOP1("fcvt.s.d", "rne", 0x3690000000000000ull), BOX(0), UF | NX);  /* 2^-150 */
    expect_fp(49, FOP1("fcvt.s.d", "rne", 0x7ff8000000000badull), BOX(S_QNAN), 0);
    expect_fp(50, FOP1("fcvt.s.d", "rne", SNAN), BOX(S_QNAN), NV);
    expect_fp(51, FOP1("fcvt.s.d", "rne", SIGN), BOX(0x80000000), 0);
}

static void conversions(void)
{
    expect_fp(52, FTOI("fcvt.w.d", "rne", 0x4004000000000000ull), 2, NX);            /* 2.5 */
    expect_fp(53, FTOI("fcvt.w.d", "rup", 0x4004000000000000ull), 3, NX);
    expect_fp(54, FTOI("fcvt.w.d", "rmm", 0x4004000000000000ull), 3, NX);
    expect_fp(55, FTOI("fcvt.w.d", "rdn", 0xc004000000000000ull), (uint64_t)-3ll, NX);
    /* -2^31 - 0.5: in range once rounded toward zero or to even, out of
     * range rounded down. */
    expect_fp(56, FTOI("fcvt.w.d", "rtz", 0xc1e0000000100000ull), 0xffffffff80000000ull, NX);
    expect_fp(57, FTOI("fcvt.w.d", "rne", 0xc1e0000000100000ull), 0xffffffff80000000ull, NX);
    expect_fp(58, FTOI("fcvt.w.d", "rdn", 0xc1e0000000100000ull), 0xffffffff80000000ull, NV);
    expect_fp(59, FTOI("fcvt.w.d", "rtz", QNAN), 0x7fffffff, NV);
    expect_fp(60, FTOI("fcvt.w.d", "rtz", INF), 0x7fffffff, NV);
    expect_fp(61, FTOI("fcvt.wu.d", "rtz", SIGN | ONE), 0, NV);
    expect_fp(62, FTOI("fcvt.wu.d", "rtz", 0x41efffffffe00000ull), 0xffffffffffffffffull, 0);  /* 2^32-1 */
    expect_fp(63, FTOI("fcvt.wu.d", "rtz", 0x41f0000000000000ull), 0xffffffffffffffffull, NV); /* 2^32 */
    expect_fp(64, FTOI("fcvt.l.d", "rtz", 0x43e0000000000000ull), 0x7fffffffffffffffull, NV);  /* 2^63 */
    expect_fp(65, FTOI("fcvt.l.d", "rtz", 0xc3e0000000000000ull), 0x8000000000000000ull, 0);
    expect_fp(66, FTOI("fcvt.l.d", "rtz", QNAN), 0x7fffffffffffffffull, NV);
    expect_fp(67, FTOI("fcvt.l.d", "rtz", SIGN | INF), 0x8000000000000000ull, NV);
    expect_fp(68, FTOI("fcvt.lu.d", "rtz", 0x43f0000000000000ull), 0xffffffffffffffffull, NV); /* 2^64 */
    expect_fp(69, FTOI("fcvt.lu.d", "rtz", 0x43efffffffffffffull), 0xfffffffffffff800ull, 0);
    expect_fp(70, FTOI("fcvt.lu.d", "rtz", QNAN), 0xffffffffffffffffull, NV);
    expect_fp(71, FTOI("fcvt.lu.d", "rtz", 0xbfe0000000000000ull), 0, NX);            /* -0.5 */
    expect_fp(72, FTOI("fcvt.lu.d", "rtz", SIGN | INF), 0, NV);
    expect_fp(73, ITOF("fcvt.d.l", "rne", 9007199254740993ull), 0x4340000000000000ull, NX);  /* 2^53+1 */
    expect_fp(74, ITOF("fcvt.d.l", "rup", 9007199254740993ull), 0x4340000000000001ull, NX);
    expect_fp(75, ITOF("fcvt.d.l", "rne", 0x8000000000000000ull), 0xc3e0000000000000ull, 0);
    expect_fp(76, ITOF("fcvt.d.lu", "rne", 0xffffffffffffffffull), 0x43f0000000000000ull, NX);
    expect_fp(77, ITOF("fcvt.d.lu", "rtz", 0xffffffffffffffffull), 0x43efffffffffffffull, NX);
    expect_fp(78, ITOFX("fcvt.d.w", 0x1234567880000000ull), 0xc1e0000000000000ull, 0);
    expect_fp(79, ITOFX("fcvt.d.wu", 0xffffffffull), 0x41efffffffe00000ull, 0);
    /* Moves and memory transfers keep every bit, sNaNs included. */
    static volatile uint64_t dword = SNAN;
    uint64_t r;
    asm volatile("fld ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(&dword) : "ft0");
    CHECK_EQ(80, r, SNAN);
    asm volatile("fmv.d.x ft0, %1\n\tfsd ft0, 0(%0)" :: "r"(&dword), "r"(0xfff0000000000badull)
                 : "ft0", "memory");
    CHECK_EQ(81, dword, 0xfff0000000000badull);
}

static void min_max_sign_fused(void)
{
    expect_fp(82, FOP2N("fmin.d", SIGN, 0), SIGN, 0);
    expect_fp(83, FOP2N("fmax.d", SIGN, 0), 0, 0);
    expect_fp(84, FOP2N("fmax.d", 0, SIGN), 0, 0);
    expect_fp(85, FOP2N("fmin.d", QNAN, TWO), TWO, 0);
    expect_fp(86, FOP2N("fmin.d", SNAN, TWO), TWO, NV);
    expect_fp(87, FOP2N("fmax.d", SNAN, 0x7ff8000000000badull), QNAN, NV);
    expect_fp(88, FOP2N("fsgnj.d", ONE, SIGN), SIGN | ONE, 0);
    expect_fp(89, FOP2N("fsgnjn.d", SIGN | ONE, SIGN), ONE | 0, 0);
    expect_fp(90, FOP2N("fsgnjx.d", SIGN | ONE, SIGN), ONE, 0);
    expect_fp(91, FOP2N("fsgnjn.d", SNAN, SNAN), SIGN | SNAN, 0);
    /* (1 + 2^-27)^2 - (1 + 2^-26) = 2^-54, lost by a separate multiply. */
    expect_fp(92, FOP3("fmadd.d", "rne", 0x3ff0000002000000ull, 0x3ff0000002000000ull,
                      0xbff0000004000000ull), 0x3c90000000000000ull, 0);
    expect_fp(93, FOP2("fmul.d", "rne", 0x3ff0000002000000ull, 0x3ff0000002000000ull),
              0x3ff0000004000000ull, NX);
    expect_fp(94, FOP3("fmsub.d", "rne", TWO, THREE, ONE), 0x4014000000000000ull, 0);   /* 5 */
    expect_fp(95, FOP3("fnmadd.d", "rne", TWO, THREE, ONE), 0xc01c000000000000ull, 0);  /* -7 */
    expect_fp(96, FOP3("fnmsub.d", "rne", TWO, THREE, ONE), 0xc014000000000000ull, 0);  /* -5 */
    expect_fp(97, FOP3("fmadd.d", "rne", INF, 0, QNAN), QNAN, NV);
    expect_fp(98, FOP3("fmadd.d", "rne", MAXD, TWO, SIGN | MAXD), MAXD, 0);  /* no intermediate overflow */
}

static void classify_compare(void)
{
    static const struct { uint64_t value; unsigned bit; } classes[] = {
        { SIGN | INF, 0 }, { SIGN | TWO, 1 }, { SIGN | 0x000fffffffffffffull, 2 }, { SIGN, 3 },
        { 0, 4 }, { MINSUB, 5 }, { MINN, 6 }, { INF, 7 }, { SNAN, 8 }, { QNAN, 9 },
    };
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++)
        CHECK_EQ(99, FCLASS("fclass.d", classes[i].value), 1u << classes[i].bit);
    CHECK_EQ(100, FCLASS("fclass.d", 0x7ff4000000000000ull), 1u << 8);   /* sNaN, other payload */
    expect_fp(101, FCMP("feq.d", QNAN, QNAN), 0, 0);
    expect_fp(102, FCMP("feq.d", SNAN, ONE), 0, NV);
    expect_fp(103, FCMP("fle.d", QNAN, ONE), 0, NV);
    expect_fp(104, FCMP("flt.d", ONE, SNAN), 0, NV);
    expect_fp(105, FCMP("fle.d", SIGN, 0), 1, 0);
    expect_fp(106, FCMP("flt.d", SIGN | MINSUB, SIGN), 1, 0);
    expect_fp(107, FCMP("feq.d", ONE, ONE + 1), 0, 0);
}

int main(void)
{
    rounding();
    overflow_underflow();
    special_values();
    single_double();
    conversions();
    min_max_sign_fused();
    classify_compare();
    pass();
}
