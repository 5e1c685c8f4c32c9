/* vm.c: page-based virtual memory (privileged spec 4.3 "Sv32" for the
 * common rules: 4.3.1 PTE format, 4.3.2 the translation algorithm; 4.4
 * Sv39; 4.5 Sv48), built twice: -DVM_LEVELS=3 (Sv39) and -DVM_LEVELS=4
 * (Sv48). Page tables are built here in C, in M-mode; S and U code then
 * runs under them.
 *
 * Covered: a leaf at every level (4 KiB, 2 MiB, 1 GiB, and 512 GiB for
 * Sv48) with the page offset carried through; every R/W/X combination with
 * U clear and set, accessed by S and U for load, store and fetch, under
 * each SUM/MXR setting, against the spec's rules (reserved W-without-R and
 * a pointer at the last level fault too); page-fault causes 12/13/15 with
 * the virtual address in mtval; hardware A/D updates visible in the PTE
 * (umbra's choice, DESIGN.md section 3; the spec allows faulting instead);
 * misaligned superpages; non-canonical addresses; reserved PTE bits; a
 * page-table pointer or leaf outside RAM and a page table denied by PMP
 * (access faults, 4.3.2 steps 2 and 8); an instruction straddling into an
 * unmapped page; MPRV translating M's loads; an
 * SFENCE.VMA making a remapping visible; satp ignoring a write with an
 * unsupported MODE.
 */
#include "rt.h"

#if VM_LEVELS == 3
#define SATP_MODE 8ull
#define VA_BITS 39
#elif VM_LEVELS == 4
#define SATP_MODE 9ull
#define VA_BITS 48
#else
#error "build with -DVM_LEVELS=3 (Sv39) or -DVM_LEVELS=4 (Sv48)"
#endif

#ifdef UMBRA_ON_QEMU
#define QEMU_REFERENCE 1
#else
#define QEMU_REFERENCE 0
#endif

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_AD (PTE_A | PTE_D)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)

#define KIB4 0x1000ull
#define MIB2 0x200000ull
#define GIB1 0x40000000ull

typedef uint64_t pte_t;
#define TABLE __attribute__((aligned(4096)))

static pte_t root[512] TABLE;
#if VM_LEVELS == 4
static pte_t l2[512] TABLE;           /* under root[0]: the first 512 GiB */
#define GIGA l2                       /* the table whose entries span 1 GiB */
#else
#define GIGA root
#endif
static pte_t id_l1[512] TABLE;        /* VA = PA from 0x80000000, 2 MiB leaves */
static pte_t id_l0[512] TABLE;        /* its first 2 MiB in 4 KiB pages */
static pte_t t_l1[512] TABLE;         /* the test gigabyte at TEST_VA */
static pte_t t_l0[512] TABLE;         /* its first 2 MiB */

/* Data pages the test mappings point at. */
static volatile uint64_t tpage[8][512] TABLE;
/* U-mode's stack, on a page U may use. */
static uint8_t ustack[4096] USER_DATA __attribute__((aligned(16)));
#define USTACK ((uintptr_t)ustack + sizeof ustack)

#define TEST_VA 0x40000000ull
#define PTE_LEAF(pa, flags) ((((uint64_t)(pa) >> 12) << 10) | PTE_V | (flags))
#define PTE_TABLE(table) ((((uint64_t)(uintptr_t)(table) >> 12) << 10) | PTE_V)
#define PA(p) ((uint64_t)(uintptr_t)(p))

/* "li a0, 0x123; ret": the code every fetch test runs. */
#define CODE_WORDS 0x0000806712300513ull
#define CODE_RESULT 0x123

static void put_code(volatile uint64_t *page)
{
    page[0] = CODE_WORDS;
    asm volatile("fence.i" ::: "memory");
}

static void zero_table(pte_t *t)
{
    for (int i = 0; i < 512; i++)
        t[i] = 0;
}

static bool in_section(uint64_t pa, const char *start, const char *end)
{
    return pa >= PA(start) && pa < PA(end);
}

/* The base mapping: RAM's first GiB at VA = PA for S (RWX), with the
 * .utext pages user RX and the .udata pages user RW; TEST_VA's tables
 * empty. */
static void vm_init(void)
{
    zero_table(root);
#if VM_LEVELS == 4
    zero_table(l2);
    root[0] = PTE_TABLE(l2);
#endif
    zero_table(id_l1);
    zero_table(t_l1);
    zero_table(t_l0);
    GIGA[2] = PTE_TABLE(id_l1);
    id_l1[0] = PTE_TABLE(id_l0);
    for (int i = 1; i < 512; i++)
        id_l1[i] = PTE_LEAF(0x80000000ull + (uint64_t)i * MIB2, PTE_RWX | PTE_AD);
    for (int i = 0; i < 512; i++) {
        uint64_t pa = 0x80000000ull + (uint64_t)i * KIB4;
        uint64_t flags = PTE_RWX | PTE_AD;
        if (in_section(pa, __utext_start, __utext_end))
            flags = PTE_R | PTE_X | PTE_U | PTE_A;
        else if (in_section(pa, __udata_start, __udata_end))
            flags = PTE_R | PTE_W | PTE_U | PTE_AD;
        id_l0[i] = PTE_LEAF(pa, flags);
    }
    GIGA[1] = PTE_TABLE(t_l1);
    t_l1[0] = PTE_TABLE(t_l0);
    csr_write(satp, (SATP_MODE << 60) | (PA(root) >> 12));
    sfence_vma_all();
}

/* ------------------------------------------------ code run below M */
static uint64_t s_load(uint64_t va) { return *(volatile uint64_t *)(uintptr_t)va; }
static uint64_t s_store(uint64_t va) { *(volatile uint64_t *)(uintptr_t)va = 0x5a5a; return 0; }
static uint64_t s_fetch(uint64_t va) { return ((uint64_t (*)(void))(uintptr_t)va)(); }
USER_TEXT static uint64_t u_load(uint64_t va) { return *(volatile uint64_t *)(uintptr_t)va; }
USER_TEXT static uint64_t u_store(uint64_t va) { *(volatile uint64_t *)(uintptr_t)va = 0x5a5a; return 0; }
USER_TEXT static uint64_t u_fetch(uint64_t va) { return ((uint64_t (*)(void))(uintptr_t)va)(); }

enum acc { LOAD, STORE, FETCH };
static const uint64_t fault_cause[3] = { CAUSE_LOAD_PAGE_FAULT, CAUSE_STORE_PAGE_FAULT,
                                         CAUSE_FETCH_PAGE_FAULT };
static const uint64_t access_cause[3] = { CAUSE_LOAD_ACCESS, CAUSE_STORE_ACCESS,
                                          CAUSE_FETCH_ACCESS };

/* Run one access at privilege priv; returns the traps it took (0 or 1)
 * and the value it produced in *value. Any trap abandons the access. */
static uint64_t attempt(int priv, enum acc a, uint64_t va, uint64_t *value)
{
    static uint64_t (*const s_fn[3])(uint64_t) = { s_load, s_store, s_fetch };
    static uint64_t (*const u_fn[3])(uint64_t) = { u_load, u_store, u_fetch };
    uint64_t before = rt_trap.count;
    if (priv == PRV_U)
        *value = rt_run_guarded(PRV_U, u_fn[a], va, USTACK);
    else
        *value = rt_run_guarded(PRV_S, s_fn[a], va, 0);
    return rt_trap.count - before;
}

/* Check n: the access traps with `cause` and mtval = va. */
static void expect_fault(unsigned n, int priv, enum acc a, uint64_t va, uint64_t cause)
{
    uint64_t v;
    CHECK_EQ(n, attempt(priv, a, va, &v), 1);
    CHECK_EQ(n, rt_trap.cause, cause);
    CHECK_EQ(n, rt_trap.tval, va);
}

static void set_pte(pte_t *slot, pte_t value)
{
    *slot = value;
    sfence_vma_all();
}

/* ------------------------------------------------------------ levels */
static void levels(void)
{
    for (int i = 0; i < 4; i++)
        tpage[1][i] = 0x1111000000000000ull + (uint64_t)i;
    /* 4 KiB leaf at level 0. */
    set_pte(&t_l0[1], PTE_LEAF(PA(tpage[1]), PTE_R | PTE_W | PTE_AD));
    uint64_t v = 0, va = TEST_VA + KIB4;
    CHECK_EQ(1, attempt(PRV_S, LOAD, va + 24, &v), 0);
    CHECK_EQ(2, v, 0x1111000000000003ull);
    CHECK_EQ(3, attempt(PRV_S, STORE, va + 8, &v), 0);
    CHECK_EQ(4, tpage[1][1], 0x5a5a);
    /* 2 MiB leaf at level 1: PA = PPN[2:1] of the PTE, offset 21 bits. */
    uint64_t mega = PA(tpage[2]) & ~(MIB2 - 1);
    tpage[2][5] = 0x2222;
    set_pte(&t_l1[1], PTE_LEAF(mega, PTE_R | PTE_W | PTE_AD));
    va = TEST_VA + MIB2 + (PA(tpage[2]) - mega);
    CHECK_EQ(5, attempt(PRV_S, LOAD, va + 40, &v), 0);
    CHECK_EQ(6, v, 0x2222);
    CHECK_EQ(7, attempt(PRV_S, STORE, va + 48, &v), 0);
    CHECK_EQ(8, tpage[2][6], 0x5a5a);
    /* 1 GiB leaf at level 2: VA 0xc0000000 -> PA 0x80000000. */
    tpage[3][7] = 0x3333;
    set_pte(&GIGA[3], PTE_LEAF(0x80000000ull, PTE_R | PTE_W | PTE_AD));
    va = 3 * GIB1 + (PA(tpage[3]) - 0x80000000ull);
    CHECK_EQ(9, attempt(PRV_S, LOAD, va + 56, &v), 0);
    CHECK_EQ(10, v, 0x3333);
#if VM_LEVELS == 4
    /* 512 GiB leaf at level 3: VA 0x80_0000_0000 -> PA 0. */
    tpage[3][8] = 0x4444;
    set_pte(&root[1], PTE_LEAF(0, PTE_R | PTE_W | PTE_AD));
    va = (1ull << 39) + PA(tpage[3]);
    CHECK_EQ(11, attempt(PRV_S, LOAD, va + 64, &v), 0);
    CHECK_EQ(12, v, 0x4444);
    CHECK_EQ(13, attempt(PRV_S, STORE, va + 72, &v), 0);
    CHECK_EQ(14, tpage[3][9], 0x5a5a);
    set_pte(&root[1], 0);
#endif
    /* Code through a non-identity mapping. */
    put_code(tpage[4]);
    set_pte(&t_l0[2], PTE_LEAF(PA(tpage[4]), PTE_R | PTE_X | PTE_AD));
    CHECK_EQ(15, attempt(PRV_S, FETCH, TEST_VA + 2 * KIB4, &v), 0);
    CHECK_EQ(16, v, CODE_RESULT);
    set_pte(&GIGA[3], 0);
    set_pte(&t_l1[1], 0);
    set_pte(&t_l0[1], 0);
    set_pte(&t_l0[2], 0);
}

/* ------------------------------------------------------- permissions */

/* The spec's verdict for one leaf (4.3.1, 4.3.2 steps 3-5, 3.1.6.3). */
static bool allowed(unsigned rwx, bool user_page, int priv, enum acc a, bool sum, bool mxr)
{
    bool r = rwx & 1, w = rwx & 2, x = rwx & 4;
    if (!r && w)
        return false;              /* reserved encoding */
    if (!r && !w && !x)
        return false;              /* a pointer at the last level */
    if (priv == PRV_U && !user_page)
        return false;
    if (priv == PRV_S && user_page && (a == FETCH || !sum))
        return false;              /* S never executes U pages */
    switch (a) {
    case LOAD: return r || (mxr && x);
    case STORE: return w;
    default: return x;
    }
}

static void report_combination(unsigned rwx, bool u, int priv, enum acc a, bool sum, bool mxr)
{
    static const char *const names[3] = { "load", "store", "fetch" };
    rt_puts(priv == PRV_U ? "U " : "S ");
    rt_puts(names[a]);
    rt_puts(" from a page with RWX=");
    rt_putdec(rwx & 1);
    rt_putdec((rwx >> 1) & 1);
    rt_putdec((rwx >> 2) & 1);
    rt_puts(u ? " U=1" : " U=0");
    rt_puts(sum ? " SUM=1" : " SUM=0");
    rt_puts(mxr ? " MXR=1\n" : " MXR=0\n");
}

/* Check n (one per access type): every combination behaves as allowed()
 * says, faults with the page-fault cause of the access and mtval = va. */
static void permission_matrix(unsigned n, enum acc a)
{
    const uint64_t va = TEST_VA + 3 * KIB4;
    for (unsigned rwx = 0; rwx < 8; rwx++)
        for (int u = 0; u < 2; u++)
            for (int priv = PRV_U; priv <= PRV_S; priv++)
                for (int sum = 0; sum < 2; sum++)
                    for (int mxr = 0; mxr < 2; mxr++) {
                        put_code(tpage[5]);
                        tpage[5][2] = 0;
                        uint64_t flags = (uint64_t)rwx << 1 | (u ? PTE_U : 0) | PTE_AD;
                        set_pte(&t_l0[3], PTE_LEAF(PA(tpage[5]), flags));
                        csr_clear(mstatus, MSTATUS_SUM | MSTATUS_MXR);
                        csr_set(mstatus, (sum ? MSTATUS_SUM : 0) | (mxr ? MSTATUS_MXR : 0));
                        uint64_t target = va + (a == STORE ? 16 : 0), v = 0;
                        uint64_t traps = attempt(priv, a, target, &v);
                        bool want = allowed(rwx, u, priv, a, sum, mxr);
                        bool ok;
                        if (want)
                            ok = traps == 0 && (a == LOAD ? v == CODE_WORDS :
                                                a == STORE ? tpage[5][2] == 0x5a5a :
                                                v == CODE_RESULT);
                        else
                            ok = traps == 1 && rt_trap.cause == fault_cause[a] &&
                                 rt_trap.tval == target && tpage[5][2] == 0;
                        if (!ok) {
                            report_combination(rwx, u, priv, a, sum, mxr);
                            rt_puts(want ? "expected success\n" : "expected a page fault\n");
                            fail(n);
                        }
                    }
    csr_clear(mstatus, MSTATUS_SUM | MSTATUS_MXR);
    set_pte(&t_l0[3], 0);
}

/* ------------------------------------------------------- A and D bits */
static void accessed_dirty(void)
{
    /* Hardware update: the walker sets A on any access and D on a store,
     * in the PTE itself (4.3.2 step 7, the non-faulting option; the
     * choice umbra makes, DESIGN.md section 3). */
    uint64_t v;
    set_pte(&t_l0[4], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W));
    CHECK_EQ(17, attempt(PRV_S, LOAD, TEST_VA + 4 * KIB4, &v), 0);
    CHECK_EQ(18, t_l0[4] & PTE_AD, PTE_A);
    CHECK_EQ(19, attempt(PRV_S, STORE, TEST_VA + 4 * KIB4 + 8, &v), 0);
    CHECK_EQ(20, t_l0[4] & PTE_AD, PTE_AD);
    CHECK_EQ(21, tpage[6][1], 0x5a5a);
    /* A store to a page with neither sets both. */
    set_pte(&t_l0[4], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W | PTE_U));
    CHECK_EQ(22, attempt(PRV_U, STORE, TEST_VA + 4 * KIB4, &v), 0);
    CHECK_EQ(23, t_l0[4] & PTE_AD, PTE_AD);
    /* A fetch sets A only. */
    put_code(tpage[7]);
    set_pte(&t_l0[5], PTE_LEAF(PA(tpage[7]), PTE_X));
    CHECK_EQ(24, attempt(PRV_S, FETCH, TEST_VA + 5 * KIB4, &v), 0);
    CHECK_EQ(25, v, CODE_RESULT);
    CHECK_EQ(26, t_l0[5] & PTE_AD, PTE_A);
    /* On a superpage leaf, too. */
    uint64_t mega = PA(tpage[6]) & ~(MIB2 - 1);
    set_pte(&t_l1[2], PTE_LEAF(mega, PTE_R | PTE_W));
    CHECK_EQ(27, attempt(PRV_S, STORE, TEST_VA + 2 * MIB2 + (PA(tpage[6]) - mega), &v), 0);
    CHECK_EQ(28, t_l1[2] & PTE_AD, PTE_AD);
    set_pte(&t_l0[4], 0);
    set_pte(&t_l0[5], 0);
    set_pte(&t_l1[2], 0);
}

/* ------------------------------------------------------------ faults */
static void translation_faults(void)
{
    uint64_t v, va;
    /* Invalid PTE. */
    expect_fault(29, PRV_S, LOAD, TEST_VA + 6 * KIB4 + 8, CAUSE_LOAD_PAGE_FAULT);
    expect_fault(30, PRV_U, STORE, TEST_VA + 6 * KIB4, CAUSE_STORE_PAGE_FAULT);
    expect_fault(31, PRV_S, FETCH, TEST_VA + 6 * KIB4, CAUSE_FETCH_PAGE_FAULT);
    /* A valid-looking PTE with a reserved bit (63, N without Svnapot; 60,
     * reserved for future use) set: page fault (4.3.2 step 3, 4.4.1). */
    set_pte(&t_l0[6], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W | PTE_AD) | (1ull << 63));
    expect_fault(32, PRV_S, LOAD, TEST_VA + 6 * KIB4, CAUSE_LOAD_PAGE_FAULT);
    set_pte(&t_l0[6], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W | PTE_AD) | (1ull << 60));
    expect_fault(33, PRV_S, LOAD, TEST_VA + 6 * KIB4, CAUSE_LOAD_PAGE_FAULT);
    set_pte(&t_l0[6], 0);

    /* Misaligned superpages: a 2 MiB leaf whose PPN[0] is not zero, a
     * 1 GiB leaf whose PPN[1:0] are not (4.3.2 step 6). */
    uint64_t mega = PA(tpage[6]) & ~(MIB2 - 1);
    set_pte(&t_l1[3], PTE_LEAF(mega + KIB4, PTE_R | PTE_W | PTE_X | PTE_AD));
    va = TEST_VA + 3 * MIB2 + 0x1238;
    expect_fault(34, PRV_S, LOAD, va, CAUSE_LOAD_PAGE_FAULT);
    expect_fault(35, PRV_S, STORE, va, CAUSE_STORE_PAGE_FAULT);
    expect_fault(36, PRV_S, FETCH, va & ~7ull, CAUSE_FETCH_PAGE_FAULT);
    set_pte(&t_l1[3], 0);
    set_pte(&GIGA[4], PTE_LEAF(0x80000000ull + MIB2, PTE_R | PTE_W | PTE_AD));
    expect_fault(37, PRV_S, LOAD, 4 * GIB1 + 0x100, CAUSE_LOAD_PAGE_FAULT);
    set_pte(&GIGA[4], 0);

    /* Non-canonical addresses: bits 63..VA_BITS must copy bit VA_BITS-1
     * (4.4.1, 4.5.1). The low bits here name a mapped page. */
    set_pte(&t_l0[7], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W | PTE_X | PTE_AD));
    va = TEST_VA + 7 * KIB4;
    CHECK_EQ(38, attempt(PRV_S, LOAD, va, &v), 0);
    expect_fault(39, PRV_S, LOAD, va | (1ull << VA_BITS), CAUSE_LOAD_PAGE_FAULT);
    expect_fault(40, PRV_S, STORE, va | (1ull << 63), CAUSE_STORE_PAGE_FAULT);
    expect_fault(41, PRV_S, FETCH, va | (1ull << (VA_BITS + 4)), CAUSE_FETCH_PAGE_FAULT);
    expect_fault(42, PRV_U, LOAD, (1ull << (VA_BITS - 1)), CAUSE_LOAD_PAGE_FAULT);
    set_pte(&t_l0[7], 0);
}

static void outside_ram(void)
{
    /* A leaf pointing outside RAM: the access itself faults (access
     * fault, mtval = the virtual address). */
    set_pte(&t_l0[8], PTE_LEAF(UNMAPPED_PA, PTE_R | PTE_W | PTE_X | PTE_AD));
    uint64_t va = TEST_VA + 8 * KIB4;
    expect_fault(43, PRV_S, LOAD, va + 8, CAUSE_LOAD_ACCESS);
    expect_fault(44, PRV_S, STORE, va, CAUSE_STORE_ACCESS);
    expect_fault(45, PRV_S, FETCH, va, CAUSE_FETCH_ACCESS);
    set_pte(&t_l0[8], 0);

    /* A pointer to a next-level table outside RAM: the walk's own PTE
     * read fails, which 4.3.2 step 2 makes an access fault of the
     * original access's type. QEMU 7.2 raises a page fault instead, so
     * the reference build expects that. */
    set_pte(&t_l1[4], PTE_TABLE(UNMAPPED_PA));
    va = TEST_VA + 4 * MIB2 + 0x3000;
    const uint64_t *walk_fault = QEMU_REFERENCE ? fault_cause : access_cause;
    expect_fault(46, PRV_S, LOAD, va, walk_fault[LOAD]);
    expect_fault(47, PRV_S, STORE, va, walk_fault[STORE]);
    expect_fault(48, PRV_S, FETCH, va, walk_fault[FETCH]);
    set_pte(&t_l1[4], 0);

    /* A page table that PMP denies to S (the walk's reads are checked as
     * S-mode accesses, 3.7.1 and 4.3.2 step 2): access fault. */
    set_pte(&t_l0[9], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W | PTE_AD));
    va = TEST_VA + 9 * KIB4;
    uint64_t v;
    CHECK_EQ(49, attempt(PRV_S, LOAD, va, &v), 0);
    csr_write(pmpaddr0, (PA(t_l0) >> 2) | 0x1ff);             /* NAPOT, 4 KiB */
    csr_write(pmpcfg0, 0x18);                                  /* no permissions */
    sfence_vma_all();
    expect_fault(50, PRV_S, LOAD, va, CAUSE_LOAD_ACCESS);
    expect_fault(51, PRV_S, STORE, va, CAUSE_STORE_ACCESS);
    csr_write(pmpcfg0, 0);
    sfence_vma_all();
    CHECK_EQ(52, attempt(PRV_S, LOAD, va, &v), 0);
    set_pte(&t_l0[9], 0);
}

/* ---------------------------------------------- MPRV, SFENCE, satp */

static uint64_t mprv_load(uint64_t mpp, uint64_t va)
{
    uint64_t v = 0;
    asm volatile("csrc mstatus, %2\n\t"
                 "csrs mstatus, %3\n\t"
                 "ld %0, 0(%1)\n\t"
                 "csrc mstatus, %4"
                 : "+r"(v)
                 : "r"(va), "r"(MSTATUS_MPP), "r"((mpp << MSTATUS_MPP_SHIFT) | MSTATUS_MPRV),
                   "r"(MSTATUS_MPRV)
                 : "memory");
    return v;
}

/* An instruction whose two halves lie on two pages: with the second page
 * unmapped, the fetch faults with mepc at the instruction and mtval at the
 * second page, the part that faulted (3.1.16); mapped, it runs. */
static volatile uint16_t xpages[2][2048] TABLE;

static void straddling_fetch(void)
{
    const uint32_t li = 0x12300513u;                     /* li a0, 0x123 */
    xpages[0][2046] = 0x0001;                            /* c.nop */
    xpages[0][2047] = (uint16_t)li;
    xpages[1][0] = (uint16_t)(li >> 16);
    xpages[1][1] = 0x8082;                               /* c.ret */
    asm volatile("fence.i" ::: "memory");
    uint64_t va = TEST_VA + 11 * KIB4, v = 0;
    set_pte(&t_l0[11], PTE_LEAF(PA(xpages[0]), PTE_R | PTE_X | PTE_AD));
    set_pte(&t_l0[12], 0);
    CHECK_EQ(53, attempt(PRV_S, FETCH, va + 4092, &v), 1);
    CHECK_EQ(54, rt_trap.cause, CAUSE_FETCH_PAGE_FAULT);
    CHECK_EQ(55, rt_trap.epc, va + 4094);
    CHECK_EQ(56, rt_trap.tval, va + 4096);
    set_pte(&t_l0[12], PTE_LEAF(PA(xpages[1]), PTE_R | PTE_X | PTE_AD));
    CHECK_EQ(57, attempt(PRV_S, FETCH, va + 4092, &v), 0);
    CHECK_EQ(58, v, CODE_RESULT);
    set_pte(&t_l0[11], 0);
    set_pte(&t_l0[12], 0);
}

static void mprv_sfence_satp(void)
{
    /* MPRV: M's loads translate as MPP's would (3.1.6.3). */
    tpage[6][3] = 0x6666;
    set_pte(&t_l0[10], PTE_LEAF(PA(tpage[6]), PTE_R | PTE_W | PTE_AD));
    uint64_t va = TEST_VA + 10 * KIB4 + 24, v = 0;
    CHECK_EQ(59, EXPECT_TRAPS(v = mprv_load(PRV_S, va)), 0);
    CHECK_EQ(60, v, 0x6666);
    CHECK_EQ(61, EXPECT_TRAPS(mprv_load(PRV_U, va)), 1);        /* U=0 page */
    CHECK_EQ(62, rt_trap.cause, CAUSE_LOAD_PAGE_FAULT);
    CHECK_EQ(63, rt_trap.tval, va);
    CHECK_EQ(64, rt_trap.from, PRV_M);
    /* M itself does not translate: va means nothing to it. */
    CHECK_EQ(65, EXPECT_TRAPS(v = *(volatile uint64_t *)(uintptr_t)(PA(tpage[6]) + 24)), 0);

    /* SFENCE.VMA: after remapping a page and fencing that address, the
     * new mapping is in use. */
    tpage[7][1] = 0x7777;
    va = TEST_VA + 10 * KIB4 + 8;
    CHECK_EQ(66, attempt(PRV_S, LOAD, va, &v), 0);
    CHECK_EQ(67, v, tpage[6][1]);
    t_l0[10] = PTE_LEAF(PA(tpage[7]), PTE_R | PTE_W | PTE_AD);
    asm volatile("sfence.vma %0, zero" :: "r"(va) : "memory");
    CHECK_EQ(68, attempt(PRV_S, LOAD, va, &v), 0);
    CHECK_EQ(69, v, 0x7777);
    set_pte(&t_l0[10], 0);

    /* satp: a write with an unsupported MODE has no effect (4.1.11). */
    uint64_t before = csr_read(satp);
    CHECK_EQ(70, before >> 60, SATP_MODE);
    csr_write(satp, (7ull << 60) | 0x12345);
    CHECK_EQ(71, csr_read(satp), before);
}

int main(void)
{
    /* The identity map's 4 KiB part must hold the whole program. */
    CHECK(72, PA(__image_end) <= 0x80000000ull + MIB2);
    vm_init();
    levels();
    permission_matrix(73, LOAD);
    permission_matrix(74, STORE);
    permission_matrix(75, FETCH);
    accessed_dirty();
    translation_faults();
    outside_ram();
    straddling_fetch();
    mprv_sfence_satp();
    csr_write(satp, 0);
    sfence_vma_all();
    pass();
}
