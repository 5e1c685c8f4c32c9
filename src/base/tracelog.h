/* tracelog: the --trace event log — traps, coherency events and patches, one
 * line each, in a file.
 *
 * Owns the trace file, the mask of enabled categories and one output buffer
 * per thread that logs. A line goes into the calling thread's buffer with no
 * lock; a buffer is written to the file (under the file's lock) only when it
 * fills, when its thread exits, and at tracelog_close. Lines of one hart are
 * therefore in order; lines of different harts interleave in chunks, and the
 * first field of every line, the machine time in mtime ticks (10 MHz),
 * orders them: `sort -n -k1` gives one timeline.
 *
 * Callers: the hooks are one line each, in src/cpu (trap entry, SFENCE.VMA)
 * and src/coherence (remote fences, drains, resyncs, patch posts and
 * outcomes), written as
 *     if (tracelog_on(TRACE_TRAPS)) tracelog_trap(...);
 * With tracing off that is one load of a global and a branch predicted not
 * taken. The mask is set by tracelog_open on the main thread before any
 * hart runs and never changes afterwards, so hart threads read it plainly.
 * This module sits at the bottom (src/base) so both layers can call it
 * without depending upward.
 *
 * Line formats (fields are key=value; numbers in hex except counts):
 *   T trap hart=H cause=C (NAME) tval=V pc=P priv=F->T
 *   T sfence.vma hart=H addr=A|all asid=N|all satp=S
 *   T remote-sfence.vma hart=H      (-bios builtin: another hart's SBI remote
 *                                    fence, served at this hart's boundary)
 *   T sbi-sfence.vma hart=H satp=S  (-bios builtin: a remote fence that names
 *                                    the calling hart itself)
 *   T drain hart=H from=P|dma patches=N
 *   T resync hart=H
 *   T drop-all hart=H
 *   T patch producer=P|dma consumer=C pte=A derived=D token=K OUTCOME
 * where OUTCOME is posted or overflow (the producer's side) and applied,
 * stale-invalidated or stale-rewalked (the consumer's side).
 */
#ifndef UMBRA_BASE_TRACELOG_H
#define UMBRA_BASE_TRACELOG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tracelog_category {
    TRACE_TRAPS = 1u << 0,          /* exceptions and interrupts taken */
    TRACE_COHERENCE = 1u << 1,      /* SFENCE.VMA, drains, resyncs, drop-all */
    TRACE_PATCHES = 1u << 2,        /* every patch posted and taken */
    TRACE_ALL = TRACE_TRAPS | TRACE_COHERENCE | TRACE_PATCHES,
};

/* Where the log goes when --trace names no file=. */
#define TRACELOG_DEFAULT_FILE "umbra-trace.log"

/* The enabled categories; 0 = tracing off. Read through tracelog_on. */
extern unsigned tracelog_mask;

static inline bool tracelog_on(unsigned category)
{
    return __builtin_expect((tracelog_mask & category) != 0, 0);
}

/* Parse an --trace value: a comma list of traps, coherence, patches, all,
 * and file=PATH. Sets *mask and *path (NULL: the default file; "-" means
 * stderr) — *path points into `value`'s copy in `buf`. Returns false with a
 * message in err on an unknown word or a missing category. */
bool tracelog_parse(const char *value, unsigned *mask, char *buf, size_t bufsize,
                    const char **path, char *err, size_t errlen);

/* Open (truncate) the file and enable `mask`. Returns false with a message
 * in err when the file cannot be opened. Registers tracelog_close at exit. */
bool tracelog_open(unsigned mask, const char *path, char *err, size_t errlen);

/* Write every buffer out and close the file; tracing is off afterwards.
 * Only when no other thread logs any more (the harts have stopped). */
void tracelog_close(void);

/* privileges are 0 = U, 1 = S, 3 = M (the spec's encoding) */
void tracelog_trap(unsigned hart, uint64_t cause, uint64_t tval, uint64_t pc, unsigned from,
                   unsigned to);
void tracelog_sfence(unsigned hart, bool has_addr, uint64_t addr, bool has_asid, uint64_t asid,
                     uint64_t satp);
/* `producer` is a hart number, or >= nharts for the device-DMA row */
void tracelog_remote_sfence(unsigned hart);
void tracelog_sbi_sfence(unsigned hart, uint64_t satp);
void tracelog_drain(unsigned hart, unsigned producer, bool dma, unsigned patches);
void tracelog_resync(unsigned hart);
void tracelog_drop_all(unsigned hart);
/* hart's table unshadowed the page-table frame at `frame` (write flooding) */
void tracelog_unshadow(unsigned hart, uint64_t frame);

enum tracelog_patch_outcome {
    TRACE_PATCH_POSTED,
    TRACE_PATCH_OVERFLOW,           /* ring full: the consumer will resync */
    TRACE_PATCH_APPLIED,            /* valid token: derived value written (claim 49) */
    TRACE_PATCH_STALE_INVALIDATED,  /* claim 50 */
    TRACE_PATCH_STALE_REWALKED,     /* claim 51 */
};
void tracelog_patch(unsigned producer, bool dma, unsigned consumer, uint64_t pte_addr,
                    uint64_t derived, uint64_t token, enum tracelog_patch_outcome outcome);

/* The name of an exception or interrupt cause ("illegal-instruction",
 * "supervisor-timer"...), or "unknown". */
const char *tracelog_cause_name(uint64_t cause);
#endif
