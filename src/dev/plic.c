/* PLIC model, after the RISC-V PLIC specification 1.0.0 (memory map,
 * claim/complete, gateways) and the context layout of QEMU's `virt`. */
#include "dev/plic.h"
#include <pthread.h>
#include <stdlib.h>

#define PLIC_WORDS (PLIC_NUM_SOURCES / 32)

struct plic_context {
    uint32_t enable[PLIC_WORDS];
    uint32_t threshold;
    bool output;                    /* level last sent out */
};

struct plic {
    struct device dev;              /* first: the board maps it */
    pthread_mutex_t lock;
    struct irq_line out;
    unsigned ncontexts;
    uint8_t priority[PLIC_NUM_SOURCES];
    uint32_t pending[PLIC_WORDS];
    uint32_t in_service[PLIC_WORDS];    /* claimed, not yet completed */
    uint32_t level[PLIC_WORDS];         /* input lines as devices drive them */
    struct plic_context *ctx;           /* [ncontexts] */
};

static bool bit_get(const uint32_t *words, unsigned id)
{
    return words[id / 32] >> (id % 32) & 1;
}

static void bit_put(uint32_t *words, unsigned id, bool v)
{
    if (v)
        words[id / 32] |= 1u << (id % 32);
    else
        words[id / 32] &= ~(1u << (id % 32));
}

/* The source a claim by context `c` would return: the highest priority
 * pending enabled source whose priority exceeds the threshold; among equal
 * priorities the lowest id wins (PLIC spec, "Interrupt Priorities").
 * Priority 0 never interrupts since the threshold is at least 0. */
static unsigned best_source(const struct plic *p, const struct plic_context *c)
{
    unsigned best = 0;
    uint32_t best_prio = c->threshold;
    for (unsigned w = 0; w < PLIC_WORDS; w++) {
        uint32_t bits = p->pending[w] & c->enable[w];
        while (bits) {
            unsigned id = w * 32 + (unsigned)__builtin_ctz(bits);
            bits &= bits - 1;
            if (p->priority[id] > best_prio) {
                best_prio = p->priority[id];
                best = id;
            }
        }
    }
    return best;
}

static void update_outputs(struct plic *p)
{
    for (unsigned i = 0; i < p->ncontexts; i++) {
        struct plic_context *c = &p->ctx[i];
        bool level = best_source(p, c) != 0;
        if (level != c->output) {
            c->output = level;
            if (p->out.set)
                p->out.set(p->out.ctx, i, level);
        }
    }
}

static unsigned claim(struct plic *p, struct plic_context *c)
{
    unsigned id = best_source(p, c);
    if (id) {
        bit_put(p->pending, id, false);
        bit_put(p->in_service, id, true);
    }
    return id;
}

/* A completion for a source the context does not have enabled is ignored
 * (PLIC spec, "Interrupt Completion"); Linux relies on this. */
static void complete(struct plic *p, struct plic_context *c, uint32_t id)
{
    if (id == 0 || id >= PLIC_NUM_SOURCES || !bit_get(c->enable, id) || !bit_get(p->in_service, id))
        return;
    bit_put(p->in_service, id, false);
    bit_put(p->pending, id, bit_get(p->level, id));
}

/* The context an offset in the enable or context area belongs to, or NULL
 * for a context that does not exist. */
static struct plic_context *context_at(struct plic *p, uint64_t index)
{
    return index < p->ncontexts ? &p->ctx[index] : NULL;
}

static uint32_t read_locked(struct plic *p, uint64_t off)
{
    if (off < PLIC_PENDING_BASE) {
        uint64_t id = off / 4;
        return id < PLIC_NUM_SOURCES ? p->priority[id] : 0;
    }
    if (off < PLIC_ENABLE_BASE) {
        uint64_t w = (off - PLIC_PENDING_BASE) / 4;
        return w < PLIC_WORDS ? p->pending[w] : 0;
    }
    if (off < PLIC_CONTEXT_BASE) {
        uint64_t rel = off - PLIC_ENABLE_BASE, w = rel % PLIC_ENABLE_STRIDE / 4;
        struct plic_context *c = context_at(p, rel / PLIC_ENABLE_STRIDE);
        return c && w < PLIC_WORDS ? c->enable[w] : 0;
    }
    uint64_t rel = off - PLIC_CONTEXT_BASE, reg = rel % PLIC_CONTEXT_STRIDE;
    struct plic_context *c = context_at(p, rel / PLIC_CONTEXT_STRIDE);
    if (!c)
        return 0;
    if (reg == 0)
        return c->threshold;
    if (reg == PLIC_CLAIM_OFFSET) {
        uint32_t id = claim(p, c);
        update_outputs(p);
        return id;
    }
    return 0;
}

static void write_locked(struct plic *p, uint64_t off, uint32_t v)
{
    if (off < PLIC_PENDING_BASE) {
        uint64_t id = off / 4;
        if (id != 0 && id < PLIC_NUM_SOURCES)
            p->priority[id] = v & PLIC_MAX_PRIORITY;   /* WARL: 3 bits */
    } else if (off < PLIC_ENABLE_BASE) {
        /* pending bits are read-only */
    } else if (off < PLIC_CONTEXT_BASE) {
        uint64_t rel = off - PLIC_ENABLE_BASE, w = rel % PLIC_ENABLE_STRIDE / 4;
        struct plic_context *c = context_at(p, rel / PLIC_ENABLE_STRIDE);
        if (c && w < PLIC_WORDS)
            c->enable[w] = w == 0 ? v & ~1u : v;       /* source 0 does not exist */
    } else {
        uint64_t rel = off - PLIC_CONTEXT_BASE, reg = rel % PLIC_CONTEXT_STRIDE;
        struct plic_context *c = context_at(p, rel / PLIC_CONTEXT_STRIDE);
        if (c && reg == 0)
            c->threshold = v & PLIC_MAX_PRIORITY;
        else if (c && reg == PLIC_CLAIM_OFFSET)
            complete(p, c, v);
    }
    update_outputs(p);
}

/* Every PLIC register is 32 bits wide and naturally aligned. */
static bool valid_access(uint64_t off, unsigned size)
{
    return size == 4 && (off & 3) == 0 && off < PLIC_WINDOW_SIZE;
}

static bool plic_mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct plic *p = dev;
    if (!valid_access(offset, size))
        return false;
    pthread_mutex_lock(&p->lock);
    *value = read_locked(p, offset);
    pthread_mutex_unlock(&p->lock);
    return true;
}

static bool plic_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct plic *p = dev;
    if (!valid_access(offset, size))
        return false;
    pthread_mutex_lock(&p->lock);
    write_locked(p, offset, (uint32_t)value);
    pthread_mutex_unlock(&p->lock);
    return true;
}

void plic_set_irq(void *plic, unsigned src, bool level)
{
    struct plic *p = plic;
    if (src == 0 || src >= PLIC_NUM_SOURCES)
        return;
    pthread_mutex_lock(&p->lock);
    bit_put(p->level, src, level);
    if (!bit_get(p->in_service, src))
        bit_put(p->pending, src, level);
    update_outputs(p);
    pthread_mutex_unlock(&p->lock);
}

/* Reset clears the programmable state; the input lines belong to the
 * devices, so a source whose line is high is pending again at once. */
static void plic_reset(struct device *dev)
{
    struct plic *p = (struct plic *)dev;
    pthread_mutex_lock(&p->lock);
    for (unsigned i = 0; i < PLIC_NUM_SOURCES; i++)
        p->priority[i] = 0;
    for (unsigned w = 0; w < PLIC_WORDS; w++) {
        p->in_service[w] = 0;
        p->pending[w] = p->level[w];
    }
    for (unsigned i = 0; i < p->ncontexts; i++) {
        for (unsigned w = 0; w < PLIC_WORDS; w++)
            p->ctx[i].enable[w] = 0;
        p->ctx[i].threshold = 0;
    }
    update_outputs(p);
    pthread_mutex_unlock(&p->lock);
}

struct plic *plic_create(unsigned nharts, struct irq_line out)
{
    if (nharts == 0 || nharts > PLIC_MAX_CONTEXTS / 2)
        return NULL;
    struct plic *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->ncontexts = 2 * nharts;
    p->ctx = calloc(p->ncontexts, sizeof *p->ctx);
    if (!p->ctx) {
        free(p);
        return NULL;
    }
    p->dev.name = "plic";
    p->dev.size = PLIC_WINDOW_SIZE;
    p->dev.mmio.read = plic_mmio_read;
    p->dev.mmio.write = plic_mmio_write;
    p->dev.reset = plic_reset;
    p->out = out;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void plic_destroy(struct plic *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->ctx);
    free(p);
}

struct device *plic_device(struct plic *p)
{
    return &p->dev;
}

struct irq_line plic_source_line(struct plic *p, unsigned src)
{
    return (struct irq_line){ .set = plic_set_irq, .ctx = p, .line = src };
}
