/* board: building, booting, running and stopping the machine (see board.h). */
#include "machine/board.h"
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/timebase.h"
#include "base/tracelog.h"
#include "dev/clint.h"
#include "dev/plic.h"
#include "dev/sifive_test.h"
#include "dev/uart.h"
#include "dev/virtio_blk.h"
#include "dev/virtio_mmio.h"
#include "machine/console.h"
#include "cpu/debug.h"
#include "cpu/jit.h"
#include "cpu/profile.h"
#include "machine/gdbstub.h"
#include "machine/monitor.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static int __attribute__((format(printf, 2, 3)))
report(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "umbra: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return status;
}

/* ------------------------------------------------------- placement rules */

/* A flat kernel goes at the first 2 MiB boundary at or after the firmware's
 * end (RV64: Linux wants a 2 MiB-aligned physical base); with no firmware
 * that is the start of RAM. */
uint64_t board_kernel_flat_addr(uint64_t firmware_end, bool has_firmware, uint64_t ram_base)
{
    uint64_t end = has_firmware ? firmware_end : ram_base;
    return (end + 2 * MiB - 1) & ~(2 * MiB - 1);
}

/* Far enough past the kernel that its decompression and early allocations
 * do not reach it, but low enough to stay in the first part of a large RAM. */
uint64_t board_initrd_addr(uint64_t kernel_entry, uint64_t ram_size)
{
    uint64_t offset = ram_size / 2 < 128 * MiB ? ram_size / 2 : 128 * MiB;
    return kernel_entry + offset;
}

/* As high as possible so nothing the kernel unpacks lands on it, but below
 * 3 GiB so 32-bit code can address it; 2 MiB aligned. Returns 0 when RAM is
 * too small for that rule (the caller then reports that it does not fit). */
uint64_t board_fdt_addr(uint64_t ram_base, uint64_t ram_size, uint64_t fdt_size)
{
    uint64_t end = ram_base + ram_size;
    uint64_t limit = (ram_base < 3 * GiB && end > 3 * GiB) ? 3 * GiB : end;
    if (limit < fdt_size)
        return 0;
    return (limit - fdt_size) & ~(2 * MiB - 1);
}

/* ---------------------------------------------------------------- wiring */

static void wire_msip(void *ctx, unsigned hart, bool level)
{
    struct board *b = ctx;
    if (hart < b->nharts) {
        /* With a host CPU per hart every target runs and spinning is the
         * fastest wait; only when harts outnumber CPUs (or share a pool's
         * workers) may the sender hold the CPU its target needs (cpu/hart.h,
         * hart_note_ipi). */
        if (b->harts_outnumber_cpus || b->pooled)
            hart_note_ipi(hart_current(), b->harts, b->nharts, hart, level);
        hart_set_irq(&b->harts[hart], MIP_MSIP, level);
    }
}

static void wire_mtimecmp(void *ctx, unsigned hart, uint64_t value)
{
    struct board *b = ctx;
    if (hart < b->nharts)
        hart_set_mtimecmp(&b->harts[hart], value);
}

/* PLIC context 2h is hart h's M-mode external interrupt, 2h+1 its S-mode one. */
static void wire_plic_context(void *ctx, unsigned context, bool level)
{
    struct board *b = ctx;
    unsigned hart = context / 2;
    if (hart < b->nharts)
        hart_set_irq(&b->harts[hart], (context & 1) ? MIP_SEIP : MIP_MEIP, level);
}

static void uart_tx(void *ctx, uint8_t byte)
{
    console_putc(byte);
}

static bool console_to_uart(void *ctx, uint8_t byte)
{
    struct board *b = ctx;
    return uart_receive(b->uart, &byte, 1) == 1;
}

/* Ctrl-A X, and SIGINT, SIGTERM or SIGHUP: end the run with status 0, as
 * QEMU does, reporting --stats and --profile on the way out. */
static void console_quit(void *ctx)
{
    board_stop(ctx, STOP_EXIT, 0);
}

/* A process exit status has 8 bits; a non-zero guest code must not wrap to 0. */
static int exit_status_of(uint64_t code)
{
    if (code == 0)
        return 0;
    return (code & 0xff) ? (int)(code & 0xff) : 1;
}

static void test_event(void *ctx, enum test_event ev, int exit_code)
{
    if (ev == TEST_EVENT_RESET)
        board_stop(ctx, STOP_RESET, 0);
    else
        board_stop(ctx, STOP_EXIT, ev == TEST_EVENT_PASS ? 0 : exit_status_of((uint64_t)exit_code));
}

static void htif_exit(void *ctx, uint64_t code)
{
    board_stop(ctx, STOP_EXIT, exit_status_of(code));
}

static void coherence_kick(void *ctx, unsigned hart)
{
    struct board *b = ctx;
    if (hart < b->nharts)
        hart_kick(&b->harts[hart]);
}

/* The audit has printed its diagnosis; stop everything there. */
static void coherence_violation(void *ctx, unsigned hart)
{
    board_stop(ctx, STOP_EXIT, EXIT_STATUS_AUDIT);
}

static void htif_output(void *ctx, const void *buf, size_t len)
{
    console_write(buf, len);
}

void board_stop(struct board *b, enum board_stop_reason why, int code)
{
    pthread_mutex_lock(&b->stop_lock);
    if (b->stop_reason == STOP_NONE || b->stop_reason == STOP_PAUSE) {   /* a stop ends a pause */
        pthread_cond_broadcast(&b->pause_cond);
        if (why == STOP_RESET && b->opts->no_reboot) {
            why = STOP_EXIT;        /* -no-reboot: a reset ends the run, status 0 */
            code = 0;
        }
        b->stop_reason = why;
        b->exit_code = code;
        atomic_store(&b->halt, true);
        for (unsigned i = 0; i < b->nharts; i++)
            hart_kick(&b->harts[i]);
    }
    pthread_mutex_unlock(&b->stop_lock);
}

/* ----------------------------------------------------------------- pause */

bool board_pause(struct board *b)
{
    pthread_mutex_lock(&b->stop_lock);
    while (b->stop_reason == STOP_PAUSE && !b->pause_requested)
        pthread_cond_wait(&b->pause_cond, &b->stop_lock);     /* the last pause still ending */
    bool ok = b->stop_reason == STOP_NONE;
    if (ok) {
        b->stop_reason = STOP_PAUSE;
        b->pause_requested = true;
        atomic_store(&b->halt, true);
        for (unsigned i = 0; i < b->nharts; i++)
            hart_kick(&b->harts[i]);
        while (!b->paused && b->stop_reason == STOP_PAUSE)
            pthread_cond_wait(&b->pause_cond, &b->stop_lock);
        ok = b->paused;
        b->pause_requested = ok;
    }
    pthread_mutex_unlock(&b->stop_lock);
    return ok;
}

void board_resume(struct board *b)
{
    pthread_mutex_lock(&b->stop_lock);
    b->pause_requested = false;
    pthread_cond_broadcast(&b->pause_cond);
    pthread_mutex_unlock(&b->stop_lock);
}

/* On the main thread, every hart thread joined. If that was a pause, say
 * so, wait for board_resume and return true: the harts are then started
 * again exactly where they stopped. A stop during the pause wins. */
static bool pause_point(struct board *b)
{
    pthread_mutex_lock(&b->stop_lock);
    bool resume = b->stop_reason == STOP_PAUSE;
    if (resume) {
        b->paused = true;
        pthread_cond_broadcast(&b->pause_cond);
        while (b->pause_requested && b->stop_reason == STOP_PAUSE)
            pthread_cond_wait(&b->pause_cond, &b->stop_lock);
        b->paused = false;
        resume = b->stop_reason == STOP_PAUSE;
        if (resume) {
            b->stop_reason = STOP_NONE;
            atomic_store(&b->halt, false);
        }
        pthread_cond_broadcast(&b->pause_cond);
    }
    pthread_mutex_unlock(&b->stop_lock);
    return resume;
}

/* ------------------------------------------------------------- monitor */

static bool monitor_pause(void *ctx)
{
    return board_pause(ctx);
}

static void monitor_resume(void *ctx)
{
    board_resume(ctx);
}

static void monitor_enter_hook(void *ctx)
{
    struct board *b = ctx;
    monitor_enter(&b->monitor, stdout);
}

static bool monitor_feed_hook(void *ctx, uint8_t byte)
{
    struct board *b = ctx;
    return monitor_feed(&b->monitor, byte, stdout) != MONITOR_QUIT;
}

/* Ctrl-A C's monitor, looking at this board's harts and shadow tables. */
static void setup_monitor(struct board *b)
{
    const struct monitor_target target = {
        b->harts, b->nharts, b->co, monitor_pause, monitor_resume, b,
    };
    monitor_init(&b->monitor, &target);
    const struct console_monitor_hooks hooks = { monitor_enter_hook, monitor_feed_hook, b };
    console_set_monitor(&hooks);
}

/* ------------------------------------------------------------------- ROM */

static bool rom_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    const struct board_rom *r = dev;
    if (offset > BOARD_ROM_SIZE - size)
        return false;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)r->bytes[offset + i] << (8 * i);
    *value = v;
    return true;
}

/* Stores to ROM are dropped, as on QEMU's MROM. */
static bool rom_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    return offset <= BOARD_ROM_SIZE - size;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* OpenSBI's fw_dynamic_info: magic, version, next_addr, next_mode, options,
 * boot_hart. boot_hart 0 makes hart 0 the cold-boot hart, as on QEMU. The
 * ROM is written only while no hart runs. */
static void write_fw_dynamic_info(struct board *b)
{
    uint8_t *p = b->rom.bytes;
    memset(p, 0, BOARD_ROM_SIZE);
    put_le64(p + 0, FW_DYNAMIC_INFO_MAGIC);
    put_le64(p + 8, FW_DYNAMIC_INFO_VERSION);
    put_le64(p + 16, b->boot.kernel_entry);
    put_le64(p + 24, FW_DYNAMIC_INFO_NEXT_MODE_S);
    put_le64(p + 32, 0);
    put_le64(p + 40, 0);
}

/* ---------------------------------------------------------------- devices */

static bool map_device(struct board *b, struct device *d, uint64_t base)
{
    if (device_map(&b->mem, d, base))
        return true;
    report(0, "cannot map %s at 0x%llx", d->name, (unsigned long long)base);
    return false;
}

static int create_disks(struct board *b)
{
    const struct umbra_options *o = b->opts;
    char err[LOADER_ERR_LEN];
    /* The first disk goes in the highest slot, as QEMU's virt assigns them. */
    for (unsigned k = 0; k < o->ndisks; k++) {
        if (!drive_open(&o->drive[o->disk[k]], &b->drives[k], err, sizeof err))
            return report(EXIT_STATUS_BAD_FILE, "%s", err);
        b->ndrives_open = k + 1;
        unsigned slot = BOARD_VIRTIO_COUNT - 1 - k;
        struct irq_line irq = plic_source_line(b->plic, BOARD_VIRTIO_IRQ0 + slot);
        b->slot_blk[slot] = virtio_blk_create(&b->mem, b->drives[k].fd, b->drives[k].size,
                                              b->drives[k].read_only, irq);
        if (!b->slot_blk[slot])
            return report(EXIT_STATUS_BAD_FILE, "cannot create the virtio-blk device");
        virtio_blk_set_ignore_flush(b->slot_blk[slot], b->drives[k].ignore_flush);
        if (!map_device(b, virtio_blk_device(b->slot_blk[slot]),
                        BOARD_VIRTIO_BASE + slot * BOARD_VIRTIO_STRIDE))
            return EXIT_STATUS_BAD_FILE;
    }
    for (unsigned slot = 0; slot < BOARD_VIRTIO_COUNT; slot++) {
        if (b->slot_blk[slot])
            continue;
        b->slot_empty[slot] = virtio_mmio_create_empty();
        if (!b->slot_empty[slot] ||
            !map_device(b, virtio_mmio_device(b->slot_empty[slot]),
                        BOARD_VIRTIO_BASE + slot * BOARD_VIRTIO_STRIDE))
            return EXIT_STATUS_BAD_FILE;
    }
    return 0;
}

static int create_devices(struct board *b)
{
    static const struct mmio_ops rom_ops = { rom_read, rom_write };
    b->rom.dev = (struct device){ .name = "rom", .size = BOARD_ROM_SIZE, .mmio = rom_ops };
    const struct clint_hooks hooks = { wire_msip, wire_mtimecmp, b };
    const struct irq_line plic_out = { wire_plic_context, b, 0 };
    b->clint = clint_create(b->nharts, &hooks);
    b->plic = plic_create(b->nharts, plic_out);
    b->test = sifive_test_create(test_event, b);
    if (!b->clint || !b->plic || !b->test)
        return report(EXIT_STATUS_BAD_FILE, "out of memory creating devices");
    b->uart = uart_create(uart_tx, b, plic_source_line(b->plic, BOARD_UART_IRQ));
    if (!b->uart)
        return report(EXIT_STATUS_BAD_FILE, "out of memory creating the UART");
    if (!map_device(b, &b->rom.dev, BOARD_ROM_BASE) ||
        !map_device(b, sifive_test_device(b->test), BOARD_TEST_BASE) ||
        !map_device(b, clint_device(b->clint), BOARD_CLINT_BASE) ||
        !map_device(b, plic_device(b->plic), BOARD_PLIC_BASE) ||
        !map_device(b, uart_device(b->uart), BOARD_UART_BASE))
        return EXIT_STATUS_BAD_FILE;
    return create_disks(b);
}

/* ------------------------------------------------------------ boot images */

static int read_image(const char *path, const char *what, struct image *img)
{
    char err[LOADER_ERR_LEN];
    if (image_read(path, what, img, err, sizeof err))
        return 0;
    return report(EXIT_STATUS_BAD_FILE, "%s", err);
}

static int read_images(struct board *b)
{
    const struct umbra_options *o = b->opts;
    if (!o->bios_none && !o->bios_builtin) {
        char err[LOADER_ERR_LEN];
        if (!image_read(o->bios, "-bios", &b->bios_img, err, sizeof err)) {
            if (!strcmp(o->bios, OPT_DEFAULT_BIOS) && access(o->bios, F_OK) != 0)
                return report(EXIT_STATUS_BAD_FILE,
                              "the default firmware %s is missing: install the Debian package "
                              "'opensbi', or give -bios FILE or -bios none", OPT_DEFAULT_BIOS);
            return report(EXIT_STATUS_BAD_FILE, "%s", err);
        }
    }
    int rc = 0;
    if (!rc && o->kernel)
        rc = read_image(o->kernel, "-kernel", &b->kernel_img);
    if (!rc && o->initrd)
        rc = read_image(o->initrd, "-initrd", &b->initrd_img);
    if (!rc && o->dtb)
        rc = read_image(o->dtb, "-dtb", &b->dtb_img);
    return rc;
}

static void describe_board(const struct board *b, struct fdt_board *fb)
{
    const struct board_boot *boot = &b->boot;
    *fb = (struct fdt_board){
        .nharts = b->nharts,
        .ram_base = b->mem.ram_base, .ram_size = b->mem.ram_size,
        .isa = BOARD_RISCV_ISA, .mmu_type = BOARD_MMU_TYPE,
        .timebase_hz = (uint32_t)TIMEBASE_HZ,
        .test = { BOARD_TEST_BASE, SIFIVE_TEST_WINDOW_SIZE },
        .clint = { BOARD_CLINT_BASE, CLINT_WINDOW_SIZE },
        .plic = { BOARD_PLIC_BASE, PLIC_WINDOW_SIZE },
        .uart = { BOARD_UART_BASE, UART_WINDOW_SIZE },
        .plic_ndev = PLIC_NUM_SOURCES - 1,      /* source 0 does not exist */
        .uart_irq = BOARD_UART_IRQ, .uart_clock_hz = BOARD_UART_CLOCK_HZ,
        .virtio = { BOARD_VIRTIO_BASE, BOARD_VIRTIO_STRIDE },
        .nvirtio = BOARD_VIRTIO_COUNT, .virtio_irq0 = BOARD_VIRTIO_IRQ0,
        .bootargs = b->opts->append,
        .has_initrd = boot->has_initrd,
        .initrd_start = boot->initrd_start, .initrd_end = boot->initrd_end,
    };
}

/* The generated tree, or the -dtb blob with /chosen brought up to date as
 * QEMU does (bootargs from -append, the initrd's range). */
static int make_fdt(struct board *b)
{
    const struct board_boot *boot = &b->boot;
    int rc;
    if (b->dtb_img.data) {
        if (b->dtb_img.size < sizeof(struct fdt_header) || fdt_check_header(b->dtb_img.data) != 0 ||
            fdt_totalsize(b->dtb_img.data) > b->dtb_img.size)
            return report(EXIT_STATUS_BAD_FILE, "-dtb %s: not a device tree blob", b->opts->dtb);
        if (fdt_totalsize(b->dtb_img.data) > FDT_BUF_SIZE / 2)
            return report(EXIT_STATUS_BAD_FILE, "-dtb %s: larger than %u bytes", b->opts->dtb,
                          FDT_BUF_SIZE / 2);
        memcpy(b->fdt, b->dtb_img.data, fdt_totalsize(b->dtb_img.data));
        rc = fdt_update_chosen(b->fdt, sizeof b->fdt, b->opts->append, boot->has_initrd,
                               boot->initrd_start, boot->initrd_end);
    } else {
        struct fdt_board fb;
        describe_board(b, &fb);
        rc = fdt_build_virt(&fb, b->fdt, sizeof b->fdt);
    }
    if (rc < 0)
        return report(EXIT_STATUS_BAD_FILE, "cannot build the device tree: %s", fdt_strerror(rc));
    b->fdt_size = fdt_totalsize(b->fdt);
    return 0;
}

static int place_initrd(struct board *b, struct load_map *map)
{
    struct board_boot *boot = &b->boot;
    char err[LOADER_ERR_LEN];
    uint64_t start = board_initrd_addr(boot->kernel_entry, b->mem.ram_size);
    /* Byte for byte, whatever the contents: an initrd is never parsed. */
    if (!load_map_add(map, &b->mem, start, b->initrd_img.size, "-initrd", err, sizeof err))
        return report(EXIT_STATUS_BAD_FILE, "%s %s", err, b->opts->initrd);
    mem_copy_to_guest(&b->mem, start, b->initrd_img.data, b->initrd_img.size);
    boot->has_initrd = true;
    boot->initrd_start = start;
    boot->initrd_end = start + b->initrd_img.size;
    return 0;
}

static int place_fdt(struct board *b, struct load_map *map)
{
    char err[LOADER_ERR_LEN];
    int rc = make_fdt(b);
    if (rc)
        return rc;
    b->boot.fdt_addr = board_fdt_addr(b->mem.ram_base, b->mem.ram_size, b->fdt_size);
    if (!load_map_add(map, &b->mem, b->boot.fdt_addr, b->fdt_size, "the device tree", err,
                      sizeof err))
        return report(EXIT_STATUS_BAD_FILE, "%s", err);
    mem_copy_to_guest(&b->mem, b->boot.fdt_addr, b->fdt, b->fdt_size);
    return 0;
}

/* Place firmware, kernel, initrd and device tree, and fill in b->boot.
 * Runs at creation and again at every guest reset (no hart running). */
static int place_images(struct board *b)
{
    struct board_boot *boot = &b->boot;
    struct load_map map = { .n = 0 };
    char err[LOADER_ERR_LEN];
    memset(boot, 0, sizeof *boot);
    boot->start_pc = b->mem.ram_base;
    if (b->bios_img.data) {
        if (!loader_place(&b->mem, &map, &b->bios_img, b->mem.ram_base, &boot->firmware, err,
                          sizeof err))
            return report(EXIT_STATUS_BAD_FILE, "%s", err);
        boot->has_firmware = true;
        boot->start_pc = boot->firmware.entry;
    }
    if (b->kernel_img.data) {
        uint64_t flat = board_kernel_flat_addr(boot->firmware.high, boot->has_firmware,
                                               b->mem.ram_base);
        if (b->opts->bios_builtin)
            flat = b->mem.ram_base + BOARD_BUILTIN_KERNEL_OFFSET;
        if (!loader_place(&b->mem, &map, &b->kernel_img, flat, &boot->kernel, err, sizeof err))
            return report(EXIT_STATUS_BAD_FILE, "%s", err);
        boot->has_kernel = true;
        boot->kernel_entry = boot->kernel.entry;
        if (!boot->has_firmware)
            boot->start_pc = boot->kernel_entry;
    }
    if (b->initrd_img.data) {
        int rc = place_initrd(b, &map);
        if (rc)
            return rc;
    }
    int rc = place_fdt(b, &map);
    if (rc)
        return rc;
    write_fw_dynamic_info(b);
    return 0;
}

/* Spike's HTIF, when the kernel's (or else the firmware's) ELF names tohost. */
static int setup_htif(struct board *b)
{
    const struct loaded *l = NULL;
    if (b->boot.has_kernel && b->boot.kernel.is_elf && b->boot.kernel.elf.has_tohost)
        l = &b->boot.kernel;
    else if (b->boot.has_firmware && b->boot.firmware.is_elf && b->boot.firmware.elf.has_tohost)
        l = &b->boot.firmware;
    if (!l)
        return 0;
    if (!htif_init(&b->htif, &b->mem, l->elf.tohost, l->elf.has_fromhost, l->elf.fromhost,
                   htif_exit, htif_output, b))
        return report(EXIT_STATUS_BAD_FILE, "cannot map HTIF at tohost 0x%llx",
                      (unsigned long long)l->elf.tohost);
    b->has_htif = true;
    return 0;
}

/* ------------------------------------------------------------- harts */

/* The state QEMU's reset vector leaves behind: M-mode at the entry with
 * a0 = mhartid, a1 = device tree, a2 = fw_dynamic_info. */
static void reset_harts(struct board *b)
{
    if (b->sbi) {
        sbi_boot(b->sbi, b->boot.start_pc, b->boot.fdt_addr);
        return;
    }
    for (unsigned i = 0; i < b->nharts; i++) {
        struct hart *h = &b->harts[i];
        hart_reset(h, b->boot.start_pc);
        h->x[10] = i;
        h->x[11] = b->boot.fdt_addr;
        h->x[12] = BOARD_ROM_BASE;
    }
}

/* Under -bios builtin a stopped hart first waits for its HSM hart_start. */
static void *hart_thread(void *arg)
{
    struct hart *h = arg;
    if (h->sbi_ctx && !sbi_hart_await_start(h->sbi_ctx, h))
        return NULL;
    debug_hart_enter(h);        /* the debugger waits only for harts in hart_run */
    hart_run(h, 0);
    debug_hart_leave(h);
    return NULL;
}

/* Name a hart thread "hart N" (top -H, gdb's "info threads") and, when
 * harts outnumber the host CPUs, make it SCHED_BATCH. A hart that wakes
 * (an IPI, its timer, the heartbeat of a hart it waited for) then no longer
 * preempts a running hart at once: that hart may hold the guest lock every
 * other hart spins on, or be halfway through a remote fence. The woken
 * hart runs at the next tick or when a running one sleeps or yields, which
 * is what the spin detection and WFI do. On 2 host CPUs this made a Linux
 * boot at -smp 4 take 1.45 s instead of 2.25, at -smp 8 1.77 instead of
 * 3.2 (README, "Where the time goes"). With a CPU per hart a woken hart has
 * a CPU of its own and normal scheduling serves it best. Neither call is
 * needed: if the host refuses one, the hart runs as it is. */
static void setup_hart_thread(struct board *b, unsigned i)
{
    char name[16];
    snprintf(name, sizeof name, "hart %u", i);
    (void)pthread_setname_np(b->threads[i], name);
    if (b->harts_outnumber_cpus) {
        struct sched_param param = { .sched_priority = 0 };
        (void)pthread_setschedparam(b->threads[i], SCHED_BATCH, &param);
    }
}

static void *pool_worker(void *arg)
{
    pool_run(arg);
    return NULL;
}

/* Start the pool's workers, named "hart pool N" (top -H), and wait until
 * all have stopped. */
static int run_pool(struct board *b)
{
    pool_prepare(&b->pool);
    unsigned started = 0;
    for (; started < b->nworkers; started++) {
        if (pthread_create(&b->threads[started], NULL, pool_worker, &b->pool) != 0)
            break;
        char name[32];          /* the host keeps 15 characters */
        snprintf(name, sizeof name, "hart pool %u", started);
        (void)pthread_setname_np(b->threads[started], name);
    }
    if (started == 0) {
        report(0, "cannot start a thread for the harts");
        board_stop(b, STOP_EXIT, EXIT_STATUS_BAD_FILE);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(b->threads[i], NULL);
    return 0;
}

/* Start one thread per hart and wait until all of them have stopped. */
static int run_harts(struct board *b)
{
    if (b->pooled)
        return run_pool(b);
    unsigned started = 0;
    for (; started < b->nharts; started++) {
        if (pthread_create(&b->threads[started], NULL, hart_thread, &b->harts[started]) != 0)
            break;
        setup_hart_thread(b, started);
    }
    if (started < b->nharts) {
        report(0, "cannot start a thread for hart %u", started);
        board_stop(b, STOP_EXIT, EXIT_STATUS_BAD_FILE);
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(b->threads[i], NULL);
    return 0;
}

/* A guest reset: devices to their reset state, images placed again, harts
 * back at the entry. Every hart thread has been joined. */
static int reset_machine(struct board *b)
{
    struct device *devs[] = {
        clint_device(b->clint), plic_device(b->plic), uart_device(b->uart),
        sifive_test_device(b->test),
    };
    for (unsigned i = 0; i < sizeof devs / sizeof devs[0]; i++)
        if (devs[i]->reset)
            devs[i]->reset(devs[i]);
    for (unsigned slot = 0; slot < BOARD_VIRTIO_COUNT; slot++) {
        struct device *d = b->slot_blk[slot] ? virtio_blk_device(b->slot_blk[slot])
                                             : virtio_mmio_device(b->slot_empty[slot]);
        if (d->reset)
            d->reset(d);
    }
    if (b->has_htif)
        htif_reset(&b->htif);
    int rc = place_images(b);
    if (rc)
        return rc;
    reset_harts(b);
    pthread_mutex_lock(&b->stop_lock);
    b->stop_reason = STOP_NONE;
    atomic_store(&b->halt, false);
    pthread_mutex_unlock(&b->stop_lock);
    return 0;
}

/* --stats and --stats-json, once the harts have stopped for good. */
static void report_stats(struct board *b)
{
    struct hart_counters hc[OPT_MAX_HARTS];
    for (unsigned i = 0; i < b->nharts; i++)
        hc[i] = hart_own_counters(&b->harts[i]);
    if (b->opts->stats)
        coherence_stats_text(stderr, b->co, hc);
    if (b->opts->stats && b->pooled)
        fprintf(stderr, "umbra pool: %u harts on %u workers; gathered on fewer in %" PRIu64
                        " of %" PRIu64 " tries, %.2f s in all; idle workers found a hart"
                        " while polling %" PRIu64 " times and slept %" PRIu64 " times\n",
                b->nharts, b->nworkers, b->pool.gathers_kept, b->pool.tries,
                (double)b->pool.gathered_ticks / TIMEBASE_HZ, b->pool.polls_found,
                b->pool.sleeps);
    if (b->stats_json) {
        coherence_stats_json(b->stats_json, b->co, hc);
        if (fclose(b->stats_json) != 0)
            report(0, "--stats-json %s: write failed", b->opts->stats_json);
        b->stats_json = NULL;
    }
}

/* --profile, once the harts have stopped for good. */
static void report_profile(struct board *b)
{
    if (!b->profile_file)
        return;
    const struct profile_symbols *symbols = b->opts->profile_symbols ? &b->profile_symbols : NULL;
    bool ok = profile_report_write(b->profile_file, b->profiles, b->nharts, symbols,
                                   profile_ticks_per_ns(b->profile_since));
    if (fclose(b->profile_file) != 0)
        ok = false;
    b->profile_file = NULL;
    if (!ok)
        report(0, "--profile %s: write failed", b->opts->profile);
}

/* --perf-map's file: where perf looks for this process's map. */
static void perf_map_path(char *path, size_t size)
{
    snprintf(path, size, "/tmp/perf-%ld.map", (long)getpid());
}

/* --perf-map, once no hart translates any more: perf reads it after the
 * run, so it stays. */
static void finish_perf_map(struct board *b)
{
    if (!b->perf_map)
        return;
    if (fclose(b->perf_map) != 0) {
        char path[64];
        perf_map_path(path, sizeof path);
        report(0, "--perf-map %s: write failed", path);
    }
    b->perf_map = NULL;
}

/* The debugger's `k`: end the run as a poweroff would. */
static void gdb_kill(void *ctx)
{
    board_stop(ctx, STOP_EXIT, 0);
}

/* -s / -gdb: listen before any hart runs, so -S holds them from the start. */
static int start_gdbstub(struct board *b)
{
    const struct umbra_options *o = b->opts;
    if (!o->gdb)
        return 0;
    const struct gdbstub_hooks hooks = { gdb_kill, b };
    b->gdb = gdbstub_start(o->gdb_host, o->gdb_port, b->harts, b->nharts, &b->halt,
                           o->gdb_wait, hooks);
    return b->gdb ? 0 : EXIT_STATUS_BAD_FILE;
}

int board_run(struct board *b)
{
    if (!console_catch_signals(console_quit, b))
        report(0, "cannot start the signal thread: a signal will end umbra at once");
    if (start_gdbstub(b))
        return EXIT_STATUS_BAD_FILE;
    char why[OPT_PATH_MAX + 64];
    if (b->opts->trace_mask && !tracelog_open(b->opts->trace_mask, b->opts->trace_file, why,
                                              sizeof why))
        return report(EXIT_STATUS_BAD_FILE, "--trace: %s", why);
    console_init();
    setup_monitor(b);
    if (!console_start_input(console_to_uart, console_quit, b))
        return report(EXIT_STATUS_BAD_FILE, "cannot start the console thread");
    timebase_reset();
    for (;;) {
        run_harts(b);
        if (pause_point(b))
            continue;
        if (b->stop_reason != STOP_RESET)
            break;
        int rc = reset_machine(b);
        if (rc)
            return rc;
    }
    gdbstub_finish(b->gdb, b->exit_code);
    b->gdb = NULL;
    report_stats(b);
    report_profile(b);
    finish_perf_map(b);
    return b->exit_code;
}

/* ---------------------------------------------------------- create/destroy */

/* --profile-symbols: read now, so a bad map is reported before the guest
 * runs. */
static int setup_symbols(struct board *b)
{
    char err[512];
    if (b->opts->profile_symbols &&
        !profile_symbols_load(&b->profile_symbols, b->opts->profile_symbols, err, sizeof err))
        return report(EXIT_STATUS_BAD_FILE, "--profile-symbols %s", err);
    return 0;
}

/* --profile: the file is opened now, so a bad path is reported before the
 * guest runs; every hart gets a table. */
static int setup_profile(struct board *b)
{
    const struct umbra_options *o = b->opts;
    if (!o->profile)
        return 0;
    b->profile_file = fopen(o->profile, "w");
    if (!b->profile_file)
        return report(EXIT_STATUS_BAD_FILE, "--profile %s: %s", o->profile, strerror(errno));
    b->profiles = calloc(b->nharts, sizeof *b->profiles);
    if (!b->profiles)
        return report(EXIT_STATUS_BAD_FILE, "out of memory");
    for (unsigned i = 0; i < b->nharts; i++) {
        if (!profile_init(&b->profiles[i]))
            return report(EXIT_STATUS_BAD_FILE, "out of memory");
        b->harts[i].profile = &b->profiles[i];
    }
    b->profile_since = profile_clocks_now();
    return 0;
}

/* --perf-map's names: the guest function a unit starts in, when the
 * symbol maps cover its pc. */
static bool name_for_perf(void *ctx, uint64_t pc, char *name, size_t size)
{
    const struct board *b = ctx;
    const struct profile_symbol *sym = profile_symbol_of(&b->profile_symbols, pc);
    if (!sym)
        return false;
    snprintf(name, size, "%s+0x%" PRIx64, sym->name, pc - sym->addr);
    return true;
}

/* --perf-map: the file perf looks in for code with no file behind it
 * (cpu/jit.h), one for every hart's translator. */
static int setup_perf_map(struct board *b)
{
    if (!b->opts->perf_map)
        return 0;
    char path[64];
    perf_map_path(path, sizeof path);
    b->perf_map = fopen(path, "w");
    if (!b->perf_map)
        return report(EXIT_STATUS_BAD_FILE, "--perf-map %s: %s", path, strerror(errno));
    const struct jit_perf_map map = { b->perf_map, name_for_perf, b };
    for (unsigned i = 0; i < b->nharts; i++)
        if (b->harts[i].jit)
            jit_set_perf_map(b->harts[i].jit, &map);
    return 0;
}

/* ------------------------------------------------------- -bios builtin */

static void sbi_console_write(void *ctx, const void *buf, size_t len)
{
    console_write(buf, len);
}

/* SBI console input: the bytes the console has put in the UART's receive
 * FIFO, taken as the guest's driver would (LSR.DR, then RBR). */
static int sbi_console_getc(void *ctx)
{
    struct board *b = ctx;
    uint64_t lsr = 0, rbr = 0;
    if (!mem_read(&b->mem, BOARD_UART_BASE + UART_LSR, 1, &lsr) || !(lsr & UART_LSR_DR))
        return -1;
    if (!mem_read(&b->mem, BOARD_UART_BASE + UART_RBR_THR_DLL, 1, &rbr))
        return -1;
    return (int)(rbr & 0xff);
}

static void sbi_system_reset(void *ctx, bool reboot, int exit_code)
{
    board_stop(ctx, reboot ? STOP_RESET : STOP_EXIT, exit_code);
}

static int setup_sbi(struct board *b)
{
    if (!b->opts->bios_builtin)
        return 0;
    b->sbi = calloc(1, sizeof *b->sbi);
    if (!b->sbi)
        return report(EXIT_STATUS_BAD_FILE, "out of memory");
    sbi_init(b->sbi, b->harts, b->nharts, &b->mem,
             (struct sbi_platform){ sbi_console_write, sbi_console_getc, sbi_system_reset, b });
    return 0;
}

static int setup_coherence(struct board *b)
{
    const struct umbra_options *o = b->opts;
    static const enum coherence_strategy strategy[] = {
        [OPT_COHERENCE_PATCH] = COHERENCE_PATCH,
        [OPT_COHERENCE_FLUSH] = COHERENCE_FLUSH,
        [OPT_COHERENCE_EAGER] = COHERENCE_EAGER,
    };
    const struct coherence_options copt = {
        .strategy = strategy[o->coherence],
        .shared_table = o->shadow == OPT_SHADOW_SHARED,
        .stale = o->stale == OPT_STALE_REWALK ? STALE_REWALK : STALE_INVALIDATE,
        .audit = o->audit,
        .drop_patch = o->test_drop_patch,
    };
    const struct coherence_hooks hooks = { coherence_kick, coherence_violation, b };
    if (o->stats_json) {
        /* Opened now, so a bad path is reported before the guest runs. */
        b->stats_json = fopen(o->stats_json, "w");
        if (!b->stats_json)
            return report(EXIT_STATUS_BAD_FILE, "--stats-json %s: %s", o->stats_json,
                          strerror(errno));
    }
    b->co = calloc(1, sizeof *b->co);
    if (!b->co || !coherence_init(b->co, &b->mem, b->nharts, &copt, hooks))
        return report(EXIT_STATUS_BAD_FILE, "cannot set up the shadow page tables");
    for (unsigned i = 0; i < b->nharts; i++)
        b->harts[i].coherence = coherence_hart_attach(b->co, i, &b->harts[i].tlb);
    return 0;
}

/* CPUs this process may run on (its affinity mask: taskset, cgroups). */
static unsigned host_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        return (unsigned)CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

int board_create(struct board *b, const struct umbra_options *o)
{
    memset(b, 0, sizeof *b);
    b->opts = o;
    b->nharts = o->nharts;
    unsigned cpus = host_cpus();
    b->harts_outnumber_cpus = b->nharts > cpus;
    b->pooled = o->hart_pool == OPT_HART_POOL_ON ||
                (o->hart_pool == OPT_HART_POOL_AUTO && b->harts_outnumber_cpus && !o->gdb);
    b->nworkers = b->nharts < cpus ? b->nharts : cpus;
    pthread_mutex_init(&b->stop_lock, NULL);
    pthread_cond_init(&b->pause_cond, NULL);
    for (unsigned k = 0; k < OPT_MAX_DRIVES; k++)
        b->drives[k].fd = -1;
    int err = mem_init(&b->mem, BOARD_RAM_BASE, o->ram_size);
    if (err)
        return report(EXIT_STATUS_BAD_FILE, "cannot allocate %llu MiB of guest RAM: %s",
                      (unsigned long long)(o->ram_size >> 20), strerror(-err));
    b->harts = calloc(b->nharts, sizeof *b->harts);
    if (!b->harts)
        return report(EXIT_STATUS_BAD_FILE, "out of memory");
    for (unsigned i = 0; i < b->nharts; i++) {
        hart_init(&b->harts[i], i, &b->mem, &b->halt);
        b->harts[i].peers = b->harts;
        if (o->engine == OPT_ENGINE_JIT)
            b->harts[i].jit = jit_create(JIT_CODE_BYTES);     /* NULL: this host interprets */
    }
    int rc = setup_coherence(b);
    if (!rc)
        rc = setup_symbols(b);
    if (!rc)
        rc = setup_profile(b);
    if (!rc)
        rc = setup_perf_map(b);
    if (!rc)
        rc = create_devices(b);
    if (!rc)
        rc = setup_sbi(b);
    if (!rc && b->pooled) {
        pool_init(&b->pool, b->harts, b->nharts, b->nworkers);
        if (b->sbi) {
            b->pool.may_run = sbi_hart_may_run;
            b->pool.may_run_ctx = b->sbi;
        }
    }
    if (!rc)
        rc = read_images(b);
    if (!rc)
        rc = place_images(b);
    if (!rc)
        rc = setup_htif(b);
    if (rc)
        return rc;
    reset_harts(b);
    return 0;
}

int board_dump_dtb(const struct board *b, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return report(EXIT_STATUS_BAD_FILE, "-dumpdtb %s: %s", path, strerror(errno));
    bool ok = fwrite(b->fdt, 1, b->fdt_size, f) == b->fdt_size;
    if (fclose(f) != 0)
        ok = false;
    if (!ok)
        return report(EXIT_STATUS_BAD_FILE, "-dumpdtb %s: write failed", path);
    return 0;
}

void board_destroy(struct board *b)
{
    if (b->stats_json)
        fclose(b->stats_json);
    b->stats_json = NULL;
    if (b->profile_file)
        fclose(b->profile_file);
    b->profile_file = NULL;
    if (b->perf_map)
        fclose(b->perf_map);
    b->perf_map = NULL;
    for (unsigned i = 0; b->profiles && i < b->nharts; i++) {
        b->harts[i].profile = NULL;
        profile_destroy(&b->profiles[i]);
    }
    free(b->profiles);
    b->profiles = NULL;
    profile_symbols_free(&b->profile_symbols);
    if (b->co) {
        coherence_destroy(b->co);
        free(b->co);
        b->co = NULL;
    }
    if (b->sbi) {
        sbi_destroy(b->sbi);
        free(b->sbi);
        b->sbi = NULL;
    }
    if (b->pooled && b->pool.harts)
        pool_destroy(&b->pool);
    if (b->harts) {
        for (unsigned i = 0; i < b->nharts; i++)
            hart_destroy(&b->harts[i]);
        free(b->harts);
        b->harts = NULL;
    }
    for (unsigned slot = 0; slot < BOARD_VIRTIO_COUNT; slot++) {
        if (b->slot_blk[slot])
            virtio_blk_destroy(b->slot_blk[slot]);
        if (b->slot_empty[slot])
            virtio_mmio_destroy(b->slot_empty[slot]);
        b->slot_blk[slot] = NULL;
        b->slot_empty[slot] = NULL;
    }
    for (unsigned k = 0; k < b->ndrives_open; k++)
        drive_close(&b->drives[k]);
    b->ndrives_open = 0;
    if (b->uart)
        uart_destroy(b->uart);
    if (b->test)
        sifive_test_destroy(b->test);
    if (b->plic)
        plic_destroy(b->plic);
    if (b->clint)
        clint_destroy(b->clint);
    b->uart = NULL;
    b->test = NULL;
    b->plic = NULL;
    b->clint = NULL;
    image_release(&b->bios_img);
    image_release(&b->kernel_img);
    image_release(&b->initrd_img);
    image_release(&b->dtb_img);
    mem_destroy(&b->mem);
}
