/*
 * umbra sync-kill guest: data the guest synced must be in the host's disk
 * image even if umbra is killed the moment the guest says so.
 *
 * As /init it fills the whole raw disk /dev/vda (no file system) with a
 * pseudo-random pattern seeded by `umbra.seed=N` on the kernel command line,
 * through the guest's page cache (plain buffered writes), then fsync()s the
 * device, which makes Linux write the dirty pages and send virtio-blk FLUSH.
 * Only then it prints
 *
 *   UMBRA-SYNCKILL SYNCED <crc> <bytes>
 *
 * where <crc> <bytes> is what POSIX `cksum` prints for the bytes it wrote
 * (CRC-32 of the data and its length). The host kills umbra with SIGKILL as
 * soon as that line appears and runs `cksum` on the image. Afterwards the
 * guest keeps computing (never writing), so umbra dies busy.
 *
 * Prints "UMBRA-SYNCKILL FAIL <reason>" on an error.
 * Build: riscv64-linux-gnu-gcc -O2 -static -o synckill synckill.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_init.h"

#define CHUNK (64 * 1024)

static uint32_t crc_table[256];

/* POSIX cksum: CRC-32 with polynomial 0x04c11db7, most significant bit
 * first, no reflection, over the data and then its length in as few
 * bytes as hold it (least significant first), the result complemented. */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i << 24;
        for (int k = 0; k < 8; k++)
            c = (c & 0x80000000u) ? (c << 1) ^ 0x04c11db7u : c << 1;
        crc_table[i] = c;
    }
}

static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        crc = (crc << 8) ^ crc_table[(crc >> 24) ^ p[i]];
    return crc;
}

static uint32_t crc_finish(uint32_t crc, uint64_t len)
{
    for (; len; len >>= 8) {
        uint8_t b = (uint8_t)len;
        crc = crc_update(crc, &b, 1);
    }
    return ~crc;
}

static uint64_t seed_from_cmdline(void)
{
    const char *s = guest_cmdline_value("umbra.seed");
    return s ? strtoull(s, NULL, 10) : 1;
}

/* xorshift64*: a stream nobody else writes, different for every seed. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void fill(uint8_t *buf, size_t n, uint64_t *state)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = next_random(state);
        memcpy(buf + i, &r, 8);
    }
}

static int failed(const char *what)
{
    printf("UMBRA-SYNCKILL FAIL %s: %s\n", what, strerror(errno));
    return 1;
}

static int write_and_sync(void)
{
    static uint8_t buf[CHUNK];
    int fd = open("/dev/vda", O_RDWR);
    if (fd < 0)
        return failed("open /dev/vda");
    uint64_t size = 0;
    if (ioctl(fd, BLKGETSIZE64, &size) != 0)
        return failed("BLKGETSIZE64");
    if (size == 0 || size % CHUNK != 0) {
        printf("UMBRA-SYNCKILL FAIL disk size %llu is not a multiple of %d\n",
               (unsigned long long)size, CHUNK);
        return 1;
    }
    uint64_t state = seed_from_cmdline() * 0x9e3779b97f4a7c15ull | 1;
    uint32_t crc = 0;
    for (uint64_t done = 0; done < size; done += CHUNK) {
        fill(buf, CHUNK, &state);
        crc = crc_update(crc, buf, CHUNK);
        if (write(fd, buf, CHUNK) != CHUNK)
            return failed("write /dev/vda");
    }
    if (fsync(fd) != 0)
        return failed("fsync /dev/vda");
    printf("UMBRA-SYNCKILL SYNCED %u %llu\n", crc_finish(crc, size), (unsigned long long)size);
    /* Stay busy (the host kills a running machine, not an idle one), but
     * never touch the disk again: the image must hold exactly this pattern. */
    for (;;)
        fill(buf, CHUNK, &state);
}

int main(void)
{
    mkdir("/proc", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    crc_init();
    write_and_sync();
    if (getpid() == 1) {
        reboot(RB_POWER_OFF);
        for (;;)
            pause();
    }
    return 1;
}
