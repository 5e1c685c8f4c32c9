/* exec: the execute step of one hart — fetch, decode and carry out one
 * instruction (unprivileged spec chapters 2, 4, 7, 8, 11-13; privileged
 * spec 3.3 for the system instructions).
 *
 * One case per operation in execute(). An instruction either retires (its
 * results are written, pc advances, minstret counts it) or takes an
 * exception through trap.h and changes nothing else: every handler checks
 * and accesses memory before it writes a destination register.
 * Hart thread only.
 */
#include <limits.h>
#include <sched.h>

#include "base/timebase.h"
#include "base/tracelog.h"
#include "coherence/coherence.h"
#include "cpu/access.h"
#include "cpu/csr.h"
#include "cpu/decode.h"
#include "cpu/fpu.h"
#include "cpu/jit.h"
#include "cpu/pool.h"
#include "cpu/profile.h"
#include "cpu/trap.h"

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* Counter CSRs whose explicit write must not be followed by the writing
 * instruction's own increment (the written value is what the next
 * instruction reads). */
#define CSR_MCYCLE 0xb00
#define CSR_MINSTRET 0xb02
#define COUNTER_CY 0x1u     /* same bit positions as mcountinhibit */
#define COUNTER_IR 0x4u

static inline uint64_t sext32(uint64_t v) { return (uint64_t)(int64_t)(int32_t)(uint32_t)v; }

/* Right shifts of negative values: umbra relies on gcc/clang's arithmetic
 * shift for signed operands. */
static inline uint64_t sra64(uint64_t v, unsigned n) { return (uint64_t)((int64_t)v >> n); }
static inline uint64_t sra32(uint64_t v, unsigned n) { return sext32((uint64_t)((int32_t)(uint32_t)v >> n)); }

static bool illegal(struct hart *h, const struct insn *in)
{
    /* tval = the instruction bits, 16 of them for a compressed one
     * (privileged spec 3.1.16). */
    trap_exception(h, CAUSE_ILLEGAL_INSN, in->raw);
    return false;
}

/* ------------------------------------------------------------------ M */

/* Division corner cases follow the spec table (unprivileged spec 7.2):
 * x/0 = all ones, x%0 = x; MIN/-1 = MIN, MIN%-1 = 0. */
static uint64_t div_signed(int64_t a, int64_t b)
{
    if (b == 0) return UINT64_MAX;
    if (a == INT64_MIN && b == -1) return (uint64_t)a;
    return (uint64_t)(a / b);
}

static uint64_t rem_signed(int64_t a, int64_t b)
{
    if (b == 0) return (uint64_t)a;
    if (a == INT64_MIN && b == -1) return 0;
    return (uint64_t)(a % b);
}

static uint64_t div_unsigned(uint64_t a, uint64_t b) { return b == 0 ? UINT64_MAX : a / b; }
static uint64_t rem_unsigned(uint64_t a, uint64_t b) { return b == 0 ? a : a % b; }

static uint64_t divw(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
    if (y == 0) return UINT64_MAX;
    if (x == INT32_MIN && y == -1) return sext32((uint32_t)x);
    return sext32((uint32_t)(x / y));
}

static uint64_t remw(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)(uint32_t)a, y = (int32_t)(uint32_t)b;
    if (y == 0) return sext32((uint32_t)x);
    if (x == INT32_MIN && y == -1) return 0;
    return sext32((uint32_t)(x % y));
}

static uint64_t divuw(uint64_t a, uint64_t b)
{
    uint32_t x = (uint32_t)a, y = (uint32_t)b;
    return y == 0 ? UINT64_MAX : sext32(x / y);
}

static uint64_t remuw(uint64_t a, uint64_t b)
{
    uint32_t x = (uint32_t)a, y = (uint32_t)b;
    return sext32(y == 0 ? x : x % y);
}

static uint64_t mulh(uint64_t a, uint64_t b)
{
    return (uint64_t)((u128)((i128)(int64_t)a * (i128)(int64_t)b) >> 64);
}

/* signed × unsigned: |a| < 2^63 and b < 2^64, so the product fits in i128 */
static uint64_t mulhsu(uint64_t a, uint64_t b)
{
    return (uint64_t)((u128)((i128)(int64_t)a * (i128)b) >> 64);
}

static uint64_t mulhu(uint64_t a, uint64_t b) { return (uint64_t)(((u128)a * b) >> 64); }

/* -------------------------------------------------------- loads/stores */

static inline bool exec_load(struct hart *h, const struct insn *in, unsigned size, bool is_signed)
{
    uint64_t v;
    if (!hart_load(h, h->x[in->rs1] + (uint64_t)in->imm, size, &v))
        return false;
    if (is_signed && size < 8) {
        unsigned shift = 64 - 8 * size;
        v = (uint64_t)((int64_t)(v << shift) >> shift);
    }
    h->x[in->rd] = v;
    return true;
}

static inline bool exec_store(struct hart *h, const struct insn *in, unsigned size)
{
    h->spin_wrote = true;
    return hart_store(h, h->x[in->rs1] + (uint64_t)in->imm, size, h->x[in->rs2]);
}

/* ------------------------------------------------------------------ A */

static bool exec_amo(struct hart *h, const struct insn *in, enum amo_kind kind, unsigned size)
{
    uint64_t old;
    if (!hart_amo(h, kind, h->x[in->rs1], size, h->x[in->rs2], &old))
        return false;
    h->x[in->rd] = size == 4 ? sext32(old) : old;
    return true;
}

static bool exec_lr(struct hart *h, const struct insn *in, unsigned size)
{
    uint64_t v;
    if (!hart_lr(h, h->x[in->rs1], size, &v))
        return false;
    h->x[in->rd] = size == 4 ? sext32(v) : v;
    return true;
}

/* SC writes 0 to rd on success and 1 on failure (spec 8.2). */
static bool exec_sc(struct hart *h, const struct insn *in, unsigned size)
{
    bool stored;
    if (!hart_sc(h, h->x[in->rs1], size, h->x[in->rs2], &stored))
        return false;
    h->x[in->rd] = stored ? 0 : 1;
    return true;
}

/* -------------------------------------------------------------- Zicsr */

/* Which side effects a CSR instruction has (unprivileged spec 9.1, table
 * "Conditions determining whether a CSR instruction reads or writes"):
 * CSRRW[I] with rd = x0 does not read; CSRRS[I]/CSRRC[I] with rs1 = x0 or
 * uimm = 0 do not write. The rs1 field is the register or the uimm. */
static bool exec_csr(struct hart *h, const struct insn *in, unsigned *counters_written)
{
    bool imm_form = in->op >= OP_CSRRWI;
    unsigned which = (unsigned)(in->op - (imm_form ? OP_CSRRWI : OP_CSRRW));
    static const enum csr_op_kind kinds[3] = { CSR_OP_WRITE, CSR_OP_SET, CSR_OP_CLEAR };
    enum csr_op_kind kind = kinds[which];
    uint64_t operand = imm_form ? in->rs1 : h->x[in->rs1];
    bool do_read = kind != CSR_OP_WRITE || in->rd != 0;
    bool do_write = kind == CSR_OP_WRITE || in->rs1 != 0;
    uint64_t old = 0;
    unsigned csr = (unsigned)in->imm;

    if (!csr_access(h, csr, kind, operand, do_read, do_write, &old))
        return illegal(h, in);
    if (do_read)
        h->x[in->rd] = old;
    if (do_write && csr == CSR_MCYCLE)
        *counters_written |= COUNTER_CY;
    if (do_write && csr == CSR_MINSTRET)
        *counters_written |= COUNTER_IR;
    return true;
}

/* -------------------------------------------------------------- F / D */

/* mstatus.FS = Off makes every F/D instruction illegal; an instruction that
 * changes FP state sets FS = Dirty and with it SD (privileged spec 3.1.6.6). */
static bool fp_enabled(const struct hart *h) { return (h->mstatus & MSTATUS_FS) != 0; }

static void fp_mark_dirty(struct hart *h)
{
    h->mstatus |= (uint64_t)FS_DIRTY << MSTATUS_FS_SHIFT | MSTATUS_SD;
}

/* FLW NaN-boxes the loaded single (unprivileged spec 13.2). */
static bool exec_fp_load(struct hart *h, const struct insn *in, unsigned size)
{
    uint64_t v;
    if (!fp_enabled(h))
        return illegal(h, in);
    if (!hart_load(h, h->x[in->rs1] + (uint64_t)in->imm, size, &v))
        return false;
    h->f[in->rd] = size == 4 ? fpu_box_s((uint32_t)v) : v;
    fp_mark_dirty(h);
    return true;
}

/* FSW stores the low 32 bits as they are, boxed or not (spec 13.2). */
static bool exec_fp_store(struct hart *h, const struct insn *in, unsigned size)
{
    if (!fp_enabled(h))
        return illegal(h, in);
    h->spin_wrote = true;
    return hart_store(h, h->x[in->rs1] + (uint64_t)in->imm, size, h->f[in->rs2]);
}

static bool exec_fp_op(struct hart *h, const struct insn *in)
{
    if (!fp_enabled(h) || !fpu_execute(h, in))
        return illegal(h, in);
    fp_mark_dirty(h);
    return true;
}

/* ------------------------------------------------------------- system */

/* FENCE: the host is x86-64 (TSO), which already orders everything except
 * a store before a later load; only a fence whose predecessor set has
 * stores (W or O) and successor set has loads (R or I) needs a full host
 * fence. Any other FENCE still stops the compiler from reordering. Unknown
 * fm values execute as this plain FENCE (unprivileged spec 2.7). */
static void note_pause(struct hart *h);

static void exec_fence(struct hart *h, const struct insn *in)
{
    if (insn_is_pause(in))
        note_pause(h);
    if (insn_fence_orders_store_load(in))
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    else
        __atomic_thread_fence(__ATOMIC_ACQ_REL);
}

/* FENCE.I: the local coherency event for fetched code (DESIGN.md 3,
 * unprivileged spec "Zifencei"). The fence orders the stores this hart has
 * seen before the re-reading of code that icache_sync does. */
static void sync_code(struct hart *h)
{
    icache_sync(&h->icache);
    tlb_forget_code(&h->tlb, NULL);     /* the next fetch from a page checks it */
}

static void exec_fence_i(struct hart *h)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    sync_code(h);
}

/* SFENCE.VMA (privileged spec 4.2.1): illegal in U-mode, and in S-mode
 * when mstatus.TVM is set. It is the hart's coherency event for
 * translations (DESIGN.md 1): with shadow tables, the coherence layer
 * applies the pending patches and drops the fast cache only if the table
 * changed (it drains everything at every fence, which DESIGN.md 2 allows).
 * Without them, rs1 = x0 drops the whole fast cache, otherwise only the
 * page of x[rs1]; the ASID in rs2 only narrows what must be dropped, so
 * ignoring it is always correct. */
static bool exec_sfence_vma(struct hart *h, const struct insn *in)
{
    if (h->priv == PRIV_U || (h->priv == PRIV_S && (h->mstatus & MSTATUS_TVM)))
        return illegal(h, in);
    if (tracelog_on(TRACE_COHERENCE))
        tracelog_sfence(h->mhartid, in->rs1, h->x[in->rs1], in->rs2, h->x[in->rs2], h->satp);
    if (h->coherence)
        coherence_fence(h->coherence, hart_coherence_settings(h));
    else if (in->rs1 == 0)
        tlb_flush_all(&h->tlb);
    else
        tlb_flush_va(&h->tlb, h->x[in->rs1]);
    return true;
}

/* ECALL raises environment-call-from-U/S/M: causes 8, 9, 11 are 8 + priv. */
static bool exec_ecall(struct hart *h)
{
    /* -bios builtin: umbra plays M-mode and serves S-mode's SBI calls; the
     * call counts as a trap, not a retired instruction. */
    if (h->priv == PRIV_S && h->sbi_ecall && h->sbi_ecall(h->sbi_ctx, h))
        return false;
    trap_exception(h, CAUSE_ECALL_U + (uint64_t)h->priv, 0);
    return false;
}

static bool exec_ebreak(struct hart *h)
{
    trap_exception(h, CAUSE_BREAKPOINT, h->pc);
    return false;
}

/* MRET/SRET set pc themselves; interrupts may have become enabled. */
static bool exec_xret(struct hart *h, const struct insn *in, uint64_t *next)
{
    bool ok = in->op == OP_MRET ? trap_mret(h) : trap_sret(h);
    if (!ok)
        return illegal(h, in);
    *next = h->pc;
    h->poll_now = true;
    return true;
}

/* WFI retires at once and ends the block; the hart sleeps at the boundary
 * until an interrupt is pending (or it is kicked), which it then takes
 * with epc = the instruction after WFI (trap_wfi_retire). */
static bool exec_wfi(struct hart *h, const struct insn *in)
{
    if (!trap_wfi_retire(h))
        return illegal(h, in);
    return true;
}

/* ------------------------------------------------------------ execute */

/* Backward jumps of at most this many bytes close a candidate spin loop. */
#define SPIN_LOOP_BYTES 128
/* Identical iterations before the hart yields its host core. */
#define SPIN_YIELD_AFTER 16u
/* A loop whose registers did change is looked at half as often each time,
 * down to once in SPIN_YIELD_AFTER << SPIN_BACKOFF_MAX rounds: a store-free
 * loop that computes (a checksum, a search) then hardly pays for the
 * detector, and one that starts to wait is still found that soon. */
#define SPIN_BACKOFF_MAX 6

static uint64_t register_signature(const struct hart *h)
{
    uint64_t sig = 0;
    for (unsigned i = 1; i < 32; i++)
        sig = (sig << 7 | sig >> 57) ^ h->x[i];
    return sig;
}

/* Short-loop rounds, and blocks begun by the waiting hart itself, between
 * two looks at the heartbeats of the harts an unanswered IPI went to. A
 * running hart begins a block every 1,024 instructions at most (hart.c,
 * POLL_INTERVAL); so does the waiting one, so a target that began none
 * while the waiting hart began IPI_LOOK_BLOCKS is not running, however
 * fast either runs its code (64 rounds alone were too few once loops ran
 * translated: a target that was running looked stalled). */
#define IPI_LOOK_ROUNDS 64u
#define IPI_LOOK_BLOCKS 4u

/* Whether a target of an unanswered IPI made no progress since the last
 * look (it is not running: its thread waits for a host core), recording
 * the heartbeats for the next look. */
static bool ipi_target_stalled(struct hart *h, uint32_t unanswered)
{
    bool stalled = false;
    for (unsigned t = 0; t < HART_MAX_PEERS; t++) {
        if (!(unanswered >> t & 1))
            continue;
        uint64_t beats = atomic_load_explicit(&h->peers[t].heartbeat, memory_order_relaxed);
        stalled |= beats == h->ipi_beats[t];
        h->ipi_beats[t] = beats;
    }
    return stalled;
}

/* Loop rounds between two looks on a pool, where a look is cheap and
 * certain: a few, so that a loop that is not a wait (one that sent an
 * IPI and goes on with its work) does not give its worker up. */
#define IPI_POOL_LOOK_ROUNDS 8u

/* The IPIs still worth waiting for on a pool, out of `unanswered`; the
 * others are forgotten. A target that is waiting and has consumed its
 * kick has run since the IPI and chose to wait with the IPI still
 * pending: firmware that waits for a state change with interrupts off, as
 * OpenSBI's stopped harts do until HSM starts them (they clear msip only
 * then). Running it again answers nothing: otherwise the boot hart, the
 * only one running while Linux boots, gave its worker up every few loop
 * rounds until the others started (50,000 times at -smp 4). A waiting
 * target whose kick is still unconsumed is one that put_locked is about
 * to ready (it was kicked while running). */
static uint32_t forget_ipis_seen(struct hart *h, uint32_t unanswered)
{
    for (unsigned t = 0; t < HART_MAX_PEERS; t++) {
        if (!(unanswered >> t & 1))
            continue;
        const struct hart *target = &h->peers[t];
        if (atomic_load(&target->pool_state) == POOL_WAITING && !atomic_load(&target->kicked)) {
            atomic_fetch_and(&h->ipi_unanswered, ~(1u << t));
            unanswered &= ~(1u << t);
        }
    }
    return unanswered;
}

/* Whether a target of an unanswered IPI is ready but off the pool's
 * workers: it cannot answer before some worker takes it, and this hart's
 * is one. */
static bool ipi_target_off_workers(const struct hart *h, uint32_t unanswered)
{
    for (unsigned t = 0; t < HART_MAX_PEERS; t++)
        if ((unanswered >> t & 1) && atomic_load(&h->peers[t].pool_state) == POOL_READY)
            return true;
    return false;
}

/* A loop round while IPIs this hart sent are unanswered: the hart is most
 * likely waiting for their targets (OpenSBI's remote fences, Linux's
 * cross-call waits), whose loops take locks and so never look idle to the
 * spin detector below. Spinning is right while the targets run; when one
 * is not running, it waits for the host core this hart holds, so the hart
 * gives it up at the end of the block until the targets answer: on a
 * pool, right behind them (pool.h); with a thread per hart, asleep
 * (trap_await_ipi_answer), once a target has not moved since the last
 * look at the heartbeats. */
static void note_ipi_wait_round(struct hart *h, uint32_t unanswered)
{
    if (h->pool) {
        if (++h->ipi_rounds < IPI_POOL_LOOK_ROUNDS)
            return;
        h->ipi_rounds = 0;
        if (ipi_target_off_workers(h, forget_ipis_seen(h, unanswered))) {
            h->ipi_wait_wanted = true;
            h->poll_now = true;
        }
        return;
    }
    if (++h->ipi_rounds < IPI_LOOK_ROUNDS)
        return;
    uint64_t own = atomic_load_explicit(&h->heartbeat, memory_order_relaxed);
    if (own - h->ipi_own_beats < IPI_LOOK_BLOCKS)
        return;
    h->ipi_own_beats = own;
    h->ipi_rounds = 0;
    if (ipi_target_stalled(h, unanswered)) {
        h->ipi_wait_wanted = true;
        h->poll_now = true;
    }
}

/* A pooled hart gives its worker up at the end of the block: it waits
 * for another hart. */
static void yield_worker(struct hart *h)
{
    h->spin_yields++;
    h->spin_wanted = true;              /* hart_run_slice ends the slice */
    h->poll_now = true;
}

/* A spin detected: give the host CPU (or the pool's worker) away. */
static void spin_yield(struct hart *h)
{
    if (!h->pool) {
        h->spin_yields++;
        sched_yield();
        return;
    }
    uint64_t now = timebase_now();
    if (!h->spin_started)
        h->spin_started = now;
    if (!pool_spin_gives_up(h->pool, now - h->spin_started, now))
        return;
    h->spin_started = 0;
    yield_worker(h);
}

/* A PAUSE more than this after the hart's last one begins another wait:
 * 2 us, hundreds of instructions, where a wait loop's round takes tens. */
#define PAUSE_RUN_GAP_TICKS (TIMEBASE_HZ / 1000000 * 2)

/* PAUSE (Zihintpause) on a pool: the guest says it waits for another hart.
 * Linux's cpu_relax() issues one in each round of its wait loops,
 * including those that store every round, which note_backward_jump takes
 * for progress: multi_cpu_stop (stop_machine) bumps RCU's and the
 * watchdog's counters, so each hart in it kept its worker for a whole
 * slice while the harts it waited for sat in the queue (a third of the
 * instructions of a 4-hart boot, more than half at 8 harts). A run of
 * PAUSEs, each within PAUSE_RUN_GAP_TICKS of the one before, is one wait,
 * given up as a detected spin is (pool_spin_gives_up). With a thread per
 * hart the host's scheduler already shares the CPUs, and a PAUSE does
 * nothing: a system call in every round of every short lock wait would
 * cost more than it gives. */
static void note_pause(struct hart *h)
{
    if (!h->pool)
        return;
    uint64_t now = timebase_now();
    if (now - h->pause_last > PAUSE_RUN_GAP_TICKS)
        h->pause_since = now;
    h->pause_last = now;
    if (!pool_spin_gives_up(h->pool, now - h->pause_since, now))
        return;
    h->pause_last = 0;
    yield_worker(h);
}

/* A taken backward jump to `target`. If the loop keeps coming round with no
 * store, and after SPIN_YIELD_AFTER rounds every integer register is as it
 * was, nothing the loop itself does can end it: only another hart (or an
 * interrupt) can. Then yield the host core so that hart gets to run; this
 * is what keeps more harts than host cores from collapsing (spinlocks,
 * OpenSBI's remote fence waits, Linux's csd waits). Loops that compute
 * change a register and never yield. The registers are hashed only at the
 * two ends of a run of store-free rounds, not at every round: a loop that
 * stores (most loops that do work) costs two compares per round, and one
 * that only computes in registers backs off (SPIN_BACKOFF_MAX). */
static void note_backward_jump(struct hart *h, uint64_t target)
{
    uint32_t unanswered = atomic_load_explicit(&h->ipi_unanswered, memory_order_relaxed);
    if (unanswered)
        note_ipi_wait_round(h, unanswered);
    if (target != h->spin_pc || h->spin_wrote) {
        /* translated code starts afresh the same way (jit.c,
         * emit_spin_check): a field reset here must be reset there */
        h->spin_pc = target;
        h->spin_started = 0;
        h->spin_count = 0;
        h->spin_backoff = 0;
        h->spin_wrote = false;
        return;
    }
    if (++h->spin_count == 1) {
        h->spin_sig = register_signature(h);
    } else if (h->spin_count > SPIN_YIELD_AFTER << h->spin_backoff) {
        if (register_signature(h) == h->spin_sig) {
            spin_yield(h);
        } else if (h->spin_backoff < SPIN_BACKOFF_MAX) {
            h->spin_backoff++;
        }
        h->spin_count = 0;
    }
}

/* A taken branch or jump from pc to target: returns target. */
static inline uint64_t jump_to(struct hart *h, uint64_t pc, uint64_t target)
{
    if (target < pc && pc - target <= SPIN_LOOP_BYTES)
        note_backward_jump(h, target);
    return target;
}

/* The page the block is fetching from: its virtual address and its decoded
 * instructions. Valid until the block ends or an instruction closes it
 * (va = NO_WINDOW); everything that could change the translation of pc
 * does one or the other (a trap, xRET and interrupt-relevant CSR writes
 * end the block; other CSR writes, FENCE.I and SFENCE.VMA close it). */
struct fetch_window {
    uint64_t va;                        /* page-aligned, or NO_WINDOW */
    struct icache_page *page;
};
#define NO_WINDOW 1ull                  /* never a page address */

/* What one block of instructions carries from one instruction to the
 * next: how many retired, how many of those are already in the counters
 * (Zicntr), and the fetch window. */
struct block {
    uint64_t retired;
    uint64_t counted;
    struct fetch_window window;
};

/* Count n retired instructions (Zicntr; privileged spec 3.1.11-3.1.12):
 * minstret counts unless mcountinhibit.IR is set. mcycle is kept as
 * minstret + mcycle_offset, so the offset absorbs the difference whenever
 * only one of the two counts. mcountinhibit changes only by a CSR
 * instruction, and the counts are brought up to date before each one, so
 * applying the current mcountinhibit to a whole run is exact. */
static void count_retired(struct hart *h, uint64_t n)
{
    bool count_ir = !(h->mcountinhibit & COUNTER_IR), count_cy = !(h->mcountinhibit & COUNTER_CY);
    if (count_ir)
        h->minstret += n;
    if (count_ir && !count_cy)
        h->mcycle_offset -= n;
    else if (!count_ir && count_cy)
        h->mcycle_offset += n;
}

/* Count one retired instruction that wrote mcycle or minstret: a counter
 * it wrote does not count it (the value written is what the next
 * instruction reads); otherwise as count_retired. */
static void retire_writing_counters(struct hart *h, unsigned counters_written)
{
    unsigned frozen = (h->mcountinhibit & (COUNTER_CY | COUNTER_IR)) | counters_written;
    bool count_ir = !(frozen & COUNTER_IR), count_cy = !(frozen & COUNTER_CY);
    if (count_ir)
        h->minstret++;
    if (count_ir && !count_cy)
        h->mcycle_offset--;
    else if (!count_ir && count_cy)
        h->mcycle_offset++;
}

/* Carry out one decoded instruction. Returns true if it retired.
 * Forced inline into hart_execute_block's loop: as a call of its own it
 * saves and restores six registers per guest instruction, which made the
 * compute guest's integer kernel 1.6x slower (paired runs). */
static inline __attribute__((always_inline)) bool
execute(struct hart *h, const struct insn *in, struct block *blk)
{
    unsigned counters_written = 0;
    uint64_t *x = h->x;
    const uint64_t a = x[in->rs1], b = x[in->rs2], pc = h->pc;
    const uint64_t imm = (uint64_t)in->imm;
    uint64_t next = pc + in->len;
    bool ok = true;

    switch ((enum insn_op)in->op) {
    case OP_ILLEGAL: ok = illegal(h, in); break;

    /* RV64I: upper immediates and control transfer. C is implemented, so
     * IALIGN = 16 and no target can be misaligned (JALR clears bit 0,
     * branch and jump offsets are even). */
    case OP_LUI: x[in->rd] = imm; break;
    case OP_AUIPC: x[in->rd] = pc + imm; break;
    case OP_JAL: x[in->rd] = next; next = jump_to(h, pc, pc + imm); break;
    case OP_JALR: x[in->rd] = next; next = jump_to(h, pc, (a + imm) & ~1ull); break;
    case OP_BEQ: if (a == b) next = jump_to(h, pc, pc + imm); break;
    case OP_BNE: if (a != b) next = jump_to(h, pc, pc + imm); break;
    case OP_BLT: if ((int64_t)a < (int64_t)b) next = jump_to(h, pc, pc + imm); break;
    case OP_BGE: if ((int64_t)a >= (int64_t)b) next = jump_to(h, pc, pc + imm); break;
    case OP_BLTU: if (a < b) next = jump_to(h, pc, pc + imm); break;
    case OP_BGEU: if (a >= b) next = jump_to(h, pc, pc + imm); break;

    /* RV64I: loads and stores */
    case OP_LB: ok = exec_load(h, in, 1, true); break;
    case OP_LH: ok = exec_load(h, in, 2, true); break;
    case OP_LW: ok = exec_load(h, in, 4, true); break;
    case OP_LD: ok = exec_load(h, in, 8, false); break;
    case OP_LBU: ok = exec_load(h, in, 1, false); break;
    case OP_LHU: ok = exec_load(h, in, 2, false); break;
    case OP_LWU: ok = exec_load(h, in, 4, false); break;
    case OP_SB: ok = exec_store(h, in, 1); break;
    case OP_SH: ok = exec_store(h, in, 2); break;
    case OP_SW: ok = exec_store(h, in, 4); break;
    case OP_SD: ok = exec_store(h, in, 8); break;

    /* RV64I: register-immediate (shamt is in imm for shifts) */
    case OP_ADDI: x[in->rd] = a + imm; break;
    case OP_SLTI: x[in->rd] = (int64_t)a < (int64_t)imm; break;
    case OP_SLTIU: x[in->rd] = a < imm; break;
    case OP_XORI: x[in->rd] = a ^ imm; break;
    case OP_ORI: x[in->rd] = a | imm; break;
    case OP_ANDI: x[in->rd] = a & imm; break;
    case OP_SLLI: x[in->rd] = a << (imm & 63); break;
    case OP_SRLI: x[in->rd] = a >> (imm & 63); break;
    case OP_SRAI: x[in->rd] = sra64(a, imm & 63); break;

    /* RV64I: register-register (shift amounts are the low 6 bits) */
    case OP_ADD: x[in->rd] = a + b; break;
    case OP_SUB: x[in->rd] = a - b; break;
    case OP_SLL: x[in->rd] = a << (b & 63); break;
    case OP_SLT: x[in->rd] = (int64_t)a < (int64_t)b; break;
    case OP_SLTU: x[in->rd] = a < b; break;
    case OP_XOR: x[in->rd] = a ^ b; break;
    case OP_SRL: x[in->rd] = a >> (b & 63); break;
    case OP_SRA: x[in->rd] = sra64(a, b & 63); break;
    case OP_OR: x[in->rd] = a | b; break;
    case OP_AND: x[in->rd] = a & b; break;

    /* RV64I: 32-bit operations, results sign-extended (spec 4.2) */
    case OP_ADDIW: x[in->rd] = sext32(a + imm); break;
    case OP_SLLIW: x[in->rd] = sext32((uint32_t)a << (imm & 31)); break;
    case OP_SRLIW: x[in->rd] = sext32((uint32_t)a >> (imm & 31)); break;
    case OP_SRAIW: x[in->rd] = sra32(a, imm & 31); break;
    case OP_ADDW: x[in->rd] = sext32(a + b); break;
    case OP_SUBW: x[in->rd] = sext32(a - b); break;
    case OP_SLLW: x[in->rd] = sext32((uint32_t)a << (b & 31)); break;
    case OP_SRLW: x[in->rd] = sext32((uint32_t)a >> (b & 31)); break;
    case OP_SRAW: x[in->rd] = sra32(a, b & 31); break;

    /* RV64I: ordering and environment */
    case OP_FENCE: exec_fence(h, in); break;
    case OP_FENCE_I: exec_fence_i(h); blk->window.va = NO_WINDOW; break;
    case OP_ECALL: ok = exec_ecall(h); break;
    case OP_EBREAK: ok = exec_ebreak(h); break;

    /* Zicsr */
    case OP_CSRRW: case OP_CSRRS: case OP_CSRRC:
    case OP_CSRRWI: case OP_CSRRSI: case OP_CSRRCI:
        /* the counters as of this instruction, for the CSR to read */
        count_retired(h, blk->retired - blk->counted);
        blk->counted = blk->retired;
        ok = exec_csr(h, in, &counters_written);
        blk->window.va = NO_WINDOW;     /* satp, PMP: translate pc again */
        break;

    /* M */
    case OP_MUL: x[in->rd] = a * b; break;
    case OP_MULH: x[in->rd] = mulh(a, b); break;
    case OP_MULHSU: x[in->rd] = mulhsu(a, b); break;
    case OP_MULHU: x[in->rd] = mulhu(a, b); break;
    case OP_DIV: x[in->rd] = div_signed((int64_t)a, (int64_t)b); break;
    case OP_DIVU: x[in->rd] = div_unsigned(a, b); break;
    case OP_REM: x[in->rd] = rem_signed((int64_t)a, (int64_t)b); break;
    case OP_REMU: x[in->rd] = rem_unsigned(a, b); break;
    case OP_MULW: x[in->rd] = sext32(a * b); break;
    case OP_DIVW: x[in->rd] = divw(a, b); break;
    case OP_DIVUW: x[in->rd] = divuw(a, b); break;
    case OP_REMW: x[in->rd] = remw(a, b); break;
    case OP_REMUW: x[in->rd] = remuw(a, b); break;

    /* A */
    case OP_LR_W: ok = exec_lr(h, in, 4); break;
    case OP_SC_W: ok = exec_sc(h, in, 4); break;
    case OP_AMOSWAP_W: ok = exec_amo(h, in, AMO_SWAP, 4); break;
    case OP_AMOADD_W: ok = exec_amo(h, in, AMO_ADD, 4); break;
    case OP_AMOXOR_W: ok = exec_amo(h, in, AMO_XOR, 4); break;
    case OP_AMOAND_W: ok = exec_amo(h, in, AMO_AND, 4); break;
    case OP_AMOOR_W: ok = exec_amo(h, in, AMO_OR, 4); break;
    case OP_AMOMIN_W: ok = exec_amo(h, in, AMO_MIN, 4); break;
    case OP_AMOMAX_W: ok = exec_amo(h, in, AMO_MAX, 4); break;
    case OP_AMOMINU_W: ok = exec_amo(h, in, AMO_MINU, 4); break;
    case OP_AMOMAXU_W: ok = exec_amo(h, in, AMO_MAXU, 4); break;
    case OP_LR_D: ok = exec_lr(h, in, 8); break;
    case OP_SC_D: ok = exec_sc(h, in, 8); break;
    case OP_AMOSWAP_D: ok = exec_amo(h, in, AMO_SWAP, 8); break;
    case OP_AMOADD_D: ok = exec_amo(h, in, AMO_ADD, 8); break;
    case OP_AMOXOR_D: ok = exec_amo(h, in, AMO_XOR, 8); break;
    case OP_AMOAND_D: ok = exec_amo(h, in, AMO_AND, 8); break;
    case OP_AMOOR_D: ok = exec_amo(h, in, AMO_OR, 8); break;
    case OP_AMOMIN_D: ok = exec_amo(h, in, AMO_MIN, 8); break;
    case OP_AMOMAX_D: ok = exec_amo(h, in, AMO_MAX, 8); break;
    case OP_AMOMINU_D: ok = exec_amo(h, in, AMO_MINU, 8); break;
    case OP_AMOMAXU_D: ok = exec_amo(h, in, AMO_MAXU, 8); break;

    /* F and D: memory operations here, arithmetic in fpu.c */
    case OP_FLW: ok = exec_fp_load(h, in, 4); break;
    case OP_FLD: ok = exec_fp_load(h, in, 8); break;
    case OP_FSW: ok = exec_fp_store(h, in, 4); break;
    case OP_FSD: ok = exec_fp_store(h, in, 8); break;
    case OP_FMADD_S: case OP_FMSUB_S: case OP_FNMSUB_S: case OP_FNMADD_S:
    case OP_FADD_S: case OP_FSUB_S: case OP_FMUL_S: case OP_FDIV_S: case OP_FSQRT_S:
    case OP_FSGNJ_S: case OP_FSGNJN_S: case OP_FSGNJX_S: case OP_FMIN_S: case OP_FMAX_S:
    case OP_FCVT_W_S: case OP_FCVT_WU_S: case OP_FCVT_L_S: case OP_FCVT_LU_S:
    case OP_FCVT_S_W: case OP_FCVT_S_WU: case OP_FCVT_S_L: case OP_FCVT_S_LU:
    case OP_FMV_X_W: case OP_FMV_W_X: case OP_FEQ_S: case OP_FLT_S: case OP_FLE_S:
    case OP_FCLASS_S:
    case OP_FMADD_D: case OP_FMSUB_D: case OP_FNMSUB_D: case OP_FNMADD_D:
    case OP_FADD_D: case OP_FSUB_D: case OP_FMUL_D: case OP_FDIV_D: case OP_FSQRT_D:
    case OP_FSGNJ_D: case OP_FSGNJN_D: case OP_FSGNJX_D: case OP_FMIN_D: case OP_FMAX_D:
    case OP_FCVT_S_D: case OP_FCVT_D_S:
    case OP_FCVT_W_D: case OP_FCVT_WU_D: case OP_FCVT_L_D: case OP_FCVT_LU_D:
    case OP_FCVT_D_W: case OP_FCVT_D_WU: case OP_FCVT_D_L: case OP_FCVT_D_LU:
    case OP_FMV_X_D: case OP_FMV_D_X: case OP_FEQ_D: case OP_FLT_D: case OP_FLE_D:
    case OP_FCLASS_D:
        ok = exec_fp_op(h, in);
        break;

    /* privileged */
    case OP_SRET: case OP_MRET: ok = exec_xret(h, in, &next); break;
    case OP_WFI: ok = exec_wfi(h, in); break;
    case OP_SFENCE_VMA: ok = exec_sfence_vma(h, in); blk->window.va = NO_WINDOW; break;

    case OP_COUNT: default: ok = illegal(h, in); break;
    }

    x[0] = 0;   /* writes to x0 above are discarded here, in one place */
    if (!ok)
        return false;
    h->pc = next;
    blk->retired++;
    if (counters_written) {
        retire_writing_counters(h, counters_written);
        blk->counted = blk->retired;
    }
    return true;
}

/* ------------------------------------------------------------- fetch */

/* Open the window on pc's page if the fast cache translates it for
 * execution; false sends the fetch down the ordinary path (a miss, which
 * that path fills; a fault; code outside plain RAM; a misaligned pc). */
static bool open_window(struct hart *h, struct fetch_window *w, uint64_t pc)
{
    if (pc & 1)
        return false;
    struct tlb_entry *e = tlb_entry_of(&h->tlb, access_tlb_ctx(h, h->priv), ACCESS_EXEC, pc);
    if (e->vpn_tag != tlb_tag(&h->tlb, pc))
        return false;
    if (!e->code) {
        const struct icache_page *evicted;
        struct icache_page *p = icache_page_for(&h->icache, e->pa_page, &evicted);
        if (evicted)
            tlb_forget_code(&h->tlb, evicted);
        if (!p)
            return false;
        e->code = p;
    }
    w->va = pc & PAGE_MASK;
    w->page = e->code;
    return true;
}

/* Fetch and decode through the data path, without the decoded cache: for
 * fast-cache misses and for an instruction that straddles two pages. */
static const struct insn *fetch_uncached(struct hart *h, struct insn *scratch)
{
    uint32_t raw;
    if (!hart_fetch(h, h->pc, &raw))
        return NULL;
    decode(raw, scratch);
    return scratch;
}

/* Is the window open on pc's page (opening it if it can be)? */
static inline bool window_on(struct hart *h, struct fetch_window *w, uint64_t pc)
{
    return (pc & PAGE_MASK) == w->va || open_window(h, w, pc);
}

/* The decoded instruction at pc, or NULL after taking a fetch exception. */
static inline const struct insn *fetch_decoded(struct hart *h, struct fetch_window *w,
                                               struct insn *scratch)
{
    uint64_t pc = h->pc;
    if (!window_on(h, w, pc))
        return fetch_uncached(h, scratch);
    unsigned index = icache_slot_of(pc);
    const struct insn *in = &w->page->slot[index];
    if (in->len == 0 && !icache_decode_slot(w->page, index))
        return fetch_uncached(h, scratch);
    return in;
}

/* run_translated's answer when the unit at pc is longer than what is
 * left of the block's budget. */
#define UNIT_TOO_LONG UINT_MAX

/* Run the translated unit that starts at pc if there is one (jit.h):
 * returns the instructions it accounts for (retired, or 1 for one that
 * trapped), 0 if the interpreter is to execute the instruction at pc, or
 * UNIT_TOO_LONG. The decoded slot is not read first: where a unit
 * exists the slot's word is all the lookup needs, and the slot's cache
 * line was a miss in a tenth of a 4-hart ptbench's host time. The unit is
 * given the data context's fast-cache entries, which cannot change inside
 * it (privilege and mstatus change only by instructions units leave out,
 * and by traps, which end the unit). */
static inline __attribute__((always_inline)) unsigned
run_translated(struct hart *h, struct block *blk, unsigned budget_left)
{
    /* No fetch entry (after a satp write, every page): make one, so that
     * a unit may start here; what fails is the interpreter's fetch's to
     * raise. */
    if (!window_on(h, &blk->window, h->pc) &&
        !(hart_fill_fetch(h, h->pc) && open_window(h, &blk->window, h->pc)))
        return 0;
    struct icache_page *page = blk->window.page;
    jit_unit_fn unit = jit_unit_at(h->jit, page, icache_slot_of(h->pc), h->pc);
    if (!unit)
        return 0;
    jit_link_cross(h->jit, page, unit, h->pc);
    if (budget_left < JIT_UNIT_MAX_INSNS && jit_unit_insns(unit) > budget_left)
        return UNIT_TOO_LONG;
    struct tlb_entry *data_tlb = access_data_entries(h);
    h->jit_data_tlb = data_tlb;
    h->jit_fetch_tlb = &h->tlb.e[access_tlb_ctx(h, h->priv)][ACCESS_EXEC][0];
    uint64_t pc = h->pc;
    enum priv priv = h->priv;
    struct jit_exit e = unit(h, data_tlb, budget_left);
    uint64_t n = e.retired;
    blk->retired += n;
    if (e.link && h->jit_link_page)     /* left by a jump within its page */
        jit_link(h->jit, e.link, h->jit_link_page, icache_slot_of(h->pc), h->pc);
    else if (e.link)                    /* by a jump to another page */
        jit_note_cross_exit(h->jit, e.link, h->pc);
    if (n == 0 && h->pc == pc && !h->poll_now)
        return 0;                       /* it left at once: interpret this one */
    /* The window stays open on pc's page unless a trap changed privilege
     * (and with it the fetch context); a new page reopens it anyway. */
    if (h->priv != priv)
        blk->window.va = NO_WINDOW;
    return n ? (unsigned)n : 1;         /* 0 retired: its first instruction trapped */
}

/* After an interpreted instruction that went straight on: does a unit
 * start at the next one? Straight-line code that a block boundary cut in
 * two is otherwise interpreted from the cut to its next jump, however hot
 * it is: the cut lands somewhere else each time, so no pc there becomes
 * hot, and a long unrolled run (the kernel's blake2s rounds, 8 KiB without
 * a branch) was interpreted on every call. The chain of units made from
 * the run's start has a unit every JIT_UNIT_MAX_INSNS instructions at
 * most, where the interpreter now goes back to translated code. Asking
 * only reads the slot's word (jit_unit_ready), unlike a lookup, which
 * counts looks; counting at every interpreted instruction was what cost a
 * cold kernel 14 %. */
static inline bool unit_ready_at_pc(const struct hart *h, const struct block *blk)
{
    return (h->pc & PAGE_MASK) == blk->window.va &&
           jit_unit_ready(h->jit, blk->window.page, icache_slot_of(h->pc), h->pc);
}

/* Where a step of a block loop began (a unit, or one interpreted
 * instruction), for --profile: the step is charged to its first pc. */
struct step_mark {
    uint64_t pc, ticks, retired;
    unsigned priv;
};

static inline void step_begin(struct step_mark *m, const struct hart *h, const struct block *blk)
{
    *m = (struct step_mark){ h->pc, profile_ticks(), blk->retired, h->priv };
}

static inline void step_charge(struct profile *p, const struct step_mark *m,
                               const struct block *blk)
{
    profile_charge(p, m->pc, m->priv, profile_ticks() - m->ticks, blk->retired - m->retired);
}

/* The block loop with translation: units where they exist, the
 * interpreter elsewhere. Units are looked for only where one can start:
 * at the block's start, after a jump, a trap or a unit, and after an
 * instruction that units leave out (looking at every instruction cost a
 * cold Linux kernel 14 % of its time in the lookup). Each step is charged
 * to `profile` when there is one; the copy without (profile a constant
 * NULL) has no trace of it. */
static inline __attribute__((always_inline)) uint64_t
run_block_translated_with(struct hart *h, unsigned budget, struct profile *profile)
{
    struct block blk_ = { 0, 0, { NO_WINDOW, NULL } }, *blk = &blk_;
    bool leader = true;
    for (unsigned i = 0; i < budget;) {
        struct step_mark mark;
        if (profile)
            step_begin(&mark, h, blk);
        unsigned ran = leader ? run_translated(h, blk, budget - i) : 0;
        if (ran == UNIT_TOO_LONG) {
            if (i)
                break;                  /* end the block early: the next one has room */
            ran = 0;                    /* a budget this short is all there is: interpret */
        }
        if (ran) {
            i += ran;
            leader = true;
        } else {
            struct insn scratch;
            const struct insn *in = fetch_decoded(h, &blk->window, &scratch);
            uint64_t pc = h->pc;
            leader = true;
            if (in) {
                execute(h, in, blk);
                /* An instruction fetched past the decoded pages (the fast
                 * cache had no fetch entry for its page, as for every page
                 * after a satp write) leaves the entry filled: look for a
                 * unit at the next one too, or a straight run of code such
                 * as the trap return's register loads would be
                 * interpreted to its end after every context switch. */
                leader = h->pc != pc + in->len || jit_ends_unit(in) || in == &scratch ||
                         unit_ready_at_pc(h, blk);
            }
            i++;
        }
        if (profile)
            step_charge(profile, &mark, blk);
        if (h->poll_now)
            break;
    }
    count_retired(h, blk->retired - blk->counted);
    return blk->retired;
}

/* The block loop of --engine=interp (and of hosts without a translator),
 * kept apart so that it stays as short as it can be. Each loop has the
 * block as its own local, which the compiler keeps in registers. Profiled
 * as run_block_translated_with is. */
static inline __attribute__((always_inline)) uint64_t
run_block_interpreted_with(struct hart *h, unsigned budget, struct profile *profile)
{
    struct block blk = { 0, 0, { NO_WINDOW, NULL } };
    for (unsigned i = 0; i < budget; i++) {
        struct step_mark mark;
        if (profile)
            step_begin(&mark, h, &blk);
        struct insn scratch;
        const struct insn *in = fetch_decoded(h, &blk.window, &scratch);
        if (in)
            execute(h, in, &blk);
        if (profile)
            step_charge(profile, &mark, &blk);
        if (h->poll_now)
            break;
    }
    count_retired(h, blk.retired - blk.counted);
    return blk.retired;
}

static uint64_t run_block_translated(struct hart *h, unsigned budget)
{
    return run_block_translated_with(h, budget, NULL);
}

static uint64_t run_block_interpreted(struct hart *h, unsigned budget)
{
    return run_block_interpreted_with(h, budget, NULL);
}

/* --profile's loops: slower, and used only then. */
static __attribute__((noinline)) uint64_t run_block_profiled(struct hart *h, unsigned budget)
{
    return h->jit ? run_block_translated_with(h, budget, h->profile)
                  : run_block_interpreted_with(h, budget, h->profile);
}

/* A block runs in one privilege mode: a trap or an xRET sets poll_now,
 * which ends it. */
uint64_t hart_execute_block(struct hart *h, unsigned budget)
{
    if (icache_code_written(&h->icache))
        sync_code(h);
    bool user = h->priv == PRIV_U;
    uint64_t retired = h->profile ? run_block_profiled(h, budget)
                     : h->jit     ? run_block_translated(h, budget)
                                  : run_block_interpreted(h, budget);
    if (user)
        atomic_store_explicit(&h->user_retired,
                              atomic_load_explicit(&h->user_retired, memory_order_relaxed) + retired,
                              memory_order_relaxed);
    return retired;
}

bool hart_execute_decoded(struct hart *h, const struct insn *in)
{
    struct block blk = { 0, 0, { NO_WINDOW, NULL } };
    return execute(h, in, &blk);
}

bool hart_execute_fp(struct hart *h, const struct insn *in)
{
    return exec_fp_op(h, in);
}

void hart_note_backward_jump(struct hart *h, uint64_t target)
{
    note_backward_jump(h, target);
}

bool hart_execute_one(struct hart *h)
{
    return hart_execute_block(h, 1) != 0;
}
