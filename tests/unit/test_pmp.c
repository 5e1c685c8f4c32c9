/* PMP address matching, priority and permission rules (privileged spec 1.12,
 * section 3.7). Expected answers come from the spec's tables, not from the
 * implementation. */
#include "check.h"
#include "mmu/mmu.h"

/* NAPOT encoding of a naturally aligned power-of-two region of at least
 * 8 bytes (table 3.9): pmpaddr = (base + size/2 - 1) >> 2. */
static uint64_t napot(uint64_t base, uint64_t size)
{
    return (base + size / 2 - 1) >> 2;
}

static void set_entry(struct pmp_state *p, unsigned i, uint8_t cfg, uint64_t pmpaddr)
{
    p->cfg[i] = cfg;
    p->addr[i] = pmpaddr;
}

static const struct pmp_state empty;

static void test_default_rules(void)
{
    struct pmp_state p = empty;
    /* No entry matches: M succeeds, S and U fail because entries exist. */
    CHECK(pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_M));
    CHECK(pmp_check(&p, 0x80000000, 8, ACCESS_WRITE, PRIV_M));
    CHECK(pmp_check(&p, 0x80000000, 4, ACCESS_EXEC, PRIV_M));
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_WRITE, PRIV_U));
    CHECK(!pmp_check(&p, 0x80000000, 4, ACCESS_EXEC, PRIV_U));

    /* An entry elsewhere changes nothing for this address. */
    set_entry(&p, 0, PMP_A_NAPOT | PMP_R | PMP_W | PMP_X, napot(0x10000000, 0x1000));
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_M));
    CHECK(pmp_check(&p, 0x10000ff8, 8, ACCESS_READ, PRIV_S));
}

static void test_tor(void)
{
    struct pmp_state p = empty;
    /* Entry 0 TOR: [0, 0x1000), bottom is 0 for entry 0. */
    set_entry(&p, 0, PMP_A_TOR | PMP_R, 0x1000 >> 2);
    /* Entry 1 TOR: [0x1000, 0x3000). */
    set_entry(&p, 1, PMP_A_TOR | PMP_R | PMP_W, 0x3000 >> 2);

    CHECK(pmp_check(&p, 0x0, 8, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&p, 0xff8, 8, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0xff8, 8, ACCESS_WRITE, PRIV_S));
    CHECK(pmp_check(&p, 0x1000, 8, ACCESS_WRITE, PRIV_S));
    CHECK(pmp_check(&p, 0x2ff8, 8, ACCESS_WRITE, PRIV_U));
    CHECK(!pmp_check(&p, 0x2ff8, 4, ACCESS_EXEC, PRIV_U));
    CHECK(!pmp_check(&p, 0x3000, 1, ACCESS_READ, PRIV_S));     /* top is exclusive */
    CHECK(pmp_check(&p, 0x2fff, 1, ACCESS_READ, PRIV_S));

    /* A TOR entry whose bottom is not below its top matches nothing. */
    struct pmp_state q = empty;
    set_entry(&q, 0, PMP_A_OFF, 0x5000 >> 2);
    set_entry(&q, 1, PMP_A_TOR | PMP_R, 0x4000 >> 2);
    CHECK(!pmp_check(&q, 0x4800, 4, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&q, 0x3000, 4, ACCESS_READ, PRIV_S));
    /* An OFF entry's address still serves as the bottom of the next TOR. */
    set_entry(&q, 0, PMP_A_OFF, 0x2000 >> 2);
    CHECK(pmp_check(&q, 0x3000, 4, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&q, 0x1ffc, 4, ACCESS_READ, PRIV_S));

    /* Entry 0 TOR with pmpaddr0 = 0 matches nothing. */
    struct pmp_state z = empty;
    set_entry(&z, 0, PMP_A_TOR | PMP_R | PMP_L, 0);
    CHECK(pmp_check(&z, 0, 4, ACCESS_WRITE, PRIV_M));
}

static void test_na4(void)
{
    struct pmp_state p = empty;
    set_entry(&p, 0, PMP_A_NA4 | PMP_R, 0x80000010 >> 2);
    CHECK(pmp_check(&p, 0x80000010, 4, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&p, 0x80000013, 1, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x80000014, 1, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x8000000c, 4, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x80000010, 4, ACCESS_WRITE, PRIV_S));
    /* An 8-byte access covers the 4 bytes and 4 more: partial match fails,
     * for M-mode as well. */
    CHECK(!pmp_check(&p, 0x80000010, 8, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x80000010, 8, ACCESS_READ, PRIV_M));
    CHECK(!pmp_check(&p, 0x8000000c, 8, ACCESS_READ, PRIV_M));
}

static void test_napot(void)
{
    struct pmp_state p = empty;
    /* 64 KiB at 0x80000000: pmpaddr = 0x20000000 | 0x1fff. */
    CHECK_EQ(napot(0x80000000, 0x10000), 0x20001fff);
    set_entry(&p, 0, PMP_A_NAPOT | PMP_R | PMP_X, napot(0x80000000, 0x10000));
    CHECK(pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&p, 0x8000fff8, 8, ACCESS_READ, PRIV_U));
    CHECK(pmp_check(&p, 0x8000fffc, 4, ACCESS_EXEC, PRIV_S));
    CHECK(!pmp_check(&p, 0x80010000, 1, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x7ffffffc, 4, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_WRITE, PRIV_S));
    CHECK(!pmp_check(&p, 0x8000fffc, 8, ACCESS_READ, PRIV_S));   /* crosses the end */

    /* The smallest NAPOT region: 8 bytes, pmpaddr ending in 0. */
    struct pmp_state q = empty;
    CHECK_EQ(napot(0x1008, 8), 0x1008 >> 2);
    set_entry(&q, 0, PMP_A_NAPOT | PMP_W | PMP_R, napot(0x1008, 8));
    CHECK(pmp_check(&q, 0x1008, 8, ACCESS_WRITE, PRIV_S));
    CHECK(!pmp_check(&q, 0x1010, 1, ACCESS_WRITE, PRIV_S));
    CHECK(!pmp_check(&q, 0x1007, 1, ACCESS_WRITE, PRIV_S));

    /* All 54 pmpaddr bits set: the whole physical address space. */
    struct pmp_state all = empty;
    set_entry(&all, 0, PMP_A_NAPOT | PMP_R, (1ull << 54) - 1);
    CHECK(pmp_check(&all, 0, 8, ACCESS_READ, PRIV_U));
    CHECK(pmp_check(&all, 0x00fffffffffffff8ull, 8, ACCESS_READ, PRIV_U));
    CHECK(!pmp_check(&all, 0x80000000, 8, ACCESS_WRITE, PRIV_U));
    /* Bits above the 54 that pmpaddr holds are not part of the address. */
    set_entry(&all, 0, PMP_A_NAPOT | PMP_R, UINT64_MAX);
    CHECK(pmp_check(&all, 0x00fffffffffffff8ull, 8, ACCESS_READ, PRIV_U));
    set_entry(&all, 0, PMP_A_NA4 | PMP_R, (1ull << 62) | (0x1000 >> 2));
    CHECK(pmp_check(&all, 0x1000, 4, ACCESS_READ, PRIV_U));
}

static void test_priority(void)
{
    struct pmp_state p = empty;
    /* Entry 0: 4 KiB, no permissions. Entry 1: 1 MiB around it, RWX.
     * The lowest-numbered match decides. */
    set_entry(&p, 0, PMP_A_NAPOT, napot(0x80001000, 0x1000));
    set_entry(&p, 1, PMP_A_NAPOT | PMP_R | PMP_W | PMP_X, napot(0x80000000, 0x100000));
    CHECK(!pmp_check(&p, 0x80001000, 8, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&p, 0x80000ff8, 8, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&p, 0x80002000, 8, ACCESS_WRITE, PRIV_S));
    /* M ignores the unlocked entry 0's missing permissions. */
    CHECK(pmp_check(&p, 0x80001000, 8, ACCESS_WRITE, PRIV_M));

    /* Swapped order: the big RWX entry is first and wins. */
    struct pmp_state q = empty;
    set_entry(&q, 0, PMP_A_NAPOT | PMP_R | PMP_W | PMP_X, napot(0x80000000, 0x100000));
    set_entry(&q, 1, PMP_A_NAPOT, napot(0x80001000, 0x1000));
    CHECK(pmp_check(&q, 0x80001000, 8, ACCESS_READ, PRIV_S));

    /* Partial match of the deciding entry fails even if a later entry
     * covers the rest: an 8-byte access straddling the end of entry 0. */
    struct pmp_state r = empty;
    set_entry(&r, 0, PMP_A_TOR | PMP_R | PMP_W, 0x2000 >> 2);
    set_entry(&r, 1, PMP_A_TOR | PMP_R | PMP_W, 0x3000 >> 2);
    CHECK(!pmp_check(&r, 0x1ffc, 8, ACCESS_READ, PRIV_S));
    CHECK(!pmp_check(&r, 0x1ffc, 8, ACCESS_READ, PRIV_M));
    CHECK(pmp_check(&r, 0x1ff8, 8, ACCESS_READ, PRIV_S));
    CHECK(pmp_check(&r, 0x2000, 8, ACCESS_READ, PRIV_S));
}

static void test_locked(void)
{
    struct pmp_state p = empty;
    set_entry(&p, 0, PMP_A_NAPOT | PMP_L, napot(0x80000000, 0x1000));
    set_entry(&p, 1, PMP_A_NAPOT | PMP_L | PMP_R, napot(0x80001000, 0x1000));
    set_entry(&p, 2, PMP_A_NAPOT | PMP_L | PMP_R | PMP_X, napot(0x80002000, 0x1000));
    /* Locked entries bind M-mode. */
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_M));
    CHECK(pmp_check(&p, 0x80001000, 8, ACCESS_READ, PRIV_M));
    CHECK(!pmp_check(&p, 0x80001000, 8, ACCESS_WRITE, PRIV_M));
    CHECK(!pmp_check(&p, 0x80001000, 4, ACCESS_EXEC, PRIV_M));
    CHECK(pmp_check(&p, 0x80002000, 4, ACCESS_EXEC, PRIV_M));
    CHECK(!pmp_check(&p, 0x80002000, 4, ACCESS_WRITE, PRIV_M));
    /* And S/U exactly as unlocked ones. */
    CHECK(pmp_check(&p, 0x80001000, 8, ACCESS_READ, PRIV_U));
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_READ, PRIV_S));
    /* Unlocked, the same entry does not restrict M. */
    p.cfg[0] &= (uint8_t)~PMP_L;
    CHECK(pmp_check(&p, 0x80000000, 8, ACCESS_WRITE, PRIV_M));
    CHECK(!pmp_check(&p, 0x80000000, 8, ACCESS_WRITE, PRIV_S));
}

static void test_page_perms(void)
{
    struct pmp_state p = empty;
    /* Entry 0: the first half of page 0x80000000, R only.
     * Entry 1: 1 MiB from 0x80000000, R/W. Entry 2: 0x80100000.. locked R. */
    set_entry(&p, 0, PMP_A_NAPOT | PMP_R, napot(0x80000000, 0x800));
    set_entry(&p, 1, PMP_A_NAPOT | PMP_R | PMP_W, napot(0x80000000, 0x100000));
    set_entry(&p, 2, PMP_A_NAPOT | PMP_R | PMP_L, napot(0x80100000, 0x100000));

    /* A page wholly inside entry 1 and touched by no earlier entry. */
    CHECK_EQ(pmp_page_perms(&p, 0x80001000, PRIV_S), PMP_R | PMP_W);
    CHECK_EQ(pmp_page_perms(&p, 0x80001000, PRIV_U), PMP_R | PMP_W);
    CHECK_EQ(pmp_page_perms(&p, 0x80001000, PRIV_M), PMP_R | PMP_W | PMP_X);
    /* The page that entry 0 covers only half of: nothing is cacheable. */
    CHECK_EQ(pmp_page_perms(&p, 0x80000000, PRIV_S), 0);
    CHECK_EQ(pmp_page_perms(&p, 0x80000000, PRIV_M), 0);
    /* Locked entry: M is bound by it. */
    CHECK_EQ(pmp_page_perms(&p, 0x80100000, PRIV_M), PMP_R);
    CHECK_EQ(pmp_page_perms(&p, 0x801ff000, PRIV_S), PMP_R);
    /* Nothing matches: M all, S/U nothing. */
    CHECK_EQ(pmp_page_perms(&p, 0x90000000, PRIV_M), PMP_R | PMP_W | PMP_X);
    CHECK_EQ(pmp_page_perms(&p, 0x90000000, PRIV_S), 0);

    /* A page straddling two entries gets nothing even if both allow all. */
    struct pmp_state q = empty;
    set_entry(&q, 0, PMP_A_TOR | PMP_R | PMP_W | PMP_X, 0x80000800 >> 2);
    set_entry(&q, 1, PMP_A_TOR | PMP_R | PMP_W | PMP_X, 0x80002000 >> 2);
    CHECK_EQ(pmp_page_perms(&q, 0x80000000, PRIV_S), 0);
    CHECK_EQ(pmp_page_perms(&q, 0x80001000, PRIV_S), PMP_R | PMP_W | PMP_X);
    /* Just above both entries: no match, the defaults apply. */
    CHECK_EQ(pmp_page_perms(&q, 0x80002000, PRIV_S), 0);
    CHECK_EQ(pmp_page_perms(&q, 0x80002000, PRIV_M), PMP_R | PMP_W | PMP_X);
    /* A page half covered by an unlocked entry, half by nothing: M may do
     * anything on either half, but an access crossing the entry's end is a
     * partial match and fails, so the page must not be cached. */
    struct pmp_state r = empty;
    set_entry(&r, 0, PMP_A_TOR | PMP_R, 0x80000800 >> 2);
    CHECK_EQ(pmp_page_perms(&r, 0x80000000, PRIV_M), 0);
}

int main(void)
{
    test_default_rules();
    test_tor();
    test_na4();
    test_napot();
    test_priority();
    test_locked();
    test_page_perms();
    return check_summary();
}
