/* rt.h: the C side of umbra's bare-metal guest test runtime.
 *
 * A guest test program is main() plus checks; it runs in M-mode on hart 0
 * from reset, with a stack, both trap vectors installed, FP enabled and PMP
 * open. It ends through HTIF (Spike's host-target interface, served by umbra
 * and by the reference machine on the ELF's tohost symbol): pass() exits with
 * 0, fail(n) with n, so the exit code names the failing check. Checks are
 * numbered 1..239 inside each program; 249..252 are the runtime's own codes
 * (rt_defs.h).
 *
 * Traps: every trap, in M- or S-mode, is recorded in rt_trap. An exception
 * the test did not announce ends the run with RT_EXIT_UNEXPECTED_TRAP. Inside
 * EXPECT_TRAPS(...) the faulting instruction is skipped instead; with
 * rt_recover_pc set, the handler resumes there once; an rt_hook may take
 * over (interrupt tests). Single hart, single thread: no locking anywhere.
 */
#ifndef UMBRA_GUEST_RT_H
#define UMBRA_GUEST_RT_H
#include <stdbool.h>
#include <stdint.h>
#include "rt_defs.h"

/* ---------------------------------------------------------------- CSRs */
#define RT_STR_(x) #x
#define RT_STR(x) RT_STR_(x)
#define csr_read(csr) ({ uint64_t v_; asm volatile("csrr %0, " RT_STR(csr) : "=r"(v_)); v_; })
#define csr_write(csr, val) asm volatile("csrw " RT_STR(csr) ", %0" :: "r"((uint64_t)(val)) : "memory")
#define csr_set(csr, val) asm volatile("csrs " RT_STR(csr) ", %0" :: "r"((uint64_t)(val)) : "memory")
#define csr_clear(csr, val) asm volatile("csrc " RT_STR(csr) ", %0" :: "r"((uint64_t)(val)) : "memory")
#define csr_swap(csr, val) ({ uint64_t swap_new_ = (uint64_t)(val), swap_old_; \
    asm volatile("csrrw %0, " RT_STR(csr) ", %1" : "=r"(swap_old_) : "r"(swap_new_) : "memory"); swap_old_; })

static inline void sfence_vma_all(void) { asm volatile("sfence.vma" ::: "memory"); }
static inline void fence_all(void) { asm volatile("fence rw, rw" ::: "memory"); }

/* ------------------------------------------------------------- ending */
void rt_putchar(int c);
void rt_puts(const char *s);
void rt_puthex(uint64_t v);
void rt_putdec(uint64_t v);
__attribute__((noreturn)) void rt_exit(uint64_t code);
__attribute__((noreturn)) void pass(void);
__attribute__((noreturn)) void fail(unsigned n);
__attribute__((noreturn)) void fail_eq(unsigned n, uint64_t got, uint64_t expected);

/* Check n: the condition must hold, or the run ends with exit code n. */
#define CHECK(n, cond) do { if (!(cond)) fail(n); } while (0)
/* Check n: got must equal expected (both as 64-bit values); prints both. */
#define CHECK_EQ(n, got, expected) do { \
    uint64_t chk_g_ = (uint64_t)(got), chk_e_ = (uint64_t)(expected); \
    if (chk_g_ != chk_e_) fail_eq(n, chk_g_, chk_e_); } while (0)

/* The one expectation that the deliberately broken build flips: a program
 * writes EXPECT_FLIP(v) where it expects v, and -DUMBRA_BREAK_EXPECTATION
 * turns that into v ^ 1, so that check must fail with its own number. */
#ifdef UMBRA_BREAK_EXPECTATION
#define EXPECT_FLIP(v) ((v) ^ 1)
#else
#define EXPECT_FLIP(v) (v)
#endif

/* -------------------------------------------------------------- traps */
struct rt_frame { uint64_t x[32]; };   /* x[2] = the interrupted sp */

struct rt_trap_record {
    uint64_t count;        /* traps taken so far, any mode */
    uint64_t cause, epc, tval;
    uint64_t status;       /* mstatus / sstatus as the handler found it */
    uint64_t ip;           /* mip / sip as the handler found it */
    int handler;           /* PRV_M or PRV_S: which handler ran */
    int from;              /* privilege the trap came from (xPP) */
    long slot;             /* vector slot entered through, -1 if direct */
};
extern volatile struct rt_trap_record rt_trap;

/* While non-zero, an exception is recorded and the faulting instruction is
 * skipped (its length read from memory). */
extern volatile int rt_skip_traps;
/* If non-zero, the next trap resumes at this pc, at privilege
 * rt_recover_priv (PRV_M by default; the S handler uses S or U). */
extern volatile uint64_t rt_recover_pc;
extern volatile int rt_recover_priv;
/* Called for every trap that is not a return-to-M request; returns true if
 * it dealt with the trap (it may change the frame and xepc/xstatus). */
typedef bool (*rt_hook_fn)(struct rt_frame *f);
extern rt_hook_fn volatile rt_hook;

/* Run stmt with skipping on; evaluates to the number of traps it took. */
#define EXPECT_TRAPS(stmt) ({ \
    uint64_t et_before_ = rt_trap.count; \
    rt_skip_traps = 1; \
    asm volatile("" ::: "memory"); \
    stmt; \
    asm volatile("" ::: "memory"); \
    rt_skip_traps = 0; \
    rt_trap.count - et_before_; })

/* Runtime entry points written in assembly (crt0.S). */
uint64_t rt_run_at(uint64_t priv, uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t stack);
uint64_t rt_try_jump(uint64_t target, uint64_t arg);
extern char rt_trap_entry_m[], rt_trap_entry_s[], rt_mtvec_table[], rt_stvec_table[];
extern char rt_lower_exit[], rt_lower_resume[];

/* rt_run_at, but any trap below M (a fetch fault included, which cannot be
 * skipped) abandons fn and returns to the caller, with the trap recorded
 * and a0 as it was when the trap hit. */
static inline uint64_t rt_run_guarded(uint64_t priv, uint64_t (*fn)(uint64_t), uint64_t arg,
                                      uint64_t stack)
{
    rt_recover_priv = PRV_M;
    rt_recover_pc = (uintptr_t)rt_lower_resume;
    uint64_t r = rt_run_at(priv, fn, arg, stack);
    rt_recover_pc = 0;
    return r;
}

/* Linker-script symbols (runtime/link.ld). */
extern char __image_start[], __image_end[], __utext_start[], __utext_end[];
extern char __udata_start[], __udata_end[], __stack_top[], __strap_stack_top[];

/* Put code or data on the pages that U-mode may use under paging. Such code
 * must not call anything outside .utext. */
#define USER_TEXT __attribute__((section(".utext"), noinline))
#define USER_DATA __attribute__((section(".udata")))

/* The interrupt test helpers: the CLINT's registers (DESIGN.md section 6). */
#define CLINT_REG(addr) (*(volatile uint64_t *)(uintptr_t)(addr))
static inline uint64_t clint_mtime(void) { return CLINT_REG(CLINT_MTIME); }
#endif
