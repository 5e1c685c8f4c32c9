/* zicsr.c: the Zicsr instructions and the counters (unprivileged spec
 * chapters 9 "Zicsr" and 10 "Zicntr"; privileged spec 2.1, 3.1.1, 3.1.10,
 * 3.1.11, 3.1.12).
 *
 * CSRRW/RS/RC and their immediate forms return the old value and combine
 * correctly; the immediate is a zero-extended 5-bit field; CSRRS/CSRRC
 * with rs1 = x0 do not write, so they may read a read-only CSR, but with
 * any other rs1 they do write (even a zero value) and are illegal there;
 * a write to a read-only CSR or an access to a missing CSR or to one above
 * the current privilege is illegal with tval = the instruction bits; the
 * counters advance, instret counts retired instructions exactly (a CSR
 * read sees the count before itself), a write replaces the increment, and
 * mcounteren / scounteren gate the user-level counter views.
 */
#include "rt.h"

/* QEMU's spike machine (the reference) does not implement the time CSR:
 * reads trap so that M-mode can emulate them, which the privileged spec
 * allows. umbra's board, like QEMU's virt, implements it. The reference
 * build therefore leaves out every check that reads time. */
#ifdef UMBRA_ON_QEMU
#define HAVE_TIME_CSR 0
#else
#define HAVE_TIME_CSR 1
#endif

/* mscratch and sscratch hold the trap handlers' stack pointers (crt0.S):
 * they are saved here and restored before anything can trap. */
static void read_write_set_clear(void)
{
    uint64_t old;
    const uint64_t saved_m = csr_read(mscratch), saved_s = csr_read(sscratch);
    csr_write(mscratch, 0x0123456789abcdefull);
    asm volatile("csrrw %0, mscratch, %1" : "=r"(old) : "r"(0xfedcba9876543210ull));
    CHECK_EQ(1, old, 0x0123456789abcdefull);
    CHECK_EQ(2, csr_read(mscratch), 0xfedcba9876543210ull);
    asm volatile("csrrs %0, mscratch, %1" : "=r"(old) : "r"(0x000000000000000full));
    CHECK_EQ(3, old, 0xfedcba9876543210ull);
    CHECK_EQ(4, csr_read(mscratch), 0xfedcba987654321full);
    asm volatile("csrrc %0, mscratch, %1" : "=r"(old) : "r"(0xff00000000000000ull));
    CHECK_EQ(5, old, 0xfedcba987654321full);
    CHECK_EQ(6, csr_read(mscratch), 0x00dcba987654321full);
    /* Immediate forms: uimm is zero-extended from 5 bits. */
    asm volatile("csrrwi %0, mscratch, 31" : "=r"(old));
    CHECK_EQ(7, old, 0x00dcba987654321full);
    CHECK_EQ(8, csr_read(mscratch), 31);
    asm volatile("csrrci %0, mscratch, 5" : "=r"(old));
    CHECK_EQ(9, old, 31);
    CHECK_EQ(10, csr_read(mscratch), 26);
    asm volatile("csrrsi %0, mscratch, 16" : "=r"(old));    /* already set */
    CHECK_EQ(11, csr_read(mscratch), 26);
    asm volatile("csrrsi %0, mscratch, 1" : "=r"(old));
    CHECK_EQ(12, csr_read(mscratch), 27);
    /* rd = rs1: the old value is read before the write uses rs1. */
    uint64_t v = 0x5555;
    asm volatile("csrrw %0, mscratch, %0" : "+r"(v));
    CHECK_EQ(13, v, 27);
    CHECK_EQ(14, csr_read(mscratch), 0x5555);
    /* rd = x0 on CSRRW: write only. */
    asm volatile("csrrw x0, mscratch, %0" :: "r"(0x77ull));
    CHECK_EQ(15, csr_read(mscratch), 0x77);
    csr_write(sscratch, 0xa5a5a5a5a5a5a5a5ull);                /* full width */
    CHECK_EQ(16, csr_read(sscratch), 0xa5a5a5a5a5a5a5a5ull);
    csr_write(mscratch, saved_m);
    csr_write(sscratch, saved_s);
}

/* Run one instruction word (with t0 = 1 as its possible operand) and
 * report whether it trapped as illegal with tval = its bits. */
#define TRY_INSN(word) ({ uint64_t tn_ = EXPECT_TRAPS( \
    asm volatile("li t0, 1\n\t.word " #word ::: "t0", "memory")); tn_; })

static void expect_illegal(unsigned n, uint64_t traps, uint32_t word)
{
    CHECK_EQ(n, traps, 1);
    CHECK_EQ(n, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    CHECK_EQ(n, rt_trap.tval, word);
}

static void read_only_and_missing(void)
{
    /* Identification CSRs read fine (privileged spec 3.1.1-3.1.5). */
    CHECK_EQ(17, csr_read(mhartid), 0);
    uint64_t misa = csr_read(misa);
    CHECK_EQ(18, misa >> 62, 2);                                /* MXL = 64 */
    const char *ext = "IMAFDCSU";
    for (const char *e = ext; *e; e++)
        CHECK(19, misa & (1ull << (*e - 'A')));
    (void)csr_read(mvendorid);
    (void)csr_read(marchid);
    (void)csr_read(mimpid);

    /* Writes to read-only CSRs (number bits 11:10 = 3) are illegal. */
    expect_illegal(20, TRY_INSN(0xf1429073), 0xf1429073);       /* csrrw x0, mhartid, t0 */
    expect_illegal(21, TRY_INSN(0xc0029073), 0xc0029073);       /* csrrw x0, cycle, t0 */
    expect_illegal(22, TRY_INSN(0xf112a073), 0xf112a073);       /* csrrs x0, mvendorid, t0 */
    expect_illegal(23, TRY_INSN(0xc020f073), 0xc020f073);       /* csrrci x0, instret, 1 */
    /* ... also when rs1 names a register holding zero: it still writes
     * (Zicsr 9.1, table 9.1). QEMU 7.2 decides "writes" from the value of
     * the mask instead of from rs1's number and lets this through, so the
     * reference run leaves this check out. */
    uint64_t n;
#ifndef UMBRA_ON_QEMU
    n = EXPECT_TRAPS(asm volatile("li t1, 0\n\tcsrrs t2, mhartid, t1" ::: "t1", "t2"));
    CHECK_EQ(24, n, 1);
#endif
    /* rs1 = x0 (or uimm = 0) on CSRRS/CSRRC is a pure read: legal. */
    n = EXPECT_TRAPS(asm volatile("csrrs t2, mhartid, x0\n\tcsrrc t2, cycle, x0\n\t"
                                  "csrrsi t2, mimpid, 0\n\tcsrrci t2, instret, 0" ::: "t2"));
    CHECK_EQ(25, n, 0);
    /* Missing CSRs: 0x107 is unallocated; pmpcfg1 does not exist on RV64
     * (privileged spec 3.7.1). */
    expect_illegal(26, TRY_INSN(0x107022f3), 0x107022f3);       /* csrrs t0, 0x107, x0 */
    expect_illegal(27, TRY_INSN(0x3a1022f3), 0x3a1022f3);       /* csrrs t0, pmpcfg1, x0 */
}

static uint64_t read_mstatus(uint64_t arg) { (void)arg; return csr_read(mstatus); }
static uint64_t read_sstatus(uint64_t arg) { (void)arg; return csr_read(sstatus); }
static uint64_t read_cycle(uint64_t arg) { (void)arg; return csr_read(cycle); }
static uint64_t read_time(uint64_t arg) { (void)arg; return csr_read(time); }
static uint64_t read_instret(uint64_t arg) { (void)arg; return csr_read(instret); }

/* How many traps running fn at `priv` took. */
static uint64_t traps_at(int priv, uint64_t (*fn)(uint64_t))
{
    return EXPECT_TRAPS(rt_run_at((uint64_t)priv, fn, 0, 0));
}

static void privilege(void)
{
    /* CSR number bits 9:8 give the lowest privilege allowed (2.1). */
    CHECK_EQ(28, traps_at(PRV_S, read_mstatus), 1);
    CHECK_EQ(29, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    CHECK_EQ(30, rt_trap.from, PRV_S);
    CHECK_EQ(31, traps_at(PRV_U, read_sstatus), 1);
    CHECK_EQ(32, rt_trap.from, PRV_U);
    CHECK_EQ(33, traps_at(PRV_S, read_sstatus), 0);

    /* Counter enables (3.1.11, 4.1.4): mcounteren gates S and U,
     * scounteren gates U on top of it. Bits: CY 0, TM 1, IR 2. */
    csr_write(mcounteren, 0);
    csr_write(scounteren, 0);
    CHECK_EQ(34, traps_at(PRV_S, read_cycle), 1);
    CHECK_EQ(35, traps_at(PRV_U, read_instret), 1);
    csr_write(mcounteren, 7);
    CHECK_EQ(36, traps_at(PRV_S, read_cycle), 0);
    CHECK_EQ(37, traps_at(PRV_S, read_instret), 0);
    CHECK_EQ(38, traps_at(PRV_U, read_cycle), 1);
    csr_write(scounteren, 4);                                  /* IR only */
    CHECK_EQ(39, traps_at(PRV_U, read_instret), 0);
    CHECK_EQ(40, traps_at(PRV_U, read_cycle), 1);
    csr_write(mcounteren, 3);                                  /* IR off in M's mask */
    CHECK_EQ(41, traps_at(PRV_U, read_instret), 1);
    CHECK_EQ(42, traps_at(PRV_S, read_instret), 1);
    if (HAVE_TIME_CSR) {
        csr_write(mcounteren, 5);                              /* TM off */
        csr_write(scounteren, 7);
        CHECK_EQ(43, traps_at(PRV_S, read_time), 1);
        CHECK_EQ(44, traps_at(PRV_U, read_time), 1);
        csr_write(mcounteren, 7);
        CHECK_EQ(45, traps_at(PRV_S, read_time), 0);
        CHECK_EQ(46, traps_at(PRV_U, read_time), 0);
        csr_write(scounteren, 5);
        CHECK_EQ(47, traps_at(PRV_U, read_time), 1);
    }
    csr_write(mcounteren, 7);
    csr_write(scounteren, 7);
    CHECK_EQ(48, traps_at(PRV_U, read_instret), 0);
    CHECK_EQ(49, traps_at(PRV_U, read_cycle), 0);
}

static void counters(void)
{
    uint64_t c0 = csr_read(cycle), i0 = csr_read(instret);
    uint64_t m0 = clint_mtime();
    for (volatile int spin = 0; spin < 20000; spin++)
        ;
    uint64_t c1 = csr_read(cycle), i1 = csr_read(instret), m1 = clint_mtime();
    CHECK(50, c1 > c0);
    CHECK(51, i1 > i0 + 20000);
    CHECK(52, m1 > m0);                                         /* mtime runs */
    if (HAVE_TIME_CSR) {
        /* time mirrors the CLINT's mtime (privileged spec 3.2.1). */
        uint64_t t2 = csr_read(time), m2 = clint_mtime(), t3 = csr_read(time);
        CHECK(53, t2 >= m1);
        CHECK(54, t2 <= m2 && m2 <= t3);
    }
    CHECK_EQ(55, csr_read(mcycle) >= c1, 1);
    CHECK_EQ(56, csr_read(minstret) >= i1, 1);

    /* Exact instret: a CSR read sees the count before itself, so between
     * two reads with ten instructions between them lie eleven retirements. */
    uint64_t a, b;
    asm volatile(".option push\n\t.option norvc\n\t"
                 "csrr %0, instret\n\t"
                 "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
                 "csrr %1, instret\n\t.option pop" : "=&r"(a), "=&r"(b));
#ifdef UMBRA_ON_QEMU
    /* QEMU 7.2 without -icount derives minstret from the host's cycle
     * counter, so only "advances by at least" holds there. */
    CHECK(57, b - a >= 11);
#else
    CHECK_EQ(58, b - a, 11);
#endif

#ifndef UMBRA_ON_QEMU
    /* A write replaces that instruction's own increment (Zicsr 9.1), so
     * the next read sees exactly the written value. QEMU 7.2 derives the
     * counters from host time and cannot show this exactly. */
    asm volatile("csrw minstret, %2\n\tcsrr %0, minstret\n\tcsrr %1, minstret"
                 : "=&r"(a), "=&r"(b) : "r"(1000ull));
    CHECK_EQ(59, a, 1000);
    CHECK_EQ(60, b, 1001);
    /* mcountinhibit.IR stops minstret (privileged spec 3.1.12). */
    csr_set(mcountinhibit, 4);
    a = csr_read(minstret);
    asm volatile("nop\n\tnop\n\tnop");
    b = csr_read(minstret);
    csr_clear(mcountinhibit, 4);
    CHECK_EQ(61, b, a);
#endif
    a = csr_read(instret);
    b = csr_read(instret);
    CHECK(62, b > a);
}

int main(void)
{
    read_write_set_clear();
    read_only_and_missing();
    privilege();
    counters();
    pass();
}
