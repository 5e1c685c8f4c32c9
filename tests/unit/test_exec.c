/* test_exec: one hart executing real instruction words from guest RAM.
 *
 * Each test writes a few instructions (assembled here from the spec's
 * formats), sets registers, steps the hart and compares registers, memory
 * and trap CSRs with values worked out from the spec: the M extension's
 * division table (unprivileged spec 7.2), sign extension of W operations
 * and loads (4.2, 2.6), AMO semantics (8.4), LR/SC (8.2), the exception
 * causes and tval rules (privileged spec 3.1.15-3.1.16), Sv39 translation
 * (4.4) for page-crossing accesses and fetches. Last, the spin-loop
 * detector that gives a waiting hart's host CPU away.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rv_asm.h"
#include "coherence/coherence.h"
#include "cpu/hart.h"
#include "mem/guest_mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define TRAP_VEC (RAM_BASE + 0x40000)   /* mtvec, direct mode */
#define DATA (RAM_BASE + 0x80000)

static struct guest_mem mem;
static struct hart h;
static bool hart_live;

/* ------------------------------------------------------------ harness */

static void put32(uint64_t pa, uint32_t w) { mem_copy_to_guest(&mem, pa, &w, 4); }
static void put16(uint64_t pa, uint16_t w) { mem_copy_to_guest(&mem, pa, &w, 2); }
static void put64(uint64_t pa, uint64_t w) { mem_copy_to_guest(&mem, pa, &w, 8); }
static uint64_t get64(uint64_t pa)
{
    uint64_t v = 0;
    mem_copy_from_guest(&mem, &v, pa, 8);
    return v;
}
static uint32_t get32(uint64_t pa)
{
    uint32_t v = 0;
    mem_copy_from_guest(&mem, &v, pa, 4);
    return v;
}

/* Fresh RAM and a hart in M-mode at RAM_BASE. */
static void setup(void)
{
    if (mem.ram)
        mem_destroy(&mem);
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0) {
        fprintf(stderr, "mem_init failed\n");
        exit(2);
    }
    if (hart_live)
        hart_destroy(&h);
    hart_init(&h, 0, &mem, NULL);
    hart_live = true;
    hart_reset(&h, RAM_BASE);
    h.mtvec = TRAP_VEC;
}

/* PMP entry 0: NAPOT over the whole physical space, RWX, so S and U may
 * run (with no matching entry they may not, privileged spec 3.7.1). */
static void pmp_allow_all(void)
{
    h.pmp.cfg[0] = PMP_A_NAPOT | PMP_R | PMP_W | PMP_X;
    h.pmp.addr[0] = (1ull << 54) - 1;
}

/* Put one instruction at the current pc and execute it. */
static void exec1(uint32_t insn)
{
    put32(h.pc, insn);
    hart_step(&h);
}

/* Run one R-type instruction x7 = x5 op x6 at RAM_BASE. */
static uint64_t rr(unsigned f7, unsigned f3, unsigned opc, uint64_t a, uint64_t b)
{
    setup();
    h.x[5] = a;
    h.x[6] = b;
    exec1(enc_r(f7, 6, 5, f3, 7, opc));
    CHECK_EQ(h.pc, RAM_BASE + 4);
    return h.x[7];
}

/* Run one I-type instruction x7 = x5 op imm. */
static uint64_t ri(unsigned f3, unsigned opc, uint64_t a, int32_t imm)
{
    setup();
    h.x[5] = a;
    exec1(enc_i(imm, 5, f3, 7, opc));
    CHECK_EQ(h.pc, RAM_BASE + 4);
    return h.x[7];
}

static void expect_trap(uint64_t cause, uint64_t tval, uint64_t epc)
{
    CHECK_EQ(h.pc, TRAP_VEC);
    CHECK_EQ(h.mcause, cause);
    CHECK_EQ(h.mtval, tval);
    CHECK_EQ(h.mepc, epc);
}

/* ------------------------------------------------------------------ M */

static void test_muldiv(void)
{
    const uint64_t MIN = 0x8000000000000000ull, ONES = ~0ull;
    /* unprivileged spec table 7.1: division by zero and overflow */
    CHECK_EQ(rr(1, 4, OP, 7, 0), ONES);                 /* DIV x/0 = -1 */
    CHECK_EQ(rr(1, 5, OP, 7, 0), ONES);                 /* DIVU x/0 = 2^64-1 */
    CHECK_EQ(rr(1, 6, OP, 7, 0), 7);                    /* REM x%0 = x */
    CHECK_EQ(rr(1, 7, OP, 7, 0), 7);                    /* REMU x%0 = x */
    CHECK_EQ(rr(1, 4, OP, MIN, ONES), MIN);             /* DIV overflow */
    CHECK_EQ(rr(1, 6, OP, MIN, ONES), 0);               /* REM overflow */
    CHECK_EQ(rr(1, 4, OP, (uint64_t)-7, 2), (uint64_t)-3);  /* rounds toward zero */
    CHECK_EQ(rr(1, 6, OP, (uint64_t)-7, 2), (uint64_t)-1);  /* sign of the dividend */
    CHECK_EQ(rr(1, 5, OP, ONES, 2), 0x7fffffffffffffffull);
    CHECK_EQ(rr(1, 7, OP, ONES, 10), 5);                /* 18446744073709551615 % 10 */

    /* W forms: 32-bit operands, sign-extended results */
    CHECK_EQ(rr(1, 4, OP_32, 0x1234567880000000ull, 0xffffffff), 0xffffffff80000000ull);
    CHECK_EQ(rr(1, 6, OP_32, 0x1234567880000000ull, 0xffffffff), 0);
    CHECK_EQ(rr(1, 4, OP_32, 5, 0x100000000ull), ONES);     /* divisor's low word is 0 */
    CHECK_EQ(rr(1, 6, OP_32, 0x80000001, 0), 0xffffffff80000001ull);
    CHECK_EQ(rr(1, 5, OP_32, 0xffffffff80000000ull, 0), ONES);
    CHECK_EQ(rr(1, 5, OP_32, 0x1fffffffeull, 2), 0x7fffffff);
    CHECK_EQ(rr(1, 7, OP_32, 0x80000000, 0), 0xffffffff80000000ull);
    CHECK_EQ(rr(1, 7, OP_32, 0xffffffff, 0x10), 0xf);
    CHECK_EQ(rr(1, 4, OP_32, (uint64_t)-7, 2), (uint64_t)-3);

    /* multiplies */
    CHECK_EQ(rr(1, 0, OP, 0x100000001ull, 0x100000001ull), 0x200000001ull);
    CHECK_EQ(rr(1, 1, OP, ONES, ONES), 0);              /* MULH -1 * -1 = 1 */
    CHECK_EQ(rr(1, 1, OP, MIN, MIN), 0x4000000000000000ull);    /* 2^126 */
    CHECK_EQ(rr(1, 1, OP, MIN, 2), ONES);               /* -2^64 */
    CHECK_EQ(rr(1, 3, OP, ONES, ONES), 0xfffffffffffffffeull);  /* MULHU */
    CHECK_EQ(rr(1, 2, OP, ONES, ONES), ONES);           /* MULHSU -1 * (2^64-1) */
    CHECK_EQ(rr(1, 2, OP, 2, ONES), 1);                 /* 2 * (2^64-1) = 2^65 - 2 */
    CHECK_EQ(rr(1, 0, OP_32, 0x7fffffff, 2), 0xfffffffffffffffeull);  /* MULW */
}

/* ----------------------------------------------------- integer basics */

static void test_w_ops(void)
{
    CHECK_EQ(rr(0, 0, OP_32, 0x7fffffff, 1), 0xffffffff80000000ull);      /* ADDW */
    CHECK_EQ(rr(0x20, 0, OP_32, 0, 1), ~0ull);                             /* SUBW */
    CHECK_EQ(rr(0x20, 0, OP_32, 0x100000000ull, 0), 0);
    CHECK_EQ(rr(0, 1, OP_32, 1, 31), 0xffffffff80000000ull);               /* SLLW */
    CHECK_EQ(rr(0, 1, OP_32, 1, 33), 2);                /* shift amount is rs2[4:0] */
    CHECK_EQ(rr(0, 5, OP_32, 0xffffffff80000000ull, 4), 0x08000000);       /* SRLW */
    CHECK_EQ(rr(0, 5, OP_32, 0x80000000, 0), 0xffffffff80000000ull);      /* SRLW by 0 */
    CHECK_EQ(rr(0x20, 5, OP_32, 0x80000000, 4), 0xfffffffff8000000ull);   /* SRAW */
    CHECK_EQ(ri(0, OP_IMM_32, 0x80000000, 0), 0xffffffff80000000ull);      /* sext.w */
    CHECK_EQ(ri(0, OP_IMM_32, 0xffffffffull, 1), 0);                       /* ADDIW wraps */
    CHECK_EQ(ri(1, OP_IMM_32, 1, 31), 0xffffffff80000000ull);              /* SLLIW */
    CHECK_EQ(ri(5, OP_IMM_32, 0x80000000, 31), 1);                         /* SRLIW */
    CHECK_EQ(ri(5, OP_IMM_32, 0x80000000, 0x400 | 31), ~0ull);             /* SRAIW */
}

static void test_shifts_and_compares(void)
{
    CHECK_EQ(rr(0, 1, OP, 1, 65), 2);                   /* SLL uses rs2[5:0] */
    CHECK_EQ(rr(0, 5, OP, 0x8000000000000000ull, 63), 1);              /* SRL */
    CHECK_EQ(rr(0x20, 5, OP, 0x8000000000000000ull, 63), ~0ull);       /* SRA */
    CHECK_EQ(ri(1, OP_IMM, 1, 63), 0x8000000000000000ull);             /* SLLI 63 */
    CHECK_EQ(ri(5, OP_IMM, 0xf000000000000000ull, 60), 0xf);           /* SRLI */
    CHECK_EQ(ri(5, OP_IMM, 0xf000000000000000ull, 0x400 | 60), ~0ull); /* SRAI */

    CHECK_EQ(rr(0, 2, OP, (uint64_t)-1, 1), 1);         /* SLT: -1 < 1 */
    CHECK_EQ(rr(0, 3, OP, (uint64_t)-1, 1), 0);         /* SLTU: 2^64-1 > 1 */
    CHECK_EQ(rr(0, 3, OP, 0, 5), 1);                    /* SLTU x0, rs: snez */
    CHECK_EQ(ri(2, OP_IMM, (uint64_t)-1, 0), 1);        /* SLTI */
    CHECK_EQ(ri(3, OP_IMM, 5, -1), 1);                  /* SLTIU: imm sign-extended, compared unsigned */
    CHECK_EQ(ri(3, OP_IMM, 0, 1), 1);                   /* seqz */
    CHECK_EQ(ri(3, OP_IMM, 1, 1), 0);
    CHECK_EQ(ri(4, OP_IMM, 0xff, -1), ~0ull ^ 0xff);    /* XORI -1 = not */
    CHECK_EQ(ri(7, OP_IMM, ~0ull, 0x800), 0xfffffffffffff800ull);   /* ANDI sign-extends */
    CHECK_EQ(rr(0x20, 0, OP, 3, 5), (uint64_t)-2);      /* SUB */
}

static void test_loads_stores(void)
{
    const uint64_t v = 0x8000000080008080ull;
    static const struct { unsigned f3; uint64_t expect; } loads[] = {
        { 0, 0xffffffffffffff80ull },   /* LB */
        { 1, 0xffffffffffff8080ull },   /* LH */
        { 2, 0xffffffff80008080ull },   /* LW */
        { 3, 0x8000000080008080ull },   /* LD */
        { 4, 0x80 },                    /* LBU */
        { 5, 0x8080 },                  /* LHU */
        { 6, 0x80008080 },              /* LWU */
    };
    for (unsigned i = 0; i < sizeof loads / sizeof loads[0]; i++) {
        setup();
        put64(DATA, v);
        h.x[5] = DATA + 8;
        exec1(enc_i(-8, 5, loads[i].f3, 7, LOAD));
        CHECK_EQ(h.x[7], loads[i].expect);
        CHECK_EQ(h.minstret, 1);
    }
    /* stores write exactly their width */
    static const struct { unsigned f3; uint64_t expect; } stores[] = {
        { 0, 0x11111111111111efull }, { 1, 0x111111111111cdefull },
        { 2, 0x1111111189abcdefull }, { 3, 0x0123456789abcdefull },
    };
    for (unsigned i = 0; i < sizeof stores / sizeof stores[0]; i++) {
        setup();
        put64(DATA, 0x1111111111111111ull);
        put64(DATA + 8, 0x2222222222222222ull);
        h.x[5] = DATA + 16;
        h.x[6] = 0x0123456789abcdefull;
        exec1(enc_s(-16, 6, 5, stores[i].f3, STORE));
        CHECK_EQ(get64(DATA), stores[i].expect);
        CHECK_EQ(get64(DATA + 8), 0x2222222222222222ull);
    }
}

static void test_x0(void)
{
    setup();
    exec1(addi(0, 0, 5));
    CHECK_EQ(h.x[0], 0);
    put64(DATA, 0x55);
    h.x[5] = DATA;
    exec1(enc_i(0, 5, 3, 0, LOAD));     /* ld x0, 0(x5) */
    CHECK_EQ(h.x[0], 0);
    exec1(enc_j(8, 0));                 /* j .+8 */
    CHECK_EQ(h.x[0], 0);
    CHECK_EQ(h.pc, RAM_BASE + 16);
    CHECK_EQ(h.minstret, 3);
}

/* ------------------------------------------------------ control flow */

static void test_branches(void)
{
    static const struct { unsigned f3; uint64_t a, b; bool taken; } br[] = {
        { 0, 5, 5, true }, { 0, 5, 6, false },                  /* BEQ */
        { 1, 5, 6, true }, { 1, 5, 5, false },                  /* BNE */
        { 4, (uint64_t)-1, 1, true }, { 4, 1, (uint64_t)-1, false },    /* BLT */
        { 5, 1, 1, true }, { 5, (uint64_t)-1, 1, false },      /* BGE */
        { 6, 1, (uint64_t)-1, true }, { 6, (uint64_t)-1, 1, false },    /* BLTU */
        { 7, (uint64_t)-1, 1, true }, { 7, 0, 1, false },      /* BGEU */
    };
    for (unsigned i = 0; i < sizeof br / sizeof br[0]; i++) {
        setup();
        h.pc = RAM_BASE + 0x1000;
        h.x[5] = br[i].a;
        h.x[6] = br[i].b;
        exec1(enc_b(-0x800, 6, 5, br[i].f3));
        CHECK_EQ(h.pc, br[i].taken ? RAM_BASE + 0x800 : RAM_BASE + 0x1004);
    }
}

static void test_jumps(void)
{
    setup();
    exec1(enc_j(0x100, 1));                             /* jal ra, .+0x100 */
    CHECK_EQ(h.x[1], RAM_BASE + 4);
    CHECK_EQ(h.pc, RAM_BASE + 0x100);
    exec1(enc_j(-0x100, 1));
    CHECK_EQ(h.pc, RAM_BASE);
    CHECK_EQ(h.x[1], RAM_BASE + 0x104);

    setup();
    h.x[5] = RAM_BASE + 0x201;                          /* odd target: bit 0 cleared */
    exec1(enc_i(0, 5, 0, 1, 0x67));
    CHECK_EQ(h.pc, RAM_BASE + 0x200);
    CHECK_EQ(h.x[1], RAM_BASE + 4);

    setup();
    h.x[5] = RAM_BASE + 0x300;
    exec1(enc_i(3, 5, 0, 5, 0x67));                     /* jalr t0, 3(t0): rd == rs1 */
    CHECK_EQ(h.pc, RAM_BASE + 0x302);
    CHECK_EQ(h.x[5], RAM_BASE + 4);

    setup();                                            /* c.jalr a5 links pc + 2 */
    h.x[15] = RAM_BASE + 0x400;
    put16(RAM_BASE, 0x9782);
    hart_step(&h);
    CHECK_EQ(h.pc, RAM_BASE + 0x400);
    CHECK_EQ(h.x[1], RAM_BASE + 2);
}

static void test_compressed(void)
{
    setup();
    put16(RAM_BASE + 0, 0x557d);        /* c.li a0, -1 */
    put16(RAM_BASE + 2, 0x2505);        /* c.addiw a0, 1 */
    put32(RAM_BASE + 4, addi(11, 0, 7));   /* addi a1, x0, 7 (at a 2-byte boundary after two c.) */
    put16(RAM_BASE + 8, 0x95aa);        /* c.add a1, a0 */
    put16(RAM_BASE + 10, 0x0586);       /* c.slli a1, 1 */
    for (int i = 0; i < 5; i++)
        hart_step(&h);
    CHECK_EQ(h.x[10], 0);
    CHECK_EQ(h.x[11], 14);
    CHECK_EQ(h.pc, RAM_BASE + 12);
    CHECK_EQ(h.minstret, 5);

    setup();                            /* a 32-bit instruction at pc = 2 mod 4 */
    put16(RAM_BASE, 0x0001);            /* c.nop */
    put32(RAM_BASE + 2, addi(10, 0, 123));
    hart_step(&h);
    hart_step(&h);
    CHECK_EQ(h.x[10], 123);
    CHECK_EQ(h.pc, RAM_BASE + 6);
}

/* --------------------------------------------------------------- A */

static void test_lr_sc(void)
{
    const uint64_t a = DATA + 0x100;
    setup();
    put32(a, 5);
    h.x[5] = a;
    h.x[6] = 9;
    exec1(amo_insn(0x02, 2, 7, 5, 0));  /* lr.w t2, (t0) */
    CHECK_EQ(h.x[7], 5);
    exec1(amo_insn(0x03, 2, 8, 5, 6));  /* sc.w s0, t1, (t0) */
    CHECK_EQ(h.x[8], 0);
    CHECK_EQ(get32(a), 9);
    h.x[6] = 11;
    exec1(amo_insn(0x03, 2, 8, 5, 6));  /* no reservation now */
    CHECK_EQ(h.x[8], 1);
    CHECK_EQ(get32(a), 9);

    /* another writer changes the word between LR and SC */
    put64(a, 0x8000000000000000ull);
    exec1(amo_insn(0x02, 3, 7, 5, 0));  /* lr.d */
    CHECK_EQ(h.x[7], 0x8000000000000000ull);
    put64(a, 42);
    exec1(amo_insn(0x03, 3, 8, 5, 6));  /* sc.d fails */
    CHECK_EQ(h.x[8], 1);
    CHECK_EQ(get64(a), 42);

    /* SC to another address than the LR's fails */
    exec1(amo_insn(0x02, 2, 7, 5, 0));
    h.x[9] = a + 8;
    exec1(amo_insn(0x03, 2, 8, 9, 6));
    CHECK_EQ(h.x[8], 1);
    CHECK_EQ(get32(a + 8), 0);

    /* LR.W sign-extends; SC.W then succeeds on the 32-bit value */
    put64(a, 0x80000000u);
    exec1(amo_insn(0x02, 2, 7, 5, 0));
    CHECK_EQ(h.x[7], 0xffffffff80000000ull);
    exec1(amo_insn(0x03, 2, 8, 5, 6));
    CHECK_EQ(h.x[8], 0);
    CHECK_EQ(get64(a), 11);
    uint64_t retired = h.minstret;

    /* misaligned LR is a load-misaligned exception, SC a store one */
    h.x[5] = a + 2;
    uint64_t pc = h.pc;
    exec1(amo_insn(0x02, 2, 7, 5, 0));
    expect_trap(CAUSE_MISALIGNED_LOAD, a + 2, pc);
    h.pc = pc;
    exec1(amo_insn(0x03, 2, 8, 5, 6));
    expect_trap(CAUSE_MISALIGNED_STORE, a + 2, pc);
    CHECK_EQ(h.minstret, retired);
}

static void test_amo(void)
{
    /* memory value m, operand v; W operands carry junk in their upper half */
    static const struct { unsigned funct5; uint32_t w_new; uint64_t d_new; } ops[] = {
        { 0x01, 0x00000003, 0x3 },                      /* AMOSWAP */
        { 0x00, 0x80000004, 0x8000000000000004ull },    /* AMOADD */
        { 0x04, 0x80000002, 0x8000000000000002ull },    /* AMOXOR */
        { 0x0c, 0x00000001, 0x1 },                      /* AMOAND */
        { 0x08, 0x80000003, 0x8000000000000003ull },    /* AMOOR */
        { 0x10, 0x80000001, 0x8000000000000001ull },    /* AMOMIN: m is negative */
        { 0x14, 0x00000003, 0x3 },                      /* AMOMAX */
        { 0x18, 0x00000003, 0x3 },                      /* AMOMINU: m is huge */
        { 0x1c, 0x80000001, 0x8000000000000001ull },    /* AMOMAXU */
    };
    const uint64_t a = DATA + 0x200;
    for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        setup();
        put32(a, 0x80000001);
        put32(a + 4, 0x77777777);
        h.x[5] = a;
        h.x[6] = 0xdeadbeef00000003ull;
        exec1(amo_insn(ops[i].funct5, 2, 7, 5, 6));
        CHECK_EQ(h.x[7], 0xffffffff80000001ull);
        CHECK_EQ(get32(a), ops[i].w_new);
        CHECK_EQ(get32(a + 4), 0x77777777);

        setup();
        put64(a, 0x8000000000000001ull);
        h.x[5] = a;
        h.x[6] = 3;
        exec1(amo_insn(ops[i].funct5, 3, 7, 5, 6));
        CHECK_EQ(h.x[7], 0x8000000000000001ull);
        CHECK_EQ(get64(a), ops[i].d_new);
    }

    /* AMOMIN.W with both operands negative */
    setup();
    put32(a, 0xfffffffe);
    h.x[5] = a;
    h.x[6] = 0xffffffff;    /* -1 as a word */
    exec1(amo_insn(0x10, 2, 7, 5, 6));
    CHECK_EQ(get32(a), 0xfffffffe);

    /* misaligned AMO: store/AMO misaligned; AMO outside RAM: access fault */
    setup();
    h.x[5] = a + 4;
    exec1(amo_insn(0x00, 3, 7, 5, 6));
    expect_trap(CAUSE_MISALIGNED_STORE, a + 4, RAM_BASE);
    setup();
    h.x[5] = 0x1000;
    exec1(amo_insn(0x00, 2, 7, 5, 6));
    expect_trap(CAUSE_STORE_ACCESS, 0x1000, RAM_BASE);
    setup();
    h.x[5] = 0x1000;
    exec1(amo_insn(0x02, 2, 7, 5, 0));  /* LR outside RAM: load access fault */
    expect_trap(CAUSE_LOAD_ACCESS, 0x1000, RAM_BASE);
    CHECK_EQ(h.minstret, 0);
}

/* ------------------------------------------------- misaligned, paging */

static void test_misaligned_bare(void)
{
    setup();
    for (unsigned i = 0; i < 16; i++) {
        uint8_t b = (uint8_t)(0x10 + i);
        mem_copy_to_guest(&mem, DATA + 0xff8 + i, &b, 1);
    }
    h.x[5] = DATA + 0xffd;
    exec1(enc_i(0, 5, 3, 7, LOAD));     /* ld across the page boundary */
    CHECK_EQ(h.x[7], 0x1c1b1a1918171615ull);
    h.x[5] = DATA + 0x1001;
    exec1(enc_i(0, 5, 2, 7, LOAD));     /* misaligned lw inside a page */
    CHECK_EQ(h.x[7], 0x1c1b1a19u);
    h.x[5] = DATA + 0x1ffe;
    h.x[6] = 0x8877665544332211ull;
    exec1(enc_s(0, 6, 5, 3, STORE));    /* sd across the next boundary */
    CHECK_EQ(get64(DATA + 0x1ffe), 0x8877665544332211ull);
    CHECK_EQ(h.minstret, 3);
}

/* Sv39 tables: root at PT, one level-1 table, one level-0 table mapping
 * VA 0x10000 → DATA page A (RWX), 0x11000 unmapped, 0x12000 → page B and
 * 0x13000 → page A (physically discontiguous neighbours). */
#define PT (RAM_BASE + 0x100000)
#define PAGE_A (RAM_BASE + 0x200000)
#define PAGE_B (RAM_BASE + 0x300000)
#define LEAF_RWX (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

static void map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
    put64(PT + 0x2000 + 8 * ((va >> 12) & 0x1ff), (pa >> 12) << 10 | flags);
}

static void setup_sv39(void)
{
    pmp_allow_all();
    put64(PT, ((PT + 0x1000) >> 12) << 10 | PTE_V);
    put64(PT + 0x1000, ((PT + 0x2000) >> 12) << 10 | PTE_V);
    map_page(0x10000, PAGE_A, LEAF_RWX);
    map_page(0x12000, PAGE_B, LEAF_RWX);
    map_page(0x13000, PAGE_A, LEAF_RWX);
    h.satp = SATP_MODE_SV39 << SATP_MODE_SHIFT | PT >> 12;
}

/* M-mode code with MPRV = 1, MPP = S: data accesses are translated as S
 * (privileged spec 3.1.6.3), fetches are not. A trap taken from M sets MPP
 * to M again, so tests call this after each one. */
static void use_mprv_s(void)
{
    h.mstatus &= ~MSTATUS_MPP;
    h.mstatus |= MSTATUS_MPRV | (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT;
}

/* S-mode loads of a U page with mstatus.SUM clear fault, with it set they
 * do not (privileged spec 4.3.1). The fast cache keeps S translations for
 * each SUM value apart instead of flushing at each toggle, so a load with
 * SUM clear must not find what a load with SUM set left there. */
static void test_sum_contexts(void)
{
    setup();
    setup_sv39();
    map_page(0x14000, PAGE_B, LEAF_RWX | PTE_U);
    put64(PAGE_B + 8, 0x5a5a5a5a5a5a5a5aull);
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned sum = 0; sum < 2; sum++) {
            use_mprv_s();
            h.mstatus = sum ? h.mstatus | MSTATUS_SUM : h.mstatus & ~MSTATUS_SUM;
            h.pc = RAM_BASE;
            h.x[5] = 0x14008;
            h.x[7] = 0;
            exec1(enc_i(0, 5, 3, 7, LOAD));
            if (sum) {
                CHECK_EQ(h.x[7], 0x5a5a5a5a5a5a5a5aull);
                CHECK(tlb_lookup(&h.tlb, TLB_CTX_S_SUM, ACCESS_READ, 0x14000) != NULL);
            } else {
                expect_trap(CAUSE_LOAD_PAGE_FAULT, 0x14008, RAM_BASE);
                CHECK(tlb_lookup(&h.tlb, TLB_CTX_S, ACCESS_READ, 0x14000) == NULL);
            }
        }
    }
}

static void test_paged_crossing(void)
{
    setup();
    setup_sv39();
    use_mprv_s();
    put64(PAGE_B + 0xff8, 0x0807060504030201ull);
    put64(PAGE_A, 0x1817161514131211ull);
    h.x[5] = 0x12ffc;
    exec1(enc_i(0, 5, 3, 7, LOAD));     /* 4 bytes of B, then 4 of A */
    CHECK_EQ(h.x[7], 0x1413121108070605ull);

    /* crossing into the unmapped page: the fault names its first byte */
    put64(PAGE_A + 0xff8, 0x1111111111111111ull);
    h.x[5] = 0x10ffc;
    uint64_t pc = h.pc;
    exec1(enc_i(0, 5, 3, 7, LOAD));
    expect_trap(CAUSE_LOAD_PAGE_FAULT, 0x11000, pc);
    CHECK_EQ((h.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, PRIV_M);
    use_mprv_s();
    h.pc = pc;
    h.x[6] = 0xaaaaaaaaaaaaaaaaull;
    exec1(enc_s(0, 6, 5, 3, STORE));
    expect_trap(CAUSE_STORE_PAGE_FAULT, 0x11000, pc);
    CHECK_EQ(get64(PAGE_A + 0xff8), 0x1111111111111111ull);    /* nothing written */
    CHECK_EQ(h.minstret, 1);

    /* a plain fault on the first byte */
    setup();
    setup_sv39();
    use_mprv_s();
    h.x[5] = 0x11004;
    exec1(enc_i(0, 5, 2, 7, LOAD));
    expect_trap(CAUSE_LOAD_PAGE_FAULT, 0x11004, RAM_BASE);

    /* a read-only page: store page fault; an AMO there too */
    setup();
    setup_sv39();
    use_mprv_s();
    map_page(0x14000, PAGE_B, PTE_V | PTE_R | PTE_A);
    h.x[5] = 0x14008;
    exec1(enc_s(0, 6, 5, 2, STORE));
    expect_trap(CAUSE_STORE_PAGE_FAULT, 0x14008, RAM_BASE);
    use_mprv_s();
    h.pc = RAM_BASE;
    exec1(amo_insn(0x00, 2, 7, 5, 6));
    expect_trap(CAUSE_STORE_PAGE_FAULT, 0x14008, RAM_BASE);
    use_mprv_s();
    h.pc = RAM_BASE;
    exec1(enc_i(8, 5, 2, 7, LOAD));     /* reading it is fine */
    CHECK_EQ(h.pc, RAM_BASE + 4);
}

static void test_fetch_straddle(void)
{
    /* S-mode code at the end of the mapped page 0x10000 */
    setup();
    setup_sv39();
    h.priv = PRIV_S;
    h.pc = 0x10ffe;
    put16(PAGE_A + 0xffe, 0x0513);      /* low half of addi a0, a0, 1 */
    hart_step(&h);
    expect_trap(CAUSE_FETCH_PAGE_FAULT, 0x11000, 0x10ffe);
    CHECK_EQ(h.minstret, 0);

    /* a 32-bit instruction whose halves are in discontiguous frames */
    setup();
    setup_sv39();
    h.priv = PRIV_S;
    h.pc = 0x12ffe;
    h.x[10] = 41;
    put16(PAGE_B + 0xffe, 0x0513);
    put16(PAGE_A + 0x000, 0x0015);
    hart_step(&h);
    CHECK_EQ(h.x[10], 42);
    CHECK_EQ(h.pc, 0x13002);

    /* a compressed instruction at the end of the page runs; the next fetch faults */
    setup();
    setup_sv39();
    h.priv = PRIV_S;
    h.pc = 0x10ffe;
    put16(PAGE_A + 0xffe, 0x0505);      /* c.addi a0, 1 */
    hart_step(&h);
    CHECK_EQ(h.x[10], 1);
    CHECK_EQ(h.pc, 0x11000);
    hart_step(&h);
    expect_trap(CAUSE_FETCH_PAGE_FAULT, 0x11000, 0x11000);

    /* no execute permission */
    setup();
    setup_sv39();
    map_page(0x10000, PAGE_A, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
    h.priv = PRIV_S;
    h.pc = 0x10000;
    hart_step(&h);
    expect_trap(CAUSE_FETCH_PAGE_FAULT, 0x10000, 0x10000);

    /* fetching outside RAM is an instruction access fault */
    setup();
    h.pc = 0x2000;
    hart_step(&h);
    expect_trap(CAUSE_FETCH_ACCESS, 0x2000, 0x2000);
}

/* A cached translation may stay until SFENCE.VMA; after it the new PTE
 * is used (privileged spec 4.2.1). */
static void test_sfence(void)
{
    setup();
    setup_sv39();
    use_mprv_s();
    put64(PAGE_A, 0xa);
    put64(PAGE_B, 0xb);
    h.x[5] = 0x10000;
    exec1(enc_i(0, 5, 3, 7, LOAD));
    CHECK_EQ(h.x[7], 0xa);
    map_page(0x10000, PAGE_B, LEAF_RWX);
    exec1(enc_r(0x09, 0, 5, 0, 0, SYSTEM));     /* sfence.vma t0, x0 */
    CHECK_EQ(h.pc, RAM_BASE + 8);
    exec1(enc_i(0, 5, 3, 7, LOAD));
    CHECK_EQ(h.x[7], 0xb);

    /* illegal in U-mode, and in S-mode with mstatus.TVM */
    setup();
    pmp_allow_all();
    h.priv = PRIV_U;
    exec1(enc_r(0x09, 0, 0, 0, 0, SYSTEM));
    expect_trap(CAUSE_ILLEGAL_INSN, enc_r(0x09, 0, 0, 0, 0, SYSTEM), RAM_BASE);
    setup();
    pmp_allow_all();
    h.priv = PRIV_S;
    h.mstatus |= MSTATUS_TVM;
    exec1(enc_r(0x09, 0, 0, 0, 0, SYSTEM));
    CHECK_EQ(h.mcause, CAUSE_ILLEGAL_INSN);
    setup();
    pmp_allow_all();
    h.priv = PRIV_S;
    exec1(enc_r(0x09, 0, 0, 0, 0, SYSTEM));
    CHECK_EQ(h.pc, RAM_BASE + 4);
    CHECK_EQ(h.priv, PRIV_S);
}

/* With shadow tables: the hart's own store to a PTE is a traced store that
 * posts a patch; the next SFENCE.VMA applies it (DESIGN.md 1-2). Also
 * checks that a write entry for a traced frame never enters the fast cache
 * and that AMOs on a traced frame are reported as stores. */
static void test_coherence_hooks(void)
{
    static struct coherence co;
    const uint64_t pte_pa = PT + 0x2000 + 8 * 0x10;     /* leaf PTE of VA 0x10000 */
    for (int shared = 0; shared < 2; shared++) {
        setup();
        struct coherence_options opt = { .strategy = COHERENCE_PATCH, .shared_table = shared,
                                         .stale = STALE_INVALIDATE };
        CHECK(coherence_init(&co, &mem, 1, &opt, (struct coherence_hooks){ 0 }));
        h.coherence = coherence_hart_attach(&co, 0, &h.tlb);
        setup_sv39();
        use_mprv_s();
        put64(PAGE_A, 0xa);
        put64(PAGE_B, 0xb);
        h.x[5] = 0x10000;
        exec1(enc_i(0, 5, 3, 7, LOAD));                 /* ld t2, 0(t0): derives the path */
        CHECK_EQ(h.x[7], 0xa);
        CHECK(mem_frame_traced(&mem, pte_pa));

        /* M-mode store (MPRV off) of a new leaf PTE pointing at PAGE_B */
        h.mstatus &= ~MSTATUS_MPRV;
        h.x[6] = pte_pa;
        h.x[8] = (PAGE_B >> 12) << 10 | LEAF_RWX;
        exec1(enc_s(0, 8, 6, 3, STORE));                /* sd s0, 0(t1) */
        CHECK(tlb_lookup(&h.tlb, TLB_CTX_M, ACCESS_WRITE, pte_pa) == NULL);
        CHECK(tlb_lookup(&h.tlb, TLB_CTX_M, TLB_TRACED_STORES, pte_pa) != NULL);
        uint64_t produced_first = h.coherence->stats.patches_produced;
        CHECK(produced_first >= 1);
        /* again, through the traced-stores entry: still the producer path,
         * a change posts and the same value does not */
        h.x[8] = (PAGE_A >> 12) << 10 | LEAF_RWX;
        exec1(enc_s(0, 8, 6, 3, STORE));
        CHECK_EQ(get64(pte_pa), h.x[8]);
        CHECK_EQ(h.coherence->stats.patches_produced, 2 * produced_first);
        h.x[8] = (PAGE_B >> 12) << 10 | LEAF_RWX;
        exec1(enc_s(0, 8, 6, 3, STORE));
        exec1(enc_s(0, 8, 6, 3, STORE));
        CHECK(tlb_lookup(&h.tlb, TLB_CTX_M, ACCESS_WRITE, pte_pa) == NULL);
        CHECK_EQ(h.coherence->stats.patches_produced, 3 * produced_first);
        CHECK_EQ(h.coherence->stats.stores_unchanged, 1);
        /* They went by that entry, not by a walk: PMP changed behind the
         * cache's back (no CSR write to flush it) to refuse stores, locked
         * so that it binds M-mode, is not seen, as with a write entry. */
        uint8_t cfg = h.pmp.cfg[0];
        h.pmp.cfg[0] = PMP_A_NAPOT | PMP_R | PMP_X | PMP_L;
        uint64_t retired = h.minstret;
        exec1(enc_s(0, 8, 6, 3, STORE));
        CHECK_EQ(h.minstret, retired + 1);
        exec1(amo_insn(0x01, 3, 0, 6, 8));              /* amoswap.d x0, s0, (t1): AMOs too */
        CHECK_EQ(h.minstret, retired + 2);
        h.pmp.cfg[0] = cfg;

        use_mprv_s();
        exec1(enc_r(0x09, 0, 0, 0, 0, SYSTEM));         /* sfence.vma */
        CHECK(h.coherence->stats.coherency_events == 1);
        CHECK(h.coherence->stats.patches_applied + h.coherence->stats.patches_stale >= 1);
        exec1(enc_i(0, 5, 3, 7, LOAD));
        CHECK_EQ(h.x[7], 0xb);

        /* an AMO on the PTE is a traced store as well */
        uint64_t produced = h.coherence->stats.patches_produced;
        h.mstatus &= ~MSTATUS_MPRV;
        h.x[9] = (PAGE_A >> 12) << 10 | LEAF_RWX;
        exec1(amo_insn(0x01, 3, 0, 6, 9));              /* amoswap.d x0, s1, (t1) */
        CHECK(h.coherence->stats.patches_produced > produced);
        use_mprv_s();
        exec1(enc_r(0x09, 0, 0, 0, 0, SYSTEM));
        exec1(enc_i(0, 5, 3, 7, LOAD));
        CHECK_EQ(h.x[7], 0xa);
        CHECK(h.minstret == 12);

        hart_reset(&h, RAM_BASE);                       /* reset drops derived state */
        h.coherence = NULL;
        coherence_destroy(&co);
    }
}

/* ----------------------------------------------------------- traps */

static void test_illegal(void)
{
    setup();
    exec1(0x0000200f);                  /* MISC-MEM funct3 010 */
    expect_trap(CAUSE_ILLEGAL_INSN, 0x0000200f, RAM_BASE);
    CHECK_EQ(h.minstret, 0);
    CHECK_EQ(h.priv, PRIV_M);

    setup();                            /* compressed: tval holds 16 bits */
    put32(RAM_BASE, 0x12344002);        /* c.lwsp x0 (reserved), then junk */
    hart_step(&h);
    expect_trap(CAUSE_ILLEGAL_INSN, 0x4002, RAM_BASE);
    CHECK_EQ(h.minstret, 0);

    setup();                            /* the all-zero parcel */
    hart_step(&h);
    expect_trap(CAUSE_ILLEGAL_INSN, 0, RAM_BASE);
}

static void test_ecall_ebreak(void)
{
    static const struct { enum priv p; uint64_t cause; } e[] = {
        { PRIV_M, CAUSE_ECALL_M }, { PRIV_S, CAUSE_ECALL_S }, { PRIV_U, CAUSE_ECALL_U },
    };
    for (unsigned i = 0; i < 3; i++) {
        setup();
        pmp_allow_all();
        h.priv = e[i].p;
        h.pc = RAM_BASE + 0x10;
        exec1(0x00000073);
        expect_trap(e[i].cause, 0, RAM_BASE + 0x10);
        CHECK_EQ(h.priv, PRIV_M);
        CHECK_EQ((h.mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT, e[i].p);
        CHECK_EQ(h.minstret, 0);        /* ECALL does not retire */
    }
    setup();
    h.pc = RAM_BASE + 0x20;
    exec1(0x00100073);
    expect_trap(CAUSE_BREAKPOINT, RAM_BASE + 0x20, RAM_BASE + 0x20);
    setup();
    put16(RAM_BASE, 0x9002);            /* c.ebreak */
    hart_step(&h);
    expect_trap(CAUSE_BREAKPOINT, RAM_BASE, RAM_BASE);
}

static void test_xret_wfi(void)
{
    setup();
    pmp_allow_all();
    h.mepc = RAM_BASE + 0x500;
    h.mstatus |= (uint64_t)PRIV_S << MSTATUS_MPP_SHIFT;
    exec1(0x30200073);                  /* mret */
    CHECK_EQ(h.pc, RAM_BASE + 0x500);
    CHECK_EQ(h.priv, PRIV_S);
    CHECK_EQ(h.minstret, 1);
    exec1(0x30200073);                  /* mret from S: illegal */
    expect_trap(CAUSE_ILLEGAL_INSN, 0x30200073, RAM_BASE + 0x500);

    setup();
    pmp_allow_all();
    h.priv = PRIV_U;
    exec1(0x10200073);                  /* sret from U */
    expect_trap(CAUSE_ILLEGAL_INSN, 0x10200073, RAM_BASE);
    setup();
    pmp_allow_all();
    h.priv = PRIV_U;
    exec1(0x10500073);                  /* wfi from U */
    expect_trap(CAUSE_ILLEGAL_INSN, 0x10500073, RAM_BASE);

    /* WFI retires at once and ends the block; the hart sleeps at the
     * boundary (trap_wfi_sleep), where another thread may run it */
    setup();
    exec1(0x10500073);
    CHECK_EQ(h.pc, RAM_BASE + 4);
    CHECK_EQ(h.minstret, 1);
    CHECK(h.wfi_wanted);
}

/* ------------------------------------------------------------ Zicsr */

#define CSR_MSCRATCH 0x340
#define CSR_MHARTID 0xf14
#define CSR_MSTATUS 0x300
#define CSR_MINSTRET 0xb02

static void test_csr(void)
{
    setup();
    h.mhartid = 3;
    h.x[5] = 0x1234;
    exec1(csr_i(1, 0, CSR_MSCRATCH, 5));        /* csrw mscratch, t0 */
    CHECK_EQ(h.mscratch, 0x1234);
    exec1(csr_i(2, 6, CSR_MSCRATCH, 0));        /* csrr t1, mscratch */
    CHECK_EQ(h.x[6], 0x1234);
    exec1(csr_i(5, 7, CSR_MSCRATCH, 5));        /* csrrwi t2, mscratch, 5 */
    CHECK_EQ(h.x[7], 0x1234);
    CHECK_EQ(h.mscratch, 5);
    exec1(csr_i(6, 7, CSR_MSCRATCH, 0x18));     /* csrrsi */
    CHECK_EQ(h.mscratch, 0x1d);
    exec1(csr_i(7, 7, CSR_MSCRATCH, 0x11));     /* csrrci */
    CHECK_EQ(h.mscratch, 0x0c);
    CHECK_EQ(h.x[7], 0x1d);
    h.x[5] = 0x4;
    exec1(csr_i(3, 6, CSR_MSCRATCH, 5));        /* csrrc t1, mscratch, t0 */
    CHECK_EQ(h.mscratch, 0x08);
    exec1(csr_i(2, 8, CSR_MHARTID, 0));         /* csrr s0, mhartid: no write, legal */
    CHECK_EQ(h.x[8], 3);
    CHECK_EQ(h.minstret, 7);

    uint64_t pc = h.pc;
    exec1(csr_i(1, 8, CSR_MHARTID, 5));         /* csrw to a read-only CSR */
    expect_trap(CAUSE_ILLEGAL_INSN, csr_i(1, 8, CSR_MHARTID, 5), pc);
    CHECK_EQ(h.x[8], 3);
    CHECK_EQ(h.minstret, 7);

    setup();
    pmp_allow_all();
    h.priv = PRIV_U;
    exec1(csr_i(2, 8, CSR_MSTATUS, 0));         /* U reading mstatus */
    CHECK_EQ(h.mcause, CAUSE_ILLEGAL_INSN);

    /* a write to minstret is what the next instruction reads */
    setup();
    h.x[5] = 100;
    exec1(csr_i(1, 0, CSR_MINSTRET, 5));
    exec1(csr_i(2, 6, CSR_MINSTRET, 0));
    CHECK_EQ(h.x[6], 100);
    CHECK_EQ(h.minstret, 101);
}

/* ------------------------------------------------------------- F/D */

static void test_fp_memory(void)
{
    const uint32_t flw = enc_i(0, 5, 2, 1, 0x07), fld = enc_i(8, 5, 3, 2, 0x07);
    setup();
    put32(DATA, 0x3f800000);
    put64(DATA + 8, 0x400921fb54442d18ull);
    h.x[5] = DATA;
    exec1(flw);                                 /* FS = Off: illegal */
    expect_trap(CAUSE_ILLEGAL_INSN, flw, RAM_BASE);

    setup();
    put32(DATA, 0x3f800000);
    put64(DATA + 8, 0x400921fb54442d18ull);
    h.x[5] = DATA;
    h.mstatus |= (uint64_t)FS_INITIAL << MSTATUS_FS_SHIFT;
    exec1(flw);
    CHECK_EQ(h.f[1], 0xffffffff3f800000ull);    /* NaN-boxed */
    CHECK_EQ((h.mstatus & MSTATUS_FS) >> MSTATUS_FS_SHIFT, FS_DIRTY);
    CHECK(h.mstatus & MSTATUS_SD);
    exec1(fld);
    CHECK_EQ(h.f[2], 0x400921fb54442d18ull);

    h.f[3] = 0x123456789abcdef0ull;             /* not a valid box: FSW stores it raw */
    exec1(enc_s(16, 3, 5, 2, 0x27));
    CHECK_EQ(get32(DATA + 16), 0x9abcdef0);
    exec1(enc_s(24, 3, 5, 3, 0x27));
    CHECK_EQ(get64(DATA + 24), 0x123456789abcdef0ull);

    exec1(enc_r(0x71, 0, 2, 0, 9, 0x53));       /* fmv.x.d s1, f2 */
    CHECK_EQ(h.x[9], 0x400921fb54442d18ull);
    CHECK_EQ(h.minstret, 5);

    setup();                                    /* computational op with FS = Off */
    exec1(enc_r(0x71, 0, 2, 0, 9, 0x53));
    CHECK_EQ(h.mcause, CAUSE_ILLEGAL_INSN);
}

/* ------------------------------------------------------------ run loop */

static void test_run(void)
{
    _Atomic bool halt = false;
    setup();
    h.halt = &halt;
    put32(RAM_BASE, addi(10, 10, 1));
    put32(RAM_BASE + 4, enc_j(-4, 0));          /* loop forever */
    CHECK_EQ(hart_run(&h, 1000), 1000);
    CHECK_EQ(h.x[10], 500);
    CHECK_EQ(h.minstret, 1000);
    atomic_store(&halt, true);
    CHECK_EQ(hart_run(&h, 1000), 0);
}

/* Spin-loop detection (exec.c, note_backward_jump): a short loop that
 * stores nothing and leaves every register as it was can only be ended by
 * another hart, so the hart gives its host CPU away (spin_yields); a loop
 * that stores, one whose registers change, and a loop too long to be a
 * wait must never do that. Each loop polls a flag that stays 0. */
static uint64_t spin_yields_of(const uint32_t *loop, unsigned n, uint64_t insns)
{
    _Atomic bool halt = false;
    setup();
    h.halt = &halt;
    h.x[10] = DATA;
    put64(DATA, 0);
    for (unsigned i = 0; i < n; i++)
        put32(RAM_BASE + 4 * i, loop[i]);
    CHECK_EQ(hart_run(&h, insns), insns);
    CHECK_EQ(h.minstret, insns);
    CHECK_EQ(get64(DATA), 0);
    return h.spin_yields;
}

static void test_spin_detection(void)
{
    const uint32_t lw_flag = enc_i(0, 10, 2, 5, LOAD);            /* lw t0, 0(a0) */
    const uint32_t waiting[] = { lw_flag, enc_b(-4, 0, 5, 0) };    /* beq t0, zero, .-4 */
    uint64_t yields = spin_yields_of(waiting, 2, 2000);            /* 1000 rounds */
    CHECK(yields >= 1 && yields <= 1000 / 16);
    CHECK(h.pc == RAM_BASE || h.pc == RAM_BASE + 4);

    const uint32_t storing[] = { enc_s(8, 0, 10, 2, STORE), lw_flag, enc_b(-8, 0, 5, 0) };
    CHECK_EQ(spin_yields_of(storing, 3, 30000), 0);

    const uint32_t counting[] = { addi(6, 6, 1), lw_flag, enc_b(-8, 0, 5, 0) };
    CHECK_EQ(spin_yields_of(counting, 3, 30000), 0);
    CHECK_EQ(h.x[6], 10000);

    uint32_t long_loop[36];                                        /* 140-byte jump back */
    long_loop[0] = lw_flag;
    for (unsigned i = 1; i < 35; i++)
        long_loop[i] = addi(0, 0, 0);
    long_loop[35] = enc_b(-4 * 35, 0, 5, 0);
    CHECK_EQ(spin_yields_of(long_loop, 36, 36000), 0);
}

int main(void)
{
    test_muldiv();
    test_w_ops();
    test_shifts_and_compares();
    test_loads_stores();
    test_x0();
    test_branches();
    test_jumps();
    test_compressed();
    test_lr_sc();
    test_amo();
    test_misaligned_bare();
    test_paged_crossing();
    test_sum_contexts();
    test_fetch_straddle();
    test_sfence();
    test_coherence_hooks();
    test_illegal();
    test_ecall_ebreak();
    test_xret_wfi();
    test_csr();
    test_fp_memory();
    test_run();
    test_spin_detection();
    hart_destroy(&h);
    mem_destroy(&mem);
    return check_summary();
}
