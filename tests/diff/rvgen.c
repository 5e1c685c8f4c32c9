/* rvgen: random RV64GC programs for umbra's differential tests.
 *
 * A host tool, run by tests/diff/rvdiff.py. From a seed it writes one GNU
 * assembler file: `test_body`, which loads x1..x31, f0..f31 and fcsr from
 * tables of random and boundary values, then runs a straight line of random
 * "items", then jumps to rt.S's `test_end` (which dumps the state on the
 * UART); plus the initial contents of the `scratch` buffer that loads,
 * stores and AMOs use. The same seed always gives the same program.
 *
 * An item is one instruction drawn from the template table below, or a
 * short compound (a forward branch over a few items, a short counted loop,
 * an LR/SC pair, an AMO with its address set-up, an fcsr write, a piece of
 * self-modifying code, an encoding that must trap ...). The table, grouped
 * and weighted, is the instruction mix; `rvgen --list` prints it and
 * --mix reweights it. Items are labelled item_<k>
 * so that the runner can cut a program after k items (--stop) to find the
 * first item on which two machines disagree, and show its disassembly.
 *
 * The final state alone would hide a wrong intermediate value that a later
 * item overwrites, and fflags accrue; so after each item the generator also
 * stores the register it wrote, and after most F/D items the swapped-out
 * fflags, into a log at the end of scratch, through a log register (one of
 * x16..x31, chosen per seed) that nothing else writes.
 *
 * Invariants that keep every program inside its sandbox:
 *   - x8 always holds scratch + 2048 and x2 (sp) always points into scratch
 *     at an offset the generator tracks; no template writes either, except
 *     c.addi16sp, whose effect is tracked.
 *   - every memory operand, by construction, lies inside scratch;
 *   - control flow only jumps forward over a few items, or back to the top
 *     of a loop whose counter no item in it may write; nothing can leave;
 *   - the dynamic rounding mode is used only while frm holds a valid mode
 *     (the generator knows frm, since every write to it is of a known
 *     value);
 *   - only the "trap" group's instructions trap; rt.S records each trap and
 *     resumes after the instruction, and each is marked "expect trap".
 *
 * usage: rvgen [options] SEED
 *   -n N          items in the body (default 300)
 *   --stop K      emit only the first K items (same program otherwise)
 *   --mutate K    also store a marker into the scratch canary before item K
 *                 (a known disagreement, to test the runner)
 *   --mix G=W,... change group weights, e.g. --mix fcvt=60,rvc=0 (see --list)
 *   --stats       instead of a program, print how often each template was
 *                 drawn (for coverage review)
 *   --list        print the instruction-mix table and exit
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sandbox geometry ------------------------------------------------ */

/* scratch: 4096 bytes reachable from x8's signed 12-bit offsets, 16 bytes of
 * overhang for misaligned accesses at the top offsets, an 8-byte canary that
 * only --mutate writes, then the observation log. All of it is dumped. */
#define SCRATCH_REACH   4096
#define SCRATCH_DATA    (SCRATCH_REACH + 16)
#define SCRATCH_CANARY  SCRATCH_DATA
#define LOG_OFFSET      (SCRATCH_DATA + 8)
#define LOG_SLOTS       512              /* reachable from the log register's imm12 */
#define SCRATCH_BYTES   (LOG_OFFSET + 8 * LOG_SLOTS)
#define X8_OFFSET       2048             /* x8 = scratch + X8_OFFSET */
/* sp stays where c.ldsp/c.sdsp's largest offset (504) still lands inside */
#define SP_MIN          0
#define SP_MAX          (SCRATCH_REACH - 512)
#define REG_SP          2
#define REG_BASE        8

#define MAX_ITEMS       100000
#define ITEM_TEXT       2048

/* ---- random numbers (splitmix64: small, well mixed, seedable) -------- */

static uint64_t rng_state;

static uint64_t rnd64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* uniform in [0, n) */
static unsigned rnd(unsigned n)
{
    return (unsigned)(rnd64() % n);
}

/* uniform in [lo, hi] */
static int64_t rnd_range(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd64() % (uint64_t)(hi - lo + 1));
}

static bool chance(unsigned percent)
{
    return rnd(100) < percent;
}

#define PICK(array) ((array)[rnd(sizeof(array) / sizeof((array)[0]))])

/* ---- operand pools ---------------------------------------------------- */

/* Integer operands that sit on the edges of the RV64 and RV32 (W-op) ranges,
 * shift counts, and integers that convert to float with a rounding tie. */
static const uint64_t int_boundaries[] = {
    0, 1, 2, 3, 0xffffffffffffffffull, 0xfffffffffffffffeull,
    0x8000000000000000ull, 0x7fffffffffffffffull, 0x8000000000000001ull,
    0x0000000080000000ull, 0x000000007fffffffull, 0x00000000ffffffffull,
    0xffffffff80000000ull, 0xffffffff7fffffffull, 0x0000000100000000ull,
    0x0000000080000001ull, 0xffffffff00000000ull, 0x00000000fffffffeull,
    31, 32, 63, 64, 0x1f, 0x3f, 0x40, 0xffffffffffffffc0ull,
    0x1000001,                    /* 2^24 + 1: a tie when converted to single */
    0x1000003, 0xffffffffff000001ull,
    0x20000000000001ull,          /* 2^53 + 1: a tie when converted to double */
    0x20000000000003ull, 0xffdfffffffffffffull,
    0x7fffffc0, 0x7fffffbf, 0xfffffffffffff800ull, 0x800, 0x7ff,
    0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull,
};

/* IEEE single bit patterns: signed zeros and infinities, quiet and
 * signalling NaNs with and without payload, subnormals, the extreme
 * normals, and values whose sums, products and conversions land on rounding
 * ties (1 + 2^-24, x.5, 2^31 - 0.5, ...). */
static const uint32_t f32_boundaries[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000,
    0x7fc00000, 0xffc00000, 0x7fc00001, 0x7fffffff, 0x7f800001, 0x7fa00000,
    0xff800001, 0x7fbfffff, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff,
    0x00400000, 0x00800000, 0x80800000, 0x00800001, 0x7f7fffff, 0xff7fffff,
    0x7f000000, 0x33800000, 0x34000000, 0x33800001, 0x3f800001, 0x3f7fffff,
    0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40200000, 0xc0200000,
    0x3f400000, 0x40600000, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001,
    0x4f800000, 0x4f7fffff, 0x5f000000, 0xdf000000, 0x5effffff, 0x5f800000,
    0x5f7fffff, 0x4b000000, 0x4b000001, 0x4b7fffff, 0x40490fdb, 0x3eaaaaab,
    0x0d800000, 0x1f800000, 0x5f800001, 0x3f800002,
};

/* IEEE double bit patterns, in the same spirit, plus doubles that round to
 * single at the edges (FLT_MAX + half an ulp, 2^-150 ...). */
static const uint64_t f64_boundaries[] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull,
    0xbff0000000000000ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
    0x7ff8000000000000ull, 0xfff8000000000000ull, 0x7ff8000000000001ull,
    0x7fffffffffffffffull, 0x7ff0000000000001ull, 0x7ff4000000000000ull,
    0xfff0000000000001ull, 0x7ff7ffffffffffffull, 0x0000000000000001ull,
    0x8000000000000001ull, 0x000fffffffffffffull, 0x800fffffffffffffull,
    0x0008000000000000ull, 0x0010000000000000ull, 0x8010000000000000ull,
    0x7fefffffffffffffull, 0xffefffffffffffffull, 0x7fe0000000000000ull,
    0x3ca0000000000000ull, 0x3cb0000000000000ull, 0x3ca0000000000001ull,
    0x3ff0000000000001ull, 0x3fefffffffffffffull, 0x3fe0000000000000ull,
    0xbfe0000000000000ull, 0x3ff8000000000000ull, 0xbff8000000000000ull,
    0x4004000000000000ull, 0xc004000000000000ull, 0x41e0000000000000ull,
    0xc1e0000000000000ull, 0x41dfffffffc00000ull, 0x41dfffffffe00000ull,
    0xc1e0000000100000ull, 0xc1e0000000200000ull, 0x41efffffffe00000ull,
    0x41f0000000000000ull, 0x43e0000000000000ull, 0xc3e0000000000000ull,
    0x43dfffffffffffffull, 0x43f0000000000000ull, 0x43efffffffffffffull,
    0x4330000000000000ull, 0x4330000000000001ull, 0x47efffffe0000000ull,
    0x47effffff0000000ull, 0x47efffffefffffffull, 0x3810000000000000ull,
    0x36a0000000000000ull, 0x3690000000000000ull, 0x3698000000000000ull,
    0x380fffffffffffffull, 0x400921fb54442d18ull, 0x3fd5555555555555ull,
    0x3ff0000010000000ull, 0x3ff0000030000000ull,
};

/* A random finite single, biased towards exponents near 1.0 so arithmetic
 * stays normal and hits rounding decisions. */
static uint32_t random_f32(void)
{
    uint32_t sign = (uint32_t)rnd(2) << 31;
    uint32_t mant = (uint32_t)rnd64() & 0x7fffff;
    uint32_t exp = chance(70) ? (uint32_t)rnd_range(127 - 24, 127 + 24) : rnd(256);
    if (chance(20))
        mant &= 0x7ff000;                 /* short mantissas: exact results, ties */
    return sign | exp << 23 | mant;
}

static uint64_t random_f64(void)
{
    uint64_t sign = (uint64_t)rnd(2) << 63;
    uint64_t mant = rnd64() & 0xfffffffffffffull;
    uint64_t exp = chance(70) ? (uint64_t)rnd_range(1023 - 53, 1023 + 53) : rnd(2048);
    if (chance(20))
        mant &= 0xffffff0000000ull;       /* a single's worth of mantissa */
    return sign | exp << 52 | mant;
}

static uint64_t random_int(void)
{
    switch (rnd(6)) {
    case 0: case 1: return PICK(int_boundaries);
    case 2: return rnd64();
    case 3: return (uint64_t)(int64_t)(int32_t)rnd64();   /* a W-op result */
    case 4: return (uint64_t)rnd_range(-64, 64);
    default: return PICK(int_boundaries) + (uint64_t)rnd_range(-2, 2);
    }
}

/* A value for an f register: a NaN-boxed single (unpriv. spec 12.2), a
 * double, or a 64-bit pattern that is not a valid NaN box, which every
 * single-precision operation must read as the canonical NaN. */
static uint64_t random_freg(void)
{
    uint64_t box = 0xffffffff00000000ull;
    unsigned kind = rnd(10);
    if (kind < 4)
        return box | (chance(50) ? PICK(f32_boundaries) : random_f32());
    if (kind < 8)
        return chance(50) ? PICK(f64_boundaries) : random_f64();
    uint64_t high = chance(50) ? 0 : (rnd64() >> 32);
    if (high == 0xffffffffull)
        high = 0xfffffffeull;
    return high << 32 | (chance(50) ? PICK(f32_boundaries) : random_f32());
}

/* ---- generator state -------------------------------------------------- */

/* The precision an f register was last written with; a source operand
 * prefers a register of its instruction's precision, so that not every
 * single-precision operation reads a double (a NaN box violation, hence the
 * canonical NaN) and NaNs do not swamp the state. */
enum prec { P_ANY, P_S, P_D };

struct gen {
    int sp_offset;         /* sp - scratch */
    unsigned frm;          /* the value frm holds when the current item runs */
    uint32_t busy;         /* x registers a compound has claimed: not to be written */
    unsigned char fprec[32];    /* enum prec of each f register */
    unsigned log_reg;      /* holds scratch + LOG_OFFSET + 2048 */
    unsigned log_used;     /* log slots taken */
    int last_xd, last_fd;  /* registers the current item wrote last, or -1 */
    unsigned item;         /* index of the item being built */
    unsigned spec_labels;  /* spec_<item>_<n> labels placed in it */
    enum prec src_prec, dst_prec;   /* of the template being expanded */
    char *out;             /* text of the item being built */
    size_t len;
};

static struct gen g;

static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g.out + g.len, ITEM_TEXT - g.len, fmt, ap);
    va_end(ap);
    if (n < 0 || g.len + (size_t)n >= ITEM_TEXT) {
        fprintf(stderr, "rvgen: item text overflow\n");
        exit(2);
    }
    g.len += (size_t)n;
}

/* ---- register and immediate choices ------------------------------------ */

static bool writable(unsigned r)
{
    return r != REG_SP && r != REG_BASE && r != g.log_reg && !(g.busy & (1u << r));
}

static unsigned wrote_x(unsigned r)
{
    g.last_xd = (int)r;
    return r;
}

/* A destination x register: never sp, x8 or one a compound holds; x0 now
 * and then (the write is discarded, unpriv. spec 2.1). */
static unsigned pick_xd(void)
{
    if (chance(3))
        return wrote_x(0);
    for (;;) {
        unsigned r = 1 + rnd(31);
        if (writable(r))
            return wrote_x(r);
    }
}

/* a destination that must not be x0 (compressed forms reserve rd = 0) */
static unsigned pick_xd_nonzero(void)
{
    for (;;) {
        unsigned r = 1 + rnd(31);
        if (writable(r))
            return wrote_x(r);
    }
}

/* a compressed 3-bit register field names x8..x15 (unpriv. spec 16.2) */
static unsigned pick_xd_prime(void)
{
    for (;;) {
        unsigned r = 8 + rnd(8);
        if (writable(r))
            return wrote_x(r);
    }
}

static unsigned pick_xs(void)
{
    return rnd(32);
}

static unsigned pick_freg(unsigned first, unsigned count)
{
    if (g.src_prec != P_ANY && chance(85)) {
        unsigned candidates[32], n = 0;
        for (unsigned r = first; r < first + count; r++)
            if (g.fprec[r] == g.src_prec)
                candidates[n++] = r;
        if (n)
            return candidates[rnd(n)];
    }
    return first + rnd(count);
}

static unsigned pick_fd(unsigned first, unsigned count)
{
    unsigned r = first + rnd(count);
    g.fprec[r] = (unsigned char)g.dst_prec;
    g.last_fd = (int)r;
    return r;
}

static enum prec prec_of(char c)
{
    return c == 's' ? P_S : c == 'd' ? P_D : P_ANY;
}

/* Source and destination precisions from a mnemonic: "fcvt.s.d" writes a
 * single from a double, "fmv.x.w" reads a single, "c.fldsp" moves a double,
 * "fadd.s" is single throughout. */
static void set_precisions(const char *text)
{
    char mn[16];
    size_t n = strcspn(text, " ");
    if (n >= sizeof(mn))
        n = sizeof(mn) - 1;
    memcpy(mn, text, n);
    mn[n] = 0;
    g.src_prec = g.dst_prec = P_ANY;
    if (!strncmp(mn, "fcvt.", 5)) {
        const char *dot = strchr(mn + 5, '.');
        g.dst_prec = prec_of(mn[6] == '.' ? mn[5] : 0);
        if (dot && dot[2] == 0)
            g.src_prec = prec_of(dot[1]);
    } else if (!strcmp(mn, "fmv.x.w") || !strcmp(mn, "fmv.w.x")) {
        g.src_prec = g.dst_prec = P_S;
    } else if (!strcmp(mn, "fmv.x.d") || !strcmp(mn, "fmv.d.x")) {
        g.src_prec = g.dst_prec = P_D;
    } else if (strstr(mn, "flw") || strstr(mn, "fsw")) {
        g.src_prec = g.dst_prec = P_S;
    } else if (strstr(mn, "fld") || strstr(mn, "fsd")) {
        g.src_prec = g.dst_prec = P_D;
    } else {
        const char *dot = strrchr(mn, '.');
        if (dot && dot[2] == 0)
            g.src_prec = g.dst_prec = prec_of(dot[1]);
    }
}

static int pick_imm12(void)
{
    static const int edges[] = { 0, 1, -1, 2047, -2048, 2046, -2047, 0x7ff, 0x400, -0x400, 31, 32, 63 };
    return chance(40) ? PICK(edges) : (int)rnd_range(-2048, 2047);
}

static const char *const rm_names[] = { "rne", "rtz", "rdn", "rup", "rmm" };

/* A rounding-mode operand: every static mode, or dyn when frm holds a
 * valid mode (dyn with frm = 5..7 is reserved, unpriv. 11.2; the "trap"
 * group tests it on purpose). */
static const char *pick_rm(void)
{
    unsigned r = rnd(6);
    if (r == 5)
        return g.frm <= 4 ? "dyn" : "rne";
    return rm_names[r];
}

/* An address inside scratch for an access of `size` bytes: aligned most of
 * the time; often near x8 so stores and loads meet; sometimes misaligned
 * (plain loads and stores may be misaligned, unpriv. spec 2.6). */
static int pick_address(unsigned size, int lo, int hi)
{
    int a = (int)rnd_range(X8_OFFSET - 96, X8_OFFSET + 96);
    if (chance(50) || a < lo || a > hi)
        a = (int)rnd_range(lo, hi);
    if (chance(75)) {
        a &= ~(int)(size - 1);      /* still <= hi; lo..hi spans far more than size */
        if (a < lo)
            a += (int)size;
    }
    return a;
}

/* "offset(base)" for an access of `size` bytes through x8 or sp. */
static void emit_mem_operand(unsigned size)
{
    if (chance(25)) {
        int lo = g.sp_offset - 2048 < 0 ? 0 : g.sp_offset - 2048;
        int hi = g.sp_offset + 2047;
        if (hi > SCRATCH_DATA - (int)size)
            hi = SCRATCH_DATA - (int)size;
        emit("%d(sp)", pick_address(size, lo, hi) - g.sp_offset);
    } else {
        emit("%d(s0)", pick_address(size, X8_OFFSET - 2048, X8_OFFSET + 2047) - X8_OFFSET);
    }
}

/* ---- the template table ------------------------------------------------ */

/* Operand kinds, written {kind} in a template:
 *   xd  destination x register      xs  source x register
 *   fd  destination f register      fs  source f register
 *   rm  rounding mode (static or dyn)
 *   i12 signed 12-bit immediate     u20 20-bit upper immediate
 *   sh6 shift amount 0..63          sh5 shift amount 0..31
 *   m1 m2 m4 m8   memory operand "off(base)" for an access of that size
 * compressed forms (unpriv. spec 16):
 *   cxd  rd != 0                    cxs  rs2 != 0
 *   pxd  rd' in x9..x15             pxs  rs' in x8..x15
 *   pfd pfs  f8..f15
 *   ci6  -32..31   cnz6  -32..31, not 0    cnzsh  1..63
 *   clui c.lui's nonzero immediate   c4spn  4..1020, multiple of 4
 *   cm4 cm8    "off(s0)" for c.lw/c.ld/c.fld/... (scaled unsigned offsets)
 *   cspm4 cspm8  "off(sp)" for c.lwsp/c.ldsp/...
 */
enum group {
    G_INT,      /* RV64I ALU, register and immediate, and W forms */
    G_MUL,      /* M */
    G_MEM,      /* integer and FP loads and stores */
    G_AMO,      /* A: AMOs and LR/SC (compounds) */
    G_FARITH,   /* F/D add sub mul div sqrt min max sign-injection */
    G_FFMA,     /* F/D fused multiply-add */
    G_FCMP,     /* F/D compare and classify */
    G_FCVT,     /* F/D conversions and moves */
    G_FCSR,     /* fcsr, frm, fflags accesses (compounds) */
    G_RVC,      /* C */
    G_CTRL,     /* forward branches and jumps, loops, self-modifying code (compounds) */
    G_CONST,    /* boundary constants into x and f registers (compounds) */
    G_TRAP,     /* encodings and accesses that must trap; rt.S resumes after them */
    G_HINT,     /* HINTs and ignored fields: legal, must not change state */
    G_COUNT
};

static const char *const group_names[G_COUNT] = {
    "int", "mul", "mem", "amo", "farith", "ffma", "fcmp", "fcvt", "fcsr", "rvc", "ctrl", "const",
    "trap", "hint",
};

/* How often each group is drawn, in parts of the total (--mix changes it). */
static unsigned group_weight[G_COUNT] = {
    [G_INT] = 14, [G_MUL] = 6, [G_MEM] = 10, [G_AMO] = 5, [G_FARITH] = 14,
    [G_FFMA] = 6, [G_FCMP] = 5, [G_FCVT] = 12, [G_FCSR] = 4, [G_RVC] = 14,
    [G_CTRL] = 5, [G_CONST] = 5, [G_TRAP] = 2, [G_HINT] = 2,
};

typedef void compound_fn(void);

struct tmpl {
    enum group group;
    const char *text;          /* assembler template, or the compound's name */
    compound_fn *compound;     /* NULL for a one-instruction template */
    bool shadow_ok;            /* may sit in a branch shadow (may be skipped) */
};

static compound_fn c_li_int, c_li_float, c_amo, c_lr_sc, c_sc_alone, c_fsrm,
    c_fcsr_write, c_fcsr_setclear, c_fflags, c_mscratch, c_addi16sp,
    c_branch, c_jal, c_jalr, c_cj, c_cbranch, c_cjr, c_trap_rvc_reserved,
    c_trap_wshift, c_trap_static_rm, c_trap_dyn_rm, c_trap_fs_off, c_trap_misaligned_amo,
    c_trap_env, c_trap_csr_readonly, c_trap_fp_funct, c_hint_rvc, c_hint_fence,
    c_hint_widening_rm, c_hint_csr_read, c_fma_residual, c_loop, c_smc, c_tininess,
    c_fma_inf_zero;

#define T(grp, text) { grp, text, NULL, true }
#define C(grp, name, fn, shadow) { grp, name, fn, shadow }

static const struct tmpl templates[] = {
    /* RV64I: register-register */
    T(G_INT, "add {xd}, {xs}, {xs}"),   T(G_INT, "sub {xd}, {xs}, {xs}"),
    T(G_INT, "sll {xd}, {xs}, {xs}"),   T(G_INT, "slt {xd}, {xs}, {xs}"),
    T(G_INT, "sltu {xd}, {xs}, {xs}"),  T(G_INT, "xor {xd}, {xs}, {xs}"),
    T(G_INT, "srl {xd}, {xs}, {xs}"),   T(G_INT, "sra {xd}, {xs}, {xs}"),
    T(G_INT, "or {xd}, {xs}, {xs}"),    T(G_INT, "and {xd}, {xs}, {xs}"),
    T(G_INT, "addw {xd}, {xs}, {xs}"),  T(G_INT, "subw {xd}, {xs}, {xs}"),
    T(G_INT, "sllw {xd}, {xs}, {xs}"),  T(G_INT, "srlw {xd}, {xs}, {xs}"),
    T(G_INT, "sraw {xd}, {xs}, {xs}"),
    /* RV64I: register-immediate */
    T(G_INT, "addi {xd}, {xs}, {i12}"), T(G_INT, "slti {xd}, {xs}, {i12}"),
    T(G_INT, "sltiu {xd}, {xs}, {i12}"), T(G_INT, "xori {xd}, {xs}, {i12}"),
    T(G_INT, "ori {xd}, {xs}, {i12}"),  T(G_INT, "andi {xd}, {xs}, {i12}"),
    T(G_INT, "slli {xd}, {xs}, {sh6}"), T(G_INT, "srli {xd}, {xs}, {sh6}"),
    T(G_INT, "srai {xd}, {xs}, {sh6}"), T(G_INT, "addiw {xd}, {xs}, {i12}"),
    T(G_INT, "slliw {xd}, {xs}, {sh5}"), T(G_INT, "srliw {xd}, {xs}, {sh5}"),
    T(G_INT, "sraiw {xd}, {xs}, {sh5}"), T(G_INT, "lui {xd}, {u20}"),
    T(G_INT, "auipc {xd}, {u20}"),
    T(G_INT, "fence"),                  T(G_INT, "fence rw, rw"),
    T(G_INT, "fence.i"),
    /* M */
    T(G_MUL, "mul {xd}, {xs}, {xs}"),   T(G_MUL, "mulh {xd}, {xs}, {xs}"),
    T(G_MUL, "mulhsu {xd}, {xs}, {xs}"), T(G_MUL, "mulhu {xd}, {xs}, {xs}"),
    T(G_MUL, "div {xd}, {xs}, {xs}"),   T(G_MUL, "divu {xd}, {xs}, {xs}"),
    T(G_MUL, "rem {xd}, {xs}, {xs}"),   T(G_MUL, "remu {xd}, {xs}, {xs}"),
    T(G_MUL, "mulw {xd}, {xs}, {xs}"),  T(G_MUL, "divw {xd}, {xs}, {xs}"),
    T(G_MUL, "divuw {xd}, {xs}, {xs}"), T(G_MUL, "remw {xd}, {xs}, {xs}"),
    T(G_MUL, "remuw {xd}, {xs}, {xs}"),
    /* loads and stores */
    T(G_MEM, "lb {xd}, {m1}"),  T(G_MEM, "lh {xd}, {m2}"),  T(G_MEM, "lw {xd}, {m4}"),
    T(G_MEM, "ld {xd}, {m8}"),  T(G_MEM, "lbu {xd}, {m1}"), T(G_MEM, "lhu {xd}, {m2}"),
    T(G_MEM, "lwu {xd}, {m4}"), T(G_MEM, "sb {xs}, {m1}"),  T(G_MEM, "sh {xs}, {m2}"),
    T(G_MEM, "sw {xs}, {m4}"),  T(G_MEM, "sd {xs}, {m8}"),
    T(G_MEM, "flw {fd}, {m4}"), T(G_MEM, "fld {fd}, {m8}"),
    T(G_MEM, "fsw {fs}, {m4}"), T(G_MEM, "fsd {fs}, {m8}"),
    /* A */
    C(G_AMO, "amo<op>.<w|d> rd, rs2, (rt)", c_amo, true),
    C(G_AMO, "lr + sc, same address", c_lr_sc, false),
    C(G_AMO, "sc with no reservation", c_sc_alone, false),
    /* F and D arithmetic */
    T(G_FARITH, "fadd.s {fd}, {fs}, {fs}, {rm}"), T(G_FARITH, "fadd.d {fd}, {fs}, {fs}, {rm}"),
    T(G_FARITH, "fsub.s {fd}, {fs}, {fs}, {rm}"), T(G_FARITH, "fsub.d {fd}, {fs}, {fs}, {rm}"),
    T(G_FARITH, "fmul.s {fd}, {fs}, {fs}, {rm}"), T(G_FARITH, "fmul.d {fd}, {fs}, {fs}, {rm}"),
    T(G_FARITH, "fdiv.s {fd}, {fs}, {fs}, {rm}"), T(G_FARITH, "fdiv.d {fd}, {fs}, {fs}, {rm}"),
    T(G_FARITH, "fsqrt.s {fd}, {fs}, {rm}"),      T(G_FARITH, "fsqrt.d {fd}, {fs}, {rm}"),
    T(G_FARITH, "fmin.s {fd}, {fs}, {fs}"),       T(G_FARITH, "fmin.d {fd}, {fs}, {fs}"),
    T(G_FARITH, "fmax.s {fd}, {fs}, {fs}"),       T(G_FARITH, "fmax.d {fd}, {fs}, {fs}"),
    T(G_FARITH, "fsgnj.s {fd}, {fs}, {fs}"),      T(G_FARITH, "fsgnj.d {fd}, {fs}, {fs}"),
    T(G_FARITH, "fsgnjn.s {fd}, {fs}, {fs}"),     T(G_FARITH, "fsgnjn.d {fd}, {fs}, {fs}"),
    T(G_FARITH, "fsgnjx.s {fd}, {fs}, {fs}"),     T(G_FARITH, "fsgnjx.d {fd}, {fs}, {fs}"),
    /* fused multiply-add: one rounding (unpriv. spec 11.6) */
    T(G_FFMA, "fmadd.s {fd}, {fs}, {fs}, {fs}, {rm}"),  T(G_FFMA, "fmadd.d {fd}, {fs}, {fs}, {fs}, {rm}"),
    T(G_FFMA, "fmsub.s {fd}, {fs}, {fs}, {fs}, {rm}"),  T(G_FFMA, "fmsub.d {fd}, {fs}, {fs}, {fs}, {rm}"),
    T(G_FFMA, "fnmadd.s {fd}, {fs}, {fs}, {fs}, {rm}"), T(G_FFMA, "fnmadd.d {fd}, {fs}, {fs}, {fs}, {rm}"),
    T(G_FFMA, "fnmsub.s {fd}, {fs}, {fs}, {fs}, {rm}"), T(G_FFMA, "fnmsub.d {fd}, {fs}, {fs}, {fs}, {rm}"),
    C(G_FFMA, "fmul t, a, b; fmsub d, a, b, t: the product's exact rounding error", c_fma_residual, true),
    C(G_FFMA, "f[n]madd / f[n]msub of inf * 0 + qNaN: NV is set", c_fma_inf_zero, true),
    /* compare and classify */
    T(G_FCMP, "feq.s {xd}, {fs}, {fs}"), T(G_FCMP, "feq.d {xd}, {fs}, {fs}"),
    T(G_FCMP, "flt.s {xd}, {fs}, {fs}"), T(G_FCMP, "flt.d {xd}, {fs}, {fs}"),
    T(G_FCMP, "fle.s {xd}, {fs}, {fs}"), T(G_FCMP, "fle.d {xd}, {fs}, {fs}"),
    T(G_FCMP, "fclass.s {xd}, {fs}"),    T(G_FCMP, "fclass.d {xd}, {fs}"),
    /* conversions and moves */
    T(G_FCVT, "fcvt.w.s {xd}, {fs}, {rm}"),  T(G_FCVT, "fcvt.wu.s {xd}, {fs}, {rm}"),
    T(G_FCVT, "fcvt.l.s {xd}, {fs}, {rm}"),  T(G_FCVT, "fcvt.lu.s {xd}, {fs}, {rm}"),
    T(G_FCVT, "fcvt.w.d {xd}, {fs}, {rm}"),  T(G_FCVT, "fcvt.wu.d {xd}, {fs}, {rm}"),
    T(G_FCVT, "fcvt.l.d {xd}, {fs}, {rm}"),  T(G_FCVT, "fcvt.lu.d {xd}, {fs}, {rm}"),
    T(G_FCVT, "fcvt.s.w {fd}, {xs}, {rm}"),  T(G_FCVT, "fcvt.s.wu {fd}, {xs}, {rm}"),
    T(G_FCVT, "fcvt.s.l {fd}, {xs}, {rm}"),  T(G_FCVT, "fcvt.s.lu {fd}, {xs}, {rm}"),
    T(G_FCVT, "fcvt.d.w {fd}, {xs}"),        T(G_FCVT, "fcvt.d.wu {fd}, {xs}"),
    T(G_FCVT, "fcvt.d.l {fd}, {xs}, {rm}"),  T(G_FCVT, "fcvt.d.lu {fd}, {xs}, {rm}"),
    T(G_FCVT, "fcvt.s.d {fd}, {fs}, {rm}"),  T(G_FCVT, "fcvt.d.s {fd}, {fs}"),
    T(G_FCVT, "fmv.x.w {xd}, {fs}"),         T(G_FCVT, "fmv.w.x {fd}, {xs}"),
    T(G_FCVT, "fmv.x.d {xd}, {fs}"),         T(G_FCVT, "fmv.d.x {fd}, {xs}"),
    /* fcsr */
    C(G_FCSR, "fsrm / fsrmi (frm := 0..7)", c_fsrm, false),
    C(G_FCSR, "fscsr / csrw fcsr (any value)", c_fcsr_write, false),
    C(G_FCSR, "csrrs / csrrc / csrrsi / csrrci on frm, fcsr", c_fcsr_setclear, false),
    C(G_FCSR, "fflags reads and writes", c_fflags, true),
    C(G_FCSR, "csrrw / csrrs / csrrc mscratch", c_mscratch, true),
    /* C: quadrant 0 */
    T(G_RVC, "c.addi4spn {pxd}, sp, {c4spn}"),
    T(G_RVC, "c.fld {pfd}, {cm8}"), T(G_RVC, "c.lw {pxd}, {cm4}"), T(G_RVC, "c.ld {pxd}, {cm8}"),
    T(G_RVC, "c.fsd {pfs}, {cm8}"), T(G_RVC, "c.sw {pxs}, {cm4}"), T(G_RVC, "c.sd {pxs}, {cm8}"),
    /* C: quadrant 1 */
    T(G_RVC, "c.nop"),
    T(G_RVC, "c.addi {cxd}, {cnz6}"),  T(G_RVC, "c.addiw {cxd}, {ci6}"),
    T(G_RVC, "c.li {cxd}, {ci6}"),     T(G_RVC, "c.lui {cxd}, {clui}"),
    T(G_RVC, "c.srli {pxd}, {cnzsh}"), T(G_RVC, "c.srai {pxd}, {cnzsh}"),
    T(G_RVC, "c.andi {pxd}, {ci6}"),
    T(G_RVC, "c.sub {pxd}, {pxs}"),    T(G_RVC, "c.xor {pxd}, {pxs}"),
    T(G_RVC, "c.or {pxd}, {pxs}"),     T(G_RVC, "c.and {pxd}, {pxs}"),
    T(G_RVC, "c.subw {pxd}, {pxs}"),   T(G_RVC, "c.addw {pxd}, {pxs}"),
    C(G_RVC, "c.addi16sp sp, imm (tracked)", c_addi16sp, false),
    /* C: quadrant 2 */
    T(G_RVC, "c.slli {cxd}, {cnzsh}"),
    T(G_RVC, "c.fldsp {fd}, {cspm8}"), T(G_RVC, "c.lwsp {cxd}, {cspm4}"),
    T(G_RVC, "c.ldsp {cxd}, {cspm8}"),
    T(G_RVC, "c.mv {cxd}, {cxs}"),     T(G_RVC, "c.add {cxd}, {cxs}"),
    T(G_RVC, "c.fsdsp {fs}, {cspm8}"), T(G_RVC, "c.swsp {xs}, {cspm4}"),
    T(G_RVC, "c.sdsp {xs}, {cspm8}"),
    /* forward control flow (c.jal is RV32-only; c.ebreak would trap) */
    C(G_CTRL, "b<cond> rs1, rs2 over 1..4 items", c_branch, false),
    C(G_CTRL, "jal rd over 1..4 items", c_jal, false),
    C(G_CTRL, "lla rt; jalr rd, 0|1(rt) over 1..4 items", c_jalr, false),
    C(G_CTRL, "c.j over 1..4 items", c_cj, false),
    C(G_CTRL, "c.beqz / c.bnez rs' over 1..4 items", c_cbranch, false),
    C(G_CTRL, "lla rt; c.jr / c.jalr rt over 1..4 items", c_cjr, false),
    C(G_CTRL, "loop: 1..4 items run 1..4 times (bnez back)", c_loop, false),
    C(G_CTRL, "self-modifying code: run, store a new instruction, fence.i, run again", c_smc, false),
    /* exceptions (mcause and mepc are compared; rt.S skips the instruction) */
    C(G_TRAP, "reserved C encodings (all-zero, c.addi4spn 0, c.lui rd 0, c.lwsp x0 ...)", c_trap_rvc_reserved, false),
    C(G_TRAP, "slliw / srliw / sraiw with imm[5] = 1", c_trap_wshift, false),
    C(G_TRAP, "F/D op with rm = 101 / 110", c_trap_static_rm, false),
    C(G_TRAP, "F/D op with rm = dyn while frm = 101..111", c_trap_dyn_rm, false),
    C(G_TRAP, "F/D instruction or fcsr access with mstatus.FS = Off", c_trap_fs_off, false),
    C(G_TRAP, "misaligned AMO, LR, SC", c_trap_misaligned_amo, false),
    C(G_TRAP, "ecall, ebreak, c.ebreak", c_trap_env, false),
    C(G_TRAP, "write to read-only CSR mhartid", c_trap_csr_readonly, false),
    C(G_TRAP, "F/D op with a reserved funct3 or rs2", c_trap_fp_funct, false),
    /* HINTs and fields that must be ignored */
    C(G_HINT, "C HINTs (c.nop imm, c.li x0, c.mv x0, c.slli rd 0 ...)", c_hint_rvc, false),
    C(G_HINT, "fence with reserved fm / rd / rs1, fence.i with imm / rd / rs1", c_hint_fence, false),
    C(G_HINT, "fcvt.d.w / fcvt.d.wu / fcvt.d.s with rm != RNE", c_hint_widening_rm, false),
    C(G_HINT, "csrrs / csrrc / csrrsi / csrrci mhartid without a write", c_hint_csr_read, false),
    /* boundary constants */
    C(G_CONST, "li rd, <boundary integer>", c_li_int, true),
    C(G_CONST, "li rt, <boundary float>; fmv.d.x / fmv.w.x fd, rt", c_li_float, true),
    C(G_CONST, "products and quotients at the underflow threshold", c_tininess, true),
};

#define N_TEMPLATES (sizeof(templates) / sizeof(templates[0]))

static unsigned template_count[N_TEMPLATES];

/* ---- one-instruction templates ----------------------------------------- */

static void emit_operand(const char *kind)
{
    if (!strcmp(kind, "xd"))         emit("x%u", pick_xd());
    else if (!strcmp(kind, "xs"))    emit("x%u", pick_xs());
    else if (!strcmp(kind, "fd"))    emit("f%u", pick_fd(0, 32));
    else if (!strcmp(kind, "fs"))    emit("f%u", pick_freg(0, 32));
    else if (!strcmp(kind, "rm"))    emit("%s", pick_rm());
    else if (!strcmp(kind, "i12"))   emit("%d", pick_imm12());
    else if (!strcmp(kind, "u20"))   emit("0x%x", chance(30) ? PICK(((const unsigned[]){ 0, 0x80000, 0x7ffff, 0xfffff, 1 })) : rnd(1u << 20));
    else if (!strcmp(kind, "sh6"))   emit("%u", chance(30) ? PICK(((const unsigned[]){ 0, 1, 31, 32, 63 })) : rnd(64));
    else if (!strcmp(kind, "sh5"))   emit("%u", chance(30) ? PICK(((const unsigned[]){ 0, 1, 15, 31 })) : rnd(32));
    else if (!strcmp(kind, "m1"))    emit_mem_operand(1);
    else if (!strcmp(kind, "m2"))    emit_mem_operand(2);
    else if (!strcmp(kind, "m4"))    emit_mem_operand(4);
    else if (!strcmp(kind, "m8"))    emit_mem_operand(8);
    else if (!strcmp(kind, "cxd"))   emit("x%u", pick_xd_nonzero());
    else if (!strcmp(kind, "cxs"))   emit("x%u", 1 + rnd(31));
    else if (!strcmp(kind, "pxd"))   emit("x%u", pick_xd_prime());
    else if (!strcmp(kind, "pxs"))   emit("x%u", 8 + rnd(8));
    else if (!strcmp(kind, "pfd"))   emit("f%u", pick_fd(8, 8));
    else if (!strcmp(kind, "pfs"))   emit("f%u", pick_freg(8, 8));
    else if (!strcmp(kind, "ci6"))   emit("%d", (int)rnd_range(-32, 31));
    else if (!strcmp(kind, "cnz6"))  emit("%d", chance(50) ? (int)rnd_range(1, 31) : (int)rnd_range(-32, -1));
    else if (!strcmp(kind, "cnzsh")) emit("%u", 1 + rnd(63));
    else if (!strcmp(kind, "clui"))  emit("0x%x", chance(50) ? 1 + rnd(31) : 0xfffe0 + rnd(32));
    else if (!strcmp(kind, "c4spn")) emit("%u", 4 * (1 + rnd(255)));
    else if (!strcmp(kind, "cm4"))   emit("%u(s0)", 4 * rnd(32));
    else if (!strcmp(kind, "cm8"))   emit("%u(s0)", 8 * rnd(32));
    else if (!strcmp(kind, "cspm4")) emit("%u(sp)", 4 * rnd(64));
    else if (!strcmp(kind, "cspm8")) emit("%u(sp)", 8 * rnd(64));
    else {
        fprintf(stderr, "rvgen: unknown operand kind {%s}\n", kind);
        exit(2);
    }
}

static void emit_template(const char *text)
{
    bool compressed = text[0] == 'c' && text[1] == '.';
    set_precisions(text);
    if (compressed)
        emit("\t.option rvc\n");
    emit("\t");
    for (const char *p = text; *p; p++) {
        if (*p != '{') {
            emit("%c", *p);
            continue;
        }
        char kind[16];
        size_t n = strcspn(p + 1, "}");
        if (n >= sizeof(kind)) {
            fprintf(stderr, "rvgen: bad template %s\n", text);
            exit(2);
        }
        memcpy(kind, p + 1, n);
        kind[n] = 0;
        emit_operand(kind);
        p += n + 1;
    }
    emit("\n");
    if (compressed)
        emit("\t.option norvc\n");
}

/* ---- choosing items ----------------------------------------------------- */

static const struct tmpl *pick_template(bool for_shadow, bool alu_only)
{
    for (;;) {
        unsigned total = 0;
        for (unsigned i = 0; i < G_COUNT; i++)
            total += group_weight[i];
        unsigned w = rnd(total);
        enum group grp = 0;
        while (w >= group_weight[grp])
            w -= group_weight[grp++];
        if (alu_only && grp != G_INT && grp != G_MUL)
            continue;
        unsigned n = 0;
        for (unsigned i = 0; i < N_TEMPLATES; i++)
            n += templates[i].group == grp;
        unsigned k = rnd(n);
        for (unsigned i = 0; i < N_TEMPLATES; i++) {
            if (templates[i].group != grp || k-- != 0)
                continue;
            const struct tmpl *t = &templates[i];
            if ((for_shadow && !t->shadow_ok) || (alu_only && t->compound))
                break;
            if (alu_only && !strncmp(t->text, "fence", 5))
                break;
            template_count[i]++;
            return t;
        }
    }
}

static void emit_one(const struct tmpl *t)
{
    if (t->compound) {
        g.src_prec = g.dst_prec = P_ANY;
        t->compound();
    } else
        emit_template(t->text);
}

static bool is_fp_arithmetic(enum group grp)
{
    return grp == G_FARITH || grp == G_FFMA || grp == G_FCMP || grp == G_FCVT;
}

static void log_store(const char *op, char file, int reg)
{
    if (g.log_used == LOG_SLOTS)
        return;
    emit("\t%s %c%d, %d(x%u)\t# log\n", op, file, reg, 8 * (int)g.log_used - 2048, g.log_reg);
    g.log_used++;
}

/* Record what a top-level item wrote (see the header): its last x and f
 * destinations and, after most F/D arithmetic, the fflags it raised, swapped
 * out (fsflags rt, x0 reads and clears them) so each entry is one item's. */
static void observe(const struct tmpl *t)
{
    if (g.last_xd > 0)
        log_store("sd", 'x', g.last_xd);
    if (g.last_fd >= 0)
        log_store("fsd", 'f', g.last_fd);
    if (is_fp_arithmetic(t->group) && chance(60) && g.log_used < LOG_SLOTS) {
        unsigned rt = pick_xd_nonzero();
        emit("\tfsflags x%u, x0\t# log\n", rt);
        log_store("sd", 'x', (int)rt);
    }
}

/* 1..4 items that a forward branch may skip: nothing whose effect the
 * generator tracks (sp, frm) and no LR/SC pair. */
static void emit_shadow(void)
{
    unsigned n = 1 + rnd(4);
    for (unsigned i = 0; i < n; i++)
        emit_one(pick_template(true, false));
}

/* ---- compound items ------------------------------------------------------ */

static void c_li_int(void)
{
    emit("\tli x%u, 0x%" PRIx64 "\n", pick_xd(), random_int());
}

static void c_li_float(void)
{
    unsigned rt = pick_xd_nonzero();
    unsigned fd = rnd(32);
    g.last_fd = (int)fd;
    g.fprec[fd] = chance(50) ? P_D : P_S;
    if (g.fprec[fd] == P_D) {
        emit("\tli x%u, 0x%" PRIx64 "\n\tfmv.d.x f%u, x%u\n", rt, PICK(f64_boundaries), fd, rt);
    } else {
        emit("\tli x%u, 0x%" PRIx32 "\n\tfmv.w.x f%u, x%u\n", rt, PICK(f32_boundaries), fd, rt);
    }
}

/* rt := an aligned address in scratch (AMOs and LR/SC must be naturally
 * aligned, unpriv. spec 8.2/8.4, or they raise address-misaligned). */
static unsigned emit_aligned_address(unsigned size)
{
    unsigned rt = pick_xd_nonzero();
    int a = pick_address(size, 0, X8_OFFSET + 2047) & ~(int)(size - 1);
    emit("\taddi x%u, s0, %d\n", rt, a - X8_OFFSET);
    return rt;
}

static const char *pick_ordering(void)
{
    static const char *const ord[] = { "", "", ".aq", ".rl", ".aqrl" };
    return PICK(ord);
}

static void c_amo(void)
{
    static const char *const ops[] = {
        "swap", "add", "xor", "and", "or", "min", "max", "minu", "maxu",
    };
    bool dword = chance(50);
    unsigned rt = emit_aligned_address(dword ? 8 : 4);
    emit("\tamo%s.%c%s x%u, x%u, (x%u)\n", PICK(ops), dword ? 'd' : 'w', pick_ordering(),
         pick_xd(), pick_xs(), rt);
}

/* LR then SC to the same address with only ALU items between: the SC
 * succeeds on both machines (no other store, no other SC, no trap in
 * between; unpriv. spec 8.3). rd of the LR must not clobber the address. */
static void c_lr_sc(void)
{
    bool dword = chance(50);
    char sz = dword ? 'd' : 'w';
    unsigned rt = emit_aligned_address(dword ? 8 : 4);
    g.busy |= 1u << rt;
    emit("\tlr.%c%s x%u, (x%u)\n", sz, pick_ordering(), pick_xd(), rt);
    unsigned n = rnd(4);
    for (unsigned i = 0; i < n; i++)
        emit_one(pick_template(true, true));
    emit("\tsc.%c%s x%u, x%u, (x%u)\n", sz, pick_ordering(), pick_xd(), pick_xs(), rt);
    g.busy &= ~(1u << rt);
}

/* An SC with no reservation must fail: every LR above is followed by its
 * SC, and any SC invalidates the reservation (unpriv. spec 8.3). */
static void c_sc_alone(void)
{
    bool dword = chance(50);
    unsigned rt = emit_aligned_address(dword ? 8 : 4);
    emit("\tsc.%c x%u, x%u, (x%u)\n", dword ? 'd' : 'w', pick_xd(), pick_xs(), rt);
}

static unsigned pick_frm_value(void)
{
    return chance(90) ? rnd(5) : 5 + rnd(3);   /* 5..7: reserved, readable back */
}

static void c_fsrm(void)
{
    unsigned v = pick_frm_value();
    switch (rnd(3)) {
    case 0:
        emit("\tfsrmi x%u, %u\n", pick_xd(), v);
        break;
    case 1: {
        unsigned rt = pick_xd_nonzero();
        /* upper bits of the source are ignored by the 3-bit frm field */
        emit("\tli x%u, 0x%" PRIx64 "\n\tfsrm x%u, x%u\n", rt,
             (rnd64() & ~(uint64_t)7) | v, pick_xd(), rt);
        break;
    }
    default:
        emit("\tcsrrwi x%u, frm, %u\n", pick_xd(), v);
        break;
    }
    g.frm = v;
}

/* fcsr is frm (7:5) and fflags (4:0); bits 31:8 are reserved, writes to them
 * are ignored and they read as zero (unpriv. spec 11.2). */
static void c_fcsr_write(void)
{
    uint64_t v = chance(50) ? rnd64() : (uint64_t)(pick_frm_value() << 5 | rnd(32));
    unsigned rt = pick_xd_nonzero();
    emit("\tli x%u, 0x%" PRIx64 "\n", rt, v);
    if (chance(50))
        emit("\tfscsr x%u, x%u\n", pick_xd(), rt);
    else
        emit("\tcsrrw x%u, fcsr, x%u\n", pick_xd(), rt);
    g.frm = (v >> 5) & 7;
}

static void c_fcsr_setclear(void)
{
    bool set = chance(50);
    bool whole = chance(50);               /* fcsr, or frm alone */
    uint64_t v = rnd64() & (chance(50) ? 0xff : ~(uint64_t)0);
    if (chance(30)) {
        v &= 31;                           /* csrrsi / csrrci: 5-bit zimm */
        emit("\tcsrr%ci x%u, %s, %u\n", set ? 's' : 'c', pick_xd(), whole ? "fcsr" : "frm", (unsigned)v);
    } else {
        unsigned rt = pick_xd_nonzero();
        emit("\tli x%u, 0x%" PRIx64 "\n\tcsrr%c x%u, %s, x%u\n", rt, v, set ? 's' : 'c', pick_xd(),
             whole ? "fcsr" : "frm", rt);
    }
    unsigned bits = whole ? (unsigned)(v >> 5) & 7 : (unsigned)v & 7;
    g.frm = set ? (g.frm | bits) : (g.frm & ~bits);
}

static void c_fflags(void)
{
    unsigned rt = pick_xd_nonzero();
    switch (rnd(5)) {
    case 0: emit("\tfrflags x%u\n", pick_xd()); break;
    case 1: emit("\tfsflagsi x%u, %u\n", pick_xd(), rnd(32)); break;
    case 2: emit("\tli x%u, 0x%" PRIx64 "\n\tfsflags x%u, x%u\n", rt, rnd64(), pick_xd(), rt); break;
    case 3: emit("\tcsrrci x%u, fflags, %u\n", pick_xd(), rnd(32)); break;
    default: emit("\tfrcsr x%u\n", pick_xd()); break;
    }
}

/* mscratch: a plain read/write M-mode CSR (priv. spec 3.1.11); test_body
 * sets it first, since its reset value is unspecified. */
static void c_mscratch(void)
{
    static const char *const ops[] = { "csrrw", "csrrs", "csrrc" };
    emit("\t%s x%u, mscratch, x%u\n", PICK(ops), pick_xd(), pick_xs());
}

static void c_addi16sp(void)
{
    int lo = SP_MIN - g.sp_offset, hi = SP_MAX - g.sp_offset;
    if (lo < -512) lo = -512;
    if (hi > 496) hi = 496;
    int imm;
    do
        imm = 16 * (int)rnd_range(lo / 16, hi / 16);
    while (imm == 0);
    emit("\t.option rvc\n\tc.addi16sp sp, %d\n\t.option norvc\n", imm);
    g.sp_offset += imm;
}

static void c_branch(void)
{
    static const char *const conds[] = { "beq", "bne", "blt", "bge", "bltu", "bgeu" };
    emit("\t%s x%u, x%u, 1f\n", PICK(conds), pick_xs(), pick_xs());
    emit_shadow();
    emit("1:\n");
}

static void c_jal(void)
{
    emit("\tjal x%u, 1f\n", pick_xd());
    emit_shadow();
    emit("1:\n");
}

/* JALR clears bit 0 of the target (unpriv. spec 2.5), so offset 1 lands
 * on the label too. rd may equal rt: the target uses the old rt. */
static void c_jalr(void)
{
    unsigned rt = pick_xd_nonzero();
    emit("\tlla x%u, 1f\n\tjalr x%u, %u(x%u)\n", rt, pick_xd(), rnd(2), rt);
    emit_shadow();
    emit("1:\n");
}

static void c_cj(void)
{
    emit("\t.option rvc\n\tc.j 1f\n\t.option norvc\n");
    emit_shadow();
    emit("1:\n");
}

static void c_cbranch(void)
{
    emit("\t.option rvc\n\tc.%s x%u, 1f\n\t.option norvc\n", chance(50) ? "beqz" : "bnez", 8 + rnd(8));
    emit_shadow();
    emit("1:\n");
}

/* c.jalr writes ra (x1); x1 is an ordinary register here. */
static void c_cjr(void)
{
    unsigned rt = pick_xd_nonzero();
    emit("\tlla x%u, 1f\n\t.option rvc\n\tc.%s x%u\n\t.option norvc\n", rt, chance(50) ? "jr" : "jalr", rt);
    emit_shadow();
    emit("1:\n");
}


/* ---- exceptions and HINTs ------------------------------------------------- */

/* Encoders for what the assembler will not write (unpriv. spec 2.2, 16.2). */
static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned opc)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}

static uint32_t enc_c(unsigned f3, unsigned b12, unsigned b11_7, unsigned b6_2, unsigned op)
{
    return f3 << 13 | b12 << 12 | b11_7 << 7 | b6_2 << 2 | op;
}

/* Every instruction that must trap carries "expect trap" in its comment: the
 * runner checks that the reference traps nowhere else. */
static void emit_half(uint32_t bits, const char *what, bool trap)
{
    emit("\t.half 0x%04x\t# %s%s\n", bits, what, trap ? "; expect trap" : "");
}

static void emit_word(uint32_t bits, const char *what, bool trap)
{
    emit("\t.word 0x%08x\t# %s%s\n", bits, what, trap ? "; expect trap" : "");
}

/* Reserved C encodings raise illegal instruction (unpriv. spec 16.8 table;
 * the all-zero halfword is defined illegal, 16.5). */
static void c_trap_rvc_reserved(void)
{
    switch (rnd(8)) {
    case 0: emit_half(0x0000, "all-zero halfword", true); break;
    case 1: emit_half(enc_c(0, 0, 0, pick_xd_prime() - 8, 0), "c.addi4spn rd', sp, 0 (nzuimm = 0 reserved)", true); break;
    case 2: emit_half(0x6101, "c.addi16sp sp, 0 (nzimm = 0 reserved)", true); break;
    case 3: {
        unsigned rd;
        do
            rd = pick_xd_nonzero();
        while (rd == REG_SP);
        emit_half(enc_c(3, 0, rd, 0, 1), "c.lui rd, 0 (nzimm = 0 reserved)", true);
        break;
    }
    case 4: emit_half(enc_c(2, rnd(2), 0, rnd(32), 2), "c.lwsp x0 (rd = 0 reserved)", true); break;
    case 5: emit_half(enc_c(3, rnd(2), 0, rnd(32), 2), "c.ldsp x0 (rd = 0 reserved)", true); break;
    case 6: emit_half(0x8002, "c.jr x0 (rs1 = 0 reserved)", true); break;
    default: emit_half(enc_c(1, rnd(2), 0, rnd(32), 1), "c.addiw x0 (rd = 0 reserved)", true); break;
    }
}

/* "SLLIW, SRLIW, and SRAIW encodings with imm[5] != 0 are reserved"
 * (unpriv. spec 4.2.1). */
static void c_trap_wshift(void)
{
    static const struct { unsigned f7, f3; const char *name; } ops[] = {
        { 0x00, 1, "slliw" }, { 0x00, 5, "srliw" }, { 0x20, 5, "sraiw" },
    };
    unsigned k = rnd(3);
    char what[64];
    snprintf(what, sizeof(what), "%s with shamt[5] = 1", ops[k].name);
    emit_word(enc_r(ops[k].f7 | 1, rnd(32), pick_xs(), ops[k].f3, pick_xd(), 0x1b), what, true);
}

/* An F/D operation, encoded with an arbitrary rm field. The widening
 * conversions are included: their rm field is decoded as usual even though
 * it cannot change the result (unpriv. spec 11.2). */
static uint32_t fp_op_with_rm(unsigned rm, const char **name)
{
    unsigned fs1 = rnd(32), fs2 = rnd(32);
    switch (rnd(8)) {
    case 0: *name = "fadd.s"; return enc_r(0x00, fs2, fs1, rm, pick_fd(0, 32), 0x53);
    case 1: *name = "fdiv.d"; return enc_r(0x0d, fs2, fs1, rm, pick_fd(0, 32), 0x53);
    case 2: *name = "fsqrt.d"; return enc_r(0x2d, 0, fs1, rm, pick_fd(0, 32), 0x53);
    case 3: *name = "fcvt.w.d"; return enc_r(0x61, 0, fs1, rm, pick_xd(), 0x53);
    case 4: *name = "fmadd.s"; return rnd(32) << 27 | enc_r(0, fs2, fs1, rm, pick_fd(0, 32), 0x43);
    case 5: *name = "fcvt.d.s"; return enc_r(0x21, 0, fs1, rm, pick_fd(0, 32), 0x53);
    case 6: *name = "fcvt.d.w"; return enc_r(0x69, 0, pick_xs(), rm, pick_fd(0, 32), 0x53);
    default: *name = "fcvt.d.wu"; return enc_r(0x69, 1, pick_xs(), rm, pick_fd(0, 32), 0x53);
    }
}

/* rm = 101 and 110 are reserved (unpriv. spec 11.2, "Floating-Point Control
 * and Status Register"); the current text leaves such an instruction's
 * behaviour reserved and names the illegal-instruction trap as valid, which
 * is what umbra and QEMU both do. */
static void c_trap_static_rm(void)
{
    const char *name;
    unsigned rm = 5 + rnd(2);
    uint32_t bits = fp_op_with_rm(rm, &name);
    char what[64];
    snprintf(what, sizeof(what), "%s with rm = %u (reserved)", name, rm);
    emit_word(bits, what, true);
}

/* dyn with frm = 101..111: illegal instruction in the ratified F 2.2;
 * "reserved" in the current text, which keeps the trap valid (11.2). */
static void c_trap_dyn_rm(void)
{
    unsigned bad = 5 + rnd(3);
    emit("\tfsrmi x0, %u\n", bad);
    const char *name;
    uint32_t bits = fp_op_with_rm(7, &name);
    char what[64];
    snprintf(what, sizeof(what), "%s, dyn, with frm = %u", name, bad);
    emit_word(bits, what, true);
    if (g.frm > 4)
        g.frm = rnd(5);
    emit("\tfsrmi x0, %u\n", g.frm);
}

/* With mstatus.FS = Off every F/D instruction and every access to fcsr,
 * frm or fflags is illegal (priv. spec 3.1.6.6). FS is set back to Dirty. */
static void c_trap_fs_off(void)
{
    unsigned rt = pick_xd_nonzero();
    emit("\tli x%u, 0x6000\n\tcsrc mstatus, x%u\n", rt, rt);
    switch (rnd(6)) {
    case 0: emit("\tfadd.d f%u, f%u, f%u\t# FS = Off; expect trap\n", pick_fd(0, 32), rnd(32), rnd(32)); break;
    case 1: emit("\tfld f%u, %d(s0)\t# FS = Off; expect trap\n", pick_fd(0, 32), 8 * (int)rnd_range(-16, 16)); break;
    case 2: emit("\tfsw f%u, %d(s0)\t# FS = Off; expect trap\n", rnd(32), 4 * (int)rnd_range(-16, 16)); break;
    case 3: emit("\tfmv.x.d x%u, f%u\t# FS = Off; expect trap\n", pick_xd(), rnd(32)); break;
    case 4: emit("\tfrcsr x%u\t# FS = Off; expect trap\n", pick_xd()); break;
    default: emit("\tfsflagsi x%u, %u\t# FS = Off; expect trap\n", pick_xd(), rnd(32)); break;
    }
    emit("\tcsrs mstatus, x%u\n", rt);
}

/* An instruction that must trap with one of `causes` ("6|7") where
 * qemu-system-riscv64 7.2 (the reference) does otherwise. The label
 * spec_<item>_<n> lets the runner compare umbra with the spec's causes
 * instead of with the reference at that instruction. Such an instruction
 * must leave the same state whether it traps or not (rd = x0, no store), so
 * the rest of the comparison stays exact. */
static void emit_spec_trap(const char *causes, const char *why, const char *fmt, ...)
{
    char insn[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(insn, sizeof(insn), fmt, ap);
    va_end(ap);
    emit("spec_%u_%u:\n\t%s\t# expect trap; spec mcause %s; %s\n", g.item, g.spec_labels++, insn, causes, why);
}

/* AMOs, LR and SC must be naturally aligned; otherwise an address-misaligned
 * or an access-fault exception (unpriv. spec 8.2, 8.4): mcause 4 or 5 for LR,
 * a load; 6 or 7 for SC and the AMOs (priv. spec table 3.6, "Store/AMO").
 * QEMU 7.2 raises cause 4 for a misaligned AMO, and a misaligned SC without
 * a reservation just fails without trapping; both are compared with the
 * spec instead (emit_spec_trap). */
static void c_trap_misaligned_amo(void)
{
    bool dword = chance(50);
    unsigned size = dword ? 8 : 4;
    unsigned rt = pick_xd_nonzero();
    int a = (pick_address(size, 16, X8_OFFSET + 2000) & ~(int)(size - 1)) + 1 + (int)rnd(size - 1);
    char sz = dword ? 'd' : 'w';
    emit("\taddi x%u, s0, %d\n", rt, a - X8_OFFSET);
    switch (rnd(3)) {
    case 0:
        emit_spec_trap("6|7", "qemu 7.2 raises 4", "amoadd.%c x%u, x%u, (x%u)", sz, pick_xd(), pick_xs(), rt);
        break;
    case 1:
        emit_spec_trap("4|5", "misaligned LR", "lr.%c x%u, (x%u)", sz, pick_xd(), rt);
        break;
    default:
        emit_spec_trap("6|7", "qemu 7.2 fails the SC without trapping", "sc.%c x0, x%u, (x%u)", sz, pick_xs(), rt);
        break;
    }
}

static void c_trap_env(void)
{
    switch (rnd(3)) {
    case 0: emit("\tecall\t# expect trap\n"); break;
    case 1: emit("\tebreak\t# expect trap\n"); break;
    default: emit("\t.option rvc\n\tc.ebreak\t# expect trap\n\t.option norvc\n"); break;
    }
}

/* Writing a read-only CSR (number 0b11xx_xxxx_xxxx) is illegal; csrrw always
 * writes, csrrs/csrrc write unless rs1 is x0 (whatever the value in rs1),
 * the immediate forms unless uimm is 0 (priv. spec 2.1, unpriv. 7.1). */
static void c_trap_csr_readonly(void)
{
    unsigned rt = pick_xd_nonzero();
    const char *op = chance(50) ? "csrrs" : "csrrc";
    switch (rnd(4)) {
    case 0:
        emit("\tcsrrw x%u, mhartid, x%u\t# expect trap\n", pick_xd(), pick_xs());
        break;
    case 1:
        /* rs1 != x0 holding a nonzero value */
        emit("\tli x%u, 0x%" PRIx64 "\n\t%s x%u, mhartid, x%u\t# expect trap\n", rt, rnd64() | 1, op, pick_xd(), rt);
        break;
    case 2:
        /* rs1 != x0 holding zero still writes (unpriv. spec 7.1); QEMU 7.2
         * looks at the value and does not trap */
        emit("\tli x%u, 0\n", rt);
        emit_spec_trap("2", "qemu 7.2 does not trap when rs1 holds 0", "%s x0, mhartid, x%u", op, rt);
        break;
    default:
        if (chance(50))
            emit("\tcsrrwi x%u, mhartid, %u\t# expect trap\n", pick_xd(), rnd(32));
        else
            emit("\tcsrr%ci x%u, mhartid, %u\t# expect trap\n", chance(50) ? 's' : 'c', pick_xd(), 1 + rnd(31));
        break;
    }
}

/* funct3 and rs2 values that no F/D instruction uses (unpriv. spec 24.3). */
static void c_trap_fp_funct(void)
{
    unsigned fs1 = rnd(32), fs2 = rnd(32);
    switch (rnd(7)) {
    case 0: emit_word(enc_r(0x10, fs2, fs1, 3, pick_fd(0, 32), 0x53), "fsgnj.s with funct3 = 3", true); break;
    case 1: emit_word(enc_r(0x15, fs2, fs1, 2, pick_fd(0, 32), 0x53), "fmin.d with funct3 = 2", true); break;
    case 2: emit_word(enc_r(0x50, fs2, fs1, 3, pick_xd(), 0x53), "feq.s with funct3 = 3", true); break;
    case 3: emit_word(enc_r(0x70, 0, fs1, 2, pick_xd(), 0x53), "fmv.x.w with funct3 = 2", true); break;
    case 4: emit_word(enc_r(0x78, 0, pick_xs(), 1, pick_fd(0, 32), 0x53), "fmv.w.x with funct3 = 1", true); break;
    case 5: emit_word(enc_r(0x71, 1 + rnd(31), fs1, 1, pick_xd(), 0x53), "fclass.d with rs2 != 0", true); break;
    default: emit_word(enc_r(0x2c, 1 + rnd(31), fs1, 0, pick_fd(0, 32), 0x53), "fsqrt.s with rs2 != 0", true); break;
    }
}

/* C HINTs: legal, and they change no state (unpriv. spec 16.7). */
static void c_hint_rvc(void)
{
    unsigned imm = rnd(64), nz = 1 + rnd(63), rs2 = 1 + rnd(31), rd = 1 + rnd(31);
    switch (rnd(10)) {
    case 0: emit_half(enc_c(0, nz >> 5, 0, nz & 31, 1), "c.nop with nzimm (HINT)", false); break;
    case 1: emit_half(enc_c(0, 0, rd, 0, 1), "c.addi rd, 0 (HINT)", false); break;
    case 2: emit_half(enc_c(2, imm >> 5, 0, imm & 31, 1), "c.li x0, imm (HINT)", false); break;
    case 3: emit_half(enc_c(3, nz >> 5, 0, nz & 31, 1), "c.lui x0, nzimm (HINT)", false); break;
    case 4: emit_half(enc_c(4, 0, 0, rs2, 2), "c.mv x0, rs2 (HINT)", false); break;
    case 5: emit_half(enc_c(4, 1, 0, rs2, 2), "c.add x0, rs2 (HINT)", false); break;
    case 6: emit_half(enc_c(0, nz >> 5, 0, nz & 31, 2), "c.slli x0, shamt (HINT)", false); break;
    case 7: emit_half(enc_c(0, 0, rd, 0, 2), "c.slli rd, 0 (HINT)", false); break;
    case 8: emit_half(enc_c(4, 0, rnd(8), 0, 1), "c.srli rd', 0 (HINT)", false); break;
    default: emit_half(enc_c(4, 0, 1 << 3 | rnd(8), 0, 1), "c.srai rd', 0 (HINT)", false); break;
    }
}

/* FENCE's rd and rs1, its reserved fm values, and FENCE.I's imm, rs1 and rd
 * are ignored: each is a plain fence and writes no register (unpriv. spec
 * 2.7, 3.1). rd is never x2, x8 or the log register all the same, so a
 * machine that wrongly writes it stays inside the sandbox. */
static void c_hint_fence(void)
{
    if (chance(50)) {
        unsigned fm = chance(50) ? 0 : rnd(16);
        uint32_t bits = fm << 28 | rnd(16) << 24 | rnd(16) << 20 | pick_xs() << 15 | pick_xd() << 7 | 0x0f;
        emit_word(bits, "fence with fm / pred / succ / rd / rs1 to ignore", false);
    } else {
        uint32_t bits = rnd(4096) << 20 | pick_xs() << 15 | 1 << 12 | pick_xd() << 7 | 0x0f;
        emit_word(bits, "fence.i with imm / rs1 / rd to ignore", false);
    }
}

/* fcvt.d.w, fcvt.d.wu and fcvt.d.s are exact whatever rm says; any valid rm
 * is legal (dyn only while frm is valid). */
static void c_hint_widening_rm(void)
{
    unsigned rm = 1 + rnd(4);
    if (chance(25) && g.frm <= 4)
        rm = 7;
    unsigned fd = pick_fd(0, 32);
    switch (rnd(3)) {
    case 0: g.fprec[fd] = P_D; emit_word(enc_r(0x69, 0, pick_xs(), rm, fd, 0x53), "fcvt.d.w with rm != 0", false); break;
    case 1: g.fprec[fd] = P_D; emit_word(enc_r(0x69, 1, pick_xs(), rm, fd, 0x53), "fcvt.d.wu with rm != 0", false); break;
    default: g.fprec[fd] = P_D; emit_word(enc_r(0x21, 0, pick_freg(0, 32), rm, fd, 0x53), "fcvt.d.s with rm != 0", false); break;
    }
}

static void c_hint_csr_read(void)
{
    switch (rnd(4)) {
    case 0: emit("\tcsrrs x%u, mhartid, x0\n", pick_xd()); break;
    case 1: emit("\tcsrrc x%u, mhartid, x0\n", pick_xd()); break;
    case 2: emit("\tcsrrsi x%u, mhartid, 0\n", pick_xd()); break;
    default: emit("\tcsrrci x%u, mhartid, 0\n", pick_xd()); break;
    }
}


/* fmul rounds a*b; fmsub then gives a*b - round(a*b), the product's rounding
 * error, which is exact: only a fused multiply-add (one rounding, unpriv.
 * spec 11.6) gets it right. When it is zero its sign depends on rm
 * (-0 under RDN, IEEE 754 6.3). */
static void c_fma_residual(void)
{
    bool dbl = chance(50);
    char p = dbl ? 'd' : 's';
    g.src_prec = g.dst_prec = dbl ? P_D : P_S;
    unsigned a = pick_freg(0, 32), b = pick_freg(0, 32);
    unsigned t = pick_fd(0, 32);
    emit("\tfmul.%c f%u, f%u, f%u, %s\n", p, t, a, b, pick_rm());
    unsigned d = pick_fd(0, 32);
    /* a or b may be t itself now; that is still a valid, if different, test */
    emit("\tfmsub.%c f%u, f%u, f%u, f%u, %s\n", p, d, a, b, t, pick_rm());
}

/* A counted loop over 1..4 items, run 1..4 times: items decoded once and
 * executed again. The counter is held busy so no item writes it. */
static void c_loop(void)
{
    unsigned rc = pick_xd_nonzero();
    g.busy |= 1u << rc;
    emit("\tli x%u, %u\n1:\n", rc, 1 + rnd(4));
    unsigned n = 1 + rnd(4);
    for (unsigned i = 0; i < n; i++)
        emit_one(pick_template(true, false));
    emit("\taddi x%u, x%u, -1\n\tbnez x%u, 1b\n", rc, rc, rc);
    g.busy &= ~(1u << rc);
    g.last_xd = (int)rc;
}

/* A random register-register or register-immediate ALU instruction. */
static uint32_t random_alu_encoding(unsigned rd)
{
    static const struct { unsigned f7, f3, opc; bool imm; } ops[] = {
        { 0x00, 0, 0x13, true },  { 0x00, 4, 0x13, true },  { 0x00, 6, 0x13, true },
        { 0x00, 7, 0x13, true },  { 0x00, 2, 0x13, true },  { 0x00, 0, 0x1b, true },
        { 0x00, 0, 0x33, false }, { 0x20, 0, 0x33, false }, { 0x00, 4, 0x33, false },
        { 0x00, 1, 0x33, false }, { 0x20, 5, 0x33, false }, { 0x01, 0, 0x33, false },
        { 0x01, 4, 0x33, false }, { 0x00, 0, 0x3b, false }, { 0x20, 0, 0x3b, false },
    };
    unsigned k = rnd(sizeof(ops) / sizeof(ops[0]));
    if (ops[k].imm)
        return (uint32_t)(pick_imm12() & 0xfff) << 20 | pick_xs() << 15 | ops[k].f3 << 12 | rd << 7 | ops[k].opc;
    return enc_r(ops[k].f7, pick_xs(), pick_xs(), ops[k].f3, rd, ops[k].opc);
}

/* Self-modifying code: an instruction runs, the loop stores a different
 * instruction over it and executes FENCE.I, and the second pass must run
 * the new instruction (unpriv. spec 3.1, "Zifencei"). Without the FENCE.I
 * either could run, so the store is always followed by one. The slot is a
 * 32-bit word, or a halfword holding a compressed instruction. */
static void c_smc(void)
{
    unsigned rc = pick_xd_nonzero();
    g.busy |= 1u << rc;
    unsigned rt = pick_xd_nonzero();
    g.busy |= 1u << rt;
    unsigned rv = pick_xd_nonzero();
    g.busy |= 1u << rv;
    unsigned rd = pick_xd_nonzero();
    emit("\tli x%u, 2\n\tlla x%u, 2f\n", rc, rt);
    if (chance(70)) {
        uint32_t new_bits = random_alu_encoding(rd);
        emit("\tli x%u, 0x%08x\n1:\n2:\t.word 0x%08x\t# patched\n\tsw x%u, 0(x%u)\n", rv, new_bits,
             random_alu_encoding(rd), rv, rt);
    } else {
        /* c.addi rd, nzimm  <->  c.mv rd, rs2 (rd != 0; rs2 != 0) */
        unsigned nz = 1 + rnd(63), rs2 = 1 + rnd(31);
        uint32_t addi = enc_c(0, nz >> 5, rd, nz & 31, 1), mv = enc_c(4, 0, rd, rs2, 2);
        bool flip = chance(50);
        emit("\tli x%u, 0x%04x\n1:\n2:\t.half 0x%04x\t# patched\n\tsh x%u, 0(x%u)\n", rv,
             flip ? addi : mv, flip ? mv : addi, rv, rt);
    }
    emit("\tfence.i\n\taddi x%u, x%u, -1\n\tbnez x%u, 1b\n", rc, rc, rc);
    g.busy &= ~(1u << rc | 1u << rt | 1u << rv);
    g.last_xd = (int)rd;
}


/* Operations whose exact result lies just below the smallest normal, where
 * rounding may or may not carry it up to the normal range. RISC-V detects
 * tininess after rounding (unpriv. spec, F chapter, "Subnormal Arithmetic";
 * IEEE 754 7.5 lets it choose), so UF depends on the rounding mode as well
 * as on the value:
 * (2^-126 + ulp) * (1 - 2^-23) = 2^-126 (1 - 2^-46) rounds to 2^-126 under
 * RNE (no UF) but not under RTZ (UF). */
static void c_tininess(void)
{
    static const uint32_t s_small[] = { 0x00800000, 0x00800001, 0x00800003, 0x00ffffff, 0x007fffff };
    static const uint32_t s_near1[] = { 0x3f7fffff, 0x3f7ffffe, 0x3f800001, 0x3f7ffffd, 0x3f000001 };
    static const uint64_t d_small[] = { 0x0010000000000000ull, 0x0010000000000001ull, 0x0010000000000003ull,
                                        0x001fffffffffffffull, 0x000fffffffffffffull };
    static const uint64_t d_near1[] = { 0x3fefffffffffffffull, 0x3feffffffffffffeull, 0x3ff0000000000001ull,
                                        0x3feffffffffffffdull, 0x3fe0000000000001ull };
    bool dbl = chance(50);
    char p = dbl ? 'd' : 's';
    unsigned rt = pick_xd_nonzero();
    unsigned fa = rnd(32), fb;
    do
        fb = rnd(32);
    while (fb == fa);
    uint64_t sign_a = chance(30), sign_b = chance(30);
    if (dbl) {
        emit("\tli x%u, 0x%" PRIx64 "\n\tfmv.d.x f%u, x%u\n", rt, PICK(d_small) | sign_a << 63, fa, rt);
        emit("\tli x%u, 0x%" PRIx64 "\n\tfmv.d.x f%u, x%u\n", rt, PICK(d_near1) | sign_b << 63, fb, rt);
    } else {
        emit("\tli x%u, 0x%" PRIx64 "\n\tfmv.w.x f%u, x%u\n", rt, (uint64_t)PICK(s_small) | sign_a << 31, fa, rt);
        emit("\tli x%u, 0x%" PRIx64 "\n\tfmv.w.x f%u, x%u\n", rt, (uint64_t)PICK(s_near1) | sign_b << 31, fb, rt);
    }
    g.fprec[fa] = g.fprec[fb] = dbl ? P_D : P_S;
    g.dst_prec = dbl ? P_D : P_S;
    unsigned fd = pick_fd(0, 32);
    emit("\tfsflagsi 0\n");
    switch (rnd(3)) {
    case 0: emit("\tfmul.%c f%u, f%u, f%u, %s\n", p, fd, fa, fb, pick_rm()); break;
    case 1: emit("\tfdiv.%c f%u, f%u, f%u, %s\n", p, fd, fa, fb, pick_rm()); break;
    default: emit("\tfmadd.%c f%u, f%u, f%u, f%u, %s\n", p, fd, fa, fb, rnd(32), pick_rm()); break;
    }
    unsigned rf = pick_xd_nonzero();
    emit("\tfrflags x%u\n", rf);
}


/* "The fused multiply-add instructions must set the invalid operation
 * exception flag when the multiplicands are inf and zero, even when the
 * addend is a quiet NaN" (unpriv. spec, F chapter; IEEE 754 leaves it open). */
static void c_fma_inf_zero(void)
{
    static const char *const ops[] = { "fmadd", "fmsub", "fnmadd", "fnmsub" };
    bool dbl = chance(50);
    unsigned rt = pick_xd_nonzero();
    unsigned fi = rnd(32), fz, fn;
    do
        fz = rnd(32);
    while (fz == fi);
    do
        fn = rnd(32);
    while (fn == fi || fn == fz);
    uint64_t inf = dbl ? 0x7ff0000000000000ull : 0x7f800000, sign = dbl ? 1ull << 63 : 1u << 31;
    uint64_t qnan = dbl ? (chance(50) ? 0x7ff8000000000000ull : 0xfff8000000000123ull)
                        : (chance(50) ? 0x7fc00000 : 0xffc00123);
    const char *mv = dbl ? "fmv.d.x" : "fmv.w.x";
    emit("\tli x%u, 0x%" PRIx64 "\n\t%s f%u, x%u\n", rt, inf | (chance(50) ? sign : 0), mv, fi, rt);
    emit("\tli x%u, 0x%" PRIx64 "\n\t%s f%u, x%u\n", rt, chance(50) ? sign : 0, mv, fz, rt);
    emit("\tli x%u, 0x%" PRIx64 "\n\t%s f%u, x%u\n", rt, qnan, mv, fn, rt);
    g.fprec[fi] = g.fprec[fz] = g.fprec[fn] = dbl ? P_D : P_S;
    g.dst_prec = dbl ? P_D : P_S;
    unsigned fd = pick_fd(0, 32);
    bool swap = chance(50);
    emit("\tfsflagsi 0\n\t%s.%c f%u, f%u, f%u, f%u, %s\n\tfrflags x%u\n", PICK(ops), dbl ? 'd' : 's', fd,
         swap ? fz : fi, swap ? fi : fz, fn, pick_rm(), pick_xd_nonzero());
}

/* ---- the program --------------------------------------------------------- */

static uint64_t init_x[32], init_f[32], init_fcsr, init_mscratch;
static int init_sp_offset;
static char *items[MAX_ITEMS];

static void generate(unsigned n_items)
{
    for (unsigned r = 0; r < 32; r++)
        init_x[r] = random_int();
    for (unsigned r = 0; r < 32; r++) {
        init_f[r] = random_freg();
        g.fprec[r] = init_f[r] >> 32 == 0xffffffffu ? P_S : P_D;
    }
    g.frm = rnd(5);
    init_fcsr = g.frm << 5 | rnd(32);
    init_mscratch = random_int();
    g.log_reg = 16 + rnd(16);
    g.sp_offset = init_sp_offset = 16 * (int)rnd_range(SP_MIN / 16, SP_MAX / 16);
    for (unsigned k = 0; k < n_items; k++) {
        g.out = malloc(ITEM_TEXT);
        if (!g.out) {
            perror("rvgen");
            exit(2);
        }
        g.len = 0;
        g.out[0] = 0;
        g.last_xd = g.last_fd = -1;
        g.item = k;
        g.spec_labels = 0;
        const struct tmpl *t = pick_template(false, false);
        emit_one(t);
        observe(t);
        items[k] = g.out;
    }
}

static void print_program(uint64_t seed, unsigned n_items, unsigned stop, long mutate)
{
    printf("/* umbra differential test: rvgen seed %" PRIu64 ", %u items", seed, n_items);
    if (stop < n_items)
        printf(", cut after %u", stop);
    if (mutate >= 0)
        printf(", mutated at item %ld", mutate);
    printf(" */\n\t.option norvc\n\t.text\n\t.globl test_body\ntest_body:\n");
    printf("\tlla x31, init_f\n");
    for (unsigned r = 0; r < 32; r++)
        printf("\tfld f%u, %u(x31)\n", r, 8 * r);
    printf("\tli x31, 0x%" PRIx64 "\n\tfscsr x31\n", init_fcsr);
    printf("\tli x31, 0x%" PRIx64 "\n\tcsrw mscratch, x31\n", init_mscratch);
    printf("\tlla x31, init_x\n");
    for (unsigned r = 1; r < 31; r++)
        if (r != REG_SP && r != REG_BASE && r != g.log_reg)
            printf("\tld x%u, %u(x31)\n", r, 8 * r);
    printf("\tlla sp, scratch + %d\n\tlla s0, scratch + %d\n", init_sp_offset, X8_OFFSET);
    if (g.log_reg != 31)
        printf("\tlla x%u, scratch + %d\n", g.log_reg, LOG_OFFSET + 2048);
    printf("\tld x31, 248(x31)\n");
    if (g.log_reg == 31)
        printf("\tlla x31, scratch + %d\n", LOG_OFFSET + 2048);
    for (unsigned k = 0; k < stop; k++) {
        printf("item_%u:\n", k);
        if ((long)k == mutate)
            printf("\taddi s0, s0, 1024\n\tsd s0, %d(s0)\n\taddi s0, s0, -1024\n",
                   SCRATCH_CANARY - X8_OFFSET - 1024);
        fputs(items[k], stdout);
    }
    printf("item_%u:\n\tj test_end\n\n", stop);

    printf("\t.section .rodata\n\t.balign 8\ninit_x:\n");
    for (unsigned r = 0; r < 32; r++)
        printf("\t.dword 0x%016" PRIx64 "\n", init_x[r]);
    printf("init_f:\n");
    for (unsigned r = 0; r < 32; r++)
        printf("\t.dword 0x%016" PRIx64 "\n", init_f[r]);
    /* x8 = scratch + 2048 falls on a page boundary, so accesses near it,
     * misaligned ones included, often cross pages */
    printf("\n\t.data\n\t.balign 4096\n\t.skip 2048\n\t.globl scratch, scratch_end\nscratch:\n");
    for (unsigned i = 0; i < SCRATCH_DATA / 8; i++)
        printf("\t.dword 0x%016" PRIx64 "\n", chance(30) ? random_int() : rnd64());
    printf("\t.dword 0  /* canary */\n\t.zero %d  /* log */\nscratch_end:\n", 8 * LOG_SLOTS);
}

static void print_list(void)
{
    unsigned total = 0;
    for (unsigned i = 0; i < G_COUNT; i++)
        total += group_weight[i];
    for (unsigned grp = 0; grp < G_COUNT; grp++) {
        printf("%-7s %2u%%\n", group_names[grp], 100 * group_weight[grp] / total);
        for (unsigned i = 0; i < N_TEMPLATES; i++)
            if (templates[i].group == grp)
                printf("        %s%s\n", templates[i].text, templates[i].compound ? "  [compound]" : "");
    }
}

static void print_stats(void)
{
    for (unsigned i = 0; i < N_TEMPLATES; i++)
        printf("%6u  %-7s %s\n", template_count[i], group_names[templates[i].group], templates[i].text);
}

static void usage(void)
{
    fprintf(stderr, "usage: rvgen [-n ITEMS] [--stop K] [--mutate K] [--mix G=W,...] [--stats] SEED...\n"
                    "       rvgen --list\n");
    exit(2);
}

static unsigned long parse_number(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (!*s || *end)
        usage();
    return v;
}

/* "fcvt=60,rvc=0": new weights for the named groups */
static void parse_mix(const char *spec)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", spec);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        unsigned grp = 0;
        if (eq) {
            *eq = 0;
            while (grp < G_COUNT && strcmp(group_names[grp], tok))
                grp++;
        }
        if (!eq || grp == G_COUNT) {
            fprintf(stderr, "rvgen: bad --mix entry '%s' (groups: see --list)\n", tok);
            exit(2);
        }
        group_weight[grp] = (unsigned)parse_number(eq + 1);
    }
    unsigned total = 0;
    for (unsigned i = 0; i < G_COUNT; i++)
        total += group_weight[i];
    if (group_weight[G_INT] + group_weight[G_MUL] == 0 || total == 0) {
        fprintf(stderr, "rvgen: --mix must leave int or mul drawable (LR/SC needs them)\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    unsigned n_items = 300;
    long stop = -1, mutate = -1;
    bool stats = false;
    const char *seeds[256];
    int n_seeds = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n_items = (unsigned)parse_number(argv[++i]);
        else if (!strcmp(argv[i], "--stop") && i + 1 < argc)
            stop = (long)parse_number(argv[++i]);
        else if (!strcmp(argv[i], "--mutate") && i + 1 < argc)
            mutate = (long)parse_number(argv[++i]);
        else if (!strcmp(argv[i], "--mix") && i + 1 < argc)
            parse_mix(argv[++i]);
        else if (!strcmp(argv[i], "--stats"))
            stats = true;
        else if (!strcmp(argv[i], "--list")) {
            print_list();
            return 0;
        } else if (argv[i][0] == '-' || n_seeds == 256)
            usage();
        else
            seeds[n_seeds++] = argv[i];
    }
    if (n_seeds == 0 || n_items > MAX_ITEMS || (!stats && n_seeds != 1))
        usage();
    /* --stats sums over all the seeds given */
    for (int i = 0; i < n_seeds; i++) {
        uint64_t seed = parse_number(seeds[i]);
        rng_state = seed * 0x2545f4914f6cdd1dull + 1;
        memset(&g, 0, sizeof(g));
        generate(n_items);
        if (!stats)
            print_program(seed, n_items, stop < 0 || stop > (long)n_items ? n_items : (unsigned)stop, mutate);
        for (unsigned k = 0; k < n_items; k++)
            free(items[k]);
    }
    if (stats)
        print_stats();
    return 0;
}
