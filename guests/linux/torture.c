/*
 * umbra torture guest: translation coherence under SMP Linux.
 *
 * Runs as /init (PID 1) or by hand. Threads pinned to different harts check
 * the promises the kernel makes with TLB shoot-downs, which on umbra rest
 * on the shadow-table coherence mechanism:
 *
 *   munmap   once munmap() has returned on one thread, no other thread can
 *            still read the old mapping (it must fault);
 *   mprotect once mprotect(PROT_READ) has returned, no thread can write;
 *   mremap   once mremap() has moved a mapping, the old address faults and
 *            the new one holds the data;
 *   cow      after fork(), writes by the parent's threads never show in the
 *            child and the child's writes never show in the parent.
 *
 * Prints one result line, "UMBRA-TORTURE PASS" or "UMBRA-TORTURE FAIL
 * <reason>", then (as PID 1) powers the machine off.
 *
 * With `umbra.seconds=N` on the kernel command line (bench/soak.sh uses it)
 * the checks run again and again until N seconds have passed, each pass
 * ending with a line "torture: loop K ok at T s"; without it they run once.
 *
 * Build: riscv64-linux-gnu-gcc -O2 -static -pthread -o torture torture.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest_init.h"
#include "guest_probe.h"

#define MAX_WORKERS 8
#define ROUNDS 60

static long page_size;
static int nworkers;

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    printf("UMBRA-TORTURE FAIL %s\n", msg);
    fflush(stdout);
    _exit(1);
}

static void pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);     /* best effort: fewer CPUs is fine */
}

/* ------------------------------------------------- the shoot-down rounds */
enum round_kind { ROUND_MUNMAP, ROUND_MPROTECT, ROUND_MREMAP };

struct round {
    enum round_kind kind;
    volatile uint64_t *page;        /* the mapping the workers hammer */
    uint64_t pattern;
    _Atomic int id;                 /* round number, so each worker takes each round once */
    _Atomic int phase;              /* 0 idle, 1 hammer, 2 changed */
    _Atomic int started, checked;
    _Atomic int errors;
    char error[200];
};

static struct round round_state;
static _Atomic int workers_exit;

static void record_error(struct round *r, const char *fmt, ...)
{
    if (atomic_fetch_add(&r->errors, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
    }
}

/* Before the change: the mapping works. After: it must not, for the
 * access the change took away. */
static void hammer_then_check(struct round *r, int id)
{
    uint64_t v;
    atomic_fetch_add(&r->started, 1);
    while (atomic_load(&r->phase) == 1) {
        if (r->kind == ROUND_MPROTECT)
            probe_write(r->page + id, r->pattern + id);     /* may fault once protected */
        else
            probe_read(r->page, &v);
    }
    /* phase 2: the main thread's munmap/mprotect/mremap has returned */
    switch (r->kind) {
    case ROUND_MUNMAP:
    case ROUND_MREMAP:
        if (probe_read(r->page, &v))
            record_error(r, "%s: hart %d still read the old mapping (0x%llx) after the call returned",
                         r->kind == ROUND_MUNMAP ? "munmap" : "mremap", sched_getcpu(),
                         (unsigned long long)v);
        break;
    case ROUND_MPROTECT:
        if (probe_write(r->page + id, 0xbad))
            record_error(r, "mprotect: hart %d could still write after PROT_READ returned",
                         sched_getcpu());
        break;
    }
    atomic_fetch_add(&r->checked, 1);
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    pin_to(id + 1);
    guest_probe_install("UMBRA-TORTURE");
    int done = 0;
    while (!atomic_load(&workers_exit)) {
        int rid = atomic_load(&round_state.id);
        if (rid != done && atomic_load(&round_state.phase) == 1) {
            hammer_then_check(&round_state, id);
            done = rid;
        } else {
            sched_yield();
        }
    }
    return NULL;
}

static void wait_for(_Atomic int *counter, int value)
{
    while (atomic_load(counter) < value)
        sched_yield();
}

static void run_round(enum round_kind kind, int n)
{
    struct round *r = &round_state;
    size_t len = (size_t)page_size;
    uint64_t *page = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        fail("mmap: %s", strerror(errno));
    r->kind = kind;
    r->page = page;
    r->pattern = 0x1000ull * (uint64_t)n;
    for (int i = 0; i < MAX_WORKERS; i++)
        page[i] = r->pattern + (uint64_t)i;
    atomic_store(&r->started, 0);
    atomic_store(&r->checked, 0);
    atomic_fetch_add(&r->id, 1);
    atomic_store(&r->phase, 1);
    wait_for(&r->started, nworkers);
    for (volatile int spin = 0; spin < 20000; spin++)
        ;   /* let every worker fill its translation */

    void *moved = NULL;
    switch (kind) {
    case ROUND_MUNMAP:
        if (munmap(page, len))
            fail("munmap: %s", strerror(errno));
        break;
    case ROUND_MPROTECT:
        if (mprotect(page, len, PROT_READ))
            fail("mprotect: %s", strerror(errno));
        break;
    case ROUND_MREMAP: {
        /* reserve a destination, then move the page onto it */
        void *dst = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (dst == MAP_FAILED)
            fail("mmap (mremap target): %s", strerror(errno));
        moved = mremap(page, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
        if (moved == MAP_FAILED)
            fail("mremap: %s", strerror(errno));
        break;
    }
    }
    atomic_store(&r->phase, 2);
    wait_for(&r->checked, nworkers);
    atomic_store(&r->phase, 0);
    if (atomic_load(&r->errors))
        fail("%s", r->error);

    if (kind == ROUND_MPROTECT) {
        for (int i = 0; i < nworkers; i++)
            if (page[i] != r->pattern + (uint64_t)i)
                fail("mprotect: word %d reads 0x%llx", i, (unsigned long long)page[i]);
        munmap(page, len);
    }
    if (kind == ROUND_MREMAP) {
        uint64_t *np = moved;
        for (int i = 0; i < MAX_WORKERS; i++)
            if (np[i] != r->pattern + (uint64_t)i)
                fail("mremap: moved word %d reads 0x%llx, expected 0x%llx", i,
                     (unsigned long long)np[i], (unsigned long long)(r->pattern + (uint64_t)i));
        munmap(moved, len);
    }
}

static void check_shootdowns(void)
{
    pthread_t th[MAX_WORKERS];
    atomic_store(&workers_exit, 0);
    for (int i = 0; i < nworkers; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i))
            fail("pthread_create");
    static const char *names[] = { "munmap", "mprotect", "mremap" };
    for (int k = ROUND_MUNMAP; k <= ROUND_MREMAP; k++) {
        for (int n = 0; n < ROUNDS; n++)
            run_round((enum round_kind)k, n + 1);
        printf("torture: %-8s ok (%d rounds, %d threads)\n", names[k], ROUNDS, nworkers);
    }
    atomic_store(&workers_exit, 1);
    for (int i = 0; i < nworkers; i++)
        pthread_join(th[i], NULL);
}

/* ------------------------------------------------------------- COW */
#define COW_PAGES 8
static _Atomic int cow_stop;
static uint64_t *cow_area;

/* Parent threads keep writing their counters while the main thread forks. */
static void *cow_writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    pin_to(id + 1);
    uint64_t *slot = cow_area + (size_t)id * (size_t)page_size / 8;
    for (uint64_t n = 1; !atomic_load(&cow_stop); n++)
        __atomic_store_n(slot, n, __ATOMIC_RELAXED);
    return NULL;
}

static void check_cow(void)
{
    size_t len = COW_PAGES * (size_t)page_size;
    cow_area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cow_area == MAP_FAILED)
        fail("mmap: %s", strerror(errno));
    memset(cow_area, 0, len);
    int writers = nworkers < COW_PAGES - 1 ? nworkers : COW_PAGES - 1;
    pthread_t th[MAX_WORKERS];
    atomic_store(&cow_stop, 0);
    for (int i = 0; i < writers; i++)
        pthread_create(&th[i], NULL, cow_writer, (void *)(intptr_t)i);
    uint64_t *marker = cow_area + (size_t)(COW_PAGES - 1) * (size_t)page_size / 8;
    for (int round = 1; round <= ROUNDS; round++) {
        *marker = 1000 + (uint64_t)round;
        pid_t pid = fork();
        if (pid < 0)
            fail("fork: %s", strerror(errno));
        if (pid == 0) {
            /* The child's copy is frozen at fork time: the parent's writer
             * threads do not exist here, so nothing may change it. */
            uint64_t seen[COW_PAGES];
            for (int i = 0; i < writers; i++)
                seen[i] = __atomic_load_n(cow_area + (size_t)i * (size_t)page_size / 8, __ATOMIC_RELAXED);
            for (volatile int spin = 0; spin < 200000; spin++)
                ;
            for (int i = 0; i < writers; i++) {
                uint64_t now = __atomic_load_n(cow_area + (size_t)i * (size_t)page_size / 8, __ATOMIC_RELAXED);
                if (now != seen[i])
                    _exit(10 + i);      /* a parent write leaked into the child */
            }
            if (*marker != 1000 + (uint64_t)round)
                _exit(30);
            *marker = 0xc41d;           /* must never reach the parent */
            _exit(*marker == 0xc41d ? 0 : 31);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid)
            fail("waitpid: %s", strerror(errno));
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            fail("cow: child round %d status 0x%x (10+i: parent write of thread i leaked in; "
                 "30/31: marker)", round, st);
        if (*marker != 1000 + (uint64_t)round)
            fail("cow: the child's write reached the parent (marker 0x%llx)",
                 (unsigned long long)*marker);
    }
    atomic_store(&cow_stop, 1);
    for (int i = 0; i < writers; i++)
        pthread_join(th[i], NULL);
    munmap(cow_area, len);
    printf("torture: cow      ok (%d forks, %d writer threads)\n", ROUNDS, writers);
}

/* ------------------------------------------------------------- driver */

static int run_all(void)
{
    page_size = sysconf(_SC_PAGESIZE);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    nworkers = cpus > 1 ? (int)cpus - 1 : 1;
    if (nworkers > MAX_WORKERS)
        nworkers = MAX_WORKERS;
    printf("torture: %ld online hart(s), %d worker thread(s)\n", cpus, nworkers);
    pin_to(0);
    guest_probe_install("UMBRA-TORTURE");
    long seconds = guest_cmdline_long("umbra.seconds", 0);
    double start = guest_now_seconds();
    for (int loop = 1;; loop++) {
        check_shootdowns();
        check_cow();
        double elapsed = guest_now_seconds() - start;
        if (seconds <= 0)
            break;
        printf("torture: loop %d ok at %.0f s\n", loop, elapsed);
        if (elapsed >= (double)seconds)
            break;
    }
    printf("UMBRA-TORTURE PASS\n");
    return 0;
}


int main(void)
{
    return guest_main("UMBRA-TORTURE", run_all);
}
