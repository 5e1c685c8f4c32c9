/* loader: puts firmware, kernel, initrd and device-tree images into guest RAM.
 *
 * Owns three things:
 *  - reading an image file (mapped read-only, kept for the machine's life so
 *    a guest reset can place it again);
 *  - parsing and validating ELF64 little-endian RISC-V executables (ELF spec,
 *    "ELF-64 Object File Format" 1.5; RISC-V ELF psABI): PT_LOAD segments go
 *    to their physical addresses, the part of a segment beyond its file size
 *    is zeroed, and the symbol table is searched for `tohost` / `fromhost`
 *    (Spike's HTIF convention);
 *  - the load map: every placed range is recorded with its name, so an image
 *    that leaves RAM or overlaps another image is refused with a message
 *    naming both, before any hart runs.
 *
 * Callers: the board, on the main thread, before harts start (and again while
 * every hart is stopped, on a guest reset). Every function reports a problem
 * by returning false with a one-line message in `err`.
 */
#ifndef UMBRA_MACHINE_LOADER_H
#define UMBRA_MACHINE_LOADER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mem/guest_mem.h"

#define EM_RISCV_MACHINE 243
#define ELF_MAX_SEGMENTS 32
#define LOAD_MAP_MAX 16
#define LOADER_ERR_LEN 512

/* An image file, mapped read-only. */
struct image {
    const char *path;
    const char *what;           /* the flag it came from: "-bios", "-kernel"... */
    const uint8_t *data;
    size_t size;
    bool mapped;                /* image_read mapped it; image_release unmaps */
};

bool image_read(const char *path, const char *what, struct image *out, char *err, size_t errlen);
/* Wrap a buffer the caller owns (a generated device tree, a test's bytes). */
void image_from_buffer(const void *data, size_t size, const char *what, struct image *out);
void image_release(struct image *img);

struct elf_segment {
    uint64_t paddr, vaddr;
    uint64_t offset, filesz, memsz;
};

struct elf_info {
    uint64_t entry;             /* physical: e_entry translated through its segment */
    struct elf_segment seg[ELF_MAX_SEGMENTS];
    unsigned nseg;              /* PT_LOAD segments with a non-zero memsz */
    uint64_t low, high;         /* lowest physical address, end of the highest segment */
    bool has_tohost, has_fromhost;
    uint64_t tohost, fromhost;  /* physical addresses of the symbols */
};

/* True if the bytes start with the ELF magic; such a file must then parse. */
bool elf_has_magic(const uint8_t *data, size_t size);
/* Validate an ELF64 LE EM_RISCV executable and describe it. */
bool elf_parse(const uint8_t *data, size_t size, struct elf_info *out, char *err, size_t errlen);

struct load_range {
    uint64_t base, end;         /* [base, end) */
    const char *what;
};

struct load_map {
    struct load_range r[LOAD_MAP_MAX];
    unsigned n;
};

/* Record [base, base+size) for `what`: it must lie in RAM and overlap
 * nothing recorded before. */
bool load_map_add(struct load_map *map, const struct guest_mem *mem, uint64_t base,
                  uint64_t size, const char *what, char *err, size_t errlen);

struct loaded {
    bool is_elf;
    uint64_t entry;             /* where execution starts */
    uint64_t low, high;         /* the physical range the image covers */
    struct elf_info elf;        /* valid when is_elf */
};

/* Place an image in RAM: an ELF at its segments' physical addresses, any
 * other file byte for byte at flat_addr. Checks RAM bounds and overlaps
 * through `map` before copying anything. */
bool loader_place(struct guest_mem *mem, struct load_map *map, const struct image *img,
                  uint64_t flat_addr, struct loaded *out, char *err, size_t errlen);
#endif
