/* device: the one small interface every device model implements.
 *
 * A device is a block of registers at an offset inside its MMIO window
 * (read/write with a size of 1, 2, 4 or 8 bytes), a reset, and at most the
 * interrupt lines it drives. Devices never touch a hart: they raise lines,
 * and machine/ wires lines to the PLIC and the PLIC's outputs to harts.
 * Device register accesses arrive on whichever hart thread executed the
 * load or store; each device serialises them with its own lock.
 */
#ifndef UMBRA_DEV_DEVICE_H
#define UMBRA_DEV_DEVICE_H
#include <stdbool.h>
#include <stdint.h>
#include "mem/guest_mem.h"

/* One interrupt line: the device calls irq_set(line, level). */
struct irq_line {
    void (*set)(void *ctx, unsigned line, bool level);
    void *ctx;
    unsigned line;
};

static inline void irq_set(const struct irq_line *l, bool level)
{
    if (l->set)
        l->set(l->ctx, l->line, level);
}

struct device {
    const char *name;
    uint64_t size;                  /* length of the MMIO window */
    struct mmio_ops mmio;           /* read/write at an offset with a size */
    void (*reset)(struct device *dev);
    struct irq_line irq;            /* the line it drives, if any */
};

/* Map a device's window at `base` in guest physical memory. */
static inline bool device_map(struct guest_mem *m, struct device *d, uint64_t base)
{
    return mem_map_mmio(m, base, d->size, &d->mmio, d, d->name);
}
#endif
