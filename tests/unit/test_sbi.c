/* umbra's own SBI (-bios builtin, src/machine/sbi.c) on three harts, with
 * the coherence mechanism attached as the board attaches it.
 *
 * Checked: the boot state (hart 0 in S at the entry, the others STOPPED,
 * delegation and Sstc set up); Base (spec version, implementation id,
 * probe of every implemented extension and of unknown ones, machine ids as
 * the hart reports them); unknown extensions and functions; TIME through
 * stimecmp (STIP rises and falls with it); IPI masks and their errors; the
 * HSM state machine (start, status, stop and restart on a real thread,
 * retentive and non-retentive suspend, every error code; on a hart pool,
 * stop and suspend without waiting in the call); RFENCE (the caller
 * fences itself, parked targets are queued, hypervisor fences refused); SRST
 * types and reasons; DBCN write, read and write_byte and their address
 * checks; the legacy calls, including a hart mask read through the MMU and
 * a bad mask pointer turned into a load fault for S; an ECALL executed by
 * the CPU reaching the SBI; and `-bios builtin` on the command line. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "base/timebase.h"
#include "coherence/coherence.h"
#include "cpu/debug.h"
#include "cpu/hart.h"
#include "cpu/pool.h"
#include "machine/options.h"
#include "machine/sbi.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define ENTRY 0x80200000ull
#define FDT 0x80300000ull
#define CALL_PC 0x80001000ull
#define NHARTS 3

static struct guest_mem mem;
static struct coherence co;
static struct hart harts[NHARTS];
static struct sbi sbi;
static _Atomic bool halt;

/* The fake platform: console output captured, input from a string, resets recorded. */
static char out[512];
static size_t out_len;
static const char *input;
static int resets, reset_code;
static bool reset_reboot;

static void plat_write(void *ctx, const void *buf, size_t len)
{
    if (out_len + len <= sizeof out) {
        memcpy(out + out_len, buf, len);
        out_len += len;
    }
}

static int plat_getc(void *ctx)
{
    return input && *input ? (unsigned char)*input++ : -1;
}

static void plat_reset(void *ctx, bool reboot, int exit_code)
{
    resets++;
    reset_reboot = reboot;
    reset_code = exit_code;
}

static void setup(void)
{
    if (mem.ram) {
        sbi_destroy(&sbi);
        for (unsigned i = 0; i < NHARTS; i++)
            hart_destroy(&harts[i]);
        coherence_destroy(&co);
        mem_destroy(&mem);
    }
    mem_init(&mem, RAM_BASE, RAM_SIZE);
    atomic_store(&halt, false);
    for (unsigned i = 0; i < NHARTS; i++)
        hart_init(&harts[i], i, &mem, &halt);
    struct coherence_options o = { .strategy = COHERENCE_PATCH, .stale = STALE_INVALIDATE };
    coherence_init(&co, &mem, NHARTS, &o, (struct coherence_hooks){ NULL, NULL, NULL });
    for (unsigned i = 0; i < NHARTS; i++)
        harts[i].coherence = coherence_hart_attach(&co, i, &harts[i].tlb);
    sbi_init(&sbi, harts, NHARTS, &mem,
             (struct sbi_platform){ plat_write, plat_getc, plat_reset, NULL });
    sbi_boot(&sbi, ENTRY, FDT);
    out_len = 0;
    input = NULL;
    resets = 0;
}

/* An SBI call from S-mode on hart h, as the ECALL hook makes it. */
static void call(struct hart *h, uint64_t eid, uint64_t fid, uint64_t a0, uint64_t a1,
                 uint64_t a2)
{
    h->x[17] = eid;
    h->x[16] = fid;
    h->x[10] = a0;
    h->x[11] = a1;
    h->x[12] = a2;
    h->pc = CALL_PC;
    CHECK(sbi_ecall(&sbi, h));
}
#define ERR(h) ((int64_t)(h)->x[10])
#define VAL(h) ((h)->x[11])

static void test_boot_state(void)
{
    setup();
    CHECK_EQ(harts[0].priv, PRIV_S);
    CHECK_EQ(harts[0].pc, ENTRY);
    CHECK_EQ(harts[0].x[10], 0);
    CHECK_EQ(harts[0].x[11], FDT);
    CHECK_EQ(harts[0].satp, 0);
    CHECK_EQ(sbi_hsm_state(&sbi, 0), SBI_HSM_STARTED);
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_STOPPED);
    CHECK_EQ(sbi_hsm_state(&sbi, 2), SBI_HSM_STOPPED);
    for (unsigned i = 0; i < NHARTS; i++) {
        CHECK_EQ(harts[i].mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
        CHECK(harts[i].medeleg & (1ull << CAUSE_LOAD_PAGE_FAULT));
        CHECK(!(harts[i].medeleg & (1ull << CAUSE_ECALL_S)));
        CHECK(harts[i].menvcfg & MENVCFG_STCE);
        CHECK_EQ(harts[i].sbi_ctx, &sbi);
    }
}

static void test_base(void)
{
    setup();
    struct hart *h = &harts[0];
    call(h, SBI_EXT_BASE, 0, 0, 0, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(VAL(h), 2u << 24);
    CHECK_EQ(h->pc, CALL_PC + 4);
    call(h, SBI_EXT_BASE, 1, 0, 0, 0);
    CHECK_EQ(VAL(h), SBI_IMPL_ID_UMBRA);
    static const uint64_t implemented[] = {
        0x10, 0x54494d45, 0x735049, 0x52464e43, 0x48534d, 0x53525354, 0x4442434e, 0x01, 0x08,
    };
    for (unsigned i = 0; i < sizeof implemented / sizeof implemented[0]; i++) {
        call(h, SBI_EXT_BASE, 3, implemented[i], 0, 0);
        CHECK_EQ(ERR(h), SBI_SUCCESS);
        CHECK_EQ(VAL(h), 1);
    }
    static const uint64_t absent[] = { 0x504d55 /* PMU */, 0x53555350 /* SUSP */, 0x0a, 0x12345 };
    for (unsigned i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        call(h, SBI_EXT_BASE, 3, absent[i], 0, 0);
        CHECK_EQ(ERR(h), SBI_SUCCESS);
        CHECK_EQ(VAL(h), 0);
    }
    /* machine ids: what M-mode reads from the hart's CSRs (0 on umbra) */
    for (unsigned fid = 4; fid <= 6; fid++) {
        call(h, SBI_EXT_BASE, fid, 0, 0, 0);
        CHECK_EQ(ERR(h), SBI_SUCCESS);
        CHECK_EQ(VAL(h), 0);
    }
    CHECK_EQ(h->priv, PRIV_S);
}

static void test_bad_ids(void)
{
    setup();
    struct hart *h = &harts[0];
    static const uint64_t calls[][2] = {
        { 0x12345678, 0 }, { SBI_EXT_BASE, 7 }, { SBI_EXT_TIME, 1 }, { SBI_EXT_IPI, 1 },
        { SBI_EXT_RFENCE, 3 }, { SBI_EXT_RFENCE, 6 }, { SBI_EXT_HSM, 4 }, { SBI_EXT_SRST, 1 },
        { SBI_EXT_DBCN, 3 }, { 0x504d55, 0 },
    };
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        h->x[11] = 0xdead;
        call(h, calls[i][0], calls[i][1], 0, 0, 0);
        CHECK_EQ(ERR(h), SBI_ERR_NOT_SUPPORTED);
        CHECK_EQ(h->pc, CALL_PC + 4);
    }
    call(h, 0x09, 0, 0, 0, 0);          /* a legacy number nobody defined */
    CHECK_EQ(ERR(h), SBI_ERR_NOT_SUPPORTED);
}

static void test_timer(void)
{
    setup();
    struct hart *h = &harts[0];
    CHECK(!(atomic_load(&h->mip) & MIP_STIP));
    call(h, SBI_EXT_TIME, 0, 0, 0, 0);           /* already due */
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(h->stimecmp, 0);
    CHECK(atomic_load(&h->mip) & MIP_STIP);
    uint64_t later = timebase_now() + 100 * TIMEBASE_HZ;
    call(h, SBI_EXT_TIME, 0, later, 0, 0);       /* setting clears it */
    CHECK_EQ(h->stimecmp, later);
    CHECK(!(atomic_load(&h->mip) & MIP_STIP));
    call(h, SBI_EXT_LEGACY_SET_TIMER, 0, 1, 0, 0);
    CHECK_EQ(h->x[10], 0);
    CHECK(atomic_load(&h->mip) & MIP_STIP);
}

static uint64_t ssip(unsigned i) { return atomic_load(&harts[i].mip) & MIP_SSIP; }

static void test_ipi(void)
{
    setup();
    struct hart *h = &harts[0];
    call(h, SBI_EXT_IPI, 0, 0x1, 1, 0);          /* bit 0 with base 1: hart 1 */
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK(!ssip(0) && ssip(1) && !ssip(2));
    call(h, SBI_EXT_IPI, 0, 0xc, 0, 0);          /* hart 3 does not exist */
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    CHECK(!ssip(0) && !ssip(2));
    call(h, SBI_EXT_IPI, 0, 0x1, 3, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_IPI, 0, 0, UINT64_MAX, 0);   /* base -1: everyone */
    CHECK(ssip(0) && ssip(1) && ssip(2));
    call(h, SBI_EXT_LEGACY_CLEAR_IPI, 0, 0, 0, 0);
    CHECK(!ssip(0) && ssip(1));
}

/* Hart 2's own thread: HSM hart_stop, which returns only once restarted
 * (no CHECK here: the counters belong to the main thread). */
static void *stop_hart2(void *arg)
{
    struct hart *h = &harts[2];
    h->x[17] = SBI_EXT_HSM;
    h->x[16] = 1;
    h->pc = CALL_PC;
    sbi_ecall(&sbi, h);
    return NULL;
}

/* Hart 0 starts hart 2, whose thread (`body`) then stops it again;
 * returns that thread once hart 2 is STOPPED. */
static pthread_t start_then_stop_hart2(void *(*body)(void *))
{
    call(&harts[0], SBI_EXT_HSM, 0, 2, 0x80250000, 0);
    CHECK(sbi_hart_await_start(&sbi, &harts[2]));
    pthread_t t;
    pthread_create(&t, NULL, body, NULL);
    while (sbi_hsm_state(&sbi, 2) != SBI_HSM_STOPPED)
        sched_yield();
    return t;
}

static void test_hsm(void)
{
    setup();
    struct hart *h = &harts[0];
    call(h, SBI_EXT_HSM, 2, 1, 0, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(VAL(h), SBI_HSM_STOPPED);
    call(h, SBI_EXT_HSM, 2, 3, 0, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_HSM, 0, 7, ENTRY, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_HSM, 0, 1, 0x1000, 0);       /* not RAM */
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_ADDRESS);
    call(h, SBI_EXT_HSM, 0, 0, ENTRY, 0);        /* itself: already running */
    CHECK_EQ(ERR(h), SBI_ERR_ALREADY_AVAILABLE);

    call(h, SBI_EXT_HSM, 0, 1, 0x80240000, 0x1234);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_START_PENDING);
    call(h, SBI_EXT_HSM, 0, 1, ENTRY, 0);
    CHECK_EQ(ERR(h), SBI_ERR_ALREADY_AVAILABLE);
    CHECK(sbi_hart_await_start(&sbi, &harts[1]));
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_STARTED);
    CHECK_EQ(harts[1].priv, PRIV_S);
    CHECK_EQ(harts[1].pc, 0x80240000);
    CHECK_EQ(harts[1].x[10], 1);
    CHECK_EQ(harts[1].x[11], 0x1234);
    CHECK_EQ(harts[1].satp, 0);
    CHECK(!(harts[1].mstatus & MSTATUS_SIE));

    /* hart 2: started, then stops itself on its own thread, then restarted */
    pthread_t t = start_then_stop_hart2(stop_hart2);
    call(h, SBI_EXT_HSM, 0, 2, 0x80260000, 0x55);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    pthread_join(t, NULL);
    CHECK_EQ(sbi_hsm_state(&sbi, 2), SBI_HSM_STARTED);
    CHECK_EQ(harts[2].pc, 0x80260000);
    CHECK_EQ(harts[2].x[10], 2);
    CHECK_EQ(harts[2].x[11], 0x55);
}

/* Hart 2's thread as the board runs it: inside the debugger's set while it
 * runs, and it stops itself. */
static void *stop_hart2_debugged(void *arg)
{
    debug_hart_enter(&harts[2]);
    stop_hart2(arg);
    debug_hart_leave(&harts[2]);
    return NULL;
}

/* A hart in hart_stop runs no guest code and never reaches a boundary: a
 * debugger's all-stop (gdb attaching, Ctrl-C) must not wait for it. */
static void test_hsm_stop_under_debugger(void)
{
    setup();
    struct debug_hub hub;
    CHECK(debug_hub_init(&hub, harts, NHARTS, &halt, false));
    struct hart *h = &harts[0];
    pthread_t t = start_then_stop_hart2(stop_hart2_debugged);
    debug_request_stop(&hub, DEBUG_SIGINT);
    struct debug_stop why;
    CHECK(debug_wait_stopped(&hub, 5000, &why));
    CHECK_EQ(why.signal, DEBUG_SIGINT);
    enum debug_action go[NHARTS];
    for (unsigned i = 0; i < NHARTS; i++)
        go[i] = DEBUG_CONTINUE;
    CHECK(debug_resume(&hub, go));
    call(h, SBI_EXT_HSM, 0, 2, 0x80260000, 0);      /* and it starts again */
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    pthread_join(t, NULL);
    CHECK_EQ(harts[2].pc, 0x80260000);
    debug_hub_destroy(&hub);
    for (unsigned i = 0; i < NHARTS; i++)
        harts[i].debug = NULL;
}

static void test_suspend(void)
{
    setup();
    struct hart *h = &harts[0];
    call(h, SBI_EXT_HSM, 3, 0x1, 0, 0);          /* reserved type */
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_HSM, 3, 0x10000000, 0, 0);   /* platform type umbra lacks */
    CHECK_EQ(ERR(h), SBI_ERR_NOT_SUPPORTED);
    call(h, SBI_EXT_HSM, 3, SBI_SUSPEND_NON_RETENTIVE, 0x1000, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_ADDRESS);
    /* an enabled interrupt is pending, so the WFI inside ends at once */
    h->mie |= MIP_SSIP;
    atomic_fetch_or(&h->mip, MIP_SSIP);
    call(h, SBI_EXT_HSM, 3, SBI_SUSPEND_RETENTIVE, 0, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(h->pc, CALL_PC + 4);
    CHECK_EQ(sbi_hsm_state(&sbi, 0), SBI_HSM_STARTED);
    h->satp = 8ull << 60;
    call(h, SBI_EXT_HSM, 3, SBI_SUSPEND_NON_RETENTIVE, 0x80270000, 0x77);
    CHECK_EQ(h->pc, 0x80270000);
    CHECK_EQ(h->x[10], 0);
    CHECK_EQ(h->x[11], 0x77);
    CHECK_EQ(h->satp, 0);
    CHECK(!atomic_load(&co.hart[0].parked));
}

/* On a hart pool (cpu/pool.h) nothing waits inside a call: hart_stop and
 * hart_suspend return at once and leave the worker at the block boundary
 * (wfi_wanted), and sbi_hart_may_run, which the pool asks before it runs a
 * hart, keeps a stopped hart off the workers and starts or resumes it. */
static void test_hsm_on_pool(void)
{
    setup();
    struct hart_pool pool;
    pool_init(&pool, harts, NHARTS, 1);
    CHECK(!sbi_hart_may_run(&sbi, &harts[1]));          /* stopped since boot */
    CHECK(sbi_hart_may_run(&sbi, &harts[0]));

    /* hart 0 starts hart 1, which starts where hart_start said */
    call(&harts[0], SBI_EXT_HSM, 0, 1, 0x80240000, 0x1234);
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_START_PENDING);
    CHECK(sbi_hart_may_run(&sbi, &harts[1]));
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_STARTED);
    CHECK_EQ(harts[1].pc, 0x80240000);
    CHECK_EQ(harts[1].x[10], 1);
    CHECK_EQ(harts[1].x[11], 0x1234);

    /* hart 1 stops: the call returns, and the hart may not run */
    struct hart *h = &harts[1];
    h->wfi_wanted = false;
    h->x[17] = SBI_EXT_HSM;
    h->x[16] = 1;
    CHECK(sbi_ecall(&sbi, h));
    CHECK(h->wfi_wanted);
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_STOPPED);
    CHECK(!sbi_hart_may_run(&sbi, h));
    call(&harts[0], SBI_EXT_HSM, 0, 1, 0x80250000, 0x55);
    CHECK(sbi_hart_may_run(&sbi, h));
    CHECK_EQ(h->pc, 0x80250000);

    /* retentive suspend: returns success at once; running again resumes */
    h->wfi_wanted = false;
    call(h, SBI_EXT_HSM, 3, SBI_SUSPEND_RETENTIVE, 0, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK(h->wfi_wanted);
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_SUSPENDED);
    CHECK(sbi_hart_may_run(&sbi, h));
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_STARTED);
    CHECK_EQ(h->pc, CALL_PC + 4);

    /* non-retentive: resumes at the address the call gave */
    h->satp = 8ull << 60;
    call(h, SBI_EXT_HSM, 3, SBI_SUSPEND_NON_RETENTIVE, 0x80270000, 0x77);
    CHECK_EQ(sbi_hsm_state(&sbi, 1), SBI_HSM_SUSPENDED);
    CHECK(sbi_hart_may_run(&sbi, h));
    CHECK_EQ(h->pc, 0x80270000);
    CHECK_EQ(h->x[10], 1);
    CHECK_EQ(h->x[11], 0x77);
    CHECK_EQ(h->satp, 0);
    pool_destroy(&pool);
    for (unsigned i = 0; i < NHARTS; i++)
        harts[i].pool = NULL;
}

static void test_rfence(void)
{
    setup();
    struct hart *h = &harts[0];
    coherence_unpark(h->coherence);
    call(h, SBI_EXT_RFENCE, 1, 0, UINT64_MAX, 0);        /* everyone, whole space */
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(co.hart[0].stats.coherency_events, 1);     /* the caller, itself */
    CHECK_EQ(co.hart[0].stats.remote_fences_queued, 2);  /* harts 1, 2 are stopped */
    CHECK_EQ(co.hart[0].stats.remote_fences_waited, 0);
    call(h, SBI_EXT_RFENCE, 2, 0x2, 0, 0);               /* hart 1 only, with an ASID */
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(co.hart[0].stats.coherency_events, 1);
    CHECK_EQ(atomic_load(&co.hart[1].remote_req[REMOTE_SFENCE_VMA]), 2);
    call(h, SBI_EXT_RFENCE, 0, 0x6, 0, 0);               /* FENCE.I on 1 and 2 */
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(atomic_load(&co.hart[2].remote_req[REMOTE_FENCE_I]), 1);
    call(h, SBI_EXT_RFENCE, 1, 0x8, 0, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    /* hart 1 starts: every queued event is served before it runs */
    call(h, SBI_EXT_HSM, 0, 1, ENTRY, 0);
    CHECK(sbi_hart_await_start(&sbi, &harts[1]));
    CHECK_EQ(atomic_load(&co.hart[1].remote_ack[REMOTE_SFENCE_VMA]), 2);
    CHECK_EQ(atomic_load(&co.hart[1].remote_ack[REMOTE_FENCE_I]), 1);
    CHECK_EQ(co.hart[1].stats.remote_fences_served, 2);     /* one of each kind */
    CHECK_EQ(atomic_load(&co.hart[2].remote_ack[REMOTE_FENCE_I]), 0);   /* still stopped */
}

static void test_srst(void)
{
    setup();
    struct hart *h = &harts[0];
    call(h, SBI_EXT_SRST, 0, 3, 0, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_SRST, 0, 0xf0000000, 0, 0);
    CHECK_EQ(ERR(h), SBI_ERR_NOT_SUPPORTED);
    call(h, SBI_EXT_SRST, 0, 0, 2, 0);
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    CHECK_EQ(resets, 0);
    call(h, SBI_EXT_SRST, 0, SBI_RESET_SHUTDOWN, SBI_RESET_REASON_NONE, 0);
    CHECK_EQ(resets, 1);
    CHECK(!reset_reboot);
    CHECK_EQ(reset_code, 0);
    CHECK_EQ(h->pc, CALL_PC);           /* no return */
    call(h, SBI_EXT_SRST, 0, SBI_RESET_SHUTDOWN, SBI_RESET_REASON_FAILURE, 0);
    CHECK_EQ(reset_code, 1);
    call(h, SBI_EXT_SRST, 0, SBI_RESET_WARM_REBOOT, 0, 0);
    CHECK(reset_reboot);
    call(h, SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
    CHECK_EQ(resets, 4);
    CHECK(!reset_reboot);
}

static void test_dbcn(void)
{
    setup();
    struct hart *h = &harts[0];
    mem_copy_to_guest(&mem, 0x80100000, "hello, sbi", 10);
    call(h, SBI_EXT_DBCN, 0, 10, 0x80100000, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(VAL(h), 10);
    CHECK(out_len == 10 && !memcmp(out, "hello, sbi", 10));
    call(h, SBI_EXT_DBCN, 0, 16, RAM_BASE + RAM_SIZE - 8, 0);    /* runs past RAM */
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_DBCN, 0, 1, 0x80100000, 1);                   /* above 2^64 */
    CHECK_EQ(ERR(h), SBI_ERR_INVALID_PARAM);
    call(h, SBI_EXT_DBCN, 2, '!', 0, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK(out_len == 11 && out[10] == '!');
    input = "xy";
    call(h, SBI_EXT_DBCN, 1, 4, 0x80100100, 0);
    CHECK_EQ(ERR(h), SBI_SUCCESS);
    CHECK_EQ(VAL(h), 2);
    char got[2];
    mem_copy_from_guest(&mem, got, 0x80100100, 2);
    CHECK(got[0] == 'x' && got[1] == 'y');
    call(h, SBI_EXT_DBCN, 1, 4, 0x80100100, 0);                   /* nothing waiting */
    CHECK_EQ(VAL(h), 0);
}

static void test_legacy(void)
{
    setup();
    struct hart *h = &harts[0];
    call(h, SBI_EXT_LEGACY_PUTCHAR, 0, 'Z', 0, 0);
    CHECK_EQ(h->x[10], 0);
    CHECK(out_len == 1 && out[0] == 'Z');
    call(h, SBI_EXT_LEGACY_GETCHAR, 0, 0, 0, 0);
    CHECK_EQ(h->x[10], UINT64_MAX);
    input = "q";
    call(h, SBI_EXT_LEGACY_GETCHAR, 0, 0, 0, 0);
    CHECK_EQ(h->x[10], 'q');
    /* the hart mask is read through the hart's own translation (bare here) */
    uint64_t mask = 0x6;
    mem_copy_to_guest(&mem, 0x80100200, &mask, 8);
    call(h, SBI_EXT_LEGACY_SEND_IPI, 0, 0x80100200, 0, 0);
    CHECK_EQ(h->x[10], 0);
    CHECK_EQ(h->pc, CALL_PC + 4);
    CHECK(!ssip(0) && ssip(1) && ssip(2));
    /* a mask pointer nothing answers at: S gets the load access fault */
    h->stvec = 0x80002000;
    call(h, SBI_EXT_LEGACY_SEND_IPI, 0, 0x1000, 0, 0);
    CHECK_EQ(h->pc, 0x80002000);
    CHECK_EQ(h->scause, CAUSE_LOAD_ACCESS);
    CHECK_EQ(h->sepc, CALL_PC);
    CHECK_EQ(h->priv, PRIV_S);
}

/* The CPU's ECALL in S-mode reaches the SBI; in U-mode it still traps. */
static void test_ecall_instruction(void)
{
    setup();
    struct hart *h = &harts[0];
    uint32_t ecall = 0x00000073;
    mem_copy_to_guest(&mem, ENTRY, &ecall, 4);
    mem_copy_to_guest(&mem, ENTRY + 4, &ecall, 4);
    h->pc = ENTRY;
    h->x[17] = SBI_EXT_BASE;
    h->x[16] = 0;
    hart_step(h);
    CHECK_EQ(h->x[10], 0);
    CHECK_EQ(h->x[11], 2u << 24);
    CHECK_EQ(h->pc, ENTRY + 4);
    CHECK_EQ(h->priv, PRIV_S);
    h->priv = PRIV_U;
    h->stvec = 0x80003000;
    hart_step(h);
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->scause, CAUSE_ECALL_U);
    CHECK_EQ(h->pc, 0x80003000);
}

/* options_parse with argv = "umbra" + args; messages go nowhere. */
static enum options_result parse(struct umbra_options *o, const char *a1, const char *a2,
                                 const char *a3, const char *a4)
{
    char *argv[] = { "umbra", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
    int argc = 1;
    while (argv[argc])
        argc++;
    FILE *sink = fopen("/dev/null", "w");
    enum options_result r = options_parse(argc, argv, o, sink, sink);
    fclose(sink);
    return r;
}

static void test_option(void)
{
    struct umbra_options o;
    CHECK_EQ(parse(&o, "-bios", "builtin", "-kernel", "Image"), OPTIONS_RUN);
    CHECK(o.bios_builtin && !o.bios_none && !o.bios);
    CHECK_EQ(parse(&o, "-bios", "builtin", NULL, NULL), OPTIONS_USAGE_ERROR);   /* nothing to run */
    CHECK_EQ(parse(&o, "-bios", "builtin", "-bios", "fw.bin"), OPTIONS_RUN);    /* the last wins */
    CHECK(!o.bios_builtin && !strcmp(o.bios, "fw.bin"));
}

int main(void)
{
    test_boot_state();
    test_base();
    test_bad_ids();
    test_timer();
    test_ipi();
    test_hsm();
    test_hsm_stop_under_debugger();
    test_suspend();
    test_hsm_on_pool();
    test_rfence();
    test_srst();
    test_dbcn();
    test_legacy();
    test_ecall_instruction();
    test_option();
    return check_summary();
}
