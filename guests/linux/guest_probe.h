/* guest_probe: touch an address and learn whether it faulted, without
 * dying — how the guest checks say "this hart can no longer reach that
 * mapping". Header-only, like guest_init.h.
 *
 * Each thread has its own jump buffer; the SIGSEGV/SIGBUS handler jumps
 * back into the probe that faulted. A fault outside a probe is a failure of
 * its own: the handler prints "<tag> FAIL unexpected signal ..." with the
 * faulting address, pc, ra and the mappings they lie in, and exits 1.
 *
 * The signal mask is neither saved nor restored: the handler is SA_NODEFER,
 * so the mask never changes and there is nothing to restore. Saving it
 * (sigsetjmp's second argument) cost a system call on every probe, and
 * restoring it a take, per fault, of the process's signal lock, which all
 * its threads share. In ptbench at -smp 4 under -bios builtin, guest code
 * spinning on that lock for the restore (in __set_current_blocked) was 6 %
 * of the host's time; without it, 3 paired runs, ops/s: 4,173-5,166
 * against 3,787-3,979 (at -smp 8 under OpenSBI 1,762-3,282 against
 * 1,285-2,027). The kernel still takes the lock twice to deliver each
 * fault: that traffic is the guest's own. */
#ifndef UMBRA_GUEST_PROBE_H
#define UMBRA_GUEST_PROBE_H
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static __thread sigjmp_buf guest_probe_env;
static __thread volatile int guest_probing;
static const char *guest_probe_tag = "UMBRA-GUEST";

/* The line of /proc/self/maps that holds addr, or "?". Not
 * async-signal-safe, but it runs only on the way to _exit. */
static inline void guest_mapping_of(unsigned long addr, char *out, size_t len)
{
    snprintf(out, len, "?");
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return;
    char line[256];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
            line[strcspn(line, "\n")] = 0;
            snprintf(out, len, "%s", line);
            break;
        }
    }
    fclose(maps);
}

static inline void guest_on_fault(int sig, siginfo_t *info, void *context)
{
    if (guest_probing)
        siglongjmp(guest_probe_env, sig);
    unsigned long pc = 0, ra = 0, sp = 0;
#if defined(__riscv)
    const ucontext_t *uc = context;
    pc = uc->uc_mcontext.__gregs[REG_PC];
    ra = uc->uc_mcontext.__gregs[REG_RA];
    sp = uc->uc_mcontext.__gregs[REG_SP];
#else
    (void)context;
#endif
    char pc_map[256], ra_map[256], line[900];
    guest_mapping_of(pc, pc_map, sizeof pc_map);
    guest_mapping_of(ra, ra_map, sizeof ra_map);
    int n = snprintf(line, sizeof line,
                     "%s FAIL unexpected signal %d at %p (pc 0x%lx ra 0x%lx sp 0x%lx) in pid %d "
                     "on hart %d; pc in [%s], ra in [%s]\n",
                     guest_probe_tag, sig, info->si_addr, pc, ra, sp, (int)getpid(),
                     sched_getcpu(), pc_map, ra_map);
    if (write(1, line, (size_t)n) < 0)
        _exit(2);
    _exit(1);
}

/* Catch SIGSEGV and SIGBUS for the whole process; `tag` starts the line a
 * fault outside a probe prints. */
static inline void guest_probe_install(const char *tag)
{
    guest_probe_tag = tag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = guest_on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;   /* the mask never changes: above */
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* Read *p into *value, or write *value to *p: 1, or 0 if it faulted. */
static inline int guest_probe(volatile uint64_t *p, uint64_t *value, int write)
{
    if (sigsetjmp(guest_probe_env, 0)) {
        guest_probing = 0;
        return 0;
    }
    guest_probing = 1;
    if (write)
        *p = *value;
    else
        *value = *p;
    guest_probing = 0;
    return 1;
}

static inline int probe_read(volatile uint64_t *p, uint64_t *value)
{
    return guest_probe(p, value, 0);
}

static inline int probe_write(volatile uint64_t *p, uint64_t value)
{
    return guest_probe(p, &value, 1);
}
#endif
