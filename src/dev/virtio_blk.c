/* virtio-blk request handling (virtio 1.1 section 5.2.6). */
#include "dev/virtio_blk.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOUNCE_SIZE (64 * 1024)     /* host-side staging for one I/O chunk */
#define BOUNCE_ALIGN 4096           /* enough for O_DIRECT (cache=none) */
#define REQ_HEADER_SIZE 16          /* le32 type, le32 reserved, le64 sector */

struct virtio_blk {
    struct virtio_mmio t;           /* first: its first member is the device */
    struct virtio_backend be;
    int fd;
    uint64_t capacity;              /* in sectors */
    bool read_only;
    bool ignore_flush;
    uint8_t config[VIRTIO_BLK_CFG_SIZE];
    uint8_t serial[VIRTIO_BLK_ID_BYTES];    /* NUL-padded */
    uint8_t *bounce;
};

static uint64_t get_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(uint8_t *p, unsigned n, uint64_t v)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t blk_config_read(struct virtio_mmio *t, uint64_t offset, unsigned size)
{
    const struct virtio_blk *b = (const struct virtio_blk *)t;
    uint64_t v = 0;
    /* Bytes past the fields umbra fills read as zero. */
    for (unsigned i = 0; i < size; i++)
        if (offset + i < VIRTIO_BLK_CFG_SIZE)
            v |= (uint64_t)b->config[offset + i] << (8 * i);
    return v;
}

/* Section 5.2.6.1: a request must cover whole sectors inside the disk. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
    return len % VIRTIO_BLK_SECTOR_SIZE == 0 && sector <= b->capacity
           && len / VIRTIO_BLK_SECTOR_SIZE <= b->capacity - sector;
}

/* O_DIRECT (cache=none) wants transfers aligned to the file system's block,
 * which may be larger than a sector; EINVAL says it is. The request then
 * goes through the page cache instead of failing: true if that was the
 * cause and the descriptor now does buffered I/O. */
static bool fall_back_to_buffered(int fd)
{
    if (errno != EINVAL)
        return false;
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || !(flags & O_DIRECT))
        return false;
    return fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0;
}

/* pread until n bytes or end of file; bytes past the end read as zero. */
static bool read_full(int fd, uint8_t *buf, size_t n, uint64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, buf + done, n - done, (off_t)(pos + done));
        if (r < 0 && (errno == EINTR || fall_back_to_buffered(fd)))
            continue;
        if (r < 0)
            return false;
        if (r == 0)
            break;
        done += (size_t)r;
    }
    memset(buf + done, 0, n - done);
    return true;
}

static bool write_full(int fd, const uint8_t *buf, size_t n, uint64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pwrite(fd, buf + done, n - done, (off_t)(pos + done));
        if (r < 0 && (errno == EINTR || fall_back_to_buffered(fd)))
            continue;
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

static uint8_t do_read(struct virtio_blk *b, const struct virtio_chain *c, uint64_t sector, uint64_t len)
{
    if (!range_ok(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    uint64_t pos = sector * VIRTIO_BLK_SECTOR_SIZE;
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < BOUNCE_SIZE ? (size_t)(len - done) : BOUNCE_SIZE;
        if (!read_full(b->fd, b->bounce, n, pos + done))
            return VIRTIO_BLK_S_IOERR;
        if (!virtio_chain_write(&b->t, c, done, b->bounce, n))
            return VIRTIO_BLK_S_IOERR;
        done += n;
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct virtio_blk *b, const struct virtio_chain *c, uint64_t sector, uint64_t len)
{
    if (b->read_only || !range_ok(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    uint64_t pos = sector * VIRTIO_BLK_SECTOR_SIZE;
    for (uint64_t done = 0; done < len;) {
        size_t n = len - done < BOUNCE_SIZE ? (size_t)(len - done) : BOUNCE_SIZE;
        if (!virtio_chain_read(&b->t, c, REQ_HEADER_SIZE + done, b->bounce, n))
            return VIRTIO_BLK_S_IOERR;
        if (!write_full(b->fd, b->bounce, n, pos + done))
            return VIRTIO_BLK_S_IOERR;
        done += n;
    }
    return VIRTIO_BLK_S_OK;
}

/* Section 5.2.6.2: a FLUSH completes once every write completed before it
 * is on stable storage. Writes already went to the file with pwrite (so a
 * killed umbra loses nothing); fdatasync carries them through a host crash.
 * The status is written only after it returns. */
static uint8_t do_flush(struct virtio_blk *b)
{
    if (b->read_only || b->ignore_flush)
        return VIRTIO_BLK_S_OK;     /* nothing was written, or cache=unsafe */
    return fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/* A request is a 16-byte header in the readable part, then data, and a
 * status byte as the last byte of the writable part (5.2.6). A chain too
 * short to hold a header and a status cannot be answered at all. */
static int64_t blk_handle(struct virtio_mmio *t, unsigned queue, const struct virtio_chain *c)
{
    struct virtio_blk *b = (struct virtio_blk *)t;
    uint8_t hdr[REQ_HEADER_SIZE];
    (void)queue;
    if (c->writable == 0 || !virtio_chain_read(t, c, 0, hdr, sizeof hdr))
        return -1;
    uint32_t type = (uint32_t)get_le(hdr, 4);
    uint64_t sector = get_le(hdr + 8, 8);
    uint64_t in_len = c->writable - 1;          /* writable bytes before the status */
    uint64_t data_written = 0;
    uint8_t status;
    switch (type) {
    case VIRTIO_BLK_T_IN:
        status = do_read(b, c, sector, in_len);
        if (status == VIRTIO_BLK_S_OK)
            data_written = in_len;
        break;
    case VIRTIO_BLK_T_OUT:
        status = do_write(b, c, sector, c->readable - REQ_HEADER_SIZE);
        break;
    case VIRTIO_BLK_T_FLUSH:
        status = do_flush(b);
        break;
    case VIRTIO_BLK_T_GET_ID:
        data_written = in_len < VIRTIO_BLK_ID_BYTES ? in_len : VIRTIO_BLK_ID_BYTES;
        status = virtio_chain_write(t, c, 0, b->serial, (size_t)data_written)
                 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
        break;
    default:
        status = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (!virtio_chain_write(t, c, c->writable - 1, &status, 1))
        return -1;
    return (int64_t)data_written + 1;
}

static void fill_config(struct virtio_blk *b)
{
    put_le(b->config + VIRTIO_BLK_CFG_CAPACITY, 8, b->capacity);
    put_le(b->config + VIRTIO_BLK_CFG_SEG_MAX, 4, VIRTIO_BLK_QUEUE_NUM_MAX - 2);
    put_le(b->config + VIRTIO_BLK_CFG_BLK_SIZE, 4, VIRTIO_BLK_SECTOR_SIZE);
}

struct virtio_blk *virtio_blk_create(struct guest_mem *mem, int fd, uint64_t size_bytes,
                                     bool read_only, struct irq_line irq)
{
    struct virtio_blk *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    void *bounce = NULL;
    if (posix_memalign(&bounce, BOUNCE_ALIGN, BOUNCE_SIZE) == 0)
        b->bounce = bounce;
    b->fd = fd;
    b->capacity = size_bytes / VIRTIO_BLK_SECTOR_SIZE;
    b->read_only = read_only;
    b->be = (struct virtio_backend){
        .device_id = VIRTIO_ID_BLOCK,
        .features = VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_FLUSH | VIRTIO_BLK_F_SEG_MAX
                    | VIRTIO_BLK_F_BLK_SIZE | (read_only ? VIRTIO_BLK_F_RO : 0),
        .nqueues = 1,
        .queue_num_max = VIRTIO_BLK_QUEUE_NUM_MAX,
        .config_read = blk_config_read,
        .handle = blk_handle,
    };
    fill_config(b);
    if (!b->bounce || !virtio_mmio_init(&b->t, "virtio-blk", mem, &b->be, irq)) {
        free(b->bounce);
        free(b);
        return NULL;
    }
    return b;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
    if (!b)
        return;
    virtio_mmio_fini(&b->t);
    free(b->bounce);
    free(b);
}

struct device *virtio_blk_device(struct virtio_blk *b)
{
    return &b->t.dev;
}

void virtio_blk_set_ignore_flush(struct virtio_blk *b, bool ignore)
{
    pthread_mutex_lock(&b->t.lock);
    b->ignore_flush = ignore;
    pthread_mutex_unlock(&b->t.lock);
}

void virtio_blk_set_serial(struct virtio_blk *b, const char *serial)
{
    pthread_mutex_lock(&b->t.lock);
    memset(b->serial, 0, sizeof b->serial);
    size_t n = strlen(serial);
    memcpy(b->serial, serial, n < sizeof b->serial ? n : sizeof b->serial);
    pthread_mutex_unlock(&b->t.lock);
}
