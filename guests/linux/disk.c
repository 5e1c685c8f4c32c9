/*
 * umbra disk guest: a virtio-blk round trip through a real file system.
 *
 * As /init it mounts the ext2 file system on /dev/vda, reads /input.txt
 * (which the test put there), writes /output.txt — the text
 * "umbra read N bytes: " followed by the input with the case of every ASCII
 * letter swapped — syncs, unmounts and powers off. The test then reads
 * /output.txt out of the image on the host and compares it byte for byte.
 *
 * Prints "UMBRA-DISK PASS" or "UMBRA-DISK FAIL <reason>".
 * Build: riscv64-linux-gnu-gcc -O2 -static -o disk disk.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INPUT (1 << 20)

static int check(int ok, const char *what)
{
    if (!ok)
        printf("UMBRA-DISK FAIL %s: %s\n", what, strerror(errno));
    return ok;
}

static int round_trip(void)
{
    static char in[MAX_INPUT], out[MAX_INPUT + 64];
    if (!check(mount("/dev/vda", "/mnt", "ext2", 0, NULL) == 0, "mount /dev/vda"))
        return 1;
    int fd = open("/mnt/input.txt", O_RDONLY);
    if (!check(fd >= 0, "open /input.txt"))
        return 1;
    ssize_t n = read(fd, in, sizeof in);
    close(fd);
    if (!check(n >= 0, "read /input.txt"))
        return 1;
    int len = snprintf(out, sizeof out, "umbra read %zd bytes: ", n);
    for (ssize_t i = 0; i < n; i++) {
        char c = in[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            c ^= 0x20;
        out[len++] = c;
    }
    fd = open("/mnt/output.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!check(fd >= 0, "create /output.txt"))
        return 1;
    if (!check(write(fd, out, (size_t)len) == len, "write /output.txt") ||
        !check(fsync(fd) == 0, "fsync /output.txt"))
        return 1;
    close(fd);
    if (!check(umount("/mnt") == 0, "umount /mnt"))
        return 1;
    printf("disk: read %zd bytes, wrote %d bytes\n", n, len);
    printf("UMBRA-DISK PASS\n");
    return 0;
}

int main(void)
{
    mkdir("/proc", 0755);
    mkdir("/dev", 0755);
    mkdir("/mnt", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    round_trip();
    sync();
    if (getpid() == 1) {
        reboot(RB_POWER_OFF);
        for (;;)
            pause();
    }
    return 0;
}
