#include "base/timebase.h"
#include <stdatomic.h>

static _Atomic int64_t start_ns = -1;

static int64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t start(void)
{
    int64_t s = atomic_load_explicit(&start_ns, memory_order_relaxed);
    if (s < 0) {
        int64_t expected = -1, now = host_ns();
        atomic_compare_exchange_strong(&start_ns, &expected, now);
        s = atomic_load(&start_ns);
    }
    return s;
}

uint64_t timebase_now(void)
{
    int64_t s = start();    /* first: on the very first call it reads the clock itself */
    return (uint64_t)(host_ns() - s) / (1000000000 / TIMEBASE_HZ);
}

void timebase_reset(void)
{
    atomic_store(&start_ns, host_ns());
}

struct timespec timebase_deadline(uint64_t ticks)
{
    int64_t ns = start() + (int64_t)(ticks > (uint64_t)INT64_MAX / 200 ? (uint64_t)INT64_MAX / 200 : ticks)
                 * (int64_t)(1000000000 / TIMEBASE_HZ);
    struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
    return ts;
}
