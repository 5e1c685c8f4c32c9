/* fdt: the board's device tree (see fdt.h). */
#include "machine/fdt.h"
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

/* Phandles are numbered cpu 0, its intc, cpu 1, its intc, ..., then the PLIC
 * and the test device. */
uint32_t fdt_phandle_cpu(unsigned hart) { return 1 + 2 * hart; }
uint32_t fdt_phandle_intc(unsigned hart) { return 2 + 2 * hart; }
uint32_t fdt_phandle_plic(unsigned nharts) { return 1 + 2 * nharts; }
uint32_t fdt_phandle_test(unsigned nharts) { return 2 + 2 * nharts; }

/* Every libfdt call below returns 0 or a negative error; the first error
 * stops the build. */
#define TRY(call) do { int try_rc_ = (call); if (try_rc_ < 0) return try_rc_; } while (0)

/* A "reg" of one region with #address-cells = #size-cells = 2 (the root and
 * /soc use two cells each, as on QEMU virt). */
static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
    fdt64_t cells[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
    return fdt_property(fdt, "reg", cells, sizeof cells);
}

/* A string list such as compatible = "a", "b": the strings back to back,
 * each with its NUL. */
static int prop_strings(void *fdt, const char *name, const char *const *list, unsigned n)
{
    char buf[128];
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        size_t l = strlen(list[i]) + 1;
        if (len + l > sizeof buf)
            return -FDT_ERR_NOSPACE;
        memcpy(buf + len, list[i], l);
        len += l;
    }
    return fdt_property(fdt, name, buf, (int)len);
}

static int begin_node_at(void *fdt, const char *name, uint64_t addr)
{
    char node[64];
    snprintf(node, sizeof node, "%s@%llx", name, (unsigned long long)addr);
    return fdt_begin_node(fdt, node);
}

/* ---------------------------------------------------------------- /cpus */

static int add_cpu(void *fdt, const struct fdt_board *b, unsigned hart)
{
    char name[16];
    snprintf(name, sizeof name, "cpu@%u", hart);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_u32(fdt, "phandle", fdt_phandle_cpu(hart)));
    TRY(fdt_property_string(fdt, "device_type", "cpu"));
    TRY(fdt_property_u32(fdt, "reg", hart));
    TRY(fdt_property_string(fdt, "status", "okay"));
    TRY(fdt_property_string(fdt, "compatible", "riscv"));
    TRY(fdt_property_string(fdt, "riscv,isa", b->isa));
    TRY(fdt_property_string(fdt, "mmu-type", b->mmu_type));
    /* The hart-local interrupt controller: its cells are mip bit numbers,
     * which the CLINT and PLIC nodes reference (riscv,cpu-intc binding). */
    TRY(fdt_begin_node(fdt, "interrupt-controller"));
    TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    TRY(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
    TRY(fdt_property_u32(fdt, "phandle", fdt_phandle_intc(hart)));
    TRY(fdt_end_node(fdt));
    return fdt_end_node(fdt);
}

static int add_cpus(void *fdt, const struct fdt_board *b)
{
    TRY(fdt_begin_node(fdt, "cpus"));
    TRY(fdt_property_u32(fdt, "#address-cells", 1));
    TRY(fdt_property_u32(fdt, "#size-cells", 0));
    TRY(fdt_property_u32(fdt, "timebase-frequency", b->timebase_hz));
    for (unsigned h = 0; h < b->nharts; h++)
        TRY(add_cpu(fdt, b, h));
    /* One cluster with one core per hart (Linux topology binding). */
    TRY(fdt_begin_node(fdt, "cpu-map"));
    TRY(fdt_begin_node(fdt, "cluster0"));
    for (unsigned h = 0; h < b->nharts; h++) {
        char name[16];
        snprintf(name, sizeof name, "core%u", h);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_u32(fdt, "cpu", fdt_phandle_cpu(h)));
        TRY(fdt_end_node(fdt));
    }
    TRY(fdt_end_node(fdt));
    TRY(fdt_end_node(fdt));
    return fdt_end_node(fdt);
}

/* ---------------------------------------------------------------- /soc */

/* interrupts-extended = <intc(h0) a  intc(h0) b  intc(h1) a ...>: per hart,
 * the two mip bits the device drives. */
static int prop_per_hart_irqs(void *fdt, const struct fdt_board *b, uint32_t first,
                              uint32_t second)
{
    fdt32_t cells[4 * 64];
    unsigned n = 0;
    for (unsigned h = 0; h < b->nharts && n + 4 <= sizeof cells / sizeof cells[0]; h++) {
        cells[n++] = cpu_to_fdt32(fdt_phandle_intc(h));
        cells[n++] = cpu_to_fdt32(first);
        cells[n++] = cpu_to_fdt32(fdt_phandle_intc(h));
        cells[n++] = cpu_to_fdt32(second);
    }
    return fdt_property(fdt, "interrupts-extended", cells, (int)(n * sizeof cells[0]));
}

static int add_test(void *fdt, const struct fdt_board *b)
{
    static const char *const compat[] = { "sifive,test1", "sifive,test0", "syscon" };
    TRY(begin_node_at(fdt, "test", b->test.base));
    TRY(fdt_property_u32(fdt, "phandle", fdt_phandle_test(b->nharts)));
    TRY(prop_reg(fdt, b->test.base, b->test.size));
    TRY(prop_strings(fdt, "compatible", compat, 3));
    return fdt_end_node(fdt);
}

static int add_uart(void *fdt, const struct fdt_board *b)
{
    TRY(begin_node_at(fdt, "serial", b->uart.base));
    TRY(fdt_property_u32(fdt, "interrupts", b->uart_irq));
    TRY(fdt_property_u32(fdt, "interrupt-parent", fdt_phandle_plic(b->nharts)));
    TRY(fdt_property_u32(fdt, "clock-frequency", b->uart_clock_hz));
    TRY(prop_reg(fdt, b->uart.base, b->uart.size));
    TRY(fdt_property_string(fdt, "compatible", "ns16550a"));
    return fdt_end_node(fdt);
}

static int add_virtio(void *fdt, const struct fdt_board *b)
{
    for (unsigned i = b->nvirtio; i-- > 0;) {
        uint64_t base = b->virtio.base + i * b->virtio.size;
        TRY(begin_node_at(fdt, "virtio_mmio", base));
        TRY(fdt_property_u32(fdt, "interrupts", b->virtio_irq0 + i));
        TRY(fdt_property_u32(fdt, "interrupt-parent", fdt_phandle_plic(b->nharts)));
        TRY(prop_reg(fdt, base, b->virtio.size));
        TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
        TRY(fdt_end_node(fdt));
    }
    return 0;
}

/* PLIC contexts are hart 0 M, hart 0 S, hart 1 M, ...: each hart's pair is
 * (MEIP = 11, SEIP = 9), in that order (sifive,plic-1.0.0 binding). */
static int add_plic(void *fdt, const struct fdt_board *b)
{
    static const char *const compat[] = { "sifive,plic-1.0.0", "riscv,plic0" };
    TRY(begin_node_at(fdt, "plic", b->plic.base));
    TRY(fdt_property_u32(fdt, "phandle", fdt_phandle_plic(b->nharts)));
    TRY(fdt_property_u32(fdt, "riscv,ndev", b->plic_ndev));
    TRY(prop_reg(fdt, b->plic.base, b->plic.size));
    TRY(prop_per_hart_irqs(fdt, b, 11, 9));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    TRY(prop_strings(fdt, "compatible", compat, 2));
    TRY(fdt_property_u32(fdt, "#address-cells", 0));
    TRY(fdt_property_u32(fdt, "#interrupt-cells", 1));
    return fdt_end_node(fdt);
}

/* The CLINT drives each hart's MSIP (3) and MTIP (7). */
static int add_clint(void *fdt, const struct fdt_board *b)
{
    static const char *const compat[] = { "sifive,clint0", "riscv,clint0" };
    TRY(begin_node_at(fdt, "clint", b->clint.base));
    TRY(prop_per_hart_irqs(fdt, b, 3, 7));
    TRY(prop_reg(fdt, b->clint.base, b->clint.size));
    TRY(prop_strings(fdt, "compatible", compat, 2));
    return fdt_end_node(fdt);
}

static int add_soc(void *fdt, const struct fdt_board *b)
{
    TRY(fdt_begin_node(fdt, "soc"));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "simple-bus"));
    TRY(fdt_property(fdt, "ranges", NULL, 0));
    TRY(add_test(fdt, b));
    TRY(add_uart(fdt, b));
    TRY(add_virtio(fdt, b));
    TRY(add_plic(fdt, b));
    TRY(add_clint(fdt, b));
    return fdt_end_node(fdt);
}

/* ------------------------------------------------------------- the rest */

/* linux,initrd-start/-end: one cell when the address fits, as QEMU 7.2
 * writes them; two otherwise. Linux reads either length. */
static int prop_addr(void *fdt, int node, const char *name, uint64_t value)
{
    if (value <= UINT32_MAX)
        return fdt_setprop_u32(fdt, node, name, (uint32_t)value);
    return fdt_setprop_u64(fdt, node, name, value);
}

static int add_chosen(void *fdt, const struct fdt_board *b)
{
    TRY(fdt_begin_node(fdt, "chosen"));
    if (b->bootargs && *b->bootargs)
        TRY(fdt_property_string(fdt, "bootargs", b->bootargs));
    char path[64];
    snprintf(path, sizeof path, "/soc/serial@%llx", (unsigned long long)b->uart.base);
    TRY(fdt_property_string(fdt, "stdout-path", path));
    return fdt_end_node(fdt);
}

static int add_syscon_node(void *fdt, const struct fdt_board *b, const char *name,
                           const char *compatible, uint32_t value)
{
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_u32(fdt, "value", value));
    TRY(fdt_property_u32(fdt, "offset", 0));
    TRY(fdt_property_u32(fdt, "regmap", fdt_phandle_test(b->nharts)));
    TRY(fdt_property_string(fdt, "compatible", compatible));
    return fdt_end_node(fdt);
}

static int add_memory(void *fdt, const struct fdt_board *b)
{
    TRY(begin_node_at(fdt, "memory", b->ram_base));
    TRY(fdt_property_string(fdt, "device_type", "memory"));
    TRY(prop_reg(fdt, b->ram_base, b->ram_size));
    return fdt_end_node(fdt);
}

static int write_tree(void *fdt, const struct fdt_board *b)
{
    TRY(fdt_finish_reservemap(fdt));
    TRY(fdt_begin_node(fdt, ""));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "riscv-virtio"));
    TRY(fdt_property_string(fdt, "model", "riscv-virtio,qemu"));
    TRY(add_chosen(fdt, b));
    /* The poweroff and reboot values are the sifive,test commands. */
    TRY(add_syscon_node(fdt, b, "poweroff", "syscon-poweroff", 0x5555));
    TRY(add_syscon_node(fdt, b, "reboot", "syscon-reboot", 0x7777));
    TRY(add_memory(fdt, b));
    TRY(add_cpus(fdt, b));
    TRY(add_soc(fdt, b));
    TRY(fdt_end_node(fdt));
    return fdt_finish(fdt);
}

int fdt_build_virt(const struct fdt_board *b, void *buf, size_t bufsize)
{
    if (bufsize > INT32_MAX || b->nharts == 0 || b->nharts > 64)
        return -FDT_ERR_BADVALUE;
    TRY(fdt_create(buf, (int)bufsize));
    TRY(write_tree(buf, b));
    /* The initrd properties go in through the same path as for -dtb. */
    return fdt_update_chosen(buf, bufsize, NULL, b->has_initrd, b->initrd_start, b->initrd_end);
}

/* [a, a+alen) and [b, b+blen) share a byte. */
static bool blocks_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* A blob from outside (-dtb) is checked whole before libfdt rewrites it:
 * fdt_check_header does not know the reserve map's length, and a map that
 * runs into the structure block makes fdt_open_into move a negative number
 * of bytes. Version 17 (Devicetree Specification 0.4, 5.2) is required, so
 * every block's size is in the header; the header, the reserve map with its
 * terminating entry, the structure block and the strings block must then be
 * disjoint and inside totalsize, and the structure must parse. */
static int check_blob(const void *fdt)
{
    TRY(fdt_check_header(fdt));
    if (fdt_version(fdt) < 17)
        return -FDT_ERR_BADVERSION;
    int nrsv = fdt_num_mem_rsv(fdt);
    TRY(nrsv);
    const uint64_t total = fdt_totalsize(fdt);
    const uint64_t start[4] = { 0, fdt_off_mem_rsvmap(fdt), fdt_off_dt_struct(fdt),
                                fdt_off_dt_strings(fdt) };
    const uint64_t len[4] = { fdt_header_size(fdt),
                              ((uint64_t)nrsv + 1) * sizeof(struct fdt_reserve_entry),
                              fdt_size_dt_struct(fdt), fdt_size_dt_strings(fdt) };
    for (unsigned i = 0; i < 4; i++) {
        if (start[i] > total || len[i] > total - start[i])
            return -FDT_ERR_BADLAYOUT;
        for (unsigned j = 0; j < i; j++)
            if (blocks_overlap(start[i], len[i], start[j], len[j]))
                return -FDT_ERR_BADLAYOUT;
    }
    return fdt_check_full(fdt, total);
}

int fdt_update_chosen(void *buf, size_t bufsize, const char *bootargs, bool has_initrd,
                      uint64_t initrd_start, uint64_t initrd_end)
{
    if (bufsize > INT32_MAX)
        return -FDT_ERR_BADVALUE;
    TRY(check_blob(buf));
    TRY(fdt_open_into(buf, buf, (int)bufsize));
    int chosen = fdt_path_offset(buf, "/chosen");
    if (chosen == -FDT_ERR_NOTFOUND)
        chosen = fdt_add_subnode(buf, 0, "chosen");
    TRY(chosen);
    if (bootargs && *bootargs)
        TRY(fdt_setprop_string(buf, chosen, "bootargs", bootargs));
    if (has_initrd) {
        TRY(prop_addr(buf, chosen, "linux,initrd-start", initrd_start));
        TRY(prop_addr(buf, chosen, "linux,initrd-end", initrd_end));
    }
    return fdt_pack(buf);
}
