/* tracelog: the --trace value's parsing, the cause names, and the sink:
 * lines from several threads, each buffered per thread, all reach the file
 * once the threads end and the log closes, in order within each thread. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "base/tracelog.h"

static void parsing(void)
{
    unsigned mask;
    const char *path;
    char buf[128], err[128];
    CHECK(tracelog_parse("traps", &mask, buf, sizeof buf, &path, err, sizeof err));
    CHECK_EQ(mask, TRACE_TRAPS);
    CHECK(path == NULL);
    CHECK(tracelog_parse("coherence,patches,file=/tmp/x.log", &mask, buf, sizeof buf, &path, err,
                         sizeof err));
    CHECK_EQ(mask, TRACE_COHERENCE | TRACE_PATCHES);
    CHECK(path && !strcmp(path, "/tmp/x.log"));
    CHECK(tracelog_parse("all,file=-", &mask, buf, sizeof buf, &path, err, sizeof err));
    CHECK_EQ(mask, TRACE_ALL);
    CHECK(path && !strcmp(path, "-"));
    CHECK(!tracelog_parse("traps,bogus", &mask, buf, sizeof buf, &path, err, sizeof err));
    CHECK(strstr(err, "bogus") != NULL);
    CHECK(!tracelog_parse("file=/tmp/x", &mask, buf, sizeof buf, &path, err, sizeof err));
    CHECK(!tracelog_parse("traps,file=", &mask, buf, sizeof buf, &path, err, sizeof err));
    CHECK(!tracelog_parse("", &mask, buf, sizeof buf, &path, err, sizeof err));
}

static void cause_names(void)
{
    CHECK(!strcmp(tracelog_cause_name(2), "illegal-instruction"));
    CHECK(!strcmp(tracelog_cause_name(9), "ecall-from-S"));
    CHECK(!strcmp(tracelog_cause_name(15), "store-page-fault"));
    CHECK(!strcmp(tracelog_cause_name(10), "unknown"));
    CHECK(!strcmp(tracelog_cause_name(1ull << 63 | 5), "supervisor-timer"));
    CHECK(!strcmp(tracelog_cause_name(1ull << 63 | 11), "machine-external"));
    CHECK(!strcmp(tracelog_cause_name(1ull << 63 | 2), "unknown"));
}

#define LINES_PER_THREAD 5000           /* several buffers' worth per thread */

static void *logger(void *arg)
{
    unsigned hart = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < LINES_PER_THREAD; i++)
        tracelog_patch(hart, false, 1, 0x80001000u + 8 * i, i, i, TRACE_PATCH_POSTED);
    return NULL;
}

static void sink(void)
{
    char path[] = "/tmp/test_tracelog.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    char err[256];
    CHECK(tracelog_open(TRACE_ALL, path, err, sizeof err));
    CHECK(tracelog_on(TRACE_PATCHES));
    pthread_t t[3];
    for (uintptr_t i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, logger, (void *)i);
    for (unsigned i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    tracelog_trap(0, 2, 0x201b, 0x80000010, 3, 3);
    tracelog_sfence(1, true, 0x4000, false, 0, 0x8000000000080100ull);
    tracelog_unshadow(2, 0x80357000);
    tracelog_close();
    CHECK(!tracelog_on(TRACE_ALL));

    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[512];
    unsigned per_hart[3] = { 0 }, others = 0;
    bool in_order = true, trap_ok = false, sfence_ok = false, unshadow_ok = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long long when, token;
        unsigned producer;
        if (sscanf(line, "%llu patch producer=%u consumer=1 pte=%*x derived=%*x token=%llu posted",
                   &when, &producer, &token) == 3 && producer < 3) {
            in_order &= token == per_hart[producer];
            per_hart[producer]++;
            continue;
        }
        others++;
        trap_ok |= strstr(line, " trap hart=0 cause=0x2 (illegal-instruction) tval=0x201b "
                                "pc=0x80000010 priv=M->M\n") != NULL;
        sfence_ok |= strstr(line, " sfence.vma hart=1 addr=0x4000 asid=all "
                                  "satp=0x8000000000080100\n") != NULL;
        unshadow_ok |= strstr(line, " unshadow hart=2 frame=0x80357000\n") != NULL;
    }
    fclose(f);
    unlink(path);
    for (unsigned i = 0; i < 3; i++)
        CHECK_EQ(per_hart[i], LINES_PER_THREAD);
    CHECK(in_order);
    CHECK_EQ(others, 3);
    CHECK(trap_ok);
    CHECK(sfence_ok);
    CHECK(unshadow_ok);
}

static void bad_file(void)
{
    char err[256];
    CHECK(!tracelog_open(TRACE_ALL, "/nonexistent-dir/trace.log", err, sizeof err));
    CHECK(strstr(err, "/nonexistent-dir/trace.log") != NULL);
    CHECK(!tracelog_on(TRACE_ALL));
}

int main(void)
{
    parsing();
    cause_names();
    sink();
    bad_file();
    return check_summary();
}
