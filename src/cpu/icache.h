/* icache: a hart's cache of decoded instructions, keyed by guest-physical
 * page (DESIGN.md section 3, "Instruction fetch").
 *
 * Owns, per hart, up to ICACHE_SETS x ICACHE_WAYS decoded pages. A page holds a
 * snapshot of the guest frame's bytes as this hart last saw them and one
 * decoded-instruction slot per 2-byte offset, filled lazily from the
 * snapshot the first time the instruction at that offset runs. Because
 * every slot is decoded from the snapshot, the cache always equals the
 * decode of the snapshot, and keeping it coherent is keeping the snapshot
 * coherent with memory:
 *  - FENCE.I is the hart's coherency event for fetched code (unprivileged
 *    spec, "Zifencei": stores become visible to the hart's own fetches only
 *    after its FENCE.I; another hart's stores once they are ordered before
 *    it). icache_sync compares every snapshot with memory and drops the
 *    slots whose bytes changed, so whatever wrote the code (this hart, any
 *    other, a device) the fetches after the fence see it.
 *  - Device and loader writes (DMA, a debugger's breakpoint, a test
 *    rewriting code between steps) are not ordered by a guest FENCE.I, so
 *    guest_mem counts them, in its code-write epoch, whenever they touch a
 *    frame some hart decoded (mem_code_mark); a hart that sees the epoch
 *    move syncs before its next instruction.
 * Between two syncs a hart may run code older than memory, which is exactly
 * what the spec allows without FENCE.I.
 *
 * The cache owns no translation: the fast cache (mmu.h) maps a virtual
 * page to a decoded page (tlb_entry.code) and must forget a decoded page
 * that is evicted (icache_page_for reports it).
 *
 * Hart thread only; guest memory is read with relaxed atomics, as every
 * hart reads it.
 */
#ifndef UMBRA_CPU_ICACHE_H
#define UMBRA_CPU_ICACHE_H
#include <stdbool.h>
#include <stdint.h>
#include "cpu/decode.h"
#include "mem/guest_mem.h"

#define ICACHE_SLOTS (PAGE_SIZE / 2)    /* one per 2-byte offset (IALIGN = 16) */

/* The slot of a decoded page that holds the instruction at pc. */
static inline unsigned icache_slot_of(uint64_t pc)
{
    return (unsigned)(pc & (PAGE_SIZE - 1)) >> 1;
}
/* Set-associative by frame number, least recently handed out first out. A
 * direct-mapped cache of the same size thrashed: a Linux guest's kernel
 * text and the user programs it loads often lie a multiple of the cache's
 * span apart (ptbench under Linux: two frames 128 MiB apart swapped places
 * 1,364 times in 4 s). */
#define ICACHE_SETS 256                 /* power of two */
#define ICACHE_WAYS 4

struct icache_page {
    uint64_t frame;                     /* guest-physical address of the page */
    bool unchecked;                     /* a sync happened since the snapshot was compared */
    /* Bumped whenever a decoded slot is emptied or the page takes another
     * frame: anything derived from the slots (translated code, jit.h) is
     * current only while this is what it was made from. */
    uint32_t generation;
    /* The translator's per-slot words (jit_ref below) are meaningful while
     * these are what cpu/jit.c expects; kept in the same cache line as
     * `generation`, which every lookup compares them with. */
    uint32_t jit_generation, jit_epoch;
    uint64_t jit_va;                    /* the virtual page the units were made for */
    /* slot[icache_slot_of(pc)]; len == 0 means "not decoded yet" (a
     * decoded instruction, even an illegal one, has len 2 or 4). */
    struct insn slot[ICACHE_SLOTS];
    uint64_t bytes[PAGE_SIZE / 8];      /* the snapshot the slots decode from */
    /* Per slot: how often a unit was looked for there, or the unit that
     * starts there (cpu/jit.c). */
    uint32_t jit_ref[ICACHE_SLOTS];
};

struct icache_stats {
    uint64_t pages_made;                /* snapshots taken */
    uint64_t pages_evicted;             /* page reused for another frame */
    uint64_t syncs;                     /* FENCE.I and code-write epochs seen */
    uint64_t slots_dropped;             /* decoded slots whose bytes changed */
};

struct icache {
    struct guest_mem *mem;
    uint64_t seen_epoch;                /* mem's code-write epoch at the last sync */
    /* set[s][0] is the page of set s handed out last, [ICACHE_WAYS - 1]
     * the next to go; NULL ways are unused. */
    struct icache_page *set[ICACHE_SETS][ICACHE_WAYS];
    struct icache_stats stats;
};

/* An empty cache over mem (nothing allocated until code runs). */
void icache_init(struct icache *c, struct guest_mem *mem);
void icache_destroy(struct icache *c);

/* The decoded page of the RAM frame at `frame` (page-aligned, plain RAM),
 * made from a fresh snapshot if the cache has none. When that reuses the
 * least recently used page of a full set, *evicted is that page (its memory now holds the new
 * frame: callers must forget pointers to it), else NULL. NULL only if
 * memory for a page cannot be had. */
struct icache_page *icache_page_for(struct icache *c, uint64_t frame,
                                    const struct icache_page **evicted);

/* Decode slot `index` of page p from the snapshot. Returns false, leaving
 * the slot empty, for a 32-bit instruction that begins in the page's last
 * two bytes: its second half lies in another page, whose mapping the slot
 * could not follow. */
bool icache_decode_slot(struct icache_page *p, unsigned index);

/* The coherency event for fetched code (FENCE.I, hart reset): every
 * snapshot is compared with memory, and the slots whose bytes changed are
 * dropped, before the page is next handed out by icache_page_for (not at
 * once: a hart may hold a thousand pages and use a few dozen between two
 * fences). Callers must drop the pointers to pages they keep (the fast
 * cache's), so that every later fetch goes through icache_page_for. */
void icache_sync(struct icache *c);

/* Did a device or the loader write code since the last sync? One relaxed
 * load when nothing happened. */
static inline bool icache_code_written(const struct icache *c)
{
    return c->mem && mem_code_epoch(c->mem) != c->seen_epoch;
}
#endif
