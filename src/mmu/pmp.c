/* Physical Memory Protection: privileged spec 1.12, section 3.7.
 *
 * Each entry is turned into an inclusive byte range [lo, last] so that a
 * region reaching the top of the 56-bit physical space never overflows.
 */
#include "mmu/mmu.h"

/* RV64 pmpaddr holds physical address bits 55:2 (section 3.7.1, figure 3.28). */
#define PMPADDR_BITS 54
#define PMPADDR_MASK ((1ull << PMPADDR_BITS) - 1)

struct pmp_range {
    uint64_t lo, last;      /* inclusive byte bounds */
};

/* The bytes entry i covers, or false when it covers none (OFF, or a TOR
 * entry whose bottom is not below its top). Section 3.7.1.3 "Address
 * Matching": TOR uses pmpaddr[i-1] as the bottom (0 for entry 0), NA4 is a
 * four-byte region, NAPOT encodes its size in the trailing ones of pmpaddr. */
static bool pmp_entry_range(const struct pmp_state *pmp, unsigned i, struct pmp_range *r)
{
    uint64_t addr = pmp->addr[i] & PMPADDR_MASK;
    switch (pmp->cfg[i] & PMP_A_MASK) {
    case PMP_A_TOR: {
        uint64_t bottom = i == 0 ? 0 : pmp->addr[i - 1] & PMPADDR_MASK;
        if (bottom >= addr)
            return false;
        r->lo = bottom << 2;
        r->last = (addr << 2) - 1;
        return true;
    }
    case PMP_A_NA4:
        r->lo = addr << 2;
        r->last = r->lo + 3;
        return true;
    case PMP_A_NAPOT: {
        /* yyyy0111 (t trailing ones) = 2^(t+3) bytes at yyyy0000 << 2. With
         * the 54-bit mask t is at most 54, so the size fits in 64 bits. */
        unsigned t = (unsigned)__builtin_ctzll(~addr);
        uint64_t size = 1ull << (t + 3);
        r->lo = (addr & ~((1ull << t) - 1)) << 2;
        r->last = r->lo + (size - 1);
        return true;
    }
    default:
        return false;
    }
}

/* The lowest-numbered entry that matches any byte of [lo, last], or -1.
 * *whole says whether it matches every byte. */
static int pmp_first_match(const struct pmp_state *pmp, uint64_t lo, uint64_t last, bool *whole)
{
    for (unsigned i = 0; i < PMP_ENTRIES; i++) {
        struct pmp_range r;
        if (!pmp_entry_range(pmp, i, &r))
            continue;
        if (lo <= r.last && last >= r.lo) {
            *whole = lo >= r.lo && last <= r.last;
            return (int)i;
        }
    }
    return -1;
}

/* R/W/X granted by a matching entry: M-mode ignores an unlocked entry's
 * permission bits; a locked entry binds M-mode too (section 3.7.1.2). */
static unsigned pmp_entry_perms(uint8_t cfg, enum priv priv)
{
    if (priv == PRIV_M && !(cfg & PMP_L))
        return PMP_R | PMP_W | PMP_X;
    return cfg & (PMP_R | PMP_W | PMP_X);
}

/* With no matching entry, M-mode succeeds; S and U fail because umbra
 * implements all 16 entries (section 3.7.1.4 "Priority and Matching Logic"). */
static unsigned pmp_default_perms(enum priv priv)
{
    return priv == PRIV_M ? PMP_R | PMP_W | PMP_X : 0;
}

static unsigned access_to_pmp_bit(enum access access)
{
    switch (access) {
    case ACCESS_READ: return PMP_R;
    case ACCESS_WRITE: return PMP_W;
    default: return PMP_X;
    }
}

bool pmp_check(const struct pmp_state *pmp, uint64_t pa, uint64_t len,
               enum access access, enum priv priv)
{
    if (len == 0)
        return true;
    uint64_t last = pa + (len - 1);
    if (last < pa)
        return false;       /* wraps around the address space */
    bool whole = false;
    int i = pmp_first_match(pmp, pa, last, &whole);
    if (i < 0)
        return (pmp_default_perms(priv) & access_to_pmp_bit(access)) != 0;
    /* "If the PMP entry matches some but not all bytes of an access, the
     * access fails, irrespective of the L, R, W, and X bits." */
    if (!whole)
        return false;
    return (pmp_entry_perms(pmp->cfg[i], priv) & access_to_pmp_bit(access)) != 0;
}

/* If one entry covers the whole page and no lower-numbered entry touches it,
 * that entry decides every access inside the page; if no entry touches the
 * page, the default decides. Any other layout may differ byte by byte, so
 * the page gets nothing and every access goes through pmp_check. */
unsigned pmp_page_perms(const struct pmp_state *pmp, uint64_t page_pa, enum priv priv)
{
    uint64_t lo = page_pa & PAGE_MASK;
    bool whole = false;
    int i = pmp_first_match(pmp, lo, lo + (PAGE_SIZE - 1), &whole);
    if (i < 0)
        return pmp_default_perms(priv);
    if (!whole)
        return 0;
    return pmp_entry_perms(pmp->cfg[i], priv);
}
