/* The per-hart soft TLB: a direct-mapped cache from a virtual page to a host
 * pointer, with tables per translation context: one per access type and one
 * for stores to traced frames (mmu.h). It is owned by one hart and touched
 * only by that hart's thread, so no atomics. */
#include "mmu/mmu.h"

static unsigned tlb_index(uint64_t va)
{
    return (unsigned)((va >> PAGE_SHIFT) & (TLB_SIZE - 1));
}

/* Clear the words of `filled` that filled_words marks. */
static void forget_filled(struct tlb *t)
{
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned a = 0; a < TLB_TABLES; a++)
            for (unsigned s = 0; s < TLB_FILLED_WORDS / 64; s++) {
                for (uint64_t w = t->filled_words[c][a][s]; w; w &= w - 1)
                    t->filled[c][a][s * 64 + (unsigned)__builtin_ctzll(w)] = 0;
                t->filled_words[c][a][s] = 0;
            }
}

/* A new epoch kills every entry at once (mmu.h); the tags are swept only
 * the first time and when the epoch wraps. */
void tlb_flush_all(struct tlb *t)
{
    forget_filled(t);
    uint64_t epoch = t->epoch_tag >> TLB_EPOCH_SHIFT;
    if (epoch != 0 && epoch < TLB_EPOCH_LAST) {
        t->epoch_tag = (epoch + 1) << TLB_EPOCH_SHIFT;
        return;
    }
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned a = 0; a < TLB_TABLES; a++)
            for (unsigned i = 0; i < TLB_SIZE; i++)
                t->e[c][a][i].vpn_tag = TLB_TAG_INVALID;
    t->epoch_tag = 1ull << TLB_EPOCH_SHIFT;
}

void tlb_flush_va(struct tlb *t, uint64_t va)
{
    uint64_t tag = tlb_tag(t, va);
    unsigned i = tlb_index(va);
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (unsigned a = 0; a < TLB_TABLES; a++)
            if (t->e[c][a][i].vpn_tag == tag)
                t->e[c][a][i].vpn_tag = TLB_TAG_INVALID;
}

/* Only the slots filled since the last flush can hold a live entry, so
 * the range's words of `filled` say where to look: for a 2 MiB range, 8
 * words per table instead of 512 slots. */
void tlb_flush_range(struct tlb *t, uint64_t va, uint64_t bytes)
{
    uint64_t first = va >> PAGE_SHIFT, pages = bytes >> PAGE_SHIFT;
    for (uint64_t n = 0; n < pages;) {
        unsigned i = tlb_index((first + n) << PAGE_SHIFT), word = i / 64, bit = i % 64;
        uint64_t here = 64 - bit < pages - n ? 64 - bit : pages - n;
        uint64_t mask = (here == 64 ? ~0ull : ((1ull << here) - 1)) << bit;
        for (unsigned c = 0; c < TLB_NCTX; c++)
            for (unsigned a = 0; a < TLB_TABLES; a++)
                for (uint64_t w = t->filled[c][a][word] & mask; w; w &= w - 1) {
                    struct tlb_entry *e = &t->e[c][a][word * 64 + (unsigned)__builtin_ctzll(w)];
                    uint64_t vpn = e->vpn_tag & TLB_VPN_MASK;
                    if (tlb_entry_live(t, e) && vpn - first < pages)
                        e->vpn_tag = TLB_TAG_INVALID;
                }
        n += here;
    }
}

/* The addend is computed with unsigned wrap-around so that va + addend is
 * the host address of va for every offset inside the page. */
void tlb_fill(struct tlb *t, enum tlb_ctx ctx, unsigned table, uint64_t va,
              uint8_t *host_page, uint64_t pa_page)
{
    unsigned i = tlb_index(va), word = i / 64;
    struct tlb_entry *e = &t->e[ctx][table][i];
    e->vpn_tag = tlb_tag(t, va);
    e->addend = (uintptr_t)host_page - (uintptr_t)(va & PAGE_MASK);
    e->pa_page = pa_page & PAGE_MASK;
    e->code = NULL;
    t->filled[ctx][table][word] |= 1ull << (i % 64);
    t->filled_words[ctx][table][word / 64] |= 1ull << (word % 64);
}

struct tlb_entry *tlb_next_live(struct tlb *t, struct tlb_iter *it)
{
    uint64_t *words = t->filled[it->ctx][it->table];
    for (;;) {
        while (!it->bits) {
            if (++it->word >= TLB_FILLED_WORDS)
                return NULL;
            it->bits = words[it->word];
        }
        unsigned bit = (unsigned)__builtin_ctzll(it->bits);
        it->bits &= it->bits - 1;
        struct tlb_entry *e = &t->e[it->ctx][it->table][it->word * 64 + bit];
        if (tlb_entry_live(t, e))
            return e;
        words[it->word] &= ~(1ull << bit);
    }
}

struct tlb_entry *tlb_first_live(struct tlb *t, enum tlb_ctx ctx, unsigned table,
                                 struct tlb_iter *it)
{
    *it = (struct tlb_iter){ ctx, table, 0, t->filled[ctx][table][0] };
    return tlb_next_live(t, it);
}

/* The sweep a new trace costs every hart (coherence/trace.c). Looking at
 * every write entry instead read 256 KiB per sweep with 2,048-entry
 * tables, 3.6 % of a host's time with 8 harts running ptbench. */
void tlb_drop_traced_writes(struct tlb *t, const struct guest_mem *mem)
{
    struct tlb_iter it;
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (struct tlb_entry *e = tlb_first_live(t, c, ACCESS_WRITE, &it); e;
             e = tlb_next_live(t, &it))
            if (mem_frame_traced(mem, e->pa_page))
                e->vpn_tag = TLB_TAG_INVALID;
}

void tlb_forget_code(struct tlb *t, const struct icache_page *p)
{
    struct tlb_iter it;
    for (unsigned c = 0; c < TLB_NCTX; c++)
        for (struct tlb_entry *e = tlb_first_live(t, c, ACCESS_EXEC, &it); e;
             e = tlb_next_live(t, &it))
            if (!p || e->code == p)
                e->code = NULL;
}
