/* gdb_guest.c: the bare-metal guest that tests/integration/gdb_baremetal.sh
 * debugs. Two harts start at _start in M-mode (-bios none). Hart 0 computes
 * a value the test knows independently (the sum of i*i for i = 1..100,
 * 338350), stores it in `magic`, passes it to checkpoint() (where the test
 * breaks), writes 42 and then 43 to `watched` (where the test watches), and
 * powers the machine off through the sifive,test device: exit status 0.
 * Hart 1 records its mhartid and counts forever, so the test can switch to
 * its thread and see hart 1's registers.
 */
#include <stdint.h>

#define SIFIVE_TEST 0x100000ul
#define TEST_PASS 0x5555u
#define STACK_BYTES 4096

volatile uint64_t magic;
volatile uint64_t limit = 100;
volatile uint32_t watched;
volatile uint64_t hart1_id = ~0ull;
volatile uint64_t hart1_counter;
uint8_t stacks[2][STACK_BYTES] __attribute__((aligned(16)));

void main0(void);
void main1(void);

__asm__(".section .text.start\n"
        ".globl _start\n"
        "_start:\n"
        "  csrr a0, mhartid\n"
        "  la sp, stacks\n"
        "  addi t0, a0, 1\n"
        "  slli t0, t0, 12\n"
        "  add sp, sp, t0\n"
        "  bnez a0, 1f\n"
        "  call main0\n"
        "1: call main1\n"
        "2: j 2b\n"
        ".text\n");

__attribute__((noinline)) void checkpoint(uint64_t value)
{
    magic = value;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void poke(uint32_t value)
{
    watched = value;
}

void main0(void)
{
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= limit; i++)
        sum += i * i;
    while (hart1_id == ~0ull)
        ;
    checkpoint(sum);
    poke(42);
    poke(43);
    *(volatile uint32_t *)SIFIVE_TEST = TEST_PASS;
    for (;;)
        ;
}

void main1(void)
{
    uint64_t id;
    __asm__ volatile("csrr %0, mhartid" : "=r"(id));
    hart1_id = id;
    for (;;)
        hart1_counter++;
}
