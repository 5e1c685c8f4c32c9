/* test_trap: trap entry, delegation, interrupt priority and enables,
 * MRET/SRET, and WFI's sleep and wake-up (privileged spec 1.12, 3.1.6.1,
 * 3.1.7-3.1.9, 3.3.2, 3.3.3, 4.1.1). Expected values come from the spec.
 * Last, the bookkeeping of unanswered IPIs and the sleep on their answer. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "base/timebase.h"
#include "check.h"
#include "cpu/csr.h"
#include "cpu/trap.h"

#define MTVEC_BASE 0x80000100ull
#define STVEC_BASE 0xffffffc000200000ull

static struct hart *new_hart(_Atomic bool *halt)
{
    struct hart *h = malloc(sizeof *h);
    hart_init(h, 0, NULL, halt);
    hart_set_mtimecmp(h, UINT64_MAX);
    h->mtvec = MTVEC_BASE;
    h->stvec = STVEC_BASE;
    return h;
}

static void free_hart(struct hart *h)
{
    hart_destroy(h);
    free(h);
}

static uint64_t mpp(const struct hart *h) { return (h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT; }
static bool bit(const struct hart *h, uint64_t b) { return (h->mstatus & b) != 0; }

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Make exactly `bits` pending. MTIP is driven from mtimecmp, the others are
 * stored directly (STCE is off, so nothing recomputes STIP). */
static void set_pending(struct hart *h, uint64_t bits)
{
    atomic_store(&h->mip, bits & ~MIP_MTIP);
    hart_set_mtimecmp(h, (bits & MIP_MTIP) ? 0 : UINT64_MAX);
}

/* ------------------------------------------------------------ exceptions */

static void test_exception_to_m(void)
{
    struct hart *h = new_hart(NULL);
    h->mtvec = MTVEC_BASE | 1;           /* vectored: exceptions still go to BASE */
    h->priv = PRIV_U;
    h->pc = 0x10074;
    h->mstatus |= MSTATUS_MIE;
    h->lr_valid = true;
    trap_exception(h, CAUSE_ILLEGAL_INSN, 0x0000ffff);
    CHECK_EQ(h->priv, PRIV_M);
    CHECK_EQ(h->pc, MTVEC_BASE);
    CHECK_EQ(h->mepc, 0x10074);
    CHECK_EQ(h->mcause, 2);
    CHECK_EQ(h->mtval, 0xffff);
    CHECK_EQ(mpp(h), PRIV_U);
    CHECK(bit(h, MSTATUS_MPIE));
    CHECK(!bit(h, MSTATUS_MIE));
    CHECK(!h->lr_valid);

    /* from S, not delegated, MIE was 0 */
    h->priv = PRIV_S;
    h->pc = 0x2000;
    trap_exception(h, CAUSE_ECALL_S, 0);
    CHECK_EQ(h->priv, PRIV_M);
    CHECK_EQ(mpp(h), PRIV_S);
    CHECK(!bit(h, MSTATUS_MPIE));
    CHECK_EQ(h->mcause, 9);

    /* from M, even with the cause delegated */
    h->medeleg = 1ull << CAUSE_BREAKPOINT;
    h->pc = 0x3000;
    trap_exception(h, CAUSE_BREAKPOINT, 0x3000);
    CHECK_EQ(h->priv, PRIV_M);
    CHECK_EQ(mpp(h), PRIV_M);
    CHECK_EQ(h->mepc, 0x3000);
    CHECK_EQ(h->scause, 0);
    free_hart(h);
}

static void test_exception_delegated(void)
{
    struct hart *h = new_hart(NULL);
    uint64_t old;
    CHECK(csr_access(h, 0x302, CSR_OP_WRITE, (1ull << CAUSE_LOAD_PAGE_FAULT) | (1ull << CAUSE_ECALL_U),
                     false, true, &old));
    h->stvec = STVEC_BASE | 1;
    h->mstatus |= MSTATUS_MIE | (3ull << MSTATUS_MPP_SHIFT) | MSTATUS_SIE;
    h->priv = PRIV_S;
    h->pc = 0xffffffff80001234ull;
    trap_exception(h, CAUSE_LOAD_PAGE_FAULT, 0xdead000);
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->pc, STVEC_BASE);
    CHECK_EQ(h->sepc, 0xffffffff80001234ull);
    CHECK_EQ(h->scause, 13);
    CHECK_EQ(h->stval, 0xdead000);
    CHECK(bit(h, MSTATUS_SPP));
    CHECK(bit(h, MSTATUS_SPIE));
    CHECK(!bit(h, MSTATUS_SIE));
    /* M state untouched */
    CHECK(bit(h, MSTATUS_MIE));
    CHECK_EQ(mpp(h), PRIV_M);
    CHECK_EQ(h->mcause, 0);

    /* ECALL from U, SIE was 0 */
    h->priv = PRIV_U;
    h->pc = 0x10000;
    trap_exception(h, CAUSE_ECALL_U, 0);
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->scause, 8);
    CHECK(!bit(h, MSTATUS_SPP));
    CHECK(!bit(h, MSTATUS_SPIE));
    /* not delegated: to M */
    h->priv = PRIV_U;
    trap_exception(h, CAUSE_STORE_PAGE_FAULT, 0x40);
    CHECK_EQ(h->priv, PRIV_M);
    CHECK_EQ(h->mcause, 15);
    CHECK_EQ(h->mtval, 0x40);
    free_hart(h);
}

/* ------------------------------------------------------------ interrupts */

static void test_interrupt_entry_vectored(void)
{
    struct hart *h = new_hart(NULL);
    h->mtvec = MTVEC_BASE | 1;
    h->mie = MIP_MTIP;
    h->mstatus |= MSTATUS_MIE;
    h->pc = 0x80200010;
    h->lr_valid = true;
    hart_set_mtimecmp(h, 0);
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->pc, MTVEC_BASE + 4 * 7);
    CHECK_EQ(h->mcause, CAUSE_INTERRUPT | 7);
    CHECK_EQ(h->mepc, 0x80200010);
    CHECK_EQ(h->mtval, 0);
    CHECK_EQ(mpp(h), PRIV_M);
    CHECK(bit(h, MSTATUS_MPIE));
    CHECK(!bit(h, MSTATUS_MIE));
    CHECK(!h->lr_valid);
    /* MIE is now 0: not taken again */
    CHECK(!trap_poll_interrupts(h));
    CHECK_EQ(h->pc, MTVEC_BASE + 4 * 7);

    /* direct mode */
    h->mtvec = MTVEC_BASE;
    h->mstatus |= MSTATUS_MIE;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->pc, MTVEC_BASE);

    /* delegated SSI to a vectored stvec, from U */
    hart_set_mtimecmp(h, UINT64_MAX);
    h->mideleg = MIP_SSIP;
    h->mie = MIP_SSIP;
    h->stvec = STVEC_BASE | 1;
    h->priv = PRIV_U;
    h->pc = 0x4000;
    set_pending(h, MIP_SSIP);
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->pc, STVEC_BASE + 4);
    CHECK_EQ(h->scause, CAUSE_INTERRUPT | 1);
    CHECK_EQ(h->sepc, 0x4000);
    CHECK(!bit(h, MSTATUS_SPP));
    free_hart(h);
}

static void test_interrupt_enables(void)
{
    struct hart *h = new_hart(NULL);
    h->mie = 0xaaa;

    /* M-level in M: needs MIE */
    set_pending(h, MIP_MEIP);
    h->pc = 0x100;
    CHECK(!trap_poll_interrupts(h));
    CHECK_EQ(h->pc, 0x100);
    /* ...and mie */
    h->mstatus |= MSTATUS_MIE;
    h->mie = 0;
    CHECK(!trap_poll_interrupts(h));
    h->mie = 0xaaa;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->mcause, CAUSE_INTERRUPT | 11);

    /* M-level below M: enabled whatever MIE says */
    h->mstatus &= ~MSTATUS_MIE;
    h->priv = PRIV_S;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->priv, PRIV_M);
    h->mstatus &= ~MSTATUS_MIE;
    h->priv = PRIV_U;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(mpp(h), PRIV_U);

    /* S-level (delegated): never in M, even with MIE and SIE */
    h->mideleg = MIP_SEIP;
    set_pending(h, MIP_SEIP);
    h->priv = PRIV_M;
    h->mstatus |= MSTATUS_MIE | MSTATUS_SIE;
    CHECK(!trap_poll_interrupts(h));
    /* in S only with SIE */
    h->priv = PRIV_S;
    h->mstatus &= ~MSTATUS_SIE;
    CHECK(!trap_poll_interrupts(h));
    h->mstatus |= MSTATUS_SIE;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->scause, CAUSE_INTERRUPT | 9);
    /* in U always */
    h->priv = PRIV_U;
    h->mstatus &= ~MSTATUS_SIE;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->priv, PRIV_S);

    /* an S-level interrupt not delegated goes to M */
    h->mideleg = 0;
    h->priv = PRIV_S;
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->priv, PRIV_M);
    CHECK_EQ(h->mcause, CAUSE_INTERRUPT | 9);
    free_hart(h);
}

/* Spec 3.1.9: MEI > MSI > MTI > SEI > SSI > STI, for every pair, taken to
 * M (nothing delegated) and to S (all S-level ones delegated). */
static void test_interrupt_priority_pairs(void)
{
    static const unsigned order[] = { IRQ_MEI, IRQ_MSI, IRQ_MTI, IRQ_SEI, IRQ_SSI, IRQ_STI };
    struct hart *h = new_hart(NULL);
    h->mie = 0xaaa;
    for (unsigned a = 0; a < 6; a++) {
        for (unsigned b = a + 1; b < 6; b++) {
            uint64_t pend = (1ull << order[a]) | (1ull << order[b]);
            h->mideleg = 0;
            h->priv = PRIV_U;
            set_pending(h, pend);
            CHECK(trap_poll_interrupts(h));
            CHECK_EQ(h->mcause, CAUSE_INTERRUPT | order[a]);
        }
    }
    /* both S-level and delegated: same order, to S */
    static const unsigned s_order[] = { IRQ_SEI, IRQ_SSI, IRQ_STI };
    for (unsigned a = 0; a < 3; a++) {
        for (unsigned b = a + 1; b < 3; b++) {
            h->mideleg = MIP_SEIP | MIP_SSIP | MIP_STIP;
            h->priv = PRIV_U;
            set_pending(h, (1ull << s_order[a]) | (1ull << s_order[b]));
            CHECK(trap_poll_interrupts(h));
            CHECK_EQ(h->priv, PRIV_S);
            CHECK_EQ(h->scause, CAUSE_INTERRUPT | s_order[a]);
        }
    }
    /* an interrupt for M beats a higher-priority one delegated to S */
    h->mideleg = MIP_SEIP;
    h->priv = PRIV_U;
    set_pending(h, MIP_SEIP | MIP_SSIP);
    CHECK(trap_poll_interrupts(h));
    CHECK_EQ(h->priv, PRIV_M);
    CHECK_EQ(h->mcause, CAUSE_INTERRUPT | IRQ_SSI);
    /* in M with MIE=0 neither goes: the M one is masked, the S one never runs in M */
    h->priv = PRIV_M;
    h->mstatus &= ~MSTATUS_MIE;
    CHECK(!trap_poll_interrupts(h));
    free_hart(h);
}

/* ------------------------------------------------------------ xRET */

static void test_mret(void)
{
    struct hart *h = new_hart(NULL);
    h->mstatus |= (1ull << MSTATUS_MPP_SHIFT) | MSTATUS_MPIE | MSTATUS_MPRV;
    h->mepc = 0x80200000;
    h->lr_valid = true;
    CHECK(trap_mret(h));
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->pc, 0x80200000);
    CHECK(bit(h, MSTATUS_MIE));
    CHECK(bit(h, MSTATUS_MPIE));
    CHECK_EQ(mpp(h), PRIV_U);
    CHECK(!bit(h, MSTATUS_MPRV));
    CHECK(!h->lr_valid);
    /* below M: illegal, nothing changes */
    uint64_t before = h->mstatus;
    CHECK(!trap_mret(h));
    CHECK_EQ(h->mstatus, before);
    CHECK_EQ(h->priv, PRIV_S);
    h->priv = PRIV_U;
    CHECK(!trap_mret(h));

    /* MRET to M keeps MPRV; MPIE=0 gives MIE=0 */
    h->priv = PRIV_M;
    h->mstatus = (h->mstatus & ~(MSTATUS_MPIE | MSTATUS_MIE | MSTATUS_MPP)) |
                 (3ull << MSTATUS_MPP_SHIFT) | MSTATUS_MPRV | MSTATUS_MIE;
    h->mepc = 0x1000;
    CHECK(trap_mret(h));
    CHECK_EQ(h->priv, PRIV_M);
    CHECK(!bit(h, MSTATUS_MIE));
    CHECK(bit(h, MSTATUS_MPIE));
    CHECK(bit(h, MSTATUS_MPRV));
    CHECK_EQ(mpp(h), PRIV_U);
    /* MRET to U */
    CHECK(trap_mret(h));
    CHECK_EQ(h->priv, PRIV_U);
    CHECK(!bit(h, MSTATUS_MPRV));
    free_hart(h);
}

static void test_sret(void)
{
    struct hart *h = new_hart(NULL);
    h->priv = PRIV_S;
    h->mstatus |= MSTATUS_SIE;           /* SPP = U, SPIE = 0 */
    h->sepc = 0x10000;
    CHECK(trap_sret(h));
    CHECK_EQ(h->priv, PRIV_U);
    CHECK_EQ(h->pc, 0x10000);
    CHECK(!bit(h, MSTATUS_SIE));
    CHECK(bit(h, MSTATUS_SPIE));
    CHECK(!bit(h, MSTATUS_SPP));
    CHECK(!trap_sret(h));                /* in U */

    /* TSR makes SRET illegal in S, not in M */
    h->priv = PRIV_S;
    h->mstatus |= MSTATUS_TSR | MSTATUS_SPP;
    CHECK(!trap_sret(h));
    CHECK_EQ(h->priv, PRIV_S);
    h->priv = PRIV_M;
    h->mstatus |= MSTATUS_MPRV;
    h->sepc = 0xffffffff80000000ull;
    CHECK(trap_sret(h));
    CHECK_EQ(h->priv, PRIV_S);
    CHECK_EQ(h->pc, 0xffffffff80000000ull);
    CHECK(bit(h, MSTATUS_SIE));          /* SPIE was 1 */
    CHECK(!bit(h, MSTATUS_SPP));
    CHECK(!bit(h, MSTATUS_MPRV));
    free_hart(h);
}

/* ------------------------------------------------------------ WFI */

static void test_wfi_legality_and_pending(void)
{
    struct hart *h = new_hart(NULL);
    h->priv = PRIV_U;
    CHECK(!trap_wfi(h));
    h->priv = PRIV_S;
    h->mstatus |= MSTATUS_TW;
    CHECK(!trap_wfi(h));

    /* pending and enabled in mie, global enables off: returns at once */
    h->mstatus &= ~MSTATUS_TW;
    h->mie = MIP_SSIP;
    set_pending(h, MIP_SSIP);
    double t0 = now_seconds();
    CHECK(trap_wfi(h));
    CHECK(now_seconds() - t0 < 0.05);
    h->priv = PRIV_M;
    h->mstatus |= MSTATUS_TW;            /* TW does not apply to M */
    h->mie = MIP_MSIP;
    set_pending(h, MIP_MSIP);
    t0 = now_seconds();
    CHECK(trap_wfi(h));
    CHECK(now_seconds() - t0 < 0.05);
    CHECK(!bit(h, MSTATUS_MIE));
    CHECK_EQ(h->priv, PRIV_M);
    free_hart(h);
}

struct waker {
    struct hart *h;
    unsigned delay_ms;
    void (*act)(struct hart *h);
};

static void *waker_main(void *p)
{
    struct waker *w = p;
    struct timespec d = { .tv_sec = 0, .tv_nsec = (long)w->delay_ms * 1000000 };
    nanosleep(&d, NULL);
    w->act(w->h);
    return NULL;
}

static void raise_meip(struct hart *h) { hart_set_irq(h, MIP_MEIP, true); }
static void kick(struct hart *h) { hart_kick(h); }

static _Atomic bool halt_flag;
static void halt_and_kick(struct hart *h)
{
    atomic_store(&halt_flag, true);
    hart_kick(h);
}

/* WFI with nothing pending sleeps until `act` runs on another thread. */
static double wfi_until(struct hart *h, unsigned delay_ms, void (*act)(struct hart *h))
{
    struct waker w = { h, delay_ms, act };
    pthread_t t;
    trap_poll_interrupts(h);             /* the run loop's poll consumes old kicks */
    pthread_create(&t, NULL, waker_main, &w);
    double t0 = now_seconds(), cpu0 = thread_cpu_seconds();
    CHECK(trap_wfi(h));
    double slept = now_seconds() - t0;
    /* WFI blocks: the sleep costs this thread next to no CPU time */
    CHECK(thread_cpu_seconds() - cpu0 < slept / 4);
    pthread_join(t, NULL);
    return slept;
}

static void test_wfi_wakeups(void)
{
    struct hart *h = new_hart(&halt_flag);
    h->priv = PRIV_S;

    /* a device interrupt from another thread */
    h->mie = MIP_MEIP;
    double slept = wfi_until(h, 60, raise_meip);
    CHECK(slept > 0.04 && slept < 2.0);
    CHECK(atomic_load(&h->mip) & MIP_MEIP);
    CHECK(!atomic_load(&h->kicked));

    /* an interrupt not enabled in mie does not end the sleep; the halt does */
    hart_set_irq(h, MIP_MEIP, false);
    h->mie = MIP_SEIP;
    struct waker w = { h, 0, raise_meip };
    waker_main(&w);                      /* MEIP pending but not enabled */
    slept = wfi_until(h, 60, halt_and_kick);
    CHECK(slept > 0.04 && slept < 2.0);
    atomic_store(&halt_flag, false);

    /* the timer: mtimecmp 30 ms ahead, MTIE enabled */
    hart_set_irq(h, MIP_MEIP, false);
    h->mie = MIP_MTIP;
    hart_set_mtimecmp(h, timebase_now() + TIMEBASE_HZ * 3 / 100);
    CHECK(!trap_poll_interrupts(h));
    double t0 = now_seconds();
    CHECK(trap_wfi(h));
    slept = now_seconds() - t0;
    CHECK(slept > 0.02 && slept < 2.0);
    CHECK(atomic_load(&h->mip) & MIP_MTIP);

    /* Sstc: stimecmp 30 ms ahead, STIE enabled */
    hart_set_mtimecmp(h, UINT64_MAX);
    h->menvcfg = MENVCFG_STCE;
    h->stimecmp = timebase_now() + TIMEBASE_HZ * 3 / 100;
    h->mie = MIP_STIP;
    CHECK(!trap_poll_interrupts(h));
    t0 = now_seconds();
    CHECK(trap_wfi(h));
    slept = now_seconds() - t0;
    CHECK(slept > 0.02 && slept < 2.0);
    CHECK(atomic_load(&h->mip) & MIP_STIP);
    free_hart(h);
}

/* The spin before a WFI's thread sleeps: short sleeps widen the window,
 * doubling up to a cap of tens of microseconds, long ones (a tick 4 ms
 * away) halve it down to nothing, where it stays. */
static void test_wfi_spin_window(void)
{
    const uint64_t us = TIMEBASE_HZ / 1000000, tick = TIMEBASE_HZ / 250;
    uint64_t min = trap_wfi_spin_window(0, 0);
    CHECK(min > 0 && min <= 10 * us);
    CHECK_EQ(trap_wfi_spin_window(min, 0), 2 * min);
    CHECK_EQ(trap_wfi_spin_window(min, 20 * us), 2 * min);    /* woken soon after */
    uint64_t w = min;
    unsigned steps = 0;
    for (uint64_t prev = 0; w != prev && steps < 64; steps++) {
        prev = w;
        w = trap_wfi_spin_window(w, 0);
    }
    CHECK(steps < 64);
    CHECK(w >= 4 * min && w <= 100 * us);                       /* the cap */
    CHECK_EQ(trap_wfi_spin_window(w, tick), w / 2);
    uint64_t narrowed = w;
    for (steps = 0; narrowed && steps < 64; steps++)
        narrowed = trap_wfi_spin_window(narrowed, tick);
    CHECK(steps < 8);
    CHECK_EQ(trap_wfi_spin_window(0, tick), 0u);

    /* on a hart: a long sleep narrows the window, an interrupt already
     * pending (the spin ends at once) widens it */
    struct hart *h = new_hart(&halt_flag);
    h->priv = PRIV_S;
    h->mie = MIP_MEIP;
    h->wfi_spin_ticks = w;
    wfi_until(h, 30, raise_meip);
    CHECK_EQ(h->wfi_spin_ticks, w / 2);
    CHECK(trap_wfi(h));                                          /* MEIP still pending */
    CHECK_EQ(h->wfi_spin_ticks, w);
    free_hart(h);
}

/* A WFI that keeps returning at once at the same pc because the interrupt
 * pending is never taken (M-mode, mstatus.MIE = 0: OpenSBI 1.1's HSM wait)
 * polls memory: from the third such WFI on it sleeps, until kicked or for
 * at most 100 ms, never for a shorter time of its own (OpenSBI 1.1 marks a
 * hart START_PENDING before it stores the start address: see trap_wfi). A
 * trap taken between two WFIs, or another pc, starts the count again. */
static void test_wfi_polling(void)
{
    struct hart *h = new_hart(NULL);
    h->priv = PRIV_M;
    h->pc = 0x80009a60;
    h->mie = MIP_MSIP;
    set_pending(h, MIP_MSIP);
    trap_poll_interrupts(h);            /* not taken: MIE = 0 */
    atomic_store(&h->kicked, false);
    CHECK(trap_wfi(h));
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 0u);

    /* the third sleeps: no kick comes, so for the whole bound */
    double t0 = now_seconds();
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 1u);
    CHECK(now_seconds() - t0 >= 0.09);

    /* the next sleeps until another thread kicks it 40 ms later */
    struct waker w = { h, 40, kick };
    pthread_t t;
    pthread_create(&t, NULL, waker_main, &w);
    t0 = now_seconds();
    CHECK(trap_wfi(h));
    CHECK(now_seconds() - t0 >= 0.035);
    pthread_join(t, NULL);
    CHECK_EQ(h->wfi_poll_sleeps, 2u);

    /* a kick ends the sleep (here it came first: no sleep at all) */
    hart_kick(h);
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 3u);
    CHECK(!atomic_load(&h->kicked));

    /* a WFI elsewhere, and a trap in between, each start the count again */
    h->pc += 4;
    CHECK(trap_wfi(h));
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 3u);
    trap_exception(h, CAUSE_BREAKPOINT, h->pc);
    h->pc = 0x80009a64;
    CHECK(trap_wfi(h));
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 3u);
    hart_kick(h);
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 4u);

    /* nothing pending: an ordinary WFI, which never counts as polling */
    set_pending(h, 0);
    hart_set_irq(h, MIP_MSIP, false);
    h->mie = MIP_MTIP;
    hart_set_mtimecmp(h, timebase_now() + TIMEBASE_HZ / 100);
    trap_poll_interrupts(h);
    CHECK(trap_wfi(h));
    CHECK_EQ(h->wfi_poll_sleeps, 4u);
    free_hart(h);
}

/* hart_note_ipi and trap_await_ipi_answer: a sender records each target
 * whose msip it raised (never itself), the target's clearing of msip
 * answers it, a sleeping sender asks its targets to kick it when they run
 * (watched_by), and an answer that never comes is waited for once, 200 us,
 * then given up. */
static _Atomic bool no_halt;

/* n harts that know each other (the board's wiring), on static storage:
 * a hart is too large for the stack. */
static void init_peers(struct hart *harts, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        hart_init(&harts[i], i, NULL, &no_halt);
        harts[i].peers = harts;
    }
}

static void test_ipi_answer(void)
{
    static struct hart harts[3];
    init_peers(harts, 3);
    struct hart *h0 = &harts[0];

    hart_note_ipi(h0, harts, 3, 1, true);
    hart_note_ipi(h0, harts, 3, 2, true);
    hart_note_ipi(h0, harts, 3, 0, true);       /* to itself: nothing to wait for */
    hart_note_ipi(NULL, harts, 3, 1, true);     /* not from a hart (a debugger) */
    CHECK_EQ(atomic_load(&h0->ipi_unanswered), 0x6u);

    /* hart 1 takes it */
    hart_note_ipi(&harts[1], harts, 3, 1, false);
    CHECK_EQ(atomic_load(&h0->ipi_unanswered), 0x4u);

    /* hart 2 never answers: one sleep of about 200 us, then given up */
    double t0 = now_seconds();
    trap_await_ipi_answer(h0);
    double slept = now_seconds() - t0;
    CHECK(slept >= 150e-6 && slept < 2.0);
    CHECK_EQ(atomic_load(&h0->ipi_unanswered), 0u);
    CHECK_EQ(h0->ipi_waits, 1u);
    CHECK_EQ(atomic_load(&harts[2].watched_by), 1u);    /* hart 2 is to kick hart 0 */
    CHECK_EQ(atomic_load(&harts[1].watched_by), 0u);

    /* a kick ends the sleep before its time, so the IPI is still awaited */
    hart_note_ipi(h0, harts, 3, 2, true);
    hart_kick(h0);
    trap_await_ipi_answer(h0);
    CHECK_EQ(atomic_load(&h0->ipi_unanswered), 0x4u);
    CHECK_EQ(h0->ipi_waits, 2u);
    for (unsigned i = 0; i < 3; i++)
        hart_destroy(&harts[i]);
}

int main(void)
{
    test_exception_to_m();
    test_exception_delegated();
    test_interrupt_entry_vectored();
    test_interrupt_enables();
    test_interrupt_priority_pairs();
    test_mret();
    test_sret();
    test_wfi_legality_and_pending();
    test_wfi_wakeups();
    test_wfi_spin_window();
    test_wfi_polling();
    test_ipi_answer();
    return check_summary();
}
