/* debug: breakpoints, watchpoints and the all-stop handshake (see debug.h).
 *
 * The handshake. A stop (a breakpoint, a watchpoint, a finished step, or
 * the debugger's own request) sets stop_pending under the hub's mutex,
 * raises every hart's debug_attention and kicks harts out of WFI. Each hart
 * notices at its next poll boundary or, in debug mode, after its current
 * instruction, and parks: it counts itself in nparked and sleeps on
 * hart_cond. The debugger sees nparked == nharts and may then read and
 * write any hart's state, because every hart went through the mutex after
 * its last instruction. A resume gives each hart an action and bumps
 * resume_count; a hart told to stay keeps sleeping. Parked harts are parked
 * for the coherence layer too, exactly as in WFI, so nobody waits on them.
 */
#include "cpu/debug.h"

#include <string.h>
#include <time.h>

#include "coherence/coherence.h"
#include "cpu/access.h"
#include "cpu/csr.h"
#include "cpu/trap.h"

/* Longest sleep of a parked hart or a waiting debugger before it looks at
 * the machine's halt flag again (a guest poweroff does not signal the
 * hub's condition variables). */
#define DEBUG_HALT_CHECK_MS 50

static bool machine_halted(const struct debug_hub *d)
{
    return d->halt && atomic_load_explicit(d->halt, memory_order_relaxed);
}

static struct debug_hart *state_of(struct hart *h)
{
    return &h->debug->hs[h->mhartid];
}

static struct timespec deadline_after_ms(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* ------------------------------------------------------------ set-up */

bool debug_hub_init(struct debug_hub *d, struct hart *harts, unsigned nharts,
                    _Atomic bool *halt, bool start_stopped)
{
    if (nharts == 0 || nharts > DEBUG_MAX_HARTS)
        return false;
    memset(d, 0, sizeof *d);
    d->harts = harts;
    d->nharts = nharts;
    d->halt = halt;
    pthread_mutex_init(&d->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&d->hart_cond, &attr);
    pthread_cond_init(&d->stub_cond, &attr);
    pthread_condattr_destroy(&attr);
    atomic_init(&d->stop_flag, start_stopped);
    d->stop_pending = start_stopped;
    d->have_stop = start_stopped;
    d->last = (struct debug_stop){ .hart = 0, .signal = DEBUG_SIGTRAP };
    for (unsigned i = 0; i < nharts; i++) {
        d->hs[i].action = DEBUG_CONTINUE;
        harts[i].debug = d;
        atomic_store(&harts[i].debug_attention, start_stopped);
    }
    return true;
}

void debug_hub_destroy(struct debug_hub *d)
{
    for (unsigned i = 0; i < d->nharts; i++)
        d->harts[i].debug = NULL;
    pthread_cond_destroy(&d->stub_cond);
    pthread_cond_destroy(&d->hart_cond);
    pthread_mutex_destroy(&d->lock);
}

/* ------------------------------------------------------- the handshake */

/* Start an all-stop, unless one is under way: the first reason wins.
 * Caller holds the lock. */
static void stop_machine_locked(struct debug_hub *d, const struct debug_stop *why)
{
    if (d->stop_pending)
        return;
    d->stop_pending = true;
    atomic_store(&d->stop_flag, true);
    d->last = *why;
    d->have_stop = true;
    for (unsigned i = 0; i < d->nharts; i++) {
        atomic_store(&d->harts[i].debug_attention, true);
        hart_kick(&d->harts[i]);
    }
}

/* Sleep until a resume gives this hart something to do (or the machine
 * halts), then pick up what changed while it slept. */
static void park(struct debug_hub *d, struct hart *h)
{
    struct debug_hart *me = state_of(h);
    if (h->coherence)
        coherence_park(h->coherence);
    pthread_mutex_lock(&d->lock);
    me->parked = true;
    d->nparked++;
    pthread_cond_broadcast(&d->stub_cond);
    uint64_t seen = d->resume_count;
    while (!machine_halted(d)) {
        if (d->resume_count != seen) {
            if (d->hs[h->mhartid].action != DEBUG_STAY)
                break;
            seen = d->resume_count;
        }
        struct timespec t = deadline_after_ms(DEBUG_HALT_CHECK_MS);
        pthread_cond_timedwait(&d->hart_cond, &d->lock, &t);
    }
    me->parked = false;
    d->nparked--;
    me->step_pending = me->action == DEBUG_STEP && !machine_halted(d);
    h->debug_watching = d->nwp > 0;
    pthread_mutex_unlock(&d->lock);
    /* Entries filled before the watchpoint existed would let accesses
     * bypass the slow path, where watchpoints are checked. */
    if (h->debug_watching)
        tlb_flush_all(&h->tlb);
    if (h->coherence)
        coherence_unpark(h->coherence);
}

/* This hart found a reason to stop: stop everybody, then park. */
static void stop_here(struct debug_hub *d, struct hart *h)
{
    struct debug_hart *me = state_of(h);
    struct debug_stop why = {
        .hart = (unsigned)h->mhartid,
        .signal = DEBUG_SIGTRAP,
        .watch_hit = me->watch_hit,
        .watch_kind = me->hit_kind,
        .watch_addr = me->hit_addr,
    };
    me->watch_hit = false;
    pthread_mutex_lock(&d->lock);
    stop_machine_locked(d, &why);
    pthread_mutex_unlock(&d->lock);
    park(d, h);
}

static bool breakpoint_at(const struct debug_hub *d, uint64_t pc)
{
    for (unsigned i = 0; i < d->nbp; i++)
        if (d->bp[i] == pc)
            return true;
    return false;
}

/* One instruction and a stop, whatever it did. Interrupts are not polled
 * first, so a step lands on the next instruction of the program rather
 * than in a handler (as QEMU steps by default). */
static uint64_t step_one(struct debug_hub *d, struct hart *h)
{
    struct debug_hart *me = state_of(h);
    me->step_pending = false;
    me->watch_hit = false;
    uint64_t retired = hart_execute_one(h) ? 1 : 0;
    stop_here(d, h);
    return retired;
}

void debug_hart_enter(struct hart *h)
{
    struct debug_hub *d = h->debug;
    if (!d)
        return;
    struct debug_hart *me = state_of(h);
    pthread_mutex_lock(&d->lock);
    me->present = true;
    d->npresent++;
    /* Entering after a resume that told it to stay or step: do that. */
    if (!d->stop_pending && me->action != DEBUG_CONTINUE) {
        me->hold = me->action == DEBUG_STAY;
        me->step_pending = me->action == DEBUG_STEP;
        atomic_store(&h->debug_attention, true);
    }
    pthread_mutex_unlock(&d->lock);
}

void debug_hart_leave(struct hart *h)
{
    struct debug_hub *d = h->debug;
    if (!d)
        return;
    pthread_mutex_lock(&d->lock);
    state_of(h)->present = false;
    d->npresent--;
    pthread_cond_broadcast(&d->stub_cond);
    pthread_mutex_unlock(&d->lock);
}

uint64_t debug_hart_slice(struct hart *h, unsigned budget)
{
    struct debug_hub *d = h->debug;
    struct debug_hart *me = state_of(h);
    if (me->step_pending)
        return step_one(d, h);
    if (atomic_load(&d->stop_flag) || me->hold) {
        me->hold = false;
        park(d, h);
        return 0;
    }
    trap_poll_interrupts(h);
    uint64_t retired = 0;
    for (unsigned i = 0; i < budget && !h->poll_now; i++) {
        if (d->nbp && breakpoint_at(d, h->pc)) {
            stop_here(d, h);
            return retired;
        }
        if (hart_execute_one(h))
            retired++;
        if (me->watch_hit) {
            stop_here(d, h);
            return retired;
        }
        if (atomic_load_explicit(&d->stop_flag, memory_order_relaxed)) {
            park(d, h);
            return retired;
        }
    }
    return retired;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static bool kind_matches(enum debug_watch_kind kind, enum access acc)
{
    switch (kind) {
    case DEBUG_WATCH_WRITE: return acc == ACCESS_WRITE;
    case DEBUG_WATCH_READ: return acc == ACCESS_READ;
    default: return acc != ACCESS_EXEC;
    }
}

void debug_note_access(struct hart *h, uint64_t va, unsigned len, enum access acc)
{
    struct debug_hub *d = h->debug;
    struct debug_hart *me = state_of(h);
    if (!d || me->watch_hit)
        return;
    for (unsigned i = 0; i < d->nwp; i++) {
        const struct debug_watchpoint *w = &d->wp[i];
        if (kind_matches(w->kind, acc) && overlaps(va, len, w->addr, w->len)) {
            me->watch_hit = true;
            me->hit_kind = w->kind;
            me->hit_addr = w->addr;
            return;
        }
    }
}

/* ------------------------------------------------------ debugger side */

void debug_request_stop(struct debug_hub *d, int signal)
{
    struct debug_stop why = { .hart = 0, .signal = signal };
    pthread_mutex_lock(&d->lock);
    stop_machine_locked(d, &why);
    pthread_mutex_unlock(&d->lock);
}

static bool all_parked_locked(const struct debug_hub *d)
{
    return d->stop_pending && d->nparked == d->npresent;
}

bool debug_all_stopped(struct debug_hub *d)
{
    pthread_mutex_lock(&d->lock);
    bool stopped = all_parked_locked(d);
    pthread_mutex_unlock(&d->lock);
    return stopped;
}

bool debug_wait_stopped(struct debug_hub *d, int timeout_ms, struct debug_stop *why)
{
    struct timespec end = deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&d->lock);
    while (!all_parked_locked(d) && !machine_halted(d)) {
        struct timespec now, t = deadline_after_ms(DEBUG_HALT_CHECK_MS);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (!before(&now, &end))
            break;
        pthread_cond_timedwait(&d->stub_cond, &d->lock, before(&t, &end) ? &t : &end);
    }
    bool stopped = all_parked_locked(d);
    if (stopped && why)
        *why = d->last;
    pthread_mutex_unlock(&d->lock);
    return stopped;
}

bool debug_resume(struct debug_hub *d, const enum debug_action *action)
{
    bool any_runs = false;
    for (unsigned i = 0; i < d->nharts; i++)
        any_runs |= action[i] != DEBUG_STAY;
    pthread_mutex_lock(&d->lock);
    bool ok = any_runs && all_parked_locked(d);
    if (ok) {
        bool watched = d->nbp || d->nwp;
        d->stop_pending = false;
        atomic_store(&d->stop_flag, false);
        for (unsigned i = 0; i < d->nharts; i++) {
            d->hs[i].action = action[i];
            /* Attention costs a hart its fast loop: only for those that
             * must check breakpoints or step. */
            atomic_store(&d->harts[i].debug_attention, watched || action[i] != DEBUG_CONTINUE);
        }
        d->resume_count++;
        pthread_cond_broadcast(&d->hart_cond);
    }
    pthread_mutex_unlock(&d->lock);
    return ok;
}

void debug_detach(struct debug_hub *d)
{
    enum debug_action all[DEBUG_MAX_HARTS];
    for (unsigned i = 0; i < d->nharts; i++)
        all[i] = DEBUG_CONTINUE;
    pthread_mutex_lock(&d->lock);
    if (all_parked_locked(d))
        d->nbp = d->nwp = 0;
    pthread_mutex_unlock(&d->lock);
    debug_resume(d, all);
}

bool debug_add_breakpoint(struct debug_hub *d, uint64_t pc)
{
    if (d->nbp == DEBUG_MAX_BREAKPOINTS)
        return false;
    d->bp[d->nbp++] = pc;
    return true;
}

bool debug_remove_breakpoint(struct debug_hub *d, uint64_t pc)
{
    for (unsigned i = 0; i < d->nbp; i++)
        if (d->bp[i] == pc) {
            d->bp[i] = d->bp[--d->nbp];
            return true;
        }
    return false;
}

bool debug_add_watchpoint(struct debug_hub *d, enum debug_watch_kind kind, uint64_t addr,
                          uint64_t len)
{
    if (d->nwp == DEBUG_MAX_WATCHPOINTS || len == 0)
        return false;
    d->wp[d->nwp++] = (struct debug_watchpoint){ .addr = addr, .len = len, .kind = kind };
    return true;
}

bool debug_remove_watchpoint(struct debug_hub *d, enum debug_watch_kind kind, uint64_t addr,
                             uint64_t len)
{
    for (unsigned i = 0; i < d->nwp; i++) {
        const struct debug_watchpoint *w = &d->wp[i];
        if (w->kind == kind && w->addr == addr && w->len == len) {
            d->wp[i] = d->wp[--d->nwp];
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------- inspecting a hart */

/* The walk of privileged spec 4.3.2 reduced to what a debugger needs: the
 * leaf's physical address. No permission check, no A/D update, no fault. */
static bool walk_quietly(struct hart *h, uint64_t va, uint64_t *pa)
{
    uint64_t mode = h->satp >> SATP_MODE_SHIFT;
    if (h->priv == PRIV_M || mode == SATP_MODE_BARE) {
        *pa = va;
        return true;
    }
    if (mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48)
        return false;
    unsigned levels = mode == SATP_MODE_SV48 ? 4 : 3;
    if (mmu_sign_extend_va(va, levels) != va)
        return false;
    uint64_t table = (h->satp & SATP_PPN_MASK) << PAGE_SHIFT;
    for (int level = (int)levels - 1; level >= 0; level--) {
        unsigned shift = PAGE_SHIFT + 9 * (unsigned)level;
        uint64_t pte;
        if (!mem_copy_from_guest(h->mem, &pte, table + ((va >> shift) & 511) * 8, 8))
            return false;
        if (!(pte & PTE_V) || ((pte & PTE_W) && !(pte & PTE_R)))
            return false;
        uint64_t base = ((pte >> 10) & SATP_PPN_MASK) << PAGE_SHIFT;
        if (pte & (PTE_R | PTE_X)) {
            uint64_t offset_mask = (1ull << shift) - 1;
            *pa = (base & ~offset_mask) | (va & offset_mask);
            return true;
        }
        table = base;
    }
    return false;
}

/* The RAM behind [va, va+n), n not crossing a page. */
static bool ram_piece(struct hart *h, uint64_t va, size_t n, uint64_t *pa)
{
    return walk_quietly(h, va, pa) && mem_in_ram(h->mem, *pa, n);
}

static size_t piece_len(uint64_t va, size_t len)
{
    size_t room = (size_t)(PAGE_SIZE - (va & (PAGE_SIZE - 1)));
    return len < room ? len : room;
}

bool debug_read_memory(struct hart *h, uint64_t va, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        size_t n = piece_len(va, len);
        uint64_t pa;
        if (!ram_piece(h, va, n, &pa) || !mem_copy_from_guest(h->mem, out, pa, n))
            return false;
        out += n;
        va += n;
        len -= n;
    }
    return true;
}

/* Byte stores reported to the write traces like device DMA, so a debugger
 * that edits a page table keeps the shadow tables coherent. */
bool debug_write_memory(struct hart *h, uint64_t va, const void *buf, size_t len)
{
    const uint8_t *in = buf;
    while (len) {
        size_t n = piece_len(va, len);
        uint64_t pa;
        if (!ram_piece(h, va, n, &pa))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!mem_dma_store(h->mem, pa + i, 1, in[i]))
                return false;
        in += n;
        va += n;
        len -= n;
    }
    return true;
}

bool debug_read_csr(struct hart *h, unsigned csr, uint64_t *value)
{
    enum priv saved = h->priv;
    h->priv = PRIV_M;
    bool ok = csr_access(h, csr, CSR_OP_SET, 0, true, false, value);
    h->priv = saved;
    return ok;
}

bool debug_write_csr(struct hart *h, unsigned csr, uint64_t value)
{
    enum priv saved = h->priv;
    uint64_t old;
    h->priv = PRIV_M;
    bool ok = csr_access(h, csr, CSR_OP_WRITE, value, false, true, &old);
    h->priv = saved;
    return ok;
}
