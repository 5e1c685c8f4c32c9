/* patch_channel: one lock-free single-producer/single-consumer ring of
 * patches, and the matrix of them (claims 48, 55-59; DESIGN.md section 1).
 *
 * A patch tells one consumer that a primary entry (a guest PTE) changed:
 * which entry (its guest-physical address), the derived value the producer
 * computed from the new PTE, and a validity token that lets the consumer
 * decide whether that derived value still matches the primary entry.
 *
 * The protocol is the claims' in-use flag and nothing else: each slot has a
 * flag that only the producer sets — with a release store, after the rest of
 * the slot is written (claim 56) — and only the consumer clears — with a
 * release store, after the rest of the slot is read. The producer's and the
 * consumer's positions are private to each side, so no index is shared, no
 * lock is taken and neither side ever waits for the other. A full ring is
 * reported to the producer, which then falls back to asking the consumer for
 * a full resync (DESIGN.md section 4.3).
 *
 * Threads: exactly one producer thread and one consumer thread per channel
 * at a time (a channel whose producer side is shared, such as device DMA,
 * serialises its producers itself). The matrix is built before harts run.
 */
#ifndef UMBRA_COHERENCE_PATCH_CHANNEL_H
#define UMBRA_COHERENCE_PATCH_CHANNEL_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Power of two. A fork write-protects every writable page of the parent,
 * one patch per page for every hart that holds it: with 256 slots a
 * 4,096-page process overflowed the rings at each fork and every consumer
 * resynced from scratch (4x the page walks of 4,096 slots in ptbench with
 * umbra.wss=4096). 4,096 slots of 32 bytes are 128 KiB per channel, 2.5 MiB
 * for the 4-hart matrix and 9 MiB for 8 harts. */
#define PATCH_CHANNEL_SLOTS 4096

struct patch {
    uint64_t pte_addr;      /* first/second information: the primary entry that changed */
    uint64_t derived;       /* third information: the derived value computed from it */
    uint64_t token;         /* fourth information: validity token for `derived` */
};

struct patch_slot {
    _Atomic uint32_t in_use;    /* 1: written by the producer, not yet read */
    struct patch patch;         /* plain data, ordered by in_use */
};

struct patch_channel {
    /* producer side (one cache line apart from the consumer side) */
    _Alignas(64) uint32_t head;         /* next slot the producer writes */
    uint64_t posted, overflowed;        /* producer's own counters */
    /* consumer side */
    _Alignas(64) uint32_t tail;         /* next slot the consumer reads */
    uint64_t taken;
    uint32_t high_water;                /* most patches found waiting at one drain */
    _Alignas(64) struct patch_slot slot[PATCH_CHANNEL_SLOTS];
};

void patch_channel_init(struct patch_channel *c);

/* Producer: append a patch. Returns false, leaving the ring untouched, when
 * the ring is full; the producer must then make the consumer resync. */
bool patch_channel_post(struct patch_channel *c, const struct patch *p);

/* Producer: would a post fail now? (The diagonal's producer is also its
 * consumer, and drains instead.) */
bool patch_channel_full(const struct patch_channel *c);

/* Consumer: take the oldest patch. Returns false when none is waiting. */
bool patch_channel_take(struct patch_channel *c, struct patch *out);

/* Consumer: take every waiting patch, calling apply(ctx, patch) on each in
 * order; records the high-water mark. Returns the number taken. */
unsigned patch_channel_drain(struct patch_channel *c,
                             void (*apply)(void *ctx, const struct patch *p), void *ctx);

/* The matrix: channel (p, c) carries patches from producer p to consumer c.
 * Producers 0..nharts-1 are the harts (the diagonal included: a hart is a
 * consumer of its own writes, claim 48); producer nharts is device DMA. */
struct patch_matrix {
    unsigned nharts;
    unsigned nproducers;            /* nharts + 1 */
    struct patch_channel *channel;  /* nproducers * nharts, row-major */
};

bool patch_matrix_init(struct patch_matrix *m, unsigned nharts);
void patch_matrix_destroy(struct patch_matrix *m);

static inline struct patch_channel *patch_matrix_channel(const struct patch_matrix *m,
                                                         unsigned producer, unsigned consumer)
{
    return &m->channel[producer * m->nharts + consumer];
}
#endif
