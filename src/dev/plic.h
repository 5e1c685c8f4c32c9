/* plic: the platform-level interrupt controller of the `virt` board.
 *
 * Owns the source priorities, the gateways (pending / in-service bits and
 * the input level of each source), the per-context enables and thresholds,
 * and the level of each context's output. Two contexts per hart, as on
 * QEMU's `virt`: context 2h is hart h's M-mode target (MEIP), 2h+1 its
 * S-mode target (SEIP). 95 sources, ids 1..95 (id 0 means "none"), 3
 * priority bits.
 *
 * Callers: hart threads through the MMIO ops; devices (from any thread)
 * through plic_set_irq, the irq_line function they are wired to. One lock
 * serialises both. The output function runs with that lock held whenever a
 * context's level changes (lock order: device -> plic -> hart).
 *
 * Window: PLIC_WINDOW_SIZE = 0x600000, the size QEMU's `virt` declares
 * (0x200000 + 0x1000 per context, for up to 1024 contexts). Registers of
 * contexts that do not exist read as zero and ignore writes, as on QEMU.
 *
 * Level-triggered gateways as on QEMU: a source is pending while its line is
 * high and it is not in service; a claim puts it in service; a completion
 * from a context that has it enabled takes it out again, and it is pending
 * anew if the line is still high. (The PLIC spec lets a gateway keep a
 * request the device has since withdrawn; QEMU drops it, and so does umbra,
 * which spares the guest a spurious claim.)
 */
#ifndef UMBRA_DEV_PLIC_H
#define UMBRA_DEV_PLIC_H
#include <stdbool.h>
#include <stdint.h>
#include "dev/device.h"

#define PLIC_NUM_SOURCES 96         /* ids 0..95; riscv,ndev = 95 */
#define PLIC_PRIORITY_BITS 3
#define PLIC_MAX_PRIORITY 7

#define PLIC_PRIORITY_BASE 0x000000 /* + 4 * source */
#define PLIC_PENDING_BASE 0x001000  /* bit per source, 32-bit words */
#define PLIC_ENABLE_BASE 0x002000   /* + 0x80 * context */
#define PLIC_ENABLE_STRIDE 0x80
#define PLIC_CONTEXT_BASE 0x200000  /* + 0x1000 * context: threshold */
#define PLIC_CONTEXT_STRIDE 0x1000
#define PLIC_CLAIM_OFFSET 4         /* claim/complete, after the threshold */
#define PLIC_WINDOW_SIZE 0x600000
#define PLIC_MAX_CONTEXTS ((PLIC_WINDOW_SIZE - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE)

struct plic;

/* nharts: 1..PLIC_MAX_CONTEXTS/2. `out.set(out.ctx, context, level)` is
 * called when a context's output changes (out.line is not used). NULL on
 * failure. All outputs start low. */
struct plic *plic_create(unsigned nharts, struct irq_line out);
void plic_destroy(struct plic *p);

/* The embedded device (also the first member of struct plic). */
struct device *plic_device(struct plic *p);

/* Drive source `src`'s input line (1..95; others are ignored). This is the
 * function a device's irq_line points at, with ctx = the plic. */
void plic_set_irq(void *plic, unsigned src, bool level);

/* The irq_line a device uses to drive source `src`. */
struct irq_line plic_source_line(struct plic *p, unsigned src);
#endif
