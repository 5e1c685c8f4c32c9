/* spin: the hint a thread gives the host CPU while it spins on shared state
 * (x86 PAUSE, Arm YIELD): it frees the core's resources for its sibling
 * thread and avoids the pipeline flush of a memory-order violation when
 * the state changes. Header only; any thread. */
#ifndef UMBRA_BASE_SPIN_H
#define UMBRA_BASE_SPIN_H

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}
#endif
