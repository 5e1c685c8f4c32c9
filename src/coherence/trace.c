/* Write traces, and why placing one cannot miss a store (DESIGN.md 4.1).
 *
 * A frame is traced while a shadow page derives from it: the frame's trace
 * word (src/mem) has bit h set for hart h's table, or TRACE_SHARED_BIT for
 * the shared table. Stores to a traced frame take the producer path
 * (producer.c), which posts patches to every hart named in the word.
 *
 * The race. Hart A creates a shadow page for frame F: it sets its bit in
 * F's trace word and derives entries from F's PTEs. Meanwhile hart B stores
 * into F. If B decided "F is not traced" before A's bit was set, but its
 * store reaches memory after A read the PTE, A's derived entry is stale and
 * no patch will ever say so. B may be storing through its fast cache, which
 * checks nothing at all, or through the slow path, which checks the trace
 * word before storing; either way a check-then-store can lose this race.
 *
 * The solution: never trust a new trace until every hart has been seen to
 * know about it, and until then re-derive.
 *
 *  1. Placing a trace is a sequentially consistent fetch_or on the trace
 *     word followed by a sequentially consistent increment of the global
 *     trace epoch; the new shadow page records that epoch E and is
 *     "unconfirmed".
 *  2. Every hart calls coherence_boundary() between instructions at least
 *     every thousand or so instructions (the run loop's poll point). When the
 *     epoch moved, it drops every write entry of its fast cache that maps a
 *     traced frame (so later stores to F take the slow path, which sees the
 *     trace), then publishes the epoch it has seen (seen_epoch, seq_cst).
 *     A hart that stops executing (WFI, HSM stop) first passes a boundary
 *     and then sets `parked`; one that resumes clears `parked` and passes a
 *     boundary before its first instruction.
 *  3. At each of A's coherency events, for each unconfirmed page: A first
 *     checks whether every other hart has seen_epoch >= E or is parked;
 *     then it re-derives every entry of the page from the PTEs as they are
 *     now; then, if the check held, the page becomes confirmed.
 *
 * Why that is enough. Take any store S by hart B into F.
 *  - If B made S after its boundary for epoch >= E: B's fast cache had no
 *    write entry for F, so S went through the slow path, which reads the
 *    trace word after B's boundary read the epoch (acquire), so it sees A's
 *    bit and posts a patch to A. The patch reaches A's next coherency event.
 *  - If B made S before that boundary (or before parking): S precedes B's
 *    seq_cst store of seen_epoch; while A has not seen that store, the page
 *    stays unconfirmed and A re-derives it at every coherency event. Once A
 *    sees it (step 3's check, before the re-derivation), S is visible to the
 *    re-derivation. So after that event the page reflects S, and every later
 *    store is in the first case.
 *  - Stores that are "in flight" (not ordered before A's fence by the guest)
 *    may be missed by that fence; the guest's contract allows it (DESIGN.md
 *    section 2), and the next case applies at the following fence.
 * A parked hart holds no store in flight, and on resuming it passes a
 * boundary before it can store; reading `parked` as true after the epoch
 * increment (both seq_cst) therefore counts as having seen the epoch.
 * Device DMA is not a hart: it stores, issues a seq_cst fence, and then
 * reads trace words (mem/guest_mem.c), which against step 1's seq_cst
 * read-modify-write means either DMA sees the bit or A's read sees the data.
 * The walker's A/D compare-and-swap is a seq_cst read-modify-write followed
 * by the trace check, with the same argument.
 *
 * Nobody ever waits: A re-derives instead of waiting, and B only ever
 * checks its own epoch. tests/unit/test_coherence.c races placement against
 * stores on real threads; --audit checks the resulting invariant.
 */
#include "coherence/coherence.h"
#include "coherence/internal.h"

/* The trace word of sp's frame and the bit that stands for table t in it;
 * NULL when no trace applies (flush places none; frames outside RAM have no
 * word and take no stores a trace could catch). */
static _Atomic uint32_t *trace_word_of(struct coherence *co, struct shadow_table *t,
                                       const struct shadow_page *sp, uint32_t *bit)
{
    uint64_t frame = sp->gfn << PAGE_SHIFT;
    if (co->opt.strategy == COHERENCE_FLUSH || !mem_in_ram(co->mem, frame, PAGE_SIZE))
        return NULL;
    *bit = t->shared ? TRACE_SHARED_BIT : 1u << trace_owner(t);
    return mem_trace_word(co->mem, frame);
}

void trace_place(struct coherence *co, struct shadow_table *t, struct shadow_page *sp)
{
    uint32_t bit;
    _Atomic uint32_t *word = trace_word_of(co, t, sp, &bit);
    if (!word)
        return;
    atomic_fetch_or(word, bit);
    sp->trace_epoch = atomic_fetch_add(&co->trace_epoch, 1) + 1;
    if (sp->unconfirmed)
        return;     /* a revived page still on the list: it now waits for the new epoch */
    sp->unconfirmed = true;
    sp->unconfirmed_next = t->unconfirmed;
    t->unconfirmed = sp;
}

void trace_remove(struct coherence *co, struct shadow_table *t, struct shadow_page *sp)
{
    uint32_t bit;
    _Atomic uint32_t *word = trace_word_of(co, t, sp, &bit);
    if (word)
        atomic_fetch_and(word, ~bit);
}

/* Has every hart passed a boundary for `epoch`, or is it parked? */
static bool every_hart_has_seen(struct coherence *co, uint64_t epoch)
{
    for (unsigned h = 0; h < co->nharts; h++) {
        struct coherence_hart *o = &co->hart[h];
        if (!atomic_load(&o->parked) && atomic_load(&o->seen_epoch) < epoch)
            return false;
    }
    return true;
}

/* Step 3: re-derive unconfirmed pages; confirm those every hart has seen. */
void trace_confirm(struct coherence_hart *ch)
{
    struct shadow_table *t = ch->table;
    if (t->shared)
        pthread_mutex_lock(&t->create_lock);
    struct shadow_page **link = &t->unconfirmed;
    while (*link) {
        struct shadow_page *sp = *link;
        bool seen = every_hart_has_seen(ch->co, sp->trace_epoch);
        ch->stats.revalidated += consumer_rederive_page(ch, sp);
        if (seen) {
            sp->unconfirmed = false;
            *link = sp->unconfirmed_next;
        } else {
            link = &sp->unconfirmed_next;
        }
    }
    if (t->shared)
        pthread_mutex_unlock(&t->create_lock);
}

/* The boundary's own duties, without serving remote fences (a coherency
 * event runs this itself). */
void trace_boundary(struct coherence_hart *ch)
{
    uint64_t epoch = atomic_load(&ch->co->trace_epoch);
    if (epoch != atomic_load_explicit(&ch->seen_epoch, memory_order_relaxed)) {
        if (ch->fast)           /* step 2: no write entry may map a traced frame */
            tlb_drop_traced_writes(ch->fast, ch->co->mem);
        atomic_store(&ch->seen_epoch, epoch);
    }
    producer_serve_shootdown(ch);
}

void coherence_boundary(struct coherence_hart *ch)
{
    trace_boundary(ch);
    remote_fence_serve(ch);
}

void coherence_park(struct coherence_hart *ch)
{
    coherence_boundary(ch);
    atomic_store(&ch->parked, true);
    remote_fence_parked(ch);
}

void coherence_unpark(struct coherence_hart *ch)
{
    atomic_store(&ch->parked, false);
    coherence_boundary(ch);
}
