/* Setting the mechanism up, coherency events, and reports. */
#include "base/tracelog.h"
#include "coherence/coherence.h"
#include "coherence/internal.h"
#include <stdlib.h>
#include <string.h>

const char *coherence_strategy_name(enum coherence_strategy s)
{
    switch (s) {
    case COHERENCE_PATCH: return "patch";
    case COHERENCE_FLUSH: return "flush";
    case COHERENCE_EAGER: return "eager";
    }
    return "?";
}

static void own_page_created(void *ctx, struct shadow_table *t, struct shadow_page *sp)
{
    struct coherence_hart *ch = ctx;
    trace_place(ch->co, t, sp);
}

static void own_page_freed(void *ctx, struct shadow_table *t, struct shadow_page *sp)
{
    struct coherence_hart *ch = ctx;
    trace_remove(ch->co, t, sp);
}

static void own_entry_replaced(void *ctx, struct shadow_page *sp, unsigned index, uint64_t old,
                               uint64_t derived)
{
    fast_note_replaced(ctx, sp, index, old, derived);
}

static void shared_page_created(void *ctx, struct shadow_table *t, struct shadow_page *sp)
{
    trace_place(ctx, t, sp);
}

static void shared_page_freed(void *ctx, struct shadow_table *t, struct shadow_page *sp)
{
    trace_remove(ctx, t, sp);
}

bool coherence_init(struct coherence *co, struct guest_mem *mem, unsigned nharts,
                    const struct coherence_options *opt, struct coherence_hooks hooks)
{
    memset(co, 0, sizeof *co);
    if (nharts == 0 || nharts > COHERENCE_MAX_HARTS)
        return false;
    co->mem = mem;
    co->nharts = nharts;
    co->opt = *opt;
    co->hooks = hooks;
    size_t frames = mem->ram_size >> PAGE_SHIFT;
    co->write_gen = calloc(COHERENCE_WRITE_GENS, sizeof *co->write_gen);
    co->inflight = calloc(frames, sizeof *co->inflight);
    if (!co->write_gen || !co->inflight || !patch_matrix_init(&co->matrix, nharts))
        return false;
    pthread_mutex_init(&co->dma_lock, NULL);
    shadow_table_init(&co->shared, true,
                      (struct shadow_hooks){ .page_created = shared_page_created,
                                            .page_freed = shared_page_freed, .ctx = co });
    for (unsigned h = 0; h < nharts; h++) {
        struct coherence_hart *ch = &co->hart[h];
        ch->co = co;
        ch->id = h;
        shadow_table_init(&ch->own, false,
                          (struct shadow_hooks){ .page_created = own_page_created,
                                                .page_freed = own_page_freed,
                                                .entry_replaced = own_entry_replaced,
                                                .ctx = ch });
        ch->table = opt->shared_table ? &co->shared : &ch->own;
        atomic_init(&ch->parked, true);     /* not running until its thread starts */
        pthread_mutex_init(&ch->bell_lock, NULL);
        pthread_cond_init(&ch->bell_cond, NULL);
    }
    return mem_trace_init(mem, (struct mem_trace_hooks){ producer_store_begin,
                                                         producer_store_end,
                                                         producer_store_silent, co });
}

void coherence_destroy(struct coherence *co)
{
    for (unsigned h = 0; h < co->nharts; h++) {
        shadow_table_destroy(&co->hart[h].own);
        pthread_cond_destroy(&co->hart[h].bell_cond);
        pthread_mutex_destroy(&co->hart[h].bell_lock);
    }
    shadow_table_destroy(&co->shared);
    patch_matrix_destroy(&co->matrix);
    pthread_mutex_destroy(&co->dma_lock);
    free(co->write_gen);
    free(co->inflight);
}

struct coherence_hart *coherence_hart_attach(struct coherence *co, unsigned id, struct tlb *fast)
{
    struct coherence_hart *ch = &co->hart[id];
    ch->fast = fast;
    return ch;
}

static void fence_body(struct coherence_hart *ch, const struct coherence_settings *s)
{
    if (ch->co->opt.strategy == COHERENCE_FLUSH) {
        coherence_drop_all(ch);
        return;
    }
    trace_boundary(ch);         /* a fence is between instructions: our own step 2 */
    if (atomic_exchange(&ch->resync, false))
        consumer_resync(ch);
    consumer_drain(ch);
    if (!ch->table->shared && ch->table->ndormant > SHADOW_DORMANT_MAX) {
        coherence_drop_all(ch);         /* shadow.h: bounds the dormant pages */
        ch->stats.dormant_drops++;
    }
    trace_confirm(ch);
    fast_forget_noted(ch);
    if (ch->co->opt.audit && s)
        audit_check(ch, s->satp, s->mxr);
}

/* Every remote request posted before the event begins is covered by it
 * (remote.c), whichever way the event came. */
void fence_event(struct coherence_hart *ch, const struct coherence_settings *s)
{
    uint64_t covered = atomic_load(&ch->remote_req[REMOTE_SFENCE_VMA]);
    ch->stats.coherency_events++;
    fence_body(ch, s);
    remote_fence_done(ch, REMOTE_SFENCE_VMA, covered);
}

void coherence_fence(struct coherence_hart *ch, struct coherence_settings s)
{
    fence_event(ch, &s);
}

void coherence_drop_all(struct coherence_hart *ch)
{
    if (tracelog_on(TRACE_COHERENCE))
        tracelog_drop_all(ch->id);
    if (ch->table->shared)
        shadow_table_invalidate_all(ch->table);
    else
        shadow_table_clear(ch->table);
    fast_forget_all(ch);
}

void coherence_report(const struct coherence *co, unsigned hart, struct coherence_report *r)
{
    const struct coherence_hart *ch = &co->hart[hart];
    memset(r, 0, sizeof *r);
    r->s = ch->stats;
    for (unsigned row = 0; row < co->matrix.nproducers; row++) {
        const struct patch_channel *c = patch_matrix_channel(&co->matrix, row, hart);
        if (c->high_water > r->ring_high_water)
            r->ring_high_water = c->high_water;
        r->ring_overflows += c->overflowed;
    }
    r->shadow_entries = (uint64_t)atomic_load(&ch->table->live_entries);
    r->shadow_pages = atomic_load(&ch->table->npages);
}
