/* trap: exceptions, interrupts and the privilege transitions between them
 * (privileged spec 3.1.6.1, 3.1.8 delegation, 3.1.9 priority, 3.3.2 xRET,
 * 3.3.3 WFI, 4.1 S-mode view).
 *
 * Owns trap entry (cause, tval, epc, xPP/xPIE/xIE stacking, vectored mtvec/
 * stvec), interrupt selection in the spec's priority order with delegation
 * and the global-enable rules, MRET/SRET, and the WFI sleep. Hart thread only,
 * except hart_set_irq/hart_kick which other threads call (declared in hart.h,
 * defined in trap.c).
 */
#ifndef UMBRA_CPU_TRAP_H
#define UMBRA_CPU_TRAP_H
#include <stdbool.h>
#include <stdint.h>
#include "cpu/hart.h"

/* Take an exception at the current pc: `cause` from enum exc_cause, `tval`
 * as the spec defines it for that cause. Sets pc to the handler. */
void trap_exception(struct hart *h, uint64_t cause, uint64_t tval);

/* Refresh MTIP/STIP from the timebase, then take the highest-priority pending
 * and enabled interrupt, if any. Returns true if one was taken. */
bool trap_poll_interrupts(struct hart *h);

/* Recompute the timer interrupt lines from mtime: MTIP = (time >= mtimecmp)
 * and, when menvcfg.STCE is set, STIP = (time >= stimecmp) (Sstc). */
void trap_update_timer_irqs(struct hart *h);

/* MRET and SRET. Return false when illegal (MRET below M; SRET in U, or in S
 * with mstatus.TSR); the caller then raises illegal instruction. */
bool trap_mret(struct hart *h);
bool trap_sret(struct hart *h);

/* WFI: false when illegal (TW=1 below M, or U-mode). Otherwise sleeps until
 * an interrupt is pending in mip & mie (regardless of global enables), the
 * hart is kicked, or the machine halts; then returns true. For the SBI
 * calls that wait inside an ECALL. */
bool trap_wfi(struct hart *h);

/* The WFI instruction: false when illegal, as above. Otherwise it retires
 * at once and sets wfi_wanted; the hart sleeps at the block boundary, in
 * trap_wfi_sleep, or, on a pool (cpu/pool.h), leaves its worker there. */
bool trap_wfi_retire(struct hart *h);
void trap_wfi_sleep(struct hart *h);

/* A WFI on a thread of its own (not a pool's) spins for h->wfi_spin_ticks
 * before its thread sleeps; this is that window after a WFI whose thread
 * slept `slept` ticks (0: the spin ended it). See trap.c. */
uint64_t trap_wfi_spin_window(uint64_t window, uint64_t slept);

/* At a block boundary: sleep until every hart this one sent an IPI to has
 * taken it (hart_note_ipi), one of them runs again, the hart is kicked, or
 * 200 us pass. */
void trap_await_ipi_answer(struct hart *h);

/* Whether this WFI only polls (wfi_wait: then only a kick or the longest
 * sleep ends its wait; counted in wfi_poll_sleeps), and, for a WFI on a
 * pool worker (cpu/pool.h), which does not block the thread, the mtime at
 * which its wait ends anyway. trap_wfi_wake_tick first brings the timer
 * lines in mip up to date, so that a deadline already passed ends the
 * wait at once (the pool looks at mip). */
bool trap_wfi_polls(struct hart *h);
uint64_t trap_wfi_wake_tick(struct hart *h, bool kick_only);

#endif
