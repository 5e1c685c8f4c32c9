/* test_fdt: build the board's device tree and read it back with libfdt,
 * checking each node against the bindings Linux and OpenSBI parse (and the
 * values QEMU 7.2's virt board uses). */
#include <libfdt.h>
#include <string.h>
#include "check.h"
#include "machine/fdt.h"

static uint8_t blob[FDT_BUF_SIZE];

static struct fdt_board board(unsigned nharts)
{
    return (struct fdt_board){
        .nharts = nharts,
        .ram_base = 0x80000000ull, .ram_size = 512ull << 20,
        .isa = "rv64imafdc_zicsr_zifencei_zihintpause_sstc", .mmu_type = "riscv,sv48",
        .timebase_hz = 10000000,
        .test = { 0x100000, 0x1000 }, .clint = { 0x2000000, 0x10000 },
        .plic = { 0xc000000, 0x600000 }, .uart = { 0x10000000, 0x100 },
        .plic_ndev = 95, .uart_irq = 10, .uart_clock_hz = 3686400,
        .virtio = { 0x10001000, 0x1000 }, .nvirtio = 8, .virtio_irq0 = 1,
        .bootargs = "console=ttyS0 earlycon=sbi",
        .has_initrd = true, .initrd_start = 0x88200000, .initrd_end = 0x88242c9a,
    };
}

static int node(const char *path)
{
    int off = fdt_path_offset(blob, path);
    if (off < 0)
        fprintf(stderr, "missing node %s\n", path);
    CHECK(off >= 0);
    return off;
}

static uint32_t cell(int off, const char *prop, unsigned index)
{
    int len = 0;
    const fdt32_t *p = fdt_getprop(blob, off, prop, &len);
    if (!p || (unsigned)len < 4 * (index + 1)) {
        fprintf(stderr, "property %s too short or missing\n", prop);
        CHECK(false);
        return 0xdeadbeef;
    }
    return fdt32_to_cpu(p[index]);
}

static int prop_len(int off, const char *prop)
{
    int len = -1;
    if (!fdt_getprop(blob, off, prop, &len))
        return -1;
    return len;
}

static bool str_is(int off, const char *prop, const char *want)
{
    const char *s = fdt_getprop(blob, off, prop, NULL);
    return s && !strcmp(s, want);
}

static uint64_t reg64(int off, unsigned index)
{
    return (uint64_t)cell(off, "reg", 2 * index) << 32 | cell(off, "reg", 2 * index + 1);
}

/* The node a phandle names must be hart h's riscv,cpu-intc. */
static bool is_intc_of(uint32_t phandle, unsigned hart)
{
    int intc = fdt_node_offset_by_phandle(blob, phandle);
    if (intc < 0 || fdt_node_check_compatible(blob, intc, "riscv,cpu-intc") != 0)
        return false;
    int cpu = fdt_parent_offset(blob, intc);
    return cpu >= 0 && cell(cpu, "reg", 0) == hart;
}

static void test_root_cpus_memory(void)
{
    int root = node("/");
    CHECK_EQ(cell(root, "#address-cells", 0), 2);
    CHECK_EQ(cell(root, "#size-cells", 0), 2);
    CHECK(str_is(root, "compatible", "riscv-virtio"));
    CHECK(str_is(root, "model", "riscv-virtio,qemu"));

    int cpus = node("/cpus");
    CHECK_EQ(cell(cpus, "#address-cells", 0), 1);
    CHECK_EQ(cell(cpus, "#size-cells", 0), 0);
    CHECK_EQ(cell(cpus, "timebase-frequency", 0), 10000000);
    char path[64];
    for (unsigned h = 0; h < 2; h++) {
        snprintf(path, sizeof path, "/cpus/cpu@%u", h);
        int cpu = node(path);
        CHECK_EQ(cell(cpu, "reg", 0), h);
        CHECK_EQ(prop_len(cpu, "reg"), 4);
        CHECK(str_is(cpu, "device_type", "cpu"));
        CHECK(str_is(cpu, "status", "okay"));
        CHECK(str_is(cpu, "compatible", "riscv"));
        CHECK(str_is(cpu, "riscv,isa", "rv64imafdc_zicsr_zifencei_zihintpause_sstc"));
        CHECK(str_is(cpu, "mmu-type", "riscv,sv48"));
        snprintf(path, sizeof path, "/cpus/cpu@%u/interrupt-controller", h);
        int intc = node(path);
        CHECK_EQ(cell(intc, "#interrupt-cells", 0), 1);
        CHECK_EQ(prop_len(intc, "interrupt-controller"), 0);
        CHECK(fdt_node_check_compatible(blob, intc, "riscv,cpu-intc") == 0);
        CHECK(fdt_get_phandle(blob, intc) != 0);
        CHECK(is_intc_of(fdt_get_phandle(blob, intc), h));
        /* cpu-map's core points back at this cpu */
        snprintf(path, sizeof path, "/cpus/cpu-map/cluster0/core%u", h);
        CHECK_EQ(fdt_node_offset_by_phandle(blob, cell(node(path), "cpu", 0)), cpu);
    }
    CHECK(fdt_path_offset(blob, "/cpus/cpu@2") < 0);

    int memory = node("/memory@80000000");
    CHECK(str_is(memory, "device_type", "memory"));
    CHECK_EQ(reg64(memory, 0), 0x80000000ull);
    CHECK_EQ(reg64(memory, 1), 512ull << 20);
}

static void test_interrupt_controllers(void)
{
    int soc = node("/soc");
    CHECK(fdt_node_check_compatible(blob, soc, "simple-bus") == 0);
    CHECK_EQ(prop_len(soc, "ranges"), 0);
    CHECK_EQ(cell(soc, "#address-cells", 0), 2);

    /* CLINT: per hart MSIP (3) then MTIP (7). */
    int clint = node("/soc/clint@2000000");
    CHECK(fdt_node_check_compatible(blob, clint, "sifive,clint0") == 0);
    CHECK(fdt_node_check_compatible(blob, clint, "riscv,clint0") == 0);
    CHECK_EQ(reg64(clint, 0), 0x2000000);
    CHECK_EQ(reg64(clint, 1), 0x10000);
    CHECK_EQ(prop_len(clint, "interrupts-extended"), 2 * 4 * 4);
    for (unsigned h = 0; h < 2; h++) {
        CHECK(is_intc_of(cell(clint, "interrupts-extended", 4 * h), h));
        CHECK_EQ(cell(clint, "interrupts-extended", 4 * h + 1), 3);
        CHECK(is_intc_of(cell(clint, "interrupts-extended", 4 * h + 2), h));
        CHECK_EQ(cell(clint, "interrupts-extended", 4 * h + 3), 7);
    }

    /* PLIC: contexts are (hart 0, M) = MEIP 11, (hart 0, S) = SEIP 9, ... */
    int plic = node("/soc/plic@c000000");
    CHECK(fdt_node_check_compatible(blob, plic, "sifive,plic-1.0.0") == 0);
    CHECK(fdt_node_check_compatible(blob, plic, "riscv,plic0") == 0);
    CHECK_EQ(cell(plic, "riscv,ndev", 0), 95);
    CHECK_EQ(cell(plic, "#interrupt-cells", 0), 1);
    CHECK_EQ(cell(plic, "#address-cells", 0), 0);
    CHECK_EQ(prop_len(plic, "interrupt-controller"), 0);
    CHECK_EQ(reg64(plic, 0), 0xc000000);
    CHECK_EQ(reg64(plic, 1), 0x600000);
    CHECK_EQ(prop_len(plic, "interrupts-extended"), 2 * 4 * 4);
    for (unsigned h = 0; h < 2; h++) {
        CHECK(is_intc_of(cell(plic, "interrupts-extended", 4 * h), h));
        CHECK_EQ(cell(plic, "interrupts-extended", 4 * h + 1), 11);
        CHECK(is_intc_of(cell(plic, "interrupts-extended", 4 * h + 2), h));
        CHECK_EQ(cell(plic, "interrupts-extended", 4 * h + 3), 9);
    }
}

static void test_devices(void)
{
    int plic = node("/soc/plic@c000000");
    uint32_t plic_phandle = fdt_get_phandle(blob, plic);
    CHECK(plic_phandle != 0);

    int uart = node("/soc/serial@10000000");
    CHECK(fdt_node_check_compatible(blob, uart, "ns16550a") == 0);
    CHECK_EQ(cell(uart, "interrupts", 0), 10);
    CHECK_EQ(cell(uart, "interrupt-parent", 0), plic_phandle);
    CHECK_EQ(cell(uart, "clock-frequency", 0), 3686400);
    CHECK_EQ(reg64(uart, 0), 0x10000000);
    CHECK_EQ(reg64(uart, 1), 0x100);

    int test = node("/soc/test@100000");
    CHECK(fdt_node_check_compatible(blob, test, "sifive,test0") == 0);
    CHECK(fdt_node_check_compatible(blob, test, "sifive,test1") == 0);
    CHECK(fdt_node_check_compatible(blob, test, "syscon") == 0);
    CHECK_EQ(reg64(test, 0), 0x100000);
    uint32_t test_phandle = fdt_get_phandle(blob, test);
    CHECK(test_phandle != 0);

    int poweroff = node("/poweroff");
    CHECK(fdt_node_check_compatible(blob, poweroff, "syscon-poweroff") == 0);
    CHECK_EQ(cell(poweroff, "regmap", 0), test_phandle);
    CHECK_EQ(cell(poweroff, "offset", 0), 0);
    CHECK_EQ(cell(poweroff, "value", 0), 0x5555);
    int reboot = node("/reboot");
    CHECK(fdt_node_check_compatible(blob, reboot, "syscon-reboot") == 0);
    CHECK_EQ(cell(reboot, "regmap", 0), test_phandle);
    CHECK_EQ(cell(reboot, "value", 0), 0x7777);

    /* Eight virtio-mmio slots; slot n at 0x10001000 + n * 0x1000 on PLIC
     * source n + 1, listed from the highest address down as on QEMU. */
    uint64_t previous = ~0ull;
    unsigned count = 0;
    int soc = node("/soc");
    int child;
    fdt_for_each_subnode(child, blob, soc) {
        if (fdt_node_check_compatible(blob, child, "virtio,mmio") != 0)
            continue;
        uint64_t base = reg64(child, 0);
        CHECK(base < previous);
        previous = base;
        CHECK_EQ(reg64(child, 1), 0x1000);
        CHECK_EQ((base - 0x10001000) % 0x1000, 0);
        CHECK_EQ(cell(child, "interrupts", 0), (base - 0x10001000) / 0x1000 + 1);
        CHECK_EQ(cell(child, "interrupt-parent", 0), plic_phandle);
        count++;
    }
    CHECK_EQ(count, 8);
    CHECK(fdt_path_offset(blob, "/soc/virtio_mmio@10008000") >= 0);
    CHECK_EQ(cell(node("/soc/virtio_mmio@10008000"), "interrupts", 0), 8);
}

static void test_chosen(void)
{
    int chosen = node("/chosen");
    CHECK(str_is(chosen, "bootargs", "console=ttyS0 earlycon=sbi"));
    const char *stdout_path = fdt_getprop(blob, chosen, "stdout-path", NULL);
    CHECK(stdout_path && fdt_path_offset(blob, stdout_path) == node("/soc/serial@10000000"));
    /* One cell each, as QEMU 7.2 writes them. */
    CHECK_EQ(prop_len(chosen, "linux,initrd-start"), 4);
    CHECK_EQ(cell(chosen, "linux,initrd-start", 0), 0x88200000);
    CHECK_EQ(cell(chosen, "linux,initrd-end", 0), 0x88242c9a);
}

/* Phandles must be unique (the DT spec requires it; Linux relies on it). */
static void test_unique_phandles(void)
{
    uint32_t seen[64];
    unsigned n = 0;
    for (int off = fdt_next_node(blob, -1, NULL); off >= 0; off = fdt_next_node(blob, off, NULL)) {
        uint32_t ph = fdt_get_phandle(blob, off);
        if (!ph)
            continue;
        for (unsigned i = 0; i < n; i++)
            CHECK(seen[i] != ph);
        if (n < 64)
            seen[n++] = ph;
    }
    CHECK_EQ(n, 2 * 2 + 2);             /* cpu and intc per hart, PLIC, test */
}

static void test_variants(void)
{
    /* Eight harts: eight cpu nodes, 16 PLIC contexts. */
    struct fdt_board b = board(8);
    b.bootargs = NULL;
    b.has_initrd = false;
    CHECK_EQ(fdt_build_virt(&b, blob, sizeof blob), 0);
    CHECK_EQ(fdt_check_full(blob, sizeof blob), 0);
    CHECK(fdt_path_offset(blob, "/cpus/cpu@7") >= 0);
    int plic = node("/soc/plic@c000000");
    CHECK_EQ(prop_len(plic, "interrupts-extended"), 8 * 4 * 4);
    CHECK(is_intc_of(cell(plic, "interrupts-extended", 4 * 7 + 2), 7));
    int chosen = node("/chosen");
    CHECK_EQ(prop_len(chosen, "bootargs"), -1);
    CHECK_EQ(prop_len(chosen, "linux,initrd-start"), -1);
    CHECK(fdt_totalsize(blob) < FDT_BUF_SIZE / 4);       /* packed */

    /* An initrd above 4 GiB needs two cells. */
    b = board(1);
    b.ram_size = 8ull << 30;
    b.initrd_start = 0x100000000ull;
    b.initrd_end = 0x100001000ull;
    CHECK_EQ(fdt_build_virt(&b, blob, sizeof blob), 0);
    chosen = node("/chosen");
    CHECK_EQ(prop_len(chosen, "linux,initrd-start"), 8);
    CHECK_EQ(cell(chosen, "linux,initrd-start", 0), 1);
    CHECK_EQ(cell(chosen, "linux,initrd-start", 1), 0);
    CHECK_EQ(reg64(node("/memory@80000000"), 1), 8ull << 30);

    /* A buffer too small is an error, not a truncated tree. */
    static uint8_t small[512];
    CHECK(fdt_build_virt(&b, small, sizeof small) < 0);
    b.nharts = 0;
    CHECK(fdt_build_virt(&b, blob, sizeof blob) < 0);
}

/* A user's -dtb without /chosen gets one; existing properties are kept. */
static void test_update_chosen(void)
{
    CHECK_EQ(fdt_create_empty_tree(blob, 1024), 0);
    int root = fdt_path_offset(blob, "/");
    CHECK_EQ(fdt_setprop_string(blob, root, "model", "custom"), 0);
    CHECK_EQ(fdt_update_chosen(blob, sizeof blob, "root=/dev/vda", true, 0x84000000, 0x84001000),
             0);
    int chosen = node("/chosen");
    CHECK(str_is(chosen, "bootargs", "root=/dev/vda"));
    CHECK_EQ(cell(chosen, "linux,initrd-end", 0), 0x84001000);
    CHECK(str_is(node("/"), "model", "custom"));
    /* Empty bootargs leave an existing property alone. */
    CHECK_EQ(fdt_update_chosen(blob, sizeof blob, "", false, 0, 0), 0);
    CHECK(str_is(node("/chosen"), "bootargs", "root=/dev/vda"));
    /* Not a device tree at all. */
    static uint8_t junk[256] = { 1, 2, 3 };
    CHECK(fdt_update_chosen(junk, sizeof junk, "x", false, 0, 0) < 0);
}

int main(void)
{
    struct fdt_board b = board(2);
    CHECK_EQ(fdt_build_virt(&b, blob, sizeof blob), 0);
    CHECK_EQ(fdt_check_full(blob, sizeof blob), 0);
    test_root_cpus_memory();
    test_interrupt_controllers();
    test_devices();
    test_chosen();
    test_unique_phandles();
    test_variants();
    test_update_chosen();
    return check_summary();
}
