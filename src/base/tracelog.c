/* tracelog: per-thread buffers and the trace file (see tracelog.h). */
#include "base/tracelog.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "base/timebase.h"

#define BUFFER_SIZE (64 * 1024)
#define LINE_MAX_LEN 256            /* longest line any tracelog_* call writes */

unsigned tracelog_mask;

struct buffer {
    char data[BUFFER_SIZE];
    size_t len;
    bool in_use;                    /* owned by a live thread */
    struct buffer *next;            /* every buffer ever made */
};

static struct {
    pthread_mutex_t lock;           /* the file, and the list of buffers */
    int fd;
    bool close_fd;                  /* not stderr */
    struct buffer *all;
    pthread_key_t key;              /* the thread's buffer; flushed at thread exit */
    bool key_made;
} sink = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

static _Thread_local struct buffer *mine;

/* Caller holds sink.lock. A short write (disk full) drops the rest: the
 * trace is a diagnostic, the machine must run on. */
static void write_out(struct buffer *b)
{
    size_t done = 0;
    while (sink.fd >= 0 && done < b->len) {
        ssize_t n = write(sink.fd, b->data + done, b->len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    b->len = 0;
}

static void thread_done(void *arg)
{
    struct buffer *b = arg;
    pthread_mutex_lock(&sink.lock);
    write_out(b);
    b->in_use = false;              /* a later thread (after a guest reset) reuses it */
    pthread_mutex_unlock(&sink.lock);
    mine = NULL;
}

/* The calling thread's buffer: a free one from an earlier thread, or a new
 * one. NULL only when out of memory (the line is then dropped). */
static struct buffer *my_buffer(void)
{
    if (mine)
        return mine;
    pthread_mutex_lock(&sink.lock);
    struct buffer *b = sink.all;
    while (b && b->in_use)
        b = b->next;
    if (!b && (b = calloc(1, sizeof *b)) != NULL) {
        b->next = sink.all;
        sink.all = b;
    }
    if (b)
        b->in_use = true;
    pthread_mutex_unlock(&sink.lock);
    if (b && sink.key_made)
        pthread_setspecific(sink.key, b);
    mine = b;
    return b;
}

static void __attribute__((format(printf, 1, 2))) emit(const char *fmt, ...)
{
    struct buffer *b = my_buffer();
    if (!b)
        return;
    if (BUFFER_SIZE - b->len < LINE_MAX_LEN) {
        pthread_mutex_lock(&sink.lock);
        write_out(b);
        pthread_mutex_unlock(&sink.lock);
    }
    int n = snprintf(b->data + b->len, LINE_MAX_LEN, "%" PRIu64 " ", timebase_now());
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(b->data + b->len + n, (size_t)(LINE_MAX_LEN - n), fmt, ap);
    va_end(ap);
    if (n >= LINE_MAX_LEN - 1)
        n = LINE_MAX_LEN - 2;
    b->data[b->len + (size_t)n] = '\n';
    b->len += (size_t)n + 1;
}

/* ------------------------------------------------------------ set-up */

static bool set_err(char *err, size_t errlen, const char *fmt, const char *what)
{
    snprintf(err, errlen, fmt, what);
    return false;
}

bool tracelog_parse(const char *value, unsigned *mask, char *buf, size_t bufsize,
                    const char **path, char *err, size_t errlen)
{
    static const struct { const char *name; unsigned bits; } words[] = {
        { "traps", TRACE_TRAPS }, { "coherence", TRACE_COHERENCE },
        { "patches", TRACE_PATCHES }, { "all", TRACE_ALL },
    };
    if (strlen(value) >= bufsize)
        return set_err(err, errlen, "%s", "the value is too long");
    strcpy(buf, value);
    *mask = 0;
    *path = NULL;
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (!strncmp(item, "file=", 5)) {
            if (!item[5])
                return set_err(err, errlen, "%s", "file= needs a path");
            *path = item + 5;
            continue;
        }
        size_t i;
        for (i = 0; i < sizeof words / sizeof words[0]; i++)
            if (!strcmp(item, words[i].name))
                break;
        if (i == sizeof words / sizeof words[0])
            return set_err(err, errlen,
                           "unknown event '%s' (traps, coherence, patches, all, file=PATH)", item);
        *mask |= words[i].bits;
    }
    if (!*mask)
        return set_err(err, errlen, "%s", "no events named (traps, coherence, patches or all)");
    return true;
}

bool tracelog_open(unsigned mask, const char *path, char *err, size_t errlen)
{
    if (!path)
        path = TRACELOG_DEFAULT_FILE;
    if (!strcmp(path, "-")) {
        sink.fd = STDERR_FILENO;
        sink.close_fd = false;
    } else {
        sink.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (sink.fd < 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return false;
        }
        sink.close_fd = true;
    }
    if (!sink.key_made)
        sink.key_made = pthread_key_create(&sink.key, thread_done) == 0;
    atexit(tracelog_close);
    tracelog_mask = mask;
    return true;
}

void tracelog_close(void)
{
    tracelog_mask = 0;
    pthread_mutex_lock(&sink.lock);
    for (struct buffer *b = sink.all; b; b = b->next)
        write_out(b);
    if (sink.close_fd && sink.fd >= 0)
        close(sink.fd);
    sink.fd = -1;
    pthread_mutex_unlock(&sink.lock);
}

/* ------------------------------------------------------------ events */

const char *tracelog_cause_name(uint64_t cause)
{
    /* Privileged spec table 3.6. */
    static const char *const exceptions[16] = {
        "instruction-misaligned", "instruction-access-fault", "illegal-instruction",
        "breakpoint", "load-misaligned", "load-access-fault", "store-misaligned",
        "store-access-fault", "ecall-from-U", "ecall-from-S", NULL, "ecall-from-M",
        "instruction-page-fault", "load-page-fault", NULL, "store-page-fault",
    };
    static const char *const interrupts[12] = {
        NULL, "supervisor-software", NULL, "machine-software", NULL, "supervisor-timer",
        NULL, "machine-timer", NULL, "supervisor-external", NULL, "machine-external",
    };
    uint64_t code = cause & ~(1ull << 63);
    const char *name = NULL;
    if (cause >> 63)
        name = code < 12 ? interrupts[code] : NULL;
    else
        name = code < 16 ? exceptions[code] : NULL;
    return name ? name : "unknown";
}

static char priv_letter(unsigned p)
{
    return p == 0 ? 'U' : p == 1 ? 'S' : p == 3 ? 'M' : '?';
}

void tracelog_trap(unsigned hart, uint64_t cause, uint64_t tval, uint64_t pc, unsigned from,
                   unsigned to)
{
    emit("trap hart=%u cause=0x%" PRIx64 " (%s) tval=0x%" PRIx64 " pc=0x%" PRIx64 " priv=%c->%c",
         hart, cause, tracelog_cause_name(cause), tval, pc, priv_letter(from), priv_letter(to));
}

void tracelog_sfence(unsigned hart, bool has_addr, uint64_t addr, bool has_asid, uint64_t asid,
                     uint64_t satp)
{
    char a[24] = "all", s[24] = "all";
    if (has_addr)
        snprintf(a, sizeof a, "0x%" PRIx64, addr);
    if (has_asid)
        snprintf(s, sizeof s, "%" PRIu64, asid);
    emit("sfence.vma hart=%u addr=%s asid=%s satp=0x%" PRIx64, hart, a, s, satp);
}

void tracelog_remote_sfence(unsigned hart)
{
    emit("remote-sfence.vma hart=%u", hart);
}

void tracelog_sbi_sfence(unsigned hart, uint64_t satp)
{
    emit("sbi-sfence.vma hart=%u satp=0x%" PRIx64, hart, satp);
}

static const char *producer_name(unsigned producer, bool dma, char *buf, size_t size)
{
    if (dma)
        return "dma";
    snprintf(buf, size, "%u", producer);
    return buf;
}

void tracelog_drain(unsigned hart, unsigned producer, bool dma, unsigned patches)
{
    char p[16];
    emit("drain hart=%u from=%s patches=%u", hart, producer_name(producer, dma, p, sizeof p),
         patches);
}

void tracelog_resync(unsigned hart)
{
    emit("resync hart=%u", hart);
}

void tracelog_drop_all(unsigned hart)
{
    emit("drop-all hart=%u", hart);
}

void tracelog_unshadow(unsigned hart, uint64_t frame)
{
    emit("unshadow hart=%u frame=0x%" PRIx64, hart, frame);
}

void tracelog_patch(unsigned producer, bool dma, unsigned consumer, uint64_t pte_addr,
                    uint64_t derived, uint64_t token, enum tracelog_patch_outcome outcome)
{
    static const char *const names[] = {
        [TRACE_PATCH_POSTED] = "posted",
        [TRACE_PATCH_OVERFLOW] = "overflow",
        [TRACE_PATCH_APPLIED] = "applied",
        [TRACE_PATCH_STALE_INVALIDATED] = "stale-invalidated",
        [TRACE_PATCH_STALE_REWALKED] = "stale-rewalked",
    };
    char p[16];
    emit("patch producer=%s consumer=%u pte=0x%" PRIx64 " derived=0x%" PRIx64 " token=%" PRIu64
         " %s",
         producer_name(producer, dma, p, sizeof p), consumer, pte_addr, derived, token,
         names[outcome]);
}
