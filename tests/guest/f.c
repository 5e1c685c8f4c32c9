/* f.c: the F extension (unprivileged spec chapter 11, with the NaN-boxing
 * rules of 12.2 that RV64 + D imposes on singles).
 *
 * Every result is checked as the full 64-bit register together with the
 * exact fflags it raised: rounding in each static mode and through the
 * dynamic frm (set by fsrm / csrw frm), reserved rounding modes, overflow
 * and underflow (tininess detected after rounding, 11.6), the canonical NaN
 * (11.3: no payload propagation), NaN boxing of every single written and
 * the canonical-NaN reading of an improperly boxed input, fcvt saturation
 * (table 11.4), fmin/fmax on signed zeros and signalling NaNs, a fused
 * multiply-add rounding once, every fclass bit, the fcsr / frm / fflags
 * views, and mstatus.FS (privileged spec 3.1.6.6).
 */
#include "fp.h"

#define ONE    0x3f800000u
#define TWO    0x40000000u
#define THREE  0x40400000u
#define HALF   0x3f000000u
#define SIGN   0x80000000u
#define INF    0x7f800000u
#define QNAN   0x7fc00000u      /* the canonical NaN */
#define SNAN   0x7f800001u
#define MAXF   0x7f7fffffu
#define MINN   0x00800000u      /* smallest normal, 2^-126 */
#define MINSUB 0x00000001u      /* smallest subnormal, 2^-149 */
#define EPS24  0x33800000u      /* 2^-24: half an ulp of 1.0 */

static void rounding(void)
{
    /* 1 + 2^-24 lies exactly halfway between 1 and 1 + 2^-23. */
    expect_fp(1, FOP2("fadd.s", "rne", BOX(ONE), BOX(EPS24)), BOX(ONE), NX);        /* even */
    expect_fp(2, FOP2("fadd.s", "rtz", BOX(ONE), BOX(EPS24)), BOX(ONE), NX);
    expect_fp(3, FOP2("fadd.s", "rdn", BOX(ONE), BOX(EPS24)), BOX(ONE), NX);
    expect_fp(4, FOP2("fadd.s", "rup", BOX(ONE), BOX(EPS24)), BOX(0x3f800001), NX);
    expect_fp(5, FOP2("fadd.s", "rmm", BOX(ONE), BOX(EPS24)), BOX(0x3f800001), NX); /* away */
    expect_fp(6, FOP2("fadd.s", "rne", BOX(SIGN | ONE), BOX(SIGN | EPS24)), BOX(0xbf800000), NX);
    expect_fp(7, FOP2("fadd.s", "rdn", BOX(SIGN | ONE), BOX(SIGN | EPS24)), BOX(0xbf800001), NX);
    expect_fp(8, FOP2("fadd.s", "rup", BOX(SIGN | ONE), BOX(SIGN | EPS24)), BOX(0xbf800000), NX);
    expect_fp(9, FOP2("fadd.s", "rmm", BOX(SIGN | ONE), BOX(SIGN | EPS24)), BOX(0xbf800001), NX);
    expect_fp(10, FOP2("fadd.s", "rtz", BOX(SIGN | ONE), BOX(SIGN | EPS24)), BOX(0xbf800000), NX);
    /* 1 + 3 * 2^-24: halfway, the even neighbour is the upper one. */
    expect_fp(11, FOP2("fadd.s", "rne", BOX(ONE), BOX(0x34400000)), BOX(0x3f800002), NX);
    /* 1/3 = 0.0101...b: the discarded part is 2/3 of an ulp. */
    expect_fp(12, FOP2("fdiv.s", "rne", BOX(ONE), BOX(THREE)), BOX(0x3eaaaaab), NX);
    expect_fp(13, FOP2("fdiv.s", "rtz", BOX(ONE), BOX(THREE)), BOX(0x3eaaaaaa), NX);
    expect_fp(14, FOP2("fdiv.s", "rdn", BOX(ONE), BOX(THREE)), BOX(0x3eaaaaaa), NX);
    expect_fp(15, FOP2("fdiv.s", "rup", BOX(ONE), BOX(THREE)), BOX(0x3eaaaaab), NX);
    expect_fp(16, FOP2("fdiv.s", "rdn", BOX(SIGN | ONE), BOX(THREE)), BOX(0xbeaaaaab), NX);

    /* Dynamic rounding: frm, set by csrw / fsrm, applies to rm = dyn only. */
    set_frm(RM_RUP);
    expect_fp(17, FOP2("fadd.s", "dyn", BOX(ONE), BOX(EPS24)), BOX(0x3f800001), NX);
    expect_fp(18, FOP2("fadd.s", "rne", BOX(ONE), BOX(EPS24)), BOX(ONE), NX);   /* static wins */
    uint64_t old;
    asm volatile("fsrm %0, %1" : "=r"(old) : "r"((uint64_t)RM_RDN));
    CHECK_EQ(19, old, RM_RUP);
    expect_fp(20, FOP2("fadd.s", "dyn", BOX(SIGN | ONE), BOX(SIGN | EPS24)), BOX(0xbf800001), NX);
    set_frm(RM_RMM);
    expect_fp(21, FOP2("fadd.s", "dyn", BOX(ONE), BOX(EPS24)), BOX(0x3f800001), NX);
    set_frm(RM_RTZ);
    expect_fp(22, FTOI("fcvt.w.s", "dyn", BOX(0xc0200000)), (uint64_t)-2ll, NX);   /* -2.5 */
    set_frm(RM_RNE);
}

/* Rounding modes 5 and 6 are reserved, 7 in frm is reserved (11.2): an
 * instruction that would use them is illegal, and the trap's tval holds
 * the instruction bits. */
static void reserved_rounding(void)
{
    uint64_t n = EXPECT_TRAPS(asm volatile(".word 0x00105153"));   /* fadd.s ft2,ft0,ft1 rm=5 */
    CHECK_EQ(23, n, 1);
    CHECK_EQ(24, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    CHECK_EQ(25, rt_trap.tval, 0x00105153);
    n = EXPECT_TRAPS(asm volatile(".word 0x00106153"));            /* rm=6 */
    CHECK_EQ(26, n, 1);
    csr_write(frm, 5);
    n = EXPECT_TRAPS(asm volatile("fadd.s ft2, ft0, ft1, dyn"));
    CHECK_EQ(27, n, 1);
    CHECK_EQ(28, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    csr_write(frm, 7);
    n = EXPECT_TRAPS(asm volatile("fcvt.w.s t0, ft0, dyn" ::: "t0"));
    CHECK_EQ(29, n, 1);
    /* Instructions without a rounding mode do not care. */
    n = EXPECT_TRAPS(asm volatile("fsgnj.s ft2, ft0, ft1"));
    CHECK_EQ(30, n, 0);
    set_frm(RM_RNE);
}

static void overflow_underflow(void)
{
    expect_fp(31, FOP2("fmul.s", "rne", BOX(MAXF), BOX(TWO)), BOX(INF), OF | NX);
    expect_fp(32, FOP2("fmul.s", "rtz", BOX(MAXF), BOX(TWO)), BOX(MAXF), OF | NX);
    expect_fp(33, FOP2("fmul.s", "rdn", BOX(MAXF), BOX(TWO)), BOX(MAXF), OF | NX);
    expect_fp(34, FOP2("fmul.s", "rup", BOX(MAXF), BOX(TWO)), BOX(INF), OF | NX);
    expect_fp(35, FOP2("fmul.s", "rdn", BOX(SIGN | MAXF), BOX(TWO)), BOX(SIGN | INF), OF | NX);
    expect_fp(36, FOP2("fmul.s", "rup", BOX(SIGN | MAXF), BOX(TWO)), BOX(SIGN | MAXF), OF | NX);
    expect_fp(37, FOP2("fadd.s", "rne", BOX(MAXF), BOX(MAXF)), BOX(INF), OF | NX);
    /* An exact subnormal result raises nothing. */
    expect_fp(38, FOP2("fmul.s", "rne", BOX(MINN), BOX(HALF)), BOX(0x00400000), 0);
    /* 2^-150: a tie between 0 and 2^-149. */
    expect_fp(39, FOP2("fmul.s", "rne", BOX(MINSUB), BOX(HALF)), BOX(0), UF | NX);
    expect_fp(40, FOP2("fmul.s", "rup", BOX(MINSUB), BOX(HALF)), BOX(MINSUB), UF | NX);
    /* 2^-126 (1 - 2^-46): rounds to 2^-126 with an unbounded exponent, so
     * it is not tiny after rounding: inexact without underflow. Rounding
     * toward zero keeps it tiny: underflow. */
    expect_fp(41, FOP2("fmul.s", "rne", BOX(0x007fffff), BOX(0x3f800001)), BOX(MINN), NX);
    expect_fp(42, FOP2("fmul.s", "rtz", BOX(0x007fffff), BOX(0x3f800001)), BOX(0x007fffff), UF | NX);
    /* Subnormal inputs are values, not zeros. */
    expect_fp(43, FOP2("fadd.s", "rne", BOX(MINSUB), BOX(MINSUB)), BOX(2), 0);
}

static void special_values(void)
{
    expect_fp(44, FOP2("fdiv.s", "rne", BOX(ONE), BOX(0)), BOX(INF), DZ);
    expect_fp(45, FOP2("fdiv.s", "rne", BOX(SIGN | ONE), BOX(0)), BOX(SIGN | INF), DZ);
    expect_fp(46, FOP2("fdiv.s", "rne", BOX(0), BOX(0)), BOX(QNAN), NV);
    expect_fp(47, FOP2("fdiv.s", "rne", BOX(INF), BOX(INF)), BOX(QNAN), NV);
    expect_fp(48, FOP2("fdiv.s", "rne", BOX(0x40c00000), BOX(THREE)), BOX(TWO), 0);  /* 6/3 */
    expect_fp(49, FOP2("fmul.s", "rne", BOX(INF), BOX(0)), BOX(QNAN), NV);
    expect_fp(50, FOP2("fadd.s", "rne", BOX(INF), BOX(SIGN | INF)), BOX(QNAN), NV);
    expect_fp(51, FOP2("fsub.s", "rne", BOX(INF), BOX(INF)), BOX(QNAN), NV);
    expect_fp(52, FOP2("fsub.s", "rne", BOX(ONE), BOX(ONE)), BOX(0), 0);             /* +0 */
    expect_fp(53, FOP2("fsub.s", "rdn", BOX(ONE), BOX(ONE)), BOX(SIGN), 0);          /* -0 */
    /* NaN results are canonical whatever the inputs' payloads and signs. */
    expect_fp(54, FOP2("fadd.s", "rne", BOX(0x7fc12345), BOX(ONE)), BOX(QNAN), 0);
    expect_fp(55, FOP2("fadd.s", "rne", BOX(0xffc00000), BOX(ONE)), BOX(QNAN), 0);
    expect_fp(56, FOP2("fmul.s", "rne", BOX(ONE), BOX(SNAN)), BOX(QNAN), NV);
    /* Square root. */
    expect_fp(57, FOP1("fsqrt.s", "rne", BOX(0x40800000)), BOX(TWO), 0);
    expect_fp(58, FOP1("fsqrt.s", "rne", BOX(SIGN)), BOX(SIGN), 0);                  /* -0 */
    expect_fp(59, FOP1("fsqrt.s", "rne", BOX(SIGN | ONE)), BOX(QNAN), NV);
    expect_fp(60, FOP1("fsqrt.s", "rne", BOX(INF)), BOX(INF), 0);
    expect_fp(61, FOP1("fsqrt.s", "rne", BOX(SNAN)), BOX(QNAN), NV);
    expect_fp(62, FOP1("fsqrt.s", "rne", BOX(TWO)), BOX(0x3fb504f3), NX);
    expect_fp(63, FOP1("fsqrt.s", "rup", BOX(TWO)), BOX(0x3fb504f4), NX);
}

static void nan_boxing(void)
{
    /* Writes box: flw and fmv.w.x fill the upper half with ones. */
    static volatile uint32_t word = SNAN;
    uint64_t r;
    asm volatile("flw ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(&word) : "ft0");
    CHECK_EQ(64, r, BOX(SNAN));          /* a load moves the sNaN untouched */
    asm volatile("fmv.w.x ft0, %1\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(0x123456783f800000ull) : "ft0");
    CHECK_EQ(65, r, BOX(ONE));
    /* An improperly boxed input reads as the canonical NaN (12.2). */
    const uint64_t unboxed_one = 0x000000003f800000ull;
    expect_fp(66, FOP2("fadd.s", "rne", unboxed_one, BOX(ONE)), BOX(QNAN), 0);
    expect_fp(67, FOP2("fadd.s", "rne", 0xfffffffe3f800000ull, BOX(ONE)), BOX(QNAN), 0);
    CHECK_EQ(68, FCLASS("fclass.s", unboxed_one), 1u << 9);
    expect_fp(69, FOP2N("fsgnj.s", unboxed_one, BOX(ONE)), BOX(QNAN), 0);
    expect_fp(70, FOP2N("fsgnjn.s", BOX(ONE), unboxed_one), BOX(0xbf800000), 0);  /* sign of NaN is 0 */
    expect_fp(71, FOP2N("fmax.s", unboxed_one, BOX(SIGN | ONE)), BOX(SIGN | ONE), 0);
    /* Transfers move the bits without looking at the boxing. */
    asm volatile("fmv.d.x ft0, %1\n\tfmv.x.w %0, ft0" : "=r"(r) : "r"(0x00000000bf800000ull) : "ft0");
    CHECK_EQ(72, r, 0xffffffffbf800000ull);                  /* sign-extended */
    asm volatile("fmv.d.x ft0, %1\n\tfsw ft0, 0(%0)" :: "r"(&word), "r"(0x1234567840490fdbull) : "ft0", "memory");
    CHECK_EQ(73, word, 0x40490fdb);
}

static void conversions(void)
{
    /* Float to integer, each rounding mode: 2.5 and -2.5. */
    expect_fp(74, FTOI("fcvt.w.s", "rne", BOX(0x40200000)), 2, NX);
    expect_fp(75, FTOI("fcvt.w.s", "rtz", BOX(0x40200000)), 2, NX);
    expect_fp(76, FTOI("fcvt.w.s", "rdn", BOX(0x40200000)), 2, NX);
    expect_fp(77, FTOI("fcvt.w.s", "rup", BOX(0x40200000)), 3, NX);
    expect_fp(78, FTOI("fcvt.w.s", "rmm", BOX(0x40200000)), 3, NX);
    expect_fp(79, FTOI("fcvt.w.s", "rne", BOX(0xc0200000)), (uint64_t)-2ll, NX);
    expect_fp(80, FTOI("fcvt.w.s", "rdn", BOX(0xc0200000)), (uint64_t)-3ll, NX);
    expect_fp(81, FTOI("fcvt.w.s", "rup", BOX(0xc0200000)), (uint64_t)-2ll, NX);
    expect_fp(82, FTOI("fcvt.w.s", "rmm", BOX(0xc0200000)), (uint64_t)-3ll, NX);
    /* Saturation (table 11.4): out of range and NaN. */
    expect_fp(83, FTOI("fcvt.w.s", "rtz", BOX(QNAN)), 0x7fffffff, NV);
    expect_fp(84, FTOI("fcvt.w.s", "rtz", BOX(INF)), 0x7fffffff, NV);
    expect_fp(85, FTOI("fcvt.w.s", "rtz", BOX(SIGN | INF)), 0xffffffff80000000ull, NV);
    expect_fp(86, FTOI("fcvt.w.s", "rtz", BOX(0x4f32d05e)), 0x7fffffff, NV);            /* 3e9 */
    expect_fp(87, FTOI("fcvt.w.s", "rtz", BOX(0xcf000000)), 0xffffffff80000000ull, 0);  /* -2^31 */
    expect_fp(88, FTOI("fcvt.wu.s", "rtz", BOX(SIGN | ONE)), 0, NV);
    expect_fp(89, FTOI("fcvt.wu.s", "rtz", BOX(0xbf000000)), 0, NX);       /* -0.5 rounds to 0 */
    expect_fp(90, FTOI("fcvt.wu.s", "rtz", BOX(0x4f32d05e)), 0xffffffffb2d05e00ull, 0);  /* sign-extended */
    expect_fp(91, FTOI("fcvt.wu.s", "rtz", BOX(0x4f800000)), 0xffffffffffffffffull, NV); /* 2^32 */
    expect_fp(92, FTOI("fcvt.wu.s", "rtz", BOX(QNAN)), 0xffffffffffffffffull, NV);
    expect_fp(93, FTOI("fcvt.l.s", "rtz", BOX(QNAN)), 0x7fffffffffffffffull, NV);
    expect_fp(94, FTOI("fcvt.l.s", "rtz", BOX(SIGN | INF)), 0x8000000000000000ull, NV);
    expect_fp(95, FTOI("fcvt.l.s", "rtz", BOX(0x5f000000)), 0x7fffffffffffffffull, NV);  /* 2^63 */
    expect_fp(96, FTOI("fcvt.l.s", "rtz", BOX(0xdf000000)), 0x8000000000000000ull, 0);   /* -2^63 */
    expect_fp(97, FTOI("fcvt.lu.s", "rtz", BOX(SIGN | INF)), 0, NV);
    expect_fp(98, FTOI("fcvt.lu.s", "rtz", BOX(QNAN)), 0xffffffffffffffffull, NV);
    expect_fp(99, FTOI("fcvt.lu.s", "rtz", BOX(0x5f800000)), 0xffffffffffffffffull, NV); /* 2^64 */
    expect_fp(100, FTOI("fcvt.lu.s", "rtz", BOX(0x5f000000)), 0x8000000000000000ull, 0);
    /* Integer to float. */
    expect_fp(101, ITOF("fcvt.s.w", "rne", 0xffffffffffffffffull), BOX(0xbf800000), 0);
    expect_fp(102, ITOF("fcvt.s.w", "rne", 0x100000002ull), BOX(TWO), 0);     /* low 32 bits */
    expect_fp(103, ITOF("fcvt.s.wu", "rne", 0xffffffffull), BOX(0x4f800000), NX);
    expect_fp(104, ITOF("fcvt.s.wu", "rtz", 0xffffffffull), BOX(0x4f7fffff), NX);
    expect_fp(105, ITOF("fcvt.s.l", "rne", 16777217), BOX(0x4b800000), NX);   /* 2^24 + 1 */
    expect_fp(106, ITOF("fcvt.s.l", "rup", 16777217), BOX(0x4b800001), NX);
    expect_fp(107, ITOF("fcvt.s.l", "rne", 0x8000000000000000ull), BOX(0xdf000000), 0);
    expect_fp(108, ITOF("fcvt.s.lu", "rne", 0xffffffffffffffffull), BOX(0x5f800000), NX);
    expect_fp(109, ITOF("fcvt.s.lu", "rne", 0), BOX(0), 0);
}

static void min_max_sign(void)
{
    expect_fp(110, FOP2N("fmin.s", BOX(SIGN), BOX(0)), BOX(SIGN), 0);        /* -0 < +0 here */
    expect_fp(111, FOP2N("fmin.s", BOX(0), BOX(SIGN)), BOX(SIGN), 0);
    expect_fp(112, FOP2N("fmax.s", BOX(SIGN), BOX(0)), BOX(0), 0);
    expect_fp(113, FOP2N("fmax.s", BOX(0), BOX(SIGN)), BOX(0), 0);
    expect_fp(114, FOP2N("fmin.s", BOX(QNAN), BOX(ONE)), BOX(ONE), 0);       /* the number wins */
    expect_fp(115, FOP2N("fmax.s", BOX(ONE), BOX(QNAN)), BOX(ONE), 0);
    expect_fp(116, FOP2N("fmin.s", BOX(SNAN), BOX(ONE)), BOX(ONE), NV);
    expect_fp(117, FOP2N("fmax.s", BOX(TWO), BOX(SNAN)), BOX(TWO), NV);
    expect_fp(118, FOP2N("fmin.s", BOX(0x7fc00bad), BOX(QNAN)), BOX(QNAN), 0);  /* both NaN */
    expect_fp(119, FOP2N("fmax.s", BOX(SNAN), BOX(QNAN)), BOX(QNAN), NV);
    expect_fp(120, FOP2N("fmin.s", BOX(SIGN | INF), BOX(ONE)), BOX(SIGN | INF), 0);
    expect_fp(121, FOP2N("fmax.s", BOX(ONE), BOX(TWO)), BOX(TWO), 0);
    /* Sign injection never raises flags nor canonicalises. */
    expect_fp(122, FOP2N("fsgnj.s", BOX(ONE), BOX(SIGN | TWO)), BOX(SIGN | ONE), 0);
    expect_fp(123, FOP2N("fsgnjn.s", BOX(ONE), BOX(SIGN | TWO)), BOX(ONE), 0);
    expect_fp(124, FOP2N("fsgnjx.s", BOX(SIGN | ONE), BOX(SIGN | TWO)), BOX(ONE), 0);
    expect_fp(125, FOP2N("fsgnjx.s", BOX(ONE), BOX(SIGN | TWO)), BOX(SIGN | ONE), 0);
    expect_fp(126, FOP2N("fsgnj.s", BOX(SNAN), BOX(SIGN)), BOX(SIGN | SNAN), 0);
}

static void fused(void)
{
    /* (1 + 2^-12)^2 - (1 + 2^-11) = 2^-24 exactly when rounded once; a
     * separate multiply rounds the 2^-24 away first. */
    expect_fp(127, FOP3("fmadd.s", "rne", BOX(0x3f800800), BOX(0x3f800800), BOX(0xbf801000)),
              BOX(EPS24), 0);
    expect_fp(128, FOP2("fmul.s", "rne", BOX(0x3f800800), BOX(0x3f800800)), BOX(0x3f801000), NX);
    expect_fp(129, FOP3("fmadd.s", "rne", BOX(TWO), BOX(THREE), BOX(ONE)), BOX(0x40e00000), 0);  /* 7 */
    expect_fp(130, FOP3("fmsub.s", "rne", BOX(TWO), BOX(THREE), BOX(ONE)), BOX(0x40a00000), 0);  /* 5 */
    expect_fp(131, FOP3("fnmsub.s", "rne", BOX(TWO), BOX(THREE), BOX(ONE)), BOX(0xc0a00000), 0); /* -5 */
    expect_fp(132, FOP3("fnmadd.s", "rne", BOX(TWO), BOX(THREE), BOX(ONE)), BOX(0xc0e00000), 0); /* -7 */
    /* inf * 0 + qNaN is invalid even though the addend is quiet (11.6). */
    expect_fp(133, FOP3("fmadd.s", "rne", BOX(INF), BOX(0), BOX(QNAN)), BOX(QNAN), NV);
    expect_fp(134, FOP3("fmadd.s", "rne", BOX(0), BOX(INF), BOX(0x7fc00bad)), BOX(QNAN), NV);
    expect_fp(135, FOP3("fmadd.s", "rne", BOX(ONE), BOX(ONE), BOX(QNAN)), BOX(QNAN), 0);
    expect_fp(136, FOP3("fmadd.s", "rne", BOX(INF), BOX(ONE), BOX(SIGN | INF)), BOX(QNAN), NV);
    /* Signed zeros: -(0 * 1) - 0 = -0; 0 * 1 + -0 = +0, or -0 rounding down. */
    expect_fp(137, FOP3("fnmadd.s", "rne", BOX(0), BOX(ONE), BOX(0)), BOX(SIGN), 0);
    expect_fp(138, FOP3("fmadd.s", "rne", BOX(0), BOX(ONE), BOX(SIGN)), BOX(0), 0);
    expect_fp(139, FOP3("fmadd.s", "rdn", BOX(0), BOX(ONE), BOX(SIGN)), BOX(SIGN), 0);
}

static void classify_compare(void)
{
    static const struct { uint32_t value; unsigned bit; } classes[] = {
        { SIGN | INF, 0 }, { SIGN | ONE, 1 }, { SIGN | MINSUB, 2 }, { SIGN, 3 },
        { 0, 4 }, { 0x007fffff, 5 }, { MAXF, 6 }, { INF, 7 }, { SNAN, 8 }, { QNAN, 9 },
    };
    for (unsigned i = 0; i < sizeof classes / sizeof classes[0]; i++)
        CHECK_EQ(140, FCLASS("fclass.s", BOX(classes[i].value)), 1u << classes[i].bit);
    CHECK_EQ(141, FCLASS("fclass.s", BOX(0xffc00001)), 1u << 9);   /* negative qNaN */

    /* feq is quiet; flt and fle signal on any NaN (11.8). */
    expect_fp(142, FCMP("feq.s", BOX(QNAN), BOX(ONE)), 0, 0);
    expect_fp(143, FCMP("feq.s", BOX(SNAN), BOX(ONE)), 0, NV);
    expect_fp(144, FCMP("flt.s", BOX(QNAN), BOX(ONE)), 0, NV);
    expect_fp(145, FCMP("fle.s", BOX(ONE), BOX(QNAN)), 0, NV);
    expect_fp(146, FCMP("feq.s", BOX(SIGN), BOX(0)), 1, 0);
    expect_fp(147, FCMP("flt.s", BOX(SIGN), BOX(0)), 0, 0);
    expect_fp(148, FCMP("fle.s", BOX(SIGN), BOX(0)), 1, 0);
    expect_fp(149, FCMP("flt.s", BOX(SIGN | INF), BOX(SIGN | MAXF)), 1, 0);
    expect_fp(150, FCMP("fle.s", BOX(TWO), BOX(ONE)), 0, 0);
}

static void control_status(void)
{
    /* fcsr = frm << 5 | fflags (11.2); the flags accumulate. */
    csr_write(fcsr, 0);
    (void)FOP2("fdiv.s", "rne", BOX(ONE), BOX(THREE));           /* NX */
    asm volatile("fmv.w.x ft0, %0\n\tfmv.w.x ft1, zero\n\tfdiv.s ft2, ft0, ft1"  /* DZ */
                 :: "r"((uint64_t)ONE) : "ft0", "ft1", "ft2");
    CHECK_EQ(151, csr_read(fflags), DZ | NX);
    csr_write(frm, RM_RUP);
    CHECK_EQ(152, csr_read(fcsr), (RM_RUP << 5) | DZ | NX);
    csr_write(fflags, 0xff);                                 /* five bits only */
    CHECK_EQ(153, csr_read(fflags), 0x1f);
    CHECK_EQ(154, csr_read(fcsr), (RM_RUP << 5) | 0x1f);
    csr_write(fcsr, (RM_RMM << 5) | NV);
    CHECK_EQ(155, csr_read(frm), RM_RMM);
    CHECK_EQ(156, csr_read(fflags), NV);
    uint64_t old;
    asm volatile("fsflags %0, %1" : "=r"(old) : "r"((uint64_t)OF));
    CHECK_EQ(157, old, NV);
    CHECK_EQ(158, csr_read(fcsr), (RM_RMM << 5) | OF);
    csr_write(fcsr, 0);
}

/* mstatus.FS (privileged spec 3.1.6.6): Off makes every F instruction and
 * fcsr access illegal; writing FP state makes it Dirty and sets SD. */
static void fs_field(void)
{
    csr_clear(mstatus, MSTATUS_FS);
    uint64_t n = EXPECT_TRAPS(asm volatile("fadd.s ft2, ft0, ft1" ::: "ft2"));
    CHECK_EQ(159, n, 1);
    CHECK_EQ(160, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    uint64_t r = 0;
    n = EXPECT_TRAPS(asm volatile("csrr %0, fcsr" : "+r"(r)));
    CHECK_EQ(161, n, 1);
    n = EXPECT_TRAPS(asm volatile("fmv.x.w %0, ft0" : "+r"(r)));
    CHECK_EQ(162, n, 1);
    csr_set(mstatus, 1ull << MSTATUS_FS_SHIFT);               /* Initial */
    asm volatile("fmv.w.x ft0, zero" ::: "ft0");
    uint64_t st = csr_read(mstatus);
    CHECK_EQ(163, (st & MSTATUS_FS) >> MSTATUS_FS_SHIFT, 3);
    CHECK_EQ(164, st >> 63, 1);                                 /* SD */
}

int main(void)
{
    rounding();
    reserved_rounding();
    overflow_underflow();
    special_values();
    nan_boxing();
    conversions();
    min_max_sign();
    fused();
    classify_compare();
    control_status();
    fs_field();
    pass();
}
