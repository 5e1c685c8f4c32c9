/* monitor: the commands behind Ctrl-A C, driven from strings, on two harts
 * and a real coherence mechanism (no hart thread runs): the registers and
 * shadow tables it reports are the ones set up here, it reads them only
 * between the pause and resume hooks, and the line editor runs each line
 * once. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "machine/monitor.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (8ull << 20)
#define ROOT 0x80100000ull
#define MID 0x80101000ull

static struct guest_mem mem;
static struct coherence co;
static struct hart harts[2];
static _Atomic bool halt;
static unsigned pauses, resumes;
static bool paused, pause_ok = true;

/* The pause hook is where a running hart would stop: the values it leaves
 * behind are the ones the monitor must print. */
static bool fake_pause(void *ctx)
{
    pauses++;
    if (!pause_ok)
        return false;
    paused = true;
    harts[0].x[9] = 0x5ca1ab1e;
    return true;
}

static void fake_resume(void *ctx)
{
    resumes++;
    paused = false;
}

/* Run one command; its output in a malloc'ed string. */
static char *run(struct monitor *m, const char *line, enum monitor_result *r)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    enum monitor_result res = monitor_execute(m, line, out);
    fclose(out);
    if (r)
        *r = res;
    return text;
}

static bool has(const char *text, const char *what)
{
    bool ok = strstr(text, what) != NULL;
    if (!ok)
        fprintf(stderr, "missing \"%s\" in:\n%s\n", what, text);
    return ok;
}

static void setup(struct monitor *m)
{
    mem_init(&mem, RAM_BASE, RAM_SIZE);
    struct coherence_options o = { .strategy = COHERENCE_PATCH, .stale = STALE_INVALIDATE };
    struct coherence_hooks hooks;
    memset(&hooks, 0, sizeof hooks);
    CHECK(coherence_init(&co, &mem, 2, &o, hooks));
    for (unsigned i = 0; i < 2; i++)
        hart_init(&harts[i], i, &mem, &halt);
    const struct monitor_target t = { harts, 2, &co, fake_pause, fake_resume, NULL };
    monitor_init(m, &t);
}

static void registers(struct monitor *m)
{
    harts[1].pc = 0x80001234;
    harts[1].priv = PRIV_S;
    harts[1].x[31] = 0xabcdef;
    harts[1].mepc = 0x80000040;
    char *text = run(m, "info registers 0", NULL);
    CHECK(has(text, "hart 0  pc "));
    CHECK(has(text, "x9/s1    000000005ca1ab1e"));      /* read after the pause */
    CHECK(!strstr(text, "hart 1"));
    free(text);
    text = run(m, "  info   registers ", NULL);
    CHECK(has(text, "hart 1  pc 0000000080001234  priv S"));
    CHECK(has(text, "x31/t6   0000000000abcdef"));
    CHECK(has(text, "mepc     0000000080000040"));
    free(text);
    CHECK_EQ(pauses, 2);
    CHECK_EQ(resumes, 2);
    CHECK(!paused);
}

static void stats(struct monitor *m)
{
    harts[0].minstret = 123456;
    co.hart[1].stats.coherency_events = 777;
    char *text = run(m, "info stats", NULL);
    CHECK(has(text, "coherence=patch"));
    CHECK(has(text, "123456"));
    CHECK(has(text, "777"));
    free(text);
}

static void shadow(struct monitor *m)
{
    struct shadow_table *t = co.hart[1].table;
    bool created;
    struct shadow_page *root = shadow_get(t, ROOT >> PAGE_SHIFT, 2, &created);
    struct shadow_page *mid = shadow_get(t, MID >> PAGE_SHIFT, 1, &created);
    CHECK(root && mid);
    if (!root || !mid)
        return;
    for (unsigned i = 0; i < 3; i++)
        shadow_set_entry(t, root, i, SE_VALID | (MID + i * PAGE_SIZE));
    shadow_set_entry(t, mid, 5, SE_VALID | SE_LEAF | SE_R | 0x80400000ull);
    harts[1].satp = SATP_MODE_SV39 << SATP_MODE_SHIFT | 7ull << SATP_ASID_SHIFT | ROOT >> PAGE_SHIFT;
    char *text = run(m, "info shadow 1", NULL);
    CHECK(has(text, "hart 1 shadow table: per hart, coherence=patch"));
    CHECK(has(text, "mode Sv39, ASID 7, root frame 0x80100"));
    CHECK(has(text, "frame 0x80100: 3 live entries  <- satp, ASID 7"));
    CHECK(has(text, "shadow pages: 2 (level 3: 0, level 2: 1, level 1: 1, level 0: 0)"));
    CHECK(has(text, "live entries: 4"));
    CHECK(has(text, "traced frames: 2"));
    free(text);
    text = run(m, "info shadow", NULL);          /* hart 0: nothing derived */
    CHECK(has(text, "hart 0 shadow table"));
    CHECK(has(text, "mode Bare"));
    CHECK(has(text, "shadow pages: 0"));
    CHECK(has(text, "traced frames: 0"));
    free(text);
}

static void errors_and_quit(struct monitor *m)
{
    unsigned before = pauses;
    enum monitor_result r;
    char *text = run(m, "info registers 2", &r);
    CHECK(has(text, "no hart '2'"));
    free(text);
    text = run(m, "info nonsense", NULL);
    CHECK(has(text, "unknown: info nonsense"));
    free(text);
    text = run(m, "frobnicate", &r);
    CHECK(has(text, "unknown command 'frobnicate'"));
    CHECK_EQ(r, MONITOR_CONTINUE);
    free(text);
    CHECK_EQ(pauses, before);                   /* bad commands never stop the harts */
    text = run(m, "help", NULL);
    CHECK(has(text, "info shadow [N]"));
    free(text);
    pause_ok = false;
    text = run(m, "info registers", NULL);
    CHECK(has(text, "the machine is stopping"));
    CHECK(!strstr(text, "hart 0"));
    free(text);
    pause_ok = true;
    free(run(m, "quit", &r));
    CHECK_EQ(r, MONITOR_QUIT);
    free(run(m, "q", &r));
    CHECK_EQ(r, MONITOR_QUIT);
}

static void line_editing(struct monitor *m)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    unsigned before = pauses;
    const char typed[] = "inf\x7fo\x7f" "fo registers 1\r\n\r";
    enum monitor_result r = MONITOR_CONTINUE;
    for (const char *c = typed; *c; c++)
        r = monitor_feed(m, (uint8_t)*c, out);
    fclose(out);
    CHECK_EQ(r, MONITOR_CONTINUE);
    CHECK_EQ(pauses, before + 1);               /* CR LF ran the line once; the lone CR nothing */
    CHECK(has(text, "hart 1  pc"));
    unsigned prompts = 0;
    for (const char *p = text; (p = strstr(p, MONITOR_PROMPT)) != NULL; p++)
        prompts++;
    CHECK_EQ(prompts, 2);
    free(text);
    out = open_memstream(&text, &size);
    for (const char *c = "quit\r"; *c; c++)
        r = monitor_feed(m, (uint8_t)*c, out);
    fclose(out);
    free(text);
    CHECK_EQ(r, MONITOR_QUIT);
}

int main(void)
{
    struct monitor m;
    setup(&m);
    registers(&m);
    stats(&m);
    shadow(&m);
    errors_and_quit(&m);
    line_editing(&m);
    coherence_destroy(&co);
    mem_destroy(&mem);
    return check_summary();
}
