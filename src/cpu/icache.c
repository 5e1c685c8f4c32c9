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
    for (unsigned s = 0; s < ICACHE_SETS; s++)
        for (unsigned w = 0; w < ICACHE_WAYS; w++)
            free(c->set[s][w]);
    memset(c->set, 0, sizeof c->set);
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

/* Way w of `ways` moves to the front, the ways before it one back. */
static struct icache_page *to_front(struct icache_page **ways, unsigned w)
{
    struct icache_page *p = ways[w];
    memmove(&ways[1], &ways[0], w * sizeof *ways);
    ways[0] = p;
    return p;
}

/* The page in the set for a frame it does not hold: an unused way's new
 * page, or the least recently used one emptied (*evicted). A new page
 * comes from calloc: fresh memory is zero already, and the slot array, of
 * which code uses a fraction, is then only touched where used. */
static struct icache_page *page_to_fill(struct icache *c, struct icache_page **ways,
                                        const struct icache_page **evicted)
{
    unsigned last = ICACHE_WAYS - 1;
    struct icache_page *p = ways[last];
    if (p) {
        *evicted = p;
        c->stats.pages_evicted++;
        memset(p->slot, 0, sizeof p->slot);
        p->generation++;
        return to_front(ways, last);
    }
    unsigned w = 0;
    while (ways[w])
        w++;
    ways[w] = calloc(1, sizeof *p);
    return ways[w] ? to_front(ways, w) : NULL;
}

struct icache_page *icache_page_for(struct icache *c, uint64_t frame,
                                    const struct icache_page **evicted)
{
    struct icache_page **ways = c->set[(frame >> PAGE_SHIFT) & (ICACHE_SETS - 1)];
    *evicted = NULL;
    for (unsigned w = 0; w < ICACHE_WAYS && ways[w]; w++) {
        if (ways[w]->frame != frame)
            continue;
        struct icache_page *p = to_front(ways, w);
        if (p->unchecked)
            sync_page(c, p);
        return p;
    }
    struct icache_page *p = page_to_fill(c, ways, evicted);
    if (p)
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
    p->generation++;
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
    for (unsigned s = 0; s < ICACHE_SETS; s++)
        for (unsigned w = 0; w < ICACHE_WAYS && c->set[s][w]; w++)
            c->set[s][w]->unchecked = true;
}
