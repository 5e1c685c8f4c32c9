/* fp.h: helpers shared by the F and D guest test programs (f.c, d.c).
 *
 * Operands and results travel as raw bit patterns through whole 64-bit FP
 * registers (fmv.d.x / fmv.x.d), so NaN boxing of singles is visible and no
 * C float conversion can disturb a value. Each helper clears fflags, runs one
 * instruction and leaves the flags it raised in fp_flags.
 */
#ifndef UMBRA_GUEST_FP_H
#define UMBRA_GUEST_FP_H
#include "rt.h"

/* fflags bits (unprivileged spec 11.2). */
#define NX 0x01u   /* inexact */
#define UF 0x02u   /* underflow */
#define OF 0x04u   /* overflow */
#define DZ 0x08u   /* divide by zero */
#define NV 0x10u   /* invalid */

/* frm encodings (table 11.1). */
#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4

/* A single NaN-boxed in a 64-bit register (11.2 / 12.2). */
#define BOX(x) (0xffffffff00000000ull | (uint32_t)(x))

static volatile unsigned fp_flags;

/* rd = op(rs1, rs2) with rounding mode rm ("rne" ... "dyn"). */
#define FOP2(op, rm, a, b) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t" \
                 op " ft2, ft0, ft1, " rm "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) \
                 : "ft0", "ft1", "ft2"); \
    fp_flags = (unsigned)f_; r_; })

/* rd = op(rs1, rs2), an operation without a rounding mode. */
#define FOP2N(op, a, b) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t" \
                 op " ft2, ft0, ft1\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) \
                 : "ft0", "ft1", "ft2"); \
    fp_flags = (unsigned)f_; r_; })

/* rd = op(rs1, rs2, rs3) with rounding mode rm. */
#define FOP3(op, rm, a, b, c) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\tfmv.d.x ft3, %4\n\t" \
                 op " ft2, ft0, ft1, ft3, " rm "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) \
                 : "r"((uint64_t)(a)), "r"((uint64_t)(b)), "r"((uint64_t)(c)) \
                 : "ft0", "ft1", "ft2", "ft3"); \
    fp_flags = (unsigned)f_; r_; })

/* rd = op(rs1) with rounding mode rm, FP register to FP register. */
#define FOP1(op, rm, a) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\t" op " ft2, ft0, " rm \
                 "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)) : "ft0", "ft2"); \
    fp_flags = (unsigned)f_; r_; })

/* FP rd = op(rs1) for the always-exact conversions that take no rounding
 * mode (fcvt.d.s, fcvt.d.w, fcvt.d.wu): FP or integer source. */
#define FOP1X(op, a) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\t" op " ft2, ft0" \
                 "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)) : "ft0", "ft2"); \
    fp_flags = (unsigned)f_; r_; })
#define ITOFX(op, a) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\t" op " ft2, %2" \
                 "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)) : "ft2"); \
    fp_flags = (unsigned)f_; r_; })

/* Integer rd = op(FP rs1) with rounding mode rm (fcvt.w.s ...). */
#define FTOI(op, rm, a) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\t" op " %0, ft0, " rm \
                 "\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)) : "ft0"); \
    fp_flags = (unsigned)f_; r_; })

/* FP rd = op(integer rs1) with rounding mode rm (fcvt.s.w ...). */
#define ITOF(op, rm, a) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\t" op " ft2, %2, " rm \
                 "\n\tfmv.x.d %0, ft2\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)) : "ft2"); \
    fp_flags = (unsigned)f_; r_; })

/* Integer rd = op(FP rs1, FP rs2) (feq/flt/fle) or op(FP rs1) (fclass). */
#define FCMP(op, a, b) ({ uint64_t r_, f_; \
    asm volatile("csrw fflags, zero\n\tfmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t" \
                 op " %0, ft0, ft1\n\tcsrr %1, fflags" \
                 : "=&r"(r_), "=&r"(f_) : "r"((uint64_t)(a)), "r"((uint64_t)(b)) \
                 : "ft0", "ft1"); \
    fp_flags = (unsigned)f_; r_; })
#define FCLASS(op, a) ({ uint64_t r_; \
    asm volatile("fmv.d.x ft0, %1\n\t" op " %0, ft0" : "=r"(r_) : "r"((uint64_t)(a)) : "ft0"); r_; })

/* Check n: the result is `want` and the instruction raised exactly `flags`. */
static inline void expect_fp(unsigned n, uint64_t got, uint64_t want, unsigned flags)
{
    unsigned raised = fp_flags;
    CHECK_EQ(n, got, want);
    if (raised != flags) {
        rt_puts("fflags differ; ");
        fail_eq(n, raised, flags);
    }
}

static inline void set_frm(unsigned rm) { csr_write(frm, rm); }
#endif
