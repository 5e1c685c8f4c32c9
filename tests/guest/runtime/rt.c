/* rt.c: HTIF console and exit, and the C half of the trap handlers of
 * umbra's bare-metal guest test runtime (see rt.h for the contract).
 *
 * HTIF: a write of (device << 56) | (command << 48) | payload to tohost asks
 * the host for a service. Device 0 command 0 with payload bit 0 set ends the
 * run with exit code payload >> 1; device 1 command 1 prints the payload's
 * low byte. The host clears tohost once it has taken the request and may
 * answer in fromhost.
 */
#include "rt.h"

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(64)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(64)));

volatile struct rt_trap_record rt_trap;
volatile int rt_skip_traps;
volatile uint64_t rt_recover_pc;
volatile int rt_recover_priv = PRV_M;
rt_hook_fn volatile rt_hook;

/* More traps than any test takes: a handler loop rather than a test. */
#define RT_TRAP_STORM_LIMIT 100000

/* ------------------------------------------------------------ HTIF */
static void htif_request(uint64_t value)
{
    tohost = value;
    /* Wait (boundedly: a host that answers synchronously never makes us
     * loop) for the host to take the request, then drop its answer. */
    for (unsigned spin = 0; spin < 100000 && tohost != 0; spin++)
        ;
    fromhost = 0;
}

void rt_putchar(int c)
{
    htif_request((1ull << 56) | (1ull << 48) | (uint8_t)c);
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putchar(*s++);
}

void rt_puthex(uint64_t v)
{
    rt_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        rt_putchar("0123456789abcdef"[(v >> shift) & 15]);
}

void rt_putdec(uint64_t v)
{
    char buf[24];
    int i = 0;
    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        rt_putchar(buf[--i]);
}

void rt_exit(uint64_t code)
{
    for (;;)
        tohost = (code << 1) | 1;
}

void pass(void)
{
    rt_puts("PASS\n");
    rt_exit(0);
}

void fail(unsigned n)
{
    rt_puts("FAIL ");
    rt_putdec(n);
    rt_putchar('\n');
    rt_exit(n);
}

void fail_eq(unsigned n, uint64_t got, uint64_t expected)
{
    rt_puts("check ");
    rt_putdec(n);
    rt_puts(": got ");
    rt_puthex(got);
    rt_puts(", expected ");
    rt_puthex(expected);
    rt_putchar('\n');
    fail(n);
}

/* ------------------------------------------------------------ traps */
static void report_trap(const char *what, uint64_t cause, uint64_t epc, uint64_t tval)
{
    rt_puts(what);
    rt_puts(": cause ");
    rt_puthex(cause);
    rt_puts(" epc ");
    rt_puthex(epc);
    rt_puts(" tval ");
    rt_puthex(tval);
    rt_putchar('\n');
}

void rt_nested_trap(int mode)
{
    if (mode == PRV_M)
        report_trap("trap inside the M handler", csr_read(mcause), csr_read(mepc), csr_read(mtval));
    else
        report_trap("trap inside the S handler", csr_read(scause), csr_read(sepc), csr_read(stval));
    rt_exit(RT_EXIT_NESTED_TRAP);
}

/* Instruction length from its low two bits (unprivileged spec 1.5). The S
 * handler may be skipping an instruction on a user or execute-only page, so
 * it reads with SUM and MXR set for the duration of the read. */
static uint64_t insn_length_at(uint64_t pc, bool supervisor)
{
    uint64_t saved = 0;
    if (supervisor)
        saved = csr_swap(sstatus, csr_read(sstatus) | MSTATUS_SUM | MSTATUS_MXR);
    uint16_t low = *(volatile uint16_t *)(uintptr_t)pc;
    if (supervisor)
        csr_write(sstatus, saved);
    return (low & 3) == 3 ? 4 : 2;
}

static void record(uint64_t cause, uint64_t epc, uint64_t tval, uint64_t status, uint64_t ip,
                   int handler, int from, long slot)
{
    rt_trap.cause = cause;
    rt_trap.epc = epc;
    rt_trap.tval = tval;
    rt_trap.status = status;
    rt_trap.ip = ip;
    rt_trap.handler = handler;
    rt_trap.from = from;
    rt_trap.slot = slot;
    rt_trap.count++;
    if (rt_trap.count > RT_TRAP_STORM_LIMIT) {
        report_trap("trap storm", cause, epc, tval);
        rt_exit(RT_EXIT_TRAP_STORM);
    }
}

static bool is_fetch_fault(uint64_t cause)
{
    return cause == CAUSE_MISALIGNED_FETCH || cause == CAUSE_FETCH_ACCESS ||
           cause == CAUSE_FETCH_PAGE_FAULT;
}

static bool is_return_request(const struct rt_frame *f, uint64_t cause)
{
    return (cause == CAUSE_ECALL_U || cause == CAUSE_ECALL_S) && f->x[17] == RT_RETURN_MAGIC;
}

void rt_trap_m(struct rt_frame *f, long slot)
{
    uint64_t cause = csr_read(mcause), epc = csr_read(mepc), tval = csr_read(mtval);
    uint64_t status = csr_read(mstatus);
    int from = (int)((status & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT);
    bool interrupt = cause >> 63;

    if (!interrupt && is_return_request(f, cause)) {
        /* Back to rt_run_at's caller in M-mode; a0 carries the result. */
        csr_write(mepc, (uintptr_t)rt_lower_resume);
        csr_set(mstatus, MSTATUS_MPP);
        return;
    }
    record(cause, epc, tval, status, csr_read(mip), PRV_M, from, slot);
    if (rt_hook && rt_hook(f))
        return;
    if (rt_recover_pc) {
        csr_write(mepc, rt_recover_pc);
        rt_recover_pc = 0;
        csr_clear(mstatus, MSTATUS_MPP);
        csr_set(mstatus, (uint64_t)rt_recover_priv << MSTATUS_MPP_SHIFT);
        return;
    }
    if (interrupt) {
        /* Nobody claimed it: mask it so it cannot fire forever. */
        csr_clear(mie, 1ull << (cause & 63));
        return;
    }
    if (!rt_skip_traps || is_fetch_fault(cause)) {
        report_trap("unexpected trap in M", cause, epc, tval);
        rt_exit(RT_EXIT_UNEXPECTED_TRAP);
    }
    csr_write(mepc, epc + insn_length_at(epc, false));
}

void rt_trap_s(struct rt_frame *f, long slot)
{
    uint64_t cause = csr_read(scause), epc = csr_read(sepc), tval = csr_read(stval);
    uint64_t status = csr_read(sstatus);
    int from = (status & MSTATUS_SPP) ? PRV_S : PRV_U;
    bool interrupt = cause >> 63;

    if (!interrupt && is_return_request(f, cause)) {
        /* A delegated U-mode return request: pass it on to M by ECALL.
         * This handler never returns, so first re-arm sscratch with the
         * handler stack's top, as the trap exit would have done. */
        csr_write(sscratch, (uintptr_t)__strap_stack_top);
        register uint64_t a0 asm("a0") = f->x[10];
        register uint64_t a7 asm("a7") = RT_RETURN_MAGIC;
        asm volatile("ecall" :: "r"(a0), "r"(a7) : "memory");
        for (;;)
            ;
    }
    record(cause, epc, tval, status, csr_read(sip), PRV_S, from, slot);
    if (rt_hook && rt_hook(f))
        return;
    if (rt_recover_pc) {
        csr_write(sepc, rt_recover_pc);
        rt_recover_pc = 0;
        if (rt_recover_priv == PRV_S)
            csr_set(sstatus, MSTATUS_SPP);
        else
            csr_clear(sstatus, MSTATUS_SPP);
        return;
    }
    if (interrupt) {
        csr_clear(sie, 1ull << (cause & 63));
        return;
    }
    if (!rt_skip_traps || is_fetch_fault(cause)) {
        report_trap("unexpected trap in S", cause, epc, tval);
        rt_exit(RT_EXIT_UNEXPECTED_TRAP);
    }
    csr_write(sepc, epc + insn_length_at(epc, true));
}

/* ------------------------------------------------ compiler support */
/* The compiler may emit calls to these for struct copies and zeroing. */
void *memset(void *dst, int c, unsigned long n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
