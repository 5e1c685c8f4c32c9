/* guest_init: what every umbra Linux guest program needs as /init — the
 * pseudo file systems and a console, and umbra.KEY=VALUE parameters from
 * the kernel command line. Header-only: each guest is one static program
 * built from one .c file (tests/linux/CMakeLists.txt). */
#ifndef UMBRA_GUEST_INIT_H
#define UMBRA_GUEST_INIT_H
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
#endif
