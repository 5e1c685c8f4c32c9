/* gdbstub: a GDB remote serial protocol server on a TCP socket (-s, -gdb
 * tcp::PORT, -S), so gdb or gdb-multiarch can debug the guest as it debugs
 * a QEMU guest: `target remote :1234`.
 *
 * Owns the listening socket, one connection at a time, the packet layer
 * (framing, checksums, acknowledgements, escapes, Ctrl-C) and the meaning
 * of each packet: registers (x0-x31 and pc in `g`; the FPU, the main CSRs
 * and QEMU's virtual "priv" register through `p`/`P`, described to gdb by
 * the target.xml served with qXfer), memory by virtual address, breakpoints
 * and watchpoints, stepping and continuing in all-stop mode, and one gdb
 * thread per hart (thread id = hart index + 1). What a hart does when it is
 * stopped or stepped lives in cpu/debug.h; this file only drives it.
 *
 * Threads: gdbstub_start and gdbstub_finish on the main thread (the board's
 * run); everything else on the stub's own thread. The packet helpers below
 * are pure functions, exposed for tests/unit/test_gdbstub.c.
 */
#ifndef UMBRA_MACHINE_GDBSTUB_H
#define UMBRA_MACHINE_GDBSTUB_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu/hart.h"

/* Largest packet payload umbra accepts and sends (announced as PacketSize). */
#define GDB_PACKET_SIZE 4096

/* What the stub needs from the machine. */
struct gdbstub_hooks {
    void (*kill)(void *ctx);    /* the debugger sent `k`: end the machine */
    void *ctx;
};

struct gdbstub;

/* Listen on host:port (host "" = every interface), take over the harts'
 * debug attention and start the stub's thread. With start_stopped (-S) no
 * hart executes an instruction before the debugger resumes it. NULL after
 * printing the reason on stderr (the port is taken, for example). */
struct gdbstub *gdbstub_start(const char *host, unsigned port, struct hart *harts,
                              unsigned nharts, _Atomic bool *halt, bool start_stopped,
                              struct gdbstub_hooks hooks);

/* The machine has stopped for good with exit_code: tell the debugger (a
 * `W` packet), close everything and free the stub. Harts must have left
 * hart_run. */
void gdbstub_finish(struct gdbstub *s, int exit_code);

/* ---- packet layer (pure) ---- */

/* Modulo-256 sum of the payload bytes, as sent after '#'. */
uint8_t gdb_checksum(const char *data, size_t len);

/* Frame payload as "$<escaped payload>#<checksum>": '$', '#', '}' and '*'
 * become '}' followed by the byte xor 0x20 (gdb reads '*' as run-length
 * encoding in any packet). Returns the frame's length, or 0 if it does not
 * fit in cap bytes. */
size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len);

/* Undo the '}' escapes of binary data (X packets) in place; returns the
 * decoded length. */
size_t gdb_unescape(char *data, size_t len);

/* The receiving side, fed one byte at a time. */
enum gdb_rx_event {
    GDB_RX_NONE,                /* byte consumed, nothing complete yet */
    GDB_RX_PACKET,              /* rx->buf holds a payload of rx->len bytes, NUL-terminated */
    GDB_RX_BAD_CHECKSUM,        /* a packet arrived damaged: answer '-' */
    GDB_RX_INTERRUPT,           /* Ctrl-C (0x03) outside a packet */
    GDB_RX_ACK,                 /* '+' */
    GDB_RX_NACK,                /* '-': resend the last packet */
};

struct gdb_rx {
    enum { GDB_RX_IDLE, GDB_RX_DATA, GDB_RX_SUM1, GDB_RX_SUM2 } state;
    char buf[GDB_PACKET_SIZE + 1];
    size_t len;
    bool overflow;
    uint8_t sum;                /* computed over the payload */
    uint8_t sent_sum;           /* from the two hex digits */
};

void gdb_rx_init(struct gdb_rx *rx);
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t byte);

/* The target description: riscv:rv64 with the core, FPU, CSR and virtual
 * features. Register numbers follow gdb's RISC-V numbering: x0-x31 0-31,
 * pc 32, f0-f31 33-64, CSR n at 65 + n, priv at 65 + 4096. Returns the
 * length written (NUL-terminated), or 0 if cap is too small. */
size_t gdb_target_xml(char *out, size_t cap);

#define GDB_REG_PC 32
#define GDB_REG_F0 33
#define GDB_REG_CSR0 65
#define GDB_REG_PRIV (GDB_REG_CSR0 + 4096)
#endif
