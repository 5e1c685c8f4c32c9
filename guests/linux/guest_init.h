/* guest_init: what every umbra Linux guest program needs as /init — the
 * pseudo file systems and a console, umbra.KEY=VALUE parameters from the
 * kernel command line, a clock, and a main that always ends in a result
 * line. Header-only: each guest is one static program built from one .c
 * file (tests/linux/CMakeLists.txt). */
#ifndef UMBRA_GUEST_INIT_H
#define UMBRA_GUEST_INIT_H
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Mount /proc and /dev; as the kernel's first process, stdin/stdout/stderr
 * may be closed, so open the console for them. */
static inline void guest_become_init(void)
{
    mkdir("/proc", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    if (fcntl(1, F_GETFD) == -1) {
        int fd = open("/dev/console", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            if (fd > 2)
                close(fd);
        }
    }
}

/* The text after "KEY=" on the kernel command line (/proc must be
 * mounted), or NULL when KEY is absent. The result lives until the next call. */
static inline const char *guest_cmdline_value(const char *key)
{
    static char line[1024];
    line[0] = '\0';
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, line, sizeof line - 1);
        line[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    const char *arg = strstr(line, key);
    return arg && arg[strlen(key)] == '=' ? arg + strlen(key) + 1 : NULL;
}

/* The number after "KEY=" on the kernel command line, or `absent`. */
static inline long guest_cmdline_long(const char *key, long absent)
{
    const char *arg = guest_cmdline_value(key);
    return arg ? strtol(arg, NULL, 10) : absent;
}

/* CLOCK_MONOTONIC in seconds, by system call, never through the vDSO.
 * Linux 6.1's riscv vDSO clock_gettime calls cpu_relax() when it races a
 * timekeeping update, and that cpu_relax tests the Zihintpause static key
 * (riscv_isa_ext_keys) through a GOT entry that nothing fills in inside
 * the vDSO: the load faults at address 0x4. A guest that reads the clock
 * in a tight loop on several harts hits it now and then, under umbra and
 * QEMU alike. */
static inline double guest_now_seconds(void)
{
    struct timespec t = { 0, 0 };
    syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* umbra.kallsyms=1: print the kernel's text symbols, in the map format
 * umbra's --profile-symbols reads, instead of running the checks. */
static inline int guest_print_kallsyms(void)
{
    FILE *f = fopen("/proc/kallsyms", "r");
    if (!f) {
        printf("guest: /proc/kallsyms: %s\n", strerror(errno));
        return 1;
    }
    char line[256], addr[32], type[8], name[160];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%31s %7s %159s", addr, type, name) == 3 && strchr("tTwW", type[0]))
            printf("%s %s %s\n", addr, type, name);
    fclose(f);
    return 0;
}

/* The whole main of a guest program. As PID 1 it first becomes init. It
 * runs `checks` in a child process, so that a crash still ends in a result
 * line ("<tag> FAIL ... killed by signal N"), and returns the child's
 * verdict as an exit status; as PID 1 it powers the machine off instead.
 * With umbra.kallsyms=1 it prints the kernel's symbols instead. */
static inline int guest_main(const char *tag, int (*checks)(void))
{
    int pid1 = getpid() == 1;
    if (pid1)
        guest_become_init();
    setvbuf(stdout, NULL, _IONBF, 0);
    if (guest_cmdline_long("umbra.kallsyms", 0) == 1)
        checks = guest_print_kallsyms;
    pid_t pid = fork();
    if (pid == 0)
        _exit(checks());
    int st = 0;
    while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (pid < 0)
        printf("%s FAIL fork: %s\n", tag, strerror(errno));
    else if (WIFSIGNALED(st))
        printf("%s FAIL the checks were killed by signal %d\n", tag, WTERMSIG(st));
    if (!pid1)
        return pid > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}
#endif
