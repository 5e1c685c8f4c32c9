/* drive: the host side of a -drive, opened and checked before the guest runs.
 *
 * Owns the file descriptor of each disk image: opened read-write (or
 * read-only with readonly=on), locked against a second umbra using the same
 * image, and checked to be a whole number of 512-byte sectors, which is the
 * unit virtio-blk counts capacity in (virtio spec 5.2.4). The virtio-blk
 * device then does its I/O on the descriptor.
 *
 * The cache mode (-drive cache=, named as QEMU names them) decides how the
 * file is opened and what a guest FLUSH does. Guest writes are always
 * pwrite() calls made before the request completes, so they are in the
 * host's page cache (and survive umbra being killed) in every mode.
 *   writeback     default; FLUSH = fdatasync before completion, so data the
 *                 guest synced survives a host crash too
 *   none          O_DIRECT (bypasses the host page cache); FLUSH as writeback
 *   writethrough  O_DSYNC: every write is on stable storage when it completes
 *   directsync    O_DIRECT | O_DSYNC
 *   unsafe        FLUSH completes at once, without fdatasync: fast, and what
 *                 the guest synced may be lost if the host crashes
 *
 * Caller: the board, on the main thread, while it builds the machine.
 */
#ifndef UMBRA_MACHINE_DRIVE_H
#define UMBRA_MACHINE_DRIVE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "machine/options.h"

#define DRIVE_SECTOR 512u

struct drive {
    int fd;
    uint64_t size;              /* bytes, a multiple of DRIVE_SECTOR */
    bool read_only;
    bool ignore_flush;          /* cache=unsafe */
};

/* Open and check one drive. On failure returns false with a message (naming
 * the file and the reason) in err; nothing stays open. */
bool drive_open(const struct drive_opt *opt, struct drive *out, char *err, size_t errlen);
void drive_close(struct drive *d);
#endif
