/* The Sv39/Sv48 page walker against the rules of privileged spec 1.12,
 * sections 4.3 to 4.5. Page tables are built by hand in a small guest RAM;
 * the expected answers are computed here from the spec's rules, written
 * independently of the walker. */
#include <pthread.h>
#include "check.h"
#include "mmu/mmu.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (16ull << 20)
#define TABLE_AREA (RAM_BASE + (8ull << 20))   /* page tables live here */

static struct guest_mem mem;
static uint64_t next_table = TABLE_AREA;

/* ------------------------------------------------------------ helpers */

static uint64_t new_table(void)
{
    uint64_t pa = next_table;
    next_table += PAGE_SIZE;
    if (next_table > RAM_BASE + RAM_SIZE)
        next_table = TABLE_AREA;   /* never reached by these tests */
    memset(mem_ram_ptr(&mem, pa), 0, PAGE_SIZE);
    return pa;
}

static uint64_t peek(uint64_t pa)
{
    return ram_load(mem_ram_ptr(&mem, pa), 8);
}

static void poke(uint64_t pa, uint64_t v)
{
    ram_store(mem_ram_ptr(&mem, pa), 8, v);
}

/* PTE layout (4.4.1): PPN in bits 53:10, flags in 7:0. */
static uint64_t pte_to(uint64_t pa, uint64_t flags)
{
    return ((pa >> 12) << 10) | flags;
}

static uint64_t satp_of(uint64_t mode, uint64_t root)
{
    return (mode << 60) | (root >> 12);
}

/* VPN[i] is 9 bits starting at bit 12 + 9i (figures 4.18 and 4.21). */
static uint64_t vpn(uint64_t va, unsigned i)
{
    return (va >> (12 + 9 * i)) & 0x1ff;
}

/* Install a leaf for va at leaf_level under root (levels deep), creating
 * pointer PTEs as needed. Returns the leaf PTE's address. */
static uint64_t map(uint64_t root, unsigned levels, uint64_t va, unsigned leaf_level,
                    uint64_t pa, uint64_t flags)
{
    uint64_t table = root;
    for (unsigned i = levels - 1; i > leaf_level; i--) {
        uint64_t slot = table + vpn(va, i) * 8;
        uint64_t pte = peek(slot);
        if (!(pte & PTE_V)) {
            pte = pte_to(new_table(), PTE_V);
            poke(slot, pte);
        }
        table = (pte >> 10) << 12;
    }
    uint64_t leaf = table + vpn(va, leaf_level) * 8;
    poke(leaf, pte_to(pa, flags));
    return leaf;
}

static struct walk_result walk(uint64_t satp, enum priv priv, enum access access,
                               uint64_t va, const struct pmp_state *pmp)
{
    struct walk_request req = { .satp = satp, .priv = priv, .access = access, .pmp = pmp };
    struct walk_result r;
    mmu_walk(&mem, &req, va, &r);
    return r;
}

#define LEAF_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

/* ------------------------------------------------------ translation */

static void test_bare_and_machine(void)
{
    struct walk_result r = walk(0, PRIV_S, ACCESS_READ, 0x1234, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x1234);
    CHECK_EQ(r.perms, PTE_R | PTE_W | PTE_X);
    CHECK_EQ(r.depth, 0);

    /* M-mode ignores satp: even a non-canonical Sv39 address passes. */
    uint64_t root = new_table();
    r = walk(satp_of(SATP_MODE_SV39, root), PRIV_M, ACCESS_WRITE, 0x0000004000000123ull, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x0000004000000123ull);
    CHECK_EQ(r.depth, 0);
}

static void test_sv39_levels(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);

    /* 4 KiB page. */
    uint64_t va4k = 0x0000001234567abcull;
    uint64_t leaf = map(root, 3, va4k, 0, 0x87654000, LEAF_RWX);
    struct walk_result r = walk(satp, PRIV_S, ACCESS_READ, va4k, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x87654abc);
    CHECK_EQ(r.level, 0);
    CHECK_EQ(r.depth, 3);
    CHECK_EQ(r.pte_addr, leaf);
    CHECK_EQ(r.pte, pte_to(0x87654000, LEAF_RWX));
    /* path[]: every PTE read, root first (4.3.2 steps 1-2). */
    uint64_t l1 = (peek(root + vpn(va4k, 2) * 8) >> 10) << 12;
    uint64_t l0 = (peek(l1 + vpn(va4k, 1) * 8) >> 10) << 12;
    CHECK_EQ(r.path[0], root + 0x48 * 8);        /* VPN[2] of 0x1234567abc = 0x48 */
    CHECK_EQ(r.path[1], l1 + 0x1a2 * 8);         /* VPN[1] = 0x1a2 */
    CHECK_EQ(r.path[2], l0 + 0x167 * 8);         /* VPN[0] = 0x167 */
    CHECK_EQ(r.path[2], leaf);
    CHECK_EQ(r.perms, PTE_R | PTE_W | PTE_X);

    /* 2 MiB megapage: the low 21 bits of va pass through. */
    uint64_t va2m = 0x0000000040312345ull;
    leaf = map(root, 3, va2m, 1, 0x80600000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_WRITE, va2m, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x80712345);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(r.depth, 2);
    CHECK_EQ(r.pte_addr, leaf);

    /* 1 GiB gigapage. */
    uint64_t va1g = 0x0000000141234567ull;
    leaf = map(root, 3, va1g, 2, 0xc0000000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_EXEC, va1g, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0xc1234567);
    CHECK_EQ(r.level, 2);
    CHECK_EQ(r.depth, 1);
    CHECK_EQ(r.path[0], root + 5 * 8);
    CHECK_EQ(r.pte_addr, leaf);

    /* Upper half: VPN[2] = 256 for 0xffffffc0_00000000 and up. */
    uint64_t vahi = 0xffffffc000001000ull;
    map(root, 3, vahi, 2, 0x80000000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_READ, vahi + 0x10, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x80001010);
    CHECK_EQ(r.path[0], root + 256 * 8);
}

static void test_sv48_levels(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV48, root);

    uint64_t va4k = 0x0000123456789defull;
    uint64_t leaf = map(root, 4, va4k, 0, 0x8000a000, LEAF_RWX);
    struct walk_result r = walk(satp, PRIV_S, ACCESS_READ, va4k, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x8000adef);
    CHECK_EQ(r.level, 0);
    CHECK_EQ(r.depth, 4);
    CHECK_EQ(r.path[0], root + 0x24 * 8);        /* VPN[3] of 0x123456789def = 0x24 */
    CHECK_EQ(r.path[3], leaf);

    uint64_t va2m = 0x0000000000abcdefull;
    map(root, 4, va2m, 1, 0x80200000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_READ, va2m, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x802bcdef);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(r.depth, 3);

    uint64_t va1g = 0x0000008040000123ull;
    map(root, 4, va1g, 2, 0x40000000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_READ, va1g, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x40000123);
    CHECK_EQ(r.level, 2);
    CHECK_EQ(r.depth, 2);

    /* 512 GiB terapage: VPN[3] = 3, the low 39 bits pass through. */
    uint64_t va512g = 0x0000018012345678ull;
    leaf = map(root, 4, va512g, 3, 0x0000010000000000ull, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_READ, va512g, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x0000010012345678ull);
    CHECK_EQ(r.level, 3);
    CHECK_EQ(r.depth, 1);
    CHECK_EQ(r.path[0], root + 3 * 8);
    CHECK_EQ(r.pte_addr, leaf);

    /* Bits 38..47 are meaningful under Sv48: 0x40_0000_0000 is canonical. */
    map(root, 4, 0x0000004000000000ull, 0, 0x80003000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_READ, 0x0000004000000008ull, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x80003008);

    /* Upper half of Sv48. */
    map(root, 4, 0xffff800000000000ull, 0, 0x80004000, LEAF_RWX);
    r = walk(satp, PRIV_S, ACCESS_READ, 0xffff800000000ff8ull, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x80004ff8);
    CHECK_EQ(r.path[0], root + 256 * 8);
}

/* ------------------------------------------------------ permissions */

/* The spec's leaf permission rules (4.3.1, 3.1.6.3, 4.3.2 steps 3-5),
 * restated: is this access allowed by a leaf with these bits, A=D=1? */
static bool spec_allows(bool r, bool w, bool x, bool u, enum priv priv, bool sum, bool mxr,
                        enum access access)
{
    if (w && !r)
        return false;               /* reserved encoding */
    if (!r && !x)
        return false;               /* a pointer at level 0 */
    if (priv == PRIV_U && !u)
        return false;               /* U-mode needs U=1 */
    if (priv == PRIV_S && u) {
        if (access == ACCESS_EXEC)
            return false;           /* S never executes U pages */
        if (!sum)
            return false;           /* S data access to U pages needs SUM */
    }
    if (access == ACCESS_READ)
        return r || (mxr && x);
    if (access == ACCESS_WRITE)
        return w;
    return x;
}

static void permission_table(uint64_t mode, unsigned levels, unsigned leaf_level, uint64_t va)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(mode, root);
    uint64_t target = 0x80000000ull;
    uint64_t leaf = map(root, levels, va, leaf_level, target, LEAF_RWX);
    static const enum priv privs[] = { PRIV_U, PRIV_S };
    static const enum access accesses[] = { ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC };
    static const unsigned access_bit[] = { PTE_R, PTE_W, PTE_X };

    for (unsigned bits = 0; bits < 16; bits++) {
        bool r = bits & 1, w = bits & 2, x = bits & 4, u = bits & 8;
        uint64_t flags = PTE_V | PTE_A | PTE_D | (r ? PTE_R : 0) | (w ? PTE_W : 0) |
                         (x ? PTE_X : 0) | (u ? PTE_U : 0);
        for (unsigned p = 0; p < 2; p++)
            for (unsigned cfg = 0; cfg < 4; cfg++) {
                bool sum = cfg & 1, mxr = cfg & 2;
                unsigned want_perms = 0;
                for (unsigned a = 0; a < 3; a++)
                    if (spec_allows(r, w, x, u, privs[p], sum, mxr, accesses[a]))
                        want_perms |= access_bit[a];
                for (unsigned a = 0; a < 3; a++) {
                    poke(leaf, pte_to(target, flags));
                    struct walk_request req = { .satp = satp, .priv = privs[p], .sum = sum,
                                                .mxr = mxr, .access = accesses[a] };
                    struct walk_result res;
                    mmu_walk(&mem, &req, va, &res);
                    bool ok = spec_allows(r, w, x, u, privs[p], sum, mxr, accesses[a]);
                    if ((res.status == WALK_OK) != ok)
                        fprintf(stderr, "mode %u leaf level %u rwxu=%u priv=%u sum=%d mxr=%d access=%u\n",
                                (unsigned)mode, leaf_level, bits, (unsigned)privs[p], sum, mxr, a);
                    CHECK_EQ(res.status, ok ? WALK_OK : WALK_PAGE_FAULT);
                    if (ok) {
                        CHECK_EQ(res.pa, target + (va & ((1ull << (12 + 9 * leaf_level)) - 1)));
                        CHECK_EQ(res.perms, want_perms);
                    } else {
                        CHECK_EQ(res.perms, 0);
                    }
                }
            }
    }
}

static void test_permissions(void)
{
    permission_table(SATP_MODE_SV39, 3, 0, 0x0000000012345678ull);
    permission_table(SATP_MODE_SV39, 3, 1, 0x0000003fffe00000ull + 0x1234);
    permission_table(SATP_MODE_SV48, 4, 2, 0x00007fffc0000000ull + 0x2345678);
}

/* -------------------------------------------------- malformed tables */

static void test_reserved_encodings(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);
    uint64_t va = 0x0000000000401000ull;
    uint64_t leaf = map(root, 3, va, 0, 0x80010000, LEAF_RWX);
    uint64_t ptr1 = root + vpn(va, 2) * 8;
    uint64_t good_ptr = peek(ptr1);

    /* W without R is reserved (4.3.1): on a leaf... */
    poke(leaf, pte_to(0x80010000, PTE_V | PTE_W | PTE_A | PTE_D));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_WRITE, va, NULL).status, WALK_PAGE_FAULT);
    poke(leaf, pte_to(0x80010000, PTE_V | PTE_W | PTE_X | PTE_A | PTE_D));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_EXEC, va, NULL).status, WALK_PAGE_FAULT);
    /* ...and where a pointer would be. */
    poke(leaf, pte_to(0x80010000, LEAF_RWX));
    poke(ptr1, good_ptr | PTE_W);
    struct walk_result r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(r.status, WALK_PAGE_FAULT);
    CHECK_EQ(r.depth, 1);
    poke(ptr1, good_ptr);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_OK);

    /* V=0 anywhere. */
    poke(ptr1, good_ptr & ~(uint64_t)PTE_V);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
    poke(ptr1, good_ptr);
    poke(leaf, pte_to(0x80010000, LEAF_RWX & ~PTE_V));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);

    /* Bits 63:54 (reserved, PBMT, N) must be zero: umbra has neither Svpbmt
     * nor Svnapot, so each is a page fault (4.4.1), in a leaf or a pointer. */
    for (unsigned bit = 54; bit < 64; bit++) {
        poke(leaf, pte_to(0x80010000, LEAF_RWX) | (1ull << bit));
        CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
        poke(leaf, pte_to(0x80010000, LEAF_RWX));
        poke(ptr1, good_ptr | (1ull << bit));
        CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
        poke(ptr1, good_ptr);
    }
    /* The two RSW bits (9:8) and G are not reserved: they are ignored. */
    poke(leaf, pte_to(0x80010000, LEAF_RWX | PTE_G) | (3ull << 8));
    r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x80010000);

    /* A pointer PTE at level 0 (R=W=X=0) is a page fault. */
    poke(leaf, pte_to(0x80010000, PTE_V | PTE_A | PTE_D));
    r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(r.status, WALK_PAGE_FAULT);
    CHECK_EQ(r.depth, 3);
}

static void test_misaligned_superpage(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);

    /* 2 MiB leaf whose PPN[0] is not zero (4.3.2 step 6). */
    uint64_t va = 0x0000000000600000ull;
    uint64_t leaf = map(root, 3, va, 1, 0x80201000, LEAF_RWX);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
    poke(leaf, pte_to(0x80200000, LEAF_RWX));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_OK);

    /* 1 GiB leaf with PPN[1] or PPN[0] not zero. */
    va = 0x0000000080000000ull;
    leaf = map(root, 3, va, 2, 0x80200000, LEAF_RWX);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
    poke(leaf, pte_to(0x80001000, LEAF_RWX));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
    poke(leaf, pte_to(0x80000000, LEAF_RWX));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_OK);

    /* Sv48 512 GiB leaf with PPN[2] not zero. */
    uint64_t root48 = new_table();
    leaf = map(root48, 4, 0, 3, 0x80000000, LEAF_RWX);
    CHECK_EQ(walk(satp_of(SATP_MODE_SV48, root48), PRIV_S, ACCESS_READ, 0, NULL).status,
             WALK_PAGE_FAULT);
    poke(leaf, pte_to(0, LEAF_RWX));
    CHECK_EQ(walk(satp_of(SATP_MODE_SV48, root48), PRIV_S, ACCESS_READ, 0x1234, NULL).pa, 0x1234);
}

static void test_non_canonical(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);
    /* VPN[2] = 256 maps 0xffffffc0_00000000; 0x40_00000000 has the same
     * VPN[2] but bits 63:39 do not copy bit 38, so it must fault (4.4.1). */
    map(root, 3, 0xffffffc000000000ull, 2, 0x80000000, LEAF_RWX);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, 0xffffffc000000000ull, NULL).status, WALK_OK);
    struct walk_result r = walk(satp, PRIV_S, ACCESS_READ, 0x0000004000000000ull, NULL);
    CHECK_EQ(r.status, WALK_PAGE_FAULT);
    CHECK_EQ(walk(satp, PRIV_U, ACCESS_EXEC, 0x8000000000000000ull, NULL).status, WALK_PAGE_FAULT);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_WRITE, 0xffffff8000000000ull, NULL).status, WALK_PAGE_FAULT);
    map(root, 3, 0, 2, 0x80000000, LEAF_RWX);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, 0x0100000000000000ull, NULL).status, WALK_PAGE_FAULT);

    uint64_t root48 = new_table();
    uint64_t satp48 = satp_of(SATP_MODE_SV48, root48);
    map(root48, 4, 0xffff800000000000ull, 3, 0, LEAF_RWX);
    CHECK_EQ(walk(satp48, PRIV_S, ACCESS_READ, 0xffff800000000000ull, NULL).status, WALK_OK);
    CHECK_EQ(walk(satp48, PRIV_S, ACCESS_READ, 0x0000800000000000ull, NULL).status, WALK_PAGE_FAULT);
    CHECK_EQ(walk(satp48, PRIV_S, ACCESS_READ, 0xfff0800000000000ull, NULL).status, WALK_PAGE_FAULT);
}

/* --------------------------------------------------------------- A/D */

static void test_accessed_dirty(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);
    uint64_t va = 0x0000000000800000ull;
    const uint64_t rw = PTE_V | PTE_R | PTE_W;
    uint64_t leaf = map(root, 3, va, 0, 0x80020000, rw);
    uint64_t ptr = root + vpn(va, 2) * 8;
    uint64_t ptr_before = peek(ptr);

    /* A load sets A only; the cache may not write until D is set. */
    struct walk_result r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, rw | PTE_A));
    CHECK_EQ(r.pte, pte_to(0x80020000, rw | PTE_A));
    CHECK_EQ(r.perms, PTE_R);
    /* A store then sets D. */
    r = walk(satp, PRIV_S, ACCESS_WRITE, va, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, rw | PTE_A | PTE_D));
    CHECK_EQ(r.perms, PTE_R | PTE_W);
    /* Pointer PTEs are never touched. */
    CHECK_EQ(peek(ptr), ptr_before);

    /* A first store sets A and D together. */
    poke(leaf, pte_to(0x80020000, rw));
    r = walk(satp, PRIV_S, ACCESS_WRITE, va, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, rw | PTE_A | PTE_D));

    /* A fetch sets A. */
    poke(leaf, pte_to(0x80020000, PTE_V | PTE_X));
    r = walk(satp, PRIV_S, ACCESS_EXEC, va, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, PTE_V | PTE_X | PTE_A));
    CHECK_EQ(r.perms, PTE_X);

    /* Faulting accesses leave the PTE alone: a store to a read-only page,
     * a U-mode load of an S page, a load of a U page without SUM. */
    poke(leaf, pte_to(0x80020000, PTE_V | PTE_R));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_WRITE, va, NULL).status, WALK_PAGE_FAULT);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, PTE_V | PTE_R));
    CHECK_EQ(walk(satp, PRIV_U, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, PTE_V | PTE_R));
    poke(leaf, pte_to(0x80020000, PTE_V | PTE_R | PTE_U));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, NULL).status, WALK_PAGE_FAULT);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, PTE_V | PTE_R | PTE_U));
    /* A misaligned superpage does not get A either. */
    uint64_t va2m = 0x0000000000c00000ull;
    uint64_t leaf2m = map(root, 3, va2m, 1, 0x80001000, PTE_V | PTE_R);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va2m, NULL).status, WALK_PAGE_FAULT);
    CHECK_EQ(peek(leaf2m), pte_to(0x80001000, PTE_V | PTE_R));

    /* A already set, D clear: a load stores nothing; perms still lack W. */
    poke(leaf, pte_to(0x80020000, rw | PTE_A));
    r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(peek(leaf), pte_to(0x80020000, rw | PTE_A));
    CHECK_EQ(r.perms, PTE_R);
}

/* Another thread flips an RSW bit of the leaf PTE with atomic RMWs while
 * this thread clears A/D and walks, so the walker's A/D update races with
 * those stores. Each flip checks that the bit it found is the one it left: a
 * lost flip (the walker writing back a stale PTE) shows up as a mismatch. */
#define RACE_WALKS 200000
struct race {
    uint64_t *pte;
    int started, stop;          /* accessed with __atomic builtins */
    unsigned flips, mismatches;
};

static void *flip_rsw(void *arg)
{
    struct race *race = arg;
    const uint64_t rsw = 1ull << 8;
    __atomic_store_n(&race->started, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&race->stop, __ATOMIC_SEQ_CST)) {
        uint64_t old = __atomic_fetch_xor(race->pte, rsw, __ATOMIC_SEQ_CST);
        if (((old & rsw) != 0) != (race->flips & 1))
            race->mismatches++;
        race->flips++;
    }
    return NULL;
}

static void test_ad_race(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);
    uint64_t va = 0x0000000001000000ull;
    uint64_t leaf = map(root, 3, va, 0, 0x80030000, PTE_V | PTE_R | PTE_W);
    struct race race = { .pte = (uint64_t *)(void *)mem_ram_ptr(&mem, leaf) };
    pthread_t t;
    CHECK(pthread_create(&t, NULL, flip_rsw, &race) == 0);
    while (!__atomic_load_n(&race.started, __ATOMIC_SEQ_CST))
        ;
    unsigned failures = 0;
    for (unsigned i = 0; i < RACE_WALKS; i++) {
        __atomic_fetch_and(race.pte, ~(uint64_t)(PTE_A | PTE_D), __ATOMIC_SEQ_CST);
        struct walk_result r = walk(satp, PRIV_S, i & 1 ? ACCESS_WRITE : ACCESS_READ, va, NULL);
        if (r.status != WALK_OK || r.pa != 0x80030000 || !(r.pte & PTE_A))
            failures++;
    }
    __atomic_store_n(&race.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(t, NULL);
    CHECK_EQ(failures, 0);
    CHECK_EQ(race.mismatches, 0);
    CHECK_EQ((peek(leaf) >> 8) & 1, race.flips & 1);
}

/* The A/D store goes through guest_mem's write-trace hooks when the PTE's
 * frame is traced (DESIGN.md section 3: "The walker's own A/D store is a
 * traced store too"), naming the walking hart as producer. */
static struct {
    unsigned begins, ends, silents, producer, size;
    uint64_t pa;
    bool changed;
} seen;

static void saw_begin(void *ctx, uint64_t pa, unsigned size)
{
    seen.begins++;
    seen.pa = pa;
    seen.size = size;
}

static void saw_end(void *ctx, unsigned producer, uint64_t pa, unsigned size, bool changed)
{
    seen.ends++;
    seen.producer = producer;
    seen.changed = changed;
}

static void saw_silent(void *ctx, unsigned producer)
{
    seen.silents++;
    seen.producer = producer;
}

static void test_ad_traced(void)
{
    CHECK(mem_trace_init(&mem, (struct mem_trace_hooks){ saw_begin, saw_end, NULL, NULL }));
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);
    uint64_t va = 0x0000000003000000ull, va2 = 0x0000000005000000ull;
    uint64_t leaf = map(root, 3, va, 0, 0x80050000, PTE_V | PTE_R | PTE_W);
    uint64_t leaf2 = map(root, 3, va2, 0, 0x80051000, PTE_V | PTE_R | PTE_W);
    CHECK((leaf & PAGE_MASK) != (leaf2 & PAGE_MASK));
    atomic_store(mem_trace_word(&mem, leaf), 1);

    struct walk_request req = { .satp = satp, .priv = PRIV_S, .access = ACCESS_READ,
                                .producer = 3 };
    struct walk_result r;
    mmu_walk(&mem, &req, va, &r);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(seen.begins, 1);
    CHECK_EQ(seen.ends, 1);
    CHECK_EQ(seen.pa, leaf);
    CHECK_EQ(seen.size, 8);
    CHECK_EQ(seen.producer, 3);
    CHECK(seen.changed);
    /* No store needed, nothing reported. */
    mmu_walk(&mem, &req, va, &r);
    CHECK_EQ(seen.begins, 1);
    /* Setting D is a store too. */
    req.access = ACCESS_WRITE;
    req.producer = 1;
    mmu_walk(&mem, &req, va, &r);
    CHECK_EQ(seen.begins, 2);
    CHECK_EQ(seen.ends, 2);
    CHECK_EQ(seen.producer, 1);
    CHECK_EQ(peek(leaf), pte_to(0x80050000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
    /* An untraced frame: the store happens, unreported. */
    mmu_walk(&mem, &req, va2, &r);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(peek(leaf2), pte_to(0x80051000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D));
    CHECK_EQ(seen.begins, 2);
    atomic_store(mem_trace_word(&mem, leaf), 0);
}

/* A hart's aligned store of the value a traced frame already holds is
 * silent: no bracket, only counted (guest_mem.c, silent_traced_store).
 * Anything else keeps the bracket: a change, a misaligned store, DMA. */
static void test_silent_traced_store(void)
{
    mem.trace_hooks = (struct mem_trace_hooks){ saw_begin, saw_end, saw_silent, NULL };
    uint64_t pa = 0x80060000ull;
    memset(&seen, 0, sizeof seen);
    atomic_store(mem_trace_word(&mem, pa), 1);
    CHECK(mem_write_by(&mem, 2, pa + 8, 8, 0));             /* RAM starts zeroed */
    CHECK(mem_write_by(&mem, 2, pa + 16, 4, 0xffffffff00000000ull));   /* only the low 4 bytes are stored */
    CHECK_EQ(seen.silents, 2);
    CHECK_EQ(seen.producer, 2);
    CHECK_EQ(seen.begins, 0);
    CHECK(mem_write_by(&mem, 1, pa + 8, 8, 0x1234));
    CHECK_EQ(seen.begins, 1);
    CHECK_EQ(seen.ends, 1);
    CHECK(seen.changed);
    CHECK_EQ(peek(pa + 8), 0x1234);
    CHECK(mem_write_by(&mem, 1, pa + 8, 8, 0x1234));        /* silent again */
    CHECK_EQ(seen.silents, 3);
    CHECK(mem_write_by(&mem, 1, pa + 9, 2, 0x12));          /* misaligned: bracketed */
    CHECK(mem_dma_store(&mem, pa + 8, 8, 0x1234));          /* DMA: bracketed */
    CHECK_EQ(seen.begins, 3);
    CHECK_EQ(seen.silents, 3);
    atomic_store(mem_trace_word(&mem, pa), 0);
    CHECK(mem_write_by(&mem, 1, pa + 8, 8, 0x1234));        /* untraced: nothing */
    CHECK_EQ(seen.silents + seen.begins, 6);
}

/* ---------------------------------------------------- access faults */

static uint64_t napot(uint64_t base, uint64_t size)
{
    return (base + size / 2 - 1) >> 2;
}

static bool dummy_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    *value = 0;
    return true;
}

static bool dummy_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    return true;
}

static const struct mmio_ops dummy_ops = { dummy_read, dummy_write };

/* Privileged spec 4.3.2 step 2: "If accessing pte violates a PMA or PMP
 * check, raise an access-fault exception corresponding to the original
 * access type." A PTE address with no RAM behind it is such a violation, so
 * umbra reports an access fault (QEMU 7.2 reports a page fault here). */
static void test_pte_outside_ram(void)
{
    /* The root itself outside RAM (at the UART). */
    uint64_t satp = satp_of(SATP_MODE_SV39, 0x10000000);
    struct walk_result r = walk(satp, PRIV_S, ACCESS_READ, 0x1000, NULL);
    CHECK_EQ(r.status, WALK_ACCESS_FAULT);
    CHECK_EQ(r.depth, 1);
    CHECK_EQ(r.path[0], 0x10000000);

    /* A pointer to a table just past the end of RAM. */
    uint64_t root = new_table();
    satp = satp_of(SATP_MODE_SV39, root);
    uint64_t va = 0x0000000000001000ull;
    poke(root + vpn(va, 2) * 8, pte_to(RAM_BASE + RAM_SIZE, PTE_V));
    r = walk(satp, PRIV_U, ACCESS_EXEC, va, NULL);
    CHECK_EQ(r.status, WALK_ACCESS_FAULT);
    CHECK_EQ(r.depth, 2);
    CHECK_EQ(r.path[1], RAM_BASE + RAM_SIZE + vpn(va, 1) * 8);

    /* A table under an MMIO window that overlays RAM is not RAM either. */
    uint64_t l1 = new_table();
    poke(root + vpn(va, 2) * 8, pte_to(l1, PTE_V));
    poke(l1 + vpn(va, 1) * 8, pte_to(0x80000000, LEAF_RWX));
    r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(r.status, WALK_OK);
    CHECK_EQ(r.pa, 0x80001000);
    CHECK(mem_map_mmio(&mem, l1, PAGE_SIZE, &dummy_ops, NULL, "overlay"));
    r = walk(satp, PRIV_S, ACCESS_READ, va, NULL);
    CHECK_EQ(r.status, WALK_ACCESS_FAULT);
    CHECK_EQ(r.depth, 2);
    mem.nregions = 0;       /* drop the window again */
}

/* PTE reads and A/D stores are checked by PMP as S-mode accesses (3.7.1),
 * and a refusal is an access fault (4.3.2 steps 2 and 7). */
static void test_pte_pmp(void)
{
    uint64_t root = new_table();
    uint64_t satp = satp_of(SATP_MODE_SV39, root);
    uint64_t va = 0x0000000002000000ull;
    uint64_t leaf = map(root, 3, va, 0, 0x80040000, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    uint64_t l1 = (peek(root + vpn(va, 2) * 8) >> 10) << 12;
    uint64_t l0 = leaf & PAGE_MASK;

    struct pmp_state pmp = { 0 };
    /* Entry 1: all RAM, RWX for S/U. */
    pmp.cfg[1] = PMP_A_NAPOT | PMP_R | PMP_W | PMP_X;
    pmp.addr[1] = napot(RAM_BASE, RAM_SIZE);
    struct walk_result r = walk(satp, PRIV_U, ACCESS_READ, va, &pmp);
    CHECK_EQ(r.status, WALK_PAGE_FAULT);            /* S page, U access */
    r = walk(satp, PRIV_S, ACCESS_READ, va, &pmp);
    CHECK_EQ(r.status, WALK_OK);

    /* Entry 0 takes every permission away from the level-1 table. */
    pmp.cfg[0] = PMP_A_NAPOT;
    pmp.addr[0] = napot(l1, PAGE_SIZE);
    r = walk(satp, PRIV_S, ACCESS_READ, va, &pmp);
    CHECK_EQ(r.status, WALK_ACCESS_FAULT);
    CHECK_EQ(r.depth, 2);
    CHECK_EQ(r.path[1], l1 + vpn(va, 1) * 8);
    /* The walk is S-mode for PMP even when the access is U-mode. */
    CHECK_EQ(walk(satp, PRIV_U, ACCESS_READ, va, &pmp).status, WALK_ACCESS_FAULT);

    /* Entry 0 makes the leaf table read-only: walks that need no A/D store
     * succeed, one that must set D is an access fault and changes nothing. */
    pmp.cfg[0] = PMP_A_NAPOT | PMP_R;
    pmp.addr[0] = napot(l0, PAGE_SIZE);
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_WRITE, va, &pmp).status, WALK_OK);
    poke(leaf, pte_to(0x80040000, PTE_V | PTE_R | PTE_W | PTE_A));
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, &pmp).status, WALK_OK);
    r = walk(satp, PRIV_S, ACCESS_WRITE, va, &pmp);
    CHECK_EQ(r.status, WALK_ACCESS_FAULT);
    CHECK_EQ(peek(leaf), pte_to(0x80040000, PTE_V | PTE_R | PTE_W | PTE_A));

    /* No entry enabled at all: S-mode PTE reads are denied by default. */
    struct pmp_state off = { 0 };
    CHECK_EQ(walk(satp, PRIV_S, ACCESS_READ, va, &off).status, WALK_ACCESS_FAULT);
    /* A Bare translation reads no PTE, so PMP does not enter into it. */
    CHECK_EQ(walk(0, PRIV_S, ACCESS_READ, va, &off).status, WALK_OK);
}

/* ------------------------------------------------------- soft TLB */

static void test_tlb(void)
{
    static struct tlb t;
    static uint8_t page_a[PAGE_SIZE], page_b[PAGE_SIZE];
    uint64_t va = 0xffffffc000123000ull;
    /* Same index as va (TLB_SIZE pages apart), different tag. */
    uint64_t alias = va + ((uint64_t)TLB_SIZE << PAGE_SHIFT);

    tlb_flush_all(&t);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_M, ACCESS_EXEC, 0) == NULL);

    tlb_fill(&t, TLB_CTX_S, ACCESS_READ, va + 0x123, page_a, 0x80123000);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va) == page_a);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va + 0xff8) == page_a + 0xff8);
    CHECK_EQ(t.e[TLB_CTX_S][ACCESS_READ][(va >> 12) & (TLB_SIZE - 1)].pa_page, 0x80123000);
    /* Other contexts, other access types, other pages miss. */
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_READ, va) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_WRITE, va) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va + PAGE_SIZE) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, alias) == NULL);

    /* flush_va drops the page in every context and access type, and only
     * that page. */
    tlb_fill(&t, TLB_CTX_U, ACCESS_WRITE, va, page_a, 0x80123000);
    tlb_fill(&t, TLB_CTX_M, ACCESS_EXEC, va, page_a, 0x80123000);
    tlb_fill(&t, TLB_CTX_S, ACCESS_READ, va + PAGE_SIZE, page_b, 0x80124000);
    tlb_flush_va(&t, va + 0x800);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_WRITE, va) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_M, ACCESS_EXEC, va) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va + PAGE_SIZE + 8) == page_b + 8);
    /* A different page sharing the slot is not dropped by flush_va(va). */
    tlb_fill(&t, TLB_CTX_U, ACCESS_READ, alias, page_b, 0x80124000);
    tlb_flush_va(&t, va);
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_READ, alias + 4) == page_b + 4);

    tlb_flush_all(&t);
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_READ, alias) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va + PAGE_SIZE) == NULL);
}

/* A flush is a new epoch (mmu.h). An entry filled in one epoch must miss in
 * every later one, also across the wrap of the 12-bit epoch, when the same
 * epoch number comes round again; and the highest page number of all (the
 * top 4 KiB of the address space) must never match an unused tag. */
static void test_tlb_epochs(void)
{
    static struct tlb t;
    static uint8_t page[PAGE_SIZE];
    uint64_t va = 0x3fffffd000ull, top = 0xfffffffffffff000ull;
    tlb_flush_all(&t);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, top) == NULL);
    tlb_fill(&t, TLB_CTX_S, ACCESS_READ, va, page, 0x80000000);
    uint64_t filled_epoch = t.epoch_tag;
    unsigned live_flushes = 0, sweeps = 0;
    for (unsigned n = 0; n < 3 * TLB_EPOCH_LAST; n++) {
        tlb_flush_all(&t);
        sweeps += t.epoch_tag == (1ull << TLB_EPOCH_SHIFT);
        live_flushes += tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va) != NULL;
        CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, top) == NULL);
    }
    CHECK_EQ(live_flushes, 0);
    CHECK(sweeps >= 2);                     /* the epoch did wrap, more than once */
    /* Back at the epoch of the fill: the sweep at the wrap cleared it. */
    while (t.epoch_tag != filled_epoch)
        tlb_flush_all(&t);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va) == NULL);
    /* The top page itself is an ordinary page once filled. */
    tlb_fill(&t, TLB_CTX_S, ACCESS_READ, top, page, 0x80000000);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, top + 8) == page + 8);
}

/* A new trace must leave no write entry for its frame in any context,
 * and nothing else may go: read entries, and write entries to untraced
 * frames, stay. The sweep looks only at write entries filled since the
 * last flush (mmu.h), so fill some on both sides of a flush, and one at an
 * index whose earlier entry the sweep found dead. */
static void test_tlb_traced_writes(void)
{
    static struct tlb t;
    const uint64_t traced = RAM_BASE + 0x5000, plain = RAM_BASE + 0x6000;
    uint8_t *traced_host = mem_ram_ptr(&mem, traced), *plain_host = mem_ram_ptr(&mem, plain);
    const uint64_t va_u = 0x10000, va_s = 0xffffffc000200000ull, va_p = 0x20000;
    tlb_flush_all(&t);
    tlb_fill(&t, TLB_CTX_U, ACCESS_WRITE, va_u, traced_host, traced);
    tlb_flush_all(&t);
    tlb_fill(&t, TLB_CTX_S_SUM, ACCESS_WRITE, va_s, traced_host, traced);
    tlb_fill(&t, TLB_CTX_S, ACCESS_READ, va_s, traced_host, traced);
    tlb_fill(&t, TLB_CTX_U, ACCESS_WRITE, va_p, plain_host, plain);
    tlb_drop_traced_writes(&t, &mem);           /* nothing traced yet */
    CHECK(tlb_lookup(&t, TLB_CTX_S_SUM, ACCESS_WRITE, va_s) == traced_host);

    atomic_store(mem_trace_word(&mem, traced), 1u);
    tlb_fill(&t, TLB_CTX_U, ACCESS_WRITE, va_u, traced_host, traced);   /* after the flush */
    tlb_drop_traced_writes(&t, &mem);
    CHECK(tlb_lookup(&t, TLB_CTX_S_SUM, ACCESS_WRITE, va_s) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_WRITE, va_u) == NULL);
    CHECK(tlb_lookup(&t, TLB_CTX_S, ACCESS_READ, va_s) == traced_host);
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_WRITE, va_p) == plain_host);

    /* The slot of va_u was found dead and forgotten; a new fill there is
     * looked at again. */
    tlb_fill(&t, TLB_CTX_U, ACCESS_WRITE, va_u, traced_host, traced);
    tlb_drop_traced_writes(&t, &mem);
    CHECK(tlb_lookup(&t, TLB_CTX_U, ACCESS_WRITE, va_u) == NULL);
    atomic_store(mem_trace_word(&mem, traced), 0u);
}

int main(void)
{
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0) {
        fprintf(stderr, "mem_init failed\n");
        return 1;
    }
    test_bare_and_machine();
    test_sv39_levels();
    test_sv48_levels();
    test_permissions();
    test_reserved_encodings();
    test_misaligned_superpage();
    test_non_canonical();
    test_accessed_dirty();
    test_ad_race();
    test_ad_traced();
    test_silent_traced_store();
    test_pte_outside_ram();
    test_pte_pmp();
    test_tlb();
    test_tlb_epochs();
    test_tlb_traced_writes();
    mem_destroy(&mem);
    return check_summary();
}
