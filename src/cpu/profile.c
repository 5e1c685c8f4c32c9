/* profile: a hart's guest-pc table (see profile.h). */
#include "cpu/profile.h"

#include <stdlib.h>
#include <time.h>

/* Room for the first pcs; the table doubles when three quarters full, up
 * to PROFILE_MAX_ENTRIES (a Linux boot begins steps at some 100,000). */
#define PROFILE_FIRST_ENTRIES 4096u
#define PROFILE_MAX_ENTRIES (1u << 22)

bool profile_init(struct profile *p)
{
    *p = (struct profile){ calloc(PROFILE_FIRST_ENTRIES, sizeof *p->slot),
                           PROFILE_FIRST_ENTRIES, 0, 0 };
    return p->slot != NULL;
}

void profile_destroy(struct profile *p)
{
    free(p->slot);
    *p = (struct profile){ 0 };
}

uint64_t profile_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct profile_clocks profile_clocks_now(void)
{
    return (struct profile_clocks){ profile_ticks(), profile_clock_ns() };
}

double profile_ticks_per_ns(struct profile_clocks since)
{
    struct profile_clocks now = profile_clocks_now();
    if (now.ns <= since.ns || now.ticks <= since.ticks)
        return 1.0;
    return (double)(now.ticks - since.ticks) / (double)(now.ns - since.ns);
}

static size_t hash(uint64_t pc, unsigned priv)
{
    uint64_t k = (pc >> 1) ^ (uint64_t)priv << 61;
    k *= 0x9e3779b97f4a7c15ull;         /* Fibonacci hashing: pcs differ in low bits */
    return (size_t)(k >> 20);
}

/* The slot for (pc, priv) in `slot` of `capacity`: its entry, or the
 * unused slot where it goes. */
static struct profile_entry *find(struct profile_entry *slot, size_t capacity, uint64_t pc,
                                  unsigned priv)
{
    size_t i = hash(pc, priv) & (capacity - 1);
    while (slot[i].steps && (slot[i].pc != pc || slot[i].priv != priv))
        i = (i + 1) & (capacity - 1);
    return &slot[i];
}

/* Double the table; false (the table as it was) if that cannot be. */
static bool grow(struct profile *p)
{
    size_t capacity = p->capacity * 2;
    if (capacity > PROFILE_MAX_ENTRIES)
        return false;
    struct profile_entry *slot = calloc(capacity, sizeof *slot);
    if (!slot)
        return false;
    for (size_t i = 0; i < p->capacity; i++)
        if (p->slot[i].steps)
            *find(slot, capacity, p->slot[i].pc, p->slot[i].priv) = p->slot[i];
    free(p->slot);
    p->slot = slot;
    p->capacity = capacity;
    return true;
}

void profile_add(struct profile *p, const struct profile_entry *add)
{
    struct profile_entry *e = find(p->slot, p->capacity, add->pc, add->priv);
    if (!e->steps) {
        if (4 * (p->used + 1) > 3 * p->capacity) {
            if (!grow(p)) {
                p->lost_ticks += add->ticks;
                return;
            }
            e = find(p->slot, p->capacity, add->pc, add->priv);
        }
        *e = (struct profile_entry){ add->pc, 0, 0, 0, add->priv };
        p->used++;
    }
    e->ticks += add->ticks;
    e->insns += add->insns;
    e->steps += add->steps;
}

void profile_charge(struct profile *p, uint64_t pc, unsigned priv, uint64_t ticks,
                    uint64_t insns)
{
    profile_add(p, &(struct profile_entry){ pc, ticks, insns, 1, (uint8_t)priv });
}

void profile_for_each(const struct profile *p,
                      void (*fn)(const struct profile_entry *e, void *ctx), void *ctx)
{
    for (size_t i = 0; i < p->capacity; i++)
        if (p->slot[i].steps)
            fn(&p->slot[i], ctx);
}
