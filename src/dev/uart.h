/* uart: the board's NS16550A serial port (umbra's console).
 *
 * Owns the 16550 register file, a 16-byte receive FIFO and the interrupt
 * identification logic; drives one interrupt line (PLIC source 10 on the
 * `virt` board). Transmission is instantaneous: every byte written to THR
 * goes straight to the `tx` callback, so THR and the transmitter are always
 * empty (LSR.THRE = LSR.TEMT = 1).
 *
 * Callers: hart threads through the MMIO ops (any hart, serialised by the
 * device's lock); the console thread through uart_receive. Lock order:
 * uart -> the interrupt line's owner (PLIC) -> hart. The tx and rx_room
 * callbacks run with the uart lock held and must not call back into it.
 */
#ifndef UMBRA_DEV_UART_H
#define UMBRA_DEV_UART_H
#include <stddef.h>
#include <stdint.h>
#include "dev/device.h"

#define UART_WINDOW_SIZE 0x100      /* the `virt` board's window */
#define UART_RX_FIFO_SIZE 16

/* Register offsets (reg-shift 0, byte registers). */
enum uart_reg {
    UART_RBR_THR_DLL = 0,
    UART_IER_DLM = 1,
    UART_IIR_FCR = 2,
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define UART_IER_RDA 0x01           /* received data available */
#define UART_IER_THRE 0x02          /* transmitter holding register empty */
#define UART_IER_RLS 0x04           /* receiver line status */
#define UART_IER_MS 0x08            /* modem status */

#define UART_IIR_NONE 0x01          /* bit 0 set: no interrupt pending */
#define UART_IIR_ID_MASK 0x0e
#define UART_IIR_MS 0x00
#define UART_IIR_THRE 0x02
#define UART_IIR_RDA 0x04
#define UART_IIR_RLS 0x06
#define UART_IIR_TIMEOUT 0x0c
#define UART_IIR_FIFO_ON 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_RX_RESET 0x02
#define UART_FCR_TX_RESET 0x04

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct uart;

/* `tx` receives every transmitted byte (not called in loopback mode).
 * `irq` is the line the UART drives: high while IIR reports an interrupt. */
struct uart *uart_create(void (*tx)(void *ctx, uint8_t byte), void *ctx, struct irq_line irq);
void uart_destroy(struct uart *u);

/* The embedded device (also the first member of struct uart). */
struct device *uart_device(struct uart *u);

/* Optional: called (uart lock held) whenever the guest takes a byte out of
 * the receive FIFO or the FIFO is emptied, so the console thread knows more
 * input now fits and can retry instead of polling. */
void uart_set_rx_room_hook(struct uart *u, void (*rx_room)(void *ctx), void *ctx);

/* Console input. Puts as many of the n bytes as fit into the receive FIFO
 * (16 with the FIFO enabled, 1 without, 0 in loopback mode) and returns that
 * count; the caller keeps the rest and retries later. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t n);
#endif
