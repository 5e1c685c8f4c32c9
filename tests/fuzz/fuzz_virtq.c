/* fuzz_virtq: guest-controlled virtqueues against virtio-mmio + virtio-blk.
 *
 * The input is a 16-byte header and then the contents of 64 KiB of guest
 * RAM: descriptor tables, rings and requests, as garbage as the fuzzer
 * makes them (chains that loop, huge lengths, addresses outside RAM,
 * indirect descriptors, readable after writable, bad request types and
 * sectors). The header places the three queue areas (in RAM or not),
 * chooses the queue size, the features and the disk's read-only flag; the
 * driver then initialises the device (virtio 1.1 section 3.1.1) and
 * notifies a few times, advancing avail->idx between notifications.
 *
 * What must hold: no host fault, leak or undefined behaviour (guest RAM
 * has guard pages on both sides, so a device access just outside it
 * faults); the disk never grows (no write past the capacity); once the
 * device reports DEVICE_NEEDS_RESET, with DRIVER_OK set it has raised a
 * configuration-change interrupt, and it consumes no more buffers until
 * reset (virtio 1.1 section 2.1.2).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"
#include "mem/guest_mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (64ull << 10)
#define DISK_BYTES (32ull * VIRTIO_BLK_SECTOR_SIZE)
#define OUTSIDE_RAM (1ull << 32)

enum {
    H_DESC_OUT = 0x01,          /* descriptor table outside RAM */
    H_DRIVER_OUT = 0x02,
    H_DEVICE_OUT = 0x04,
    H_READ_ONLY = 0x08,
    H_NO_FEATURES_OK = 0x10,    /* skip feature negotiation */
    H_RESET_BETWEEN = 0x20,     /* reset and set up again halfway */
};

struct header {
    uint16_t num;               /* QueueNum as written */
    uint16_t desc, driver, device;  /* offsets into RAM */
    uint8_t flags;
    uint8_t notifies;           /* 1..8 */
    uint8_t step;               /* avail->idx advance per notification */
    uint8_t queue_sel;
    uint32_t features;          /* low word of the driver's features */
};

static int disk_fd(void)
{
    static int fd = -1;
    if (fd < 0)
        fd = memfd_create("fuzz-virtq-disk", 0);
    if (fd < 0 || ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)DISK_BYTES) != 0)
        abort();
    return fd;
}

static void no_irq(void *ctx, unsigned line, bool level) { (void)ctx; (void)line; (void)level; }

static void wr(struct device *d, uint64_t off, uint32_t v)
{
    d->mmio.write(d, off, 4, v);
}

static uint32_t rd(struct device *d, uint64_t off)
{
    uint64_t v = 0;
    d->mmio.read(d, off, 4, &v);
    return (uint32_t)v;
}

static uint64_t area(uint16_t off, bool outside, uint64_t align)
{
    uint64_t pa = RAM_BASE + (off & ~(align - 1)) % RAM_SIZE;
    return outside ? pa + OUTSIDE_RAM : pa;
}

static void set_up(struct device *d, const struct header *h)
{
    wr(d, VIRTIO_MMIO_STATUS, 0);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, h->features);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);      /* VIRTIO_F_VERSION_1 */
    uint32_t status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    if (!(h->flags & H_NO_FEATURES_OK))
        status |= VIRTIO_STATUS_FEATURES_OK;
    wr(d, VIRTIO_MMIO_STATUS, status);
    wr(d, VIRTIO_MMIO_QUEUE_SEL, h->queue_sel & 1);
    wr(d, VIRTIO_MMIO_QUEUE_NUM, h->num);
    uint64_t desc = area(h->desc, h->flags & H_DESC_OUT, 16);
    uint64_t driver = area(h->driver, h->flags & H_DRIVER_OUT, 2);
    uint64_t device = area(h->device, h->flags & H_DEVICE_OUT, 4);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)driver);
    wr(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(driver >> 32));
    wr(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)device);
    wr(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(device >> 32));
    wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
    wr(d, VIRTIO_MMIO_STATUS, status | VIRTIO_STATUS_DRIVER_OK);
}

/* The driver's side of one notification: publish `step` more entries. */
static void kick(struct guest_mem *m, struct device *d, const struct header *h)
{
    uint64_t driver = area(h->driver, false, 2);
    uint64_t idx = 0;
    mem_read(m, driver + 2, 2, &idx);
    mem_write(m, driver + 2, 2, (idx + h->step) & 0xffff);
    wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, h->queue_sel & 1);
}

/* Broken stays broken: no buffer consumed, the driver told. */
static void check_broken_state(const struct virtio_mmio *t, uint16_t used_before,
                               uint16_t avail_before, bool was_broken)
{
    if (!(t->status & VIRTIO_STATUS_NEEDS_RESET))
        return;
    if (!was_broken && (t->status & VIRTIO_STATUS_DRIVER_OK) &&
        !(t->int_status & VIRTIO_INT_CONFIG_CHANGE))
        abort();
    if (was_broken && (t->queue[0].used_idx != used_before || t->queue[0].last_avail != avail_before))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct header h;
    memset(&h, 0, sizeof h);
    size_t skip = size < sizeof h ? size : sizeof h;
    memcpy(&h, data, skip);

    struct guest_mem mem;
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0)
        abort();
    size_t body = size - skip;
    mem_copy_to_guest(&mem, RAM_BASE, data + skip, body < RAM_SIZE ? body : RAM_SIZE);
    int fd = disk_fd();
    struct virtio_blk *b = virtio_blk_create(&mem, fd, DISK_BYTES, h.flags & H_READ_ONLY,
                                             (struct irq_line){ no_irq, NULL, 1 });
    if (!b)
        abort();
    struct device *d = virtio_blk_device(b);
    /* The transport is the device's first member (virtio_mmio.h). */
    const struct virtio_mmio *t = (const struct virtio_mmio *)d;

    set_up(d, &h);
    unsigned notifies = 1 + h.notifies % 8;
    for (unsigned i = 0; i < notifies; i++) {
        if ((h.flags & H_RESET_BETWEEN) && i == notifies / 2)
            set_up(d, &h);
        bool was_broken = t->status & VIRTIO_STATUS_NEEDS_RESET;
        uint16_t used = t->queue[0].used_idx, avail = t->queue[0].last_avail;
        kick(&mem, d, &h);
        check_broken_state(t, used, avail, was_broken);
        wr(d, VIRTIO_MMIO_INTERRUPT_ACK, rd(d, VIRTIO_MMIO_INTERRUPT_STATUS));
    }

    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != DISK_BYTES)
        abort();
    virtio_blk_destroy(b);
    mem_destroy(&mem);
    return 0;
}
