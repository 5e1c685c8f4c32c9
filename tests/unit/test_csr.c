/* test_csr: CSR access rules and WARL legalisation (privileged spec 1.12).
 * Every expected value below comes from the spec's field definitions, not
 * from running the code. */
#include <stdlib.h>
#include <string.h>

#include "base/timebase.h"
#include "check.h"
#include "cpu/csr.h"
#include "cpu/trap.h"

/* CSR numbers from the privileged spec, tables 2.2-2.5. */
#define FFLAGS 0x001
#define FRM 0x002
#define FCSR 0x003
#define CYCLE 0xc00
#define TIME 0xc01
#define INSTRET 0xc02
#define HPMCOUNTER3 0xc03
#define SSTATUS 0x100
#define SIE 0x104
#define STVEC 0x105
#define SCOUNTEREN 0x106
#define SENVCFG 0x10a
#define SSCRATCH 0x140
#define SEPC 0x141
#define SIP 0x144
#define STIMECMP 0x14d
#define SATP 0x180
#define MVENDORID 0xf11
#define MARCHID 0xf12
#define MIMPID 0xf13
#define MHARTID 0xf14
#define MCONFIGPTR 0xf15
#define MSTATUS 0x300
#define MISA 0x301
#define MEDELEG 0x302
#define MIDELEG 0x303
#define MIE 0x304
#define MTVEC 0x305
#define MCOUNTEREN 0x306
#define MENVCFG 0x30a
#define MCOUNTINHIBIT 0x320
#define MHPMEVENT3 0x323
#define MSCRATCH 0x340
#define MEPC 0x341
#define MIP 0x344
#define PMPCFG0 0x3a0
#define PMPCFG1 0x3a1
#define PMPCFG2 0x3a2
#define PMPCFG4 0x3a4
#define PMPADDR0 0x3b0
#define PMPADDR1 0x3b1
#define PMPADDR16 0x3c0
#define TSELECT 0x7a0
#define TDATA1 0x7a1
#define MCYCLE 0xb00
#define MINSTRET 0xb02
#define MHPMCOUNTER3 0xb03

static struct hart *new_hart(uint64_t hartid)
{
    struct hart *h = malloc(sizeof *h);
    hart_init(h, hartid, NULL, NULL);
    hart_set_mtimecmp(h, UINT64_MAX);   /* no timer interrupt unless a test wants one */
    return h;
}

static void free_hart(struct hart *h)
{
    hart_destroy(h);
    free(h);
}

/* CSRRS rd, csr, x0: read without writing. */
static bool csr_rd(struct hart *h, unsigned csr, uint64_t *v)
{
    return csr_access(h, csr, CSR_OP_SET, 0, true, false, v);
}

/* CSRRW x0, csr, v: write without reading. */
static bool csr_wr(struct hart *h, unsigned csr, uint64_t v)
{
    uint64_t old;
    return csr_access(h, csr, CSR_OP_WRITE, v, false, true, &old);
}

static uint64_t get(struct hart *h, unsigned csr)
{
    uint64_t v = 0xdeadbeef;
    if (!csr_rd(h, csr, &v)) {
        fprintf(stderr, "read of csr 0x%x unexpectedly illegal\n", csr);
        check_failed++;
    }
    return v;
}

static void put(struct hart *h, unsigned csr, uint64_t v)
{
    if (!csr_wr(h, csr, v)) {
        fprintf(stderr, "write of csr 0x%x unexpectedly illegal\n", csr);
        check_failed++;
    }
}

/* A fast-cache entry to see whether a write flushed the cache. */
static uint8_t page[4096];
static void fill_tlb(struct hart *h)
{
    tlb_fill(&h->tlb, TLB_CTX_S, ACCESS_READ, 0x1000, page, 0x80001000);
}
static bool tlb_has_entry(struct hart *h)
{
    return tlb_lookup(&h->tlb, TLB_CTX_S, ACCESS_READ, 0x1000) != NULL;
}

static void test_privilege_and_read_only(void)
{
    struct hart *h = new_hart(3);
    uint64_t v;

    /* bits 9:8 give the lowest privilege */
    h->priv = PRIV_S;
    CHECK(!csr_rd(h, MSTATUS, &v));
    CHECK(!csr_wr(h, MSCRATCH, 1));
    CHECK(csr_rd(h, SSTATUS, &v));
    CHECK(csr_wr(h, SSCRATCH, 7));
    h->priv = PRIV_U;
    CHECK(!csr_rd(h, SSTATUS, &v));
    CHECK(!csr_rd(h, SSCRATCH, &v));
    CHECK(!csr_rd(h, MHARTID, &v));
    h->priv = PRIV_M;
    CHECK_EQ(get(h, SSCRATCH), 7);

    /* bits 11:10 == 3: read-only, a write is illegal even from M */
    CHECK(!csr_wr(h, MHARTID, 0));
    CHECK(!csr_wr(h, CYCLE, 0));
    CHECK(!csr_wr(h, TIME, 0));
    uint64_t old = 0;
    CHECK(!csr_access(h, MVENDORID, CSR_OP_SET, 1, true, true, &old));
    /* ...but CSRRS with x0 does not write, so it is a legal read */
    CHECK_EQ(get(h, MHARTID), 3);
    CHECK_EQ(get(h, MVENDORID), 0);
    CHECK_EQ(get(h, MARCHID), 0);
    CHECK_EQ(get(h, MIMPID), 0);
    CHECK_EQ(get(h, MCONFIGPTR), 0);

    /* CSRs umbra does not have */
    CHECK(!csr_rd(h, TSELECT, &v));
    CHECK(!csr_rd(h, TDATA1, &v));
    CHECK(!csr_wr(h, TSELECT, 0));
    CHECK(!csr_rd(h, PMPCFG1, &v));     /* odd pmpcfg: RV32 only */
    CHECK(!csr_rd(h, 0xb01, &v));       /* no mtime CSR */
    CHECK(!csr_rd(h, 0xc80, &v));       /* cycleh: RV32 only */
    CHECK(!csr_rd(h, 0x5c0, &v));
    CHECK(!csr_rd(h, 0x1000, &v));
    free_hart(h);
}

static void test_op_kinds(void)
{
    struct hart *h = new_hart(0);
    uint64_t old = 0;
    put(h, MSCRATCH, 0xf0f0);
    CHECK(csr_access(h, MSCRATCH, CSR_OP_SET, 0x0f00, true, true, &old));
    CHECK_EQ(old, 0xf0f0);
    CHECK_EQ(get(h, MSCRATCH), 0xfff0);
    CHECK(csr_access(h, MSCRATCH, CSR_OP_CLEAR, 0x00ff, true, true, &old));
    CHECK_EQ(old, 0xfff0);
    CHECK_EQ(get(h, MSCRATCH), 0xff00);
    CHECK(csr_access(h, MSCRATCH, CSR_OP_WRITE, 0x1234, true, true, &old));
    CHECK_EQ(old, 0xff00);
    CHECK_EQ(get(h, MSCRATCH), 0x1234);
    /* CSRRW with rd = x0 leaves the destination alone */
    old = 0x5555;
    CHECK(csr_access(h, MSCRATCH, CSR_OP_WRITE, 1, false, true, &old));
    CHECK_EQ(old, 0x5555);
    free_hart(h);
}

static void test_mstatus(void)
{
    struct hart *h = new_hart(0);
    const uint64_t mpp = 3ull << 11;

    put(h, MSTATUS, 3ull << 11);
    CHECK_EQ(get(h, MSTATUS) & mpp, 3ull << 11);
    put(h, MSTATUS, 2ull << 11);                 /* 2 is reserved: MPP keeps 3 */
    CHECK_EQ(get(h, MSTATUS) & mpp, 3ull << 11);
    put(h, MSTATUS, 1ull << 11);
    CHECK_EQ(get(h, MSTATUS) & mpp, 1ull << 11);
    put(h, MSTATUS, 2ull << 11);
    CHECK_EQ(get(h, MSTATUS) & mpp, 1ull << 11);
    put(h, MSTATUS, 0);
    CHECK_EQ(get(h, MSTATUS) & mpp, 0);

    /* all ones: SXL = UXL = 2, no UBE/SBE/MBE, VS = XS = 0 (no V, no custom
     * state), FS = 3 so SD = 1; the remaining fields as written. */
    put(h, MSTATUS, ~0ull);
    uint64_t expect = (1ull << 1) | (1ull << 3) | (1ull << 5) | (1ull << 7) | (1ull << 8) |
                      (3ull << 11) | (3ull << 13) | (1ull << 17) | (1ull << 18) |
                      (1ull << 19) | (1ull << 20) | (1ull << 21) | (1ull << 22) |
                      (2ull << 32) | (2ull << 34) | (1ull << 63);
    CHECK_EQ(get(h, MSTATUS), expect);

    /* SD follows FS: Clean is not dirty */
    put(h, MSTATUS, 2ull << 13);
    CHECK_EQ(get(h, MSTATUS), (2ull << 13) | (2ull << 32) | (2ull << 34));
    /* writes to SD itself are ignored */
    put(h, MSTATUS, 1ull << 63);
    CHECK_EQ(get(h, MSTATUS) >> 63, 0);

    /* misa is WARL with nothing writable here */
    uint64_t misa = get(h, MISA);
    CHECK_EQ(misa >> 62, 2);                     /* MXL = 64 */
    put(h, MISA, 0);
    CHECK_EQ(get(h, MISA), misa);

    /* an MXR change flushes the fast cache; TW, SUM (a context of its
     * own, mmu.h), MPRV and MPP (which context loads use) do not */
    fill_tlb(h);
    put(h, MSTATUS, 1ull << 21);                 /* TW */
    CHECK(tlb_has_entry(h));
    put(h, MSTATUS, (1ull << 21) | (1ull << 18)); /* + SUM */
    CHECK(tlb_has_entry(h));
    put(h, MSTATUS, (1ull << 21) | (1ull << 18) | (1ull << 17) | (1ull << 11));  /* + MPRV, MPP */
    CHECK(tlb_has_entry(h));
    put(h, MSTATUS, (1ull << 21) | (1ull << 18) | (1ull << 17) | (1ull << 11) | (1ull << 19));
    CHECK(!tlb_has_entry(h));                    /* + MXR */
    fill_tlb(h);
    put(h, MSTATUS, (1ull << 21) | (1ull << 18) | (1ull << 17) | (1ull << 11));
    CHECK(!tlb_has_entry(h));                    /* - MXR */

    h->mie = MIP_MSIP;
    atomic_store(&h->mip, MIP_MSIP);
    h->poll_now = false;
    put(h, MSTATUS, 1ull << 3);                  /* MIE with an interrupt pending */
    CHECK(h->poll_now);
    free_hart(h);
}

static void test_sstatus_view(void)
{
    struct hart *h = new_hart(0);
    /* MIE, MPIE, MPP=3, TVM, TW, TSR, MPRV are invisible to S */
    put(h, MSTATUS, (1ull << 3) | (1ull << 7) | (3ull << 11) | (1ull << 20) | (1ull << 21) |
                    (1ull << 22) | (1ull << 17) | (1ull << 1) | (1ull << 18));
    CHECK_EQ(get(h, SSTATUS), (1ull << 1) | (1ull << 18) | (2ull << 32));
    CHECK_EQ(csr_sstatus_mask() & ((1ull << 3) | (3ull << 11) | (1ull << 20)), 0);
    CHECK_EQ(csr_sstatus_mask() & ((1ull << 63) | (3ull << 13) | (1ull << 8)),
             (1ull << 63) | (3ull << 13) | (1ull << 8));

    h->priv = PRIV_S;
    put(h, SSTATUS, ~0ull);
    h->priv = PRIV_M;
    /* SIE SPIE SPP FS SUM MXR set; the M-only fields unchanged; UBE stays 0 */
    uint64_t expect = (1ull << 3) | (1ull << 7) | (3ull << 11) | (1ull << 20) | (1ull << 21) |
                      (1ull << 22) | (1ull << 17) | (1ull << 1) | (1ull << 5) | (1ull << 8) |
                      (3ull << 13) | (1ull << 18) | (1ull << 19) | (2ull << 32) | (2ull << 34) |
                      (1ull << 63);
    CHECK_EQ(get(h, MSTATUS), expect);
    put(h, SSTATUS, 0);
    CHECK_EQ(get(h, MSTATUS), (1ull << 3) | (1ull << 7) | (3ull << 11) | (1ull << 20) |
                              (1ull << 21) | (1ull << 22) | (1ull << 17) | (2ull << 32) |
                              (2ull << 34));
    free_hart(h);
}

static void test_delegation_registers(void)
{
    struct hart *h = new_hart(0);
    put(h, MEDELEG, ~0ull);
    /* causes 0-9, 12, 13, 15; never 11 (ECALL from M), 10, 14 or 16+ */
    CHECK_EQ(get(h, MEDELEG), 0xb3ffull);
    CHECK_EQ((get(h, MEDELEG) >> 11) & 1, 0);
    put(h, MIDELEG, ~0ull);
    CHECK_EQ(get(h, MIDELEG), (1ull << 1) | (1ull << 5) | (1ull << 9));
    put(h, MIE, ~0ull);
    CHECK_EQ(get(h, MIE), 0xaaaull);
    free_hart(h);
}

static void test_sie_sip(void)
{
    struct hart *h = new_hart(0);
    put(h, MIE, 0xaaa);
    /* nothing delegated: sie reads zero and its writes change nothing */
    CHECK_EQ(get(h, SIE), 0);
    put(h, SIE, 0);
    CHECK_EQ(get(h, MIE), 0xaaa);

    put(h, MIDELEG, (1ull << 1) | (1ull << 5));   /* SSI, STI */
    CHECK_EQ(get(h, SIE), (1ull << 1) | (1ull << 5));
    put(h, SIE, 0);
    CHECK_EQ(get(h, MIE), 0xaaa & ~((1ull << 1) | (1ull << 5)));
    put(h, SIE, ~0ull);
    CHECK_EQ(get(h, MIE), 0xaaa);

    /* sip shows the delegated pending bits only */
    put(h, MIP, (1ull << 1) | (1ull << 5) | (1ull << 9));
    hart_set_irq(h, MIP_MSIP, true);
    CHECK_EQ(get(h, MIP), (1ull << 1) | (1ull << 3) | (1ull << 5) | (1ull << 9));
    CHECK_EQ(get(h, SIP), (1ull << 1) | (1ull << 5));
    /* S may clear SSIP through sip, nothing else */
    h->priv = PRIV_S;
    put(h, SIP, 0);
    h->priv = PRIV_M;
    CHECK_EQ(get(h, MIP), (1ull << 3) | (1ull << 5) | (1ull << 9));
    put(h, SIP, ~0ull);
    CHECK_EQ(get(h, MIP), (1ull << 1) | (1ull << 3) | (1ull << 5) | (1ull << 9));
    /* SSIP not delegated: sip cannot touch it */
    put(h, MIDELEG, 1ull << 5);
    put(h, SIP, 0);
    CHECK_EQ(get(h, MIP) & 2, 2);
    free_hart(h);
}

static void test_mip(void)
{
    struct hart *h = new_hart(0);
    /* M writes SSIP, STIP, SEIP; MSIP, MTIP, MEIP come from devices */
    put(h, MIP, ~0ull);
    CHECK_EQ(get(h, MIP), (1ull << 1) | (1ull << 5) | (1ull << 9));
    hart_set_irq(h, MIP_MEIP, true);
    hart_set_irq(h, MIP_MSIP, true);
    put(h, MIP, 0);
    CHECK_EQ(get(h, MIP), (1ull << 3) | (1ull << 11));
    /* CSRRC of SSIP does not disturb the device lines */
    put(h, MIP, 1ull << 1);
    uint64_t old;
    CHECK(csr_access(h, MIP, CSR_OP_CLEAR, 1ull << 1, true, true, &old));
    CHECK_EQ(old, (1ull << 1) | (1ull << 3) | (1ull << 11));
    CHECK_EQ(get(h, MIP), (1ull << 3) | (1ull << 11));
    hart_set_irq(h, MIP_MEIP, false);
    hart_set_irq(h, MIP_MSIP, false);

    /* MTIP follows mtime >= mtimecmp */
    hart_set_mtimecmp(h, 0);
    CHECK_EQ(get(h, MIP), 1ull << 7);
    hart_set_mtimecmp(h, UINT64_MAX);
    CHECK_EQ(get(h, MIP), 0);

    /* Sstc: with STCE, STIP is time >= stimecmp and M cannot write it */
    put(h, MENVCFG, MENVCFG_STCE);
    put(h, STIMECMP, 0);
    CHECK_EQ(get(h, MIP), 1ull << 5);
    put(h, MIP, 0);
    CHECK_EQ(get(h, MIP), 1ull << 5);
    put(h, STIMECMP, UINT64_MAX);
    CHECK_EQ(get(h, MIP), 0);
    put(h, MIP, 1ull << 5);
    CHECK_EQ(get(h, MIP), 0);
    free_hart(h);
}

static void test_satp(void)
{
    struct hart *h = new_hart(0);
    uint64_t sv39 = (8ull << 60) | (0xabcdull << 44) | 0x80123ull;
    fill_tlb(h);
    put(h, SATP, sv39);
    CHECK_EQ(get(h, SATP), sv39);                   /* 16 ASID bits, 44 PPN bits */
    CHECK(!tlb_has_entry(h));
    /* Sv57 (10) and the reserved modes: the whole write is ignored */
    fill_tlb(h);
    put(h, SATP, (10ull << 60) | 0x999);
    CHECK_EQ(get(h, SATP), sv39);
    put(h, SATP, (1ull << 60) | 0x999);
    CHECK_EQ(get(h, SATP), sv39);
    put(h, SATP, (15ull << 60) | 0x999);
    CHECK_EQ(get(h, SATP), sv39);
    uint64_t sv48 = (9ull << 60) | 0x80456ull;
    put(h, SATP, sv48);
    CHECK_EQ(get(h, SATP), sv48);
    put(h, SATP, 0);
    CHECK_EQ(get(h, SATP), 0);
    put(h, SATP, sv39);

    /* TVM makes satp illegal in S, not in M */
    uint64_t v;
    h->priv = PRIV_S;
    CHECK(csr_rd(h, SATP, &v));
    h->priv = PRIV_M;
    put(h, MSTATUS, 1ull << 20);
    h->priv = PRIV_S;
    CHECK(!csr_rd(h, SATP, &v));
    CHECK(!csr_wr(h, SATP, 0));
    h->priv = PRIV_M;
    CHECK_EQ(get(h, SATP), sv39);
    put(h, SATP, sv48);
    CHECK_EQ(get(h, SATP), sv48);
    free_hart(h);
}

static void test_counters(void)
{
    struct hart *h = new_hart(0);
    uint64_t v;

    put(h, MINSTRET, 100);
    put(h, MCYCLE, 5000);
    CHECK_EQ(get(h, INSTRET), 100);
    CHECK_EQ(get(h, CYCLE), 5000);
    put(h, MINSTRET, 7);                 /* mcycle is its own counter */
    CHECK_EQ(get(h, MCYCLE), 5000);
    CHECK_EQ(get(h, MINSTRET), 7);
    uint64_t t0 = timebase_now();
    uint64_t t = get(h, TIME);
    CHECK(t >= t0 && t - t0 < TIMEBASE_HZ);
    CHECK_EQ(get(h, HPMCOUNTER3), 0);
    CHECK_EQ(get(h, MHPMCOUNTER3), 0);
    put(h, MHPMCOUNTER3, 55);
    CHECK_EQ(get(h, MHPMCOUNTER3), 0);
    put(h, MHPMEVENT3, 55);
    CHECK_EQ(get(h, MHPMEVENT3), 0);
    put(h, MCOUNTINHIBIT, ~0ull);
    CHECK_EQ(get(h, MCOUNTINHIBIT), 5);  /* CY and IR; TM is read-only zero */

    /* S needs mcounteren */
    h->priv = PRIV_S;
    CHECK(!csr_rd(h, CYCLE, &v));
    CHECK(!csr_rd(h, TIME, &v));
    CHECK(!csr_rd(h, INSTRET, &v));
    CHECK(!csr_rd(h, HPMCOUNTER3, &v));
    h->mcounteren = 0x2;                 /* TM only */
    CHECK(csr_rd(h, TIME, &v));
    CHECK(!csr_rd(h, CYCLE, &v));
    h->priv = PRIV_M;
    put(h, MCOUNTEREN, 0xffffffffull);
    CHECK_EQ(get(h, MCOUNTEREN), 0xffffffffull);
    h->priv = PRIV_S;
    CHECK(csr_rd(h, CYCLE, &v));
    CHECK_EQ(v, 5000);
    CHECK(csr_rd(h, INSTRET, &v));
    CHECK_EQ(v, 7);
    CHECK(csr_rd(h, HPMCOUNTER3, &v));
    CHECK_EQ(v, 0);
    CHECK(!csr_rd(h, MCOUNTEREN, &v));

    /* U needs mcounteren and scounteren */
    put(h, SCOUNTEREN, 0x2);
    h->priv = PRIV_U;
    CHECK(csr_rd(h, TIME, &v));
    CHECK(!csr_rd(h, CYCLE, &v));
    CHECK(!csr_rd(h, INSTRET, &v));
    h->mcounteren = 0x1;
    h->scounteren = 0x3;
    CHECK(!csr_rd(h, TIME, &v));
    CHECK(csr_rd(h, CYCLE, &v));
    free_hart(h);
}

static void test_fcsr(void)
{
    struct hart *h = new_hart(0);
    uint64_t v;
    put(h, MSTATUS, 0);                  /* FS = Off */
    CHECK(!csr_rd(h, FFLAGS, &v));
    CHECK(!csr_rd(h, FRM, &v));
    CHECK(!csr_rd(h, FCSR, &v));
    CHECK(!csr_wr(h, FCSR, 0));

    put(h, MSTATUS, 1ull << 13);         /* Initial */
    put(h, FCSR, 0xffff);                /* bits 31:8 are reserved */
    CHECK_EQ(get(h, FCSR), 0xff);
    CHECK_EQ(get(h, FFLAGS), 0x1f);
    CHECK_EQ(get(h, FRM), 7);
    CHECK_EQ((get(h, MSTATUS) >> 13) & 3, 3);    /* Dirty */
    CHECK_EQ(get(h, MSTATUS) >> 63, 1);          /* SD */

    put(h, MSTATUS, 2ull << 13);         /* Clean */
    put(h, FRM, 2);
    CHECK_EQ(get(h, FCSR), (2 << 5) | 0x1f);
    CHECK_EQ((get(h, MSTATUS) >> 13) & 3, 3);
    put(h, MSTATUS, 2ull << 13);
    put(h, FFLAGS, 0x21);
    CHECK_EQ(get(h, FCSR), (2 << 5) | 0x01);
    CHECK_EQ(get(h, MSTATUS) >> 63, 1);
    /* a read does not dirty */
    put(h, MSTATUS, 2ull << 13);
    (void)get(h, FCSR);
    CHECK_EQ((get(h, MSTATUS) >> 13) & 3, 2);
    /* U may use fcsr */
    h->priv = PRIV_U;
    CHECK(csr_rd(h, FCSR, &v));
    free_hart(h);
}

static void test_stimecmp_and_envcfg(void)
{
    struct hart *h = new_hart(0);
    uint64_t v;
    put(h, MENVCFG, ~0ull);
    CHECK_EQ(get(h, MENVCFG), MENVCFG_STCE | 1);   /* STCE and FIOM */
    put(h, SENVCFG, ~0ull);
    CHECK_EQ(get(h, SENVCFG), 1);
    put(h, MENVCFG, 0);

    put(h, STIMECMP, 1234);                         /* M always may */
    CHECK_EQ(get(h, STIMECMP), 1234);
    h->priv = PRIV_S;
    CHECK(!csr_rd(h, STIMECMP, &v));
    CHECK(!csr_wr(h, STIMECMP, 1));
    h->menvcfg = MENVCFG_STCE;
    CHECK(csr_rd(h, STIMECMP, &v));
    CHECK_EQ(v, 1234);
    h->poll_now = false;
    CHECK(csr_wr(h, STIMECMP, 99));
    CHECK(h->poll_now);
    h->priv = PRIV_U;
    CHECK(!csr_rd(h, STIMECMP, &v));
    h->priv = PRIV_M;
    CHECK_EQ(get(h, STIMECMP), 99);
    free_hart(h);
}

static void test_tvec_epc(void)
{
    struct hart *h = new_hart(0);
    put(h, MTVEC, 0x80000001);
    CHECK_EQ(get(h, MTVEC), 0x80000001);
    put(h, MTVEC, 0x80000102);           /* MODE 2 reserved: keeps old MODE 1 */
    CHECK_EQ(get(h, MTVEC), 0x80000101);
    put(h, MTVEC, 0x80000200);
    CHECK_EQ(get(h, MTVEC), 0x80000200);
    put(h, MTVEC, 0x80000303);
    CHECK_EQ(get(h, MTVEC), 0x80000300);
    put(h, STVEC, 0xffffffc000000001ull);
    CHECK_EQ(get(h, STVEC), 0xffffffc000000001ull);
    put(h, STVEC, 0xffffffc000000003ull);
    CHECK_EQ(get(h, STVEC), 0xffffffc000000001ull);

    put(h, MEPC, 0x1003);                /* IALIGN 16: bit 0 only */
    CHECK_EQ(get(h, MEPC), 0x1002);
    put(h, SEPC, ~0ull);
    CHECK_EQ(get(h, SEPC), ~1ull);
    free_hart(h);
}

static void test_pmp(void)
{
    struct hart *h = new_hart(0);
    uint64_t v;

    put(h, PMPADDR0, ~0ull);
    CHECK_EQ(get(h, PMPADDR0), (1ull << 54) - 1);     /* address bits 55:2 */
    put(h, PMPADDR0, 0x1000);
    put(h, PMPADDR1, 0x2000);
    put(h, PMPADDR0 + 2, 0x3000);

    /* reserved bits 6:5 read zero; W without R is reserved, the byte keeps
     * its old value */
    put(h, PMPCFG0, 0x1b << 16 | 0x61);
    CHECK_EQ(get(h, PMPCFG0), 0x1b << 16 | 0x01);
    put(h, PMPCFG0, 0x1a << 16 | 0x02);               /* NAPOT W, and W */
    CHECK_EQ(get(h, PMPCFG0), 0x1b << 16 | 0x01);
    put(h, PMPCFG0, 0x1e << 16);                      /* NAPOT WX: also R=0,W=1 */
    CHECK_EQ(get(h, PMPCFG0), 0x1b << 16);

    /* entry 1: locked TOR. Its own address and pmpaddr0 (its bottom) are
     * frozen; pmpaddr2 is not. */
    fill_tlb(h);
    put(h, PMPCFG0, 0x8d << 8);
    CHECK(!tlb_has_entry(h));                         /* every PMP write flushes */
    CHECK_EQ(get(h, PMPCFG0), 0x8d << 8);
    put(h, PMPADDR0, 0x5555);
    put(h, PMPADDR1, 0x6666);
    put(h, PMPADDR0 + 2, 0x7777);
    CHECK_EQ(get(h, PMPADDR0), 0x1000);
    CHECK_EQ(get(h, PMPADDR1), 0x2000);
    CHECK_EQ(get(h, PMPADDR0 + 2), 0x7777);
    /* the locked byte ignores the write, its neighbours do not */
    put(h, PMPCFG0, 0x0f0f0f0full);
    CHECK_EQ(get(h, PMPCFG0), 0x0f0f8d0full);
    /* a locked NAPOT entry locks only its own address */
    put(h, PMPCFG0 + 2, 0x98);                        /* entry 8: L, NAPOT */
    put(h, PMPADDR0 + 8, 0x1234);
    put(h, PMPADDR0 + 7, 0x4321);
    CHECK_EQ(get(h, PMPADDR0 + 8), 0);
    CHECK_EQ(get(h, PMPADDR0 + 7), 0x4321);
    CHECK_EQ(get(h, PMPCFG2), 0x98);
    CHECK_EQ(h->pmp.cfg[8], 0x98);

    /* entries 16-63 are hardwired to zero */
    put(h, PMPCFG4, ~0ull);
    CHECK_EQ(get(h, PMPCFG4), 0);
    put(h, PMPADDR16, ~0ull);
    CHECK_EQ(get(h, PMPADDR16), 0);

    h->priv = PRIV_S;
    CHECK(!csr_rd(h, PMPCFG0, &v));
    CHECK(!csr_wr(h, PMPADDR0, 0));
    free_hart(h);
}

static void test_poll_after_interrupt_writes(void)
{
    struct hart *h = new_hart(0);
    static const unsigned csrs[] = { MIE, MIP, SIE, SIP, MENVCFG, STIMECMP };
    for (unsigned i = 0; i < sizeof csrs / sizeof csrs[0]; i++) {
        h->poll_now = false;
        put(h, csrs[i], 0);
        CHECK(h->poll_now);
    }
    /* mstatus: when an interrupt enable rises while an interrupt is
     * pending and enabled in mie. Not when SIE is cleared, as in every
     * local_irq_save, nor when it rises with nothing pending, as in most
     * local_irq_restore; not for FS or SPIE; not for the bits that move
     * loads and stores to another context (SUM, MXR, MPRV, MPP), which
     * translated code follows through jit_data_tlb
     * (test_data_context_follows_writes) */
    static const struct {
        unsigned csr;
        uint64_t from, to, pending;
        bool polls;
    } writes[] = {
        { SSTATUS, 0, MSTATUS_SIE, MIP_SSIP, true },
        { SSTATUS, 0, MSTATUS_SIE, 0, false },
        { MSTATUS, 0, MSTATUS_MIE, MIP_MSIP, true },
        { MSTATUS, 0, MSTATUS_MIE, 0, false },
        { SSTATUS, MSTATUS_SIE, 0, MIP_SSIP, false },
        { MSTATUS, MSTATUS_MIE | MSTATUS_SIE, MSTATUS_SIE, MIP_MSIP, false },
        { SSTATUS, 0, MSTATUS_SPIE | MSTATUS_FS, MIP_SSIP, false },
        { SSTATUS, 0, MSTATUS_SUM, MIP_SSIP, false },
        { SSTATUS, MSTATUS_SUM, MSTATUS_SUM | MSTATUS_MXR, MIP_SSIP, false },
        { MSTATUS, 0, MSTATUS_MPRV, MIP_MSIP, false },
        { MSTATUS, 0, MSTATUS_MPP, MIP_MSIP, false },
    };
    for (unsigned i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        put(h, writes[i].csr, writes[i].from);
        h->mie = writes[i].pending;
        atomic_store(&h->mip, writes[i].pending);
        h->poll_now = false;
        put(h, writes[i].csr, writes[i].to);
        CHECK_EQ(h->poll_now, writes[i].polls);
    }
    free_hart(h);
}

/* A write that moves loads and stores to another fast-cache context
 * (SUM in S-mode; MPRV and MPP in M-mode, privileged spec 3.1.6.3) points
 * jit_data_tlb at that context's entries, which translated code reloads
 * after the call that made the write; a write that does not leaves it. */
static void test_data_context_follows_writes(void)
{
    struct hart *h = new_hart(0);
    struct tlb_entry *s = &h->tlb.e[TLB_CTX_S][0][0], *s_sum = &h->tlb.e[TLB_CTX_S_SUM][0][0];
    put(h, MSTATUS, (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT);     /* M, MPP = S, MPRV clear */
    h->jit_data_tlb = NULL;
    put(h, MSTATUS, MSTATUS_MPRV | (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT);
    CHECK(h->jit_data_tlb == s);
    put(h, MSTATUS, MSTATUS_MPRV | MSTATUS_SUM | (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT);
    CHECK(h->jit_data_tlb == s_sum);
    put(h, MSTATUS, MSTATUS_MPRV | MSTATUS_SUM);                  /* MPP = U */
    CHECK(h->jit_data_tlb == &h->tlb.e[TLB_CTX_U][0][0]);
    put(h, MSTATUS, MSTATUS_SUM);                                 /* MPRV clear: M */
    CHECK(h->jit_data_tlb == &h->tlb.e[TLB_CTX_M][0][0]);

    h->priv = PRIV_S;
    put(h, SSTATUS, 0);
    CHECK(h->jit_data_tlb == s);
    put(h, SSTATUS, MSTATUS_SUM);
    CHECK(h->jit_data_tlb == s_sum);
    h->jit_data_tlb = NULL;
    put(h, SSTATUS, MSTATUS_SUM | MSTATUS_SIE);                   /* SUM stays */
    CHECK(h->jit_data_tlb == NULL);
    put(h, SSTATUS, MSTATUS_SIE);
    CHECK(h->jit_data_tlb == s);
    free_hart(h);
}

int main(void)
{
    test_privilege_and_read_only();
    test_op_kinds();
    test_mstatus();
    test_sstatus_view();
    test_delegation_registers();
    test_sie_sip();
    test_mip();
    test_satp();
    test_counters();
    test_fcsr();
    test_stimecmp_and_envcfg();
    test_tvec_epc();
    test_pmp();
    test_poll_after_interrupt_writes();
    test_data_context_follows_writes();
    return check_summary();
}
