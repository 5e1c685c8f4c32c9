/* debug: stopping, stepping and inspecting harts for an external debugger.
 *
 * Owns the debugger's view of the harts: the breakpoint and watchpoint
 * sets, the all-stop handshake (one hart stops, every hart stops; a resume
 * tells each hart to stay, step one instruction or continue), the reason of
 * the last stop, and side-effect-free access to a stopped hart's registers,
 * CSRs and memory by virtual address.
 *
 * Two sides, two kinds of thread:
 *  - the hart side (debug_hart_slice, debug_note_access) runs on each hart's
 *    own thread, and only when the debugger asked for the hart's attention:
 *    run_batches in hart.c checks h->debug_attention once per poll boundary,
 *    so a machine without a debugger pays one relaxed load per thousand or
 *    so instructions. With attention set the hart runs one instruction at a
 *    time, checks the breakpoints before each, and parks when told to stop.
 *    While a watchpoint is set the hart keeps data pages out of its fast
 *    translation cache, so every load and store takes the slow path, where
 *    access.c reports it here; with none set that path costs nothing.
 *  - the debugger side (everything else) is called by the gdb stub in
 *    machine/ on its own thread. Registers, memory and the breakpoint sets
 *    may be touched only while debug_all_stopped() says every hart is
 *    parked: the hub's mutex orders those accesses with the harts' own.
 */
#ifndef UMBRA_CPU_DEBUG_H
#define UMBRA_CPU_DEBUG_H
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu/hart.h"

#define DEBUG_MAX_HARTS 64
#define DEBUG_MAX_BREAKPOINTS 64
#define DEBUG_MAX_WATCHPOINTS 16

/* Signal numbers of the remote protocol's stop replies (GDB's numbering). */
#define DEBUG_SIGINT 2
#define DEBUG_SIGTRAP 5

enum debug_watch_kind { DEBUG_WATCH_WRITE, DEBUG_WATCH_READ, DEBUG_WATCH_ACCESS };

/* What a parked hart does when the debugger resumes the machine. */
enum debug_action { DEBUG_STAY, DEBUG_STEP, DEBUG_CONTINUE };

/* Why the machine stopped: the first hart that stopped it decides. */
struct debug_stop {
    unsigned hart;              /* index of the hart that stopped first */
    int signal;                 /* DEBUG_SIGTRAP or DEBUG_SIGINT */
    bool watch_hit;             /* a watchpoint: kind and address below */
    enum debug_watch_kind watch_kind;
    uint64_t watch_addr;
};

struct debug_watchpoint {
    uint64_t addr, len;
    enum debug_watch_kind kind;
};

/* Per-hart state; the hart's thread owns the unlocked fields. */
struct debug_hart {
    bool parked;                /* hub lock: waiting in the all-stop state */
    enum debug_action action;   /* hub lock: set by the debugger at a resume */
    uint64_t resume_seen;       /* hub lock: last resume the hart acted on */
    bool present;               /* hub lock: inside hart_run (debug_hart_enter) */
    bool hold;                  /* hart thread: entered while told to stay: park */
    bool step_pending;          /* hart thread: execute one instruction, then stop */
    bool watch_hit;             /* hart thread: an access hit a watchpoint */
    enum debug_watch_kind hit_kind;
    uint64_t hit_addr;
};

struct debug_hub {
    struct hart *harts;
    unsigned nharts;
    _Atomic bool *halt;                 /* the machine's stop flag */

    pthread_mutex_t lock;
    pthread_cond_t hart_cond;           /* parked harts wait for a resume */
    pthread_cond_t stub_cond;           /* the debugger waits for every hart to park */
    bool stop_pending;                  /* all-stop in effect: every hart parks */
    _Atomic bool stop_flag;             /* the same, read by running harts */
    unsigned nparked;
    unsigned npresent;                  /* harts inside hart_run */
    uint64_t resume_count;
    struct debug_stop last;             /* valid once a stop happened */
    bool have_stop;
    struct debug_hart hs[DEBUG_MAX_HARTS];

    /* Changed only while every hart is parked, read by running harts. */
    uint64_t bp[DEBUG_MAX_BREAKPOINTS];
    unsigned nbp;
    struct debug_watchpoint wp[DEBUG_MAX_WATCHPOINTS];
    unsigned nwp;
};

/* ---- set-up (main thread, before the harts run) ---- */

/* Attach the hub to the harts (h->debug). With start_stopped (-S) the
 * harts park before their first instruction and the stop reads as a
 * SIGTRAP of hart 0. false if there are too many harts. */
bool debug_hub_init(struct debug_hub *d, struct hart *harts, unsigned nharts,
                    _Atomic bool *halt, bool start_stopped);
void debug_hub_destroy(struct debug_hub *d);

/* ---- debugger side ---- */

/* Ask every hart to stop (Ctrl-C, a debugger attaching); `signal` is the
 * reason reported unless a hart stops on its own first. */
void debug_request_stop(struct debug_hub *d, int signal);
/* Wait up to timeout_ms for every hart to park after a stop. true and the
 * stop reason when they have; false on timeout or when the machine halts. */
bool debug_wait_stopped(struct debug_hub *d, int timeout_ms, struct debug_stop *why);
bool debug_all_stopped(struct debug_hub *d);
/* Resume: action[i] for hart i. Returns false (nothing done) unless every
 * hart is parked. */
bool debug_resume(struct debug_hub *d, const enum debug_action *action);
/* Forget every breakpoint and watchpoint and let every hart run (detach). */
void debug_detach(struct debug_hub *d);

/* Breakpoints (hardware and software alike: umbra never patches guest
 * memory) and watchpoints; false when the set is full or the entry is
 * unknown. Only while every hart is parked. */
bool debug_add_breakpoint(struct debug_hub *d, uint64_t pc);
bool debug_remove_breakpoint(struct debug_hub *d, uint64_t pc);
bool debug_add_watchpoint(struct debug_hub *d, enum debug_watch_kind kind, uint64_t addr,
                          uint64_t len);
bool debug_remove_watchpoint(struct debug_hub *d, enum debug_watch_kind kind, uint64_t addr,
                             uint64_t len);

/* Memory as hart h sees it now: through its satp when it runs below M with
 * translation on, else physical. Page-table walks set no A/D bit and
 * nothing faults; only RAM is accessible. false if any byte is not. */
bool debug_read_memory(struct hart *h, uint64_t va, void *buf, size_t len);
bool debug_write_memory(struct hart *h, uint64_t va, const void *buf, size_t len);

/* A CSR by number, read or written as M-mode would, with the CSR file's
 * usual legalisation. false if the CSR does not exist. */
bool debug_read_csr(struct hart *h, unsigned csr, uint64_t *value);
bool debug_write_csr(struct hart *h, unsigned csr, uint64_t value);

/* ---- hart side (the hart's own thread) ---- */

/* Around hart_run on each hart thread (board.c). A hart outside hart_run
 * (not started yet, waiting for an SBI hart_start, halted) executes
 * nothing, so an all-stop does not wait for it to park; one that enters
 * during an all-stop parks before its first instruction. */
void debug_hart_enter(struct hart *h);
void debug_hart_leave(struct hart *h);

/* Run up to `budget` instructions under the debugger's eye, or park.
 * Called from the run loop while h->debug_attention is set. Returns the
 * number of instructions retired. */
uint64_t debug_hart_slice(struct hart *h, unsigned budget);

/* A data access of len bytes at va from the slow path (acc: ACCESS_READ or
 * ACCESS_WRITE); called only while h->debug_watching is set. */
void debug_note_access(struct hart *h, uint64_t va, unsigned len, enum access acc);
#endif
