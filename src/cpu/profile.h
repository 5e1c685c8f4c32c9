/* profile: where a hart's host time goes, by guest code (--profile).
 *
 * Owns one hart's table of guest pcs: for each pc a step of the block
 * loop began at (a translated unit with the units it goes on into, or one
 * interpreted instruction), with the privilege it ran in, the host time
 * its steps took, the instructions they retired and how many there were.
 * Time is counted in profile_ticks, the cheapest clock the host has.
 *
 * Written by the thread running the hart (exec.c, around each step); read
 * by machine/ once the harts have stopped for good. No locks, no atomics.
 */
#ifndef UMBRA_CPU_PROFILE_H
#define UMBRA_CPU_PROFILE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct profile_entry {
    uint64_t pc;
    uint64_t ticks;             /* host time of the steps that began here */
    uint64_t insns;             /* instructions they retired */
    uint64_t steps;
    uint8_t priv;               /* privilege at the step's start (enum priv) */
};

struct profile {
    struct profile_entry *slot; /* open addressing; steps == 0: unused */
    size_t capacity;            /* a power of two */
    size_t used;
    uint64_t lost_ticks;        /* time of steps the table had no room for */
};

/* An empty table; false if memory cannot be had. */
bool profile_init(struct profile *p);
void profile_destroy(struct profile *p);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t profile_clock_ns(void);

/* The clock steps are timed with: the time-stamp counter on x86-64 (a
 * few cycles to read, where clock_gettime costs tens of nanoseconds, as
 * much as a short step), else CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t profile_ticks(void)
{
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return profile_clock_ns();
#endif
}

/* A pair of readings of both clocks, and the ticks per nanosecond
 * between an earlier pair and now (1 where the ticks are nanoseconds). */
struct profile_clocks {
    uint64_t ticks, ns;
};
struct profile_clocks profile_clocks_now(void);
double profile_ticks_per_ns(struct profile_clocks since);

/* Charge a step that began at pc in privilege priv: it took `ticks` and
 * retired insns instructions. */
void profile_charge(struct profile *p, uint64_t pc, unsigned priv, uint64_t ticks,
                    uint64_t insns);

/* Add e's counts to the entry for e's pc and privilege (merging tables). */
void profile_add(struct profile *p, const struct profile_entry *e);

/* The entries in use, in no order: calls fn for each. */
void profile_for_each(const struct profile *p,
                      void (*fn)(const struct profile_entry *e, void *ctx), void *ctx);
#endif
