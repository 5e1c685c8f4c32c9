/* timebase: the machine's one clock, mtime, ticking at 10 MHz from the host
 * monotonic clock (the `virt` board's timebase-frequency).
 * Owns nothing but the start instant. Called from any thread: hart threads
 * (time CSR, Sstc, WFI deadlines), the CLINT, the console thread. */
#ifndef UMBRA_BASE_TIMEBASE_H
#define UMBRA_BASE_TIMEBASE_H
#include <stdint.h>
#include <time.h>

#define TIMEBASE_HZ 10000000ull

/* Ticks since the machine started (process start if timebase_reset never ran). */
uint64_t timebase_now(void);
/* Restart the count at zero (machine reset). */
void timebase_reset(void);
/* Host CLOCK_MONOTONIC instant at which mtime reaches `ticks` (for timed waits). */
struct timespec timebase_deadline(uint64_t ticks);
#endif
