/* options: umbra's command line, in the conventions of
 * `qemu-system-riscv64 -machine virt -nographic`, plus umbra's own
 * double-dash options.
 *
 * Owns the parsed form of argv (struct umbra_options) and every usage rule
 * that can be checked without touching a file: flag spelling, numeric ranges,
 * -drive/-device pairing, flags that need -kernel. Files are opened later,
 * by the board (loader.c, drive.c), so a bad file is a different error
 * (exit status 1) from a bad flag (exit status 2).
 *
 * Caller: main() in src/umbra.c, once, on the main thread, before anything
 * else runs. No allocation: strings point into argv or into fixed buffers.
 */
#ifndef UMBRA_MACHINE_OPTIONS_H
#define UMBRA_MACHINE_OPTIONS_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define OPT_MAX_HARTS 8
#define OPT_MAX_DRIVES 8            /* one per virtio-mmio slot */
#define OPT_DEFAULT_RAM (128ull << 20)   /* QEMU virt's default -m */
#define OPT_MIN_RAM (2ull << 20)
#define OPT_MAX_RAM (64ull << 30)
#define OPT_DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define OPT_PATH_MAX 4096

/* Exit statuses shared by every part of the command-line front end. */
#define EXIT_STATUS_OK 0
#define EXIT_STATUS_BAD_FILE 1
#define EXIT_STATUS_USAGE 2
#define EXIT_STATUS_AUDIT 3         /* --audit found a coherence violation */

enum opt_coherence { OPT_COHERENCE_PATCH, OPT_COHERENCE_FLUSH, OPT_COHERENCE_EAGER };
enum opt_shadow { OPT_SHADOW_PER_HART, OPT_SHADOW_SHARED };
enum opt_stale { OPT_STALE_INVALIDATE, OPT_STALE_REWALK };
/* How harts run guest code: hot code translated to host code, or all of
 * it interpreted (cpu/jit.h). */
enum opt_engine { OPT_ENGINE_JIT, OPT_ENGINE_INTERP };
/* Which host threads run the harts: a pool of as many as the host has
 * CPUs when harts outnumber them and no debugger is attached, always, or
 * never (a thread per hart; cpu/pool.h). */
enum opt_hart_pool { OPT_HART_POOL_AUTO, OPT_HART_POOL_ON, OPT_HART_POOL_OFF };

enum drive_if { DRIVE_IF_NONE, DRIVE_IF_VIRTIO };
/* -drive cache=, as QEMU names the modes (machine/drive.h says what each does). */
enum drive_cache {
    DRIVE_CACHE_WRITEBACK,      /* the default */
    DRIVE_CACHE_NONE,
    DRIVE_CACHE_WRITETHROUGH,
    DRIVE_CACHE_DIRECTSYNC,
    DRIVE_CACHE_UNSAFE,
};

/* One -drive. QEMU escapes a comma inside a value as ",,"; `file` holds the
 * unescaped path. */
struct drive_opt {
    char file[OPT_PATH_MAX];
    char id[64];
    enum drive_if interface;
    enum drive_cache cache;
    bool readonly;
    bool attached;              /* a virtio-blk device uses it */
};

struct umbra_options {
    uint64_t ram_size;
    unsigned nharts;
    const char *bios;           /* file name; NULL with bios_none or bios_builtin */
    bool bios_none;
    bool bios_builtin;          /* -bios builtin: umbra's own SBI (machine/sbi.h) */
    const char *kernel, *initrd, *append, *dtb, *dumpdtb;
    char dumpdtb_path[OPT_PATH_MAX];    /* holds -machine virt,dumpdtb=FILE */

    struct drive_opt drive[OPT_MAX_DRIVES];
    unsigned ndrives;
    /* The virtio-blk devices in creation order (index into drive[]): every
     * if=virtio drive in command-line order, then every
     * -device virtio-blk-device in command-line order, as QEMU creates them.
     * The board gives the first one the highest virtio-mmio slot, as QEMU's
     * virt does. */
    unsigned disk[OPT_MAX_DRIVES];
    unsigned ndisks;

    bool no_reboot;

    /* -s, -gdb tcp:[HOST]:PORT and -S (machine/gdbstub.h). */
    bool gdb;
    char gdb_host[256];         /* "" = every interface */
    unsigned gdb_port;
    bool gdb_wait;              /* -S: no hart runs before the debugger says so */

    /* umbra's own options; see DESIGN.md section 5. */
    bool stats;
    const char *stats_json;
    const char *profile;        /* --profile FILE: guest profile (machine/profile_report.h) */
    const char *profile_symbols;    /* --profile-symbols MAP[,MAP...] */
    bool perf_map;              /* --perf-map: /tmp/perf-PID.map for perf (cpu/jit.h) */
    bool audit;
    enum opt_coherence coherence;
    enum opt_shadow shadow;
    enum opt_stale stale;
    enum opt_engine engine;
    enum opt_hart_pool hart_pool;
    uint64_t test_drop_patch;   /* --test-drop-patch: 0, or N: every Nth such patch is ignored */
    unsigned trace_mask;        /* --trace: TRACE_* bits (base/tracelog.h), 0 = off */
    const char *trace_file;     /* --trace file=PATH; NULL = the default file */
    char trace_buf[OPT_PATH_MAX + 64];  /* holds the parsed --trace value */
};

enum options_result {
    OPTIONS_RUN,                /* parsed; start the machine */
    OPTIONS_EXIT_OK,            /* --help or --version was printed */
    OPTIONS_USAGE_ERROR,        /* a message went to `err`; exit with EXIT_STATUS_USAGE */
};

/* Parse argv[1..argc-1] into *o (which it initialises to the defaults).
 * Help and version text go to `out`, error messages and warnings to `err`. */
enum options_result options_parse(int argc, char **argv, struct umbra_options *o,
                                  FILE *out, FILE *err);

/* "512M", "1G", "1024" (MiB when no suffix, as QEMU), "size=2G". Returns false
 * on a malformed size; the range is checked by options_parse. */
bool options_parse_size(const char *text, uint64_t *bytes);

void options_print_usage(FILE *out);
#endif
