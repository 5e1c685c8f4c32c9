/* hart: one RISC-V hart (RV64GC, M/S/U, Sv39/Sv48) and its run loop.
 *
 * Owns the hart's architectural state (registers, CSRs, privilege), its LR/SC
 * reservation, its fast translation cache and its idle wait. Everything here
 * is touched only by the thread running the hart (its own, or a hart pool's
 * worker, cpu/pool.h, which hands harts over under the pool's lock), except
 * the fields marked "shared": mip and mtimecmp (written by devices through
 * hart_set_irq / hart_set_mtimecmp from any thread) and the wake-up
 * machinery.
 *
 * Callers: machine/ creates harts and runs hart_run on one thread per hart,
 * or hart_run_slice from a pool's workers; devices reach a hart only through
 * the wiring that machine/ sets up.
 */
#ifndef UMBRA_CPU_HART_H
#define UMBRA_CPU_HART_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "mem/guest_mem.h"
#include "mmu/mmu.h"
#include "cpu/decode.h"
#include "cpu/icache.h"

struct coherence_hart;
struct hart_counters;
struct coherence_settings;
struct debug_hub;
struct hart_pool;
struct jit;
struct profile;

/* Harts an IPI can name (bits of ipi_unanswered). */
#define HART_MAX_PEERS 32

/* mip / mie bits (privileged spec 3.1.9). */
#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11
#define MIP_SSIP (1ull << IRQ_SSI)
#define MIP_MSIP (1ull << IRQ_MSI)
#define MIP_STIP (1ull << IRQ_STI)
#define MIP_MTIP (1ull << IRQ_MTI)
#define MIP_SEIP (1ull << IRQ_SEI)
#define MIP_MEIP (1ull << IRQ_MEI)

/* Exception causes (privileged spec table 3.6). */
enum exc_cause {
    CAUSE_MISALIGNED_FETCH = 0,
    CAUSE_FETCH_ACCESS = 1,
    CAUSE_ILLEGAL_INSN = 2,
    CAUSE_BREAKPOINT = 3,
    CAUSE_MISALIGNED_LOAD = 4,
    CAUSE_LOAD_ACCESS = 5,
    CAUSE_MISALIGNED_STORE = 6,     /* store/AMO address misaligned */
    CAUSE_STORE_ACCESS = 7,         /* store/AMO access fault */
    CAUSE_ECALL_U = 8,
    CAUSE_ECALL_S = 9,
    CAUSE_ECALL_M = 11,
    CAUSE_FETCH_PAGE_FAULT = 12,
    CAUSE_LOAD_PAGE_FAULT = 13,
    CAUSE_STORE_PAGE_FAULT = 15,    /* store/AMO page fault */
};
#define CAUSE_INTERRUPT (1ull << 63)

/* mstatus fields (privileged spec 3.1.6). */
#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_UBE (1ull << 6)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_VS (3ull << 9)
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_FS_SHIFT 13
#define MSTATUS_XS (3ull << 15)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_SBE (1ull << 36)
#define MSTATUS_MBE (1ull << 37)
#define MSTATUS_SD (1ull << 63)

#define FS_OFF 0
#define FS_INITIAL 1
#define FS_CLEAN 2
#define FS_DIRTY 3

/* menvcfg.STCE enables Sstc's stimecmp (Sstc spec). */
#define MENVCFG_STCE (1ull << 63)

struct hart {
    /* ---- unprivileged state ---- */
    uint64_t x[32];             /* x[0] reads as zero: execute never leaves it non-zero */
    uint64_t f[32];             /* FP registers; singles are NaN-boxed */
    uint64_t pc;
    uint8_t frm, fflags;        /* fcsr */

    /* ---- privileged state ---- */
    enum priv priv;
    uint64_t mstatus;           /* sstatus is a restricted view of it */
    uint64_t misa;
    uint64_t medeleg, mideleg;
    uint64_t mie;
    _Atomic uint64_t mip;       /* shared: devices set MSIP/MTIP/MEIP/SEIP from any thread */
    uint64_t mtvec, mepc, mcause, mtval, mscratch;
    uint64_t stvec, sepc, scause, stval, sscratch;
    uint64_t satp;
    uint32_t mcounteren, scounteren, mcountinhibit;
    uint64_t menvcfg, senvcfg;
    uint64_t stimecmp;          /* Sstc */
    _Atomic uint64_t mtimecmp;  /* shared: the CLINT's register for this hart */
    uint64_t mcycle_offset;     /* mcycle = instret + offset (cycle counts instructions) */
    uint64_t minstret;          /* instructions retired */
    struct pmp_state pmp;
    uint64_t mhartid;

    /* ---- LR/SC: the reserved address and the value LR saw; SC succeeds by
     * compare-and-swap against that value (DESIGN.md section 3). ---- */
    uint64_t lr_addr;
    uint64_t lr_value;
    bool lr_valid;

    /* ---- translation ---- */
    struct guest_mem *mem;
    struct tlb tlb;
    /* The hart's side of the shadow-table coherence mechanism (src/coherence),
     * set by machine/ from coherence_hart_attach(); NULL = none: translate
     * with mmu_walk alone and drop the fast cache at every SFENCE.VMA. */
    struct coherence_hart *coherence;

    /* ---- -bios builtin (machine/sbi.h): when set, an ECALL from S-mode
     * calls sbi_ecall instead of trapping to M. It returns true when it
     * served the call (it then set pc, a0 and a1 itself), false to let the
     * ECALL trap as usual. NULL otherwise. ---- */
    bool (*sbi_ecall)(void *ctx, struct hart *h);
    void *sbi_ctx;

    /* ---- decoded code by guest-physical page, coherent at FENCE.I ---- */
    struct icache icache;
    /* Hot code translated to host code (cpu/jit.h), set by machine/ with
     * --engine=jit; NULL = interpret everything. Owned by the hart. */
    struct jit *jit;
    /* Set by exec.c before it enters a unit, for the unit's way to another
     * page (jit.c, cross_page_stub): the fast cache's fetch entries of the
     * hart's privilege, and the decoded page of the unit that left through
     * a jump it wants linked. */
    struct tlb_entry *jit_fetch_tlb;
    struct icache_page *jit_link_page;
    /* The fast cache's entries of the data context (&tlb.e[ctx][0][0]):
     * set by exec.c before it enters a unit and by csr.c whenever a CSR
     * write moves loads and stores to another context (SUM, MPRV, MPP),
     * so that translated code, which reloads it after every call, goes
     * on through such a write instead of ending there. */
    struct tlb_entry *jit_data_tlb;
    /* --profile: host time by guest pc (cpu/profile.h), set and owned by
     * machine/; NULL = not profiling. */
    struct profile *profile;

    /* ---- running ---- */
    bool poll_now;              /* re-check interrupts before the next instruction */
    unsigned polls_since_timer; /* trap_poll_interrupts: host clock read every few polls */
    /* Spin-loop detection: a hart that keeps re-running a short loop with
     * no store and no register changing is waiting for another hart, and
     * gives its host core away (DESIGN.md section 3, "Idle"). */
    uint64_t spin_pc, spin_sig;
    unsigned spin_count;
    unsigned spin_backoff;      /* looks at the registers every 16 << this rounds */
    bool spin_wrote;
    uint64_t spin_started;      /* on a pool: mtime the spin was first seen */
    uint64_t pause_since, pause_last;  /* on a pool: a run of PAUSEs (exec.c) */
    uint64_t spin_yields;       /* host CPU given away so (--stats) */
    _Atomic bool *halt;         /* shared: the machine's stop flag */
    pthread_mutex_t wait_lock;  /* WFI sleeps on wait_cond until kicked */
    pthread_cond_t wait_cond;
    /* Instructions retired in U-mode, the pool's measure of the guest's
     * progress (cpu/pool.c): stored by the hart's thread, read by any. */
    _Atomic uint64_t user_retired;
    _Atomic bool kicked;        /* shared: set by hart_kick, cleared by the hart */
    /* WFI polling (trap_wfi): the pc of the last WFI that returned at once
     * because of an interrupt the hart did not then take, and how many did
     * so in a row there; any trap clears it. */
    uint64_t wfi_poll_pc;
    unsigned wfi_polls;
    uint64_t wfi_poll_sleeps;   /* such WFIs made to sleep (--stats) */
    uint64_t wfi_spin_ticks;    /* how long a WFI spins before it sleeps (trap.c) */
    bool wfi_wanted;            /* a WFI retired: wait at the block boundary */

    /* ---- waiting for an IPI to be taken (hart_note_ipi) ---- */
    _Atomic uint64_t heartbeat;         /* shared: blocks this hart has begun */
    _Atomic uint32_t ipi_unanswered;    /* shared: harts whose msip this one
                                           raised and that have not cleared it
                                           (on a pool, nor waited again) */
    _Atomic uint32_t watched_by;        /* shared: harts asleep until this one
                                           begins a block (bit = mhartid) */
    struct hart *peers;                 /* every hart, indexed by mhartid */
    unsigned ipi_rounds;                /* short-loop rounds since ipi_beats */
    uint64_t ipi_beats[HART_MAX_PEERS]; /* the targets' heartbeats then */
    uint64_t ipi_own_beats;             /* and this hart's own */
    bool ipi_wait_wanted;               /* sleep (on a pool: give the worker to
                                           the target) at the next boundary */
    uint64_t ipi_waits;                 /* such waits (--stats) */

    /* ---- hart pool (cpu/pool.h): with pool set, the hart has no thread
     * of its own and the pool's workers run it a slice at a time. The
     * pool_* fields are the pool's, under its lock. ---- */
    struct hart_pool *pool;
    _Atomic int pool_state;             /* shared: enum pool_state */
    struct hart *pool_next;             /* the ready queue */
    uint64_t pool_ready_since;          /* mtime it joined the queue */
    uint64_t pool_wake_tick;            /* waiting: ready again at this mtime */
    bool pool_kick_only;                /* waiting: mip alone does not end it */
    bool pool_boosted;                  /* kicked to the queue's head: a short slice */
    unsigned pool_home;                 /* the worker whose caches hold its code */
    uint64_t pool_slices;               /* slices the pool ran it (--stats) */
    uint64_t pool_gathered_slices;      /* of those, while the pool was gathered */
    /* The last slice ended in a spin given up (HART_SLICE_SPIN): the hart
     * waits for another to move, and running it again answers no IPI
     * until that one has run (pool.c, put_ipi_waiter). */
    bool pool_spun;
    bool yield_wanted;                  /* a kicked hart's MRET: end the slice */
    bool spin_wanted;                   /* a spin detected: end the slice */

    /* ---- debugger (cpu/debug.h): with debug_attention set, run_batches
     * hands each poll interval to debug_hart_slice; debug_watching sends
     * every data access through the slow path. Both stay false, and cost
     * one relaxed load per poll interval, without a debugger. ---- */
    _Atomic bool debug_attention;   /* shared: set by the debugger's thread */
    bool debug_watching;            /* hart thread: a watchpoint is set */
    struct debug_hub *debug;        /* NULL without a debugger */
};

/* Put a hart in its reset state (privileged spec 3.4): M-mode, pc = reset_pc,
 * mstatus.MIE = 0, misa = RV64IMAFDCSU, everything else zero. */
void hart_init(struct hart *h, uint64_t hartid, struct guest_mem *mem, _Atomic bool *halt);
void hart_reset(struct hart *h, uint64_t reset_pc);
void hart_destroy(struct hart *h);

/* The hart whose host thread calls this, or NULL on other threads. */
struct hart *hart_current(void);

/* What the audit of a coherency event needs of the hart's translation
 * settings (coherence.h). Hart thread. */
struct coherence_settings hart_coherence_settings(const struct hart *h);

/* The counters this hart keeps itself, for --stats (coherence.h). Read
 * them while the hart is stopped or its thread has ended. */
struct hart_counters hart_own_counters(const struct hart *h);

/* Has the machine been told to stop? Any thread; the hart's run and sleep
 * loops end on it. */
static inline bool hart_halted(const struct hart *h)
{
    return h->halt && atomic_load(h->halt);
}

/* Machine wiring, called by the CLINT's msip writes: hart `from` (NULL if
 * no hart wrote) raised the msip of all_harts[target] (level 1), or the
 * target cleared its own (level 0), which is how firmware acknowledges an
 * IPI. A hart that goes round a short loop while an IPI it sent is
 * unanswered and its target is not running sleeps until the target runs
 * again (trap_await_ipi_answer; DESIGN.md section 3, "Idle"), or, on a
 * pool (cpu/pool.h), gives its worker to the target. */
void hart_note_ipi(struct hart *from, struct hart *all_harts, unsigned nharts,
                   unsigned target, bool level);

/* Run until *halt becomes true (or `max_insns` retire, if non-zero).
 * Returns the number of instructions retired. */
uint64_t hart_run(struct hart *h, uint64_t max_insns);

/* Why hart_run_slice returned. */
enum hart_slice_end {
    HART_SLICE_YIELD,           /* time up, or a kicked hart's MRET (trap_mret) */
    HART_SLICE_SPIN,            /* a spin given up: it waits for another hart to move */
    HART_SLICE_WFI,             /* a WFI retired: the hart waits (cpu/pool.h) */
    HART_SLICE_IPI_WAIT,        /* waiting for the answer of a hart that does not run */
};

/* On a pool worker (cpu/pool.h): run h until mtime reaches `until_tick`
 * (looked at every few blocks), it waits, it spins, or the machine halts.
 * The hart is unparked for the coherence layer only meanwhile. */
enum hart_slice_end hart_run_slice(struct hart *h, uint64_t until_tick);

/* Execute exactly one instruction (or take one trap). For tests. */
void hart_step(struct hart *h);

/* ---- called from other threads ---- */

/* Raise or lower an interrupt-pending bit (MIP_MSIP, MIP_MEIP, MIP_SEIP...). */
void hart_set_irq(struct hart *h, uint64_t mip_bit, bool level);
/* The CLINT's mtimecmp register for this hart. */
void hart_set_mtimecmp(struct hart *h, uint64_t value);
/* Wake the hart if it sleeps in WFI so it re-examines its state; on a
 * pool, make it the next hart to run. */
void hart_kick(struct hart *h);
#endif
