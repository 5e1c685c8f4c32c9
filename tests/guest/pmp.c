/* pmp.c: Physical Memory Protection (privileged spec 3.7).
 *
 * TOR and NAPOT regions deny S and U reads, writes and instruction fetches
 * according to R/W/X, with the access fault of the access's type and the
 * address in mtval; the lowest-numbered matching entry decides; an access
 * that only partly lies in the deciding entry fails (NA4 against a
 * doubleword); with entries
 * implemented, S/U accesses that match none fail while M's succeed; the
 * lock bit binds M-mode too and freezes the entry (and, for TOR, the
 * address register below it). Locking is irreversible until reset, so
 * it comes last. Every PMP change is followed by SFENCE.VMA (3.7.2).
 */
#include "rt.h"

static void pmpaddr_write(unsigned i, uint64_t v)
{
    switch (i) {
    case 0: csr_write(pmpaddr0, v); break;
    case 1: csr_write(pmpaddr1, v); break;
    case 2: csr_write(pmpaddr2, v); break;
    case 3: csr_write(pmpaddr3, v); break;
    case 4: csr_write(pmpaddr4, v); break;
    case 15: csr_write(pmpaddr15, v); break;
    default: fail(RT_EXIT_BAD_PATH);
    }
}

static uint64_t pmpaddr_read(unsigned i)
{
    switch (i) {
    case 0: return csr_read(pmpaddr0);
    case 1: return csr_read(pmpaddr1);
    case 2: return csr_read(pmpaddr2);
    default: fail(RT_EXIT_BAD_PATH);
    }
}

/* Entry i's configuration byte: pmpcfg0 holds entries 0-7, pmpcfg2 8-15. */
static void pmpcfg_write(unsigned i, uint8_t cfg)
{
    unsigned shift = (i % 8) * 8;
    uint64_t mask = 0xffull << shift, v = (uint64_t)cfg << shift;
    if (i < 8)
        csr_write(pmpcfg0, (csr_read(pmpcfg0) & ~mask) | v);
    else
        csr_write(pmpcfg2, (csr_read(pmpcfg2) & ~mask) | v);
}

static uint8_t pmpcfg_read(unsigned i)
{
    uint64_t v = i < 8 ? csr_read(pmpcfg0) : csr_read(pmpcfg2);
    return (uint8_t)(v >> ((i % 8) * 8));
}

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_TOR 0x08
#define PMP_NAPOT 0x18
#define PMP_L 0x80

static void pmp_entry(unsigned i, uint8_t cfg, uint64_t addr)
{
    pmpcfg_write(i, 0);
    pmpaddr_write(i, addr);
    pmpcfg_write(i, cfg);
    sfence_vma_all();
}

/* pmpaddr for a NAPOT region of `size` bytes (a power of two >= 8). */
static uint64_t napot(uintptr_t base, uint64_t size)
{
    return (base >> 2) | ((size >> 3) - 1);
}

/* Three 4 KiB test pages, then a 16 KiB region, all plain RAM. */
static volatile uint64_t pages[3][512] __attribute__((aligned(4096)));
static volatile uint64_t region[4][512] __attribute__((aligned(16384)));
/* Code placed in data pages: "li a0, 0x123; ret". */
#define INSN_LI_A0_0x123 0x12300513u
#define INSN_RET 0x00008067u

static uint64_t load_from(uint64_t addr) { return *(volatile uint64_t *)(uintptr_t)addr; }
static uint64_t load_word(uint64_t addr) { return *(volatile uint32_t *)(uintptr_t)addr; }
static uint64_t store_to(uint64_t addr) { *(volatile uint64_t *)(uintptr_t)addr = 0x5a; return 0; }
static uint64_t call(uint64_t addr) { return ((uint64_t (*)(void))(uintptr_t)addr)(); }

/* Traps taken when mode `priv` runs fn(addr); each is skipped. */
static uint64_t traps(int priv, uint64_t (*fn)(uint64_t), uintptr_t addr)
{
    return EXPECT_TRAPS(rt_run_at((uint64_t)priv, fn, addr, 0));
}

static void put_code(volatile uint64_t *page)
{
    volatile uint32_t *w = (volatile uint32_t *)page;
    w[0] = INSN_LI_A0_0x123;
    w[1] = INSN_RET;
    asm volatile("fence.i" ::: "memory");
}

static void tor_region(void)
{
    /* Entry 1, TOR over pages[1]: bottom from pmpaddr0, read-only. */
    pmp_entry(0, 0, (uintptr_t)pages[1] >> 2);
    pmp_entry(1, PMP_TOR | PMP_R, (uintptr_t)pages[2] >> 2);
    uintptr_t p = (uintptr_t)pages[1];
    CHECK_EQ(1, traps(PRV_U, load_from, p), 0);
    CHECK_EQ(2, traps(PRV_S, load_from, p + 4088), 0);
    CHECK_EQ(3, traps(PRV_U, store_to, p + 8), 1);
    CHECK_EQ(4, rt_trap.cause, CAUSE_STORE_ACCESS);
    CHECK_EQ(5, rt_trap.tval, p + 8);
    CHECK_EQ(6, rt_trap.from, PRV_U);
    CHECK_EQ(7, traps(PRV_S, store_to, p), 1);
    CHECK_EQ(8, rt_trap.cause, CAUSE_STORE_ACCESS);
    CHECK_EQ(9, pages[1][0], 0);                                 /* not written */
    /* Outside the region (the pages on either side): entry 15 allows. */
    CHECK_EQ(10, traps(PRV_U, store_to, p - 8), 0);
    CHECK_EQ(11, traps(PRV_U, store_to, p + 4096), 0);
    /* Fetch: no X. */
    put_code(pages[1]);
    uint64_t r = rt_run_guarded(PRV_U, call, p, 0);
    CHECK_EQ(12, rt_trap.cause, CAUSE_FETCH_ACCESS);
    CHECK_EQ(13, rt_trap.tval, p);
    CHECK(14, r != 0x123);
    /* M is not bound by an unlocked entry. */
    CHECK_EQ(15, EXPECT_TRAPS(store_to(p + 16)), 0);
    CHECK_EQ(16, pages[1][2], 0x5a);
    /* With X added, U runs the code. */
    pmp_entry(1, PMP_TOR | PMP_R | PMP_X, (uintptr_t)pages[2] >> 2);
    CHECK_EQ(17, rt_run_guarded(PRV_U, call, p, 0), 0x123);
    pmp_entry(1, 0, 0);
    pmp_entry(0, 0, 0);
}

static void napot_priority_partial(void)
{
    uintptr_t r0 = (uintptr_t)region[0];
    /* Entry 3: the whole 16 KiB region RW. Entry 2: its second page,
     * nothing allowed. The lower number wins inside that page. */
    pmp_entry(3, PMP_NAPOT | PMP_R | PMP_W, napot(r0, 16384));
    pmp_entry(2, PMP_NAPOT, napot(r0 + 4096, 4096));
    CHECK_EQ(18, traps(PRV_U, store_to, r0), 0);
    CHECK_EQ(19, traps(PRV_U, load_from, r0 + 4096), 1);
    CHECK_EQ(20, rt_trap.cause, CAUSE_LOAD_ACCESS);
    CHECK_EQ(21, rt_trap.tval, r0 + 4096);
    CHECK_EQ(22, traps(PRV_S, load_from, r0 + 8192 - 8), 1);
    CHECK_EQ(23, traps(PRV_U, load_from, r0 + 8192), 0);
    CHECK_EQ(24, traps(PRV_U, store_to, r0 + 16384 - 8), 0);
    /* No X in entry 3 either. */
    put_code(region[3]);
    (void)rt_run_guarded(PRV_S, call, r0 + 3 * 4096, 0);
    CHECK_EQ(25, rt_trap.cause, CAUSE_FETCH_ACCESS);
    /* An access with bytes on both sides of entry 2's boundary: entry 2
     * is the lowest matching any byte and does not match them all, so it
     * fails although the other bytes' entry would allow it (3.7.1). */
    CHECK_EQ(26, traps(PRV_U, load_from, r0 + 4096 - 4), 1);
    CHECK_EQ(27, rt_trap.cause, CAUSE_LOAD_ACCESS);
    pmp_entry(2, 0, 0);
    pmp_entry(3, 0, 0);
    /* Partial matching where every byte is allowed by some entry: entry 2
     * is NA4 (4 bytes, RW) and an aligned doubleword load covers it and
     * the next 4 bytes, which only entry 15 matches. The access fails.
     * (A misaligned access across entries would not show this: the spec
     * lets an implementation split it into parts checked separately.) */
    uintptr_t word = (uintptr_t)&region[1][8];
    pmp_entry(2, 0x10 | PMP_R | PMP_W, word >> 2);               /* A = NA4 */
    CHECK_EQ(28, traps(PRV_U, load_from, word), 1);
    CHECK_EQ(29, rt_trap.cause, CAUSE_LOAD_ACCESS);
    CHECK_EQ(30, rt_trap.tval, word);
    CHECK_EQ(31, traps(PRV_S, store_to, word), 1);
    CHECK_EQ(32, rt_trap.cause, CAUSE_STORE_ACCESS);
    CHECK_EQ(33, EXPECT_TRAPS(rt_run_at(PRV_U, load_word, word, 0)), 0);
    CHECK_EQ(34, EXPECT_TRAPS(rt_run_at(PRV_U, load_word, word + 4, 0)), 0);
    CHECK_EQ(35, traps(PRV_U, load_from, word + 8), 0);
    pmp_entry(2, 0, 0);
}

static void default_deny(void)
{
    /* Entries 0 (TOR from 0) and 2 (TOR from pmpaddr1) cover everything
     * except pages[0]; entry 15 off. Nothing matches pages[0]: S and U
     * fail there, M succeeds (3.7.1). */
    uintptr_t hole = (uintptr_t)pages[0];
    pmp_entry(0, PMP_TOR | PMP_R | PMP_W | PMP_X, hole >> 2);
    pmp_entry(1, 0, (hole + 4096) >> 2);
    pmp_entry(2, PMP_TOR | PMP_R | PMP_W | PMP_X, UINT64_MAX >> 10);
    pmpcfg_write(15, 0);
    sfence_vma_all();
    CHECK_EQ(36, traps(PRV_U, load_from, hole + 64), 1);
    CHECK_EQ(37, rt_trap.cause, CAUSE_LOAD_ACCESS);
    CHECK_EQ(38, rt_trap.tval, hole + 64);
    CHECK_EQ(39, traps(PRV_S, store_to, hole), 1);
    CHECK_EQ(40, rt_trap.cause, CAUSE_STORE_ACCESS);
    CHECK_EQ(41, traps(PRV_U, load_from, hole + 4096), 0);
    CHECK_EQ(42, traps(PRV_U, load_from, hole - 8), 0);
    CHECK_EQ(43, EXPECT_TRAPS(store_to(hole)), 0);
    CHECK_EQ(44, pages[0][0], 0x5a);
    /* Back to the runtime's set-up: entry 15 allows everything. */
    pmpcfg_write(15, PMP_NAPOT | PMP_R | PMP_W | PMP_X);
    pmp_entry(2, 0, 0);
    pmp_entry(1, 0, 0);
    pmp_entry(0, 0, 0);
}

static void locked(void)
{
    /* Entry 1 locked, TOR over pages[2], read-only: binds M as well. */
    uintptr_t p = (uintptr_t)pages[2];
    pages[2][1] = 77;
    put_code(pages[2]);
    pmp_entry(0, 0, p >> 2);
    pmp_entry(1, PMP_L | PMP_TOR | PMP_R, (p + 4096) >> 2);
    uint64_t v = 0;
    CHECK_EQ(45, EXPECT_TRAPS(v = load_from(p + 8)), 0);
    CHECK_EQ(46, v, 77);
    CHECK_EQ(47, EXPECT_TRAPS(store_to(p + 8)), 1);
    CHECK_EQ(48, rt_trap.cause, CAUSE_STORE_ACCESS);
    CHECK_EQ(49, rt_trap.tval, p + 8);
    CHECK_EQ(50, pages[2][1], 77);
    CHECK_EQ(51, EXPECT_TRAPS(rt_try_jump(p, 0)), 1);
    CHECK_EQ(52, rt_trap.cause, CAUSE_FETCH_ACCESS);
    CHECK_EQ(53, rt_trap.epc, p);
    /* Frozen: writes to the locked entry and to the address register its
     * TOR range starts from are ignored (3.7.1.1). */
    pmpcfg_write(1, PMP_TOR | PMP_R | PMP_W | PMP_X);
    CHECK_EQ(54, pmpcfg_read(1), PMP_L | PMP_TOR | PMP_R);
    csr_write(pmpaddr1, 0);
    CHECK_EQ(55, pmpaddr_read(1), (p + 4096) >> 2);
    csr_write(pmpaddr0, 0);
    CHECK_EQ(56, pmpaddr_read(0), p >> 2);
    CHECK_EQ(57, EXPECT_TRAPS(store_to(p + 8)), 1);
    /* Pages around it are unaffected. */
    CHECK_EQ(58, EXPECT_TRAPS(store_to(p - 8)), 0);
    CHECK_EQ(59, traps(PRV_U, store_to, p + 4096), 0);
}

int main(void)
{
    tor_region();
    napot_priority_partial();
    default_deny();
    locked();
    pass();
}
