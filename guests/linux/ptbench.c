/*
 * umbra page-table benchmark guest: how fast a multi-hart machine keeps
 * translations coherent while one mm changes under threads on every hart.
 *
 * Runs as /init (PID 1) or by hand. One thread per online CPU, each pinned
 * to its CPU, for a fixed guest time (umbra.seconds=N on the kernel command
 * line, default 10). Every thread owns a slot, a fixed 8-page range of the
 * shared address space, and takes it round this cycle, each step checked:
 *
 *   mmap + write a pattern to every page                    (op: mmap)
 *   check the pattern, mprotect(PROT_READ), a write must fault (op: mprotect)
 *   munmap, a read must fault                                (op: munmap)
 *
 * Between the steps it visits every other thread's slot, so that all harts
 * hold translations of every range that changes. With umbra.visits=N it
 * visits only N of them per step, in turn: with N = 1 a step's own work
 * no longer grows with the number of harts (only the shoot-downs do, as
 * they must), so ops/s at -smp 2, 4 and 8 compare like with like. A visit
 * reads the slot's published state, probes one page and reads the state again; when the
 * state did not change around the probe, the probe's outcome is decided:
 *
 *   FULL       a read must succeed and see the owner's pattern (a write to
 *              the visitor's own word may succeed);
 *   PROTECTED  a write must fault: the owner's mprotect has returned, so
 *              its shoot-down must have reached this hart;
 *   UNMAPPED   a read must fault, for the same reason after munmap.
 *
 * No thread waits for another in the program itself; in the kernel they
 * queue on what a process's threads share: its mm's lock, and the signal
 * lock that delivers every probe's fault (guest_probe.h).
 *
 * With umbra.group=N the threads are split into processes of N threads
 * (the last one may have fewer), each with its own mm, visiting only the
 * slots of its own process: with N = 2 and umbra.visits=1 every step
 * still shoots down a translation on another hart, but the guest's own
 * contention (the threads of one mm queue on its lock) stays that of two
 * threads whatever the number of harts. The counts and the first failure
 * are kept in a shared mapping.
 *
 * With umbra.wss=N on the command line each thread also owns a private
 * working set of N pages, filled once, and reads every page of it (checking
 * its contents) after each step: the memory a real program keeps using while
 * its mappings change. A shoot-down that throws away every translation of a
 * hart makes that hart walk the page tables again for all of it. The
 * working set is MADV_DONTFORK, so that forks do not copy it.
 *
 * Every 8th cycle, the first included, the thread forks (op: fork; the
 * child checks a copy-on-write word, writes it, and the parent must not see
 * the write); every 4th fork, the first included, the child instead re-executes this program with an argument
 * (op: exec; the new image maps, writes and checks a page and exits with a
 * status computed from its argument, which the parent checks).
 *
 * Before the result it prints the counts of each op, the ops of each
 * thread, the ops of each whole second of the run (the first is the
 * warm-up: every CPU meets the program's code and the kernel's paths for
 * the first time), and how much of the run the guest's CPUs were idle (/proc/stat):
 * with more threads than the mm's lock lets work at once, the guest itself
 * leaves CPUs unused.
 *
 * Prints "UMBRA-PTBENCH PASS ops=<N> ops_per_s=<X>" or "UMBRA-PTBENCH FAIL
 * <reason>", then (as PID 1) powers the machine off. ops_per_s is measured
 * with CLOCK_MONOTONIC in the guest (read by system call: see guest_init.h).
 *
 * Build: riscv64-linux-gnu-gcc -O2 -static -pthread -o ptbench ptbench.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
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

#define MAX_THREADS 8
#define SLOT_PAGES 8
/* Slots live far below the kernel's top-down mmap area and far above the
 * static binary and its heap, 2 MiB apart so that each munmap also frees a
 * leaf page-table page. Fixed addresses let the owner probe its old range
 * after the consumer's munmap without another mapping landing there. */
#define SLOT_BASE 0x1000000000ull
#define SLOT_STRIDE (2ull << 20)
#define FORK_EVERY 8
#define EXEC_EVERY 4
#define EXEC_ARG "--ptbench-exec"

static long page_size;
static int nthreads;
static long wss_pages;          /* umbra.wss: working-set pages per thread */
static int visits_per_step;     /* umbra.visits, at most group - 1: other
                                   slots visited per step */
static int group;               /* umbra.group: threads per process */
static char self_path[256] = "/proc/self/exe";

/* ------------------------------------------------- results and failure */
struct counters {
    uint64_t mmaps, mprotects, munmaps, forks, execs, visits;
    char pad[64 - 6 * sizeof(uint64_t)];
};

/* In a MAP_SHARED mapping, seen by every process of the run (umbra.group);
 * each thread writes only its own counters. */
struct shared {
    _Atomic int stop;
    _Atomic int failed;
    char fail_msg[300];
    struct counters counts[MAX_THREADS];
};
static struct shared *shared;

/* The operations a thread's counters count (visits are probes, not ops);
 * atomic loads, so that the sampler may call it while the thread runs. */
static uint64_t counter_ops(const struct counters *c)
{
    return __atomic_load_n(&c->mmaps, __ATOMIC_RELAXED) +
           __atomic_load_n(&c->mprotects, __ATOMIC_RELAXED) +
           __atomic_load_n(&c->munmaps, __ATOMIC_RELAXED) +
           __atomic_load_n(&c->forks, __ATOMIC_RELAXED) +
           __atomic_load_n(&c->execs, __ATOMIC_RELAXED);
}

/* A thread bumps only its own counters; the stores are atomic so that the
 * sampler (below) may read them while the run goes on. */
static void count_one(uint64_t *counter)
{
    __atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

static void __attribute__((format(printf, 1, 2))) record_fail(const char *fmt, ...)
{
    if (atomic_fetch_add(&shared->failed, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(shared->fail_msg, sizeof shared->fail_msg, fmt, ap);
        va_end(ap);
    }
    atomic_store(&shared->stop, 1);
}

/* ---------------------------------------------------------------- slots */
enum slot_state { S_MAPPING, S_FULL, S_PROTECTED, S_UNMAPPED };

/* The published state word is gen << 2 | state: a visitor that reads the
 * same word before and after its probe knows no step happened in between. */
struct slot {
    _Atomic uint64_t word;
    char pad[64 - sizeof(uint64_t)];
};

static struct slot slots[MAX_THREADS];

static volatile uint64_t *slot_page(int s, int page)
{
    return (volatile uint64_t *)(uintptr_t)(SLOT_BASE + (uint64_t)s * SLOT_STRIDE +
                                            (uint64_t)page * (uint64_t)page_size);
}

/* What word 0 of page `page` of slot s holds in generation gen (the last
 * word holds its complement): a stale or foreign frame shows as a mismatch.
 * Words 1..MAX_THREADS are the visitors'. */
static uint64_t pattern(int s, uint64_t gen, int page)
{
    return (uint64_t)s << 56 | gen << 8 | (uint64_t)page;
}

/* The owner publishes a step only after its system call returned; the
 * fence orders the store before the next call's page-table changes. */
static void publish(int s, uint64_t gen, enum slot_state st)
{
    atomic_store(&slots[s].word, gen << 2 | st);
    atomic_thread_fence(memory_order_seq_cst);
}

static int check_pattern(int s, uint64_t gen, int p, const char *when)
{
    uint64_t want = pattern(s, gen, p);
    volatile uint64_t *page = slot_page(s, p);
    uint64_t first = page[0], last = page[page_size / 8 - 1];
    if (first != want || last != ~want) {
        record_fail("%s: slot %d page %d holds 0x%llx/0x%llx, expected 0x%llx (hart %d)", when, s,
                    p, (unsigned long long)first, (unsigned long long)last,
                    (unsigned long long)want, sched_getcpu());
        return 0;
    }
    return 1;
}

/* One cycle of the thread's own slot, generation gen; visits the others
 * between the steps. Returns 0 after a failure. */
static int own_cycle(int me, uint64_t gen, void (*visit)(int))
{
    size_t len = SLOT_PAGES * (size_t)page_size;
    void *want = (void *)slot_page(me, 0);
    uint64_t v;

    publish(me, gen, S_MAPPING);
    void *got = mmap(want, len, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want) {
        record_fail("mmap slot %d at %p: %s (got %p)", me, want, strerror(errno), got);
        return 0;
    }
    for (int p = 0; p < SLOT_PAGES; p++) {
        slot_page(me, p)[0] = pattern(me, gen, p);
        slot_page(me, p)[page_size / 8 - 1] = ~pattern(me, gen, p);
    }
    count_one(&shared->counts[me].mmaps);
    publish(me, gen, S_FULL);
    visit(me);

    for (int p = 0; p < SLOT_PAGES; p++)
        if (!check_pattern(me, gen, p, "mmap"))
            return 0;
    if (mprotect(want, len, PROT_READ)) {
        record_fail("mprotect slot %d: %s", me, strerror(errno));
        return 0;
    }
    if (probe_write(slot_page(me, 0), 0xbad)) {
        record_fail("mprotect: the calling hart could still write slot %d", me);
        return 0;
    }
    count_one(&shared->counts[me].mprotects);
    publish(me, gen, S_PROTECTED);
    visit(me);

    for (int p = 0; p < SLOT_PAGES; p++)
        if (!check_pattern(me, gen, p, "mprotect"))
            return 0;
    if (munmap(want, len)) {
        record_fail("munmap slot %d: %s", me, strerror(errno));
        return 0;
    }
    if (probe_read(slot_page(me, SLOT_PAGES - 1), &v)) {
        record_fail("munmap: the calling hart could still read slot %d", me);
        return 0;
    }
    count_one(&shared->counts[me].munmaps);
    publish(me, gen, S_UNMAPPED);
    visit(me);
    return !atomic_load(&shared->failed);
}

/* Visitor `me` probes page p of slot s and judges the outcome if the
 * owner took no step meanwhile (see the top of the file). */
static void visit_slot(int me, int s, int p)
{
    uint64_t before = atomic_load(&slots[s].word), value = 0;
    uint64_t gen = before >> 2;
    volatile uint64_t *page = slot_page(s, p);
    int ok;
    const char *what;
    switch ((enum slot_state)(before & 3)) {
    case S_FULL:
        probe_write(page + 1 + me, gen);
        ok = probe_read(page, &value);
        what = "read";
        break;
    case S_PROTECTED:
        ok = probe_write(page + 1 + me, gen);
        what = "write";
        break;
    case S_UNMAPPED:
        ok = probe_read(page, &value);
        what = "read";
        break;
    default:
        return;
    }
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load(&slots[s].word) != before)
        return;     /* the owner moved on: either outcome is allowed */
    count_one(&shared->counts[me].visits);
    switch ((enum slot_state)(before & 3)) {
    case S_FULL:
        if (!ok)
            record_fail("hart %d faulted reading slot %d page %d while it was mapped",
                        sched_getcpu(), s, p);
        else if (value != pattern(s, gen, p))
            record_fail("hart %d read 0x%llx from slot %d page %d, expected 0x%llx",
                        sched_getcpu(), (unsigned long long)value, s, p,
                        (unsigned long long)pattern(s, gen, p));
        break;
    case S_PROTECTED:
    case S_UNMAPPED:
        if (ok)
            record_fail("hart %d could still %s slot %d page %d after %s returned on "
                        "another hart", sched_getcpu(), what, s, p,
                        (before & 3) == S_PROTECTED ? "mprotect(PROT_READ)" : "munmap");
        break;
    default:
        break;
    }
}

static __thread unsigned visit_round;
static __thread volatile uint64_t *working_set;

/* What word 0 of working-set page p of thread me holds. */
static uint64_t ws_pattern(int me, long p)
{
    return 0x5753000000000000ull | (uint64_t)me << 32 | (uint64_t)p;
}

/* Word 0 of working-set page p. */
static volatile uint64_t *ws_word(long p)
{
    return working_set + p * page_size / 8;
}

static int ws_fill(int me)
{
    if (wss_pages == 0)
        return 1;
    size_t len = (size_t)wss_pages * (size_t)page_size;
    void *ws = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ws == MAP_FAILED) {
        record_fail("mmap of a %ld-page working set: %s", wss_pages, strerror(errno));
        return 0;
    }
    /* Not copied into the forked children: what is measured is the
     * translations a shoot-down costs the threads, not the kernel's copy
     * and teardown of 4 x N page-table entries at every fork and exit. */
    if (madvise(ws, len, MADV_DONTFORK) != 0) {
        record_fail("madvise(MADV_DONTFORK) on the working set: %s", strerror(errno));
        return 0;
    }
    working_set = ws;
    for (long p = 0; p < wss_pages; p++)
        *ws_word(p) = ws_pattern(me, p);
    return 1;
}

/* Read one word of every working-set page; each must still hold its own. */
static void ws_sweep(int me)
{
    for (long p = 0; p < wss_pages; p++) {
        uint64_t v = *ws_word(p);
        if (v != ws_pattern(me, p)) {
            record_fail("hart %d read 0x%llx from working-set page %ld, expected 0x%llx",
                        sched_getcpu(), (unsigned long long)v, p,
                        (unsigned long long)ws_pattern(me, p));
            return;
        }
    }
}

/* The threads of the process whose first thread is `first`: group, or
 * fewer for the last process. */
static int group_size(int first)
{
    return nthreads - first < group ? nthreads - first : group;
}

/* Visit visits_per_step of the other slots of the process (all of them by
 * default), taking them in turn from one step to the next. */
static void visit_others(int me)
{
    unsigned first = (unsigned)(me / group * group);
    unsigned size = (unsigned)group_size((int)first);
    unsigned round = visit_round++, others = size - 1, n = (unsigned)visits_per_step;
    int p = (int)(round % SLOT_PAGES);
    for (unsigned k = 0; k < n && k < others; k++) {
        unsigned skip = (round * n + k) % others;      /* 0 .. others-1 after me */
        visit_slot(me, (int)(first + ((unsigned)me - first + 1 + skip) % size), p);
    }
    ws_sweep(me);
}

/* ------------------------------------------------------------ fork, exec */
/* One copy-on-write word per thread, on its own cache line. */
static uint64_t cow_words[MAX_THREADS][8];

static int exec_status(uint64_t token)
{
    return (int)(token * 7 % 200) + 1;
}

/* The re-executed image: map, write and check a page, exit with a status
 * that depends on the argument. */
static int exec_child(const char *arg)
{
    uint64_t token = strtoull(arg, NULL, 10);
    long ps = sysconf(_SC_PAGESIZE);
    uint64_t *page = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 250;
    for (long i = 0; i < ps / 8; i++)
        page[i] = token ^ (uint64_t)i;
    for (long i = 0; i < ps / 8; i++)
        if (page[i] != (token ^ (uint64_t)i))
            return 251;
    munmap(page, (size_t)ps);
    return exec_status(token);
}

static void fork_op(int me, uint64_t n)
{
    int do_exec = n % EXEC_EVERY == 0;
    uint64_t token = (uint64_t)me * 1000003u + n;
    volatile uint64_t *word = &cow_words[me][0];
    *word = token;
    pid_t pid = fork();
    if (pid < 0) {
        record_fail("fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        if (do_exec) {
            char arg[32];
            snprintf(arg, sizeof arg, "%llu", (unsigned long long)token);
            char *argv[] = { self_path, EXEC_ARG, arg, NULL };
            execv(self_path, argv);
            _exit(252);
        }
        if (*word != token)
            _exit(253);
        *word = ~token;         /* copy on write: must never reach the parent */
        _exit(*word == ~token ? 0 : 254);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            record_fail("waitpid: %s", strerror(errno));
            return;
        }
    int want = do_exec ? exec_status(token) : 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
        record_fail("%s child: status 0x%x, expected exit %d (250-252: exec image, "
                    "253/254: copy-on-write)", do_exec ? "exec" : "fork", st, want);
        return;
    }
    if (*word != token) {
        record_fail("fork: the child's copy-on-write write reached the parent");
        return;
    }
    if (do_exec)
        count_one(&shared->counts[me].execs);
    else
        count_one(&shared->counts[me].forks);
}

/* ------------------------------------------------------------- threads */
static double deadline;         /* guest_now_seconds() at which threads stop */

static void pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_setaffinity(0, sizeof set, &set);     /* best effort */
}

static void *thread_main(void *arg)
{
    int me = (int)(intptr_t)arg;
    pin_to(me);
    guest_probe_install("UMBRA-PTBENCH");
    if (!ws_fill(me))
        return NULL;
    for (uint64_t gen = 1; !atomic_load(&shared->stop) && guest_now_seconds() < deadline; gen++) {
        if (!own_cycle(me, gen, visit_others))
            break;
        if (gen % FORK_EVERY == 1)     /* the first fork of each thread execs */
            fork_op(me, gen / FORK_EVERY);
    }
    return NULL;
}

/* The guest's own CPU time so far, all CPUs together, from /proc/stat's
 * "cpu" line (USER_HZ ticks): idle (idle + iowait) and the total. False
 * when /proc/stat cannot be read. */
static bool cpu_ticks(unsigned long long *idle, unsigned long long *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    unsigned long long v[8] = { 0 };
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 5)
        return false;
    *idle = v[3] + v[4];
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    return true;
}

/* ------------------------------------------------------------ sampler */
/* Every guest second of the run, the ops of all threads so far: how the
 * rate moves from the first second, where every CPU still meets the
 * program's code and the kernel's paths for the first time, to the
 * steady state. */
#define MAX_SAMPLES 64
static uint64_t ops_at[MAX_SAMPLES];    /* ops_at[s]: ops counted by second s + 1 */
static int nsamples;
static double samples_t0;

static uint64_t ops_so_far(void)
{
    uint64_t ops = 0;
    for (int i = 0; i < nthreads; i++)
        ops += counter_ops(&shared->counts[i]);
    return ops;
}

/* Sleeps until guest time `until`. */
static void sleep_until(double until)
{
    for (double wait; (wait = until - guest_now_seconds()) > 0;) {
        struct timespec ts = { (time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9) };
        nanosleep(&ts, NULL);
    }
}

/* arg: the run's whole seconds (int *). Counted in whole seconds, not by
 * comparing sums of doubles with the deadline, which rounding can put a
 * hair past it. */
static void *sampler_main(void *arg)
{
    int seconds = *(const int *)arg;
    for (int s = 1; s <= seconds && s <= MAX_SAMPLES && !atomic_load(&shared->stop); s++) {
        sleep_until(samples_t0 + s);
        ops_at[nsamples++] = ops_so_far();
    }
    return NULL;
}

/* Run threads first .. first + n - 1 of the run and wait for them; false
 * if one could not be started. */
static bool run_threads(int first, int n)
{
    pthread_t th[MAX_THREADS];
    int started = 0;
    while (started < n &&
           pthread_create(&th[started], NULL, thread_main, (void *)(intptr_t)(first + started)) == 0)
        started++;
    if (started < n)
        record_fail("pthread_create");
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    return started == n;
}

/* Each group but the first in a child process of its own; this process
 * runs the first, then waits for the others. */
static void run_groups(void)
{
    pid_t pids[MAX_THREADS];
    int nchildren = 0;
    for (int first = group; first < nthreads; first += group) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(run_threads(first, group_size(first)) ? 0 : 1);
        if (pid < 0) {
            record_fail("fork of a thread group: %s", strerror(errno));
            break;
        }
        pids[nchildren++] = pid;
    }
    run_threads(0, group_size(0));
    for (int i = 0; i < nchildren; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
    }
}

static int read_seconds(void)
{
    long s = guest_cmdline_long("umbra.seconds", 10);
    return s > 0 && s <= INT_MAX ? (int)s : 10;
}

static int run_bench(void)
{
    page_size = sysconf(_SC_PAGESIZE);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    nthreads = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
    int seconds = read_seconds();
    wss_pages = guest_cmdline_long("umbra.wss", 0);
    long visits = guest_cmdline_long("umbra.visits", MAX_THREADS - 1);
    long group_arg = guest_cmdline_long("umbra.group", MAX_THREADS);
    if (wss_pages < 0 || wss_pages > 65536) {
        printf("UMBRA-PTBENCH FAIL umbra.wss=%ld is not 0..65536 pages\n", wss_pages);
        return 1;
    }
    if (visits < 1 || visits > MAX_THREADS - 1) {
        printf("UMBRA-PTBENCH FAIL umbra.visits=%ld is not 1..%d\n", visits, MAX_THREADS - 1);
        return 1;
    }
    if (group_arg < 1 || group_arg > MAX_THREADS) {
        printf("UMBRA-PTBENCH FAIL umbra.group=%ld is not 1..%d\n", group_arg, MAX_THREADS);
        return 1;
    }
    group = group_arg < nthreads ? (int)group_arg : nthreads;
    visits_per_step = visits < group - 1 ? (int)visits : group - 1;
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        printf("UMBRA-PTBENCH FAIL mmap of the shared results: %s\n", strerror(errno));
        return 1;
    }
    int processes = (nthreads + group - 1) / group;
    printf("ptbench: %ld online hart(s), %d thread(s) in %d process(es), %d s, working set %ld "
           "pages per thread, %d visit(s) per step\n", cpus, nthreads, processes, seconds,
           wss_pages, visits_per_step);

    unsigned long long idle0 = 0, total0 = 0, idle1 = 0, total1 = 0;
    bool have_ticks = cpu_ticks(&idle0, &total0);
    double t0 = guest_now_seconds();
    deadline = t0 + seconds;
    samples_t0 = t0;
    pthread_t sampler;
    bool sampling = pthread_create(&sampler, NULL, sampler_main, &seconds) == 0;
    run_groups();
    double elapsed = guest_now_seconds() - t0;
    if (sampling)
        pthread_join(sampler, NULL);
    have_ticks = have_ticks && cpu_ticks(&idle1, &total1) && total1 > total0;

    if (atomic_load(&shared->failed)) {
        printf("UMBRA-PTBENCH FAIL %s\n", shared->fail_msg);
        return 1;
    }
    struct counters sum = { 0 };
    for (int i = 0; i < nthreads; i++) {
        const struct counters *c = &shared->counts[i];
        sum.mmaps += c->mmaps;
        sum.mprotects += c->mprotects;
        sum.munmaps += c->munmaps;
        sum.forks += c->forks;
        sum.execs += c->execs;
        sum.visits += c->visits;
    }
    uint64_t ops = counter_ops(&sum);
    printf("ptbench: mmap %llu, mprotect %llu, munmap %llu, fork %llu, exec %llu in %.2f s; "
           "%llu decided cross-hart probes\n",
           (unsigned long long)sum.mmaps, (unsigned long long)sum.mprotects,
           (unsigned long long)sum.munmaps, (unsigned long long)sum.forks,
           (unsigned long long)sum.execs, elapsed, (unsigned long long)sum.visits);
    /* Per thread, so that an unfair share (or a process whose counts were
     * lost) shows. */
    printf("ptbench: ops per thread:");
    for (int i = 0; i < nthreads; i++)
        printf(" %llu", (unsigned long long)counter_ops(&shared->counts[i]));
    printf("\n");
    printf("ptbench: ops by second:");
    for (int i = 0; i < nsamples; i++)
        printf(" %llu", (unsigned long long)(ops_at[i] - (i ? ops_at[i - 1] : 0)));
    printf("\n");
    /* How much of the run the guest's own CPUs had nothing to do: its
     * threads blocked on each other (the mm's lock), not the machine. */
    if (have_ticks)
        printf("ptbench: guest CPUs idle %.0f %% of the run\n",
               100.0 * (double)(idle1 - idle0) / (double)(total1 - total0));
    if (sum.munmaps == 0 || sum.execs == 0) {
        printf("UMBRA-PTBENCH FAIL no complete cycle and exec in %.2f s\n", elapsed);
        return 1;
    }
    printf("UMBRA-PTBENCH PASS ops=%llu ops_per_s=%.1f\n", (unsigned long long)ops,
           (double)ops / elapsed);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], EXEC_ARG) == 0)
        return exec_child(argv[2]);
    if (getpid() != 1 && argc > 0 && access("/proc/self/exe", X_OK) != 0)
        snprintf(self_path, sizeof self_path, "%s", argv[0]);
    return guest_main("UMBRA-PTBENCH", run_bench);
}
