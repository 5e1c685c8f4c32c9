/* csr: the Zicsr register file of one hart (privileged spec chapters 2, 3, 4;
 * Zicntr; Sstc; the F extension's fcsr).
 *
 * Owns the access rules: which CSRs exist, who may read and write them
 * (privilege from the number's bits 9:8, read-only from bits 11:10,
 * counteren, TVM for satp), WARL legalisation of every written value, and the
 * side effects of a write (fast-cache flush on satp/PMP/MPRV/SUM/MXR change,
 * interrupt re-check on mie/mip/mstatus). Hart thread only.
 */
#ifndef UMBRA_CPU_CSR_H
#define UMBRA_CPU_CSR_H
#include <stdbool.h>
#include <stdint.h>
#include "cpu/hart.h"

enum csr_op_kind { CSR_OP_WRITE, CSR_OP_SET, CSR_OP_CLEAR };

/* Execute the CSR part of CSRRW/CSRRS/CSRRC(I): read the old value (unless
 * !do_read: CSRRW with rd = x0 has no read side effects), then combine it
 * with `operand` by `kind` and write (unless !do_write: CSRRS/C with a zero
 * rs1/uimm do not write). Returns false if the access is illegal; the caller
 * raises an illegal-instruction exception and nothing has changed. */
bool csr_access(struct hart *h, unsigned csr, enum csr_op_kind kind, uint64_t operand,
                bool do_read, bool do_write, uint64_t *old);

/* Whether translated code may make this access itself, in the middle of a
 * unit (cpu/jit.h), and go on: the CSR is no counter whose value depends
 * on the instructions retired (only the dispatcher keeps that count
 * exact), and the access either writes nothing or writes a CSR whose new
 * value changes no context a unit was made for: trap scratch and cause
 * registers, fflags/frm/fcsr (which translated code reads when it runs),
 * or mstatus, mie and mip, whose writes set poll_now, and so end the unit
 * right after them, when they may make an interrupt takeable. A write
 * that moves loads and stores to another context (SUM, MPRV, MPP) points
 * hart.jit_data_tlb there, and the unit goes on with it. satp, PMP and
 * the rest still end the unit before them. */
bool csr_runs_in_units(unsigned csr, bool writes);

/* sstatus's number (privileged spec table 2.2), for translated code that
 * sets and clears its SIE and SUM bits itself (cpu/jit.c). */
#define CSR_NUMBER_SSTATUS 0x100

/* The sstatus / sie / sip masks: which mstatus / mie / mip bits S-mode sees. */
uint64_t csr_sstatus_mask(void);
#endif
