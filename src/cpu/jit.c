/* jit: hot guest code translated to x86-64 (see jit.h).
 *
 * Register use in translated code (System V AMD64 ABI):
 *   rbx  struct hart * + HART_BIAS  r12  data_tlb (entries of the data context)
 *   r13  budget                 r14  instructions retired so far
 *   r15  the fast cache's epoch tag (h->tlb.epoch_tag), loaded on entry and
 *        again after every call: only called code moves it (and today
 *        every call that does also ends the unit, but r15 does not rely
 *        on that)
 *   r8-r11  the unit's resident guest registers (choose_residents)
 *   rax, rcx, rdx, rsi, rdi     scratch; every call clobbers them
 * Guest registers live in struct hart, except that a unit keeps the (at
 * most four) it names most in r8-r11 from its start on: loaded there after
 * the prologue and after every call, and those the unit writes stored back
 * before every call and at every exit (side exits, jumps to other units
 * and to the cross-page stub). Whatever is called, and whatever a trap or
 * the next unit looks at, so sees exactly the interpreter's state in
 * struct hart.
 *
 * Retired instructions are counted at translation time: `pending` is the
 * number retired since r14 was last brought up to date, which happens
 * before every label (a jump target inside the unit) and on every taken
 * jump; an exit returns r14 + pending.
 *
 * Linking: a jump out of the unit to a constant address in the same page
 * leaves through a `jmp` that first points at its exit code (after the
 * unit's own code, with the other rarely run paths).
 * The exit returns the jmp's address (jit_exit.link); once a unit exists
 * at the target, jit_link points the jmp at that unit's link entry, which
 * checks the budget and goes on with the registers as they are (same
 * hart, same page, same privilege, so the same fetch and data contexts).
 * Both units come from the same decoded page, so they go stale together.
 * A JALR cannot be linked once: its target is known only when it runs. It
 * looks at the page's jit_ref word for the target, if that lies in the
 * same page, and enters the unit there the same way (emit_jalr_in_page).
 *
 * A jump to another page (a call, a return, falling off the page's end)
 * cannot be linked once and for all: the target page's mapping and decoded
 * code may change while this unit stays good. The cross-page stub, one
 * per code buffer, makes the dispatcher's own checks in host code (the
 * fast cache's fetch entry, the decoded page, its jit_ref word) and
 * enters the unit there the same way, or leaves when any is missing. A
 * jump to a constant address makes the same checks with their answers
 * known in advance, behind a guard in the unit's own code
 * (emit_cross_link); a return first tries its call's continuation (the
 * return-address stack, struct ras), any JALR then the unit its last
 * target led to (emit_jalr_cross), then the stub. In a Linux guest nine
 * unit exits in ten are such jumps.
 */
#include "cpu/jit.h"

#include <assert.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "coherence/coherence.h"
#include "cpu/access.h"
#include "cpu/fpu.h"
#include "cpu/hart.h"

#if defined(__x86_64__)
#include <sys/mman.h>

#include "cpu/x86.h"

/* Times the dispatcher looks for a unit at an instruction before one is
 * made there: code run once (most of a boot) is not worth translating. */
#define HOT_AFTER 16u

/* Where units are found: each decoded page's jit_ref[] (icache.h) holds
 * per slot a look count below HOT_AFTER, NEVER, or UNIT_REF + the offset
 * of the unit's entry in the code buffer, with the unit's header right
 * before the entry. A lookup so touches the page's first cache line and
 * the slot's word, and nothing else (a hash table of units, then an array
 * of unit records, then a pc in the header each cost a cache miss per
 * lookup). The words are cleared, lazily, when the page's generation
 * moves (its slots changed), the code buffer is emptied (epoch) or the
 * page is looked at from another virtual page (refs_of). */
#define NEVER UINT32_MAX                /* the instruction cannot start a unit */
#define UNIT_REF 256u
_Static_assert(JIT_CODE_BYTES < NEVER - UNIT_REF, "a code offset fits in a slot's word");

/* Before each unit's entry; read only to size the unit against a budget
 * shorter than any unit can be. */
struct unit_header {
    uint32_t insns;                     /* jit_unit_insns */
};

/* Every unit's link entry lies this many bytes before its entry: the
 * budget check (lea with an 8-bit displacement, cmp, ja rel32), a jmp
 * rel32 over the header, the header (emit_unit). A jump into a unit so
 * reads nothing of it as data: its header would be one more cache miss. */
#define LINK_BACK (4 + 3 + 6 + 5 + (int32_t)sizeof(struct unit_header))
_Static_assert(JIT_UNIT_MAX_INSNS < 128, "the budget check's lea takes an 8-bit displacement");

/* What a JALR that left for another page found there last time, for its
 * guard (emit_jalr_cross); filled by the cross-page stub, kept apart from
 * the code so that filling it writes no cache line the host has decoded
 * instructions from. */
struct jalr_cache {
    uint64_t pc;                        /* the target; JALR_UNFILLED matches none */
    uint64_t vpn;                       /* pc >> PAGE_SHIFT */
    int64_t entry_off;                  /* of pc's entry in a fast-cache context */
    const struct icache_page *page;     /* the decoded page of the target unit */
    uint32_t generation;                /* page's, when the unit was found */
    uint32_t unused;
    const uint8_t *link_entry;          /* the unit's */
};
#define JALR_UNFILLED 1u                /* odd: a JALR's target never is */
#define JALR_OFF(field) ((int32_t)offsetof(struct jalr_cache, field))

/* The return-address stack: what a return is predicted to go to. The ISA
 * marks calls and returns by the registers they use (unprivileged spec
 * 2.5.1, the return-address stack hints): a JAL or JALR that writes x1
 * or x5 is a call, a JALR through x1 or x5 that writes neither is a
 * return. Each call site has a jalr_cache of its own for its
 * continuation, the instruction after the call, which it pushes here
 * (emit_ras_push); a return to another page pops the top one and, if the
 * target is that continuation, tries it before its own jalr_cache
 * (emit_jalr_cross). A function called from many places in turn so
 * returns to each caller's unit directly, where its own cache, which
 * holds one target, sent most of its returns to the stub. The stack is
 * only a prediction: a return that goes elsewhere (longjmp, a task
 * switch, a call the interpreter made) fails the check of its target and
 * goes on as before; a stack that wraps round loses only predictions. */
#define RAS_SIZE 32u
struct ras {
    uint32_t top;                       /* the index of the top entry */
    uint32_t unused;
    const struct jalr_cache *slot[RAS_SIZE];
};
#define RAS_OFF(field) ((int32_t)offsetof(struct ras, field))
_Static_assert((RAS_SIZE & (RAS_SIZE - 1)) == 0, "the stack's index wraps by a mask");

struct jit {
    uint8_t *code;                      /* code_bytes, readable, writable, executable */
    size_t code_bytes;
    uint8_t *free;                      /* first unused byte */
    const uint8_t *exit_stub;           /* the shared epilogue every exit jumps to */
    const uint8_t *cross_page_stub;     /* where JALRs to another page look */
    const uint8_t *cross_page_stub_end; /* the first unit's place */
    uint32_t epoch;                     /* bumped whenever the buffer is emptied */
    /* The cross-page link (emit_cross_link) a unit left by last, and the
     * pc it left for, until jit_link_cross points it at the unit there. */
    uint8_t *cross_link;
    uint64_t cross_pc;
    /* One jalr_cache per JALR in the buffer (emit_jalr_cross), emptied
     * with it. */
    struct jalr_cache *jalr_caches;
    size_t jalr_cache_cap, jalr_caches_used;
    /* Emptied with the buffer: every slot then holds `no_return`, whose
     * target matches none. */
    struct ras ras;
    struct jalr_cache no_return;
    bool host_fma;                      /* the host has FMA3 (fused ops in host code) */
    struct jit_perf_map perf_map;       /* file NULL: none */
    struct jit_stats stats;
};

/* Offsets into struct hart for the translated code, from rbx, which
 * points HART_BIAS bytes into it: every x register is then within an
 * 8-bit displacement (-128..120), which saves 3 bytes on each access to
 * x16-x31 (the a6-a7, s2-s11 and t3-t6 of the calling convention). */
#define HART_BIAS 128
#define HART_OFF(field) ((int32_t)offsetof(struct hart, field) - HART_BIAS)
#define X_OFF(i) (HART_OFF(x) + 8 * (int32_t)(i))
_Static_assert(X_OFF(0) >= -128 && X_OFF(31) <= 127, "x[] in reach of an 8-bit displacement");
#define F_OFF(i) (HART_OFF(f) + 8 * (int32_t)(i))
#define EPOCH_OFF (HART_OFF(tlb) + (int32_t)offsetof(struct tlb, epoch_tag))
#define PAGE_OFF(field) ((int32_t)offsetof(struct icache_page, field))
#define TLB_WRITE_OFF ((int32_t)(TLB_SIZE * sizeof(struct tlb_entry)))
_Static_assert(sizeof(struct tlb_entry) == 32, "the index is scaled by a shift of 5");
_Static_assert(((uint64_t)TLB_SIZE << PAGE_SHIFT) <= (1ull << 32),
               "a fast-cache index comes from an address's low 32 bits");
_Static_assert(offsetof(struct tlb_entry, vpn_tag) == 0, "tag compared at [entry]");
_Static_assert(ACCESS_READ == 0 && ACCESS_WRITE == 1, "data_tlb + access * TLB_SIZE");

static bool is_branch(enum insn_op op) { return op >= OP_BEQ && op <= OP_BGEU; }

/* A load or store of the I, F or D lists; size 0 for other ops. */
struct mem_op {
    unsigned size;
    bool is_store, is_signed, is_fp;
};

static struct mem_op mem_op_of(enum insn_op op)
{
    switch (op) {
    case OP_LB: return (struct mem_op){ 1, false, true, false };
    case OP_LH: return (struct mem_op){ 2, false, true, false };
    case OP_LW: return (struct mem_op){ 4, false, true, false };
    case OP_LBU: return (struct mem_op){ 1, false, false, false };
    case OP_LHU: return (struct mem_op){ 2, false, false, false };
    case OP_LWU: return (struct mem_op){ 4, false, false, false };
    case OP_LD: return (struct mem_op){ 8, false, false, false };
    case OP_SB: return (struct mem_op){ 1, true, false, false };
    case OP_SH: return (struct mem_op){ 2, true, false, false };
    case OP_SW: return (struct mem_op){ 4, true, false, false };
    case OP_SD: return (struct mem_op){ 8, true, false, false };
    case OP_FLW: return (struct mem_op){ 4, false, false, true };
    case OP_FLD: return (struct mem_op){ 8, false, false, true };
    case OP_FSW: return (struct mem_op){ 4, true, false, true };
    case OP_FSD: return (struct mem_op){ 8, true, false, true };
    default: return (struct mem_op){ 0, false, false, false };
    }
}

/* ------------------------------------------------------ helpers called */

/* The slow paths of a translated load or store (a fast-cache miss, a page
 * crossing, a device): what exec.c's exec_load and exec_store do. */
static bool load_slow(struct hart *h, uint64_t va, const struct insn *in)
{
    struct mem_op m = mem_op_of((enum insn_op)in->op);
    uint64_t v;
    if (!hart_load_slow(h, va, m.size, &v))
        return false;
    if (m.is_signed && m.size < 8) {
        unsigned shift = 64 - 8 * m.size;
        v = (uint64_t)((int64_t)(v << shift) >> shift);
    }
    if (in->rd)
        h->x[in->rd] = v;
    return true;
}

static bool store_slow(struct hart *h, uint64_t va, const struct insn *in)
{
    return hart_store_slow(h, va, mem_op_of((enum insn_op)in->op).size, h->x[in->rs2]);
}

/* ---------------------------------------------------------- the units */

struct unit_insn {
    const struct insn *in;
    uint64_t pc;
    bool is_target;             /* some jump in the unit lands here */
    const uint8_t *label;       /* its code, once emitted */
};

/* A jump in the unit to an instruction emitted later. */
struct fixup {
    uint8_t *at;
    unsigned target;            /* index into insn[] */
};

/* A conditional exit, emitted after the unit's code: set pc (unless the
 * trap already did) and return r14 + retired. */
struct side_exit {
    uint8_t *at;
    uint64_t pc;
    bool set_pc;
    unsigned retired;
    bool write_back;            /* the resident registers to struct hart first */
    bool poll;                  /* end the block too (poll_now) */
};

#define MAX_EXITS (4 * JIT_UNIT_MAX_INSNS)

/* A linked jump out of the unit: its jmp, and the pc it leaves for; for
 * a jump to another page (cross), the jumps of its guard that miss and
 * the one taken if the hart was kicked (emit_cross_link). */
struct link_exit {
    uint8_t *link;
    uint64_t pc;
    bool cross;
    uint8_t *kicked;
    uint8_t *miss[3];
};

/* A rarely taken path, emitted after the unit's code so that what runs
 * every time lies together in as few cache lines as it can: a load or
 * store's slow path (emit_mem), or the spin detector's call at a jump back
 * to `target` (emit_spin_check; ui = NULL). Entered by the jumps in `from`
 * (NULL: none), it returns to `back`. */
struct slow_path {
    uint8_t *from[3];
    uint8_t *back;
    const struct unit_insn *ui;
    uint64_t target;
    unsigned pending;           /* u->pending at the instruction */
};

/* Host registers that hold a unit's resident guest registers (see
 * choose_residents): caller-saved, so written back before every call and
 * loaded again after it. */
static const unsigned resident_host[] = { R8, R9, R10, R11 };
#define MAX_RESIDENTS (sizeof resident_host / sizeof resident_host[0])

struct unit {
    struct jit *j;
    struct icache_page *page;   /* where the instructions come from */
    struct x86_buf b;
    uint8_t *link_entry;        /* where linked units enter */
    struct unit_insn insn[JIT_UNIT_MAX_INSNS];
    unsigned n;
    uint64_t end_pc;            /* where the unit continues past its last instruction */
    unsigned pending;           /* retired since r14 was updated */
    struct fixup fixups[JIT_UNIT_MAX_INSNS];
    unsigned nfixups;
    struct side_exit exits[MAX_EXITS];
    unsigned nexits;
    struct slow_path slow[JIT_UNIT_MAX_INSNS];
    unsigned nslow;
    struct link_exit links[JIT_UNIT_MAX_INSNS + 1];     /* one per jump, and the end */
    unsigned nlinks;
    /* Guest registers kept in host registers while the unit runs:
     * home[x] is the host register of x, or 0 (x in struct hart only). */
    uint8_t home[32];
    bool written[32];           /* some instruction of the unit's host code writes x */
    unsigned nresidents;
    bool residents_loaded;      /* emitting past the point that loads them */
};

/* The unit's instruction at pc, or -1. */
static int unit_index_of(const struct unit *u, uint64_t pc)
{
    for (unsigned i = 0; i < u->n; i++)
        if (u->insn[i].pc == pc)
            return (int)i;
    return -1;
}

static uint64_t jump_target(const struct unit_insn *ui) { return ui->pc + (uint64_t)ui->in->imm; }

/* Gather the unit's instructions from the page: straight on until an
 * instruction that ends units, the page's end or the size limit; past an
 * unconditional jump only if an earlier branch jumps further ahead. */
static void collect(struct unit *u, struct icache_page *p, unsigned index, uint64_t pc)
{
    uint64_t furthest = 0;
    u->n = 0;
    while (u->n < JIT_UNIT_MAX_INSNS) {
        struct insn *in = &p->slot[index];
        if (in->len == 0 && !icache_decode_slot(p, index))
            break;
        if ((pc & (PAGE_SIZE - 1)) + in->len > PAGE_SIZE || jit_ends_unit(in))
            break;
        u->insn[u->n++] = (struct unit_insn){ in, pc, false, NULL };
        enum insn_op op = (enum insn_op)in->op;
        if (is_branch(op) || op == OP_JAL) {
            uint64_t t = pc + (uint64_t)in->imm;
            if (t > furthest && (t & PAGE_MASK) == (pc & PAGE_MASK))
                furthest = t;
        }
        pc += in->len;
        index = icache_slot_of(pc);
        if ((op == OP_JAL || op == OP_JALR) && furthest < pc)
            break;
        if (index == 0)
            break;                      /* the page ended */
    }
    u->end_pc = pc;
    for (unsigned i = 0; i < u->n; i++) {
        enum insn_op op = (enum insn_op)u->insn[i].in->op;
        if (!is_branch(op) && op != OP_JAL)
            continue;
        int t = unit_index_of(u, jump_target(&u->insn[i]));
        if (t >= 0)
            u->insn[t].is_target = true;
    }
}

/* ---- emitting: guest registers ---- */

static void get_x(struct unit *u, unsigned r, unsigned i)
{
    if (i == 0)
        x86_mov_imm(&u->b, r, 0);
    else if (u->home[i])
        x86_mov(&u->b, r, u->home[i]);
    else
        x86_load64(&u->b, r, RBX, X_OFF(i));
}

static void put_x(struct unit *u, unsigned r, unsigned i)
{
    if (i == 0)
        return;
    if (u->home[i])
        x86_mov(&u->b, u->home[i], r);
    else
        x86_store64(&u->b, r, RBX, X_OFF(i));
}

/* The resident registers from struct hart into their host registers. */
static void load_residents(struct unit *u)
{
    for (unsigned i = 1; i < 32; i++)
        if (u->home[i])
            x86_load64(&u->b, u->home[i], RBX, X_OFF(i));
}

/* And back, before anything that reads struct hart's registers or leaves:
 * those the unit's host code writes (the others are as they were). */
static void write_back_residents(struct unit *u)
{
    for (unsigned i = 1; i < 32; i++)
        if (u->home[i] && u->written[i])
            x86_store64(&u->b, u->home[i], RBX, X_OFF(i));
}

/* h->pc = v */
static void set_pc(struct x86_buf *b, uint64_t v)
{
    if (x86_fits_i32((int64_t)v)) {
        x86_store_imm32(b, RBX, HART_OFF(pc), (int32_t)v);
    } else {
        x86_mov_imm(b, RAX, v);
        x86_store64(b, RAX, RBX, HART_OFF(pc));
    }
}

/* ---- emitting: counting and leaving ---- */

static void flush_pending(struct unit *u)
{
    if (u->pending)
        x86_alu_imm(&u->b, true, ALU_ADD, R14, (int32_t)u->pending);
    u->pending = 0;
}

/* Leave now: h->pc = pc (unless set_pc is false), return r14 + retired
 * and no link. */
static void emit_exit(struct unit *u, uint64_t pc, bool with_pc, unsigned retired,
                      bool write_back, bool poll)
{
    if (write_back)
        write_back_residents(u);
    if (poll)
        x86_store_imm8(&u->b, RBX, HART_OFF(poll_now), 1);
    if (with_pc)
        set_pc(&u->b, pc);
    x86_lea(&u->b, RAX, R14, (int32_t)retired);
    x86_alu(&u->b, false, ALU_XOR, RDX, RDX);
    x86_patch(x86_jmp(&u->b), u->j->exit_stub);
}

static void emit_cross_link(struct unit *u, uint64_t pc);

/* Leave for the constant pc: through a link (see the top) if pc lies in
 * the unit's page, else through a cross-page link behind its guard
 * (emit_cross_link). The link's exit tells the dispatcher which it was
 * and, for the first, the page: along a chain of units the unit that
 * leaves may not be from the page the dispatcher entered. */
static void emit_jump_out(struct unit *u, uint64_t pc)
{
    flush_pending(u);
    write_back_residents(u);            /* the next unit loads its own */
    if ((pc & PAGE_MASK) != (u->insn[0].pc & PAGE_MASK))
        emit_cross_link(u, pc);
    else
        u->links[u->nlinks++] = (struct link_exit){ .link = x86_jmp(&u->b), .pc = pc };
}

/* Bytes from a cross-page link's jmp displacement back to the immediates
 * jit_link_cross patches: the generation (cmp dword [rcx + 12], imm32;
 * jne rel32; jmp) and the page (movabs rdx, imm64; cmp rcx, rdx; jne
 * rel32; then those). */
#define CROSS_GEN_BACK (4 + 6 + 1)
#define CROSS_PAGE_BACK (CROSS_GEN_BACK + 3 + 3 + 6 + 8)
_Static_assert(offsetof(struct icache_page, generation) > 0 &&
               offsetof(struct icache_page, generation) < 128,
               "the generation's cmp takes an 8-bit displacement (CROSS_PAGE_BACK)");
/* The page a cross-page link names before it is linked: no fast-cache
 * entry holds it, so the guard misses before it reads the page. */
#define CROSS_UNLINKED 1u

/* A jump to the constant pc in another page, made as the cross-page stub
 * would make it but with the stub's lookups answered in advance: its
 * guard checks that the hart was not kicked, that the fast cache's fetch
 * entry for pc's page names the decoded page the target unit was made
 * from, and that the page's generation is still the one it was made at;
 * then it jumps straight to that unit's link entry. The immediates are
 * filled in by jit_link_cross, the first time the dispatcher finds the
 * unit at pc after the guard missed (emit_link_exit). A jump so predicted
 * directly costs no jit_ref load and no indirect jump: the stub's
 * `jmp rdx` was one indirect branch for every call and return between
 * pages, mispredicted more often than not. The unit at pc stays valid for
 * as long as the guard holds: it was made for pc's virtual page and the
 * page's slots as they are at that generation, and the code buffer
 * (which holds both units) has not been emptied. */
static void emit_cross_link(struct unit *u, uint64_t pc)
{
    enum { TAG = offsetof(struct tlb_entry, vpn_tag), CODE = offsetof(struct tlb_entry, code) };
    struct x86_buf *b = &u->b;
    struct link_exit *l = &u->links[u->nlinks++];
    int32_t entry = (int32_t)(((pc >> PAGE_SHIFT) & (TLB_SIZE - 1)) * sizeof(struct tlb_entry));
    *l = (struct link_exit){ .pc = pc, .cross = true };
    x86_cmp_mem8(b, RBX, HART_OFF(kicked), 0);                     /* emit_kick_check */
    l->kicked = x86_jcc(b, CC_NE);
    x86_mov_imm(b, RCX, pc >> PAGE_SHIFT);
    x86_alu(b, true, ALU_OR, RCX, R15);                             /* rcx = the tag */
    x86_load64(b, RDX, RBX, HART_OFF(jit_fetch_tlb));
    x86_alu_mem(b, ALU_CMP, RCX, RDX, entry + TAG);
    l->miss[0] = x86_jcc(b, CC_NE);
    x86_load64(b, RCX, RDX, entry + CODE);                          /* rcx = the page */
    uint8_t *page = x86_mov_imm64(b, RDX, CROSS_UNLINKED);
    x86_alu(b, true, ALU_CMP, RCX, RDX);
    l->miss[1] = x86_jcc(b, CC_NE);
    uint8_t *gen = x86_cmp_mem32_imm32(b, RCX, PAGE_OFF(generation), 0);
    l->miss[2] = x86_jcc(b, CC_NE);
    l->link = x86_jmp(b);
    assert(b->full || (l->link - gen == CROSS_GEN_BACK && l->link - page == CROSS_PAGE_BACK));
    (void)gen, (void)page;              /* jit_link_cross finds them from l->link */
}

/* A link's exit (see emit_jump_out), after the unit's code: the jmp goes
 * here until jit_link points it at the target's unit. */
static void emit_link_exit(struct unit *u, const struct link_exit *l)
{
    struct x86_buf *b = &u->b;
    if (l->cross) {                     /* kicked: end the block too */
        x86_patch(l->kicked, b->p);
        x86_store_imm8(b, RBX, HART_OFF(poll_now), 1);
        for (unsigned i = 0; i < 3; i++)
            x86_patch(l->miss[i], b->p);
    }
    x86_patch(l->link, b->p);
    set_pc(b, l->pc);
    /* the link's page, or NULL for a cross-page link (jit.h) */
    x86_mov_imm(b, RAX, l->cross ? 0 : (uint64_t)(uintptr_t)u->page);
    x86_store64(b, RAX, RBX, HART_OFF(jit_link_page));
    x86_mov(b, RAX, R14);
    x86_lea_rip(b, RDX, l->link);
    x86_patch(x86_jmp(b), u->j->exit_stub);
}

/* Leave when condition cc holds, through a side exit emitted later. */
static void exit_if(struct unit *u, enum x86_cond cc, uint64_t pc, bool with_pc, unsigned retired)
{
    uint8_t *at = x86_jcc(&u->b, cc);
    if (u->nexits == MAX_EXITS) {
        u->b.full = true;               /* cannot happen: at most 3 per instruction */
        return;
    }
    u->exits[u->nexits++] = (struct side_exit){ at, pc, with_pc, retired, u->residents_loaded,
                                                false };
}

/* exit_if, and the block ends there too (poll_now): something the block's
 * end looks at (interrupts, the coherence layer's requests) has moved. */
static void exit_if_polling(struct unit *u, enum x86_cond cc, uint64_t pc, unsigned retired)
{
    exit_if(u, cc, pc, true, retired);
    if (u->nexits)
        u->exits[u->nexits - 1].poll = true;
}

/* After a call that may have trapped (al = false) or asked for a poll:
 * leave with what retired before the instruction, or with it retired. */
static void check_helper_result(struct unit *u, uint64_t next_pc)
{
    x86_op_reg(&u->b, false, 0x84, RAX, RAX);          /* test al, al */
    exit_if(u, CC_E, 0, false, u->pending);
    x86_test_mem8(&u->b, RBX, HART_OFF(poll_now), 1);
    exit_if(u, CC_NE, next_pc, true, u->pending + 1);
}

/* A call: it may have moved the fast cache's epoch (a flush) or the data
 * context (a write to SUM, hart.h jit_data_tlb), so both are reloaded. */
static void call_helper(struct unit *u, uintptr_t fn)
{
    write_back_residents(u);
    x86_lea(&u->b, RDI, RBX, -HART_BIAS);
    x86_call(&u->b, fn);
    x86_load64(&u->b, R15, RBX, EPOCH_OFF);
    x86_load64(&u->b, R12, RBX, HART_OFF(jit_data_tlb));
    load_residents(u);
}

/* ---- emitting: instructions ---- */

/* Anything not in host code: hart_execute_decoded runs it at h->pc, or
 * for F and D arithmetic hart_execute_fp, which skips the interpreter's
 * dispatch (the compute guest's FP kernel: 84.9 -> 76.9 ms, median of 8
 * pairs). pc is set first for the trap an instruction may take. */
static void emit_by_call(struct unit *u, const struct unit_insn *ui)
{
    bool fp = fpu_is_computational((enum insn_op)ui->in->op);
    set_pc(&u->b, ui->pc);
    x86_mov_imm(&u->b, RSI, (uint64_t)(uintptr_t)ui->in);
    call_helper(u, fp ? (uintptr_t)hart_execute_fp : (uintptr_t)hart_execute_decoded);
    check_helper_result(u, ui->pc + ui->in->len);
}

/* ---- sstatus's SIE and SUM in host code ---- */

/* The writes to sstatus that translated code makes itself: those that
 * read nothing back (rd = x0) and set or clear one bit, SIE (csrsi /
 * csrci with uimm 2: Linux's local_irq_disable and _enable) or, from a
 * register, SIE or SUM (local_irq_restore's csrs of the saved SIE, and
 * the csrs / csrc of SUM around every access to user memory). */
enum sstatus_form { SSTATUS_NONE, SSTATUS_SIE_IMM, SSTATUS_REG };

static enum sstatus_form sstatus_form_of(const struct insn *in)
{
    enum insn_op op = (enum insn_op)in->op;
    if (in->imm != CSR_NUMBER_SSTATUS || in->rd != 0)
        return SSTATUS_NONE;
    if ((op == OP_CSRRSI || op == OP_CSRRCI) && in->rs1 == MSTATUS_SIE)
        return SSTATUS_SIE_IMM;
    if ((op == OP_CSRRS || op == OP_CSRRC) && in->rs1 != 0)
        return SSTATUS_REG;
    return SSTATUS_NONE;
}

/* or / and [mstatus], the bit (or its complement) */
static void emit_mstatus_bit(struct x86_buf *b, uint64_t bit, bool set)
{
    x86_mov_imm(b, RCX, set ? bit : ~bit);
    x86_op_mem(b, true, set ? 0x09 : 0x21, RCX, RBX, HART_OFF(mstatus));
}

/* SIE set: an interrupt pending and enabled may now be taken, so the unit
 * leaves past the instruction with poll_now set (csr.c's mstatus_write). */
static void emit_sie_set(struct unit *u, const struct unit_insn *ui)
{
    struct x86_buf *b = &u->b;
    emit_mstatus_bit(b, MSTATUS_SIE, true);
    x86_load64(b, RAX, RBX, HART_OFF(mip));
    x86_alu_mem(b, ALU_AND, RAX, RBX, HART_OFF(mie));
    exit_if_polling(u, CC_NE, ui->pc + ui->in->len, u->pending + 1);
}

/* SUM changed in S-mode: loads and stores go on in the other context of
 * the fast cache (r12), as csr.c points jit_data_tlb there. */
static void emit_sum_write(struct unit *u, bool set)
{
    struct x86_buf *b = &u->b;
    emit_mstatus_bit(b, MSTATUS_SUM, set);
    x86_lea(b, R12, RBX, HART_OFF(tlb) + (int32_t)offsetof(struct tlb, e) +
            (set ? TLB_CTX_S_SUM : TLB_CTX_S) * (int32_t)sizeof(((struct tlb *)0)->e[0]));
    x86_store64(b, R12, RBX, HART_OFF(jit_data_tlb));
}

/* One of sstatus_form_of's writes: in host code in S-mode (where the
 * access is legal and the data context is SUM's alone), through the
 * interpreter anywhere else and for any other value. */
static void emit_sstatus_write(struct unit *u, const struct unit_insn *ui, enum sstatus_form form)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    bool set = in->op == OP_CSRRSI || in->op == OP_CSRRS;
    uint8_t *not_s_mode, *other_value = NULL, *sum_done = NULL;
    x86_cmp_mem32(b, RBX, HART_OFF(priv), PRIV_S);
    not_s_mode = x86_jcc(b, CC_NE);
    if (form == SSTATUS_REG) {          /* SUM, SIE, or anything else by call */
        get_x(u, RAX, in->rs1);
        x86_alu_imm(b, true, ALU_CMP, RAX, (int32_t)MSTATUS_SUM);
        uint8_t *not_sum = x86_jcc(b, CC_NE);
        emit_sum_write(u, set);
        sum_done = x86_jmp(b);
        x86_patch(not_sum, b->p);
        x86_alu_imm(b, true, ALU_CMP, RAX, (int32_t)MSTATUS_SIE);
        other_value = x86_jcc(b, CC_NE);
    }
    if (set)
        emit_sie_set(u, ui);
    else
        emit_mstatus_bit(b, MSTATUS_SIE, false);
    uint8_t *sie_done = x86_jmp(b);
    x86_patch(not_s_mode, b->p);
    if (other_value)
        x86_patch(other_value, b->p);
    emit_by_call(u, ui);
    x86_patch(sie_done, b->p);
    if (sum_done)
        x86_patch(sum_done, b->p);
}

/* A jump to be patched to the slow path, taken when mstatus.FS is Off
 * (the interpreter then raises illegal-instruction). */
static uint8_t *emit_jump_if_fs_off(struct x86_buf *b)
{
    x86_test_mem8(b, RBX, HART_OFF(mstatus) + 1, (uint8_t)(MSTATUS_FS >> 8));
    return x86_jcc(b, CC_E);
}

/* mstatus.FS = Dirty, and SD with it (privileged spec 3.1.6.6). */
static void emit_fs_dirty(struct x86_buf *b)
{
    x86_mov_imm(b, RCX, (uint64_t)FS_DIRTY << MSTATUS_FS_SHIFT | MSTATUS_SD);
    x86_op_mem(b, true, 0x09, RCX, RBX, HART_OFF(mstatus));  /* or [mstatus], rcx */
}

/* F and D arithmetic in host code, where the host computes exactly what
 * fpu_execute would (what softfloat-based emulators call hardfloat):
 *  - the rounding mode is RNE (static, or DYN with frm = RNE): SSE rounds
 *    by MXCSR, RNE by default, and FMA3 rounds once, as the fused ops must
 *    (unprivileged spec 11.6);
 *  - fflags.NX is already set (it is sticky: in FP code it stays set after
 *    the first inexact result), so whether this result is exact does not
 *    matter;
 *  - the result is normal with an exponent field of at least 2. Then every
 *    operand was finite (an infinite or NaN operand makes the result
 *    infinite, NaN or zero), so NV, DZ and OF cannot arise, and a result
 *    that large was not tiny, so neither can UF (tininess after rounding,
 *    spec 11.2): the flags stay as they are. Field 1 is not enough: an
 *    exact result just below 2^-1022 that rounds up to it is tiny (see
 *    test_fp_tiny_after_rounding in unit/test_jit);
 *  - mstatus.FS is not Off, and single-precision operands are NaN-boxed
 *    (spec 13.2).
 * Anything else (the first inexact operation, a zero, a NaN, FS = Off)
 * goes to hart_execute_fp through emit_by_call, which starts again from
 * the registers, untouched so far. */
struct host_fp {
    bool is_double;
    unsigned operands;          /* 1 (sqrt), 2 or 3 (fused) */
    enum x86_sse sse;           /* for 1 and 2 operands */
    enum x86_fma fma;           /* for 3 */
};

static bool host_fp_of(enum insn_op op, bool host_fma, struct host_fp *hf)
{
    bool d = op >= OP_FMADD_D;
    switch (op) {
    case OP_FADD_S: case OP_FADD_D: *hf = (struct host_fp){ d, 2, SSE_ADD, 0 }; return true;
    case OP_FSUB_S: case OP_FSUB_D: *hf = (struct host_fp){ d, 2, SSE_SUB, 0 }; return true;
    case OP_FMUL_S: case OP_FMUL_D: *hf = (struct host_fp){ d, 2, SSE_MUL, 0 }; return true;
    case OP_FDIV_S: case OP_FDIV_D: *hf = (struct host_fp){ d, 2, SSE_DIV, 0 }; return true;
    case OP_FSQRT_S: case OP_FSQRT_D: *hf = (struct host_fp){ d, 1, SSE_SQRT, 0 }; return true;
    /* rs1 * rs2 + rs3, - rs3; -(rs1 * rs2) + rs3, - rs3 */
    case OP_FMADD_S: case OP_FMADD_D: *hf = (struct host_fp){ d, 3, 0, FMA_ADD }; return host_fma;
    case OP_FMSUB_S: case OP_FMSUB_D: *hf = (struct host_fp){ d, 3, 0, FMA_SUB }; return host_fma;
    case OP_FNMSUB_S: case OP_FNMSUB_D:
        *hf = (struct host_fp){ d, 3, 0, FMA_NEG_ADD };
        return host_fma;
    case OP_FNMADD_S: case OP_FNMADD_D:
        *hf = (struct host_fp){ d, 3, 0, FMA_NEG_SUB };
        return host_fma;
    default:
        return false;
    }
}

static void emit_fp_host(struct unit *u, const struct unit_insn *ui, const struct host_fp *hf)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    const unsigned rs[3] = { in->rs1, in->rs2, in->rs3 };
    uint8_t *slow[8];
    unsigned nslow = 0;
    slow[nslow++] = emit_jump_if_fs_off(b);
    x86_test_mem8(b, RBX, HART_OFF(fflags), FFLAG_NX);
    slow[nslow++] = x86_jcc(b, CC_E);
    if (in->rm == RM_DYN) {
        x86_cmp_mem8(b, RBX, HART_OFF(frm), RM_RNE);
        slow[nslow++] = x86_jcc(b, CC_NE);
    }
    for (unsigned i = 0; i < hf->operands && !hf->is_double; i++) {
        x86_cmp_mem32(b, RBX, F_OFF(rs[i]) + 4, -1);   /* the upper half all ones */
        slow[nslow++] = x86_jcc(b, CC_NE);
    }
    if (hf->operands == 1) {
        x86_sse_mem(b, hf->is_double, hf->sse, 0, RBX, F_OFF(rs[0]));
    } else {
        x86_sse_mem(b, hf->is_double, SSE_LOAD, 0, RBX, F_OFF(rs[0]));
        if (hf->operands == 2) {
            x86_sse_mem(b, hf->is_double, hf->sse, 0, RBX, F_OFF(rs[1]));
        } else {
            x86_sse_mem(b, hf->is_double, SSE_LOAD, 1, RBX, F_OFF(rs[1]));
            x86_fma213_mem(b, hf->is_double, hf->fma, 0, 1, RBX, F_OFF(rs[2]));
        }
    }
    /* the result into rax, its exponent field into ecx */
    x86_mov_from_xmm(b, hf->is_double, RAX, 0);
    x86_mov(b, RCX, RAX);
    x86_shift(b, hf->is_double, SHIFT_SHL, RCX, 1);
    x86_shift(b, hf->is_double, SHIFT_SHR, RCX, hf->is_double ? 53 : 24);
    x86_alu_imm(b, false, ALU_SUB, RCX, 2);
    x86_alu_imm(b, false, ALU_CMP, RCX, hf->is_double ? 0x7fc : 0xfc);
    slow[nslow++] = x86_jcc(b, CC_A);
    if (!hf->is_double) {
        x86_mov_imm(b, RCX, ~0ull << 32);                   /* NaN-box */
        x86_alu(b, true, ALU_OR, RAX, RCX);
    }
    x86_store64(b, RAX, RBX, F_OFF(in->rd));
    emit_fs_dirty(b);
    uint8_t *done = x86_jmp(b);
    for (unsigned i = 0; i < nslow; i++)
        x86_patch(slow[i], b->p);
    emit_by_call(u, ui);
    x86_patch(done, b->p);
}

/* dst = the offset of the fast-cache entry of the address in src, from
 * the start of its context's table: the vpn's low bits scaled by an
 * entry's 32 bytes, taken from the address's low half. */
static void emit_entry_offset(struct x86_buf *b, unsigned dst, unsigned src)
{
    x86_op_reg(b, false, 0x89, src, dst);                           /* mov dst32, src32 */
    x86_shift(b, false, SHIFT_SHR, dst, PAGE_SHIFT - 5);
    x86_alu_imm(b, false, ALU_AND, dst, (TLB_SIZE - 1) << 5);
}

/* rax = the address of an access of `size` bytes: the entry of the data
 * context's table at entry_off (r12 + entry_off: reads or writes) into
 * rcx and, on a hit, the host address into rax; returns the jump taken on
 * a miss. The tag compared is that of the access's last byte, while the
 * entry is the first byte's: they match only if both bytes lie in the
 * entry's page (a page two vpns share an entry with is TLB_SIZE pages
 * away), so an access that crosses a page misses, with no test of its
 * own. */
static uint8_t *emit_fast_cache_probe(struct x86_buf *b, int32_t entry_off, unsigned size)
{
    emit_entry_offset(b, RCX, RAX);
    x86_alu(b, true, ALU_ADD, RCX, R12);                            /* rcx = the entry */
    if (size > 1)
        x86_lea(b, RDX, RAX, (int32_t)size - 1);
    else
        x86_mov(b, RDX, RAX);
    x86_shift(b, true, SHIFT_SHR, RDX, PAGE_SHIFT);
    x86_alu(b, true, ALU_OR, RDX, R15);
    x86_alu_mem(b, ALU_CMP, RDX, RCX, entry_off);
    uint8_t *miss = x86_jcc(b, CC_NE);
    x86_alu_mem(b, ALU_ADD, RAX, RCX, entry_off + (int32_t)offsetof(struct tlb_entry, addend));
    return miss;
}

/* A load or store: the fast cache probed in host code as tlb_lookup
 * (mmu.h) does, the access made through the host pointer on a hit. The
 * slow path (a miss, a page crossing, a device, FS = Off) runs the whole
 * instruction again through access.c or exec.c, out of line
 * (emit_mem_slow): inline, it took half of each access's bytes and
 * spread the hot code over twice the cache lines. F and D accesses need
 * mstatus.FS on and make it Dirty (privileged spec 3.1.6.6); FLW NaN-boxes
 * (unprivileged spec 13.2). */
static void emit_mem(struct unit *u, const struct unit_insn *ui)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    const struct mem_op m = mem_op_of((enum insn_op)in->op);
    uint8_t *fs_off = NULL, *miss;
    if (m.is_fp)
        fs_off = emit_jump_if_fs_off(b);
    if (m.is_store)
        x86_store_imm8(b, RBX, HART_OFF(spin_wrote), 1);
    get_x(u, RAX, in->rs1);
    if (in->imm)
        x86_alu_imm(b, true, ALU_ADD, RAX, in->imm);
    miss = emit_fast_cache_probe(b, m.is_store ? TLB_WRITE_OFF : 0, m.size);
    if (m.is_store) {
        if (m.is_fp)
            x86_load64(b, RDX, RBX, F_OFF(in->rs2));
        else
            get_x(u, RDX, in->rs2);
        if (m.size == 2)
            x86_u8(b, 0x66);
        x86_op_mem(b, m.size == 8, m.size == 1 ? 0x88 : 0x89, RDX, RAX, 0);
    } else {
        static const unsigned zero_ext[9] = { [1] = 0x0fb6, [2] = 0x0fb7, [4] = 0x8b, [8] = 0x8b };
        static const unsigned sign_ext[9] = { [1] = 0x0fbe, [2] = 0x0fbf, [4] = 0x63, [8] = 0x8b };
        x86_op_mem(b, m.is_signed || m.size == 8, m.is_signed ? sign_ext[m.size] : zero_ext[m.size],
                   RDX, RAX, 0);
        if (m.is_fp) {
            if (m.size == 4) {
                x86_mov_imm(b, RCX, ~0ull << 32);                   /* NaN-box */
                x86_alu(b, true, ALU_OR, RDX, RCX);
            }
            x86_store64(b, RDX, RBX, F_OFF(in->rd));
            emit_fs_dirty(b);
        } else {
            put_x(u, RDX, in->rd);
        }
    }
    u->slow[u->nslow++] = (struct slow_path){ { fs_off, miss }, b->p, ui, 0, u->pending };
}

/* Where a slow path begins: its jumps land here, with the count of
 * instructions retired as it was at them. */
static void enter_slow_path(struct unit *u, const struct slow_path *sp)
{
    for (unsigned i = 0; i < 3; i++)
        if (sp->from[i])
            x86_patch(sp->from[i], u->b.p);
    u->pending = sp->pending;
}

/* The entry of TLB_TRACED_STORES (mmu.h), from the read entry of the same
 * index (emit_fast_cache_probe's rcx). */
#define TLB_TRACED_OFF ((int32_t)(TLB_TRACED_STORES * TLB_SIZE * sizeof(struct tlb_entry)))
#define STORES_UNCHANGED_OFF \
    ((int32_t)offsetof(struct coherence_hart, stats.stores_unchanged))

/* An integer store that missed the write entry, which a page whose frame
 * holds a page table never has (mmu.h, TLB_TRACED_STORES): if its traced
 * entry matches and the store, aligned, would write what memory already
 * holds, it is done, as silent_traced_store (mem/guest_mem.c) would have
 * it done, and counted as stores_unchanged. Linux zeroes each page-table
 * page it takes, 512 stores, and a frame that was a page table is often
 * traced still; on ptbench at -smp 4 that is 500 such stores per
 * operation, each a call to access.c before. Entered with rax = the
 * address, rcx = its read entry, rdx = its tag (emit_fast_cache_probe);
 * jumps to `back` when done, falls through with rax kept otherwise. */
static void emit_silent_store(struct unit *u, const struct insn *in, unsigned size,
                              const uint8_t *back)
{
    struct x86_buf *b = &u->b;
    uint8_t *slow[3];
    x86_alu_mem(b, ALU_CMP, RDX, RCX, TLB_TRACED_OFF);
    slow[0] = x86_jcc(b, CC_NE);
    x86_op_reg(b, false, 0x89, RAX, RDX);                           /* mov edx, eax */
    x86_alu_imm(b, false, ALU_AND, RDX, (int32_t)size - 1);
    slow[1] = x86_jcc(b, CC_NE);                                    /* misaligned */
    x86_load64(b, RCX, RCX, TLB_TRACED_OFF + (int32_t)offsetof(struct tlb_entry, addend));
    x86_alu(b, true, ALU_ADD, RCX, RAX);
    get_x(u, RDX, in->rs2);
    if (size == 2)
        x86_u8(b, 0x66);
    x86_op_mem(b, size == 8, size == 1 ? 0x3a : 0x3b, RDX, RCX, 0);  /* cmp dl/dx/edx/rdx, [rcx] */
    slow[2] = x86_jcc(b, CC_NE);
    x86_load64(b, RCX, RBX, HART_OFF(coherence));
    x86_test(b, RCX);
    uint8_t *uncounted = x86_jcc(b, CC_E);      /* no coherence layer: a test's hand-made trace */
    x86_op_mem(b, true, 0xff, 0, RCX, STORES_UNCHANGED_OFF);        /* inc qword */
    x86_patch(uncounted, b->p);
    x86_patch(x86_jmp(b), back);
    for (unsigned i = 0; i < 3; i++)
        x86_patch(slow[i], b->p);
}

/* The slow path of a load or store (see emit_mem) or an AMO (emit_amo),
 * after the unit's code: the whole instruction again through access.c
 * (rax = the address at the jumps from a miss) or, for F and D and AMOs,
 * exec.c; then back to the fast path's end. */
static void emit_mem_slow(struct unit *u, const struct slow_path *sp)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = sp->ui->in;
    const struct mem_op m = mem_op_of((enum insn_op)in->op);
    enter_slow_path(u, sp);
    if (m.is_fp || !m.size) {                   /* an F or D access, or an AMO */
        emit_by_call(u, sp->ui);
    } else {
        if (m.is_store)
            emit_silent_store(u, in, m.size, sp->back);
        x86_mov(b, RSI, RAX);
        set_pc(b, sp->ui->pc);
        x86_mov_imm(b, RDX, (uint64_t)(uintptr_t)in);
        call_helper(u, m.is_store ? (uintptr_t)store_slow : (uintptr_t)load_slow);
        check_helper_result(u, sp->ui->pc + in->len);
    }
    x86_patch(x86_jmp(b), sp->back);
}

/* The AMOs made in host code (unprivileged spec 8.4): swap, add, and, or
 * and xor of a word or a doubleword, each one locked host instruction
 * (and, or and xor that return the old value: a compare-and-exchange
 * loop); ALU_CMP for the others (min and max), which call the
 * interpreter. */
static enum x86_alu host_amo_of(enum insn_op op, bool *swap, bool *wide)
{
    *wide = op >= OP_LR_D;
    *swap = op == OP_AMOSWAP_W || op == OP_AMOSWAP_D;
    switch (op) {
    case OP_AMOSWAP_W: case OP_AMOSWAP_D:
    case OP_AMOADD_W: case OP_AMOADD_D: return ALU_ADD;
    case OP_AMOAND_W: case OP_AMOAND_D: return ALU_AND;
    case OP_AMOOR_W: case OP_AMOOR_D: return ALU_OR;
    case OP_AMOXOR_W: case OP_AMOXOR_D: return ALU_XOR;
    default: return ALU_CMP;
    }
}

static bool is_host_amo(enum insn_op op)
{
    bool swap, wide;
    return host_amo_of(op, &swap, &wide) != ALU_CMP;
}

/* An AMO on an aligned address whose write entry the fast cache holds:
 * done on the host address, as hart_amo does through the same entry (a
 * frame with a write trace has no write entry, so the AMO needs no word
 * to the coherence layer); a locked host instruction orders like aq and
 * rl together. A misaligned address (an exception) or a miss goes to the
 * interpreter, out of line. */
static void emit_amo(struct unit *u, const struct unit_insn *ui)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    bool swap, wide;
    enum x86_alu op = host_amo_of((enum insn_op)in->op, &swap, &wide);
    get_x(u, RAX, in->rs1);
    x86_mov(b, RCX, RAX);
    x86_alu_imm(b, false, ALU_AND, RCX, wide ? 7 : 3);
    uint8_t *misaligned = x86_jcc(b, CC_NE);
    uint8_t *miss = emit_fast_cache_probe(b, TLB_WRITE_OFF, 1);    /* aligned: in one page */
    get_x(u, RDX, in->rs2);
    if (swap) {
        x86_op_mem(b, wide, 0x87, RDX, RAX, 0);                 /* xchg [rax], rdx */
    } else if (op == ALU_ADD) {
        x86_u8(b, 0xf0);
        x86_op_mem(b, wide, 0x0fc1, RDX, RAX, 0);               /* lock xadd [rax], rdx */
    } else if (in->rd == 0) {
        x86_u8(b, 0xf0);
        x86_op_mem(b, wide, (unsigned)op << 3 | 1, RDX, RAX, 0);   /* lock op [rax], rdx */
    } else {
        x86_mov(b, RSI, RAX);
        x86_op_mem(b, wide, 0x8b, RAX, RSI, 0);                 /* rax = [rsi] */
        uint8_t *again = b->p;
        x86_mov(b, RCX, RAX);
        x86_alu(b, wide, op, RCX, RDX);
        x86_u8(b, 0xf0);
        x86_op_mem(b, wide, 0x0fb1, RCX, RSI, 0);               /* lock cmpxchg [rsi], rcx */
        x86_patch(x86_jcc(b, CC_NE), again);
        x86_mov(b, RDX, RAX);
    }
    if (in->rd) {
        if (!wide)
            x86_movsxd(b, RDX, RDX);
        put_x(u, RDX, in->rd);
    }
    u->slow[u->nslow++] = (struct slow_path){ { misaligned, miss }, b->p, ui, 0, u->pending };
}

/* rax = x[rs1] op x[rs2] or op imm, as the interpreter's execute() cases
 * of the same name; w = false for the 32-bit (W) forms, whose result is
 * sign-extended (unprivileged spec 4.2). x86 masks shift counts to 6 bits
 * (5 for 32-bit operands), as RISC-V does. */
static bool is_host_alu(enum insn_op op)
{
    return (op >= OP_ADDI && op <= OP_SRAW) || op == OP_MUL || op == OP_MULH ||
           op == OP_MULHU || op == OP_MULW;
}

/* An is_host_alu op with a second register operand (R-type). */
static bool is_r_type(unsigned op)
{
    return (op >= OP_ADD && op <= OP_AND) || (op >= OP_ADDW && op <= OP_SRAW) || op == OP_MUL ||
           op == OP_MULH || op == OP_MULHU || op == OP_MULW;
}

static void emit_alu(struct unit *u, const struct insn *in)
{
    struct x86_buf *b = &u->b;
    enum insn_op op = (enum insn_op)in->op;
    int32_t imm = in->imm;
    bool sext = false;
    get_x(u, RAX, in->rs1);
    switch (op) {
    case OP_ADDI: if (imm) x86_alu_imm(b, true, ALU_ADD, RAX, imm); break;
    case OP_XORI: x86_alu_imm(b, true, ALU_XOR, RAX, imm); break;
    case OP_ORI: x86_alu_imm(b, true, ALU_OR, RAX, imm); break;
    case OP_ANDI: x86_alu_imm(b, true, ALU_AND, RAX, imm); break;
    case OP_SLTI: case OP_SLTIU:
        x86_alu_imm(b, true, ALU_CMP, RAX, imm);
        x86_setcc(b, op == OP_SLTI ? CC_L : CC_B, RAX);
        break;
    case OP_SLLI: x86_shift(b, true, SHIFT_SHL, RAX, imm & 63); break;
    case OP_SRLI: x86_shift(b, true, SHIFT_SHR, RAX, imm & 63); break;
    case OP_SRAI: x86_shift(b, true, SHIFT_SAR, RAX, imm & 63); break;
    case OP_ADDIW: x86_alu_imm(b, false, ALU_ADD, RAX, imm); sext = true; break;
    case OP_SLLIW: x86_shift(b, false, SHIFT_SHL, RAX, imm & 31); sext = true; break;
    case OP_SRLIW: x86_shift(b, false, SHIFT_SHR, RAX, imm & 31); sext = true; break;
    case OP_SRAIW: x86_shift(b, false, SHIFT_SAR, RAX, imm & 31); sext = true; break;
    default:
        get_x(u, RCX, in->rs2);
        switch (op) {
        case OP_ADD: x86_alu(b, true, ALU_ADD, RAX, RCX); break;
        case OP_SUB: x86_alu(b, true, ALU_SUB, RAX, RCX); break;
        case OP_XOR: x86_alu(b, true, ALU_XOR, RAX, RCX); break;
        case OP_OR: x86_alu(b, true, ALU_OR, RAX, RCX); break;
        case OP_AND: x86_alu(b, true, ALU_AND, RAX, RCX); break;
        case OP_SLT: case OP_SLTU:
            x86_alu(b, true, ALU_CMP, RAX, RCX);
            x86_setcc(b, op == OP_SLT ? CC_L : CC_B, RAX);
            break;
        case OP_SLL: x86_shift(b, true, SHIFT_SHL, RAX, -1); break;
        case OP_SRL: x86_shift(b, true, SHIFT_SHR, RAX, -1); break;
        case OP_SRA: x86_shift(b, true, SHIFT_SAR, RAX, -1); break;
        case OP_ADDW: x86_alu(b, false, ALU_ADD, RAX, RCX); sext = true; break;
        case OP_SUBW: x86_alu(b, false, ALU_SUB, RAX, RCX); sext = true; break;
        case OP_SLLW: x86_shift(b, false, SHIFT_SHL, RAX, -1); sext = true; break;
        case OP_SRLW: x86_shift(b, false, SHIFT_SHR, RAX, -1); sext = true; break;
        case OP_SRAW: x86_shift(b, false, SHIFT_SAR, RAX, -1); sext = true; break;
        case OP_MUL: x86_imul(b, true, RAX, RCX); break;
        case OP_MULW: x86_imul(b, false, RAX, RCX); sext = true; break;
        case OP_MULH: case OP_MULHU:
            x86_mul_wide(b, op == OP_MULH, RCX);
            x86_mov(b, RAX, RDX);
            break;
        default:
            break;                      /* not is_host_alu */
        }
    }
    if (sext)
        x86_movsxd(b, RAX, RAX);
    put_x(u, RAX, in->rd);
}

/* Leave for pc unless another pass through the unit fits in the budget:
 * r14 + n <= r13 (r14 up to date). */
static void emit_budget_check(struct unit *u, uint64_t pc)
{
    x86_lea(&u->b, RAX, R14, (int32_t)u->n);
    x86_alu(&u->b, true, ALU_CMP, RAX, R13);
    exit_if(u, CC_A, pc, true, 0);
}

/* Leave for pc, ending the block, if the hart has been kicked (hart_kick:
 * an interrupt line, or another hart waiting for this one's coherency
 * event, coherence_remote_fence): the block's end is where the hart looks
 * at both, and a loop in host code would otherwise run to the end of its
 * budget first. Made at every jump back and in the cross-page stub. */
static void emit_kick_check(struct unit *u, uint64_t pc)
{
    x86_cmp_mem8(&u->b, RBX, HART_OFF(kicked), 0);
    exit_if_polling(u, CC_NE, pc, 0);
}

/* The condition under which a branch is taken (cmp x[rs1], x[rs2]). */
static enum x86_cond branch_cond(enum insn_op op)
{
    switch (op) {
    case OP_BEQ: return CC_E;
    case OP_BNE: return CC_NE;
    case OP_BLT: return CC_L;
    case OP_BGE: return CC_GE;
    case OP_BLTU: return CC_B;
    default: return CC_AE;              /* BGEU */
    }
}

static enum x86_cond inverse(enum x86_cond cc) { return (enum x86_cond)(cc ^ 1); }

_Static_assert(offsetof(struct hart, spin_backoff) == offsetof(struct hart, spin_count) + 4,
               "one 8-byte store clears spin_count and spin_backoff");

/* exec.c's note_backward_jump for a jump back to t, with its two common
 * cases in host code: a round of a loop that changed nothing the detector
 * watches only counts, and a round after a store, or of another loop,
 * starts counting afresh. The rest (an IPI unanswered; the rounds where
 * the registers are hashed and the hart may yield) calls it, from after
 * the unit's code (emit_spin_call). r14 must be up to date. */
static void emit_spin_check(struct unit *u, uint64_t t)
{
    struct x86_buf *b = &u->b;
    x86_mov_imm(b, RSI, t);
    x86_op_mem(b, false, 0x8b, RAX, RBX, HART_OFF(ipi_unanswered));    /* mov eax, [..] */
    x86_op_reg(b, false, 0x85, RAX, RAX);                               /* test eax, eax */
    uint8_t *call1 = x86_jcc(b, CC_NE);
    x86_test_mem8(b, RBX, HART_OFF(spin_wrote), 1);
    uint8_t *reset1 = x86_jcc(b, CC_NE);
    x86_alu_mem(b, ALU_CMP, RSI, RBX, HART_OFF(spin_pc));
    uint8_t *reset2 = x86_jcc(b, CC_NE);
    /* the same loop again, nothing stored: spin_count + 1 unless that is
     * 1 (hash the registers) or past 16 << spin_backoff (look at them) */
    x86_op_mem(b, false, 0x8b, RAX, RBX, HART_OFF(spin_count));
    x86_alu_imm(b, false, ALU_ADD, RAX, 1);
    x86_alu_imm(b, false, ALU_CMP, RAX, 1);
    uint8_t *call2 = x86_jcc(b, CC_E);
    x86_op_mem(b, false, 0x8b, RCX, RBX, HART_OFF(spin_backoff));
    x86_mov_imm(b, RDX, 16);
    x86_shift(b, false, SHIFT_SHL, RDX, -1);
    x86_alu(b, false, ALU_CMP, RAX, RDX);
    uint8_t *call3 = x86_jcc(b, CC_A);
    x86_op_mem(b, false, 0x89, RAX, RBX, HART_OFF(spin_count));        /* mov [..], eax */
    uint8_t *done1 = x86_jmp(b);
    /* another loop, or a store since the last round: count afresh */
    x86_patch(reset1, b->p);
    x86_patch(reset2, b->p);
    x86_store64(b, RSI, RBX, HART_OFF(spin_pc));
    x86_store_imm32(b, RBX, HART_OFF(spin_count), 0);                   /* and spin_backoff */
    x86_store_imm32(b, RBX, HART_OFF(spin_started), 0);
    x86_store_imm8(b, RBX, HART_OFF(spin_wrote), 0);
    x86_patch(done1, b->p);
    u->slow[u->nslow++] = (struct slow_path){ { call1, call2, call3 }, b->p, NULL, t, 0 };
}

/* The detector's call (see emit_spin_check), after the unit's code. */
static void emit_spin_call(struct unit *u, const struct slow_path *sp)
{
    struct x86_buf *b = &u->b;
    enter_slow_path(u, sp);
    x86_mov_imm(b, RSI, sp->target);
    call_helper(u, (uintptr_t)hart_note_backward_jump);
    x86_test_mem8(b, RBX, HART_OFF(poll_now), 1);
    exit_if(u, CC_NE, sp->target, true, 0);
    x86_patch(x86_jmp(b), sp->back);
}

/* A taken jump from ui to the constant target t, the jump itself counted
 * in pending. A short backward jump first goes through the spin-loop
 * detector, as exec.c's jump_to does. A target in the unit is jumped to,
 * after a budget check if it lies behind; any other target leaves. */
static void emit_taken(struct unit *u, const struct unit_insn *ui, uint64_t t)
{
    struct x86_buf *b = &u->b;
    bool backward = t < ui->pc;
    if (backward && ui->pc - t <= 128) {
        flush_pending(u);
        emit_spin_check(u, t);
    }
    int target = unit_index_of(u, t);
    if (target < 0) {
        emit_jump_out(u, t);
        return;
    }
    flush_pending(u);
    if (backward || t == ui->pc) {
        emit_budget_check(u, t);
        emit_kick_check(u, t);
        x86_patch(x86_jmp(b), u->insn[target].label);
        return;
    }
    uint8_t *at = x86_jmp(b);
    u->fixups[u->nfixups++] = (struct fixup){ at, (unsigned)target };
}

static void emit_branch(struct unit *u, const struct unit_insn *ui)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    get_x(u, RAX, in->rs1);
    if (!in->rs2)
        x86_alu_imm(b, true, ALU_CMP, RAX, 0);
    else if (u->home[in->rs2])
        x86_alu(b, true, ALU_CMP, RAX, u->home[in->rs2]);
    else
        x86_alu_mem(b, ALU_CMP, RAX, RBX, X_OFF(in->rs2));
    uint8_t *not_taken = x86_jcc(b, inverse(branch_cond((enum insn_op)in->op)));
    u->pending++;
    unsigned pending = u->pending;
    emit_taken(u, ui, jump_target(ui));
    u->pending = pending;               /* the path that falls through */
    x86_patch(not_taken, b->p);
}

/* A jalr_cache for this unit, set to c; NULL if the buffer has none left
 * (the unit is then abandoned and the buffer emptied, as when its code
 * does not fit). */
static struct jalr_cache *new_jalr_cache(struct unit *u, struct jalr_cache c)
{
    struct jit *j = u->j;
    if (j->jalr_caches_used == j->jalr_cache_cap) {
        u->b.full = true;
        return NULL;
    }
    struct jalr_cache *at = &j->jalr_caches[j->jalr_caches_used++];
    *at = c;
    return at;
}

/* The link registers of the return-address stack hints (see struct ras). */
static bool is_link(unsigned r)
{
    return r == 1 || r == 5;
}

/* A call whose continuation is return_pc: push a jalr_cache for it, which
 * a return finds unfilled (its page matches no fetch entry) and the
 * cross-page stub fills. Scratch: rcx, rdx. */
static void emit_ras_push(struct unit *u, uint64_t return_pc)
{
    struct x86_buf *b = &u->b;
    const struct jalr_cache *c = new_jalr_cache(
        u, (struct jalr_cache){ .pc = return_pc, .page = (const void *)(uintptr_t)CROSS_UNLINKED });
    if (!c)
        return;
    x86_mov_imm(b, RDX, (uint64_t)(uintptr_t)&u->j->ras);
    x86_op_mem(b, false, 0x8b, RCX, RDX, RAS_OFF(top));            /* mov ecx, [..] */
    x86_alu_imm(b, false, ALU_ADD, RCX, 1);
    x86_alu_imm(b, false, ALU_AND, RCX, RAS_SIZE - 1);
    x86_op_mem(b, false, 0x89, RCX, RDX, RAS_OFF(top));            /* mov [..], ecx */
    x86_shift(b, true, SHIFT_SHL, RCX, 3);
    x86_alu(b, true, ALU_ADD, RDX, RCX);                            /* rdx + slot = &slot[top] */
    x86_mov_imm(b, RCX, (uint64_t)(uintptr_t)c);
    x86_store64(b, RCX, RDX, RAS_OFF(slot));
}

/* A return: rsi = the jalr_cache on top of the stack, popped. Scratch:
 * rcx, rdx. */
static void emit_ras_pop(struct unit *u)
{
    struct x86_buf *b = &u->b;
    x86_mov_imm(b, RDX, (uint64_t)(uintptr_t)&u->j->ras);
    x86_op_mem(b, false, 0x8b, RCX, RDX, RAS_OFF(top));            /* mov ecx, [..] */
    x86_mov(b, RSI, RCX);
    x86_shift(b, true, SHIFT_SHL, RSI, 3);
    x86_alu(b, true, ALU_ADD, RSI, RDX);
    x86_load64(b, RSI, RSI, RAS_OFF(slot));
    x86_alu_imm(b, false, ALU_SUB, RCX, 1);
    x86_alu_imm(b, false, ALU_AND, RCX, RAS_SIZE - 1);
    x86_op_mem(b, false, 0x89, RCX, RDX, RAS_OFF(top));            /* mov [..], ecx */
}

static void emit_jal(struct unit *u, const struct unit_insn *ui)
{
    if (ui->in->rd) {
        x86_mov_imm(&u->b, RAX, ui->pc + ui->in->len);
        put_x(u, RAX, ui->in->rd);
    }
    if (is_link(ui->in->rd))
        emit_ras_push(u, ui->pc + ui->in->len);
    u->pending++;
    emit_taken(u, ui, jump_target(ui));
}

/* ecx = a jit_ref word: if it names a unit, enter it through its link
 * entry (which checks the budget); else go on at the jump returned. With
 * fill, the cross-page stub's registers are written to the JALR's cache
 * at rsi first (emit_cross_page_stub). */
static uint8_t *emit_enter_ref(struct x86_buf *b, const struct jit *j, bool fill)
{
    x86_alu_imm(b, false, ALU_SUB, RCX, (int32_t)UNIT_REF);
    x86_alu_imm(b, false, ALU_CMP, RCX, (int32_t)(NEVER - UNIT_REF));
    uint8_t *no_unit = x86_jcc(b, CC_AE);                      /* a look count, or NEVER */
    x86_mov_imm(b, RDX, (uint64_t)(uintptr_t)(j->code - LINK_BACK));
    x86_alu(b, true, ALU_ADD, RDX, RCX);                        /* the unit's link entry */
    if (fill) {
        x86_store64(b, RDX, RSI, JALR_OFF(link_entry));
        x86_store64(b, R8, RSI, JALR_OFF(vpn));
        x86_store64(b, RDI, RSI, JALR_OFF(entry_off));
        x86_store64(b, R10, RSI, JALR_OFF(page));
        x86_op_mem(b, false, 0x89, R9, RSI, JALR_OFF(generation)); /* mov [..], r9d */
        x86_store64(b, RAX, RSI, JALR_OFF(pc));
    }
    x86_op_reg(b, false, 0xff, 4, RDX);                         /* jmp rdx */
    return no_unit;
}

/* rax = a JALR's target, r14 up to date: if the target lies in the
 * unit's own page and a unit starts there, go on in that unit through its
 * link entry, as a linked jump does (see the top). The page's jit_ref[]
 * words are jit_unit_at's own answer, and they stay valid while this unit
 * runs: only the dispatcher changes them (a new generation, epoch or
 * virtual page empties them), and it is not running. Anything else falls
 * through, to leave. A function's return to its caller in the same page,
 * and a switch's jump through a table, no longer go round the dispatcher.
 * A target in another page goes to the jump returned (emit_jalr_cross). */
static uint8_t *emit_jalr_in_page(struct unit *u)
{
    struct x86_buf *b = &u->b;
    x86_mov(b, RCX, RAX);
    x86_mov_imm(b, RDX, u->insn[0].pc & PAGE_MASK);
    x86_alu(b, true, ALU_XOR, RCX, RDX);
    x86_alu_imm(b, true, ALU_CMP, RCX, PAGE_SIZE - 1);
    uint8_t *cross = x86_jcc(b, CC_A);                         /* rax = the target still */
    /* rcx = the offset in the page, even: &jit_ref[offset / 2] is
     * jit_ref + 2 * offset */
    x86_alu(b, true, ALU_ADD, RCX, RCX);
    x86_mov_imm(b, RDX, (uint64_t)(uintptr_t)u->page->jit_ref);
    x86_alu(b, true, ALU_ADD, RCX, RDX);
    x86_op_mem(b, false, 0x8b, RCX, RCX, 0);                   /* mov ecx, [rcx] */
    uint8_t *no_unit = emit_enter_ref(b, u->j, false);
    x86_patch(no_unit, b->p);
    return cross;
}

/* rax = a JALR's target in another page, equal to the target of the
 * jalr_cache at rsi, r14 up to date: if the checks the cross-page stub
 * would make still hold for that target (not kicked, the fast cache's
 * fetch entry for the target's page names the unit's decoded page, whose
 * generation is unchanged), jump to the unit's link entry; else let the
 * stub look, and fill the cache at rsi if it finds a unit. */
static void emit_jalr_guard(struct unit *u)
{
    enum { TAG = offsetof(struct tlb_entry, vpn_tag), CODE = offsetof(struct tlb_entry, code) };
    struct x86_buf *b = &u->b;
    const uint8_t *stub = u->j->cross_page_stub;
    x86_cmp_mem8(b, RBX, HART_OFF(kicked), 0);                     /* emit_kick_check */
    x86_patch(x86_jcc(b, CC_NE), stub);
    x86_load64(b, RDX, RBX, HART_OFF(jit_fetch_tlb));
    x86_alu_mem(b, ALU_ADD, RDX, RSI, JALR_OFF(entry_off));        /* rdx = the entry */
    x86_load64(b, RCX, RSI, JALR_OFF(vpn));
    x86_alu(b, true, ALU_OR, RCX, R15);                             /* rcx = the tag */
    x86_alu_mem(b, ALU_CMP, RCX, RDX, TAG);
    x86_patch(x86_jcc(b, CC_NE), stub);
    x86_load64(b, RCX, RDX, CODE);                                  /* rcx = the page */
    x86_alu_mem(b, ALU_CMP, RCX, RSI, JALR_OFF(page));
    x86_patch(x86_jcc(b, CC_NE), stub);
    x86_op_mem(b, false, 0x8b, RCX, RCX, PAGE_OFF(generation));    /* mov ecx, [..] */
    x86_op_mem(b, false, 0x3b, RCX, RSI, JALR_OFF(generation));    /* cmp ecx, [..] */
    x86_patch(x86_jcc(b, CC_NE), stub);
    x86_op_mem(b, false, 0xff, 4, RSI, JALR_OFF(link_entry));       /* jmp [..] */
}

/* rax = a JALR's target in another page, r14 up to date; for a return,
 * rsi = the jalr_cache its call pushed (emit_ras_pop). A return to that
 * call's continuation goes there through the guard; any other target
 * tries the unit this JALR's last target led to (its own jalr_cache),
 * then the stub. The jump is this JALR's own indirect branch, which the
 * host predicts from its own history: a function's return to its one hot
 * caller, or a call through a pointer that stays put, is then predicted,
 * where the stub's one indirect jump for every JALR of the hart rarely
 * was. */
static void emit_jalr_cross(struct unit *u, bool is_return)
{
    struct x86_buf *b = &u->b;
    const struct jalr_cache *own = new_jalr_cache(u, (struct jalr_cache){ .pc = JALR_UNFILLED });
    if (!own)
        return;
    if (is_return) {
        x86_alu_mem(b, ALU_CMP, RAX, RSI, JALR_OFF(pc));
        uint8_t *elsewhere = x86_jcc(b, CC_NE);
        emit_jalr_guard(u);
        x86_patch(elsewhere, b->p);
    }
    x86_mov_imm(b, RSI, (uint64_t)(uintptr_t)own);
    x86_alu_mem(b, ALU_CMP, RAX, RSI, JALR_OFF(pc));
    x86_patch(x86_jcc(b, CC_NE), u->j->cross_page_stub);
    emit_jalr_guard(u);
}

/* JALR: the target is known only when it runs, so the unit ends there,
 * unless emit_jalr_in_page finds a unit at the target; the spin-loop check
 * is made on the computed target first. */
static void emit_jalr(struct unit *u, const struct unit_insn *ui)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    get_x(u, RAX, in->rs1);
    if (in->imm)
        x86_alu_imm(b, true, ALU_ADD, RAX, in->imm);
    x86_alu_imm(b, true, ALU_AND, RAX, -2);
    if (in->rd) {
        x86_mov_imm(b, RCX, ui->pc + in->len);
        put_x(u, RCX, in->rd);
    }
    x86_store64(b, RAX, RBX, HART_OFF(pc));
    u->pending++;
    flush_pending(u);
    /* pc - target - 1 < 128 (unsigned): target < pc and pc - target <= 128 */
    x86_mov_imm(b, RCX, ui->pc - 1);
    x86_alu(b, true, ALU_SUB, RCX, RAX);
    x86_alu_imm(b, true, ALU_CMP, RCX, 127);
    uint8_t *far = x86_jcc(b, CC_A);
    x86_mov(b, RSI, RAX);
    call_helper(u, (uintptr_t)hart_note_backward_jump);
    x86_test_mem8(b, RBX, HART_OFF(poll_now), 1);
    exit_if(u, CC_NE, 0, false, 0);
    x86_load64(b, RAX, RBX, HART_OFF(pc));
    x86_patch(far, b->p);
    write_back_residents(u);            /* wherever it goes next */
    /* the return-address stack hints (see struct ras) */
    bool is_return = is_link(in->rs1) && (!is_link(in->rd) || in->rd != in->rs1);
    if (is_return)
        emit_ras_pop(u);                /* rsi, which the next two keep */
    if (is_link(in->rd))
        emit_ras_push(u, ui->pc + in->len);
    uint8_t *cross = emit_jalr_in_page(u);
    emit_exit(u, 0, false, 0, false, false);
    x86_patch(cross, b->p);
    emit_jalr_cross(u, is_return);
}

/* How emit_insn translates an instruction: each kind in host code but the
 * last, which calls the interpreter (emit_by_call). */
enum insn_kind {
    KIND_BRANCH, KIND_JAL, KIND_JALR, KIND_MEM, KIND_AMO, KIND_UPPER, KIND_NOP, KIND_ALU,
    KIND_SSTATUS, KIND_FENCE, KIND_FP, KIND_CALL,
};

/* in's kind; for KIND_FP, *hf says how. */
static enum insn_kind insn_kind_of(const struct unit *u, const struct insn *in, struct host_fp *hf)
{
    enum insn_op op = (enum insn_op)in->op;
    if (is_branch(op))
        return KIND_BRANCH;
    if (op == OP_JAL)
        return KIND_JAL;
    if (op == OP_JALR)
        return KIND_JALR;
    if (mem_op_of(op).size)
        return KIND_MEM;
    if (is_host_amo(op))
        return KIND_AMO;
    if (op == OP_LUI || op == OP_AUIPC)
        return KIND_UPPER;
    if (in->rd == 0 && (is_host_alu(op) || (op >= OP_MUL && op <= OP_REMUW)))
        return KIND_NOP;                /* an integer result thrown away: a hint or a nop */
    if (is_host_alu(op))
        return KIND_ALU;
    if (sstatus_form_of(in) != SSTATUS_NONE)
        return KIND_SSTATUS;
    if (op == OP_FENCE && !insn_is_pause(in))
        return KIND_FENCE;
    if ((in->rm == RM_RNE || in->rm == RM_DYN) && host_fp_of(op, u->j->host_fma, hf))
        return KIND_FP;
    return KIND_CALL;
}

static void emit_insn(struct unit *u, const struct unit_insn *ui)
{
    struct x86_buf *b = &u->b;
    const struct insn *in = ui->in;
    struct host_fp hf;
    switch (insn_kind_of(u, in, &hf)) {
    case KIND_BRANCH: emit_branch(u, ui); return;       /* these count themselves */
    case KIND_JAL: emit_jal(u, ui); return;
    case KIND_JALR: emit_jalr(u, ui); return;
    case KIND_MEM: emit_mem(u, ui); break;
    case KIND_AMO: emit_amo(u, ui); break;
    case KIND_UPPER:
        if (in->rd) {
            x86_mov_imm(b, RAX, (in->op == OP_AUIPC ? ui->pc : 0) + (uint64_t)in->imm);
            put_x(u, RAX, in->rd);
        }
        break;
    case KIND_NOP: break;
    case KIND_ALU: emit_alu(u, in); break;
    case KIND_SSTATUS: emit_sstatus_write(u, ui, sstatus_form_of(in)); break;
    case KIND_FENCE:
        /* the guest's loads and stores are the host's, in program order */
        if (insn_fence_orders_store_load(in))
            x86_full_fence(b);
        break;
    case KIND_FP: emit_fp_host(u, ui, &hf); break;
    case KIND_CALL: emit_by_call(u, ui); break;
    }
    u->pending++;
}

/* The unit's host code: prologue, the instructions, the exit past the
 * last one, then the links' exits, the slow paths (loads', stores', the
 * spin detector's calls) and the side exits: what runs once or rarely
 * lies after what runs every time. NULL if the buffer is full. */
static jit_unit_fn emit_unit(struct unit *u)
{
    struct x86_buf *b = &u->b;
    u->pending = 0;
    u->nfixups = u->nexits = u->nslow = u->nlinks = 0;
    u->residents_loaded = false;
    /* entered from a linked unit: go on if a pass fits in the budget */
    u->link_entry = b->p;
    emit_budget_check(u, u->insn[0].pc);
    uint8_t *to_body = x86_jmp(b);
    /* the header, filled in below; then the entry from the dispatcher */
    uint8_t *header = b->p;
    x86_bytes(b, &(struct unit_header){ 0 }, sizeof(struct unit_header));
    uint8_t *start = b->p;
    static const unsigned saved[] = { RBX, R12, R13, R14, R15 };   /* odd: rsp 16-aligned at calls */
    for (unsigned i = 0; i < 5; i++)
        x86_push(b, saved[i]);
    x86_lea(b, RBX, RDI, HART_BIAS);
    x86_mov(b, R12, RSI);
    x86_mov(b, R13, RDX);
    x86_mov_imm(b, R14, 0);
    x86_load64(b, R15, RBX, EPOCH_OFF);
    x86_patch(to_body, b->p);
    load_residents(u);
    u->residents_loaded = true;
    for (unsigned i = 0; i < u->n; i++) {
        if (u->insn[i].is_target)
            flush_pending(u);
        u->insn[i].label = b->p;
        emit_insn(u, &u->insn[i]);
    }
    emit_jump_out(u, u->end_pc);
    for (unsigned i = 0; i < u->nfixups; i++)
        x86_patch(u->fixups[i].at, u->insn[u->fixups[i].target].label);
    for (unsigned i = 0; i < u->nlinks; i++)
        emit_link_exit(u, &u->links[i]);
    for (unsigned i = 0; i < u->nslow; i++)
        if (u->slow[i].ui)
            emit_mem_slow(u, &u->slow[i]);
        else
            emit_spin_call(u, &u->slow[i]);
    for (unsigned i = 0; i < u->nexits; i++) {
        const struct side_exit *e = &u->exits[i];
        x86_patch(e->at, b->p);
        emit_exit(u, e->pc, e->set_pc, e->retired, e->write_back, e->poll);
    }
    if (b->full)
        return NULL;
    assert(start - u->link_entry == LINK_BACK);
    struct unit_header h = { u->n };
    memcpy(header, &h, sizeof h);
    return (jit_unit_fn)(uintptr_t)start;
}

/* Keep in host registers, for the whole unit, the guest registers its
 * host code names most: each of those accesses is then a register move
 * instead of a load or store through struct hart, whose chains of
 * store-to-load forwarding cost cycles on every dependent instruction.
 * The price is a load of each at the unit's start and after every call
 * (the host registers are caller-saved), and, for one the unit writes, a
 * store at every exit and before every call; a register is resident only
 * if host code names it more often than that costs. */
static void choose_residents(struct unit *u)
{
    unsigned uses[32] = { 0 }, calls = 0;
    memset(u->written, 0, sizeof u->written);
    for (unsigned i = 0; i < u->n; i++) {
        const struct insn *in = u->insn[i].in;
        struct host_fp hf;
        enum insn_kind kind = insn_kind_of(u, in, &hf);
        const struct mem_op m = mem_op_of((enum insn_op)in->op);
        bool reads_rs1 = false, reads_rs2 = false, writes_rd = false;
        switch (kind) {
        case KIND_CALL: calls++; break;
        case KIND_BRANCH: reads_rs1 = reads_rs2 = true; break;
        case KIND_JAL: case KIND_UPPER: writes_rd = true; break;
        case KIND_JALR: reads_rs1 = writes_rd = true; break;
        case KIND_MEM:                  /* F and D move f registers */
            reads_rs1 = true;
            reads_rs2 = m.is_store && !m.is_fp;
            writes_rd = !m.is_store && !m.is_fp;
            break;
        case KIND_AMO: reads_rs1 = reads_rs2 = writes_rd = true; break;
        case KIND_ALU: reads_rs1 = writes_rd = true; reads_rs2 = is_r_type(in->op); break;
        case KIND_SSTATUS: reads_rs1 = sstatus_form_of(in) == SSTATUS_REG; break;
        case KIND_NOP: case KIND_FENCE: case KIND_FP: break;
        }
        uses[in->rs1] += reads_rs1;
        uses[in->rs2] += reads_rs2;
        uses[in->rd] += writes_rd;
        u->written[in->rd] |= writes_rd;
    }
    memset(u->home, 0, sizeof u->home);
    u->nresidents = 0;
    while (u->nresidents < MAX_RESIDENTS) {
        unsigned best = 0;
        for (unsigned x = 1; x < 32; x++) {
            unsigned cost = 2 + calls + (u->written[x] ? 1 + calls : 0);
            if (!u->home[x] && uses[x] > cost && (!best || uses[x] > uses[best]))
                best = x;
        }
        if (!best)
            break;
        u->home[best] = (uint8_t)resident_host[u->nresidents++];
    }
}

/* The cross-page stub (see the top): rax = the target, rsi = the JALR's
 * jalr_cache, r14 up to date,
 * h->jit_fetch_tlb the entries of the hart's fetch context, as exec.c
 * sets it before entering a unit (a unit changes neither privilege nor
 * mstatus, so that stays true along a chain of units). The checks are
 * exec.c's open_window and jit_unit_at's, in order: the fast cache has a
 * fetch entry for the target's page under the current epoch, the entry
 * names a decoded page, that page's jit_ref words are current for this
 * buffer's epoch and for the target's virtual page (refs_of), and the
 * target's word names a unit. Any miss leaves with h->pc = the target.
 * What it finds on the way is kept in r8 (vpn), rdi (the entry's
 * offset), r10 (the page) and r9 (its generation), free here since the
 * resident registers are written back, and goes into the cache when a
 * unit is entered (emit_enter_ref). */
static void emit_cross_page_stub(struct jit *j, struct x86_buf *b)
{
    enum { TAG = offsetof(struct tlb_entry, vpn_tag), CODE = offsetof(struct tlb_entry, code) };
    uint8_t *miss[6];
    j->cross_page_stub = b->p;
    x86_store64(b, RAX, RBX, HART_OFF(pc));
    x86_cmp_mem8(b, RBX, HART_OFF(kicked), 0);                      /* emit_kick_check */
    uint8_t *kicked = x86_jcc(b, CC_NE);
    x86_mov(b, RCX, RAX);
    x86_shift(b, true, SHIFT_SHR, RCX, PAGE_SHIFT);            /* rcx = the vpn */
    x86_mov(b, R8, RCX);
    emit_entry_offset(b, RDX, RAX);
    x86_mov(b, RDI, RDX);
    x86_alu_mem(b, ALU_ADD, RDX, RBX, HART_OFF(jit_fetch_tlb));    /* rdx = the entry */
    x86_alu(b, true, ALU_OR, RCX, R15);                             /* rcx = the tag */
    x86_alu_mem(b, ALU_CMP, RCX, RDX, TAG);
    miss[0] = x86_jcc(b, CC_NE);
    x86_load64(b, RDX, RDX, CODE);                                  /* rdx = the page */
    x86_test(b, RDX);
    miss[1] = x86_jcc(b, CC_E);
    x86_mov(b, R10, RDX);
    x86_op_mem(b, false, 0x8b, RCX, RDX, PAGE_OFF(generation));    /* mov ecx, [..] */
    x86_op_mem(b, false, 0x3b, RCX, RDX, PAGE_OFF(jit_generation));    /* cmp ecx, [..] */
    miss[2] = x86_jcc(b, CC_NE);
    x86_op_reg(b, false, 0x89, RCX, R9);                            /* mov r9d, ecx */
    x86_op_mem(b, false, 0x8b, RCX, RDX, PAGE_OFF(jit_epoch));
    x86_alu_imm(b, false, ALU_CMP, RCX, (int32_t)j->epoch);
    miss[3] = x86_jcc(b, CC_NE);
    x86_mov(b, RCX, RAX);
    x86_alu_imm(b, true, ALU_AND, RCX, (int32_t)PAGE_MASK);
    x86_alu_mem(b, ALU_CMP, RCX, RDX, PAGE_OFF(jit_va));
    miss[4] = x86_jcc(b, CC_NE);
    /* ecx = jit_ref[offset / 2], at rdx + jit_ref + 2 * offset */
    x86_mov(b, RCX, RAX);
    x86_alu_imm(b, false, ALU_AND, RCX, PAGE_SIZE - 2);
    x86_alu(b, true, ALU_ADD, RCX, RCX);
    x86_alu(b, true, ALU_ADD, RCX, RDX);
    x86_op_mem(b, false, 0x8b, RCX, RCX, PAGE_OFF(jit_ref));
    miss[5] = emit_enter_ref(b, j, true);
    x86_patch(kicked, b->p);                        /* kicked: end the block too */
    x86_store_imm8(b, RBX, HART_OFF(poll_now), 1);
    for (unsigned i = 0; i < 6; i++)
        x86_patch(miss[i], b->p);
    x86_mov(b, RAX, R14);
    x86_alu(b, false, ALU_XOR, RDX, RDX);
    x86_patch(x86_jmp(b), j->exit_stub);
}

/* The shared epilogue and the cross-page stub, at the start of an empty
 * buffer. */
static void reset_code(struct jit *j)
{
    j->epoch++;                         /* every page's jit_ref[] is stale */
    j->cross_link = NULL;
    j->jalr_caches_used = 0;
    j->no_return = (struct jalr_cache){ .pc = JALR_UNFILLED };
    j->ras.top = 0;
    for (unsigned i = 0; i < RAS_SIZE; i++)
        j->ras.slot[i] = &j->no_return;
    struct x86_buf b = { j->code, j->code + j->code_bytes, false };
    j->exit_stub = b.p;
    static const unsigned restored[] = { R15, R14, R13, R12, RBX };
    for (unsigned i = 0; i < 5; i++)
        x86_pop(&b, restored[i]);
    x86_ret(&b);
    emit_cross_page_stub(j, &b);
    j->free = b.p;
    j->cross_page_stub_end = b.p;
}

/* Where unit u, which ran out of room, goes on in its own page with no
 * jump (0 if it does not): straight-line code longer than a unit. */
static uint64_t straight_on(const struct unit *u)
{
    enum insn_op last = (enum insn_op)u->insn[u->n - 1].in->op;
    if (u->n < JIT_UNIT_MAX_INSNS || last == OP_JAL || last == OP_JALR ||
        (u->end_pc & PAGE_MASK) != (u->insn[0].pc & PAGE_MASK))
        return 0;
    return u->end_pc;
}

/* --perf-map: a line for the code from start to end (jit.h). */
static void perf_map_line(const struct jit *j, const uint8_t *start, const uint8_t *end,
                          const char *name)
{
    fprintf(j->perf_map.file, "%" PRIxPTR " %tx %s\n", (uintptr_t)start, end - start, name);
}

static void perf_map_note(const struct jit *j, const uint8_t *start, const uint8_t *end,
                          uint64_t pc)
{
    if (!j->perf_map.file)
        return;
    char name[160];
    if (!j->perf_map.name_of || !j->perf_map.name_of(j->perf_map.ctx, pc, name, sizeof name))
        snprintf(name, sizeof name, "guest 0x%" PRIx64, pc);
    perf_map_line(j, start, end, name);
}

/* Make the unit at slot `index` of p (virtual address pc): its entry,
 * or NULL if none can start there; *next = straight_on's answer. */
static const uint8_t *translate(struct jit *j, struct icache_page *p, unsigned index, uint64_t pc,
                                uint64_t *next)
{
    static _Thread_local struct unit u;
    u.j = j;
    u.page = p;
    collect(&u, p, index, pc);
    if (u.n == 0)
        return NULL;
    *next = straight_on(&u);
    choose_residents(&u);
    for (int attempt = 0; attempt < 2; attempt++) {
        u.b = (struct x86_buf){ j->free, j->code + j->code_bytes, false };
        jit_unit_fn fn = emit_unit(&u);
        if (fn) {
            perf_map_note(j, j->free, u.b.p, u.insn[0].pc);
            j->free = u.b.p;
            j->stats.units++;
            j->stats.resident_units += u.nresidents != 0;
            return (const uint8_t *)(uintptr_t)fn;
        }
        reset_code(j);                  /* full: start again with an empty buffer */
        j->stats.resets++;
    }
    return NULL;
}

/* Are page p's jit_ref[] words those of this buffer, of the page's
 * slots as they are, and of units made at pc's virtual page? */
static bool refs_current(const struct jit *j, const struct icache_page *p, uint64_t pc)
{
    return p->jit_generation == p->generation && p->jit_epoch == j->epoch &&
           p->jit_va == (pc & PAGE_MASK);
}

/* Page p's jit_ref[] for units made at virtual address pc, cleared first
 * if it is stale. A unit bakes in virtual addresses (AUIPC, return
 * addresses, exits), but the slots name physical code, and the same
 * physical page runs at two addresses while Linux turns translation on:
 * looking at the page from another virtual page forgets its units. The
 * check reads the page's own fields, not the unit's code, which a lookup
 * would otherwise pull into the data cache (10 % of a 4-hart ptbench's
 * host time was that lookup). */
static uint32_t *refs_of(struct jit *j, struct icache_page *p, uint64_t pc)
{
    if (!refs_current(j, p, pc)) {
        memset(p->jit_ref, 0, sizeof p->jit_ref);
        p->jit_generation = p->generation;
        p->jit_epoch = j->epoch;
        p->jit_va = pc & PAGE_MASK;
    }
    return p->jit_ref;
}

/* The entry of the unit made for pc at slot `index` of p, or NULL. */
static const uint8_t *unit_entry_at(struct jit *j, struct icache_page *p, unsigned index,
                                    uint64_t pc)
{
    uint32_t ref = refs_of(j, p, pc)[index];
    if (ref == NEVER || ref < UNIT_REF)
        return NULL;
    return j->code + (ref - UNIT_REF);
}

static struct unit_header header_of(jit_unit_fn unit)
{
    struct unit_header h;
    memcpy(&h, (const uint8_t *)(uintptr_t)unit - sizeof h, sizeof h);
    return h;
}

unsigned jit_unit_insns(jit_unit_fn unit)
{
    return header_of(unit).insns;
}

jit_unit_fn jit_unit_at(struct jit *j, struct icache_page *p, unsigned index, uint64_t pc)
{
    const uint8_t *entry = unit_entry_at(j, p, index, pc);
    if (entry)
        return (jit_unit_fn)(uintptr_t)entry;
    uint32_t *ref = &p->jit_ref[index];
    if (*ref == NEVER || ++*ref < HOT_AFTER)
        return NULL;
    uint64_t next = 0;
    entry = translate(j, p, index, pc, &next);
    uint32_t *refs = refs_of(j, p, pc); /* translate may have emptied the buffer */
    if (!entry) {
        refs[index] = NEVER;
        return NULL;
    }
    refs[index] = UNIT_REF + (uint32_t)(entry - j->code);
    /* Straight-line code that goes on past the unit runs as often as the
     * unit: the next look there makes its unit, instead of the 16th. A
     * chain of units through an unrolled run (8 KiB of the kernel's
     * blake2s) was otherwise made one unit per 16 runs. */
    if (next && refs[icache_slot_of(next)] < HOT_AFTER - 1)
        refs[icache_slot_of(next)] = HOT_AFTER - 1;
    return (jit_unit_fn)(uintptr_t)entry;
}

bool jit_unit_ready(const struct jit *j, const struct icache_page *p, unsigned index, uint64_t pc)
{
    uint32_t ref = p->jit_ref[index];
    return ref >= UNIT_REF && ref != NEVER && refs_current(j, p, pc);
}

void jit_link(struct jit *j, void *link, struct icache_page *p, unsigned index, uint64_t pc)
{
    const uint8_t *entry = unit_entry_at(j, p, index, pc);
    if (entry)
        x86_patch(link, entry - LINK_BACK);
}

void jit_note_cross_exit(struct jit *j, void *link, uint64_t pc)
{
    j->cross_link = link;
    j->cross_pc = pc;
}

void jit_link_cross(struct jit *j, struct icache_page *p, jit_unit_fn unit, uint64_t pc)
{
    if (!j->cross_link || j->cross_pc != pc)
        return;
    uint8_t *link = j->cross_link;
    j->cross_link = NULL;
    uint64_t page = (uint64_t)(uintptr_t)p;
    uint32_t gen = p->generation;
    const uint8_t *to = (const uint8_t *)(uintptr_t)unit - LINK_BACK;
    int32_t rel = (int32_t)(to - (link + 4));
    /* The code may be in the host's pipeline: write only what changes. */
    if (memcmp(link - CROSS_PAGE_BACK, &page, 8))
        memcpy(link - CROSS_PAGE_BACK, &page, 8);
    if (memcmp(link - CROSS_GEN_BACK, &gen, 4))
        memcpy(link - CROSS_GEN_BACK, &gen, 4);
    if (memcmp(link, &rel, 4))
        memcpy(link, &rel, 4);
}

struct jit *jit_create(size_t code_bytes)
{
    if (code_bytes > JIT_CODE_BYTES)
        return NULL;
    struct jit *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    void *code = mmap(NULL, code_bytes, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (code == MAP_FAILED) {
        free(j);
        return NULL;
    }
    /* Each JALR and each call has one, in more than 64 bytes of code. */
    j->jalr_cache_cap = code_bytes / 64;
    void *caches = mmap(NULL, j->jalr_cache_cap * sizeof(struct jalr_cache),
                        PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (caches == MAP_FAILED) {
        munmap(code, code_bytes);
        free(j);
        return NULL;
    }
    j->jalr_caches = caches;
    j->code = code;
    j->code_bytes = code_bytes;
    j->host_fma = __builtin_cpu_supports("fma");
    reset_code(j);
    return j;
}

/* The stubs lie at the buffer's start, where reset_code puts them again
 * each time: one line covers them for good. */
void jit_set_perf_map(struct jit *j, const struct jit_perf_map *map)
{
    j->perf_map = *map;
    if (map->file)
        perf_map_line(j, j->code, j->cross_page_stub_end, "umbra exit and cross-page stubs");
}

void jit_destroy(struct jit *j)
{
    if (!j)
        return;
    munmap(j->code, j->code_bytes);
    munmap(j->jalr_caches, j->jalr_cache_cap * sizeof(struct jalr_cache));
    free(j);
}

struct jit_stats jit_stats(const struct jit *j)
{
    return j ? j->stats : (struct jit_stats){ 0, 0, 0 };
}

#else   /* not x86-64: no translation */

struct jit *jit_create(size_t code_bytes) { (void)code_bytes; return NULL; }
void jit_set_perf_map(struct jit *j, const struct jit_perf_map *map) { (void)j, (void)map; }
void jit_note_cross_exit(struct jit *j, void *link, uint64_t pc)
{
    (void)j, (void)link, (void)pc;
}
void jit_link_cross(struct jit *j, struct icache_page *p, jit_unit_fn unit, uint64_t pc)
{
    (void)j, (void)p, (void)unit, (void)pc;
}
void jit_destroy(struct jit *j) { (void)j; }
jit_unit_fn jit_unit_at(struct jit *j, struct icache_page *p, unsigned index, uint64_t pc)
{
    (void)j, (void)p, (void)index, (void)pc;
    return NULL;
}
unsigned jit_unit_insns(jit_unit_fn unit)
{
    (void)unit;
    return 0;
}
struct jit_stats jit_stats(const struct jit *j)
{
    (void)j;
    return (struct jit_stats){ 0, 0, 0 };
}
bool jit_unit_ready(const struct jit *j, const struct icache_page *p, unsigned index, uint64_t pc)
{
    (void)j, (void)p, (void)index, (void)pc;
    return false;
}
void jit_link(struct jit *j, void *link, struct icache_page *p, unsigned index, uint64_t pc)
{
    (void)j, (void)link, (void)p, (void)index, (void)pc;
}
#endif
