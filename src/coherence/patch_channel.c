#include "coherence/patch_channel.h"
#include <stdlib.h>
#include <string.h>

void patch_channel_init(struct patch_channel *c)
{
    memset(c, 0, sizeof *c);
    for (unsigned i = 0; i < PATCH_CHANNEL_SLOTS; i++)
        atomic_init(&c->slot[i].in_use, 0);
}

/* Acquire pairs with the consumer's release in take: once we see the slot
 * free, the consumer's reads of the old patch are complete, so overwriting
 * it cannot tear what the consumer is reading. */
bool patch_channel_full(const struct patch_channel *c)
{
    const struct patch_slot *s = &c->slot[c->head & (PATCH_CHANNEL_SLOTS - 1)];
    return atomic_load_explicit(&s->in_use, memory_order_acquire) != 0;
}

bool patch_channel_post(struct patch_channel *c, const struct patch *p)
{
    if (patch_channel_full(c)) {
        c->overflowed++;
        return false;
    }
    struct patch_slot *s = &c->slot[c->head & (PATCH_CHANNEL_SLOTS - 1)];
    s->patch = *p;
    /* Release: the patch is visible before the flag says so (claim 56). */
    atomic_store_explicit(&s->in_use, 1, memory_order_release);
    c->head++;
    c->posted++;
    return true;
}

bool patch_channel_take(struct patch_channel *c, struct patch *out)
{
    struct patch_slot *s = &c->slot[c->tail & (PATCH_CHANNEL_SLOTS - 1)];
    /* Acquire pairs with the producer's release in post. */
    if (!atomic_load_explicit(&s->in_use, memory_order_acquire))
        return false;
    *out = s->patch;
    /* Release: our read of the patch completes before the slot is reusable. */
    atomic_store_explicit(&s->in_use, 0, memory_order_release);
    c->tail++;
    c->taken++;
    return true;
}

unsigned patch_channel_drain(struct patch_channel *c,
                             void (*apply)(void *ctx, const struct patch *p), void *ctx)
{
    struct patch p;
    unsigned n = 0;
    /* At most one ring's worth: a producer that keeps posting while we drain
     * cannot keep the consumer here forever. What is left was posted after
     * the drain began, so no coherency event is owed it yet. */
    while (n < PATCH_CHANNEL_SLOTS && patch_channel_take(c, &p)) {
        apply(ctx, &p);
        n++;
    }
    if (n > c->high_water)
        c->high_water = n;
    return n;
}

bool patch_matrix_init(struct patch_matrix *m, unsigned nharts)
{
    m->nharts = nharts;
    m->nproducers = nharts + 1;
    size_t n = (size_t)m->nproducers * nharts;
    m->channel = aligned_alloc(64, n * sizeof *m->channel);
    if (!m->channel)
        return false;
    for (size_t i = 0; i < n; i++)
        patch_channel_init(&m->channel[i]);
    return true;
}

void patch_matrix_destroy(struct patch_matrix *m)
{
    free(m->channel);
    m->channel = NULL;
}
