/* sbi: the SBI calls served by umbra itself (see sbi.h). References are to
 * the RISC-V SBI specification v2.0 and the privileged spec 1.12. */
#include "machine/sbi.h"

#include <string.h>
#include <time.h>

#include "base/timebase.h"
#include "base/tracelog.h"
#include "coherence/coherence.h"
#include "cpu/access.h"
#include "cpu/csr.h"
#include "cpu/debug.h"
#include "cpu/trap.h"

/* Exceptions S-mode handles itself, delegated as firmware does for Linux:
 * everything except the ECALLs from S and M, which M (umbra) serves.
 * umbra performs misaligned loads and stores in hardware, so causes 4 and 6
 * come only from misaligned atomics, which S reports as the spec says. */
#define DELEGATED_EXCEPTIONS ((1ull << CAUSE_MISALIGNED_FETCH) | (1ull << CAUSE_FETCH_ACCESS) | \
                              (1ull << CAUSE_ILLEGAL_INSN) | (1ull << CAUSE_BREAKPOINT) | \
                              (1ull << CAUSE_MISALIGNED_LOAD) | (1ull << CAUSE_LOAD_ACCESS) | \
                              (1ull << CAUSE_MISALIGNED_STORE) | (1ull << CAUSE_STORE_ACCESS) | \
                              (1ull << CAUSE_ECALL_U) | (1ull << CAUSE_FETCH_PAGE_FAULT) | \
                              (1ull << CAUSE_LOAD_PAGE_FAULT) | (1ull << CAUSE_STORE_PAGE_FAULT))
#define DELEGATED_INTERRUPTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
/* counteren: cycle, time and instret are readable (Zicntr). */
#define S_COUNTERS 0x7u
#define PMPADDR_ALL ((1ull << 54) - 1)  /* NAPOT over the whole physical space */

/* How a call ends. */
enum outcome {
    RET_PAIR,       /* a0 = error, a1 = value (SBI v0.2 and later) */
    RET_LEGACY,     /* a0 = value only (legacy extensions) */
    RET_DONE,       /* pc (and registers) already set: a restart or a trap taken */
};

struct call {
    struct sbi *s;
    struct hart *h;
    uint64_t fid, a[6];
    long error;
    uint64_t value;
};

static bool halted(const struct hart *h)
{
    return h->halt && atomic_load(h->halt);
}

static enum sbi_hsm_state hsm_get(const struct sbi *s, unsigned id)
{
    return (enum sbi_hsm_state)atomic_load(&s->hart[id].hsm);
}

static void hsm_set(struct sbi *s, unsigned id, enum sbi_hsm_state st)
{
    atomic_store(&s->hart[id].hsm, (int)st);
}

enum sbi_hsm_state sbi_hsm_state(const struct sbi *s, unsigned hartid)
{
    return hsm_get(s, hartid);
}

/* ------------------------------------------------------- hart set-up */

/* What M-mode firmware leaves behind for S (the privileged spec's
 * delegation 3.1.8, counter enables 3.1.11, Sstc, PMP 3.7). */
static void setup_machine_mode(struct hart *h)
{
    h->medeleg = DELEGATED_EXCEPTIONS;
    h->mideleg = DELEGATED_INTERRUPTS;
    h->mcounteren = S_COUNTERS;
    h->scounteren = S_COUNTERS;         /* and U too, as firmware leaves it for Linux */
    h->menvcfg = MENVCFG_STCE;
    h->stimecmp = UINT64_MAX;           /* no timer interrupt until S asks */
    h->pmp.addr[0] = PMPADDR_ALL;
    h->pmp.cfg[0] = PMP_A_NAPOT | PMP_R | PMP_W | PMP_X;
}

/* FENCE.I on h, on its own thread: its decoded code catches up with memory. */
static void local_fence_i(struct hart *h)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    icache_sync(&h->icache);
}

/* The coherence mechanism's hooks for remote events served at h's boundary. */
static void served_fence_i(void *ctx)
{
    local_fence_i(ctx);
}

static void current_settings(void *ctx, struct coherence_settings *s)
{
    *s = hart_coherence_settings(ctx);
}

/* Enter S-mode at pc with a0, a1, satp = 0 and sstatus.SIE = 0: the state
 * HSM hart_start and non-retentive resume define (SBI 9.1, 9.4). The fast
 * cache goes with the old satp; code others wrote meanwhile is fetched anew. */
static void enter_supervisor(struct hart *h, uint64_t pc, uint64_t a0, uint64_t a1)
{
    h->priv = PRIV_S;
    h->pc = pc;
    h->x[10] = a0;
    h->x[11] = a1;
    h->satp = 0;
    h->mstatus &= ~(MSTATUS_SIE | MSTATUS_MPRV);
    h->lr_valid = false;
    tlb_flush_all(&h->tlb);
    local_fence_i(h);
    h->poll_now = true;
}

void sbi_init(struct sbi *s, struct hart *harts, unsigned nharts, struct guest_mem *mem,
              struct sbi_platform plat)
{
    memset(s, 0, sizeof *s);
    s->harts = harts;
    s->nharts = nharts < SBI_MAX_HARTS ? nharts : SBI_MAX_HARTS;
    s->mem = mem;
    s->plat = plat;
    pthread_mutex_init(&s->hsm_lock, NULL);
    for (unsigned i = 0; i < s->nharts; i++) {
        atomic_init(&s->hart[i].hsm, SBI_HSM_STOPPED);
        harts[i].sbi_ecall = sbi_ecall;
        harts[i].sbi_ctx = s;
        if (harts[i].coherence)
            coherence_hart_set_hooks(harts[i].coherence,
                                     (struct coherence_hart_hooks){ current_settings,
                                                                    served_fence_i, &harts[i] });
    }
}

void sbi_destroy(struct sbi *s)
{
    pthread_mutex_destroy(&s->hsm_lock);
}

void sbi_boot(struct sbi *s, uint64_t entry, uint64_t fdt_addr)
{
    for (unsigned i = 0; i < s->nharts; i++) {
        struct hart *h = &s->harts[i];
        hart_reset(h, entry);
        setup_machine_mode(h);
        enter_supervisor(h, entry, i, fdt_addr);
        hsm_set(s, i, i == 0 ? SBI_HSM_STARTED : SBI_HSM_STOPPED);
    }
}

/* ------------------------------------------------------- parking */

static void park(struct hart *h)
{
    if (h->coherence)
        coherence_park(h->coherence);
}

static void unpark(struct hart *h)
{
    if (h->coherence)
        coherence_unpark(h->coherence);
}

/* h, START_PENDING or suspended off a pool (suspend_off_pool), runs
 * again: STARTED, and in S-mode where hart_start or a non-retentive
 * suspend said (a retentive suspend has returned already). */
static void start_now(struct sbi *s, struct hart *h)
{
    unsigned id = (unsigned)h->mhartid;
    pthread_mutex_lock(&s->hsm_lock);
    bool enter = hsm_get(s, id) != SBI_HSM_SUSPENDED || s->hart[id].resume_at_start;
    uint64_t pc = s->hart[id].start_addr, arg = s->hart[id].start_arg;
    hsm_set(s, id, SBI_HSM_STARTED);
    pthread_mutex_unlock(&s->hsm_lock);
    if (enter)
        enter_supervisor(h, pc, id, arg);
}

/* On a pool, a hart that stops or suspends does not wait inside the call:
 * it leaves its worker at the block boundary, as at a WFI, and the pool
 * runs it again only when sbi_hart_may_run lets it. */
static void wait_off_pool(struct hart *h)
{
    h->wfi_wanted = true;
    h->poll_now = true;
}

/* Sleep, parked, until someone moves h from STOPPED to START_PENDING or the
 * machine halts. hart_kick signals wait_cond under wait_lock after the state
 * change, and the state is checked under that lock: no wake-up is lost. */
static bool wait_for_start(struct sbi *s, struct hart *h)
{
    unsigned id = (unsigned)h->mhartid;
    park(h);
    pthread_mutex_lock(&h->wait_lock);
    while (hsm_get(s, id) != SBI_HSM_START_PENDING && !halted(h)) {
        struct timespec deadline = timebase_deadline(timebase_now() + TIMEBASE_HZ / 10);
        pthread_cond_clockwait(&h->wait_cond, &h->wait_lock, CLOCK_MONOTONIC, &deadline);
    }
    pthread_mutex_unlock(&h->wait_lock);
    if (hsm_get(s, id) != SBI_HSM_START_PENDING)
        return false;           /* halted; the hart thread stops parked */
    start_now(s, h);
    /* Queued remote fences are served here, before the first instruction. */
    unpark(h);
    return true;
}

bool sbi_hart_await_start(struct sbi *s, struct hart *h)
{
    unsigned id = (unsigned)h->mhartid;
    if (id >= s->nharts || hsm_get(s, id) == SBI_HSM_STARTED)
        return true;
    return wait_for_start(s, h);
}

bool sbi_hart_may_run(void *ctx, struct hart *h)
{
    struct sbi *s = ctx;
    unsigned id = (unsigned)h->mhartid;
    if (id >= s->nharts)
        return true;
    enum sbi_hsm_state st = hsm_get(s, id);
    if (st == SBI_HSM_START_PENDING || st == SBI_HSM_SUSPENDED)
        start_now(s, h);
    return st != SBI_HSM_STOPPED;
}

/* ------------------------------------------------------- helpers */

/* Harts named by (hart_mask, hart_mask_base) (SBI 3.1): base = -1 means
 * every hart; a bit naming a hart that does not exist is invalid. */
static bool decode_hart_mask(const struct sbi *s, uint64_t mask, uint64_t base, uint32_t *out)
{
    uint32_t all = s->nharts >= 32 ? UINT32_MAX : (1u << s->nharts) - 1;
    if (base == UINT64_MAX) {
        *out = all;
        return true;
    }
    *out = 0;
    for (unsigned bit = 0; bit < 64; bit++) {
        if (!(mask >> bit & 1))
            continue;
        if (base >= s->nharts || bit >= s->nharts - base)
            return false;
        *out |= 1u << (base + bit);
    }
    return true;
}

static bool valid_hart(const struct sbi *s, uint64_t id)
{
    return id < s->nharts;
}

/* An address S-mode could execute from: in RAM (the only place harts fetch). */
static bool valid_entry(const struct sbi *s, uint64_t pc)
{
    return (pc & 1) == 0 && mem_in_ram(s->mem, pc, 2);
}

/* SBI 6.1 / legacy 0x00: program the S timer through Sstc's stimecmp; STIP
 * follows it, so it drops now if the new time is in the future. */
static void set_timer(struct hart *h, uint64_t when)
{
    h->stimecmp = when;
    trap_update_timer_irqs(h);
}

static void send_ipis(struct sbi *s, uint32_t targets)
{
    for (unsigned i = 0; i < s->nharts; i++)
        if (targets & (1u << i))
            hart_set_irq(&s->harts[i], MIP_SSIP, true);
}

/* SFENCE.VMA on each target (SBI 8.2, 8.3): the caller fences itself, the
 * others through the coherence mechanism's remote fence. The ASID and range
 * only narrow what must be dropped; fencing everything is always correct. */
static void remote_sfence_vma(struct hart *h, uint32_t targets)
{
    uint32_t self = 1u << h->mhartid;
    struct coherence_hart *ch = h->coherence;
    if (!ch) {
        if (targets & self)
            tlb_flush_all(&h->tlb);
        return;
    }
    if ((targets & self) && tracelog_on(TRACE_COHERENCE))
        tracelog_sbi_sfence(h->mhartid, h->satp);
    if (targets & self)
        coherence_fence(ch, hart_coherence_settings(h));
    if (targets & ~self)
        coherence_remote_fence(ch, targets & ~self, REMOTE_SFENCE_VMA);
}

/* FENCE.I on each target (SBI 8.1), the same way. */
static void remote_fence_i(struct hart *h, uint32_t targets)
{
    uint32_t self = 1u << h->mhartid;
    if (targets & self)
        local_fence_i(h);
    if ((targets & ~self) && h->coherence)
        coherence_remote_fence(h->coherence, targets & ~self, REMOTE_FENCE_I);
}

/* ------------------------------------------------------- Base (chapter 4) */

static bool probe(uint64_t eid)
{
    switch (eid) {
    case SBI_EXT_LEGACY_SET_TIMER: case SBI_EXT_LEGACY_PUTCHAR: case SBI_EXT_LEGACY_GETCHAR:
    case SBI_EXT_LEGACY_CLEAR_IPI: case SBI_EXT_LEGACY_SEND_IPI: case SBI_EXT_LEGACY_FENCE_I:
    case SBI_EXT_LEGACY_SFENCE_VMA: case SBI_EXT_LEGACY_SFENCE_VMA_ASID:
    case SBI_EXT_LEGACY_SHUTDOWN:
    case SBI_EXT_BASE: case SBI_EXT_TIME: case SBI_EXT_IPI: case SBI_EXT_RFENCE:
    case SBI_EXT_HSM: case SBI_EXT_SRST: case SBI_EXT_DBCN:
        return true;
    default:
        return false;
    }
}

/* mvendorid / marchid / mimpid as the hart reports them to M-mode. */
static uint64_t machine_id(struct hart *h, unsigned csr)
{
    enum priv saved = h->priv;
    uint64_t v = 0;
    h->priv = PRIV_M;
    if (!csr_access(h, csr, CSR_OP_SET, 0, true, false, &v))
        v = 0;
    h->priv = saved;
    return v;
}

static void call_base(struct call *c)
{
    switch (c->fid) {
    case 0: c->value = SBI_SPEC_VERSION; break;
    case 1: c->value = SBI_IMPL_ID_UMBRA; break;
    case 2: c->value = SBI_IMPL_VERSION; break;
    case 3: c->value = probe(c->a[0]); break;
    case 4: c->value = machine_id(c->h, 0xf11); break;
    case 5: c->value = machine_id(c->h, 0xf12); break;
    case 6: c->value = machine_id(c->h, 0xf13); break;
    default: c->error = SBI_ERR_NOT_SUPPORTED; return;
    }
    c->error = SBI_SUCCESS;
}

/* ------------------------------------------------ TIME, IPI, RFENCE */

static void call_time(struct call *c)
{
    if (c->fid != 0) {
        c->error = SBI_ERR_NOT_SUPPORTED;
        return;
    }
    set_timer(c->h, c->a[0]);
    c->error = SBI_SUCCESS;
}

static void call_ipi(struct call *c)
{
    uint32_t targets;
    if (c->fid != 0) {
        c->error = SBI_ERR_NOT_SUPPORTED;
        return;
    }
    if (!decode_hart_mask(c->s, c->a[0], c->a[1], &targets)) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    send_ipis(c->s, targets);
    c->error = SBI_SUCCESS;
}

static void call_rfence(struct call *c)
{
    uint32_t targets;
    if (c->fid > 2) {               /* 3-6: hypervisor fences; no H extension */
        c->error = SBI_ERR_NOT_SUPPORTED;
        return;
    }
    if (!decode_hart_mask(c->s, c->a[0], c->a[1], &targets)) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    if (c->fid == 0)
        remote_fence_i(c->h, targets);
    else
        remote_sfence_vma(c->h, targets);
    c->error = SBI_SUCCESS;
}

/* ------------------------------------------------------- HSM (chapter 9) */

static void hsm_start(struct call *c)
{
    struct sbi *s = c->s;
    uint64_t id = c->a[0];
    if (!valid_hart(s, id)) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    if (!valid_entry(s, c->a[1])) {
        c->error = SBI_ERR_INVALID_ADDRESS;
        return;
    }
    pthread_mutex_lock(&s->hsm_lock);
    bool stopped = hsm_get(s, (unsigned)id) == SBI_HSM_STOPPED;
    if (stopped) {
        s->hart[id].start_addr = c->a[1];
        s->hart[id].start_arg = c->a[2];
        hsm_set(s, (unsigned)id, SBI_HSM_START_PENDING);
    }
    pthread_mutex_unlock(&s->hsm_lock);
    if (!stopped) {
        c->error = SBI_ERR_ALREADY_AVAILABLE;
        return;
    }
    hart_kick(&s->harts[id]);
    c->error = SBI_SUCCESS;
}

/* The caller stops until a hart_start; it then runs from there. Meanwhile
 * it runs no guest code, like a hart never started, so it leaves the
 * debugger's set of harts: an all-stop must not wait for a hart that cannot
 * reach a boundary to park at. */
static enum outcome hsm_stop(struct call *c)
{
    struct hart *h = c->h;
    hsm_set(c->s, (unsigned)h->mhartid, SBI_HSM_STOPPED);
    if (h->pool) {
        wait_off_pool(h);
        return RET_DONE;
    }
    debug_hart_leave(h);
    wait_for_start(c->s, h);
    debug_hart_enter(h);
    return RET_DONE;
}

static void hsm_status(struct call *c)
{
    if (!valid_hart(c->s, c->a[0])) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    c->value = (uint64_t)hsm_get(c->s, (unsigned)c->a[0]);
    c->error = SBI_SUCCESS;
}

/* Suspend types (SBI 9.4): 0 and 0x80000000 are the defaults; the
 * platform-specific ranges exist but umbra defines none of them. */
static long check_suspend_type(uint64_t type)
{
    if (type == SBI_SUSPEND_RETENTIVE || type == SBI_SUSPEND_NON_RETENTIVE)
        return SBI_SUCCESS;
    bool platform = (type >= 0x10000000u && type <= 0x7fffffffu) ||
                    (type >= 0x90000000u && type <= 0xffffffffu);
    return platform ? SBI_ERR_NOT_SUPPORTED : SBI_ERR_INVALID_PARAM;
}

/* A pooled hart suspends as it stops (wait_off_pool); start_now resumes
 * it where the call said, or after it for a retentive suspend, which has
 * returned by then. */
static enum outcome suspend_off_pool(struct call *c, bool retentive)
{
    struct hart *h = c->h;
    unsigned id = (unsigned)h->mhartid;
    pthread_mutex_lock(&c->s->hsm_lock);
    c->s->hart[id].resume_at_start = !retentive;
    c->s->hart[id].start_addr = c->a[1];
    c->s->hart[id].start_arg = c->a[2];
    hsm_set(c->s, id, SBI_HSM_SUSPENDED);
    pthread_mutex_unlock(&c->s->hsm_lock);
    wait_off_pool(h);
    return retentive ? RET_PAIR : RET_DONE;
}

/* Retentive: WFI until an interrupt S enabled in sie is pending (whatever
 * sstatus.SIE says), then return. Non-retentive: the same wait, then resume
 * at resume_addr as a hart_start would. The hart is parked meanwhile. */
static enum outcome hsm_suspend(struct call *c)
{
    struct hart *h = c->h;
    unsigned id = (unsigned)h->mhartid;
    c->error = check_suspend_type(c->a[0]);
    if (c->error != SBI_SUCCESS)
        return RET_PAIR;
    bool retentive = c->a[0] == SBI_SUSPEND_RETENTIVE;
    if (!retentive && !valid_entry(c->s, c->a[1])) {
        c->error = SBI_ERR_INVALID_ADDRESS;
        return RET_PAIR;
    }
    if (h->pool)
        return suspend_off_pool(c, retentive);
    hsm_set(c->s, id, SBI_HSM_SUSPENDED);
    park(h);
    trap_wfi(h);
    hsm_set(c->s, id, SBI_HSM_STARTED);
    if (retentive) {
        unpark(h);
        return RET_PAIR;
    }
    enter_supervisor(h, c->a[1], id, c->a[2]);
    unpark(h);
    return RET_DONE;
}

static enum outcome call_hsm(struct call *c)
{
    switch (c->fid) {
    case 0: hsm_start(c); return RET_PAIR;
    case 1: return hsm_stop(c);
    case 2: hsm_status(c); return RET_PAIR;
    case 3: return hsm_suspend(c);
    default: c->error = SBI_ERR_NOT_SUPPORTED; return RET_PAIR;
    }
}

/* ------------------------------------------------------- SRST (chapter 10) */

static void system_reset(struct call *c, uint64_t type, uint64_t reason)
{
    bool reboot = type != SBI_RESET_SHUTDOWN;
    int code = reason == SBI_RESET_REASON_FAILURE ? 1 : 0;
    if (c->s->plat.reset)
        c->s->plat.reset(c->s->plat.ctx, reboot, code);
    c->h->poll_now = true;      /* leave the batch: the machine is stopping */
}

static enum outcome call_srst(struct call *c)
{
    uint64_t type = c->a[0], reason = c->a[1];
    if (c->fid != 0) {
        c->error = SBI_ERR_NOT_SUPPORTED;
        return RET_PAIR;
    }
    if (type > UINT32_MAX || reason > UINT32_MAX) {
        c->error = SBI_ERR_INVALID_PARAM;
        return RET_PAIR;
    }
    if (type > SBI_RESET_WARM_REBOOT) {
        c->error = type >= 0xf0000000u ? SBI_ERR_NOT_SUPPORTED : SBI_ERR_INVALID_PARAM;
        return RET_PAIR;
    }
    /* Reasons 2..0xdfffffff are reserved; the rest are SBI- or vendor-specific. */
    if (reason > SBI_RESET_REASON_FAILURE && reason < 0xe0000000u) {
        c->error = SBI_ERR_INVALID_PARAM;
        return RET_PAIR;
    }
    system_reset(c, type, reason);
    return RET_DONE;
}

/* ------------------------------------------------------- DBCN (chapter 12) */

/* The physical buffer (lo, hi) of n bytes, or false if not all in RAM. */
static bool dbcn_buffer(const struct call *c, uint64_t n, uint64_t *pa)
{
    if (c->a[2] != 0)
        return false;           /* RV64: the whole address is in base_addr_lo */
    *pa = c->a[1];
    return n == 0 || mem_in_ram(c->s->mem, *pa, n);
}

static void dbcn_write(struct call *c)
{
    uint64_t pa, n = c->a[0];
    if (!dbcn_buffer(c, n, &pa)) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    uint8_t chunk[256];
    for (uint64_t done = 0; done < n;) {
        size_t len = n - done < sizeof chunk ? (size_t)(n - done) : sizeof chunk;
        mem_copy_from_guest(c->s->mem, chunk, pa + done, len);
        c->s->plat.write(c->s->plat.ctx, chunk, len);
        done += len;
    }
    c->value = n;
    c->error = SBI_SUCCESS;
}

/* Non-blocking: as many bytes as are waiting, up to n. Each byte is a
 * store by this hart, so write traces see it like any other. */
static void dbcn_read(struct call *c)
{
    uint64_t pa, n = c->a[0], got = 0;
    if (!dbcn_buffer(c, n, &pa)) {
        c->error = SBI_ERR_INVALID_PARAM;
        return;
    }
    for (; got < n; got++) {
        int byte = c->s->plat.getc ? c->s->plat.getc(c->s->plat.ctx) : -1;
        if (byte < 0)
            break;
        mem_write_by(c->s->mem, (unsigned)c->h->mhartid, pa + got, 1, (uint64_t)byte);
    }
    c->value = got;
    c->error = SBI_SUCCESS;
}

static void put_byte(struct sbi *s, uint8_t byte)
{
    s->plat.write(s->plat.ctx, &byte, 1);
}

static void call_dbcn(struct call *c)
{
    switch (c->fid) {
    case 0: dbcn_write(c); break;
    case 1: dbcn_read(c); break;
    case 2: put_byte(c->s, (uint8_t)c->a[0]); c->error = SBI_SUCCESS; break;
    default: c->error = SBI_ERR_NOT_SUPPORTED; break;
    }
}

/* ------------------------------------------------ legacy (chapter 5) */

/* A legacy hart mask is the S-mode virtual address of an unsigned long, or
 * 0 for every hart. A failed load has taken its exception already. */
static bool legacy_targets(struct call *c, uint32_t *targets)
{
    uint64_t mask = 0;
    if (c->a[0] == 0)
        return decode_hart_mask(c->s, 0, UINT64_MAX, targets);
    if (!hart_load(c->h, c->a[0], 8, &mask))
        return false;
    if (!decode_hart_mask(c->s, mask, 0, targets))
        *targets = 0;           /* legacy calls have no error code: ignore bad bits */
    return true;
}

static enum outcome call_legacy(struct call *c, uint64_t eid)
{
    struct hart *h = c->h;
    uint32_t targets;
    c->value = 0;
    switch (eid) {
    case SBI_EXT_LEGACY_SET_TIMER: set_timer(h, c->a[0]); break;
    case SBI_EXT_LEGACY_PUTCHAR: put_byte(c->s, (uint8_t)c->a[0]); break;
    case SBI_EXT_LEGACY_GETCHAR:
        c->value = (uint64_t)(int64_t)(c->s->plat.getc ? c->s->plat.getc(c->s->plat.ctx) : -1);
        break;
    case SBI_EXT_LEGACY_CLEAR_IPI: atomic_fetch_and(&h->mip, ~MIP_SSIP); break;
    case SBI_EXT_LEGACY_SEND_IPI:
    case SBI_EXT_LEGACY_FENCE_I:
    case SBI_EXT_LEGACY_SFENCE_VMA:
    case SBI_EXT_LEGACY_SFENCE_VMA_ASID:
        if (!legacy_targets(c, &targets))
            return RET_DONE;
        if (eid == SBI_EXT_LEGACY_SEND_IPI)
            send_ipis(c->s, targets);
        else if (eid == SBI_EXT_LEGACY_FENCE_I)
            remote_fence_i(h, targets);
        else
            remote_sfence_vma(h, targets);
        break;
    case SBI_EXT_LEGACY_SHUTDOWN: system_reset(c, SBI_RESET_SHUTDOWN, 0); return RET_DONE;
    default: c->value = (uint64_t)(int64_t)SBI_ERR_NOT_SUPPORTED; break;
    }
    return RET_LEGACY;
}

/* ------------------------------------------------------- dispatch */

static enum outcome dispatch(struct call *c, uint64_t eid)
{
    if (eid <= 0x0f)
        return call_legacy(c, eid);
    switch (eid) {
    case SBI_EXT_BASE: call_base(c); break;
    case SBI_EXT_TIME: call_time(c); break;
    case SBI_EXT_IPI: call_ipi(c); break;
    case SBI_EXT_RFENCE: call_rfence(c); break;
    case SBI_EXT_HSM: return call_hsm(c);
    case SBI_EXT_SRST: return call_srst(c);
    case SBI_EXT_DBCN: call_dbcn(c); break;
    default: c->error = SBI_ERR_NOT_SUPPORTED; break;
    }
    return RET_PAIR;
}

/* The calling convention (SBI 3): a7 = extension, a6 = function, a0-a5
 * arguments; the result in a0 (error) and a1 (value), pc past the ECALL. */
bool sbi_ecall(void *ctx, struct hart *h)
{
    struct call c = { .s = ctx, .h = h, .fid = h->x[16], .error = SBI_ERR_NOT_SUPPORTED };
    memcpy(c.a, &h->x[10], sizeof c.a);
    uint64_t pc = h->pc;
    /* End the block after the call: it may have changed pc, satp or the
     * fetched code, and interrupts may have become pending. */
    h->poll_now = true;
    switch (dispatch(&c, h->x[17])) {
    case RET_PAIR:
        h->x[10] = (uint64_t)(int64_t)c.error;
        h->x[11] = c.value;
        h->pc = pc + 4;
        break;
    case RET_LEGACY:
        h->x[10] = c.value;
        h->pc = pc + 4;
        break;
    case RET_DONE:
        break;
    }
    return true;
}
