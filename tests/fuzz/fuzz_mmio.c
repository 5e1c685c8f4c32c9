/* fuzz_mmio: random register accesses to every device of the board.
 *
 * The input is a list of 13-byte operations on a small machine: guest RAM,
 * the UART, CLINT, PLIC, sifive,test, a virtio-blk on a temporary disk and
 * an empty virtio-mmio slot, mapped at their `virt` addresses and wired as
 * the board wires them (device lines to PLIC sources). An operation is a
 * read or write of width 1, 2, 4 or 8 at any offset of a device's window or
 * past its end, misaligned ones included, through guest_mem's dispatch as a
 * hart's load or store would go; or console input into the UART; or a
 * device reset; or a PLIC source line raised or lowered.
 *
 * What must hold: no host fault, leak or undefined behaviour; afterwards
 * the virtio transports still read their magic value and the UART still
 * reports an empty transmitter (its THR is always empty, uart.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/clint.h"
#include "dev/plic.h"
#include "dev/sifive_test.h"
#include "dev/uart.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"
#include "mem/guest_mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64ull << 10)
#define NHARTS 2
#define DISK_BYTES (64ull * VIRTIO_BLK_SECTOR_SIZE)
#define OP_BYTES 13
#define PAST_END 0x100u         /* offsets up to this far past a window */

enum target { T_UART, T_CLINT, T_PLIC, T_TEST, T_BLK, T_EMPTY, T_RAM, T_SPECIAL, T_COUNT };

struct machine {
    struct guest_mem mem;
    struct uart *uart;
    struct clint *clint;
    struct plic *plic;
    struct sifive_test *test;
    struct virtio_blk *blk;
    struct virtio_mmio *empty;
    struct device *dev[T_RAM];
    uint64_t base[T_RAM];
};

static void no_tx(void *ctx, uint8_t byte) { (void)ctx; (void)byte; }
static void no_msip(void *ctx, unsigned hart, bool level) { (void)ctx; (void)hart; (void)level; }
static void no_mtimecmp(void *ctx, unsigned hart, uint64_t v) { (void)ctx; (void)hart; (void)v; }
static void no_output(void *ctx, unsigned line, bool level) { (void)ctx; (void)line; (void)level; }
static void no_event(void *ctx, enum test_event ev, int code) { (void)ctx; (void)ev; (void)code; }

/* One disk for the whole run, emptied before every input so that runs do
 * not depend on each other. */
static int disk_fd(void)
{
    static int fd = -1;
    if (fd < 0)
        fd = memfd_create("fuzz-disk", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)DISK_BYTES) != 0)
        abort();
    return fd;
}

static void build(struct machine *m)
{
    memset(m, 0, sizeof *m);
    if (mem_init(&m->mem, RAM_BASE, RAM_SIZE) != 0)
        abort();
    const struct clint_hooks hooks = { no_msip, no_mtimecmp, NULL };
    m->plic = plic_create(NHARTS, (struct irq_line){ no_output, NULL, 0 });
    m->clint = clint_create(NHARTS, &hooks);
    m->test = sifive_test_create(no_event, NULL);
    m->uart = uart_create(no_tx, NULL, plic_source_line(m->plic, 10));
    m->blk = virtio_blk_create(&m->mem, disk_fd(), DISK_BYTES, false, plic_source_line(m->plic, 8));
    m->empty = virtio_mmio_create_empty();
    if (!m->plic || !m->clint || !m->test || !m->uart || !m->blk || !m->empty)
        abort();
    struct device *devs[T_RAM] = {
        uart_device(m->uart), clint_device(m->clint), plic_device(m->plic),
        sifive_test_device(m->test), virtio_blk_device(m->blk), virtio_mmio_device(m->empty),
    };
    const uint64_t bases[T_RAM] = {
        0x10000000, 0x2000000, 0xc000000, 0x100000, 0x10008000, 0x10001000,
    };
    for (unsigned i = 0; i < T_RAM; i++) {
        m->dev[i] = devs[i];
        m->base[i] = bases[i];
        if (!device_map(&m->mem, devs[i], bases[i]))
            abort();
    }
}

static void tear_down(struct machine *m)
{
    virtio_mmio_destroy(m->empty);
    virtio_blk_destroy(m->blk);
    uart_destroy(m->uart);
    sifive_test_destroy(m->test);
    clint_destroy(m->clint);
    plic_destroy(m->plic);
    mem_destroy(&m->mem);
}

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Console input, a device reset or a PLIC line. */
static void special(struct machine *m, uint8_t sel, uint32_t arg, uint64_t value)
{
    uint8_t bytes[8];
    switch (sel % 3) {
    case 0:
        for (unsigned i = 0; i < 8; i++)
            bytes[i] = (uint8_t)(value >> (8 * i));
        uart_receive(m->uart, bytes, arg % 9);
        break;
    case 1: {
        struct device *d = m->dev[arg % T_RAM];
        if (d->reset)
            d->reset(d);
        break;
    }
    default:
        plic_set_irq(m->plic, arg % (PLIC_NUM_SOURCES + 4), value & 1);
        break;
    }
}

static void run_op(struct machine *m, const uint8_t *op)
{
    enum target t = (enum target)(op[0] % T_COUNT);
    unsigned size = 1u << ((op[0] >> 3) & 3);
    bool write = op[0] & 0x20;
    uint32_t arg = (uint32_t)le(op + 1, 4);
    uint64_t value = le(op + 5, 8);
    if (t == T_SPECIAL) {
        special(m, op[0] >> 6, arg, value);
        return;
    }
    uint64_t pa = t == T_RAM ? RAM_BASE + arg % (RAM_SIZE + PAST_END)
                             : m->base[t] + arg % (m->dev[t]->size + PAST_END);
    uint64_t got;
    if (write)
        mem_write(&m->mem, pa, size, value);
    else
        mem_read(&m->mem, pa, size, &got);
}

static void check_sanity(struct machine *m)
{
    uint64_t v = 0;
    if (!mem_read(&m->mem, m->base[T_BLK] + VIRTIO_MMIO_MAGIC_VALUE, 4, &v) ||
        v != VIRTIO_MMIO_MAGIC)
        abort();
    if (!mem_read(&m->mem, m->base[T_EMPTY] + VIRTIO_MMIO_MAGIC_VALUE, 4, &v) ||
        v != VIRTIO_MMIO_MAGIC)
        abort();
    if (!mem_read(&m->mem, m->base[T_UART] + UART_LSR, 1, &v) ||
        (v & (UART_LSR_THRE | UART_LSR_TEMT)) != (UART_LSR_THRE | UART_LSR_TEMT))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct machine m;
    build(&m);
    for (size_t at = 0; at + OP_BYTES <= size; at += OP_BYTES)
        run_op(&m, data + at);
    check_sanity(&m);
    tear_down(&m);
    return 0;
}
