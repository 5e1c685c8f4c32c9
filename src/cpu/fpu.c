/* fpu: F and D computational instructions.
 *
 * Every operation has an exact integer implementation (unsigned __int128
 * where a double product needs 106 bits), rounded once by round_pack(),
 * which implements IEEE 754-2008 section 4.3 for all five RISC-V modes --
 * the host has no round-to-nearest-ties-to-max-magnitude mode -- with
 * underflow's tininess detected after rounding (unprivileged spec 11.4).
 * The host FPU is used only where it provably gives the same bits and flags:
 * round-to-nearest-even add, subtract, multiply and divide of normal operands
 * inside an exponent window (see "host fast path"). umbra never changes the
 * host's rounding mode and never reads its exception flags.
 *
 * Internal representation of a finite non-zero value: a sign, an unbiased
 * exponent `exp` and a 64-bit significand `sig` normalised so that bit 62 is
 * the leading one; the value is sig * 2^(exp - 62). Bits below the format's
 * precision are guard bits, and bit 0 is "sticky" once anything has been
 * shifted out (jamming), so a single rounding at the end is exact.
 *
 * Called from execute on the hart's own thread; touches only the hart's
 * f/x registers and fcsr fields.
 */
#include "cpu/fpu.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

typedef unsigned __int128 u128;

/* ---- formats ------------------------------------------------------------ */

struct fp_format {
    int width;          /* 32 or 64 */
    int prec;           /* significand bits including the hidden one */
    int bias;
    int exp_max;        /* the all-ones biased exponent (inf/NaN) */
    uint64_t canonical_nan;
};

static const struct fp_format FMT_S = { 32, 24, 127, 0xff, 0x7fc00000ull };
static const struct fp_format FMT_D = { 64, 53, 1023, 0x7ff, 0x7ff8000000000000ull };

enum fp_class { FPC_ZERO, FPC_FINITE, FPC_INF, FPC_QNAN, FPC_SNAN };

struct fp_unpacked {
    enum fp_class cls;
    bool sign;
    int exp;            /* unbiased exponent of the leading one (FPC_FINITE) */
    uint64_t sig;       /* leading one at bit 62 (FPC_FINITE) */
};

static inline uint64_t frac_mask(const struct fp_format *f)
{
    return (1ull << (f->prec - 1)) - 1;
}

static inline uint64_t sign_bit(const struct fp_format *f)
{
    return 1ull << (f->width - 1);
}

static inline bool bits_sign(const struct fp_format *f, uint64_t v)
{
    return (v >> (f->width - 1)) & 1;
}

static inline int bits_exp(const struct fp_format *f, uint64_t v)
{
    return (int)((v >> (f->prec - 1)) & (uint64_t)f->exp_max);
}

static inline bool is_nan(const struct fp_format *f, uint64_t v)
{
    return bits_exp(f, v) == f->exp_max && (v & frac_mask(f)) != 0;
}

/* Signalling NaN: quiet bit (the fraction's top bit) clear (spec 11.3). */
static inline bool is_snan(const struct fp_format *f, uint64_t v)
{
    return is_nan(f, v) && !((v >> (f->prec - 2)) & 1);
}

static inline bool is_zero(const struct fp_format *f, uint64_t v)
{
    return (v & ~sign_bit(f)) == 0;
}

static inline uint64_t make_inf(const struct fp_format *f, bool sign)
{
    return (sign ? sign_bit(f) : 0) | ((uint64_t)f->exp_max << (f->prec - 1));
}

static inline uint64_t make_zero(const struct fp_format *f, bool sign)
{
    return sign ? sign_bit(f) : 0;
}

static inline uint64_t max_finite(const struct fp_format *f, bool sign)
{
    return make_inf(f, sign) - 1;
}

static struct fp_unpacked unpack(const struct fp_format *f, uint64_t v)
{
    struct fp_unpacked u = { FPC_FINITE, bits_sign(f, v), 0, 0 };
    int e = bits_exp(f, v);
    uint64_t frac = v & frac_mask(f);

    if (e == f->exp_max) {
        if (frac == 0)
            u.cls = FPC_INF;
        else
            u.cls = ((frac >> (f->prec - 2)) & 1) ? FPC_QNAN : FPC_SNAN;
    } else if (e == 0) {
        if (frac == 0) {
            u.cls = FPC_ZERO;
        } else {
            /* Subnormal: value = frac * 2^(1 - bias - (prec-1)). */
            int msb = 63 - __builtin_clzll(frac);
            u.sig = frac << (62 - msb);
            u.exp = 1 - f->bias - (f->prec - 1) + msb;
        }
    } else {
        u.sig = (frac | (1ull << (f->prec - 1))) << (63 - f->prec);
        u.exp = e - f->bias;
    }
    return u;
}

static inline bool unp_is_nan(const struct fp_unpacked *u)
{
    return u->cls == FPC_QNAN || u->cls == FPC_SNAN;
}

/* ---- rounding ----------------------------------------------------------- */

/* Shift right by s, OR-ing everything shifted out into bit 0. */
static inline uint64_t shift_right_jam(uint64_t x, int s)
{
    if (s <= 0)
        return x;
    if (s >= 64)
        return x != 0;
    return (x >> s) | ((x & ((1ull << s) - 1)) != 0);
}

static inline u128 shift_right_jam128(u128 x, int s)
{
    if (s <= 0)
        return x;
    if (s >= 128)
        return x != 0;
    return (x >> s) | ((x & (((u128)1 << s) - 1)) != 0);
}

/* Whether to add one unit in the last place, given the kept value's low bit,
 * the first discarded bit and whether any lower discarded bit is set
 * (IEEE 754-2008 4.3.1, 4.3.2; RMM is roundTiesToAway). */
static inline bool round_up(int rm, bool sign, bool lsb, bool half_bit, bool sticky)
{
    switch (rm) {
    case RM_RNE: return half_bit && (sticky || lsb);
    case RM_RTZ: return false;
    case RM_RDN: return sign && (half_bit || sticky);
    case RM_RUP: return !sign && (half_bit || sticky);
    default:     return half_bit;   /* RM_RMM */
    }
}

/* Keep sig >> n rounded by rm; *inexact says whether anything was dropped. */
static inline uint64_t round_bits(uint64_t sig, int n, int rm, bool sign, bool *inexact)
{
    uint64_t kept = sig >> n;
    uint64_t rest = sig & ((1ull << n) - 1);
    uint64_t half = 1ull << (n - 1);
    *inexact = rest != 0;
    return kept + round_up(rm, sign, kept & 1, (rest & half) != 0, (rest & (half - 1)) != 0);
}

/* Overflow result (IEEE 754-2008 7.4): infinity, or the largest finite number
 * when the rounding direction points towards zero. */
static uint64_t overflow_result(const struct fp_format *f, bool sign, int rm)
{
    bool to_inf = rm == RM_RNE || rm == RM_RMM ||
                  (rm == RM_RDN && sign) || (rm == RM_RUP && !sign);
    return to_inf ? make_inf(f, sign) : max_finite(f, sign);
}

/* Round sign * sig * 2^(exp-62) (sig's leading one at bit 62, bit 0 sticky)
 * to format f, raising OF/UF/NX. */
static uint64_t round_pack(const struct fp_format *f, bool sign, int exp, uint64_t sig,
                           int rm, uint8_t *flags)
{
    int n = 63 - f->prec;           /* guard bits below the precision */
    int biased = exp + f->bias;
    uint64_t s = sign ? sign_bit(f) : 0;
    bool inexact;

    if (biased >= 1) {
        uint64_t m = round_bits(sig, n, rm, sign, &inexact);
        if (m >> f->prec) {         /* rounding carried into a new bit */
            m >>= 1;
            biased++;
        }
        if (biased >= f->exp_max) {
            *flags |= FFLAG_OF | FFLAG_NX;
            return overflow_result(f, sign, rm);
        }
        if (inexact)
            *flags |= FFLAG_NX;
        return s | ((uint64_t)biased << (f->prec - 1)) | (m & frac_mask(f));
    }

    /* Below the normal range. Tininess after rounding: the value rounded to
     * full precision with an unbounded exponent is still below 2^emin. Only
     * a value with biased == 0 can round up to 2^emin. */
    bool tiny = true;
    if (biased == 0) {
        bool ignored;
        tiny = (round_bits(sig, n, rm, sign, &ignored) >> f->prec) == 0;
    }
    sig = shift_right_jam(sig, 1 - biased);
    /* A carry out of the subnormal fraction lands in the exponent field,
     * which then encodes the smallest normal number: exactly right. */
    uint64_t m = round_bits(sig, n, rm, sign, &inexact);
    if (inexact) {
        *flags |= FFLAG_NX;
        if (tiny)
            *flags |= FFLAG_UF;
    }
    return s | m;
}

/* NaN result: canonical (spec 11.3), NV if any input was signalling. */
static uint64_t nan_result(const struct fp_format *f, bool any_snan, uint8_t *flags)
{
    if (any_snan)
        *flags |= FFLAG_NV;
    return f->canonical_nan;
}

static uint64_t invalid_result(const struct fp_format *f, uint8_t *flags)
{
    *flags |= FFLAG_NV;
    return f->canonical_nan;
}

/* ---- add, multiply, divide, square root ---------------------------------- */

/* Sum of two finite non-zero values. */
static uint64_t add_finite(const struct fp_format *f, struct fp_unpacked a, struct fp_unpacked b,
                           int rm, uint8_t *flags)
{
    if (a.exp < b.exp || (a.exp == b.exp && a.sig < b.sig)) {
        struct fp_unpacked t = a;
        a = b;
        b = t;
    }
    /* |a| >= |b|. Jamming b is exact enough: a's low guard bits are zero, so
     * the difference's truncation and stickiness survive the shift, and when
     * the shift is 2 or more at most one leading bit cancels. */
    uint64_t bsig = shift_right_jam(b.sig, a.exp - b.exp);
    int exp = a.exp;
    uint64_t sig;

    if (a.sign == b.sign) {
        sig = a.sig + bsig;
        if (sig >> 63) {
            sig = shift_right_jam(sig, 1);
            exp++;
        }
    } else {
        sig = a.sig - bsig;
        if (sig == 0)   /* exact cancellation: +0, or -0 rounding down (IEEE 6.3) */
            return make_zero(f, rm == RM_RDN);
        int lz = __builtin_clzll(sig) - 1;
        sig <<= lz;
        exp -= lz;
    }
    return round_pack(f, a.sign, exp, sig, rm, flags);
}

static uint64_t fp_add(const struct fp_format *f, uint64_t x, uint64_t y, bool negate_y,
                       int rm, uint8_t *flags)
{
    if (negate_y)
        y ^= sign_bit(f);
    struct fp_unpacked a = unpack(f, x), b = unpack(f, y);

    if (unp_is_nan(&a) || unp_is_nan(&b))
        return nan_result(f, a.cls == FPC_SNAN || b.cls == FPC_SNAN, flags);
    if (a.cls == FPC_INF) {
        if (b.cls == FPC_INF && a.sign != b.sign)
            return invalid_result(f, flags);    /* inf - inf */
        return x;
    }
    if (b.cls == FPC_INF)
        return y;
    if (a.cls == FPC_ZERO && b.cls == FPC_ZERO)
        return make_zero(f, a.sign == b.sign ? a.sign : rm == RM_RDN);
    if (a.cls == FPC_ZERO)
        return y;
    if (b.cls == FPC_ZERO)
        return x;
    return add_finite(f, a, b, rm, flags);
}

/* Product of two finite non-zero values, rounded once. */
static uint64_t mul_finite(const struct fp_format *f, bool sign, const struct fp_unpacked *a,
                           const struct fp_unpacked *b, int rm, uint8_t *flags)
{
    u128 p = (u128)a->sig * b->sig;                 /* in [2^124, 2^126) */
    uint64_t sig = (uint64_t)(p >> 62) | ((p & (((u128)1 << 62) - 1)) != 0);
    int exp = a->exp + b->exp;
    if (sig >> 63) {
        sig = shift_right_jam(sig, 1);
        exp++;
    }
    return round_pack(f, sign, exp, sig, rm, flags);
}

static uint64_t fp_mul(const struct fp_format *f, uint64_t x, uint64_t y, int rm, uint8_t *flags)
{
    struct fp_unpacked a = unpack(f, x), b = unpack(f, y);
    bool sign = a.sign != b.sign;

    if (unp_is_nan(&a) || unp_is_nan(&b))
        return nan_result(f, a.cls == FPC_SNAN || b.cls == FPC_SNAN, flags);
    if (a.cls == FPC_INF || b.cls == FPC_INF) {
        if (a.cls == FPC_ZERO || b.cls == FPC_ZERO)
            return invalid_result(f, flags);    /* inf * 0 */
        return make_inf(f, sign);
    }
    if (a.cls == FPC_ZERO || b.cls == FPC_ZERO)
        return make_zero(f, sign);
    return mul_finite(f, sign, &a, &b, rm, flags);
}

static uint64_t fp_div(const struct fp_format *f, uint64_t x, uint64_t y, int rm, uint8_t *flags)
{
    struct fp_unpacked a = unpack(f, x), b = unpack(f, y);
    bool sign = a.sign != b.sign;

    if (unp_is_nan(&a) || unp_is_nan(&b))
        return nan_result(f, a.cls == FPC_SNAN || b.cls == FPC_SNAN, flags);
    if (a.cls == FPC_INF)
        return b.cls == FPC_INF ? invalid_result(f, flags) : make_inf(f, sign);
    if (b.cls == FPC_INF)
        return make_zero(f, sign);
    if (b.cls == FPC_ZERO) {
        if (a.cls == FPC_ZERO)
            return invalid_result(f, flags);    /* 0 / 0 */
        *flags |= FFLAG_DZ;
        return make_inf(f, sign);
    }
    if (a.cls == FPC_ZERO)
        return make_zero(f, sign);

    /* q = a.sig * 2^63 / b.sig lies in (2^62, 2^64); the quotient has at least
     * 62 exact bits and the remainder makes it sticky. */
    u128 num = (u128)a.sig << 63;
    u128 q = num / b.sig;
    uint64_t sig = (uint64_t)q | (q * b.sig != num);
    int exp = a.exp - b.exp - 1;
    if (sig >> 63) {
        sig = shift_right_jam(sig, 1);
        exp++;
    }
    return round_pack(f, sign, exp, sig, rm, flags);
}

/* Floor of the square root of n, for n in [2^126, 2^128). A host double
 * estimate is within 2^12 of the root; one Newton step brings it within one,
 * and exact integer checks settle the last unit, so the result does not
 * depend on the host's rounding. */
static uint64_t isqrt128(u128 n, bool *exact)
{
    double est = __builtin_sqrt((double)n);
    uint64_t r = est >= 0x1p64 ? UINT64_MAX : (uint64_t)est;
    if (r < (1ull << 63))
        r = 1ull << 63;
    u128 next = ((u128)r + n / r) >> 1;
    r = next > UINT64_MAX ? UINT64_MAX : (uint64_t)next;
    while ((u128)r * r > n)
        r--;
    while (r != UINT64_MAX && (u128)(r + 1) * (r + 1) <= n)
        r++;
    *exact = (u128)r * r == n;
    return r;
}

static uint64_t fp_sqrt(const struct fp_format *f, uint64_t x, int rm, uint8_t *flags)
{
    struct fp_unpacked a = unpack(f, x);

    if (unp_is_nan(&a))
        return nan_result(f, a.cls == FPC_SNAN, flags);
    if (a.cls == FPC_ZERO)
        return x;                               /* sqrt(-0) = -0 */
    if (a.sign)
        return invalid_result(f, flags);
    if (a.cls == FPC_INF)
        return x;

    /* value = sig * 2^k, k = exp - 62; make k even so the root's exponent is
     * an integer, then take the root of sig' * 2^64 (in [2^126, 2^128)). */
    int k = a.exp - 62;
    uint64_t m = a.sig;
    if (k & 1) {
        m <<= 1;
        k--;
    }
    bool exact;
    uint64_t r = isqrt128((u128)m << 64, &exact);  /* in [2^63, 2^64) */
    uint64_t sig = shift_right_jam(r | !exact, 1);
    return round_pack(f, false, k / 2 + 31, sig, rm, flags);
}

/* ---- fused multiply-add ------------------------------------------------- */

/* (-1)^negate_product * x * y + (-1)^negate_addend * z, rounded once. */
static __attribute__((noinline)) uint64_t
fp_fma(const struct fp_format *f, uint64_t x, uint64_t y, uint64_t z, bool negate_product,
       bool negate_addend, int rm, uint8_t *flags)
{
    if (negate_addend)
        z ^= sign_bit(f);
    struct fp_unpacked a = unpack(f, x), b = unpack(f, y), c = unpack(f, z);
    bool psign = (a.sign != b.sign) != negate_product;
    bool inf_times_zero = (a.cls == FPC_INF && b.cls == FPC_ZERO) ||
                          (a.cls == FPC_ZERO && b.cls == FPC_INF);

    /* Spec 11.6: inf * 0 raises NV even when the addend is a quiet NaN. */
    if (inf_times_zero)
        return invalid_result(f, flags);
    if (unp_is_nan(&a) || unp_is_nan(&b) || unp_is_nan(&c))
        return nan_result(f, a.cls == FPC_SNAN || b.cls == FPC_SNAN || c.cls == FPC_SNAN, flags);
    if (a.cls == FPC_INF || b.cls == FPC_INF) {
        if (c.cls == FPC_INF && c.sign != psign)
            return invalid_result(f, flags);
        return make_inf(f, psign);
    }
    if (c.cls == FPC_INF)
        return z;
    if (a.cls == FPC_ZERO || b.cls == FPC_ZERO) {
        if (c.cls == FPC_ZERO)
            return make_zero(f, psign == c.sign ? psign : rm == RM_RDN);
        return z;                               /* 0 + z is exactly z */
    }
    if (c.cls == FPC_ZERO)
        return mul_finite(f, psign, &a, &b, rm, flags);

    /* Both terms as M * 2^(E - 125) with M in [2^125, 2^126): the product is
     * exact in 128 bits, the addend is shifted up to the same position. */
    u128 pm = (u128)a.sig * b.sig;
    int pe = a.exp + b.exp;
    if (pm >> 125)
        pe++;
    else
        pm <<= 1;
    u128 cm = (u128)c.sig << 63;
    int ce = c.exp;

    /* Order by magnitude, then align the smaller one (jammed: the larger
     * one's low bits are zero, as in add_finite). */
    bool big_sign = psign, small_sign = c.sign;
    u128 big = pm, small = cm;
    int exp = pe, d = pe - ce;
    if (ce > pe || (ce == pe && cm > pm)) {
        big = cm;
        small = pm;
        big_sign = c.sign;
        small_sign = psign;
        exp = ce;
        d = ce - pe;
    }
    small = shift_right_jam128(small, d);

    u128 sum;
    if (big_sign == small_sign) {
        sum = big + small;                      /* < 2^127 */
    } else {
        sum = big - small;
        if (sum == 0)
            return make_zero(f, rm == RM_RDN);
    }

    /* Bring the leading one to bit 62 of a 64-bit significand. */
    uint64_t hi = (uint64_t)(sum >> 64);
    int msb = hi ? 127 - __builtin_clzll(hi) : 63 - __builtin_clzll((uint64_t)sum);
    uint64_t sig;
    if (msb > 62)
        sig = (uint64_t)shift_right_jam128(sum, msb - 62);
    else
        sig = (uint64_t)sum << (62 - msb);
    return round_pack(f, big_sign, exp - 125 + msb, sig, rm, flags);
}

/* ---- conversions -------------------------------------------------------- */

/* Between the two formats: exact widening, rounded narrowing. */
static uint64_t fp_convert(const struct fp_format *to, const struct fp_format *from, uint64_t x,
                           int rm, uint8_t *flags)
{
    struct fp_unpacked a = unpack(from, x);
    switch (a.cls) {
    case FPC_QNAN:
    case FPC_SNAN: return nan_result(to, a.cls == FPC_SNAN, flags);
    case FPC_INF:  return make_inf(to, a.sign);
    case FPC_ZERO: return make_zero(to, a.sign);
    default:       return round_pack(to, a.sign, a.exp, a.sig, rm, flags);
    }
}

/* Integer (given as sign and magnitude) to format f. Zero is +0. */
static uint64_t int_to_fp(const struct fp_format *f, bool sign, uint64_t mag, int rm,
                          uint8_t *flags)
{
    if (mag == 0)
        return 0;
    int msb = 63 - __builtin_clzll(mag);
    uint64_t sig = msb == 63 ? shift_right_jam(mag, 1) : mag << (62 - msb);
    return round_pack(f, sign, msb, sig, rm, flags);
}

static uint64_t signed_to_fp(const struct fp_format *f, int64_t v, int rm, uint8_t *flags)
{
    return int_to_fp(f, v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, rm, flags);
}

enum int_kind { INT_W, INT_WU, INT_L, INT_LU };

/* The saturated result of an invalid conversion (spec 11.7 table "domains
 * of float-to-integer conversions"): NaN and too-large positive → the largest
 * integer, too-large negative → the smallest (0 for unsigned). */
static uint64_t int_saturate(enum int_kind kind, bool negative)
{
    switch (kind) {
    case INT_W:  return negative ? (uint64_t)INT32_MIN : (uint64_t)INT32_MAX;
    case INT_WU: return negative ? 0 : UINT32_MAX;
    case INT_L:  return negative ? (uint64_t)INT64_MIN : (uint64_t)INT64_MAX;
    default:     return negative ? 0 : UINT64_MAX;
    }
}

/* Largest magnitude representable for the given sign. */
static u128 int_limit(enum int_kind kind, bool negative)
{
    switch (kind) {
    case INT_W:  return negative ? (1ull << 31) : (1ull << 31) - 1;
    case INT_WU: return negative ? 0 : UINT32_MAX;
    case INT_L:  return negative ? (1ull << 63) : (1ull << 63) - 1;
    default:     return negative ? 0 : UINT64_MAX;
    }
}

/* Format f to an integer, rounded by rm. Returns the integer as the 64-bit
 * pattern to store (32-bit results not yet sign-extended). */
static uint64_t fp_to_int(const struct fp_format *f, uint64_t x, enum int_kind kind, int rm,
                          uint8_t *flags)
{
    struct fp_unpacked a = unpack(f, x);

    if (unp_is_nan(&a)) {
        *flags |= FFLAG_NV;
        return int_saturate(kind, false);
    }
    if (a.cls == FPC_INF) {
        *flags |= FFLAG_NV;
        return int_saturate(kind, a.sign);
    }
    if (a.cls == FPC_ZERO)
        return 0;

    /* Round |x| = sig * 2^(exp-62) to an integer magnitude. */
    u128 mag;
    bool inexact = false;
    if (a.exp >= 64) {
        mag = (u128)1 << 64;                    /* out of every range */
    } else if (a.exp >= 62) {
        mag = (u128)a.sig << (a.exp - 62);
    } else {
        int s = 62 - a.exp;                     /* fraction bits, >= 1 */
        uint64_t kept = s >= 64 ? 0 : a.sig >> s;
        uint64_t rest = s >= 64 ? a.sig : a.sig & ((1ull << s) - 1);
        bool half_bit = s <= 63 && ((rest >> (s - 1)) & 1);
        bool sticky = s <= 63 ? (rest & ((1ull << (s - 1)) - 1)) != 0 : rest != 0;
        inexact = rest != 0;
        mag = (u128)kept + round_up(rm, a.sign, kept & 1, half_bit, sticky);
    }

    if (mag > int_limit(kind, a.sign)) {
        *flags |= FFLAG_NV;
        return int_saturate(kind, a.sign);
    }
    if (inexact)
        *flags |= FFLAG_NX;
    return a.sign ? (uint64_t)0 - (uint64_t)mag : (uint64_t)mag;
}

/* ---- comparisons, min/max, classify, sign injection --------------------- */

/* A key that orders non-NaN values as integers do, with -0 below +0. */
static inline uint64_t order_key(const struct fp_format *f, uint64_t v)
{
    return bits_sign(f, v) ? ~v & (sign_bit(f) | (sign_bit(f) - 1)) : v | sign_bit(f);
}

/* x < y or x <= y for non-NaN values; ±0 compare equal (IEEE 5.11). */
static bool fp_less(const struct fp_format *f, uint64_t x, uint64_t y, bool or_equal)
{
    if (is_zero(f, x) && is_zero(f, y))
        return or_equal;
    uint64_t kx = order_key(f, x), ky = order_key(f, y);
    return or_equal ? kx <= ky : kx < ky;
}

/* FEQ is a quiet comparison: NV only for signalling NaNs (spec 11.8). */
static uint64_t fp_eq(const struct fp_format *f, uint64_t x, uint64_t y, uint8_t *flags)
{
    if (is_nan(f, x) || is_nan(f, y)) {
        if (is_snan(f, x) || is_snan(f, y))
            *flags |= FFLAG_NV;
        return 0;
    }
    return x == y || (is_zero(f, x) && is_zero(f, y));
}

/* FLT and FLE are signalling comparisons: NV for any NaN (spec 11.8). */
static uint64_t fp_lt_le(const struct fp_format *f, uint64_t x, uint64_t y, bool or_equal,
                         uint8_t *flags)
{
    if (is_nan(f, x) || is_nan(f, y)) {
        *flags |= FFLAG_NV;
        return 0;
    }
    return fp_less(f, x, y, or_equal);
}

/* IEEE 754-2019 minimumNumber / maximumNumber (spec 11.6 FMIN/FMAX). */
static uint64_t fp_min_max(const struct fp_format *f, uint64_t x, uint64_t y, bool want_max,
                           uint8_t *flags)
{
    bool xn = is_nan(f, x), yn = is_nan(f, y);
    if (is_snan(f, x) || is_snan(f, y))
        *flags |= FFLAG_NV;
    if (xn && yn)
        return f->canonical_nan;
    if (xn)
        return y;
    if (yn)
        return x;
    bool x_below = order_key(f, x) < order_key(f, y);
    return x_below != want_max ? x : y;
}

/* FCLASS mask bits (spec 11.9, table "format of result of FCLASS"). */
static uint64_t fp_class(const struct fp_format *f, uint64_t v)
{
    bool neg = bits_sign(f, v);
    int e = bits_exp(f, v);
    uint64_t frac = v & frac_mask(f);

    if (e == f->exp_max) {
        if (frac == 0)
            return neg ? 1u << 0 : 1u << 7;
        return is_snan(f, v) ? 1u << 8 : 1u << 9;
    }
    if (e == 0) {
        if (frac == 0)
            return neg ? 1u << 3 : 1u << 4;
        return neg ? 1u << 2 : 1u << 5;
    }
    return neg ? 1u << 1 : 1u << 6;
}

enum sgnj_kind { SGNJ, SGNJN, SGNJX };

static uint64_t fp_sgnj(const struct fp_format *f, uint64_t x, uint64_t y, enum sgnj_kind kind)
{
    uint64_t sb = sign_bit(f);
    uint64_t s;
    switch (kind) {
    case SGNJ:  s = y & sb; break;
    case SGNJN: s = ~y & sb; break;
    default:    s = (x ^ y) & sb; break;
    }
    return (x & ~sb) | s;
}

/* ---- host fast path ----------------------------------------------------
 *
 * The common case -- round to nearest even, normal operands of moderate
 * size -- is done by the host's IEEE 754 arithmetic, which rounds exactly as
 * RISC-V RNE does (umbra never changes the host rounding mode). The window
 * on the operands' exponents rules out overflow and underflow, so NX is the
 * only flag possible, and it is decided exactly: by the error of the sum
 * (Knuth's TwoSum, exact when nothing overflows), or by whether the odd
 * parts of the significands multiply or divide within the precision.
 * Anything outside the window takes the integer path above. */
#if defined(__STDC_IEC_559__) && FLT_EVAL_METHOD == 0 && !defined(__FAST_MATH__)
#define FPU_HOST_FAST 1
#else
#define FPU_HOST_FAST 0
#endif

enum fast_op { FAST_ADD, FAST_SUB, FAST_MUL, FAST_DIV };

/* Tests turn the host path off to compare it with the integer path. */
static bool host_fast_enabled = true;

void fpu_set_host_fast(bool on)
{
    host_fast_enabled = on;
}

static inline bool host_fast(void)
{
    return FPU_HOST_FAST && host_fast_enabled;
}

/* Significand with its hidden bit, trailing zeros removed. */
static inline uint64_t odd_significand(uint64_t v, int frac_bits)
{
    uint64_t m = (v & ((1ull << frac_bits) - 1)) | (1ull << frac_bits);
    return m >> __builtin_ctzll(m);
}

/* Whether x op y is exact, given its exponents stay in range. */
static inline bool fast_exact(enum fast_op op, uint64_t x, uint64_t y, int frac_bits)
{
    uint64_t ox = odd_significand(x, frac_bits), oy = odd_significand(y, frac_bits);
    if (op == FAST_MUL)
        return ((u128)ox * oy >> (frac_bits + 1)) == 0;
    return ox % oy == 0;    /* the quotient of odd parts must be an integer */
}

/* Host values from register bits and back (memcpy: no aliasing games). */
static inline double as_double(uint64_t v) { double d; memcpy(&d, &v, sizeof d); return d; }
static inline float as_float(uint32_t v) { float f; memcpy(&f, &v, sizeof f); return f; }
static inline uint64_t double_bits(double d) { uint64_t v; memcpy(&v, &d, sizeof v); return v; }
static inline uint64_t float_bits(float f) { uint32_t v; memcpy(&v, &f, sizeof v); return v; }

static bool fast_d(enum fast_op op, uint64_t x, uint64_t y, uint64_t *out, uint8_t *flags)
{
    /* biased exponents 1023 +- 500: sums, products and quotients stay normal */
    if (!host_fast() || ((x >> 52) & 0x7ff) - 523u > 1000u || ((y >> 52) & 0x7ff) - 523u > 1000u)
        return false;
    double a = as_double(x), b = as_double(y), r;
    bool inexact;
    if (op == FAST_ADD || op == FAST_SUB) {
        if (op == FAST_SUB)
            b = -b;
        r = a + b;
        double bv = r - a, av = r - bv;
        inexact = (a - av) + (b - bv) != 0;
    } else {
        r = op == FAST_MUL ? a * b : a / b;
        inexact = !fast_exact(op, x, y, 52);
    }
    if (inexact)
        *flags |= FFLAG_NX;
    *out = double_bits(r);
    return true;
}

static bool fast_s(enum fast_op op, uint64_t x, uint64_t y, uint64_t *out, uint8_t *flags)
{
    /* biased exponents 127 +- 60 */
    if (!host_fast() || ((x >> 23) & 0xff) - 67u > 120u || ((y >> 23) & 0xff) - 67u > 120u)
        return false;
    float a = as_float((uint32_t)x), b = as_float((uint32_t)y), r;
    bool inexact;
    if (op == FAST_ADD || op == FAST_SUB) {
        if (op == FAST_SUB)
            b = -b;
        r = a + b;
        float bv = r - a, av = r - bv;
        inexact = (a - av) + (b - bv) != 0;
    } else {
        r = op == FAST_MUL ? a * b : a / b;
        inexact = !fast_exact(op, x, y, 23);
    }
    if (inexact)
        *flags |= FFLAG_NX;
    *out = float_bits(r);
    return true;
}

/* Fused multiply-add by the host's fma()/fmaf() (C11 F.10.10.1: one
 * rounding, here RNE). All three operands lie in a window that keeps every
 * term and the exact result E = x*y + z normal, so NX is the only flag.
 * Whether E was exact follows from its lowest and highest set bits:
 *  - lowest: a finite x is odd * 2^lsb(x), so x*y's lowest set bit is
 *    lsb(x) + lsb(y); if that differs from lsb(z), E's lowest set bit is the
 *    smaller of the two (nothing below it can cancel). Equal: undecided.
 *  - highest: r = RN(E) has exponent e; RN is monotone and powers of two
 *    are representable, so E's leading bit is at e or e - 1.
 * E has (e - lowest) or (e - lowest + 1) significant bits: at most prec
 * means exact, more than prec inexact; the one undecided span goes to the
 * integer path. */
struct fast_fma_format {
    int frac_bits;      /* 52 or 23 */
    unsigned exp_mask;  /* 0x7ff or 0xff */
    int exp_bias_lsb;   /* bias + frac_bits: lsb(x) = exp - this + ctz(sig) */
    unsigned window_lo, window_len;   /* biased exponents allowed */
};

/* Windows: |x|, |y|, |z| within 2^+-400 (D) or 2^+-40 (S), so every set
 * bit of E lies between 2^-904 and 2^803 (2^-126 and 2^83 for S). */
static const struct fast_fma_format FAST_FMA_D = { 52, 0x7ff, 1075, 623, 800 };
static const struct fast_fma_format FAST_FMA_S = { 23, 0xff, 150, 87, 80 };

static inline unsigned biased_exp(const struct fast_fma_format *f, uint64_t v)
{
    return (unsigned)(v >> f->frac_bits) & f->exp_mask;
}

static inline int lowest_bit(const struct fast_fma_format *f, uint64_t v)
{
    uint64_t sig = (v & ((1ull << f->frac_bits) - 1)) | (1ull << f->frac_bits);
    return (int)biased_exp(f, v) - f->exp_bias_lsb + __builtin_ctzll(sig);
}

static inline bool in_window(const struct fast_fma_format *f, uint64_t v)
{
    return biased_exp(f, v) - f->window_lo <= f->window_len;
}

/* x*y + z rounded (RNE) in *out, NX accrued; false: take the integer path.
 * Inlined so that the format's fields are constants (see fma_op). */
static inline __attribute__((always_inline)) bool
fast_fma(const struct fast_fma_format *f, uint64_t x, uint64_t y, uint64_t z, uint64_t *out,
         uint8_t *flags)
{
    if (!host_fast() || !in_window(f, x) || !in_window(f, y) || !in_window(f, z))
        return false;
    int low_xy = lowest_bit(f, x) + lowest_bit(f, y), low_z = lowest_bit(f, z);
    if (low_xy == low_z)
        return false;
    uint64_t r = f->frac_bits == 52
        ? double_bits(fma(as_double(x), as_double(y), as_double(z)))
        : float_bits(fmaf(as_float((uint32_t)x), as_float((uint32_t)y), as_float((uint32_t)z)));
    /* E = 0 would need x*y = -z, hence equal lowest bits: r is not zero. */
    int low = low_xy < low_z ? low_xy : low_z;
    int top = (int)biased_exp(f, r) - f->exp_bias_lsb + f->frac_bits;   /* r's leading bit */
    int span = top - low;       /* E has span or span + 1 significant bits */
    if (span == f->frac_bits + 1)
        return false;
    if (span > f->frac_bits + 1)
        *flags |= FFLAG_NX;
    *out = r;
    return true;
}

/* The four FMA forms: negating an operand's sign bit is exact. Inlined
 * into fma_d and fma_s only, where the format is a constant: with it a
 * parameter, the fast path's shifts and masks were loaded from memory, and
 * the exact path (fp_fma, kept out of line) was inlined too; an FMA of the
 * compute guest cost 142 host instructions, now 96 (callgrind, counting
 * what it calls). */
static inline __attribute__((always_inline)) uint64_t
fma_op(const struct fp_format *f, uint64_t x, uint64_t y, uint64_t z, bool negate_product,
       bool negate_addend, int rm, uint8_t *flags)
{
    uint64_t r;
    const struct fast_fma_format *ff = f->width == 64 ? &FAST_FMA_D : &FAST_FMA_S;
    if (rm == RM_RNE &&
        fast_fma(ff, negate_product ? x ^ sign_bit(f) : x, y,
                 negate_addend ? z ^ sign_bit(f) : z, &r, flags))
        return r;
    return fp_fma(f, x, y, z, negate_product, negate_addend, rm, flags);
}

static __attribute__((noinline)) uint64_t fma_d(uint64_t x, uint64_t y, uint64_t z,
                                                 bool negate_product, bool negate_addend,
                                                 int rm, uint8_t *flags)
{
    return fma_op(&FMT_D, x, y, z, negate_product, negate_addend, rm, flags);
}

static __attribute__((noinline)) uint64_t fma_s(uint64_t x, uint64_t y, uint64_t z,
                                                 bool negate_product, bool negate_addend,
                                                 int rm, uint8_t *flags)
{
    return fma_op(&FMT_S, x, y, z, negate_product, negate_addend, rm, flags);
}

/* ---- dispatch ----------------------------------------------------------- */

/* Whether the op has a rounding-mode field (spec 11.2: only those consult
 * rm; sign injection, min/max, compares, classify and moves reuse funct3). */
static bool op_uses_rm(enum insn_op op)
{
    switch (op) {
    case OP_FMADD_S: case OP_FMSUB_S: case OP_FNMSUB_S: case OP_FNMADD_S:
    case OP_FADD_S: case OP_FSUB_S: case OP_FMUL_S: case OP_FDIV_S: case OP_FSQRT_S:
    case OP_FCVT_W_S: case OP_FCVT_WU_S: case OP_FCVT_L_S: case OP_FCVT_LU_S:
    case OP_FCVT_S_W: case OP_FCVT_S_WU: case OP_FCVT_S_L: case OP_FCVT_S_LU:
    case OP_FMADD_D: case OP_FMSUB_D: case OP_FNMSUB_D: case OP_FNMADD_D:
    case OP_FADD_D: case OP_FSUB_D: case OP_FMUL_D: case OP_FDIV_D: case OP_FSQRT_D:
    case OP_FCVT_S_D: case OP_FCVT_D_S:
    case OP_FCVT_W_D: case OP_FCVT_WU_D: case OP_FCVT_L_D: case OP_FCVT_LU_D:
    case OP_FCVT_D_W: case OP_FCVT_D_WU: case OP_FCVT_D_L: case OP_FCVT_D_LU:
        return true;
    default:
        return false;
    }
}

static inline void write_x(struct hart *h, int rd, uint64_t v)
{
    if (rd != 0)
        h->x[rd] = v;
}

static inline uint64_t sext32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
}

/* Single-precision ops: operands unboxed, results boxed. */
static bool exec_s(struct hart *h, const struct insn *in, int rm, uint8_t *fl)
{
    const struct fp_format *f = &FMT_S;
    uint64_t a = fpu_unbox_s(h->f[in->rs1]);
    uint64_t b = fpu_unbox_s(h->f[in->rs2]);
    uint64_t c = fpu_unbox_s(h->f[in->rs3]);
    uint64_t xs = h->x[in->rs1];
    uint64_t r;

    switch ((enum insn_op)in->op) {
    case OP_FMADD_S:  r = fma_s(a, b, c, false, false, rm, fl); break;
    case OP_FMSUB_S:  r = fma_s(a, b, c, false, true, rm, fl); break;
    case OP_FNMSUB_S: r = fma_s(a, b, c, true, false, rm, fl); break;
    case OP_FNMADD_S: r = fma_s(a, b, c, true, true, rm, fl); break;
    case OP_FADD_S:
        if (rm != RM_RNE || !fast_s(FAST_ADD, a, b, &r, fl))
            r = fp_add(f, a, b, false, rm, fl);
        break;
    case OP_FSUB_S:
        if (rm != RM_RNE || !fast_s(FAST_SUB, a, b, &r, fl))
            r = fp_add(f, a, b, true, rm, fl);
        break;
    case OP_FMUL_S:
        if (rm != RM_RNE || !fast_s(FAST_MUL, a, b, &r, fl))
            r = fp_mul(f, a, b, rm, fl);
        break;
    case OP_FDIV_S:
        if (rm != RM_RNE || !fast_s(FAST_DIV, a, b, &r, fl))
            r = fp_div(f, a, b, rm, fl);
        break;
    case OP_FSQRT_S:  r = fp_sqrt(f, a, rm, fl); break;
    case OP_FSGNJ_S:  r = fp_sgnj(f, a, b, SGNJ); break;
    case OP_FSGNJN_S: r = fp_sgnj(f, a, b, SGNJN); break;
    case OP_FSGNJX_S: r = fp_sgnj(f, a, b, SGNJX); break;
    case OP_FMIN_S:   r = fp_min_max(f, a, b, false, fl); break;
    case OP_FMAX_S:   r = fp_min_max(f, a, b, true, fl); break;
    case OP_FCVT_S_W: r = signed_to_fp(f, (int32_t)xs, rm, fl); break;
    case OP_FCVT_S_WU: r = int_to_fp(f, false, (uint32_t)xs, rm, fl); break;
    case OP_FCVT_S_L: r = signed_to_fp(f, (int64_t)xs, rm, fl); break;
    case OP_FCVT_S_LU: r = int_to_fp(f, false, xs, rm, fl); break;
    case OP_FMV_W_X:  r = (uint32_t)xs; break;

    case OP_FCVT_W_S:  write_x(h, in->rd, sext32(fp_to_int(f, a, INT_W, rm, fl))); return true;
    case OP_FCVT_WU_S: write_x(h, in->rd, sext32(fp_to_int(f, a, INT_WU, rm, fl))); return true;
    case OP_FCVT_L_S:  write_x(h, in->rd, fp_to_int(f, a, INT_L, rm, fl)); return true;
    case OP_FCVT_LU_S: write_x(h, in->rd, fp_to_int(f, a, INT_LU, rm, fl)); return true;
    /* FMV.X.W moves the register's low 32 bits, boxed or not (spec 12.2). */
    case OP_FMV_X_W:  write_x(h, in->rd, sext32(h->f[in->rs1])); return true;
    case OP_FEQ_S:    write_x(h, in->rd, fp_eq(f, a, b, fl)); return true;
    case OP_FLT_S:    write_x(h, in->rd, fp_lt_le(f, a, b, false, fl)); return true;
    case OP_FLE_S:    write_x(h, in->rd, fp_lt_le(f, a, b, true, fl)); return true;
    case OP_FCLASS_S: write_x(h, in->rd, fp_class(f, a)); return true;
    default:
        return false;
    }
    h->f[in->rd] = fpu_box_s((uint32_t)r);
    return true;
}

static bool exec_d(struct hart *h, const struct insn *in, int rm, uint8_t *fl)
{
    const struct fp_format *f = &FMT_D;
    uint64_t a = h->f[in->rs1], b = h->f[in->rs2], c = h->f[in->rs3];
    uint64_t xs = h->x[in->rs1];
    uint64_t r;

    switch ((enum insn_op)in->op) {
    case OP_FMADD_D:  r = fma_d(a, b, c, false, false, rm, fl); break;
    case OP_FMSUB_D:  r = fma_d(a, b, c, false, true, rm, fl); break;
    case OP_FNMSUB_D: r = fma_d(a, b, c, true, false, rm, fl); break;
    case OP_FNMADD_D: r = fma_d(a, b, c, true, true, rm, fl); break;
    case OP_FADD_D:
        if (rm != RM_RNE || !fast_d(FAST_ADD, a, b, &r, fl))
            r = fp_add(f, a, b, false, rm, fl);
        break;
    case OP_FSUB_D:
        if (rm != RM_RNE || !fast_d(FAST_SUB, a, b, &r, fl))
            r = fp_add(f, a, b, true, rm, fl);
        break;
    case OP_FMUL_D:
        if (rm != RM_RNE || !fast_d(FAST_MUL, a, b, &r, fl))
            r = fp_mul(f, a, b, rm, fl);
        break;
    case OP_FDIV_D:
        if (rm != RM_RNE || !fast_d(FAST_DIV, a, b, &r, fl))
            r = fp_div(f, a, b, rm, fl);
        break;
    case OP_FSQRT_D:  r = fp_sqrt(f, a, rm, fl); break;
    case OP_FSGNJ_D:  r = fp_sgnj(f, a, b, SGNJ); break;
    case OP_FSGNJN_D: r = fp_sgnj(f, a, b, SGNJN); break;
    case OP_FSGNJX_D: r = fp_sgnj(f, a, b, SGNJX); break;
    case OP_FMIN_D:   r = fp_min_max(f, a, b, false, fl); break;
    case OP_FMAX_D:   r = fp_min_max(f, a, b, true, fl); break;
    case OP_FCVT_D_W: r = signed_to_fp(f, (int32_t)xs, rm, fl); break;
    case OP_FCVT_D_WU: r = int_to_fp(f, false, (uint32_t)xs, rm, fl); break;
    case OP_FCVT_D_L: r = signed_to_fp(f, (int64_t)xs, rm, fl); break;
    case OP_FCVT_D_LU: r = int_to_fp(f, false, xs, rm, fl); break;
    case OP_FCVT_D_S: r = fp_convert(f, &FMT_S, fpu_unbox_s(a), rm, fl); break;
    case OP_FCVT_S_D:
        h->f[in->rd] = fpu_box_s((uint32_t)fp_convert(&FMT_S, f, a, rm, fl));
        return true;
    case OP_FMV_D_X:  r = xs; break;

    case OP_FCVT_W_D:  write_x(h, in->rd, sext32(fp_to_int(f, a, INT_W, rm, fl))); return true;
    case OP_FCVT_WU_D: write_x(h, in->rd, sext32(fp_to_int(f, a, INT_WU, rm, fl))); return true;
    case OP_FCVT_L_D:  write_x(h, in->rd, fp_to_int(f, a, INT_L, rm, fl)); return true;
    case OP_FCVT_LU_D: write_x(h, in->rd, fp_to_int(f, a, INT_LU, rm, fl)); return true;
    case OP_FMV_X_D:  write_x(h, in->rd, a); return true;
    case OP_FEQ_D:    write_x(h, in->rd, fp_eq(f, a, b, fl)); return true;
    case OP_FLT_D:    write_x(h, in->rd, fp_lt_le(f, a, b, false, fl)); return true;
    case OP_FLE_D:    write_x(h, in->rd, fp_lt_le(f, a, b, true, fl)); return true;
    case OP_FCLASS_D: write_x(h, in->rd, fp_class(f, a)); return true;
    default:
        return false;
    }
    h->f[in->rd] = r;
    return true;
}

bool fpu_execute(struct hart *h, const struct insn *in)
{
    int rm = 0;
    if (op_uses_rm((enum insn_op)in->op)) {
        /* Spec 11.2: rm 5 and 6 are reserved; DYN with frm 5..7 is illegal. */
        rm = in->rm == RM_DYN ? h->frm : in->rm;
        if (rm > RM_RMM)
            return false;
    }
    uint8_t flags = 0;
    bool done;
    if (!fpu_is_computational((enum insn_op)in->op))
        done = false;   /* the caller's mistake */
    else if (in->op <= OP_FCLASS_S)     /* the F list comes before the D list */
        done = exec_s(h, in, rm, &flags);
    else
        done = exec_d(h, in, rm, &flags);
    h->fflags |= flags;
    return done;
}
