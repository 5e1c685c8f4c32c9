/* CLINT: msip and mtimecmp reach the harts through the hooks with the right
 * values, reads come back from the CLINT's copy, mtime follows the timebase. */
#include <time.h>
#include "check.h"
#include "base/timebase.h"
#include "dev/clint.h"

#define NHARTS 4

static int msip_calls, cmp_calls;
static unsigned last_hart;
static bool last_msip;
static uint64_t last_cmp;

static void set_msip(void *ctx, unsigned hart, bool level)
{
    CHECK(ctx == (void *)&msip_calls);
    msip_calls++;
    last_hart = hart;
    last_msip = level;
}

static void set_mtimecmp(void *ctx, unsigned hart, uint64_t value)
{
    CHECK(ctx == (void *)&msip_calls);
    cmp_calls++;
    last_hart = hart;
    last_cmp = value;
}

static struct device *dev;

static uint64_t rd(uint64_t off, unsigned size)
{
    uint64_t v = 0xdeadbeef;
    CHECK(dev->mmio.read(dev, off, size, &v));
    return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
    CHECK(dev->mmio.write(dev, off, size, v));
}

static void test_msip(void)
{
    CHECK_EQ(rd(0x0, 4), 0);
    wr(4 * 2, 4, 1);
    CHECK_EQ(msip_calls, 1);
    CHECK_EQ(last_hart, 2);
    CHECK(last_msip);
    CHECK_EQ(rd(4 * 2, 4), 1);
    CHECK_EQ(rd(4 * 1, 4), 0);
    wr(4 * 2, 4, 0xfffffffe);           /* bit 0 clear: the others are ignored */
    CHECK(!last_msip);
    CHECK_EQ(rd(4 * 2, 4), 0);
    wr(4 * 3, 4, 0xffffffff);
    CHECK_EQ(rd(4 * 3, 4), 1);
    CHECK_EQ(last_hart, 3);
    /* A hart that does not exist: reads zero, reaches no one. */
    int before = msip_calls;
    wr(4 * NHARTS, 4, 1);
    CHECK_EQ(msip_calls, before);
    CHECK_EQ(rd(4 * NHARTS, 4), 0);
}

static void test_mtimecmp(void)
{
    uint64_t base = CLINT_MTIMECMP + 8 * 1;
    CHECK_EQ(rd(base, 8), 0);           /* QEMU virt's reset value */
    wr(base, 8, 0x1122334455667788ull);
    CHECK_EQ(cmp_calls, 1);
    CHECK_EQ(last_hart, 1);
    CHECK_EQ(last_cmp, 0x1122334455667788ull);
    CHECK_EQ(rd(base, 8), 0x1122334455667788ull);
    CHECK_EQ(rd(base, 4), 0x55667788);
    CHECK_EQ(rd(base + 4, 4), 0x11223344);
    /* 32-bit halves: each write hands the hart the whole new register. */
    wr(base, 4, 0xaaaaaaaa);
    CHECK_EQ(last_cmp, 0x11223344aaaaaaaaull);
    wr(base + 4, 4, 0xbbbbbbbb);
    CHECK_EQ(last_cmp, 0xbbbbbbbbaaaaaaaaull);
    CHECK_EQ(rd(base, 8), 0xbbbbbbbbaaaaaaaaull);
    /* Other harts untouched. */
    CHECK_EQ(rd(CLINT_MTIMECMP, 8), 0);
    CHECK_EQ(rd(CLINT_MTIMECMP + 8 * 2, 8), 0);
    wr(CLINT_MTIMECMP + 8 * 3, 8, ~0ull);
    CHECK_EQ(last_hart, 3);
    CHECK_EQ(last_cmp, ~0ull);
    int before = cmp_calls;
    wr(CLINT_MTIMECMP + 8 * NHARTS, 8, 5);
    CHECK_EQ(cmp_calls, before);
    CHECK_EQ(rd(CLINT_MTIMECMP + 8 * NHARTS, 8), 0);
}

static void test_mtime(void)
{
    uint64_t a = timebase_now();
    uint64_t m = rd(CLINT_MTIME, 8);
    uint64_t b = timebase_now();
    CHECK(a <= m && m <= b);
    struct timespec ts = { 0, 3 * 1000 * 1000 };    /* 3 ms = 30000 ticks at 10 MHz */
    nanosleep(&ts, NULL);
    uint64_t m2 = rd(CLINT_MTIME, 8);
    CHECK(m2 - m >= 30000);
    CHECK(m2 - m < 10 * TIMEBASE_HZ);   /* and not absurdly far */
    uint64_t hi = rd(CLINT_MTIME + 4, 4), lo = rd(CLINT_MTIME, 4);
    CHECK(hi == m2 >> 32 || hi == (m2 >> 32) + 1);
    CHECK(lo <= 0xffffffffu);
    /* Writes are accepted and ignored (clint.h). */
    wr(CLINT_MTIME, 8, 0);
    CHECK(rd(CLINT_MTIME, 8) >= m2);
}

static void test_bad_accesses(void)
{
    uint64_t v;
    CHECK(!dev->mmio.read(dev, 0, 8, &v));          /* msip is 32-bit */
    CHECK(!dev->mmio.read(dev, 2, 4, &v));          /* misaligned */
    CHECK(!dev->mmio.read(dev, CLINT_MTIMECMP + 4, 8, &v));
    CHECK(!dev->mmio.write(dev, CLINT_MTIMECMP, 2, 0));
    CHECK(!dev->mmio.write(dev, CLINT_MTIMECMP, 1, 0));
    CHECK(!dev->mmio.read(dev, CLINT_WINDOW_SIZE, 4, &v));
    CHECK(dev->mmio.read(dev, 0xc000, 4, &v));      /* reserved: reads zero */
    CHECK_EQ(v, 0);
}

static void test_reset(void)
{
    int m0 = msip_calls, c0 = cmp_calls;
    dev->reset(dev);
    CHECK_EQ(msip_calls - m0, NHARTS);
    CHECK_EQ(cmp_calls - c0, NHARTS);
    CHECK(!last_msip);
    CHECK_EQ(last_cmp, 0);
    CHECK_EQ(rd(4 * 3, 4), 0);
    CHECK_EQ(rd(CLINT_MTIMECMP + 8 * 1, 8), 0);
}

int main(void)
{
    timebase_reset();                   /* machine start, as the board does */
    struct clint_hooks hooks = { set_msip, set_mtimecmp, &msip_calls };
    CHECK(clint_create(0, &hooks) == NULL);
    CHECK(clint_create(CLINT_MAX_HARTS + 1, &hooks) == NULL);
    struct clint *c = clint_create(NHARTS, &hooks);
    CHECK(c != NULL);
    if (!c)
        return check_summary();
    dev = clint_device(c);
    CHECK(dev == (struct device *)c);
    CHECK_EQ(dev->size, 0x10000);
    test_msip();
    test_mtimecmp();
    test_mtime();
    test_bad_accesses();
    test_reset();
    clint_destroy(c);
    return check_summary();
}
