/* test_icache: the decoded-code cache (cpu/icache.h) as the guest sees it.
 *
 * Code is decoded once per guest-physical page and kept until the hart's
 * own FENCE.I (unprivileged spec, "Zifencei"), so:
 *  - a store to code, by this hart or another, reaches this hart's fetches
 *    at its next FENCE.I; until then the hart may run the old instruction
 *    (umbra does: these tests see the old result first, which shows the
 *    cache is really in use and the FENCE.I really drops it);
 *  - a device or loader write to code is seen at the next instruction;
 *  - the cache follows the physical page, so remapping a virtual page to
 *    another frame and executing SFENCE.VMA runs the other frame's code;
 *  - instructions that straddle a page, and counters read in the middle
 *    of a run of instructions, come out as they would one at a time;
 *  - frames that fall in one set of the cache share it: the least recently
 *    used page of a full set is the one that goes.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/access.h"
#include "cpu/hart.h"
#include "mem/guest_mem.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define CODE RAM_BASE                   /* the instruction that gets replaced */
#define OTHER (RAM_BASE + 0x100)        /* the second hart's code */
#define PT (RAM_BASE + 0x10000)         /* Sv39 root, then level 1, level 0 */
#define FRAME_1 (RAM_BASE + 0x20000)
#define FRAME_2 (RAM_BASE + 0x21000)
#define FRAME_FENCE (RAM_BASE + 0x22000)
#define VA_CODE 0x10000ull
#define VA_FENCE 0x11000ull

static struct guest_mem mem;

/* ------------------------------------------------------------ encodings */

static uint32_t addi(unsigned rd, unsigned rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13;
}

static uint32_t sw(unsigned rs2, unsigned rs1, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | 2u << 12 | (u & 0x1f) << 7 | 0x23;
}

static uint32_t csrrs(unsigned rd, unsigned csr, unsigned rs1)
{
    return csr << 20 | rs1 << 15 | 2u << 12 | rd << 7 | 0x73;
}

#define FENCE_I 0x0000100fu
#define SFENCE_VMA 0x12000073u
#define C_ADDI_X5_1 0x0285u             /* c.addi x5, 1 */
#define CSR_MINSTRET 0xb02
#define CSR_MCYCLE 0xb00

static void put32(uint64_t pa, uint32_t w) { mem_copy_to_guest(&mem, pa, &w, 4); }
static void put16(uint64_t pa, uint16_t w) { mem_copy_to_guest(&mem, pa, &w, 2); }
static void put64(uint64_t pa, uint64_t w) { mem_copy_to_guest(&mem, pa, &w, 8); }
static uint32_t get32(uint64_t pa)
{
    uint32_t v = 0;
    mem_copy_from_guest(&mem, &v, pa, 4);
    return v;
}

static void fresh_memory(void)
{
    if (mem.ram)
        mem_destroy(&mem);
    if (mem_init(&mem, RAM_BASE, RAM_SIZE) != 0)
        exit(2);
}

static struct hart *new_hart(unsigned id)
{
    struct hart *h = malloc(sizeof *h);
    if (!h)
        exit(2);
    hart_init(h, id, &mem, NULL);
    hart_reset(h, CODE);
    return h;
}

static void free_hart(struct hart *h)
{
    hart_destroy(h);
    free(h);
}

/* Run the one instruction at pc. */
static void step_at(struct hart *h, uint64_t pc)
{
    h->pc = pc;
    hart_step(h);
}

/* ------------------------------------------------------------ tests */

/* CODE: addi x5, x0, 1; sw x6, 0(x7) with x7 = CODE, x6 = "addi x5, x0, 2";
 * fence.i. The store replaces the first instruction. */
static void test_own_store_then_fence_i(void)
{
    fresh_memory();
    put32(CODE, addi(5, 0, 1));
    put32(CODE + 4, sw(6, 7, 0));
    put32(CODE + 8, FENCE_I);
    struct hart *h = new_hart(0);
    h->x[6] = addi(5, 0, 2);
    h->x[7] = CODE;

    step_at(h, CODE);
    CHECK_EQ(h->x[5], 1);
    step_at(h, CODE + 4);
    CHECK_EQ(get32(CODE), addi(5, 0, 2));   /* memory has the new instruction */
    step_at(h, CODE);
    CHECK_EQ(h->x[5], 1);                   /* no FENCE.I yet: the decoded one */
    step_at(h, CODE + 8);
    step_at(h, CODE);
    CHECK_EQ(h->x[5], 2);                   /* after FENCE.I: the new one */
    CHECK_EQ(h->minstret, 5);
    free_hart(h);
}

/* Hart 1 stores over hart 0's code; hart 0 sees it after its own FENCE.I
 * (the store is ordered before it here by program order of the test). */
static void test_other_hart_store_then_fence_i(void)
{
    fresh_memory();
    put32(CODE, addi(5, 0, 1));
    put32(CODE + 4, addi(0, 0, 0));
    put32(CODE + 8, FENCE_I);
    put32(OTHER, sw(6, 7, 0));
    put32(OTHER + 4, FENCE_I);
    struct hart *h0 = new_hart(0), *h1 = new_hart(1);
    h1->x[6] = addi(5, 0, 3);
    h1->x[7] = CODE;

    step_at(h0, CODE);                      /* a fast-cache miss: fills it */
    step_at(h0, CODE + 4);                  /* decodes the page */
    CHECK_EQ(h0->x[5], 1);
    step_at(h1, OTHER);
    CHECK_EQ(get32(CODE), addi(5, 0, 3));
    step_at(h0, CODE);
    CHECK_EQ(h0->x[5], 1);                  /* hart 0 has not fenced */
    step_at(h0, CODE + 8);
    step_at(h0, CODE);
    CHECK_EQ(h0->x[5], 3);

    /* a FENCE.I on hart 1 does nothing for hart 0 */
    h1->x[6] = addi(5, 0, 4);
    step_at(h1, OTHER);
    step_at(h1, OTHER + 4);
    step_at(h0, CODE);
    CHECK_EQ(h0->x[5], 3);
    step_at(h0, CODE + 8);
    step_at(h0, CODE);
    CHECK_EQ(h0->x[5], 4);
    free_hart(h0);
    free_hart(h1);
}

/* A device (or loader, or debugger) writing code is seen at the very next
 * instruction: no guest FENCE.I orders those writes. */
static void test_device_write(void)
{
    fresh_memory();
    put32(CODE, addi(5, 0, 1));
    struct hart *h = new_hart(0);
    step_at(h, CODE);
    CHECK_EQ(h->x[5], 1);
    put32(CODE, addi(5, 0, 7));
    step_at(h, CODE);
    CHECK_EQ(h->x[5], 7);
    CHECK(h->icache.stats.syncs >= 1);
    free_hart(h);
}

static void map_page(uint64_t va, uint64_t pa)
{
    const uint64_t leaf = PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    put64(PT + 0x2000 + ((va >> 12) & 511) * 8, (pa >> 12) << 10 | leaf);
}

/* S-mode under Sv39: VA_CODE maps FRAME_1, then FRAME_2 after SFENCE.VMA. */
static void test_remap_then_sfence(void)
{
    fresh_memory();
    put64(PT, ((PT + 0x1000) >> 12) << 10 | PTE_V);
    put64(PT + 0x1000, ((PT + 0x2000) >> 12) << 10 | PTE_V);
    map_page(VA_CODE, FRAME_1);
    map_page(VA_FENCE, FRAME_FENCE);
    put32(FRAME_1, addi(5, 0, 1));
    put32(FRAME_2, addi(5, 0, 2));
    put32(FRAME_FENCE, SFENCE_VMA);
    struct hart *h = new_hart(0);
    h->pmp.cfg[0] = PMP_A_NAPOT | PMP_R | PMP_W | PMP_X;
    h->pmp.addr[0] = (1ull << 54) - 1;
    h->satp = SATP_MODE_SV39 << SATP_MODE_SHIFT | PT >> 12;
    h->priv = PRIV_S;

    step_at(h, VA_CODE);
    CHECK_EQ(h->x[5], 1);
    map_page(VA_CODE, FRAME_2);
    step_at(h, VA_FENCE);
    CHECK_EQ(h->pc, VA_FENCE + 4);
    step_at(h, VA_CODE);
    CHECK_EQ(h->x[5], 2);
    /* and back: FRAME_1's decoded page is still right */
    map_page(VA_CODE, FRAME_1);
    step_at(h, VA_FENCE);
    step_at(h, VA_CODE);
    CHECK_EQ(h->x[5], 1);
    CHECK_EQ(h->priv, PRIV_S);
    free_hart(h);
}

/* A run of instructions through a page boundary, with a 32-bit
 * instruction straddling it, as one block (hart_run). */
static void test_straddle_in_a_block(void)
{
    fresh_memory();
    uint64_t p = RAM_BASE + 0x1ff8;
    put32(p, addi(5, 0, 1));
    put16(p + 4, C_ADDI_X5_1);
    put32(p + 6, addi(5, 5, 4));            /* bytes 0x1ffe..0x2001 */
    put16(p + 10, C_ADDI_X5_1);
    struct hart *h = new_hart(0);
    h->pc = p;
    CHECK_EQ(hart_run(h, 4), 4);
    CHECK_EQ(h->x[5], 7);
    CHECK_EQ(h->pc, p + 12);
    CHECK_EQ(h->minstret, 4);
    free_hart(h);
}

/* Counters inside a block: a CSR read sees every instruction before it;
 * mcountinhibit.IR stops minstret while mcycle goes on (privileged spec
 * 3.1.11-3.1.13). */
static void test_counters_in_a_block(void)
{
    fresh_memory();
    for (unsigned i = 0; i < 3; i++)
        put32(CODE + 4 * i, addi(5, 5, 1));
    put32(CODE + 12, csrrs(6, CSR_MINSTRET, 0));
    put32(CODE + 16, addi(5, 5, 1));
    put32(CODE + 20, addi(5, 5, 1));
    put32(CODE + 24, csrrs(7, CSR_MCYCLE, 0));
    put32(CODE + 28, csrrs(8, CSR_MINSTRET, 0));
    struct hart *h = new_hart(0);
    CHECK_EQ(hart_run(h, 6), 6);
    CHECK_EQ(h->x[6], 3);
    CHECK_EQ(h->minstret, 6);
    h->mcountinhibit = 0x4;                 /* IR */
    CHECK_EQ(hart_run(h, 2), 2);
    CHECK_EQ(h->x[7], 6);
    CHECK_EQ(h->x[8], 6);                   /* minstret did not count the mcycle read */
    CHECK_EQ(h->minstret, 6);
    CHECK_EQ(h->minstret + h->mcycle_offset, 8);    /* mcycle counted both */
    free_hart(h);
}

/* Five frames one cache span apart all fall in one set. The first four
 * fill it; after the first is used again, the fifth must replace the
 * second (the least recently used), and the first must still be there with
 * its decoded slot, not a fresh snapshot. */
static void test_set_replacement(void)
{
    struct guest_mem big;
    const uint64_t span = (uint64_t)ICACHE_SETS * PAGE_SIZE;
    if (mem_init(&big, RAM_BASE, (ICACHE_WAYS + 1) * span) != 0)
        exit(2);
    struct icache c;
    icache_init(&c, &big);
    struct icache_page *page[ICACHE_WAYS + 1];
    const struct icache_page *evicted;
    for (unsigned k = 0; k <= ICACHE_WAYS; k++) {
        uint32_t w = addi(5, 0, (int32_t)k + 1);
        mem_copy_to_guest(&big, RAM_BASE + k * span, &w, 4);
    }
    for (unsigned k = 0; k < ICACHE_WAYS; k++) {
        page[k] = icache_page_for(&c, RAM_BASE + k * span, &evicted);
        CHECK(page[k] != NULL && evicted == NULL);
        CHECK(page[k] && icache_decode_slot(page[k], 0) && page[k]->slot[0].imm == (int32_t)k + 1);
    }
    CHECK(icache_page_for(&c, RAM_BASE, &evicted) == page[0] && evicted == NULL);
    page[ICACHE_WAYS] = icache_page_for(&c, RAM_BASE + ICACHE_WAYS * span, &evicted);
    CHECK(evicted == page[1] && page[ICACHE_WAYS] == page[1]);
    CHECK(page[1]->slot[0].len == 0);   /* emptied for the new frame */
    CHECK(icache_decode_slot(page[1], 0) && page[1]->slot[0].imm == ICACHE_WAYS + 1);
    CHECK(icache_page_for(&c, RAM_BASE, &evicted) == page[0] && evicted == NULL);
    CHECK(page[0]->slot[0].len == 4 && page[0]->slot[0].imm == 1);
    CHECK_EQ(c.stats.pages_made, ICACHE_WAYS + 1);
    CHECK_EQ(c.stats.pages_evicted, 1);
    icache_destroy(&c);
    mem_destroy(&big);
}

int main(void)
{
    test_own_store_then_fence_i();
    test_other_hart_store_then_fence_i();
    test_device_write();
    test_remap_then_sfence();
    test_straddle_in_a_block();
    test_counters_in_a_block();
    test_set_replacement();
    mem_destroy(&mem);
    return check_summary();
}
