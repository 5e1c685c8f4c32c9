/* The consumer (claims 48-51): at a coherency event a hart reads every
 * patch waiting in its column of the matrix — one channel per producer,
 * itself included — and eliminates the incoherency each one reports.
 *
 * A patch names a PTE by its guest-physical address. The hart finds the
 * shadow pages of that frame (one per level the frame is used at; usually
 * one) and looks at the entry's current write generation (coherence.h):
 *  - equal to the patch's token: no store has taken a token since the
 *    producer derived the value, so the derived value is the PTE's current
 *    derivation; write it (claim 49);
 *  - different: a later store came after; the value may be old. Either
 *    invalidate the entry (claim 50: the next access walks again) or
 *    re-walk, i.e. derive from the PTE as it is now (claim 51), as
 *    --stale says. The later store's own patch arrives in its producer's
 *    channel, possibly before this one: tokens make the order irrelevant.
 * A changed derived entry makes the hart's fast cache forget what it took
 * from it (fast.c), once, after the drain.
 */
#include "base/tracelog.h"
#include "coherence/coherence.h"
#include "coherence/internal.h"

/* What apply_patch needs: the consumer, and the producer whose channel is
 * being drained (for --trace). */
struct drain {
    struct coherence_hart *ch;
    unsigned row;
};

/* The test hook behind --test-drop-patch: ignore every Nth patch that
 * takes something away (a patch that only grants more is harmless to lose:
 * the entry then grants less than the PTE, which the invariant allows).
 * Every Nth, not only the Nth: a lost patch shows only if its entry is
 * still there at the hart's next fence, and a later patch to the same
 * entry, a flooded page or a resync can hide one loss, never all. */
static bool test_drops(struct coherence_hart *ch, uint64_t old, uint64_t derived)
{
    return ch->co->opt.drop_patch && !derived_grants_at_most(old, derived) &&
           ++ch->patches_taken % ch->co->opt.drop_patch == 0;
}

static void trace_outcome(const struct drain *d, const struct patch *p, bool valid)
{
    enum tracelog_patch_outcome o = valid ? TRACE_PATCH_APPLIED
                                    : d->ch->co->opt.stale == STALE_INVALIDATE
                                        ? TRACE_PATCH_STALE_INVALIDATED
                                        : TRACE_PATCH_STALE_REWALKED;
    tracelog_patch(d->row, d->row >= d->ch->co->nharts, d->ch->id, p->pte_addr, p->derived,
                   p->token, o);
}

static void apply_to_page(const struct drain *d, struct shadow_page *sp, const struct patch *p)
{
    struct coherence_hart *ch = d->ch;
    struct coherence *co = ch->co;
    unsigned index = (unsigned)(p->pte_addr & (PAGE_SIZE - 1)) >> 3;
    if (test_drops(ch, atomic_load_explicit(&sp->entry[index], memory_order_relaxed), p->derived))
        return;
    uint64_t now = atomic_load(&co->write_gen[write_gen_index(p->pte_addr)]);
    uint64_t value;
    if ((uint32_t)p->token == (uint32_t)now) {
        value = p->derived;
        ch->stats.patches_applied++;
    } else {
        ch->stats.patches_stale++;
        if (co->opt.stale == STALE_INVALIDATE) {
            value = 0;
            ch->stats.invalidated++;
        } else {
            value = shadow_derive(pte_read(co, p->pte_addr));
            ch->stats.rewalked++;
        }
    }
    if (tracelog_on(TRACE_PATCHES))
        trace_outcome(d, p, (uint32_t)p->token == (uint32_t)now);
    if (atomic_load_explicit(&sp->entry[index], memory_order_relaxed) != value)
        shadow_set_entry(ch->table, sp, index, value);      /* fast.c notes the change */
}

/* Unshadow every page of the frame (the trace is one bit per table, shared
 * by the levels the frame is used at). */
static void unshadow_frame(struct coherence_hart *ch, uint64_t gfn)
{
    for (unsigned level = 0; level < WALK_MAX_LEVELS; level++) {
        struct shadow_page *sp = shadow_find(ch->table, gfn, level);
        if (sp && !sp->dormant)
            shadow_page_unshadow(ch->table, sp);
    }
    ch->stats.unshadowed++;
    if (tracelog_on(TRACE_COHERENCE))
        tracelog_unshadow(ch->id, gfn << PAGE_SHIFT);
}

/* A dormant page takes no patch: its frame is no longer traced for this
 * table, and one still in a channel from before must not derive anything.
 * A per-hart page that floods is unshadowed (shadow.h). */
static void apply_patch(void *ctx, const struct patch *p)
{
    const struct drain *d = ctx;
    struct shadow_table *t = d->ch->table;
    uint64_t gfn = p->pte_addr >> PAGE_SHIFT;
    bool flooded = false, dormant = false;
    for (unsigned level = 0; level < WALK_MAX_LEVELS; level++) {
        struct shadow_page *sp = shadow_find(t, gfn, level);
        if (!sp)
            continue;
        if (sp->dormant) {
            dormant = true;
            continue;
        }
        apply_to_page(d, sp, p);
        if (!t->shared && ++sp->patches_unwalked >= SHADOW_FLOOD_PATCHES)
            flooded = true;
    }
    if (flooded)
        unshadow_frame(d->ch, gfn);
    else if (dormant)
        d->ch->stats.patches_dormant++;
}

void consumer_drain_row(struct coherence_hart *ch, unsigned row)
{
    struct coherence *co = ch->co;
    struct drain d = { ch, row };
    unsigned n = patch_channel_drain(patch_matrix_channel(&co->matrix, row, ch->id),
                                     apply_patch, &d);
    if (n && tracelog_on(TRACE_COHERENCE))
        tracelog_drain(ch->id, row, row >= co->nharts, n);
}

void consumer_drain(struct coherence_hart *ch)
{
    for (unsigned row = 0; row < ch->co->matrix.nproducers; row++)
        consumer_drain_row(ch, row);
}

static void discard_patch(void *ctx, const struct patch *p)
{
    (void)ctx;
    (void)p;
}

/* After an overflow some patch was lost: nothing derived can be trusted. */
void consumer_resync(struct coherence_hart *ch)
{
    struct coherence *co = ch->co;
    for (unsigned row = 0; row < co->matrix.nproducers; row++)
        patch_channel_drain(patch_matrix_channel(&co->matrix, row, ch->id), discard_patch, NULL);
    if (tracelog_on(TRACE_COHERENCE))
        tracelog_resync(ch->id);
    coherence_drop_all(ch);
    ch->stats.resyncs++;
}

/* Derive every entry of a page again from the PTEs as they are now.
 * Returns how many entries changed. */
unsigned consumer_rederive_page(struct coherence_hart *ch, struct shadow_page *sp)
{
    uint64_t base = sp->gfn << PAGE_SHIFT;
    unsigned changed = 0;
    for (unsigned i = 0; i < SHADOW_ENTRIES; i++) {
        uint64_t e = atomic_load_explicit(&sp->entry[i], memory_order_relaxed);
        if (!e)
            continue;       /* nothing derived: nothing to be wrong */
        uint64_t fresh = shadow_derive(pte_read(ch->co, base + 8 * i));
        if (fresh != e) {
            shadow_set_entry(ch->table, sp, i, fresh);
            changed++;
        }
    }
    return changed;
}
