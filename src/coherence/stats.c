/* --stats and --stats-json: the per-hart counters of DESIGN.md section 5. */
#include "coherence/coherence.h"
#include <inttypes.h>
#include <stddef.h>

/* The counters the hart keeps itself (struct hart_counters), shown first. */
static const struct hart_field {
    const char *name;
    size_t offset;
} hart_fields[] = {
    { "instret", offsetof(struct hart_counters, instret) },
    { "ipi_waits", offsetof(struct hart_counters, ipi_waits) },
    { "spin_yields", offsetof(struct hart_counters, spin_yields) },
    { "wfi_poll_sleeps", offsetof(struct hart_counters, wfi_poll_sleeps) },
    { "slices", offsetof(struct hart_counters, slices) },
    { "code_pages", offsetof(struct hart_counters, code_pages) },
    { "code_evictions", offsetof(struct hart_counters, code_evictions) },
    { "jit_units", offsetof(struct hart_counters, jit_units) },
    { "jit_resets", offsetof(struct hart_counters, jit_resets) },
    { "user_instret", offsetof(struct hart_counters, user_instret) },
    { "gathered_slices", offsetof(struct hart_counters, gathered_slices) },
};
#define NHART_FIELDS (sizeof hart_fields / sizeof hart_fields[0])

static uint64_t hart_field(const struct hart_counters *hc, size_t f)
{
    return *(const uint64_t *)(const void *)((const char *)hc + hart_fields[f].offset);
}

struct stat_field {
    const char *name;
    uint64_t (*get)(const struct coherence_report *r);
};

#define FIELD(json_name, expr) \
    static uint64_t get_##json_name(const struct coherence_report *r) { return (expr); }
FIELD(coherency_events, r->s.coherency_events)
FIELD(patches_produced, r->s.patches_produced)
FIELD(stores_unchanged, r->s.stores_unchanged)
FIELD(patches_applied, r->s.patches_applied)
FIELD(patches_stale, r->s.patches_stale)
FIELD(invalidated, r->s.invalidated)
FIELD(rewalked, r->s.rewalked)
FIELD(revalidated, r->s.revalidated)
FIELD(ring_high_water, r->ring_high_water)
FIELD(ring_overflows, r->ring_overflows)
FIELD(resyncs, r->s.resyncs)
FIELD(unshadowed, r->s.unshadowed)
FIELD(patches_dormant, r->s.patches_dormant)
FIELD(dormant_drops, r->s.dormant_drops)
FIELD(page_walks, r->s.page_walks)
FIELD(shadow_entries, r->shadow_entries)
FIELD(shadow_pages, r->shadow_pages)
FIELD(shootdowns, r->s.shootdowns)
FIELD(remote_fences_queued, r->s.remote_fences_queued)
FIELD(remote_fences_waited, r->s.remote_fences_waited)
FIELD(remote_fences_served, r->s.remote_fences_served)
#undef FIELD

static const struct stat_field fields[] = {
#define F(n) { #n, get_##n }
    F(coherency_events), F(patches_produced), F(stores_unchanged), F(patches_applied),
    F(patches_stale),
    F(invalidated), F(rewalked), F(revalidated), F(ring_high_water), F(ring_overflows),
    F(resyncs), F(unshadowed), F(patches_dormant), F(dormant_drops), F(page_walks),
    F(shadow_entries), F(shadow_pages), F(shootdowns), F(remote_fences_queued),
    F(remote_fences_waited), F(remote_fences_served),
#undef F
};
#define NFIELDS (sizeof fields / sizeof fields[0])

void coherence_stats_text(FILE *out, const struct coherence *co, const struct hart_counters *hc)
{
    fprintf(out, "umbra stats: coherence=%s shadow=%s stale=%s\n",
            coherence_strategy_name(co->opt.strategy),
            co->opt.shared_table ? "shared" : "per-hart",
            co->opt.stale == STALE_INVALIDATE ? "invalidate" : "rewalk");
    fprintf(out, "  %-20s", "hart");
    for (unsigned h = 0; h < co->nharts; h++)
        fprintf(out, " %14u", h);
    fputc('\n', out);
    for (size_t f = 0; f < NHART_FIELDS; f++) {
        fprintf(out, "  %-20s", hart_fields[f].name);
        for (unsigned h = 0; h < co->nharts; h++)
            fprintf(out, " %14" PRIu64, hart_field(&hc[h], f));
        fputc('\n', out);
    }
    struct coherence_report r[COHERENCE_MAX_HARTS];
    for (unsigned h = 0; h < co->nharts; h++)
        coherence_report(co, h, &r[h]);
    for (size_t f = 0; f < NFIELDS; f++) {
        fprintf(out, "  %-20s", fields[f].name);
        for (unsigned h = 0; h < co->nharts; h++)
            fprintf(out, " %14" PRIu64, fields[f].get(&r[h]));
        fputc('\n', out);
    }
}

void coherence_stats_json(FILE *out, const struct coherence *co, const struct hart_counters *hc)
{
    fprintf(out, "{\n  \"coherence\": \"%s\",\n  \"shadow\": \"%s\",\n  \"stale\": \"%s\",\n"
                 "  \"harts\": [\n",
            coherence_strategy_name(co->opt.strategy),
            co->opt.shared_table ? "shared" : "per-hart",
            co->opt.stale == STALE_INVALIDATE ? "invalidate" : "rewalk");
    for (unsigned h = 0; h < co->nharts; h++) {
        struct coherence_report r;
        coherence_report(co, h, &r);
        fprintf(out, "    {\"hart\": %u", h);
        for (size_t f = 0; f < NHART_FIELDS; f++)
            fprintf(out, ", \"%s\": %" PRIu64, hart_fields[f].name, hart_field(&hc[h], f));
        for (size_t f = 0; f < NFIELDS; f++)
            fprintf(out, ", \"%s\": %" PRIu64, fields[f].name, fields[f].get(&r));
        fprintf(out, "}%s\n", h + 1 < co->nharts ? "," : "");
    }
    fprintf(out, "  ]\n}\n");
}
