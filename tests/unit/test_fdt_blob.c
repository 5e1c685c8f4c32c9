/* test_fdt_blob: a device tree given with -dtb is checked whole before
 * fdt_update_chosen lets libfdt rewrite it. A reserve map that runs into
 * the structure block once made fdt_open_into move a negative number of
 * bytes (found by fuzz_loader); overlapping or out-of-range blocks, a
 * pre-17 version and a broken structure block must all be refused with a
 * libfdt error, and a good tree must still come out updated. */
#include <libfdt.h>
#include <string.h>
#include "check.h"
#include "machine/fdt.h"

static uint8_t blob[FDT_BUF_SIZE];

/* A small valid tree: /, /chosen, one property. */
static void make_tree(void)
{
    memset(blob, 0, sizeof blob);
    CHECK_EQ(fdt_create(blob, 4096), 0);
    CHECK_EQ(fdt_finish_reservemap(blob), 0);
    CHECK_EQ(fdt_begin_node(blob, ""), 0);
    CHECK_EQ(fdt_property_string(blob, "model", "test"), 0);
    CHECK_EQ(fdt_begin_node(blob, "chosen"), 0);
    CHECK_EQ(fdt_end_node(blob), 0);
    CHECK_EQ(fdt_end_node(blob), 0);
    CHECK_EQ(fdt_finish(blob), 0);
    CHECK_EQ(fdt_check_header(blob), 0);
}

static int update(void)
{
    return fdt_update_chosen(blob, sizeof blob, "console=ttyS0", true, 0x88000000, 0x88001000);
}

static void put32(uint32_t offset, uint32_t v)
{
    fdt32_t be = cpu_to_fdt32(v);
    memcpy(blob + offset, &be, 4);
}

int main(void)
{
    /* A good tree comes out with the new /chosen properties. */
    make_tree();
    CHECK_EQ(update(), 0);
    int chosen = fdt_path_offset(blob, "/chosen");
    CHECK(chosen >= 0);
    const char *args = fdt_getprop(blob, chosen, "bootargs", NULL);
    CHECK(args && !strcmp(args, "console=ttyS0"));
    CHECK(fdt_getprop(blob, chosen, "linux,initrd-end", NULL) != NULL);

    /* The reserve map's terminator replaced by a non-empty entry: the map
     * now runs into the structure block. */
    make_tree();
    uint32_t rsv = fdt_off_mem_rsvmap(blob);
    put32(rsv + 12, 0x1000);
    CHECK(update() < 0);

    /* Strings block overlapping the structure block. */
    make_tree();
    put32(offsetof(struct fdt_header, off_dt_strings), fdt_off_dt_struct(blob) + 4);
    CHECK(update() < 0);

    /* Structure block past totalsize. */
    make_tree();
    put32(offsetof(struct fdt_header, size_dt_struct), fdt_totalsize(blob));
    CHECK(update() < 0);

    /* Version 16 blobs carry no block sizes. */
    make_tree();
    put32(offsetof(struct fdt_header, version), 16);
    CHECK(update() < 0);

    /* A structure block whose first tag is garbage. */
    make_tree();
    put32(fdt_off_dt_struct(blob), 0x12345678);
    CHECK(update() < 0);

    return check_summary();
}
