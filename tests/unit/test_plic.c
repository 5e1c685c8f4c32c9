/* PLIC: priorities, thresholds, claim order (priority, then lowest id), the
 * level-triggered gateway, completion rules and the per-context outputs. */
#include <pthread.h>
#include "check.h"
#include "dev/plic.h"

#define NHARTS 2
#define NCTX (2 * NHARTS)

static _Atomic bool out_level[NCTX];
static _Atomic unsigned out_calls, bad_outputs;

/* Runs on whichever thread changed a line, so it counts instead of CHECKing. */
static void on_output(void *ctx, unsigned context, bool level)
{
    if (ctx != (void *)out_level || context >= NCTX) {
        bad_outputs++;
        return;
    }
    out_level[context] = level;
    out_calls++;
}

static struct device *dev;

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    CHECK(dev->mmio.read(dev, off, 4, &v));
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    CHECK(dev->mmio.write(dev, off, 4, v));
}

static uint64_t prio(unsigned src) { return PLIC_PRIORITY_BASE + 4ull * src; }
static uint64_t enable(unsigned ctx, unsigned word) { return PLIC_ENABLE_BASE + 0x80ull * ctx + 4 * word; }
static uint64_t threshold(unsigned ctx) { return PLIC_CONTEXT_BASE + 0x1000ull * ctx; }
static uint64_t claim(unsigned ctx) { return threshold(ctx) + 4; }

static void test_registers(void)
{
    wr(prio(1), 0xff);
    CHECK_EQ(rd(prio(1)), 7);           /* 3 priority bits */
    wr(prio(0), 5);
    CHECK_EQ(rd(prio(0)), 0);           /* source 0 does not exist */
    wr(prio(1), 0);
    wr(enable(0, 0), 0xffffffff);
    CHECK_EQ(rd(enable(0, 0)), 0xfffffffe);
    wr(enable(0, 0), 0);
    wr(threshold(1), 0xff);
    CHECK_EQ(rd(threshold(1)), 7);
    wr(threshold(1), 0);
    /* A context that does not exist reads zero and ignores writes. */
    wr(threshold(NCTX), 3);
    CHECK_EQ(rd(threshold(NCTX)), 0);
    wr(enable(NCTX, 0), 0xffff);
    CHECK_EQ(rd(enable(NCTX, 0)), 0);
    CHECK_EQ(rd(claim(NCTX)), 0);
    uint64_t v;
    CHECK(!dev->mmio.read(dev, prio(1), 8, &v));
    CHECK(!dev->mmio.read(dev, prio(1) + 1, 4, &v));
    CHECK(!dev->mmio.write(dev, threshold(0), 2, 0));
    CHECK(!dev->mmio.read(dev, PLIC_WINDOW_SIZE, 4, &v));
}

static void test_single_source(struct plic *p)
{
    plic_set_irq(p, 5, true);
    CHECK_EQ(rd(PLIC_PENDING_BASE), 1u << 5);
    wr(PLIC_PENDING_BASE, 0);           /* pending bits are read-only */
    CHECK_EQ(rd(PLIC_PENDING_BASE), 1u << 5);
    CHECK(!out_level[1]);
    wr(enable(1, 0), 1u << 5);          /* hart 0, S-mode */
    CHECK(!out_level[1]);               /* priority 0 never interrupts */
    wr(prio(5), 1);
    CHECK(out_level[1]);
    CHECK(!out_level[0] && !out_level[2] && !out_level[3]);
    wr(threshold(1), 1);                /* priority must exceed the threshold */
    CHECK(!out_level[1]);
    CHECK_EQ(rd(claim(1)), 0);
    wr(threshold(1), 0);
    CHECK(out_level[1]);

    CHECK_EQ(rd(claim(1)), 5);
    CHECK_EQ(rd(PLIC_PENDING_BASE), 0);
    CHECK(!out_level[1]);
    CHECK_EQ(rd(claim(1)), 0);
    /* Gateway: the line is still high, but no new request until completion. */
    plic_set_irq(p, 5, true);
    CHECK_EQ(rd(PLIC_PENDING_BASE), 0);
    wr(claim(1), 5);                    /* complete */
    CHECK_EQ(rd(PLIC_PENDING_BASE), 1u << 5);
    CHECK(out_level[1]);
    /* The device lowers its line before the claim: the request goes away. */
    plic_set_irq(p, 5, false);
    CHECK_EQ(rd(PLIC_PENDING_BASE), 0);
    CHECK(!out_level[1]);
    /* Completion with the line low re-arms without a new request. */
    plic_set_irq(p, 5, true);
    CHECK_EQ(rd(claim(1)), 5);
    plic_set_irq(p, 5, false);
    wr(claim(1), 5);
    CHECK_EQ(rd(PLIC_PENDING_BASE), 0);
    CHECK(!out_level[1]);
    plic_set_irq(p, 5, true);
    CHECK(out_level[1]);
    CHECK_EQ(rd(claim(1)), 5);
    wr(claim(1), 5);
    plic_set_irq(p, 5, false);
    wr(enable(1, 0), 0);
    CHECK(!out_level[1]);
}

static void test_priority_order(struct plic *p)
{
    const unsigned src[4] = { 3, 7, 9, 40 };
    const unsigned pr[4] = { 2, 2, 3, 3 };
    for (unsigned i = 0; i < 4; i++) {
        wr(prio(src[i]), pr[i]);
        plic_set_irq(p, src[i], true);
    }
    CHECK_EQ(rd(PLIC_PENDING_BASE), (1u << 3) | (1u << 7) | (1u << 9));
    CHECK_EQ(rd(PLIC_PENDING_BASE + 4), 1u << (40 - 32));
    wr(enable(2, 0), (1u << 3) | (1u << 7) | (1u << 9));   /* hart 1, M-mode */
    wr(enable(2, 1), 1u << (40 - 32));
    CHECK(out_level[2]);
    CHECK(!out_level[3]);
    /* Highest priority first; among equals the lowest id. */
    CHECK_EQ(rd(claim(2)), 9);
    CHECK_EQ(rd(claim(2)), 40);
    CHECK(out_level[2]);
    wr(threshold(2), 2);                /* masks the priority-2 pair */
    CHECK(!out_level[2]);
    CHECK_EQ(rd(claim(2)), 0);
    wr(threshold(2), 0);
    CHECK_EQ(rd(claim(2)), 3);
    CHECK_EQ(rd(claim(2)), 7);
    CHECK_EQ(rd(claim(2)), 0);
    CHECK(!out_level[2]);

    /* A completion for a source the context has disabled is ignored. */
    wr(enable(2, 0), (1u << 3) | (1u << 7));
    wr(claim(2), 9);
    CHECK_EQ(rd(PLIC_PENDING_BASE) & (1u << 9), 0);
    wr(enable(2, 0), (1u << 3) | (1u << 7) | (1u << 9));
    wr(claim(2), 9);
    CHECK_EQ(rd(PLIC_PENDING_BASE) & (1u << 9), 1u << 9);   /* line still high */
    CHECK(out_level[2]);
    /* Completing an id that is not in service changes nothing. */
    wr(claim(2), 9);
    wr(claim(2), 0);
    wr(claim(2), 1000);
    CHECK_EQ(rd(claim(2)), 9);
    for (unsigned i = 0; i < 4; i++) {
        plic_set_irq(p, src[i], false);
        wr(claim(2), src[i]);
    }
    CHECK_EQ(rd(PLIC_PENDING_BASE), 0);
    CHECK_EQ(rd(PLIC_PENDING_BASE + 4), 0);
    CHECK(!out_level[2]);
    wr(enable(2, 0), 0);
    wr(enable(2, 1), 0);
}

static void test_shared_source(struct plic *p)
{
    /* Source 95, the last, enabled on both contexts of hart 1. */
    wr(prio(95), 4);
    wr(enable(2, 2), 1u << 31);
    wr(enable(3, 2), 1u << 31);
    struct irq_line l = plic_source_line(p, 95);
    irq_set(&l, true);
    CHECK_EQ(rd(PLIC_PENDING_BASE + 8), 1u << 31);
    CHECK(out_level[2] && out_level[3]);
    CHECK(!out_level[0] && !out_level[1]);
    /* One claim takes it from every context. */
    CHECK_EQ(rd(claim(3)), 95);
    CHECK(!out_level[2] && !out_level[3]);
    CHECK_EQ(rd(claim(2)), 0);
    /* Completion from the other context that has it enabled is accepted. */
    wr(claim(2), 95);
    CHECK(out_level[2] && out_level[3]);
    /* Out-of-range sources are ignored. */
    plic_set_irq(p, 0, true);
    plic_set_irq(p, 96, true);
    plic_set_irq(p, 12345, true);
    CHECK_EQ(rd(PLIC_PENDING_BASE) & 1, 0);

    unsigned calls = out_calls;
    plic_set_irq(p, 95, true);          /* no change: no output call */
    CHECK_EQ(out_calls, calls);
}

static void test_reset(void)
{
    dev->reset(dev);
    CHECK(!out_level[2] && !out_level[3]);
    CHECK_EQ(rd(prio(95)), 0);
    CHECK_EQ(rd(enable(2, 2)), 0);
    /* The line of source 95 is still high: pending again after reset. */
    CHECK_EQ(rd(PLIC_PENDING_BASE + 8), 1u << 31);
}

/* Devices on other threads toggle their lines while this thread claims and
 * completes: the lock keeps the state consistent, and once every line is low
 * and every claim completed, nothing is pending and the output is low. */
struct toggler { struct plic *p; unsigned src; _Atomic bool done; };

static void *toggle_lines(void *arg)
{
    struct toggler *t = arg;
    for (unsigned i = 0; i < 20000; i++)
        plic_set_irq(t->p, t->src + (i & 1), (i >> 1) & 1);
    plic_set_irq(t->p, t->src, false);
    plic_set_irq(t->p, t->src + 1, false);
    t->done = true;
    return NULL;
}

static void test_threads(struct plic *p)
{
    dev->reset(dev);
    for (unsigned s = 1; s <= 4; s++)
        wr(prio(s), s);
    wr(enable(0, 0), 0x1e);
    struct toggler a = { p, 1, false }, b = { p, 3, false };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, toggle_lines, &a);
    pthread_create(&tb, NULL, toggle_lines, &b);
    unsigned claims = 0, bad_ids = 0;
    while (!a.done || !b.done) {
        uint32_t id = rd(claim(0));
        if (id) {
            claims++;
            bad_ids += id < 1 || id > 4;
            wr(claim(0), id);
        }
    }
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    for (uint32_t id; (id = rd(claim(0))) != 0;)   /* drain what is left */
        wr(claim(0), id);
    CHECK_EQ(bad_ids, 0);
    CHECK_EQ(bad_outputs, 0);
    CHECK_EQ(rd(PLIC_PENDING_BASE), 0);
    CHECK(!out_level[0]);
    printf("threaded: %u claims\n", claims);
}

int main(void)
{
    struct irq_line out = { .set = on_output, .ctx = out_level };
    CHECK(plic_create(0, out) == NULL);
    struct plic *p = plic_create(NHARTS, out);
    CHECK(p != NULL);
    if (!p)
        return check_summary();
    dev = plic_device(p);
    CHECK(dev == (struct device *)p);
    CHECK_EQ(dev->size, 0x600000);
    CHECK(PLIC_CONTEXT_BASE + 0x1000 * 16 <= PLIC_WINDOW_SIZE);   /* 8 harts fit */
    test_registers();
    test_single_source(p);
    test_priority_order(p);
    test_shared_source(p);
    test_reset();
    plic_set_irq(p, 95, false);
    test_threads(p);
    plic_destroy(p);
    return check_summary();
}
