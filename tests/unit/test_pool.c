/* test_pool: harts on a pool of worker threads (cpu/pool.h). The order in
 * which a worker takes harts (the queue, kicks to its head, a hart that
 * waits for an IPI's answer going right behind its target unless that
 * one gave its last slice up in a spin, a kicked
 * hart's short slice ending at its MRET, aging, home workers), how long a
 * spin lasts before it gives its worker up, the WFI wait off the workers
 * and what ends it (privileged spec 3.3.3), the may_run hook, and last real
 * workers running three harts' code on one thread until the machine
 * halts, and on two, where a worker with nothing of its own takes a hart
 * from the other for good, and an idle worker that polls for kicked harts
 * before it sleeps; and when the pool gathers its harts on fewer
 * workers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "base/timebase.h"
#include "check.h"
#include "rv_asm.h"
#include "cpu/access.h"
#include "cpu/pool.h"
#include "cpu/trap.h"

#define NHARTS 3
#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)

static _Atomic bool halt;
static struct hart harts[NHARTS];
static struct hart_pool pool;
static struct guest_mem mem;

/* NHARTS harts on `nworkers` workers: hart i at home on worker i % nworkers. */
static void setup_workers(unsigned nworkers)
{
    atomic_store(&halt, false);
    for (unsigned i = 0; i < NHARTS; i++) {
        hart_init(&harts[i], i, &mem, &halt);
        harts[i].peers = harts;
        hart_set_mtimecmp(&harts[i], UINT64_MAX);
    }
    pool_init(&pool, harts, NHARTS, nworkers);
    pool_prepare(&pool);
}

static void setup(void) { setup_workers(1); }

static void teardown(void)
{
    pool_destroy(&pool);
    for (unsigned i = 0; i < NHARTS; i++)
        hart_destroy(&harts[i]);
}

static int state(const struct hart *h) { return atomic_load(&h->pool_state); }

static void sleep_us(long us)
{
    struct timespec ts = { us / 1000000, us % 1000000 * 1000 };
    nanosleep(&ts, NULL);
}

/* Take every ready hart and put each back as it was (a yield), checking
 * the order they came in; returns how many there were. */
static unsigned take_in_order(const unsigned *want, unsigned n)
{
    struct hart *got[NHARTS];
    unsigned k = 0;
    struct hart *h;
    while (k < NHARTS && (h = pool_take(&pool, 0)) != NULL)
        got[k++] = h;
    CHECK_EQ(k, n);
    for (unsigned i = 0; i < k && i < n; i++)
        CHECK_EQ(got[i]->mhartid, want[i]);
    for (unsigned i = 0; i < k; i++)
        pool_put(&pool, got[i], HART_SLICE_YIELD);
    return k;
}

/* ------------------------------------------------------------ the queue */

static void test_queue_order(void)
{
    setup();
    /* ready in hart order; a worker takes the head and marks it running */
    struct hart *h = pool_take(&pool, 0);
    CHECK(h == &harts[0]);
    CHECK_EQ(state(h), POOL_RUNNING);
    CHECK_EQ(h->pool_slices, 1u);
    CHECK(!h->pool_boosted);
    /* a hart whose slice ended goes to the tail */
    pool_put(&pool, h, HART_SLICE_YIELD);
    CHECK_EQ(state(h), POOL_READY);
    take_in_order((const unsigned[]){ 1, 2, 0 }, 3);
    teardown();
}

static void test_kick_to_head(void)
{
    setup();
    /* a kicked ready hart runs next, on a short slice */
    hart_kick(&harts[2]);
    struct hart *h = pool_take(&pool, 0);
    CHECK(h == &harts[2]);
    CHECK(h->pool_boosted);
    /* a running hart is not queued by a kick: it sees it at its next poll */
    hart_kick(h);
    CHECK_EQ(state(h), POOL_RUNNING);
    CHECK(pool_take(&pool, 0) == &harts[0]);
    CHECK(pool_take(&pool, 0) == &harts[1]);
    CHECK(pool_take(&pool, 0) == NULL);
    teardown();
}

/* A hart waiting for an IPI's answer goes right behind the target it waits
 * for, which moves to the head. */
static void test_ipi_wait_behind_target(void)
{
    setup();
    struct hart *h0 = pool_take(&pool, 0);
    hart_note_ipi(h0, harts, NHARTS, 2, true);
    pool_put(&pool, h0, HART_SLICE_IPI_WAIT);
    struct hart *t = pool_take(&pool, 0);
    CHECK(t == &harts[2]);
    CHECK(t->pool_boosted);
    struct hart *again = pool_take(&pool, 0);
    CHECK(again == h0);
    CHECK(!again->pool_boosted);
    CHECK(pool_take(&pool, 0) == &harts[1]);
    teardown();
}

/* ...but not behind a target whose last slice gave a spin up: that one
 * waits for a third hart, so the waiting hart goes to the tail and the
 * queue runs in its order. Among several targets, those that did not spin
 * still go to the head, the waiting hart right behind them. */
static void test_ipi_wait_not_behind_spinner(void)
{
    setup();
    struct hart *h0 = pool_take(&pool, 0);
    struct hart *h1 = pool_take(&pool, 0);
    pool_put(&pool, h1, HART_SLICE_SPIN);                   /* queue: 2, 1 */
    CHECK(h1->pool_spun);
    hart_note_ipi(h0, harts, NHARTS, 1, true);
    pool_put(&pool, h0, HART_SLICE_IPI_WAIT);
    CHECK(!h0->pool_boosted);
    take_in_order((const unsigned[]){ 2, 1, 0 }, 3);        /* put back as yields */
    CHECK(!h1->pool_spun);

    /* queue: 2, 1, 0; hart 1 spins again, hart 2 does not */
    struct hart *h2 = pool_take(&pool, 0);
    h1 = pool_take(&pool, 0);
    h0 = pool_take(&pool, 0);
    pool_put(&pool, h1, HART_SLICE_SPIN);
    pool_put(&pool, h2, HART_SLICE_YIELD);                  /* queue: 1, 2 */
    hart_note_ipi(h0, harts, NHARTS, 2, true);
    pool_put(&pool, h0, HART_SLICE_IPI_WAIT);
    take_in_order((const unsigned[]){ 2, 0, 1 }, 3);
    teardown();
}

/* A worker passes over ready harts at home with another (their code is
 * in that one's host CPU caches), but runs a kicked one for its short
 * slice, which keeps its home, and takes for good one ready longer than
 * the pool's steal_ticks (200 us; 1 s here until the steal, so that a
 * slow host does not make every hart one to steal). */
static void test_home_workers(void)
{
    setup_workers(2);                   /* homes: 0 and 2 on worker 0, 1 on worker 1 */
    uint64_t steal_ticks = pool.steal_ticks;
    pool.steal_ticks = TIMEBASE_HZ;
    CHECK(pool_take(&pool, 1) == &harts[1]);        /* passes hart 0 */
    CHECK(pool_take(&pool, 1) == NULL);             /* 0 and 2 are not its own */
    hart_kick(&harts[2]);
    struct hart *h2 = pool_take(&pool, 1);
    CHECK(h2 == &harts[2]);
    CHECK(h2->pool_boosted);
    CHECK_EQ(h2->pool_home, 0u);
    pool_put(&pool, h2, HART_SLICE_YIELD);          /* queue: 0, 2 */
    pool_put(&pool, &harts[1], HART_SLICE_YIELD);   /* queue: 0, 2, 1 */
    CHECK(pool_take(&pool, 1) == &harts[1]);
    CHECK(pool_take(&pool, 0) == &harts[0]);
    pool.steal_ticks = steal_ticks;
    sleep_us(1000);                                 /* hart 2 ready for 1 ms */
    struct hart *stolen = pool_take(&pool, 1);
    CHECK(stolen == &harts[2]);
    CHECK_EQ(stolen->pool_home, 1u);                /* moved home */
    CHECK(pool_take(&pool, 0) == NULL);
    teardown();
}

/* ------------------------------------------------------------ spreading and gathering */

/* Spins given up on the pool: `n` of them. */
static void give_up_spins(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        CHECK(pool_spin_gives_up(&pool, TIMEBASE_HZ, timebase_now()));
}

static void add_user_retired(struct hart *h, uint64_t n)
{
    atomic_fetch_add(&h->user_retired, n);
}

/* End the current phase exactly at its end. */
static void end_phase(void) { pool_tune(&pool, pool.phase_end); }

/* Spread, the harts give up spins (200 in 50 ms on 2 workers, twice the
 * 1,000 per worker and second that make the pool try); gathered on one
 * worker they retire twice the user instructions, so the pool keeps
 * that, then spreads to try again with every hart back at its first home.
 * While gathered, worker 1 takes nothing and worker 0 takes its harts. */
static void test_gathers_when_user_code_gains(void)
{
    setup_workers(2);                   /* homes: 0 and 2 on worker 0, 1 on worker 1 */
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    CHECK_EQ(pool.active_workers, 2u);
    pool_tune(&pool, pool.phase_end - 1);
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);          /* not over yet */
    add_user_retired(&harts[0], 1000000);
    give_up_spins(200);
    end_phase();
    CHECK_EQ(pool.phase, POOL_TRY_GATHERED);
    CHECK_EQ(pool.active_workers, 1u);
    CHECK(pool_take(&pool, 1) == NULL);
    take_in_order((const unsigned[]){ 0, 1, 2 }, 3);
    add_user_retired(&harts[1], 2000000);
    end_phase();
    CHECK_EQ(pool.phase, POOL_KEEP);
    CHECK_EQ(pool.active_workers, 1u);
    CHECK_EQ(pool.gathers_kept, 1u);
    CHECK_EQ(harts[1].pool_home, 0u);               /* moved to the worker that took it */
    for (unsigned w = 0; w < 7; w++) {              /* 8 windows of 50 ms: 400 ms */
        add_user_retired(&harts[2], 1000000);       /* as fast as spread */
        end_phase();
        CHECK_EQ(pool.phase, POOL_KEEP);
        CHECK_EQ(pool.active_workers, 1u);
    }
    add_user_retired(&harts[2], 1000000);
    end_phase();
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    CHECK_EQ(pool.active_workers, 2u);
    CHECK_EQ(harts[1].pool_home, 1u);
    CHECK(pool_take(&pool, 1) == &harts[1]);
    teardown();
}

/* One try on 2 workers: `spread` user instructions retired in the 50 ms
 * spread, with 200 spins given up (twice the 1,000 per worker and second
 * that make the pool try), then `gathered` in the 50 ms gathered. */
static void run_a_try(uint64_t spread, uint64_t gathered)
{
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    add_user_retired(&harts[0], spread);
    give_up_spins(200);
    end_phase();
    CHECK_EQ(pool.phase, POOL_TRY_GATHERED);
    CHECK_EQ(pool.active_workers, 1u);
    add_user_retired(&harts[0], gathered);
    end_phase();
    CHECK_EQ(pool.phase, POOL_KEEP);
}

/* Gathered and kept, a window in which the harts retire fewer user
 * instructions than they did spread ends the keeping at once. */
static void test_spreads_when_gathered_falls_behind(void)
{
    setup_workers(2);
    run_a_try(1000000, 3000000);
    CHECK_EQ(pool.active_workers, 1u);
    add_user_retired(&harts[0], 990000);
    end_phase();
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    CHECK_EQ(pool.active_workers, 2u);
    teardown();
}

/* Gathered, the harts retire 4 % more user instructions than spread: not
 * the twentieth more it takes, so the pool spreads again. */
static void test_spreads_when_gathering_gains_little(void)
{
    setup_workers(2);
    run_a_try(1000000, 1040000);
    CHECK_EQ(pool.active_workers, 2u);
    CHECK_EQ(pool.gathers_kept, 0u);
    teardown();
}

/* Keep windows of 50 ms until the phase ends: how many there are. */
static unsigned kept_windows(void)
{
    unsigned n = 0;
    while (pool.phase == POOL_KEEP && n < 100) {
        end_phase();
        n++;
    }
    return n;
}

/* Each try that spreads again doubles the time spread before the next,
 * from 400 ms up to 800 ms; a try that keeps the pool gathered starts over. */
static void test_failed_tries_back_off(void)
{
    setup_workers(2);
    const unsigned want[] = { 8, 16, 16, 16, 16 };
    for (unsigned i = 0; i < 5; i++) {
        run_a_try(1000000, 1000000);                /* no better gathered */
        CHECK_EQ(pool.active_workers, 2u);
        CHECK_EQ(kept_windows(), want[i]);
    }
    run_a_try(1000000, 2000000);                    /* twice as fast gathered: kept 400 ms */
    for (unsigned w = 0; w < 8; w++) {
        CHECK_EQ(pool.active_workers, 1u);
        add_user_retired(&harts[0], 2000000);
        end_phase();
    }
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    run_a_try(1000000, 1000000);
    CHECK_EQ(kept_windows(), 8u);
    CHECK_EQ(pool.tries, 7u);
    CHECK_EQ(pool.gathers_kept, 1u);
    teardown();
}

/* Without spins given up (80 in 50 ms on 2 workers: below 1,000 per
 * worker and second) the pool does not try gathering; on one worker it
 * never changes. */
static void test_no_gathering_without_spins(void)
{
    setup_workers(2);
    add_user_retired(&harts[0], 1000000);
    give_up_spins(80);
    end_phase();
    for (unsigned w = 0; w < 8; w++) {              /* kept spread for 400 ms */
        CHECK_EQ(pool.phase, POOL_KEEP);
        CHECK_EQ(pool.active_workers, 2u);
        end_phase();
    }
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    teardown();

    setup_workers(1);
    give_up_spins(1000);
    end_phase();
    CHECK_EQ(pool.phase, POOL_TRY_SPREAD);
    CHECK_EQ(pool.active_workers, 1u);
    teardown();
}

/* Guest RAM with a loop at its base that counts in a0 (addi a0,a0,1;
 * j .-4); false if RAM cannot be had. */
static bool make_counting_loop(void)
{
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0) {
        CHECK(!"mem_init");
        return false;
    }
    mem_write(&mem, RAM_BASE + 0x0, 4, 0x00150513);        /* addi a0, a0, 1 */
    mem_write(&mem, RAM_BASE + 0x4, 4, 0xffdff06f);        /* j .-4 */
    return true;
}

/* A hart that loops while an IPI it sent is unanswered gives its worker
 * up within a few rounds when the target is off the workers (it could not
 * answer before then), and goes on looping while the target runs. */
static void test_ipi_wait_seen_in_loop(void)
{
    if (!make_counting_loop())
        return;
    setup();
    struct hart *h0 = pool_take(&pool, 0);
    h0->pc = RAM_BASE;
    hart_note_ipi(h0, harts, NHARTS, 1, true);
    CHECK_EQ(state(&harts[1]), POOL_READY);
    h0->poll_now = false;                                   /* as at a block boundary */
    uint64_t ran = hart_execute_block(h0, 1000);
    CHECK(h0->ipi_wait_wanted);
    CHECK(ran >= 2 && ran <= 40);                           /* 8 rounds of 2 */

    h0->ipi_wait_wanted = h0->poll_now = false;
    CHECK(pool_take(&pool, 0) == &harts[1]);                /* now on a worker */
    ran = hart_execute_block(h0, 1000);
    CHECK(!h0->ipi_wait_wanted);
    CHECK_EQ(ran, 1000u);
    teardown();
    mem_destroy(&mem);
}

/* Run h from RAM_BASE in blocks, as a worker does, until it asks to give
 * its worker up or `us` microseconds pass; whether it asked. */
static bool runs_until_yield(struct hart *h, long us)
{
    h->pc = RAM_BASE;
    uint64_t until = timebase_now() + (uint64_t)us * (TIMEBASE_HZ / 1000000);
    while (timebase_now() < until) {
        h->poll_now = false;
        hart_execute_block(h, 1000);
        if (h->spin_wanted)
            return true;
    }
    return false;
}

/* A loop that says with PAUSE (Zihintpause) that it waits gives its
 * worker up after a run of PAUSEs as long as a detected spin's, even
 * though it stores a new value every round, which the loop detector takes
 * for progress (Linux's multi_cpu_stop bumps counters so). The same loop
 * without the PAUSE never does, nor PAUSEs too far apart to be one wait,
 * nor a PAUSE loop on a hart with a thread of its own. */
static void test_pause_runs(void)
{
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0) {
        CHECK(!"mem_init");
        return;
    }
    const uint32_t pause = 0x0100000f, nop = addi(0, 0, 0);
    const uint32_t count = addi(6, 6, 1), store = enc_s(0, 6, 10, 3, STORE); /* sd t1, 0(a0) */
    uint32_t loop[] = { count, store, pause, enc_j(-12, 0) };
    for (unsigned i = 0; i < 4; i++)
        mem_write(&mem, RAM_BASE + 4 * i, 4, loop[i]);
    setup();
    struct hart *h = pool_take(&pool, 0);
    h->x[10] = RAM_BASE + 0x10000;
    CHECK(runs_until_yield(h, 200000));
    CHECK_EQ(h->spin_yields, 1u);
    uint64_t stored = 0;
    mem_read(&mem, RAM_BASE + 0x10000, 8, &stored);
    CHECK(stored == h->x[6] && stored > 10);

    h->spin_wanted = false;
    mem_write(&mem, RAM_BASE + 8, 4, nop);
    CHECK(!runs_until_yield(h, 20000));

    /* PAUSE, then about 4,000 instructions (microseconds) before the next */
    mem_write(&mem, RAM_BASE + 8, 4, pause);
    for (unsigned i = 0; i < 4000; i++)
        mem_write(&mem, RAM_BASE + 12 + 4 * i, 4, nop);
    mem_write(&mem, RAM_BASE + 12 + 4 * 4000, 4, enc_j(-12 - 4 * 4000, 0));
    CHECK(!runs_until_yield(h, 20000));
    teardown();

    mem_write(&mem, RAM_BASE + 12, 4, enc_j(-12, 0));
    struct hart alone;
    hart_init(&alone, 0, &mem, &halt);
    alone.x[10] = RAM_BASE + 0x10000;
    CHECK(!runs_until_yield(&alone, 20000));
    CHECK_EQ(alone.spin_yields, 0u);
    hart_destroy(&alone);
    mem_destroy(&mem);
}

/* A kicked hart's short slice also ends when it leaves M-mode: firmware
 * has answered the IPI (trap_mret). Other harts' MRETs, and MRETs that
 * stay in M, end nothing. */
static void test_boosted_ends_at_mret(void)
{
    setup();
    hart_kick(&harts[1]);
    struct hart *h = pool_take(&pool, 0);
    CHECK(h == &harts[1] && h->pool_boosted);
    h->priv = PRIV_M;
    h->mstatus = (h->mstatus & ~MSTATUS_MPP) | (uint64_t)PRIV_M << MSTATUS_MPP_SHIFT;
    CHECK(trap_mret(h));
    CHECK(!h->yield_wanted);
    h->mstatus = (h->mstatus & ~MSTATUS_MPP) | (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT;
    CHECK(trap_mret(h));
    CHECK_EQ(h->priv, PRIV_S);
    CHECK(h->yield_wanted);
    struct hart *g = pool_take(&pool, 0);     /* not kicked: a whole slice */
    CHECK(g == &harts[0] && !g->pool_boosted);
    g->priv = PRIV_M;
    g->mstatus = (g->mstatus & ~MSTATUS_MPP) | (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT;
    CHECK(trap_mret(g));
    CHECK(!g->yield_wanted);
    teardown();
}

/* Kicks do not keep a ready hart from running for longer than the aging
 * bound (3 ms), even kicks that move it to the head itself: harts waiting
 * for IPI answers move their targets so one after the other, and the one
 * moved first is passed by every later one. */
static void test_aging(void)
{
    setup();
    struct hart *h0 = pool_take(&pool, 0), *h1 = pool_take(&pool, 0), *h2 = pool_take(&pool, 0);
    pool_put(&pool, h1, HART_SLICE_YIELD);
    sleep_us(5000);
    pool_put(&pool, h2, HART_SLICE_YIELD);
    hart_kick(h2);
    hart_kick(h1);                          /* to the head... */
    hart_kick(h2);                          /* ...and passed */
    CHECK(pool_take(&pool, 0) == h1);       /* ready for 5 ms: its turn */
    CHECK(pool_take(&pool, 0) == h2);
    pool_put(&pool, h0, HART_SLICE_YIELD);
    teardown();
}

/* Nor do the short slices a kick gives: a hart that runs only to answer
 * kicks (here the IPIs of a hart that waits for its answer; the MRET of
 * its handler ends such a slice) still ages from the time it became
 * ready, and gets a slice of its own within the aging bound. */
static void test_aging_across_boosted_slices(void)
{
    setup();
    struct hart *h0 = pool_take(&pool, 0), *h1 = pool_take(&pool, 0), *h2 = pool_take(&pool, 0);
    pool_put(&pool, h1, HART_SLICE_YIELD);
    int own_slice_at = -1;
    for (int i = 0; i < 25 && own_slice_at < 0; i++) {     /* 5 ms and more */
        hart_note_ipi(h0, harts, NHARTS, 1, true);
        pool_put(&pool, h0, HART_SLICE_IPI_WAIT);           /* h1 ahead of it */
        CHECK(pool_take(&pool, 0) == h1 && h1->pool_boosted);
        pool_put(&pool, h1, HART_SLICE_YIELD);              /* its MRET */
        struct hart *next = pool_take(&pool, 0);
        if (next == h1) {                                   /* aged */
            CHECK(!h1->pool_boosted);
            own_slice_at = i;
            pool_put(&pool, h1, HART_SLICE_YIELD);
            next = pool_take(&pool, 0);
        }
        CHECK(next == h0);
        sleep_us(200);
    }
    CHECK(own_slice_at > 0);
    pool_put(&pool, h0, HART_SLICE_YIELD);
    pool_put(&pool, h2, HART_SLICE_YIELD);
    teardown();
}

/* A detected spin gives its worker up after 20 us, or after 2 us while
 * spins are crowding: another hart yielded one less than 200 us ago
 * (pool.c, POOL_SPIN_TICKS). Times are mtime ticks (10 MHz), made up. */
static void test_spin_patience(void)
{
    setup();
    const uint64_t us = TIMEBASE_HZ / 1000000, t0 = 1000000 * us;
    CHECK(!pool_spin_gives_up(&pool, 1 * us, t0));
    CHECK(!pool_spin_gives_up(&pool, 19 * us, t0));       /* alone: 20 us */
    CHECK(pool_spin_gives_up(&pool, 20 * us, t0));
    CHECK(!pool_spin_gives_up(&pool, 1 * us, t0 + 100 * us));
    CHECK(pool_spin_gives_up(&pool, 2 * us, t0 + 100 * us));  /* a crowd */
    CHECK(pool_spin_gives_up(&pool, 2 * us, t0 + 290 * us)); /* 190 us after */
    CHECK(!pool_spin_gives_up(&pool, 19 * us, t0 + 500 * us)); /* alone again */
    CHECK(pool_spin_gives_up(&pool, 25 * us, t0 + 500 * us));
    teardown();
}

/* ------------------------------------------------------------ waiting */

static void test_wfi_wait(void)
{
    setup();
    struct hart *h = pool_take(&pool, 0);   /* hart 0; 1 and 2 stay ready */
    h->mie = MIP_SSIP | MIP_MTIP;
    /* nothing pending: the hart leaves the workers */
    trap_poll_interrupts(h);                /* the run loop's poll consumes the kicks */
    pool_put(&pool, h, HART_SLICE_WFI);
    CHECK_EQ(state(h), POOL_WAITING);
    take_in_order((const unsigned[]){ 1, 2 }, 2);
    /* an interrupt it enabled ends the wait: to the head */
    hart_set_irq(h, MIP_SSIP, true);
    CHECK_EQ(state(h), POOL_READY);
    CHECK(pool_take(&pool, 0) == h);

    /* a kick that came before the wait began ends it at once */
    hart_set_irq(h, MIP_SSIP, false);
    pool_put(&pool, h, HART_SLICE_WFI);
    CHECK_EQ(state(h), POOL_READY);
    take_in_order((const unsigned[]){ 1, 2, 0 }, 3);

    /* so does its timer, with nobody kicking it: a worker looks at the
     * deadline whenever it takes a hart */
    struct hart *h1 = pool_take(&pool, 0), *h2 = pool_take(&pool, 0);
    CHECK(pool_take(&pool, 0) == h);
    trap_poll_interrupts(h);
    atomic_store(&h->mtimecmp, timebase_now() + TIMEBASE_HZ / 500);    /* 2 ms */
    pool_put(&pool, h, HART_SLICE_WFI);
    pool_put(&pool, h1, HART_SLICE_YIELD);
    pool_put(&pool, h2, HART_SLICE_YIELD);
    take_in_order((const unsigned[]){ 1, 2 }, 2);
    CHECK_EQ(state(h), POOL_WAITING);
    sleep_us(3000);
    take_in_order((const unsigned[]){ 1, 2, 0 }, 3);

    /* an interrupt the hart did not enable leaves it waiting */
    struct hart *g = pool_take(&pool, 0);
    CHECK(g == h1);
    g->mie = MIP_SSIP;
    trap_poll_interrupts(g);
    pool_put(&pool, g, HART_SLICE_WFI);
    atomic_fetch_or(&g->mip, MIP_STIP);
    take_in_order((const unsigned[]){ 2, 0 }, 2);
    CHECK_EQ(state(g), POOL_WAITING);
    teardown();
}

/* A timer deadline that passed after the hart last looked at its timer
 * lines, and before its WFI, ends the wait at once: Linux sets stimecmp a
 * little ahead and goes idle, and the line, not yet raised in mip, was
 * taken for high by the wake-up time and waited for by nobody (the tick
 * came when the longest sleep ran out, 100 ms later). Both timers. */
static void test_wfi_deadline_passed(void)
{
    setup();
    struct hart *h = pool_take(&pool, 0);
    h->menvcfg |= MENVCFG_STCE;
    h->mie = MIP_STIP;
    h->stimecmp = timebase_now() + TIMEBASE_HZ / 10000;                /* 100 us */
    trap_poll_interrupts(h);
    CHECK_EQ(atomic_load(&h->mip) & MIP_STIP, 0u);
    sleep_us(300);
    pool_put(&pool, h, HART_SLICE_WFI);
    CHECK_EQ(state(h), POOL_READY);
    take_in_order((const unsigned[]){ 1, 2, 0 }, 3);

    struct hart *h1 = pool_take(&pool, 0), *h2 = pool_take(&pool, 0);
    CHECK(pool_take(&pool, 0) == h);
    h->menvcfg &= ~MENVCFG_STCE;
    atomic_fetch_and(&h->mip, ~MIP_STIP);
    h->mie = MIP_MTIP;
    atomic_store(&h->mtimecmp, timebase_now() + TIMEBASE_HZ / 10000);
    trap_poll_interrupts(h);
    CHECK_EQ(atomic_load(&h->mip) & (MIP_MTIP | MIP_STIP), 0u);
    sleep_us(300);
    pool_put(&pool, h, HART_SLICE_WFI);
    CHECK_EQ(state(h), POOL_READY);
    pool_put(&pool, h1, HART_SLICE_YIELD);
    pool_put(&pool, h2, HART_SLICE_YIELD);
    take_in_order((const unsigned[]){ 0, 1, 2 }, 3);
    teardown();
}

static bool hart1_may_run;
static bool may_run(void *ctx, struct hart *h)
{
    (void)ctx;
    return h != &harts[1] || hart1_may_run;
}

/* -bios builtin keeps a stopped hart off the workers (sbi_hart_may_run). */
static void test_may_run(void)
{
    setup();
    pool.may_run = may_run;
    hart1_may_run = false;
    take_in_order((const unsigned[]){ 0, 2 }, 2);
    CHECK_EQ(state(&harts[1]), POOL_WAITING);
    hart_kick(&harts[1]);                   /* looked at again, still not */
    take_in_order((const unsigned[]){ 0, 2 }, 2);
    hart1_may_run = true;
    hart_kick(&harts[1]);
    take_in_order((const unsigned[]){ 1, 0, 2 }, 3);
    teardown();
}

/* ------------------------------------------------------------ workers */

static void *worker_main(void *arg)
{
    pool_run(arg);
    return NULL;
}

/* The counting loop at RAM's base, and at WFI_LOOP a loop that waits in
 * WFI and counts its wake-ups in a1; false if RAM cannot be had. */
#define WFI_LOOP (RAM_BASE + 0x100)
static bool make_worker_programs(void)
{
    if (!make_counting_loop())
        return false;
    mem_write(&mem, WFI_LOOP, 4, 0x10500073);               /* wfi */
    mem_write(&mem, WFI_LOOP + 4, 4, 0x00158593);           /* addi a1, a1, 1 */
    mem_write(&mem, WFI_LOOP + 8, 4, 0xff9ff06f);           /* j .-8 */
    return true;
}

/* The worker programs in RAM and a pool of `nworkers`, every hart at pc;
 * false if RAM cannot be had. */
static bool setup_worker_test(unsigned nworkers, uint64_t pc)
{
    if (!make_worker_programs())
        return false;
    setup_workers(nworkers);
    for (unsigned i = 0; i < NHARTS; i++)
        harts[i].pc = pc;
    return true;
}

/* Halt the machine, kick every hart so that the workers see it, and join
 * them. */
static void stop_workers(pthread_t *t, unsigned nworkers)
{
    atomic_store(&halt, true);
    for (unsigned i = 0; i < NHARTS; i++)
        hart_kick(&harts[i]);
    for (unsigned i = 0; i < nworkers; i++)
        pthread_join(t[i], NULL);
}

/* Free what setup_worker_test took. */
static void teardown_worker_test(void)
{
    teardown();
    mem_destroy(&mem);
}

/* Three harts, each counting in a0 in a loop of its own (addi a0,a0,1;
 * j .-4), on one worker: each must make progress within its slices, and
 * a halt must stop the worker. A fourth piece of code, at hart 2's pc,
 * waits in WFI: it must not run again until its interrupt. */
static void test_workers(void)
{
    if (!setup_worker_test(1, RAM_BASE))
        return;
    harts[2].pc = WFI_LOOP;
    harts[2].mie = MIP_MSIP;
    pthread_t t;
    pthread_create(&t, NULL, worker_main, &pool);
    sleep_us(100000);                   /* ten 10 ms slices */
    hart_set_irq(&harts[2], MIP_MSIP, true);
    sleep_us(300000);                   /* a slice of another hart, then its turn */
    stop_workers(&t, 1);
    CHECK(harts[0].x[10] > 1000);
    CHECK(harts[1].x[10] > 1000);
    CHECK(harts[0].pool_slices >= 2);
    CHECK(harts[1].pool_slices >= 2);
    /* hart 2 waited off the worker until msip rose, then ran its loop:
     * a few rounds, each a WFI that returns at once (msip is pending and
     * enabled) until the third, which waits for a kick (trap_wfi_polls) */
    CHECK(harts[2].x[11] >= 1);
    CHECK(harts[2].pool_slices <= 6);
    CHECK_EQ(harts[2].x[10], 0u);
    teardown_worker_test();
}

/* Two real workers: harts 0 and 2 count, both at home on worker 0; hart
 * 1, at home on worker 1, waits in WFI (nothing wakes it within the
 * test's 60 ms but the 100 ms WFI bound). Worker 1, with nothing of its
 * own, takes a counting hart once it has been ready 200 us, and keeps
 * it: the two counting harts end at home on different workers. Which of
 * them moves depends on which worker thread starts first. */
static void test_two_workers(void)
{
    if (!setup_worker_test(2, RAM_BASE))
        return;
    harts[1].pc = WFI_LOOP;                                 /* mie = 0: nothing wakes it */
    pthread_t t[2];
    for (unsigned i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker_main, &pool);
    sleep_us(60000);
    stop_workers(t, 2);
    CHECK(harts[0].x[10] > 1000);
    CHECK(harts[2].x[10] > 1000);
    CHECK(harts[0].pool_home != harts[2].pool_home);
    teardown_worker_test();
}

/* The CPU time thread t has used, in ms; negative if it cannot be read. */
static double thread_cpu_ms(pthread_t t)
{
    clockid_t c;
    struct timespec ts;
    if (pthread_getcpuclockid(t, &c) || clock_gettime(c, &ts))
        return -1;
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One real worker, every hart waiting in WFI for a kick: past the end of
 * the first layout's window (50 ms), which a pool of one worker never
 * moves, the worker sleeps, using under a tenth of the host CPU time of
 * 200 ms. It used to take that end, long past, for its next deadline and
 * loop on its lock for good (a 2-hart guest on one host CPU burned all
 * of it while idle). */
static void test_one_worker_sleeps(void)
{
    if (!setup_worker_test(1, WFI_LOOP))
        return;
    pthread_t t;
    pthread_create(&t, NULL, worker_main, &pool);
    sleep_us(100000);
    double before = thread_cpu_ms(t);
    sleep_us(200000);
    double used = thread_cpu_ms(t) - before;
    CHECK(before >= 0);
    CHECK(used < 20);
    if (used >= 20)
        fprintf(stderr, "test_one_worker_sleeps: the idle worker used %.1f ms of CPU in 200 ms\n",
                used);
    stop_workers(&t, 1);
    teardown_worker_test();
}

/* Spin until cond() or max_us have passed. */
static bool wait_until(bool (*cond)(void), long max_us)
{
    uint64_t until = timebase_now() + (uint64_t)max_us * (TIMEBASE_HZ / 1000000);
    while (!cond())
        if (timebase_now() >= until)
            return false;
    return true;
}

static bool never(void) { return false; }

static uint64_t kicks_done;
static bool kick_answered(void)
{
    return atomic_load(&harts[1].pool_state) == POOL_WAITING && harts[1].x[11] >= kicks_done;
}

static bool worker_asleep(void)
{
    pthread_mutex_lock(&pool.lock);
    bool asleep = pool.idle_workers == 1;
    pthread_mutex_unlock(&pool.lock);
    return asleep;
}

/* One real worker; hart 1 waits in WFI for kicks only (mie = 0) and
 * counts its wake-ups in a1; the other harts wait in WFI too. Kicked 200
 * times, each time 50 us after it went back to waiting, the idle worker
 * finds most kicked harts while it polls (the window grows while harts
 * come ready soon after it went idle) instead of after a sleep; left with
 * nothing, it goes to sleep: the poll is bounded. */
static void test_idle_worker_polls(void)
{
    if (!setup_worker_test(1, WFI_LOOP))
        return;
    /* windows of 1-20 ms, grown by any sleep shorter than a second: on a
     * loaded host the default 10-200 us may never open (and under the
     * 100 ms that ends the other harts' WFIs, or those would keep it
     * polling) */
    uint64_t ms = TIMEBASE_HZ / 1000;
    pool.poll = (struct poll_limits){ .min = ms, .max = 20 * ms, .grow_below = 1000 * ms };
    pthread_t t;
    pthread_create(&t, NULL, worker_main, &pool);
    CHECK(wait_until(worker_asleep, 500000));       /* every hart waiting */
    kicks_done = 0;
    for (unsigned i = 0; i < 200; i++) {
        hart_kick(&harts[1]);
        kicks_done++;
        if (!wait_until(kick_answered, 500000))
            break;
        wait_until(never, 50);
    }
    CHECK_EQ(harts[1].x[11], 200u);
    pthread_mutex_lock(&pool.lock);
    uint64_t found = pool.polls_found, slept = pool.sleeps;
    pthread_mutex_unlock(&pool.lock);
    CHECK(found >= 100);
    CHECK(wait_until(worker_asleep, 500000));
    fprintf(stderr, "test_idle_worker_polls: 200 kicks, %llu found while polling, %llu sleeps\n",
            (unsigned long long)found, (unsigned long long)slept);
    stop_workers(&t, 1);
    teardown_worker_test();
}

int main(void)
{
    test_queue_order();
    test_kick_to_head();
    test_ipi_wait_behind_target();
    test_ipi_wait_not_behind_spinner();
    test_ipi_wait_seen_in_loop();
    test_boosted_ends_at_mret();
    test_aging();
    test_aging_across_boosted_slices();
    test_home_workers();
    test_gathers_when_user_code_gains();
    test_spreads_when_gathering_gains_little();
    test_spreads_when_gathered_falls_behind();
    test_failed_tries_back_off();
    test_no_gathering_without_spins();
    test_spin_patience();
    test_pause_runs();
    test_wfi_wait();
    test_wfi_deadline_passed();
    test_may_run();
    test_workers();
    test_two_workers();
    test_one_worker_sleeps();
    test_idle_worker_polls();
    return check_summary();
}
