/* smp.c: several harts against each other (run with -smp SMP_HARTS).
 *
 * Hart 0 wakes the parked harts (crt0.S, rt_park) with CLINT software
 * interrupts. Every hart then
 *  - adds to shared counters with AMOADD.D, AMOADD.W and an LR/SC loop, so
 *    no increment may be lost (unprivileged spec, A extension);
 *  - reads a virtual page, with MPRV = 1 and MPP = S so its loads are
 *    translated through Sv39 (privileged spec 3.1.6.3), while hart 0 keeps
 *    switching that page's leaf PTE between two frames: before its
 *    SFENCE.VMA a hart may see either frame, after it the one hart 0
 *    published last (privileged spec 4.2.1).
 * The checks run on hart 0 once every hart reports it is done; a hart that
 * traps records mcause and stops, and any wait longer than DEADLINE fails.
 */
#include "rt.h"

#ifndef SMP_HARTS
#define SMP_HARTS 4
#endif
#define AMO_ROUNDS 3000
#define GENERATIONS 100
#define DEADLINE (60ull * 10000000)     /* mtime ticks at 10 MHz: 60 s */

#define SATP_SV39 (8ull << 60)
#define PTE_V 0x01
#define PTE_RWX 0x0e
#define PTE_RW 0x06
#define PTE_AD 0xc0
#define TEST_VA 0x40000000ull           /* root slot 1 -> mid[0] -> leaf[0] */
#define VALUE_A 0xaaaa5555aaaa5555ull
#define VALUE_B 0xbbbb4444bbbb4444ull

extern uint64_t rt_secondary_entry, rt_secondary_stacks;

static uint8_t stacks[SMP_HARTS][RT_SECONDARY_STACK] __attribute__((aligned(16)));
static uint64_t root[512] __attribute__((aligned(4096)));
static uint64_t mid[512] __attribute__((aligned(4096)));
static uint64_t leaf[512] __attribute__((aligned(4096)));
static uint64_t page_a[512] __attribute__((aligned(4096)));
static uint64_t page_b[512] __attribute__((aligned(4096)));

static uint64_t amo_count, lrsc_count, arrived, finished;
static uint32_t amo_w_count;
static uint64_t pt_gen;                 /* the mapping generation hart 0 published */
static uint64_t acked[SMP_HARTS];       /* the last generation each hart checked */
static uint64_t wrong[SMP_HARTS];       /* reads after SFENCE.VMA that saw the old frame */
static uint64_t garbage[SMP_HARTS];     /* reads that saw neither frame */
__attribute__((used)) uint64_t smp_trap_cause[SMP_HARTS];

/* Trap vector of the woken harts: record mcause (+1, so cause 0 shows) and
 * stop. Runs with MPP = M, so MPRV no longer translates its store. */
void smp_trap(void);
asm(".align 2\n"
    "smp_trap:\n"
    "  csrr t0, mcause\n"
    "  addi t0, t0, 1\n"
    "  csrr t1, mhartid\n"
    "  slli t1, t1, 3\n"
    "  la t2, smp_trap_cause\n"
    "  add t2, t2, t1\n"
    "  sd t0, 0(t2)\n"
    "1: wfi\n"
    "  j 1b\n");

static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

static void wait_until(unsigned check, const uint64_t *p, uint64_t value)
{
    uint64_t deadline = clint_mtime() + DEADLINE;
    while (load(p) != value)
        CHECK(check, clint_mtime() < deadline);
}

static void lrsc_increment(uint64_t *p)
{
    uint64_t value, failed;
    asm volatile("1: lr.d %0, (%2)\n"
                 "   addi %0, %0, 1\n"
                 "   sc.d %1, %0, (%2)\n"
                 "   bnez %1, 1b"
                 : "=&r"(value), "=&r"(failed) : "r"(p) : "memory");
}

static void contend(void)
{
    for (unsigned i = 0; i < AMO_ROUNDS; i++) {
        __atomic_fetch_add(&amo_count, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(&amo_w_count, 1, __ATOMIC_RELAXED);
        lrsc_increment(&lrsc_count);
    }
}

static uint64_t expected_value(uint64_t gen) { return gen % 2 ? VALUE_B : VALUE_A; }

/* Follow hart 0's generations: after each fence the new frame must show. */
static void follow_mappings(uint64_t hart)
{
    csr_write(satp, SATP_SV39 | ((uint64_t)(uintptr_t)root >> 12));
    sfence_vma_all();
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, MSTATUS_MPRV | (1ull << MSTATUS_MPP_SHIFT));   /* loads as S */
    volatile uint64_t *va = (volatile uint64_t *)(uintptr_t)TEST_VA;
    uint64_t gen = 0;
    while (gen < GENERATIONS) {
        uint64_t v = *va;
        if (v != VALUE_A && v != VALUE_B)
            garbage[hart]++;
        uint64_t now = load(&pt_gen);
        if (now == gen)
            continue;
        gen = now;
        sfence_vma_all();
        if (*va != expected_value(gen))
            wrong[hart]++;
        __atomic_store_n(&acked[hart], gen, __ATOMIC_RELEASE);
    }
    csr_clear(mstatus, MSTATUS_MPRV);
}

static void secondary(uint64_t hart)
{
    csr_write(mtvec, (uintptr_t)smp_trap);
    csr_write(pmpaddr15, -1);           /* S may touch all memory, as crt0 */
    csr_write(pmpcfg2, 0x1full << 56);  /* does for hart 0 */
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    contend();
    follow_mappings(hart);
    __atomic_fetch_add(&finished, 1, __ATOMIC_ACQ_REL);
    for (;;)
        asm volatile("wfi");
}

static uint64_t pte(const void *p, uint64_t flags)
{
    return ((uint64_t)(uintptr_t)p >> 12) << 10 | flags;
}

int main(void)
{
    page_a[0] = VALUE_A;
    page_b[0] = VALUE_B;
    root[2] = (0x80000000ull >> 12) << 10 | PTE_V | PTE_RWX | PTE_AD;  /* identity */
    root[1] = pte(mid, PTE_V);
    mid[0] = pte(leaf, PTE_V);
    leaf[0] = pte(page_a, PTE_V | PTE_RW | PTE_AD);
    fence_all();

    rt_secondary_stacks = (uintptr_t)stacks;
    __atomic_store_n(&rt_secondary_entry, (uintptr_t)secondary, __ATOMIC_RELEASE);
    /* A software interrupt with MSIE = 0 ends a WFI that is already
     * waiting, not one a late hart has still to reach: knock until all
     * are in. */
    uint64_t deadline = clint_mtime() + DEADLINE;
    while (load(&arrived) != SMP_HARTS - 1) {
        for (unsigned h = 1; h < SMP_HARTS; h++)
            *(volatile uint32_t *)(uintptr_t)(CLINT_MSIP0 + 4 * h) = 1;
        CHECK(1, clint_mtime() < deadline);
    }

    contend();
    for (uint64_t gen = 1; gen <= GENERATIONS; gen++) {
        __atomic_store_n(&leaf[0], pte(gen % 2 ? page_b : page_a, PTE_V | PTE_RW | PTE_AD),
                         __ATOMIC_RELAXED);
        sfence_vma_all();
        __atomic_store_n(&pt_gen, gen, __ATOMIC_RELEASE);
        for (unsigned h = 1; h < SMP_HARTS; h++)
            wait_until(2, &acked[h], gen);
    }
    wait_until(3, &finished, SMP_HARTS - 1);

    for (unsigned h = 1; h < SMP_HARTS; h++) {
        CHECK_EQ(4, smp_trap_cause[h], 0);
        CHECK_EQ(5, wrong[h], 0);
        CHECK_EQ(6, garbage[h], 0);
    }
    CHECK_EQ(7, amo_count, (uint64_t)SMP_HARTS * AMO_ROUNDS);
    CHECK_EQ(8, amo_w_count, (uint64_t)SMP_HARTS * AMO_ROUNDS);
    CHECK_EQ(9, lrsc_count, (uint64_t)SMP_HARTS * AMO_ROUNDS);
    pass();
}
