/* NS16550A model. Register behaviour follows the National/TI PC16550D data
 * sheet: interrupt priorities (table "Interrupt Control Functions"), the
 * THRE interrupt rules, FCR FIFO control and the loopback wiring of MCR. */
#include "dev/uart.h"
#include <pthread.h>
#include <stdlib.h>

struct uart {
    struct device dev;              /* first: the board maps it */
    pthread_mutex_t lock;
    void (*tx)(void *ctx, uint8_t byte);
    void *tx_ctx;
    void (*rx_room)(void *ctx);
    void *rx_room_ctx;

    uint8_t rx[UART_RX_FIFO_SIZE];  /* ring: rx_head is the oldest byte */
    unsigned rx_head, rx_count;
    bool fifo_on;                   /* FCR bit 0 */
    unsigned rx_trigger;            /* FCR bits 7:6 as a byte count */

    uint8_t ier, lcr, mcr, scr, dll, dlm;
    bool overrun;                   /* LSR.OE, cleared by reading LSR */
    bool thre_pending;              /* THRE interrupt latched (see write_thr) */
    uint8_t msr_deltas;             /* MSR bits 3:0 */
    bool irq_level;
};

/* MSR bits 7:4. Outside loopback umbra behaves as a port with a terminal
 * attached (carrier, data set ready, clear to send); in loopback the data
 * sheet wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static uint8_t modem_lines(const struct uart *u)
{
    if (!(u->mcr & UART_MCR_LOOP))
        return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
    uint8_t m = 0;
    if (u->mcr & UART_MCR_RTS) m |= UART_MSR_CTS;
    if (u->mcr & UART_MCR_DTR) m |= UART_MSR_DSR;
    if (u->mcr & UART_MCR_OUT1) m |= UART_MSR_RI;
    if (u->mcr & UART_MCR_OUT2) m |= UART_MSR_DCD;
    return m;
}

static unsigned rx_capacity(const struct uart *u)
{
    return u->fifo_on ? UART_RX_FIFO_SIZE : 1;
}

static void rx_clear(struct uart *u)
{
    u->rx_head = u->rx_count = 0;
}

static bool rx_push(struct uart *u, uint8_t byte)
{
    if (u->rx_count == rx_capacity(u))
        return false;
    u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO_SIZE] = byte;
    u->rx_count++;
    return true;
}

static uint8_t rx_pop(struct uart *u)
{
    uint8_t b = u->rx[u->rx_head];
    u->rx_head = (u->rx_head + 1) % UART_RX_FIFO_SIZE;
    u->rx_count--;
    return b;
}

static void notify_rx_room(struct uart *u)
{
    if (u->rx_room)
        u->rx_room(u->rx_room_ctx);
}

/* The interrupt identification, highest priority first: receiver line
 * status, received data (or character timeout), THR empty, modem status.
 * The character timeout is reported at once when the FIFO holds fewer bytes
 * than the trigger level: umbra does not model character times, and without
 * it a driver that set a trigger of 8 would never see a single keystroke. */
static uint8_t interrupt_id(const struct uart *u)
{
    if ((u->ier & UART_IER_RLS) && u->overrun)
        return UART_IIR_RLS;
    if ((u->ier & UART_IER_RDA) && u->rx_count > 0)
        return (u->fifo_on && u->rx_count < u->rx_trigger) ? UART_IIR_TIMEOUT : UART_IIR_RDA;
    if ((u->ier & UART_IER_THRE) && u->thre_pending)
        return UART_IIR_THRE;
    if ((u->ier & UART_IER_MS) && u->msr_deltas)
        return UART_IIR_MS;
    return UART_IIR_NONE;
}

static void update_irq(struct uart *u)
{
    bool level = interrupt_id(u) != UART_IIR_NONE;
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->dev.irq, level);
    }
}

static uint8_t read_iir(struct uart *u)
{
    uint8_t id = interrupt_id(u);
    /* Reading IIR while it names THRE as the source clears that source. */
    if (id == UART_IIR_THRE)
        u->thre_pending = false;
    return id | (u->fifo_on ? UART_IIR_FIFO_ON : 0);
}

static uint8_t read_lsr(struct uart *u)
{
    uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT;
    if (u->rx_count)
        lsr |= UART_LSR_DR;
    if (u->overrun)
        lsr |= UART_LSR_OE;
    u->overrun = false;             /* error bits clear on read */
    return lsr;
}

static uint8_t read_rbr(struct uart *u)
{
    if (u->rx_count == 0)
        return 0;
    uint8_t b = rx_pop(u);
    notify_rx_room(u);
    return b;
}

static uint8_t read_reg(struct uart *u, unsigned reg)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR_DLL:
        return dlab ? u->dll : read_rbr(u);
    case UART_IER_DLM:
        return dlab ? u->dlm : u->ier;
    case UART_IIR_FCR:
        return read_iir(u);
    case UART_LCR:
        return u->lcr;
    case UART_MCR:
        return u->mcr;
    case UART_LSR:
        return read_lsr(u);
    case UART_MSR: {
        uint8_t msr = modem_lines(u) | u->msr_deltas;
        u->msr_deltas = 0;
        return msr;
    }
    default:
        return u->scr;
    }
}

/* The transmitter is infinitely fast: the byte leaves at once, THR is empty
 * again, so the THRE interrupt that the write cleared is raised anew. */
static void write_thr(struct uart *u, uint8_t byte)
{
    u->thre_pending = false;
    if (u->mcr & UART_MCR_LOOP) {
        if (!rx_push(u, byte))
            u->overrun = true;
    } else if (u->tx) {
        u->tx(u->tx_ctx, byte);
    }
    u->thre_pending = true;
}

static void write_ier(struct uart *u, uint8_t v)
{
    uint8_t old = u->ier;
    u->ier = v & 0x0f;
    /* Enabling ETBEI while THR is empty raises THRE (data sheet); disabling
     * it drops the latched request. */
    if ((old ^ u->ier) & UART_IER_THRE)
        u->thre_pending = u->ier & UART_IER_THRE;
}

static void write_fcr(struct uart *u, uint8_t v)
{
    static const unsigned trigger[4] = { 1, 4, 8, 14 };
    bool on = v & UART_FCR_ENABLE;
    bool cleared = false;
    if (on != u->fifo_on) {         /* changing FCR0 empties the FIFOs */
        u->fifo_on = on;
        rx_clear(u);
        cleared = true;
    }
    if (on) {
        u->rx_trigger = trigger[v >> 6];
        if (v & UART_FCR_RX_RESET) {
            rx_clear(u);
            cleared = true;
        }
        /* TX reset: the transmitter is always empty, nothing to do. */
    }
    if (cleared)
        notify_rx_room(u);
}

static void write_mcr(struct uart *u, uint8_t v)
{
    uint8_t before = modem_lines(u);
    bool was_loop = u->mcr & UART_MCR_LOOP;
    u->mcr = v & 0x1f;
    uint8_t after = modem_lines(u);
    uint8_t changed = before ^ after;
    /* Delta bits: DCTS, DDSR, DDCD on any change; TERI only when RI falls. */
    if (changed & UART_MSR_CTS) u->msr_deltas |= 0x01;
    if (changed & UART_MSR_DSR) u->msr_deltas |= 0x02;
    if ((before & UART_MSR_RI) && !(after & UART_MSR_RI)) u->msr_deltas |= 0x04;
    if (changed & UART_MSR_DCD) u->msr_deltas |= 0x08;
    if (was_loop && !(u->mcr & UART_MCR_LOOP))
        notify_rx_room(u);          /* external input is connected again */
}

static void write_reg(struct uart *u, unsigned reg, uint8_t v)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (reg) {
    case UART_RBR_THR_DLL:
        if (dlab)
            u->dll = v;
        else
            write_thr(u, v);
        break;
    case UART_IER_DLM:
        if (dlab)
            u->dlm = v;
        else
            write_ier(u, v);
        break;
    case UART_IIR_FCR:
        write_fcr(u, v);
        break;
    case UART_LCR:
        u->lcr = v;
        break;
    case UART_MCR:
        write_mcr(u, v);
        break;
    case UART_SCR:
        u->scr = v;
        break;
    default:                        /* LSR, MSR: read-only */
        break;
    }
}

static bool valid_access(uint64_t offset, unsigned size)
{
    /* Eight byte registers (reg-shift 0). A wider access touches only the
     * register at its offset, so a driver using 32-bit I/O still works. */
    return offset < 8 && (size == 1 || size == 2 || size == 4 || size == 8);
}

static bool uart_mmio_read(void *dev, uint64_t offset, unsigned size, uint64_t *value)
{
    struct uart *u = dev;
    if (!valid_access(offset, size))
        return false;
    pthread_mutex_lock(&u->lock);
    *value = read_reg(u, (unsigned)offset);
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return true;
}

static bool uart_mmio_write(void *dev, uint64_t offset, unsigned size, uint64_t value)
{
    struct uart *u = dev;
    if (!valid_access(offset, size))
        return false;
    pthread_mutex_lock(&u->lock);
    write_reg(u, (unsigned)offset, (uint8_t)value);
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return true;
}

static void reset_registers(struct uart *u)
{
    rx_clear(u);
    u->fifo_on = false;
    u->rx_trigger = 1;
    u->ier = u->lcr = u->mcr = u->scr = u->dll = u->dlm = 0;
    u->overrun = false;
    u->thre_pending = false;
    u->msr_deltas = 0;
}

static void uart_reset(struct device *dev)
{
    struct uart *u = (struct uart *)dev;
    pthread_mutex_lock(&u->lock);
    reset_registers(u);
    update_irq(u);
    notify_rx_room(u);
    pthread_mutex_unlock(&u->lock);
}

struct uart *uart_create(void (*tx)(void *ctx, uint8_t byte), void *ctx, struct irq_line irq)
{
    struct uart *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->dev.name = "uart";
    u->dev.size = UART_WINDOW_SIZE;
    u->dev.mmio.read = uart_mmio_read;
    u->dev.mmio.write = uart_mmio_write;
    u->dev.reset = uart_reset;
    u->dev.irq = irq;
    u->tx = tx;
    u->tx_ctx = ctx;
    pthread_mutex_init(&u->lock, NULL);
    reset_registers(u);
    return u;
}

void uart_destroy(struct uart *u)
{
    if (!u)
        return;
    pthread_mutex_destroy(&u->lock);
    free(u);
}

struct device *uart_device(struct uart *u)
{
    return &u->dev;
}

void uart_set_rx_room_hook(struct uart *u, void (*rx_room)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&u->lock);
    u->rx_room = rx_room;
    u->rx_room_ctx = ctx;
    pthread_mutex_unlock(&u->lock);
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t n)
{
    size_t taken = 0;
    pthread_mutex_lock(&u->lock);
    /* In loopback the receiver hears only the transmitter (data sheet). */
    if (!(u->mcr & UART_MCR_LOOP))
        while (taken < n && rx_push(u, buf[taken]))
            taken++;
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return taken;
}
