/* The per-hart soft TLB: a direct-mapped cache from a virtual page to a host
 * pointer, one table per translation context and access type (mmu.h). It is
 * owned by one hart and touched only by that hart's thread, so no atomics. */
#include "mmu/mmu.h"

#include <string.h>

static unsigned tlb_index(uint64_t va)
{
    return (unsigned)((va >> PAGE_SHIFT) & (TLB_SIZE - 1));
}

/* A new epoch kills every entry at once (mmu.h); the tags are swept only
 * the first time and when the epoch wraps. */
void tlb_flush_all(struct tlb *t)
{
    memset(t->write_filled, 0, sizeof t->write_filled);
    uint64_t epoch = t->epoch_tag >> TLB_EPOCH_SHIFT;
    if (epoch != 0 && epoch < TLB_EPOCH_LAST) {
        t->epoch_tag = (epoch + 1) << TLB_EPOCH_SHIFT;
        return;
    }
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned a = 0; a < 3; a++)
            for (unsigned i = 0; i < TLB_SIZE; i++)
                t->e[c][a][i].vpn_tag = TLB_TAG_INVALID;
    t->epoch_tag = 1ull << TLB_EPOCH_SHIFT;
}

void tlb_flush_va(struct tlb *t, uint64_t va)
{
    uint64_t tag = tlb_tag(t, va);
    unsigned i = tlb_index(va);
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned a = 0; a < 3; a++)
            if (t->e[c][a][i].vpn_tag == tag)
                t->e[c][a][i].vpn_tag = TLB_TAG_INVALID;
}

/* The addend is computed with unsigned wrap-around so that va + addend is
 * the host address of va for every offset inside the page. */
void tlb_fill(struct tlb *t, enum tlb_ctx ctx, enum access access, uint64_t va,
              uint8_t *host_page, uint64_t pa_page)
{
    struct tlb_entry *e = &t->e[ctx][access][tlb_index(va)];
    e->vpn_tag = tlb_tag(t, va);
    e->addend = (uintptr_t)host_page - (uintptr_t)(va & PAGE_MASK);
    e->pa_page = pa_page & PAGE_MASK;
    e->code = NULL;
    if (access == ACCESS_WRITE)
        t->write_filled[ctx][tlb_index(va) / 64] |= 1ull << (tlb_index(va) % 64);
}

/* The sweep a new trace costs every hart (coherence/trace.c): over the
 * write entries filled since the cache was last emptied, clearing the
 * bits of those no longer live on the way. Looking at every write entry
 * instead read 256 KiB per sweep, 3.6 % of a host's time with 8 harts
 * running ptbench. */
void tlb_drop_traced_writes(struct tlb *t, const struct guest_mem *mem)
{
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned w = 0; w < TLB_SIZE / 64; w++)
            for (uint64_t bits = t->write_filled[c][w]; bits; bits &= bits - 1) {
                unsigned bit = (unsigned)__builtin_ctzll(bits);
                struct tlb_entry *e = &t->e[c][ACCESS_WRITE][w * 64 + bit];
                bool live = tlb_entry_live(t, e);
                if (live && mem_frame_traced(mem, e->pa_page)) {
                    e->vpn_tag = TLB_TAG_INVALID;
                    live = false;
                }
                if (!live)
                    t->write_filled[c][w] &= ~(1ull << bit);
            }
}

void tlb_forget_code(struct tlb *t, const struct icache_page *p)
{
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned i = 0; i < TLB_SIZE; i++)
            if (!p || t->e[c][ACCESS_EXEC][i].code == p)
                t->e[c][ACCESS_EXEC][i].code = NULL;
}
