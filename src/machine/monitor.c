/* monitor: command parsing and the `info` reports (see monitor.h). */
#include "machine/monitor.h"
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const abi_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
};

void monitor_init(struct monitor *m, const struct monitor_target *target)
{
    memset(m, 0, sizeof *m);
    m->target = *target;
}

void monitor_enter(struct monitor *m, FILE *out)
{
    m->len = 0;
    fprintf(out, "\numbra monitor: type 'help' for commands, Ctrl-A C to return to the guest\n"
                 MONITOR_PROMPT);
    fflush(out);
}

/* ------------------------------------------------------------ pausing */

static bool pause_harts(struct monitor *m)
{
    return !m->target.pause || m->target.pause(m->target.ctx);
}

static void resume_harts(struct monitor *m)
{
    if (m->target.resume)
        m->target.resume(m->target.ctx);
}

/* ------------------------------------------------------------ reports */

static char priv_letter(enum priv p)
{
    return p == PRIV_M ? 'M' : p == PRIV_S ? 'S' : 'U';
}

static const char *satp_mode_name(uint64_t satp)
{
    switch (satp >> SATP_MODE_SHIFT) {
    case SATP_MODE_BARE: return "Bare";
    case SATP_MODE_SV39: return "Sv39";
    case SATP_MODE_SV48: return "Sv48";
    default: return "?";
    }
}

static void print_registers(const struct hart *h, unsigned id, FILE *out)
{
    fprintf(out, "hart %u  pc %016" PRIx64 "  priv %c\n", id, h->pc, priv_letter(h->priv));
    for (unsigned r = 1; r < 32; r++) {
        char name[12];
        snprintf(name, sizeof name, "x%u/%s", r, abi_names[r]);
        fprintf(out, " %-8s %016" PRIx64 "%s", name, h->x[r], r % 4 == 3 || r == 31 ? "\n" : "");
    }
    const struct { const char *name; uint64_t value; } csrs[] = {
        { "mstatus", h->mstatus }, { "misa", h->misa }, { "medeleg", h->medeleg },
        { "mideleg", h->mideleg }, { "mie", h->mie },
        { "mip", atomic_load_explicit(&h->mip, memory_order_relaxed) },
        { "mtvec", h->mtvec }, { "mepc", h->mepc }, { "mcause", h->mcause },
        { "mtval", h->mtval }, { "mscratch", h->mscratch }, { "stvec", h->stvec },
        { "sepc", h->sepc }, { "scause", h->scause }, { "stval", h->stval },
        { "sscratch", h->sscratch }, { "satp", h->satp }, { "instret", h->minstret },
    };
    for (size_t i = 0; i < sizeof csrs / sizeof csrs[0]; i++)
        fprintf(out, " %-8s %016" PRIx64 "%s", csrs[i].name, csrs[i].value,
                i % 4 == 3 || i + 1 == sizeof csrs / sizeof csrs[0] ? "\n" : "");
}

static void info_registers(struct monitor *m, int only, FILE *out)
{
    for (unsigned i = 0; i < m->target.nharts; i++)
        if (only < 0 || (unsigned)only == i)
            print_registers(&m->target.harts[i], i, out);
}

static void info_stats(struct monitor *m, FILE *out)
{
    if (!m->target.co) {
        fprintf(out, "no coherence statistics on this machine\n");
        return;
    }
    struct hart_counters hc[COHERENCE_MAX_HARTS];
    for (unsigned i = 0; i < m->target.nharts && i < COHERENCE_MAX_HARTS; i++)
        hc[i] = hart_own_counters(&m->target.harts[i]);
    coherence_stats_text(out, m->target.co, hc);
}

/* Frames whose write trace names this hart's table (or the shared one). */
static uint64_t traced_frames(const struct coherence *co, const struct coherence_hart *ch)
{
    const struct guest_mem *mem = co->mem;
    uint32_t bit = ch->table->shared ? TRACE_SHARED_BIT : 1u << ch->id;
    uint64_t n = 0;
    for (uint64_t pa = mem->ram_base; pa - mem->ram_base < mem->ram_size; pa += PAGE_SIZE)
        n += (atomic_load_explicit(mem_trace_word(mem, pa), memory_order_relaxed) & bit) != 0;
    return n;
}

/* The pages at the table's top level: the roots satp values have pointed at. */
static void print_roots(const struct shadow_table *t, uint64_t satp, unsigned top, FILE *out)
{
    unsigned shown = 0, total = 0;
    uint64_t current = satp & SATP_PPN_MASK;
    bool paging = satp >> SATP_MODE_SHIFT != SATP_MODE_BARE;
    fprintf(out, "  roots (level %u pages):", top);
    for (const struct shadow_page *sp = t->all; sp; sp = sp->all_next) {
        if (sp->level != top)
            continue;
        total++;
        if (shown == 16)
            continue;
        shown++;
        fprintf(out, "\n    frame 0x%" PRIx64 ": %u live entries", sp->gfn,
                shadow_page_live_entries(sp));
        if (paging && sp->gfn == current)
            fprintf(out, "  <- satp, ASID %" PRIu64,
                    (uint64_t)((satp >> SATP_ASID_SHIFT) & SATP_ASID_MASK));
    }
    if (total > shown)
        fprintf(out, "\n    ... %u more", total - shown);
    fprintf(out, "%s\n", total ? "" : " none");
}

static void info_shadow(struct monitor *m, unsigned id, FILE *out)
{
    const struct coherence *co = m->target.co;
    if (!co) {
        fprintf(out, "no shadow tables on this machine\n");
        return;
    }
    const struct coherence_hart *ch = &co->hart[id];
    const struct shadow_table *t = ch->table;
    uint64_t satp = m->target.harts[id].satp;
    unsigned top = satp >> SATP_MODE_SHIFT == SATP_MODE_SV48 ? 3 : 2;
    struct shadow_summary s;
    shadow_table_summarize(t, &s);
    fprintf(out, "hart %u shadow table: %s, coherence=%s, stale=%s\n", id,
            t->shared ? "shared by every hart" : "per hart",
            coherence_strategy_name(co->opt.strategy),
            co->opt.stale == STALE_INVALIDATE ? "invalidate" : "rewalk");
    fprintf(out, "  satp %016" PRIx64 ": mode %s, ASID %" PRIu64 ", root frame 0x%" PRIx64 "\n",
            satp, satp_mode_name(satp), (uint64_t)((satp >> SATP_ASID_SHIFT) & SATP_ASID_MASK),
            (uint64_t)(satp & SATP_PPN_MASK));
    print_roots(t, satp, top, out);
    fprintf(out, "  shadow pages: %" PRIu64 " (level 3: %" PRIu64 ", level 2: %" PRIu64
                 ", level 1: %" PRIu64 ", level 0: %" PRIu64 "), unconfirmed traces: %" PRIu64
                 "\n",
            s.pages, s.pages_at_level[3], s.pages_at_level[2], s.pages_at_level[1],
            s.pages_at_level[0], s.unconfirmed);
    fprintf(out, "  live entries: %" PRIu64 "\n", s.live_entries);
    fprintf(out, "  traced frames: %" PRIu64 "\n", traced_frames(co, ch));
}

static void help(FILE *out)
{
    fputs("info registers [N]  pc, privilege, x1-x31 and the main CSRs of every hart (or hart N)\n"
          "info stats          the coherence counters (as --stats prints them)\n"
          "info shadow [N]     hart N's shadow table (default 0): roots, pages per level,\n"
          "                    live entries, traced frames\n"
          "help                this list\n"
          "quit, q             quit umbra (exit status 0)\n"
          "Ctrl-A C returns to the guest console; Ctrl-A X quits.\n", out);
}

/* ------------------------------------------------------------ parsing */

#define MAX_WORDS 4

/* Split line into at most MAX_WORDS blank-separated words in buf. */
static unsigned split_words(const char *line, char *buf, size_t size, char *word[MAX_WORDS + 1])
{
    snprintf(buf, size, "%s", line);
    unsigned n = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == MAX_WORDS + 1)
            break;
        word[n++] = w;
    }
    return n;
}

/* A hart number argument; -1 when absent. false (with a message) when bad. */
static bool hart_arg(const struct monitor *m, unsigned nwords, char *const word[], int *hart,
                     FILE *out)
{
    *hart = -1;
    if (nwords < 3)
        return true;
    char *end;
    unsigned long v = strtoul(word[2], &end, 0);
    if (*word[2] == '\0' || *end != '\0' || v >= m->target.nharts || nwords > 3) {
        fprintf(out, "no hart '%s' (harts are 0 to %u)\n", word[2], m->target.nharts - 1);
        return false;
    }
    *hart = (int)v;
    return true;
}

static void info(struct monitor *m, unsigned nwords, char *const word[], FILE *out)
{
    int hart;
    if (nwords < 2 || !hart_arg(m, nwords, word, &hart, out)) {
        if (nwords < 2)
            fprintf(out, "info what? registers, stats or shadow\n");
        return;
    }
    enum { REGISTERS, STATS, SHADOW } what;
    if (!strcmp(word[1], "registers") || !strcmp(word[1], "reg"))
        what = REGISTERS;
    else if (!strcmp(word[1], "stats") && nwords == 2)
        what = STATS;
    else if (!strcmp(word[1], "shadow"))
        what = SHADOW;
    else {
        fprintf(out, "unknown: info %s (registers [N], stats, shadow [N])\n", word[1]);
        return;
    }
    if (!pause_harts(m)) {
        fprintf(out, "the machine is stopping\n");
        return;
    }
    switch (what) {
    case REGISTERS: info_registers(m, hart, out); break;
    case STATS: info_stats(m, out); break;
    case SHADOW: info_shadow(m, hart < 0 ? 0 : (unsigned)hart, out); break;
    }
    resume_harts(m);
}

enum monitor_result monitor_execute(struct monitor *m, const char *line, FILE *out)
{
    char buf[MONITOR_LINE_MAX];
    char *word[MAX_WORDS + 1];
    unsigned n = split_words(line, buf, sizeof buf, word);
    if (n == 0)
        return MONITOR_CONTINUE;
    if (!strcmp(word[0], "quit") || !strcmp(word[0], "q"))
        return MONITOR_QUIT;
    if (!strcmp(word[0], "help") || !strcmp(word[0], "?"))
        help(out);
    else if (!strcmp(word[0], "info"))
        info(m, n, word, out);
    else
        fprintf(out, "unknown command '%s' (try 'help')\n", word[0]);
    return MONITOR_CONTINUE;
}

enum monitor_result monitor_feed(struct monitor *m, uint8_t byte, FILE *out)
{
    enum monitor_result r = MONITOR_CONTINUE;
    bool lf_of_crlf = byte == '\n' && m->after_cr;
    m->after_cr = byte == '\r';
    if (lf_of_crlf)
        return r;
    if (byte == '\r' || byte == '\n') {
        m->line[m->len] = '\0';
        m->len = 0;
        fputc('\n', out);
        r = monitor_execute(m, m->line, out);
        if (r == MONITOR_CONTINUE)
            fputs(MONITOR_PROMPT, out);
    } else if (byte == 0x7f || byte == '\b') {
        if (m->len > 0) {
            m->len--;
            fputs("\b \b", out);
        }
    } else if (byte >= 0x20 && byte < 0x7f && m->len + 1 < sizeof m->line) {
        m->line[m->len++] = (char)byte;
        fputc(byte, out);
    }
    fflush(out);
    return r;
}
