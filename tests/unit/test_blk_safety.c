/* Guest isolation and disk safety of virtio-blk.
 *
 * Isolation at the host level: guest RAM sits between PROT_NONE guard
 * regions (guest_mem.c), and a virtio-blk queue whose rings or descriptors
 * point at the last bytes of RAM, just past it, at the top of the address
 * space or into an MMIO window is served exactly up to the end of RAM and
 * refused beyond it (virtio 1.1 section 2.1.2: DEVICE_NEEDS_RESET; a sector
 * range outside the disk is VIRTIO_BLK_S_IOERR, 5.2.6).
 *
 * Nothing here can read or write host memory next to RAM without the test
 * dying: the guards turn any such touch into SIGSEGV. The first test proves
 * the guards are there, so a passing run means no touch happened.
 *
 * Disk safety: the -drive cache= modes parse as QEMU spells them and open
 * the image as drive.h says (O_DSYNC, O_DIRECT); a FLUSH really reaches
 * fdatasync in the default mode and skips it with cache=unsafe (shown with a
 * pipe as the backing file, where fdatasync fails); O_DIRECT I/O works
 * through the aligned bounce buffer. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include <fcntl.h>
#include "dev/virtio_blk.h"
#include "machine/drive.h"
#include "machine/options.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define RAM_END (RAM_BASE + RAM_SIZE)
#define QNUM 16
#define DESC (RAM_BASE + 0x1000)
#define AVAIL (RAM_BASE + 0x2000)
#define USED (RAM_BASE + 0x3000)
#define HDR (RAM_BASE + 0x4000)
#define STATUS (RAM_BASE + 0x5000)
#define DISK_SECTORS 64
#define MMIO_SPY 0x10000000ull      /* a device window DMA must never reach */

static struct guest_mem mem;
static struct device *dev;
static uint16_t avail_idx;
static unsigned spy_accesses;

static void on_irq(void *ctx, unsigned line, bool level) { (void)ctx; (void)line; (void)level; }

static bool spy_read(void *d, uint64_t off, unsigned size, uint64_t *v)
{
    (void)d; (void)off; (void)size;
    spy_accesses++;
    *v = 0;
    return true;
}

static bool spy_write(void *d, uint64_t off, unsigned size, uint64_t v)
{
    (void)d; (void)off; (void)size; (void)v;
    spy_accesses++;
    return true;
}

static const struct mmio_ops spy_ops = { spy_read, spy_write };

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0;
    CHECK(dev->mmio.read(dev, off, 4, &v));
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v) { CHECK(dev->mmio.write(dev, off, 4, v)); }
static void put(uint64_t pa, unsigned size, uint64_t v) { CHECK(mem_write(&mem, pa, size, v)); }
static uint64_t get(uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    CHECK(mem_read(&mem, pa, size, &v));
    return v;
}

/* ------------------------------------------------------- guard regions */

/* The permissions /proc/self/maps gives the mapping holding `addr`. */
static bool maps_perms(const void *addr, char perms[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3)
            found = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
    }
    fclose(f);
    return found;
}

static sigjmp_buf touch_env;
static void on_segv(int sig) { siglongjmp(touch_env, sig); }

/* In a child: touch the host byte at p. 0 = it did not fault; 42 = our
 * handler caught SIGSEGV (a sanitizer that takes SIGSEGV first exits with
 * its own non-zero code instead); -1 = the child could not run. */
static int touch_in_child(volatile uint8_t *p, bool write)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, on_segv);
        if (sigsetjmp(touch_env, 1))
            _exit(42);
        if (write)
            *p = 1;
        else
            (void)*p;
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    if (WIFSIGNALED(st))
        return WTERMSIG(st) == SIGSEGV ? 42 : -1;
    return WEXITSTATUS(st);
}

static void test_guards(void)
{
    char perms[5] = "";
    uint8_t *below = mem.ram - 1, *above = mem.ram + RAM_SIZE;
    CHECK(maps_perms(below, perms));
    CHECK(strcmp(perms, "---p") == 0);
    CHECK(maps_perms(mem.ram - MEM_GUARD_SIZE, perms));
    CHECK(strcmp(perms, "---p") == 0);
    CHECK(maps_perms(above, perms));
    CHECK(strcmp(perms, "---p") == 0);
    CHECK(maps_perms(above + MEM_GUARD_SIZE - 1, perms));
    CHECK(strcmp(perms, "---p") == 0);
    CHECK(maps_perms(mem.ram, perms));
    CHECK(strcmp(perms, "rw-p") == 0);
    /* The guards really fault; the first and last bytes of RAM do not. */
    int r = touch_in_child(below, false);
    CHECK(r > 0);
    r = touch_in_child(above, true);
    CHECK(r > 0);
    CHECK_EQ(touch_in_child(mem.ram, true), 0);
    CHECK_EQ(touch_in_child(above - 1, true), 0);
    /* The guest-side view: the last bytes of RAM work, one past does not. */
    uint64_t v = 0;
    CHECK(mem_write(&mem, RAM_END - 8, 8, 0x1122334455667788ull));
    CHECK(mem_read(&mem, RAM_END - 8, 8, &v));
    CHECK_EQ(v, 0x1122334455667788ull);
    CHECK(!mem_read(&mem, RAM_END - 4, 8, &v));
    CHECK(!mem_write(&mem, RAM_END, 1, 0));
    CHECK(!mem_read(&mem, ~0ull, 1, &v));
    CHECK(!mem_read(&mem, ~0ull - 3, 8, &v));
    uint8_t buf[16];
    CHECK(!mem_copy_from_guest(&mem, buf, RAM_END - 8, 16));
    CHECK(!mem_copy_to_guest(&mem, RAM_END - 8, buf, 16));
    CHECK(!mem_copy_to_guest(&mem, ~0ull - 7, buf, 16));
    CHECK(!mem_dma_store(&mem, RAM_END - 1, 2, 0));
    CHECK(!mem_dma_store(&mem, RAM_BASE - 2, 2, 0));
}

/* ------------------------------------------------------- driver side */

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint64_t d = DESC + 16ull * i;
    put(d, 8, addr);
    put(d + 8, 4, len);
    put(d + 12, 2, flags);
    put(d + 14, 2, next);
}

static void set_features(uint64_t f)
{
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
    wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

/* Reset and initialise (virtio 1.1 section 3.1.1) with the three rings at
 * the given addresses; returns whether QueueReady stuck. */
static bool driver_init_at(uint64_t desc, uint64_t avail, uint64_t used)
{
    wr(VIRTIO_MMIO_STATUS, 0);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    set_features(VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                           | VIRTIO_STATUS_FEATURES_OK);
    wr(VIRTIO_MMIO_QUEUE_SEL, 0);
    wr(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    wr(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    wr(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    wr(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    wr(VIRTIO_MMIO_QUEUE_READY, 1);
    wr(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                           | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    avail_idx = 0;
    return rd(VIRTIO_MMIO_QUEUE_READY) == 1;
}

static void driver_init(void)
{
    for (uint64_t a = DESC; a < HDR; a += 8)
        put(a, 8, 0);
    CHECK(driver_init_at(DESC, AVAIL, USED));
}

static bool needs_reset(void)
{
    return rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}

/* Offer a chain at descriptor 0: header at HDR, data (addr, len), status
 * at `status`; notify. Returns the used index afterwards. */
static uint16_t submit(uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
                       uint64_t status)
{
    put(HDR, 4, type);
    put(HDR + 4, 4, 0);
    put(HDR + 8, 8, sector);
    bool device_writes = type == VIRTIO_BLK_T_IN;
    set_desc(0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(1, data, len, (uint16_t)(VIRTQ_DESC_F_NEXT | (device_writes ? VIRTQ_DESC_F_WRITE : 0)), 2);
    set_desc(2, status, 1, VIRTQ_DESC_F_WRITE, 0);
    put(AVAIL + 4 + 2 * (avail_idx % QNUM), 2, 0);
    avail_idx++;
    put(AVAIL + 2, 2, avail_idx);
    wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    return (uint16_t)get(USED + 2, 2);
}

/* ------------------------------------------------------- the queue tests */

/* Data buffers that end exactly at the end of RAM are served in full. */
static void test_last_bytes_of_ram(int fd)
{
    driver_init();
    uint8_t pattern[512];
    for (unsigned i = 0; i < 512; i++)
        pattern[i] = (uint8_t)(i * 13 + 5);
    CHECK_EQ(pwrite(fd, pattern, 512, 7 * 512), 512);
    for (uint64_t a = RAM_END - 512; a < RAM_END; a += 8)
        put(a, 8, 0);
    put(RAM_END - 1024, 1, 0xee);
    /* IN: sector 7 into the last 512 bytes; the status byte just before. */
    CHECK_EQ(submit(VIRTIO_BLK_T_IN, 7, RAM_END - 512, 512, RAM_END - 1024), 1);
    CHECK_EQ(get(RAM_END - 1024, 1), VIRTIO_BLK_S_OK);
    unsigned bad = 0;
    for (unsigned i = 0; i < 512; i++)
        bad += get(RAM_END - 512 + i, 1) != pattern[i];
    CHECK_EQ(bad, 0);
    CHECK_EQ(get(USED + 4, 4), 0);          /* the used element: head 0 */
    CHECK_EQ(get(USED + 8, 4), 513);
    /* OUT from the last 512 bytes, the status in the very last byte of RAM
     * (so the data comes from one page below). */
    for (unsigned i = 0; i < 512; i++)
        put(RAM_END - 1536 + i, 1, (uint8_t)(0x3c ^ i));
    put(RAM_END - 1, 1, 0xee);
    CHECK_EQ(submit(VIRTIO_BLK_T_OUT, 9, RAM_END - 1536, 512, RAM_END - 1), 2);
    CHECK_EQ(get(RAM_END - 1, 1), VIRTIO_BLK_S_OK);
    uint8_t back[512];
    CHECK_EQ(pread(fd, back, 512, 9 * 512), 512);
    bad = 0;
    for (unsigned i = 0; i < 512; i++)
        bad += back[i] != (uint8_t)(0x3c ^ i);
    CHECK_EQ(bad, 0);
    /* A sector range past the disk is an I/O error, not a broken device. */
    put(STATUS, 1, 0xee);
    CHECK_EQ(submit(VIRTIO_BLK_T_IN, DISK_SECTORS, RAM_END - 512, 512, STATUS), 3);
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_IOERR);
    CHECK(!needs_reset());
}

/* One request whose data or status descriptor is bad: the device must be
 * broken, consume nothing, write no status, touch no disk byte. */
static void expect_refused(const char *what, uint32_t type, uint64_t data, uint32_t len,
                           uint64_t status, int fd)
{
    driver_init();
    uint8_t before[512], after[512];
    CHECK_EQ(pread(fd, before, 512, 0), 512);
    put(STATUS, 1, 0xee);
    uint16_t used = submit(type, 0, data, len, status);
    if (used != 0 || !needs_reset())
        fprintf(stderr, "not refused: %s\n", what);
    CHECK_EQ(used, 0);
    CHECK(needs_reset());
    CHECK_EQ(get(STATUS, 1), 0xee);
    CHECK(rd(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG_CHANGE);
    CHECK_EQ(pread(fd, after, 512, 0), 512);
    CHECK(memcmp(before, after, 512) == 0);
}

static void test_descriptors_outside_ram(int fd)
{
    static const uint32_t types[2] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT };
    for (unsigned t = 0; t < 2; t++) {
        uint32_t ty = types[t];
        expect_refused("straddles the end", ty, RAM_END - 256, 512, STATUS, fd);
        expect_refused("one byte past the end", ty, RAM_END - 511, 512, STATUS, fd);
        expect_refused("starts at the end", ty, RAM_END, 512, STATUS, fd);
        expect_refused("just below RAM", ty, RAM_BASE - 512, 512, STATUS, fd);
        expect_refused("straddles the start", ty, RAM_BASE - 256, 512, STATUS, fd);
        expect_refused("at 2^64-1", ty, ~0ull, 512, STATUS, fd);
        expect_refused("ends at 2^64", ty, 0ull - 512, 512, STATUS, fd);
        expect_refused("wraps past 2^64", ty, 0ull - 256, 512, STATUS, fd);
        expect_refused("in an MMIO window", ty, MMIO_SPY, 512, STATUS, fd);
        expect_refused("the device's own window", ty, 0x10001000ull, 512, STATUS, fd);
        expect_refused("length 2^32-1", ty, RAM_BASE + 0x10000, 0xffffffffu, STATUS, fd);
    }
    expect_refused("status at 2^64-1", VIRTIO_BLK_T_IN, RAM_BASE + 0x10000, 512, ~0ull, fd);
    expect_refused("status past the end", VIRTIO_BLK_T_IN, RAM_BASE + 0x10000, 512, RAM_END, fd);
    expect_refused("status in MMIO", VIRTIO_BLK_T_OUT, RAM_BASE + 0x10000, 512, MMIO_SPY + 7, fd);
    CHECK_EQ(spy_accesses, 0);
}

/* Rings that do not fit in RAM are refused at QueueReady (the device
 * becomes broken); rings that end exactly at the end of RAM work. */
static void test_rings_at_the_edge(void)
{
    const uint64_t desc_bytes = 16 * QNUM, avail_bytes = 6 + 2 * QNUM, used_bytes = 6 + 8 * QNUM;
    struct { uint64_t desc, avail, used; } bad[] = {
        { RAM_END - desc_bytes + 16, AVAIL, USED },
        { DESC, RAM_END - avail_bytes + 2, USED },
        { DESC, AVAIL, RAM_END - used_bytes + 4 },
        { DESC, AVAIL, ~0ull & ~3ull },
        { 0ull - 16 * 4, AVAIL, USED },     /* wraps past 2^64 */
        { DESC, MMIO_SPY, USED },
        { DESC, AVAIL, MMIO_SPY + 0x100 },
        { RAM_BASE - 16, AVAIL, USED },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!driver_init_at(bad[i].desc, bad[i].avail, bad[i].used));
        CHECK(needs_reset());
        wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);    /* nothing to serve, nothing touched */
    }
    CHECK_EQ(spy_accesses, 0);

    /* All three rings packed against the end of RAM: a request completes and
     * the used element lands in the last bytes. */
    uint64_t used = RAM_END - used_bytes;
    used &= ~3ull;
    uint64_t avail = (used - avail_bytes) & ~1ull;
    uint64_t desc = (avail - desc_bytes) & ~15ull;
    for (uint64_t a = desc; a < RAM_END; a += 1)
        put(a, 1, 0);
    CHECK(driver_init_at(desc, avail, used));
    put(HDR, 4, VIRTIO_BLK_T_FLUSH);
    put(HDR + 8, 8, 0);
    put(STATUS, 1, 0xee);
    put(desc, 8, HDR);
    put(desc + 8, 4, 16);
    put(desc + 12, 2, VIRTQ_DESC_F_NEXT);
    put(desc + 14, 2, 1);
    put(desc + 16, 8, STATUS);
    put(desc + 24, 4, 1);
    put(desc + 28, 2, VIRTQ_DESC_F_WRITE);
    /* Use the last avail slot so its read is the ring's last entry. */
    for (unsigned k = 0; k < QNUM; k++) {
        put(avail + 4 + 2 * k, 2, 0);
        put(avail + 2, 2, k + 1);
        wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    }
    CHECK_EQ(get(used + 2, 2), QNUM);
    CHECK_EQ(get(used + 4 + 8 * (QNUM - 1), 4), 0);     /* last used element */
    CHECK_EQ(get(used + 4 + 8 * (QNUM - 1) + 4, 4), 1);
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
    CHECK(!needs_reset());
}

/* The host file shrinking under a running guest: reads past its end give
 * zeros, writes put the data back, nothing crashes. */
static void test_file_truncated_while_running(int fd)
{
    driver_init();
    CHECK_EQ(ftruncate(fd, 0), 0);
    uint64_t data = RAM_BASE + 0x10000;
    for (unsigned i = 0; i < 512; i++)
        put(data + i, 1, 0x99);
    put(STATUS, 1, 0xee);
    CHECK_EQ(submit(VIRTIO_BLK_T_IN, 5, data, 512, STATUS), 1);
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
    CHECK_EQ(get(data, 8), 0);
    CHECK_EQ(get(data + 504, 8), 0);
    for (unsigned i = 0; i < 512; i++)
        put(data + i, 1, (uint8_t)i);
    CHECK_EQ(submit(VIRTIO_BLK_T_OUT, 5, data, 512, STATUS), 2);
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
    uint8_t back[512];
    CHECK_EQ(pread(fd, back, 512, 5 * 512), 512);
    CHECK_EQ(back[511], 0xff);
    CHECK_EQ(ftruncate(fd, DISK_SECTORS * 512), 0);
}

/* ------------------------------------------------------- cache modes */

static bool parse_cache_mode(const char *drive_arg, struct umbra_options *o)
{
    char *argv[] = { (char *)"umbra", (char *)"-drive", (char *)drive_arg, NULL };
    FILE *sink = fopen("/dev/null", "w");
    enum options_result r = options_parse(3, argv, o, sink, sink);
    if (sink)
        fclose(sink);
    return r == OPTIONS_RUN;
}

static void test_cache_option(void)
{
    static struct umbra_options o;
    static const struct { const char *arg; enum drive_cache mode; } ok[] = {
        { "file=a.img", DRIVE_CACHE_WRITEBACK },
        { "file=a.img,cache=writeback", DRIVE_CACHE_WRITEBACK },
        { "file=a.img,cache=none", DRIVE_CACHE_NONE },
        { "cache=writethrough,file=a.img", DRIVE_CACHE_WRITETHROUGH },
        { "file=a.img,cache=directsync", DRIVE_CACHE_DIRECTSYNC },
        { "file=a.img,cache=unsafe,format=raw", DRIVE_CACHE_UNSAFE },
    };
    for (unsigned i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK(parse_cache_mode(ok[i].arg, &o));
        CHECK_EQ(o.drive[0].cache, ok[i].mode);
    }
    CHECK(!parse_cache_mode("file=a.img,cache=", &o));
    CHECK(!parse_cache_mode("file=a.img,cache=Writeback", &o));
    CHECK(!parse_cache_mode("file=a.img,cache=off", &o));
}

static int open_with_cache(const char *path, enum drive_cache cache, struct drive *d)
{
    struct drive_opt o;
    memset(&o, 0, sizeof o);
    snprintf(o.file, sizeof o.file, "%s", path);
    o.cache = cache;
    char err[512] = "";
    if (!drive_open(&o, d, err, sizeof err)) {
        /* Only O_DIRECT may be missing (tmpfs on older kernels). */
        CHECK(strstr(err, "O_DIRECT") != NULL);
        return -1;
    }
    return fcntl(d->fd, F_GETFL);
}

static void test_cache_open_flags(const char *path)
{
    struct drive d;
    int fl = open_with_cache(path, DRIVE_CACHE_WRITEBACK, &d);
    CHECK(fl >= 0 && !(fl & O_DIRECT) && (fl & O_DSYNC) != O_DSYNC && !d.ignore_flush);
    drive_close(&d);
    fl = open_with_cache(path, DRIVE_CACHE_WRITETHROUGH, &d);
    CHECK(fl >= 0 && !(fl & O_DIRECT) && (fl & O_DSYNC) == O_DSYNC && !d.ignore_flush);
    drive_close(&d);
    fl = open_with_cache(path, DRIVE_CACHE_UNSAFE, &d);
    CHECK(fl >= 0 && !(fl & O_DIRECT) && (fl & O_DSYNC) != O_DSYNC && d.ignore_flush);
    drive_close(&d);
    fl = open_with_cache(path, DRIVE_CACHE_NONE, &d);
    if (fl >= 0) {
        CHECK((fl & O_DIRECT) && (fl & O_DSYNC) != O_DSYNC && !d.ignore_flush);
        drive_close(&d);
    }
    fl = open_with_cache(path, DRIVE_CACHE_DIRECTSYNC, &d);
    if (fl >= 0) {
        CHECK((fl & O_DIRECT) && (fl & O_DSYNC) == O_DSYNC);
        drive_close(&d);
    }
}

/* A device on another backing descriptor, driven through the same rings. */
static struct virtio_blk *swap_device(int fd, uint64_t bytes)
{
    struct irq_line line = { .set = on_irq, .line = 1 };
    struct virtio_blk *b = virtio_blk_create(&mem, fd, bytes, false, line);
    CHECK(b != NULL);
    if (b)
        dev = virtio_blk_device(b);
    return b;
}

/* fdatasync on a pipe fails (EINVAL), so the status of a FLUSH on a
 * pipe-backed device tells whether the device called it. */
static void test_flush_reaches_fdatasync(void)
{
    struct device *saved = dev;
    int p[2];
    CHECK_EQ(pipe(p), 0);
    struct virtio_blk *b = swap_device(p[1], DISK_SECTORS * 512);
    if (!b)
        return;
    driver_init();
    put(STATUS, 1, 0xee);
    CHECK_EQ(submit(VIRTIO_BLK_T_FLUSH, 0, RAM_BASE + 0x10000, 0, STATUS), 1);
    /* (a zero-length data descriptor: the header, an empty buffer, status) */
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_IOERR);
    virtio_blk_set_ignore_flush(b, true);
    put(STATUS, 1, 0xee);
    CHECK_EQ(submit(VIRTIO_BLK_T_FLUSH, 0, RAM_BASE + 0x10000, 0, STATUS), 2);
    CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
    dev->reset(dev);
    virtio_blk_destroy(b);
    close(p[0]);
    close(p[1]);
    dev = saved;
}

/* Requests on an O_DIRECT descriptor (cache=none): the bounce buffer is
 * aligned, so sectors go through; data survives a round trip. */
static void test_direct_io(const char *path)
{
    struct drive d;
    int fl = open_with_cache(path, DRIVE_CACHE_DIRECTSYNC, &d);
    if (fl < 0)
        return;
    struct device *saved = dev;
    struct virtio_blk *b = swap_device(d.fd, d.size);
    if (b) {
        driver_init();
        uint64_t data = RAM_BASE + 0x10000;
        for (unsigned i = 0; i < 4096; i++)
            put(data + i, 1, (uint8_t)(i * 5 + 3));
        CHECK_EQ(submit(VIRTIO_BLK_T_OUT, 16, data, 4096, STATUS), 1);
        CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
        for (unsigned i = 0; i < 4096; i++)
            put(data + 0x2000 + i, 1, 0);
        CHECK_EQ(submit(VIRTIO_BLK_T_IN, 16, data + 0x2000, 4096, STATUS), 2);
        CHECK_EQ(get(STATUS, 1), VIRTIO_BLK_S_OK);
        unsigned bad = 0;
        for (unsigned i = 0; i < 4096; i++)
            bad += get(data + 0x2000 + i, 1) != (uint8_t)(i * 5 + 3);
        CHECK_EQ(bad, 0);
        dev->reset(dev);
        virtio_blk_destroy(b);
    }
    drive_close(&d);
    dev = saved;
}

int main(void)
{
    CHECK_EQ(mem_init(&mem, RAM_BASE, RAM_SIZE), 0);
    CHECK(mem_map_mmio(&mem, MMIO_SPY, 0x1000, &spy_ops, NULL, "spy"));
    char path[] = "/tmp/umbra-isolation-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return check_summary();
    unlink(path);
    CHECK_EQ(ftruncate(fd, DISK_SECTORS * 512), 0);
    struct irq_line line = { .set = on_irq, .line = 1 };
    struct virtio_blk *b = virtio_blk_create(&mem, fd, DISK_SECTORS * 512, false, line);
    CHECK(b != NULL);
    if (!b)
        return check_summary();
    dev = virtio_blk_device(b);

    test_guards();
    test_last_bytes_of_ram(fd);
    test_descriptors_outside_ram(fd);
    test_rings_at_the_edge();
    test_file_truncated_while_running(fd);

    test_cache_option();
    char disk[] = "/tmp/umbra-cache-XXXXXX";
    int dfd = mkstemp(disk);
    CHECK(dfd >= 0);
    CHECK_EQ(ftruncate(dfd, DISK_SECTORS * 512), 0);
    close(dfd);
    test_cache_open_flags(disk);
    test_flush_reaches_fdatasync();
    test_direct_io(disk);
    unlink(disk);

    virtio_blk_destroy(b);
    close(fd);
    mem_destroy(&mem);
    return check_summary();
}
