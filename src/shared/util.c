#include "util.h"
#include <ctype.h>

#include <sys/random.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static const char *program = "mptcplab";
static enum log_level level = LOG_LVL_INFO;

void log_set_program(const char *name)
{
        program = name;
}

void log_set_level(enum log_level lvl)
{
        level = lvl;
}

enum log_level log_get_level(void)
{
        return level;
}

_printf_(3, 0) static void vlog(enum log_level lvl, int err, const char *fmt, va_list ap)
{
        static const char *const prefix[] = {"error: ", "warning: ", "", "debug: "};
        if (lvl > level)
                return;
        char buf[4096];
        vsnprintf(buf, sizeof buf, fmt, ap);
        if (err)
                fprintf(stderr, "%s: %s%s: %s\n", program, prefix[lvl], buf, strerror(-err));
        else
                fprintf(stderr, "%s: %s%s\n", program, prefix[lvl], buf);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(lvl, 0, fmt, ap);
        va_end(ap);
}

int log_errno(enum log_level lvl, int err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(lvl, err, fmt, ap);
        va_end(ap);
        return err;
}

char *xasprintf(const char *fmt, ...)
{
        char *s;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

char *xstrdup(const char *s)
{
        char *r = s ? strdup(s) : NULL;
        if (s && !r)
                abort();
        return r;
}

char *xstrndup(const char *s, size_t n)
{
        char *r = strndup(s, n);
        if (!r)
                abort();
        return r;
}

void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (!p)
                abort();
        return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
        void *r = reallocarray(p, n ? n : 1, size ? size : 1);
        if (!r)
                abort();
        return r;
}

static const struct {
        int err;
        const char *name;
} errno_names[] = {
        {EINVAL, "EINVAL"},
        {ENOENT, "ENOENT"},
        {EEXIST, "EEXIST"},
        {ENODEV, "ENODEV"},
        {EPERM, "EPERM"},
        {EACCES, "EACCES"},
        {EOPNOTSUPP, "EOPNOTSUPP"},
        {ENOSYS, "ENOSYS"},
        {ETIMEDOUT, "ETIMEDOUT"},
        {ESRCH, "ESRCH"},
        {EBUSY, "EBUSY"},
        {ERANGE, "ERANGE"},
        {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
        {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
        {ENOMEM, "ENOMEM"},
        {EPROTO, "EPROTO"},
        {EAGAIN, "EAGAIN"},
        {ECANCELED, "ECANCELED"},
        {E2BIG, "E2BIG"},
        {EFBIG, "EFBIG"},
        {EMFILE, "EMFILE"},
};

const char *errno_name(int err)
{
        for (unsigned i = 0; i < ELEMENTSOF(errno_names); i++)
                if (errno_names[i].err == -err)
                        return errno_names[i].name;
        return "EIO";
}

int errno_from_name(const char *name)
{
        for (unsigned i = 0; i < ELEMENTSOF(errno_names); i++)
                if (streq(errno_names[i].name, name))
                        return -errno_names[i].err;
        return -EIO;
}

char *iso8601_now(void)
{
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        char buf[32];
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return xstrdup(buf);
}

int mkdir_p(const char *path)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000;
}

int read_file(const char *path, char **ret, size_t *ret_len)
{
        return read_file_max(path, SIZE_MAX - 1, ret, ret_len);
}

int read_file_max(const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = xcalloc(1, cap + 1);
        for (;;) {
                if (len == cap) {
                        cap *= 2;
                        buf = xreallocarray(buf, cap + 1, 1);
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

void random_hex(char *buf, size_t n)
{
        unsigned char b[64];
        if (n > sizeof b)
                n = sizeof b;
        size_t got = 0;
        while (got < n) {
                ssize_t r = getrandom(b + got, n - got, 0);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        abort(); /* no entropy source: nothing sane to name things with */
                got += (size_t)r;
        }
        for (size_t i = 0; i < n; i++)
                snprintf(buf + 2 * i, 3, "%02x", b[i]);
}

bool sysctl_per_netns(const char *key)
{
        static const char *const prefixes[] = {"net.ipv4.", "net.ipv6.", "net.mptcp.",
                                               "net.netfilter.", "net.unix."};
        /* net.ipv4 keys that are still global (include/net/netns/ipv4.h lacks them) */
        static const char *const global[] = {"net.ipv4.tcp_mem", "net.ipv4.udp_mem",
                                             "net.ipv4.ipfrag_secret_interval",
                                             "net.ipv4.route.max_size"};
        for (unsigned i = 0; i < ELEMENTSOF(global); i++)
                if (streq(key, global[i]))
                        return false;
        if (streq(key, "net.core.somaxconn") || streq(key, "net.core.xfrm_aevent_etime") ||
            streq(key, "net.core.xfrm_acq_expires"))
                return true;
        for (unsigned i = 0; i < ELEMENTSOF(prefixes); i++)
                if (!strncmp(key, prefixes[i], strlen(prefixes[i])))
                        return true;
        return false;
}

static char *xdg_path(const char *env, const char *home_rel, const char *fallback, const char *sub)
{
        const char *x = getenv(env), *home = getenv("HOME");
        if (x && *x)
                return xasprintf("%s/mptcplab/%s", x, sub);
        if (home && *home)
                return xasprintf("%s/%s/mptcplab/%s", home, home_rel, sub);
        return xasprintf("%s/mptcplab/%s", fallback, sub);
}

char *lab_data_path(const char *sub)
{
        return xdg_path("XDG_DATA_HOME", ".local/share", "/var/lib", sub);
}

char *lab_cache_path(const char *sub)
{
        /* root's cache is the system's: QEMU runs as libvirt-qemu and reads guest
         * images from it, and /root is closed to other users */
        const char *x = getenv("XDG_CACHE_HOME");
        if (geteuid() == 0 && !(x && *x))
                return xasprintf("/var/cache/mptcplab/%s", sub);
        return xdg_path("XDG_CACHE_HOME", ".cache", "/var/cache", sub);
}

char *strv_join(const char *const *v, const char *sep)
{
        size_t len = 1;
        for (const char *const *p = v; p && *p; p++)
                len += strlen(*p) + strlen(sep);
        char *s = xcalloc(len, 1), *e = s;
        for (const char *const *p = v; p && *p; p++)
                e = stpcpy(stpcpy(e, p == v ? "" : sep), *p);
        return s;
}

bool strv_has(const char *const *v, const char *s)
{
        for (const char *const *p = v; s && p && *p; p++)
                if (streq(*p, s))
                        return true;
        return false;
}

bool ifname_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
                    !isprint((unsigned char)*p))
                        return false;
        return true;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
        va_list ap;
        for (;;) {
                va_start(ap, fmt);
                int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0)
                        abort();
                if (b->s && (size_t)n < b->cap - b->len) {
                        b->len += (size_t)n;
                        return;
                }
                b->cap = (b->cap + (size_t)n + 1) * 2;
                b->s = xreallocarray(b->s, b->cap, 1);
        }
}
