/* --audit: the invariant of DESIGN.md section 2, checked right after each
 * coherency event. Every derived entry of the hart's table, and every entry
 * of its fast cache, must equal what a fresh read of the guest tables gives,
 * or grant strictly less. A mismatch is excused only when nothing ordered
 * the store behind it before the fence:
 *  - a traced store to the frame is in flight (stored, patch not posted);
 *  - its patch is already waiting in one of the hart's channels (posted
 *    after the drain);
 *  - the frame's trace is still unconfirmed and another hart may be storing
 *    to it through an entry it had (src/coherence/trace.c);
 *  - a resync is pending (a ring overflowed since the drain).
 * Anything else is a coherence bug: the audit prints the hart, the virtual
 * address, the derived entry and the fresh one, and stops the machine.
 */
#include "coherence/coherence.h"
#include "coherence/internal.h"
#include <inttypes.h>

#define LEAF_PERM_BITS (SE_R | SE_W | SE_X)

bool derived_grants_at_most(uint64_t e, uint64_t fresh)
{
    if (!(e & SE_VALID))
        return true;
    if (!(fresh & SE_VALID) || (e & SE_LEAF) != (fresh & SE_LEAF) ||
        (e & SE_PAGE_MASK) != (fresh & SE_PAGE_MASK))
        return false;
    if (!(e & SE_LEAF))
        return true;
    return (e & LEAF_PERM_BITS & ~fresh) == 0 && (e & SE_U) == (fresh & SE_U);
}

static bool patch_waiting_for(struct coherence_hart *ch, uint64_t pte_addr)
{
    struct coherence *co = ch->co;
    for (unsigned row = 0; row < co->matrix.nproducers; row++) {
        struct patch_channel *c = patch_matrix_channel(&co->matrix, row, ch->id);
        for (uint32_t k = 0; k < PATCH_CHANNEL_SLOTS; k++) {
            struct patch_slot *s = &c->slot[(c->tail + k) & (PATCH_CHANNEL_SLOTS - 1)];
            if (!atomic_load_explicit(&s->in_use, memory_order_acquire))
                break;
            if (s->patch.pte_addr == pte_addr)
                return true;
        }
    }
    return false;
}

static bool frame_unconfirmed(struct coherence_hart *ch, uint64_t pa)
{
    for (unsigned level = 0; level < WALK_MAX_LEVELS; level++) {
        struct shadow_page *sp = shadow_find(ch->table, pa >> PAGE_SHIFT, level);
        if (sp && sp->unconfirmed)
            return true;
    }
    return false;
}

static bool excused(struct coherence_hart *ch, uint64_t pte_addr)
{
    return atomic_load(&ch->co->inflight[frame_index(ch->co, pte_addr)]) != 0 ||
           patch_waiting_for(ch, pte_addr) || frame_unconfirmed(ch, pte_addr) ||
           atomic_load(&ch->resync);
}

/* The virtual address an entry translates, searching the tree from the
 * current root; UINT64_MAX if the entry is not reachable from it. */
static uint64_t va_of(struct shadow_table *t, struct shadow_page *from, uint64_t va_base,
                      const struct shadow_page *target, unsigned index, unsigned depth_left)
{
    unsigned shift = PAGE_SHIFT + 9 * from->level;
    if (from == target)
        return va_base | (uint64_t)index << shift;
    if (from->level == 0 || depth_left == 0)
        return UINT64_MAX;
    for (unsigned i = 0; i < SHADOW_ENTRIES; i++) {
        uint64_t e = atomic_load(&from->entry[i]);
        if (!(e & SE_VALID) || (e & SE_LEAF))
            continue;
        struct shadow_page *c = shadow_find(t, (e & SE_PAGE_MASK) >> PAGE_SHIFT, from->level - 1);
        if (!c)
            continue;
        uint64_t va = va_of(t, c, va_base | (uint64_t)i << shift, target, index, depth_left - 1);
        if (va != UINT64_MAX)
            return va;
    }
    return UINT64_MAX;
}

static void report(struct coherence_hart *ch, uint64_t va, const char *what,
                   uint64_t derived, uint64_t fresh, uint64_t pte_addr)
{
    char where[40] = "not under the current root";
    if (va != UINT64_MAX)
        snprintf(where, sizeof where, "0x%" PRIx64, va);
    fprintf(stderr,
            "umbra: audit: coherence violation on hart %u after coherency event %" PRIu64 "\n"
            "  %s, va %s, PTE at 0x%" PRIx64 "\n"
            "  derived 0x%" PRIx64 " but a fresh walk gives 0x%" PRIx64 "\n",
            ch->id, ch->stats.coherency_events, what, where, pte_addr, derived, fresh);
    if (ch->co->hooks.violation)
        ch->co->hooks.violation(ch->co->hooks.ctx, ch->id);
}

static bool audit_table(struct coherence_hart *ch, uint64_t satp)
{
    struct shadow_table *t = ch->table;
    unsigned top = shadow_top_level(satp);
    struct shadow_page *root = shadow_find(t, satp & SATP_PPN_MASK, top);
    for (struct shadow_page *sp = t->all; sp; sp = sp->all_next) {
        uint64_t base = sp->gfn << PAGE_SHIFT;
        if (!mem_in_ram(ch->co->mem, base, PAGE_SIZE))
            continue;
        for (unsigned i = 0; i < SHADOW_ENTRIES; i++) {
            uint64_t e = atomic_load(&sp->entry[i]);
            uint64_t fresh = shadow_derive(pte_read(ch->co, base + 8 * i));
            if (derived_grants_at_most(e, fresh) || excused(ch, base + 8 * i))
                continue;
            uint64_t va = root ? va_of(t, root, 0, sp, i, 4) : UINT64_MAX;
            report(ch, va == UINT64_MAX ? va : mmu_sign_extend_va(va, top + 1),
                   "shadow entry", e, fresh, base + 8 * i);
            return false;
        }
    }
    return true;
}

/* A read-only walk: the derived leaf for va, or 0, and the PTE addresses
 * read on the way (path[0..*depth-1]). */
static uint64_t fresh_leaf(struct coherence *co, uint64_t satp, uint64_t va, unsigned *level_out,
                           uint64_t path[WALK_MAX_LEVELS], unsigned *depth)
{
    uint64_t table = (satp & SATP_PPN_MASK) << PAGE_SHIFT;
    *depth = 0;
    for (int level = (int)shadow_top_level(satp); level >= 0; level--) {
        uint64_t *pte_addr = &path[(*depth)++];
        *pte_addr = table + 8 * shadow_index(va, (unsigned)level);
        if (!mem_in_ram(co->mem, *pte_addr, 8))
            return 0;
        uint64_t d = shadow_derive(pte_read(co, *pte_addr));
        if (!(d & SE_VALID) || (d & SE_LEAF)) {
            *level_out = (unsigned)level;
            return d;
        }
        table = d & SE_PAGE_MASK;
    }
    return 0;
}

/* Each S context is audited with its own SUM (mmu.h), not the hart's. */
static bool audit_fast_cache(struct coherence_hart *ch, uint64_t satp, bool mxr)
{
    static const enum priv ctx_priv[TLB_NCTX] = { PRIV_M, PRIV_S, PRIV_S, PRIV_U };
    static const unsigned need[TLB_TABLES] = { PTE_R, PTE_W, PTE_X, PTE_W };
    if ((satp >> SATP_MODE_SHIFT) == SATP_MODE_BARE || !ch->fast)
        return true;
    struct tlb_iter it;
    for (unsigned ctx = TLB_CTX_S; ctx < TLB_NCTX; ctx++)
        for (unsigned a = 0; a < TLB_TABLES; a++)
            for (const struct tlb_entry *e = tlb_first_live(ch->fast, ctx, a, &it); e;
                 e = tlb_next_live(ch->fast, &it)) {
                uint64_t va = tlb_entry_va(e), path[WALK_MAX_LEVELS];
                unsigned level = 0, depth;
                uint64_t leaf = fresh_leaf(ch->co, satp, va, &level, path, &depth);
                uint64_t span = 1ull << (PAGE_SHIFT + 9 * level);
                bool ok = (leaf & SE_LEAF) &&
                          (shadow_leaf_perms(leaf, ctx_priv[ctx], ctx == TLB_CTX_S_SUM, mxr) &
                           need[a]) &&
                          (leaf & SE_PAGE_MASK) + (va & (span - 1) & PAGE_MASK) == e->pa_page;
                for (unsigned d = 0; !ok && d < depth; d++)
                    ok = !mem_in_ram(ch->co->mem, path[d], 8) || excused(ch, path[d]);
                if (ok)
                    continue;
                report(ch, va, "fast-cache entry", e->pa_page, leaf, path[depth - 1]);
                return false;
            }
    return true;
}

void audit_check(struct coherence_hart *ch, uint64_t satp, bool mxr)
{
    if ((satp >> SATP_MODE_SHIFT) != SATP_MODE_BARE && !audit_table(ch, satp))
        return;
    audit_fast_cache(ch, satp, mxr);
}
