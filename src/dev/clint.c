/* CLINT model: the SiFive CLINT register map that QEMU's `virt` board and
 * OpenSBI's ACLINT drivers use (msip words, 64-bit mtimecmp, mtime). */
#include "dev/clint.h"
#include <pthread.h>
#include <stdlib.h>
#include "base/timebase.h"

struct clint {
    struct device dev;              /* first: the board maps it */
    pthread_mutex_t lock;
    struct clint_hooks hooks;
    unsigned nharts;
    uint64_t *mtimecmp;             /* [nharts], the values last written */
    uint8_t *msip;                  /* [nharts], 0 or 1 */
};

static bool naturally_aligned(uint64_t offset, unsigned size)
{
    return (size == 4 || size == 8) && (offset & (size - 1)) == 0;
}

/* The part of a 64-bit register that an access of `size` at `offset` sees
 * (4-byte accesses take the low or high half). */
static uint64_t reg_slice(uint64_t reg, uint64_t offset, unsigned size)
{
    if (size == 8)
        return reg;
    return (offset & 4) ? reg >> 32 : reg & 0xffffffffu;
}

static uint64_t reg_merge(uint64_t reg, uint64_t offset, unsigned size, uint64_t value)
{
    if (size == 8)
        return value;
    if (offset & 4)
        return (reg & 0xffffffffu) | (value << 32);
    return (reg & ~0xffffffffull) | (value & 0xffffffffu);
}

static uint64_t read_locked(struct clint *c, uint64_t offset, unsigned size)
{
    if (offset < CLINT_MTIMECMP) {
        unsigned hart = (unsigned)(offset / 4);
        return hart < c->nharts ? c->msip[hart] : 0;
    }
    if (offset < CLINT_MTIME) {
        unsigned hart = (unsigned)((offset - CLINT_MTIMECMP) / 8);
        return hart < c->nharts ? reg_slice(c->mtimecmp[hart], offset, size) : 0;
    }
    if (offset < CLINT_MTIME + 8)
        return reg_slice(timebase_now(), offset, size);
    return 0;                       /* reserved: reads as zero, as on QEMU */
}

static void write_locked(struct clint *c, uint64_t offset, unsigned size, uint64_t value)
{
    if (offset < CLINT_MTIMECMP) {
        unsigned hart = (unsigned)(offset / 4);
        if (hart >= c->nharts)
            return;
        c->msip[hart] = value & 1;  /* bits 31:1 are hardwired to zero */
        if (c->hooks.set_msip)
            c->hooks.set_msip(c->hooks.ctx, hart, c->msip[hart]);
        return;
    }
    if (offset < CLINT_MTIME) {
        unsigned hart = (unsigned)((offset - CLINT_MTIMECMP) / 8);
        if (hart >= c->nharts)
            return;
        c->mtimecmp[hart] = reg_merge(c->mtimecmp[hart], offset, size, value);
        if (c->hooks.set_mtimecmp)
            c->hooks.set_mtimecmp(c->hooks.ctx, hart, c->mtimecmp[hart]);
        return;
    }
    /* mtime writes and reserved space: ignored (see clint.h). */
}

static bool clint_mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct clint *c = dev;
    if (!naturally_aligned(offset, size) || offset >= CLINT_WINDOW_SIZE)
        return false;
    if (offset < CLINT_MTIMECMP && size != 4)
        return false;               /* msip words are 32-bit registers */
    pthread_mutex_lock(&c->lock);
    *value = read_locked(c, offset, size);
    pthread_mutex_unlock(&c->lock);
    return true;
}

static bool clint_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct clint *c = dev;
    if (!naturally_aligned(offset, size) || offset >= CLINT_WINDOW_SIZE)
        return false;
    if (offset < CLINT_MTIMECMP && size != 4)
        return false;
    pthread_mutex_lock(&c->lock);
    write_locked(c, offset, size, value);
    pthread_mutex_unlock(&c->lock);
    return true;
}

static void clint_reset(struct device *dev)
{
    struct clint *c = (struct clint *)dev;
    pthread_mutex_lock(&c->lock);
    for (unsigned h = 0; h < c->nharts; h++) {
        c->msip[h] = 0;
        c->mtimecmp[h] = 0;
        if (c->hooks.set_msip)
            c->hooks.set_msip(c->hooks.ctx, h, false);
        if (c->hooks.set_mtimecmp)
            c->hooks.set_mtimecmp(c->hooks.ctx, h, 0);
    }
    pthread_mutex_unlock(&c->lock);
}

struct clint *clint_create(unsigned nharts, const struct clint_hooks *hooks)
{
    if (nharts == 0 || nharts > CLINT_MAX_HARTS)
        return NULL;
    struct clint *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->mtimecmp = calloc(nharts, sizeof *c->mtimecmp);
    c->msip = calloc(nharts, sizeof *c->msip);
    if (!c->mtimecmp || !c->msip) {
        free(c->mtimecmp);
        free(c->msip);
        free(c);
        return NULL;
    }
    c->dev.name = "clint";
    c->dev.size = CLINT_WINDOW_SIZE;
    c->dev.mmio.read = clint_mmio_read;
    c->dev.mmio.write = clint_mmio_write;
    c->dev.reset = clint_reset;
    if (hooks)
        c->hooks = *hooks;
    c->nharts = nharts;
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void clint_destroy(struct clint *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->mtimecmp);
    free(c->msip);
    free(c);
}

struct device *clint_device(struct clint *c)
{
    return &c->dev;
}
