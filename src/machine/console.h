/* console: umbra's stdin and stdout, the far end of the guest's UART and HTIF.
 *
 * Owns the terminal: when stdin is a terminal it is put in raw mode (no
 * echo, no line editing, no signals from Ctrl-C: those keys belong to the
 * guest, as with `qemu -nographic`) and restored on every way out: normal
 * exit, error exit (atexit), and SIGINT/SIGTERM/SIGHUP/SIGQUIT. Owns the
 * host's termination signals too: SIGINT, SIGTERM and SIGHUP end the run
 * the way Ctrl-A X does (as QEMU ends on them), so --stats, --profile and
 * the exit status come out as usual; a second one ends umbra at once. And
 * owns the escape key: Ctrl-A X quits (status 0), Ctrl-A H lists the keys,
 * Ctrl-A C switches the input between the guest and the monitor
 * (machine/monitor.h), Ctrl-A Ctrl-A sends one Ctrl-A. As in QEMU's stdio
 * multiplexer, the escape works whether or not stdin is a terminal. EOF on
 * stdin just stops input.
 *
 * Threads: console_catch_signals, console_init and console_start_input on
 * the main thread; one reader thread (started here) delivers input bytes,
 * one signal thread waits for the termination signals; console_write from
 * any thread (hart threads, through the UART's transmit callback).
 */
#ifndef UMBRA_MACHINE_CONSOLE_H
#define UMBRA_MACHINE_CONSOLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_ESCAPE 0x01         /* Ctrl-A */

/* Hand one input byte to the guest. Returns false when the guest cannot take
 * it yet (receive FIFO full); the reader then retries shortly, so pasted
 * text is not lost. */
typedef bool (*console_input_fn)(void *ctx, uint8_t byte);
/* Ctrl-A X: the user asked to quit. */
typedef void (*console_quit_fn)(void *ctx);

/* From now on SIGINT, SIGTERM and SIGHUP call `quit` (on the signal
 * thread, after a line on stderr naming the signal and its sender); a
 * second one restores the terminal and takes the signal's default action.
 * Call before any other thread starts: the signals are blocked in the
 * calling thread, and every thread it starts afterwards inherits that.
 * Returns false (signals left as they were) if the thread cannot start. */
bool console_catch_signals(console_quit_fn quit, void *ctx);

/* The monitor behind Ctrl-A C: `enter` shows its prompt; `feed` takes each
 * byte typed while it is active and returns false when the user asked to
 * quit. Both run on the reader thread. */
struct console_monitor_hooks {
    void (*enter)(void *ctx);
    bool (*feed)(void *ctx, uint8_t byte);
    void *ctx;
};

/* Raw mode if stdin is a terminal, restore hooks, SIGPIPE ignored. Idempotent. */
void console_init(void);
/* Start the reader thread. */
bool console_start_input(console_input_fn input, console_quit_fn quit, void *ctx);
/* Give Ctrl-A C a monitor; before console_start_input. Without one, Ctrl-A C
 * says there is none. */
void console_set_monitor(const struct console_monitor_hooks *hooks);
/* Write guest output to stdout now (no buffering). */
void console_write(const void *buf, size_t len);
void console_putc(uint8_t byte);
/* Put the terminal back as it was. Idempotent and async-signal-safe. */
void console_restore(void);

/* The escape-key state machine, exposed for tests. */
enum console_action {
    CONSOLE_NOTHING,            /* byte consumed (first Ctrl-A, or an unknown escape) */
    CONSOLE_DELIVER,            /* give *out to the guest */
    CONSOLE_QUIT,               /* Ctrl-A X */
    CONSOLE_HELP,               /* Ctrl-A H */
    CONSOLE_MONITOR,            /* Ctrl-A C: guest <-> monitor */
};

struct console_escape {
    bool pending;               /* the previous byte was Ctrl-A */
};

enum console_action console_escape_feed(struct console_escape *e, uint8_t byte, uint8_t *out);
#endif
