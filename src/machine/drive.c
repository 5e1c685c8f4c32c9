/* drive: opening and checking disk images (see drive.h). */
#include "machine/drive.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

static bool fail(char *err, size_t errlen, int fd, const char *fmt, const char *file,
                 const char *reason)
{
    snprintf(err, errlen, fmt, file, reason);
    if (fd >= 0)
        close(fd);
    return false;
}

static bool image_size(int fd, const struct stat *st, uint64_t *size)
{
    if (S_ISREG(st->st_mode)) {
        *size = (uint64_t)st->st_size;
        return true;
    }
    if (S_ISBLK(st->st_mode)) {
        uint64_t bytes;
        if (ioctl(fd, BLKGETSIZE64, &bytes) != 0)
            return false;
        *size = bytes;
        return true;
    }
    return false;
}

/* open(2) flags a cache mode adds (see drive.h). */
static int cache_flags(enum drive_cache cache)
{
    switch (cache) {
    case DRIVE_CACHE_NONE: return O_DIRECT;
    case DRIVE_CACHE_WRITETHROUGH: return O_DSYNC;
    case DRIVE_CACHE_DIRECTSYNC: return O_DIRECT | O_DSYNC;
    default: return 0;
    }
}

bool drive_open(const struct drive_opt *opt, struct drive *out, char *err, size_t errlen)
{
    out->fd = -1;
    int flags = (opt->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | cache_flags(opt->cache);
    int fd = open(opt->file, flags);
    if (fd < 0 && errno == EINVAL && (flags & O_DIRECT))
        return fail(err, errlen, -1,
                    "-drive %s: %s", opt->file,
                    "its file system does not support O_DIRECT, which cache=none and "
                    "cache=directsync need (use cache=writeback)");
    if (fd < 0) {
        if (!opt->readonly && (errno == EACCES || errno == EROFS || errno == ETXTBSY ||
                               errno == EPERM))
            return fail(err, errlen, -1,
                        "-drive %s: cannot open for writing (%s); "
                        "add readonly=on to use it read-only",
                        opt->file, strerror(errno));
        return fail(err, errlen, -1, "-drive %s: %s", opt->file, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, fd, "-drive %s: %s", opt->file, strerror(errno));
    uint64_t size;
    if (!image_size(fd, &st, &size))
        return fail(err, errlen, fd, "-drive %s: %s", opt->file,
                    "not a regular file or block device");
    if (size == 0)
        return fail(err, errlen, fd, "-drive %s: %s", opt->file, "the image is empty");
    if (size % DRIVE_SECTOR != 0)
        return fail(err, errlen, fd, "-drive %s: %s", opt->file,
                    "size is not a multiple of 512 bytes (virtio-blk counts 512-byte sectors)");
    /* Two machines writing one image corrupt it; a reader beside a writer
     * sees garbage. Advisory locks: exclusive to write, shared to read. */
    if (flock(fd, (opt->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0)
        return fail(err, errlen, fd, "-drive %s: %s", opt->file,
                    errno == EWOULDBLOCK ? "the image is in use by another process"
                                         : strerror(errno));
    out->fd = fd;
    out->size = size;
    out->read_only = opt->readonly;
    out->ignore_flush = opt->cache == DRIVE_CACHE_UNSAFE;
    return true;
}

void drive_close(struct drive *d)
{
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
}
