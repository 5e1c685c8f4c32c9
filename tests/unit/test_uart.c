/* NS16550A: transmit path, DLAB, receive FIFO, IIR priorities and the THRE
 * interrupt rules of the PC16550D data sheet, loopback, and robustness. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dev/uart.h"

static uint8_t txbuf[64];
static unsigned ntx;
static bool irq_level;
static unsigned irq_calls;
static unsigned room_calls;

static void on_tx(void *ctx, uint8_t b)
{
    (void)ctx;
    if (ntx < sizeof txbuf)
        txbuf[ntx++] = b;
}

static void on_irq(void *ctx, unsigned line, bool level)
{
    (void)ctx;
    CHECK_EQ(line, 10);
    irq_level = level;
    irq_calls++;
}

static void on_room(void *ctx)
{
    (void)ctx;
    room_calls++;
}

static struct device *dev;

static uint8_t rd(unsigned off)
{
    uint64_t v = 0xdead;
    CHECK(dev->mmio.read(dev, off, 1, &v));
    return (uint8_t)v;
}

static void wr(unsigned off, uint8_t v)
{
    CHECK(dev->mmio.write(dev, off, 1, v));
}

static void test_reset_state(void)
{
    CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);     /* 0x60 */
    CHECK_EQ(rd(UART_IIR_FCR), 0x01);                           /* no interrupt, no FIFO */
    CHECK_EQ(rd(UART_MSR), 0xb0);                               /* DCD | DSR | CTS */
    CHECK_EQ(rd(UART_IER_DLM), 0);
    CHECK(!irq_level);
}

static void test_transmit(void)
{
    wr(UART_RBR_THR_DLL, 'h');
    wr(UART_RBR_THR_DLL, 'i');
    CHECK_EQ(ntx, 2);
    CHECK(memcmp(txbuf, "hi", 2) == 0);
    CHECK(!irq_level);                  /* IER = 0: no interrupt */
}

static void test_thre_interrupt(void)
{
    /* Enabling ETBEI with THR empty raises THRE. */
    wr(UART_IER_DLM, UART_IER_THRE);
    CHECK(irq_level);
    CHECK_EQ(rd(UART_IIR_FCR), 0x02);
    /* Reading IIR while THRE is the source clears it. */
    CHECK(!irq_level);
    CHECK_EQ(rd(UART_IIR_FCR), 0x01);
    /* Writing THR: the byte leaves, THR is empty again: THRE once more. */
    wr(UART_RBR_THR_DLL, '!');
    CHECK(irq_level);
    CHECK_EQ(txbuf[ntx - 1], '!');
    /* Disabling ETBEI drops the line. */
    wr(UART_IER_DLM, 0);
    CHECK(!irq_level);
    CHECK_EQ(rd(UART_IIR_FCR), 0x01);
}

static void test_dlab(void)
{
    unsigned before = ntx;
    wr(UART_IER_DLM, UART_IER_RLS);
    wr(UART_LCR, UART_LCR_DLAB | 0x03);
    wr(UART_RBR_THR_DLL, 0x12);         /* DLL, not THR */
    wr(UART_IER_DLM, 0x34);             /* DLM, not IER */
    CHECK_EQ(ntx, before);
    CHECK_EQ(rd(UART_RBR_THR_DLL), 0x12);
    CHECK_EQ(rd(UART_IER_DLM), 0x34);
    CHECK_EQ(rd(UART_LCR), 0x83);
    wr(UART_LCR, 0x03);
    CHECK_EQ(rd(UART_IER_DLM), UART_IER_RLS);
    wr(UART_IER_DLM, 0);
    wr(UART_LCR, UART_LCR_DLAB);
    CHECK_EQ(rd(UART_RBR_THR_DLL), 0x12);   /* divisor latch kept */
    wr(UART_LCR, 0x03);
}

static void test_rx_no_fifo(struct uart *u)
{
    wr(UART_IER_DLM, UART_IER_RDA);
    CHECK_EQ(uart_receive(u, (const uint8_t *)"xyz", 3), 1);   /* 16450 mode: one byte */
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    CHECK(irq_level);
    CHECK_EQ(rd(UART_IIR_FCR), 0x04);
    unsigned rooms = room_calls;
    CHECK_EQ(rd(UART_RBR_THR_DLL), 'x');
    CHECK(room_calls > rooms);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(rd(UART_IIR_FCR), 0x01);
    CHECK(!irq_level);
}

static void test_rx_fifo(struct uart *u)
{
    uint8_t in[20];
    for (unsigned i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)('a' + i);
    wr(UART_IIR_FCR, UART_FCR_ENABLE);          /* trigger level 1 */
    CHECK_EQ(rd(UART_IIR_FCR), 0xc1);           /* FIFOs on, nothing pending */
    CHECK_EQ(uart_receive(u, in, sizeof in), 16);
    CHECK_EQ(uart_receive(u, in, sizeof in), 0);    /* full: nothing taken */
    CHECK_EQ(rd(UART_IIR_FCR), 0xc4);           /* received data available */
    CHECK(irq_level);
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(rd(UART_RBR_THR_DLL), 'a' + i);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK(!irq_level);

    /* Trigger level 8: below it the FIFO reports a character timeout. */
    wr(UART_IIR_FCR, 0x80 | UART_FCR_ENABLE);
    CHECK_EQ(uart_receive(u, in, 3), 3);
    CHECK_EQ(rd(UART_IIR_FCR), 0xcc);
    CHECK_EQ(uart_receive(u, in + 3, 5), 5);
    CHECK_EQ(rd(UART_IIR_FCR), 0xc4);
    /* RX FIFO reset empties it. */
    wr(UART_IIR_FCR, 0x80 | UART_FCR_ENABLE | UART_FCR_RX_RESET);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(rd(UART_IIR_FCR), 0xc1);
    CHECK(!irq_level);
    /* Turning the FIFO off empties it too. */
    CHECK_EQ(uart_receive(u, in, 4), 4);
    wr(UART_IIR_FCR, 0);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, 0);
    CHECK_EQ(rd(UART_IIR_FCR), 0x01);
}

static void test_priority(struct uart *u)
{
    wr(UART_IIR_FCR, UART_FCR_ENABLE);
    wr(UART_IER_DLM, UART_IER_RDA | UART_IER_THRE);
    CHECK_EQ(uart_receive(u, (const uint8_t *)"k", 1), 1);
    /* Received data outranks THR empty; reading IIR then leaves THRE set. */
    CHECK_EQ(rd(UART_IIR_FCR), 0xc4);
    CHECK_EQ(rd(UART_IIR_FCR), 0xc4);
    CHECK_EQ(rd(UART_RBR_THR_DLL), 'k');
    CHECK_EQ(rd(UART_IIR_FCR), 0xc2);
    CHECK_EQ(rd(UART_IIR_FCR), 0xc1);
    CHECK(!irq_level);
    wr(UART_IER_DLM, 0);
}

static void test_loopback(struct uart *u)
{
    unsigned before = ntx;
    wr(UART_MCR, UART_MCR_LOOP);
    CHECK_EQ(rd(UART_MSR) & 0xf0, 0);           /* no modem outputs: all inputs low */
    wr(UART_RBR_THR_DLL, 'Q');
    CHECK_EQ(ntx, before);                      /* not sent out */
    CHECK_EQ(rd(UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    CHECK_EQ(rd(UART_RBR_THR_DLL), 'Q');
    CHECK_EQ(uart_receive(u, (const uint8_t *)"z", 1), 0);  /* receiver disconnected */
    /* RTS -> CTS, DTR -> DSR; the delta bits report the change once. */
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR);
    CHECK_EQ(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR | 0x03);
    CHECK_EQ(rd(UART_MSR), UART_MSR_CTS | UART_MSR_DSR);
    /* Overrun: 17 bytes into a 16-byte FIFO sets LSR.OE, a line status
     * interrupt that outranks received data, cleared by reading LSR. */
    wr(UART_IER_DLM, UART_IER_RLS | UART_IER_RDA);
    for (unsigned i = 0; i < 17; i++)
        wr(UART_RBR_THR_DLL, (uint8_t)i);
    CHECK_EQ(rd(UART_IIR_FCR), 0xc6);
    CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_OE | UART_LSR_DR);
    CHECK_EQ(rd(UART_LSR) & UART_LSR_OE, 0);
    CHECK_EQ(rd(UART_IIR_FCR), 0xc4);
    for (unsigned i = 0; i < 16; i++)
        CHECK_EQ(rd(UART_RBR_THR_DLL), i);
    wr(UART_IER_DLM, 0);
    unsigned rooms = room_calls;
    wr(UART_MCR, 0);
    CHECK(room_calls > rooms);                  /* input connected again */
    CHECK_EQ(uart_receive(u, (const uint8_t *)"z", 1), 1);
    CHECK_EQ(rd(UART_RBR_THR_DLL), 'z');
}

static void test_scratch_and_sizes(void)
{
    wr(UART_SCR, 0x5a);
    CHECK_EQ(rd(UART_SCR), 0x5a);
    uint64_t v;
    CHECK(!dev->mmio.read(dev, 8, 1, &v));      /* only 8 registers */
    CHECK(!dev->mmio.write(dev, 0xff, 1, 0));
    CHECK(!dev->mmio.read(dev, UART_SCR, 3, &v));
    CHECK(dev->mmio.read(dev, UART_SCR, 4, &v));
    CHECK_EQ(v, 0x5a);
}

static void test_fuzz_and_reset(struct uart *u)
{
    srand(7);
    for (unsigned i = 0; i < 20000; i++) {
        uint64_t off = (uint64_t)(rand() % 0x120), val = (uint64_t)rand();
        unsigned size = 1u << (rand() % 4);
        if (rand() & 1)
            dev->mmio.write(dev, off, size, val);
        else
            dev->mmio.read(dev, off, size, &val);
        if (i % 64 == 0)
            uart_receive(u, (const uint8_t *)"fuzz", 4);
    }
    dev->reset(dev);
    CHECK(!irq_level);
    CHECK_EQ(rd(UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    CHECK_EQ(rd(UART_IIR_FCR), 0x01);
    CHECK_EQ(rd(UART_LCR), 0);
    CHECK_EQ(rd(UART_MCR), 0);
}

int main(void)
{
    struct irq_line line = { .set = on_irq, .ctx = NULL, .line = 10 };
    struct uart *u = uart_create(on_tx, NULL, line);
    CHECK(u != NULL);
    if (!u)
        return check_summary();
    uart_set_rx_room_hook(u, on_room, NULL);
    dev = uart_device(u);
    CHECK(dev == (struct device *)u);
    CHECK_EQ(dev->size, 0x100);

    test_reset_state();
    test_transmit();
    test_thre_interrupt();
    test_dlab();
    test_rx_no_fifo(u);
    test_rx_fifo(u);
    test_priority(u);
    test_loopback(u);
    test_scratch_and_sizes();
    test_fuzz_and_reset(u);
    CHECK(irq_calls > 0);
    uart_destroy(u);
    return check_summary();
}
