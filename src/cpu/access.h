/* access: a hart's guest memory accesses by virtual address — loads, stores,
 * AMOs, LR/SC and instruction fetch.
 *
 * Owns the path from a guest virtual address to the bytes: the effective
 * privilege (mstatus.MPRV, privileged spec 3.1.6.3), translation through the
 * hart's fast cache or the page walker, PMP, the choice between host RAM and
 * an MMIO window, misaligned accesses, and the exception cause and tval of
 * every failure (privileged spec table 3.6). On a failure the exception has
 * already been taken through trap_exception() and the function returns
 * false; the caller abandons the instruction.
 *
 * Called by the execute step of the hart that owns `h`, on its own thread.
 * The common case — a load or store within one page that hits the fast
 * cache — is inline here: a cache probe and one host access.
 */
#ifndef UMBRA_CPU_ACCESS_H
#define UMBRA_CPU_ACCESS_H
#include <stdbool.h>
#include <stdint.h>
#include "cpu/hart.h"

/* Privilege that loads and stores run at: MPP when M-mode sets MPRV
 * (privileged spec 3.1.6.3); fetches always use h->priv. */
static inline enum priv access_data_priv(const struct hart *h)
{
    if (h->priv == PRIV_M && (h->mstatus & MSTATUS_MPRV))
        return (enum priv)((h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    return h->priv;
}

/* The fast-cache context of an access at privilege p (mmu.h). */
static inline enum tlb_ctx access_tlb_ctx(const struct hart *h, enum priv p)
{
    if (p == PRIV_S)
        return h->mstatus & MSTATUS_SUM ? TLB_CTX_S_SUM : TLB_CTX_S;
    return p == PRIV_M ? TLB_CTX_M : TLB_CTX_U;
}

/* The fast cache's entries for loads and stores now (&tlb.e[ctx][0][0]):
 * what translated code is given in r12 (hart.h, jit_data_tlb). */
static inline struct tlb_entry *access_data_entries(struct hart *h)
{
    return &h->tlb.e[access_tlb_ctx(h, access_data_priv(h))][0][0];
}

static inline bool access_within_page(uint64_t va, unsigned size)
{
    return (va & (PAGE_SIZE - 1)) <= PAGE_SIZE - size;
}

/* Slow paths (access.c): any miss, page-crossing or device access. */
bool hart_load_slow(struct hart *h, uint64_t va, unsigned size, uint64_t *val);
bool hart_store_slow(struct hart *h, uint64_t va, unsigned size, uint64_t val);

/* Load `size` (1, 2, 4, 8) bytes at va; *val is zero-extended. Misaligned
 * addresses are allowed. */
static inline bool hart_load(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    if (access_within_page(va, size)) {
        uint8_t *p = tlb_lookup(&h->tlb, access_tlb_ctx(h, access_data_priv(h)), ACCESS_READ, va);
        if (p) {
            *val = ram_load(p, size);
            return true;
        }
    }
    return hart_load_slow(h, va, size, val);
}

/* Store the low `size` bytes of val at va. Misaligned addresses are allowed;
 * a page-crossing store writes nothing unless both pages are writable. */
static inline bool hart_store(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
    if (access_within_page(va, size)) {
        uint8_t *p = tlb_lookup(&h->tlb, access_tlb_ctx(h, access_data_priv(h)), ACCESS_WRITE, va);
        if (p) {
            ram_store(p, size, val);
            return true;
        }
    }
    return hart_store_slow(h, va, size, val);
}

/* Fetch the instruction at pc: 16 bits if compressed, else 32 bits, each
 * half translated on its own so an instruction may straddle a page. */
bool hart_fetch(struct hart *h, uint64_t pc, uint32_t *raw);

/* Give the fast cache a fetch entry for pc's page if every check of a
 * fetch there passes (the page walk may set the leaf's A bit, as the
 * fetch would); raises nothing: a failure is for hart_fetch to raise.
 * True if the entry is there. */
bool hart_fill_fetch(struct hart *h, uint64_t pc);

/* Read-modify-write operations of the A extension (spec ch. 8). */
enum amo_kind {
    AMO_SWAP, AMO_ADD, AMO_XOR, AMO_AND, AMO_OR,
    AMO_MIN, AMO_MAX, AMO_MINU, AMO_MAXU,
};

/* Atomically apply `kind` with `operand` to the `size` (4 or 8) bytes at va;
 * *old receives the previous memory value, zero-extended. */
bool hart_amo(struct hart *h, enum amo_kind kind, uint64_t va, unsigned size,
              uint64_t operand, uint64_t *old);

/* LR: load and reserve; *val zero-extended. */
bool hart_lr(struct hart *h, uint64_t va, unsigned size, uint64_t *val);
/* SC: *stored tells whether the store happened. The reservation is always
 * released. Returns false only when an exception was taken. */
bool hart_sc(struct hart *h, uint64_t va, unsigned size, uint64_t val, bool *stored);

/* The execute step (exec.c), for the run loop in hart.c: fetch, decode and
 * execute one instruction, or take the exception it raises. Returns true if
 * the instruction retired. */
bool hart_execute_one(struct hart *h);

/* Execute up to `budget` instructions, stopping early after anything that
 * set h->poll_now (a trap, xRET, WFI, an interrupt-relevant CSR write).
 * Returns the number that retired; minstret is up to date on return. */
uint64_t hart_execute_block(struct hart *h, unsigned budget);
#endif
