/* json.h - JSON-lines I/O and typed getters over json-c. */
#pragma once
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

static inline void json_putp(struct json_object **o)
{
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* The longest line either end of the agent protocol takes: two jobs' 8 MiB of
 * output, escaped. A longer one breaks the connection (-EMSGSIZE). */
#define JSON_LINE_MAX (16u << 20)

/* A line reader over a non-blocking-safe fd (uses poll). Each byte is looked
 * at once: buf[off..len) is unread, and its first `scanned` bytes hold no \n. */
struct line_reader {
        int fd;
        char *buf;
        size_t off, len, cap, scanned;
        bool eof;
};
void line_reader_init(struct line_reader *lr, int fd);
void line_reader_free(struct line_reader *lr);
/* Returns 1 and a malloc'd line (without \n), 0 at EOF, -ETIMEDOUT, -EINTR or -errno.
 * timeout_ms < 0 waits forever. */
int line_reader_next(struct line_reader *lr, int timeout_ms, char **ret);
/* Reads what is available without blocking; returns bytes read, 0 at EOF, or -errno. */
int line_reader_fill(struct line_reader *lr);
/* Pops one complete line if buffered: 1 and *ret, else 0; -EMSGSIZE when
 * more than JSON_LINE_MAX bytes came without a newline. */
int line_reader_pop(struct line_reader *lr, char **ret);

int json_write_line(int fd, struct json_object *o);
/* The lab's one way to write a JSON file: a new file of our own next to path
 * (mkostemp, O_CLOEXEC: never a name someone could have planted a symlink
 * at), the text (json-c flags) and a newline, mode 0644, fsync, renamed over
 * path whole. Returns 0 or -errno. */
int json_write_file(const char *path, struct json_object *o, int flags);

/* Getters: return false when absent or of another type. */
const char *jstr(struct json_object *o, const char *key);
bool jint(struct json_object *o, const char *key, int64_t *ret);
bool jdouble(struct json_object *o, const char *key, double *ret);
bool jbool(struct json_object *o, const char *key, bool *ret);
struct json_object *jobj(struct json_object *o, const char *key);
struct json_object *jarr(struct json_object *o, const char *key);
/* The length of an array, 0 for anything else (NULL included): json-c asserts. */
static inline size_t jlen(struct json_object *o)
{
        return json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;
}
/* Element i of an array, NULL when o is no array or i is past its end
 * (json-c asserts on a non-array: a subflow list an interval lacks) */
static inline struct json_object *jidx(struct json_object *o, size_t i)
{
        return i < jlen(o) ? json_object_array_get_idx(o, i) : NULL;
}
/* Running sums by key: acc[key] is an array of `width` numbers (made, all 0,
 * on first use); v is added to its slot i. */
void jsum_add(struct json_object *acc, const char *key, unsigned width, unsigned i, double v);
/* A path of keys: jpath(o, "end", "sum_sent", NULL). */
struct json_object *jpath(struct json_object *o, ...);
double jpath_double(struct json_object *o, double dflt, ...);
