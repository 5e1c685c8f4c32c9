/* htif: Spike's host-target interface, for bare-metal test programs.
 *
 * When an ELF given with -bios or -kernel defines the symbols `tohost` (and
 * `fromhost`), umbra lays an MMIO window over those two 8-byte words of RAM.
 * A guest store to tohost is a command: bits 63:56 the device, 55:48 the
 * command, 47:0 the payload.
 *  - device 0, odd payload: the program is done; exit status payload >> 1
 *    (riscv-tests write 1 for pass, (n << 1) | 1 for failed test n);
 *  - device 0, even payload: the address of a syscall block (eight 64-bit
 *    words: number, arguments); write (64) to fd 1 or 2 and exit (93) are
 *    served, others answer -ENOSYS; the result goes to word 0 and fromhost
 *    becomes 1;
 *  - device 1, command 1: print the payload's low byte; fromhost then holds
 *    the acknowledgement (1 << 56 | 1 << 48 | 0x100 | byte).
 * tohost reads as 0 once a command is taken; the guest clears fromhost.
 *
 * Callers: the board creates it before harts start; the window's accesses
 * come from hart threads (serialised by the device's lock).
 */
#ifndef UMBRA_MACHINE_HTIF_H
#define UMBRA_MACHINE_HTIF_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "mem/guest_mem.h"

#define HTIF_SYS_WRITE 64
#define HTIF_SYS_EXIT 93

/* The program finished with this exit status. */
typedef void (*htif_exit_fn)(void *ctx, uint64_t code);
/* Output bytes of the program (device 1 and write(1/2, ...)). */
typedef void (*htif_output_fn)(void *ctx, const void *buf, size_t len);

struct htif;

struct htif_port {
    struct htif *htif;
    bool is_tohost;
};

struct htif {
    struct guest_mem *mem;
    uint64_t tohost_addr, fromhost_addr;
    bool has_fromhost;
    pthread_mutex_t lock;
    uint64_t tohost, fromhost;      /* the two words, under lock */
    htif_exit_fn on_exit;
    htif_output_fn output;
    void *ctx;
    struct htif_port port[2];
};

/* Map the windows. fromhost_addr is ignored unless has_fromhost. False if
 * the windows cannot be mapped (overlap with another window, table full). */
bool htif_init(struct htif *h, struct guest_mem *mem, uint64_t tohost_addr,
               bool has_fromhost, uint64_t fromhost_addr, htif_exit_fn on_exit,
               htif_output_fn output, void *ctx);
/* Both words back to zero (guest reset). */
void htif_reset(struct htif *h);

extern const struct mmio_ops htif_mmio_ops;
#endif
