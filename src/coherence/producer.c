/* The producer (claims 48, 49, 60, 61): every store into a traced frame,
 * by any hart or by device DMA, ends here after the store is in memory.
 *
 * For each PTE the store touched, the producer takes a new write generation
 * of the entry (the validity token, claim 49's fourth information), then
 * reads the PTE again and derives its value (the third information) from
 * what it reads. Reading after taking the token is what makes the token
 * honest: if two producers race on one entry, the later token belongs to a
 * read that saw the earlier store, and a consumer that finds the entry's
 * generation equal to a patch's token knows no store has completed its
 * token since that read. Stores that have landed but not yet taken a token
 * are "in flight" — counted in `inflight`, so the audit can tell them apart.
 *
 * One patch goes into the channel (producer, h) of every hart h whose
 * shadow depends on the frame (claim 61); under --shadow=shared that is
 * every hart, since any of them may be using the one table. A full ring
 * never makes the producer wait: it asks that consumer to resync -- except
 * on the diagonal, where the consumer is the producer's own hart, on its
 * own thread: it applies its channel there and then, which is only earlier
 * than its next coherency event would have (a hart may take a page-table
 * change into its translations at any moment before the SFENCE.VMA that
 * obliges it to; privileged spec 4.2.1). One process tearing down its own
 * page tables posts a patch per entry to its own hart, more than a ring.
 *
 * A store that left memory as it was (guest_mem tells, from the atomic's
 * old value) posts nothing: every derived value read before it is still
 * what a read after it gives. Linux zeroing a freed page-table frame,
 * which is zero already, is most of the traced stores of a fork-heavy
 * guest.
 */
#include "base/tracelog.h"
#include "coherence/coherence.h"
#include "coherence/internal.h"
#include <sched.h>

void producer_store_begin(void *ctx, uint64_t pa, unsigned size)
{
    struct coherence *co = ctx;
    atomic_fetch_add(&co->inflight[frame_index(co, pa)], 1);
    if ((pa & PAGE_MASK) != ((pa + size - 1) & PAGE_MASK))
        atomic_fetch_add(&co->inflight[frame_index(co, pa + size - 1)], 1);
}

static unsigned producer_row(const struct coherence *co, unsigned producer)
{
    return producer < co->nharts ? producer : co->nharts;     /* DMA row */
}

static uint32_t consumers_of(const struct coherence *co, uint32_t trace_word)
{
    uint32_t all = co->nharts >= 31 ? 0x7fffffffu : (1u << co->nharts) - 1;
    return (trace_word & TRACE_SHARED_BIT) ? all : trace_word & all;
}

static void post_to(struct coherence *co, unsigned row, unsigned consumer,
                    const struct patch *p)
{
    struct patch_channel *c = patch_matrix_channel(&co->matrix, row, consumer);
    if (row == consumer && patch_channel_full(c))
        consumer_drain_row(&co->hart[consumer], row);
    bool posted = patch_channel_post(c, p);
    if (tracelog_on(TRACE_PATCHES))
        tracelog_patch(row, row >= co->nharts, consumer, p->pte_addr, p->derived, p->token,
                       posted ? TRACE_PATCH_POSTED : TRACE_PATCH_OVERFLOW);
    if (!posted)
        atomic_store(&co->hart[consumer].resync, true);
}

/* Eager strategy: make every consumer apply now, and wait for it. */
static void shoot_down(struct coherence *co, unsigned producer, uint32_t consumers)
{
    uint64_t want[COHERENCE_MAX_HARTS];
    for (unsigned h = 0; h < co->nharts; h++)
        if (consumers & (1u << h)) {
            want[h] = atomic_fetch_add(&co->hart[h].shootdown_req, 1) + 1;
            if (co->hooks.kick)
                co->hooks.kick(co->hooks.ctx, h);
            remote_ring(&co->hart[h]);      /* it may sleep waiting for a remote fence */
        }
    struct coherence_hart *self = &co->hart[producer];
    for (unsigned h = 0; h < co->nharts; h++) {
        if (!(consumers & (1u << h)))
            continue;
        /* A parked hart executes nothing until coherence_unpark has served
         * the request at its boundary, so it need not be waited for (and
         * must not be: a stopped or paused machine never unparks it). */
        while (atomic_load(&co->hart[h].shootdown_ack) < want[h] &&
               !atomic_load(&co->hart[h].parked)) {
            producer_serve_shootdown(self);     /* two producers must not wait on each other */
            sched_yield();
        }
    }
    self->stats.shootdowns++;
}

static void produce_for_pte(struct coherence *co, unsigned producer, uint64_t pte_addr)
{
    uint32_t consumers = consumers_of(co, atomic_load(mem_trace_word(co->mem, pte_addr)));
    if (!consumers)
        return;
    struct patch p = { .pte_addr = pte_addr };
    p.token = atomic_fetch_add(&co->write_gen[write_gen_index(pte_addr)], 1) + 1;
    p.derived = shadow_derive(pte_read(co, pte_addr));
    unsigned row = producer_row(co, producer);
    for (unsigned h = 0; h < co->nharts; h++)
        if (consumers & (1u << h))
            post_to(co, row, h, &p);
    if (producer < co->nharts)
        co->hart[producer].stats.patches_produced += (uint64_t)__builtin_popcount(consumers);
    /* DMA does not wait: it runs on some hart's thread that may itself be
     * one of the consumers; the guest fences after DMA completes anyway. */
    if (co->opt.strategy == COHERENCE_EAGER && producer < co->nharts)
        shoot_down(co, producer, consumers);
}

void producer_store_end(void *ctx, unsigned producer, uint64_t pa, unsigned size, bool changed)
{
    struct coherence *co = ctx;
    bool dma = producer >= co->nharts;
    if (dma)
        pthread_mutex_lock(&co->dma_lock);     /* one producer at a time on the DMA row */
    if (changed)
        for (uint64_t pte = pa & ~7ull; pte < pa + size; pte += 8)
            produce_for_pte(co, producer, pte);
    else if (!dma)
        co->hart[producer].stats.stores_unchanged++;
    if (dma)
        pthread_mutex_unlock(&co->dma_lock);
    atomic_fetch_sub(&co->inflight[frame_index(co, pa)], 1);
    if ((pa & PAGE_MASK) != ((pa + size - 1) & PAGE_MASK))
        atomic_fetch_sub(&co->inflight[frame_index(co, pa + size - 1)], 1);
}

void producer_store_silent(void *ctx, unsigned producer)
{
    struct coherence *co = ctx;
    co->hart[producer].stats.stores_unchanged++;
}

void producer_serve_shootdown(struct coherence_hart *ch)
{
    uint64_t req = atomic_load(&ch->shootdown_req);
    if (req == atomic_load_explicit(&ch->shootdown_ack, memory_order_relaxed))
        return;
    consumer_drain(ch);
    fast_forget_all(ch);
    atomic_store(&ch->shootdown_ack, req);
}
