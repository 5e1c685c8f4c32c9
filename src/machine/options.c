/* options: the command line (see options.h). */
#include "machine/options.h"
#include "base/tracelog.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- sizes */

static bool parse_u64(const char *text, uint64_t *value, const char **end)
{
    if (!isdigit((unsigned char)text[0]))
        return false;
    errno = 0;
    char *e;
    unsigned long long v = strtoull(text, &e, 10);
    if (errno == ERANGE)
        return false;
    *value = v;
    *end = e;
    return true;
}

/* QEMU reads a -m number without a suffix as MiB; the suffixes are binary
 * multiples and case-insensitive. */
bool options_parse_size(const char *text, uint64_t *bytes)
{
    if (strncmp(text, "size=", 5) == 0)
        text += 5;
    uint64_t v;
    const char *end;
    if (!parse_u64(text, &v, &end))
        return false;
    unsigned shift;
    switch (toupper((unsigned char)*end)) {
    case '\0': shift = 20; break;
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: return false;
    }
    if (toupper((unsigned char)*end) == 'B' && shift != 0)
        end++;
    if (*end != '\0')
        return false;
    if (v > (UINT64_MAX >> shift))
        return false;
    *bytes = v << shift;
    return true;
}

/* --------------------------------------------------- key=value lists */

/* Split the next comma-separated item off *cursor into buf, turning QEMU's
 * ",," escape back into one comma. Returns false at the end of the list or
 * when the item does not fit. */
static bool next_item(const char **cursor, char *buf, size_t bufsize, bool *too_long)
{
    const char *s = *cursor;
    *too_long = false;
    if (*s == '\0')
        return false;
    size_t n = 0;
    for (;;) {
        if (*s == ',' && s[1] == ',') {
            s += 2;
            if (n + 1 < bufsize)
                buf[n] = ',';
            n++;
            continue;
        }
        if (*s == ',' || *s == '\0')
            break;
        if (n + 1 < bufsize)
            buf[n] = *s;
        n++;
        s++;
    }
    if (n >= bufsize) {
        *too_long = true;
        n = bufsize - 1;
    }
    buf[n] = '\0';
    *cursor = (*s == ',') ? s + 1 : s;
    return true;
}

/* Split "key=value" in place; a bare word has value NULL. */
static const char *split_key(char *item)
{
    char *eq = strchr(item, '=');
    if (!eq)
        return NULL;
    *eq = '\0';
    return eq + 1;
}

static bool parse_onoff(const char *v, bool *out)
{
    if (!v || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) {
        *out = false;
        return true;
    }
    return false;
}

/* ----------------------------------------------------------- handlers */

struct parse_state {
    struct umbra_options *o;
    FILE *out, *err;
    /* -device virtio-blk-device,drive=ID, resolved once every -drive is known */
    char device_drive[OPT_MAX_DRIVES][64];
    unsigned ndevices;
    bool saw_exit_flag;         /* --help / --version */
};

typedef bool (*opt_handler)(struct parse_state *ps, const char *value);

static bool __attribute__((format(printf, 2, 3)))
usage_error(struct parse_state *ps, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(ps->err, "umbra: ");
    vfprintf(ps->err, fmt, ap);
    fprintf(ps->err, "\n");
    va_end(ap);
    return false;
}

static bool opt_machine(struct parse_state *ps, const char *value)
{
    char item[OPT_PATH_MAX];
    bool too_long;
    const char *cursor = value;
    bool first = true;
    while (next_item(&cursor, item, sizeof item, &too_long)) {
        if (too_long)
            return usage_error(ps, "-machine: a value is too long");
        char *key = item;
        const char *v = split_key(item);
        if (first && !v) {
            if (strcmp(key, "virt") != 0)
                return usage_error(ps, "machine '%s' is not supported (only 'virt')", key);
        } else if (first && !strcmp(key, "type")) {
            if (strcmp(v, "virt") != 0)
                return usage_error(ps, "machine '%s' is not supported (only 'virt')", v);
        } else if (!strcmp(key, "dumpdtb") && v && *v) {
            /* -machine virt,dumpdtb=FILE is QEMU's spelling of -dumpdtb */
            snprintf(ps->o->dumpdtb_path, sizeof ps->o->dumpdtb_path, "%s", v);
            ps->o->dumpdtb = ps->o->dumpdtb_path;
        } else {
            fprintf(ps->err, "umbra: warning: -machine property '%s' ignored\n", key);
        }
        first = false;
    }
    if (first)
        return usage_error(ps, "-machine needs a machine type (virt)");
    return true;
}

static bool opt_cpu(struct parse_state *ps, const char *value)
{
    const char *comma = strchr(value, ',');
    size_t len = comma ? (size_t)(comma - value) : strlen(value);
    if (len != 4 || strncmp(value, "rv64", 4) != 0)
        return usage_error(ps, "CPU model '%s' is not supported (only rv64)", value);
    if (comma)
        fprintf(ps->err, "umbra: warning: -cpu properties '%s' ignored; the hart is RV64GC\n",
                comma + 1);
    return true;
}

static bool set_nharts(struct parse_state *ps, const char *text)
{
    uint64_t n;
    const char *end;
    if (!parse_u64(text, &n, &end) || *end != '\0')
        return usage_error(ps, "-smp: '%s' is not a number", text);
    if (n < 1 || n > OPT_MAX_HARTS) {
        fprintf(ps->err, "umbra: -smp: %s harts requested; umbra supports 1 to %d\n",
                text, OPT_MAX_HARTS);
        return false;
    }
    ps->o->nharts = (unsigned)n;
    return true;
}

static bool opt_smp(struct parse_state *ps, const char *value)
{
    char item[64];
    bool too_long;
    const char *cursor = value;
    bool any = false;
    while (next_item(&cursor, item, sizeof item, &too_long)) {
        char *key = item;
        const char *v = split_key(item);
        if (too_long)
            return usage_error(ps, "-smp: '%s' is malformed", value);
        if (!v && !any) {
            if (!set_nharts(ps, key))
                return false;
        } else if (v && !strcmp(key, "cpus")) {
            if (!set_nharts(ps, v))
                return false;
        } else {
            return usage_error(ps, "-smp: '%s' is not supported (use -smp N or -smp cpus=N)", key);
        }
        any = true;
    }
    if (!any)
        return usage_error(ps, "-smp needs a number of harts");
    return true;
}

static bool opt_memory(struct parse_state *ps, const char *value)
{
    uint64_t size;
    if (!options_parse_size(value, &size))
        return usage_error(ps, "-m: cannot parse size '%s' (examples: 512M, 1G, 1024)", value);
    if (size < OPT_MIN_RAM || size > OPT_MAX_RAM || size % 4096 != 0)
        return usage_error(ps, "-m %s: RAM must be a multiple of 4 KiB between 2 MiB and 64 GiB",
                           value);
    ps->o->ram_size = size;
    return true;
}

static bool opt_bios(struct parse_state *ps, const char *value)
{
    ps->o->bios_none = ps->o->bios_builtin = false;
    if (!strcmp(value, "none")) {
        ps->o->bios = NULL;
        ps->o->bios_none = true;
    } else if (!strcmp(value, "builtin")) {
        ps->o->bios = NULL;
        ps->o->bios_builtin = true;
    } else if (!strcmp(value, "default")) {
        ps->o->bios = OPT_DEFAULT_BIOS;
    } else if (!*value) {
        return usage_error(ps, "-bios needs a file name, 'none' or 'builtin'");
    } else {
        ps->o->bios = value;
    }
    return true;
}

#define STRING_OPTION(fn, field, flag) \
    static bool fn(struct parse_state *ps, const char *value) \
    { \
        if (!*value) \
            return usage_error(ps, "%s needs a file name", flag); \
        ps->o->field = value; \
        return true; \
    }
STRING_OPTION(opt_kernel, kernel, "-kernel")
STRING_OPTION(opt_initrd, initrd, "-initrd")
STRING_OPTION(opt_dtb, dtb, "-dtb")
STRING_OPTION(opt_dumpdtb, dumpdtb, "-dumpdtb")
STRING_OPTION(opt_stats_json, stats_json, "--stats-json")
STRING_OPTION(opt_profile, profile, "--profile")
STRING_OPTION(opt_profile_symbols, profile_symbols, "--profile-symbols")

static bool opt_append(struct parse_state *ps, const char *value)
{
    ps->o->append = value;
    return true;
}

static bool parse_cache(const char *v, enum drive_cache *out)
{
    static const char *const names[] = {
        [DRIVE_CACHE_WRITEBACK] = "writeback", [DRIVE_CACHE_NONE] = "none",
        [DRIVE_CACHE_WRITETHROUGH] = "writethrough", [DRIVE_CACHE_DIRECTSYNC] = "directsync",
        [DRIVE_CACHE_UNSAFE] = "unsafe",
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(v, names[i])) {
            *out = (enum drive_cache)i;
            return true;
        }
    return false;
}

static bool drive_key(struct parse_state *ps, struct drive_opt *d, char *key, const char *v,
                      bool *have_file)
{
    if (!v)
        return usage_error(ps, "-drive: '%s' needs a value (key=value)", key);
    if (!strcmp(key, "file")) {
        if (!*v)
            return usage_error(ps, "-drive: empty file name");
        snprintf(d->file, sizeof d->file, "%s", v);
        *have_file = true;
    } else if (!strcmp(key, "format")) {
        if (strcmp(v, "raw") != 0)
            return usage_error(ps, "-drive: format '%s' is not supported (only raw)", v);
    } else if (!strcmp(key, "if")) {
        if (!strcmp(v, "none"))
            d->interface = DRIVE_IF_NONE;
        else if (!strcmp(v, "virtio"))
            d->interface = DRIVE_IF_VIRTIO;
        else
            return usage_error(ps, "-drive: if=%s is not supported (none or virtio)", v);
    } else if (!strcmp(key, "id")) {
        if (!*v || strlen(v) >= sizeof d->id)
            return usage_error(ps, "-drive: id '%s' is empty or too long", v);
        snprintf(d->id, sizeof d->id, "%s", v);
    } else if (!strcmp(key, "readonly")) {
        if (!parse_onoff(v, &d->readonly))
            return usage_error(ps, "-drive: readonly=%s (use on or off)", v);
    } else if (!strcmp(key, "media")) {
        if (strcmp(v, "disk") != 0)
            return usage_error(ps, "-drive: media=%s is not supported", v);
    } else if (!strcmp(key, "cache")) {
        if (!parse_cache(v, &d->cache))
            return usage_error(ps, "-drive: cache=%s (use writeback, none, writethrough, "
                               "directsync or unsafe)", v);
    } else if (!strcmp(key, "aio") || !strcmp(key, "discard")) {
        fprintf(ps->err, "umbra: warning: -drive %s=%s ignored\n", key, v);
    } else {
        return usage_error(ps, "-drive: unknown property '%s'", key);
    }
    return true;
}

static bool opt_drive(struct parse_state *ps, const char *value)
{
    struct umbra_options *o = ps->o;
    if (o->ndrives == OPT_MAX_DRIVES) {
        fprintf(ps->err, "umbra: too many -drive options (at most %d)\n", OPT_MAX_DRIVES);
        return false;
    }
    struct drive_opt *d = &o->drive[o->ndrives];
    memset(d, 0, sizeof *d);
    /* Without if=, umbra attaches the drive to a virtio-blk device: on this
     * board there is no other bus to put it on. */
    d->interface = DRIVE_IF_VIRTIO;
    char item[OPT_PATH_MAX + 8];
    bool too_long, have_file = false;
    const char *cursor = value;
    while (next_item(&cursor, item, sizeof item, &too_long)) {
        if (too_long)
            return usage_error(ps, "-drive: a value is too long");
        const char *v = split_key(item);
        if (!drive_key(ps, d, item, v, &have_file))
            return false;
    }
    if (!have_file)
        return usage_error(ps, "-drive needs file=IMAGE");
    for (unsigned i = 0; i < o->ndrives; i++)
        if (d->id[0] && !strcmp(o->drive[i].id, d->id))
            return usage_error(ps, "-drive: duplicate id '%s'", d->id);
    o->ndrives++;
    return true;
}

static bool opt_device(struct parse_state *ps, const char *value)
{
    char item[128];
    bool too_long;
    const char *cursor = value;
    if (!next_item(&cursor, item, sizeof item, &too_long) || too_long ||
        (strcmp(item, "virtio-blk-device") != 0 && strcmp(item, "driver=virtio-blk-device") != 0))
        return usage_error(ps, "-device '%s' is not supported (only virtio-blk-device,drive=ID)",
                           value);
    if (ps->ndevices == OPT_MAX_DRIVES) {
        fprintf(ps->err, "umbra: too many virtio devices (at most %d)\n", OPT_MAX_DRIVES);
        return false;
    }
    char *drive = ps->device_drive[ps->ndevices];
    drive[0] = '\0';
    while (next_item(&cursor, item, sizeof item, &too_long)) {
        const char *v = split_key(item);
        if (too_long || !v)
            return usage_error(ps, "-device: malformed property in '%s'", value);
        if (!strcmp(item, "drive")) {
            if (!*v || strlen(v) >= sizeof ps->device_drive[0])
                return usage_error(ps, "-device: drive id '%s' is empty or too long", v);
            snprintf(drive, sizeof ps->device_drive[0], "%s", v);
        } else if (!strcmp(item, "id")) {
            /* the device's own name: nothing refers to it on this board */
        } else {
            return usage_error(ps, "-device virtio-blk-device: unknown property '%s'", item);
        }
    }
    if (!drive[0])
        return usage_error(ps, "-device virtio-blk-device needs drive=ID");
    ps->ndevices++;
    return true;
}

static bool opt_serial(struct parse_state *ps, const char *value)
{
    if (strcmp(value, "mon:stdio") != 0 && strcmp(value, "stdio") != 0)
        return usage_error(ps, "-serial %s: only mon:stdio (the default) is supported", value);
    return true;
}

static bool opt_display(struct parse_state *ps, const char *value)
{
    if (strcmp(value, "none") != 0)
        return usage_error(ps, "-display %s: umbra has no display (only -display none)", value);
    return true;
}

static bool opt_monitor(struct parse_state *ps, const char *value)
{
    if (strcmp(value, "none") != 0)
        return usage_error(ps, "-monitor %s: umbra has no monitor (only -monitor none)", value);
    return true;
}

static bool opt_ignored(struct parse_state *ps, const char *value)
{
    return true;
}

static bool opt_no_reboot(struct parse_state *ps, const char *value)
{
    ps->o->no_reboot = true;
    return true;
}

/* -gdb tcp::PORT or tcp:HOST:PORT, QEMU's spelling of the stub's socket. */
static bool opt_gdb(struct parse_state *ps, const char *value)
{
    const char *colon = strncmp(value, "tcp:", 4) == 0 ? strrchr(value + 4, ':') : NULL;
    uint64_t port;
    const char *end;
    if (!colon || !parse_u64(colon + 1, &port, &end) || *end || port == 0 || port > 65535)
        return usage_error(ps, "-gdb %s: expected tcp::PORT or tcp:HOST:PORT", value);
    size_t host_len = (size_t)(colon - (value + 4));
    if (host_len >= sizeof ps->o->gdb_host)
        return usage_error(ps, "-gdb %s: host name too long", value);
    memcpy(ps->o->gdb_host, value + 4, host_len);
    ps->o->gdb_host[host_len] = '\0';
    ps->o->gdb_port = (unsigned)port;
    ps->o->gdb = true;
    return true;
}

/* -s: shorthand for -gdb tcp::1234. */
static bool opt_gdb_default(struct parse_state *ps, const char *value)
{
    return opt_gdb(ps, "tcp::1234");
}

static bool opt_gdb_wait(struct parse_state *ps, const char *value)
{
    ps->o->gdb_wait = true;
    return true;
}

static bool opt_help(struct parse_state *ps, const char *value)
{
    options_print_usage(ps->out);
    ps->saw_exit_flag = true;
    return true;
}

static bool opt_version(struct parse_state *ps, const char *value)
{
    fprintf(ps->out, "umbra %s (RISC-V RV64GC virtual machine, QEMU virt compatible)\n",
            UMBRA_VERSION);
    ps->saw_exit_flag = true;
    return true;
}

static bool opt_stats(struct parse_state *ps, const char *value)
{
    ps->o->stats = true;
    return true;
}

static bool opt_perf_map(struct parse_state *ps, const char *value)
{
    ps->o->perf_map = true;
    return true;
}

static bool opt_audit(struct parse_state *ps, const char *value)
{
    ps->o->audit = true;
    return true;
}

static bool pick(struct parse_state *ps, const char *flag, const char *value,
                 const char *const names[], unsigned n, unsigned *out)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(value, names[i])) {
            *out = i;
            return true;
        }
    fprintf(ps->err, "umbra: %s=%s: expected one of", flag, value);
    for (unsigned i = 0; i < n; i++)
        fprintf(ps->err, "%s%s", i ? "|" : " ", names[i]);
    fprintf(ps->err, "\n");
    return false;
}

static bool opt_coherence(struct parse_state *ps, const char *value)
{
    static const char *const names[] = { "patch", "flush", "eager" };
    unsigned i;
    if (!pick(ps, "--coherence", value, names, 3, &i))
        return false;
    ps->o->coherence = (enum opt_coherence)i;
    return true;
}

static bool opt_shadow(struct parse_state *ps, const char *value)
{
    static const char *const names[] = { "per-hart", "shared" };
    unsigned i;
    if (!pick(ps, "--shadow", value, names, 2, &i))
        return false;
    ps->o->shadow = (enum opt_shadow)i;
    return true;
}

static bool opt_engine(struct parse_state *ps, const char *value)
{
    static const char *const names[] = { "jit", "interp" };
    unsigned i;
    if (!pick(ps, "--engine", value, names, 2, &i))
        return false;
    ps->o->engine = (enum opt_engine)i;
    return true;
}

static bool opt_hart_pool(struct parse_state *ps, const char *value)
{
    static const char *const names[] = { "auto", "on", "off" };
    unsigned i;
    if (!pick(ps, "--hart-pool", value, names, 3, &i))
        return false;
    ps->o->hart_pool = (enum opt_hart_pool)i;
    return true;
}

static bool opt_stale(struct parse_state *ps, const char *value)
{
    static const char *const names[] = { "invalidate", "rewalk" };
    unsigned i;
    if (!pick(ps, "--stale", value, names, 2, &i))
        return false;
    ps->o->stale = (enum opt_stale)i;
    return true;
}

/* A test hook for --audit: the consumer ignores the Nth patch it takes, so
 * a test can show the audit stopping a broken consumer. */
static bool opt_test_drop_patch(struct parse_state *ps, const char *value)
{
    uint64_t n;
    const char *end;
    if (!parse_u64(value, &n, &end) || *end != '\0' || n == 0)
        return usage_error(ps, "--test-drop-patch=%s: expected a positive number", value);
    ps->o->test_drop_patch = n;
    return true;
}

/* --trace=EVENTS[,file=PATH]: the words are tracelog's (base/tracelog.h). */
static bool opt_trace(struct parse_state *ps, const char *value)
{
    char why[160];
    if (!tracelog_parse(value, &ps->o->trace_mask, ps->o->trace_buf, sizeof ps->o->trace_buf,
                        &ps->o->trace_file, why, sizeof why))
        return usage_error(ps, "--trace=%s: %s", value, why);
    return true;
}

/* ------------------------------------------------------------- table */

struct option_spec {
    const char *name;           /* without leading dashes */
    bool takes_value;
    bool umbra_own;             /* umbra's options also accept --name=value */
    opt_handler handler;
};

static const struct option_spec option_table[] = {
    { "machine", true, false, opt_machine },
    { "M", true, false, opt_machine },
    { "cpu", true, false, opt_cpu },
    { "smp", true, false, opt_smp },
    { "m", true, false, opt_memory },
    { "bios", true, false, opt_bios },
    { "kernel", true, false, opt_kernel },
    { "initrd", true, false, opt_initrd },
    { "append", true, false, opt_append },
    { "dtb", true, false, opt_dtb },
    { "dumpdtb", true, false, opt_dumpdtb },
    { "drive", true, false, opt_drive },
    { "device", true, false, opt_device },
    { "serial", true, false, opt_serial },
    { "display", true, false, opt_display },
    { "monitor", true, false, opt_monitor },
    { "nographic", false, false, opt_ignored },
    { "no-reboot", false, false, opt_no_reboot },
    { "s", false, false, opt_gdb_default },
    { "S", false, false, opt_gdb_wait },
    { "gdb", true, false, opt_gdb },
    { "h", false, false, opt_help },
    { "help", false, false, opt_help },
    { "version", false, false, opt_version },
    { "stats", false, true, opt_stats },
    { "stats-json", true, true, opt_stats_json },
    { "profile", true, true, opt_profile },
    { "profile-symbols", true, true, opt_profile_symbols },
    { "perf-map", false, true, opt_perf_map },
    { "audit", false, true, opt_audit },
    { "coherence", true, true, opt_coherence },
    { "shadow", true, true, opt_shadow },
    { "stale", true, true, opt_stale },
    { "engine", true, true, opt_engine },
    { "hart-pool", true, true, opt_hart_pool },
    { "test-drop-patch", true, true, opt_test_drop_patch },
    { "trace", true, true, opt_trace },
};

static const struct option_spec *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof option_table / sizeof option_table[0]; i++)
        if (strlen(option_table[i].name) == len && !strncmp(option_table[i].name, name, len))
            return &option_table[i];
    return NULL;
}

void options_print_usage(FILE *out)
{
    fputs("usage: umbra [options]    (the flags of qemu-system-riscv64 -machine virt -nographic)\n"
          "\n"
          "  -machine virt, -M virt   the board (QEMU virt layout; the only one)\n"
          "  -cpu rv64                the hart model (RV64GC; extra properties are ignored)\n"
          "  -smp N | -smp cpus=N     number of harts, 1 to 8 (default 1)\n"
          "  -m SIZE                  RAM at 0x80000000: 512M, 1G, 1024 (MiB) (default 128M)\n"
          "  -bios FILE|none          firmware at 0x80000000 (default: Debian's OpenSBI\n"
          "                           " OPT_DEFAULT_BIOS ")\n"
          "  -bios builtin            no firmware: umbra serves SBI v2.0 calls itself; the\n"
          "                           harts start in S-mode, the kernel at 0x80200000\n"
          "  -kernel FILE             ELF or flat image (flat: 0x80200000 after firmware,\n"
          "                           0x80000000 with -bios none)\n"
          "  -initrd FILE             initial RAM disk (needs -kernel)\n"
          "  -append CMDLINE          kernel command line, in /chosen/bootargs\n"
          "  -dtb FILE                use this device tree blob instead of generating one\n"
          "  -dumpdtb FILE            write the generated device tree and exit\n"
          "  -drive file=IMG,format=raw[,if=none|virtio][,id=ID][,readonly=on]\n"
          "         [,cache=writeback|none|writethrough|directsync|unsafe]\n"
          "  -device virtio-blk-device,drive=ID\n"
          "  -nographic, -serial mon:stdio   accepted (the console is always stdio)\n"
          "  -no-reboot               exit when the guest resets instead of rebooting\n"
          "  -gdb tcp:[HOST]:PORT     serve the GDB remote protocol there (target remote)\n"
          "  -s                       the same as -gdb tcp::1234\n"
          "  -S                       keep the harts stopped until the debugger continues\n"
          "  -h, --help, --version\n"
          "\n"
          "umbra's own options:\n"
          "  --stats                  print per-hart coherence statistics on stderr at exit\n"
          "  --stats-json FILE        write them as JSON\n"
          "  --profile FILE           write where guest code spends host time at exit:\n"
          "                           host time per guest pc, or per function with\n"
          "  --profile-symbols MAP[,MAP...]  symbol maps (System.map, /proc/kallsyms, nm)\n"
          "  --perf-map               name translated code for perf in /tmp/perf-PID.map\n"
          "                           (by guest function with --profile-symbols)\n"
          "  --audit                  check shadow-table coherence at every coherency event\n"
          "  --coherence=patch|flush|eager   shadow-table coherence strategy (default patch)\n"
          "  --shadow=per-hart|shared shadow tables per hart or one for all (default per-hart)\n"
          "  --test-drop-patch=N      (testing --audit) the consumers ignore every Nth patch\n"
          "  --stale=invalidate|rewalk  what a stale patch does (default invalidate)\n"
          "  --engine=jit|interp      translate hot code to host code, or interpret all of\n"
          "                           it (default jit; interp where the host is not x86-64)\n"
          "  --hart-pool=auto|on|off  run the harts on one host thread per host CPU,\n"
          "                           switching at block boundaries (default auto: when\n"
          "                           harts outnumber host CPUs and no debugger is attached)\n"
          "  --trace=EVENTS[,file=PATH]  log traps, coherence, patches (or all) one line\n"
          "                           each to PATH (default " TRACELOG_DEFAULT_FILE "; - = stderr)\n"
          "\n"
          "Console: Ctrl-A X quits, Ctrl-A C switches to the monitor and back, Ctrl-A H\n"
          "lists the keys. Exit status: the guest's (poweroff 0), 1 for an unusable file,\n"
          "2 for a bad command line, 3 for an --audit violation. Manual: man umbra.\n", out);
}

static void set_defaults(struct umbra_options *o)
{
    memset(o, 0, sizeof *o);
    o->ram_size = OPT_DEFAULT_RAM;
    o->nharts = 1;
    o->bios = OPT_DEFAULT_BIOS;
    o->coherence = OPT_COHERENCE_PATCH;
    o->shadow = OPT_SHADOW_PER_HART;
    o->stale = OPT_STALE_INVALIDATE;
    o->engine = OPT_ENGINE_JIT;
}

/* Pair each -device with its -drive and list the disks in QEMU's creation
 * order: if=virtio drives first (QEMU creates them while reading -drive),
 * then -device in order. */
static bool resolve_disks(struct parse_state *ps)
{
    struct umbra_options *o = ps->o;
    o->ndisks = 0;
    for (unsigned i = 0; i < o->ndrives; i++)
        if (o->drive[i].interface == DRIVE_IF_VIRTIO) {
            o->drive[i].attached = true;
            o->disk[o->ndisks++] = i;
        }
    for (unsigned d = 0; d < ps->ndevices; d++) {
        unsigned i;
        for (i = 0; i < o->ndrives; i++)
            if (!strcmp(o->drive[i].id, ps->device_drive[d]))
                break;
        if (i == o->ndrives)
            return usage_error(ps, "-device virtio-blk-device: no -drive with id=%s",
                               ps->device_drive[d]);
        if (o->drive[i].interface != DRIVE_IF_NONE)
            return usage_error(ps, "-drive id=%s has if=virtio already; use if=none with -device",
                               ps->device_drive[d]);
        if (o->drive[i].attached)
            return usage_error(ps, "-drive id=%s is used by two devices", ps->device_drive[d]);
        if (o->ndisks == OPT_MAX_DRIVES) {
            fprintf(ps->err, "umbra: more than %d virtio disks\n", OPT_MAX_DRIVES);
            return false;
        }
        o->drive[i].attached = true;
        o->disk[o->ndisks++] = i;
    }
    for (unsigned i = 0; i < o->ndrives; i++)
        if (!o->drive[i].attached)
            fprintf(ps->err, "umbra: warning: -drive %s is not attached to any device\n",
                    o->drive[i].file);
    return true;
}

static bool check_combinations(struct parse_state *ps)
{
    const struct umbra_options *o = ps->o;
    if (o->initrd && !o->kernel)
        return usage_error(ps, "-initrd needs -kernel");
    if (o->append && !o->kernel)
        return usage_error(ps, "-append needs -kernel");
    /* Nothing would run: the harts would start in zeroed RAM. */
    if (o->bios_none && !o->kernel && !o->dumpdtb)
        return usage_error(ps, "-bios none needs -kernel (nothing to run)");
    if (o->bios_builtin && !o->kernel && !o->dumpdtb)
        return usage_error(ps, "-bios builtin needs -kernel (nothing to run)");
    /* umbra has no monitor: only a debugger can start harts held by -S. */
    if (o->gdb_wait && !o->gdb)
        return usage_error(ps, "-S needs -s or -gdb (only the debugger can start the harts)");
    /* The debugger stops each hart on its own thread (cpu/debug.h). */
    if (o->gdb && o->hart_pool == OPT_HART_POOL_ON)
        return usage_error(ps, "--hart-pool=on cannot be used with -s or -gdb");
    if (o->profile_symbols && !o->profile && !o->perf_map)
        return usage_error(ps, "--profile-symbols needs --profile or --perf-map");
    if (o->perf_map && o->engine == OPT_ENGINE_INTERP)
        return usage_error(ps, "--perf-map needs --engine=jit (nothing else is translated)");
    return true;
}

enum options_result options_parse(int argc, char **argv, struct umbra_options *o,
                                  FILE *out, FILE *err)
{
    struct parse_state ps = { .o = o, .out = out, .err = err };
    set_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0') {
            fprintf(err, "umbra: unexpected argument '%s' (see --help)\n", arg);
            return OPTIONS_USAGE_ERROR;
        }
        const char *name = arg + (arg[1] == '-' ? 2 : 1);
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct option_spec *spec = find_option(name, len);
        if (spec && eq && !spec->umbra_own)
            spec = NULL;        /* QEMU's flags never take "=value" */
        if (!spec) {
            fprintf(err, "umbra: unknown option '%s' (see --help)\n", arg);
            return OPTIONS_USAGE_ERROR;
        }
        const char *value = NULL;
        if (eq) {
            if (!spec->takes_value) {
                fprintf(err, "umbra: %.*s takes no value\n", (int)(eq - arg), arg);
                return OPTIONS_USAGE_ERROR;
            }
            value = eq + 1;
        } else if (spec->takes_value) {
            if (i + 1 >= argc) {
                fprintf(err, "umbra: %s needs an argument\n", arg);
                return OPTIONS_USAGE_ERROR;
            }
            value = argv[++i];
        }
        if (!spec->handler(&ps, value))
            return OPTIONS_USAGE_ERROR;
        if (ps.saw_exit_flag)
            return OPTIONS_EXIT_OK;
    }
    if (!resolve_disks(&ps) || !check_combinations(&ps))
        return OPTIONS_USAGE_ERROR;
    return OPTIONS_RUN;
}
