/* util.h - small helpers shared by every mptcplab program: cleanup attributes,
 * logging, string helpers. Errors are negative errno values throughout. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_       __attribute__((unused))
#define ELEMENTSOF(x)  (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Take ownership of a pointer out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p = (p);                                                            \
                (p) = NULL;                                                                        \
                _p;                                                                                \
        })

#define streq(a, b) (strcmp((a), (b)) == 0)
/* Two strings equal, or both NULL */
static inline bool streq_null(const char *a, const char *b)
{
        return a == b || (a && b && streq(a, b));
}

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_program(const char *name);
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
void log_msg(enum log_level lvl, const char *fmt, ...) _printf_(2, 3);
/* Logs with ": strerror(-err)" appended and returns err (negative). */
int log_errno(enum log_level lvl, int err, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* asprintf that aborts on OOM: memory exhaustion is not a recoverable lab condition. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
/* The strings of a NULL-terminated vector joined by sep (allocated). */
char *strv_join(const char *const *v, const char *sep);
/* Whether s is one of the strings of a NULL-terminated vector (NULL: none). */
bool strv_has(const char *const *v, const char *s);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n); /* at most n bytes of s */
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);

/* The agent protocol's error names: "ENODEV" for -ENODEV, and back (EIO for others). */
const char *errno_name(int err);
int errno_from_name(const char *name);

/* Now as "2026-11-22T12:00:00Z" (malloc'd). */
char *iso8601_now(void);
/* mkdir -p with mode 0755; existing directories are fine. */
int mkdir_p(const char *path);

/* n random bytes from the kernel (getrandom) as 2n hex digits into buf (2n+1). */
void random_hex(char *buf, size_t n);

/* Is the sysctl (dotted key) one each network namespace has for itself? Keys
 * outside net.* (kernel.*, vm.*, fs.*) and some net.* ones (net.core buffer
 * maxima, tcp_mem) are host-wide: on the netns backend a run must not write
 * them, it would change the host and every other run. */
bool sysctl_per_netns(const char *key);
/* A name the kernel takes for a network interface (dev_valid_name): 1 to 15
 * printable characters, no '/', ':' or space, not "." or "..". The one check
 * of the agent, the inventory and the topology parser. */
bool ifname_valid(const char *s);

/* A string built piece by piece: the lab's one string builder (a YAML text,
 * a domain's XML). s is NUL-terminated once anything was added; start from
 * {0}, take s when done (free it). */
struct strbuf {
        char *s;
        size_t len, cap;
};
_printf_(2, 3) void strbuf_printf(struct strbuf *b, const char *fmt, ...);

/* The lab's own places (malloc'd): $XDG_DATA_HOME/mptcplab/SUB (results,
 * run directories; ~/.local/share when unset) and $XDG_CACHE_HOME/mptcplab/SUB
 * (guest images; ~/.cache, for root /var/cache/mptcplab, which QEMU can read). */
char *lab_data_path(const char *sub);
char *lab_cache_path(const char *sub);

/* Monotonic time in microseconds. */
uint64_t now_usec(void);

/* Reads a whole (small, /proc-style) file. Returns 0 or -errno. */
int read_file(const char *path, char **ret, size_t *ret_len);
/* The same, failing with -EFBIG as soon as the file is longer than max bytes. */
int read_file_max(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes all of buf to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
