/* sbi: umbra's own Supervisor Binary Interface (-bios builtin).
 *
 * With -bios builtin there is no firmware: umbra plays M-mode. Every hart
 * starts in S-mode with M-mode's set-up already done (delegation of every
 * exception and interrupt S handles, counters and Sstc enabled, PMP open),
 * hart 0 at the kernel entry with a0 = hartid and a1 = the device tree, the
 * others STOPPED in the sense of the HSM extension until a hart_start. An
 * ECALL from S-mode reaches sbi_ecall (through the hart's sbi_ecall hook)
 * instead of trapping to M, and is served here, in C.
 *
 * Implemented (SBI specification v2.0): Base, TIME, IPI, RFENCE (fence.i,
 * sfence.vma, sfence.vma with ASID; not the hypervisor fences), HSM (start,
 * stop, status, default retentive and non-retentive suspend), SRST, DBCN,
 * and the legacy extensions 0x00-0x08. Anything else returns
 * SBI_ERR_NOT_SUPPORTED. A remote SFENCE.VMA goes through the coherence
 * mechanism's remote fence (src/coherence/remote.c): queued for a parked
 * hart, waited for when the target is running.
 *
 * Threads: sbi_init and sbi_boot on the main thread while no hart runs;
 * sbi_hart_await_start and sbi_ecall on the hart's own thread. A call that
 * targets another hart touches it only through atomics, hart_set_irq /
 * hart_kick and the coherence mechanism.
 */
#ifndef UMBRA_MACHINE_SBI_H
#define UMBRA_MACHINE_SBI_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu/hart.h"
#include "mem/guest_mem.h"

#define SBI_MAX_HARTS 32

/* Specification v2.0: major in bits 30:24, minor in 23:0. */
#define SBI_SPEC_VERSION (2u << 24)
/* Implementation ID "UMBR", outside the IDs the specification assigns. */
#define SBI_IMPL_ID_UMBRA 0x554d4252ull
#define SBI_IMPL_VERSION 1

/* Extension IDs (SBI specification chapters 4-12). */
#define SBI_EXT_LEGACY_SET_TIMER 0x00
#define SBI_EXT_LEGACY_PUTCHAR 0x01
#define SBI_EXT_LEGACY_GETCHAR 0x02
#define SBI_EXT_LEGACY_CLEAR_IPI 0x03
#define SBI_EXT_LEGACY_SEND_IPI 0x04
#define SBI_EXT_LEGACY_FENCE_I 0x05
#define SBI_EXT_LEGACY_SFENCE_VMA 0x06
#define SBI_EXT_LEGACY_SFENCE_VMA_ASID 0x07
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494d45ull     /* "TIME" */
#define SBI_EXT_IPI 0x735049ull        /* "sPI" */
#define SBI_EXT_RFENCE 0x52464e43ull   /* "RFNC" */
#define SBI_EXT_HSM 0x48534dull        /* "HSM" */
#define SBI_EXT_SRST 0x53525354ull     /* "SRST" */
#define SBI_EXT_DBCN 0x4442434eull     /* "DBCN" */

/* Standard error codes (chapter 3). */
enum sbi_error {
    SBI_SUCCESS = 0,
    SBI_ERR_FAILED = -1,
    SBI_ERR_NOT_SUPPORTED = -2,
    SBI_ERR_INVALID_PARAM = -3,
    SBI_ERR_DENIED = -4,
    SBI_ERR_INVALID_ADDRESS = -5,
    SBI_ERR_ALREADY_AVAILABLE = -6,
    SBI_ERR_ALREADY_STARTED = -7,
    SBI_ERR_ALREADY_STOPPED = -8,
};

/* HSM hart states (chapter 9). */
enum sbi_hsm_state {
    SBI_HSM_STARTED = 0,
    SBI_HSM_STOPPED = 1,
    SBI_HSM_START_PENDING = 2,
    SBI_HSM_STOP_PENDING = 3,
    SBI_HSM_SUSPENDED = 4,
    SBI_HSM_SUSPEND_PENDING = 5,
    SBI_HSM_RESUME_PENDING = 6,
};

#define SBI_SUSPEND_RETENTIVE 0x00000000u
#define SBI_SUSPEND_NON_RETENTIVE 0x80000000u

#define SBI_RESET_SHUTDOWN 0
#define SBI_RESET_COLD_REBOOT 1
#define SBI_RESET_WARM_REBOOT 2
#define SBI_RESET_REASON_NONE 0
#define SBI_RESET_REASON_FAILURE 1

/* What the SBI needs from the machine around it. */
struct sbi_platform {
    void (*write)(void *ctx, const void *buf, size_t len);     /* console output */
    int (*getc)(void *ctx);                     /* console input: a byte, or -1 */
    /* SRST: reboot, or stop with exit_code. */
    void (*reset)(void *ctx, bool reboot, int exit_code);
    void *ctx;
};

struct sbi_hart {
    _Atomic int hsm;                /* enum sbi_hsm_state */
    uint64_t start_addr, start_arg; /* for a START_PENDING hart (or one suspended
                                       off a pool); under hsm_lock */
    bool resume_at_start;           /* suspended off a pool, non-retentive */
};

struct sbi {
    struct hart *harts;
    unsigned nharts;
    struct guest_mem *mem;
    struct sbi_platform plat;
    pthread_mutex_t hsm_lock;       /* serialises hart_start against each other */
    struct sbi_hart hart[SBI_MAX_HARTS];
};

/* Set up for nharts harts (at most SBI_MAX_HARTS) and install the ECALL
 * hook on each. */
void sbi_init(struct sbi *s, struct hart *harts, unsigned nharts, struct guest_mem *mem,
              struct sbi_platform plat);
void sbi_destroy(struct sbi *s);

/* The boot state (and the state after a guest reset): every hart reset and
 * set up in S-mode; hart 0 STARTED at `entry` with a0 = 0, a1 = fdt_addr,
 * the others STOPPED. */
void sbi_boot(struct sbi *s, uint64_t entry, uint64_t fdt_addr);

/* On hart h's own thread, before it runs: while h is STOPPED, wait (parked)
 * for a hart_start and then enter S-mode where it says. Returns false if
 * the machine halted first. */
bool sbi_hart_await_start(struct sbi *s, struct hart *h);

/* The pool's may_run (cpu/pool.h), on a worker under the pool's lock: false
 * while h is STOPPED; a START_PENDING hart is started (S-mode where its
 * hart_start said) and a SUSPENDED one resumed, and may run. `ctx` is the
 * struct sbi. On a pool, hart_stop and hart_suspend do not wait inside the
 * call: the hart leaves its worker at the block boundary instead. */
bool sbi_hart_may_run(void *ctx, struct hart *h);

/* The hart's ECALL hook (hart.h): serve the SBI call in a7/a6/a0..a5 from
 * S-mode. Always returns true: every call is answered, SBI_ERR_NOT_SUPPORTED
 * for what is not implemented. */
bool sbi_ecall(void *ctx, struct hart *h);

enum sbi_hsm_state sbi_hsm_state(const struct sbi *s, unsigned hartid);
#endif
