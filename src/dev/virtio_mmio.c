/* virtio-mmio transport and split virtqueue walker (virtio 1.1, 4.2 and 2.6). */
#include "dev/virtio_mmio.h"
#include <stdlib.h>

/* ---- guest memory: every access checked against RAM ---- */

/* Ring indices and descriptor fields are naturally aligned; ram_load makes
 * each one a single atomic access, so a 16-bit index the guest is updating
 * is never seen torn. */
static bool guest_load(struct virtio_mmio *t, uint64_t pa, unsigned size, uint64_t *v)
{
    if (!mem_in_ram(t->mem, pa, size))
        return false;
    *v = ram_load(mem_ram_ptr(t->mem, pa), size);
    return true;
}

/* The used index: one atomic 16-bit store, reported to write traces as
 * device DMA like every other store the device makes. */
static bool guest_store16(struct virtio_mmio *t, uint64_t pa, uint16_t v)
{
    return mem_dma_store(t->mem, pa, 2, v);
}

/* ---- interrupt and the broken state ---- */

static void update_irq(struct virtio_mmio *t)
{
    bool level = t->int_status != 0;
    if (level != t->irq_level) {
        t->irq_level = level;
        irq_set(&t->dev.irq, level);
    }
}

/* Section 2.1.2: the device sets DEVICE_NEEDS_RESET when it enters an error
 * state and, once DRIVER_OK is set, notifies the driver with a
 * configuration-change interrupt. */
static void mark_broken(struct virtio_mmio *t)
{
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    if (t->status & VIRTIO_STATUS_DRIVER_OK)
        t->int_status |= VIRTIO_INT_CONFIG_CHANGE;
    update_irq(t);
}

static void reset_device(struct virtio_mmio *t)
{
    t->status = 0;
    t->int_status = 0;
    t->device_features_sel = t->driver_features_sel = t->queue_sel = 0;
    t->driver_features = 0;
    for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
        t->queue[i] = (struct virtio_queue){ 0 };
    if (t->be && t->be->reset)
        t->be->reset(t);
    update_irq(t);
}

/* ---- virtqueue set-up ---- */

static bool is_power_of_two(uint32_t n)
{
    return n && (n & (n - 1)) == 0;
}

static bool area_ok(struct virtio_mmio *t, uint64_t pa, uint64_t len, uint64_t align)
{
    return (pa & (align - 1)) == 0 && mem_in_ram(t->mem, pa, len);
}

/* Section 2.6: sizes and alignments of the three areas; the queue size of a
 * split virtqueue is a power of two no larger than QueueNumMax. */
static bool queue_layout_ok(struct virtio_mmio *t, const struct virtio_queue *q)
{
    uint64_t n = q->num;
    return is_power_of_two(q->num) && q->num <= t->be->queue_num_max
           && area_ok(t, q->desc, VIRTQ_DESC_SIZE * n, 16)
           && area_ok(t, q->driver, 6 + 2 * n, 2)
           && area_ok(t, q->device, 6 + 8 * n, 4);
}

static void set_queue_ready(struct virtio_mmio *t, struct virtio_queue *q, bool ready)
{
    if (!ready) {
        q->ready = false;
        return;
    }
    if (q->ready)
        return;
    if (!queue_layout_ok(t, q)) {
        mark_broken(t);
        return;
    }
    q->last_avail = 0;
    q->used_idx = 0;
    q->ready = true;
}

/* ---- descriptor chains ---- */

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static bool read_desc(struct virtio_mmio *t, const struct virtio_queue *q, unsigned i, struct desc *d)
{
    uint64_t pa = q->desc + (uint64_t)VIRTQ_DESC_SIZE * i, addr, len, flags, next;
    if (!guest_load(t, pa, 8, &addr) || !guest_load(t, pa + 8, 4, &len)
        || !guest_load(t, pa + 12, 2, &flags) || !guest_load(t, pa + 14, 2, &next))
        return false;
    *d = (struct desc){ addr, (uint32_t)len, (uint16_t)flags, (uint16_t)next };
    return true;
}

/* Collect the chain starting at `head` into t->scratch. Fails on an index
 * out of range, a buffer outside RAM, an indirect descriptor (not offered),
 * a readable buffer after a writable one (2.6.4.2), or more descriptors than
 * the queue holds, which is the only way a chain can loop. */
static bool walk_chain(struct virtio_mmio *t, const struct virtio_queue *q, unsigned head,
                       struct virtio_chain *c)
{
    *c = (struct virtio_chain){ .seg = t->scratch };
    unsigned i = head;
    for (;;) {
        struct desc d;
        if (i >= q->num || c->nseg == q->num || !read_desc(t, q, i, &d))
            return false;
        if ((d.flags & VIRTQ_DESC_F_INDIRECT) || !mem_in_ram(t->mem, d.addr, d.len))
            return false;
        bool writes = d.flags & VIRTQ_DESC_F_WRITE;
        if (!writes && c->writable)
            return false;
        t->scratch[c->nseg++] = (struct virtio_segment){ d.addr, d.len, writes };
        if (writes)
            c->writable += d.len;
        else
            c->readable += d.len;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return true;
        i = d.next;
    }
}

/* Copy the bytes [offset, offset+len) of one part of the chain, segment by
 * segment: into `dst` from the readable part, or from `src` into the
 * writable part (the other pointer is NULL). */
static bool chain_copy(struct virtio_mmio *t, const struct virtio_chain *c, uint64_t offset,
                       uint8_t *dst, const uint8_t *src, size_t len)
{
    bool writable_part = src != NULL;
    uint64_t total = writable_part ? c->writable : c->readable;
    if (offset > total || len > total - offset)
        return false;
    for (unsigned i = 0; i < c->nseg && len > 0; i++) {
        const struct virtio_segment *s = &c->seg[i];
        if (s->device_writes != writable_part)
            continue;
        if (offset >= s->len) {
            offset -= s->len;
            continue;
        }
        size_t n = s->len - offset < len ? (size_t)(s->len - offset) : len;
        bool ok;
        if (writable_part) {
            ok = mem_copy_to_guest(t->mem, s->addr + offset, src, n);
            src += n;
        } else {
            ok = mem_copy_from_guest(t->mem, dst, s->addr + offset, n);
            dst += n;
        }
        if (!ok)
            return false;
        len -= n;
        offset = 0;
    }
    return len == 0;
}

bool virtio_chain_read(struct virtio_mmio *t, const struct virtio_chain *c,
                       uint64_t offset, void *dst, size_t len)
{
    return chain_copy(t, c, offset, dst, NULL, len);
}

bool virtio_chain_write(struct virtio_mmio *t, const struct virtio_chain *c,
                        uint64_t offset, const void *src, size_t len)
{
    static const uint8_t nothing;
    return chain_copy(t, c, offset, NULL, len ? src : &nothing, len);
}

/* ---- serving the available ring ---- */

/* Section 2.6.8: write the used element, then publish it by bumping
 * used->idx; the release fence keeps the element visible first. */
static bool push_used(struct virtio_mmio *t, struct virtio_queue *q, uint32_t head, uint32_t len)
{
    uint64_t elem = q->device + 4 + 8ull * (q->used_idx % q->num);
    uint8_t bytes[8];
    for (unsigned i = 0; i < 4; i++) {
        bytes[i] = (uint8_t)(head >> (8 * i));
        bytes[4 + i] = (uint8_t)(len >> (8 * i));
    }
    if (!mem_copy_to_guest(t->mem, elem, bytes, sizeof bytes))
        return false;
    q->used_idx++;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return guest_store16(t, q->device + 2, q->used_idx);
}

/* One available entry: walk, serve, return to the used ring. */
static bool serve_one(struct virtio_mmio *t, unsigned qi, struct virtio_queue *q)
{
    uint64_t head;
    struct virtio_chain chain;
    if (!guest_load(t, q->driver + 4 + 2ull * (q->last_avail % q->num), 2, &head))
        return false;
    if (!walk_chain(t, q, (unsigned)head, &chain))
        return false;
    int64_t written = t->be->handle(t, qi, &chain);
    if (written < 0 || (uint64_t)written > chain.writable)
        return false;
    if (!push_used(t, q, (uint32_t)head, (uint32_t)written))
        return false;
    q->last_avail++;
    return true;
}

/* Section 2.6.7: without VIRTIO_F_EVENT_IDX the driver asks for no
 * interrupt with avail->flags. The full fence orders our used->idx store
 * before this load, pairing with the driver's flag store and idx re-check,
 * so an interrupt the driver waits for is never skipped. */
static bool driver_wants_interrupt(struct virtio_mmio *t, const struct virtio_queue *q)
{
    uint64_t flags;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!guest_load(t, q->driver, 2, &flags))
        return true;
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static void process_queue(struct virtio_mmio *t, unsigned qi)
{
    struct virtio_queue *q = &t->queue[qi];
    if (!q->ready || !(t->status & VIRTIO_STATUS_DRIVER_OK) || (t->status & VIRTIO_STATUS_NEEDS_RESET))
        return;
    bool served = false;
    for (;;) {
        uint64_t avail_idx;
        if (!guest_load(t, q->driver + 2, 2, &avail_idx))
            goto broken;
        /* Entries and descriptors are read only after the index that
         * published them (pairs with the driver's release). */
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint16_t waiting = (uint16_t)((uint16_t)avail_idx - q->last_avail);
        if (waiting == 0)
            break;
        if (waiting > q->num || !serve_one(t, qi, q))
            goto broken;
        served = true;
    }
    if (served && driver_wants_interrupt(t, q)) {
        t->int_status |= VIRTIO_INT_USED_BUFFER;
        update_irq(t);
    }
    return;
broken:
    if (served)
        t->int_status |= VIRTIO_INT_USED_BUFFER;
    mark_broken(t);
}

/* ---- registers ---- */

/* Section 3.1.1 step 5: FEATURES_OK sticks only if the device accepts the
 * subset; umbra's devices are modern only, so VERSION_1 is required. */
static bool features_acceptable(const struct virtio_mmio *t)
{
    return (t->driver_features & ~t->be->features) == 0
           && (t->driver_features & VIRTIO_F_VERSION_1);
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
    if (v == 0) {
        reset_device(t);
        return;
    }
    uint32_t old = t->status;
    uint32_t status = (v & 0xff & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
    if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)
        && !features_acceptable(t))
        status &= ~VIRTIO_STATUS_FEATURES_OK;
    t->status = status;
}

static void set_half(uint64_t *reg, bool high, uint32_t v)
{
    if (high)
        *reg = (*reg & 0xffffffffu) | (uint64_t)v << 32;
    else
        *reg = (*reg & ~0xffffffffull) | v;
}

static struct virtio_queue *selected_queue(struct virtio_mmio *t)
{
    return t->queue_sel < t->be->nqueues ? &t->queue[t->queue_sel] : NULL;
}

/* Queue registers may be written only while the queue is not ready
 * (4.2.3.2); writes to a ready or absent queue are ignored. */
static void write_queue_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
    struct virtio_queue *q = selected_queue(t);
    if (!q)
        return;
    if (off == VIRTIO_MMIO_QUEUE_READY) {
        set_queue_ready(t, q, v & 1);
        return;
    }
    if (q->ready)
        return;
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM: q->num = v; break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: set_half(&q->desc, false, v); break;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_half(&q->desc, true, v); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: set_half(&q->driver, false, v); break;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: set_half(&q->driver, true, v); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: set_half(&q->device, false, v); break;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: set_half(&q->device, true, v); break;
    default: break;
    }
}

static void write_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        t->device_features_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        /* Feature bits are frozen once FEATURES_OK is set (3.1.1). */
        if (!(t->status & VIRTIO_STATUS_FEATURES_OK) && t->driver_features_sel < 2)
            set_half(&t->driver_features, t->driver_features_sel == 1, v);
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        t->driver_features_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        t->queue_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (v < t->be->nqueues)
            process_queue(t, v);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        t->int_status &= ~v;
        update_irq(t);
        break;
    case VIRTIO_MMIO_STATUS:
        write_status(t, v);
        break;
    default:
        write_queue_reg(t, off, v);
        break;
    }
}

static uint32_t read_queue_reg(struct virtio_mmio *t, uint64_t off)
{
    const struct virtio_queue *q = selected_queue(t);
    if (!q)
        return 0;
    switch (off) {
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return t->be->queue_num_max;
    case VIRTIO_MMIO_QUEUE_NUM: return q->num;
    case VIRTIO_MMIO_QUEUE_READY: return q->ready;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: return (uint32_t)q->desc;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: return (uint32_t)(q->desc >> 32);
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return (uint32_t)q->driver;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return (uint32_t)(q->driver >> 32);
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return (uint32_t)q->device;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return (uint32_t)(q->device >> 32);
    default: return 0;
    }
}

static uint32_t read_reg(struct virtio_mmio *t, uint64_t off)
{
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return VIRTIO_MMIO_VERSION_MODERN;
    case VIRTIO_MMIO_DEVICE_ID: return t->be ? t->be->device_id : 0;
    case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR_QEMU;
    default: break;
    }
    if (!t->be)                     /* empty slot: everything else is zero */
        return 0;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return t->device_features_sel < 2 ? (uint32_t)(t->be->features >> (32 * t->device_features_sel)) : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return t->int_status;
    case VIRTIO_MMIO_STATUS: return t->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0;   /* the config never changes */
    default: return read_queue_reg(t, off);
    }
}

/* Section 4.2.2.2: the driver uses 32-bit aligned accesses for the control
 * registers; the configuration space takes any natural size. */
static bool valid_access(uint64_t off, unsigned size)
{
    if (off >= VIRTIO_MMIO_WINDOW_SIZE || (off & (size - 1)))
        return false;
    if (off < VIRTIO_MMIO_CONFIG)
        return size == 4;
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static bool virtio_mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct virtio_mmio *t = dev;
    if (!valid_access(offset, size))
        return false;
    pthread_mutex_lock(&t->lock);
    if (offset < VIRTIO_MMIO_CONFIG)
        *value = read_reg(t, offset);
    else
        *value = t->be ? t->be->config_read(t, offset - VIRTIO_MMIO_CONFIG, size) : 0;
    pthread_mutex_unlock(&t->lock);
    return true;
}

static bool virtio_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct virtio_mmio *t = dev;
    if (!valid_access(offset, size))
        return false;
    pthread_mutex_lock(&t->lock);
    /* Configuration writes are ignored: no field umbra offers is writable. */
    if (t->be && offset < VIRTIO_MMIO_CONFIG)
        write_reg(t, offset, (uint32_t)value);
    pthread_mutex_unlock(&t->lock);
    return true;
}

static void virtio_mmio_reset(struct device *dev)
{
    struct virtio_mmio *t = (struct virtio_mmio *)dev;
    pthread_mutex_lock(&t->lock);
    reset_device(t);
    pthread_mutex_unlock(&t->lock);
}

bool virtio_mmio_init(struct virtio_mmio *t, const char *name, struct guest_mem *mem,
                      const struct virtio_backend *be, struct irq_line irq)
{
    *t = (struct virtio_mmio){ 0 };
    if (be) {
        if (be->nqueues == 0 || be->nqueues > VIRTIO_MMIO_MAX_QUEUES
            || !is_power_of_two(be->queue_num_max) || be->queue_num_max > 32768)
            return false;
        t->scratch = calloc(be->queue_num_max, sizeof *t->scratch);
        if (!t->scratch)
            return false;
    }
    t->dev.name = name;
    t->dev.size = VIRTIO_MMIO_WINDOW_SIZE;
    t->dev.mmio.read = virtio_mmio_read;
    t->dev.mmio.write = virtio_mmio_write;
    t->dev.reset = virtio_mmio_reset;
    t->dev.irq = irq;
    t->mem = mem;
    t->be = be;
    pthread_mutex_init(&t->lock, NULL);
    return true;
}

void virtio_mmio_fini(struct virtio_mmio *t)
{
    pthread_mutex_destroy(&t->lock);
    free(t->scratch);
    t->scratch = NULL;
}

struct virtio_mmio *virtio_mmio_create_empty(void)
{
    struct virtio_mmio *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    if (!virtio_mmio_init(t, "virtio-mmio", NULL, NULL, (struct irq_line){ 0 })) {
        free(t);
        return NULL;
    }
    return t;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
    if (!t)
        return;
    virtio_mmio_fini(t);
    free(t);
}

struct device *virtio_mmio_device(struct virtio_mmio *t)
{
    return &t->dev;
}
