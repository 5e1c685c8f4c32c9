/* profile: where a hart's host time goes, by guest code (--profile).
 *
 * Owns one hart's table of guest pcs: for each pc a block began at (with
 * the privilege it ran in), the host time its blocks took, the
 * instructions they retired and how many there were. A block runs at
 * most POLL_INTERVAL instructions from its first pc, so a pc's time is
 * that of the code from it up to the next block boundary, which a
 * function-level view (machine/profile_report.h) makes precise enough:
 * the loops a hart spends its time in begin most of its blocks.
 *
 * Written by the hart's own thread (hart.c, around each block); read by
 * machine/ once the harts have stopped for good. No locks, no atomics.
 */
#ifndef UMBRA_CPU_PROFILE_H
#define UMBRA_CPU_PROFILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile_entry {
    uint64_t pc;
    uint64_t host_ns;           /* host time of the blocks that began here */
    uint64_t insns;             /* instructions they retired */
    uint64_t blocks;
    uint8_t priv;               /* privilege at the block's start (enum priv) */
};

struct profile {
    struct profile_entry *slot; /* open addressing; blocks == 0: unused */
    size_t capacity;            /* a power of two */
    size_t used;
    uint64_t lost_ns;           /* time of blocks the table had no room for */
};

/* An empty table; false if memory cannot be had. */
bool profile_init(struct profile *p);
void profile_destroy(struct profile *p);

/* The host's monotonic clock, in nanoseconds: what profile_charge takes. */
uint64_t profile_clock_ns(void);

/* Charge a block that began at pc in privilege priv: it took host_ns and
 * retired insns instructions. */
void profile_charge(struct profile *p, uint64_t pc, unsigned priv, uint64_t host_ns,
                    uint64_t insns);

/* Add e's counts to the entry for e's pc and privilege (merging tables). */
void profile_add(struct profile *p, const struct profile_entry *e);

/* The entries in use, in no order: calls fn for each. */
void profile_for_each(const struct profile *p,
                      void (*fn)(const struct profile_entry *e, void *ctx), void *ctx);
#endif
