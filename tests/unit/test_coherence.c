/* The coherence mechanism end to end, without a CPU: harts are played by
 * calls to coherence_translate / coherence_fence, guest stores by
 * mem_write_by, on a small Sv39 page-table tree in guest RAM.
 *
 * Checked: lazy application (a hart keeps its translation until its own
 * coherency event, claim 48); one patch per affected hart (claim 61); valid
 * tokens apply the derived value (claim 49); stale tokens invalidate (claim
 * 50) or re-walk (claim 51); a non-leaf change is one patch; a full ring
 * becomes a resync, except a hart's own, which it applies at once; a page
 * flooded with patches is unshadowed and revived by a walk, and dormant
 * pages stay bounded; the audit catches a consumer that skips a patch; the
 * flush and eager strategies; the shared table (claim 62); and, on real
 * threads, the trace-placement race of DESIGN.md 4.1. */
#include <pthread.h>
#include <stdlib.h>
#include "check.h"
#include "coherence/coherence.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (8ull << 20)
#define ROOT 0x80100000ull      /* level 2 */
#define MID 0x80101000ull       /* level 1 */
#define LEAF 0x80102000ull      /* level 0 */
#define LEAF2 0x80103000ull     /* another level-0 table */
#define LEAF3 0x80104000ull     /* and a third */
#define VA 0x40000000ull        /* ROOT[1] -> MID[0] -> LEAF[i] */
#define SATP ((SATP_MODE_SV39 << SATP_MODE_SHIFT) | (ROOT >> PAGE_SHIFT))

static struct guest_mem mem;
static struct coherence co;
static struct tlb fast[4];
static int violations;

static uint64_t pte(uint64_t pa, unsigned flags)
{
    return (pa >> PAGE_SHIFT) << 10 | flags;
}
#define LEAF_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

static void poke(uint64_t pa, uint64_t v) { ram_store(mem_ram_ptr(&mem, pa), 8, v); }

static void build_tables(void)
{
    memset(mem.ram, 0, RAM_SIZE);
    poke(ROOT + 8 * 1, pte(MID, PTE_V));
    poke(MID + 0, pte(LEAF, PTE_V));
    for (unsigned i = 0; i < 16; i++) {
        poke(LEAF + 8 * i, pte(0x80400000ull + i * PAGE_SIZE, LEAF_RWX));
        poke(LEAF2 + 8 * i, pte(0x80600000ull + i * PAGE_SIZE, LEAF_RWX));
    }
}

static void on_violation(void *ctx, unsigned hart) { (void)ctx; (void)hart; violations++; }

static void setup(unsigned nharts, enum coherence_strategy s, bool shared, enum stale_policy stale,
                  uint64_t drop_patch)
{
    if (mem.ram) {
        coherence_destroy(&co);
        mem_destroy(&mem);
    }
    mem_init(&mem, RAM_BASE, RAM_SIZE);
    build_tables();
    struct coherence_options o = { .strategy = s, .shared_table = shared, .stale = stale,
                                   .audit = true, .drop_patch = drop_patch };
    coherence_init(&co, &mem, nharts, &o, (struct coherence_hooks){ NULL, on_violation, NULL });
    for (unsigned h = 0; h < nharts; h++) {
        tlb_flush_all(&fast[h]);
        coherence_hart_attach(&co, h, &fast[h]);
        coherence_unpark(&co.hart[h]);
    }
    violations = 0;
}

/* Translate VA + i pages on hart h; returns the physical address or 0.
 * With `fill`, do what the CPU does with a translation the table grants
 * (access.c's maybe_fill): the fast cache remembers the page. */
static uint64_t translate_on(unsigned h, unsigned i, enum access a, bool fill)
{
    struct walk_request req = { .satp = SATP, .priv = PRIV_S, .access = a };
    struct walk_result w;
    bool cacheable;
    uint64_t va = VA + i * PAGE_SIZE;
    coherence_translate(&co.hart[h], &req, va, &w, &cacheable);
    if (w.status != WALK_OK)
        return 0;
    if (fill && cacheable)
        tlb_fill(&fast[h], TLB_CTX_S, a, va, mem_ram_ptr(&mem, w.pa & PAGE_MASK),
                 w.pa & PAGE_MASK);
    return w.pa;
}

static uint64_t xlate(unsigned h, unsigned i, enum access a) { return translate_on(h, i, a, false); }
static uint64_t xlate_cached(unsigned h, unsigned i, enum access a)
{
    return translate_on(h, i, a, true);
}

static void fence(unsigned h) { coherence_fence(&co.hart[h], (struct coherence_settings){ .satp = SATP }); }

/* Every hart passes a boundary, so new traces become confirmable. */
static void all_boundaries(void)
{
    for (unsigned h = 0; h < co.nharts; h++)
        coherence_boundary(&co.hart[h]);
}

/* Hart 0 translates the first n pages (each must map to its own target),
 * then the new traces are confirmed and hart 0 passes a coherency event. */
static void map_pages_and_fence(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        CHECK_EQ(xlate(0, i, ACCESS_READ), 0x80400000ull + i * PAGE_SIZE);
    all_boundaries();
    fence(0);
}

static void test_lazy_patch_per_hart(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    CHECK_EQ(xlate(0, 3, ACCESS_READ), 0x80403000ull);
    CHECK_EQ(xlate(1, 3, ACCESS_READ), 0x80403000ull);
    all_boundaries();
    fence(0);
    fence(1);
    CHECK_EQ(co.hart[0].stats.page_walks, 1);
    CHECK_EQ(xlate(0, 3, ACCESS_READ), 0x80403000ull);     /* a shadow hit now */
    CHECK_EQ(co.hart[0].stats.page_walks, 1);

    /* hart 1 remaps page 3; both harts depend on LEAF: one patch each (claim 61) */
    mem_write_by(&mem, 1, LEAF + 8 * 3, 8, pte(0x80500000ull, LEAF_RWX));
    CHECK_EQ(co.hart[1].stats.patches_produced, 2);
    /* until its own coherency event, hart 0 may keep the old translation */
    CHECK_EQ(xlate(0, 3, ACCESS_READ), 0x80403000ull);
    fence(0);
    CHECK_EQ(xlate(0, 3, ACCESS_READ), 0x80500000ull);
    CHECK_EQ(co.hart[0].stats.patches_applied, 1);
    CHECK_EQ(co.hart[0].stats.page_walks, 1);               /* applied, not re-walked */
    fence(1);
    CHECK_EQ(xlate(1, 3, ACCESS_READ), 0x80500000ull);
    CHECK_EQ(co.hart[1].stats.patches_applied, 1);          /* the diagonal channel */
    CHECK_EQ(violations, 0);

    /* --stats-json carries the same counters, one object per hart */
    char *json = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&json, &len);
    struct hart_counters hc[2] = { { 111, 5, 9, 7, 3, 30, 1, 12, 0, 50, 2 },
                                   { 222, 6, 10, 8, 4, 40, 2, 13, 1, 60, 3 } };
    coherence_stats_json(f, &co, hc);
    fclose(f);
    CHECK(strstr(json, "\"harts\": [") != NULL);
    CHECK(strstr(json, "{\"hart\": 1, \"instret\": 222, \"ipi_waits\": 6, \"spin_yields\": 10, "
                       "\"wfi_poll_sleeps\": 8, \"slices\": 4, "
                       "\"code_pages\": 40, \"code_evictions\": 2, "
                       "\"jit_units\": 13, \"jit_resets\": 1, "
                       "\"user_instret\": 60, \"gathered_slices\": 3, "
                       "\"coherency_events\": 2, "
                       "\"patches_produced\": 2, \"stores_unchanged\": 0, "
                       "\"patches_applied\": 1,") != NULL);
    CHECK(strstr(json, "\"page_walks\": 1") != NULL);
    free(json);
}

static void test_stale_token(enum stale_policy stale)
{
    setup(2, COHERENCE_PATCH, false, stale, 0);
    CHECK_EQ(xlate(0, 5, ACCESS_READ), 0x80405000ull);
    all_boundaries();
    fence(0);
    /* producer 1 stores first, producer 0 second; hart 0 drains row 0
     * before row 1, so it meets the newer patch first and the older one,
     * whose token is stale, second */
    mem_write_by(&mem, 1, LEAF + 8 * 5, 8, pte(0x80510000ull, LEAF_RWX));
    mem_write_by(&mem, 0, LEAF + 8 * 5, 8, pte(0x80520000ull, LEAF_RWX));
    fence(0);
    CHECK_EQ(co.hart[0].stats.patches_applied, 1);
    CHECK_EQ(co.hart[0].stats.patches_stale, 1);
    struct shadow_page *leaf = shadow_find(co.hart[0].table, LEAF >> PAGE_SHIFT, 0);
    CHECK(leaf != NULL);
    uint64_t e = leaf ? atomic_load(&leaf->entry[5]) : 1;
    if (stale == STALE_INVALIDATE) {
        CHECK_EQ(co.hart[0].stats.invalidated, 1);
        CHECK_EQ(e, 0);
    } else {
        CHECK_EQ(co.hart[0].stats.rewalked, 1);
        CHECK_EQ(e, shadow_derive(pte(0x80520000ull, LEAF_RWX)));
    }
    CHECK_EQ(xlate(0, 5, ACCESS_READ), 0x80520000ull);     /* never the older value */
    CHECK_EQ(violations, 0);
}

/* Tokens are per entry: stores to different entries of one page-table page
 * (a fork write-protecting a range, munmap clearing one) leave each other's
 * patches valid, so every one is applied and none re-walked. Entries
 * COHERENCE_WRITE_GENS * 8 bytes apart share a generation: there a later
 * store to one makes the other's patch stale, which is safe. */
static void test_tokens_per_entry(void)
{
    setup(1, COHERENCE_PATCH, false, STALE_INVALIDATE, 0);
    map_pages_and_fence(8);
    uint64_t walks = co.hart[0].stats.page_walks;
    for (unsigned i = 0; i < 8; i++)                        /* write-protect 8 entries */
        mem_write_by(&mem, 0, LEAF + 8 * i, 8,
                     pte(0x80400000ull + i * PAGE_SIZE, LEAF_RWX & ~(unsigned)PTE_W));
    fence(0);
    CHECK_EQ(co.hart[0].stats.patches_applied, 8);
    CHECK_EQ(co.hart[0].stats.patches_stale, 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(xlate(0, i, ACCESS_READ), 0x80400000ull + i * PAGE_SIZE);
    CHECK_EQ(co.hart[0].stats.page_walks, walks);           /* all applied, none re-walked */
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(xlate(0, i, ACCESS_WRITE), 0);             /* a page fault now */
    CHECK_EQ(violations, 0);
}

static void test_non_leaf_change_is_one_patch(void)
{
    setup(1, COHERENCE_PATCH, false, STALE_REWALK, 0);
    map_pages_and_fence(16);
    mem_write_by(&mem, 0, MID + 0, 8, pte(LEAF2, PTE_V));  /* swap the whole leaf table */
    CHECK_EQ(co.hart[0].stats.patches_produced, 1);
    fence(0);
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(xlate(0, i, ACCESS_READ), 0x80600000ull + i * PAGE_SIZE);
    CHECK_EQ(violations, 0);
}

/* Hart `producer` rewrites page 1's PTE ten more times than a channel
 * holds, with hart 0 tracing it; then hart 0 fences. Checks hart 0's
 * overflows and resyncs, and that page 1 then maps where the last store
 * said. */
static void overfill_page_1(unsigned producer, uint64_t overflows, uint64_t resyncs)
{
    for (unsigned n = 0; n < PATCH_CHANNEL_SLOTS + 10; n++)
        mem_write_by(&mem, producer, LEAF + 8 * 1, 8,
                     pte(0x80400000ull + (n % 7) * PAGE_SIZE, LEAF_RWX));
    struct coherence_report r;
    coherence_report(&co, 0, &r);
    CHECK_EQ(r.ring_overflows, overflows);
    fence(0);
    CHECK_EQ(co.hart[0].stats.resyncs, resyncs);
    CHECK_EQ(xlate(0, 1, ACCESS_READ), 0x80400000ull + ((PATCH_CHANNEL_SLOTS + 9) % 7) * PAGE_SIZE);
    CHECK_EQ(violations, 0);
}

static void test_overflow_resync(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    map_pages_and_fence(2);
    overfill_page_1(1, 10, 1);
}

/* A hart that floods its own channel applies it on the spot: no overflow,
 * no resync, and its translations still follow the last store. */
static void test_own_channel_never_overflows(void)
{
    setup(1, COHERENCE_PATCH, false, STALE_INVALIDATE, 0);
    map_pages_and_fence(2);
    overfill_page_1(0, 0, 0);
}

/* Write flooding: hart 1 rewrites hart 0's leaf table 8 more times than
 * SHADOW_FLOOD_PATCHES while hart 0 never walks through it. At its fence
 * hart 0 unshadows the frame after the 32nd patch and ignores the last 8;
 * its trace bit goes, so later stores post nothing to it; a walk
 * through the frame revives the page, traced again, and patches flow. */
static void test_write_flood_unshadows(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_INVALIDATE, 0);
    map_pages_and_fence(4);
    _Atomic uint32_t *trace = mem_trace_word(&mem, LEAF);
    CHECK(atomic_load(trace) & 1u);
    for (unsigned n = 0; n < SHADOW_FLOOD_PATCHES + 8; n++)
        mem_write_by(&mem, 1, LEAF + 8 * (100 + n), 8, n + 1); /* the page is now data */
    fence(0);
    CHECK_EQ(co.hart[0].stats.unshadowed, 1);
    CHECK_EQ(co.hart[0].stats.patches_dormant, 8);          /* the rest of the burst */
    CHECK_EQ(atomic_load(trace) & 1u, 0);
    uint64_t posted = co.hart[1].stats.patches_produced;
    mem_write_by(&mem, 1, LEAF + 8 * 200, 8, 1);
    CHECK_EQ(co.hart[1].stats.patches_produced, posted);    /* no consumer any more */
    uint64_t walks = co.hart[0].stats.page_walks;
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0x80402000ull);       /* walks, revives */
    CHECK_EQ(co.hart[0].stats.page_walks, walks + 1);
    CHECK(atomic_load(trace) & 1u);
    all_boundaries();
    fence(0);
    mem_write_by(&mem, 1, LEAF + 8 * 2, 8, 0);              /* unmap page 2 */
    CHECK_EQ(co.hart[1].stats.patches_produced, posted + 1);
    fence(0);
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0);
    CHECK_EQ(violations, 0);
}

/* A guest that keeps moving a page table to new frames, each flooded once
 * it is left behind: hart 0's dormant pages stay bounded, because past
 * SHADOW_DORMANT_MAX its next fence drops the whole table. */
static void test_dormant_pages_bounded(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_INVALIDATE, 0);
    map_pages_and_fence(1);
    for (unsigned k = 0; k <= SHADOW_DORMANT_MAX; k++) {
        uint64_t table = 0x80200000ull + k * PAGE_SIZE;
        poke(table, pte(0x80400000ull, LEAF_RWX));
        mem_write_by(&mem, 1, MID + 8, 8, pte(table, PTE_V));  /* VA + 512 pages -> table */
        all_boundaries();
        fence(0);
        CHECK_EQ(xlate(0, 512, ACCESS_READ), 0x80400000ull);
        for (unsigned n = 0; n < SHADOW_FLOOD_PATCHES; n++)
            mem_write_by(&mem, 1, table + 8 * (100 + n), 8, n + 1);
        fence(0);
    }
    CHECK_EQ(co.hart[0].stats.unshadowed, SHADOW_DORMANT_MAX + 1);
    CHECK_EQ(co.hart[0].stats.dormant_drops, 1);
    CHECK_EQ(co.hart[0].own.ndormant, 0);
    CHECK_EQ(xlate(0, 0, ACCESS_READ), 0x80400000ull);      /* walks again after the drop */
    CHECK_EQ(violations, 0);
}

/* A traced store that leaves memory as it was posts nothing: no derived
 * value can have changed. The case that matters is the guest zeroing a
 * page that was a page table and is zero already: 512 stores, no patch,
 * no flood, the trace stays. A real change still posts, and a store of
 * the value it made is again nothing. */
static void test_unchanged_store_posts_nothing(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_INVALIDATE, 0);
    map_pages_and_fence(4);
    CHECK_EQ(xlate(1, 3, ACCESS_READ), 0x80403000ull);
    all_boundaries();
    fence(1);
    for (unsigned i = 16; i < SHADOW_ENTRIES; i++)
        mem_write_by(&mem, 1, LEAF + 8 * i, 8, 0);          /* already 0 */
    mem_write_by(&mem, 1, LEAF + 8 * 3, 8, pte(0x80403000ull, LEAF_RWX));  /* as it is */
    CHECK_EQ(co.hart[1].stats.patches_produced, 0);
    CHECK_EQ(co.hart[1].stats.stores_unchanged, SHADOW_ENTRIES - 16 + 1);
    fence(0);
    CHECK_EQ(co.hart[0].stats.unshadowed, 0);
    CHECK(atomic_load(mem_trace_word(&mem, LEAF)) & 1u);
    mem_write_by(&mem, 1, LEAF + 8 * 3, 8, 0);              /* unmap page 3 */
    CHECK_EQ(co.hart[1].stats.patches_produced, 2);         /* hart 0 and hart 1 */
    mem_write_by(&mem, 1, LEAF + 8 * 3, 8, 0);
    CHECK_EQ(co.hart[1].stats.patches_produced, 2);
    fence(0);
    fence(1);
    CHECK_EQ(xlate(0, 3, ACCESS_READ), 0);
    CHECK_EQ(xlate(1, 3, ACCESS_READ), 0);
    CHECK_EQ(violations, 0);
}

static void test_audit_catches_skipped_patch(void)
{
    setup(1, COHERENCE_PATCH, false, STALE_REWALK, 1);     /* drop the first patch */
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0x80402000ull);
    all_boundaries();
    fence(0);
    mem_write_by(&mem, 0, LEAF + 8 * 2, 8, 0);              /* unmap page 2 */
    fence(0);
    CHECK_EQ(violations, 1);
    /* and the same sequence with a working consumer passes */
    setup(1, COHERENCE_PATCH, false, STALE_REWALK, 0);
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0x80402000ull);
    all_boundaries();
    fence(0);
    mem_write_by(&mem, 0, LEAF + 8 * 2, 8, 0);
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0);
}

/* The guest page a fast-cache entry of hart h maps VA + i pages to, or 0. */
static uint64_t fast_target(unsigned h, unsigned i, enum access a)
{
    uint8_t *p = tlb_lookup(&fast[h], TLB_CTX_S, a, VA + i * PAGE_SIZE);
    return p ? RAM_BASE + (uint64_t)(p - mem.ram) : 0;
}

/* A walk on a shadow miss may re-derive an entry from a PTE that another
 * hart changed (patch still pending), and the patch then finds the entry
 * already equal to its value. The fast cache must still not keep what was
 * derived from the old PTE past the fence (privileged spec 4.2.1: after
 * SFENCE.VMA the hart uses no translation older than the stores before it). */
static void test_fill_rederives_before_patch(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    poke(LEAF + 8 * 3, pte(0x80403000ull, PTE_V | PTE_R | PTE_W | PTE_A));  /* D clear */
    CHECK_EQ(xlate_cached(0, 3, ACCESS_READ), 0x80403000ull);
    all_boundaries();
    fence(0);
    /* hart 1 moves page 3 to another frame, writable and dirty */
    mem_write_by(&mem, 1, LEAF + 8 * 3, 8, pte(0x80540000ull, LEAF_RWX));
    /* hart 0 writes page 3: the shadow grants no write (D was clear), the
     * walk sees the new PTE and re-derives the entry */
    CHECK_EQ(xlate_cached(0, 3, ACCESS_WRITE), 0x80540000ull);
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK(fast_target(0, 3, ACCESS_READ) != 0x80403000ull);
    CHECK_EQ(xlate_cached(0, 3, ACCESS_READ), 0x80540000ull);
}

/* A leaf change makes the fast cache forget that one page and keep the
 * others; where the page is not certain (a leaf table mapped at two
 * places, a change above the leaf level, more changes than fit the list)
 * it forgets everything (src/coherence/fast.c). */
static void test_fast_cache_forgets_only_the_changed_page(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(xlate_cached(0, i, ACCESS_READ), 0x80400000ull + i * PAGE_SIZE);
    all_boundaries();
    fence(0);
    mem_write_by(&mem, 1, LEAF + 8 * 3, 8, pte(0x80550000ull, LEAF_RWX));
    mem_write_by(&mem, 1, LEAF + 8 * 6, 8, 0);
    CHECK_EQ(fast_target(0, 3, ACCESS_READ), 0x80403000ull);     /* until the fence */
    fence(0);
    CHECK_EQ(violations, 0);
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(fast_target(0, i, ACCESS_READ),
                 i == 3 || i == 6 ? 0 : 0x80400000ull + i * PAGE_SIZE);
    CHECK_EQ(xlate_cached(0, 3, ACCESS_READ), 0x80550000ull);

    /* LEAF mapped a second time, 2 MiB further up: both places forget */
    poke(MID + 8, pte(LEAF, PTE_V));
    CHECK_EQ(xlate_cached(0, 512 + 4, ACCESS_READ), 0x80404000ull);
    mem_write_by(&mem, 1, LEAF + 8 * 5, 8, 0);
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK_EQ(fast_target(0, 4, ACCESS_READ), 0);
    CHECK_EQ(fast_target(0, 512 + 4, ACCESS_READ), 0);

    /* a change above a leaf table mapped at two places: everything */
    CHECK_EQ(xlate_cached(0, 4, ACCESS_READ), 0x80404000ull);
    mem_write_by(&mem, 1, MID + 8, 8, 0);
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK_EQ(fast_target(0, 4, ACCESS_READ), 0);

    /* a leaf table swapped for another one level up (its PTEs left as
     * they were): the 2 MiB it mapped, and nothing else */
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    poke(MID + 8, pte(LEAF2, PTE_V));
    for (unsigned i = 0; i < 16; i++)
        poke(LEAF3 + 8 * i, pte(0x80700000ull + i * PAGE_SIZE, LEAF_RWX));
    CHECK_EQ(xlate_cached(0, 2, ACCESS_READ), 0x80402000ull);
    CHECK_EQ(xlate_cached(0, 9, ACCESS_READ), 0x80409000ull);
    CHECK_EQ(xlate_cached(0, 512 + 2, ACCESS_READ), 0x80602000ull);
    all_boundaries();
    fence(0);
    mem_write_by(&mem, 1, MID + 0, 8, pte(LEAF3, PTE_V));
    CHECK_EQ(fast_target(0, 2, ACCESS_READ), 0x80402000ull);     /* until the fence */
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK_EQ(fast_target(0, 2, ACCESS_READ), 0);
    CHECK_EQ(fast_target(0, 9, ACCESS_READ), 0);
    CHECK_EQ(fast_target(0, 512 + 2, ACCESS_READ), 0x80602000ull);
    CHECK_EQ(xlate_cached(0, 2, ACCESS_READ), 0x80702000ull);
    /* and one that gave the fast cache nothing since it last forgot
     * everything: nothing */
    tlb_flush_all(&fast[0]);
    CHECK_EQ(xlate_cached(0, 512 + 3, ACCESS_READ), 0x80603000ull);
    mem_write_by(&mem, 1, MID + 0, 8, pte(LEAF, PTE_V));
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK_EQ(fast_target(0, 512 + 3, ACCESS_READ), 0x80603000ull);
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0x80402000ull);

    /* a table of leaf tables swapped at the root: everything, when a leaf
     * table below it gave the fast cache something in this epoch, else
     * nothing (the epoch stays: a process's tables torn down after the
     * satp write that left them) */
    const uint64_t mid2 = LEAF3 + PAGE_SIZE;
    poke(mid2 + 0, pte(LEAF2, PTE_V));
    tlb_flush_all(&fast[0]);
    CHECK_EQ(xlate_cached(0, 2, ACCESS_READ), 0x80402000ull);
    all_boundaries();
    fence(0);
    uint64_t epoch = fast[0].epoch_tag;
    mem_write_by(&mem, 1, ROOT + 8, 8, pte(mid2, PTE_V));
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK(fast[0].epoch_tag != epoch);
    CHECK_EQ(fast_target(0, 2, ACCESS_READ), 0);
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0x80602000ull);
    tlb_flush_all(&fast[0]);
    all_boundaries();
    fence(0);
    epoch = fast[0].epoch_tag;
    mem_write_by(&mem, 1, ROOT + 8, 8, pte(MID, PTE_V));
    fence(0);
    CHECK_EQ(violations, 0);
    CHECK_EQ(fast[0].epoch_tag, epoch);
    CHECK_EQ(xlate(0, 2, ACCESS_READ), 0x80402000ull);

    /* up to FAST_FORGET_MAX changes (the 60 changes of 3 x 20) are
     * forgotten page by page; past that (3 x 22 = 66), everything is */
    for (unsigned per_table = 20; per_table <= 22; per_table += 2) {
        setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
        const uint64_t table[3] = { LEAF, LEAF2, LEAF3 };
        for (unsigned t = 0; t < 3; t++) {
            poke(MID + 8 * t, pte(table[t], PTE_V));
            for (unsigned i = 0; i < 32; i++) {
                uint64_t target = 0x80400000ull + (t * 32 + i) * PAGE_SIZE;
                poke(table[t] + 8 * i, pte(target, LEAF_RWX));
                CHECK_EQ(xlate_cached(0, 512 * t + i, ACCESS_READ), target);
            }
        }
        all_boundaries();
        fence(0);
        for (unsigned t = 0; t < 3; t++)
            for (unsigned i = 0; i < per_table; i++)
                mem_write_by(&mem, 1, table[t] + 8 * i, 8, 0);
        fence(0);
        CHECK_EQ(violations, 0);
        /* page 30 did not change */
        CHECK_EQ(fast_target(0, 30, ACCESS_READ), per_table * 3 <= FAST_FORGET_MAX ? 0x8041e000ull : 0);
        CHECK_EQ(fast_target(0, 0, ACCESS_READ), 0);
    }
}

static void test_flush_strategy(void)
{
    setup(1, COHERENCE_FLUSH, false, STALE_REWALK, 0);
    CHECK_EQ(xlate(0, 4, ACCESS_READ), 0x80404000ull);
    CHECK(!mem_frame_traced(&mem, LEAF));                   /* flush places no traces */
    mem_write_by(&mem, 0, LEAF + 8 * 4, 8, pte(0x80530000ull, LEAF_RWX));
    CHECK_EQ(co.hart[0].stats.patches_produced, 0);
    fence(0);
    CHECK_EQ(atomic_load(&co.hart[0].table->npages), 0);
    CHECK_EQ(xlate(0, 4, ACCESS_READ), 0x80530000ull);
    CHECK_EQ(co.hart[0].stats.page_walks, 2);
}

static void test_shared_table(void)
{
    setup(2, COHERENCE_PATCH, true, STALE_REWALK, 0);
    CHECK_EQ(xlate(0, 6, ACCESS_READ), 0x80406000ull);
    CHECK_EQ(xlate(1, 6, ACCESS_READ), 0x80406000ull);
    CHECK_EQ(co.hart[1].stats.page_walks, 0);               /* hart 1 used hart 0's derivation */
    CHECK(co.hart[0].table == co.hart[1].table);
    CHECK(atomic_load(mem_trace_word(&mem, LEAF)) & TRACE_SHARED_BIT);
    all_boundaries();
    fence(0);
    fence(1);
    mem_write_by(&mem, 0, LEAF + 8 * 6, 8, pte(0x80540000ull, LEAF_RWX));
    fence(0);
    fence(1);
    CHECK_EQ(xlate(0, 6, ACCESS_READ), 0x80540000ull);
    CHECK_EQ(xlate(1, 6, ACCESS_READ), 0x80540000ull);
    CHECK_EQ(violations, 0);
}

/* ---- the trace-placement race, on threads ----
 * A "storer" thread plays hart 1 storing into the leaf table the way the
 * CPU does: through its fast cache when it holds a write entry (checking
 * nothing), else through the slow path (mem_write_by, which checks the
 * trace), and the slow path refills the write entry only for an untraced
 * frame. It passes a boundary every few stores, as the run loop does.
 * A "deriver" thread (hart 0) repeatedly drops its table — untracing the
 * frame, so the storer gets its write entry back and every fill races a
 * new trace placement against it — translates and fences, with the audit
 * on. After both stop, one more fence must leave hart 0 exactly coherent. */
#define RACE_ROUNDS 3000
#define STORER_VA 0x7000000ull
static _Atomic bool race_stop;

static void storer_store(unsigned index, uint64_t value)
{
    uint8_t *p = tlb_lookup(&fast[1], TLB_CTX_S, ACCESS_WRITE, STORER_VA);
    if (p) {
        ram_store(p + 8 * index, 8, value);
        return;
    }
    mem_write_by(&mem, 1, LEAF + 8 * index, 8, value);
    if (!mem_frame_traced(&mem, LEAF))
        tlb_fill(&fast[1], TLB_CTX_S, ACCESS_WRITE, STORER_VA, mem_ram_ptr(&mem, LEAF), LEAF);
}

/* The race of DESIGN.md 4.1 in one exact interleaving: hart 1 holds a
 * write entry for the leaf table and stores through it, unchecked, right
 * after hart 0 placed its trace and read the PTE. */
static void test_trace_placement_interleaving(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    tlb_fill(&fast[1], TLB_CTX_S, ACCESS_WRITE, STORER_VA, mem_ram_ptr(&mem, LEAF), LEAF);
    CHECK_EQ(xlate(0, 9, ACCESS_READ), 0x80409000ull);     /* places the trace, reads v0 */
    storer_store(9, pte(0x80550000ull, LEAF_RWX));          /* v1, through the fast cache */
    CHECK_EQ(co.hart[1].stats.patches_produced, 0);         /* nobody was told */
    fence(0);
    CHECK_EQ(xlate(0, 9, ACCESS_READ), 0x80550000ull);      /* re-derived: unconfirmed */
    CHECK(shadow_find(co.hart[0].table, LEAF >> PAGE_SHIFT, 0)->unconfirmed);
    storer_store(9, pte(0x80560000ull, LEAF_RWX));          /* v2, still unchecked */
    coherence_boundary(&co.hart[1]);                        /* hart 1 learns of the trace */
    CHECK(tlb_lookup(&fast[1], TLB_CTX_S, ACCESS_WRITE, STORER_VA) == NULL);
    fence(0);
    CHECK_EQ(xlate(0, 9, ACCESS_READ), 0x80560000ull);
    CHECK(!shadow_find(co.hart[0].table, LEAF >> PAGE_SHIFT, 0)->unconfirmed);
    storer_store(9, pte(0x80570000ull, LEAF_RWX));          /* v3: the slow path, a patch */
    CHECK_EQ(co.hart[1].stats.patches_produced, 1);
    fence(0);
    CHECK_EQ(xlate(0, 9, ACCESS_READ), 0x80570000ull);
    CHECK_EQ(violations, 0);
}

static void *storer(void *arg)
{
    (void)arg;
    for (unsigned n = 0; !atomic_load(&race_stop); n++) {
        storer_store(n % 16, pte(0x80400000ull + (n % 13) * PAGE_SIZE, LEAF_RWX));
        if (n % 4 == 0)
            coherence_boundary(&co.hart[1]);
        for (volatile unsigned spin = 0; spin < 300; spin++)
            ;   /* a hart executes other instructions between page-table stores */
    }
    coherence_park(&co.hart[1]);
    return NULL;
}

static void test_trace_placement_race(void)
{
    setup(2, COHERENCE_PATCH, false, STALE_REWALK, 0);
    pthread_t t;
    atomic_store(&race_stop, false);
    pthread_create(&t, NULL, storer, NULL);
    for (unsigned r = 0; r < RACE_ROUNDS; r++) {
        if (r % 16 == 0)
            coherence_drop_all(&co.hart[0]);
        for (unsigned i = 0; i < 16; i++)
            xlate(0, i, ACCESS_READ);
        coherence_boundary(&co.hart[0]);
        fence(0);
    }
    atomic_store(&race_stop, true);
    pthread_join(t, NULL);
    fence(0);   /* may resync (a slow run can overflow a ring) and so drop the page */
    for (unsigned i = 0; i < 16; i++) {
        uint64_t now = ram_load(mem_ram_ptr(&mem, LEAF + 8 * i), 8);
        CHECK_EQ(xlate(0, i, ACCESS_READ), (now >> 10) << PAGE_SHIFT);
    }
    fence(0);   /* the storer is parked: whatever the loop above derived is confirmed */
    struct shadow_page *leaf = shadow_find(co.hart[0].table, LEAF >> PAGE_SHIFT, 0);
    CHECK(leaf && !leaf->unconfirmed);
    CHECK_EQ(violations, 0);
}

int main(void)
{
    test_lazy_patch_per_hart();
    test_stale_token(STALE_INVALIDATE);
    test_stale_token(STALE_REWALK);
    test_tokens_per_entry();
    test_non_leaf_change_is_one_patch();
    test_overflow_resync();
    test_own_channel_never_overflows();
    test_write_flood_unshadows();
    test_dormant_pages_bounded();
    test_unchanged_store_posts_nothing();
    test_audit_catches_skipped_patch();
    test_fill_rederives_before_patch();
    test_fast_cache_forgets_only_the_changed_page();
    test_flush_strategy();
    test_shared_table();
    test_trace_placement_interleaving();
    test_trace_placement_race();
    coherence_destroy(&co);
    mem_destroy(&mem);
    return check_summary();
}
