/* console: terminal mode, input thread, escape keys, output (see console.h). */
#include "machine/console.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_termios;
static volatile sig_atomic_t termios_saved;     /* 1 while the terminal is raw */
static bool initialised;

static struct {
    console_input_fn input;
    console_quit_fn quit;
    void *ctx;
    pthread_t thread;
    struct console_monitor_hooks monitor;
    bool in_monitor;            /* Ctrl-A C: typed bytes go to the monitor */
} reader;

void console_restore(void)
{
    if (termios_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
        termios_saved = 0;
    }
}

/* Restore the terminal, then die of the same signal so the parent sees why. */
static void restore_and_reraise(int sig)
{
    console_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ------------------------------------------------ termination signals */

static struct {
    console_quit_fn quit;
    void *ctx;
    sigset_t set;
} watcher;

/* The sender's command name, as QEMU prints it: "(bash)". */
static void sender_name(pid_t pid, char *out, size_t size)
{
    out[0] = 0;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char comm[64];
    if (fgets(comm, sizeof comm, f)) {
        comm[strcspn(comm, "\n")] = 0;
        snprintf(out, size, " (%s)", comm);
    }
    fclose(f);
}

static void *signal_main(void *arg)
{
    (void)arg;
    for (unsigned seen = 0;; seen++) {
        siginfo_t info;
        int sig = sigwaitinfo(&watcher.set, &info);
        if (sig < 0)
            continue;                   /* EINTR */
        if (seen > 0) {                 /* asked twice: do not wait for the machine */
            pthread_sigmask(SIG_UNBLOCK, &watcher.set, NULL);
            restore_and_reraise(sig);
            _exit(128 + sig);
        }
        char name[128] = "";
        if (info.si_code == SI_USER || info.si_code == SI_QUEUE) {
            char comm[72];
            sender_name(info.si_pid, comm, sizeof comm);
            snprintf(name, sizeof name, " from pid %d%s", (int)info.si_pid, comm);
        }
        fprintf(stderr, "umbra: terminating on signal %d%s\n", sig, name);
        watcher.quit(watcher.ctx);
    }
    return NULL;
}

bool console_catch_signals(console_quit_fn quit, void *ctx)
{
    watcher.quit = quit;
    watcher.ctx = ctx;
    sigemptyset(&watcher.set);
    sigaddset(&watcher.set, SIGINT);
    sigaddset(&watcher.set, SIGTERM);
    sigaddset(&watcher.set, SIGHUP);
    sigset_t old;
    pthread_sigmask(SIG_BLOCK, &watcher.set, &old);
    pthread_t t;
    if (pthread_create(&t, NULL, signal_main, NULL) != 0) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return false;
    }
    pthread_detach(t);
    return true;
}

/* ------------------------------------------------------------ terminal */

static void enter_raw_mode(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) != 0)
        return;
    struct termios raw = saved_termios;
    /* Input: bytes as typed: no CR->NL, no flow control, no stripping. */
    raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    /* Local: no echo, no line buffering, Ctrl-C/Ctrl-Z/Ctrl-\ go to the guest. */
    raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    raw.c_cflag |= CS8;
    /* Output keeps post-processing so umbra's own messages end lines properly. */
    raw.c_oflag |= OPOST;
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0)
        return;
    termios_saved = 1;
    atexit(console_restore);
    /* SIGINT, SIGTERM and SIGHUP come here only when console_catch_signals
     * could not start its thread. */
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

void console_init(void)
{
    if (initialised)
        return;
    initialised = true;
    /* A closed stdout must not kill the machine; output is then dropped. */
    signal(SIGPIPE, SIG_IGN);
    enter_raw_mode();
}

void console_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        p += n;
        len -= (size_t)n;
    }
}

void console_putc(uint8_t byte)
{
    console_write(&byte, 1);
}

enum console_action console_escape_feed(struct console_escape *e, uint8_t byte, uint8_t *out)
{
    if (!e->pending) {
        if (byte == CONSOLE_ESCAPE) {
            e->pending = true;
            return CONSOLE_NOTHING;
        }
        *out = byte;
        return CONSOLE_DELIVER;
    }
    e->pending = false;
    switch (byte) {
    case 'x': case 'X': return CONSOLE_QUIT;
    case 'h': case 'H': case '?': return CONSOLE_HELP;
    case 'c': case 'C': return CONSOLE_MONITOR;
    case CONSOLE_ESCAPE:
        *out = CONSOLE_ESCAPE;
        return CONSOLE_DELIVER;
    default:
        return CONSOLE_NOTHING;
    }
}

static void print_keys(void)
{
    static const char keys[] =
        "\r\n"
        "Ctrl-A H    print this list\r\n"
        "Ctrl-A X    quit umbra (exit status 0)\r\n"
        "Ctrl-A C    switch between the guest console and the monitor\r\n"
        "Ctrl-A Ctrl-A  send Ctrl-A to the guest\r\n";
    console_write(keys, sizeof keys - 1);
}

/* Bytes the guest could not take yet (its receive FIFO was full). The reader
 * keeps reading stdin meanwhile, so Ctrl-A X works even when the guest never
 * drains its UART; beyond this much pending input, new bytes are dropped. */
#define PENDING_MAX 4096
static uint8_t pending[PENDING_MAX];
static size_t pending_head, pending_len;

static void queue_byte(uint8_t byte)
{
    if (pending_len == PENDING_MAX)
        return;
    pending[(pending_head + pending_len) % PENDING_MAX] = byte;
    pending_len++;
}

static void flush_pending(void)
{
    while (pending_len > 0 && reader.input(reader.ctx, pending[pending_head])) {
        pending_head = (pending_head + 1) % PENDING_MAX;
        pending_len--;
    }
}

static void toggle_monitor(void)
{
    static const char none[] = "\r\n(umbra has no monitor here)\r\n";
    static const char back[] = "\r\n(back to the guest console)\r\n";
    if (!reader.monitor.feed) {
        console_write(none, sizeof none - 1);
        return;
    }
    reader.in_monitor = !reader.in_monitor;
    if (reader.in_monitor)
        reader.monitor.enter(reader.monitor.ctx);
    else
        console_write(back, sizeof back - 1);
}

/* A byte for the guest, or for the monitor while it is active. Returns
 * false when the monitor was told to quit. */
static bool deliver(uint8_t byte)
{
    if (!reader.in_monitor) {
        queue_byte(byte);
        return true;
    }
    return reader.monitor.feed(reader.monitor.ctx, byte);
}

/* Returns false when the user asked to quit. */
static bool handle_input(struct console_escape *esc, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t out;
        switch (console_escape_feed(esc, buf[i], &out)) {
        case CONSOLE_DELIVER:
            if (!deliver(out)) {        /* `quit` in the monitor */
                reader.quit(reader.ctx);
                return false;
            }
            break;
        case CONSOLE_QUIT: reader.quit(reader.ctx); return false;
        case CONSOLE_HELP: print_keys(); break;
        case CONSOLE_MONITOR: toggle_monitor(); break;
        case CONSOLE_NOTHING: break;
        }
    }
    flush_pending();
    return true;
}

static void *reader_main(void *arg)
{
    struct console_escape esc = { false };
    bool eof = false;
    uint8_t buf[256];
    for (;;) {
        /* With input waiting for the guest, look again every millisecond. */
        struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
        int timeout = pending_len > 0 ? 1 : -1;
        if (eof) {
            if (pending_len == 0)
                return NULL;    /* EOF and all delivered: the guest runs on */
            poll(NULL, 0, 1);
            flush_pending();
            continue;
        }
        int ready = poll(&pfd, 1, timeout);
        if (ready < 0 && errno != EINTR)
            return NULL;
        if (ready <= 0) {
            flush_pending();
            continue;
        }
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            eof = true;
            continue;
        }
        if (!handle_input(&esc, buf, (size_t)n))
            return NULL;
    }
}

void console_set_monitor(const struct console_monitor_hooks *hooks)
{
    reader.monitor = *hooks;
}

bool console_start_input(console_input_fn input, console_quit_fn quit, void *ctx)
{
    reader.input = input;
    reader.quit = quit;
    reader.ctx = ctx;
    if (pthread_create(&reader.thread, NULL, reader_main, NULL) != 0)
        return false;
    pthread_detach(reader.thread);
    return true;
}
