/* trap: trap entry, interrupt selection, MRET/SRET and WFI for one hart
 * (see trap.h), plus the three entry points other threads use to reach a
 * hart: hart_set_irq, hart_set_mtimecmp and hart_kick. References are to the
 * privileged spec 1.12.
 *
 * Threads: everything except those three runs on the thread running the
 * hart (its own, or a hart pool's worker). Other threads only change mip
 * (atomic fetch_or/fetch_and), mtimecmp (atomic store) and `kicked`, and
 * signal wait_cond under wait_lock, so a WFI sleeper that checks its
 * wake-up condition under the same lock cannot miss a wake-up; a pooled
 * hart's wake-up goes through the pool instead (pool_kick).
 */
#include "cpu/trap.h"
#include "coherence/coherence.h"
#include "cpu/pool.h"

#include <time.h>

#include "base/spin.h"
#include "base/timebase.h"
#include "base/tracelog.h"

/* Longest single WFI sleep: a bound on how late a hart notices a halt flag
 * that was set without a kick. 100 ms of mtime. */
#define WFI_MAX_SLEEP_TICKS (TIMEBASE_HZ / 10)

#define TIMER_REFRESH_POLLS 4

/* Interrupts in decreasing priority (3.1.9): MEI, MSI, MTI, SEI, SSI, STI. */
static const unsigned irq_priority[] = { IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI };

/* ------------------------------------------------------------ mip lines */

/* Set or clear one mip bit, skipping the locked read-modify-write when the
 * bit already has the wanted value (the common case on every poll). */
static void mip_set_line(struct hart *h, uint64_t bit, bool level)
{
    bool now = (atomic_load_explicit(&h->mip, memory_order_relaxed) & bit) != 0;
    if (now == level)
        return;
    if (level)
        atomic_fetch_or(&h->mip, bit);
    else
        atomic_fetch_and(&h->mip, ~bit);
}

static void update_timer_irqs_at(struct hart *h, uint64_t now)
{
    mip_set_line(h, MIP_MTIP, now >= atomic_load(&h->mtimecmp));
    if (h->menvcfg & MENVCFG_STCE)
        mip_set_line(h, MIP_STIP, now >= h->stimecmp);
}

void trap_update_timer_irqs(struct hart *h)
{
    update_timer_irqs_at(h, timebase_now());
}

/* ------------------------------------------------------------ trap entry */

/* Enter the handler at `to` (PRIV_S or PRIV_M) for `cause`, stacking the
 * interrupt enable and the previous privilege (3.1.6.1, 4.1.1). `vector` is
 * the interrupt number for a vectored xtvec, or -1 for direct entry. */
static void enter_trap(struct hart *h, enum priv to, uint64_t cause, uint64_t tval, int vector)
{
    if (tracelog_on(TRACE_TRAPS))
        tracelog_trap(h->mhartid, cause, tval, h->pc, h->priv, to);
    uint64_t tvec;
    if (to == PRIV_S) {
        h->sepc = h->pc;
        h->scause = cause;
        h->stval = tval;
        uint64_t s = h->mstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
        if (h->priv == PRIV_S)
            s |= MSTATUS_SPP;
        if (h->mstatus & MSTATUS_SIE)
            s |= MSTATUS_SPIE;
        h->mstatus = s;
        tvec = h->stvec;
    } else {
        h->mepc = h->pc;
        h->mcause = cause;
        h->mtval = tval;
        uint64_t m = h->mstatus & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
        m |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
        if (h->mstatus & MSTATUS_MIE)
            m |= MSTATUS_MPIE;
        h->mstatus = m;
        tvec = h->mtvec;
    }
    h->priv = to;
    /* Vectored mode sends interrupts to BASE + 4 * cause (3.1.7). */
    h->pc = (tvec & ~3ull) + ((tvec & 3) == 1 && vector >= 0 ? 4ull * (unsigned)vector : 0);
    /* A trap may be a context switch: drop the reservation so an SC in the
     * interrupted code cannot pair with an LR from before. */
    h->lr_valid = false;
    h->wfi_polls = 0;                   /* the WFI poll (trap_wfi) took its interrupt */
    /* Entering S leaves M-level interrupts enabled (they are always enabled
     * below M), so one may be takeable right away. */
    h->poll_now = true;
}

/* Exceptions from U or S go to S when medeleg says so; from M they never
 * leave M (3.1.8). Exceptions are never vectored. */
void trap_exception(struct hart *h, uint64_t cause, uint64_t tval)
{
    bool delegated = h->priv <= PRIV_S && cause < 64 && ((h->medeleg >> cause) & 1);
    enter_trap(h, delegated ? PRIV_S : PRIV_M, cause, tval, -1);
}

/* ------------------------------------------------------------ interrupts */

static uint64_t highest_priority(uint64_t pending)
{
    for (unsigned i = 0; i < sizeof irq_priority / sizeof irq_priority[0]; i++)
        if (pending & (1ull << irq_priority[i]))
            return irq_priority[i];
    return 0;
}

/* Interrupts go first to M (those not delegated), then to S (3.1.6.1,
 * 3.1.9). An M-level interrupt is enabled below M always and in M when
 * mstatus.MIE is set; an S-level one below S always, in S when SIE is set,
 * and never in M. */
bool trap_poll_interrupts(struct hart *h)
{
    /* A kick asks the hart to look at mip again, which is what this does:
     * consume it here (before reading mip) so that the next WFI does not
     * return at once for a change that has already been seen. */
    bool kicked = atomic_load_explicit(&h->kicked, memory_order_relaxed);
    if (kicked)
        atomic_store(&h->kicked, false);
    /* Only time passing can move a timer line between polls: every write
     * of a deadline (CLINT mtimecmp, stimecmp, menvcfg) and WFI recompute
     * the lines themselves. Reading the host clock at every poll (every
     * trap return) is the largest per-poll cost, so it is read at every
     * TIMER_REFRESH_POLLS-th poll: a timer interrupt is then at most a few
     * poll intervals (microseconds) late, which a guest cannot tell from
     * the host being busy. */
    if (kicked || ++h->polls_since_timer >= TIMER_REFRESH_POLLS) {
        h->polls_since_timer = 0;
        trap_update_timer_irqs(h);
    }
    uint64_t pending = atomic_load(&h->mip) & h->mie;
    if (!pending)
        return false;

    uint64_t for_m = pending & ~h->mideleg;
    bool m_enabled = h->priv < PRIV_M || (h->mstatus & MSTATUS_MIE);
    if (for_m && m_enabled) {
        unsigned irq = (unsigned)highest_priority(for_m);
        enter_trap(h, PRIV_M, CAUSE_INTERRUPT | irq, 0, (int)irq);
        return true;
    }

    uint64_t for_s = pending & h->mideleg;
    bool s_enabled = h->priv < PRIV_S || (h->priv == PRIV_S && (h->mstatus & MSTATUS_SIE));
    if (for_s && s_enabled) {
        unsigned irq = (unsigned)highest_priority(for_s);
        enter_trap(h, PRIV_S, CAUSE_INTERRUPT | irq, 0, (int)irq);
        return true;
    }
    return false;
}

/* ------------------------------------------------------------ xRET */

/* MRET (3.3.2): priv = MPP, MIE = MPIE, MPIE = 1, MPP = U; leaving M clears
 * MPRV. The reservation may be dropped by xRET, and umbra drops it. */
bool trap_mret(struct hart *h)
{
    if (h->priv != PRIV_M)
        return false;
    uint64_t s = h->mstatus;
    enum priv to = (enum priv)((s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    s &= ~(MSTATUS_MIE | MSTATUS_MPP);
    if (s & MSTATUS_MPIE)
        s |= MSTATUS_MIE;
    s |= MSTATUS_MPIE;
    if (to != PRIV_M)
        s &= ~MSTATUS_MPRV;
    h->mstatus = s;
    h->priv = to;
    h->pc = h->mepc;
    h->lr_valid = false;
    h->poll_now = true;
    /* A hart a pool ran ahead of the queue because it was kicked has
     * answered: leaving M is the end of firmware's IPI handler (OpenSBI's
     * remote fence), and the sender waits right behind (cpu/pool.h). */
    if (h->pool_boosted && to != PRIV_M)
        h->yield_wanted = true;
    return true;
}

/* SRET (3.3.2): illegal in U, and in S when mstatus.TSR (3.1.6.5).
 * priv = SPP, SIE = SPIE, SPIE = 1, SPP = U; the new privilege is never M,
 * so MPRV is cleared. */
bool trap_sret(struct hart *h)
{
    if (h->priv == PRIV_U || (h->priv == PRIV_S && (h->mstatus & MSTATUS_TSR)))
        return false;
    uint64_t s = h->mstatus;
    enum priv to = (s & MSTATUS_SPP) ? PRIV_S : PRIV_U;
    s &= ~(MSTATUS_SIE | MSTATUS_SPP | MSTATUS_MPRV);
    if (s & MSTATUS_SPIE)
        s |= MSTATUS_SIE;
    s |= MSTATUS_SPIE;
    h->mstatus = s;
    h->priv = to;
    h->pc = h->sepc;
    h->lr_valid = false;
    h->poll_now = true;
    return true;
}

/* ------------------------------------------------------------ WFI */

static bool wfi_should_wake(struct hart *h)
{
    return (atomic_load(&h->mip) & h->mie) != 0 || atomic_load(&h->kicked) || hart_halted(h);
}

/* The mtime at which a timer line that is still low at `now` will rise,
 * bounded by WFI_MAX_SLEEP_TICKS from now. A line already high is not
 * waited for: if it were enabled we would not be sleeping, and if it is
 * not enabled it cannot end the sleep. So the lines must have been brought
 * up to date at the same `now` (refresh_wake_tick): a deadline that passed
 * in between would be waited for by nobody. */
static uint64_t wfi_wake_tick(const struct hart *h, uint64_t now)
{
    uint64_t wake = now + WFI_MAX_SLEEP_TICKS;
    uint64_t mtimecmp = atomic_load(&h->mtimecmp);
    if (mtimecmp > now && mtimecmp < wake)
        wake = mtimecmp;
    if ((h->menvcfg & MENVCFG_STCE) && h->stimecmp > now && h->stimecmp < wake)
        wake = h->stimecmp;
    return wake;
}

/* Bring the timer lines up to date at `now` and return the mtime at which
 * one that is still low will rise. */
static uint64_t refresh_wake_tick(struct hart *h, uint64_t now)
{
    update_timer_irqs_at(h, now);
    return wfi_wake_tick(h, now);
}

/* With wait_lock held: sleep until the hart is kicked, the machine halts,
 * *until_zero (if given) becomes 0, or `ticks` of mtime pass. False if the
 * time ran out. */
static bool sleep_until_kicked(struct hart *h, uint64_t ticks, const _Atomic uint32_t *until_zero)
{
    struct timespec deadline = timebase_deadline(timebase_now() + ticks);
    while ((!until_zero || atomic_load(until_zero)) && !atomic_load(&h->kicked) && !hart_halted(h))
        if (pthread_cond_clockwait(&h->wait_cond, &h->wait_lock, CLOCK_MONOTONIC, &deadline) != 0)
            return false;
    return true;
}

/* WFIs at the same pc that return at once, with no trap between them,
 * before the hart sleeps on the next one anyway. */
#define WFI_POLLS_BEFORE_SLEEP 2u

/* Is this WFI one more round of a loop that polls memory with an interrupt
 * pending that the hart does not take (globally disabled), so that every
 * WFI returns at once? OpenSBI 1.1's secondary harts wait so for
 * sbi_hart_start: the IPI that released them from the cold-boot wait is
 * still pending in the HSM wait, and on a 2-core host seven such loops
 * took most of the CPU an 8-hart boot had. The round after a trap (the
 * interrupt was taken, as in Linux's idle loop) never counts. */
static bool wfi_is_polling(struct hart *h)
{
    if ((atomic_load(&h->mip) & h->mie) == 0)
        return false;                   /* it will sleep anyway */
    if (h->wfi_polls == 0 || h->wfi_poll_pc != h->pc) {
        h->wfi_poll_pc = h->pc;
        h->wfi_polls = 1;
        return false;
    }
    return ++h->wfi_polls > WFI_POLLS_BEFORE_SLEEP;
}

/* WFI (3.3.3): U-mode may not execute it here, S-mode not when TW = 1. */
static bool wfi_legal(const struct hart *h)
{
    return !(h->priv == PRIV_U || (h->priv == PRIV_S && (h->mstatus & MSTATUS_TW)));
}

/* How long a WFI spins before its thread sleeps, as Linux's cpuidle-haltpoll
 * polls in a virtual machine's guest: a Linux guest often stays idle for
 * less than it costs to wake a sleeping host thread, while its threads
 * wake each other (ptbench-1v at -smp 2: 5,378-6,622 ops/s sleeping at
 * once, 6,172-7,389 with a fixed 30 us spin, 4 pairs). The window adapts
 * (base/spin.h) from 4 us up to 30 us while wake-ups come within 200 us,
 * so a hart that idles until its next tick, 4 ms away, soon sleeps at
 * once again. Threads of a hart pool never get here: a waiting pooled
 * hart gives its worker to another, and the worker polls (cpu/pool.c). */
static const struct poll_limits wfi_spin_limits = {
    .min = TIMEBASE_HZ / 1000000 * 4,
    .max = TIMEBASE_HZ / 1000000 * 30,
    .grow_below = TIMEBASE_HZ / 1000000 * 200,
};

uint64_t trap_wfi_spin_window(uint64_t window, uint64_t slept)
{
    return poll_window_next(window, slept, wfi_spin_limits);
}

static void wfi_spin_adapt(struct hart *h, uint64_t slept)
{
    h->wfi_spin_ticks = trap_wfi_spin_window(h->wfi_spin_ticks, slept);
}

/* Spin for the current window: true if a reason to wake came, and then
 * the window widens. */
static bool wfi_spin(struct hart *h)
{
    if (!h->wfi_spin_ticks)
        return false;
    uint64_t now = timebase_now(), until = now + h->wfi_spin_ticks;
    uint64_t timer = refresh_wake_tick(h, now);
    if (timer < until)
        until = timer;
    while (!wfi_should_wake(h)) {
        if (now >= until)
            return false;
        cpu_relax();
        now = timebase_now();
    }
    atomic_store(&h->kicked, false);
    wfi_spin_adapt(h, 0);
    return true;
}

/* The WFI sleep (3.3.3): the host thread blocks until an interrupt is
 * pending and enabled in mie — whatever the global enables say — or the
 * hart is kicked or the machine halts. The wait is on CLOCK_MONOTONIC, the
 * clock timebase_deadline() speaks, whatever clock wait_cond was created
 * with.
 *
 * A WFI that polls (wfi_is_polling) sleeps even though an enabled
 * interrupt is pending, until the hart is kicked (every msip, timer or
 * external line change and every hart_kick does that: whatever would end
 * such a wait comes with one in practice) or WFI_MAX_SLEEP_TICKS pass.
 * Nothing in 3.3.3 bounds how soon a hart resumes: to the guest this is a
 * slow hart, and the loop finds the same state whenever it resumes.
 *
 * Why only a kick, and not a short timeout: OpenSBI 1.1's sbi_hart_start
 * sets the target's state to START_PENDING first and stores the start
 * address after it, then sends the IPI. A target that looks at the state
 * in between leaves its wait and jumps to a stale address (the kernel's
 * first entry, where Linux then waits for ever). On hardware the window
 * is a few instructions; here the starting hart's host thread can be
 * preempted inside it for milliseconds. With the 1 ms timeout this wait
 * once had, a loaded host lost a hart at boot ("CPU1: failed to come
 * online"); woken by the IPI, the target looks only after the stores.
 */
static void wfi_wait(struct hart *h)
{
    bool polling = trap_wfi_polls(h);
    if (!polling && wfi_spin(h))
        return;
    uint64_t slept_from = timebase_now();
    pthread_mutex_lock(&h->wait_lock);
    if (polling)
        sleep_until_kicked(h, WFI_MAX_SLEEP_TICKS, NULL);
    for (;;) {
        uint64_t wake = refresh_wake_tick(h, timebase_now());
        if (wfi_should_wake(h))
            break;
        struct timespec deadline = timebase_deadline(wake);
        pthread_cond_clockwait(&h->wait_cond, &h->wait_lock, CLOCK_MONOTONIC, &deadline);
    }
    atomic_store(&h->kicked, false);
    pthread_mutex_unlock(&h->wait_lock);
    if (!polling)
        wfi_spin_adapt(h, timebase_now() - slept_from);
}

bool trap_wfi(struct hart *h)
{
    if (!wfi_legal(h))
        return false;
    wfi_wait(h);
    h->poll_now = true;
    return true;
}

bool trap_wfi_retire(struct hart *h)
{
    if (!wfi_legal(h))
        return false;
    h->wfi_wanted = true;
    h->poll_now = true;
    return true;
}

/* A sleeping hart is parked for the coherence layer, so trace placement
 * and remote fences by other harts need not wait to see it pass a
 * boundary (src/coherence/trace.c, remote.c). */
void trap_wfi_sleep(struct hart *h)
{
    if (h->coherence)
        coherence_park(h->coherence);
    wfi_wait(h);
    if (h->coherence)
        coherence_unpark(h->coherence);
}

bool trap_wfi_polls(struct hart *h)
{
    bool polling = wfi_is_polling(h);
    if (polling)
        h->wfi_poll_sleeps++;
    return polling;
}

/* The lines are refreshed as wfi_wait refreshes them before it sleeps:
 * the hart polls them only every few blocks (TIMER_REFRESH_POLLS), and
 * wfi_wake_tick passes over a deadline already reached, taking its line
 * for high. Linux sets stimecmp a little ahead and then goes idle; on a
 * pool that deadline, passed but not yet in mip, was waited for until the
 * longest sleep ran out: an idle hart's tick came up to 100 ms late, and
 * the smoke guest's 20 ms nanosleep took 100-300 ms at -smp 4. */
uint64_t trap_wfi_wake_tick(struct hart *h, bool kick_only)
{
    uint64_t now = timebase_now();
    return kick_only ? now + WFI_MAX_SLEEP_TICKS : refresh_wake_tick(h, now);
}

/* ------------------------------------------------------------ IPI answers */

/* Longest sleep for an IPI's answer: 200 us. */
#define IPI_ANSWER_MAX_TICKS (TIMEBASE_HZ / 5000)

/* The targets kick the hart when they begin their next block (watched_by,
 * read at each heartbeat): once one runs, this hart spins again, and looks
 * again 64 rounds later. Waiting for msip to clear instead would miss
 * firmware that serves the request with interrupts off (OpenSBI's harts
 * fencing each other at once each serve the other's queue in their own
 * wait loop). The hart is parked meanwhile, as in WFI, so nobody waits on
 * it. An IPI still unanswered when the time runs out is no longer waited
 * for: each costs at most one sleep, even if its target never runs. */
void trap_await_ipi_answer(struct hart *h)
{
    h->ipi_waits++;
    if (h->coherence)
        coherence_park(h->coherence);
    uint32_t targets = atomic_load(&h->ipi_unanswered);
    for (unsigned t = 0; t < HART_MAX_PEERS; t++)
        if (targets >> t & 1)
            atomic_fetch_or(&h->peers[t].watched_by, 1u << h->mhartid);
    pthread_mutex_lock(&h->wait_lock);
    bool timed_out = !sleep_until_kicked(h, IPI_ANSWER_MAX_TICKS, &h->ipi_unanswered);
    pthread_mutex_unlock(&h->wait_lock);
    if (timed_out)
        atomic_store(&h->ipi_unanswered, 0);
    if (h->coherence)
        coherence_unpark(h->coherence);
}

/* ------------------------------------------------------------ other threads */

/* A pooled hart never sleeps on wait_cond: it waits off the pool's
 * threads instead (cpu/pool.h). */
void hart_kick(struct hart *h)
{
    atomic_store(&h->kicked, true);
    if (h->pool) {
        pool_kick(h->pool, h);
        return;
    }
    pthread_mutex_lock(&h->wait_lock);
    pthread_cond_signal(&h->wait_cond);
    pthread_mutex_unlock(&h->wait_lock);
}

void hart_set_irq(struct hart *h, uint64_t mip_bit, bool level)
{
    if (level)
        atomic_fetch_or(&h->mip, mip_bit);
    else
        atomic_fetch_and(&h->mip, ~mip_bit);
    hart_kick(h);
}

void hart_set_mtimecmp(struct hart *h, uint64_t value)
{
    atomic_store(&h->mtimecmp, value);
    mip_set_line(h, MIP_MTIP, timebase_now() >= value);
    hart_kick(h);
}
