/* htif: Spike's tohost/fromhost protocol (see htif.h). */
#include "machine/htif.h"
#include <errno.h>
#include <string.h>

#define HTIF_DEV(v) ((v) >> 56)
#define HTIF_CMD(v) (((v) >> 48) & 0xff)
#define HTIF_PAYLOAD(v) ((v) & ((1ull << 48) - 1))
#define HTIF_DEV_SYSTEM 0
#define HTIF_DEV_CONSOLE 1
#define HTIF_CONSOLE_PUTC 1

/* Serve one proxied system call; returns its result for word 0. */
static int64_t proxy_syscall(struct htif *h, const uint64_t *w)
{
    switch (w[0]) {
    case HTIF_SYS_WRITE: {
        if (w[1] != 1 && w[1] != 2)
            return -EBADF;
        uint8_t chunk[256];
        uint64_t done = 0;
        while (done < w[3]) {
            uint64_t n = w[3] - done < sizeof chunk ? w[3] - done : sizeof chunk;
            if (!mem_copy_from_guest(h->mem, chunk, w[2] + done, n))
                return done ? (int64_t)done : -EFAULT;
            h->output(h->ctx, chunk, n);
            done += n;
        }
        return (int64_t)done;
    }
    case HTIF_SYS_EXIT:
        h->on_exit(h->ctx, w[1]);
        return 0;
    default:
        return -ENOSYS;
    }
}

static void syscall_block(struct htif *h, uint64_t addr)
{
    uint64_t w[8];
    for (unsigned i = 0; i < 8; i++)
        if (!mem_read(h->mem, addr + 8 * i, 8, &w[i]))
            return;             /* a bad pointer: no answer, as on Spike */
    int64_t ret = proxy_syscall(h, w);
    mem_write(h->mem, addr, 8, (uint64_t)ret);
    h->fromhost = 1;
}

/* Take the command just written to tohost. Called with the lock held. */
static void command(struct htif *h, uint64_t v)
{
    uint64_t payload = HTIF_PAYLOAD(v);
    if (HTIF_DEV(v) == HTIF_DEV_SYSTEM && HTIF_CMD(v) == 0) {
        if (payload & 1)
            h->on_exit(h->ctx, payload >> 1);
        else if (payload)
            syscall_block(h, payload);
    } else if (HTIF_DEV(v) == HTIF_DEV_CONSOLE && HTIF_CMD(v) == HTIF_CONSOLE_PUTC) {
        uint8_t c = (uint8_t)payload;
        h->output(h->ctx, &c, 1);
        h->fromhost = (1ull << 56) | (1ull << 48) | 0x100 | c;
    }
    h->tohost = 0;
}

static bool htif_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct htif_port *p = dev;
    struct htif *h = p->htif;
    if (offset % size != 0)
        return false;
    pthread_mutex_lock(&h->lock);
    uint64_t word = p->is_tohost ? h->tohost : h->fromhost;
    pthread_mutex_unlock(&h->lock);
    *value = size == 8 ? word : (word >> (8 * offset)) & ((1ull << (8 * size)) - 1);
    return true;
}

/* A 64-bit store is one command. A 32-bit store to the low half is one too
 * (the upper half then reads as zero); a 32-bit store to the upper half is
 * only kept, so an RV32-style pair of stores still works for exit codes. */
static bool htif_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct htif_port *p = dev;
    struct htif *h = p->htif;
    if (offset % size != 0 || (size != 8 && size != 4))
        return false;
    pthread_mutex_lock(&h->lock);
    if (!p->is_tohost) {
        if (size == 8)
            h->fromhost = value;
        else if (offset == 0)
            h->fromhost = (h->fromhost & ~0xffffffffull) | value;
        else
            h->fromhost = (h->fromhost & 0xffffffffull) | (value << 32);
    } else if (size == 8 || offset == 0) {
        command(h, value);
    }
    pthread_mutex_unlock(&h->lock);
    return true;
}

const struct mmio_ops htif_mmio_ops = { htif_read, htif_write };

bool htif_init(struct htif *h, struct guest_mem *mem, uint64_t tohost_addr,
               bool has_fromhost, uint64_t fromhost_addr, htif_exit_fn on_exit,
               htif_output_fn output, void *ctx)
{
    memset(h, 0, sizeof *h);
    h->mem = mem;
    h->tohost_addr = tohost_addr;
    h->fromhost_addr = fromhost_addr;
    h->has_fromhost = has_fromhost;
    h->on_exit = on_exit;
    h->output = output;
    h->ctx = ctx;
    pthread_mutex_init(&h->lock, NULL);
    h->port[0] = (struct htif_port){ h, true };
    h->port[1] = (struct htif_port){ h, false };
    if (!mem_map_mmio(mem, tohost_addr, 8, &htif_mmio_ops, &h->port[0], "htif-tohost"))
        return false;
    if (has_fromhost &&
        !mem_map_mmio(mem, fromhost_addr, 8, &htif_mmio_ops, &h->port[1], "htif-fromhost"))
        return false;
    return true;
}

void htif_reset(struct htif *h)
{
    pthread_mutex_lock(&h->lock);
    h->tohost = 0;
    h->fromhost = 0;
    pthread_mutex_unlock(&h->lock);
}
