/* coherence: keeping every hart's shadow page table coherent with the guest
 * page tables — the patch-channel mechanism of the claims, and the two
 * strategies it is compared with (DESIGN.md sections 1, 2, 4, 5).
 *
 * The parts, each in its own file:
 *   trace.c     write traces: placing them on page-table frames, the race
 *               between placing a trace and a store in flight (the long
 *               comment there is the argument that it is solved), the
 *               per-hart boundary and parking that the argument relies on.
 *   producer.c  the producer: every store to a traced frame computes the
 *               derived value and the validity token and posts one patch
 *               into the channel of each hart whose shadow depends on the
 *               frame (claims 48, 49, 60, 61); a full ring turns into a
 *               resync request instead of a wait (DESIGN.md 4.3).
 *   consumer.c  the consumer: at a coherency event (SFENCE.VMA, hart reset)
 *               a hart drains its column of the matrix and eliminates each
 *               incoherency — token valid: write the derived value (claim
 *               49); stale: invalidate (claim 50) or re-walk (claim 51).
 *   translate.c the hart's translation on a fast-cache miss: shadow lookup,
 *               else guest walk and derive the path.
 *   fast.c      what the hart's fast cache took from which shadow page, and
 *               which of it a changed derived entry makes it forget.
 *   audit.c     --audit: the invariant of DESIGN.md section 2, checked at
 *               every coherency event.
 *   remote.c    remote coherency events (SBI remote SFENCE.VMA and
 *               FENCE.I): queued for a parked hart until it resumes, waited
 *               for (a spin of 20 us at most, then asleep) when the target
 *               is running.
 *   stats.c     --stats / --stats-json counters.
 *
 * Threads: each hart thread calls the coherence_hart_* functions for its
 * own hart only. Producer hooks run on whichever thread stores (a hart, or
 * a device doing DMA on a hart's thread). Nothing here blocks a producer on
 * a consumer, except the `eager` strategy, which exists to show that cost.
 */
#ifndef UMBRA_COHERENCE_COHERENCE_H
#define UMBRA_COHERENCE_COHERENCE_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "coherence/patch_channel.h"
#include "mem/guest_mem.h"
#include "mmu/mmu.h"
#include "mmu/shadow.h"

#define COHERENCE_MAX_HARTS 31          /* trace word bits 0..30; bit 31 = shared table */
#define TRACE_SHARED_BIT (1u << 31)

enum coherence_strategy {
    COHERENCE_PATCH,    /* lazy patches through the matrix (the default) */
    COHERENCE_FLUSH,    /* no traces; a fence drops the hart's derived state */
    COHERENCE_EAGER,    /* every traced store updates every hart before it completes */
};

enum stale_policy {
    STALE_INVALIDATE,   /* claim 50 */
    STALE_REWALK,       /* claim 51 */
};

struct coherence_options {
    enum coherence_strategy strategy;
    bool shared_table;          /* --shadow=shared (claim 62) */
    enum stale_policy stale;
    bool audit;                 /* --audit */
    uint64_t drop_patch;        /* test hook: ignore every Nth patch that takes a grant away (0 = never) */
};

struct coherence_stats {
    uint64_t coherency_events;
    uint64_t patches_produced;  /* posted by this hart as a producer */
    uint64_t stores_unchanged;  /* traced stores by this hart that changed nothing: no patch */
    uint64_t patches_applied;   /* taken by this hart with a valid token */
    uint64_t patches_stale;     /* taken with a stale token */
    uint64_t invalidated;       /* stale → entry invalidated */
    uint64_t rewalked;          /* stale → entry derived again from the current PTE */
    uint64_t revalidated;       /* entries re-derived while their trace was unconfirmed */
    uint64_t resyncs;           /* full resyncs after a ring overflow */
    uint64_t unshadowed;        /* frames unshadowed for write flooding (per-hart tables) */
    uint64_t patches_dormant;   /* taken for a frame unshadowed after they were posted */
    uint64_t dormant_drops;     /* tables dropped for holding too many dormant pages */
    uint64_t page_walks;        /* guest page-table walks */
    uint64_t shootdowns;        /* eager: synchronous updates this hart waited for */
    uint64_t remote_fences_queued;  /* asked by this hart of a parked hart: not waited for */
    uint64_t remote_fences_waited;  /* asked by this hart of a running hart: waited for */
    uint64_t remote_fences_served;  /* asked of this hart, served at its boundary or resume */
};

/* A hart's translation settings at a coherency event, for the audit: the
 * page table, and MXR, the one mstatus bit every fast-cache context reads
 * alike. Privilege and SUM need not be given: the audit checks each
 * context with its own (mmu.h, enum tlb_ctx). */
struct coherence_settings {
    uint64_t satp;
    bool mxr;
};

/* The coherency events one hart may ask of another (remote.c). */
enum coherence_remote_kind {
    REMOTE_SFENCE_VMA,          /* translations: this mechanism's own event */
    REMOTE_FENCE_I,             /* fetched code: the hart's own, through a hook */
    REMOTE_KINDS,
};

/* What serving a remote event needs from the hart above (set by machine/,
 * called on the hart's own thread). */
struct coherence_hart_hooks {
    /* The hart's current settings, for the audit of a served SFENCE.VMA
     * (NULL: no audit then). */
    void (*settings)(void *ctx, struct coherence_settings *s);
    /* A served FENCE.I (NULL: a host fence is all it takes). */
    void (*fence_i)(void *ctx);
    void *ctx;
};

struct coherence;

#define FAST_FORGET_MAX 64

struct coherence_hart {
    struct coherence *co;
    unsigned id;
    struct shadow_table own;            /* per-hart mode */
    struct shadow_table *table;         /* &own, or the machine's shared table */
    struct tlb *fast;                   /* the hart's fast cache, in front of the table */
    /* What the fast cache must forget at the next coherency event
     * (fast.c): everything, or the virtual pages listed. */
    bool fast_forget_all;
    unsigned fast_forget_n;
    uint64_t fast_forget[FAST_FORGET_MAX];
    uint64_t patches_taken;             /* taking patches seen, for the drop_patch hook */
    _Atomic bool resync;                /* a producer found our ring full */
    _Atomic uint64_t seen_epoch;        /* last trace epoch this hart purged for */
    _Atomic bool parked;                /* not executing: WFI, stopped or not started */
    _Atomic uint64_t shootdown_req;     /* eager strategy */
    _Atomic uint64_t shootdown_ack;
    /* Remote events (remote.c), per kind: other harts bump remote_req; this
     * hart sets remote_ack to the request count its latest event covered. */
    _Atomic uint64_t remote_req[REMOTE_KINDS];
    _Atomic uint64_t remote_ack[REMOTE_KINDS];
    /* The doorbell a hart sleeps on while it waits for remote fences: bumped
     * whenever what it waits for may have changed. */
    _Atomic uint64_t bell;
    _Atomic bool sleeping;
    pthread_mutex_t bell_lock;
    pthread_cond_t bell_cond;
    struct coherence_hart_hooks hooks;
    struct coherence_stats stats;
};

/* How the machine is told about a violation, and how a hart is woken
 * (eager shoot-downs, a parked one) or sent to its next boundary soon (a
 * remote fence, a running one); both set by machine/. */
struct coherence_hooks {
    void (*kick)(void *ctx, unsigned hart);
    void (*violation)(void *ctx, unsigned hart);
    void *ctx;
};

/* Validity tokens are write generations per PTE, folded: the generation of
 * the entry at guest-physical address pa is write_gen[(pa >> 3) mod
 * COHERENCE_WRITE_GENS], so entries 8 MiB apart share one. Sharing can
 * only make a patch look stale (another entry's store moved the count on),
 * never make a stale patch look valid, and stale is always safe (claims 50,
 * 51). A generation per frame, which umbra used before, made every patch
 * but the last of a burst of stores to one page-table page stale: a fork's
 * write-protection of 512 entries invalidated 511 of them. */
#define COHERENCE_WRITE_GENS (1u << 20)

struct coherence {
    struct guest_mem *mem;
    unsigned nharts;
    struct coherence_options opt;
    struct coherence_hooks hooks;
    struct patch_matrix matrix;
    _Atomic uint32_t *write_gen;        /* validity tokens (claims 49, 52): COHERENCE_WRITE_GENS */
    _Atomic uint32_t *inflight;         /* per RAM frame: traced stores not yet posted */
    _Atomic uint64_t trace_epoch;       /* bumped by every trace placement */
    pthread_mutex_t dma_lock;           /* serialises the device-DMA producer row */
    struct shadow_table shared;         /* --shadow=shared */
    struct coherence_hart hart[COHERENCE_MAX_HARTS];
};

const char *coherence_strategy_name(enum coherence_strategy s);

/* Set up for nharts harts over mem (installs mem's trace hooks). */
bool coherence_init(struct coherence *co, struct guest_mem *mem, unsigned nharts,
                    const struct coherence_options *opt, struct coherence_hooks hooks);
void coherence_destroy(struct coherence *co);

/* ---- per hart, on the hart's own thread ---- */
struct coherence_hart *coherence_hart_attach(struct coherence *co, unsigned id, struct tlb *fast);

/* Translate on a fast-cache miss. Fills *w as mmu_walk does; *cacheable says
 * whether the fast cache may remember the page (the shadow table grants it
 * too, so the fast cache never holds more than the table). */
void coherence_translate(struct coherence_hart *ch, const struct walk_request *req,
                         uint64_t va, struct walk_result *w, bool *cacheable);

/* A coherency event: SFENCE.VMA (any form; DESIGN.md section 2 allows
 * draining everything at every fence). `s` is the hart's current
 * translation settings, for the audit. */
void coherence_fence(struct coherence_hart *ch, struct coherence_settings s);

/* Hart reset, a PMP change or anything else after which no derived state
 * may survive. */
void coherence_drop_all(struct coherence_hart *ch);

/* Called at least every thousand or so instructions (and before the first one
 * after being parked): purges fast-cache write permission for newly traced
 * frames, serves eager shoot-downs and remote fences. */
void coherence_boundary(struct coherence_hart *ch);
static inline void coherence_boundary_fast(struct coherence_hart *ch)
{
    if (atomic_load_explicit(&ch->co->trace_epoch, memory_order_relaxed) !=
            atomic_load_explicit(&ch->seen_epoch, memory_order_relaxed) ||
        atomic_load_explicit(&ch->shootdown_req, memory_order_relaxed) !=
            atomic_load_explicit(&ch->shootdown_ack, memory_order_relaxed) ||
        atomic_load_explicit(&ch->remote_req[REMOTE_SFENCE_VMA], memory_order_relaxed) !=
            atomic_load_explicit(&ch->remote_ack[REMOTE_SFENCE_VMA], memory_order_relaxed) ||
        atomic_load_explicit(&ch->remote_req[REMOTE_FENCE_I], memory_order_relaxed) !=
            atomic_load_explicit(&ch->remote_ack[REMOTE_FENCE_I], memory_order_relaxed))
        coherence_boundary(ch);
}

/* The hart stops / resumes executing instructions (WFI, HSM stop, exit). */
void coherence_park(struct coherence_hart *ch);
void coherence_unpark(struct coherence_hart *ch);

/* ---- remote coherency events (remote.c) ---- */
void coherence_hart_set_hooks(struct coherence_hart *ch, struct coherence_hart_hooks hooks);

/* Hart `self` asks every hart in `targets` (bit h = hart h; self's own bit
 * is ignored: the caller fences itself) for a coherency event of `kind`,
 * and returns once each target has either passed such an event after the
 * request, or is parked — then the event is queued and the target performs
 * it as it resumes, before its next instruction, which is as good: a parked
 * hart neither translates nor fetches. A running target is kicked
 * (coherence_hooks.kick: its machine ends the block it is in) and serves
 * the request at its next boundary; meanwhile `self` sleeps on its doorbell and serves
 * requests aimed at itself, so two harts fencing each other cannot wait
 * forever. Counts remote_fences_queued / _waited in self's stats. */
void coherence_remote_fence(struct coherence_hart *self, uint32_t targets,
                            enum coherence_remote_kind kind);

/* ---- reports ---- */
struct coherence_report {
    struct coherence_stats s;
    uint64_t ring_high_water;   /* most patches waiting in one of its channels at a drain */
    uint64_t ring_overflows;    /* patches for this hart refused by a full ring */
    uint64_t shadow_entries;    /* live derived entries in its table */
    uint64_t shadow_pages;
};
void coherence_report(const struct coherence *co, unsigned hart, struct coherence_report *r);

/* What each hart counts itself (the caller's, cpu/hart.h), shown first:
 * instructions retired, sleeps waiting for an IPI to be taken, and WFIs
 * that polled and were made to sleep. */
struct hart_counters {
    uint64_t instret;
    uint64_t ipi_waits;
    uint64_t spin_yields;       /* host CPU given away in a detected spin loop */
    uint64_t wfi_poll_sleeps;
    uint64_t slices;            /* times a pool's worker took the hart (cpu/pool.h) */
    uint64_t code_pages;        /* decoded pages made (cpu/icache.h) */
    uint64_t code_evictions;    /* of those, made in place of another */
    uint64_t jit_units;         /* units of host code translated (cpu/jit.h) */
    uint64_t jit_resets;        /* times the code buffer filled and was emptied */
    uint64_t user_instret;      /* of instret, those retired in U-mode */
    uint64_t gathered_slices;   /* of slices, those while the pool was gathered */
};

/* The per-hart table of --stats, and the same as JSON (--stats-json): an
 * object with a "harts" array of one object per hart. hc[h] is hart h's own
 * counters. Call after the harts stopped. */
void coherence_stats_text(FILE *out, const struct coherence *co, const struct hart_counters *hc);
void coherence_stats_json(FILE *out, const struct coherence *co, const struct hart_counters *hc);
#endif
