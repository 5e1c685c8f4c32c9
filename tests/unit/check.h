/* check.h: the unit tests' tiny assertion kit.
 * CHECK(cond) records a failure with file:line and carries on; CHECK_EQ
 * prints both values. A test's main() ends with `return check_summary();`,
 * which prints "N passed, N failed" and returns non-zero on any failure. */
#ifndef UMBRA_TEST_CHECK_H
#define UMBRA_TEST_CHECK_H
#include <inttypes.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
    if (cond) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ(a, b) do { \
    uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b); \
    if (check_a_ == check_b_) check_passed++; \
    else { check_failed++; fprintf(stderr, "%s:%d: %s == %s failed: 0x%" PRIx64 " != 0x%" PRIx64 "\n", \
                                   __FILE__, __LINE__, #a, #b, check_a_, check_b_); } \
} while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
#endif
