/* virtio_mmio: the virtio-mmio transport, version 2 ("modern"), with split
 * virtqueues (virtio 1.1 sections 4.2 and 2.6).
 *
 * Owns the transport registers (features, status, queue set-up, interrupt
 * status), the virtqueue cursors, the walk of the available ring and of
 * descriptor chains, and the used ring. A device type (virtio_blk) plugs in
 * a struct virtio_backend and serves one validated descriptor chain at a
 * time; it embeds struct virtio_mmio as its first member. A transport with
 * no backend is an empty slot (DeviceID 0), so the board can map all eight
 * `virt` transports.
 *
 * Callers: hart threads through the MMIO ops. A QueueNotify is served
 * synchronously on the notifying thread with the transport's lock held,
 * backend I/O included; the lock also covers every register access. Lock
 * order: transport -> the interrupt line's owner (PLIC) -> hart.
 *
 * Guest memory is touched only through guest_mem's checked accessors. A ring
 * or buffer outside RAM, a descriptor chain longer than the queue (a loop),
 * an index out of range or a malformed request marks the device broken:
 * Status gets DEVICE_NEEDS_RESET, a configuration-change interrupt is
 * raised, and no buffer is consumed until the driver resets the device
 * (virtio 1.1 section 2.1.2).
 */
#ifndef UMBRA_DEV_VIRTIO_MMIO_H
#define UMBRA_DEV_VIRTIO_MMIO_H
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "dev/device.h"

#define VIRTIO_MMIO_WINDOW_SIZE 0x1000  /* per transport on `virt` */
#define VIRTIO_MMIO_MAGIC 0x74726976u   /* "virt" */
#define VIRTIO_MMIO_VERSION_MODERN 2
#define VIRTIO_MMIO_VENDOR_QEMU 0x554d4551u
#define VIRTIO_MMIO_MAX_QUEUES 8

/* Register offsets (virtio 1.1 section 4.2.2). */
enum virtio_mmio_reg {
    VIRTIO_MMIO_MAGIC_VALUE = 0x000,
    VIRTIO_MMIO_VERSION = 0x004,
    VIRTIO_MMIO_DEVICE_ID = 0x008,
    VIRTIO_MMIO_VENDOR_ID = 0x00c,
    VIRTIO_MMIO_DEVICE_FEATURES = 0x010,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014,
    VIRTIO_MMIO_DRIVER_FEATURES = 0x020,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024,
    VIRTIO_MMIO_QUEUE_SEL = 0x030,
    VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034,
    VIRTIO_MMIO_QUEUE_NUM = 0x038,
    VIRTIO_MMIO_QUEUE_READY = 0x044,
    VIRTIO_MMIO_QUEUE_NOTIFY = 0x050,
    VIRTIO_MMIO_INTERRUPT_STATUS = 0x060,
    VIRTIO_MMIO_INTERRUPT_ACK = 0x064,
    VIRTIO_MMIO_STATUS = 0x070,
    VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080,
    VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW = 0x090,
    VIRTIO_MMIO_QUEUE_DRIVER_HIGH = 0x094,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW = 0x0a0,
    VIRTIO_MMIO_QUEUE_DEVICE_HIGH = 0x0a4,
    VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc,
    VIRTIO_MMIO_CONFIG = 0x100,
};

/* Device status bits (section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* InterruptStatus bits (section 4.2.2). */
#define VIRTIO_INT_USED_BUFFER 0x1
#define VIRTIO_INT_CONFIG_CHANGE 0x2

#define VIRTIO_F_VERSION_1 (1ull << 32)

/* Split virtqueue layout (section 2.6). */
#define VIRTQ_DESC_SIZE 16
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* One buffer of a descriptor chain, already checked to lie in RAM. */
struct virtio_segment {
    uint64_t addr;
    uint32_t len;
    bool device_writes;             /* VIRTQ_DESC_F_WRITE */
};

/* A descriptor chain: its device-readable segments come first, then its
 * device-writable ones (the transport rejects any other order, 2.6.4.2). */
struct virtio_chain {
    const struct virtio_segment *seg;
    unsigned nseg;
    uint64_t readable, writable;    /* byte totals of each part */
};

struct virtio_mmio;

/* What a device type supplies. All functions run with the transport lock. */
struct virtio_backend {
    uint32_t device_id;
    uint64_t features;              /* offered; must include VIRTIO_F_VERSION_1 */
    unsigned nqueues;               /* 1..VIRTIO_MMIO_MAX_QUEUES */
    unsigned queue_num_max;         /* a power of two, at most 32768 */
    /* Configuration space, `offset` from 0x100; size 1, 2, 4 or 8. */
    uint64_t (*config_read)(struct virtio_mmio *t, uint64_t offset, unsigned size);
    /* Serve one chain from `queue`. Returns the number of bytes written into
     * the chain's writable part (the used element's len), or -1 when the
     * request is malformed beyond reporting (the device becomes broken). */
    int64_t (*handle)(struct virtio_mmio *t, unsigned queue, const struct virtio_chain *chain);
    void (*reset)(struct virtio_mmio *t);   /* optional */
};

struct virtio_queue {
    uint32_t num;                   /* QueueNum */
    bool ready;
    uint64_t desc, driver, device;  /* descriptor table, avail ring, used ring */
    uint16_t last_avail;            /* next available-ring slot to consume */
    uint16_t used_idx;              /* our copy of used->idx */
};

/* Embedded by device types; the board treats it as opaque. */
struct virtio_mmio {
    struct device dev;              /* first: the board maps it */
    pthread_mutex_t lock;
    struct guest_mem *mem;
    const struct virtio_backend *be;    /* NULL: empty slot */
    uint32_t status;
    uint32_t int_status;
    bool irq_level;
    uint32_t device_features_sel, driver_features_sel, queue_sel;
    uint64_t driver_features;
    struct virtio_queue queue[VIRTIO_MMIO_MAX_QUEUES];
    struct virtio_segment *scratch;     /* [be->queue_num_max]: one chain */
};

/* For device types: set up the transport inside a larger object. `be` must
 * outlive it. Returns false on allocation failure. */
bool virtio_mmio_init(struct virtio_mmio *t, const char *name, struct guest_mem *mem,
                      const struct virtio_backend *be, struct irq_line irq);
void virtio_mmio_fini(struct virtio_mmio *t);

/* An empty slot: reads Magic, Version 2, DeviceID 0, VendorID; everything
 * else reads zero and ignores writes. Freed with virtio_mmio_destroy. */
struct virtio_mmio *virtio_mmio_create_empty(void);
void virtio_mmio_destroy(struct virtio_mmio *t);

struct device *virtio_mmio_device(struct virtio_mmio *t);

/* For backends: copy between a host buffer and the chain's readable part
 * (read) or writable part (write), starting `offset` bytes into that part.
 * false if the range runs past the part. */
bool virtio_chain_read(struct virtio_mmio *t, const struct virtio_chain *c,
                       uint64_t offset, void *dst, size_t len);
bool virtio_chain_write(struct virtio_mmio *t, const struct virtio_chain *c,
                        uint64_t offset, const void *src, size_t len);
#endif
