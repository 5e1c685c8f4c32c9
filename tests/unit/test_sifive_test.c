/* sifive,test finisher: pass, fail with and without a code, reset, and the
 * values and accesses that must be ignored or refused. */
#include "check.h"
#include "dev/sifive_test.h"

static int events;
static enum test_event last_ev;
static int last_code;

static void on_event(void *ctx, enum test_event ev, int exit_code)
{
    CHECK(ctx == (void *)&events);
    events++;
    last_ev = ev;
    last_code = exit_code;
}

int main(void)
{
    struct sifive_test *t = sifive_test_create(on_event, &events);
    CHECK(t != NULL);
    if (!t)
        return check_summary();
    struct device *d = sifive_test_device(t);
    CHECK(d == (struct device *)t);
    CHECK_EQ(d->size, 0x1000);

    CHECK(d->mmio.write(d, 0, 4, 0x5555));
    CHECK_EQ(events, 1);
    CHECK_EQ(last_ev, TEST_EVENT_PASS);
    CHECK_EQ(last_code, 0);

    CHECK(d->mmio.write(d, 0, 4, (42u << 16) | 0x3333));
    CHECK_EQ(events, 2);
    CHECK_EQ(last_ev, TEST_EVENT_FAIL);
    CHECK_EQ(last_code, 42);

    CHECK(d->mmio.write(d, 0, 4, 0x3333));     /* no code: exit 1 */
    CHECK_EQ(events, 3);
    CHECK_EQ(last_ev, TEST_EVENT_FAIL);
    CHECK_EQ(last_code, 1);

    CHECK(d->mmio.write(d, 0, 4, (0xffffu << 16) | 0x3333));
    CHECK_EQ(last_code, 0xffff);

    CHECK(d->mmio.write(d, 0, 4, 0x7777));
    CHECK_EQ(events, 5);
    CHECK_EQ(last_ev, TEST_EVENT_RESET);

    CHECK(d->mmio.write(d, 0, 2, 0x5555));     /* 16-bit store works too */
    CHECK_EQ(events, 6);
    CHECK_EQ(last_ev, TEST_EVENT_PASS);

    /* Ignored: other values, a PASS code in the upper half, other offsets. */
    CHECK(d->mmio.write(d, 0, 4, 0x1234));
    CHECK(d->mmio.write(d, 0, 4, 0x55550000));
    CHECK(d->mmio.write(d, 4, 4, 0x5555));
    CHECK(d->mmio.write(d, 0xffc, 4, 0x3333));
    CHECK_EQ(events, 6);

    /* Refused: byte and doubleword accesses, misaligned, outside. */
    uint64_t v = 1;
    CHECK(!d->mmio.write(d, 0, 1, 0x55));
    CHECK(!d->mmio.write(d, 0, 8, 0x5555));
    CHECK(!d->mmio.write(d, 2, 4, 0x5555));
    CHECK(!d->mmio.write(d, 0x1000, 4, 0x5555));
    CHECK_EQ(events, 6);
    CHECK(d->mmio.read(d, 0, 4, &v));
    CHECK_EQ(v, 0);
    CHECK(!d->mmio.read(d, 0, 1, &v));

    d->reset(d);
    sifive_test_destroy(t);
    return check_summary();
}
