/* test_profile: --profile's per-hart tables (cpu/profile.h) and its report
 * (machine/profile_report.h): charges add up per pc and privilege, a
 * table that grows keeps every count, the symbol maps (System.map and nm
 * lines among others) resolve a pc to the function that holds it, and the
 * report groups by function, sorts by host time and names pcs no symbol
 * covers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cpu/profile.h"
#include "machine/profile_report.h"

static const struct profile_entry *entry_of(const struct profile *p, uint64_t pc, unsigned priv)
{
    for (size_t i = 0; i < p->capacity; i++)
        if (p->slot[i].steps && p->slot[i].pc == pc && p->slot[i].priv == priv)
            return &p->slot[i];
    return NULL;
}

static void test_charges_add_up(void)
{
    struct profile p;
    CHECK(profile_init(&p));
    profile_charge(&p, 0x80001000, 3, 100, 10);
    profile_charge(&p, 0x80001000, 3, 50, 7);
    profile_charge(&p, 0x80001000, 1, 5, 1);      /* the same pc in S-mode is apart */
    const struct profile_entry *m = entry_of(&p, 0x80001000, 3);
    const struct profile_entry *s = entry_of(&p, 0x80001000, 1);
    CHECK(m && s);
    if (m && s) {
        CHECK_EQ(m->ticks, 150);
        CHECK_EQ(m->insns, 17);
        CHECK_EQ(m->steps, 2);
        CHECK_EQ(s->ticks, 5);
        CHECK_EQ(s->steps, 1);
    }
    CHECK_EQ(p.used, 2);
    profile_destroy(&p);
}

/* Far more pcs than the first table holds: every one keeps its counts. */
static void test_growth_keeps_counts(void)
{
    struct profile p;
    CHECK(profile_init(&p));
    size_t first = p.capacity;
    const unsigned n = 50000;
    for (unsigned round = 0; round < 2; round++)
        for (unsigned i = 0; i < n; i++)
            profile_charge(&p, 0xffffffff80000000ull + 4ull * i, 1, i + 1, 3);
    CHECK(p.capacity > first);
    CHECK_EQ(p.used, n);
    CHECK_EQ(p.lost_ticks, 0);
    unsigned right = 0;
    for (unsigned i = 0; i < n; i += 997) {
        const struct profile_entry *e = entry_of(&p, 0xffffffff80000000ull + 4ull * i, 1);
        right += e && e->ticks == 2ull * (i + 1) && e->steps == 2 && e->insns == 6;
    }
    CHECK_EQ(right, (n + 996) / 997);
    profile_destroy(&p);
}

static char tmpdir[] = "/tmp/umbra-test-profile-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[4][256];
    static unsigned next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

/* A kernel map (System.map / kallsyms lines, data symbols among them) and
 * a firmware map (nm lines), given together. */
static const char *kernel_map =
    "ffffffff80002000 T _stext\n"
    "ffffffff80002000 T hot_function\n"
    "ffffffff80002000 t hot_function_alias\n"
    "ffffffff80002100 T __sched_text_start\n"
    "ffffffff80002100 t cold_function\n"
    "ffffffff80002180 D some_data\n"           /* not text: no function ends here */
    "ffffffff80002200 W weak_function\n"
    "ffffffff80003000 t module_function\t[some_module]\n"
    "not a symbol line\n";
static const char *firmware_map =
    "0000000080000000 T _fw_start\n"
    "0000000080000400 t trap_handler\n"
    "                 U undefined_here\n";

static void test_symbols(void)
{
    struct profile_symbols s;
    char err[256];
    char list[600];
    snprintf(list, sizeof list, "%s,%s", write_file("kernel.map", kernel_map),
             write_file("fw.map", firmware_map));
    CHECK(profile_symbols_load(&s, list, err, sizeof err));
    CHECK_EQ(s.n, 6);
    const struct profile_symbol *sym;
    /* At one address, the first name that is not a section's marker */
    CHECK((sym = profile_symbol_of(&s, 0xffffffff80002000)) && !strcmp(sym->name, "hot_function"));
    CHECK((sym = profile_symbol_of(&s, 0xffffffff80002100)) && !strcmp(sym->name, "cold_function"));
    CHECK((sym = profile_symbol_of(&s, 0xffffffff800021fe)) && !strcmp(sym->name, "cold_function"));
    CHECK((sym = profile_symbol_of(&s, 0xffffffff80002200)) && !strcmp(sym->name, "weak_function"));
    CHECK((sym = profile_symbol_of(&s, 0x80000404)) && !strcmp(sym->name, "trap_handler"));
    CHECK((sym = profile_symbol_of(&s, 0xffffffff80003010)) && !strcmp(sym->name, "module_function"));
    CHECK(profile_symbol_of(&s, 0x10000) == NULL);                 /* before every symbol */
    CHECK(profile_symbol_of(&s, 0xffffffff80003000 + (64 << 10)) == NULL);  /* past the last */
    profile_symbols_free(&s);

    CHECK(!profile_symbols_load(&s, write_file("empty.map", "hello\n"), err, sizeof err));
    CHECK(strstr(err, "no text symbols") != NULL);
    CHECK_EQ(s.n, 0);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/kernel.map,%s/no-such.map", tmpdir, tmpdir);
    CHECK(!profile_symbols_load(&s, missing, err, sizeof err));
    CHECK(strstr(err, "no-such.map") != NULL);
    CHECK_EQ(s.n, 0);
}

/* Two harts' tables: by function with the maps, most time first; a pc no
 * symbol covers stands alone; the shares add up to 100 %. */
static void test_report(void)
{
    struct profile tables[2];
    CHECK(profile_init(&tables[0]) && profile_init(&tables[1]));
    struct profile *a = &tables[0], *b = &tables[1];
    profile_charge(a, 0xffffffff80002010, 1, 3000, 300);   /* hot_function ... */
    profile_charge(a, 0xffffffff80002010, 1, 1000, 100);   /* (two steps from one pc) */
    profile_charge(b, 0xffffffff80002040, 1, 4000, 400);   /* ... from two harts */
    profile_charge(a, 0xffffffff80002100, 1, 2000, 200);   /* cold_function */
    profile_charge(b, 0x80000400, 3, 1000, 100);           /* trap_handler, M */
    profile_charge(a, 0x10078, 0, 500, 50);                /* user code: no symbol */
    struct profile_symbols s;
    char err[256], list[600];
    snprintf(list, sizeof list, "%s,%s", write_file("kernel.map", kernel_map),
             write_file("fw.map", firmware_map));
    CHECK(profile_symbols_load(&s, list, err, sizeof err));
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    CHECK(profile_report_write(f, tables, 2, &s, 1.0));     /* ticks are ns here */
    fclose(f);
    static const struct {
        double ms;
        unsigned long insns, steps;
        char priv;
        const char *where;
    } want[] = {
        { 0.008, 800, 3, 'S', "hot_function" },
        { 0.002, 200, 1, 'S', "cold_function" },
        { 0.001, 100, 1, 'M', "trap_handler" },
        { 0.0005, 50, 1, 'U', "0x0000000000010078" },
    };
    double share = 0;
    unsigned lines = 0, headers = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') {
            headers += strstr(line, "harts 2, host time 0.000 s, instructions 1150") != NULL;
            continue;
        }
        double pct, ms;
        unsigned long insns, steps;
        char priv, where[64];
        CHECK_EQ(sscanf(line, "%lf %lf %lu %lu %c %63s", &pct, &ms, &insns, &steps, &priv,
                        where), 6);
        if (lines < 4) {
            CHECK(ms > want[lines].ms - 0.0006 && ms < want[lines].ms + 0.0006);
            CHECK_EQ(insns, want[lines].insns);
            CHECK_EQ(steps, want[lines].steps);
            CHECK_EQ(priv, want[lines].priv);
            CHECK(!strcmp(where, want[lines].where));
        }
        share += pct;
        lines++;
    }
    CHECK_EQ(headers, 1);
    CHECK_EQ(lines, 4);
    CHECK(share > 99.9 && share < 100.1);
    free(text);

    /* two ticks a nanosecond (a 2 GHz time-stamp counter): half the time */
    f = open_memstream(&text, &size);
    CHECK(profile_report_write(f, tables, 2, &s, 2.0));
    fclose(f);
    CHECK(strstr(text, "   0.004            800          3  S  hot_function\n") != NULL);
    free(text);
    struct profile_clocks since = profile_clocks_now();
    while (profile_clock_ns() < since.ns + 1000000)
        ;
    CHECK(profile_ticks_per_ns(since) > 0.01);    /* TSC or ns: a plausible rate */
    profile_symbols_free(&s);
    profile_destroy(a);
    profile_destroy(b);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_charges_add_up();
    test_growth_keeps_counts();
    test_symbols();
    test_report();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
