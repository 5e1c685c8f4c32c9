/* The guest page-table walker for Sv39 and Sv48: privileged spec 1.12,
 * section 4.3.2 "Virtual Address Translation Process", 4.4 and 4.5.
 *
 * Every PTE is read with one 8-byte atomic load, and A/D bits are set with an
 * 8-byte compare-and-swap on the guest PTE, so a store another hart makes to
 * the same PTE in between is never overwritten (4.3.2 step 7 requires the
 * update and the read of step 2 to be atomic). When the CAS loses, the PTE is
 * re-read and that level is checked again from the start.
 *
 * Choices where the spec leaves room:
 *  - A PTE outside RAM, inside an MMIO window, or refused by PMP for an
 *    S-mode access gives an access fault (4.3.2 step 2; implicit accesses of
 *    the walk are S-mode accesses for PMP, section 3.7.1).
 *  - Bits 63:54 of a PTE are reserved: umbra implements neither Svpbmt nor
 *    Svnapot, so N and PBMT are reserved too and any of them set is a page
 *    fault (4.4.1).
 *  - D, A and U of a non-leaf PTE are reserved for software to clear
 *    (4.3.1); umbra ignores them there rather than faulting.
 *  - A/D are updated by the walker (the "hardware" scheme of 4.3.1), and
 *    only for an access that is otherwise permitted. The update goes through
 *    the write-trace hooks of guest_mem with req->producer as the writer.
 *  - req->pmp == NULL means no PMP check at all (tests of pure translation).
 */
#include "mmu/mmu.h"

#define PTE_SIZE 8
#define PTE_PPN_SHIFT 10
#define PTE_RESERVED_MASK (~0ull << 54)     /* bits 63:54: N, PBMT, reserved */
#define VPN_BITS 9
#define VPN_MASK ((1ull << VPN_BITS) - 1)

static unsigned satp_levels(uint64_t satp)
{
    switch (satp >> SATP_MODE_SHIFT) {
    case SATP_MODE_SV39: return 3;
    case SATP_MODE_SV48: return 4;
    default: return 0;      /* Bare; satp is WARL, so no other mode is stored */
    }
}

static uint64_t va_vpn(uint64_t va, unsigned level)
{
    return (va >> (PAGE_SHIFT + VPN_BITS * level)) & VPN_MASK;
}

/* May the walk perform its implicit access to the PTE at pa? It must be in
 * RAM (not a device window) and PMP must allow it as an S-mode access. */
static bool pte_access_allowed(const struct guest_mem *mem, const struct pmp_state *pmp,
                               uint64_t pa, enum access access)
{
    if (!mem_in_ram(mem, pa, PTE_SIZE) || mem_find_mmio(mem, pa))
        return false;
    return !pmp || pmp_check(pmp, pa, PTE_SIZE, access, PRIV_S);
}

/* V=0, W without R, and reserved bits are all invalid (4.3.2 step 3). */
static bool pte_is_invalid(uint64_t pte)
{
    if (!(pte & PTE_V))
        return true;
    if ((pte & (PTE_R | PTE_W)) == PTE_W)
        return true;
    return (pte & PTE_RESERVED_MASK) != 0;
}

static bool pte_is_leaf(uint64_t pte)
{
    return (pte & (PTE_R | PTE_X)) != 0;
}

/* The R/W/X a leaf grants to this request's privilege and SUM/MXR
 * (4.3.1 and 3.1.6.3): U-mode needs U=1; S-mode may load/store a U page only
 * with SUM and never fetch from one; MXR lets loads read executable pages.
 * A/D are not considered here. */
static unsigned leaf_rights(uint64_t pte, const struct walk_request *req)
{
    bool user_page = (pte & PTE_U) != 0;
    bool data_ok, exec_ok;
    if (req->priv == PRIV_U) {
        data_ok = exec_ok = user_page;
    } else {
        data_ok = !user_page || req->sum;
        exec_ok = !user_page;
    }
    unsigned rights = 0;
    if (data_ok && ((pte & PTE_R) || (req->mxr && (pte & PTE_X))))
        rights |= PTE_R;
    if (data_ok && (pte & PTE_W))
        rights |= PTE_W;
    if (exec_ok && (pte & PTE_X))
        rights |= PTE_X;
    return rights;
}

static unsigned access_right(enum access access)
{
    switch (access) {
    case ACCESS_READ: return PTE_R;
    case ACCESS_WRITE: return PTE_W;
    default: return PTE_X;
    }
}

/* A superpage's PPN fields below its level must be zero (4.3.2 step 6). */
static bool superpage_is_misaligned(uint64_t ppn, unsigned level)
{
    return (ppn & ((1ull << (VPN_BITS * level)) - 1)) != 0;
}

/* What a cache may keep for the 4 KiB page: nothing before A is set, and
 * write only once D is set so the first store still walks and sets D. */
static unsigned cacheable_perms(uint64_t pte, const struct walk_request *req)
{
    if (!(pte & PTE_A))
        return 0;
    unsigned perms = leaf_rights(pte, req);
    if (!(pte & PTE_D))
        perms &= ~(unsigned)PTE_W;
    return perms;
}

static void walk_passthrough(uint64_t va, struct walk_result *out)
{
    out->status = WALK_OK;
    out->pa = va;
    out->perms = PTE_R | PTE_W | PTE_X;
}

static void walk_fail(struct walk_result *out, enum walk_status status)
{
    out->status = status;
    out->perms = 0;
}

/* The outcome of examining one PTE. */
enum step { STEP_NEXT_LEVEL, STEP_LEAF, STEP_RETRY, STEP_PAGE_FAULT, STEP_ACCESS_FAULT };

/* Steps 3 to 7 of 4.3.2 for the PTE at host pointer p, already read into
 * *pte. On STEP_LEAF *pte holds the PTE after the A/D update. */
static enum step examine_pte(struct guest_mem *mem, const struct walk_request *req,
                             unsigned level, uint64_t pte_addr, uint64_t *p, uint64_t *pte)
{
    if (pte_is_invalid(*pte))
        return STEP_PAGE_FAULT;
    if (!pte_is_leaf(*pte))
        return level == 0 ? STEP_PAGE_FAULT : STEP_NEXT_LEVEL;
    if (!(leaf_rights(*pte, req) & access_right(req->access)))
        return STEP_PAGE_FAULT;
    if (superpage_is_misaligned(*pte >> PTE_PPN_SHIFT, level))
        return STEP_PAGE_FAULT;

    uint64_t needed = PTE_A | (req->access == ACCESS_WRITE ? PTE_D : 0);
    if ((*pte & needed) == needed)
        return STEP_LEAF;
    /* Step 7: the A/D store is itself checked; a refusal is an access fault
     * of the original access type. */
    if (!pte_access_allowed(mem, req->pmp, pte_addr, ACCESS_WRITE))
        return STEP_ACCESS_FAULT;
    uint64_t updated = *pte | needed;
    /* The A/D store is a store like any other for write traces (DESIGN.md
     * section 3): derived entries grant nothing before A and no write
     * before D, so the frame's consumers must hear of it. begin and end
     * pair even when the CAS loses and nothing is stored (nothing changed,
     * then: the hart that won reports its own store). */
    bool traced;
    mem_traced_store_begin(mem, pte_addr, PTE_SIZE, &traced);
    bool stored = __atomic_compare_exchange_n(p, pte, updated, false,
                                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    mem_traced_store_end(mem, req->producer, pte_addr, PTE_SIZE, traced, stored);
    if (!stored)
        return STEP_RETRY;      /* *pte now holds what the other hart stored */
    *pte = updated;
    return STEP_LEAF;
}

static void walk_leaf(const struct walk_request *req, uint64_t va, unsigned level,
                      uint64_t pte_addr, uint64_t pte, struct walk_result *out)
{
    uint64_t offset_mask = (1ull << (PAGE_SHIFT + VPN_BITS * level)) - 1;
    uint64_t base = (pte >> PTE_PPN_SHIFT) << PAGE_SHIFT;
    out->status = WALK_OK;
    out->pa = (base & ~offset_mask) | (va & offset_mask);
    out->pte = pte;
    out->pte_addr = pte_addr;
    out->level = level;
    out->perms = cacheable_perms(pte, req);
}

void mmu_walk(struct guest_mem *mem, const struct walk_request *req, uint64_t va,
              struct walk_result *out)
{
    *out = (struct walk_result){ 0 };
    unsigned levels = satp_levels(req->satp);
    if (req->priv == PRIV_M || levels == 0) {
        walk_passthrough(va, out);
        return;
    }
    if (mmu_sign_extend_va(va, levels) != va) {    /* 4.4.1, 4.5.1 */
        walk_fail(out, WALK_PAGE_FAULT);
        return;
    }

    uint64_t table = (req->satp & SATP_PPN_MASK) << PAGE_SHIFT;
    for (unsigned level = levels; level-- > 0;) {
        uint64_t pte_addr = table + va_vpn(va, level) * PTE_SIZE;
        out->path[out->depth++] = pte_addr;
        out->pte_addr = pte_addr;
        if (!pte_access_allowed(mem, req->pmp, pte_addr, ACCESS_READ)) {
            walk_fail(out, WALK_ACCESS_FAULT);
            return;
        }
        uint64_t *p = (uint64_t *)(void *)mem_ram_ptr(mem, pte_addr);
        uint64_t pte = ram_load(p, PTE_SIZE);
        enum step step;
        while ((step = examine_pte(mem, req, level, pte_addr, p, &pte)) == STEP_RETRY)
            ;
        out->pte = pte;
        switch (step) {
        case STEP_NEXT_LEVEL:
            table = (pte >> PTE_PPN_SHIFT) << PAGE_SHIFT;
            break;
        case STEP_LEAF:
            walk_leaf(req, va, level, pte_addr, pte, out);
            return;
        case STEP_ACCESS_FAULT:
            walk_fail(out, WALK_ACCESS_FAULT);
            return;
        default:
            walk_fail(out, WALK_PAGE_FAULT);
            return;
        }
    }
    /* Unreachable: level 0 never yields STEP_NEXT_LEVEL. */
    walk_fail(out, WALK_PAGE_FAULT);
}
