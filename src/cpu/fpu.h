/* fpu: the F and D extensions' arithmetic (unprivileged spec chapters 11, 12).
 *
 * Owns IEEE 754-2008 behaviour as RISC-V pins it down: the five rounding
 * modes (RNE, RTZ, RDN, RUP, RMM) and the dynamic mode from frm, the
 * accrued exception flags, NaN-boxing of single-precision values in 64-bit
 * registers, the canonical NaN on every NaN-producing operation, saturating
 * float-to-integer conversions, FMIN/FMAX's treatment of signed zero and
 * signalling NaNs, FCLASS, and fused multiply-add rounded once.
 * Pure functions of their inputs plus the hart's f/x registers and fcsr.
 * Hart thread only.
 */
#ifndef UMBRA_CPU_FPU_H
#define UMBRA_CPU_FPU_H
#include <stdbool.h>
#include <stdint.h>
#include "cpu/decode.h"
#include "cpu/hart.h"

/* fflags bits */
#define FFLAG_NX 0x01
#define FFLAG_UF 0x02
#define FFLAG_OF 0x04
#define FFLAG_DZ 0x08
#define FFLAG_NV 0x10

/* rounding modes */
#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4
#define RM_DYN 7

/* Is op an F/D computational instruction, one that fpu_execute runs? */
static inline bool fpu_is_computational(enum insn_op op)
{
    return (op >= OP_FMADD_S && op <= OP_FCLASS_S) || (op >= OP_FMADD_D && op <= OP_FCLASS_D);
}

/* Execute one F/D computational instruction (everything in the F and D
 * lists except FLW/FSW/FLD/FSD, which are memory operations). The caller has
 * checked that mstatus.FS is not Off and will mark it Dirty. Writes rd (f or
 * x as the op defines) and accrues fflags. Returns false if the rounding mode
 * is reserved (rm 5 or 6, or DYN with frm > 4): illegal instruction, and no
 * state has changed. */
bool fpu_execute(struct hart *h, const struct insn *in);

/* Tests only: false makes every operation take the exact integer path, so
 * the host fast path can be compared with it. Not thread-safe; default on. */
void fpu_set_host_fast(bool on);

/* NaN-boxing helpers (section 13.2). */
static inline uint64_t fpu_box_s(uint32_t v) { return 0xffffffff00000000ull | v; }
/* A single read from a register that is not a valid NaN-box is the canonical NaN. */
static inline uint32_t fpu_unbox_s(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : 0x7fc00000u;
}
#endif
