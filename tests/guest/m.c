/* m.c: the M extension (unprivileged spec chapter 7). The high-half
 * multiplies for every signedness combination, the W forms' sign extension
 * and their ignoring of the operands' upper halves, division rounding
 * toward zero, and the two special cases of table 7.1: division by zero
 * (quotient all ones, remainder the dividend) and signed overflow
 * (quotient the dividend, remainder zero), in 64- and 32-bit forms.
 *
 * Built a second time with -DUMBRA_BREAK_EXPECTATION, which flips the
 * expected value of the check marked EXPECT_FLIP: that build must fail with
 * exactly that check's number (tests/guest/CMakeLists.txt).
 */
#include "rt.h"

#define OP(op, a, b) ({ uint64_t r_; \
    asm volatile(op " %0, %1, %2" : "=r"(r_) : "r"((uint64_t)(a)), "r"((uint64_t)(b))); r_; })

#define MIN64 0x8000000000000000ull
#define MAX64 0x7fffffffffffffffull
#define ONES  0xffffffffffffffffull

static void multiply(void)
{
    CHECK_EQ(1, OP("mul", 6, 7), 42);
    CHECK_EQ(2, OP("mul", ONES, ONES), 1);
    CHECK_EQ(3, OP("mul", MIN64, ONES), MIN64);             /* wraps */
    CHECK_EQ(4, OP("mul", 0x100000001ull, 0x100000001ull), 0x0000000200000001ull);
    /* MULH: signed x signed, upper 64 bits of the 128-bit product. */
    CHECK_EQ(5, OP("mulh", ONES, ONES), 0);                 /* (-1)(-1) = 1 */
    CHECK_EQ(6, OP("mulh", ONES, 1), ONES);                 /* -1 */
    CHECK_EQ(7, OP("mulh", MIN64, MIN64), 0x4000000000000000ull);   /* 2^126 */
    CHECK_EQ(8, OP("mulh", MAX64, MAX64), 0x3fffffffffffffffull);   /* 2^126 - 2^64 + 1 */
    CHECK_EQ(9, OP("mulh", MIN64, MAX64), 0xc000000000000000ull);   /* -2^126 + 2^63 */
    CHECK_EQ(10, OP("mulh", 3, 5), 0);
    /* MULHU: unsigned x unsigned. */
    CHECK_EQ(11, OP("mulhu", ONES, ONES), 0xfffffffffffffffeull);    /* 2^128 - 2^65 + 1 */
    CHECK_EQ(12, OP("mulhu", ONES, 2), 1);
    CHECK_EQ(13, OP("mulhu", MIN64, 2), 1);
    CHECK_EQ(14, OP("mulhu", 0x100000000ull, 0x100000000ull), 1);
    /* MULHSU: rs1 signed, rs2 unsigned. */
    CHECK_EQ(15, OP("mulhsu", ONES, ONES), ONES);            /* -(2^64 - 1) */
    CHECK_EQ(16, OP("mulhsu", 1, ONES), 0);                  /* 2^64 - 1 */
    CHECK_EQ(17, OP("mulhsu", MIN64, 2), ONES);              /* -2^64 */
    CHECK_EQ(18, OP("mulhsu", ONES, 1), ONES);               /* -1 */
    CHECK_EQ(19, OP("mulhsu", MAX64, ONES), 0x7ffffffffffffffeull);  /* (2^63-1)(2^64-1) */
    CHECK_EQ(20, OP("mulhsu", 0xfffffffffffffffeull, MIN64), ONES);  /* -2 * 2^63 */
    /* MULW: low 32 bits of the product, sign-extended. */
    CHECK_EQ(21, OP("mulw", 0x7fffffff, 2), 0xfffffffffffffffeull);
    CHECK_EQ(22, OP("mulw", 0x100000003ull, 0x700000005ull), 15);
    CHECK_EQ(23, OP("mulw", 0x10000, 0x8000), 0xffffffff80000000ull);
    CHECK_EQ(24, OP("mulw", ONES, ONES), 1);
}

static void divide(void)
{
    /* Rounding toward zero; the remainder takes the dividend's sign. */
    CHECK_EQ(25, OP("div", -7ll, 2), (uint64_t)-3ll);
    CHECK_EQ(26, OP("rem", -7ll, 2), (uint64_t)-1ll);
    CHECK_EQ(27, OP("div", 7, -2ll), (uint64_t)-3ll);
    CHECK_EQ(28, OP("rem", 7, -2ll), 1);
    CHECK_EQ(29, OP("div", -7ll, -2ll), 3);
    CHECK_EQ(30, OP("rem", -7ll, -2ll), (uint64_t)-1ll);
    CHECK_EQ(31, OP("divu", ONES, 2), MAX64);
    CHECK_EQ(32, OP("remu", ONES, 2), 1);
    CHECK_EQ(33, OP("divu", 7, ONES), 0);
    CHECK_EQ(34, OP("remu", 7, ONES), 7);
    /* Division by zero (table 7.1). */
    CHECK_EQ(35, OP("div", 12345, 0), EXPECT_FLIP(ONES));
    CHECK_EQ(36, OP("div", MIN64, 0), ONES);
    CHECK_EQ(37, OP("divu", 12345, 0), ONES);
    CHECK_EQ(38, OP("rem", -12345ll, 0), (uint64_t)-12345ll);
    CHECK_EQ(39, OP("remu", 0xfedcba9876543210ull, 0), 0xfedcba9876543210ull);
    /* Signed overflow. */
    CHECK_EQ(40, OP("div", MIN64, ONES), MIN64);
    CHECK_EQ(41, OP("rem", MIN64, ONES), 0);
    /* 32-bit forms: operate on the low halves, sign-extend the result. */
    CHECK_EQ(42, OP("divw", 0xffffffff80000000ull, ONES), 0xffffffff80000000ull);  /* overflow */
    CHECK_EQ(43, OP("remw", 0x80000000ull, ONES), 0);
    CHECK_EQ(44, OP("divw", 0x1234567800000005ull, 0), ONES);
    CHECK_EQ(45, OP("divuw", 0x1234567800000005ull, 0), ONES);      /* 2^32-1, sign-extended */
    CHECK_EQ(46, OP("remw", 0x1234567887654321ull, 0), 0xffffffff87654321ull);
    CHECK_EQ(47, OP("remuw", 0x1234567887654321ull, 0), 0xffffffff87654321ull);
    CHECK_EQ(48, OP("divw", 0xabcdef00fffffff9ull, 2), (uint64_t)-3ll);   /* -7 / 2 */
    CHECK_EQ(49, OP("remw", 0xabcdef00fffffff9ull, 2), (uint64_t)-1ll);
    CHECK_EQ(50, OP("divuw", 0xffffffffull, 2), 0x7fffffff);
    CHECK_EQ(51, OP("divuw", 0x180000000ull, 1), 0xffffffff80000000ull);
    CHECK_EQ(52, OP("remuw", 0xfffffff9ull, 2), 1);
    CHECK_EQ(53, OP("remuw", 0x500000007ull, 0x300000004ull), 3);
}

static void destination_zero(void)
{
    uint64_t zero;
    asm volatile("div x0, %1, %1\n\tmv %0, x0" : "=r"(zero) : "r"(7ull));
    CHECK_EQ(54, zero, 0);
}

int main(void)
{
    multiply();
    divide();
    destination_zero();
    pass();
}
