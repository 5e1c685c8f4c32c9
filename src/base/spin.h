/* spin: the hint a thread gives the host CPU while it spins on shared state
 * (x86 PAUSE, Arm YIELD): it frees the core's resources for its sibling
 * thread and avoids the pipeline flush of a memory-order violation when
 * the state changes; and how long a waiter spins before it sleeps. Header
 * only; any thread. */
#ifndef UMBRA_BASE_SPIN_H
#define UMBRA_BASE_SPIN_H
#include <stdint.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* An adaptive poll window, as Linux's cpuidle-haltpoll and KVM's halt
 * polling keep one: a waiter spins up to `window` before it sleeps, since
 * waking a sleeping host thread costs 10-50 us on a virtualized host. A
 * wake-up during the spin, or a sleep shorter than grow_below (wake-up
 * latency included), doubles the window from min up to max; a longer
 * sleep halves it, to nothing below min, so a waiter whose waits are long
 * soon sleeps at once again. All in the caller's units. */
struct poll_limits {
    uint64_t min, max, grow_below;
};

/* `slept` for a wait that brought the waiter nothing: narrows the window */
#define POLL_WAIT_IN_VAIN UINT64_MAX

static inline uint64_t poll_window_next(uint64_t window, uint64_t slept, struct poll_limits l)
{
    uint64_t w = window;
    if (slept < l.grow_below)
        w = w < l.min ? l.min : 2 * w;
    else
        w /= 2;
    return w > l.max ? l.max : w < l.min ? 0 : w;
}
#endif
