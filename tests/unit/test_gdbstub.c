/* test_gdbstub: the remote protocol's packet layer and target description
 * (machine/gdbstub.h), and the hart side of debugging (cpu/debug.h) on a
 * real hart thread.
 *
 * Packet layer, from the GDB manual's "Overview" of the remote protocol:
 * the checksum is the modulo-256 sum of the payload (the manual's example
 * "$OK#9a"), '$' '#' '}' '*' travel as '}' and the byte xor 0x20, Ctrl-C is
 * the byte 0x03 between packets. The hart side: a hart started stopped
 * parks before its first instruction; a breakpoint stops it with pc at the
 * breakpoint and the instruction there not executed; a step executes
 * exactly one instruction; a write watchpoint stops it after the store
 * with the stored value in memory; the quiet walk reads memory through a
 * hand-built Sv39 table.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "cpu/debug.h"
#include "cpu/hart.h"
#include "machine/gdbstub.h"
#include "mem/guest_mem.h"

/* ---------------------------------------------------------- framing */

static void test_checksum_and_frame(void)
{
    CHECK_EQ(gdb_checksum("OK", 2), 0x9a);
    CHECK_EQ(gdb_checksum("", 0), 0);
    char out[64];
    size_t n = gdb_frame(out, sizeof out, "OK", 2);
    CHECK_EQ(n, 6);
    CHECK(n == 6 && memcmp(out, "$OK#9a", 6) == 0);

    /* Every special byte escaped; the checksum covers the escaped form. */
    n = gdb_frame(out, sizeof out, "a$#}*", 5);
    const char *want = "$a}\x04}\x03}]}\x0a";
    size_t body = strlen(want);
    CHECK_EQ(n, body + 3);
    CHECK(memcmp(out, want, body) == 0);
    CHECK_EQ(out[body], '#');
    uint8_t sum = gdb_checksum(want + 1, body - 1);
    char hex[3];
    snprintf(hex, sizeof hex, "%02x", sum);
    CHECK(memcmp(out + body + 1, hex, 2) == 0);

    CHECK_EQ(gdb_frame(out, 5, "OK", 2), 0);      /* does not fit */
}

static void test_unescape(void)
{
    char data[] = "x}\x03y}]";
    size_t n = gdb_unescape(data, strlen(data));
    CHECK_EQ(n, 4);
    CHECK_EQ(data[0], 'x');
    CHECK_EQ(data[1], '#');
    CHECK_EQ(data[2], 'y');
    CHECK_EQ(data[3], '}');
    char data2[] = "}]}\x04";
    CHECK_EQ(gdb_unescape(data2, 4), 2);
    CHECK_EQ(data2[0], '}');
    CHECK_EQ(data2[1], '$');
}

static enum gdb_rx_event feed(struct gdb_rx *rx, const char *bytes, size_t len)
{
    enum gdb_rx_event last = GDB_RX_NONE;
    for (size_t i = 0; i < len; i++) {
        enum gdb_rx_event e = gdb_rx_byte(rx, (uint8_t)bytes[i]);
        if (e != GDB_RX_NONE)
            last = e;
    }
    return last;
}

static void test_receive(void)
{
    static struct gdb_rx rx;
    gdb_rx_init(&rx);
    CHECK_EQ(feed(&rx, "$qC#b4", 6), GDB_RX_PACKET);
    CHECK(strcmp(rx.buf, "qC") == 0);
    CHECK_EQ(feed(&rx, "$qC#b5", 6), GDB_RX_BAD_CHECKSUM);
    CHECK_EQ(feed(&rx, "$qC#zz", 6), GDB_RX_BAD_CHECKSUM);
    CHECK_EQ(gdb_rx_byte(&rx, 0x03), GDB_RX_INTERRUPT);
    CHECK_EQ(gdb_rx_byte(&rx, '+'), GDB_RX_ACK);
    CHECK_EQ(gdb_rx_byte(&rx, '-'), GDB_RX_NACK);
    /* Bytes inside a packet are data, even 0x03 and '+'. */
    char pkt[16] = "$a\x03+#";
    char sum[3];
    snprintf(sum, sizeof sum, "%02x", gdb_checksum("a\x03+", 3));
    strcat(pkt, sum);
    CHECK_EQ(feed(&rx, pkt, strlen(pkt)), GDB_RX_PACKET);
    CHECK_EQ(rx.len, 3);
    /* A frame produced by gdb_frame decodes back to its payload bytes. */
    char out[64];
    size_t n = gdb_frame(out, sizeof out, "X1,2:}*", 7);
    CHECK_EQ(feed(&rx, out, n), GDB_RX_PACKET);
    CHECK_EQ(gdb_unescape(rx.buf, rx.len), 7);
    CHECK(memcmp(rx.buf, "X1,2:}*", 7) == 0);
    /* An oversized packet is refused, not truncated silently. */
    gdb_rx_byte(&rx, '$');
    for (int i = 0; i < GDB_PACKET_SIZE + 10; i++)
        gdb_rx_byte(&rx, 'a');
    CHECK_EQ(feed(&rx, "#00", 3), GDB_RX_BAD_CHECKSUM);
}

static bool has(const char *xml, const char *s)
{
    return strstr(xml, s) != NULL;
}

static void test_target_xml(void)
{
    static char xml[16384];
    size_t n = gdb_target_xml(xml, sizeof xml);
    CHECK(n > 0 && n == strlen(xml));
    CHECK(has(xml, "<architecture>riscv:rv64</architecture>"));
    CHECK(has(xml, "org.gnu.gdb.riscv.cpu") && has(xml, "org.gnu.gdb.riscv.fpu"));
    CHECK(has(xml, "org.gnu.gdb.riscv.csr") && has(xml, "org.gnu.gdb.riscv.virtual"));
    CHECK(has(xml, "name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"32\""));
    CHECK(has(xml, "name=\"ft0\" bitsize=\"64\" type=\"ieee_double\" regnum=\"33\""));
    CHECK(has(xml, "name=\"t6\" bitsize=\"64\" type=\"int\" regnum=\"31\""));
    /* CSR n has gdb register number 65 + n. */
    CHECK(has(xml, "name=\"mstatus\" bitsize=\"64\" type=\"int\" regnum=\"833\""));  /* 0x300 */
    CHECK(has(xml, "name=\"satp\" bitsize=\"64\" type=\"int\" regnum=\"449\""));     /* 0x180 */
    CHECK(has(xml, "name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"68\""));
    CHECK(has(xml, "name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"4161\""));
    const char *csrs[] = { "mstatus", "misa", "mie", "mtvec", "mscratch", "mepc", "mcause",
                           "mtval", "mip", "sstatus", "sie", "stvec", "sscratch", "sepc",
                           "scause", "stval", "sip", "satp" };
    for (size_t i = 0; i < sizeof csrs / sizeof csrs[0]; i++) {
        char want[32];
        snprintf(want, sizeof want, "name=\"%s\"", csrs[i]);
        CHECK(has(xml, want));
    }
    CHECK_EQ(gdb_target_xml(xml, 100), 0);
}

/* ------------------------------------------------------- the hart side */

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define DATA (RAM_BASE + 0x1000)

static struct guest_mem mem;
static struct hart hart;
static _Atomic bool halt;
static struct debug_hub hub;

/* A hart thread as the board runs it. */
static void *run_hart(void *arg)
{
    debug_hart_enter(arg);
    hart_run(arg, 0);
    debug_hart_leave(arg);
    return NULL;
}

static void put32(uint64_t pa, uint32_t v)
{
    mem_copy_to_guest(&mem, pa, &v, 4);
}

/* The program: x5 = DATA; loop: x6 += 1; sw x6, 0(x5); j loop. */
static void load_program(void)
{
    put32(RAM_BASE + 0, 0x00001297);            /* auipc x5, 0x1   (x5 = DATA) */
    put32(RAM_BASE + 4, 0x00130313);            /* addi x6, x6, 1 */
    put32(RAM_BASE + 8, 0x0062a023);            /* sw x6, 0(x5) */
    put32(RAM_BASE + 12, 0xff9ff06f);           /* jal x0, -8 (back to the addi) */
}

static uint32_t get32(uint64_t pa)
{
    uint32_t v = 0;
    mem_copy_from_guest(&mem, &v, pa, 4);
    return v;
}

static void all(enum debug_action *a, enum debug_action what)
{
    for (unsigned i = 0; i < DEBUG_MAX_HARTS; i++)
        a[i] = what;
}

static void test_hart_side(void)
{
    CHECK(mem_init(&mem, RAM_BASE, RAM_SIZE) == 0);
    hart_init(&hart, 0, &mem, &halt);
    hart_reset(&hart, RAM_BASE);
    load_program();
    CHECK(debug_hub_init(&hub, &hart, 1, &halt, true));
    pthread_t t;
    pthread_create(&t, NULL, run_hart, &hart);

    struct debug_stop why;
    CHECK(debug_wait_stopped(&hub, 2000, &why));
    CHECK_EQ(hart.pc, RAM_BASE);                /* nothing ran */
    CHECK_EQ(why.signal, DEBUG_SIGTRAP);

    /* Breakpoint on the store: stops before it, with x6 already 1. */
    enum debug_action a[DEBUG_MAX_HARTS];
    all(a, DEBUG_CONTINUE);
    CHECK(debug_add_breakpoint(&hub, RAM_BASE + 8));
    CHECK(debug_resume(&hub, a));
    CHECK(debug_wait_stopped(&hub, 2000, &why));
    CHECK_EQ(hart.pc, RAM_BASE + 8);
    CHECK_EQ(hart.x[6], 1);
    CHECK_EQ(get32(DATA), 0);
    CHECK(!why.watch_hit);

    /* A step executes exactly the store. */
    all(a, DEBUG_STEP);
    CHECK(debug_resume(&hub, a));
    CHECK(debug_wait_stopped(&hub, 2000, &why));
    CHECK_EQ(hart.pc, RAM_BASE + 12);
    CHECK_EQ(get32(DATA), 1);

    /* Continue: the loop comes round to the breakpoint again. */
    all(a, DEBUG_CONTINUE);
    CHECK(debug_resume(&hub, a));
    CHECK(debug_wait_stopped(&hub, 2000, &why));
    CHECK_EQ(hart.pc, RAM_BASE + 8);
    CHECK_EQ(hart.x[6], 2);

    /* Write watchpoint, no breakpoint: stops after the store, value in memory. */
    CHECK(debug_remove_breakpoint(&hub, RAM_BASE + 8));
    CHECK(!debug_remove_breakpoint(&hub, RAM_BASE + 8));
    CHECK(debug_add_watchpoint(&hub, DEBUG_WATCH_WRITE, DATA, 4));
    CHECK(debug_resume(&hub, a));
    CHECK(debug_wait_stopped(&hub, 2000, &why));
    CHECK(why.watch_hit);
    CHECK_EQ(why.watch_addr, DATA);
    CHECK_EQ(why.watch_kind, DEBUG_WATCH_WRITE);
    CHECK_EQ(hart.pc, RAM_BASE + 12);
    CHECK_EQ(get32(DATA), 2);
    /* A read watchpoint elsewhere does not fire on this loop's store. */
    CHECK(debug_remove_watchpoint(&hub, DEBUG_WATCH_WRITE, DATA, 4));
    CHECK(debug_add_watchpoint(&hub, DEBUG_WATCH_READ, DATA, 4));

    /* Without breakpoints it runs at full speed until asked to stop. */
    CHECK(debug_resume(&hub, a));
    struct timespec ms = { 0, 20 * 1000 * 1000 };
    nanosleep(&ms, NULL);
    debug_request_stop(&hub, DEBUG_SIGINT);
    CHECK(debug_wait_stopped(&hub, 2000, &why));
    CHECK_EQ(why.signal, DEBUG_SIGINT);
    CHECK(!why.watch_hit);
    CHECK(hart.x[6] > 2);

    /* Memory through a hand-built Sv39 table: VA 0x40000000 (VPN2 = 1)
     * maps the 1 GiB gigapage at RAM_BASE, so va 0x40001000 is DATA. */
    uint64_t root = RAM_BASE + 0x10000;
    /* A and D clear: a debugger's walk must not set them (a hart's would). */
    uint64_t pte = (RAM_BASE >> 12) << 10 | PTE_V | PTE_R | PTE_W;
    mem_copy_to_guest(&mem, root + 1 * 8, &pte, 8);
    uint32_t got = 0;
    CHECK(debug_read_memory(&hart, DATA, &got, 4));     /* M-mode: physical */
    CHECK_EQ(got, get32(DATA));
    hart.satp = SATP_MODE_SV39 << SATP_MODE_SHIFT | (root >> 12);
    hart.priv = PRIV_S;
    got = 0;
    CHECK(debug_read_memory(&hart, 0x40001000ull, &got, 4));
    CHECK_EQ(got, get32(DATA));
    CHECK(!debug_read_memory(&hart, 0x80001000ull, &got, 4));   /* not mapped */
    uint32_t v = 0x5a5a1234;
    CHECK(debug_write_memory(&hart, 0x40001000ull, &v, 4));
    CHECK_EQ(get32(DATA), 0x5a5a1234);
    uint64_t pte_after = 0;
    mem_copy_from_guest(&mem, &pte_after, root + 1 * 8, 8);
    CHECK_EQ(pte_after, pte);
    hart.satp = 0;
    hart.priv = PRIV_M;

    uint64_t misa;
    CHECK(debug_read_csr(&hart, 0x301, &misa));
    CHECK_EQ(misa, hart.misa);

    atomic_store(&halt, true);
    pthread_join(t, NULL);
    debug_hub_destroy(&hub);
    hart_destroy(&hart);
    mem_destroy(&mem);
}

int main(void)
{
    test_checksum_and_frame();
    test_unescape();
    test_receive();
    test_target_xml();
    test_hart_side();
    return check_summary();
}
