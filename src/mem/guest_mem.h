/* guest_mem: the guest physical address space.
 *
 * Owns the host mapping of guest RAM (one anonymous mmap shared by every hart
 * thread) and the table of MMIO windows that devices register. Every guest
 * access to RAM is an atomic access of the access size (relaxed ordering for
 * plain loads and stores; AMOs use __atomic read-modify-write on the host
 * pointer), so the host program has no data races even when the guest does
 * (DESIGN.md section 3).
 *
 * The RAM mapping sits between two guard regions mapped PROT_NONE, so a
 * host-side bounds bug that runs off either end of guest RAM (a missed
 * mem_in_ram check in a device, an off-by-one in a bulk copy) is a SIGSEGV
 * the tests see, never a silent read or write of other host memory.
 *
 * Callers: hart threads (slow path of loads/stores/fetches, page walks),
 * device code (virtio DMA, from whichever thread touched the device), the
 * loader (before any hart runs). The region table is built before harts
 * start and read-only afterwards, so lookups need no lock.
 */
#ifndef UMBRA_MEM_GUEST_MEM_H
#define UMBRA_MEM_GUEST_MEM_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define MEM_MAX_REGIONS 32
/* Bytes of PROT_NONE address space on each side of the RAM mapping: larger
 * than any single host copy umbra makes (a 64 KiB virtio bounce chunk). */
#define MEM_GUARD_SIZE (2ull << 20)

/* The interface every memory-mapped device implements (see dev/device.h).
 * `offset` is relative to the window base; `size` is 1, 2, 4 or 8.
 * read/write return false when the device rejects the access (wrong size or
 * offset it does not decode); the hart turns that into an access fault. */
struct mmio_ops {
    bool (*read)(void *dev, uint64_t offset, unsigned size, uint64_t *value);
    bool (*write)(void *dev, uint64_t offset, unsigned size, uint64_t value);
};

struct mmio_region {
    uint64_t base, size;
    const struct mmio_ops *ops;
    void *dev;
    const char *name;
};

/* Write traces (DESIGN.md section 1). A frame is traced while some derived
 * translation depends on the page-table entries it holds; its trace word is
 * then non-zero (src/coherence defines the bits). Every store to a traced
 * frame, whoever makes it, is bracketed by the two hooks, which src/coherence
 * installs: the arrow of dependencies stays pointing down. */
#define MEM_PRODUCER_DMA 0xffffu     /* stores made by device DMA */

struct mem_trace_hooks {
    void (*store_begin)(void *ctx, uint64_t pa, unsigned size);
    /* changed: false when the store left memory as it was (a store of the
     * value already there, a CAS that lost): then there is nothing new to
     * derive, only the bracket to close. */
    void (*store_end)(void *ctx, unsigned producer, uint64_t pa, unsigned size, bool changed);
    /* A hart's store of the value memory already held, made without the
     * bracket (mem_write_by): only counted. */
    void (*store_silent)(void *ctx, unsigned producer);
    void *ctx;
};

struct guest_mem {
    uint8_t *ram;               /* host mapping of [ram_base, ram_base + ram_size) */
    uint64_t ram_base, ram_size;
    void *reservation;          /* guard + RAM + guard, as one mapping */
    size_t reservation_size;
    struct mmio_region region[MEM_MAX_REGIONS];
    unsigned nregions;
    bool mmio_in_ram;           /* a window lies inside RAM (HTIF's tohost), so
                                   RAM addresses too are looked for in region[] */
    _Atomic uint32_t *trace;    /* one trace word per RAM frame, or NULL: no traces */
    struct mem_trace_hooks trace_hooks;
    _Atomic uint8_t *code_mark; /* per RAM frame: some hart decoded code from it */
    _Atomic uint64_t code_epoch;    /* device/loader writes to marked frames */
};

/* Map `ram_size` bytes of zeroed RAM at guest-physical `ram_base`, with a
 * MEM_GUARD_SIZE guard region on each side. 0 or -errno. */
int mem_init(struct guest_mem *m, uint64_t ram_base, uint64_t ram_size);
void mem_destroy(struct guest_mem *m);

/* Register an MMIO window. A window may overlay RAM (HTIF's tohost does);
 * it then takes precedence there. Returns false if the table is full or the
 * window overlaps another window. Only before harts start. */
bool mem_map_mmio(struct guest_mem *m, uint64_t base, uint64_t size,
                  const struct mmio_ops *ops, void *dev, const char *name);

/* The window containing pa, or NULL. */
const struct mmio_region *mem_find_mmio(const struct guest_mem *m, uint64_t pa);

/* True if [pa, pa+len) lies wholly inside RAM. Overflow-safe. */
static inline bool mem_in_ram(const struct guest_mem *m, uint64_t pa, uint64_t len)
{
    return pa >= m->ram_base && len <= m->ram_size && pa - m->ram_base <= m->ram_size - len;
}

/* Host pointer for a RAM address; only after mem_in_ram said yes. */
static inline uint8_t *mem_ram_ptr(const struct guest_mem *m, uint64_t pa)
{
    return m->ram + (pa - m->ram_base);
}

/* Allocate the trace words and install the hooks (before harts start). */
bool mem_trace_init(struct guest_mem *m, struct mem_trace_hooks hooks);

/* The trace word of the RAM frame holding pa (which must be in RAM). */
static inline _Atomic uint32_t *mem_trace_word(const struct guest_mem *m, uint64_t pa)
{
    return &m->trace[(pa - m->ram_base) >> PAGE_SHIFT];
}

/* Is the frame holding pa traced? Relaxed: callers that need ordering
 * against trace placement say how they get it (src/coherence/trace.h). */
static inline bool mem_frame_traced(const struct guest_mem *m, uint64_t pa)
{
    return m->trace && mem_in_ram(m, pa, 1) &&
           atomic_load_explicit(mem_trace_word(m, pa), memory_order_relaxed) != 0;
}

/* Bracket a store of `size` bytes at pa that the caller makes itself (an AMO
 * or a CAS on the host pointer): begin before, end after, saying whether
 * the store changed memory (known from the atomic's old value). Both are
 * no-ops for untraced frames. */
void mem_traced_store_begin(struct guest_mem *m, uint64_t pa, unsigned size, bool *traced);
void mem_traced_store_end(struct guest_mem *m, unsigned producer, uint64_t pa, unsigned size,
                          bool traced, bool changed);

/* True if the 4 KiB page at page_pa is plain RAM with no MMIO overlay, so a
 * hart may cache a host pointer to it and access it directly. */
bool mem_page_is_plain_ram(const struct guest_mem *m, uint64_t page_pa);

/* The hart's slow path: one access of `size` (1, 2, 4, 8) bytes at pa,
 * to RAM or to a device. false = nothing there (access fault). */
bool mem_read(struct guest_mem *m, uint64_t pa, unsigned size, uint64_t *value);
bool mem_write(struct guest_mem *m, uint64_t pa, unsigned size, uint64_t value);
/* mem_write on behalf of a producer (a hart id), for the write-trace path. */
bool mem_write_by(struct guest_mem *m, unsigned producer, uint64_t pa, unsigned size,
                  uint64_t value);

/* Code-write marks (cpu/icache.h). A hart marks a frame before it first
 * snapshots the frame's code; a write that no guest FENCE.I orders (device
 * DMA, the loader, a debugger, mem_write) bumps code_epoch if it touches a
 * marked frame, after a full fence, so that either the hart's snapshot
 * sees the write or the write sees the mark. Marks are never cleared. */
void mem_code_mark(struct guest_mem *m, uint64_t pa);
static inline uint64_t mem_code_epoch(const struct guest_mem *m)
{
    return atomic_load_explicit(&m->code_epoch, memory_order_relaxed);
}

/* Bulk copies between host buffers and guest RAM, for the loader and for
 * device DMA. false (and nothing copied) if any byte lies outside RAM. */
bool mem_copy_to_guest(struct guest_mem *m, uint64_t pa, const void *src, size_t len);
bool mem_copy_from_guest(struct guest_mem *m, void *dst, uint64_t pa, size_t len);
/* One device store of `size` bytes to RAM as a single atomic access (a ring
 * index the guest may be reading), reported to traces like other DMA. */
bool mem_dma_store(struct guest_mem *m, uint64_t pa, unsigned size, uint64_t value);

/* RAM access of `size` bytes at host pointer p, little-endian like the host.
 * Aligned accesses are single relaxed atomics; a misaligned one is done byte
 * by byte (the RISC-V spec does not make misaligned accesses atomic). */
static inline uint64_t ram_load(const void *p, unsigned size)
{
    uintptr_t a = (uintptr_t)p;
    if ((a & (size - 1)) == 0) {
        switch (size) {
        case 1: return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
        case 2: return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
        case 4: return __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED);
        default: return __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
        }
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)__atomic_load_n((const uint8_t *)p + i, __ATOMIC_RELAXED) << (8 * i);
    return v;
}

static inline void ram_store(void *p, unsigned size, uint64_t v)
{
    uintptr_t a = (uintptr_t)p;
    if ((a & (size - 1)) == 0) {
        switch (size) {
        case 1: __atomic_store_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED); return;
        case 2: __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED); return;
        case 4: __atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED); return;
        default: __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED); return;
        }
    }
    for (unsigned i = 0; i < size; i++)
        __atomic_store_n((uint8_t *)p + i, (uint8_t)(v >> (8 * i)), __ATOMIC_RELAXED);
}

/* ram_store for a traced frame: exchanges when aligned, so that whether the
 * store changed memory is known exactly, and says so. The memsets that
 * zero a page the guest once used as a page table, which are already
 * zero, then post no patches. An unaligned store counts as a change. */
static inline bool ram_exchange(void *p, unsigned size, uint64_t v)
{
    uintptr_t a = (uintptr_t)p;
    if ((a & (size - 1)) == 0) {
        switch (size) {
        case 1: return __atomic_exchange_n((uint8_t *)p, (uint8_t)v, __ATOMIC_RELAXED) != (uint8_t)v;
        case 2: return __atomic_exchange_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED) != (uint16_t)v;
        case 4: return __atomic_exchange_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED) != (uint32_t)v;
        default: return __atomic_exchange_n((uint64_t *)p, v, __ATOMIC_RELAXED) != v;
        }
    }
    ram_store(p, size, v);
    return true;
}
#endif
