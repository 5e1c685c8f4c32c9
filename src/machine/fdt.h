/* fdt: the flattened device tree that describes the board to firmware and
 * to the kernel (Devicetree Specification 0.4; the bindings Linux documents
 * for riscv,cpus, sifive,plic-1.0.0, sifive,clint0, ns16550a, virtio,mmio,
 * syscon-poweroff/-reboot).
 *
 * Owns the layout of the tree: the same nodes, names, properties and order
 * as QEMU 7.2's `virt` board, minus the devices umbra does not have (PCI,
 * flash, fw-cfg, RTC, PMU). The virtio-mmio nodes are listed from the
 * highest slot down, as QEMU does, so Linux probes the first disk first and
 * names it vda.
 *
 * Callers: the board and `-dumpdtb`, on the main thread before harts start;
 * the unit test. Built with libfdt's sequential writer into a caller buffer.
 */
#ifndef UMBRA_MACHINE_FDT_H
#define UMBRA_MACHINE_FDT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_BUF_SIZE (64u * 1024)   /* ample for 8 harts; the blob is packed after */

struct fdt_window {
    uint64_t base, size;
};

/* Everything the tree says about the board. */
struct fdt_board {
    unsigned nharts;
    uint64_t ram_base, ram_size;
    const char *isa;            /* riscv,isa of every cpu node */
    const char *mmu_type;       /* "riscv,sv39" / "riscv,sv48" */
    uint32_t timebase_hz;
    struct fdt_window test, clint, plic, uart;
    unsigned plic_ndev;         /* riscv,ndev: the highest source number */
    unsigned uart_irq;
    uint32_t uart_clock_hz;
    struct fdt_window virtio;   /* first slot; slot n is at base + n * size */
    unsigned nvirtio;
    unsigned virtio_irq0;       /* PLIC source of slot 0; slot n uses irq0 + n */
    const char *bootargs;       /* NULL: no bootargs property */
    bool has_initrd;
    uint64_t initrd_start, initrd_end;
};

/* Write the tree into buf[bufsize] and pack it. 0, or a negative libfdt
 * error code (-FDT_ERR_NOSPACE when the buffer is too small). */
int fdt_build_virt(const struct fdt_board *b, void *buf, size_t bufsize);

/* Set /chosen's bootargs (when non-empty) and linux,initrd-start/-end (when
 * has_initrd) in an existing tree, creating /chosen if needed. The tree is
 * re-opened into buf[bufsize] first and packed after. This is what umbra
 * does to a tree given with -dtb, as QEMU does. 0 or a libfdt error. */
int fdt_update_chosen(void *buf, size_t bufsize, const char *bootargs, bool has_initrd,
                      uint64_t initrd_start, uint64_t initrd_end);

/* The phandle fdt_build_virt gives to hart n's interrupt controller, the
 * PLIC and the test device (stable, for tests and for readers of dumps). */
uint32_t fdt_phandle_cpu(unsigned hart);
uint32_t fdt_phandle_intc(unsigned hart);
uint32_t fdt_phandle_plic(unsigned nharts);
uint32_t fdt_phandle_test(unsigned nharts);
#endif
