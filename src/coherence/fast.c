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
 * forgotten. Anything less certain forgets everything: a page seen at two
 * bases in one epoch, a change above the leaf level (it may cover many
 * pages, and translations through it are noted at the leaf's page), more
 * changes than the list holds, and the shared table (whose entries other
 * harts change).
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

void fast_note_replaced(struct coherence_hart *ch, const struct shadow_page *sp, unsigned index,
                        uint64_t old, uint64_t derived)
{
    if (!ch->fast || ch->fast_forget_all || derived_grants_at_most(old, derived))
        return;
    if (sp->level == 0 && sp->fast_epoch != ch->fast->epoch_tag)
        return;                         /* the fast cache holds nothing from sp */
    if (sp->level != 0 || sp->fast_va_many || ch->fast_forget_n == FAST_FORGET_MAX) {
        ch->fast_forget_all = true;
        return;
    }
    ch->fast_forget[ch->fast_forget_n++] = sp->fast_va + ((uint64_t)index << PAGE_SHIFT);
}

void fast_forget_noted(struct coherence_hart *ch)
{
    if (ch->fast) {
        if (ch->fast_forget_all || ch->table->shared)
            tlb_flush_all(ch->fast);
        else
            for (unsigned i = 0; i < ch->fast_forget_n; i++)
                tlb_flush_va(ch->fast, ch->fast_forget[i]);
    }
    ch->fast_forget_all = false;
    ch->fast_forget_n = 0;
}

void fast_forget_all(struct coherence_hart *ch)
{
    ch->fast_forget_all = true;
    fast_forget_noted(ch);
}
