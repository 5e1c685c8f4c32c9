/* internal: what the files of src/coherence share and nobody else uses. */
#ifndef UMBRA_COHERENCE_INTERNAL_H
#define UMBRA_COHERENCE_INTERNAL_H
#include <stddef.h>
#include "coherence/coherence.h"

/* The hart whose own (per-hart) table t is. */
static inline unsigned trace_owner(struct shadow_table *t)
{
    return ((struct coherence_hart *)((char *)t - offsetof(struct coherence_hart, own)))->id;
}

static inline uint64_t frame_index(const struct coherence *co, uint64_t pa)
{
    return (pa - co->mem->ram_base) >> PAGE_SHIFT;
}

/* Where the write generation of the PTE at pa lives (coherence.h). */
static inline uint64_t write_gen_index(uint64_t pa)
{
    return (pa >> 3) & (COHERENCE_WRITE_GENS - 1);
}

/* coherence.c: a coherency event; s = NULL skips the audit. */
void fence_event(struct coherence_hart *ch, const struct coherence_settings *s);

/* trace.c */
void trace_boundary(struct coherence_hart *ch);
void trace_place(struct coherence *co, struct shadow_table *t, struct shadow_page *sp);
void trace_remove(struct coherence *co, struct shadow_table *t, struct shadow_page *sp);
void trace_confirm(struct coherence_hart *ch);

/* producer.c */
void producer_store_begin(void *ctx, uint64_t pa, unsigned size);
void producer_store_end(void *ctx, unsigned producer, uint64_t pa, unsigned size, bool changed);
void producer_store_silent(void *ctx, unsigned producer);
void producer_serve_shootdown(struct coherence_hart *ch);

/* consumer.c */
unsigned consumer_rederive_page(struct coherence_hart *ch, struct shadow_page *sp);
void consumer_drain(struct coherence_hart *ch);
/* Only the channel from producer row `row` (the diagonal, when full). */
void consumer_drain_row(struct coherence_hart *ch, unsigned row);
void consumer_resync(struct coherence_hart *ch);

/* fast.c */
/* The fast cache may keep a translation of va that shadow page sp granted. */
void fast_note_fill(struct coherence_hart *ch, struct shadow_page *sp, uint64_t va);
/* The shadow_hooks.entry_replaced of a per-hart table. */
void fast_note_replaced(struct coherence_hart *ch, const struct shadow_page *sp, unsigned index,
                        uint64_t old, uint64_t derived);
/* At a coherency event: forget what was noted since the last one. */
void fast_forget_noted(struct coherence_hart *ch);
/* Forget every translation the fast cache holds. */
void fast_forget_all(struct coherence_hart *ch);

/* remote.c */
void remote_ring(struct coherence_hart *ch);
void remote_fence_done(struct coherence_hart *ch, enum coherence_remote_kind kind,
                       uint64_t covered);
void remote_fence_serve(struct coherence_hart *ch);
void remote_fence_parked(struct coherence_hart *ch);

/* audit.c */
/* Does derived entry e grant at most what `fresh` grants? */
bool derived_grants_at_most(uint64_t e, uint64_t fresh);
void audit_check(struct coherence_hart *ch, uint64_t satp, bool mxr);

/* The PTE at pa, read as the walker reads it (relaxed, 8 bytes). */
static inline uint64_t pte_read(const struct coherence *co, uint64_t pa)
{
    return ram_load(mem_ram_ptr(co->mem, pa), 8);
}
#endif
