/* traps.c: synchronous exceptions (privileged spec 3.1.15 mcause, 3.1.16
 * mtval, 3.3.1 ECALL/EBREAK; unprivileged spec 1.5 and 16 for the 16-bit
 * encodings).
 *
 * Illegal instructions, 32- and 16-bit, report their own bits in mtval
 * (only the 16 bits of a compressed one) and mepc points at them; ECALL's
 * cause names the mode it came from; EBREAK and C.EBREAK raise breakpoints;
 * with C, jumps to 2-byte-aligned targets never fault and JALR clears bit
 * 0; misaligned loads and stores complete (also across a page boundary);
 * misaligned AMOs raise store/AMO address-misaligned (cause 6, tval the
 * address); loads, stores, AMOs and fetches at an address with nothing
 * behind it raise access faults with the address in mtval.
 */
#include "rt.h"

/* Run one instruction encoding at a known address and return its address;
 * the trap handler skips it (its length taken from its low bits). */
#define AT_LABEL(insn) ({ uint64_t pc_; \
    asm volatile("la %0, 1f\n\t1: " insn : "=&r"(pc_) :: "memory"); pc_; })

static void illegal_instructions(void)
{
    uint64_t pc = 0, n;
    /* OP-IMM-32 with funct3 = 010 is unallocated. */
    n = EXPECT_TRAPS(pc = AT_LABEL(".word 0x0000201b"));
    CHECK_EQ(1, n, 1);
    CHECK_EQ(2, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    CHECK_EQ(3, rt_trap.tval, 0x0000201b);
    CHECK_EQ(4, rt_trap.epc, pc);
    /* unimp = csrrw x0, cycle, x0: a write to a read-only CSR. */
    n = EXPECT_TRAPS(pc = AT_LABEL(".word 0xc0001073"));
    CHECK_EQ(5, n, 1);
    CHECK_EQ(6, rt_trap.tval, 0xc0001073);
    CHECK_EQ(7, rt_trap.epc, pc);
    /* 16-bit: C.LUI with nzimm = 0 is reserved; mtval holds only the 16
     * instruction bits, not what follows them in memory. */
    n = EXPECT_TRAPS(pc = AT_LABEL(".2byte 0x6081\n\tc.nop"));
    CHECK_EQ(8, n, 1);
    CHECK_EQ(9, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    CHECK_EQ(10, rt_trap.tval, 0x6081);
    CHECK_EQ(11, rt_trap.epc, pc);
    /* C.LDSP with rd = x0 is reserved. */
    n = EXPECT_TRAPS(pc = AT_LABEL(".2byte 0x6002\n\tc.nop"));
    CHECK_EQ(12, n, 1);
    CHECK_EQ(13, rt_trap.tval, 0x6002);
    /* The all-zero 16-bit word is defined illegal (16.8); its bits are 0. */
    n = EXPECT_TRAPS(pc = AT_LABEL(".2byte 0x0000\n\tc.nop"));
    CHECK_EQ(14, n, 1);
    CHECK_EQ(15, rt_trap.cause, CAUSE_ILLEGAL_INSN);
    CHECK_EQ(16, rt_trap.tval, 0);
    CHECK_EQ(17, rt_trap.epc, pc);
    /* Execution resumes after a 16-bit illegal instruction at pc + 2. */
    uint64_t v = 0;
    n = EXPECT_TRAPS(asm volatile(".2byte 0x6081\n\tli %0, 7" : "=r"(v)));
    CHECK_EQ(18, n, 1);
    CHECK_EQ(19, v, 7);
}

static uint64_t do_ecall(uint64_t arg)
{
    register uint64_t a0 asm("a0") = arg;
    register uint64_t a7 asm("a7") = 0;        /* not a return request */
    asm volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
    return a0;
}

static uint64_t do_ebreak(uint64_t arg)
{
    asm volatile("ebreak");
    return arg + 1;
}

static void environment_calls(void)
{
    /* ECALL's cause is per mode (table 3.6); mtval is 0 (3.1.16). */
    CHECK_EQ(20, EXPECT_TRAPS(do_ecall(0)), 1);
    CHECK_EQ(21, rt_trap.cause, CAUSE_ECALL_M);
    CHECK_EQ(22, rt_trap.tval, 0);
    CHECK_EQ(23, EXPECT_TRAPS(rt_run_at(PRV_S, do_ecall, 5, 0)), 1);
    CHECK_EQ(24, rt_trap.cause, CAUSE_ECALL_S);
    CHECK_EQ(25, rt_trap.from, PRV_S);
    CHECK_EQ(26, EXPECT_TRAPS(rt_run_at(PRV_U, do_ecall, 5, 0)), 1);
    CHECK_EQ(27, rt_trap.cause, CAUSE_ECALL_U);
    CHECK_EQ(28, rt_trap.from, PRV_U);
    CHECK_EQ(29, rt_trap.tval, 0);
    /* mepc is the ECALL itself: the handler's +4 lands after it. */
    uint64_t pc = 0;
    CHECK_EQ(30, EXPECT_TRAPS(pc = AT_LABEL("ecall")), 1);
    CHECK_EQ(31, rt_trap.epc, pc);

    /* EBREAK: cause 3; mtval is 0 or the breakpoint's address (3.1.16). */
    CHECK_EQ(32, EXPECT_TRAPS(pc = AT_LABEL("ebreak")), 1);
    CHECK_EQ(33, rt_trap.cause, CAUSE_BREAKPOINT);
    CHECK_EQ(34, rt_trap.epc, pc);
    CHECK(35, rt_trap.tval == 0 || rt_trap.tval == pc);
    uint64_t v = 0;
    CHECK_EQ(36, EXPECT_TRAPS(asm volatile("c.ebreak\n\tli %0, 9" : "=r"(v))), 1);
    CHECK_EQ(37, rt_trap.cause, CAUSE_BREAKPOINT);
    CHECK_EQ(38, v, 9);                         /* resumed at pc + 2 */
    uint64_t r = 0;
    CHECK_EQ(39, EXPECT_TRAPS(r = rt_run_at(PRV_U, do_ebreak, 41, 0)), 1);
    CHECK_EQ(40, rt_trap.cause, CAUSE_BREAKPOINT);
    CHECK_EQ(41, rt_trap.from, PRV_U);
    CHECK_EQ(42, r, 42);
}

/* A routine that starts 2 bytes past a 4-byte boundary. */
uint64_t odd_routine(void);
asm(".text\n"
    ".align 2\n"
    "c.nop\n"
    ".globl odd_routine\n"
    "odd_routine:\n"
    "  li a0, 0x55\n"
    "  ret\n");

static void fetch_alignment(void)
{
    /* With C, IALIGN = 16: a jump to a 2-byte-aligned target is fine, and
     * JALR clears bit 0 of the target (unprivileged 2.5). */
    uint64_t target = (uintptr_t)odd_routine, n;
    register uint64_t r asm("a0") = 0;         /* odd_routine's result */
    CHECK_EQ(43, target & 3, 2);
    n = EXPECT_TRAPS(asm volatile("jalr %1" : "=r"(r) : "r"(target) : "ra", "memory"));
    CHECK_EQ(44, n, 0);
    CHECK_EQ(45, r, 0x55);
    r = 0;
    n = EXPECT_TRAPS(asm volatile("jalr %1" : "=r"(r) : "r"(target | 1) : "ra", "memory"));
    CHECK_EQ(46, n, 0);
    CHECK_EQ(47, r, 0x55);
}

static volatile uint8_t buffer[64] __attribute__((aligned(64)));
static volatile uint8_t page_pair[8192] __attribute__((aligned(4096)));

static void misaligned_access(void)
{
    for (unsigned i = 0; i < sizeof buffer; i++)
        buffer[i] = (uint8_t)(0x10 + i);
    uint64_t v = 0, n;
    n = EXPECT_TRAPS(v = *(volatile uint64_t *)(uintptr_t)&buffer[1]);
    CHECK_EQ(48, n, 0);
    CHECK_EQ(49, v, 0x1817161514131211ull);
    n = EXPECT_TRAPS(v = *(volatile uint32_t *)(uintptr_t)&buffer[6]);   /* crosses 8 */
    CHECK_EQ(50, n, 0);
    CHECK_EQ(51, v, 0x19181716);
    n = EXPECT_TRAPS(v = (uint64_t)*(volatile int16_t *)(uintptr_t)&buffer[0x2f]);
    CHECK_EQ(52, n, 0);
    CHECK_EQ(53, v, 0x403f);
    n = EXPECT_TRAPS(*(volatile uint64_t *)(uintptr_t)&buffer[13] = 0xa1a2a3a4a5a6a7a8ull);
    CHECK_EQ(54, n, 0);
    CHECK_EQ(55, *(volatile uint64_t *)(uintptr_t)&buffer[8], 0xa6a7a81c1b1a1918ull);
    CHECK_EQ(56, *(volatile uint64_t *)(uintptr_t)&buffer[16], 0x272625a1a2a3a4a5ull);
    n = EXPECT_TRAPS(*(volatile uint16_t *)(uintptr_t)&buffer[33] = 0xbeef);
    CHECK_EQ(57, n, 0);
    CHECK_EQ(58, *(volatile uint32_t *)(uintptr_t)&buffer[32], 0x33beef30);
    /* Across a 4 KiB page boundary. */
    volatile uint8_t *edge = &page_pair[4096 - 3];
    n = EXPECT_TRAPS(*(volatile uint64_t *)(uintptr_t)edge = 0x0102030405060708ull);
    CHECK_EQ(59, n, 0);
    CHECK_EQ(60, page_pair[4095], 0x06);
    CHECK_EQ(61, page_pair[4096], 0x05);
    n = EXPECT_TRAPS(v = *(volatile uint64_t *)(uintptr_t)edge);
    CHECK_EQ(62, v, 0x0102030405060708ull);
    /* A misaligned FP load. */
    uint64_t bits = 0;
    n = EXPECT_TRAPS(asm volatile("fld ft0, 0(%1)\n\tfmv.x.d %0, ft0" : "=r"(bits)
                                  : "r"(&buffer[3]) : "ft0"));
    CHECK_EQ(63, n, 0);
    CHECK_EQ(64, bits, *(volatile uint64_t *)(uintptr_t)&buffer[3]);
}

/* The causes a faulting AMO must raise: store/AMO address misaligned and
 * store/AMO access fault (privileged table 3.6). QEMU 7.2 raises the load
 * causes (4 and 5) for AMOs, so the reference build expects those. */
#ifdef UMBRA_ON_QEMU
#define AMO_MISALIGNED_CAUSE CAUSE_MISALIGNED_LOAD
#define AMO_ACCESS_CAUSE CAUSE_LOAD_ACCESS
#else
#define AMO_MISALIGNED_CAUSE CAUSE_MISALIGNED_STORE
#define AMO_ACCESS_CAUSE CAUSE_STORE_ACCESS
#endif

static void misaligned_atomics(void)
{
    /* AMOs must be naturally aligned: store/AMO address misaligned, with
     * the address in mtval (unprivileged 8.4, privileged 3.1.16). */
    uint64_t v = 0, n;
    volatile uint8_t *p = &buffer[2];
    n = EXPECT_TRAPS(asm volatile("amoadd.w %0, %2, (%1)" : "=r"(v) : "r"(p), "r"(1ull) : "memory"));
    CHECK_EQ(65, n, 1);
    CHECK_EQ(66, rt_trap.cause, AMO_MISALIGNED_CAUSE);
    CHECK_EQ(67, rt_trap.tval, (uintptr_t)p);
    p = &buffer[4];
    n = EXPECT_TRAPS(asm volatile("amoswap.d %0, %2, (%1)" : "=r"(v) : "r"(p), "r"(1ull) : "memory"));
    CHECK_EQ(68, n, 1);
    CHECK_EQ(69, rt_trap.cause, AMO_MISALIGNED_CAUSE);
    CHECK_EQ(70, rt_trap.tval, (uintptr_t)p);
    /* The memory is untouched. */
    CHECK_EQ(71, *(volatile uint32_t *)(uintptr_t)&buffer[4], 0x17161514);
    /* LR: a load, so load address misaligned, or an access fault (8.2). */
    p = &buffer[1];
    n = EXPECT_TRAPS(asm volatile("lr.w %0, (%1)" : "=r"(v) : "r"(p) : "memory"));
    CHECK_EQ(72, n, 1);
    CHECK(73, rt_trap.cause == CAUSE_MISALIGNED_LOAD || rt_trap.cause == CAUSE_LOAD_ACCESS);
    CHECK_EQ(74, rt_trap.tval, (uintptr_t)p);
}

static uint64_t load_from(uint64_t addr)
{
    return *(volatile uint64_t *)(uintptr_t)addr;
}

static void access_faults(void)
{
    volatile uint64_t *nothing = (volatile uint64_t *)(uintptr_t)UNMAPPED_PA;
    uint64_t v = 0x1234, n;
    n = EXPECT_TRAPS(v = nothing[1]);
    CHECK_EQ(75, n, 1);
    CHECK_EQ(76, rt_trap.cause, CAUSE_LOAD_ACCESS);
    CHECK_EQ(77, rt_trap.tval, UNMAPPED_PA + 8);
    n = EXPECT_TRAPS(nothing[2] = 5);
    CHECK_EQ(78, n, 1);
    CHECK_EQ(79, rt_trap.cause, CAUSE_STORE_ACCESS);
    CHECK_EQ(80, rt_trap.tval, UNMAPPED_PA + 16);
    n = EXPECT_TRAPS(asm volatile("amoor.d %0, %2, (%1)" : "=r"(v) : "r"(nothing), "r"(1ull) : "memory"));
    CHECK_EQ(81, n, 1);
    CHECK_EQ(82, rt_trap.cause, AMO_ACCESS_CAUSE);
    CHECK_EQ(83, rt_trap.tval, UNMAPPED_PA);
    /* A fetch: mepc and mtval are the target (privileged 3.1.14, 3.1.16). */
    n = EXPECT_TRAPS(rt_try_jump(UNMAPPED_PA + 0x40, 0));
    CHECK_EQ(84, n, 1);
    CHECK_EQ(85, rt_trap.cause, CAUSE_FETCH_ACCESS);
    CHECK_EQ(86, rt_trap.epc, UNMAPPED_PA + 0x40);
    CHECK_EQ(87, rt_trap.tval, UNMAPPED_PA + 0x40);
    /* The same from U-mode (PMP lets U reach everything here; there is
     * just nothing at the address). */
    n = EXPECT_TRAPS(rt_run_at(PRV_U, load_from, UNMAPPED_PA + 0x18, 0));
    CHECK_EQ(88, n, 1);
    CHECK_EQ(89, rt_trap.cause, CAUSE_LOAD_ACCESS);
    CHECK_EQ(90, rt_trap.from, PRV_U);
    CHECK_EQ(91, rt_trap.tval, UNMAPPED_PA + 0x18);
}

int main(void)
{
    illegal_instructions();
    environment_calls();
    fetch_alignment();
    misaligned_access();
    misaligned_atomics();
    access_faults();
    pass();
}
