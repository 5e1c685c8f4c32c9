/* sifive,test finisher model. */
#include "dev/sifive_test.h"
#include <pthread.h>
#include <stdlib.h>

struct sifive_test {
    struct device dev;              /* first: the board maps it */
    pthread_mutex_t lock;
    void (*on_event)(void *ctx, enum test_event ev, int exit_code);
    void *ctx;
};

/* QEMU's finisher accepts 16- and 32-bit accesses; so does umbra. */
static bool valid_access(uint64_t offset, unsigned size)
{
    return (size == 2 || size == 4) && (offset & (size - 1)) == 0
           && offset < SIFIVE_TEST_WINDOW_SIZE;
}

static bool test_mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    (void)dev;
    if (!valid_access(offset, size))
        return false;
    *value = 0;
    return true;
}

static void report(struct sifive_test *t, enum test_event ev, int code)
{
    pthread_mutex_lock(&t->lock);
    if (t->on_event)
        t->on_event(t->ctx, ev, code);
    pthread_mutex_unlock(&t->lock);
}

static bool test_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct sifive_test *t = dev;
    if (!valid_access(offset, size))
        return false;
    if (offset != 0)
        return true;
    uint32_t v = (uint32_t)value;
    int code = (int)(v >> 16);
    switch (v & 0xffff) {
    case SIFIVE_TEST_PASS:
        report(t, TEST_EVENT_PASS, 0);
        break;
    case SIFIVE_TEST_FAIL:
        report(t, TEST_EVENT_FAIL, code ? code : 1);
        break;
    case SIFIVE_TEST_RESET:
        report(t, TEST_EVENT_RESET, 0);
        break;
    default:
        break;
    }
    return true;
}

static void test_reset(struct device *dev)
{
    (void)dev;                      /* no state */
}

struct sifive_test *sifive_test_create(void (*on_event)(void *ctx, enum test_event ev, int exit_code),
                                       void *ctx)
{
    struct sifive_test *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->dev.name = "sifive_test";
    t->dev.size = SIFIVE_TEST_WINDOW_SIZE;
    t->dev.mmio.read = test_mmio_read;
    t->dev.mmio.write = test_mmio_write;
    t->dev.reset = test_reset;
    t->on_event = on_event;
    t->ctx = ctx;
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void sifive_test_destroy(struct sifive_test *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

struct device *sifive_test_device(struct sifive_test *t)
{
    return &t->dev;
}
