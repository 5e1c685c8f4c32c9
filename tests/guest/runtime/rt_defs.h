/* rt_defs.h: constants of umbra's bare-metal guest test runtime, shared by
 * its assembly (crt0.S, the .S test programs) and its C (rt.h).
 *
 * Only #defines live here so that both assemblers and compilers can include
 * it. Numbers come from the RISC-V privileged spec (v1.12) and from the
 * board's memory map (DESIGN.md section 6).
 */
#ifndef UMBRA_GUEST_RT_DEFS_H
#define UMBRA_GUEST_RT_DEFS_H

/* Privilege levels as encoded in mstatus.MPP (privileged spec 1.2). */
#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* mstatus fields (privileged spec 3.1.6). */
#define MSTATUS_SIE   0x2
#define MSTATUS_MIE   0x8
#define MSTATUS_SPIE  0x20
#define MSTATUS_MPIE  0x80
#define MSTATUS_SPP   0x100
#define MSTATUS_MPP   0x1800
#define MSTATUS_FS    0x6000
#define MSTATUS_MPRV  0x20000
#define MSTATUS_SUM   0x40000
#define MSTATUS_MXR   0x80000
#define MSTATUS_TVM   0x100000
#define MSTATUS_TW    0x200000
#define MSTATUS_TSR   0x400000
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_FS_SHIFT 13

/* Exception causes (privileged spec table 3.6). */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS     1
#define CAUSE_ILLEGAL_INSN     2
#define CAUSE_BREAKPOINT       3
#define CAUSE_MISALIGNED_LOAD  4
#define CAUSE_LOAD_ACCESS      5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS     7
#define CAUSE_ECALL_U          8
#define CAUSE_ECALL_S          9
#define CAUSE_ECALL_M          11
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15

/* Interrupt numbers (privileged spec 3.1.9). */
#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11

/* CLINT (DESIGN.md section 6; the same offsets on the reference machine). */
#define CLINT_BASE     0x02000000
#define CLINT_MSIP0    0x02000000
#define CLINT_MTIMECMP0 0x02004000
#define CLINT_MTIME    0x0200BFF8

/* An address with neither RAM nor a device behind it on umbra's board or on
 * the reference machine: accesses there must raise access faults. */
#define UNMAPPED_PA    0x50000000

/* The value in a7 with which code running below M-mode asks the runtime to
 * return to the M-mode caller of rt_run_at (by ECALL). */
#define RT_RETURN_MAGIC 0x554d425241  /* "UMBRA" */

/* Exit codes the runtime itself uses; test checks are numbered 1..239. */
#define RT_EXIT_BAD_PATH         249   /* code reached a path it must skip */
#define RT_EXIT_UNEXPECTED_TRAP  250
#define RT_EXIT_TRAP_STORM       251
#define RT_EXIT_NESTED_TRAP      252

/* Size of the register frame the trap entries save (x0..x31). */
#define RT_FRAME_SIZE (32 * 8)

/* Stacks of the harts a multi-hart program starts (crt0.S, rt_park). */
#define RT_SECONDARY_STACK_SHIFT 12
#define RT_SECONDARY_STACK (1 << RT_SECONDARY_STACK_SHIFT)

#endif
