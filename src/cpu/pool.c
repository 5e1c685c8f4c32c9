/* pool: harts that share a few host threads (see pool.h).
 *
 * The policy, and why:
 * - A hart that waits gives its worker up at once: a WFI (it is kept off
 *   the workers until an interrupt it enabled, a kick or its timer), a
 *   detected spin, or an IPI whose target is ready but off the workers
 *   (cpu/exec.c looks at pool_state while it waits; a target that went
 *   back to waiting with the IPI pending is not waited for).
 *   Otherwise it runs POOL_SLICE_TICKS.
 * - A kicked hart (an IPI, a timer, an external line) goes to the head of
 *   the queue and runs a short slice, which also ends when it leaves
 *   M-mode: it has an interrupt to take, and whoever kicked it usually
 *   waits for the answer.
 * - A hart waiting for an IPI's answer goes right behind its targets, so
 *   that the worker runs the target's handler and then comes back to it:
 *   what a thread of its own could only get by waiting for the host to
 *   schedule the target's thread. But not behind a target whose last
 *   slice gave a spin up: that one waits for a third hart, and running
 *   either answers nothing until the third has run (put_ipi_waiter).
 * - Nobody ready waits longer than POOL_AGE_TICKS: two harts that keep
 *   interrupting each other would otherwise hold the head of the queue
 *   while the one that holds the guest lock they both want never runs.
 *   The short slices a kick gives do not restart the wait: they answer
 *   the kick, not what the hart was ready for.
 * - Each hart has a home worker, and a worker passes over ready harts at
 *   home elsewhere. Translated code is per hart (cpu/jit.h), megabytes of
 *   it, and a host CPU's caches hold the code and tables of the harts it
 *   ran last; a hart that went to whichever worker came free first found
 *   little of its own there. A kicked hart runs on any worker (someone
 *   waits for its answer) for its short slice and keeps its home; one
 *   that has been ready POOL_STEAL_TICKS runs on any worker and moves
 *   home there, which is how the harts spread again when the guest's
 *   busy ones pile up on one worker.
 * - The pool runs on all its workers or gathers on half of them, whichever
 *   lets the guest's user code retire more instructions (below,
 *   "Spreading and gathering"). Harts that contend for one guest lock
 *   gain nothing from running at once and pay for it: each waits in
 *   spins and sleeps for the others, and the lines of the lock and of
 *   what it guards cross between host CPUs at every turn.
 */
#include "cpu/pool.h"

#include <time.h>

#include "base/spin.h"
#include "base/timebase.h"
#include "cpu/hart.h"
#include "cpu/trap.h"

/* A slice: 10 ms of mtime. A hart that waits ends its slice anyway, so
 * this bounds only how long a busy hart keeps its thread from the others,
 * and each switch costs the caches another hart's code and tables. Against
 * 1 ms, in paired 4-second ptbench-pairs runs on 2 host CPUs: builtin at
 * -smp 8 6,188-7,010 ops/s against 3,763-3,961 (3 ms: 4,897-5,888), at
 * -smp 4 6,781-7,136 against 5,836-5,967; OpenSBI at -smp 4 3,823-4,318
 * against 3,534-3,608, at -smp 8 even; smoke boots even. */
#define POOL_SLICE_TICKS (TIMEBASE_HZ / 100)

/* The slice of a kicked hart: 30 us, or until it leaves M-mode
 * (trap_mret), where firmware has answered an IPI. ptbench-pairs under
 * OpenSBI, 8 harts on 2 host CPUs, paired runs: ending at MRET too,
 * 3,102-3,420 ops/s against 1,823-2,361 (4 harts: 4,237-4,989 against
 * 2,774-3,214). With 100 us and no aging it fell to 200-370: two harts
 * fencing each other held the queue's head. */
#define POOL_BOOST_TICKS (TIMEBASE_HZ / 1000000 * 30)

/* The longest a ready hart waits while harts kicked after it run: 3 ms. */
#define POOL_AGE_TICKS (TIMEBASE_HZ / 1000 * 3)

/* How long a pooled hart spins before it gives its worker up. A yield is
 * a switch to another hart, not a hint the host may ignore, so alone a
 * spin goes on for 20 us: a lock held by a hart running on the other
 * worker is often free by then (ptbench-pairs, 8 harts on 2 host CPUs, 3
 * paired runs each: OpenSBI 2,167-2,562 ops/s against 1,749-2,423
 * yielding at once, builtin 3,985-4,476 against 3,527-4,208).
 *
 * But spins that outlast that come in crowds: when the hart that holds a
 * lock, or the one whose ticket is next, is in the queue, every hart that
 * wants the lock spins its 20 us and yields in turn before the worker
 * reaches the one that can end it. So once any hart has yielded a spin in
 * the last 200 us, a spin yields after 2 us. */
#define POOL_SPIN_TICKS (TIMEBASE_HZ / 1000000 * 20)
#define POOL_SPIN_CROWD_TICKS (TIMEBASE_HZ / 1000000 * 2)
#define POOL_SPIN_CROWD_WINDOW (TIMEBASE_HZ / 1000000 * 200)

/* How long a ready hart waits for its home worker before any other may
 * take it: 200 us, a few of the short slices of harts that wait. Against
 * harts that went to the first worker free, paired runs on 2 host CPUs
 * (OpenSBI): ptbench-1v at -smp 4 4,794-5,226 ops/s against 3,344-5,718
 * (host ns per guest instruction 4.55 against 5.10), ptbench-pairs at
 * -smp 8 11,592-12,573 against 9,756-11,083; -bios builtin ptbench-1v
 * even at -smp 4 and 8. 50 us and 1 ms: medians 6,253 and 6,901 ops/s
 * against 7,134 (OpenSBI ptbench-1v at -smp 4), ptbench-pairs at -smp 8
 * even. Taking a kicked hart from elsewhere only when the worker has none
 * of its own ready, with aging the only other way out, cut the host time
 * per instruction further (2.8 ns against 4.6 at -smp 4) but answered
 * IPIs late: ptbench-pairs at -smp 8 fell to 2,000-4,900 ops/s. */
#define POOL_STEAL_TICKS (TIMEBASE_HZ / 1000000 * 200)

/* Spreading and gathering. A pool that has seen its harts give up
 * POOL_GATHER_SPINS spins per worker and second over POOL_TRY_TICKS on
 * all its workers (POOL_TRY_SPREAD) runs the next POOL_TRY_TICKS on half
 * of them (POOL_TRY_GATHERED), the rest waiting, and then keeps for
 * POOL_KEEP_TICKS (POOL_KEEP, in windows of POOL_TRY_TICKS) the layout
 * in which the harts retired more user-mode instructions per tick,
 * gathered only if it did better by a twentieth; then it tries again.
 * Without such spins it keeps spreading: harts that do not wait for each
 * other cannot gain from sharing workers. A gathered window that does
 * worse than the try spread ends the keeping at once: gathered, 8 harts
 * of ptbench sometimes fall into a run of spins at a fifth of their
 * usual rate. A try that spreads again doubles how long the pool keeps
 * spreading before the next (up to POOL_KEEP_MAX_TICKS), as a gathered
 * try costs harts that gain from running at once.
 *
 * User-mode instructions stand for the guest's progress because what the
 * kernel does while harts contend (lock spins, sleeps and wake-ups, IPIs
 * and their answers) grows with the contention, while the programs it
 * serves get no further. The spins alone do not tell: over 50 ms they
 * overlap between guests that gain and guests that lose. 3 paired runs
 * each on 2 host CPUs under OpenSBI, ops/s (doc/performance.md,
 * "Spreading and gathering"): ptbench at 4 harts 3,128-3,956 spread
 * against 3,296-4,907 with the choice, at 8 harts 948-1,234 against
 * 1,251-2,782; ptbench-1v 3,216-3,491 against 4,333-6,198 (8 harts
 * 1,656-1,966 against 2,719-3,397); ptbench-pairs, whose pairs of harts
 * do gain from running at once, 7,880-10,189 against 6,436-9,374 at 4
 * harts and 8,152-9,574 against 5,628-8,486 at 8 (3 more pairs at 8:
 * 6,217-9,918 against 6,675-10,007), where gathering whenever spins were
 * frequent made it a third slower. On one host CPU for good it fell from
 * 7,106 to 1,838 ops/s at 8 harts. */
#define POOL_TRY_TICKS (TIMEBASE_HZ / 1000 * 50)
#define POOL_KEEP_TICKS (TIMEBASE_HZ / 1000 * 400)
#define POOL_KEEP_MAX_TICKS (POOL_KEEP_TICKS * 2)
#define POOL_GATHER_SPINS 1000

/* The longest sleep of an idle worker with no deadline to wait for. */
#define POOL_IDLE_TICKS (TIMEBASE_HZ / 10)

/* How long a worker with no hart to run polls for one before it sleeps,
 * as KVM polls before it lets an idle vCPU's thread sleep (its
 * halt_poll_ns, 200 us by default): waking a sleeping worker costs 10-50
 * us on a virtualized host, and a kicked hart waits all that time for
 * it. Under OpenSBI every remote fence kicks its targets, so the harts
 * that wait for the answer wait for the wake-up too. The window adapts
 * (base/spin.h) from 10 us up to 200 us while a wait brings the worker a
 * hart within 200 us, and shrinks to nothing while waits bring it none
 * (every hart made ready wakes every sleeping worker) or only after long
 * sleeps: the workers of an idle guest, woken by ticks milliseconds apart,
 * sleep at once. Paired 4-second ptbench runs on 2 host CPUs against no
 * polling (6 pairs, median ratios): under OpenSBI at -smp 4 ptbench-pairs
 * 1.00x, ptbench-1v 1.07x, ptbench 1.04x, ptbench under flush 1.06x, at
 * -smp 8 ptbench-pairs 1.11x; -bios builtin ptbench at -smp 4 1.02x. An
 * idle 4-hart guest (bench/idle.sh): 13.2-16.7 % of a host core against
 * 15.2-16.5 % (3 pairs); waking on any hart made ready grew the windows
 * there and cost 3-4 % of a core. */
#define POOL_POLL_LIMITS ((struct poll_limits){ .min = TIMEBASE_HZ / 1000000 * 10, \
                                               .max = TIMEBASE_HZ / 1000000 * 200, \
                                               .grow_below = TIMEBASE_HZ / 1000000 * 200 })

/* ------------------------------------------------------------ the queue */

static void push_back(struct hart_pool *p, struct hart *h)
{
    h->pool_next = NULL;
    if (p->last)
        p->last->pool_next = h;
    else
        p->first = h;
    p->last = h;
}

static void push_front(struct hart_pool *p, struct hart *h)
{
    h->pool_next = p->first;
    p->first = h;
    if (!p->last)
        p->last = h;
}

static void unlink_hart(struct hart_pool *p, struct hart *h)
{
    struct hart *prev = NULL;
    for (struct hart *q = p->first; q; prev = q, q = q->pool_next) {
        if (q != h)
            continue;
        if (prev)
            prev->pool_next = q->pool_next;
        else
            p->first = q->pool_next;
        if (p->last == q)
            p->last = prev;
        return;
    }
}

/* The hart that has been ready longest, or NULL. */
static struct hart *longest_ready(const struct hart_pool *p)
{
    struct hart *oldest = p->first;
    for (struct hart *q = p->first; q; q = q->pool_next)
        if (q->pool_ready_since < oldest->pool_ready_since)
            oldest = q;
    return oldest;
}

/* Whether `worker` may run the ready h now: its own, one at home on a
 * worker left out while gathered, a kicked one, or one ready too long. */
static bool may_take(const struct hart_pool *p, const struct hart *h, unsigned worker,
                     uint64_t now)
{
    return h->pool_home == worker || h->pool_home >= p->active_workers || h->pool_boosted ||
           now - h->pool_ready_since >= p->steal_ticks;
}

/* The first hart in the queue that `worker` may run, or NULL. */
static struct hart *first_for(const struct hart_pool *p, unsigned worker, uint64_t now)
{
    for (struct hart *q = p->first; q; q = q->pool_next)
        if (may_take(p, q, worker, now))
            return q;
    return NULL;
}

/* The hart `worker` runs next, out of the queue, or NULL: one ready too
 * long, else first_for. Taken for a whole slice, a hart makes the worker
 * its home. */
static struct hart *pop_next(struct hart_pool *p, unsigned worker, uint64_t now)
{
    struct hart *next = longest_ready(p);
    if (next && now - next->pool_ready_since <= POOL_AGE_TICKS)
        next = first_for(p, worker, now);
    if (!next)
        return NULL;
    unlink_hart(p, next);
    if (!next->pool_boosted)
        next->pool_home = worker;
    return next;
}

/* h becomes ready: at the head of the queue (boosted: a short slice) or
 * at its tail. Its wait for a worker, which aging bounds, counts from
 * `since` (now, unless it was ready already). */
static void make_ready(struct hart_pool *p, struct hart *h, bool head, uint64_t since)
{
    atomic_store(&h->pool_state, POOL_READY);
    h->pool_ready_since = since;
    h->pool_boosted = head;
    if (head)
        push_front(p, h);
    else
        push_back(p, h);
    atomic_fetch_add(&p->readied, 1);   /* for workers that poll */
    if (p->idle_workers)            /* its home may be any of them */
        pthread_cond_broadcast(&p->work);
}

/* A ready h moves to the head. It keeps the time it became ready: harts
 * that wait for IPI answers move their targets to the head one after the
 * other, and a target always passed so must still age (OpenSBI's harts
 * all fencing each other at once starved one so for minutes). */
static void move_to_head(struct hart_pool *p, struct hart *h)
{
    if (p->first == h)
        return;
    unlink_hart(p, h);
    push_front(p, h);
    h->pool_boosted = true;
}

/* ------------------------------------------------------------ waiting */

/* h leaves the workers until wait_over. `kick_only`: an enabled interrupt
 * already pending does not end the wait (a WFI that polls, see
 * trap_wfi_polls; a hart that may not run yet). */
static void make_waiting(struct hart *h, bool kick_only, uint64_t wake_tick)
{
    h->pool_kick_only = kick_only;
    h->pool_wake_tick = wake_tick;
    atomic_store(&h->pool_state, POOL_WAITING);
}

static bool wait_over(const struct hart *h, uint64_t now)
{
    if (atomic_load(&h->kicked) || hart_halted(h) || now >= h->pool_wake_tick)
        return true;
    return !h->pool_kick_only && (atomic_load(&h->mip) & h->mie) != 0;
}

/* Ready every waiting hart whose wait is over. Returns the earliest
 * deadline of those that go on waiting. */
static uint64_t wake_due(struct hart_pool *p, uint64_t now)
{
    uint64_t next = now + POOL_IDLE_TICKS;
    for (unsigned i = 0; i < p->nharts; i++) {
        struct hart *h = &p->harts[i];
        if (atomic_load(&h->pool_state) != POOL_WAITING)
            continue;
        if (wait_over(h, now))
            make_ready(p, h, false, now);
        else if (h->pool_wake_tick < next)
            next = h->pool_wake_tick;
    }
    return next;
}

/* ------------------------------------------------------------ switching */

/* With p->lock held, at mtime `now`: the next hart `worker` runs, now
 * RUNNING, or NULL; *next_tick is then when a waiting hart's deadline
 * comes or a ready hart at home elsewhere may be taken. */
static struct hart *take_locked(struct hart_pool *p, unsigned worker, uint64_t now,
                                uint64_t *next_tick)
{
    *next_tick = wake_due(p, now);
    if (p->phase_end < *next_tick)
        *next_tick = p->phase_end;
    if (worker >= p->active_workers)
        return NULL;
    struct hart *h;
    while ((h = pop_next(p, worker, now)) != NULL) {
        if (!p->may_run || p->may_run(p->may_run_ctx, h)) {
            atomic_store(&h->pool_state, POOL_RUNNING);
            h->pool_slices++;
            h->pool_gathered_slices += p->active_workers < p->nworkers;
            return h;
        }
        atomic_store(&h->kicked, false);
        make_waiting(h, true, now + POOL_IDLE_TICKS);
    }
    struct hart *oldest = longest_ready(p);     /* at home elsewhere */
    if (oldest && oldest->pool_ready_since + p->steal_ticks < *next_tick)
        *next_tick = oldest->pool_ready_since + p->steal_ticks;
    return NULL;
}

/* With p->lock held: h gave its worker up waiting for the answer of an
 * IPI. A target that is ready and did not give its last slice up in a
 * spin moves to the head, h right behind it, for a whole slice as nobody
 * kicked it. A target that did give a spin up waits for some third hart:
 * under OpenSBI 1.1 a remote fence's target that is itself fencing spins
 * in the ticket lock of a fence queue (sbi_fifo) whose next owner sits in
 * the queue. Running it, and then h, takes two switches, each bringing a
 * hart's translated code back into a host CPU's caches, and answers
 * nothing: the target spins again and gives up again. So if every ready
 * target spun, h goes to the tail, as a spin does, and the queue runs in
 * its order, the lock's next owner included. ptbench-pairs under OpenSBI
 * at -smp 8, 4 s, 5 paired runs: 30,973-42,607 operations against
 * 24,491-38,223 (every pair better), spins given up 7-10 k against
 * 53-92 k. A target that is not ready (running, or waiting) is nobody's
 * to move. */
static void put_ipi_waiter(struct hart_pool *p, struct hart *h, uint64_t now)
{
    uint32_t targets = atomic_load(&h->ipi_unanswered), ready = 0, answering = 0;
    for (unsigned t = 0; t < p->nharts && t < HART_MAX_PEERS; t++) {
        const struct hart *target = &p->harts[t];
        if (!(targets >> t & 1) || atomic_load(&target->pool_state) != POOL_READY)
            continue;
        ready |= 1u << t;
        if (!target->pool_spun)
            answering |= 1u << t;
    }
    if (ready && !answering) {
        make_ready(p, h, false, now);
        return;
    }
    make_ready(p, h, true, now);
    h->pool_boosted = false;
    for (unsigned t = 0; t < p->nharts && t < HART_MAX_PEERS; t++)
        if (answering >> t & 1)
            move_to_head(p, &p->harts[t]);
}

/* With p->lock held. */
static void put_locked(struct hart_pool *p, struct hart *h, enum hart_slice_end end)
{
    uint64_t now = timebase_now();
    h->pool_spun = end == HART_SLICE_SPIN;
    switch (end) {
    case HART_SLICE_YIELD:
    case HART_SLICE_SPIN:
        /* A boosted slice answered a kick (it ends at MRET, trap_mret),
         * not what the hart was ready for: it keeps the time it became
         * ready, as move_to_head does. Restarting the clock let a hart
         * that OpenSBI's remote fences kicked every few tens of us never
         * age: its own code waited for over a second while one busy hart
         * ran (ptbench under OpenSBI: one thread made 6 % of another's
         * operations). */
        make_ready(p, h, false, h->pool_boosted ? h->pool_ready_since : now);
        return;
    case HART_SLICE_IPI_WAIT:
        put_ipi_waiter(p, h, now);
        return;
    case HART_SLICE_WFI: {
        bool kick_only = trap_wfi_polls(h);
        make_waiting(h, kick_only, trap_wfi_wake_tick(h, kick_only));
        /* POOL_WAITING is stored before `kicked` is read: see pool_kick */
        if (wait_over(h, now))
            make_ready(p, h, false, now);
        return;
    }
    }
}

/* ------------------------------------------------------------ spreading and gathering */

static uint64_t user_retired(const struct hart_pool *p)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < p->nharts; i++)
        sum += atomic_load_explicit(&p->harts[i].user_retired, memory_order_relaxed);
    return sum;
}

/* Spread: every worker takes harts, each hart at home on the one
 * pool_prepare gave it (those that gathered went home to the workers
 * that ran them). */
static void spread(struct hart_pool *p)
{
    p->active_workers = p->nworkers;
    for (unsigned i = 0; i < p->nharts; i++)
        p->harts[i].pool_home = i % p->nworkers;
    pthread_cond_broadcast(&p->spread);
}

static void gather(struct hart_pool *p)
{
    p->active_workers = (p->nworkers + 1) / 2;
    p->tries++;
}

static void start_phase(struct hart_pool *p, enum pool_phase phase, uint64_t now, uint64_t ticks,
                        uint64_t retired)
{
    p->phase = phase;
    p->phase_start = now;
    p->phase_end = now + ticks;
    p->phase_user_retired = retired;
    atomic_store_explicit(&p->phase_spin_yields, 0, memory_order_relaxed);
}

/* With p->lock held: end the phase if its time is up, and start the next. */
static void tune_locked(struct hart_pool *p, uint64_t now)
{
    if (now < p->phase_end || p->nworkers < 2)
        return;
    uint64_t retired = user_retired(p);
    double ticks = (double)(now - p->phase_start);
    double rate = (double)(retired - p->phase_user_retired) / ticks;
    uint64_t spins = atomic_load_explicit(&p->phase_spin_yields, memory_order_relaxed);
    if (p->active_workers < p->nworkers)
        p->gathered_ticks += now - p->phase_start;
    uint64_t keep = POOL_KEEP_TICKS;
    switch (p->phase) {
    case POOL_TRY_SPREAD:
        p->spread_rate = rate;
        if ((double)spins * TIMEBASE_HZ > POOL_GATHER_SPINS * ticks * p->nworkers) {
            gather(p);
            start_phase(p, POOL_TRY_GATHERED, now, POOL_TRY_TICKS, retired);
            return;
        }
        break;
    case POOL_TRY_GATHERED:
        if (rate * 20 > p->spread_rate * 21) {
            p->gathers_kept++;
            p->spread_keep_ticks = POOL_KEEP_TICKS;
        } else {
            spread(p);
            keep = p->spread_keep_ticks;
            if (p->spread_keep_ticks < POOL_KEEP_MAX_TICKS)
                p->spread_keep_ticks *= 2;
        }
        break;
    case POOL_KEEP: {
        bool gathered = p->active_workers < p->nworkers;
        if (now < p->keep_until && !(gathered && rate < p->spread_rate)) {
            start_phase(p, POOL_KEEP, now, POOL_TRY_TICKS, retired);
            return;
        }
        if (gathered)
            spread(p);
        start_phase(p, POOL_TRY_SPREAD, now, POOL_TRY_TICKS, retired);
        return;
    }
    }
    p->keep_until = now + keep;
    start_phase(p, POOL_KEEP, now, POOL_TRY_TICKS, retired);
}

void pool_tune(struct hart_pool *p, uint64_t now)
{
    pthread_mutex_lock(&p->lock);
    tune_locked(p, now);
    pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------ interface */

void pool_init(struct hart_pool *p, struct hart *harts, unsigned nharts, unsigned nworkers)
{
    *p = (struct hart_pool){ .harts = harts, .nharts = nharts,
                             .nworkers = nworkers ? nworkers : 1,
                             .steal_ticks = POOL_STEAL_TICKS, .poll = POOL_POLL_LIMITS };
    p->active_workers = p->nworkers;
    p->spread_keep_ticks = POOL_KEEP_TICKS;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->spread, NULL);
    for (unsigned i = 0; i < nharts; i++)
        harts[i].pool = p;
}

void pool_destroy(struct hart_pool *p)
{
    pthread_cond_destroy(&p->spread);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
}

void pool_prepare(struct hart_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->first = p->last = NULL;
    p->workers_started = 0;
    uint64_t now = timebase_now();
    spread(p);
    start_phase(p, POOL_TRY_SPREAD, now, POOL_TRY_TICKS, user_retired(p));
    if (p->nworkers < 2)
        p->phase_end = UINT64_MAX;      /* one worker has no layouts to try */
    for (unsigned i = 0; i < p->nharts; i++)
        make_ready(p, &p->harts[i], false, now);
    pthread_mutex_unlock(&p->lock);
}

struct hart *pool_take(struct hart_pool *p, unsigned worker)
{
    uint64_t next_tick;
    pthread_mutex_lock(&p->lock);
    struct hart *h = take_locked(p, worker, timebase_now(), &next_tick);
    pthread_mutex_unlock(&p->lock);
    return h;
}

void pool_put(struct hart_pool *p, struct hart *h, enum hart_slice_end end)
{
    pthread_mutex_lock(&p->lock);
    put_locked(p, h, end);
    pthread_mutex_unlock(&p->lock);
}

static bool halted(const struct hart_pool *p)
{
    return p->nharts && hart_halted(&p->harts[0]);
}

/* With p->lock held, for a worker that found no hart to run at `now`:
 * poll without the lock for up to `window`, or until next_tick, for a
 * hart to become ready. True if one did or next_tick came (the worker
 * looks again); false if it should sleep. */
static bool poll_for_work(struct hart_pool *p, uint64_t window, uint64_t now, uint64_t next_tick)
{
    if (!window)
        return false;
    uint64_t seen = atomic_load(&p->readied);
    uint64_t until = now + window < next_tick ? now + window : next_tick;
    pthread_mutex_unlock(&p->lock);
    bool found = false;
    while (!found && !halted(p) && timebase_now() < until) {
        cpu_relax();
        found = atomic_load(&p->readied) != seen;
    }
    pthread_mutex_lock(&p->lock);
    p->polls_found += found;
    return found || timebase_now() >= next_tick;
}

/* With p->lock held: an idle worker's sleep until next_tick or a broadcast
 * on p->work. Returns how long it slept. */
static uint64_t sleep_for_work(struct hart_pool *p, uint64_t next_tick)
{
    struct timespec deadline = timebase_deadline(next_tick);
    uint64_t from = timebase_now();
    p->idle_workers++;
    p->sleeps++;
    pthread_cond_clockwait(&p->work, &p->lock, CLOCK_MONOTONIC, &deadline);
    p->idle_workers--;
    return timebase_now() - from;
}

void pool_run(struct hart_pool *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned me = p->workers_started++ % p->nworkers;
    uint64_t poll_window = 0, waited_for = 0;
    bool waited = false;            /* the last look found no hart, so this worker waited */
    while (!halted(p)) {
        uint64_t now = timebase_now();
        tune_locked(p, now);
        if (me >= p->active_workers) {          /* left out while gathered */
            struct timespec deadline = timebase_deadline(p->phase_end);
            pthread_cond_clockwait(&p->spread, &p->lock, CLOCK_MONOTONIC, &deadline);
            continue;
        }
        uint64_t next_tick;
        struct hart *h = take_locked(p, me, now, &next_tick);
        /* The window follows what the last wait brought this worker: a
         * hart soon widens it; none (another worker took it, or it is at
         * home elsewhere), or one after a long sleep, narrows it. Any wake
         * alone would not do: every hart made ready wakes all idle workers. */
        if (waited)
            poll_window = poll_window_next(poll_window, h ? waited_for : POLL_WAIT_IN_VAIN, p->poll);
        waited = !h;
        if (!h) {
            waited_for = poll_for_work(p, poll_window, now, next_tick) ? 0 : sleep_for_work(p, next_tick);
            continue;
        }
        uint64_t slice = h->pool_boosted ? POOL_BOOST_TICKS : POOL_SLICE_TICKS;
        pthread_mutex_unlock(&p->lock);
        enum hart_slice_end end = hart_run_slice(h, timebase_now() + slice);
        pthread_mutex_lock(&p->lock);
        put_locked(p, h, end);
    }
    pthread_cond_broadcast(&p->work);       /* the other workers stop too */
    pthread_cond_broadcast(&p->spread);
    pthread_mutex_unlock(&p->lock);
}

bool pool_spin_gives_up(struct hart_pool *p, uint64_t spun, uint64_t now)
{
    if (spun < POOL_SPIN_CROWD_TICKS)
        return false;
    uint64_t last = atomic_load_explicit(&p->last_spin_yield, memory_order_relaxed);
    if (spun < POOL_SPIN_TICKS && now - last >= POOL_SPIN_CROWD_WINDOW)
        return false;
    atomic_store_explicit(&p->last_spin_yield, now, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->phase_spin_yields, 1, memory_order_relaxed);
    return true;
}

/* hart_kick stored h->kicked before calling this. A running hart sees the
 * kick at its next poll. One about to wait sees it in put_locked, which
 * stores POOL_WAITING before it reads `kicked` (both sequentially
 * consistent): either that read sees the kick or the load here sees
 * POOL_WAITING. */
void pool_kick(struct hart_pool *p, struct hart *h)
{
    bool halting = hart_halted(h);
    if (!halting && atomic_load(&h->pool_state) == POOL_RUNNING)
        return;
    pthread_mutex_lock(&p->lock);
    uint64_t now = timebase_now();
    int state = atomic_load(&h->pool_state);
    if (state == POOL_WAITING)
        make_ready(p, h, true, now);
    else if (state == POOL_READY)
        move_to_head(p, h);
    if (halting)
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
}
