/* icache: decoded pages, their snapshots and FENCE.I (see icache.h). */
#include "cpu/icache.h"

#include <stdlib.h>
#include <string.h>

void icache_init(struct icache *c, struct guest_mem *mem)
{
    memset(c, 0, sizeof *c);
    c->mem = mem;
    c->seen_epoch = mem ? mem_code_epoch(mem) : 0;
}

void icache_destroy(struct icache *c)
{
    for (unsigned i = 0; i < ICACHE_BUCKETS; i++)
        free(c->bucket[i]);
    memset(c->bucket, 0, sizeof c->bucket);
}

static const _Atomic uint64_t *guest_words(const struct guest_mem *m, uint64_t frame)
{
    return (const _Atomic uint64_t *)(const void *)mem_ram_ptr(m, frame);
}

/* Mark the frame first, then read it: a device write that misses the mark
 * is visible to these reads (guest_mem.h). The slots must be empty. */
static void take_snapshot(struct icache *c, struct icache_page *p, uint64_t frame)
{
    mem_code_mark(c->mem, frame);
    const _Atomic uint64_t *w = guest_words(c->mem, frame);
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        p->bytes[i] = atomic_load_explicit(&w[i], memory_order_relaxed);
    p->frame = frame;
    p->unchecked = false;
    c->stats.pages_made++;
}

static void sync_page(struct icache *c, struct icache_page *p);

/* A new page comes from calloc: fresh memory is zero already, and the slot
 * array, of which code uses a fraction, is then only touched where used. */
struct icache_page *icache_page_for(struct icache *c, uint64_t frame,
                                    const struct icache_page **evicted)
{
    struct icache_page **b = &c->bucket[(frame >> PAGE_SHIFT) & (ICACHE_BUCKETS - 1)];
    struct icache_page *p = *b;
    *evicted = NULL;
    if (p && p->frame == frame) {
        if (p->unchecked)
            sync_page(c, p);
        return p;
    }
    if (p) {
        *evicted = p;
        c->stats.pages_evicted++;
        memset(p->slot, 0, sizeof p->slot);
    } else {
        p = calloc(1, sizeof *p);
        if (!p)
            return NULL;
        *b = p;
    }
    take_snapshot(c, p, frame);
    return p;
}

bool icache_decode_slot(struct icache_page *p, unsigned index)
{
    const uint16_t *parcels = (const uint16_t *)(const void *)p->bytes;
    uint32_t raw = parcels[index];
    if ((raw & 3) == 3) {
        if (index + 1 >= ICACHE_SLOTS)
            return false;
        raw |= (uint32_t)parcels[index + 1] << 16;
    }
    decode(raw, &p->slot[index]);
    return true;
}

/* Word i of the snapshot changed: take the new bytes and empty every slot
 * whose instruction may cover them. An instruction covers at most 4 bytes,
 * so the slots from 2 bytes before the word to its end. */
static void refresh_word(struct icache_page *p, unsigned i, uint64_t now, uint64_t *dropped)
{
    p->bytes[i] = now;
    unsigned first = i * 4 == 0 ? 0 : i * 4 - 1, last = i * 4 + 3;
    for (unsigned s = first; s <= last; s++)
        if (p->slot[s].len) {
            p->slot[s].len = 0;
            p->slot[s].op = 0;
            (*dropped)++;
        }
}

static void sync_page(struct icache *c, struct icache_page *p)
{
    p->unchecked = false;
    const _Atomic uint64_t *w = guest_words(c->mem, p->frame);
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++) {
        uint64_t now = atomic_load_explicit(&w[i], memory_order_relaxed);
        if (now != p->bytes[i])
            refresh_word(p, i, now, &c->stats.slots_dropped);
    }
}

/* The acquire load pairs with the writer's increment of the epoch, so the
 * comparisons after it see every write the epoch counted. */
void icache_sync(struct icache *c)
{
    if (!c->mem)
        return;
    c->seen_epoch = atomic_load_explicit(&c->mem->code_epoch, memory_order_acquire);
    c->stats.syncs++;
    for (unsigned i = 0; i < ICACHE_BUCKETS; i++)
        if (c->bucket[i])
            c->bucket[i]->unchecked = true;
}
