/* sifive_test: the `virt` board's "sifive,test" finisher, through which
 * firmware and Linux power the machine off or reboot it.
 *
 * Owns no guest-visible state: a 32-bit (or 16-bit) write at offset 0 whose
 * low 16 bits are 0x5555 means pass / power off (exit code 0), 0x3333 fail
 * (exit code = bits 31:16, or 1 when those are 0), 0x7777 reset. Other
 * values and offsets are ignored; reads return 0 (as QEMU's model does).
 *
 * Callers: hart threads through the MMIO ops. The on_event callback (the
 * board: stop the harts, then exit or reset) runs on that hart thread with
 * the device's lock held, so two harts cannot report at once; it must not
 * wait for the calling hart to stop.
 */
#ifndef UMBRA_DEV_SIFIVE_TEST_H
#define UMBRA_DEV_SIFIVE_TEST_H
#include "dev/device.h"

#define SIFIVE_TEST_WINDOW_SIZE 0x1000
#define SIFIVE_TEST_FAIL 0x3333
#define SIFIVE_TEST_PASS 0x5555
#define SIFIVE_TEST_RESET 0x7777

enum test_event {
    TEST_EVENT_PASS,                /* poweroff; exit_code 0 */
    TEST_EVENT_FAIL,                /* exit_code >= 1 */
    TEST_EVENT_RESET,               /* reboot; exit_code 0 */
};

struct sifive_test;

struct sifive_test *sifive_test_create(void (*on_event)(void *ctx, enum test_event ev, int exit_code),
                                       void *ctx);
void sifive_test_destroy(struct sifive_test *t);

/* The embedded device (also the first member of struct sifive_test). */
struct device *sifive_test_device(struct sifive_test *t);
#endif
