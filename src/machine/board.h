/* board: the `virt` machine — RAM, devices, harts and their threads, boot.
 *
 * Owns the whole machine: guest RAM at 0x80000000, the devices at QEMU
 * virt's addresses (DESIGN.md section 6) and their interrupt wiring (device
 * -> PLIC source -> PLIC context -> hart MEIP/SEIP; CLINT -> MSIP/mtimecmp),
 * one host thread per hart running hart_run (or, when harts outnumber host
 * CPUs, a hart pool's workers, cpu/pool.h), the boot images, and the
 * decision to stop: guest poweroff or failure (sifive,test), an HTIF exit,
 * or Ctrl-A X.
 *
 * Boot, as QEMU 7.2's virt does it (hw/riscv/boot.c behaviour):
 *  - firmware (-bios) at 0x80000000 (an ELF at its own addresses);
 *  - -kernel: an ELF at its addresses; a flat image at the first 2 MiB
 *    boundary after the firmware's end (0x80200000 for OpenSBI), or at
 *    0x80000000 with -bios none;
 *  - -initrd at kernel entry + min(RAM / 2, 128 MiB);
 *  - the device tree at the highest 2 MiB boundary that leaves room for it
 *    below min(RAM end, 3 GiB);
 *  - a fw_dynamic_info block (OpenSBI's struct: magic "OSBI", version 2,
 *    next_addr = kernel entry, next_mode = S, boot hart 0) in a ROM at
 *    0x1000, where QEMU keeps its reset ROM.
 * Every hart starts in M-mode at the firmware's entry (the kernel's with
 * -bios none) with a0 = hartid, a1 = device tree, a2 = fw_dynamic_info:
 * the registers QEMU's reset vector sets up. umbra starts harts there
 * directly instead of running a reset vector, because harts fetch only from
 * RAM. Both fw_jump and fw_dynamic boot this way.
 *
 * -bios builtin (machine/sbi.h): no firmware image; a flat kernel goes at
 * 0x80200000, where it would follow OpenSBI, and the harts start in S-mode
 * as umbra's own SBI sets them up: hart 0 at the kernel entry with a0 = 0,
 * a1 = device tree, the others stopped until an HSM hart_start. Nothing in
 * RAM is reserved for firmware then, and the device tree says so by saying
 * nothing: umbra never adds a reserved-memory node.
 *
 * Reset (sifive,test 0x7777, e.g. Linux `reboot`): every hart stops, every
 * device is reset, the images are placed again and the harts restart from
 * the boot state; RAM is otherwise kept, as on QEMU. With -no-reboot umbra
 * exits with status 0 instead.
 *
 * Shadow tables: every hart translates through its side of the coherence
 * mechanism (src/coherence), set up here from --coherence, --shadow,
 * --stale and --audit. An audit violation stops the machine with exit status
 * EXIT_STATUS_AUDIT. --stats (on stderr) and --stats-json report it when the
 * machine stops for good.
 *
 * Threads: board_create / board_run / board_destroy on the main thread.
 * board_stop may be called from any thread (hart threads via devices, the
 * console thread).
 */
#ifndef UMBRA_MACHINE_BOARD_H
#define UMBRA_MACHINE_BOARD_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "coherence/coherence.h"
#include "cpu/hart.h"
#include "cpu/pool.h"
#include "dev/device.h"
#include "machine/drive.h"
#include "machine/fdt.h"
#include "machine/htif.h"
#include "machine/loader.h"
#include "machine/monitor.h"
#include "machine/options.h"
#include "cpu/profile.h"
#include "machine/profile_report.h"
#include "machine/sbi.h"
#include "mem/guest_mem.h"

/* The memory map (QEMU virt). */
#define BOARD_ROM_BASE 0x1000ull
#define BOARD_ROM_SIZE 0x1000ull
#define BOARD_TEST_BASE 0x100000ull
#define BOARD_CLINT_BASE 0x2000000ull
#define BOARD_PLIC_BASE 0xc000000ull
#define BOARD_UART_BASE 0x10000000ull
#define BOARD_UART_IRQ 10
#define BOARD_UART_CLOCK_HZ 3686400
#define BOARD_VIRTIO_BASE 0x10001000ull
#define BOARD_VIRTIO_STRIDE 0x1000ull
#define BOARD_VIRTIO_COUNT 8
#define BOARD_VIRTIO_IRQ0 1            /* slot n drives PLIC source 1 + n */
#define BOARD_RAM_BASE 0x80000000ull
#define BOARD_BUILTIN_KERNEL_OFFSET 0x200000ull  /* -bios builtin: kernel at RAM + 2 MiB */

/* What the device tree tells the guest about each hart. Zicntr and Zihpm
 * are left out: Linux 6.1 and OpenSBI 1.1 ignore them, and the multi-letter
 * list stays what the hart certainly implements. Zihintpause is in (PAUSE
 * is a FENCE hint, executed as that FENCE): Linux's cpu_relax() issues
 * PAUSE only when the device tree names it, and a division by zero
 * otherwise, which tells a hart pool nothing (cpu/exec.c, note_pause). */
#define BOARD_RISCV_ISA "rv64imafdc_zicsr_zifencei_zihintpause_sstc"
#define BOARD_MMU_TYPE "riscv,sv48"

/* OpenSBI's struct fw_dynamic_info (include/sbi/fw_dynamic.h): six
 * little-endian XLEN words. */
#define FW_DYNAMIC_INFO_MAGIC 0x4942534full     /* "OSBI" */
#define FW_DYNAMIC_INFO_VERSION 2
#define FW_DYNAMIC_INFO_NEXT_MODE_S 1

enum board_stop_reason {
    STOP_NONE = 0,
    STOP_EXIT,                  /* poweroff, guest failure, HTIF exit, Ctrl-A X */
    STOP_RESET,                 /* guest asked for a reset */
    STOP_PAUSE,                 /* board_pause: harts stopped until board_resume */
};

struct gdbstub;

struct board_rom {
    struct device dev;
    uint8_t bytes[BOARD_ROM_SIZE];
};

struct board_boot {
    uint64_t start_pc;          /* where every hart starts */
    uint64_t kernel_entry;      /* fw_dynamic_info.next_addr; 0 without -kernel */
    uint64_t fdt_addr;
    uint64_t initrd_start, initrd_end;
    bool has_initrd;
    struct loaded firmware, kernel;
    bool has_firmware, has_kernel;
};

struct board {
    const struct umbra_options *opts;
    struct guest_mem mem;
    unsigned nharts;
    struct hart *harts;
    bool harts_outnumber_cpus;  /* more harts than host CPUs this process may use */
    struct coherence *co;       /* the shadow-table coherence mechanism */
    struct sbi *sbi;            /* -bios builtin; NULL otherwise */
    FILE *stats_json;           /* --stats-json, opened before the guest runs */
    FILE *profile_file;         /* --profile, opened before the guest runs */
    struct profile *profiles;   /* --profile: one table per hart; else NULL */
    struct profile_clocks profile_since;        /* when they started */
    struct profile_symbols profile_symbols;     /* --profile-symbols */
    FILE *perf_map;             /* --perf-map: /tmp/perf-PID.map */
    pthread_t threads[OPT_MAX_HARTS];   /* one per hart, or the pool's workers */
    struct hart_pool pool;      /* used when harts outnumber CPUs (cpu/pool.h) */
    bool pooled;
    unsigned nworkers;
    _Atomic bool halt;

    struct clint *clint;
    struct plic *plic;
    struct uart *uart;
    struct sifive_test *test;
    struct virtio_mmio *slot_empty[BOARD_VIRTIO_COUNT];  /* empty transports */
    struct virtio_blk *slot_blk[BOARD_VIRTIO_COUNT];     /* disks */
    struct drive drives[OPT_MAX_DRIVES];
    unsigned ndrives_open;
    struct board_rom rom;
    struct htif htif;
    bool has_htif;

    struct image bios_img, kernel_img, initrd_img, dtb_img;
    uint8_t fdt[FDT_BUF_SIZE];
    size_t fdt_size;
    struct board_boot boot;
    struct gdbstub *gdb;        /* -s / -gdb: the debugger's stub, or NULL */

    pthread_mutex_t stop_lock;
    enum board_stop_reason stop_reason;
    int exit_code;
    /* board_pause: under stop_lock; pause_cond signals every change */
    pthread_cond_t pause_cond;
    bool pause_requested;       /* a pauser waits for the harts or holds them */
    bool paused;                /* every hart (or pool) thread has ended; the main thread waits */
    struct monitor monitor;     /* Ctrl-A C */
};

/* Build the machine and place the boot images. Returns 0, or the exit status
 * to leave with (EXIT_STATUS_BAD_FILE, or EXIT_STATUS_USAGE) after printing
 * the reason on stderr. On failure board_destroy must still be called. */
int board_create(struct board *b, const struct umbra_options *o);

/* Write the device tree as placed in RAM to `path`. 0 or EXIT_STATUS_BAD_FILE. */
int board_dump_dtb(const struct board *b, const char *path);

/* Start the console input and the harts; return the exit status when the
 * machine stops for good (guest resets are handled inside). */
int board_run(struct board *b);

/* Stop every hart: exit with `code`, or reset. The first request wins
 * (a pause is not a stop: a stop request ends it). */
void board_stop(struct board *b, enum board_stop_reason why, int code);

/* Stop every hart at an instruction boundary and wait until all of them
 * have (their threads end; the main thread waits in board_run), so another
 * thread may read their state; then board_resume starts them again where
 * they stopped. A hart in WFI leaves it, as WFI allows. false, with nothing
 * paused, when the machine is stopping for good. Any thread but a hart's;
 * one pauser at a time. */
bool board_pause(struct board *b);
void board_resume(struct board *b);

void board_destroy(struct board *b);

/* Where QEMU 7.2's virt puts things, exposed for tests. */
uint64_t board_kernel_flat_addr(uint64_t firmware_end, bool has_firmware, uint64_t ram_base);
uint64_t board_initrd_addr(uint64_t kernel_entry, uint64_t ram_size);
uint64_t board_fdt_addr(uint64_t ram_base, uint64_t ram_size, uint64_t fdt_size);
#endif
