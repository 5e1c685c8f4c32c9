/* clint: the core-local interruptor of the `virt` board (SiFive CLINT layout).
 *
 * Owns the per-hart msip bits and the CLINT's copy of each hart's mtimecmp
 * (to serve reads); mtime itself is the machine timebase (base/timebase.h).
 * Harts are reached only through the hooks the board passes in, which it
 * forwards to hart_set_irq(MIP_MSIP) and hart_set_mtimecmp; the hart
 * compares mtime against mtimecmp itself.
 *
 * Callers: hart threads through the MMIO ops (serialised by the device's
 * lock; the hooks run with that lock held, lock order clint -> hart).
 *
 * Reset values follow QEMU's `virt`: msip 0, mtimecmp 0 (QEMU leaves the
 * register at its zero-initialised value; the ACLINT spec calls it unknown;
 * firmware writes it before enabling MTIE). Writes to mtime are accepted and
 * ignored: the time CSR of every hart reads the same timebase, and letting
 * the CLINT alone move mtime would make mtime and `time` disagree. No
 * firmware or kernel that umbra boots writes mtime.
 */
#ifndef UMBRA_DEV_CLINT_H
#define UMBRA_DEV_CLINT_H
#include <stdbool.h>
#include <stdint.h>
#include "dev/device.h"

#define CLINT_WINDOW_SIZE 0x10000
#define CLINT_MSIP 0x0000           /* + 4 * hart, 32 bits, bit 0 */
#define CLINT_MTIMECMP 0x4000       /* + 8 * hart, 64 bits */
#define CLINT_MTIME 0xbff8          /* 64 bits */
#define CLINT_MAX_HARTS 4095        /* what the layout has room for */

struct clint_hooks {
    void (*set_msip)(void *ctx, unsigned hart, bool level);
    void (*set_mtimecmp)(void *ctx, unsigned hart, uint64_t value);
    void *ctx;
};

struct clint;

/* nharts: 1..CLINT_MAX_HARTS. The hooks are copied. NULL on failure. */
struct clint *clint_create(unsigned nharts, const struct clint_hooks *hooks);
void clint_destroy(struct clint *c);

/* The embedded device (also the first member of struct clint). Its reset
 * clears every msip and mtimecmp and passes the zeros on through the hooks. */
struct device *clint_device(struct clint *c);
#endif
