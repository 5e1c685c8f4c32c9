/* test_options: the command line (every flag form and every usage error),
 * disk image checks, and the console's escape keys. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "machine/console.h"
#include "machine/drive.h"
#include "machine/options.h"

static struct umbra_options opts;
static char out_text[8192], err_text[8192];

/* Parse a NULL-terminated list of arguments; keep what went to out and err. */
static enum options_result parse_list(const char *const *args)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)"umbra";
    for (unsigned i = 0; args[i]; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *out = open_memstream(&obuf, &olen), *err = open_memstream(&ebuf, &elen);
    enum options_result r = options_parse(argc, argv, &opts, out, err);
    fclose(out);
    fclose(err);
    snprintf(out_text, sizeof out_text, "%s", obuf);
    snprintf(err_text, sizeof err_text, "%s", ebuf);
    free(obuf);
    free(ebuf);
    return r;
}

#define PARSE(...) parse_list((const char *const[]){ __VA_ARGS__, NULL })
#define USAGE_ERROR(...) do { \
    CHECK_EQ(PARSE(__VA_ARGS__), OPTIONS_USAGE_ERROR); \
    CHECK(strstr(err_text, "umbra: ") != NULL); \
} while (0)

static void test_defaults(void)
{
    CHECK_EQ(parse_list((const char *const[]){ NULL }), OPTIONS_RUN);
    CHECK_EQ(opts.ram_size, 128ull << 20);         /* QEMU virt's default */
    CHECK_EQ(opts.nharts, 1);
    CHECK(opts.bios && !strcmp(opts.bios, OPT_DEFAULT_BIOS));
    CHECK(!opts.bios_none);
    CHECK(!opts.kernel && !opts.initrd && !opts.append && !opts.dtb && !opts.dumpdtb);
    CHECK_EQ(opts.ndisks, 0);
    CHECK(!opts.no_reboot && !opts.stats && !opts.audit && !opts.stats_json);
    CHECK_EQ(opts.coherence, OPT_COHERENCE_PATCH);
    CHECK_EQ(opts.shadow, OPT_SHADOW_PER_HART);
    CHECK_EQ(opts.stale, OPT_STALE_INVALIDATE);
    CHECK_EQ(opts.engine, OPT_ENGINE_JIT);
    CHECK_EQ(opts.hart_pool, OPT_HART_POOL_AUTO);
}

static void test_sizes(void)
{
    uint64_t b;
    CHECK(options_parse_size("512M", &b) && b == 512ull << 20);
    CHECK(options_parse_size("1G", &b) && b == 1ull << 30);
    CHECK(options_parse_size("1024", &b) && b == 1ull << 30);    /* MiB by default */
    CHECK(options_parse_size("2g", &b) && b == 2ull << 30);
    CHECK(options_parse_size("4K", &b) && b == 4096);
    CHECK(options_parse_size("1T", &b) && b == 1ull << 40);
    CHECK(options_parse_size("256MB", &b) && b == 256ull << 20);
    CHECK(options_parse_size("size=64M", &b) && b == 64ull << 20);
    CHECK(!options_parse_size("", &b));
    CHECK(!options_parse_size("M", &b));
    CHECK(!options_parse_size("12X", &b));
    CHECK(!options_parse_size("-5M", &b));
    CHECK(!options_parse_size("1.5G", &b));
    CHECK(!options_parse_size("99999999999999999999", &b));
    CHECK(!options_parse_size("17179869184T", &b));              /* 2^34 TiB overflows */

    CHECK_EQ(PARSE("-m", "512M"), OPTIONS_RUN);
    CHECK_EQ(opts.ram_size, 512ull << 20);
    CHECK_EQ(PARSE("-m", "2G"), OPTIONS_RUN);
    CHECK_EQ(opts.ram_size, 2ull << 30);
    CHECK_EQ(PARSE("-m", "1024"), OPTIONS_RUN);
    CHECK_EQ(opts.ram_size, 1ull << 30);
    USAGE_ERROR("-m", "lots");
    USAGE_ERROR("-m", "1M");            /* below the 2 MiB minimum */
    USAGE_ERROR("-m", "65G");           /* above the 64 GiB maximum */
    USAGE_ERROR("-m", "4097K");         /* not a whole number of pages */
    USAGE_ERROR("-m");                  /* no argument */
    CHECK(strstr(err_text, "needs an argument") != NULL);
}

static void test_smp(void)
{
    CHECK_EQ(PARSE("-smp", "4"), OPTIONS_RUN);
    CHECK_EQ(opts.nharts, 4);
    CHECK_EQ(PARSE("-smp", "cpus=8"), OPTIONS_RUN);
    CHECK_EQ(opts.nharts, 8);
    CHECK_EQ(PARSE("-smp", "1"), OPTIONS_RUN);
    CHECK_EQ(opts.nharts, 1);
    CHECK_EQ(PARSE("--smp", "2"), OPTIONS_RUN);    /* QEMU takes -- too */
    CHECK_EQ(opts.nharts, 2);
    USAGE_ERROR("-smp", "0");
    USAGE_ERROR("-smp", "9");
    USAGE_ERROR("-smp", "two");
    USAGE_ERROR("-smp", "cpus=");
    USAGE_ERROR("-smp", "4,sockets=2");
    USAGE_ERROR("-smp", "");
}

static void test_machine_cpu(void)
{
    CHECK_EQ(PARSE("-machine", "virt"), OPTIONS_RUN);
    CHECK_EQ(PARSE("-M", "virt"), OPTIONS_RUN);
    CHECK_EQ(PARSE("-machine", "type=virt"), OPTIONS_RUN);
    CHECK_EQ(PARSE("-machine", "virt,dumpdtb=/tmp/x.dtb"), OPTIONS_RUN);
    CHECK(opts.dumpdtb && !strcmp(opts.dumpdtb, "/tmp/x.dtb"));
    CHECK_EQ(PARSE("-machine", "virt,aclint=off"), OPTIONS_RUN);
    CHECK(strstr(err_text, "warning") != NULL);
    USAGE_ERROR("-machine", "sifive_u");
    USAGE_ERROR("-M", "spike");
    USAGE_ERROR("-machine", "");

    CHECK_EQ(PARSE("-cpu", "rv64"), OPTIONS_RUN);
    CHECK_EQ(err_text[0], '\0');
    CHECK_EQ(PARSE("-cpu", "rv64,h=false,sstc=false"), OPTIONS_RUN);
    CHECK(strstr(err_text, "warning") != NULL);
    USAGE_ERROR("-cpu", "rv32");
    USAGE_ERROR("-cpu", "sifive-u54");
    USAGE_ERROR("-cpu", "rv64x");
}

static void test_images(void)
{
    CHECK_EQ(PARSE("-bios", "none", "-kernel", "k.elf"), OPTIONS_RUN);
    CHECK(opts.bios_none && !opts.bios);
    CHECK(!strcmp(opts.kernel, "k.elf"));
    CHECK_EQ(PARSE("-bios", "fw.bin"), OPTIONS_RUN);
    CHECK(!opts.bios_none && !strcmp(opts.bios, "fw.bin"));
    CHECK_EQ(PARSE("-bios", "none", "-bios", "default"), OPTIONS_RUN);
    CHECK(!opts.bios_none && !strcmp(opts.bios, OPT_DEFAULT_BIOS));
    CHECK_EQ(PARSE("-kernel", "Image", "-initrd", "r.gz", "-append", "console=ttyS0 quiet",
                   "-dtb", "b.dtb", "-dumpdtb", "out.dtb"), OPTIONS_RUN);
    CHECK(!strcmp(opts.kernel, "Image") && !strcmp(opts.initrd, "r.gz"));
    CHECK(!strcmp(opts.append, "console=ttyS0 quiet"));
    CHECK(!strcmp(opts.dtb, "b.dtb") && !strcmp(opts.dumpdtb, "out.dtb"));
    CHECK_EQ(PARSE("-kernel", "Image", "-append", ""), OPTIONS_RUN);
    USAGE_ERROR("-bios", "none");               /* nothing to run */
    CHECK_EQ(PARSE("-bios", "none", "-dumpdtb", "x.dtb"), OPTIONS_RUN);
    USAGE_ERROR("-initrd", "r.gz");             /* QEMU: -initrd needs -kernel */
    USAGE_ERROR("-append", "x");
    USAGE_ERROR("-bios", "");
    USAGE_ERROR("-kernel", "");
    USAGE_ERROR("-kernel");
}

static void test_drives(void)
{
    CHECK_EQ(PARSE("-drive", "file=a.img,format=raw,if=none,id=hd0",
                   "-device", "virtio-blk-device,drive=hd0"), OPTIONS_RUN);
    CHECK_EQ(opts.ndrives, 1);
    CHECK_EQ(opts.ndisks, 1);
    CHECK_EQ(opts.disk[0], 0);
    CHECK(!strcmp(opts.drive[0].file, "a.img") && !strcmp(opts.drive[0].id, "hd0"));
    CHECK(!opts.drive[0].readonly);
    CHECK_EQ(opts.drive[0].interface, DRIVE_IF_NONE);

    CHECK_EQ(PARSE("-drive", "file=b.img,format=raw,if=virtio,readonly=on"), OPTIONS_RUN);
    CHECK_EQ(opts.ndisks, 1);
    CHECK(opts.drive[0].readonly);
    CHECK_EQ(PARSE("-drive", "file=b.img,readonly=off"), OPTIONS_RUN);  /* no if=: virtio */
    CHECK_EQ(opts.ndisks, 1);
    CHECK(!opts.drive[0].readonly);

    /* if=virtio disks are created before -device ones, whatever the order
     * on the command line, as QEMU does. */
    CHECK_EQ(PARSE("-drive", "file=a.img,if=none,id=a", "-device", "virtio-blk-device,drive=a",
                   "-drive", "file=b.img,if=virtio"), OPTIONS_RUN);
    CHECK_EQ(opts.ndisks, 2);
    CHECK_EQ(opts.disk[0], 1);
    CHECK_EQ(opts.disk[1], 0);
    /* -device may come before its -drive. */
    CHECK_EQ(PARSE("-device", "virtio-blk-device,drive=x,id=d0",
                   "-drive", "id=x,file=x.img,if=none"), OPTIONS_RUN);
    CHECK_EQ(opts.ndisks, 1);
    /* ",," is an escaped comma inside a value. */
    CHECK_EQ(PARSE("-drive", "file=we,,ird.img,if=virtio"), OPTIONS_RUN);
    CHECK(!strcmp(opts.drive[0].file, "we,ird.img"));
    /* An if=none drive with no device is allowed, with a warning. */
    CHECK_EQ(PARSE("-drive", "file=a.img,if=none,id=a"), OPTIONS_RUN);
    CHECK_EQ(opts.ndisks, 0);
    CHECK(strstr(err_text, "not attached") != NULL);

    USAGE_ERROR("-drive", "format=raw");                         /* no file */
    USAGE_ERROR("-drive", "file=a.img,format=qcow2");
    USAGE_ERROR("-drive", "file=a.img,if=scsi");
    USAGE_ERROR("-drive", "file=a.img,bogus=1");
    USAGE_ERROR("-drive", "file=a.img,readonly=maybe");
    USAGE_ERROR("-drive", "file=a.img,file");
    USAGE_ERROR("-drive", "file=a.img,if=none,id=a", "-drive", "file=b.img,if=none,id=a");
    USAGE_ERROR("-device", "virtio-blk-device,drive=nope");
    CHECK(strstr(err_text, "nope") != NULL);
    USAGE_ERROR("-device", "virtio-net-device");
    USAGE_ERROR("-device", "virtio-blk-device");                 /* no drive= */
    USAGE_ERROR("-device", "virtio-blk-device,drive=a,serial=1", "-drive", "file=a,if=none,id=a");
    USAGE_ERROR("-drive", "file=a.img,if=virtio,id=a", "-device", "virtio-blk-device,drive=a");
    USAGE_ERROR("-drive", "file=a.img,if=none,id=a", "-device", "virtio-blk-device,drive=a",
                "-device", "virtio-blk-device,drive=a");
    USAGE_ERROR("-drive", "file=1", "-drive", "file=2", "-drive", "file=3", "-drive", "file=4",
                "-drive", "file=5", "-drive", "file=6", "-drive", "file=7", "-drive", "file=8",
                "-drive", "file=9");
}

static void test_misc_flags(void)
{
    CHECK_EQ(PARSE("-nographic", "-serial", "mon:stdio", "-no-reboot", "-display", "none",
                   "-monitor", "none"), OPTIONS_RUN);
    CHECK(opts.no_reboot);
    CHECK_EQ(PARSE("-serial", "stdio"), OPTIONS_RUN);
    USAGE_ERROR("-serial", "pty");
    USAGE_ERROR("-display", "gtk");
    USAGE_ERROR("-monitor", "stdio");
    USAGE_ERROR("-S");                  /* only a debugger can start the harts */
    CHECK(strstr(err_text, "-S needs") != NULL);
    USAGE_ERROR("-gdb", "tcp:1234");
    USAGE_ERROR("-gdb", "udp::1234");
    USAGE_ERROR("-gdb", "tcp::0");
    USAGE_ERROR("-gdb", "tcp::65536");
    CHECK_EQ(PARSE("-s"), OPTIONS_RUN);
    CHECK(opts.gdb && opts.gdb_port == 1234 && !opts.gdb_host[0] && !opts.gdb_wait);
    CHECK_EQ(PARSE("-gdb", "tcp:localhost:4321", "-S"), OPTIONS_RUN);
    CHECK(opts.gdb_port == 4321 && !strcmp(opts.gdb_host, "localhost") && opts.gdb_wait);
    USAGE_ERROR("-nographic=1");
    USAGE_ERROR("-m=512M");             /* QEMU's flags take no "=value" */
    USAGE_ERROR("-frobnicate");
    USAGE_ERROR("kernel.elf");          /* no positional arguments */
    USAGE_ERROR("-");

    CHECK_EQ(PARSE("--help"), OPTIONS_EXIT_OK);
    CHECK(strstr(out_text, "usage: umbra") != NULL);
    CHECK_EQ(PARSE("-h"), OPTIONS_EXIT_OK);
    CHECK(strstr(out_text, "-drive") != NULL);
    CHECK_EQ(PARSE("--version"), OPTIONS_EXIT_OK);
    CHECK(strstr(out_text, "umbra " UMBRA_VERSION) != NULL);
    CHECK_EQ(PARSE("-version"), OPTIONS_EXIT_OK);
    /* --help stops parsing: a later bad flag does not matter */
    CHECK_EQ(PARSE("--help", "-frobnicate"), OPTIONS_EXIT_OK);
}

static void test_umbra_options(void)
{
    CHECK_EQ(PARSE("--stats", "--audit", "--stats-json", "s.json"), OPTIONS_RUN);
    CHECK(opts.stats && opts.audit && !strcmp(opts.stats_json, "s.json"));
    CHECK_EQ(PARSE("--stats-json=t.json"), OPTIONS_RUN);
    CHECK(!strcmp(opts.stats_json, "t.json"));
    CHECK_EQ(PARSE("--coherence=flush"), OPTIONS_RUN);
    CHECK_EQ(opts.coherence, OPT_COHERENCE_FLUSH);
    CHECK_EQ(PARSE("--coherence", "eager"), OPTIONS_RUN);
    CHECK_EQ(opts.coherence, OPT_COHERENCE_EAGER);
    CHECK_EQ(PARSE("--coherence=patch"), OPTIONS_RUN);
    CHECK_EQ(opts.coherence, OPT_COHERENCE_PATCH);
    CHECK_EQ(PARSE("--shadow=shared"), OPTIONS_RUN);
    CHECK_EQ(opts.shadow, OPT_SHADOW_SHARED);
    CHECK_EQ(PARSE("--shadow", "per-hart"), OPTIONS_RUN);
    CHECK_EQ(opts.shadow, OPT_SHADOW_PER_HART);
    CHECK_EQ(PARSE("--stale=rewalk"), OPTIONS_RUN);
    CHECK_EQ(opts.stale, OPT_STALE_REWALK);
    CHECK_EQ(PARSE("--stale=invalidate"), OPTIONS_RUN);
    CHECK_EQ(opts.stale, OPT_STALE_INVALIDATE);
    CHECK_EQ(PARSE("--engine=interp"), OPTIONS_RUN);
    CHECK_EQ(opts.engine, OPT_ENGINE_INTERP);
    CHECK_EQ(PARSE("--engine", "jit"), OPTIONS_RUN);
    CHECK_EQ(opts.engine, OPT_ENGINE_JIT);
    USAGE_ERROR("--engine=tcg");
    CHECK(strstr(err_text, "jit|interp") != NULL);
    CHECK_EQ(PARSE("--hart-pool=on"), OPTIONS_RUN);
    CHECK_EQ(opts.hart_pool, OPT_HART_POOL_ON);
    CHECK_EQ(PARSE("--hart-pool", "off"), OPTIONS_RUN);
    CHECK_EQ(opts.hart_pool, OPT_HART_POOL_OFF);
    CHECK_EQ(PARSE("--hart-pool=auto", "-s"), OPTIONS_RUN);
    CHECK_EQ(opts.hart_pool, OPT_HART_POOL_AUTO);
    USAGE_ERROR("--hart-pool=yes");
    CHECK(strstr(err_text, "auto|on|off") != NULL);
    USAGE_ERROR("--hart-pool=on", "-s");    /* the debugger stops harts on their own threads */
    CHECK(strstr(err_text, "--hart-pool=on cannot") != NULL);
    CHECK_EQ(PARSE("--profile", "p.txt", "--profile-symbols=a.map,b.map"), OPTIONS_RUN);
    CHECK(opts.profile && !strcmp(opts.profile, "p.txt"));
    CHECK(opts.profile_symbols && !strcmp(opts.profile_symbols, "a.map,b.map"));
    USAGE_ERROR("--profile-symbols=a.map");     /* nothing to name without a profile */
    CHECK(strstr(err_text, "--profile-symbols needs --profile or --perf-map") != NULL);
    CHECK_EQ(PARSE("--perf-map", "--profile-symbols=a.map"), OPTIONS_RUN);
    CHECK(opts.perf_map && opts.profile_symbols && !opts.profile);
    USAGE_ERROR("--perf-map", "--engine=interp");   /* nothing translated to name */
    CHECK(strstr(err_text, "--perf-map needs --engine=jit") != NULL);
    USAGE_ERROR("--perf-map=yes");
    USAGE_ERROR("--profile=");
    USAGE_ERROR("--coherence=lazy");
    CHECK(strstr(err_text, "patch|flush|eager") != NULL);
    USAGE_ERROR("--coherence");
    USAGE_ERROR("--shadow=global");
    USAGE_ERROR("--stale=ignore");
    USAGE_ERROR("--stats=yes");
    USAGE_ERROR("--audit=1");
    USAGE_ERROR("--stats-json=");
}

/* ------------------------------------------------------------ drives */

static char tmpdir[] = "/tmp/umbra-test-options-XXXXXX";

static const char *make_file(const char *name, size_t size)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; i < size; i++)
        fputc(0, f);
    fclose(f);
    return path;
}

static bool open_drive(const char *file, bool readonly, struct drive *d, char *err)
{
    struct drive_opt o;
    memset(&o, 0, sizeof o);
    snprintf(o.file, sizeof o.file, "%s", file);
    o.readonly = readonly;
    return drive_open(&o, d, err, 512);
}

static void test_drive_open(void)
{
    char err[512];
    struct drive d, d2;
    CHECK(mkdtemp(tmpdir) != NULL);

    CHECK(open_drive(make_file("good.img", 8192), false, &d, err));
    CHECK_EQ(d.size, 8192);
    CHECK(d.fd >= 0 && !d.read_only);
    /* A second writer of the same image is refused. */
    CHECK(!open_drive(make_file("good.img", 8192), false, &d2, err) || (drive_close(&d2), 0));
    drive_close(&d);
    CHECK(open_drive(make_file("good.img", 8192), true, &d, err));
    CHECK(d.read_only);
    /* Two readers may share it; a writer may not join them. */
    CHECK(open_drive(make_file("good.img", 8192), true, &d2, err));
    drive_close(&d2);
    CHECK(!open_drive(make_file("good.img", 8192), false, &d2, err));
    CHECK(strstr(err, "in use") != NULL);
    drive_close(&d);

    CHECK(!open_drive(make_file("odd.img", 1000), false, &d, err));
    CHECK(strstr(err, "multiple of 512") != NULL);
    CHECK_EQ(d.fd, -1);
    CHECK(!open_drive(make_file("empty.img", 0), false, &d, err));
    CHECK(strstr(err, "empty") != NULL);
    CHECK(!open_drive("/nonexistent/disk.img", false, &d, err));
    CHECK(strstr(err, "/nonexistent/disk.img") != NULL);
    CHECK(!open_drive(tmpdir, true, &d, err));                  /* a directory */

    /* A file that cannot be opened for writing, without readonly=on. A
     * running executable cannot be, even by root (ETXTBSY); for other users
     * a mode-0444 file cannot be either. */
    CHECK(!open_drive("/proc/self/exe", false, &d, err));
    CHECK(strstr(err, "readonly=on") != NULL);
    if (geteuid() != 0) {
        const char *ro = make_file("ro.img", 4096);
        chmod(ro, 0444);
        CHECK(!open_drive(ro, false, &d, err));
        CHECK(strstr(err, "readonly=on") != NULL);
        CHECK(open_drive(ro, true, &d, err));
        drive_close(&d);
    }
    static const char *const names[] = { "good.img", "odd.img", "empty.img", "ro.img" };
    for (unsigned i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

/* ----------------------------------------------------------- console */

static void test_escape_keys(void)
{
    struct console_escape e = { false };
    uint8_t out = 0;
    CHECK_EQ(console_escape_feed(&e, 'a', &out), CONSOLE_DELIVER);
    CHECK_EQ(out, 'a');
    CHECK_EQ(console_escape_feed(&e, 0x03, &out), CONSOLE_DELIVER);  /* Ctrl-C is the guest's */
    CHECK_EQ(out, 0x03);
    CHECK_EQ(console_escape_feed(&e, 0x01, &out), CONSOLE_NOTHING);
    CHECK_EQ(console_escape_feed(&e, 'x', &out), CONSOLE_QUIT);
    CHECK_EQ(console_escape_feed(&e, 0x01, &out), CONSOLE_NOTHING);
    CHECK_EQ(console_escape_feed(&e, 'X', &out), CONSOLE_QUIT);
    CHECK_EQ(console_escape_feed(&e, 0x01, &out), CONSOLE_NOTHING);
    CHECK_EQ(console_escape_feed(&e, 'h', &out), CONSOLE_HELP);
    out = 0;
    CHECK_EQ(console_escape_feed(&e, 0x01, &out), CONSOLE_NOTHING);
    CHECK_EQ(console_escape_feed(&e, 0x01, &out), CONSOLE_DELIVER);
    CHECK_EQ(out, 0x01);
    /* after the doubled escape the state is clear again: x is just x */
    CHECK_EQ(console_escape_feed(&e, 'x', &out), CONSOLE_DELIVER);
    CHECK_EQ(out, 'x');
    CHECK_EQ(console_escape_feed(&e, 0x01, &out), CONSOLE_NOTHING);
    CHECK_EQ(console_escape_feed(&e, 'q', &out), CONSOLE_NOTHING);   /* unknown: swallowed */
    CHECK_EQ(console_escape_feed(&e, 'q', &out), CONSOLE_DELIVER);
}

int main(void)
{
    test_defaults();
    test_sizes();
    test_smp();
    test_machine_cpu();
    test_images();
    test_drives();
    test_misc_flags();
    test_umbra_options();
    test_drive_open();
    test_escape_keys();
    return check_summary();
}
