#include "mem/guest_mem.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static size_t round_to_host_pages(uint64_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (size_t)((bytes + page - 1) & ~(uint64_t)(page - 1));
}

/* Host huge pages: RAM starts on a 2 MiB boundary of the host's address
 * space and is offered to transparent huge pages (MADV_HUGEPAGE), as QEMU
 * does with its RAM. A guest that touches memory at random (a pointer
 * chase, its own page-table walks) would otherwise miss the host TLB on
 * most accesses wherever the host's policy is "madvise". */
#define HOST_HUGE_PAGE (2ull << 20)

/* Reserve guard + RAM + guard with no access at all, then map RAM over the
 * middle: the guards stay PROT_NONE for the life of the machine. Only the
 * RAM part is ever given pages (MAP_NORESERVE, filled on first touch). The
 * reservation has one huge page to spare so that RAM can be aligned. */
int mem_init(struct guest_mem *m, uint64_t ram_base, uint64_t ram_size)
{
    memset(m, 0, sizeof *m);
    if (ram_size > SIZE_MAX / 4)
        return -ENOMEM;
    size_t ram_bytes = round_to_host_pages(ram_size);
    size_t total = ram_bytes + 2 * MEM_GUARD_SIZE + HOST_HUGE_PAGE;
    uint8_t *base = mmap(NULL, total, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        return -errno;
    uintptr_t start = ((uintptr_t)base + MEM_GUARD_SIZE + HOST_HUGE_PAGE - 1) &
                      ~(uintptr_t)(HOST_HUGE_PAGE - 1);
    void *p = mmap((void *)start, ram_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        munmap(base, total);
        return -e;
    }
    /* Only advice: a host without transparent huge pages keeps 4 KiB pages. */
    (void)madvise(p, ram_bytes, MADV_HUGEPAGE);
    m->reservation = base;
    m->reservation_size = total;
    m->ram = p;
    m->ram_base = ram_base;
    m->ram_size = ram_size;
    m->code_mark = calloc((ram_size + PAGE_SIZE - 1) >> PAGE_SHIFT, 1);
    if (!m->code_mark && ram_size) {
        mem_destroy(m);
        return -ENOMEM;
    }
    return 0;
}

bool mem_trace_init(struct guest_mem *m, struct mem_trace_hooks hooks)
{
    size_t frames = m->ram_size >> PAGE_SHIFT;
    m->trace = calloc(frames ? frames : 1, sizeof *m->trace);
    m->trace_hooks = hooks;
    return m->trace != NULL;
}

/* A store that straddles two frames is reported once per traced frame. */
void mem_traced_store_begin(struct guest_mem *m, uint64_t pa, unsigned size, bool *traced)
{
    *traced = m->trace && (mem_frame_traced(m, pa) || mem_frame_traced(m, pa + size - 1));
    if (*traced)
        m->trace_hooks.store_begin(m->trace_hooks.ctx, pa, size);
}

void mem_traced_store_end(struct guest_mem *m, unsigned producer, uint64_t pa, unsigned size,
                          bool traced, bool changed)
{
    if (traced)
        m->trace_hooks.store_end(m->trace_hooks.ctx, producer, pa, size, changed);
}

void mem_destroy(struct guest_mem *m)
{
    free(m->trace);
    m->trace = NULL;
    free(m->code_mark);
    m->code_mark = NULL;
    if (m->reservation)
        munmap(m->reservation, m->reservation_size);
    m->reservation = NULL;
    m->ram = NULL;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

bool mem_map_mmio(struct guest_mem *m, uint64_t base, uint64_t size,
                  const struct mmio_ops *ops, void *dev, const char *name)
{
    if (m->nregions == MEM_MAX_REGIONS || size == 0 || base + size < base)
        return false;
    for (unsigned i = 0; i < m->nregions; i++)
        if (ranges_overlap(base, size, m->region[i].base, m->region[i].size))
            return false;
    m->region[m->nregions++] = (struct mmio_region){ base, size, ops, dev, name };
    m->mmio_in_ram |= ranges_overlap(base, size, m->ram_base, m->ram_size);
    return true;
}

/* Most boards keep their windows out of RAM: then an address in RAM is
 * in none, which every slow access and every fill asks. */
const struct mmio_region *mem_find_mmio(const struct guest_mem *m, uint64_t pa)
{
    if (!m->mmio_in_ram && mem_in_ram(m, pa, 1))
        return NULL;
    for (unsigned i = 0; i < m->nregions; i++)
        if (pa - m->region[i].base < m->region[i].size)
            return &m->region[i];
    return NULL;
}

bool mem_page_is_plain_ram(const struct guest_mem *m, uint64_t page_pa)
{
    if (!mem_in_ram(m, page_pa, PAGE_SIZE))
        return false;
    for (unsigned i = 0; m->mmio_in_ram && i < m->nregions; i++)
        if (ranges_overlap(page_pa, PAGE_SIZE, m->region[i].base, m->region[i].size))
            return false;
    return true;
}

/* An access that straddles a window edge is rejected: devices decode whole
 * registers, and RAM next to a window is not a register. */
bool mem_read(struct guest_mem *m, uint64_t pa, unsigned size, uint64_t *value)
{
    const struct mmio_region *r = mem_find_mmio(m, pa);
    if (r) {
        if (pa - r->base > r->size - size)
            return false;
        return r->ops->read(r->dev, pa - r->base, size, value);
    }
    if (!mem_in_ram(m, pa, size))
        return false;
    *value = ram_load(mem_ram_ptr(m, pa), size);
    return true;
}

bool mem_write(struct guest_mem *m, uint64_t pa, unsigned size, uint64_t value)
{
    return mem_write_by(m, MEM_PRODUCER_DMA, pa, size, value);
}

void mem_code_mark(struct guest_mem *m, uint64_t pa)
{
    _Atomic uint8_t *mark = &m->code_mark[(pa - m->ram_base) >> PAGE_SHIFT];
    if (!atomic_load_explicit(mark, memory_order_relaxed))
        atomic_exchange(mark, 1);
    atomic_thread_fence(memory_order_seq_cst);
}

/* A write no guest FENCE.I orders, already in memory: if it touched a frame
 * that holds decoded code, tell the harts (cpu/icache.h). The fence pairs
 * with mem_code_mark's, as for traces below. */
static void report_code_writes(struct guest_mem *m, uint64_t pa, size_t len)
{
    if (!m->code_mark || len == 0)
        return;
    atomic_thread_fence(memory_order_seq_cst);
    for (uint64_t f = pa & PAGE_MASK; f < pa + len; f += PAGE_SIZE)
        if (atomic_load_explicit(&m->code_mark[(f - m->ram_base) >> PAGE_SHIFT],
                                 memory_order_relaxed)) {
            atomic_fetch_add(&m->code_epoch, 1);
            return;
        }
}

/* A hart's aligned store to a traced frame of the value memory already
 * holds changes no PTE, so it needs no producer bracket: it takes its place
 * in the location's coherence order right after the store whose value the
 * load saw (and LR/SC compares values, so no reservation can tell it from
 * a store). Linux zeroes each page-table page it allocates, and a frame
 * that was a page table before is often still traced: on ptbench, about
 * 480 such stores per operation, each three locked read-modify-writes on
 * the bracketed path. DMA always takes the bracket (report_dma_...). */
static bool silent_traced_store(struct guest_mem *m, unsigned producer, uint64_t pa,
                                unsigned size, uint64_t value)
{
    void *p = mem_ram_ptr(m, pa);
    if (producer == MEM_PRODUCER_DMA || ((uintptr_t)p & (size - 1)) || !mem_frame_traced(m, pa))
        return false;
    uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
    if (ram_load(p, size) != (value & mask))
        return false;
    if (m->trace_hooks.store_silent)
        m->trace_hooks.store_silent(m->trace_hooks.ctx, producer);
    return true;
}

bool mem_write_by(struct guest_mem *m, unsigned producer, uint64_t pa, unsigned size,
                  uint64_t value)
{
    const struct mmio_region *r = mem_find_mmio(m, pa);
    if (r) {
        if (pa - r->base > r->size - size)
            return false;
        return r->ops->write(r->dev, pa - r->base, size, value);
    }
    if (!mem_in_ram(m, pa, size))
        return false;
    if (silent_traced_store(m, producer, pa, size, value))
        return true;
    bool traced, changed = true;
    mem_traced_store_begin(m, pa, size, &traced);
    if (traced)
        changed = ram_exchange(mem_ram_ptr(m, pa), size, value);
    else
        ram_store(mem_ram_ptr(m, pa), size, value);
    mem_traced_store_end(m, producer, pa, size, traced, changed);
    if (producer == MEM_PRODUCER_DMA)
        report_code_writes(m, pa, size);
    return true;
}

/* Bulk copies go a byte at a time through relaxed atomics, because a hart
 * thread may touch the same RAM concurrently (virtio DMA while the guest
 * runs); memcpy there would be a data race in the C sense. */
/* DMA checks traces after its stores, with a full fence between: against a
 * hart that places a trace (a sequentially consistent read-modify-write)
 * and then reads the frame, either that hart's read sees the DMA data or
 * the DMA sees the trace (src/coherence/trace.h). */
static void report_dma_to_traced_frames(struct guest_mem *m, uint64_t pa, size_t len)
{
    atomic_thread_fence(memory_order_seq_cst);
    for (uint64_t f = pa & PAGE_MASK; f < pa + len; f += PAGE_SIZE)
        if (mem_frame_traced(m, f)) {
            uint64_t start = f > pa ? f : pa;
            uint64_t end = f + PAGE_SIZE < pa + len ? f + PAGE_SIZE : pa + len;
            m->trace_hooks.store_begin(m->trace_hooks.ctx, start, (unsigned)(end - start));
            m->trace_hooks.store_end(m->trace_hooks.ctx, MEM_PRODUCER_DMA, start,
                                     (unsigned)(end - start), true);
        }
}

bool mem_copy_to_guest(struct guest_mem *m, uint64_t pa, const void *src, size_t len)
{
    if (!mem_in_ram(m, pa, len))
        return false;
    uint8_t *dst = mem_ram_ptr(m, pa);
    const uint8_t *s = src;
    for (size_t i = 0; i < len; i++)
        __atomic_store_n(dst + i, s[i], __ATOMIC_RELAXED);
    if (m->trace)
        report_dma_to_traced_frames(m, pa, len);
    report_code_writes(m, pa, len);
    return true;
}

bool mem_dma_store(struct guest_mem *m, uint64_t pa, unsigned size, uint64_t value)
{
    if (!mem_in_ram(m, pa, size))
        return false;
    ram_store(mem_ram_ptr(m, pa), size, value);
    if (m->trace)
        report_dma_to_traced_frames(m, pa, size);
    report_code_writes(m, pa, size);
    return true;
}

bool mem_copy_from_guest(struct guest_mem *m, void *dst, uint64_t pa, size_t len)
{
    if (!mem_in_ram(m, pa, len))
        return false;
    const uint8_t *s = mem_ram_ptr(m, pa);
    uint8_t *d = dst;
    for (size_t i = 0; i < len; i++)
        d[i] = __atomic_load_n(s + i, __ATOMIC_RELAXED);
    return true;
}
