/* profile_report: --profile's file and --profile-symbols (see
 * profile_report.h). */
#include "machine/profile_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/profile.h"

/* How far past the last symbol of the maps its code is taken to reach. */
#define LAST_SYMBOL_REACH (64u << 10)

static bool is_text_type(const char *type)
{
    return strlen(type) == 1 && strchr("tTwW", type[0]);
}

/* Keep sym, growing the array as needed; false when memory runs out. */
static bool add_symbol(struct profile_symbols *s, size_t *capacity, uint64_t addr,
                       const char *name)
{
    if (s->n == *capacity) {
        size_t c = *capacity ? 2 * *capacity : 1024;
        struct profile_symbol *grown = realloc(s->sym, c * sizeof *grown);
        if (!grown)
            return false;
        s->sym = grown;
        *capacity = c;
    }
    char *copy = strdup(name);
    if (!copy)
        return false;
    s->sym[s->n] = (struct profile_symbol){ addr, copy, s->n };
    s->n++;
    return true;
}

/* One map file's text symbols into s. */
static bool load_file(struct profile_symbols *s, size_t *capacity, const char *path,
                      char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return false;
    }
    char line[512];
    bool ok = true;
    size_t kept = 0;
    while (ok && fgets(line, sizeof line, f)) {
        char addr_text[32], type[8], name[256];
        if (sscanf(line, "%31s %7s %255s", addr_text, type, name) != 3 || !is_text_type(type))
            continue;
        char *end;
        errno = 0;
        uint64_t addr = strtoull(addr_text, &end, 16);
        if (*end || errno)
            continue;
        ok = add_symbol(s, capacity, addr, name);
        kept++;
    }
    if (ok && ferror(f)) {
        snprintf(err, err_size, "%s: read failed", path);
        ok = false;
    } else if (!ok) {
        snprintf(err, err_size, "%s: out of memory", path);
    } else if (!kept) {
        snprintf(err, err_size, "%s: no text symbols (\"ADDRESS TYPE NAME\" lines, as in "
                 "System.map)", path);
        ok = false;
    }
    fclose(f);
    return ok;
}

static int by_address_then_order(const void *a, const void *b)
{
    const struct profile_symbol *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

/* A linker's marker rather than a function: _text, _stext, _etext,
 * __sched_text_start, __irqentry_text_end and the like, which share their
 * address with the first function of a section (or the last's end). */
static bool is_marker(const char *name)
{
    return name[0] == '_' && (ends_with(name, "_start") || ends_with(name, "_end") ||
                              ends_with(name, "text"));
}

/* Of the names at one address keep one: the first the maps gave that is
 * not a marker, else the first. */
static void keep_one_at_each_address(struct profile_symbols *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n;) {
        size_t end = i, pick = i;
        while (end < s->n && s->sym[end].addr == s->sym[i].addr)
            end++;
        while (pick < end && is_marker(s->sym[pick].name))
            pick++;
        if (pick == end)
            pick = i;
        for (size_t k = i; k < end; k++)
            if (k != pick)
                free(s->sym[k].name);
        s->sym[kept++] = s->sym[pick];
        i = end;
    }
    s->n = kept;
}

bool profile_symbols_load(struct profile_symbols *s, const char *paths, char *err,
                          size_t err_size)
{
    *s = (struct profile_symbols){ 0 };
    size_t capacity = 0;
    char *list = strdup(paths);
    bool ok = list != NULL;
    if (!ok)
        snprintf(err, err_size, "out of memory");
    for (char *save = NULL, *path = ok ? strtok_r(list, ",", &save) : NULL; ok && path;
         path = strtok_r(NULL, ",", &save))
        ok = load_file(s, &capacity, path, err, err_size);
    free(list);
    if (ok && !s->n) {
        snprintf(err, err_size, "no symbol file named");
        ok = false;
    }
    if (!ok) {
        profile_symbols_free(s);
        return false;
    }
    qsort(s->sym, s->n, sizeof *s->sym, by_address_then_order);
    keep_one_at_each_address(s);
    return true;
}

void profile_symbols_free(struct profile_symbols *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->sym[i].name);
    free(s->sym);
    *s = (struct profile_symbols){ 0 };
}

const struct profile_symbol *profile_symbol_of(const struct profile_symbols *s, uint64_t pc)
{
    if (!s || !s->n || pc < s->sym[0].addr)
        return NULL;
    size_t lo = 0, hi = s->n;           /* sym[lo].addr <= pc < sym[hi].addr */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->sym[mid].addr <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if (hi == s->n && pc - s->sym[lo].addr >= LAST_SYMBOL_REACH)
        return NULL;
    return &s->sym[lo];
}

/* ---- the report ---- */

struct merge {
    struct profile *into;
    const struct profile_symbols *symbols;
};

/* An entry counts for its function (keyed by the function's address), or
 * for its own pc where no symbol covers it. */
static void merge_entry(const struct profile_entry *e, void *ctx)
{
    struct merge *m = ctx;
    struct profile_entry keyed = *e;
    const struct profile_symbol *sym = profile_symbol_of(m->symbols, e->pc);
    if (sym)
        keyed.pc = sym->addr;
    profile_add(m->into, &keyed);
}

struct listing {
    struct profile_entry *e;
    size_t n;
};

static void list_entry(const struct profile_entry *e, void *ctx)
{
    struct listing *l = ctx;
    l->e[l->n++] = *e;
}

static int by_time(const void *a, const void *b)
{
    const struct profile_entry *x = a, *y = b;
    if (x->ticks != y->ticks)
        return x->ticks > y->ticks ? -1 : 1;
    return x->pc < y->pc ? -1 : x->pc > y->pc;
}

static void write_line(FILE *f, const struct profile_entry *e, uint64_t total_ticks,
                       double ticks_per_ms, const struct profile_symbols *s)
{
    static const char priv_letter[] = "USHM";
    const struct profile_symbol *sym = profile_symbol_of(s, e->pc);
    fprintf(f, "%7.2f %11.3f %14" PRIu64 " %10" PRIu64 "  %c  ",
            total_ticks ? 100.0 * (double)e->ticks / (double)total_ticks : 0.0,
            (double)e->ticks / ticks_per_ms, e->insns, e->steps, priv_letter[e->priv & 3]);
    if (sym && sym->addr == e->pc)
        fprintf(f, "%s\n", sym->name);
    else
        fprintf(f, "0x%016" PRIx64 "\n", e->pc);
}

bool profile_report_write(FILE *f, const struct profile *tables, unsigned n,
                          const struct profile_symbols *s, double ticks_per_ns)
{
    struct profile merged;
    if (!profile_init(&merged))
        return false;
    struct merge m = { &merged, s };
    uint64_t lost = 0;
    for (unsigned i = 0; i < n; i++) {
        profile_for_each(&tables[i], merge_entry, &m);
        lost += tables[i].lost_ticks;
    }
    struct listing l = { calloc(merged.used ? merged.used : 1, sizeof *l.e), 0 };
    if (!l.e) {
        profile_destroy(&merged);
        return false;
    }
    profile_for_each(&merged, list_entry, &l);
    qsort(l.e, l.n, sizeof *l.e, by_time);
    uint64_t total = 0, insns = 0;
    for (size_t i = 0; i < l.n; i++) {
        total += l.e[i].ticks;
        insns += l.e[i].insns;
    }
    double ticks_per_ms = ticks_per_ns * 1e6;
    fprintf(f, "# umbra guest profile: host time of the steps (a translated unit, or one\n"
               "# interpreted instruction) that began %s, all harts together\n",
            s ? "in each function (at each pc no symbol covers)" : "at each guest pc");
    fprintf(f, "# harts %u, host time %.3f s, instructions %" PRIu64 "\n", n,
            (double)total / ticks_per_ms / 1e3, insns);
    if (lost || merged.lost_ticks)
        fprintf(f, "# not counted (tables full): %.3f ms\n",
                (double)(lost + merged.lost_ticks) / ticks_per_ms);
    fprintf(f, "#  time%%     host_ms          insns      steps priv where\n");
    for (size_t i = 0; i < l.n; i++)
        write_line(f, &l.e[i], total, ticks_per_ms, s);
    free(l.e);
    profile_destroy(&merged);
    return !ferror(f);
}
