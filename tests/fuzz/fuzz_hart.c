/* fuzz_hart: random instruction streams on one sandboxed hart.
 *
 * Each input is a small machine: a header that chooses the starting
 * privilege, satp (Bare, Sv39 or Sv48), a few page-table entries, status
 * bits, PMP, trap delegation and the shadow-table coherence strategy, then
 * the bytes of 64 KiB of guest RAM, executed from its first byte. mtvec and
 * stvec point back at the start of RAM, so every trap lands in the stream
 * again. The run is bounded by MAX_STEPS hart_step calls. The header's spare
 * bytes plan interrupts: which lines rise at which step, which are enabled
 * and delegated; the hart polls for them before every step, as hart_run
 * does at its block boundaries (seeds with those bytes zero take none).
 *
 * What must hold: only guest traps, never a host fault or undefined
 * behaviour (ASan, UBSan), never a hang (libFuzzer's -timeout); x0 stays
 * zero, the privilege is U, S or M, the pc stays 2-byte aligned; with
 * --audit on, the coherence audit never reports a violation.
 *
 * Uses only the public hart API (hart_init, hart_reset, hart_step,
 * hart_kick, hart_set_irq, trap_poll_interrupts) plus guest_mem and the
 * coherence set-up the board does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coherence/coherence.h"
#include "cpu/hart.h"
#include "cpu/trap.h"
#include "mem/guest_mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_PAGES 16u
#define RAM_SIZE (RAM_PAGES * PAGE_SIZE)
#define STUB_BASE 0x10000000ull     /* a tiny MMIO device */
#define STUB_SIZE 0x1000ull
#define STUB_DECODED 0x800ull       /* offsets at and above this are rejected */
#define MAX_STEPS 2048u
#define EXTRA_PTES 4u

#define PTE_PPN_SHIFT 10        /* PTE layout, privileged spec 4.4.1 */

/* PMP: entry 15 NAPOT over all memory, R W X (privileged spec 3.7). */
#define PMP_NAPOT_RWX 0x1fu
#define PMP_LAST 15

/* Header flag bits. */
enum {
    F_PRIV_MASK = 0x03,         /* 0 U, 1 S, 2 and 3 M */
    F_SV48 = 0x04,
    F_PAGING = 0x08,
    F_IDENTITY = 0x10,          /* map RAM's gigapage (and the stub's) 1:1 */
    F_SUM = 0x20,
    F_MXR = 0x40,
    F_PMP_OPEN = 0x80,
};
enum {
    M_MPRV = 0x01,
    M_MPP_SHIFT = 1,            /* two bits */
    M_TVM = 0x08,
    M_TW = 0x10,
    M_TSR = 0x20,
    M_FS = 0x40,
};

struct extra_pte {
    uint8_t table;              /* RAM page holding the entry */
    uint8_t slot_lo, slot_hi;   /* index in the table, mod 512 */
    uint8_t target;             /* RAM page it points at; bit 7: outside RAM */
    uint8_t flags;              /* the low 8 PTE bits */
    uint8_t irq;                /* one byte of the interrupt plan (struct irq_plan) */
};

struct header {
    uint8_t flags;
    uint8_t root;               /* RAM page of the root table */
    uint8_t mid;                /* Sv48: RAM page of the level-2 table */
    uint8_t leaf_flags;         /* flags of the identity gigapage */
    uint8_t coherence;          /* mode, see make_coherence */
    uint8_t status;             /* M_* bits */
    uint8_t medeleg_lo, medeleg_hi;
    struct extra_pte pte[EXTRA_PTES];
};

struct stub {
    uint64_t reg[STUB_DECODED / 8];
};

static bool stub_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct stub *s = dev;
    if (offset >= STUB_DECODED)
        return false;
    uint64_t v = s->reg[offset / 8] >> (8 * (offset % 8));
    *value = size == 8 ? v : v & ((1ull << (8 * size)) - 1);
    return true;
}

static bool stub_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct stub *s = dev;
    if (offset >= STUB_DECODED)
        return false;
    s->reg[offset / 8] ^= value;
    return true;
}

static const struct mmio_ops stub_ops = { stub_read, stub_write };

/* The interrupt plan, from the extra PTEs' spare bytes in order. Bit k of
 * `lines`, `enable` and `delegate` is interrupt 2k+1 of mip (SSI, MSI, STI,
 * MTI, SEI, MEI: privileged spec 3.1.9); `enable` bits 6 and 7 also set
 * mstatus.MIE and SIE. The lines rise before step 8 x at_step. */
struct irq_plan {
    uint8_t lines, at_step, enable, delegate;
};

static uint64_t irq_bits(uint8_t byte)
{
    uint64_t bits = 0;
    for (unsigned k = 0; k < 6; k++)
        if (byte & (1u << k))
            bits |= 1ull << (2 * k + 1);
    return bits;
}

static struct irq_plan irq_plan_of(const struct header *hd)
{
    return (struct irq_plan){ hd->pte[0].irq, hd->pte[1].irq, hd->pte[2].irq, hd->pte[3].irq };
}

static void on_kick(void *ctx, unsigned hart) { (void)ctx; (void)hart; }

/* An audit violation is a coherence bug: stop with a crash the fuzzer keeps. */
static void on_violation(void *ctx, unsigned hart)
{
    (void)ctx;
    (void)hart;
    abort();
}

static uint64_t page_pa(uint8_t page) { return RAM_BASE + (page % RAM_PAGES) * PAGE_SIZE; }

static void put_pte(struct guest_mem *m, uint8_t table, unsigned slot, uint64_t pte)
{
    mem_write(m, page_pa(table) + 8ull * (slot % 512), 8, pte);
}

static uint64_t pte_to(uint64_t pa, uint8_t flags)
{
    return (pa >> PAGE_SHIFT) << PTE_PPN_SHIFT | flags;
}

/* The identity map of RAM's gigapage (VA = PA = 0x80000000) and of the
 * stub's: a leaf at level 2 (Sv39) or below a level-3 pointer (Sv48). */
static void identity_map(struct guest_mem *m, const struct header *hd)
{
    uint8_t leaf = hd->leaf_flags | PTE_V;
    uint8_t table = hd->root;
    if (hd->flags & F_SV48) {
        put_pte(m, hd->root, 0, pte_to(page_pa(hd->mid), PTE_V));
        table = hd->mid;
    }
    put_pte(m, table, 2, pte_to(RAM_BASE, leaf));
    put_pte(m, table, 0, pte_to(0, leaf));
}

static void extra_ptes(struct guest_mem *m, const struct header *hd)
{
    for (unsigned i = 0; i < EXTRA_PTES; i++) {
        const struct extra_pte *e = &hd->pte[i];
        unsigned slot = e->slot_lo | (unsigned)e->slot_hi << 8;
        uint64_t pa = (e->target & 0x80) ? (uint64_t)e->target << 32 : page_pa(e->target);
        put_pte(m, e->table, slot, pte_to(pa, e->flags));
    }
}

/* none, patch, flush, eager, patch with a shared table, patch re-walking. */
static bool make_coherence(struct coherence *co, struct guest_mem *m, uint8_t mode)
{
    static const struct coherence_options modes[] = {
        { .strategy = COHERENCE_PATCH, .audit = true },
        { .strategy = COHERENCE_FLUSH },
        { .strategy = COHERENCE_EAGER, .audit = true },
        { .strategy = COHERENCE_PATCH, .shared_table = true, .audit = true },
        { .strategy = COHERENCE_PATCH, .stale = STALE_REWALK, .audit = true },
    };
    unsigned n = sizeof modes / sizeof modes[0];
    if (mode % (n + 1) == 0)
        return false;
    const struct coherence_hooks hooks = { on_kick, on_violation, NULL };
    if (!coherence_init(co, m, 1, &modes[mode % (n + 1) - 1], hooks))
        abort();
    return true;
}

static void set_up_hart(struct hart *h, const struct header *hd)
{
    hart_reset(h, RAM_BASE);
    /* Registers point into RAM and the stub, so loads and stores land. */
    for (unsigned i = 1; i < 28; i++)
        h->x[i] = RAM_BASE + i * 0x800ull;
    for (unsigned i = 28; i < 32; i++)
        h->x[i] = STUB_BASE + (i - 28) * 0x400ull;
    h->mtvec = RAM_BASE;
    h->stvec = RAM_BASE;
    h->medeleg = hd->medeleg_lo | (uint64_t)hd->medeleg_hi << 8;
    if (hd->flags & F_PAGING) {
        uint64_t mode = (hd->flags & F_SV48) ? SATP_MODE_SV48 : SATP_MODE_SV39;
        h->satp = mode << SATP_MODE_SHIFT | (page_pa(hd->root) >> PAGE_SHIFT);
    }
    if (hd->flags & F_SUM)
        h->mstatus |= MSTATUS_SUM;
    if (hd->flags & F_MXR)
        h->mstatus |= MSTATUS_MXR;
    if (hd->status & M_MPRV)
        h->mstatus |= MSTATUS_MPRV;
    /* MPP 2 is reserved (WARL): use M instead. */
    uint64_t mpp = (hd->status >> M_MPP_SHIFT) & 3;
    h->mstatus |= (mpp == 2 ? 3 : mpp) << MSTATUS_MPP_SHIFT;
    if (hd->status & M_TVM)
        h->mstatus |= MSTATUS_TVM;
    if (hd->status & M_TW)
        h->mstatus |= MSTATUS_TW;
    if (hd->status & M_TSR)
        h->mstatus |= MSTATUS_TSR;
    if (hd->status & M_FS)
        h->mstatus |= (uint64_t)FS_INITIAL << MSTATUS_FS_SHIFT;
    if (hd->flags & F_PMP_OPEN) {
        h->pmp.cfg[PMP_LAST] = PMP_NAPOT_RWX;
        h->pmp.addr[PMP_LAST] = (1ull << 54) - 1;
    }
    struct irq_plan irq = irq_plan_of(hd);
    h->mie = irq_bits(irq.enable);
    h->mideleg = irq_bits(irq.delegate) & (MIP_SSIP | MIP_STIP | MIP_SEIP);  /* WARL */
    if (irq.enable & 0x40)
        h->mstatus |= MSTATUS_MIE;
    if (irq.enable & 0x80)
        h->mstatus |= MSTATUS_SIE;
    unsigned p = hd->flags & F_PRIV_MASK;
    h->priv = p == 0 ? PRIV_U : p == 1 ? PRIV_S : PRIV_M;
}

static void check_invariants(const struct hart *h)
{
    if (h->x[0] != 0)
        abort();
    if (h->priv != PRIV_U && h->priv != PRIV_S && h->priv != PRIV_M)
        abort();
    if (h->pc & 1)
        abort();
}

static _Atomic bool halt;       /* never set: hart_step does not look at it */
static struct hart hart;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct header hd;
    memset(&hd, 0, sizeof hd);
    memcpy(&hd, data, size < sizeof hd ? size : sizeof hd);
    size_t skip = size < sizeof hd ? size : sizeof hd;

    struct guest_mem mem;
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0)
        abort();
    struct stub stub;
    memset(&stub, 0, sizeof stub);
    if (!mem_map_mmio(&mem, STUB_BASE, STUB_SIZE, &stub_ops, &stub, "stub"))
        abort();
    size_t code = size - skip;
    mem_copy_to_guest(&mem, RAM_BASE, data + skip, code < RAM_SIZE ? code : RAM_SIZE);
    if (hd.flags & F_IDENTITY)
        identity_map(&mem, &hd);
    extra_ptes(&mem, &hd);

    struct coherence co;
    bool with_co = make_coherence(&co, &mem, hd.coherence);
    hart_init(&hart, 0, &mem, &halt);
    if (with_co)
        hart.coherence = coherence_hart_attach(&co, 0, &hart.tlb);
    set_up_hart(&hart, &hd);

    /* The hart is running (not parked) while it steps, as in hart_run. */
    if (with_co)
        coherence_unpark(hart.coherence);
    struct irq_plan irq = irq_plan_of(&hd);
    for (unsigned i = 0; i < MAX_STEPS; i++) {
        if (irq.lines && i == 8u * irq.at_step)
            hart_set_irq(&hart, irq_bits(irq.lines), true);
        trap_poll_interrupts(&hart);
        /* After the poll, which consumes a kick: a WFI in this step then
         * returns at once instead of sleeping for an interrupt no one will
         * raise (the seed m_wfi hangs with the two swapped). */
        hart_kick(&hart);
        hart_step(&hart);
        check_invariants(&hart);
    }
    if (with_co) {
        coherence_park(hart.coherence);
        coherence_destroy(&co);
    }
    hart_destroy(&hart);
    mem_destroy(&mem);
    return 0;
}
