/* access: slow paths of a hart's memory accesses (see access.h).
 *
 * Every access that misses the fast cache comes here: translate (through
 * the hart's shadow table when it has one, else a page walk, whenever satp
 * is not Bare and the effective privilege is below M; privileged spec
 * 4.3.2), check PMP (3.7), then read or write through guest_mem, which
 * dispatches to RAM or a device. A translation is remembered in the fast
 * cache only when the whole 4 KiB page is plain RAM, PMP grants the access
 * on the whole page, and the translation says the cached permission is safe
 * (A set; D set for writes), so a cache hit never skips a check that could
 * fail.
 *
 * Write traces (DESIGN.md 1, src/coherence/trace.c): every store this path
 * makes is reported to guest_mem's trace hooks with the hart as producer,
 * and the fast cache never gets a write entry for a traced frame, so
 * fast-path stores cannot bypass the producer path.
 */
#include "cpu/access.h"

#include "coherence/coherence.h"
#include "cpu/debug.h"
#include "cpu/trap.h"

enum xlate_status { XLATE_OK = 0, XLATE_PAGE_FAULT, XLATE_ACCESS_FAULT };

/* Cause codes by access type (privileged spec table 3.6). Indexed by enum
 * access: READ, WRITE (stores and AMOs), EXEC. */
static const uint64_t page_fault_cause[3] = {
    CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT, CAUSE_FETCH_PAGE_FAULT,
};
static const uint64_t access_fault_cause[3] = {
    CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS, CAUSE_FETCH_ACCESS,
};
static const unsigned pte_perm_bit[3] = { PTE_R, PTE_W, PTE_X };
static const unsigned pmp_perm_bit[3] = { PMP_R, PMP_W, PMP_X };

/* Take the exception for a failed access; tval is the faulting virtual
 * address (privileged spec 3.1.16). Always returns false. */
static bool raise_fault(struct hart *h, enum xlate_status s, enum access acc, uint64_t va)
{
    trap_exception(h, s == XLATE_PAGE_FAULT ? page_fault_cause[acc] : access_fault_cause[acc], va);
    return false;
}

/* [pa, pa+len) is RAM that no MMIO window overlays: the only memory that
 * may be accessed through a host pointer (instruction fetch, AMOs, LR/SC).
 * len is at most 8 and windows are at least that aligned in practice, but
 * both ends are checked. */
static bool is_plain_ram(const struct guest_mem *m, uint64_t pa, unsigned len)
{
    return mem_in_ram(m, pa, len) && !mem_find_mmio(m, pa) && !mem_find_mmio(m, pa + len - 1);
}

/* The producer id this hart's stores are reported under. */
static unsigned producer_id(const struct hart *h)
{
    return h->coherence ? h->coherence->id : (unsigned)h->mhartid;
}

/* Remember va → page in the fast cache if every check the slow path made
 * would pass for any access of this type anywhere in the page (pmp_perms:
 * pmp_page_perms of the page). A write entry for a traced frame would let
 * stores skip the producer path; a frame traced after this check loses its
 * write entries at the hart's next coherence boundary
 * (src/coherence/trace.c, step 2). */
static void maybe_fill(struct hart *h, uint64_t va, uint64_t pa, enum access acc,
                       enum priv eff, unsigned pte_perms, unsigned pmp_perms)
{
    uint64_t page = pa & PAGE_MASK;
    if (!(pte_perms & pte_perm_bit[acc]))
        return;
    if (!(pmp_perms & pmp_perm_bit[acc]))
        return;
    if (!mem_page_is_plain_ram(h->mem, page))
        return;
    unsigned table = acc;
    if (acc == ACCESS_WRITE && mem_frame_traced(h->mem, page))
        table = TLB_TRACED_STORES;
    tlb_fill(&h->tlb, access_tlb_ctx(h, eff), table, va, mem_ram_ptr(h->mem, page), page);
}

/* Page walk for one access: through the shadow table when the hart has
 * one (it may answer without walking), else straight to the walker.
 * *cacheable says whether the fast cache may keep the result. */
static void walk(struct hart *h, const struct walk_request *req, uint64_t va,
                 struct walk_result *w, bool *cacheable)
{
    if (h->coherence) {
        coherence_translate(h->coherence, req, va, w, cacheable);
        return;
    }
    mmu_walk(h->mem, req, va, w);
    *cacheable = w->status == WALK_OK;
}

/* Translate and PMP-check an access of len bytes at va that does not cross
 * a page. Raises nothing; the caller decides what a failure means. */
static enum xlate_status translate(struct hart *h, uint64_t va, unsigned len, enum access acc,
                                   enum priv eff, uint64_t *pa)
{
    unsigned pte_perms;
    if (eff == PRIV_M || (h->satp >> SATP_MODE_SHIFT) == SATP_MODE_BARE) {
        *pa = va;
        pte_perms = PTE_R | PTE_W | PTE_X;
    } else {
        struct walk_request req = {
            .satp = h->satp,
            .priv = eff,
            .sum = (h->mstatus & MSTATUS_SUM) != 0,
            .mxr = (h->mstatus & MSTATUS_MXR) != 0,
            .access = acc,
            .pmp = &h->pmp,
            .producer = producer_id(h),
        };
        struct walk_result w;
        bool cacheable;
        walk(h, &req, va, &w, &cacheable);
        if (w.status == WALK_PAGE_FAULT)
            return XLATE_PAGE_FAULT;
        if (w.status != WALK_OK)
            return XLATE_ACCESS_FAULT;
        *pa = w.pa;
        pte_perms = cacheable ? w.perms : 0;
    }
    /* What PMP grants the whole page decides an access within it; only
     * where the page gets nothing (no single entry covers it, or the one
     * that does refuses) must the access's own bytes be checked. */
    unsigned pmp_perms = pmp_page_perms(&h->pmp, *pa, eff);
    if (!(pmp_perms & pmp_perm_bit[acc]) && !pmp_check(&h->pmp, *pa, len, acc, eff))
        return XLATE_ACCESS_FAULT;
    /* A debugger's watchpoint is set: report the access and keep the page
     * out of the fast cache, so the next access comes here too. */
    if (h->debug_watching && acc != ACCESS_EXEC) {
        debug_note_access(h, va, len, acc);
        return XLATE_OK;
    }
    maybe_fill(h, va, *pa, acc, eff, pte_perms, pmp_perms);
    return XLATE_OK;
}

/* --------------------------------------------------------- loads/stores */

/* Bytes of an access at va that lie in va's page. */
static unsigned bytes_in_page(uint64_t va, unsigned size)
{
    unsigned room = (unsigned)(PAGE_SIZE - (va & (PAGE_SIZE - 1)));
    return size < room ? size : room;
}

/* Read n bytes at pa one at a time (the pieces of a page-crossing access;
 * a device sees byte accesses). */
static bool read_bytes(struct guest_mem *m, uint64_t pa, unsigned n, uint64_t *val)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t b;
        if (!mem_read(m, pa + i, 1, &b))
            return false;
        v |= (b & 0xff) << (8 * i);
    }
    *val = v;
    return true;
}

static bool write_bytes(struct hart *h, uint64_t pa, unsigned n, uint64_t val)
{
    for (unsigned i = 0; i < n; i++)
        if (!mem_write_by(h->mem, producer_id(h), pa + i, 1, (val >> (8 * i)) & 0xff))
            return false;
    return true;
}

/* A misaligned access that crosses a page is two pieces, each translated on
 * its own; both are translated before any byte moves, so a store that
 * faults on its second page has not written its first (the fault reports
 * the first byte of the piece that failed, as QEMU does). */
static bool translate_pieces(struct hart *h, uint64_t va, unsigned size, enum access acc,
                             uint64_t pa[2], unsigned n[2])
{
    enum priv eff = access_data_priv(h);
    n[0] = bytes_in_page(va, size);
    n[1] = size - n[0];
    for (unsigned i = 0; i < 2; i++) {
        uint64_t piece_va = va + (i ? n[0] : 0);
        enum xlate_status s = translate(h, piece_va, n[i], acc, eff, &pa[i]);
        if (s != XLATE_OK)
            return raise_fault(h, s, acc, piece_va);
    }
    return true;
}

bool hart_load_slow(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    if (access_within_page(va, size)) {
        uint64_t pa;
        enum xlate_status s = translate(h, va, size, ACCESS_READ, access_data_priv(h), &pa);
        if (s == XLATE_OK && !mem_read(h->mem, pa, size, val))
            s = XLATE_ACCESS_FAULT;
        return s == XLATE_OK || raise_fault(h, s, ACCESS_READ, va);
    }
    uint64_t pa[2], lo, hi;
    unsigned n[2];
    if (!translate_pieces(h, va, size, ACCESS_READ, pa, n))
        return false;
    if (!read_bytes(h->mem, pa[0], n[0], &lo))
        return raise_fault(h, XLATE_ACCESS_FAULT, ACCESS_READ, va);
    if (!read_bytes(h->mem, pa[1], n[1], &hi))
        return raise_fault(h, XLATE_ACCESS_FAULT, ACCESS_READ, va + n[0]);
    *val = lo | hi << (8 * n[0]);
    return true;
}

/* The guest-physical address of host pointer p into RAM. */
static uint64_t host_to_pa(const struct guest_mem *m, const uint8_t *p)
{
    return m->ram_base + (uint64_t)(p - m->ram);
}

/* A store within a page that had a traced frame when it was last
 * translated (mmu.h, TLB_TRACED_STORES): every check a fill makes has
 * passed for the whole page, so it goes straight to the producer path.
 * Once the trace is gone, translate again, for a write entry. */
static bool store_to_traced_page(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
    uint8_t *p = tlb_lookup(&h->tlb, access_tlb_ctx(h, access_data_priv(h)), TLB_TRACED_STORES, va);
    if (!p)
        return false;
    uint64_t pa = host_to_pa(h->mem, p);
    return mem_frame_traced(h->mem, pa) && mem_write_by(h->mem, producer_id(h), pa, size, val);
}

bool hart_store_slow(struct hart *h, uint64_t va, unsigned size, uint64_t val)
{
    if (access_within_page(va, size)) {
        if (store_to_traced_page(h, va, size, val))
            return true;
        uint64_t pa;
        enum xlate_status s = translate(h, va, size, ACCESS_WRITE, access_data_priv(h), &pa);
        if (s == XLATE_OK && !mem_write_by(h->mem, producer_id(h), pa, size, val))
            s = XLATE_ACCESS_FAULT;
        return s == XLATE_OK || raise_fault(h, s, ACCESS_WRITE, va);
    }
    uint64_t pa[2];
    unsigned n[2];
    if (!translate_pieces(h, va, size, ACCESS_WRITE, pa, n))
        return false;
    if (!write_bytes(h, pa[0], n[0], val))
        return raise_fault(h, XLATE_ACCESS_FAULT, ACCESS_WRITE, va);
    if (!write_bytes(h, pa[1], n[1], val >> (8 * n[0])))
        return raise_fault(h, XLATE_ACCESS_FAULT, ACCESS_WRITE, va + n[0]);
    return true;
}

/* ------------------------------------------------------------------ fetch */

/* One 16-bit parcel at va (2-byte aligned, so never page-crossing).
 * Code runs only from plain RAM: fetching from a device window is an
 * instruction access fault (devices have read side effects). */
static bool fetch_parcel(struct hart *h, uint64_t va, uint32_t *parcel)
{
    uint8_t *p = tlb_lookup(&h->tlb, access_tlb_ctx(h, h->priv), ACCESS_EXEC, va);
    if (!p) {
        uint64_t pa;
        enum xlate_status s = translate(h, va, 2, ACCESS_EXEC, h->priv, &pa);
        if (s == XLATE_OK && !is_plain_ram(h->mem, pa, 2))
            s = XLATE_ACCESS_FAULT;
        if (s != XLATE_OK)
            return raise_fault(h, s, ACCESS_EXEC, va);
        p = mem_ram_ptr(h->mem, pa);
    }
    *parcel = (uint32_t)ram_load(p, 2);
    return true;
}

bool hart_fill_fetch(struct hart *h, uint64_t pc)
{
    uint64_t pa;
    if (pc & 1 || translate(h, pc, 2, ACCESS_EXEC, h->priv, &pa) != XLATE_OK)
        return false;
    return tlb_lookup(&h->tlb, access_tlb_ctx(h, h->priv), ACCESS_EXEC, pc) != NULL;
}

/* Instructions are 16-bit aligned because C is implemented (IALIGN = 16,
 * unprivileged spec 1.5). The low two bits of the first parcel say whether
 * a second one follows; a fault on the second reports its own address. */
bool hart_fetch(struct hart *h, uint64_t pc, uint32_t *raw)
{
    if (pc & 1) {
        trap_exception(h, CAUSE_MISALIGNED_FETCH, pc);
        return false;
    }
    if (access_within_page(pc, 4)) {
        uint8_t *p = tlb_lookup(&h->tlb, access_tlb_ctx(h, h->priv), ACCESS_EXEC, pc);
        if (p) {
            uint32_t lo = (uint32_t)ram_load(p, 2);
            *raw = (lo & 3) != 3 ? lo : lo | (uint32_t)ram_load(p + 2, 2) << 16;
            return true;
        }
    }
    uint32_t lo, hi;
    if (!fetch_parcel(h, pc, &lo))
        return false;
    if ((lo & 3) != 3) {
        *raw = lo;
        return true;
    }
    if (!fetch_parcel(h, pc + 2, &hi))
        return false;
    *raw = lo | hi << 16;
    return true;
}

/* --------------------------------------------------------------- atomics */

/* Host pointer for an aligned atomic access (LR: acc = READ; SC and AMOs:
 * acc = WRITE, with faults of the store/AMO kind). AMOs also need read
 * permission, which PMP checks here; a valid PTE with W always has R
 * (privileged spec 4.3.1). Atomics work only on plain RAM: anything else is
 * an access fault. Returns NULL after raising the exception. */
static uint8_t *atomic_pointer(struct hart *h, uint64_t va, unsigned size, enum access acc)
{
    enum priv eff = access_data_priv(h);
    uint8_t *p = tlb_lookup(&h->tlb, access_tlb_ctx(h, eff), acc, va);
    /* A page whose frame is traced has no write entry, but its traced-store
     * entry passed the same checks; the callers report their stores to the
     * traces themselves (ptep_get_and_clear and ptep_set_wrprotect are AMOs
     * on page tables). */
    if (!p && acc == ACCESS_WRITE)
        p = tlb_lookup(&h->tlb, access_tlb_ctx(h, eff), TLB_TRACED_STORES, va);
    if (p)
        return p;
    uint64_t pa;
    enum xlate_status s = translate(h, va, size, acc, eff, &pa);
    if (s == XLATE_OK && acc == ACCESS_WRITE && !pmp_check(&h->pmp, pa, size, ACCESS_READ, eff))
        s = XLATE_ACCESS_FAULT;
    if (s == XLATE_OK && !is_plain_ram(h->mem, pa, size))
        s = XLATE_ACCESS_FAULT;
    if (s != XLATE_OK) {
        raise_fault(h, s, acc, va);
        return NULL;
    }
    return mem_ram_ptr(h->mem, pa);
}

/* The value an AMO writes, given the old memory value (both zero-extended
 * to 64 bits from `size` bytes). MIN/MAX compare as signed `size`-byte
 * integers, MINU/MAXU as unsigned (unprivileged spec 8.4). */
static uint64_t amo_combine(enum amo_kind kind, uint64_t old, uint64_t operand, unsigned size)
{
    unsigned shift = 64 - 8 * size;
    int64_t s_old = (int64_t)(old << shift) >> shift;
    int64_t s_op = (int64_t)(operand << shift) >> shift;
    uint64_t u_old = (old << shift) >> shift, u_op = (operand << shift) >> shift;
    switch (kind) {
    case AMO_SWAP: return operand;
    case AMO_ADD: return old + operand;
    case AMO_XOR: return old ^ operand;
    case AMO_AND: return old & operand;
    case AMO_OR: return old | operand;
    case AMO_MIN: return s_old < s_op ? old : operand;
    case AMO_MAX: return s_old > s_op ? old : operand;
    case AMO_MINU: return u_old < u_op ? old : operand;
    default: return u_old > u_op ? old : operand;   /* AMO_MAXU */
    }
}

/* aq/rl are honoured by making every AMO sequentially consistent, which is
 * at least as strong as any aq/rl combination (unprivileged spec 8.1).
 * The same body serves AMO.W and AMO.D, on a host word of their width. */
#define DEFINE_AMO_ON_HOST(name, type, bytes)                                              \
    static uint64_t name(type *p, enum amo_kind kind, type operand)                         \
    {                                                                                       \
        switch (kind) {                                                                     \
        case AMO_SWAP: return __atomic_exchange_n(p, operand, __ATOMIC_SEQ_CST);            \
        case AMO_ADD: return __atomic_fetch_add(p, operand, __ATOMIC_SEQ_CST);              \
        case AMO_XOR: return __atomic_fetch_xor(p, operand, __ATOMIC_SEQ_CST);              \
        case AMO_AND: return __atomic_fetch_and(p, operand, __ATOMIC_SEQ_CST);              \
        case AMO_OR: return __atomic_fetch_or(p, operand, __ATOMIC_SEQ_CST);                \
        default: break;                                                                     \
        }                                                                                   \
        type old = __atomic_load_n(p, __ATOMIC_RELAXED);                                    \
        while (!__atomic_compare_exchange_n(p, &old, (type)amo_combine(kind, old, operand, bytes), \
                                            true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))      \
            ;                                                                               \
        return old;                                                                         \
    }
DEFINE_AMO_ON_HOST(amo_on_host32, uint32_t, 4)
DEFINE_AMO_ON_HOST(amo_on_host64, uint64_t, 8)
#undef DEFINE_AMO_ON_HOST

/* Misaligned AMOs, LRs and SCs raise the address-misaligned exception
 * rather than being emulated: they could not be atomic (spec 8.4). */
static bool check_atomic_alignment(struct hart *h, uint64_t va, unsigned size, uint64_t cause)
{
    if ((va & (size - 1)) == 0)
        return true;
    trap_exception(h, cause, va);
    return false;
}

/* Whether a store of `size` (4 or 8) bytes that replaced `old` by `now`
 * changed memory, for the write-trace hooks. */
static bool store_changed(uint64_t old, uint64_t now, unsigned size)
{
    uint64_t mask = size == 4 ? 0xffffffffu : ~0ull;
    return ((old ^ now) & mask) != 0;
}

/* AMOs and SCs store through the host pointer, fast path or not, so they
 * report themselves to the write-trace hooks: cheap (one relaxed load of
 * the frame's trace word) and independent of how the pointer was found. */
bool hart_amo(struct hart *h, enum amo_kind kind, uint64_t va, unsigned size,
              uint64_t operand, uint64_t *old)
{
    if (!check_atomic_alignment(h, va, size, CAUSE_MISALIGNED_STORE))
        return false;
    uint8_t *p = atomic_pointer(h, va, size, ACCESS_WRITE);
    if (!p)
        return false;
    uint64_t pa = host_to_pa(h->mem, p);
    bool traced;
    mem_traced_store_begin(h->mem, pa, size, &traced);
    if (size == 4)
        *old = amo_on_host32((uint32_t *)(void *)p, kind, (uint32_t)operand);
    else
        *old = amo_on_host64((uint64_t *)(void *)p, kind, operand);
    bool changed = store_changed(*old, amo_combine(kind, *old, operand, size), size);
    mem_traced_store_end(h->mem, producer_id(h), pa, size, traced, changed);
    return true;
}

/* The reservation remembers the virtual address and the value LR saw; an
 * SC succeeds only at the same address and only if memory still holds that
 * value, checked and replaced in one compare-and-swap (DESIGN.md 3). */
bool hart_lr(struct hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    if (!check_atomic_alignment(h, va, size, CAUSE_MISALIGNED_LOAD))
        return false;
    uint8_t *p = atomic_pointer(h, va, size, ACCESS_READ);
    if (!p)
        return false;
    if (size == 4)
        *val = __atomic_load_n((uint32_t *)(void *)p, __ATOMIC_SEQ_CST);
    else
        *val = __atomic_load_n((uint64_t *)(void *)p, __ATOMIC_SEQ_CST);
    h->lr_addr = va;
    h->lr_value = *val;
    h->lr_valid = true;
    return true;
}

bool hart_sc(struct hart *h, uint64_t va, unsigned size, uint64_t val, bool *stored)
{
    bool reserved = h->lr_valid && h->lr_addr == va;
    h->lr_valid = false;
    if (!check_atomic_alignment(h, va, size, CAUSE_MISALIGNED_STORE))
        return false;
    *stored = false;
    if (!reserved)
        return true;
    uint8_t *p = atomic_pointer(h, va, size, ACCESS_WRITE);
    if (!p)
        return false;
    uint64_t pa = host_to_pa(h->mem, p);
    bool traced;
    mem_traced_store_begin(h->mem, pa, size, &traced);
    if (size == 4) {
        uint32_t expected = (uint32_t)h->lr_value;
        *stored = __atomic_compare_exchange_n((uint32_t *)(void *)p, &expected, (uint32_t)val,
                                              false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    } else {
        uint64_t expected = h->lr_value;
        *stored = __atomic_compare_exchange_n((uint64_t *)(void *)p, &expected, val,
                                              false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    }
    bool changed = *stored && store_changed(h->lr_value, val, size);
    mem_traced_store_end(h->mem, producer_id(h), pa, size, traced, changed);
    return true;
}
