/* drive: the host side of a -drive, opened and checked before the guest runs.
 *
 * Owns the file descriptor of each disk image: opened read-write (or
 * read-only with readonly=on), locked against a second umbra using the same
 * image, and checked to be a whole number of 512-byte sectors, which is the
 * unit virtio-blk counts capacity in (virtio spec 5.2.4). The virtio-blk
 * device then does its I/O on the descriptor.
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
};

/* Open and check one drive. On failure returns false with a message (naming
 * the file and the reason) in err; nothing stays open. */
bool drive_open(const struct drive_opt *opt, struct drive *out, char *err, size_t errlen);
void drive_close(struct drive *d);
#endif
