/* profile_report: the file --profile writes, and the symbol maps
 * (--profile-symbols) that turn its guest pcs into function names.
 *
 * Owns the loaded symbols. Called by board.c on the main thread: the maps
 * are read before the guest runs (a bad one is reported then, not after a
 * long run), the report is written once every hart has stopped for good,
 * from the harts' own tables (cpu/profile.h).
 */
#ifndef UMBRA_MACHINE_PROFILE_REPORT_H
#define UMBRA_MACHINE_PROFILE_REPORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct profile;

struct profile_symbol {
    uint64_t addr;
    char *name;
    size_t order;                       /* its place in the maps, as given */
};

struct profile_symbols {
    struct profile_symbol *sym;         /* sorted by address */
    size_t n;
};

/* Read the maps named in `paths` (comma-separated), each in the format
 * of System.map, /proc/kallsyms and nm: "ADDRESS TYPE NAME" per line;
 * text symbols (types t, T, w, W) are kept. On failure, false with a
 * message in err (the file and why), and s empty. */
bool profile_symbols_load(struct profile_symbols *s, const char *paths, char *err,
                          size_t err_size);
void profile_symbols_free(struct profile_symbols *s);

/* The symbol whose code holds pc (the last one at or below it, if pc lies
 * before the next one, or within 64 KiB of the last), or NULL. */
const struct profile_symbol *profile_symbol_of(const struct profile_symbols *s, uint64_t pc);

/* Write the report for the tables of `n` harts to f: one line per
 * function and privilege (per pc where no symbol covers it), the most
 * host time first, ticks turned into time at ticks_per_ns
 * (profile_ticks_per_ns). False if memory ran out or f could not be
 * written. */
bool profile_report_write(FILE *f, const struct profile *tables, unsigned n,
                          const struct profile_symbols *s, double ticks_per_ns);
#endif
