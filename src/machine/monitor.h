/* monitor: the `(umbra) ` command prompt behind the console's Ctrl-A C, as
 * QEMU's monitor sits behind its -nographic console.
 *
 * Owns the command line being typed (echo, backspace, Enter) and the
 * commands: `info registers [N]`, `info stats`, `info shadow [N]`, `help`,
 * `quit` (or `q`). Commands are parsed from a plain string and write to a
 * FILE, so tests drive them without a terminal (tests/unit/test_monitor.c).
 *
 * Reading another hart's registers or shadow table while it runs would
 * race with it, so every command that looks at harts first pauses the
 * machine through the target's pause hook (the board stops every hart at
 * an instruction boundary) and resumes it afterwards. Without a pause hook
 * (unit tests, where no hart runs) the state is read directly.
 *
 * Threads: the console's reader thread (monitor_feed / monitor_execute),
 * never a hart thread.
 */
#ifndef UMBRA_MACHINE_MONITOR_H
#define UMBRA_MACHINE_MONITOR_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "coherence/coherence.h"
#include "cpu/hart.h"

#define MONITOR_PROMPT "(umbra) "
#define MONITOR_LINE_MAX 256

/* What the monitor inspects and how it stops and restarts it. */
struct monitor_target {
    struct hart *harts;
    unsigned nharts;
    struct coherence *co;               /* NULL: no shadow tables */
    /* Stop every hart at an instruction boundary and wait until they are
     * stopped; false if the machine is stopping for good instead. */
    bool (*pause)(void *ctx);
    void (*resume)(void *ctx);
    void *ctx;
};

enum monitor_result {
    MONITOR_CONTINUE,           /* stay at the prompt */
    MONITOR_QUIT,               /* `quit`: umbra exits with status 0 */
};

struct monitor {
    struct monitor_target target;
    char line[MONITOR_LINE_MAX];
    size_t len;
    bool after_cr;              /* CR LF is one Enter */
};

void monitor_init(struct monitor *m, const struct monitor_target *target);

/* Run one command line; its output goes to out. */
enum monitor_result monitor_execute(struct monitor *m, const char *line, FILE *out);

/* One typed byte: printable bytes are echoed and added to the line,
 * backspace/DEL erases, CR or LF runs the line and prints the next prompt. */
enum monitor_result monitor_feed(struct monitor *m, uint8_t byte, FILE *out);

/* The banner and first prompt shown when the console switches to the monitor. */
void monitor_enter(struct monitor *m, FILE *out);
#endif
