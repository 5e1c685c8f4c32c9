/* gdbstub: the GDB remote serial protocol over TCP (see gdbstub.h).
 *
 * The protocol ("Remote Protocol" appendix of the GDB manual): packets
 * "$payload#xx" with a modulo-256 checksum, acknowledged with '+' or '-'
 * until gdb asks for QStartNoAckMode; Ctrl-C is the single byte 0x03.
 * In all-stop mode the stub answers packets only while every hart is
 * parked; while harts run it only watches for Ctrl-C and for the stop that
 * ends the run, which it reports with a T packet naming the hart (thread)
 * and, for a watchpoint, the watched address.
 */
#include "machine/gdbstub.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cpu/debug.h"

/* How long the stub sleeps in poll() before looking at the harts and the
 * machine again: the latency of a stop report. */
#define STUB_POLL_MS 10
#define MAX_MEM_BYTES ((GDB_PACKET_SIZE - 8) / 2)

/* ------------------------------------------------------- packet layer */

uint8_t gdb_checksum(const char *data, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    return sum;
}

static bool needs_escape(char c)
{
    return c == '$' || c == '#' || c == '}' || c == '*';
}

size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    uint8_t sum = 0;
    if (cap < 4)
        return 0;
    out[n++] = '$';
    for (size_t i = 0; i < len; i++) {
        char c = payload[i];
        if (n + 2 + 3 > cap)
            return 0;
        if (needs_escape(c)) {
            out[n++] = '}';
            sum = (uint8_t)(sum + '}');
            c = (char)(c ^ 0x20);
        }
        out[n++] = c;
        sum = (uint8_t)(sum + (uint8_t)c);
    }
    if (n + 3 > cap)
        return 0;
    out[n++] = '#';
    out[n++] = hex[sum >> 4];
    out[n++] = hex[sum & 15];
    return n;
}

size_t gdb_unescape(char *data, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '}' && i + 1 < len)
            data[n++] = (char)(data[++i] ^ 0x20);
        else
            data[n++] = data[i];
    }
    return n;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void gdb_rx_init(struct gdb_rx *rx)
{
    memset(rx, 0, sizeof *rx);
    rx->state = GDB_RX_IDLE;
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t byte)
{
    switch (rx->state) {
    case GDB_RX_IDLE:
        if (byte == '$') {
            rx->state = GDB_RX_DATA;
            rx->len = 0;
            rx->sum = 0;
            rx->overflow = false;
            return GDB_RX_NONE;
        }
        if (byte == 0x03)
            return GDB_RX_INTERRUPT;
        if (byte == '+')
            return GDB_RX_ACK;
        if (byte == '-')
            return GDB_RX_NACK;
        return GDB_RX_NONE;        /* noise between packets */
    case GDB_RX_DATA:
        if (byte == '#') {
            rx->state = GDB_RX_SUM1;
            return GDB_RX_NONE;
        }
        rx->sum = (uint8_t)(rx->sum + byte);
        if (rx->len < GDB_PACKET_SIZE)
            rx->buf[rx->len++] = (char)byte;
        else
            rx->overflow = true;
        return GDB_RX_NONE;
    case GDB_RX_SUM1: {
        int d = hex_digit(byte);
        rx->sent_sum = (uint8_t)((d < 0 ? 0 : d) << 4);
        rx->state = d < 0 ? GDB_RX_IDLE : GDB_RX_SUM2;
        return d < 0 ? GDB_RX_BAD_CHECKSUM : GDB_RX_NONE;
    }
    case GDB_RX_SUM2: {
        int d = hex_digit(byte);
        rx->state = GDB_RX_IDLE;
        if (d < 0 || (uint8_t)(rx->sent_sum | d) != rx->sum || rx->overflow)
            return GDB_RX_BAD_CHECKSUM;
        rx->buf[rx->len] = '\0';
        return GDB_RX_PACKET;
    }
    }
    return GDB_RX_NONE;
}

/* --------------------------------------------------- target description */

static const char *const x_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1", "a2", "a3",
    "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
    "t3", "t4", "t5", "t6",
};
static const char *const f_names[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
    "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
    "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

/* The CSRs in the csr feature (numbers from the privileged spec, table 2.2
 * to 2.5); fflags, frm and fcsr are in the fpu feature. */
static const struct { const char *name; unsigned num; } csr_list[] = {
    { "sstatus", 0x100 }, { "sie", 0x104 }, { "stvec", 0x105 }, { "sscratch", 0x140 },
    { "sepc", 0x141 }, { "scause", 0x142 }, { "stval", 0x143 }, { "sip", 0x144 },
    { "satp", 0x180 }, { "mstatus", 0x300 }, { "misa", 0x301 }, { "medeleg", 0x302 },
    { "mideleg", 0x303 }, { "mie", 0x304 }, { "mtvec", 0x305 }, { "mscratch", 0x340 },
    { "mepc", 0x341 }, { "mcause", 0x342 }, { "mtval", 0x343 }, { "mip", 0x344 },
    { "mhartid", 0xf14 },
};
#define CSR_FFLAGS 0x001
#define CSR_FRM 0x002
#define CSR_FCSR 0x003

struct text {
    char *out;
    size_t cap, len;
    bool overflow;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = t->len < t->cap ? t->cap - t->len : 0;
    int n = vsnprintf(t->out + t->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        t->overflow = true;
    else
        t->len += (size_t)n;
}

size_t gdb_target_xml(char *out, size_t cap)
{
    struct text t = { out, cap, 0, false };
    put(&t, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
            "<target version=\"1.0\">\n<architecture>riscv:rv64</architecture>\n");
    put(&t, "<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
    for (unsigned i = 0; i < 32; i++)
        put(&t, "<reg name=\"%s\" bitsize=\"64\" type=\"%s\" regnum=\"%u\"/>\n", x_names[i],
            i == 1 ? "code_ptr" : i == 2 ? "data_ptr" : "int", i);
    put(&t, "<reg name=\"pc\" bitsize=\"64\" type=\"code_ptr\" regnum=\"%d\"/>\n</feature>\n",
        GDB_REG_PC);
    put(&t, "<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
    for (unsigned i = 0; i < 32; i++)
        put(&t, "<reg name=\"%s\" bitsize=\"64\" type=\"ieee_double\" regnum=\"%u\"/>\n",
            f_names[i], GDB_REG_F0 + i);
    put(&t, "<reg name=\"fflags\" bitsize=\"32\" type=\"int\" regnum=\"%d\"/>\n"
            "<reg name=\"frm\" bitsize=\"32\" type=\"int\" regnum=\"%d\"/>\n"
            "<reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"%d\"/>\n</feature>\n",
        GDB_REG_CSR0 + CSR_FFLAGS, GDB_REG_CSR0 + CSR_FRM, GDB_REG_CSR0 + CSR_FCSR);
    put(&t, "<feature name=\"org.gnu.gdb.riscv.csr\">\n");
    for (size_t i = 0; i < sizeof csr_list / sizeof csr_list[0]; i++)
        put(&t, "<reg name=\"%s\" bitsize=\"64\" type=\"int\" regnum=\"%u\"/>\n",
            csr_list[i].name, GDB_REG_CSR0 + csr_list[i].num);
    put(&t, "</feature>\n<feature name=\"org.gnu.gdb.riscv.virtual\">\n"
            "<reg name=\"priv\" bitsize=\"64\" type=\"int\" regnum=\"%d\"/>\n</feature>\n"
            "</target>\n", GDB_REG_PRIV);
    return t.overflow ? 0 : t.len;
}

/* ------------------------------------------------------------ the stub */

struct gdbstub {
    struct debug_hub hub;
    struct gdbstub_hooks hooks;
    _Atomic bool *halt;
    int listen_fd, fd;
    pthread_t thread;
    bool thread_started;
    _Atomic bool finished;
    int exit_code;

    /* per connection */
    struct gdb_rx rx;
    bool noack, running, closing;
    unsigned g_hart, c_hart;    /* Hg: registers and memory; Hc: legacy c/s */
    char reply[2 * GDB_PACKET_SIZE + 64];
    size_t reply_len;
    char frame[4 * GDB_PACKET_SIZE + 160];
    size_t frame_len;
    char xml[16384];
    size_t xml_len;
};

static void send_bytes(struct gdbstub *s, const char *buf, size_t len)
{
    while (len && s->fd >= 0) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->closing = true;      /* the debugger went away */
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void send_packet(struct gdbstub *s, const char *payload, size_t len)
{
    s->frame_len = gdb_frame(s->frame, sizeof s->frame, payload, len);
    send_bytes(s, s->frame, s->frame_len);
}

static void reply_reset(struct gdbstub *s)
{
    s->reply_len = 0;
    s->reply[0] = '\0';
}

static void __attribute__((format(printf, 2, 3))) reply_add(struct gdbstub *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof s->reply - s->reply_len;
    int n = vsnprintf(s->reply + s->reply_len, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        s->reply_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void reply_hex(struct gdbstub *s, const void *data, size_t len)
{
    const uint8_t *b = data;
    for (size_t i = 0; i < len; i++)
        reply_add(s, "%02x", b[i]);
}

/* A little-endian register value of `bytes` bytes, as gdb expects it. */
static void reply_reg(struct gdbstub *s, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        reply_add(s, "%02x", (unsigned)(v >> (8 * i)) & 0xff);
}

/* Parse a hex number at *p, advancing it. false if there is none. */
static bool parse_hex(const char **p, uint64_t *v)
{
    uint64_t x = 0;
    const char *q = *p;
    int d;
    while ((d = hex_digit((unsigned char)*q)) >= 0) {
        x = x << 4 | (uint64_t)d;
        q++;
    }
    if (q == *p)
        return false;
    *p = q;
    *v = x;
    return true;
}

static bool parse_hex_bytes(const char *p, size_t nbytes, uint8_t *out)
{
    for (size_t i = 0; i < nbytes; i++) {
        int hi = hex_digit((unsigned char)p[2 * i]), lo = hi < 0 ? -1 : hex_digit((unsigned char)p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static uint64_t le_value(const uint8_t *b, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* Thread ids: hart index + 1; 0 = any, -1 = all. */
static bool parse_thread(struct gdbstub *s, const char *p, int *hart)
{
    if (!strcmp(p, "-1") || !strcmp(p, "0") || !*p) {
        *hart = -1;
        return true;
    }
    uint64_t tid;
    if (!parse_hex(&p, &tid) || *p || tid == 0 || tid > s->hub.nharts)
        return false;
    *hart = (int)tid - 1;
    return true;
}

/* ------------------------------------------------------------ registers */

static unsigned reg_size(unsigned regno)
{
    if (regno == GDB_REG_CSR0 + CSR_FFLAGS || regno == GDB_REG_CSR0 + CSR_FRM ||
        regno == GDB_REG_CSR0 + CSR_FCSR)
        return 4;
    return 8;
}

static bool read_reg(struct hart *h, unsigned regno, uint64_t *v)
{
    if (regno < 32)
        *v = regno ? h->x[regno] : 0;
    else if (regno == GDB_REG_PC)
        *v = h->pc;
    else if (regno < GDB_REG_CSR0)
        *v = h->f[regno - GDB_REG_F0];
    else if (regno == GDB_REG_CSR0 + CSR_FFLAGS)
        *v = h->fflags;
    else if (regno == GDB_REG_CSR0 + CSR_FRM)
        *v = h->frm;
    else if (regno == GDB_REG_CSR0 + CSR_FCSR)
        *v = (uint64_t)h->frm << 5 | h->fflags;
    else if (regno == GDB_REG_PRIV)
        *v = (uint64_t)h->priv;
    else if (regno < GDB_REG_PRIV)
        return debug_read_csr(h, regno - GDB_REG_CSR0, v);
    else
        return false;
    return true;
}

static bool write_reg(struct hart *h, unsigned regno, uint64_t v)
{
    if (regno < 32) {
        if (regno)
            h->x[regno] = v;
    } else if (regno == GDB_REG_PC) {
        h->pc = v;
    } else if (regno < GDB_REG_CSR0) {
        h->f[regno - GDB_REG_F0] = v;
    } else if (regno == GDB_REG_CSR0 + CSR_FFLAGS) {
        h->fflags = v & 0x1f;
    } else if (regno == GDB_REG_CSR0 + CSR_FRM) {
        h->frm = v & 7;
    } else if (regno == GDB_REG_CSR0 + CSR_FCSR) {
        h->fflags = v & 0x1f;
        h->frm = (v >> 5) & 7;
    } else if (regno == GDB_REG_PRIV) {
        if (v != PRIV_U && v != PRIV_S && v != PRIV_M)
            return false;
        h->priv = (enum priv)v;
        tlb_flush_all(&h->tlb);     /* the fast cache is per privilege context */
    } else if (regno < GDB_REG_PRIV) {
        return debug_write_csr(h, regno - GDB_REG_CSR0, v);
    } else {
        return false;
    }
    return true;
}

static struct hart *g_hart(struct gdbstub *s)
{
    return &s->hub.harts[s->g_hart];
}

static void cmd_read_all_regs(struct gdbstub *s)
{
    struct hart *h = g_hart(s);
    for (unsigned r = 0; r <= GDB_REG_PC; r++) {
        uint64_t v = 0;
        read_reg(h, r, &v);
        reply_reg(s, v, 8);
    }
}

static void cmd_write_all_regs(struct gdbstub *s, const char *p)
{
    struct hart *h = g_hart(s);
    size_t n = strlen(p) / 16;
    for (unsigned r = 0; r <= GDB_REG_PC && r < n; r++) {
        uint8_t b[8];
        if (!parse_hex_bytes(p + 16 * r, 8, b)) {
            reply_add(s, "E01");
            return;
        }
        write_reg(h, r, le_value(b, 8));
    }
    reply_add(s, "OK");
}

static void cmd_read_reg(struct gdbstub *s, const char *p)
{
    uint64_t regno, v;
    if (!parse_hex(&p, &regno) || *p || regno > GDB_REG_PRIV ||
        !read_reg(g_hart(s), (unsigned)regno, &v)) {
        reply_add(s, "E01");
        return;
    }
    reply_reg(s, v, reg_size((unsigned)regno));
}

static void cmd_write_reg(struct gdbstub *s, const char *p)
{
    uint64_t regno;
    uint8_t b[8] = { 0 };
    if (!parse_hex(&p, &regno) || *p++ != '=' || regno > GDB_REG_PRIV) {
        reply_add(s, "E01");
        return;
    }
    unsigned bytes = reg_size((unsigned)regno);
    if (strlen(p) != 2 * bytes || !parse_hex_bytes(p, bytes, b) ||
        !write_reg(g_hart(s), (unsigned)regno, le_value(b, bytes))) {
        reply_add(s, "E01");
        return;
    }
    reply_add(s, "OK");
}

/* --------------------------------------------------------------- memory */

/* "ADDR,LEN" followed by `end` (':' for M and X, NUL for m). */
static bool parse_addr_len(const char **p, uint64_t *addr, uint64_t *len, char end)
{
    return parse_hex(p, addr) && *(*p)++ == ',' && parse_hex(p, len) && **p == end;
}

static void cmd_read_memory(struct gdbstub *s, const char *p)
{
    uint64_t addr, len;
    uint8_t buf[MAX_MEM_BYTES];
    if (!parse_addr_len(&p, &addr, &len, '\0')) {
        reply_add(s, "E01");
        return;
    }
    if (len > sizeof buf)
        len = sizeof buf;
    if (!debug_read_memory(g_hart(s), addr, buf, (size_t)len)) {
        reply_add(s, "E14");
        return;
    }
    reply_hex(s, buf, (size_t)len);
}

static void cmd_write_memory(struct gdbstub *s, const char *p, bool binary, size_t packet_len,
                             char *packet)
{
    uint64_t addr, len;
    uint8_t buf[GDB_PACKET_SIZE];
    if (!parse_addr_len(&p, &addr, &len, ':') || len > sizeof buf) {
        reply_add(s, "E01");
        return;
    }
    p++;
    if (binary) {
        size_t off = (size_t)(p - packet);
        size_t n = gdb_unescape(packet + off, packet_len - off);
        if (n != len) {
            reply_add(s, "E01");
            return;
        }
        memcpy(buf, packet + off, n);
    } else if (strlen(p) != 2 * len || !parse_hex_bytes(p, (size_t)len, buf)) {
        reply_add(s, "E01");
        return;
    }
    if (len && !debug_write_memory(g_hart(s), addr, buf, (size_t)len)) {
        reply_add(s, "E14");
        return;
    }
    reply_add(s, "OK");
}

/* ------------------------------------------------ break and watchpoints */

/* Z/z TYPE,ADDR,KIND: 0 software and 1 hardware breakpoints share one
 * list (umbra never patches guest memory); 2, 3, 4 are write, read and
 * access watchpoints. */
static void cmd_point(struct gdbstub *s, const char *p, bool insert)
{
    uint64_t type, addr, len;
    if (!parse_hex(&p, &type) || *p++ != ',' || !parse_hex(&p, &addr) || *p++ != ',' ||
        !parse_hex(&p, &len) || (*p && *p != ';')) {
        reply_add(s, "E01");
        return;
    }
    bool ok;
    if (type <= 1) {
        ok = insert ? debug_add_breakpoint(&s->hub, addr) : debug_remove_breakpoint(&s->hub, addr);
    } else if (type <= 4) {
        static const enum debug_watch_kind kinds[] = {
            DEBUG_WATCH_WRITE, DEBUG_WATCH_READ, DEBUG_WATCH_ACCESS,
        };
        enum debug_watch_kind k = kinds[type - 2];
        ok = insert ? debug_add_watchpoint(&s->hub, k, addr, len)
                    : debug_remove_watchpoint(&s->hub, k, addr, len);
    } else {
        return;                     /* unsupported type: empty reply */
    }
    reply_add(s, ok ? "OK" : "E0E");
}

/* ----------------------------------------------------- running, stopping */

static void resume(struct gdbstub *s, const enum debug_action *action)
{
    /* A hart that entered hart_run during the stop parks at once; let it. */
    debug_wait_stopped(&s->hub, 1000, NULL);
    if (debug_resume(&s->hub, action))
        s->running = true;
    else
        reply_add(s, "E01");
}

/* c / s [ADDR]: continue every hart, or step the Hc hart alone. */
static void cmd_continue(struct gdbstub *s, const char *p, bool step)
{
    enum debug_action action[DEBUG_MAX_HARTS];
    uint64_t addr;
    if (parse_hex(&p, &addr))
        s->hub.harts[s->c_hart].pc = addr;
    for (unsigned i = 0; i < s->hub.nharts; i++)
        action[i] = step ? (i == s->c_hart ? DEBUG_STEP : DEBUG_STAY) : DEBUG_CONTINUE;
    resume(s, action);
}

/* vCont;ACTION[:TID];...: the leftmost action that names a thread applies
 * to it; threads no action names stay stopped. */
static void cmd_vcont(struct gdbstub *s, const char *p)
{
    enum debug_action action[DEBUG_MAX_HARTS];
    bool decided[DEBUG_MAX_HARTS] = { false };
    for (unsigned i = 0; i < s->hub.nharts; i++)
        action[i] = DEBUG_STAY;
    while (*p == ';') {
        p++;
        char kind = *p++;
        enum debug_action a;
        if (kind == 'c' || kind == 'C')
            a = DEBUG_CONTINUE;
        else if (kind == 's' || kind == 'S')
            a = DEBUG_STEP;
        else {
            reply_add(s, "E01");
            return;
        }
        uint64_t ignored_signal;
        if (kind == 'C' || kind == 'S')
            parse_hex(&p, &ignored_signal);
        int hart = -1;
        if (*p == ':') {
            char tid[24];
            size_t n = strcspn(++p, ";");
            if (n >= sizeof tid) {
                reply_add(s, "E01");
                return;
            }
            memcpy(tid, p, n);
            tid[n] = '\0';
            p += n;
            if (!parse_thread(s, tid, &hart)) {
                reply_add(s, "E01");
                return;
            }
        }
        for (unsigned i = 0; i < s->hub.nharts; i++)
            if ((hart < 0 || (unsigned)hart == i) && !decided[i]) {
                action[i] = a;
                decided[i] = true;
            }
    }
    resume(s, action);
}

static void send_stop_reply(struct gdbstub *s, const struct debug_stop *why)
{
    static const char *const watch_name[] = {
        [DEBUG_WATCH_WRITE] = "watch", [DEBUG_WATCH_READ] = "rwatch",
        [DEBUG_WATCH_ACCESS] = "awatch",
    };
    reply_reset(s);
    reply_add(s, "T%02xthread:%x;", why->signal, why->hart + 1);
    if (why->watch_hit)
        reply_add(s, "%s:%llx;", watch_name[why->watch_kind],
                  (unsigned long long)why->watch_addr);
    send_packet(s, s->reply, s->reply_len);
    s->g_hart = s->c_hart = why->hart;
}

/* ------------------------------------------------------- query packets */

static void cmd_xfer_features(struct gdbstub *s, const char *p)
{
    const char *name = "target.xml:";
    uint64_t off, len;
    if (strncmp(p, name, strlen(name)) != 0) {
        reply_add(s, "E00");
        return;
    }
    p += strlen(name);
    if (!parse_addr_len(&p, &off, &len, '\0')) {
        reply_add(s, "E01");
        return;
    }
    if (off >= s->xml_len) {
        reply_add(s, "l");
        return;
    }
    size_t n = s->xml_len - (size_t)off;
    if (len > GDB_PACKET_SIZE - 1)
        len = GDB_PACKET_SIZE - 1;
    bool last = n <= len;
    if (!last)
        n = (size_t)len;
    reply_add(s, "%c", last ? 'l' : 'm');
    memcpy(s->reply + s->reply_len, s->xml + off, n);   /* gdb_frame escapes it */
    s->reply_len += n;
}

static const char *priv_name(enum priv p)
{
    return p == PRIV_M ? "M-mode" : p == PRIV_S ? "S-mode" : "U-mode";
}

static void cmd_query(struct gdbstub *s, const char *p)
{
    if (!strncmp(p, "qSupported", 10)) {
        reply_add(s, "PacketSize=%x;qXfer:features:read+;vContSupported+;QStartNoAckMode+",
                  GDB_PACKET_SIZE);
    } else if (!strncmp(p, "qXfer:features:read:", 20)) {
        cmd_xfer_features(s, p + 20);
    } else if (!strcmp(p, "qAttached")) {
        reply_add(s, "1");
    } else if (!strcmp(p, "qC")) {
        reply_add(s, "QC%x", s->g_hart + 1);
    } else if (!strcmp(p, "qfThreadInfo")) {
        reply_add(s, "m");
        for (unsigned i = 0; i < s->hub.nharts; i++)
            reply_add(s, "%s%x", i ? "," : "", i + 1);
    } else if (!strcmp(p, "qsThreadInfo")) {
        reply_add(s, "l");
    } else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
        int hart;
        if (!parse_thread(s, p + 17, &hart) || hart < 0) {
            reply_add(s, "E01");
            return;
        }
        char text[64];
        int n = snprintf(text, sizeof text, "hart %d, %s", hart,
                         priv_name(s->hub.harts[hart].priv));
        reply_hex(s, text, (size_t)n);
    } else if (!strncmp(p, "qSymbol", 7)) {
        reply_add(s, "OK");
    }
    /* qOffsets, qTStatus and anything else: the empty "not supported". */
}

static void cmd_set_thread(struct gdbstub *s, const char *p)
{
    int hart;
    if (!parse_thread(s, p + 1, &hart)) {
        reply_add(s, "E01");
        return;
    }
    if (hart >= 0) {
        if (p[0] == 'g')
            s->g_hart = (unsigned)hart;
        else
            s->c_hart = (unsigned)hart;
    }
    reply_add(s, "OK");
}

static void handle_packet(struct gdbstub *s, char *packet, size_t len)
{
    const char *p = packet;
    reply_reset(s);
    switch (p[0]) {
    case '?': {
        struct debug_stop why = { 0 };
        debug_wait_stopped(&s->hub, 0, &why);
        why.watch_hit = false;
        send_stop_reply(s, &why);
        return;
    }
    case 'g': cmd_read_all_regs(s); break;
    case 'G': cmd_write_all_regs(s, p + 1); break;
    case 'p': cmd_read_reg(s, p + 1); break;
    case 'P': cmd_write_reg(s, p + 1); break;
    case 'm': cmd_read_memory(s, p + 1); break;
    case 'M': cmd_write_memory(s, p + 1, false, len, packet); break;
    case 'X': cmd_write_memory(s, p + 1, true, len, packet); break;
    case 'Z': cmd_point(s, p + 1, true); break;
    case 'z': cmd_point(s, p + 1, false); break;
    case 'H':
        if (p[1] == 'g' || p[1] == 'c')
            cmd_set_thread(s, p + 1);
        break;
    case 'T': {
        int hart;
        reply_add(s, parse_thread(s, p + 1, &hart) ? "OK" : "E01");
        break;
    }
    case 'c': cmd_continue(s, p + 1, false); break;
    case 's': cmd_continue(s, p + 1, true); break;
    case 'C': case 'S': {
        const char *rest = strchr(p, ';');      /* Csig[;addr]: the signal is dropped */
        cmd_continue(s, rest ? rest + 1 : "", p[0] == 'S');
        break;
    }
    case 'v':
        if (!strcmp(p, "vCont?"))
            reply_add(s, "vCont;c;C;s;S");
        else if (!strncmp(p, "vCont;", 6))
            cmd_vcont(s, p + 5);
        /* vMustReplyEmpty and every other v packet: empty */
        break;
    case 'q': cmd_query(s, p); break;
    case 'Q':
        if (!strcmp(p, "QStartNoAckMode")) {
            send_packet(s, "OK", 2);
            s->noack = true;
            return;
        }
        break;
    case 'D':
        send_packet(s, "OK", 2);
        debug_detach(&s->hub);
        s->closing = true;
        return;
    case 'k':
        fprintf(stderr, "umbra: terminated by the debugger\n");
        s->hooks.kill(s->hooks.ctx);
        s->closing = true;
        return;
    default:
        break;
    }
    if (!s->running)
        send_packet(s, s->reply, s->reply_len);
}

/* --------------------------------------------------------- connection */

static void handle_bytes(struct gdbstub *s, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n && !s->closing; i++) {
        switch (gdb_rx_byte(&s->rx, buf[i])) {
        case GDB_RX_PACKET:
            if (!s->noack)
                send_bytes(s, "+", 1);
            if (s->running)
                break;              /* all-stop: nothing but Ctrl-C while running */
            handle_packet(s, s->rx.buf, s->rx.len);
            break;
        case GDB_RX_BAD_CHECKSUM:
            if (!s->noack)
                send_bytes(s, "-", 1);
            break;
        case GDB_RX_NACK:
            if (!s->noack && s->frame_len)
                send_bytes(s, s->frame, s->frame_len);
            break;
        case GDB_RX_INTERRUPT:
            if (s->running)
                debug_request_stop(&s->hub, DEBUG_SIGINT);
            break;
        default:
            break;
        }
    }
}

/* Serve one debugger until it detaches, kills, disconnects or the
 * machine ends. A debugger attaching to a running machine stops it. */
static void serve(struct gdbstub *s)
{
    gdb_rx_init(&s->rx);
    s->noack = s->closing = false;
    s->g_hart = s->c_hart = 0;
    s->frame_len = 0;
    debug_request_stop(&s->hub, DEBUG_SIGTRAP);
    while (!debug_wait_stopped(&s->hub, 100, NULL))
        if (atomic_load(&s->finished))
            break;
    s->running = false;
    while (!s->closing) {
        if (atomic_load(&s->finished)) {
            char w[8];
            int n = snprintf(w, sizeof w, "W%02x", s->exit_code & 0xff);
            send_packet(s, w, (size_t)n);
            return;
        }
        struct debug_stop why;
        if (s->running && debug_wait_stopped(&s->hub, 0, &why)) {
            s->running = false;
            send_stop_reply(s, &why);
        }
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        if (poll(&pfd, 1, STUB_POLL_MS) <= 0)
            continue;
        uint8_t buf[1024];
        ssize_t n = recv(s->fd, buf, sizeof buf, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            break;                  /* the debugger closed the connection */
        }
        handle_bytes(s, buf, (size_t)n);
    }
}

/* After a connection ends, however it ended: the guest runs on without
 * the debugger's breakpoints and watchpoints, rather than stopping at one
 * later with nobody to resume it. */
static void release_machine(struct gdbstub *s)
{
    debug_request_stop(&s->hub, DEBUG_SIGTRAP);
    while (!debug_wait_stopped(&s->hub, 100, NULL))
        if (atomic_load(&s->finished) || atomic_load(s->halt))
            return;
    debug_detach(&s->hub);
}

static void *stub_thread(void *arg)
{
    struct gdbstub *s = arg;
    while (!atomic_load(&s->finished)) {
        struct pollfd pfd = { .fd = s->listen_fd, .events = POLLIN };
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        s->fd = fd;
        serve(s);
        close(fd);
        s->fd = -1;
        release_machine(s);
    }
    return NULL;
}

static int listen_on(const char *host, unsigned port)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res;
    char service[16];
    snprintf(service, sizeof service, "%u", port);
    int err = getaddrinfo(*host ? host : NULL, service, &hints, &res);
    if (err) {
        fprintf(stderr, "umbra: -gdb: cannot resolve '%s': %s\n", host, gai_strerror(err));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 1) != 0) {
            saved = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        fprintf(stderr, "umbra: -gdb: cannot listen on %s:%u: %s\n", *host ? host : "*", port,
                strerror(saved));
    return fd;
}

struct gdbstub *gdbstub_start(const char *host, unsigned port, struct hart *harts,
                              unsigned nharts, _Atomic bool *halt, bool start_stopped,
                              struct gdbstub_hooks hooks)
{
    struct gdbstub *s = calloc(1, sizeof *s);
    if (!s) {
        fprintf(stderr, "umbra: out of memory\n");
        return NULL;
    }
    s->hooks = hooks;
    s->halt = halt;
    s->fd = -1;
    s->xml_len = gdb_target_xml(s->xml, sizeof s->xml);
    s->listen_fd = listen_on(host, port);
    if (s->listen_fd < 0) {
        free(s);
        return NULL;
    }
    if (!debug_hub_init(&s->hub, harts, nharts, halt, start_stopped)) {
        fprintf(stderr, "umbra: -gdb: too many harts\n");
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    if (pthread_create(&s->thread, NULL, stub_thread, s) != 0) {
        fprintf(stderr, "umbra: cannot start the gdb stub's thread\n");
        debug_hub_destroy(&s->hub);
        close(s->listen_fd);
        free(s);
        return NULL;
    }
    fprintf(stderr, "umbra: gdb stub listening on tcp:%s:%u%s\n", host, port,
            start_stopped ? " (harts wait for the debugger)" : "");
    return s;
}

void gdbstub_finish(struct gdbstub *s, int exit_code)
{
    if (!s)
        return;
    s->exit_code = exit_code;
    atomic_store(&s->finished, true);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
    debug_hub_destroy(&s->hub);
    free(s);
}
