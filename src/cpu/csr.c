/* csr: the CSR file of one hart — access rules, WARL legalisation and the
 * side effects of writes (see csr.h). References are to the privileged spec
 * 1.12 unless stated otherwise. Hart thread only; the one field shared with
 * other threads, mip, is read with atomic loads and changed with atomic
 * fetch_or/fetch_and so a device's concurrent change of another bit is never
 * lost. */
#include "coherence/coherence.h"
#include "cpu/csr.h"

#include "base/timebase.h"
#include "cpu/access.h"
#include "cpu/trap.h"

/* CSR numbers (table 2.2-2.5). */
enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER31 = 0xc1f,
    CSR_SSTATUS = CSR_NUMBER_SSTATUS, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106,
    CSR_SENVCFG = 0x10a,
    CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142, CSR_STVAL = 0x143,
    CSR_SIP = 0x144, CSR_STIMECMP = 0x14d,
    CSR_SATP = 0x180,
    CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13,
    CSR_MHARTID = 0xf14, CSR_MCONFIGPTR = 0xf15,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303,
    CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a,
    CSR_MCOUNTINHIBIT = 0x320, CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343,
    CSR_MIP = 0x344,
    CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG15 = 0x3af,
    CSR_PMPADDR0 = 0x3b0, CSR_PMPADDR63 = 0x3ef,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02,
    CSR_MHPMCOUNTER3 = 0xb03, CSR_MHPMCOUNTER31 = 0xb1f,
};

/* ------------------------------------------------------------ masks */

/* What S-mode sees of mstatus (4.1.1). */
#define SSTATUS_VIEW (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | \
                      MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_UXL | \
                      MSTATUS_SD)
/* The sstatus bits that hold state here: UBE is 0 (little-endian only), VS
 * and XS are 0 (no V, no custom extension state), UXL is fixed, SD derived. */
#define SSTATUS_WRITABLE (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | \
                          MSTATUS_SUM | MSTATUS_MXR)
#define MSTATUS_WRITABLE (SSTATUS_WRITABLE | MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | \
                          MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
/* SXL = UXL = 2: S and U always run with XLEN 64 (3.1.6.2). */
#define MSTATUS_XL_FIXED (2ull << 32 | 2ull << 34)
/* Changing these changes what an existing fast-cache entry may grant.
 * SUM selects a context of its own instead (mmu.h), and MPRV and MPP only
 * change which context loads and stores use (access_data_priv). */
#define MSTATUS_XLATE_BITS MSTATUS_MXR
/* Changing these changes the context a load or store uses, which
 * translated code takes as fixed (cpu/jit.h). */
#define MSTATUS_DATA_CONTEXT_BITS (MSTATUS_MXR | MSTATUS_SUM | MSTATUS_MPRV | MSTATUS_MPP)

/* medeleg: every exception a lower level can raise except ECALL from M
 * (3.1.8 says medeleg[11] is read-only zero); 10 and 14 are reserved causes. */
#define MEDELEG_WRITABLE ((1ull << CAUSE_MISALIGNED_FETCH) | (1ull << CAUSE_FETCH_ACCESS) | \
                          (1ull << CAUSE_ILLEGAL_INSN) | (1ull << CAUSE_BREAKPOINT) | \
                          (1ull << CAUSE_MISALIGNED_LOAD) | (1ull << CAUSE_LOAD_ACCESS) | \
                          (1ull << CAUSE_MISALIGNED_STORE) | (1ull << CAUSE_STORE_ACCESS) | \
                          (1ull << CAUSE_ECALL_U) | (1ull << CAUSE_ECALL_S) | \
                          (1ull << CAUSE_FETCH_PAGE_FAULT) | (1ull << CAUSE_LOAD_PAGE_FAULT) | \
                          (1ull << CAUSE_STORE_PAGE_FAULT))
#define S_INTERRUPTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define ALL_INTERRUPTS (S_INTERRUPTS | MIP_MSIP | MIP_MTIP | MIP_MEIP)

/* mcountinhibit: CY and IR; bit 1 (TM) is read-only zero (3.1.13), and the
 * HPM counters are hardwired to zero so their inhibit bits are too. */
#define MCOUNTINHIBIT_WRITABLE 0x5u
#define MENVCFG_FIOM 1ull
#define MENVCFG_WRITABLE (MENVCFG_STCE | MENVCFG_FIOM)
#define SENVCFG_WRITABLE MENVCFG_FIOM

/* pmpaddr holds bits 55:2 of the address on RV64 (3.7.1). */
#define PMPADDR_MASK ((1ull << 54) - 1)
/* pmpcfg bits 6:5 are reserved and read zero. */
#define PMPCFG_WRITABLE (PMP_L | PMP_A_MASK | PMP_X | PMP_W | PMP_R)

uint64_t csr_sstatus_mask(void) { return SSTATUS_VIEW; }

/* ------------------------------------------------------------ helpers */

static unsigned fs_of(uint64_t mstatus)
{
    return (unsigned)((mstatus & MSTATUS_FS) >> MSTATUS_FS_SHIFT);
}

/* mstatus as software reads it: SD summarises FS (XS and VS are 0), and
 * the XLEN fields are fixed (3.1.6). Computed on read because F/D
 * instructions dirty FS directly. */
static uint64_t mstatus_value(const struct hart *h)
{
    uint64_t v = (h->mstatus & ~(MSTATUS_SD | MSTATUS_UXL | MSTATUS_SXL)) | MSTATUS_XL_FIXED;
    if (fs_of(v) == FS_DIRTY)
        v |= MSTATUS_SD;
    return v;
}

/* Make the mip bits in `bits` equal to those of `value`, leaving every other
 * bit to whoever else may be changing it concurrently. */
static void mip_assign(struct hart *h, uint64_t bits, uint64_t value)
{
    if (value & bits)
        atomic_fetch_or(&h->mip, value & bits);
    if (~value & bits)
        atomic_fetch_and(&h->mip, ~(~value & bits));
}

/* xtvec: MODE 0 (direct) and 1 (vectored) exist; a reserved MODE keeps the
 * old one (WARL, 3.1.7). */
static uint64_t legal_tvec(uint64_t old, uint64_t val)
{
    uint64_t mode = val & 3;
    if (mode > 1)
        mode = old & 3;
    return (val & ~3ull) | mode;
}

/* xepc: bit 0 is always zero; with C (IALIGN 16) bit 1 is kept (3.1.14). */
static uint64_t legal_epc(uint64_t val) { return val & ~1ull; }

static uint64_t mcycle_value(const struct hart *h) { return h->minstret + h->mcycle_offset; }

/* ------------------------------------------------------------ gating */

/* Zicntr/Zihpm user counters (3.1.11-3.1.12): S needs the mcounteren bit,
 * U needs it and the scounteren bit. */
static bool counter_allowed(const struct hart *h, unsigned csr)
{
    uint32_t bit = 1u << (csr & 0x1f);
    if (h->priv < PRIV_M && !(h->mcounteren & bit))
        return false;
    if (h->priv < PRIV_S && !(h->scounteren & bit))
        return false;
    return true;
}

static bool fp_enabled(const struct hart *h) { return fs_of(h->mstatus) != FS_OFF; }

/* ------------------------------------------------------------ PMP */

static bool pmp_cfg_locked(const struct hart *h, unsigned i)
{
    return (h->pmp.cfg[i] & PMP_L) != 0;
}

/* pmpaddr i is frozen by its own lock and by a locked TOR entry i+1, which
 * uses pmpaddr i as its bottom (3.7.1.3). */
static bool pmp_addr_locked(const struct hart *h, unsigned i)
{
    if (pmp_cfg_locked(h, i))
        return true;
    return i + 1 < PMP_ENTRIES && pmp_cfg_locked(h, i + 1) &&
           (h->pmp.cfg[i + 1] & PMP_A_MASK) == PMP_A_TOR;
}

/* pmpcfg0 holds entries 0-7, pmpcfg2 entries 8-15; the odd numbers do not
 * exist on RV64 and entries 16-63 are hardwired to zero. */
static bool pmpcfg_read(const struct hart *h, unsigned csr, uint64_t *val)
{
    unsigned n = csr - CSR_PMPCFG0;
    if (n & 1)
        return false;
    *val = 0;
    for (unsigned b = 0; b < 8; b++) {
        unsigned i = n * 4 + b;
        if (i < PMP_ENTRIES)
            *val |= (uint64_t)h->pmp.cfg[i] << (8 * b);
    }
    return true;
}

/* A locked byte ignores writes; W=1 with R=0 is reserved, so such a byte
 * keeps its old value (WARL). */
/* PMP decides what the walker may read (implicit accesses are checked as
 * S-mode, 3.7.1), so a change invalidates every derived translation, not
 * just the fast cache. */
static void pmp_changed(struct hart *h)
{
    if (h->coherence)
        coherence_drop_all(h->coherence);
    tlb_flush_all(&h->tlb);
}

static void pmpcfg_write(struct hart *h, unsigned csr, uint64_t val)
{
    unsigned n = csr - CSR_PMPCFG0;
    for (unsigned b = 0; b < 8; b++) {
        unsigned i = n * 4 + b;
        if (i >= PMP_ENTRIES || pmp_cfg_locked(h, i))
            continue;
        uint8_t cfg = (uint8_t)(val >> (8 * b)) & PMPCFG_WRITABLE;
        if ((cfg & (PMP_R | PMP_W)) == PMP_W)
            continue;
        h->pmp.cfg[i] = cfg;
    }
    pmp_changed(h);
}

static uint64_t pmpaddr_read(const struct hart *h, unsigned csr)
{
    unsigned i = csr - CSR_PMPADDR0;
    return i < PMP_ENTRIES ? h->pmp.addr[i] : 0;
}

static void pmpaddr_write(struct hart *h, unsigned csr, uint64_t val)
{
    unsigned i = csr - CSR_PMPADDR0;
    if (i < PMP_ENTRIES && !pmp_addr_locked(h, i))
        h->pmp.addr[i] = val & PMPADDR_MASK;
    pmp_changed(h);
}

/* ------------------------------------------------------------ read */

/* The value of a CSR, or false if it does not exist or the current state
 * forbids touching it (the same rules apply to writes). */
static bool csr_read(struct hart *h, unsigned csr, uint64_t *val)
{
    if (csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31) {
        if (!counter_allowed(h, csr))
            return false;
        *val = csr == CSR_CYCLE ? mcycle_value(h)
             : csr == CSR_TIME ? timebase_now()
             : csr == CSR_INSTRET ? h->minstret : 0;
        return true;
    }
    if (csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) {
        *val = 0;
        return true;
    }
    if (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31) {
        *val = 0;
        return true;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15)
        return pmpcfg_read(h, csr, val);
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        *val = pmpaddr_read(h, csr);
        return true;
    }

    switch (csr) {
    case CSR_FFLAGS: *val = h->fflags & 0x1f; return fp_enabled(h);
    case CSR_FRM: *val = h->frm & 7; return fp_enabled(h);
    case CSR_FCSR: *val = (uint64_t)(h->frm & 7) << 5 | (h->fflags & 0x1f); return fp_enabled(h);

    case CSR_SSTATUS: *val = mstatus_value(h) & SSTATUS_VIEW; return true;
    case CSR_SIE: *val = h->mie & h->mideleg; return true;
    case CSR_SIP:
        trap_update_timer_irqs(h);
        *val = atomic_load(&h->mip) & h->mideleg;
        return true;
    case CSR_STVEC: *val = h->stvec; return true;
    case CSR_SCOUNTEREN: *val = h->scounteren; return true;
    case CSR_SENVCFG: *val = h->senvcfg; return true;
    case CSR_SSCRATCH: *val = h->sscratch; return true;
    case CSR_SEPC: *val = h->sepc; return true;
    case CSR_SCAUSE: *val = h->scause; return true;
    case CSR_STVAL: *val = h->stval; return true;
    /* satp traps in S when TVM is set (3.1.6.5). */
    case CSR_SATP: *val = h->satp; return !(h->priv == PRIV_S && (h->mstatus & MSTATUS_TVM));
    /* Sstc: S may touch stimecmp only when M has set menvcfg.STCE. */
    case CSR_STIMECMP:
        *val = h->stimecmp;
        return h->priv == PRIV_M || (h->menvcfg & MENVCFG_STCE);

    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MIMPID: case CSR_MCONFIGPTR:
        *val = 0;
        return true;
    case CSR_MHARTID: *val = h->mhartid; return true;
    case CSR_MSTATUS: *val = mstatus_value(h); return true;
    case CSR_MISA: *val = h->misa; return true;
    case CSR_MEDELEG: *val = h->medeleg; return true;
    case CSR_MIDELEG: *val = h->mideleg; return true;
    case CSR_MIE: *val = h->mie; return true;
    case CSR_MIP:
        trap_update_timer_irqs(h);
        *val = atomic_load(&h->mip);
        return true;
    case CSR_MTVEC: *val = h->mtvec; return true;
    case CSR_MCOUNTEREN: *val = h->mcounteren; return true;
    case CSR_MENVCFG: *val = h->menvcfg; return true;
    case CSR_MCOUNTINHIBIT: *val = h->mcountinhibit; return true;
    case CSR_MSCRATCH: *val = h->mscratch; return true;
    case CSR_MEPC: *val = h->mepc; return true;
    case CSR_MCAUSE: *val = h->mcause; return true;
    case CSR_MTVAL: *val = h->mtval; return true;
    case CSR_MCYCLE: *val = mcycle_value(h); return true;
    case CSR_MINSTRET: *val = h->minstret; return true;
    default:
        return false;   /* no such CSR, and no triggers (tselect/tdata*) */
    }
}

bool csr_runs_in_units(unsigned csr, bool writes)
{
    bool counter = (csr >= CSR_CYCLE && csr <= CSR_HPMCOUNTER31 && csr != CSR_TIME) ||
                   (csr >= CSR_MCYCLE && csr <= CSR_MHPMCOUNTER31);
    if (counter)
        return false;
    if (!writes)
        return true;
    switch (csr) {
    case CSR_SSCRATCH: case CSR_SEPC: case CSR_SCAUSE: case CSR_STVAL:
    case CSR_MSCRATCH: case CSR_MEPC: case CSR_MCAUSE: case CSR_MTVAL:
    case CSR_FFLAGS: case CSR_FRM: case CSR_FCSR:
    case CSR_SSTATUS: case CSR_SIE: case CSR_SIP:
    case CSR_MSTATUS: case CSR_MIE: case CSR_MIP:
        return true;
    default:
        return false;
    }
}

/* ------------------------------------------------------------ write */

/* Store `val` into the writable bits `mask` of mstatus, then legalise
 * (3.1.6): MPP keeps its old value if 2 (no H mode) is written; UBE, SBE,
 * MBE, VS and XS stay zero; SXL/UXL stay 2; SD follows FS. */
static void mstatus_write(struct hart *h, uint64_t val, uint64_t mask)
{
    uint64_t old = h->mstatus;
    uint64_t v = (old & ~mask) | (val & mask);
    if (((v & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
        v = (v & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
    v &= MSTATUS_WRITABLE;
    v |= MSTATUS_XL_FIXED;
    if (fs_of(v) == FS_DIRTY)
        v |= MSTATUS_SD;
    h->mstatus = v;
    if ((old ^ v) & MSTATUS_XLATE_BITS)
        tlb_flush_all(&h->tlb);
    /* Loads and stores may move to another context of the fast cache: a
     * translated unit goes on with the new one (hart.h, jit_data_tlb). */
    if ((old ^ v) & MSTATUS_DATA_CONTEXT_BITS)
        h->jit_data_tlb = access_data_entries(h);
    /* Look at the interrupts again, ending the block (and the unit), if
     * one may have become takeable: an enable bit set while something is
     * pending and enabled in mie. Clearing SIE, as every local_irq_save
     * does, or setting it with nothing pending, as most local_irq_restore
     * do, needs no look now; an interrupt that arrives later is seen at a
     * block boundary, as it would be anywhere else. */
    if ((v & ~old & (MSTATUS_SIE | MSTATUS_MIE)) && (atomic_load(&h->mip) & h->mie))
        h->poll_now = true;
}

static void fp_mark_dirty(struct hart *h)
{
    h->mstatus |= (uint64_t)FS_DIRTY << MSTATUS_FS_SHIFT | MSTATUS_SD;
}

/* satp (4.1.11): a write naming an unsupported MODE has no effect at all,
 * which is how Linux finds the widest mode (it tries Sv57, then Sv48, and
 * reads back). The fast cache is not ASID-tagged, so any accepted write
 * drops it. */
static void satp_write(struct hart *h, uint64_t val)
{
    uint64_t mode = val >> SATP_MODE_SHIFT;
    if (mode != SATP_MODE_BARE && mode != SATP_MODE_SV39 && mode != SATP_MODE_SV48)
        return;
    h->satp = val;
    tlb_flush_all(&h->tlb);
}

/* mip as M writes it (3.1.9): SSIP and SEIP always, STIP only while Sstc is
 * off (with it STIP mirrors stimecmp). MSIP, MTIP and MEIP belong to the
 * CLINT and PLIC. Only bits that differ from what the instruction read are
 * stored, so a read-modify-write of SSIP cannot undo a device's change of
 * SEIP that happened in between. */
static void mip_write(struct hart *h, uint64_t val, uint64_t read)
{
    uint64_t writable = MIP_SSIP | MIP_SEIP;
    if (!(h->menvcfg & MENVCFG_STCE))
        writable |= MIP_STIP;
    mip_assign(h, writable & (val ^ read), val);
    h->poll_now = true;
}

static void menvcfg_write(struct hart *h, uint64_t val)
{
    h->menvcfg = val & MENVCFG_WRITABLE;
    trap_update_timer_irqs(h);
    h->poll_now = true;
}

/* Writes to a CSR that csr_read accepted and that is not read-only; `read`
 * is the value the instruction read. */
static void csr_write(struct hart *h, unsigned csr, uint64_t val, uint64_t read)
{
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG15) {
        pmpcfg_write(h, csr, val);
        return;
    }
    if (csr >= CSR_PMPADDR0 && csr <= CSR_PMPADDR63) {
        pmpaddr_write(h, csr, val);
        return;
    }

    switch (csr) {
    case CSR_FFLAGS: h->fflags = val & 0x1f; fp_mark_dirty(h); break;
    case CSR_FRM: h->frm = val & 7; fp_mark_dirty(h); break;
    case CSR_FCSR:
        h->fflags = val & 0x1f;
        h->frm = (val >> 5) & 7;
        fp_mark_dirty(h);
        break;

    case CSR_SSTATUS: mstatus_write(h, val, SSTATUS_WRITABLE); break;
    case CSR_SIE:
        h->mie = (h->mie & ~h->mideleg) | (val & h->mideleg);
        h->poll_now = true;
        break;
    /* Of sip only SSIP is writable, and only when delegated (4.1.3). */
    case CSR_SIP:
        mip_assign(h, MIP_SSIP & h->mideleg & (val ^ read), val);
        h->poll_now = true;
        break;
    case CSR_STVEC: h->stvec = legal_tvec(h->stvec, val); break;
    case CSR_SCOUNTEREN: h->scounteren = (uint32_t)val; break;
    case CSR_SENVCFG: h->senvcfg = val & SENVCFG_WRITABLE; break;
    case CSR_SSCRATCH: h->sscratch = val; break;
    case CSR_SEPC: h->sepc = legal_epc(val); break;
    case CSR_SCAUSE: h->scause = val; break;
    case CSR_STVAL: h->stval = val; break;
    case CSR_SATP: satp_write(h, val); break;
    case CSR_STIMECMP:
        h->stimecmp = val;
        trap_update_timer_irqs(h);
        h->poll_now = true;
        break;

    case CSR_MSTATUS: mstatus_write(h, val, MSTATUS_WRITABLE); break;
    case CSR_MISA: break;   /* WARL: the extensions cannot be switched off */
    case CSR_MEDELEG: h->medeleg = val & MEDELEG_WRITABLE; break;
    case CSR_MIDELEG:
        h->mideleg = val & S_INTERRUPTS;
        h->poll_now = true;
        break;
    case CSR_MIE:
        h->mie = val & ALL_INTERRUPTS;
        h->poll_now = true;
        break;
    case CSR_MIP: mip_write(h, val, read); break;
    case CSR_MTVEC: h->mtvec = legal_tvec(h->mtvec, val); break;
    case CSR_MCOUNTEREN: h->mcounteren = (uint32_t)val; break;
    case CSR_MENVCFG: menvcfg_write(h, val); break;
    case CSR_MCOUNTINHIBIT: h->mcountinhibit = (uint32_t)val & MCOUNTINHIBIT_WRITABLE; break;
    case CSR_MSCRATCH: h->mscratch = val; break;
    case CSR_MEPC: h->mepc = legal_epc(val); break;
    case CSR_MCAUSE: h->mcause = val; break;
    case CSR_MTVAL: h->mtval = val; break;
    /* mcycle is minstret + offset: writing one counter leaves the other. */
    case CSR_MCYCLE: h->mcycle_offset = val - h->minstret; break;
    case CSR_MINSTRET: {
        uint64_t cycles = mcycle_value(h);
        h->minstret = val;
        h->mcycle_offset = cycles - val;
        break;
    }
    default:
        break;  /* mhpmcounterN, mhpmeventN: hardwired zero */
    }
}

/* ------------------------------------------------------------ entry */

static uint64_t combine(enum csr_op_kind kind, uint64_t old, uint64_t operand)
{
    switch (kind) {
    case CSR_OP_SET: return old | operand;
    case CSR_OP_CLEAR: return old & ~operand;
    case CSR_OP_WRITE: default: return operand;
    }
}

/* The number encodes the rules (2.1): bits 9:8 are the lowest privilege
 * that may access it, bits 11:10 == 3 mark it read-only. */
static enum priv csr_min_priv(unsigned csr) { return (enum priv)((csr >> 8) & 3); }
static bool csr_read_only(unsigned csr) { return ((csr >> 10) & 3) == 3; }

bool csr_access(struct hart *h, unsigned csr, enum csr_op_kind kind, uint64_t operand,
                bool do_read, bool do_write, uint64_t *old)
{
    uint64_t cur;
    if (csr > 0xfff || h->priv < csr_min_priv(csr))
        return false;
    if (do_write && csr_read_only(csr))
        return false;
    /* Reading has no side effects here, so it also serves as the
     * existence and state check when the caller does not want the value. */
    if (!csr_read(h, csr, &cur))
        return false;
    if (do_write)
        csr_write(h, csr, combine(kind, cur, operand), cur);
    if (do_read && old)
        *old = cur;
    return true;
}
