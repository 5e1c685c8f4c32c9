/* virtio_blk: a virtio block device (virtio 1.1 section 5.2) on a
 * virtio-mmio transport, backed by a host file descriptor.
 *
 * Owns the backing-store geometry, the block configuration space, a bounce
 * buffer for I/O, and the serving of requests: IN (read), OUT (write), FLUSH
 * (fdatasync, unless the disk's cache mode says to skip it), GET_ID (serial
 * string); any other type is answered
 * VIRTIO_BLK_S_UNSUPP. A sector range past the capacity, a length that is
 * not whole sectors, a write to a read-only disk and a host I/O error are
 * answered VIRTIO_BLK_S_IOERR. Features offered: VERSION_1, FLUSH, SEG_MAX,
 * BLK_SIZE, and RO for a read-only disk.
 *
 * Callers: the board creates it (having opened and checked the file, which
 * it keeps and closes itself); hart threads reach it through the transport's
 * MMIO ops, and requests are served on the notifying hart thread with the
 * transport's lock held (see virtio_mmio.h).
 */
#ifndef UMBRA_DEV_VIRTIO_BLK_H
#define UMBRA_DEV_VIRTIO_BLK_H
#include <stdbool.h>
#include <stdint.h>
#include "dev/device.h"
#include "dev/virtio_mmio.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_QUEUE_NUM_MAX 256
#define VIRTIO_BLK_ID_BYTES 20

#define VIRTIO_BLK_F_SEG_MAX (1ull << 2)
#define VIRTIO_BLK_F_RO (1ull << 5)
#define VIRTIO_BLK_F_BLK_SIZE (1ull << 6)
#define VIRTIO_BLK_F_FLUSH (1ull << 9)

/* Request types and status values (section 5.2.6). */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* Configuration space offsets (struct virtio_blk_config, 5.2.4). */
#define VIRTIO_BLK_CFG_CAPACITY 0x00    /* le64, in 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 0x08
#define VIRTIO_BLK_CFG_SEG_MAX 0x0c
#define VIRTIO_BLK_CFG_BLK_SIZE 0x14
#define VIRTIO_BLK_CFG_SIZE 0x24

struct virtio_blk;

/* size_bytes: the disk's size (capacity = size_bytes / 512 sectors).
 * `irq` is the transport's interrupt line. NULL on failure. The fd is not
 * closed by virtio_blk_destroy. */
struct virtio_blk *virtio_blk_create(struct guest_mem *mem, int fd, uint64_t size_bytes,
                                     bool read_only, struct irq_line irq);
void virtio_blk_destroy(struct virtio_blk *b);

/* The embedded device (also the first member of struct virtio_blk). */
struct device *virtio_blk_device(struct virtio_blk *b);

/* FLUSH completes without fdatasync (cache=unsafe). Before harts start. */
void virtio_blk_set_ignore_flush(struct virtio_blk *b, bool ignore);

/* The string GET_ID returns (at most 20 bytes are kept; default empty). */
void virtio_blk_set_serial(struct virtio_blk *b, const char *serial);
#endif
