/* The hart's fast cache (src/mmu/tlb.c) as the coherence layer sees it:
 * which shadow pages it took translations from, and what it must forget
 * at the hart's next coherency event. Owner thread only.
 *
 * The fast cache holds copies of leaf derived entries, so a derived entry
 * that changes makes the copies of it stale. Forgetting the whole cache
 * for that (one increment of its epoch) is cheap, but every page the hart
 * goes on using then misses once and is looked up in the shadow table
 * again: after each shoot-down of one page, a thread with a working set of
 * thousands of pages pays for all of them. Instead each shadow page
 * remembers at which virtual base the fast cache took translations from it
 * in the current fast epoch. A page-table page is normally mapped at one
 * place, so a changed entry i of a leaf-level page (4 KiB leaves) names
 * exactly one virtual page, base + i * 4 KiB, and only that page is
 * forgotten. A change higher up, to an entry that pointed to a table,
 * reaches the translations taken through that table, which are noted at
 * the leaf tables below it: if none gave the fast cache anything in this
 * epoch nothing is forgotten (the tables of a process that ran before the
 * last satp write, torn down after it), and if the entry pointed to one
 * leaf table, only that table's 2 MiB at its base is.
 * Linux frees a leaf table when munmap empties its 2 MiB, and ptbench
 * does that at most steps: forgetting everything for it, and for every
 * table of an exiting process, made each code page the kernel went on
 * running miss once more. Anything less certain forgets everything: a
 * page seen at two bases in one epoch, a megapage, a table of tables
 * that gave something (or more tables below it than are worth looking
 * into), more changes than the list holds, and the shared table (whose
 * entries other harts change).
 *
 * A change that only grants more (the walker setting D, say) leaves the
 * copies granting less than the table, which the invariant allows, so it
 * is not noted. Any other change is, whoever made it: a patch, a stale
 * token, a re-derived page, or a walk that found a PTE another hart had
 * already changed (its patch, still on the way, will then find the entry
 * equal to its value and change nothing, so the walk is the only chance
 * to note it).
 */
#include "coherence/coherence.h"
#include "coherence/internal.h"

/* The virtual span one shadow page of leaf level 0 covers: 512 x 4 KiB. */
#define LEAF_PAGE_SPAN (1ull << (PAGE_SHIFT + 9))

/* A fast_forget[] word: a page-aligned virtual address, with this bit set
 * for the LEAF_PAGE_SPAN there rather than the one page. */
#define FORGET_SPAN 1ull

void fast_note_fill(struct coherence_hart *ch, struct shadow_page *sp, uint64_t va)
{
    if (!ch->fast || ch->table->shared)
        return;
    uint64_t base = va & ~(LEAF_PAGE_SPAN - 1);
    if (sp->fast_epoch != ch->fast->epoch_tag) {
        sp->fast_epoch = ch->fast->epoch_tag;
        sp->fast_va = base;
        sp->fast_va_many = false;
    } else if (sp->fast_va != base) {
        sp->fast_va_many = true;
    }
}

/* Append `what` to the forget list, or forget everything if it is full. */
static void note_forget(struct coherence_hart *ch, uint64_t what)
{
    if (ch->fast_forget_n == FAST_FORGET_MAX)
        ch->fast_forget_all = true;
    else
        ch->fast_forget[ch->fast_forget_n++] = what;
}

/* The fast cache took translations from sp's own entries in its current
 * epoch? */
static bool fast_took_from(const struct coherence_hart *ch, const struct shadow_page *sp)
{
    return sp->fast_epoch == ch->fast->epoch_tag;
}

/* The most tables fast_took_below looks into for one change. */
#define TOOK_BELOW_LOOKS 64

/* ... from sp's entries or from those of a table below sp? Looks into at
 * most *looks more tables, and answers yes when it runs out. */
static bool fast_took_below(const struct coherence_hart *ch, const struct shadow_page *sp,
                            unsigned *looks)
{
    if (fast_took_from(ch, sp))
        return true;
    if (sp->level == 0)
        return false;
    if (*looks == 0)
        return true;
    --*looks;
    for (unsigned i = 0; i < SHADOW_ENTRIES; i++) {
        uint64_t e = atomic_load_explicit(&sp->entry[i], memory_order_relaxed);
        if (!(e & SE_VALID) || (e & SE_LEAF))
            continue;                   /* a leaf here is noted at sp itself */
        const struct shadow_page *below =
            shadow_find(ch->table, (e & SE_PAGE_MASK) >> PAGE_SHIFT, sp->level - 1);
        if (below && fast_took_below(ch, below, looks))
            return true;
    }
    return false;
}

/* A table entry that pointed to the table `old` names, at `level`, no
 * longer does: what the fast cache took through it. A table that is not
 * shadowed gave it nothing since everything was last forgotten (a shadow
 * page goes away only with the whole table, coherence_drop_all). */
static void note_table_replaced(struct coherence_hart *ch, unsigned level, uint64_t old)
{
    const struct shadow_page *below =
        shadow_find(ch->table, (old & SE_PAGE_MASK) >> PAGE_SHIFT, level);
    unsigned looks = TOOK_BELOW_LOOKS;
    if (!below || !fast_took_below(ch, below, &looks))
        return;
    if (level == 0 && !below->fast_va_many)
        note_forget(ch, below->fast_va | FORGET_SPAN);
    else
        ch->fast_forget_all = true;
}

void fast_note_replaced(struct coherence_hart *ch, const struct shadow_page *sp, unsigned index,
                        uint64_t old, uint64_t derived)
{
    if (!ch->fast || ch->fast_forget_all || derived_grants_at_most(old, derived))
        return;
    if (!(old & SE_LEAF) && sp->level > 0) {
        note_table_replaced(ch, sp->level - 1, old);
        return;
    }
    if (!fast_took_from(ch, sp))
        return;                         /* the fast cache holds nothing from sp */
    if (sp->level != 0 || sp->fast_va_many) {
        ch->fast_forget_all = true;     /* a megapage, or sp at two bases */
        return;
    }
    note_forget(ch, sp->fast_va + ((uint64_t)index << PAGE_SHIFT));
}

void fast_forget_noted(struct coherence_hart *ch)
{
    if (ch->fast) {
        if (ch->fast_forget_all || ch->table->shared)
            tlb_flush_all(ch->fast);
        else
            for (unsigned i = 0; i < ch->fast_forget_n; i++) {
                uint64_t f = ch->fast_forget[i];
                if (f & FORGET_SPAN)
                    tlb_flush_range(ch->fast, f & ~FORGET_SPAN, LEAF_PAGE_SPAN);
                else
                    tlb_flush_va(ch->fast, f);
            }
    }
    ch->fast_forget_all = false;
    ch->fast_forget_n = 0;
}

void fast_forget_all(struct coherence_hart *ch)
{
    ch->fast_forget_all = true;
    fast_forget_noted(ch);
}
