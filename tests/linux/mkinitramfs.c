/* mkinitramfs: write an uncompressed "newc" cpio archive for a Linux
 * initramfs, with device nodes, and without needing root or mknod.
 *
 *   mkinitramfs OUT.cpio ENTRY...
 *     dir:PATH:MODE           a directory
 *     chr:PATH:MODE:MAJ:MIN   a character device
 *     file:PATH:MODE:HOSTFILE a regular file copied from HOSTFILE
 *
 * Timestamps and owners are zero, so the archive is reproducible. The
 * format is the kernel's (Documentation/driver-api/early-userspace/
 * buffer-format.rst): a 110-byte ASCII header, the name, padding to 4. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long ino = 1;

static void pad4(FILE *out, unsigned long n)
{
    while (n++ % 4)
        fputc(0, out);
}

static void entry(FILE *out, const char *name, unsigned long mode, const void *data,
                  unsigned long size, unsigned long rmaj, unsigned long rmin)
{
    unsigned long namesize = strlen(name) + 1;
    fprintf(out, "070701%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX%08lX",
            ino++, mode, 0ul, 0ul, 1ul, 0ul, size, 0ul, 0ul, rmaj, rmin, namesize, 0ul);
    fwrite(name, 1, namesize, out);
    pad4(out, 110 + namesize);
    if (size) {
        fwrite(data, 1, size, out);
        pad4(out, size);
    }
}

static char *slurp(const char *path, unsigned long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *size = (unsigned long)n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mkinitramfs OUT.cpio dir:PATH:MODE | chr:PATH:MODE:MAJ:MIN | "
                        "file:PATH:MODE:HOSTFILE ...\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        char *spec = strdup(argv[i]);
        char *kind = strtok(spec, ":"), *path = strtok(NULL, ":"), *mode = strtok(NULL, ":");
        char *a = strtok(NULL, ":"), *b = strtok(NULL, ":");
        if (!kind || !path || !mode) {
            fprintf(stderr, "mkinitramfs: bad entry '%s'\n", argv[i]);
            return 2;
        }
        unsigned long m = strtoul(mode, NULL, 8);
        if (!strcmp(kind, "dir")) {
            entry(out, path, 0040000 | m, NULL, 0, 0, 0);
        } else if (!strcmp(kind, "chr") && a && b) {
            entry(out, path, 0020000 | m, NULL, 0, strtoul(a, NULL, 0), strtoul(b, NULL, 0));
        } else if (!strcmp(kind, "file") && a) {
            unsigned long size;
            char *data = slurp(a, &size);
            if (!data) {
                perror(a);
                return 1;
            }
            entry(out, path, 0100000 | m, data, size, 0, 0);
            free(data);
        } else {
            fprintf(stderr, "mkinitramfs: bad entry '%s'\n", argv[i]);
            return 2;
        }
        free(spec);
    }
    entry(out, "TRAILER!!!", 0, NULL, 0, 0, 0);
    return fclose(out) ? 1 : 0;
}
