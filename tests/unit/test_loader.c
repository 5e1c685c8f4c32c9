/* test_loader: ELF64 parsing and validation, placement in RAM, the load
 * map's bounds and overlap checks, image files, and the HTIF protocol that
 * an ELF's tohost symbol turns on. The ELF files are built here byte by
 * byte from the ELF-64 format's field layout. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "machine/board.h"
#include "machine/htif.h"
#include "machine/loader.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)

/* ------------------------------------------------------- ELF builder */

struct seg_spec {
    uint32_t type;
    uint64_t vaddr, paddr, filesz, memsz;
    uint8_t fill;               /* the segment's file bytes are fill, fill+1, ... */
};

struct sym_spec {
    const char *name;
    uint64_t value;
};

static uint8_t elf[8192];
static size_t elf_size;

static void put(size_t off, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        elf[off + i] = (uint8_t)(v >> (8 * i));
}

/* Layout: header (64) | program headers (56 each) at 64 | segment data from
 * 0x400 | symtab, strtab, section headers after the data. */
static void build_elf(uint64_t entry, const struct seg_spec *segs, unsigned nsegs,
                      const struct sym_spec *syms, unsigned nsyms)
{
    memset(elf, 0, sizeof elf);
    memcpy(elf, "\x7f" "ELF", 4);
    elf[4] = 2;                 /* ELFCLASS64 */
    elf[5] = 1;                 /* ELFDATA2LSB */
    elf[6] = 1;                 /* EV_CURRENT */
    put(16, 2, 2);              /* ET_EXEC */
    put(18, 243, 2);            /* EM_RISCV */
    put(20, 1, 4);
    put(24, entry, 8);
    put(32, 64, 8);             /* e_phoff */
    put(52, 64, 2);             /* e_ehsize */
    put(54, 56, 2);             /* e_phentsize */
    put(56, nsegs, 2);
    size_t data = 0x400;
    for (unsigned i = 0; i < nsegs; i++) {
        size_t ph = 64 + 56 * i;
        put(ph + 0, segs[i].type, 4);
        put(ph + 8, data, 8);
        put(ph + 16, segs[i].vaddr, 8);
        put(ph + 24, segs[i].paddr, 8);
        put(ph + 32, segs[i].filesz, 8);
        put(ph + 40, segs[i].memsz, 8);
        for (uint64_t b = 0; b < segs[i].filesz; b++)
            elf[data + b] = (uint8_t)(segs[i].fill + b);
        data += (segs[i].filesz + 15) & ~15ull;
    }
    elf_size = data;
    if (!nsyms)
        return;
    /* strtab: "\0name0\0name1\0..." */
    size_t strtab = elf_size, strsize = 1;
    uint32_t name_off[8];
    for (unsigned i = 0; i < nsyms; i++) {
        name_off[i] = (uint32_t)strsize;
        strcpy((char *)elf + strtab + strsize, syms[i].name);
        strsize += strlen(syms[i].name) + 1;
    }
    size_t symtab = (strtab + strsize + 7) & ~7ull;
    size_t symsize = 24 * (nsyms + 1);          /* entry 0 is the null symbol */
    for (unsigned i = 0; i < nsyms; i++) {
        size_t s = symtab + 24 * (i + 1);
        put(s + 0, name_off[i], 4);
        put(s + 6, 1, 2);                       /* st_shndx: defined */
        put(s + 8, syms[i].value, 8);
    }
    size_t shdr = symtab + symsize;
    /* sections: 0 null, 1 symtab (link 2), 2 strtab */
    put(shdr + 64 + 4, 2, 4);                   /* SHT_SYMTAB */
    put(shdr + 64 + 24, symtab, 8);
    put(shdr + 64 + 32, symsize, 8);
    put(shdr + 64 + 40, 2, 4);
    put(shdr + 64 + 56, 24, 8);
    put(shdr + 128 + 4, 3, 4);                  /* SHT_STRTAB */
    put(shdr + 128 + 24, strtab, 8);
    put(shdr + 128 + 32, strsize, 8);
    put(40, shdr, 8);                           /* e_shoff */
    put(58, 64, 2);                             /* e_shentsize */
    put(60, 3, 2);                              /* e_shnum */
    elf_size = shdr + 3 * 64;
}

static const struct seg_spec two_segs[] = {
    { 1, RAM_BASE, RAM_BASE, 16, 48, 0x10 },            /* 32 bytes of bss */
    { 1, RAM_BASE + 0x1000, RAM_BASE + 0x1000, 8, 8, 0x40 },
};

static struct guest_mem mem;
static char err[LOADER_ERR_LEN];

static bool parse(struct elf_info *info)
{
    err[0] = '\0';
    return elf_parse(elf, elf_size, info, err, sizeof err);
}

static void expect_parse_error(const char *fragment)
{
    struct elf_info info;
    CHECK(!parse(&info));
    if (!strstr(err, fragment)) {
        fprintf(stderr, "error '%s' does not mention '%s'\n", err, fragment);
        CHECK(false);
    }
}

/* ------------------------------------------------------------- tests */

static void test_good_elf(void)
{
    build_elf(RAM_BASE + 4, two_segs, 2, NULL, 0);
    struct elf_info info;
    CHECK(parse(&info));
    CHECK_EQ(info.nseg, 2);
    CHECK_EQ(info.entry, RAM_BASE + 4);
    CHECK_EQ(info.low, RAM_BASE);
    CHECK_EQ(info.high, RAM_BASE + 0x1008);
    CHECK(!info.has_tohost && !info.has_fromhost);

    /* Dirty RAM first: the bss part must come out zero. */
    memset(mem.ram, 0xaa, 0x2000);
    struct load_map map = { .n = 0 };
    struct image img;
    image_from_buffer(elf, elf_size, "-kernel", &img);
    struct loaded ld;
    CHECK(loader_place(&mem, &map, &img, 0, &ld, err, sizeof err));
    CHECK(ld.is_elf);
    CHECK_EQ(ld.entry, RAM_BASE + 4);
    CHECK_EQ(ld.low, RAM_BASE);
    CHECK_EQ(ld.high, RAM_BASE + 0x1008);
    CHECK_EQ(mem.ram[0], 0x10);
    CHECK_EQ(mem.ram[15], 0x1f);
    CHECK_EQ(mem.ram[16], 0);           /* bss */
    CHECK_EQ(mem.ram[47], 0);
    CHECK_EQ(mem.ram[48], 0xaa);        /* past memsz: untouched */
    CHECK_EQ(mem.ram[0x1000], 0x40);
    CHECK_EQ(mem.ram[0x1007], 0x47);
    CHECK_EQ(mem.ram[0x1008], 0xaa);
    CHECK_EQ(map.n, 2);

    /* Non-loadable program headers and empty segments are skipped. */
    const struct seg_spec mixed[] = {
        { 6, 0, 0, 0, 0, 0 },                                   /* PT_PHDR */
        { 1, RAM_BASE + 0x100, RAM_BASE + 0x100, 0, 0, 0 },     /* empty PT_LOAD */
        { 1, RAM_BASE + 0x200, RAM_BASE + 0x200, 4, 4, 1 },
    };
    build_elf(RAM_BASE + 0x200, mixed, 3, NULL, 0);
    CHECK(parse(&info));
    CHECK_EQ(info.nseg, 1);
    CHECK_EQ(info.seg[0].paddr, RAM_BASE + 0x200);
}

/* A kernel linked at a virtual address and loaded at a physical one: the
 * entry point is translated through its segment. */
static void test_virtual_entry(void)
{
    const struct seg_spec seg[] = { { 1, 0xffffffff80000000ull, RAM_BASE + 0x2000, 32, 32, 0 } };
    build_elf(0xffffffff80000010ull, seg, 1, NULL, 0);
    struct elf_info info;
    CHECK(parse(&info));
    CHECK_EQ(info.entry, RAM_BASE + 0x2010);
    CHECK_EQ(info.low, RAM_BASE + 0x2000);
}

static void test_symbols(void)
{
    const struct sym_spec syms[] = {
        { "main", RAM_BASE + 8 },
        { "tohost", RAM_BASE + 0x1000 },
        { "fromhost", RAM_BASE + 0x1040 },
        { "tohost_not", RAM_BASE + 0x1100 },
    };
    const struct seg_spec segs[] = { { 1, RAM_BASE, RAM_BASE, 0x10, 0x2000, 0 } };
    build_elf(RAM_BASE, segs, 1, syms, 4);
    struct elf_info info;
    CHECK(parse(&info));
    CHECK(info.has_tohost && info.has_fromhost);
    CHECK_EQ(info.tohost, RAM_BASE + 0x1000);
    CHECK_EQ(info.fromhost, RAM_BASE + 0x1040);

    /* Only tohost. */
    build_elf(RAM_BASE, segs, 1, syms + 1, 1);
    CHECK(parse(&info));
    CHECK(info.has_tohost && !info.has_fromhost);

    /* A symbol table pointing at a missing string table is malformed. */
    build_elf(RAM_BASE, segs, 1, syms, 4);
    size_t shoff = elf[40] | (size_t)elf[41] << 8 | (size_t)elf[42] << 16;
    put(shoff + 64 + 40, 7, 4);
    expect_parse_error("string table");
    /* A section table past the end of the file. */
    build_elf(RAM_BASE, segs, 1, syms, 4);
    put(60, 200, 2);
    expect_parse_error("section headers");
    /* Wrong symbol entry size. */
    build_elf(RAM_BASE, segs, 1, syms, 4);
    put(shoff + 64 + 56, 16, 8);
    expect_parse_error("symbol table");
}

static void test_malformed(void)
{
    struct elf_info info;
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    size_t good = elf_size;

    elf_size = 40;                              /* header cut short */
    expect_parse_error("truncated ELF header");
    elf_size = 64 + 56;                         /* second program header missing */
    expect_parse_error("program headers");
    elf_size = 0x400 + 8;                       /* first segment's data cut */
    expect_parse_error("truncated ELF");
    elf_size = good;
    CHECK(parse(&info));

    elf[1] = 'X';
    expect_parse_error("magic");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    elf[4] = 1;                                 /* ELFCLASS32 */
    expect_parse_error("64-bit");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    elf[5] = 2;                                 /* big-endian */
    expect_parse_error("little-endian");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(18, 62, 2);                             /* EM_X86_64 */
    expect_parse_error("RISC-V");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(16, 1, 2);                              /* ET_REL */
    expect_parse_error("not an executable");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(20, 7, 4);
    expect_parse_error("version");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(54, 32, 2);                             /* wrong e_phentsize */
    expect_parse_error("program header size");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(56, 0, 2);
    expect_parse_error("no program headers");
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(32, ~0ull - 8, 8);                      /* e_phoff that overflows */
    expect_parse_error("program headers");

    const struct seg_spec big_file[] = { { 1, RAM_BASE, RAM_BASE, 32, 16, 0 } };
    build_elf(RAM_BASE, big_file, 1, NULL, 0);
    expect_parse_error("exceeds memory size");
    const struct seg_spec no_load[] = { { 4, 0, 0, 8, 8, 0 } };  /* PT_NOTE only */
    build_elf(RAM_BASE, no_load, 1, NULL, 0);
    expect_parse_error("no loadable segment");
    build_elf(RAM_BASE + 0x5000, two_segs, 2, NULL, 0);
    expect_parse_error("entry point");
    const struct seg_spec wrap[] = { { 1, ~0ull - 4, ~0ull - 4, 8, 8, 0 } };
    build_elf(~0ull - 4, wrap, 1, NULL, 0);
    expect_parse_error("wraps");
    /* An offset that points past the file. */
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    put(64 + 8, 0x100000, 8);
    expect_parse_error("ends past the file");
}

static void test_placement_errors(void)
{
    struct load_map map = { .n = 0 };
    struct image img;
    struct loaded ld;

    /* A segment past the end of RAM: refused, and nothing copied, not even
     * the first (good) segment. */
    const struct seg_spec out_of_ram[] = {
        { 1, RAM_BASE, RAM_BASE, 8, 8, 0x33 },
        { 1, RAM_BASE + RAM_SIZE - 4, RAM_BASE + RAM_SIZE - 4, 8, 8, 0 },
    };
    memset(mem.ram, 0, 16);
    build_elf(RAM_BASE, out_of_ram, 2, NULL, 0);
    image_from_buffer(elf, elf_size, "-bios", &img);
    CHECK(!loader_place(&mem, &map, &img, 0, &ld, err, sizeof err));
    CHECK(strstr(err, "do not fit in RAM") != NULL);
    CHECK(strstr(err, "-bios") != NULL);
    CHECK_EQ(mem.ram[0], 0);
    /* Below RAM. */
    const struct seg_spec low[] = { { 1, 0x1000, 0x1000, 8, 8, 0 } };
    build_elf(0x1000, low, 1, NULL, 0);
    map.n = 0;
    CHECK(!loader_place(&mem, &map, &img, 0, &ld, err, sizeof err));
    CHECK(strstr(err, "do not fit in RAM") != NULL);
    /* A malformed ELF is reported with its flag and path. */
    build_elf(RAM_BASE, two_segs, 2, NULL, 0);
    elf[4] = 1;
    map.n = 0;
    CHECK(!loader_place(&mem, &map, &img, 0, &ld, err, sizeof err));
    CHECK(strstr(err, "-bios") && strstr(err, "64-bit"));

    /* Flat images: at the given address, byte for byte. */
    static uint8_t flat[3000];
    for (unsigned i = 0; i < sizeof flat; i++)
        flat[i] = (uint8_t)(i * 7);
    map.n = 0;
    image_from_buffer(flat, sizeof flat, "-kernel", &img);
    CHECK(loader_place(&mem, &map, &img, RAM_BASE + 0x20000, &ld, err, sizeof err));
    CHECK(!ld.is_elf);
    CHECK_EQ(ld.entry, RAM_BASE + 0x20000);
    CHECK_EQ(ld.high, RAM_BASE + 0x20000 + sizeof flat);
    CHECK_EQ(mem.ram[0x20000 + 2999], (uint8_t)(2999 * 7));
    /* The same bytes again where they would overlap: refused, naming both. */
    image_from_buffer(flat, sizeof flat, "-initrd", &img);
    CHECK(!loader_place(&mem, &map, &img, RAM_BASE + 0x20000 + 2000, &ld, err, sizeof err));
    CHECK(strstr(err, "-initrd") && strstr(err, "overlaps -kernel"));
    /* Right after it: fine. */
    CHECK(loader_place(&mem, &map, &img, RAM_BASE + 0x20000 + 3000, &ld, err, sizeof err));
    /* Too big for RAM. */
    CHECK(!loader_place(&mem, &map, &img, RAM_BASE + RAM_SIZE - 100, &ld, err, sizeof err));
    CHECK(strstr(err, "see -m") != NULL);
    /* An ELF overlapping a flat image. */
    const struct seg_spec over[] = { { 1, RAM_BASE + 0x20100, RAM_BASE + 0x20100, 8, 8, 0 } };
    build_elf(RAM_BASE + 0x20100, over, 1, NULL, 0);
    image_from_buffer(elf, elf_size, "-bios", &img);
    CHECK(!loader_place(&mem, &map, &img, 0, &ld, err, sizeof err));
    CHECK(strstr(err, "-bios") && strstr(err, "overlaps -kernel"));
}

static void test_load_map(void)
{
    struct load_map map = { .n = 0 };
    CHECK(load_map_add(&map, &mem, RAM_BASE, 0x1000, "a", err, sizeof err));
    CHECK(load_map_add(&map, &mem, RAM_BASE + 0x1000, 0x1000, "b", err, sizeof err));
    CHECK(!load_map_add(&map, &mem, RAM_BASE + 0xfff, 2, "c", err, sizeof err));
    CHECK(strstr(err, "overlaps a") != NULL);
    CHECK(!load_map_add(&map, &mem, RAM_BASE + 0x1fff, 1, "d", err, sizeof err));
    CHECK(strstr(err, "overlaps b") != NULL);
    CHECK(!load_map_add(&map, &mem, ~0ull - 10, 100, "e", err, sizeof err));   /* wraps */
    CHECK(load_map_add(&map, &mem, RAM_BASE + RAM_SIZE - 1, 1, "last", err, sizeof err));
    CHECK(!load_map_add(&map, &mem, RAM_BASE + RAM_SIZE, 1, "past", err, sizeof err));
    CHECK_EQ(map.n, 3);
}

static void test_image_files(void)
{
    struct image img;
    CHECK(!image_read("/nonexistent/fw.bin", "-bios", &img, err, sizeof err));
    CHECK(strstr(err, "-bios /nonexistent/fw.bin") && strstr(err, strerror(ENOENT)));
    CHECK(!image_read("/tmp", "-kernel", &img, err, sizeof err));
    CHECK(strstr(err, "not a regular file") != NULL);

    char path[] = "/tmp/umbra-test-loader-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(!image_read(path, "-initrd", &img, err, sizeof err));
    CHECK(strstr(err, "empty") != NULL);
    CHECK(write(fd, "hello", 5) == 5);
    close(fd);
    CHECK(image_read(path, "-initrd", &img, err, sizeof err));
    CHECK_EQ(img.size, 5);
    CHECK(img.data && !memcmp(img.data, "hello", 5));
    image_release(&img);
    unlink(path);
}

/* ------------------------------------------------------------- HTIF */

static char htif_out[256];
static size_t htif_out_len;
static int exits;
static uint64_t exit_code;

static void on_exit_cb(void *ctx, uint64_t code)
{
    exits++;
    exit_code = code;
}

static void on_output(void *ctx, const void *buf, size_t len)
{
    if (htif_out_len + len < sizeof htif_out) {
        memcpy(htif_out + htif_out_len, buf, len);
        htif_out_len += len;
    }
}

static void test_htif(void)
{
    struct htif h;
    const uint64_t tohost = RAM_BASE + 0x3000, fromhost = RAM_BASE + 0x3040;
    CHECK(htif_init(&h, &mem, tohost, true, fromhost, on_exit_cb, on_output, NULL));
    uint64_t v = 99;
    /* console putchar: device 1, command 1 */
    CHECK(mem_write(&mem, tohost, 8, (1ull << 56) | (1ull << 48) | 'A'));
    CHECK_EQ(htif_out_len, 1);
    CHECK_EQ(htif_out[0], 'A');
    CHECK(mem_read(&mem, tohost, 8, &v));
    CHECK_EQ(v, 0);                     /* the command was taken */
    CHECK(mem_read(&mem, fromhost, 8, &v));
    CHECK_EQ(v >> 48, 0x101);           /* acknowledged by device 1, command 1 */
    CHECK(mem_write(&mem, fromhost, 8, 0));
    CHECK(mem_read(&mem, fromhost, 8, &v));
    CHECK_EQ(v, 0);
    CHECK_EQ(exits, 0);

    /* syscall proxy: write(1, "hello", 5) */
    const uint64_t block = RAM_BASE + 0x4000, text = RAM_BASE + 0x4100;
    CHECK(mem_copy_to_guest(&mem, text, "hello", 5));
    const uint64_t words[8] = { HTIF_SYS_WRITE, 1, text, 5, 0, 0, 0, 0 };
    CHECK(mem_copy_to_guest(&mem, block, words, sizeof words));
    CHECK(mem_write(&mem, tohost, 8, block));
    CHECK_EQ(htif_out_len, 6);
    CHECK(!memcmp(htif_out + 1, "hello", 5));
    CHECK(mem_read(&mem, block, 8, &v));
    CHECK_EQ(v, 5);                     /* write's return value */
    CHECK(mem_read(&mem, fromhost, 8, &v));
    CHECK_EQ(v, 1);
    /* an unknown syscall answers -ENOSYS */
    const uint64_t bad[8] = { 1234, 0, 0, 0, 0, 0, 0, 0 };
    CHECK(mem_copy_to_guest(&mem, block, bad, sizeof bad));
    CHECK(mem_write(&mem, tohost, 8, block));
    CHECK(mem_read(&mem, block, 8, &v));
    CHECK_EQ(v, (uint64_t)-ENOSYS);
    CHECK_EQ(exits, 0);

    /* exit: tohost = (code << 1) | 1 */
    CHECK(mem_write(&mem, tohost, 8, 1));
    CHECK_EQ(exits, 1);
    CHECK_EQ(exit_code, 0);
    CHECK(mem_write(&mem, tohost, 8, (21 << 1) | 1));
    CHECK_EQ(exits, 2);
    CHECK_EQ(exit_code, 21);
    /* RV32 style: low word carries the command */
    CHECK(mem_write(&mem, tohost, 4, (3 << 1) | 1));
    CHECK_EQ(exits, 3);
    CHECK_EQ(exit_code, 3);
    /* the rest of the page is still RAM */
    CHECK(mem_write(&mem, tohost + 8, 8, 0x1122334455667788ull));
    CHECK(mem_read(&mem, tohost + 8, 8, &v));
    CHECK_EQ(v, 0x1122334455667788ull);
    CHECK_EQ(exits, 3);
    /* misaligned or odd-sized accesses are rejected */
    CHECK(!mem_write(&mem, tohost, 2, 1));
    CHECK(!mem_write(&mem, tohost + 2, 4, 1));
}

/* Where the board puts things, against what QEMU 7.2's virt does (its
 * -dumpdtb output for -m 128M and -m 512M gives linux,initrd-start
 * 0x84200000 and 0x88200000 with the kernel at 0x80200000). */
static void test_board_placement(void)
{
    /* OpenSBI's fw_jump.bin is 115328 bytes: the kernel goes at 2 MiB. */
    CHECK_EQ(board_kernel_flat_addr(0x80000000ull + 115328, true, RAM_BASE), 0x80200000ull);
    CHECK_EQ(board_kernel_flat_addr(0x80200000ull, true, RAM_BASE), 0x80200000ull);
    CHECK_EQ(board_kernel_flat_addr(0x80200001ull, true, RAM_BASE), 0x80400000ull);
    CHECK_EQ(board_kernel_flat_addr(0, false, RAM_BASE), RAM_BASE);   /* -bios none */
    CHECK_EQ(board_initrd_addr(0x80200000ull, 128ull << 20), 0x84200000ull);
    CHECK_EQ(board_initrd_addr(0x80200000ull, 512ull << 20), 0x88200000ull);
    CHECK_EQ(board_initrd_addr(0x80200000ull, 256ull << 20), 0x88200000ull);
    CHECK_EQ(board_initrd_addr(0x80000000ull, 64ull << 20), 0x82000000ull);
    /* The tree: 2 MiB aligned, below min(RAM end, 3 GiB). */
    CHECK_EQ(board_fdt_addr(RAM_BASE, 128ull << 20, 6866), 0x87e00000ull);
    CHECK_EQ(board_fdt_addr(RAM_BASE, 512ull << 20, 6866), 0x9fe00000ull);
    CHECK_EQ(board_fdt_addr(RAM_BASE, 2ull << 30, 6866), 0xbfe00000ull);
    CHECK_EQ(board_fdt_addr(RAM_BASE, 8ull << 30, 6866), 0xbfe00000ull);
    CHECK_EQ(board_fdt_addr(RAM_BASE, 2ull << 20, 0x1000), RAM_BASE);
    CHECK_EQ(board_fdt_addr(RAM_BASE, 128ull << 20, 3ull << 20), 0x87c00000ull);
}

int main(void)
{
    test_board_placement();
    CHECK_EQ(mem_init(&mem, RAM_BASE, RAM_SIZE), 0);
    test_good_elf();
    test_virtual_entry();
    test_symbols();
    test_malformed();
    test_placement_errors();
    test_load_map();
    test_image_files();
    test_htif();
    mem_destroy(&mem);
    return check_summary();
}
