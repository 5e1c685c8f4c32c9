/* hart: creation, reset and the run loop of one hart (see hart.h).
 *
 * hart_run is the body of a hart's host thread: it executes instructions in
 * batches and looks for interrupts between batches, at most every
 * POLL_INTERVAL instructions and immediately after anything that may have
 * made one takeable (h->poll_now: xRET, WFI, CSR writes to mstatus/mie/mip).
 * Devices only set mip bits; the hart notices them at its next poll, so an
 * interrupt is taken within POLL_INTERVAL instructions of being raised.
 * The poll point is also the hart's coherence boundary (src/coherence/
 * trace.c, step 2), and the hart is parked for the coherence layer whenever
 * hart_run is not executing it.
 *
 * hart_run_slice is the same loop for a hart on a pool (cpu/pool.h), which
 * runs it a slice at a time: where the own thread would sleep (a WFI, an
 * IPI's answer) or yield (a spin), the slice ends instead.
 */
#include "cpu/hart.h"

#include <string.h>

#include "coherence/coherence.h"
#include "cpu/access.h"
#include "cpu/debug.h"
#include "cpu/jit.h"
#include "cpu/trap.h"
#include "base/timebase.h"

/* Each block costs a return to the dispatcher: the unit lookup, the
 * coherence boundary and the interrupt poll. At 256 instructions that was
 * 15-20 % of a translated integer loop's time (the compute guest's integer
 * kernel); at 1,024 an interrupt, a remote fence's answer and a heartbeat
 * are still a few microseconds of translated code away. */
#define POLL_INTERVAL 1024

/* misa: MXL = 2 (XLEN 64) and the letters I M A F D C, S, U
 * (privileged spec 3.1.1). */
static uint64_t misa_value(void)
{
    const char *letters = "IMAFDCSU";
    uint64_t misa = 2ull << 62;
    for (const char *c = letters; *c; c++)
        misa |= 1ull << (*c - 'A');
    return misa;
}

void hart_init(struct hart *h, uint64_t hartid, struct guest_mem *mem, _Atomic bool *halt)
{
    memset(h, 0, sizeof *h);
    h->mhartid = hartid;
    h->mem = mem;
    h->halt = halt;
    pthread_mutex_init(&h->wait_lock, NULL);
    pthread_cond_init(&h->wait_cond, NULL);
    atomic_init(&h->kicked, false);
    atomic_init(&h->user_retired, 0);
    icache_init(&h->icache, mem);
    hart_reset(h, 0);
}

/* Reset state (privileged spec 3.4): M-mode, MIE = 0, MPRV = 0, misa at
 * its widest; umbra also clears every other register so runs are
 * reproducible. SXL = UXL = 2: S and U run with XLEN 64 (3.1.6.2).
 * The identity of the hart, its memory, the wake-up machinery and the
 * CLINT's mtimecmp (which the CLINT resets) are kept. */
void hart_reset(struct hart *h, uint64_t reset_pc)
{
    memset(h->x, 0, sizeof h->x);
    memset(h->f, 0, sizeof h->f);
    h->pc = reset_pc;
    h->frm = h->fflags = 0;

    h->priv = PRIV_M;
    h->mstatus = 2ull << 32 | 2ull << 34;     /* UXL, SXL */
    h->misa = misa_value();
    h->medeleg = h->mideleg = 0;
    h->mie = 0;
    atomic_store(&h->mip, 0);
    h->mtvec = h->mepc = h->mcause = h->mtval = h->mscratch = 0;
    h->stvec = h->sepc = h->scause = h->stval = h->sscratch = 0;
    h->satp = 0;
    h->mcounteren = h->scounteren = h->mcountinhibit = 0;
    h->menvcfg = h->senvcfg = 0;
    h->stimecmp = 0;
    h->mcycle_offset = 0;
    h->minstret = 0;
    memset(&h->pmp, 0, sizeof h->pmp);

    h->lr_valid = false;
    h->lr_addr = h->lr_value = 0;
    /* Reset is a coherency event after which no derived state survives. */
    if (h->coherence)
        coherence_drop_all(h->coherence);
    tlb_flush_all(&h->tlb);
    icache_sync(&h->icache);    /* and none of fetched code either */
    h->wfi_wanted = false;
    h->wfi_spin_ticks = 0;
    h->poll_now = true;
}

void hart_destroy(struct hart *h)
{
    jit_destroy(h->jit);
    h->jit = NULL;
    icache_destroy(&h->icache);
    pthread_cond_destroy(&h->wait_cond);
    pthread_mutex_destroy(&h->wait_lock);
}

void hart_step(struct hart *h)
{
    hart_execute_one(h);
}

/* Only the hart writes its heartbeat; IPI senders read it. A sender asleep
 * because this hart was not running is woken now that it is. */
static void beat(struct hart *h)
{
    uint64_t n = atomic_load_explicit(&h->heartbeat, memory_order_relaxed);
    atomic_store_explicit(&h->heartbeat, n + 1, memory_order_relaxed);
    if (atomic_load_explicit(&h->watched_by, memory_order_relaxed)) {
        uint32_t w = atomic_exchange(&h->watched_by, 0);
        for (unsigned i = 0; w; i++, w >>= 1)
            if (w & 1)
                hart_kick(&h->peers[i]);
    }
}

static _Thread_local struct hart *current_hart;

static uint64_t run_batches(struct hart *h, uint64_t max_insns)
{
    uint64_t retired = 0;
    while (!hart_halted(h)) {
        beat(h);
        h->poll_now = false;
        if (h->ipi_wait_wanted) {
            h->ipi_wait_wanted = false;
            trap_await_ipi_answer(h);
        }
        if (h->coherence)
            coherence_boundary_fast(h->coherence);
        if (atomic_load_explicit(&h->debug_attention, memory_order_relaxed)) {
            retired += debug_hart_slice(h, POLL_INTERVAL);   /* cpu/debug.h */
            continue;
        }
        if (h->wfi_wanted) {
            h->wfi_wanted = false;
            trap_wfi_sleep(h);
        }
        trap_poll_interrupts(h);
        unsigned budget = POLL_INTERVAL;
        if (max_insns && max_insns - retired < budget)
            budget = (unsigned)(max_insns - retired);
        retired += hart_execute_block(h, budget);
        if (max_insns && retired >= max_insns)
            return retired;
    }
    return retired;
}

struct coherence_settings hart_coherence_settings(const struct hart *h)
{
    return (struct coherence_settings){ .satp = h->satp,
                                        .mxr = (h->mstatus & MSTATUS_MXR) != 0 };
}

struct hart_counters hart_own_counters(const struct hart *h)
{
    struct jit_stats js = jit_stats(h->jit);
    return (struct hart_counters){ h->minstret, h->ipi_waits, h->spin_yields,
                                   h->wfi_poll_sleeps, h->pool_slices, h->icache.stats.pages_made,
                                   h->icache.stats.pages_evicted, js.units, js.resets,
                                   atomic_load(&h->user_retired), h->pool_gathered_slices };
}

struct hart *hart_current(void)
{
    return current_hart;
}

void hart_note_ipi(struct hart *from, struct hart *all_harts, unsigned nharts,
                   unsigned target, bool level)
{
    if (target >= HART_MAX_PEERS)
        return;
    uint32_t bit = 1u << target;
    if (level) {
        if (from && from != &all_harts[target])
            atomic_fetch_or(&from->ipi_unanswered, bit);
        return;
    }
    for (unsigned i = 0; i < nharts; i++)
        if (atomic_load(&all_harts[i].ipi_unanswered) & bit)
            atomic_fetch_and(&all_harts[i].ipi_unanswered, ~bit);
}

/* Blocks between looks at the clock in a slice: a block is at most
 * POLL_INTERVAL instructions, a few microseconds. */
#define SLICE_CLOCK_BLOCKS 8

enum hart_slice_end hart_run_slice(struct hart *h, uint64_t until_tick)
{
    current_hart = h;
    if (h->coherence)
        coherence_unpark(h->coherence);
    enum hart_slice_end end = HART_SLICE_YIELD;
    for (unsigned n = 1; !hart_halted(h); n++) {
        beat(h);
        h->poll_now = false;
        if (h->coherence)
            coherence_boundary_fast(h->coherence);
        if (h->wfi_wanted || h->ipi_wait_wanted || h->spin_wanted || h->yield_wanted) {
            end = h->wfi_wanted        ? HART_SLICE_WFI
                : h->ipi_wait_wanted   ? HART_SLICE_IPI_WAIT
                : h->spin_wanted       ? HART_SLICE_SPIN
                                       : HART_SLICE_YIELD;
            h->ipi_waits += end == HART_SLICE_IPI_WAIT;
            h->wfi_wanted = h->ipi_wait_wanted = h->spin_wanted = h->yield_wanted = false;
            break;
        }
        if (n % SLICE_CLOCK_BLOCKS == 0 && timebase_now() >= until_tick)
            break;
        trap_poll_interrupts(h);
        hart_execute_block(h, POLL_INTERVAL);
    }
    if (h->coherence)
        coherence_park(h->coherence);
    return end;
}

uint64_t hart_run(struct hart *h, uint64_t max_insns)
{
    current_hart = h;
    if (h->coherence)
        coherence_unpark(h->coherence);
    uint64_t retired = run_batches(h, max_insns);
    if (h->coherence)
        coherence_park(h->coherence);
    return retired;
}
