/* mmu: the primary side of address translation.
 *
 * Owns three things, each a pure function of its inputs:
 *  - the guest page-table walker for satp modes Bare, Sv39 and Sv48
 *    (privileged spec 1.12, section 4.3.2 "Virtual Address Translation
 *    Process", 4.4 Sv39, 4.5 Sv48), including hardware A/D update by
 *    compare-and-swap on the guest PTE;
 *  - Physical Memory Protection checks (section 3.7);
 *  - the per-hart fast translation cache (a direct-mapped soft TLB).
 *
 * Callers: the hart that translates (its own thread). The walker reads guest
 * RAM with atomics and may CAS a PTE that other harts read concurrently. The
 * walker knows nothing about instructions or traps: it reports page fault or
 * access fault and the hart turns that into a cause code.
 */
#ifndef UMBRA_MMU_MMU_H
#define UMBRA_MMU_MMU_H
#include <stdbool.h>
#include <stdint.h>
#include "mem/guest_mem.h"

enum access { ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2 };
enum priv { PRIV_U = 0, PRIV_S = 1, PRIV_M = 3 };

#define SATP_MODE_SHIFT 60
#define SATP_MODE_BARE 0ull
#define SATP_MODE_SV39 8ull
#define SATP_MODE_SV48 9ull
#define SATP_ASID_SHIFT 44
#define SATP_ASID_MASK 0xffffull
#define SATP_PPN_MASK ((1ull << 44) - 1)

/* PTE bits (section 4.3.1 / 4.4.1). */
#define PTE_V (1u << 0)
#define PTE_R (1u << 1)
#define PTE_W (1u << 2)
#define PTE_X (1u << 3)
#define PTE_U (1u << 4)
#define PTE_G (1u << 5)
#define PTE_A (1u << 6)
#define PTE_D (1u << 7)

/* ---------------------------------------------------------------- PMP */
#define PMP_ENTRIES 16
#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_A_MASK 0x18
#define PMP_A_OFF 0x00
#define PMP_A_TOR 0x08
#define PMP_A_NA4 0x10
#define PMP_A_NAPOT 0x18
#define PMP_L 0x80

/* The PMP CSR contents; the hart owns them, mmu interprets them. */
struct pmp_state {
    uint8_t cfg[PMP_ENTRIES];
    uint64_t addr[PMP_ENTRIES];     /* pmpaddrN: physical address >> 2 */
};

/* May `priv` perform `access` on every byte of [pa, pa+len)? Applies the
 * priority rule (lowest-numbered matching entry decides; a partial match
 * fails), M-mode's default-allow unless locked, and S/U default-deny when any
 * entry is implemented (section 3.7.1). */
bool pmp_check(const struct pmp_state *pmp, uint64_t pa, uint64_t len,
               enum access access, enum priv priv);

/* The subset of PMP_R|PMP_W|PMP_X that `priv` holds on every byte of the
 * 4 KiB page at page_pa, by one entry for the whole page. The fast cache may
 * remember a page only for these permissions. */
unsigned pmp_page_perms(const struct pmp_state *pmp, uint64_t page_pa, enum priv priv);

/* ------------------------------------------------------------- walker */
struct walk_request {
    uint64_t satp;
    enum priv priv;            /* effective privilege (after MPRV) */
    bool sum, mxr;             /* sstatus.SUM, sstatus.MXR */
    enum access access;
    const struct pmp_state *pmp;  /* implicit PTE reads are checked as S-mode */
    unsigned producer;         /* hart id, reported with the A/D store to a traced frame */
};

enum walk_status {
    WALK_OK = 0,
    WALK_PAGE_FAULT,           /* → instruction/load/store page fault */
    WALK_ACCESS_FAULT,         /* PTE outside RAM or denied by PMP → access fault */
};

#define WALK_MAX_LEVELS 4

struct walk_result {
    enum walk_status status;
    uint64_t pa;               /* translated physical address of va */
    uint64_t pte;              /* leaf PTE as it is after the A/D update */
    uint64_t pte_addr;         /* guest-physical address of the leaf PTE */
    unsigned level;            /* leaf level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB, 3 = 512 GiB */
    unsigned depth;            /* number of PTEs read, root first */
    uint64_t path[WALK_MAX_LEVELS];  /* guest-physical address of each PTE read */
    /* What a cache may grant for the 4 KiB page containing va without asking
     * again: PTE_R / PTE_W / PTE_X after the U/SUM/MXR rules. PTE_W only when
     * D is set, and nothing at all unless A is set. */
    unsigned perms;
};

/* va with the bits above the translated width replaced by copies of its
 * top translated bit, for a walk of `levels` levels (3: Sv39, bit 38; 4:
 * Sv48, bit 47; 4.4.1, 4.5.1). A va is canonical when this leaves it as is. */
static inline uint64_t mmu_sign_extend_va(uint64_t va, unsigned levels)
{
    unsigned unused = 64 - (PAGE_SHIFT + 9 * levels);
    return (uint64_t)((int64_t)(va << unused) >> unused);
}

/* Translate va for req->access. With satp mode Bare (or priv M) the address
 * passes through unchanged with all permissions. A/D bits are set by CAS on
 * the guest PTE (and the walk restarts at that level if the PTE changed
 * under it), so a concurrent store by another hart is never lost. */
void mmu_walk(struct guest_mem *mem, const struct walk_request *req, uint64_t va,
              struct walk_result *out);

/* ------------------------------------------------------- fast cache */
#define TLB_BITS 13
#define TLB_SIZE (1u << TLB_BITS)
/* One table's bitmap of filled slots (struct tlb): 64 slots per word, and
 * 64 words per word of its summary. */
#define TLB_FILLED_WORDS (TLB_SIZE / 64)
_Static_assert(TLB_FILLED_WORDS % 64 == 0, "struct tlb's filled_words covers whole words");
/* Translation contexts that must not share entries: machine mode without
 * translation, supervisor with mstatus.SUM clear and set, user. SUM decides
 * whether S-mode may touch U pages (privileged spec 4.3.1), and Linux sets
 * it around every access to user memory: with a context for each value
 * the toggles cost nothing, where flushing at each one would empty the
 * cache several times per system call. */
enum tlb_ctx { TLB_CTX_M = 0, TLB_CTX_S = 1, TLB_CTX_S_SUM = 2, TLB_CTX_U = 3, TLB_NCTX = 4 };

/* A context's tables: one per access type (indexed by enum access), and
 * one that says where stores to a page go when its frame has a write trace
 * on it. Such a page never gets a write entry, since its stores must reach
 * the producer (coherence/trace.c), but the walk and the checks of a fill
 * need not be made again for each of them: Linux zeroes every page-table
 * page it takes, 512 stores, and a frame that was a page table before is
 * often traced still. The slow path looks there (cpu/access.c). */
enum { TLB_TRACED_STORES = 3, TLB_TABLES = 4 };

/* An entry's tag is the virtual page number (va >> 12: at most 52 bits) with
 * the cache's flush epoch in the 12 bits above it. Flushing everything is
 * then one increment of the epoch, not a sweep of 98,304 entries, which is
 * what lets the cache be this large although every satp write (and, under
 * --coherence=flush, every SFENCE.VMA) empties it; only when the epoch
 * wraps are the tags really cleared. Epoch 0 means "never flushed" and TLB_TAG_INVALID's
 * epoch (all ones) is never used, so neither ever matches. */
#define TLB_EPOCH_SHIFT 52
#define TLB_VPN_MASK ((1ull << TLB_EPOCH_SHIFT) - 1)
#define TLB_EPOCH_LAST 0xffeu
/* The decoded instructions of a page (cpu/icache.h); the fast cache only
 * carries the pointer for the fetch path and clears it on every fill. */
struct icache_page;

struct tlb_entry {
    uint64_t vpn_tag;          /* va >> 12, or TLB_TAG_INVALID */
    uintptr_t addend;          /* host pointer = va + addend */
    uint64_t pa_page;          /* guest-physical page, for LR/SC and traces */
    struct icache_page *code;  /* exec entries: decoded page of pa_page, or NULL */
};
#define TLB_TAG_INVALID UINT64_MAX

struct tlb {
    uint64_t epoch_tag;         /* the current epoch << TLB_EPOCH_SHIFT */
    /* The slots filled since the last tlb_flush_all, one bit per index (a
     * superset: a slot dropped since keeps its bit until a sweep finds it
     * dead). Sweeps (tlb_next_live) look at these, not at all 98,304.
     * filled_words marks the words of `filled` that may be non-zero, so
     * that a flush clears those, not all 12 KiB: under --coherence=flush
     * every SFENCE.VMA flushes. */
    uint64_t filled[TLB_NCTX][TLB_TABLES][TLB_FILLED_WORDS];
    uint64_t filled_words[TLB_NCTX][TLB_TABLES][TLB_FILLED_WORDS / 64];
    struct tlb_entry e[TLB_NCTX][TLB_TABLES][TLB_SIZE];   /* [ctx][table][index] */
};

/* The tag a live entry for va carries. */
static inline uint64_t tlb_tag(const struct tlb *t, uint64_t va)
{
    return (va >> PAGE_SHIFT) | t->epoch_tag;
}

/* Does e hold a translation (of the current epoch)? */
static inline bool tlb_entry_live(const struct tlb *t, const struct tlb_entry *e)
{
    return (e->vpn_tag & ~TLB_VPN_MASK) == t->epoch_tag;
}

/* The virtual address of live entry e's page. */
static inline uint64_t tlb_entry_va(const struct tlb_entry *e)
{
    return (e->vpn_tag & TLB_VPN_MASK) << PAGE_SHIFT;
}

void tlb_flush_all(struct tlb *t);
/* Drop every entry for the page containing va, in all contexts. */
void tlb_flush_va(struct tlb *t, uint64_t va);
/* Drop every entry for the pages of [va, va + bytes), va and bytes
 * page-aligned and bytes at most TLB_SIZE pages, in all contexts. */
void tlb_flush_range(struct tlb *t, uint64_t va, uint64_t bytes);
void tlb_fill(struct tlb *t, enum tlb_ctx ctx, unsigned table, uint64_t va,
              uint8_t *host_page, uint64_t pa_page);

/* Drop every write entry that maps a frame with a write trace on it
 * (mem_frame_traced): stores to such a frame must take the slow path. */
void tlb_drop_traced_writes(struct tlb *t, const struct guest_mem *mem);

/* The live entries of one table, for sweeps:
 *   for (e = tlb_first_live(t, ctx, access, &it); e; e = tlb_next_live(t, &it))
 * The iteration forgets the slots it finds dead; entries may be dropped
 * (vpn_tag = TLB_TAG_INVALID) on the way, not filled. */
struct tlb_iter {
    unsigned ctx, table, word;
    uint64_t bits;              /* slots of `word` not yet visited */
};
struct tlb_entry *tlb_first_live(struct tlb *t, enum tlb_ctx ctx, unsigned table,
                                 struct tlb_iter *it);
struct tlb_entry *tlb_next_live(struct tlb *t, struct tlb_iter *it);

/* The entry that va would use (hit or not). */
static inline struct tlb_entry *tlb_entry_of(struct tlb *t, enum tlb_ctx ctx,
                                             unsigned table, uint64_t va)
{
    return &t->e[ctx][table][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
}

/* Clear every exec entry's pointer to decoded page p (which is going
 * away), or, with p = NULL, every pointer to any decoded page. */
void tlb_forget_code(struct tlb *t, const struct icache_page *p);

/* Host pointer for va, or NULL on a miss. The caller checks that the access
 * does not cross the page. */
static inline uint8_t *tlb_lookup(const struct tlb *t, enum tlb_ctx ctx,
                                  unsigned table, uint64_t va)
{
    const struct tlb_entry *e = &t->e[ctx][table][(va >> PAGE_SHIFT) & (TLB_SIZE - 1)];
    if (e->vpn_tag != tlb_tag(t, va))
        return NULL;
    return (uint8_t *)(uintptr_t)(va + e->addend);
}
#endif
