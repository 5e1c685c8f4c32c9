/* fuzz_loader: corrupted ELF, flat and device-tree images given to the
 * loader and to the board, as -bios, -kernel, -initrd and -dtb would.
 *
 * The input's first byte chooses the role of the rest (the file) and the
 * RAM size:
 *   role 0: -bios none -kernel FILE
 *   role 1: -bios FILE -kernel (a small flat image)
 *   role 2: -bios none -kernel (flat) -initrd (small) -append ... -dtb FILE
 *   role 3: -bios none -kernel FILE -initrd (small) -append ...
 * The file is handed to the board through a memory file, exactly as umbra
 * reads it; the same bytes also go to elf_parse and loader_place from a heap
 * buffer of their exact size, so AddressSanitizer sees any read past the end.
 *
 * What must hold: no host fault, leak or undefined behaviour; the board
 * either refuses the input with status 1 or builds a machine whose first
 * instruction is in RAM and whose placed device tree passes libfdt's header
 * check (Devicetree Specification 0.4, 5.2).
 */
#include <libfdt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "machine/board.h"
#include "machine/loader.h"
#include "machine/options.h"
#include "mem/guest_mem.h"

#define RAM_BASE 0x80000000ull
#define DIRECT_RAM (1ull << 20)

static const uint8_t small_kernel[] = { 0x73, 0x00, 0x50, 0x10 };  /* wfi */
static const uint8_t small_initrd[] = "070701 not really a cpio archive";

/* A memory file holding `data`; its /proc path goes in `path`. */
static int memory_file(const void *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz-image", 0);
    if (fd < 0)
        abort();
    const uint8_t *p = data;
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, p + done, size - done);
        if (n <= 0)
            abort();
        done += (size_t)n;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}

/* The loader alone, on an exact-size heap copy. */
static void load_directly(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    char err[LOADER_ERR_LEN];
    struct elf_info info;
    if (elf_has_magic(copy, size))
        (void)elf_parse(copy, size, &info, err, sizeof err);
    struct guest_mem mem;
    if (mem_init(&mem, RAM_BASE, DIRECT_RAM) != 0)
        abort();
    struct image img;
    image_from_buffer(copy, size, "-kernel", &img);
    struct load_map map = { .n = 0 };
    struct loaded out;
    if (loader_place(&mem, &map, &img, RAM_BASE, &out, err, sizeof err) && !out.is_elf &&
        out.entry != RAM_BASE)
        abort();
    image_release(&img);
    mem_destroy(&mem);
    free(copy);
}

static void check_machine(const struct board *b)
{
    if (!mem_in_ram(&b->mem, b->boot.start_pc, 2))
        abort();
    if (b->fdt_size < sizeof(struct fdt_header) || fdt_check_header(b->fdt) != 0 ||
        fdt_totalsize(b->fdt) != b->fdt_size)
        abort();
}

static struct board board;      /* large: keep it off the stack */

static void load_on_board(unsigned role, const char *ram, const char *file, const char *kernel,
                          const char *initrd)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = "umbra";
    argv[argc++] = "-m";
    argv[argc++] = (char *)ram;
    argv[argc++] = "-bios";
    argv[argc++] = (char *)(role == 1 ? file : "none");
    argv[argc++] = "-kernel";
    argv[argc++] = (char *)(role == 0 || role == 3 ? file : kernel);
    if (role >= 2) {
        argv[argc++] = "-initrd";
        argv[argc++] = (char *)initrd;
        argv[argc++] = "-append";
        argv[argc++] = "console=ttyS0 earlycon=sbi";
    }
    if (role == 2) {
        argv[argc++] = "-dtb";
        argv[argc++] = (char *)file;
    }
    argv[argc] = NULL;

    struct umbra_options opts;
    FILE *null = fopen("/dev/null", "w");
    if (!null || options_parse(argc, argv, &opts, null, null) != OPTIONS_RUN)
        abort();
    fclose(null);
    int rc = board_create(&board, &opts);
    if (rc != 0 && rc != EXIT_STATUS_BAD_FILE)
        abort();
    if (rc == 0)
        check_machine(&board);
    board_destroy(&board);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const ram[] = { "2M", "4M", "8M", "16M" };
    unsigned role = data[0] & 3;
    const char *ram_size = ram[(data[0] >> 2) & 3];
    data++;
    size--;
    load_directly(data, size);

    char file[64], kernel[64], initrd[64];
    int fds[3] = {
        memory_file(data, size, file, sizeof file),
        memory_file(small_kernel, sizeof small_kernel, kernel, sizeof kernel),
        memory_file(small_initrd, sizeof small_initrd, initrd, sizeof initrd),
    };
    load_on_board(role, ram_size, file, kernel, initrd);
    for (unsigned i = 0; i < 3; i++)
        close(fds[i]);
    return 0;
}
