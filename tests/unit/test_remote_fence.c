/* Remote coherency events (src/coherence/remote.c), without a CPU: harts are
 * played by calls on real threads.
 *
 * Checked: a request to a parked hart is queued, not waited for, and served
 * when the hart resumes, before anything else; a request to a running hart
 * is kicked (the machine ends its block early) and waits until that
 * hart's next boundary, and the page-table store made
 * before the request is then visible in the target's shadow table; two
 * harts asking each other at the same moment both finish; a target that
 * parks while the asker waits releases it; a FENCE.I request reaches the
 * hart's hook; a local SFENCE.VMA satisfies pending SFENCE.VMA requests but
 * not FENCE.I ones. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "coherence/coherence.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define ROOT 0x80100000ull
#define MID 0x80101000ull
#define LEAF 0x80102000ull
#define VA 0x40000000ull        /* ROOT[1] -> MID[0] -> LEAF[i] */
#define SATP ((SATP_MODE_SV39 << SATP_MODE_SHIFT) | (ROOT >> PAGE_SHIFT))
#define LEAF_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)
#define NHARTS 3

static struct guest_mem mem;
static struct coherence co;
static struct tlb fast[NHARTS];
static int violations;
static _Atomic unsigned kicks[NHARTS];
static _Atomic unsigned fence_i_served[NHARTS];

static uint64_t pte(uint64_t pa, unsigned flags) { return (pa >> PAGE_SHIFT) << 10 | flags; }
static void poke(uint64_t pa, uint64_t v) { ram_store(mem_ram_ptr(&mem, pa), 8, v); }
static void on_violation(void *ctx, unsigned hart) { violations++; }
static void on_kick(void *ctx, unsigned hart) { atomic_fetch_add(&kicks[hart], 1); }

static void settings(void *ctx, struct coherence_settings *s)
{
    *s = (struct coherence_settings){ .satp = SATP };
}

static void fence_i(void *ctx)
{
    atomic_fetch_add(&fence_i_served[(uintptr_t)ctx], 1);
}

/* Every hart attached and parked, as before its thread starts. */
static void setup(void)
{
    if (mem.ram) {
        coherence_destroy(&co);
        mem_destroy(&mem);
    }
    mem_init(&mem, RAM_BASE, RAM_SIZE);
    memset(mem.ram, 0, RAM_SIZE);
    poke(ROOT + 8 * 1, pte(MID, PTE_V));
    poke(MID, pte(LEAF, PTE_V));
    for (unsigned i = 0; i < 8; i++)
        poke(LEAF + 8 * i, pte(0x80200000ull + i * PAGE_SIZE, LEAF_RWX));
    struct coherence_options o = { .strategy = COHERENCE_PATCH, .stale = STALE_INVALIDATE,
                                   .audit = true };
    coherence_init(&co, &mem, NHARTS, &o, (struct coherence_hooks){ on_kick, on_violation, NULL });
    for (unsigned h = 0; h < NHARTS; h++) {
        tlb_flush_all(&fast[h]);
        coherence_hart_attach(&co, h, &fast[h]);
        coherence_hart_set_hooks(&co.hart[h], (struct coherence_hart_hooks){
                                                  settings, fence_i, (void *)(uintptr_t)h });
        atomic_store(&fence_i_served[h], 0);
        atomic_store(&kicks[h], 0);
    }
    violations = 0;
}

static uint64_t xlate(unsigned h, unsigned i)
{
    struct walk_request req = { .satp = SATP, .priv = PRIV_S, .access = ACCESS_READ };
    struct walk_result w;
    bool cacheable;
    coherence_translate(&co.hart[h], &req, VA + i * PAGE_SIZE, &w, &cacheable);
    return w.status == WALK_OK ? w.pa : 0;
}

static uint64_t acked(unsigned h, enum coherence_remote_kind k)
{
    return atomic_load(&co.hart[h].remote_ack[k]);
}

static void test_parked_target_is_queued(void)
{
    setup();
    coherence_unpark(&co.hart[0]);
    /* hart 1 derives page 2, then parks (WFI) */
    coherence_unpark(&co.hart[1]);
    CHECK_EQ(xlate(1, 2), 0x80202000ull);
    coherence_park(&co.hart[1]);
    /* hart 0 unmaps page 2 and asks harts 1 and 2 (both parked) to fence */
    mem_write_by(&mem, 0, LEAF + 8 * 2, 8, 0);
    coherence_remote_fence(&co.hart[0], 0x7, REMOTE_SFENCE_VMA);
    CHECK_EQ(co.hart[0].stats.remote_fences_queued, 2);
    CHECK_EQ(co.hart[0].stats.remote_fences_waited, 0);
    CHECK_EQ(atomic_load(&kicks[1]) + atomic_load(&kicks[2]), 0);  /* parked: nothing to end */
    CHECK_EQ(co.hart[0].stats.coherency_events, 0);      /* its own bit is ignored */
    CHECK_EQ(acked(1, REMOTE_SFENCE_VMA), 0);             /* nobody served it yet */
    uint64_t events = co.hart[1].stats.coherency_events;
    /* hart 1 resumes: the fence is the first thing it does */
    coherence_unpark(&co.hart[1]);
    CHECK_EQ(acked(1, REMOTE_SFENCE_VMA), 1);
    CHECK_EQ(co.hart[1].stats.remote_fences_served, 1);
    CHECK_EQ(co.hart[1].stats.coherency_events, events + 1);
    CHECK_EQ(xlate(1, 2), 0);
    /* a second boundary has nothing left to serve */
    coherence_boundary(&co.hart[1]);
    CHECK_EQ(co.hart[1].stats.remote_fences_served, 1);
    CHECK_EQ(violations, 0);
}

static _Atomic bool stop_running;

/* A running hart: a boundary every few hundred "instructions". */
static void *run_boundaries(void *arg)
{
    struct coherence_hart *ch = arg;
    coherence_unpark(ch);
    while (!atomic_load(&stop_running)) {
        coherence_boundary_fast(ch);
        for (volatile unsigned spin = 0; spin < 200; spin++)
            ;
    }
    coherence_park(ch);
    return NULL;
}

static void test_running_target_is_waited_for(void)
{
    setup();
    coherence_unpark(&co.hart[0]);
    coherence_unpark(&co.hart[1]);
    CHECK_EQ(xlate(1, 4), 0x80204000ull);
    coherence_park(&co.hart[1]);
    atomic_store(&stop_running, false);
    pthread_t t;
    pthread_create(&t, NULL, run_boundaries, &co.hart[1]);
    while (atomic_load(&co.hart[1].parked))
        sched_yield();
    mem_write_by(&mem, 0, LEAF + 8 * 4, 8, pte(0x80300000ull, LEAF_RWX));
    coherence_remote_fence(&co.hart[0], 1u << 1, REMOTE_SFENCE_VMA);
    /* returned: hart 1 has passed a coherency event since the request */
    CHECK_EQ(acked(1, REMOTE_SFENCE_VMA), 1);
    CHECK_EQ(co.hart[0].stats.remote_fences_waited, 1);
    CHECK_EQ(co.hart[0].stats.remote_fences_queued, 0);
    CHECK_EQ(atomic_load(&kicks[1]), 1);    /* to end whatever it runs at its next jump */
    atomic_store(&stop_running, true);
    pthread_join(t, NULL);
    CHECK_EQ(co.hart[1].stats.remote_fences_served, 1);
    coherence_unpark(&co.hart[1]);
    CHECK_EQ(xlate(1, 4), 0x80300000ull);      /* the patch was applied by that event */
    CHECK_EQ(co.hart[1].stats.patches_applied, 1);
    CHECK_EQ(violations, 0);
}

/* Two harts ask each other at the same moment, many times over. */
struct crossing {
    unsigned self, other, rounds;
};

static void *cross_fence(void *arg)
{
    struct crossing *c = arg;
    coherence_unpark(&co.hart[c->self]);
    for (unsigned r = 0; r < c->rounds; r++) {
        coherence_remote_fence(&co.hart[c->self], 1u << c->other,
                               r % 3 ? REMOTE_SFENCE_VMA : REMOTE_FENCE_I);
        coherence_boundary_fast(&co.hart[c->self]);
    }
    coherence_park(&co.hart[c->self]);
    return NULL;
}

static void test_harts_fencing_each_other_finish(void)
{
    setup();
    enum { ROUNDS = 2000 };
    struct crossing a = { 0, 1, ROUNDS }, b = { 1, 0, ROUNDS };
    pthread_t ta, tb;
    pthread_create(&ta, NULL, cross_fence, &a);
    pthread_create(&tb, NULL, cross_fence, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    for (unsigned h = 0; h < 2; h++)
        coherence_unpark(&co.hart[h]);  /* serves what came after it parked */
    for (unsigned h = 0; h < 2; h++) {
        const struct coherence_stats *s = &co.hart[h].stats;
        CHECK_EQ(s->remote_fences_queued + s->remote_fences_waited, ROUNDS);
        /* every request was served: at a boundary, while waiting, or when parking */
        CHECK_EQ(acked(h, REMOTE_SFENCE_VMA), atomic_load(&co.hart[h].remote_req[REMOTE_SFENCE_VMA]));
        CHECK_EQ(acked(h, REMOTE_FENCE_I), atomic_load(&co.hart[h].remote_req[REMOTE_FENCE_I]));
        CHECK(atomic_load(&fence_i_served[h]) >= 1);
    }
    CHECK_EQ(violations, 0);
}

/* The target parks without passing a boundary after the request: the asker
 * must not wait for it any longer. */
static void *park_soon(void *arg)
{
    struct coherence_hart *ch = arg;
    while (!atomic_load(&co.hart[0].sleeping))
        sched_yield();
    coherence_park(ch);
    return NULL;
}

static void test_target_parking_releases_asker(void)
{
    setup();
    coherence_unpark(&co.hart[0]);
    coherence_unpark(&co.hart[2]);      /* "running", but never reaches a boundary */
    pthread_t t;
    pthread_create(&t, NULL, park_soon, &co.hart[2]);
    coherence_remote_fence(&co.hart[0], 1u << 2, REMOTE_SFENCE_VMA);
    pthread_join(t, NULL);
    CHECK_EQ(co.hart[0].stats.remote_fences_waited, 1);
    CHECK(atomic_load(&co.hart[2].parked));
    /* parking passed a boundary; the request it served or left queued is
     * served by the time the hart runs again */
    coherence_unpark(&co.hart[2]);
    CHECK_EQ(acked(2, REMOTE_SFENCE_VMA), 1);
}

static void test_local_fence_covers_only_its_kind(void)
{
    setup();
    coherence_unpark(&co.hart[0]);
    coherence_remote_fence(&co.hart[0], 1u << 1, REMOTE_SFENCE_VMA);
    coherence_remote_fence(&co.hart[0], 1u << 1, REMOTE_FENCE_I);
    CHECK_EQ(co.hart[0].stats.remote_fences_queued, 2);
    /* hart 1 runs SFENCE.VMA itself before any boundary: that covers the
     * SFENCE.VMA request, not the FENCE.I one */
    atomic_store(&co.hart[1].parked, false);
    coherence_fence(&co.hart[1], (struct coherence_settings){ .satp = SATP });
    CHECK_EQ(acked(1, REMOTE_SFENCE_VMA), 1);
    CHECK_EQ(acked(1, REMOTE_FENCE_I), 0);
    CHECK_EQ(atomic_load(&fence_i_served[1]), 0);
    coherence_boundary(&co.hart[1]);
    CHECK_EQ(acked(1, REMOTE_FENCE_I), 1);
    CHECK_EQ(atomic_load(&fence_i_served[1]), 1);
    CHECK_EQ(co.hart[1].stats.remote_fences_served, 1);
}

/* --stats-json carries the new counters next to the old ones. */
static void test_stats_report_remote_fences(void)
{
    setup();
    coherence_unpark(&co.hart[0]);
    coherence_remote_fence(&co.hart[0], 0x6, REMOTE_SFENCE_VMA);
    char *json = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&json, &len);
    struct hart_counters hc[NHARTS] = { { .instret = 1 }, { .instret = 2 }, { .instret = 3 } };
    coherence_stats_json(f, &co, hc);
    fclose(f);
    CHECK(strstr(json, "\"shootdowns\": 0, \"remote_fences_queued\": 2, "
                       "\"remote_fences_waited\": 0, \"remote_fences_served\": 0}") != NULL);
    free(json);
}

int main(void)
{
    test_parked_target_is_queued();
    test_running_target_is_waited_for();
    test_harts_fencing_each_other_finish();
    test_target_parking_releases_asker();
    test_local_fence_covers_only_its_kind();
    test_stats_report_remote_fences();
    coherence_destroy(&co);
    mem_destroy(&mem);
    return check_summary();
}
