/* loader: image files, ELF64 parsing and placement in RAM (see loader.h). */
#include "machine/loader.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static bool __attribute__((format(printf, 3, 4)))
failf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* ------------------------------------------------------------ files */

bool image_read(const char *path, const char *what, struct image *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return failf(err, errlen, "%s %s: %s", what, path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return failf(err, errlen, "%s %s: %s", what, path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return failf(err, errlen, "%s %s: not a regular file", what, path);
    }
    if (st.st_size == 0) {
        close(fd);
        return failf(err, errlen, "%s %s: the file is empty", what, path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return failf(err, errlen, "%s %s: cannot read it: %s", what, path, strerror(e));
    out->path = path;
    out->what = what;
    out->mapped = true;
    out->data = p;
    out->size = (size_t)st.st_size;
    return true;
}

void image_from_buffer(const void *data, size_t size, const char *what, struct image *out)
{
    out->path = what;
    out->what = what;
    out->mapped = false;
    out->data = data;
    out->size = size;
}

void image_release(struct image *img)
{
    if (img->data && img->mapped)
        munmap((void *)img->data, img->size);
    img->data = NULL;
}

/* -------------------------------------------------------------- ELF */

/* Field offsets from the ELF-64 object file format: the header (Elf64_Ehdr),
 * program header (Elf64_Phdr), section header (Elf64_Shdr), symbol (Elf64_Sym).
 * Read byte by byte, little-endian, so neither host alignment nor host byte
 * order matters. */
enum {
    EH_SIZE = 64, EH_TYPE = 16, EH_MACHINE = 18, EH_VERSION = 20, EH_ENTRY = 24,
    EH_PHOFF = 32, EH_SHOFF = 40, EH_PHENTSIZE = 54, EH_PHNUM = 56,
    EH_SHENTSIZE = 58, EH_SHNUM = 60,
    PH_SIZE = 56, PH_TYPE = 0, PH_OFFSET = 8, PH_VADDR = 16, PH_PADDR = 24,
    PH_FILESZ = 32, PH_MEMSZ = 40,
    SH_SIZE = 64, SH_TYPE = 4, SH_OFFSET = 24, SH_SIZE_FIELD = 32, SH_LINK = 40,
    SH_ENTSIZE = 56,
    SYM_SIZE = 24, SYM_NAME = 0, SYM_SHNDX = 6, SYM_VALUE = 8,
};
#define ELFCLASS64_ 2
#define ELFDATA2LSB_ 1
#define EV_CURRENT_ 1
#define ET_EXEC_ 2
#define ET_DYN_ 3
#define PT_LOAD_ 1
#define SHT_SYMTAB_ 2
#define SHN_UNDEF_ 0

static uint64_t le(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* True if [off, off + count * entsize) lies inside a file of `size` bytes. */
static bool table_fits(uint64_t off, uint64_t count, uint64_t entsize, size_t size)
{
    if (count != 0 && entsize > UINT64_MAX / count)
        return false;
    uint64_t len = count * entsize;
    return off <= size && len <= size - off;
}

bool elf_has_magic(const uint8_t *data, size_t size)
{
    return size >= 4 && data[0] == 0x7f && data[1] == 'E' && data[2] == 'L' && data[3] == 'F';
}

static bool check_header(const uint8_t *d, size_t size, char *err, size_t errlen)
{
    if (!elf_has_magic(d, size))
        return failf(err, errlen, "not an ELF file (bad magic)");
    if (size < EH_SIZE)
        return failf(err, errlen, "truncated ELF header (%zu bytes, need %d)", size, EH_SIZE);
    if (d[4] != ELFCLASS64_)
        return failf(err, errlen, "not a 64-bit ELF (EI_CLASS %u)", d[4]);
    if (d[5] != ELFDATA2LSB_)
        return failf(err, errlen, "not a little-endian ELF (EI_DATA %u)", d[5]);
    if (d[6] != EV_CURRENT_ || le(d + EH_VERSION, 4) != EV_CURRENT_)
        return failf(err, errlen, "unknown ELF version");
    uint64_t machine = le(d + EH_MACHINE, 2);
    if (machine != EM_RISCV_MACHINE)
        return failf(err, errlen, "ELF for machine %llu, not RISC-V (%d)",
                     (unsigned long long)machine, EM_RISCV_MACHINE);
    uint64_t type = le(d + EH_TYPE, 2);
    if (type != ET_EXEC_ && type != ET_DYN_)
        return failf(err, errlen, "ELF type %llu is not an executable",
                     (unsigned long long)type);
    return true;
}

static bool read_segments(const uint8_t *d, size_t size, struct elf_info *out, char *err,
                          size_t errlen)
{
    uint64_t phoff = le(d + EH_PHOFF, 8), phnum = le(d + EH_PHNUM, 2);
    if (phnum == 0)
        return failf(err, errlen, "ELF has no program headers");
    if (le(d + EH_PHENTSIZE, 2) != PH_SIZE)
        return failf(err, errlen, "ELF program header size %llu, expected %d",
                     (unsigned long long)le(d + EH_PHENTSIZE, 2), PH_SIZE);
    if (!table_fits(phoff, phnum, PH_SIZE, size))
        return failf(err, errlen, "truncated ELF: program headers end past the file");
    out->low = UINT64_MAX;
    out->high = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + i * PH_SIZE;
        if (le(ph + PH_TYPE, 4) != PT_LOAD_)
            continue;
        struct elf_segment s = {
            .offset = le(ph + PH_OFFSET, 8), .vaddr = le(ph + PH_VADDR, 8),
            .paddr = le(ph + PH_PADDR, 8), .filesz = le(ph + PH_FILESZ, 8),
            .memsz = le(ph + PH_MEMSZ, 8),
        };
        if (s.memsz == 0)
            continue;
        if (s.filesz > s.memsz)
            return failf(err, errlen,
                         "ELF segment %llu: file size 0x%llx exceeds memory size 0x%llx",
                         (unsigned long long)i, (unsigned long long)s.filesz,
                         (unsigned long long)s.memsz);
        if (!table_fits(s.offset, 1, s.filesz, size))
            return failf(err, errlen, "truncated ELF: segment %llu (offset 0x%llx, 0x%llx bytes) "
                         "ends past the file (%zu bytes)", (unsigned long long)i,
                         (unsigned long long)s.offset, (unsigned long long)s.filesz, size);
        if (s.paddr + s.memsz < s.paddr || s.vaddr + s.memsz < s.vaddr)
            return failf(err, errlen, "ELF segment %llu wraps around the address space",
                         (unsigned long long)i);
        if (out->nseg == ELF_MAX_SEGMENTS)
            return failf(err, errlen, "ELF has more than %d loadable segments", ELF_MAX_SEGMENTS);
        out->seg[out->nseg++] = s;
        if (s.paddr < out->low)
            out->low = s.paddr;
        if (s.paddr + s.memsz > out->high)
            out->high = s.paddr + s.memsz;
    }
    if (out->nseg == 0)
        return failf(err, errlen, "ELF has no loadable segment");
    return true;
}

/* A virtual address inside a segment, turned into the physical one. */
static bool virt_to_phys(const struct elf_info *e, uint64_t va, uint64_t *pa)
{
    for (unsigned i = 0; i < e->nseg; i++)
        if (va - e->seg[i].vaddr < e->seg[i].memsz) {
            *pa = e->seg[i].paddr + (va - e->seg[i].vaddr);
            return true;
        }
    return false;
}

static void note_symbol(struct elf_info *out, const char *name, size_t maxlen, uint64_t value)
{
    uint64_t pa;
    if (!virt_to_phys(out, value, &pa))
        return;
    if (maxlen >= 7 && !memcmp(name, "tohost", 7)) {
        out->has_tohost = true;
        out->tohost = pa;
    } else if (maxlen >= 9 && !memcmp(name, "fromhost", 9)) {
        out->has_fromhost = true;
        out->fromhost = pa;
    }
}

/* Walk the symbol table, if the file has one; a stripped file has none and
 * that is fine. A section table that points outside the file is not. */
static bool read_symbols(const uint8_t *d, size_t size, struct elf_info *out, char *err,
                         size_t errlen)
{
    uint64_t shoff = le(d + EH_SHOFF, 8), shnum = le(d + EH_SHNUM, 2);
    if (shoff == 0 || shnum == 0)
        return true;
    if (le(d + EH_SHENTSIZE, 2) != SH_SIZE)
        return failf(err, errlen, "ELF section header size %llu, expected %d",
                     (unsigned long long)le(d + EH_SHENTSIZE, 2), SH_SIZE);
    if (!table_fits(shoff, shnum, SH_SIZE, size))
        return failf(err, errlen, "truncated ELF: section headers end past the file");
    for (uint64_t i = 0; i < shnum; i++) {
        const uint8_t *sh = d + shoff + i * SH_SIZE;
        if (le(sh + SH_TYPE, 4) != SHT_SYMTAB_)
            continue;
        uint64_t symoff = le(sh + SH_OFFSET, 8), symsize = le(sh + SH_SIZE_FIELD, 8);
        uint64_t link = le(sh + SH_LINK, 4);
        if (le(sh + SH_ENTSIZE, 8) != SYM_SIZE || !table_fits(symoff, 1, symsize, size))
            return failf(err, errlen, "truncated or malformed ELF symbol table");
        if (link >= shnum)
            return failf(err, errlen, "ELF symbol table names a missing string table");
        const uint8_t *strsh = d + shoff + link * SH_SIZE;
        uint64_t stroff = le(strsh + SH_OFFSET, 8), strsize = le(strsh + SH_SIZE_FIELD, 8);
        if (!table_fits(stroff, 1, strsize, size))
            return failf(err, errlen, "truncated ELF: string table ends past the file");
        for (uint64_t s = 0; s + SYM_SIZE <= symsize; s += SYM_SIZE) {
            const uint8_t *sym = d + symoff + s;
            uint64_t name = le(sym + SYM_NAME, 4);
            if (le(sym + SYM_SHNDX, 2) == SHN_UNDEF_ || name >= strsize)
                continue;
            note_symbol(out, (const char *)d + stroff + name, strsize - name,
                        le(sym + SYM_VALUE, 8));
        }
    }
    return true;
}

bool elf_parse(const uint8_t *data, size_t size, struct elf_info *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!check_header(data, size, err, errlen) || !read_segments(data, size, out, err, errlen) ||
        !read_symbols(data, size, out, err, errlen))
        return false;
    uint64_t entry = le(data + EH_ENTRY, 8);
    if (!virt_to_phys(out, entry, &out->entry))
        return failf(err, errlen, "ELF entry point 0x%llx is in no loadable segment",
                     (unsigned long long)entry);
    return true;
}

/* --------------------------------------------------------- load map */

bool load_map_add(struct load_map *map, const struct guest_mem *mem, uint64_t base,
                  uint64_t size, const char *what, char *err, size_t errlen)
{
    if (!mem_in_ram(mem, base, size))
        return failf(err, errlen, "%s: 0x%llx bytes at 0x%llx do not fit in RAM "
                     "[0x%llx, 0x%llx) (%llu MiB; see -m)", what, (unsigned long long)size,
                     (unsigned long long)base, (unsigned long long)mem->ram_base,
                     (unsigned long long)(mem->ram_base + mem->ram_size),
                     (unsigned long long)(mem->ram_size >> 20));
    for (unsigned i = 0; i < map->n; i++) {
        const struct load_range *r = &map->r[i];
        if (base < r->end && r->base < base + size)
            return failf(err, errlen, "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)", what,
                         (unsigned long long)base, (unsigned long long)(base + size), r->what,
                         (unsigned long long)r->base, (unsigned long long)r->end);
    }
    if (map->n == LOAD_MAP_MAX)
        return failf(err, errlen, "%s: too many loaded ranges", what);
    map->r[map->n++] = (struct load_range){ base, base + size, what };
    return true;
}

/* ----------------------------------------------------------- placing */

/* Add the file's name to a load-map message (which names only the flag). */
static bool name_file(const struct image *img, char *err, size_t errlen)
{
    size_t len = strlen(err);
    if (img->mapped && len < errlen)
        snprintf(err + len, errlen - len, " [%s]", img->path);
    return false;
}

static bool place_elf(struct guest_mem *mem, struct load_map *map, const struct image *img,
                      struct loaded *out, char *err, size_t errlen)
{
    char why[LOADER_ERR_LEN - 128];
    if (!elf_parse(img->data, img->size, &out->elf, why, sizeof why))
        return failf(err, errlen, "%s %s: %s", img->what, img->path, why);
    const struct elf_info *e = &out->elf;
    /* Check every segment before copying any, so a refused image leaves RAM
     * untouched. */
    for (unsigned i = 0; i < e->nseg; i++)
        if (!load_map_add(map, mem, e->seg[i].paddr, e->seg[i].memsz, img->what, err, errlen))
            return name_file(img, err, errlen);
    for (unsigned i = 0; i < e->nseg; i++) {
        const struct elf_segment *s = &e->seg[i];
        mem_copy_to_guest(mem, s->paddr, img->data + s->offset, s->filesz);
        /* The bytes past p_filesz up to p_memsz are zero (ELF spec, PT_LOAD):
         * RAM may hold a previous run's data after a reset. */
        uint8_t *bss = mem_ram_ptr(mem, s->paddr + s->filesz);
        for (uint64_t b = 0; b < s->memsz - s->filesz; b++)
            __atomic_store_n(bss + b, 0, __ATOMIC_RELAXED);
    }
    out->is_elf = true;
    out->entry = e->entry;
    out->low = e->low;
    out->high = e->high;
    return true;
}

bool loader_place(struct guest_mem *mem, struct load_map *map, const struct image *img,
                  uint64_t flat_addr, struct loaded *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (elf_has_magic(img->data, img->size))
        return place_elf(mem, map, img, out, err, errlen);
    if (!load_map_add(map, mem, flat_addr, img->size, img->what, err, errlen))
        return name_file(img, err, errlen);
    mem_copy_to_guest(mem, flat_addr, img->data, img->size);
    out->entry = flat_addr;
    out->low = flat_addr;
    out->high = flat_addr + img->size;
    return true;
}
