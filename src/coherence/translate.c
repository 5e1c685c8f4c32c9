/* Translation on a fast-cache miss: the shadow table first, the guest walk
 * only when the table cannot grant the access. */
#include "coherence/coherence.h"
#include "coherence/internal.h"

static bool translating(const struct walk_request *req)
{
    return req->priv != PRIV_M && (req->satp >> SATP_MODE_SHIFT) != SATP_MODE_BARE;
}

void coherence_translate(struct coherence_hart *ch, const struct walk_request *req,
                         uint64_t va, struct walk_result *w, bool *cacheable)
{
    struct shadow_hit hit;
    *cacheable = false;
    if (!translating(req)) {
        mmu_walk(ch->co->mem, req, va, w);
        *cacheable = w->status == WALK_OK;
        return;
    }
    if (shadow_lookup(ch->table, req->satp, va, req->access, req->priv, req->sum, req->mxr, &hit)) {
        w->status = WALK_OK;
        w->pa = hit.pa;
        w->perms = hit.perms;
        w->depth = 0;
        *cacheable = true;
        fast_note_fill(ch, hit.page, va);
        return;
    }
    ch->stats.page_walks++;
    mmu_walk(ch->co->mem, req, va, w);
    if (w->status != WALK_OK)
        return;
    if (!shadow_fill_path(ch->table, ch->co->mem, req->satp, va, w))
        return;
    /* The fast cache holds only what the table grants: the fill derived the
     * path from the PTEs as they are now, which may differ from what the
     * walk saw, and only the table is kept coherent. */
    if (shadow_lookup(ch->table, req->satp, va, req->access, req->priv, req->sum, req->mxr, &hit) &&
        hit.pa == w->pa) {
        w->perms = hit.perms;
        *cacheable = true;
        fast_note_fill(ch, hit.page, va);
    }
}
