/*
 * umbra idle guest: a booted system with nothing to do, for measuring what
 * idle harts cost the host (bench/idle.sh).
 *
 * As /init: prints "UMBRA-IDLE START", sleeps for the number of seconds
 * given as umbra.idle=N on the kernel command line (default 10), prints
 * "UMBRA-IDLE PASS" and powers off.
 * Build: riscv64-linux-gnu-gcc -O2 -static -o idle idle.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guest_init.h"

static int idle_seconds(void)
{
    return (int)guest_cmdline_long("umbra.idle", 10);
}

int main(void)
{
    mkdir("/proc", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    setvbuf(stdout, NULL, _IONBF, 0);
    int seconds = idle_seconds();
    printf("UMBRA-IDLE START %d\n", seconds);
    struct timespec t = { .tv_sec = seconds };
    while (nanosleep(&t, &t) != 0)
        ;
    printf("UMBRA-IDLE PASS\n");
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}
