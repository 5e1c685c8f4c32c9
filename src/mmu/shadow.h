/* shadow: shadow page tables, the derived side of translation.
 *
 * A shadow table mirrors the guest's page-table tree one guest frame at a
 * time, as KVM's shadow MMU does: for every guest page-table frame that a
 * translation went through, at the level it was used, there is one shadow
 * page of 512 derived entries, entry i derived from the guest PTE at index i
 * of that frame. A non-leaf derived entry names the child frame (and caches
 * a pointer to the child's shadow page); a leaf derived entry holds the
 * target's guest-physical page and the permissions a hart may use without
 * walking again. Because the structure follows the guest's frames, a change
 * to any PTE — leaf, middle or root — is one update of one derived entry,
 * and shadow pages for the kernel's shared tables are shared by every root
 * that points at them. Tables persist across SFENCE.VMA and satp switches:
 * a root is looked up by its guest frame, not rebuilt.
 *
 * A derived entry grants at most what its PTE grants, and less where the
 * walker still has work to do: nothing until A is set, no write until D is
 * set, nothing for reserved encodings. Any access the shadow cannot grant
 * is a miss, and the hart then runs the real walk (mmu_walk), which raises
 * the exact fault or sets A/D, after which the path is derived again.
 *
 * Owns: shadow pages, their (frame, level) index, the derive function.
 * Callers: the coherence layer (src/coherence), which decides when entries
 * are created, patched, invalidated or dropped. In per-hart mode one table
 * belongs to one hart and only that hart's thread touches it. In shared mode
 * (claim 62) one table serves every hart: lookups run concurrently with
 * updates, so entries and child pointers are atomics, new pages are
 * published with release stores under a creation lock, and pages are never
 * freed while harts run (they are emptied instead).
 */
#ifndef UMBRA_MMU_SHADOW_H
#define UMBRA_MMU_SHADOW_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "mmu/mmu.h"

#define SHADOW_ENTRIES 512

/* Derived entry encoding: guest-physical page in bits 55:12, flags below.
 * Zero means "nothing derived": every lookup through it misses. */
#define SE_VALID (1u << 0)
#define SE_LEAF (1u << 1)
#define SE_R (1u << 2)
#define SE_W (1u << 3)
#define SE_X (1u << 4)
#define SE_U (1u << 5)
#define SE_G (1u << 6)
#define SE_PAGE_MASK 0x00fffffffffff000ull

/* The derived value of one guest PTE (claim 49's "third information"). A
 * pure function of the PTE bits: producer and consumer compute the same. */
uint64_t shadow_derive(uint64_t pte);

struct shadow_page {
    uint64_t gfn;                       /* guest frame of the page-table page */
    unsigned level;                     /* level at which it is used: 0 = leaf tables */
    struct shadow_page *_Atomic hash_next;
    struct shadow_page *all_next;       /* every page of the table, for sweeps */
    /* Set while the frame's write trace is not yet known to be seen by
     * every hart (src/coherence/trace.h explains); the epoch it was placed in. */
    bool unconfirmed;
    uint64_t trace_epoch;
    struct shadow_page *unconfirmed_next;
    /* Per-hart tables only (the owner's thread): patches applied to the
     * page since a walk last went through it, and whether it was unshadowed
     * for that (shadow_page_unshadow). */
    unsigned patches_unwalked;
    bool dormant;
    /* Per-hart tables only: the owner's fast cache took a translation from
     * this page in fast epoch fast_epoch (struct tlb's epoch_tag), at the
     * virtual base fast_va, or at more than one base if fast_va_many
     * (src/coherence/fast.c). */
    uint64_t fast_epoch;
    uint64_t fast_va;
    bool fast_va_many;
    _Atomic uint64_t entry[SHADOW_ENTRIES];
    struct shadow_page *_Atomic child[SHADOW_ENTRIES];
};

struct shadow_table;

/* Called when a page is created (the coherence layer places the write
 * trace), before a page is freed (it removes it), and when a valid derived
 * entry is replaced (it keeps the fast cache in step). */
struct shadow_hooks {
    void (*page_created)(void *ctx, struct shadow_table *t, struct shadow_page *sp);
    void (*page_freed)(void *ctx, struct shadow_table *t, struct shadow_page *sp);
    /* Entry `index` of sp held a valid derived value `old` and now holds
     * another (NULL: nobody needs to know). */
    void (*entry_replaced)(void *ctx, struct shadow_page *sp, unsigned index, uint64_t old,
                           uint64_t derived);
    void *ctx;
};

#define SHADOW_BUCKETS 4096

struct shadow_table {
    bool shared;
    struct shadow_hooks hooks;
    pthread_mutex_t create_lock;        /* shared mode: serialises page creation */
    struct shadow_page *_Atomic bucket[SHADOW_BUCKETS];
    struct shadow_page *all;            /* creation order, newest first */
    struct shadow_page *unconfirmed;    /* pages whose trace is unconfirmed */
    _Atomic uint64_t npages;
    _Atomic int64_t live_entries;       /* valid derived entries */
    uint64_t ndormant;                  /* per-hart: pages unshadowed and not revived */
};

void shadow_table_init(struct shadow_table *t, bool shared, struct shadow_hooks hooks);
/* Drop every page (page_freed hook for each). Owner thread only; in shared
 * mode only when no hart runs. */
void shadow_table_clear(struct shadow_table *t);
void shadow_table_destroy(struct shadow_table *t);
/* Empty every entry of every page but keep the pages (shared mode resync:
 * other harts may be reading them). */
void shadow_table_invalidate_all(struct shadow_table *t);

/* What a table holds, for the monitor's `info shadow`. */
struct shadow_summary {
    uint64_t pages;
    uint64_t pages_at_level[WALK_MAX_LEVELS];
    uint64_t live_entries;              /* valid derived entries, counted page by page */
    uint64_t unconfirmed;               /* pages whose write trace is not yet confirmed */
};
/* Read-only. Pages are created and (per-hart mode) freed by the owner
 * hart without a lock, so call it only while the owner does not run. */
void shadow_table_summarize(const struct shadow_table *t, struct shadow_summary *s);
/* Valid derived entries of one page. */
unsigned shadow_page_live_entries(const struct shadow_page *sp);

/* The shadow page of (gfn, level), or NULL. Lock-free. */
struct shadow_page *shadow_find(struct shadow_table *t, uint64_t gfn, unsigned level);
/* Find or create it; *created tells which (a dormant page found in a
 * per-hart table is revived and counts as created). NULL only when out of
 * memory. */
struct shadow_page *shadow_get(struct shadow_table *t, uint64_t gfn, unsigned level,
                               bool *created);

/* Write flooding (KVM's name for it): a per-hart page that takes this many
 * patches with no walk through it in between is most likely no longer a
 * page table the hart uses -- the guest freed it and now writes it as data,
 * or is tearing it down -- and every store to it still costs a patch to
 * every hart that traces it, enough to overflow their channels. */
#define SHADOW_FLOOD_PATCHES 32

/* Unshadow a page of a per-hart table: empty every entry, remove the write
 * trace (page_freed hook) and mark it dormant. It stays in the index, so
 * the child pointers that parents cached stay valid (lookups through it
 * miss); the next walk through the frame revives it in shadow_get, which
 * places the trace again as for a new page. Owner thread only. */
void shadow_page_unshadow(struct shadow_table *t, struct shadow_page *sp);

/* Dormant pages are freed only with the whole table: past this many, the
 * coherence layer drops the table at the hart's next coherency event, so
 * a guest that cycles page tables through ever new frames cannot make
 * umbra's memory grow without bound (512 pages: 4 MiB per hart). */
#define SHADOW_DORMANT_MAX 512

/* Set one derived entry; the child pointer of a non-leaf entry is dropped
 * and resolved again on the next lookup. */
void shadow_set_entry(struct shadow_table *t, struct shadow_page *sp, unsigned index,
                      uint64_t derived);

/* The leaf grants and physical address for one access. */
struct shadow_hit {
    uint64_t pa;
    unsigned perms;             /* PTE_R/PTE_W/PTE_X usable for the whole 4 KiB page */
    struct shadow_page *page;   /* the page holding the leaf entry */
};

/* Where a lookup stopped when it missed: the deepest shadow page reached. */
struct shadow_miss {
    struct shadow_page *page;   /* NULL if the root itself has no shadow page */
    unsigned index;
};

/* Translate va through the table rooted at the shadow page of satp's root
 * frame. Returns true with *hit filled only when the derived entries grant
 * the access to this privilege with these SUM/MXR settings; any other case
 * (nothing derived, not permitted, not canonical) is a miss, and the caller
 * walks the guest tables. Lock-free; safe against concurrent updates in
 * shared mode. */
bool shadow_lookup(struct shadow_table *t, uint64_t satp, uint64_t va, enum access access,
                   enum priv priv, bool sum, bool mxr, struct shadow_hit *hit);

/* After a successful guest walk, derive every entry on its path: find or
 * create each frame's shadow page, set the entry at the walked index from the
 * PTE it came from (read again, atomically, from guest memory) and link the
 * child pointers. Returns false if a page could not be created. */
bool shadow_fill_path(struct shadow_table *t, struct guest_mem *mem, uint64_t satp,
                      uint64_t va, const struct walk_result *w);

/* What a leaf derived entry lets `priv` do with these SUM/MXR settings:
 * PTE_R/PTE_W/PTE_X (privileged spec 4.3.2 step 5, 3.1.6.3). */
unsigned shadow_leaf_perms(uint64_t e, enum priv priv, bool sum, bool mxr);

/* The top level for satp's mode (Sv39: 2, Sv48: 3) and the VA index at a level. */
unsigned shadow_top_level(uint64_t satp);
static inline unsigned shadow_index(uint64_t va, unsigned level)
{
    return (unsigned)(va >> (PAGE_SHIFT + 9 * level)) & (SHADOW_ENTRIES - 1);
}
#endif
