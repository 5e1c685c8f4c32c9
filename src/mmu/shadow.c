#include "mmu/shadow.h"
#include <stdlib.h>
#include <string.h>

/* PTE bits 63:54 are reserved without Svpbmt/Svnapot (privileged spec
 * 4.4.1): such a PTE faults, so it derives nothing. */
#define PTE_RESERVED_MASK 0xffc0000000000000ull
#define PTE_PPN_MASK 0x003ffffffffffc00ull

uint64_t shadow_derive(uint64_t pte)
{
    if (!(pte & PTE_V) || (pte & PTE_RESERVED_MASK))
        return 0;
    if ((pte & (PTE_R | PTE_W)) == PTE_W)       /* W without R: reserved */
        return 0;
    uint64_t page = ((pte & PTE_PPN_MASK) >> 10) << PAGE_SHIFT;
    if (!(pte & (PTE_R | PTE_W | PTE_X)))
        return page | SE_VALID;                 /* pointer to the next level */
    if (!(pte & PTE_A))                         /* the walker must set A first */
        return 0;
    uint64_t e = page | SE_VALID | SE_LEAF;
    if (pte & PTE_R) e |= SE_R;
    if ((pte & PTE_W) && (pte & PTE_D)) e |= SE_W;  /* write only once D is set */
    if (pte & PTE_X) e |= SE_X;
    if (pte & PTE_U) e |= SE_U;
    if (pte & PTE_G) e |= SE_G;
    return e;
}

unsigned shadow_top_level(uint64_t satp)
{
    return (satp >> SATP_MODE_SHIFT) == SATP_MODE_SV48 ? 3 : 2;
}

void shadow_table_init(struct shadow_table *t, bool shared, struct shadow_hooks hooks)
{
    memset(t, 0, sizeof *t);
    t->shared = shared;
    t->hooks = hooks;
    pthread_mutex_init(&t->create_lock, NULL);
}

static unsigned bucket_of(uint64_t gfn, unsigned level)
{
    uint64_t k = (gfn << 2 | level) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(k >> 52) & (SHADOW_BUCKETS - 1);
}

void shadow_table_clear(struct shadow_table *t)
{
    struct shadow_page *sp = t->all;
    while (sp) {
        struct shadow_page *next = sp->all_next;
        if (t->hooks.page_freed)
            t->hooks.page_freed(t->hooks.ctx, t, sp);
        free(sp);
        sp = next;
    }
    for (unsigned i = 0; i < SHADOW_BUCKETS; i++)
        atomic_store_explicit(&t->bucket[i], NULL, memory_order_relaxed);
    t->all = NULL;
    t->unconfirmed = NULL;
    t->ndormant = 0;
    atomic_store(&t->npages, 0);
    atomic_store(&t->live_entries, 0);
}

/* Set every derived entry of sp to "nothing derived". */
static void empty_page(struct shadow_table *t, struct shadow_page *sp)
{
    for (unsigned i = 0; i < SHADOW_ENTRIES; i++)
        if (atomic_load_explicit(&sp->entry[i], memory_order_relaxed))
            shadow_set_entry(t, sp, i, 0);
}

void shadow_table_invalidate_all(struct shadow_table *t)
{
    for (struct shadow_page *sp = t->all; sp; sp = sp->all_next)
        empty_page(t, sp);
}

void shadow_table_destroy(struct shadow_table *t)
{
    shadow_table_clear(t);
    pthread_mutex_destroy(&t->create_lock);
}

unsigned shadow_page_live_entries(const struct shadow_page *sp)
{
    unsigned n = 0;
    for (unsigned i = 0; i < SHADOW_ENTRIES; i++)
        n += (atomic_load_explicit(&sp->entry[i], memory_order_relaxed) & SE_VALID) != 0;
    return n;
}

void shadow_table_summarize(const struct shadow_table *t, struct shadow_summary *s)
{
    memset(s, 0, sizeof *s);
    for (const struct shadow_page *sp = t->all; sp; sp = sp->all_next) {
        s->pages++;
        if (sp->level < WALK_MAX_LEVELS)
            s->pages_at_level[sp->level]++;
        s->live_entries += shadow_page_live_entries(sp);
        s->unconfirmed += sp->unconfirmed;
    }
}

struct shadow_page *shadow_find(struct shadow_table *t, uint64_t gfn, unsigned level)
{
    struct shadow_page *sp =
        atomic_load_explicit(&t->bucket[bucket_of(gfn, level)], memory_order_acquire);
    for (; sp; sp = atomic_load_explicit(&sp->hash_next, memory_order_acquire))
        if (sp->gfn == gfn && sp->level == level)
            return sp;
    return NULL;
}

static struct shadow_page *create_page(struct shadow_table *t, uint64_t gfn, unsigned level)
{
    struct shadow_page *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->gfn = gfn;
    sp->level = level;
    sp->all_next = t->all;
    t->all = sp;
    /* The hook places the write trace before the page becomes findable, so
     * a hart that finds the page knows its frame is traced. */
    if (t->hooks.page_created)
        t->hooks.page_created(t->hooks.ctx, t, sp);
    _Atomic(struct shadow_page *) *head = &t->bucket[bucket_of(gfn, level)];
    atomic_store_explicit(&sp->hash_next, atomic_load_explicit(head, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(head, sp, memory_order_release);      /* publish */
    atomic_fetch_add_explicit(&t->npages, 1, memory_order_relaxed);
    return sp;
}

void shadow_page_unshadow(struct shadow_table *t, struct shadow_page *sp)
{
    empty_page(t, sp);
    if (t->hooks.page_freed)
        t->hooks.page_freed(t->hooks.ctx, t, sp);
    sp->dormant = true;
    sp->patches_unwalked = 0;
    t->ndormant++;
}

/* A walk goes through a dormant page again: trace it as a new page (the
 * trace first, then the entries the walk derives). */
static void revive(struct shadow_table *t, struct shadow_page *sp)
{
    sp->dormant = false;
    t->ndormant--;
    if (t->hooks.page_created)
        t->hooks.page_created(t->hooks.ctx, t, sp);
}

struct shadow_page *shadow_get(struct shadow_table *t, uint64_t gfn, unsigned level,
                               bool *created)
{
    *created = false;
    struct shadow_page *sp = shadow_find(t, gfn, level);
    if (sp && sp->dormant) {
        revive(t, sp);
        *created = true;
    }
    if (sp)
        return sp;
    if (t->shared)
        pthread_mutex_lock(&t->create_lock);
    sp = shadow_find(t, gfn, level);    /* another hart may have won the race */
    if (!sp) {
        sp = create_page(t, gfn, level);
        *created = sp != NULL;
    }
    if (t->shared)
        pthread_mutex_unlock(&t->create_lock);
    return sp;
}

void shadow_set_entry(struct shadow_table *t, struct shadow_page *sp, unsigned index,
                      uint64_t derived)
{
    uint64_t old = atomic_exchange(&sp->entry[index], derived);
    atomic_store(&sp->child[index], NULL);
    int64_t delta = (int64_t)((derived & SE_VALID) != 0) - (int64_t)((old & SE_VALID) != 0);
    if (delta)
        atomic_fetch_add_explicit(&t->live_entries, delta, memory_order_relaxed);
    if ((old & SE_VALID) && old != derived && t->hooks.entry_replaced)
        t->hooks.entry_replaced(t->hooks.ctx, sp, index, old, derived);
}

/* The child shadow page a non-leaf entry points to, resolved through the
 * index when the cached pointer is empty. NULL if none exists yet. */
static struct shadow_page *resolve_child(struct shadow_table *t, struct shadow_page *sp,
                                         unsigned index, uint64_t e)
{
    struct shadow_page *c = atomic_load_explicit(&sp->child[index], memory_order_acquire);
    if (c)
        return c;
    c = shadow_find(t, (e & SE_PAGE_MASK) >> PAGE_SHIFT, sp->level - 1);
    if (!c)
        return NULL;
    /* Cache the pointer, then make sure the entry still names that frame:
     * shadow_set_entry writes the entry before it clears the pointer, so
     * either it clears ours or we see its new entry and take ours back. */
    struct shadow_page *none = NULL;
    if (atomic_compare_exchange_strong(&sp->child[index], &none, c) &&
        atomic_load(&sp->entry[index]) != e) {
        struct shadow_page *mine = c;
        atomic_compare_exchange_strong(&sp->child[index], &mine, NULL);
    }
    return c;
}

/* Privileged spec 4.3.2 step 5 and 3.1.6.3: what a leaf lets `priv` do. */
unsigned shadow_leaf_perms(uint64_t e, enum priv priv, bool sum, bool mxr)
{
    if (priv == PRIV_U && !(e & SE_U))
        return 0;
    unsigned perms = 0;
    if (e & SE_R) perms |= PTE_R;
    if ((e & SE_X) && mxr) perms |= PTE_R;
    if (e & SE_W) perms |= PTE_W;
    if (e & SE_X) perms |= PTE_X;
    if (priv == PRIV_S && (e & SE_U))
        perms = sum ? perms & ~(unsigned)PTE_X : 0;
    return perms;
}

static unsigned access_perm(enum access a)
{
    return a == ACCESS_READ ? PTE_R : a == ACCESS_WRITE ? PTE_W : PTE_X;
}

bool shadow_lookup(struct shadow_table *t, uint64_t satp, uint64_t va, enum access access,
                   enum priv priv, bool sum, bool mxr, struct shadow_hit *hit)
{
    unsigned level = shadow_top_level(satp);
    if (mmu_sign_extend_va(va, level + 1) != va)
        return false;
    struct shadow_page *sp = shadow_find(t, satp & SATP_PPN_MASK, level);
    while (sp) {
        unsigned i = shadow_index(va, level);
        uint64_t e = atomic_load_explicit(&sp->entry[i], memory_order_acquire);
        if (!(e & SE_VALID))
            return false;
        if (e & SE_LEAF) {
            uint64_t span = 1ull << (PAGE_SHIFT + 9 * level);
            if ((e & SE_PAGE_MASK) & (span - 1))
                return false;                   /* misaligned superpage: the walker faults */
            unsigned perms = shadow_leaf_perms(e, priv, sum, mxr);
            if (!(perms & access_perm(access)))
                return false;
            hit->pa = (e & SE_PAGE_MASK) + (va & (span - 1));
            hit->perms = perms;
            hit->page = sp;
            return true;
        }
        if (level == 0)
            return false;                       /* non-leaf at level 0: the walker faults */
        sp = resolve_child(t, sp, i, e);
        level--;
    }
    return false;
}

bool shadow_fill_path(struct shadow_table *t, struct guest_mem *mem, uint64_t satp,
                      uint64_t va, const struct walk_result *w)
{
    unsigned level = shadow_top_level(satp);
    bool created;
    struct shadow_page *sp = shadow_get(t, satp & SATP_PPN_MASK, level, &created);
    for (unsigned d = 0; sp && d < w->depth; d++, level--) {
        if (!t->shared)
            sp->patches_unwalked = 0;       /* in use: not flooded */
        if (!mem_in_ram(mem, w->path[d], 8))
            return true;
        uint64_t pte = ram_load(mem_ram_ptr(mem, w->path[d]), 8);
        unsigned i = shadow_index(va, level);
        uint64_t derived = shadow_derive(pte);
        if (atomic_load_explicit(&sp->entry[i], memory_order_relaxed) != derived)
            shadow_set_entry(t, sp, i, derived);
        if (!(derived & SE_VALID) || (derived & SE_LEAF) || level == 0)
            return true;
        uint64_t child_gfn = (derived & SE_PAGE_MASK) >> PAGE_SHIFT;
        if (d + 1 >= w->depth || w->path[d + 1] >> PAGE_SHIFT != child_gfn)
            return true;        /* the PTE changed since the walk: stop here */
        struct shadow_page *child = shadow_get(t, child_gfn, level - 1, &created);
        if (!child)
            return false;
        atomic_store_explicit(&sp->child[i], child, memory_order_release);
        sp = child;
    }
    return sp != NULL;
}
