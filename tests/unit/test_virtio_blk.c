/* virtio-mmio + virtio-blk, driven as a guest driver would (virtio 1.1
 * 3.1.1 initialisation, 2.6 split virtqueues, 5.2 block device): feature
 * negotiation, queue set-up, write / read / flush / GET_ID on a temporary
 * file, error statuses, and malformed rings that must leave the device
 * broken (DEVICE_NEEDS_RESET) without touching memory outside RAM. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "dev/virtio_blk.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define QNUM 16          /* three descriptors per request slot */
#define DESC (RAM_BASE + 0x1000)
#define AVAIL (RAM_BASE + 0x2000)
#define USED (RAM_BASE + 0x3000)
#define HDR (RAM_BASE + 0x4000)     /* request headers, 16 bytes per slot */
#define STATUS (RAM_BASE + 0x5000)  /* status bytes, one per slot */
#define DATA (RAM_BASE + 0x10000)   /* data buffers, 4 KiB per slot */
#define DISK_SECTORS 128

static struct guest_mem mem;
static bool irq_level;
static struct device *dev;
static uint16_t avail_idx, used_seen;

static void on_irq(void *ctx, unsigned line, bool level)
{
    (void)ctx;
    CHECK_EQ(line, 1);
    irq_level = level;
}

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0xdeadbeef;
    CHECK(dev->mmio.read(dev, off, 4, &v));
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    CHECK(dev->mmio.write(dev, off, 4, v));
}

static void put(uint64_t pa, unsigned size, uint64_t v) { CHECK(mem_write(&mem, pa, size, v)); }
static uint64_t get(uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    CHECK(mem_read(&mem, pa, size, &v));
    return v;
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint64_t d = DESC + 16ull * i;
    put(d, 8, addr);
    put(d + 8, 4, len);
    put(d + 12, 2, flags);
    put(d + 14, 2, next);
}

/* Offer `head` in the next available slot; notify when asked. */
static void offer(uint16_t head)
{
    put(AVAIL + 4 + 2 * (avail_idx % QNUM), 2, head);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    avail_idx++;
    put(AVAIL + 2, 2, avail_idx);
}

static void notify(void) { wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0); }

static void set_features(uint64_t f)
{
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* The initialisation sequence of virtio 1.1 section 3.1.1. */
static void driver_init(uint64_t want)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK(!irq_level);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_features(want);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 256);
    for (uint64_t a = DESC; a < HDR; a += 8)        /* fresh rings */
        put(a, 8, 0);
    avail_idx = used_seen = 0;
    wr(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(DESC >> 32));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                           | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0x0f);
}

/* One request in slot s (descriptors 3s..3s+2): header, data, status. */
static void build_request(unsigned s, uint32_t type, uint64_t sector, uint32_t len, bool device_writes)
{
    uint64_t hdr = HDR + 16 * s, data = DATA + 0x1000ull * s, st = STATUS + s;
    put(hdr, 4, type);
    put(hdr + 4, 4, 0);
    put(hdr + 8, 8, sector);
    put(st, 1, 0xee);                   /* poison: the device must overwrite it */
    unsigned d = 3 * s;
    if (len) {
        set_desc(d, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
        set_desc(d + 1, data, len, (uint16_t)(VIRTQ_DESC_F_NEXT | (device_writes ? VIRTQ_DESC_F_WRITE : 0)),
                 (uint16_t)(d + 2));
    } else {
        set_desc(d, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2));
    }
    set_desc(d + 2, st, 1, VIRTQ_DESC_F_WRITE, 0);
}

/* Submit slot s, notify, and return its status; check the used element. */
static uint8_t run_request(unsigned s, uint32_t expect_used_len)
{
    offer((uint16_t)(3 * s));
    notify();
    CHECK_EQ(get(USED + 2, 2), (uint16_t)(used_seen + 1));
    uint64_t elem = USED + 4 + 8 * (used_seen % QNUM);
    CHECK_EQ(get(elem, 4), 3 * s);
    CHECK_EQ(get(elem + 4, 4), expect_used_len);
    used_seen++;
    CHECK(irq_level);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_INT_USED_BUFFER);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_INT_USED_BUFFER);
    CHECK(!irq_level);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    return (uint8_t)get(STATUS + s, 1);
}

static void test_identity_and_features(void)
{
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    /* FLUSH (9), SEG_MAX (2), BLK_SIZE (6); not RO (5) on a writable disk. */
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), (1u << 9) | (1u << 2) | (1u << 6));
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 1);     /* VERSION_1 is bit 32 */
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);

    /* Without VERSION_1 FEATURES_OK does not stick (a modern-only device). */
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_features(VIRTIO_BLK_F_FLUSH);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* Nor with a feature the device did not offer (INDIRECT_DESC, bit 28). */
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_features(VIRTIO_F_VERSION_1 | (1ull << 28));
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);

    /* Only queue 0 exists. */
    wr(VIRTIO_MMIO_QUEUE_SEL, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);

    /* Control registers take 32-bit aligned accesses only. */
    uint64_t v;
    CHECK(!dev->mmio.read(dev, VIRTIO_MMIO_MAGIC_VALUE, 1, &v));
    CHECK(!dev->mmio.read(dev, VIRTIO_MMIO_MAGIC_VALUE, 8, &v));
    CHECK(!dev->mmio.write(dev, VIRTIO_MMIO_STATUS + 2, 2, 0));
}

static void test_config(void)
{
    uint64_t v = 0;
    CHECK(dev->mmio.read(dev, 0x100, 8, &v));
    CHECK_EQ(v, DISK_SECTORS);
    CHECK_EQ(rd(0x100), DISK_SECTORS);
    CHECK_EQ(rd(0x104), 0);
    CHECK_EQ(rd(0x10c), 254);           /* seg_max */
    CHECK_EQ(rd(0x114), 512);           /* blk_size */
    CHECK(dev->mmio.read(dev, 0x114, 1, &v));
    CHECK_EQ(v, 0);                     /* low byte of 0x200 */
    CHECK(dev->mmio.read(dev, 0x115, 1, &v));
    CHECK_EQ(v, 2);
    CHECK(dev->mmio.write(dev, 0x100, 8, 0));  /* read-only: ignored */
    CHECK_EQ(rd(0x100), DISK_SECTORS);
}

static void test_write_read_flush(int fd, struct virtio_blk *b)
{
    driver_init(VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH);
    /* Write 1024 bytes at sector 3. */
    for (unsigned i = 0; i < 1024; i++)
        put(DATA + i, 1, (uint8_t)(i * 7 + 1));
    build_request(0, VIRTIO_BLK_T_OUT, 3, 1024, false);
    CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_OK);
    uint8_t file[1024];
    CHECK_EQ(pread(fd, file, sizeof file, 3 * 512), 1024);
    unsigned bad = 0;
    for (unsigned i = 0; i < 1024; i++)
        bad += file[i] != (uint8_t)(i * 7 + 1);
    CHECK_EQ(bad, 0);

    /* Read it back into another buffer. */
    build_request(1, VIRTIO_BLK_T_IN, 3, 1024, true);
    for (unsigned i = 0; i < 1024; i++)
        put(DATA + 0x1000 + i, 1, 0);
    CHECK_EQ(run_request(1, 1025), VIRTIO_BLK_S_OK);
    bad = 0;
    for (unsigned i = 0; i < 1024; i++)
        bad += get(DATA + 0x1000 + i, 1) != (uint8_t)(i * 7 + 1);
    CHECK_EQ(bad, 0);

    /* Data the host put in the file reaches the guest. */
    uint8_t pattern[512];
    for (unsigned i = 0; i < 512; i++)
        pattern[i] = (uint8_t)(0xa5 ^ i);
    CHECK_EQ(pwrite(fd, pattern, 512, 127 * 512), 512);
    build_request(2, VIRTIO_BLK_T_IN, 127, 512, true);
    CHECK_EQ(run_request(2, 513), VIRTIO_BLK_S_OK);
    CHECK_EQ(get(DATA + 0x2000, 1), 0xa5);
    CHECK_EQ(get(DATA + 0x2000 + 511, 1), (uint8_t)(0xa5 ^ 511));

    build_request(0, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_OK);

    /* GET_ID: the serial, NUL-padded to 20 bytes. */
    virtio_blk_set_serial(b, "umbra-disk0");
    for (unsigned i = 0; i < 20; i++)
        put(DATA + 0x1000 + i, 1, 0xff);
    build_request(1, VIRTIO_BLK_T_GET_ID, 0, 20, true);
    CHECK_EQ(run_request(1, 21), VIRTIO_BLK_S_OK);
    char id[21] = { 0 };
    for (unsigned i = 0; i < 20; i++)
        id[i] = (char)get(DATA + 0x1000 + i, 1);
    CHECK(strcmp(id, "umbra-disk0") == 0);
    CHECK_EQ(id[19], 0);

    /* Unsupported type (DISCARD, 11). */
    build_request(2, 11, 0, 512, false);
    CHECK_EQ(run_request(2, 1), VIRTIO_BLK_S_UNSUPP);
}

static void test_errors(int fd)
{
    uint8_t before[512], after[512];
    CHECK_EQ(pread(fd, before, 512, 0), 512);
    /* Past the end: the last sector is fine, one more is not. */
    build_request(0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 512, true);
    CHECK_EQ(run_request(0, 513), VIRTIO_BLK_S_OK);
    build_request(0, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, 1024, true);
    CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_IOERR);
    build_request(1, VIRTIO_BLK_T_IN, DISK_SECTORS, 512, true);
    CHECK_EQ(run_request(1, 1), VIRTIO_BLK_S_IOERR);
    build_request(2, VIRTIO_BLK_T_OUT, 1ull << 60, 512, false);    /* sector * 512 overflows */
    CHECK_EQ(run_request(2, 1), VIRTIO_BLK_S_IOERR);
    build_request(2, VIRTIO_BLK_T_OUT, ~0ull, 512, false);
    CHECK_EQ(run_request(2, 1), VIRTIO_BLK_S_IOERR);
    /* Not a whole number of sectors. */
    build_request(0, VIRTIO_BLK_T_OUT, 0, 100, false);
    CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_IOERR);
    CHECK_EQ(pread(fd, after, 512, 0), 512);
    CHECK(memcmp(before, after, 512) == 0);
}

static void test_split_header_and_batch(void)
{
    /* The header split over two descriptors (no framing assumed, 2.6.4). */
    uint64_t hdr = HDR + 0x80;
    put(hdr, 4, VIRTIO_BLK_T_IN);
    put(hdr + 4, 4, 0);
    put(hdr + 8, 8, 3);
    set_desc(0, hdr, 8, VIRTQ_DESC_F_NEXT, 5);
    set_desc(5, hdr + 8, 8, VIRTQ_DESC_F_NEXT, 2);
    set_desc(2, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
    set_desc(7, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    put(STATUS, 1, 0xee);
    put(DATA, 1, 0);
    offer(0);
    notify();
    CHECK_EQ(get(USED + 2, 2), (uint16_t)(used_seen + 1));
    CHECK_EQ(get(USED + 4 + 8 * (used_seen % QNUM) + 4, 4), 513);
    used_seen++;
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
    CHECK_EQ(get(DATA, 1), 1);          /* byte 0 of sector 3 as written above */
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);

    /* Two requests, one notification. */
    build_request(0, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    build_request(1, VIRTIO_BLK_T_IN, 0, 512, true);
    offer(0);
    offer(3);
    notify();
    CHECK_EQ(get(USED + 2, 2), (uint16_t)(used_seen + 2));
    CHECK_EQ(get(USED + 4 + 8 * (used_seen % QNUM), 4), 0);
    CHECK_EQ(get(USED + 4 + 8 * ((used_seen + 1) % QNUM), 4), 3);
    used_seen += 2;
    CHECK_EQ(get(STATUS + 0, 1), VIRTIO_BLK_S_OK);
    CHECK_EQ(get(STATUS + 1, 1), VIRTIO_BLK_S_OK);
    CHECK(irq_level);
    wr(VIRTIO_MMIO_INTERRUPT_ACK, 1);

    /* The driver asks for no interrupt: served, not signalled. */
    put(AVAIL, 2, VIRTQ_AVAIL_F_NO_INTERRUPT);
    build_request(2, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    offer(6);
    notify();
    CHECK_EQ(get(USED + 2, 2), (uint16_t)(used_seen + 1));
    used_seen++;
    CHECK(!irq_level);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    put(AVAIL, 2, 0);

    /* More requests than the queue has slots: the ring positions wrap. */
    for (unsigned i = 0; i < 20; i++) {
        build_request(0, VIRTIO_BLK_T_FLUSH, 0, 0, false);
        CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_OK);
    }
}

/* The device must be broken (NEEDS_RESET + config interrupt), consume
 * nothing more, and come back after a reset and a new initialisation. */
static void expect_broken_then_recover(uint16_t used_before)
{
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
    CHECK(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG_CHANGE);
    CHECK(irq_level);
    CHECK_EQ(get(USED + 2, 2), used_before);
    /* The driver writing status bits does not clear NEEDS_RESET. */
    wr(VIRTIO_MMIO_STATUS, 0x0f);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, VIRTIO_STATUS_NEEDS_RESET);
    /* A broken device serves no more requests. */
    build_request(0, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    offer(0);
    notify();
    CHECK_EQ(get(USED + 2, 2), used_before);
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    CHECK(!irq_level);
    driver_init(VIRTIO_F_VERSION_1);
    build_request(0, VIRTIO_BLK_T_FLUSH, 0, 0, false);
    CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_OK);
}

static void test_malformed(void)
{
    /* Data buffer below RAM. */
    build_request(0, VIRTIO_BLK_T_IN, 0, 512, true);
    set_desc(1, 0x1000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    uint16_t u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* Data buffer running off the end of RAM. */
    build_request(0, VIRTIO_BLK_T_IN, 0, 512, true);
    set_desc(1, RAM_BASE + RAM_SIZE - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* A length whose end wraps the address space. */
    build_request(0, VIRTIO_BLK_T_IN, 0, 512, true);
    set_desc(1, ~0ull - 100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* A descriptor loop: 0 -> 1 -> 0. */
    build_request(0, VIRTIO_BLK_T_IN, 0, 512, true);
    set_desc(1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* A self-loop on a single descriptor. */
    set_desc(4, HDR, 16, VIRTQ_DESC_F_NEXT, 4);
    u = (uint16_t)get(USED + 2, 2);
    offer(4);
    notify();
    expect_broken_then_recover(u);

    /* Head index beyond the queue. */
    u = (uint16_t)get(USED + 2, 2);
    offer(200);
    notify();
    expect_broken_then_recover(u);

    /* next index beyond the queue. */
    build_request(0, VIRTIO_BLK_T_IN, 0, 512, true);
    set_desc(1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 9999);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* The driver claims more new entries than the queue holds. */
    u = (uint16_t)get(USED + 2, 2);
    put(AVAIL + 2, 2, (uint16_t)(avail_idx + QNUM + 1));
    notify();
    expect_broken_then_recover(u);

    /* No status byte (no writable descriptor at all). */
    put(HDR, 4, VIRTIO_BLK_T_FLUSH);
    set_desc(0, HDR, 16, 0, 0);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* Header shorter than 16 bytes. */
    set_desc(0, HDR, 8, VIRTQ_DESC_F_NEXT, 2);
    set_desc(2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* A readable buffer after a writable one. */
    build_request(0, VIRTIO_BLK_T_OUT, 0, 512, false);
    set_desc(1, DATA, 512, VIRTQ_DESC_F_NEXT, 2);
    set_desc(0, HDR, 16, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* Indirect descriptors were not offered. */
    set_desc(0, DATA, 32, VIRTQ_DESC_F_INDIRECT, 0);
    u = (uint16_t)get(USED + 2, 2);
    offer(0);
    notify();
    expect_broken_then_recover(u);

    /* Rings outside RAM at QueueReady: refused, device broken. */
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_features(VIRTIO_F_VERSION_1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    /* A queue size that is not a power of two, or above the maximum. */
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, 6);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(DESC >> 32));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)AVAIL);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)USED);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, 512);
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_READY), 0);
    wr(VIRTIO_MMIO_STATUS, 0);
    driver_init(VIRTIO_F_VERSION_1);
}

static void test_fuzz(void)
{
    /* Random register writes and ring contents: nothing may crash or reach
     * outside RAM (run under AddressSanitizer in the sanitizer build). */
    srand(11);
    for (unsigned round = 0; round < 200; round++) {
        driver_init(VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH);
        for (uint64_t a = DESC; a < DESC + 16 * QNUM; a += 4)
            put(a, 4, (uint32_t)rand() ^ ((uint32_t)rand() << 16));
        for (unsigned i = 0; i < QNUM; i++)
            if (rand() & 1)     /* some plausible addresses */
                put(DESC + 16 * i, 8, RAM_BASE + (uint64_t)(rand() % (int)RAM_SIZE));
        put(AVAIL + 2, 2, (uint16_t)(rand() % 12));
        for (unsigned i = 0; i < QNUM; i++)
            put(AVAIL + 4 + 2 * i, 2, (uint16_t)(rand() % 10));
        notify();
        for (unsigned i = 0; i < 8; i++) {
            uint64_t off = (uint64_t)(rand() % 0x200) & ~3ull;
            if (off != VIRTIO_MMIO_QUEUE_NOTIFY || (rand() & 1))
                wr(off, (uint32_t)rand());
        }
    }
    wr(VIRTIO_MMIO_STATUS, 0);
    CHECK(!irq_level);
}

static void test_read_only(void)
{
    char path[] = "/tmp/umbra-blk-ro-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    uint8_t zero[512] = { 0 };
    for (unsigned i = 0; i < 8; i++)
        CHECK_EQ(pwrite(fd, zero, 512, i * 512), 512);
    struct irq_line line = { .set = on_irq, .line = 1 };
    struct virtio_blk *ro = virtio_blk_create(&mem, fd, 8 * 512 + 100, true, line);
    CHECK(ro != NULL);
    if (!ro)
        return;
    struct device *saved = dev;
    dev = virtio_blk_device(ro);
    wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << 5), 1u << 5);
    CHECK_EQ(rd(0x100), 8);             /* a partial sector is not capacity */
    driver_init(VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_RO);
    for (unsigned i = 0; i < 512; i++)
        put(DATA + i, 1, 0x77);
    build_request(0, VIRTIO_BLK_T_OUT, 1, 512, false);
    CHECK_EQ(run_request(0, 1), VIRTIO_BLK_S_IOERR);
    uint8_t back[512];
    CHECK_EQ(pread(fd, back, 512, 512), 512);
    CHECK(memcmp(back, zero, 512) == 0);
    build_request(1, VIRTIO_BLK_T_IN, 1, 512, true);
    CHECK_EQ(run_request(1, 513), VIRTIO_BLK_S_OK);
    CHECK_EQ(get(DATA + 0x1000, 1), 0);
    dev->reset(dev);
    dev = saved;
    virtio_blk_destroy(ro);
    close(fd);
}

static void test_empty_slot(void)
{
    struct virtio_mmio *e = virtio_mmio_create_empty();
    CHECK(e != NULL);
    if (!e)
        return;
    struct device *saved = dev;
    dev = virtio_mmio_device(e);
    CHECK_EQ(dev->size, 0x1000);
    CHECK_EQ(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(rd(VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(rd(VIRTIO_MMIO_DEVICE_ID), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_VENDOR_ID), 0x554d4551);
    wr(VIRTIO_MMIO_STATUS, 3);
    CHECK_EQ(rd(VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    CHECK_EQ(rd(0x100), 0);
    dev->reset(dev);
    dev = saved;
    virtio_mmio_destroy(e);
}

int main(void)
{
    CHECK_EQ(mem_init(&mem, RAM_BASE, RAM_SIZE), 0);
    char path[] = "/tmp/umbra-blk-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return check_summary();
    unlink(path);
    CHECK_EQ(ftruncate(fd, DISK_SECTORS * 512), 0);
    struct irq_line line = { .set = on_irq, .ctx = NULL, .line = 1 };
    struct virtio_blk *b = virtio_blk_create(&mem, fd, DISK_SECTORS * 512, false, line);
    CHECK(b != NULL);
    if (!b)
        return check_summary();
    dev = virtio_blk_device(b);
    CHECK(dev == (struct device *)b);
    CHECK_EQ(dev->size, 0x1000);

    test_identity_and_features();
    test_config();
    test_write_read_flush(fd, b);
    test_errors(fd);
    test_split_header_and_batch();
    test_malformed();
    test_read_only();
    test_empty_slot();
    test_fuzz();

    virtio_blk_destroy(b);
    close(fd);
    mem_destroy(&mem);
    return check_summary();
}
