/* Remote coherency events: one hart asks others for an SFENCE.VMA or a
 * FENCE.I (the SBI RFENCE extension of -bios builtin; DESIGN.md section 2
 * says why the guest needs them) and must not return before each target has
 * done it.
 *
 * A request is a counter per kind: the asker bumps the target's remote_req;
 * the target sets remote_ack to the count its latest event of that kind
 * covered. Any SFENCE.VMA of the target covers every request posted before
 * it began, whether it was the target's own instruction or a served
 * request, because the asker stored its page-table entries (and posted
 * their patches) before bumping the counter, and the event drains after
 * reading it. A FENCE.I is the hart's own business (its decoded-code
 * cache): the coherence layer only carries the request to the hart's hook.
 *
 * Where a target serves a request:
 *  - running: at its next boundary (coherence_boundary, at most about a
 *    thousand instructions away), between two instructions, exactly as if it
 *    had executed SFENCE.VMA there. The asker kicks it (coherence_hooks.kick:
 *    translated code ends its block at the next jump back or to another
 *    page, so the boundary comes within a few dozen instructions, not at
 *    the end of the block's budget) and waits until then.
 *  - parked (WFI, HSM stopped or suspended, thread not running guest code):
 *    the request stays queued and the asker does not wait. The target passes
 *    a boundary when it resumes, before its next instruction, and serves it
 *    there; until then it translates and fetches nothing, so nothing can
 *    observe that the fence is late. Posting and the parked check are both
 *    sequentially consistent, as are coherence_unpark's store of `parked`
 *    and its boundary's read of remote_req: either the asker sees the target running
 *    (and waits), or the resuming target sees the request (and serves it).
 *    A target that parks while the asker waits serves what it has seen at
 *    its parking boundary and wakes the sleepers if more came in.
 *
 * Waiting spins only briefly (ACK_SPIN_TICKS), then sleeps: the asker
 * sleeps on its own doorbell, rung by a target that acknowledges or parks,
 * by a hart that posts a request to the asker, and by an eager shoot-down
 * aimed at it. Each time it wakes (or its doorbell rings while it spins) it
 * also serves what others asked of it, so harts that fence each other at
 * the same moment cannot wait for ever. The sleep has a short time limit as
 * a last resort, never as the expected way out.
 *
 * Threads: coherence_remote_fence on the asking hart's thread; serving on
 * the target's own thread (coherence_boundary, coherence_park/unpark).
 */
#include "base/spin.h"
#include "base/timebase.h"
#include "base/tracelog.h"
#include "coherence/coherence.h"
#include "coherence/internal.h"
#include <errno.h>
#include <time.h>

/* Longest doorbell sleep: a safety net only (1 ms). */
#define DOORBELL_TIMEOUT_NS 1000000L

/* How long an asker spins on the acknowledgements before it sleeps: 20 us.
 * A running target serves a request at its next boundary, a few
 * microseconds away, while a sleeping host thread takes 10-50 us to wake on
 * a virtualized host, its host CPU idle all the while. On ptbench-1v under
 * -bios builtin at -smp 2, sleeping at once made the average wait 22 us;
 * with the spin it is 5 us, and 99 waits in 100 end without a sleep. */
#define ACK_SPIN_TICKS (TIMEBASE_HZ / 50000)

void coherence_hart_set_hooks(struct coherence_hart *ch, struct coherence_hart_hooks hooks)
{
    ch->hooks = hooks;
}

/* Wake ch if it sleeps on its doorbell. The sleeper sets `sleeping` before
 * it reads the state it waits on, and the ringer changes that state before
 * it reads `sleeping` (all sequentially consistent), so either the sleeper
 * sees the change or the ringer sees the sleeper. */
void remote_ring(struct coherence_hart *ch)
{
    if (!atomic_load(&ch->sleeping))
        return;
    atomic_fetch_add(&ch->bell, 1);
    pthread_mutex_lock(&ch->bell_lock);
    pthread_cond_broadcast(&ch->bell_cond);
    pthread_mutex_unlock(&ch->bell_lock);
}

static void ring_sleepers(struct coherence *co)
{
    for (unsigned h = 0; h < co->nharts; h++)
        remote_ring(&co->hart[h]);
}

static void doorbell_sleep(struct coherence_hart *ch, uint64_t seen)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += DOORBELL_TIMEOUT_NS;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ch->bell_lock);
    while (atomic_load(&ch->bell) == seen)
        if (pthread_cond_clockwait(&ch->bell_cond, &ch->bell_lock, CLOCK_MONOTONIC, &deadline) ==
            ETIMEDOUT)
            break;
    pthread_mutex_unlock(&ch->bell_lock);
}

/* An event of `kind` on ch that began when remote_req was `covered` has
 * finished: acknowledge, and wake whoever may be waiting for it. */
void remote_fence_done(struct coherence_hart *ch, enum coherence_remote_kind kind,
                       uint64_t covered)
{
    if (covered == atomic_load_explicit(&ch->remote_ack[kind], memory_order_relaxed))
        return;
    atomic_store(&ch->remote_ack[kind], covered);
    ring_sleepers(ch->co);
}

static bool requested(struct coherence_hart *ch, enum coherence_remote_kind kind)
{
    return atomic_load(&ch->remote_req[kind]) !=
           atomic_load_explicit(&ch->remote_ack[kind], memory_order_relaxed);
}

static void serve_fence_i(struct coherence_hart *ch)
{
    uint64_t covered = atomic_load(&ch->remote_req[REMOTE_FENCE_I]);
    if (ch->hooks.fence_i)
        ch->hooks.fence_i(ch->hooks.ctx);
    else
        atomic_thread_fence(memory_order_seq_cst);
    remote_fence_done(ch, REMOTE_FENCE_I, covered);
}

static void serve_sfence_vma(struct coherence_hart *ch)
{
    if (tracelog_on(TRACE_COHERENCE))
        tracelog_remote_sfence(ch->id);
    if (!ch->hooks.settings) {
        fence_event(ch, NULL);
        return;
    }
    struct coherence_settings s;
    ch->hooks.settings(ch->hooks.ctx, &s);
    fence_event(ch, &s);
}

/* At ch's boundary, on its own thread: serve pending remote events. */
void remote_fence_serve(struct coherence_hart *ch)
{
    bool vma = requested(ch, REMOTE_SFENCE_VMA), fence_i = requested(ch, REMOTE_FENCE_I);
    if (vma)
        serve_sfence_vma(ch);
    if (fence_i)
        serve_fence_i(ch);
    ch->stats.remote_fences_served += (uint64_t)vma + (uint64_t)fence_i;
}

/* ch has just parked: requests it did not see at its parking boundary will
 * be served when it resumes, so their askers may stop waiting. */
void remote_fence_parked(struct coherence_hart *ch)
{
    for (unsigned k = 0; k < REMOTE_KINDS; k++)
        if (atomic_load(&ch->remote_req[k]) != atomic_load(&ch->remote_ack[k])) {
            ring_sleepers(ch->co);
            return;
        }
}

/* The harts of `pending` that have neither acknowledged want[h] nor parked. */
static uint32_t still_pending(struct coherence *co, uint32_t pending, const uint64_t *want,
                              enum coherence_remote_kind kind)
{
    for (unsigned h = 0; h < co->nharts; h++) {
        struct coherence_hart *t = &co->hart[h];
        if ((pending & (1u << h)) &&
            (atomic_load(&t->remote_ack[kind]) >= want[h] || atomic_load(&t->parked)))
            pending &= ~(1u << h);
    }
    return pending;
}

/* still_pending, spun on until it is empty, self's doorbell rings (a
 * request to serve) or the clock reaches `until`. */
static uint32_t spin_for_acks(struct coherence_hart *self, uint32_t pending,
                              const uint64_t *want, enum coherence_remote_kind kind,
                              uint64_t seen, uint64_t until)
{
    for (;;) {
        pending = still_pending(self->co, pending, want, kind);
        if (!pending || atomic_load(&self->bell) != seen || timebase_now() >= until)
            return pending;
        cpu_relax();
    }
}

void coherence_remote_fence(struct coherence_hart *self, uint32_t targets,
                            enum coherence_remote_kind kind)
{
    struct coherence *co = self->co;
    uint64_t want[COHERENCE_MAX_HARTS] = { 0 };
    uint32_t pending = 0;
    for (unsigned h = 0; h < co->nharts; h++) {
        if (!(targets & (1u << h)) || h == self->id)
            continue;
        struct coherence_hart *t = &co->hart[h];
        want[h] = atomic_fetch_add(&t->remote_req[kind], 1) + 1;
        if (atomic_load(&t->parked)) {
            self->stats.remote_fences_queued++;
            continue;
        }
        self->stats.remote_fences_waited++;
        pending |= 1u << h;
        remote_ring(t);         /* it may be asleep waiting for fences of its own */
        if (co->hooks.kick)     /* it may be in a loop that looks at nothing else */
            co->hooks.kick(co->hooks.ctx, h);
    }
    if (!pending)
        return;
    atomic_store(&self->sleeping, true);
    uint64_t spin_until = timebase_now() + ACK_SPIN_TICKS;
    for (;;) {
        uint64_t seen = atomic_load(&self->bell);
        coherence_boundary(self);       /* serve what others ask of us meanwhile */
        pending = spin_for_acks(self, pending, want, kind, seen, spin_until);
        if (!pending)
            break;
        doorbell_sleep(self, seen);
    }
    atomic_store(&self->sleeping, false);
}
