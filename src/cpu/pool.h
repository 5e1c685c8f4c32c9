/* pool: harts that share a few host threads, switched at block boundaries.
 *
 * With more harts than host CPUs, a thread per hart leaves the choice of
 * which hart runs to the host scheduler, which preempts a thread anywhere:
 * in the middle of a block, where nobody else can run that hart, while it
 * holds a guest lock or owes another hart the answer to an IPI. A pool runs
 * the harts on as many worker threads as the host has CPUs and switches a
 * worker from one hart to another only at a block boundary, where the whole
 * state of a hart is in struct hart. A switch is then a function return,
 * not a host context switch, and a hart that has been interrupted (a kick:
 * an IPI, a timer, an external line) is the next one any worker runs.
 *
 * Owns: the ready queue and each pooled hart's place in it (pool_state,
 * pool_next), each hart's home worker (pool_home), the workers' poll and
 * sleep when no hart is ready, and how many workers take harts: all of them
 * (spread) or half (gathered, when that lets the guest's user code get
 * further: pool.c). A hart is in exactly one state: RUNNING on one
 * worker, READY in the queue, or WAITING in a WFI until a kick, an enabled
 * interrupt or its timer deadline.
 *
 * Threads: pool_run is the body of each worker thread; pool_kick is called
 * by any thread (through hart_kick). Everything else is under pool->lock,
 * but for `readied`, which a polling worker reads without it.
 */
#ifndef UMBRA_CPU_POOL_H
#define UMBRA_CPU_POOL_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "base/spin.h"
#include "cpu/hart.h"

enum pool_state { POOL_READY, POOL_RUNNING, POOL_WAITING };

/* What the pool does until phase_end (pool.c, "Spreading and gathering"):
 * each phase is one window of its measure. */
enum pool_phase { POOL_TRY_SPREAD, POOL_TRY_GATHERED, POOL_KEEP };

struct hart_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;            /* idle workers sleep here */
    struct hart *harts;
    unsigned nharts;
    struct hart *first, *last;      /* the ready queue, linked by pool_next */
    unsigned nworkers;
    uint64_t steal_ticks;           /* a ready hart's wait for its home worker (pool.c) */
    struct poll_limits poll;        /* an idle worker's poll window (pool.c) */
    unsigned workers_started;       /* pool_run numbers its workers so */
    unsigned idle_workers;
    _Atomic uint64_t readied;       /* harts made ready: what a polling worker watches */
    uint64_t polls_found, sleeps;   /* idle workers: a hart found while polling, sleeps */
    _Atomic uint64_t last_spin_yield;   /* mtime of the latest (pool_spin_gives_up) */
    /* Workers numbered active_workers and up take no hart: they wait on
     * `spread` while the pool is gathered. */
    unsigned active_workers;
    pthread_cond_t spread;
    enum pool_phase phase;
    uint64_t phase_start, phase_end;    /* mtime */
    uint64_t keep_until;                /* POOL_KEEP: its last window ends after this */
    uint64_t spread_keep_ticks;         /* how long a failed try keeps the pool spread */
    uint64_t phase_user_retired;        /* the harts' user_retired, summed, at phase_start */
    _Atomic uint64_t phase_spin_yields; /* spins given up since phase_start */
    double spread_rate;                 /* user instructions per tick in the last POOL_TRY_SPREAD */
    uint64_t tries, gathers_kept;       /* gathered tries, and those that kept the pool so */
    uint64_t gathered_ticks;            /* mtime spent gathered, up to phase_start */
    /* Asked, under the lock, before a worker runs a hart: false keeps it
     * waiting for its next kick (-bios builtin: a hart stopped in HSM until
     * its hart_start). NULL: every hart may run. */
    bool (*may_run)(void *ctx, struct hart *h);
    void *may_run_ctx;
};

/* Set the pool up for `nharts` harts (each then has h->pool set), to be
 * run by `nworkers` threads. */
void pool_init(struct hart_pool *p, struct hart *harts, unsigned nharts, unsigned nworkers);
void pool_destroy(struct hart_pool *p);

/* Before the workers start (after a pause or a reset too): every hart
 * ready, in hart order, hart i at home on worker i % nworkers. A hart
 * that was waiting in WFI resumes after it, which 3.3.3 allows. */
void pool_prepare(struct hart_pool *p);

/* A worker: run ready harts until the machine halts. */
void pool_run(struct hart_pool *p);

/* One switch of pool_run, for tests: the hart worker `worker` runs next
 * (RUNNING) or NULL, and putting it back after a slice that ended so. */
struct hart *pool_take(struct hart_pool *p, unsigned worker);
void pool_put(struct hart_pool *p, struct hart *h, enum hart_slice_end end);

/* Any thread, for tests (pool_run does it at every switch): end the
 * phase if `now` (mtime) is past its end, choosing the layout of the
 * next. */
void pool_tune(struct hart_pool *p, uint64_t now);

/* A pooled hart's worker, in a spin it detected (cpu/exec.c) that has
 * lasted `spun` ticks: whether to give the worker up now. */
bool pool_spin_gives_up(struct hart_pool *p, uint64_t spun, uint64_t now);

/* Any thread: h was kicked (hart_kick). A waiting hart becomes ready, a
 * ready one moves to the head of the queue: an interrupt is what it waited
 * for, and whoever kicked it may wait for its answer. */
void pool_kick(struct hart_pool *p, struct hart *h);

#endif
