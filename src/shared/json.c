#include "json.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

void line_reader_init(struct line_reader *lr, int fd)
{
        memset(lr, 0, sizeof *lr);
        lr->fd = fd;
}

void line_reader_free(struct line_reader *lr)
{
        free(lr->buf);
        lr->buf = NULL;
        lr->len = lr->cap = 0;
}

int line_reader_pop(struct line_reader *lr, char **ret)
{
        size_t avail = lr->len - lr->off;
        char *start = lr->buf + lr->off;
        char *nl =
                avail > lr->scanned ? memchr(start + lr->scanned, '\n', avail - lr->scanned) : NULL;
        if (!nl) {
                lr->scanned = avail;
                return avail > JSON_LINE_MAX ? -EMSGSIZE : 0;
        }
        size_t n = (size_t)(nl - start);
        if (n > JSON_LINE_MAX)
                return -EMSGSIZE;
        char *line = xcalloc(1, n + 1);
        memcpy(line, start, n);
        lr->off += n + 1;
        lr->scanned = 0;
        *ret = line;
        return 1;
}

int line_reader_fill(struct line_reader *lr)
{
        if (lr->off && lr->off == lr->len)
                lr->off = lr->len = 0;
        if (lr->cap - lr->len < 65536) {
                if (lr->off) { /* reuse the consumed front before growing */
                        memmove(lr->buf, lr->buf + lr->off, lr->len - lr->off);
                        lr->len -= lr->off;
                        lr->off = 0;
                }
                if (lr->cap - lr->len < 65536) {
                        lr->cap = lr->cap * 2 + 65536;
                        lr->buf = xreallocarray(lr->buf, lr->cap, 1);
                }
        }
        ssize_t n = read(lr->fd, lr->buf + lr->len, lr->cap - lr->len);
        if (n < 0)
                return -errno;
        if (n == 0)
                lr->eof = true;
        lr->len += (size_t)n;
        return (int)n;
}

int line_reader_next(struct line_reader *lr, int timeout_ms, char **ret)
{
        uint64_t deadline = timeout_ms >= 0 ? now_usec() + (uint64_t)timeout_ms * 1000 : 0;
        for (;;) {
                int got = line_reader_pop(lr, ret);
                if (got != 0)
                        return got;
                if (lr->eof)
                        return 0;
                int wait = -1;
                if (timeout_ms >= 0) {
                        uint64_t now = now_usec();
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        wait = (int)((deadline - now + 999) / 1000);
                }
                struct pollfd p = {.fd = lr->fd, .events = POLLIN};
                int r = poll(&p, 1, wait);
                if (r < 0)
                        return -errno; /* -EINTR lets the caller look at signals */
                if (r == 0)
                        continue;
                r = line_reader_fill(lr);
                if (r < 0 && r != -EAGAIN && r != -EINTR)
                        return r;
        }
}

int json_write_line(int fd, struct json_object *o)
{
        size_t len;
        const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);
        char *line = xcalloc(1, len + 2);
        memcpy(line, s, len);
        line[len] = '\n';
        int r = write_all(fd, line, len + 1);
        free(line);
        return r;
}

struct json_object *jobj(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_object))
                return NULL;
        return v;
}

struct json_object *jarr(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_array))
                return NULL;
        return v;
}

const char *jstr(struct json_object *o, const char *key)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

bool jint(struct json_object *o, const char *key, int64_t *ret)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return false;
        *ret = json_object_get_int64(v);
        return true;
}

bool jdouble(struct json_object *o, const char *key, double *ret)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return false;
        *ret = json_object_get_double(v);
        return true;
}

bool jbool(struct json_object *o, const char *key, bool *ret)
{
        struct json_object *v;
        if (!o || !json_object_object_get_ex(o, key, &v) ||
            !json_object_is_type(v, json_type_boolean))
                return false;
        *ret = json_object_get_boolean(v);
        return true;
}

static struct json_object *vpath(struct json_object *o, va_list ap)
{
        const char *k;
        while (o && (k = va_arg(ap, const char *)))
                if (!json_object_object_get_ex(o, k, &o))
                        o = NULL;
        return o;
}

struct json_object *jpath(struct json_object *o, ...)
{
        va_list ap;
        va_start(ap, o);
        o = vpath(o, ap);
        va_end(ap);
        return o;
}

double jpath_double(struct json_object *o, double dflt, ...)
{
        va_list ap;
        va_start(ap, dflt);
        o = vpath(o, ap);
        va_end(ap);
        if (!o ||
            !(json_object_is_type(o, json_type_double) || json_object_is_type(o, json_type_int)))
                return dflt;
        return json_object_get_double(o);
}

void jsum_add(struct json_object *acc, const char *key, unsigned width, unsigned i, double v)
{
        struct json_object *e = jarr(acc, key);
        if (!e) {
                e = json_object_new_array();
                for (unsigned k = 0; k < width; k++)
                        json_object_array_add(e, json_object_new_double(0));
                json_object_object_add(acc, key, e);
        }
        double sum = json_object_get_double(json_object_array_get_idx(e, i));
        json_object_array_put_idx(e, i, json_object_new_double(sum + v));
}

int json_write_file(const char *path, struct json_object *o, int flags)
{
        _cleanup_free_ char *copy = xstrdup(path);
        char *slash = strrchr(copy, '/');
        _cleanup_free_ char *tmp =
                slash ? xasprintf("%.*s/.mptcplab-json.XXXXXX", (int)(slash - copy), copy)
                      : xstrdup(".mptcplab-json.XXXXXX");
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        const char *text = json_object_to_json_string_ext(o, flags);
        int r = write_all(fd, text, strlen(text));
        if (r == 0)
                r = write_all(fd, "\n", 1);
        if (r == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}
