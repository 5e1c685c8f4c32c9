/* jit: translation of a hart's hot guest code into x86-64 host code.
 *
 * Owns, per hart, a buffer of host code and the record of every unit in
 * it; which unit starts at a decoded slot is kept beside the slot, in the
 * decoded page (icache.h, jit_ref). Called by exec.c's block loop, which
 * looks for a unit wherever one can start and runs it.
 *
 * A unit is a run of instructions of one decoded page, from a start that
 * the dispatcher found hot, up to the first instruction it leaves to the
 * interpreter (jit_ends_unit: system and illegal instructions, and the CSR
 * accesses a unit cannot make), a JALR, or the page's end. Branches and
 * jumps whose target lies in the unit stay in it, so a loop runs without
 * returning to the dispatcher until its budget is used up; a jump to
 * another address of the same page goes to the unit there once it exists
 * (jit_link, or for a JALR a look at the page's jit_ref word when it
 * runs), and a jump to another page to the unit there if the fast cache
 * and that page's words lead to one (the cross-page stub, jit.c, after a
 * guard that checks the same for a constant target, jit_link_cross, for
 * a return's call site, the return-address stack, or for a JALR's last
 * target);
 * anything else ends the unit.
 *
 * Translated code does what the interpreter (exec.c) does, instruction
 * by instruction: integer arithmetic, branches, jumps, FENCE (other than
 * PAUSE), the fast path of integer, F and D loads and stores and of the
 * AMOs but min and max, an aligned integer store to a page-table frame
 * of the value memory holds, and F and D arithmetic whose result the
 * host's SSE gives exactly (rounding RNE, NX already set) in host code; the
 * slow path of memory accesses and every other instruction (M division,
 * LR/SC, AMO min and max, the rest of F and D, PAUSE, the CSR accesses
 * units make, but for S-mode's commonest sstatus writes) by calling
 * exec.c, fpu.c and access.h, so a trap is taken with the same pc, cause
 * and tval.
 *
 * Coherence: a unit is derived from the slots of one icache page and is
 * used only while the page's generation is the one it was made from; the
 * icache bumps it whenever it empties a slot or reuses the page, so
 * FENCE.I and device writes to code reach translated code the way they
 * reach decoded code. The fast translation cache (mmu.h) is consulted by
 * the translated loads and stores exactly as by the interpreter's.
 *
 * Hart thread only: each hart translates for itself, into its own buffer.
 * Only x86-64 hosts translate; elsewhere jit_create returns NULL and the
 * hart interprets.
 */
#ifndef UMBRA_CPU_JIT_H
#define UMBRA_CPU_JIT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cpu/csr.h"
#include "cpu/icache.h"
#include "mmu/mmu.h"

struct hart;
struct jit;

/* Instructions a unit holds at most. */
#define JIT_UNIT_MAX_INSNS 64

/* How a unit left: instructions retired (h->pc is then at the next one
 * or, after a trap, at the trap vector) and, when it left by a jump to a
 * constant address, that jump's link (else NULL): for jit_link if the
 * address lies in the unit's page (h->jit_link_page is then that page),
 * for jit_note_cross_exit if not (h->jit_link_page NULL). Returned in
 * rax:rdx. */
struct jit_exit {
    uint64_t retired;
    void *link;
};

/* A translated unit: runs from the instruction it was made for, with
 * data_tlb = the fast cache's entries for data accesses at the hart's
 * current data privilege (&tlb.e[ctx][0][0]), retiring at most `budget`
 * instructions. */
typedef struct jit_exit (*jit_unit_fn)(struct hart *h, struct tlb_entry *data_tlb,
                                       uint64_t budget);

struct jit_stats {
    uint64_t units;             /* units translated */
    uint64_t resident_units;    /* of which keep guest registers in host ones */
    uint64_t resets;            /* times the code buffer filled and was emptied */
};

/* A translator with its own code buffer of code_bytes (at most
 * JIT_CODE_BYTES, which is what each hart of the board gets), or NULL
 * when this host cannot run translated code. A full buffer is emptied
 * and filled again. */
#define JIT_CODE_BYTES (64u << 20)
struct jit *jit_create(size_t code_bytes);
void jit_destroy(struct jit *j);

/* --perf-map: the map of host code to names that perf reads for code
 * with no file behind it (/tmp/perf-PID.map, one "START SIZE NAME" line
 * per range, in hex). Once set, the buffer's stubs and every unit made
 * from then on get a line; a unit's range covers its rarely run paths
 * too, and its name is name_of's for the guest pc it starts at ("guest
 * 0xPC" when it has none). Harts write to the one file from their own
 * threads, a line per call (stdio locks the stream). Once a full buffer is
 * emptied (jit_stats().resets) its addresses are used again and the older
 * lines name them wrongly. */
struct jit_perf_map {
    FILE *file;
    bool (*name_of)(void *ctx, uint64_t pc, char *name, size_t size);    /* false: no name */
    void *ctx;
};
void jit_set_perf_map(struct jit *j, const struct jit_perf_map *map);

/* The unit starting at slot `index` of page p (a decoded slot), whose
 * guest virtual address is pc; NULL while the instruction is not hot yet
 * or cannot start a unit. Translates on the call that finds it hot. */
jit_unit_fn jit_unit_at(struct jit *j, struct icache_page *p, unsigned index, uint64_t pc);

/* Does a unit start at slot `index` of page p (virtual address pc)
 * already? Only reads: no look is counted and nothing is translated, so
 * the interpreter may ask at every instruction it runs straight on to. */
bool jit_unit_ready(const struct jit *j, const struct icache_page *p, unsigned index, uint64_t pc);

/* A unit's size, at most JIT_UNIT_MAX_INSNS. A pass through the unit,
 * from its start or from a backward jump to the next backward jump or
 * exit, retires at most this many; at every backward jump, and when
 * entered from a linked unit, the unit goes on only if another pass fits
 * in the budget. The dispatcher enters a unit only with at least this
 * much budget. */
unsigned jit_unit_insns(jit_unit_fn unit);

struct jit_stats jit_stats(const struct jit *j);

/* A unit left by `link` (jit_exit) to pc, slot `index` of page p: if a
 * unit starts there, make the jump go straight to it from now on, so
 * that a chain of units in a page runs without the dispatcher. Call
 * before anything else is translated (that may empty the buffer). */
void jit_link(struct jit *j, void *link, struct icache_page *p, unsigned index, uint64_t pc);

/* A unit left by the cross-page `link` (jit_exit) to pc: the next
 * jit_link_cross for pc links it. */
void jit_note_cross_exit(struct jit *j, void *link, uint64_t pc);

/* The dispatcher found `unit` at pc, in page p (under the hart's current
 * fetch context): if a unit last left for pc by a cross-page link, make
 * that jump go straight to `unit` for as long as the fast cache maps pc's
 * page to p and p's generation stays what it is now. */
void jit_link_cross(struct jit *j, struct icache_page *p, jit_unit_fn unit, uint64_t pc);

/* Instructions a unit never contains: they change privilege or
 * translation, wait, trap by definition, or touch a CSR that a unit cannot
 * (csr_runs_in_units: the counters, and writes to satp, PMP and most M
 * CSRs). The interpreter runs them, between units; a unit may start right
 * after one. Other CSR accesses run in units, through exec.c. */
static inline bool jit_ends_unit(const struct insn *in)
{
    switch ((enum insn_op)in->op) {
    case OP_ILLEGAL: case OP_ECALL: case OP_EBREAK: case OP_FENCE_I:
    case OP_SRET: case OP_MRET: case OP_WFI: case OP_SFENCE_VMA:
        return true;
    case OP_CSRRW: case OP_CSRRWI:
        return !csr_runs_in_units((unsigned)in->imm, true);
    case OP_CSRRS: case OP_CSRRC:
    case OP_CSRRSI: case OP_CSRRCI:         /* rs1 = x0 or uimm = 0: a read only */
        return !csr_runs_in_units((unsigned)in->imm, in->rs1 != 0);
    default:
        return false;
    }
}

/* ---- exec.c, for translated code ---- */
/* Execute one decoded instruction that does not transfer control (nor
 * touch a CSR, unless jit_ends_unit lets it into units), at h->pc; true
 * if it retired (h->pc then points past it), false if it took a trap. */
bool hart_execute_decoded(struct hart *h, const struct insn *in);
/* The same for an F/D computational instruction (fpu.h), without the
 * interpreter's dispatch; h->pc stays where it was. */
bool hart_execute_fp(struct hart *h, const struct insn *in);
/* A taken backward jump of at most 128 bytes to target: the spin-loop
 * detector's hook (it may set h->poll_now). */
void hart_note_backward_jump(struct hart *h, uint64_t target);
#endif
