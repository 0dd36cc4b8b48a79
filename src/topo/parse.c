/* parse.c - YAML (libfyaml) to the topology model, with validation that
 * reports every problem of a file as FILE:LINE:COL: message. */
#include "topo.h"
#include "units.h"
#include "../shared/limits.h"
#include "../shared/util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libfyaml.h>

struct ctx {
        const char *file;
        struct fy_node *events[LIM_TOPO_WORKLOADS]; /* each workload's events: (checked last) */
        struct topo_errors *errs;
        struct topo *t;
        struct fy_node *set_nodes[64]; /* values that came from --set, not from the file */
        unsigned n_set_nodes;
        const char *cell[TOPO_AXES]; /* the cell asked (cell:, then --set matrix.AXIS=) */
        struct topo_pos cell_pos;
};

static struct topo_pos node_pos(struct fy_node *n)
{
        struct topo_pos p = {0, 0};
        if (!n)
                return p;
        struct fy_token *tok = NULL;
        void *it = NULL;
        switch (fy_node_get_type(n)) {
        case FYNT_SCALAR:
                tok = fy_node_get_scalar_token(n);
                break;
        case FYNT_MAPPING: {
                struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
                return pair ? node_pos(fy_node_pair_key(pair)) : p;
        }
        case FYNT_SEQUENCE:
                return node_pos(fy_node_sequence_iterate(n, &it));
        }
        const struct fy_mark *m = tok ? fy_token_start_mark(tok) : NULL;
        if (m) {
                p.line = m->line + 1;
                p.col = m->column + 1;
        }
        return p;
}

struct topo_pos topo_yaml_node_pos(struct fy_node *n)
{
        return node_pos(n);
}

static void add_error(struct topo_errors *e, char *msg)
{
        e->msgs = xreallocarray(e->msgs, e->n + 1, sizeof(char *));
        e->msgs[e->n++] = msg;
}

/* FILE:LINE:COL: m; without a place, from_set says the value came from
 * --set (it has no place in the file) */
static void add_at(struct topo_errors *e, const char *file, struct topo_pos p, bool from_set,
                   const char *m)
{
        if (p.line)
                add_error(e, xasprintf("%s:%d:%d: %s", file, p.line, p.col, m));
        else
                add_error(e, xasprintf("%s%s: %s", file, from_set ? " (--set)" : "", m));
}

void topo_errors_addf(struct topo_errors *e, const char *file, struct topo_pos p, const char *fmt,
                      ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                abort();
        va_end(ap);
        add_at(e, file, p, false, m);
}

_printf_(3, 4) static void err_pos(struct ctx *c, struct topo_pos p, const char *fmt, ...)
{
        _cleanup_free_ char *m = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&m, fmt, ap) < 0)
                abort();
        va_end(ap);
        add_at(c->errs, c->file, p, true, m);
}

static struct topo_pos ctx_pos(struct ctx *c, struct fy_node *n)
{
        for (unsigned i = 0; i < c->n_set_nodes; i++)
                if (c->set_nodes[i] == n)
                        return (struct topo_pos){0, 0};
        return node_pos(n);
}

#define err_at(c, n, ...) err_pos((c), ctx_pos((c), (n)), __VA_ARGS__)

void topo_errors_clear(struct topo_errors *e)
{
        for (unsigned i = 0; i < e->n; i++)
                free(e->msgs[i]);
        free(e->msgs);
        e->msgs = NULL;
        e->n = 0;
}

static const char *type_name(struct fy_node *n)
{
        switch (fy_node_get_type(n)) {
        case FYNT_SCALAR:
                return "a scalar";
        case FYNT_SEQUENCE:
                return "a list";
        case FYNT_MAPPING:
                return "a mapping";
        }
        return "?";
}

static bool expect_type(struct ctx *c, struct fy_node *n, enum fy_node_type want, const char *what)
{
        static const char *const names[] = {"a scalar", "a list", "a mapping"};
        if (!n || fy_node_get_type(n) != want) {
                err_at(c, n, "%s must be %s, not %s", what, names[want],
                       n ? type_name(n) : "empty");
                return false;
        }
        return true;
}

/* A scalar's text, or NULL (error reported). Plain empty values count as missing. */
static const char *scalar(struct ctx *c, struct fy_node *n, const char *what)
{
        if (!n) {
                add_error(c->errs, xasprintf("%s: %s has no value", c->file, what));
                return NULL;
        }
        if (!expect_type(c, n, FYNT_SCALAR, what))
                return NULL;
        size_t len = 0;
        const char *raw = fy_node_get_scalar(n, &len);
        const char *s = fy_node_get_scalar0(n);
        if (!s || !*s) {
                err_at(c, n, "%s is empty", what);
                return NULL;
        }
        if (raw && strnlen(raw, len) != len) { /* "t\0x" would silently become "t" */
                err_at(c, n, "%s holds a NUL character", what);
                return NULL;
        }
        return s;
}

static bool get_uint(struct ctx *c, struct fy_node *n, const char *what, unsigned long min,
                     unsigned long max, unsigned *ret)
{
        const char *s = scalar(c, n, what);
        if (!s)
                return false;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (!isdigit((unsigned char)s[0]) || errno || *end || v < min || v > max) {
                err_at(c, n, "%s \"%s\" is not a whole number from %lu to %lu", what, s, min, max);
                return false;
        }
        *ret = (unsigned)v;
        return true;
}

static bool get_bool(struct ctx *c, struct fy_node *n, const char *what, bool *ret)
{
        const char *s = scalar(c, n, what);
        if (!s)
                return false;
        if (streq(s, "true") || streq(s, "yes") || streq(s, "on"))
                *ret = true;
        else if (streq(s, "false") || streq(s, "no") || streq(s, "off"))
                *ret = false;
        else {
                err_at(c, n, "%s \"%s\" is not a boolean (expected true or false)", what, s);
                return false;
        }
        return true;
}

static bool valid_name_len(const char *s, size_t max)
{
        size_t n = strlen(s);
        if (n == 0 || n > max || !isalpha((unsigned char)s[0]))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
                        return false;
        return true;
}

static bool valid_name(const char *s)
{
        return valid_name_len(s, TOPO_NAME_MAX);
}

static bool get_name(struct ctx *c, struct fy_node *n, const char *what, char **ret)
{
        const char *s = scalar(c, n, what);
        if (!s)
                return false;
        if (!valid_name(s)) {
                err_at(c, n,
                       "%s \"%s\" is not a valid name (a letter, then letters, digits, '-', '_' "
                       "or '.', at most %d characters)",
                       what, s, TOPO_NAME_MAX);
                return false;
        }
        *ret = xstrdup(s);
        return true;
}

/* Iterates a mapping; returns false (error reported) if n is not one. */
#define for_each_pair(n, pair, it)                                                                 \
        for (void *it = NULL; ((pair) = fy_node_mapping_iterate((n), &it)) != NULL;)

static void unknown_key(struct ctx *c, struct fy_node *key, const char *where, const char *known)
{
        err_at(c, key, "unknown field \"%s\" in %s (expected one of: %s)",
               fy_node_get_scalar0(key) ?: "?", where, known);
}

static const char *key_str(struct fy_node_pair *p)
{
        struct fy_node *k = fy_node_pair_key(p);
        const char *s = k && fy_node_get_type(k) == FYNT_SCALAR ? fy_node_get_scalar0(k) : NULL;
        return s ? s : "";
}

/* ---- shaping ---- */

#define SHAPE_KEYS "rate, delay, jitter, loss, limit"

static void parse_shape_dir(struct ctx *c, struct fy_node *n, const char *where,
                            struct topo_shape *s)
{
        struct fy_node_pair *p;
        s->set = true;
        s->pos = node_pos(n);
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p), *why = NULL, *v;
                struct fy_node *vn = fy_node_pair_value(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                if (streq(k, "rate")) {
                        if ((v = scalar(c, vn, what)) && parse_rate(v, &s->rate_bps, &why) < 0)
                                err_at(c, vn, "%s \"%s\" %s", what, v, why);
                } else if (streq(k, "delay") || streq(k, "jitter")) {
                        uint64_t *us = streq(k, "delay") ? &s->delay_us : &s->jitter_us;
                        if ((v = scalar(c, vn, what)) && parse_time(v, us, &why) < 0)
                                err_at(c, vn, "%s \"%s\" %s", what, v, why);
                        else if (v && *us > LIM_DELAY_MAX_US)
                                err_at(c, vn, "%s \"%s\" is out of range (at most 60s)", what, v);
                } else if (streq(k, "loss")) {
                        if ((v = scalar(c, vn, what)) && parse_percent(v, &s->loss_pct, &why) < 0)
                                err_at(c, vn, "%s \"%s\" %s", what, v, why);
                } else if (streq(k, "limit")) {
                        get_uint(c, vn, what, 1, LIM_QUEUE_MAX_PKTS, &s->limit);
                } else
                        unknown_key(c, fy_node_pair_key(p), where, SHAPE_KEYS);
        }
        if (s->jitter_us && !s->delay_us)
                err_pos(c, s->pos, "%s: jitter needs a delay (netem varies the delay)", where);
        if (s->jitter_us > s->delay_us && s->delay_us)
                err_pos(c, s->pos, "%s: jitter is larger than the delay", where);
}

static void parse_shape(struct ctx *c, struct fy_node *n, unsigned li, struct topo_link *l)
{
        _cleanup_free_ char *where = xasprintf("link %u shape", li + 1);
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        struct fy_node *ab = fy_node_mapping_lookup_by_string(n, "ab", -1);
        struct fy_node *ba = fy_node_mapping_lookup_by_string(n, "ba", -1);
        if (!ab && !ba) {
                parse_shape_dir(c, n, where, &l->shape[0]);
                l->shape[1] = l->shape[0];
                return;
        }
        struct fy_node_pair *p;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                if (!streq(k, "ab") && !streq(k, "ba"))
                        err_at(c, fy_node_pair_key(p),
                               "%s: \"%s\" cannot be mixed with per-direction ab/ba shaping "
                               "(put it inside ab: or ba:)",
                               where, k);
        }
        if (ab) {
                _cleanup_free_ char *w = xasprintf("%s ab", where);
                parse_shape_dir(c, ab, w, &l->shape[0]);
        }
        if (ba) {
                _cleanup_free_ char *w = xasprintf("%s ba", where);
                parse_shape_dir(c, ba, w, &l->shape[1]);
        }
}

/* ---- nodes ---- */

static bool parse_addr_node(struct ctx *c, struct fy_node *n, const char *what, bool need_prefix,
                            struct topo_addr *a)
{
        const char *s = scalar(c, n, what);
        if (!s)
                return false;
        if (topo_addr_parse(s, need_prefix, a) < 0) {
                err_at(c, n, "%s \"%s\" is not an IPv4 or IPv6 address%s", what, s,
                       need_prefix ? " with a prefix length (10.0.1.1/24)" : "");
                return false;
        }
        return true;
}

static void parse_endpoint(struct ctx *c, struct fy_node *n, const char *where,
                           struct topo_endpoint *ep)
{
        struct fy_node_pair *p;
        ep->pos = node_pos(n);
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *v = fy_node_pair_value(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                if (streq(k, "dev"))
                        get_name(c, v, what, &ep->dev);
                else if (streq(k, "addr"))
                        parse_addr_node(c, v, what, false, &ep->addr);
                else if (streq(k, "id"))
                        get_uint(c, v, what, 1, 255, &ep->id);
                else if (streq(k, "port"))
                        get_uint(c, v, what, 1, 65535, &ep->port);
                else if (streq(k, "flags")) {
                        if (!expect_type(c, v, FYNT_SEQUENCE, what))
                                continue;
                        void *fi = NULL;
                        struct fy_node *f;
                        while ((f = fy_node_sequence_iterate(v, &fi))) {
                                const char *s = scalar(c, f, what);
                                if (!s)
                                        continue;
                                unsigned bit = 0;
                                for (unsigned fi2 = 0; fi2 < ELEMENTSOF(topo_ep_flag_names); fi2++)
                                        if (streq(s, topo_ep_flag_names[fi2]))
                                                bit = 1u << fi2;
                                if (bit)
                                        ep->flags |= bit;
                                else
                                        err_at(c, f,
                                               "%s: unknown endpoint flag \"%s\" (expected "
                                               "signal, subflow, backup, fullmesh or laminar)",
                                               where, s);
                        }
                } else
                        unknown_key(c, fy_node_pair_key(p), where, "dev, addr, flags, id, port");
        }
        if (!ep->dev)
                err_pos(c, ep->pos, "%s: dev is required", where);
        if ((ep->flags & TOPO_EP_FULLMESH) &&
            (!(ep->flags & TOPO_EP_SUBFLOW) || (ep->flags & TOPO_EP_SIGNAL)))
                err_pos(c, ep->pos, "%s: fullmesh needs subflow and cannot be combined with signal",
                        where);
        if (!(ep->flags & (TOPO_EP_SIGNAL | TOPO_EP_SUBFLOW | TOPO_EP_LAMINAR)))
                err_pos(c, ep->pos,
                        "%s: endpoint does nothing without signal, subflow or laminar in its flags",
                        where);
}

static void parse_mptcp(struct ctx *c, struct fy_node *n, struct topo_node *node)
{
        _cleanup_free_ char *where = xasprintf("node %s mptcp", node->name);
        struct fy_node_pair *p;
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *v = fy_node_pair_value(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                if (streq(k, "enabled"))
                        get_bool(c, v, what, &node->mptcp.enabled);
                else if (streq(k, "path_manager")) {
                        const char *s = scalar(c, v, what);
                        if (s && !streq(s, "kernel") && !streq(s, "userspace"))
                                err_at(c, v,
                                       "%s \"%s\" is not a path manager (kernel or userspace)",
                                       what, s);
                        else if (s)
                                node->mptcp.pm_type = xstrdup(s);
                } else if (streq(k, "limits")) {
                        struct fy_node_pair *q;
                        if (!expect_type(c, v, FYNT_MAPPING, what))
                                continue;
                        node->mptcp.has_limits = true;
                        for_each_pair(v, q, it2)
                        {
                                const char *lk = key_str(q);
                                _cleanup_free_ char *w2 = xasprintf("%s %s", what, lk);
                                /* MPTCP_PM_ADDR_MAX in the kernel is 8 */
                                if (streq(lk, "subflows"))
                                        get_uint(c, fy_node_pair_value(q), w2, 0, 8,
                                                 &node->mptcp.subflows);
                                else if (streq(lk, "add_addr_accepted"))
                                        get_uint(c, fy_node_pair_value(q), w2, 0, 8,
                                                 &node->mptcp.add_addr_accepted);
                                else
                                        unknown_key(c, fy_node_pair_key(q), what,
                                                    "subflows, add_addr_accepted");
                        }
                } else if (streq(k, "endpoints")) {
                        if (!expect_type(c, v, FYNT_SEQUENCE, what))
                                continue;
                        int cnt = fy_node_sequence_item_count(v);
                        node->mptcp.endpoints = xcalloc((size_t)cnt, sizeof(struct topo_endpoint));
                        void *ei = NULL;
                        struct fy_node *e;
                        while ((e = fy_node_sequence_iterate(v, &ei))) {
                                unsigned i = node->mptcp.n_endpoints++;
                                _cleanup_free_ char *w2 = xasprintf("%s endpoint %u", where, i + 1);
                                parse_endpoint(c, e, w2, &node->mptcp.endpoints[i]);
                        }
                } else
                        unknown_key(c, fy_node_pair_key(p), where,
                                    "enabled, limits, endpoints, path_manager");
        }
}

static void parse_routes(struct ctx *c, struct fy_node *n, struct topo_node *node)
{
        _cleanup_free_ char *where = xasprintf("node %s route", node->name);
        if (!expect_type(c, n, FYNT_SEQUENCE, "routes"))
                return;
        node->routes = xcalloc((size_t)fy_node_sequence_item_count(n), sizeof(struct topo_route));
        void *ri = NULL;
        struct fy_node *e;
        while ((e = fy_node_sequence_iterate(n, &ri))) {
                struct topo_route *r = &node->routes[node->n_routes++];
                _cleanup_free_ char *w = xasprintf("%s %u", where, node->n_routes);
                struct fy_node_pair *p;
                r->pos = node_pos(e);
                if (!expect_type(c, e, FYNT_MAPPING, w))
                        continue;
                bool has_dst = false;
                for_each_pair(e, p, it)
                {
                        const char *k = key_str(p);
                        struct fy_node *v = fy_node_pair_value(p);
                        _cleanup_free_ char *what = xasprintf("%s: %s", w, k);
                        if (streq(k, "dst")) {
                                const char *s = scalar(c, v, what);
                                has_dst = true;
                                if (s && streq(s, "default"))
                                        r->dst.family = 0; /* family taken from via */
                                else if (s)
                                        parse_addr_node(c, v, what, true, &r->dst);
                        } else if (streq(k, "via")) {
                                r->has_via = parse_addr_node(c, v, what, false, &r->via);
                        } else if (streq(k, "dev"))
                                get_name(c, v, what, &r->dev);
                        else
                                unknown_key(c, fy_node_pair_key(p), w, "dst, via, dev");
                }
                if (!has_dst)
                        err_pos(c, r->pos, "%s: dst is required (an address/prefix or default)", w);
                if (!r->has_via && !r->dev)
                        err_pos(c, r->pos, "%s: needs via or dev", w);
                if (r->dst.family == 0) {
                        r->dst.family = r->has_via ? r->via.family : AF_INET;
                        r->dst.prefix = 0;
                }
                if (r->has_via && r->via.family != r->dst.family)
                        err_pos(c, r->pos, "%s: dst and via are of different address families", w);
        }
}

static bool valid_sysctl_key(const char *k)
{
        if (!*k || k[0] == '.' || strstr(k, ".."))
                return false;
        for (; *k; k++)
                if (!isalnum((unsigned char)*k) && !strchr("._-", *k))
                        return false;
        return true;
}

static void parse_sysctls(struct ctx *c, struct fy_node *n, struct topo_node *node)
{
        _cleanup_free_ char *where = xasprintf("node %s sysctls", node->name);
        struct fy_node_pair *p;
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        node->sysctls = xcalloc((size_t)fy_node_mapping_item_count(n), sizeof(struct topo_sysctl));
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                if (!valid_sysctl_key(k)) {
                        err_at(c, fy_node_pair_key(p),
                               "%s: \"%s\" is not a sysctl name (dotted, like "
                               "net.ipv4.tcp_congestion_control)",
                               where, k);
                        continue;
                }
                const char *v = scalar(c, fy_node_pair_value(p), what);
                if (!v)
                        continue;
                struct topo_sysctl *s = &node->sysctls[node->n_sysctls++];
                s->key = xstrdup(k);
                s->value = xstrdup(v);
                s->pos = ctx_pos(c, fy_node_pair_key(p)); /* 0:0 for a --set key */
        }
}

struct defaults {
        unsigned cpus;
        uint64_t memory;
};

static bool parse_memory(struct ctx *c, struct fy_node *v, const char *what, uint64_t *ret)
{
        const char *s = scalar(c, v, what), *why;
        if (!s)
                return false;
        if (parse_size(s, ret, &why) < 0) {
                err_at(c, v, "%s \"%s\" %s", what, s, why);
                return false;
        }
        if (*ret < LIM_MEMORY_MIN || *ret > LIM_MEMORY_MAX) {
                err_at(c, v, "%s \"%s\" is out of range (64MiB to 1TiB)", what, s);
                return false;
        }
        return true;
}

static void parse_node(struct ctx *c, struct fy_node *key, struct fy_node *n,
                       const struct defaults *d, struct topo_node *node)
{
        if (!get_name(c, key, "node name", &node->name))
                node->name = xstrdup(fy_node_get_scalar0(key) ?: "?");
        node->pos = node_pos(key);
        node->cpus = d->cpus;
        node->memory = d->memory;
        node->mptcp.enabled = true;
        node->kind = TOPO_NODE_HOST;
        _cleanup_free_ char *where = xasprintf("node %s", node->name);
        if (!n || (fy_node_get_type(n) == FYNT_SCALAR && !*(fy_node_get_scalar0(n) ?: "")))
                return; /* "server:" with nothing: all defaults */
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        struct fy_node_pair *p;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *v = fy_node_pair_value(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                if (streq(k, "kind")) {
                        const char *s = scalar(c, v, what);
                        if (s && streq(s, "router"))
                                node->kind = TOPO_NODE_ROUTER;
                        else if (s && !streq(s, "host"))
                                err_at(c, v, "%s \"%s\" is not a node kind (host or router)", what,
                                       s);
                } else if (streq(k, "cpus"))
                        get_uint(c, v, what, 1, LIM_CPUS_MAX, &node->cpus);
                else if (streq(k, "memory"))
                        parse_memory(c, v, what, &node->memory);
                else if (streq(k, "kernel")) {
                        const char *s = scalar(c, v, what);
                        if (s)
                                node->kernel = xstrdup(s);
                } else if (streq(k, "uri")) {
                        const char *s = scalar(c, v, what);
                        if (s && (!strstr(s, "://") || strspn(s, " \t\n")))
                                err_at(c, v,
                                       "%s \"%s\" is not a libvirt URI "
                                       "(qemu+ssh://root@host/system)",
                                       what, s);
                        else if (s)
                                node->uri = xstrdup(s);
                } else if (streq(k, "mptcp"))
                        parse_mptcp(c, v, node);
                else if (streq(k, "sysctls"))
                        parse_sysctls(c, v, node);
                else if (streq(k, "routes"))
                        parse_routes(c, v, node);
                else
                        unknown_key(c, fy_node_pair_key(p), where,
                                    "kind, cpus, memory, kernel, uri, mptcp, sysctls, routes");
        }
}

/* ---- links ---- */

/* "client:eth0 10.0.1.1/24 fd00:1::1/64" */
static void parse_link_end(struct ctx *c, struct fy_node *n, unsigned li, unsigned side,
                           struct topo_link *l)
{
        _cleanup_free_ char *what = xasprintf("link %u endpoint %u", li + 1, side + 1);
        const char *s = scalar(c, n, what);
        if (!s)
                return;
        _cleanup_free_ char *copy = xstrdup(s);
        char *save = NULL, *tok = strtok_r(copy, " \t", &save);
        char *colon = tok ? strchr(tok, ':') : NULL;
        if (!colon) {
                err_at(c, n, "%s \"%s\" must be \"NODE:IFACE [ADDRESS/PREFIX ...]\"", what, s);
                return;
        }
        *colon = 0;
        const char *node_name = tok, *ifname = colon + 1;
        int ni = topo_find_node(c->t, node_name);
        if (ni < 0) {
                err_at(c, n, "%s: no node named \"%s\" (define it under nodes:)", what, node_name);
                return;
        }
        if (!ifname_valid(ifname) || !valid_name_len(ifname, LIM_IFNAME_LEN)) {
                err_at(c, n, "%s: \"%s\" is not a valid interface name (at most %d characters)",
                       what, ifname, LIM_IFNAME_LEN);
                return;
        }
        struct topo_node *node = &c->t->nodes[ni];
        if (topo_find_iface(node, ifname) >= 0) {
                err_at(c, n, "%s: interface %s:%s is already used by another link", what, node_name,
                       ifname);
                return;
        }
        node->ifaces = xreallocarray(node->ifaces, node->n_ifaces + 1, sizeof(struct topo_iface));
        struct topo_iface *ifc = &node->ifaces[node->n_ifaces];
        *ifc = (struct topo_iface){.name = xstrdup(ifname), .link = (int)li};
        l->end[side] = (struct topo_link_end){(unsigned)ni, node->n_ifaces++};
        while ((tok = strtok_r(NULL, " \t", &save))) {
                struct topo_addr a;
                if (topo_addr_parse(tok, true, &a) < 0) {
                        err_at(c, n,
                               "%s: \"%s\" is not an address with a prefix length "
                               "(10.0.1.1/24 or fd00::1/64)",
                               what, tok);
                        continue;
                }
                ifc->addrs = xreallocarray(ifc->addrs, ifc->n_addrs + 1, sizeof(a));
                ifc->addrs[ifc->n_addrs++] = a;
        }
}

static void parse_link(struct ctx *c, struct fy_node *n, unsigned li, struct topo_link *l)
{
        _cleanup_free_ char *where = xasprintf("link %u", li + 1);
        l->pos = node_pos(n);
        l->end[0].node = l->end[1].node = (unsigned)-1;
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        struct fy_node_pair *p;
        bool have_ends = false;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *v = fy_node_pair_value(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                if (streq(k, "endpoints")) {
                        have_ends = true;
                        if (!expect_type(c, v, FYNT_SEQUENCE, what))
                                continue;
                        if (fy_node_sequence_item_count(v) != 2) {
                                err_at(c, v, "%s must list exactly 2 endpoints, not %d", what,
                                       fy_node_sequence_item_count(v));
                                continue;
                        }
                        for (unsigned side = 0; side < 2; side++)
                                parse_link_end(c, fy_node_sequence_get_by_index(v, (int)side), li,
                                               side, l);
                } else if (streq(k, "shape"))
                        parse_shape(c, v, li, l);
                else if (streq(k, "mtu"))
                        get_uint(c, v, what, LIM_MTU_MIN, LIM_MTU_MAX, &l->mtu);
                else
                        unknown_key(c, fy_node_pair_key(p), where, "endpoints, shape, mtu");
        }
        for (unsigned side = 0; have_ends && l->mtu && l->mtu < 1280 && side < 2; side++) {
                const struct topo_iface *ifc =
                        l->end[side].node == (unsigned)-1
                                ? NULL
                                : &c->t->nodes[l->end[side].node].ifaces[l->end[side].iface];
                bool v6 = false;
                for (unsigned a = 0; ifc && a < ifc->n_addrs; a++)
                        v6 |= ifc->addrs[a].family == AF_INET6;
                if (v6) {
                        err_pos(c, l->pos,
                                "%s: mtu %u is below IPv6's 1280, and %s has an IPv6 "
                                "address",
                                where, l->mtu, ifc->name);
                        break;
                }
        }
        if (!have_ends)
                err_pos(c, l->pos, "%s: endpoints is required", where);
        else if (l->end[0].node != (unsigned)-1 && l->end[0].node == l->end[1].node)
                err_pos(c, l->pos, "%s joins node %s to itself", where,
                        c->t->nodes[l->end[0].node].name);
}

/* ---- workloads ---- */

static int node_ref(struct ctx *c, struct fy_node *v, const char *what)
{
        const char *s = scalar(c, v, what);
        if (!s)
                return -1;
        int i = topo_find_node(c->t, s);
        if (i < 0)
                err_at(c, v, "%s: no node named \"%s\"", what, s);
        return i;
}

static bool iface_has_addr(const struct topo_iface *ifc, const struct topo_addr *a)
{
        for (unsigned j = 0; j < ifc->n_addrs; j++)
                if (ifc->addrs[j].family == a->family &&
                    !memcmp(&ifc->addrs[j].u, &a->u, a->family == AF_INET ? 4 : 16))
                        return true;
        return false;
}

static void parse_workload(struct ctx *c, struct fy_node *n, unsigned wi, struct topo_workload *w)
{
        _cleanup_free_ char *where = xasprintf("workload %u", wi + 1);
        w->pos = node_pos(n);
        w->duration_us = 10000000;
        w->warmup_us = 3000000; /* MPTCP needs about 2 s to open its subflows and ramp up */
        w->warmup_auto = true;  /* at most that: a series learns what its runs need */
        w->flows = 1;
        w->from = w->to = (unsigned)-1;
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        struct fy_node_pair *p;
        bool have_tool = false, have_duration = false, have_warmup = false;
        struct fy_node *target = NULL;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p), *s, *why;
                struct fy_node *v = fy_node_pair_value(p);
                _cleanup_free_ char *what = xasprintf("%s: %s", where, k);
                int i;
                if (streq(k, "name"))
                        get_name(c, v, what, &w->name);
                else if (streq(k, "tool")) {
                        if (!(s = scalar(c, v, what)))
                                continue;
                        have_tool = true;
                        if (streq(s, "iperf3"))
                                w->tool = TOPO_TOOL_IPERF3;
                        else if (streq(s, "mptcpload"))
                                w->tool = TOPO_TOOL_MPTCPLOAD;
                        else
                                err_at(c, v, "%s \"%s\" is not a tool (iperf3 or mptcpload)", what,
                                       s);
                } else if (streq(k, "mode")) {
                        if (!(s = scalar(c, v, what)))
                                continue;
                        if (!streq(s, "stream") && !streq(s, "rr") && !streq(s, "crr"))
                                err_at(c, v, "%s \"%s\" is not a mode (stream, rr or crr)", what,
                                       s);
                        else
                                w->mode = xstrdup(s);
                } else if (streq(k, "from")) {
                        if ((i = node_ref(c, v, what)) >= 0)
                                w->from = (unsigned)i;
                } else if (streq(k, "to")) {
                        if ((i = node_ref(c, v, what)) >= 0)
                                w->to = (unsigned)i;
                } else if (streq(k, "target")) {
                        if (parse_addr_node(c, v, what, false, &w->target))
                                target = v;
                } else if (streq(k, "size")) {
                        if ((s = scalar(c, v, what)) && parse_size(s, &w->size_bytes, &why) < 0)
                                err_at(c, v, "%s \"%s\" %s", what, s, why);
                        else if (s && (w->size_bytes < 1024 || w->size_bytes > LIM_SIZE_MAX))
                                err_at(c, v, "%s \"%s\" is out of range (1KiB to 64GiB)", what, s);
                } else if (streq(k, "max_time")) {
                        if ((s = scalar(c, v, what)) && parse_time(s, &w->max_time_us, &why) < 0)
                                err_at(c, v, "%s \"%s\" %s", what, s, why);
                        else if (s && (w->max_time_us < 1000 || w->max_time_us > 3600000000ULL))
                                err_at(c, v, "%s \"%s\" is out of range (1ms to 1h)", what, s);
                } else if (streq(k, "duration")) {
                        have_duration = true;
                        if ((s = scalar(c, v, what)) && parse_time(s, &w->duration_us, &why) < 0)
                                err_at(c, v, "%s \"%s\" %s", what, s, why);
                        else if (s && (w->duration_us < 1000000 || w->duration_us > 3600000000ULL))
                                err_at(c, v, "%s \"%s\" is out of range (1s to 1h)", what, s);
                } else if (streq(k, "warmup")) {
                        have_warmup = true;
                        w->warmup_auto = false;
                        if ((s = scalar(c, v, what)) && streq(s, "auto"))
                                w->warmup_auto = true;
                        else if (s && parse_time(s, &w->warmup_us, &why) < 0)
                                err_at(c, v, "%s \"%s\" %s", what, s, why);
                        else if (s && w->warmup_us % 1000000)
                                err_at(c, v, "%s \"%s\" must be whole seconds (iperf3 -O)", what,
                                       s);
                        else if (s && w->warmup_us > 60000000)
                                err_at(c, v, "%s \"%s\" is out of range (0s to 60s)", what, s);
                } else if (streq(k, "protocol")) {
                        if (!(s = scalar(c, v, what)))
                                continue;
                        if (streq(s, "mptcp"))
                                w->protocol = TOPO_PROTO_MPTCP;
                        else if (streq(s, "tcp"))
                                w->protocol = TOPO_PROTO_TCP;
                        else
                                err_at(c, v, "%s \"%s\" is not a protocol (mptcp or tcp)", what, s);
                } else if (streq(k, "flows"))
                        get_uint(c, v, what, 1, LIM_FLOWS_MAX, &w->flows);
                else if (streq(k, "reverse"))
                        get_bool(c, v, what, &w->reverse);
                else if (streq(k, "bidir"))
                        get_bool(c, v, what, &w->bidir);
                else if (streq(k, "port"))
                        get_uint(c, v, what, LIM_PORT_MIN, LIM_PORT_MAX, &w->port);
                else if (streq(k, "key_metrics") && expect_type(c, v, FYNT_SEQUENCE, what)) {
                        /* names of the metric registry (checked by
                         * metric_check_topo: the registry lives above the parser) */
                        void *ki = NULL;
                        struct fy_node *kn;
                        size_t nk = (size_t)fy_node_sequence_item_count(v) + 1;
                        w->key_metrics = xcalloc(nk, sizeof(char *));
                        w->key_metric_pos = xcalloc(nk, sizeof(struct topo_pos));
                        while ((kn = fy_node_sequence_iterate(v, &ki))) {
                                const char *m = scalar(c, kn, what);
                                if (m &&
                                    (!*m || strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789_") !=
                                                    strlen(m)))
                                        err_at(c, kn, "%s: \"%s\" is not a metric name", what, m);
                                else if (m) {
                                        w->key_metric_pos[w->n_key_metrics] = node_pos(kn);
                                        w->key_metrics[w->n_key_metrics++] = xstrdup(m);
                                }
                        }
                } else if (streq(k, "events")) {
                        if (expect_type(c, v, FYNT_SEQUENCE, what) && wi < LIM_TOPO_WORKLOADS)
                                c->events[wi] = v;
                } else
                        unknown_key(c, fy_node_pair_key(p), where,
                                    "name, tool, mode, from, to, target, duration, warmup, "
                                    "size, max_time, protocol, flows, reverse, bidir, port, "
                                    "key_metrics, events");
        }
        /* a workload with events is timed at the receiver in 10 ms bins:
         * mptcpload's stream unless it says otherwise (iperf3 cannot go below
         * 100 ms) */
        if (c->events[wi] && !have_tool) {
                have_tool = true;
                w->tool = TOPO_TOOL_MPTCPLOAD;
                if (!w->mode)
                        w->mode = xstrdup("stream");
        }
        if (c->events[wi] && w->tool == TOPO_TOOL_IPERF3)
                err_at(c, c->events[wi],
                       "%s: events need the receiver's 10 ms bins of mptcpload (iperf3's "
                       "intervals stop at 100 ms): tool: mptcpload",
                       where);
        /* a fixed-size transfer is timed from its first byte to its last */
        if (w->size_bytes) {
                if (have_duration || have_warmup)
                        err_pos(c, w->pos,
                                "%s: size makes a fixed-size transfer, timed whole: no duration "
                                "or warmup with it",
                                where);
                /* iperf3 -n: in all; mptcpload --bytes: each flow's, an upload */
                if (have_tool && w->tool == TOPO_TOOL_MPTCPLOAD &&
                    ((w->mode && !streq(w->mode, "stream")) || w->reverse || w->bidir))
                        err_pos(c, w->pos,
                                "%s: size makes mptcpload's fixed-size upload: mode stream, "
                                "neither reverse nor bidir",
                                where);
                w->warmup_us = 0;
                w->warmup_auto = false;
                /* what the deadlines are made of: the bound, else a generous guess */
                w->duration_us = w->max_time_us ? w->max_time_us : 60000000;
        } else if (w->max_time_us)
                err_pos(c, w->pos, "%s: max_time bounds a fixed-size transfer (size)", where);
        if (!w->name)
                err_pos(c, w->pos, "%s: name is required", where);
        if (!have_tool)
                err_pos(c, w->pos, "%s: tool is required (iperf3 or mptcpload)", where);
        if (w->from == (unsigned)-1 || w->to == (unsigned)-1)
                err_pos(c, w->pos, "%s: from and to are required (node names)", where);
        else if (w->from == w->to)
                err_pos(c, w->pos, "%s: from and to are the same node", where);
        if (have_tool && w->tool == TOPO_TOOL_IPERF3 && w->mode && !streq(w->mode, "stream"))
                err_pos(c, w->pos, "%s: iperf3 only does stream (use mptcpload for rr and crr)",
                        where);
        if (have_tool && w->tool == TOPO_TOOL_IPERF3 && w->bidir)
                err_pos(c, w->pos, "%s: bidir is for mptcpload stream (iperf3 here: reverse)",
                        where);
        else if ((w->reverse || w->bidir) && w->mode && !streq(w->mode, "stream"))
                err_pos(c, w->pos, "%s: %s is for the stream mode (rr and crr: swap from and to)",
                        where, w->reverse ? "reverse" : "bidir");
        if (w->reverse && w->bidir)
                err_pos(c, w->pos, "%s: reverse and bidir together (bidir sends both ways)", where);
        if (have_tool && w->tool == TOPO_TOOL_MPTCPLOAD && !w->mode &&
            !fy_node_mapping_lookup_by_string(n, "mode", -1))
                err_pos(c, w->pos, "%s: mptcpload needs a mode (stream, rr or crr)", where);
        if (target && w->to != (unsigned)-1) {
                const struct topo_node *tn = &c->t->nodes[w->to];
                bool found = false;
                for (unsigned i = 0; i < tn->n_ifaces; i++)
                        found |= iface_has_addr(&tn->ifaces[i], &w->target);
                if (!found)
                        err_at(c, target, "%s: target is not an address of node %s", where,
                               tn->name);
        }
}

/* ---- events ---- */

static const char *const ev_names[] = {
        [TOPO_EV_DOWN] = "down",
        [TOPO_EV_UP] = "up",
        [TOPO_EV_BLACKHOLE] = "blackhole",
        [TOPO_EV_RESTORE] = "restore",
        [TOPO_EV_SHAPE] = "shape",
        [TOPO_EV_ENDPOINT_DEL] = "endpoint del",
        [TOPO_EV_ENDPOINT_ADD] = "endpoint add",
        [TOPO_EV_BACKUP] = "backup",
        [TOPO_EV_ADDRESS_DEL] = "address del",
};

const char *topo_ev_action_name(enum topo_ev_action a)
{
        return (unsigned)a < ELEMENTSOF(ev_names) ? ev_names[a] : "?";
}

bool topo_ev_disrupts(enum topo_ev_action a)
{
        return a == TOPO_EV_DOWN || a == TOPO_EV_BLACKHOLE || a == TOPO_EV_SHAPE ||
               a == TOPO_EV_ENDPOINT_DEL || a == TOPO_EV_ADDRESS_DEL || a == TOPO_EV_BACKUP;
}

#define EVENT_KEYS "at, link, action, direction, shape, node, dev, endpoint, backup, address, addr"

/* One event of workload w: every key read, then what it names checked
 * against the links, nodes and endpoints (all parsed by now) */
static void parse_event(struct ctx *c, struct fy_node *n, const char *where,
                        const struct topo_workload *w, struct topo_event *ev)
{
        struct topo *t = c->t;
        *ev = (struct topo_event){.link = -1,
                                  .node = -1,
                                  .iface = -1,
                                  .endpoint = -1,
                                  .dirs = TOPO_DIR_AB | TOPO_DIR_BA,
                                  .pos = node_pos(n)};
        if (!expect_type(c, n, FYNT_MAPPING, where))
                return;
        struct fy_node *at = NULL, *link = NULL, *action = NULL, *shape = NULL, *node = NULL,
                       *dev = NULL, *endpoint = NULL, *backup = NULL, *address = NULL, *addr = NULL,
                       *direction = NULL;
        struct fy_node_pair *p;
        for_each_pair(n, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *v = fy_node_pair_value(p);
                struct fy_node **slot = streq(k, "at")          ? &at
                                        : streq(k, "link")      ? &link
                                        : streq(k, "action")    ? &action
                                        : streq(k, "direction") ? &direction
                                        : streq(k, "shape")     ? &shape
                                        : streq(k, "node")      ? &node
                                        : streq(k, "dev")       ? &dev
                                        : streq(k, "endpoint")  ? &endpoint
                                        : streq(k, "backup")    ? &backup
                                        : streq(k, "address")   ? &address
                                        : streq(k, "addr")      ? &addr
                                                                : NULL;
                if (slot)
                        *slot = v;
                else
                        unknown_key(c, fy_node_pair_key(p), where, EVENT_KEYS);
        }
        _cleanup_free_ char *what = NULL;
        const char *s, *why;
        /* what happens: action: for a link, endpoint:, backup:, address: or shape: else */
        unsigned kinds = !!action + !!endpoint + !!backup + !!address + (shape && !action);
        if (kinds != 1) {
                err_pos(c, ev->pos,
                        "%s: say what happens with one of action: (down, up, blackhole, "
                        "restore, shape), endpoint: (del, add), backup: (true, false), "
                        "address: del or shape:",
                        where);
                return;
        }
        bool link_ev = false;
        if (action) {
                what = xasprintf("%s: action", where);
                if (!(s = scalar(c, action, what)))
                        return;
                static const enum topo_ev_action acts[] = {TOPO_EV_DOWN, TOPO_EV_UP,
                                                           TOPO_EV_BLACKHOLE, TOPO_EV_RESTORE,
                                                           TOPO_EV_SHAPE};
                unsigned i = 0;
                while (i < ELEMENTSOF(acts) && !streq(s, ev_names[acts[i]]))
                        i++;
                if (i == ELEMENTSOF(acts)) {
                        err_at(c, action,
                               "%s \"%s\" is not a link action (down, up, blackhole, restore, "
                               "shape); endpoints and addresses have endpoint:, backup: and "
                               "address:",
                               what, s);
                        return;
                }
                ev->action = acts[i];
                link_ev = true;
        } else if (shape) {
                ev->action = TOPO_EV_SHAPE;
                link_ev = true;
        } else if (endpoint) {
                free(what);
                what = xasprintf("%s: endpoint", where);
                if (!(s = scalar(c, endpoint, what)))
                        return;
                if (streq(s, "del"))
                        ev->action = TOPO_EV_ENDPOINT_DEL;
                else if (streq(s, "add"))
                        ev->action = TOPO_EV_ENDPOINT_ADD;
                else {
                        err_at(c, endpoint, "%s \"%s\" is not del or add", what, s);
                        return;
                }
        } else if (backup) {
                free(what);
                what = xasprintf("%s: backup", where);
                ev->action = TOPO_EV_BACKUP;
                if (!get_bool(c, backup, what, &ev->backup))
                        return;
        } else {
                free(what);
                what = xasprintf("%s: address", where);
                if (!(s = scalar(c, address, what)))
                        return;
                if (!streq(s, "del")) {
                        err_at(c, address, "%s \"%s\" is not del (addresses are only removed)",
                               what, s);
                        return;
                }
                ev->action = TOPO_EV_ADDRESS_DEL;
        }
        /* when: inside the measured window */
        free(what);
        what = xasprintf("%s: at", where);
        if (!at)
                err_pos(c, ev->pos, "%s: at is required (an offset into the measured window: 5s)",
                        where);
        else if ((s = scalar(c, at, what)) && parse_time(s, &ev->at_us, &why) < 0)
                err_at(c, at, "%s \"%s\" %s", what, s, why);
        else if (s && ev->at_us >= w->duration_us)
                err_at(c, at,
                       "%s \"%s\" is outside the workload's duration (%.3g s): an event happens "
                       "inside the measured window",
                       what, s, (double)w->duration_us / 1e6);
        /* where: a link, or a node's interface */
        if (link_ev) {
                if (node || dev || addr)
                        err_pos(c, ev->pos,
                                "%s: a link's event names the link (link: N), not "
                                "a node or an interface",
                                where);
                if (!link) {
                        err_pos(c, ev->pos, "%s: %s needs link: (its index, from 0)", where,
                                ev_names[ev->action]);
                        return;
                }
                unsigned li = 0;
                free(what);
                what = xasprintf("%s: link", where);
                if (!get_uint(c, link, what, 0, LIM_TOPO_LINKS, &li))
                        return;
                if (li >= t->n_links) {
                        err_at(c, link, "%s: there is no link %u (the topology has %u, from 0)",
                               what, li, t->n_links);
                        return;
                }
                ev->link = (int)li;
                if (direction) {
                        free(what);
                        what = xasprintf("%s: direction", where);
                        if (!(s = scalar(c, direction, what)))
                                return;
                        if (streq(s, "ab"))
                                ev->dirs = TOPO_DIR_AB;
                        else if (streq(s, "ba"))
                                ev->dirs = TOPO_DIR_BA;
                        else if (!streq(s, "both"))
                                err_at(c, direction, "%s \"%s\" is not ab, ba or both", what, s);
                        if (ev->action != TOPO_EV_BLACKHOLE && ev->action != TOPO_EV_SHAPE &&
                            ev->action != TOPO_EV_RESTORE)
                                err_at(c, direction,
                                       "%s: a carrier goes down and up both ways (direction is "
                                       "for blackhole, shape and restore)",
                                       what);
                }
                if (ev->action == TOPO_EV_SHAPE) {
                        if (!shape)
                                err_pos(c, ev->pos, "%s: shape needs shape: {rate:, delay:, loss:}",
                                        where);
                        else {
                                free(what);
                                what = xasprintf("%s shape", where);
                                parse_shape_dir(c, shape, what, &ev->shape);
                        }
                } else if (shape)
                        err_at(c, shape, "%s: shape: goes with action: shape", where);
                return;
        }
        if (link || direction || shape)
                err_pos(c, ev->pos,
                        "%s: an endpoint's or an address's event names node: and "
                        "dev:, not a link",
                        where);
        if (!node || !dev) {
                err_pos(c, ev->pos, "%s: %s needs node: and dev: (the interface)", where,
                        ev_names[ev->action]);
                return;
        }
        free(what);
        what = xasprintf("%s: node", where);
        if ((ev->node = node_ref(c, node, what)) < 0)
                return;
        const struct topo_node *tn = &t->nodes[ev->node];
        free(what);
        what = xasprintf("%s: dev", where);
        if (!(s = scalar(c, dev, what)))
                return;
        if ((ev->iface = topo_find_iface(tn, s)) < 0) {
                err_at(c, dev, "%s: node %s has no interface %s", what, tn->name, s);
                return;
        }
        if (ev->action == TOPO_EV_ADDRESS_DEL) {
                const struct topo_iface *ifc = &tn->ifaces[ev->iface];
                free(what);
                what = xasprintf("%s: addr", where);
                if (addr && parse_addr_node(c, addr, what, false, &ev->addr) &&
                    !iface_has_addr(ifc, &ev->addr))
                        err_at(c, addr, "%s is not an address of %s:%s", what, tn->name, s);
                if (!ifc->n_addrs)
                        err_at(c, dev, "%s: %s:%s has no address to remove", where, tn->name, s);
                return;
        }
        if (addr)
                err_at(c, addr, "%s: addr: is for address: del", where);
        for (unsigned e = 0; e < tn->mptcp.n_endpoints; e++)
                if (tn->mptcp.endpoints[e].dev && streq(tn->mptcp.endpoints[e].dev, s))
                        ev->endpoint = (int)e;
        if (ev->endpoint < 0)
                err_at(c, dev,
                       "%s: node %s has no MPTCP endpoint on %s (endpoint events act on "
                       "the topology's endpoints)",
                       what, tn->name, s);
}

static int event_cmp(const void *a, const void *b)
{
        const struct topo_event *x = a, *y = b;
        return x->at_us < y->at_us ? -1 : x->at_us > y->at_us;
}

static void parse_events(struct ctx *c)
{
        struct topo *t = c->t;
        for (unsigned wi = 0; wi < t->n_workloads && wi < LIM_TOPO_WORKLOADS; wi++) {
                struct fy_node *seq = c->events[wi];
                if (!seq)
                        continue;
                struct topo_workload *w = &t->workloads[wi];
                int n = fy_node_sequence_item_count(seq);
                if (n <= 0 || n > LIM_TOPO_EVENTS) {
                        err_at(c, seq, "workload %u: events: %d events (1 to %d)", wi + 1, n,
                               LIM_TOPO_EVENTS);
                        continue;
                }
                if (w->reverse || w->bidir)
                        err_at(c, seq,
                               "workload %u: events time an upload at the server (its 10 ms "
                               "bins): no reverse or bidir",
                               wi + 1);
                w->events = xcalloc((size_t)n, sizeof *w->events);
                void *it = NULL;
                struct fy_node *e;
                while ((e = fy_node_sequence_iterate(seq, &it))) {
                        _cleanup_free_ char *where =
                                xasprintf("workload %u event %u", wi + 1, w->n_events + 1);
                        parse_event(c, e, where, w, &w->events[w->n_events++]);
                }
                /* stable enough: events at the same instant keep their order */
                for (unsigned i = 1; i < w->n_events; i++)
                        for (unsigned j = i;
                             j > 0 && event_cmp(&w->events[j - 1], &w->events[j]) > 0; j--) {
                                struct topo_event tmp = w->events[j];
                                w->events[j] = w->events[j - 1];
                                w->events[j - 1] = tmp;
                        }
        }
}

/* ---- cross checks once everything is read ---- */

/* Strict reverse-path filtering (rp_filter 1) drops what arrives on an
 * interface the node would not route the sender's address out of: an MPTCP
 * subflow joined on a second path. A node with several addressed
 * interfaces that asks for it is refused (loose, 2, and off, 0, are fine;
 * the run records the effective values, configure.c warns where a machine
 * has strict by default). */
static void check_rp_filter(struct ctx *c, const struct topo_node *n)
{
        unsigned addressed = topo_addressed_ifaces(n);
        for (unsigned k = 0; addressed > 1 && k < n->n_sysctls; k++) {
                const char *key = n->sysctls[k].key, *v = n->sysctls[k].value;
                size_t len = strlen(key);
                if (strncmp(key, "net.ipv4.conf.", 14) || len < 24 ||
                    !streq(key + len - 10, ".rp_filter") || !streq(v, "1"))
                        continue;
                err_pos(c, n->sysctls[k].pos,
                        "node %s sysctls: %s = 1 is strict reverse-path filtering, which drops "
                        "MPTCP subflows joined over this node's other interfaces (it has %u "
                        "with addresses): use 2 (loose) or 0",
                        n->name, key, addressed);
        }
}

static void check_model(struct ctx *c)
{
        struct topo *t = c->t;
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct topo_node *n = &t->nodes[i];
                for (unsigned e = 0; e < n->mptcp.n_endpoints; e++) {
                        struct topo_endpoint *ep = &n->mptcp.endpoints[e];
                        if (!ep->dev)
                                continue;
                        int ii = topo_find_iface(n, ep->dev);
                        if (ii < 0) {
                                err_pos(c, ep->pos,
                                        "node %s mptcp endpoint %u: node has no interface %s "
                                        "(interfaces come from links)",
                                        n->name, e + 1, ep->dev);
                                continue;
                        }
                        if (ep->addr.family && !iface_has_addr(&n->ifaces[ii], &ep->addr))
                                err_pos(c, ep->pos,
                                        "node %s mptcp endpoint %u: address is not on %s", n->name,
                                        e + 1, ep->dev);
                        if (!ep->addr.family && !n->ifaces[ii].n_addrs)
                                err_pos(c, ep->pos,
                                        "node %s mptcp endpoint %u: %s has no address to use",
                                        n->name, e + 1, ep->dev);
                }
                for (unsigned r = 0; r < n->n_routes; r++)
                        if (n->routes[r].dev && topo_find_iface(n, n->routes[r].dev) < 0)
                                err_pos(c, n->routes[r].pos,
                                        "node %s route %u: node has no interface %s", n->name,
                                        r + 1, n->routes[r].dev);
        }
        /* the same address on two interfaces breaks routing and endpoint lookup */
        for (unsigned i = 0; i < t->n_nodes; i++)
                for (unsigned f = 0; f < t->nodes[i].n_ifaces; f++)
                        for (unsigned a = 0; a < t->nodes[i].ifaces[f].n_addrs; a++)
                                for (unsigned j = i; j < t->n_nodes; j++)
                                        for (unsigned g = j == i ? f + 1 : 0;
                                             g < t->nodes[j].n_ifaces; g++)
                                                if (iface_has_addr(
                                                            &t->nodes[j].ifaces[g],
                                                            &t->nodes[i].ifaces[f].addrs[a])) {
                                                        char buf[64];
                                                        err_pos(c,
                                                                t->links[t->nodes[j].ifaces[g].link]
                                                                        .pos,
                                                                "address %s is on both %s:%s and "
                                                                "%s:%s",
                                                                topo_addr_str(&t->nodes[i]
                                                                                       .ifaces[f]
                                                                                       .addrs[a],
                                                                              false, buf,
                                                                              sizeof buf),
                                                                t->nodes[i].name,
                                                                t->nodes[i].ifaces[f].name,
                                                                t->nodes[j].name,
                                                                t->nodes[j].ifaces[g].name);
                                                }
        for (unsigned i = 0; i < t->n_nodes; i++)
                check_rp_filter(c, &t->nodes[i]);
        for (unsigned i = 0; i < t->n_workloads; i++)
                for (unsigned j = 0; j < i; j++)
                        if (t->workloads[i].name && t->workloads[j].name &&
                            streq(t->workloads[i].name, t->workloads[j].name))
                                err_pos(c, t->workloads[i].pos,
                                        "workload %u: name \"%s\" is already used by workload %u",
                                        i + 1, t->workloads[i].name, j + 1);
}

/* matrix: {AXIS: [VALUE, ...]}: the cells a run or a nightly makes of the topology */
static void parse_matrix(struct ctx *c, struct fy_node *v)
{
        struct fy_node_pair *p;
        c->t->matrix.pos = node_pos(v);
        if (!expect_type(c, v, FYNT_MAPPING, "matrix"))
                return;
        size_t cells = 1;
        for_each_pair(v, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *vals = fy_node_pair_value(p);
                int a = topo_axis_find(k);
                if (a < 0) {
                        unknown_key(c, fy_node_pair_key(p), "matrix",
                                    "pm, endpoints, scheduler, protocol");
                        continue;
                }
                _cleanup_free_ char *what = xasprintf("matrix: %s", k);
                if (!expect_type(c, vals, FYNT_SEQUENCE, what))
                        continue;
                int n = fy_node_sequence_item_count(vals);
                if (n < 1 || n > 16) {
                        err_at(c, vals, "%s: 1 to 16 values, not %d", what, n);
                        continue;
                }
                struct topo_matrix *m = &c->t->matrix;
                m->values[a] = xcalloc((size_t)n, sizeof(char *));
                void *vi = NULL;
                struct fy_node *x;
                while ((x = fy_node_sequence_iterate(vals, &vi))) {
                        const char *s = scalar(c, x, what);
                        if (!s)
                                continue;
                        const char *why = topo_axis_check((enum topo_axis)a, s);
                        if (why) {
                                err_at(c, x, "%s: \"%s\": %s", what, s, why);
                                continue;
                        }
                        char *canon = topo_axis_canonical((enum topo_axis)a, s);
                        bool dup = false;
                        for (unsigned i = 0; i < m->n[a]; i++)
                                dup |= streq(m->values[a][i], canon);
                        if (dup) {
                                err_at(c, x, "%s: \"%s\" is there twice", what, s);
                                free(canon);
                                continue;
                        }
                        m->values[a][m->n[a]++] = canon;
                }
                cells *= (size_t)n;
        }
        if (cells > 64)
                err_at(c, v, "matrix: %zu cells, more than a matrix may have (64)", cells);
}

/* cell: {AXIS: VALUE}: the cell this topology is (a run's stored topology
 * says so; --set matrix.AXIS=VALUE asks the same) */
static void parse_cell(struct ctx *c, struct fy_node *v)
{
        struct fy_node_pair *p;
        c->cell_pos = node_pos(v);
        if (!expect_type(c, v, FYNT_MAPPING, "cell"))
                return;
        for_each_pair(v, p, it)
        {
                const char *k = key_str(p);
                int a = topo_axis_find(k);
                if (a < 0) {
                        unknown_key(c, fy_node_pair_key(p), "cell",
                                    "pm, endpoints, scheduler, protocol");
                        continue;
                }
                _cleanup_free_ char *what = xasprintf("cell: %s", k);
                const char *s = scalar(c, fy_node_pair_value(p), what);
                if (s && !c->cell[a])
                        c->cell[a] = s;
        }
}

static void parse_root(struct ctx *c, struct fy_node *root)
{
        struct topo *t = c->t;
        if (!root) {
                add_error(c->errs, xasprintf("%s:1:1: file is empty (expected a mapping with "
                                             "name, nodes and links)",
                                             c->file));
                return;
        }
        if (!expect_type(c, root, FYNT_MAPPING, "the topology"))
                return;
        struct defaults d = {1, 384ULL << 20};
        struct fy_node *nodes = NULL, *links = NULL, *workloads = NULL;
        struct fy_node_pair *p;
        bool have_name = false;
        for_each_pair(root, p, it)
        {
                const char *k = key_str(p);
                struct fy_node *v = fy_node_pair_value(p);
                if (streq(k, "name")) {
                        const char *s = scalar(c, v, "name");
                        have_name = true;
                        if (s && !valid_name_len(s, 64))
                                err_at(c, v,
                                       "name \"%s\" is not a valid topology name (a letter, then "
                                       "letters, digits, '-', '_' or '.', at most 64 characters)",
                                       s);
                        else if (s)
                                t->name = xstrdup(s);
                } else if (streq(k, "description")) {
                        const char *s = scalar(c, v, "description");
                        t->description = s ? xstrdup(s) : NULL;
                } else if (streq(k, "kernel")) {
                        const char *s = scalar(c, v, "kernel");
                        t->kernel = s ? xstrdup(s) : NULL;
                } else if (streq(k, "defaults")) {
                        struct fy_node_pair *q;
                        if (!expect_type(c, v, FYNT_MAPPING, "defaults"))
                                continue;
                        for_each_pair(v, q, it2)
                        {
                                const char *dk = key_str(q);
                                struct fy_node *dv = fy_node_pair_value(q);
                                if (streq(dk, "cpus"))
                                        get_uint(c, dv, "defaults: cpus", 1, LIM_CPUS_MAX, &d.cpus);
                                else if (streq(dk, "memory"))
                                        parse_memory(c, dv, "defaults: memory", &d.memory);
                                else
                                        unknown_key(c, fy_node_pair_key(q), "defaults",
                                                    "cpus, memory");
                        }
                } else if (streq(k, "matrix"))
                        parse_matrix(c, v);
                else if (streq(k, "cell"))
                        parse_cell(c, v);
                else if (streq(k, "nodes"))
                        nodes = v;
                else if (streq(k, "links"))
                        links = v;
                else if (streq(k, "workloads"))
                        workloads = v;
                else
                        unknown_key(c, fy_node_pair_key(p), "the topology",
                                    "name, description, kernel, defaults, nodes, links, "
                                    "workloads, matrix, cell");
        }
        if (!have_name)
                err_at(c, root, "the topology needs a name");
        if (!nodes) {
                err_at(c, root, "the topology needs nodes");
                return;
        }
        if (!expect_type(c, nodes, FYNT_MAPPING, "nodes"))
                return;
        /* counts a run can hold (the verdicts take 64 workloads, a run's
         * objects are named with short indexes) */
        struct {
                struct fy_node *n;
                const char *what;
                int max;
        } counts[] = {{nodes, "nodes", LIM_TOPO_NODES},
                      {links, "links", LIM_TOPO_LINKS},
                      {workloads, "workloads", LIM_TOPO_WORKLOADS}};
        for (unsigned i = 0; i < ELEMENTSOF(counts); i++) {
                struct fy_node *n = counts[i].n;
                int k = !n                       ? 0
                        : fy_node_is_mapping(n)  ? fy_node_mapping_item_count(n)
                        : fy_node_is_sequence(n) ? fy_node_sequence_item_count(n)
                                                 : 0;
                if (k > counts[i].max) {
                        err_at(c, n, "%s: %d of them, more than a topology may have (%d)",
                               counts[i].what, k, counts[i].max);
                        return;
                }
        }
        t->nodes = xcalloc((size_t)fy_node_mapping_item_count(nodes), sizeof(struct topo_node));
        for_each_pair(nodes, p, it)
        {
                parse_node(c, fy_node_pair_key(p), fy_node_pair_value(p), &d,
                           &t->nodes[t->n_nodes]);
                t->n_nodes++;
        }
        if (t->n_nodes < 2)
                err_at(c, nodes, "nodes: a topology needs at least 2 nodes");
        if (links && expect_type(c, links, FYNT_SEQUENCE, "links")) {
                t->links = xcalloc((size_t)fy_node_sequence_item_count(links),
                                   sizeof(struct topo_link));
                void *li = NULL;
                struct fy_node *l;
                while ((l = fy_node_sequence_iterate(links, &li))) {
                        parse_link(c, l, t->n_links, &t->links[t->n_links]);
                        t->n_links++;
                }
        }
        if (t->n_links == 0)
                err_at(c, links ? links : root, "the topology needs at least one link");
        if (workloads && expect_type(c, workloads, FYNT_SEQUENCE, "workloads")) {
                t->workloads = xcalloc((size_t)fy_node_sequence_item_count(workloads),
                                       sizeof(struct topo_workload));
                void *wi = NULL;
                struct fy_node *w;
                while ((w = fy_node_sequence_iterate(workloads, &wi))) {
                        parse_workload(c, w, t->n_workloads, &t->workloads[t->n_workloads]);
                        t->n_workloads++;
                }
        }
        parse_events(c);
        check_model(c);
}

/* PATH=VALUE: dotted keys and list indexes ("links.1.shape.rate=19.4mbit"). */
static int apply_set(struct ctx *c, struct fy_document *doc, const char *file, const char *set,
                     struct topo_errors *errs)
{
        const char *eq = strchr(set, '=');
        if (!eq || eq == set) {
                add_error(errs, xasprintf("--set %s: expected PATH=VALUE", set));
                return -EINVAL;
        }
        _cleanup_free_ char *path = strndup(set, (size_t)(eq - set));
        struct fy_node *cur = fy_document_root(doc), *parent = NULL;
        char *save = NULL, *seg = strtok_r(path, ".", &save), *last = NULL;
        while (seg) {
                char *next = strtok_r(NULL, ".", &save);
                if (!next) {
                        last = seg;
                        break;
                }
                parent = cur;
                if (cur && fy_node_is_sequence(cur)) {
                        char *end;
                        errno = 0;
                        long i = strtol(seg, &end, 10);
                        bool ok = isdigit((unsigned char)*seg) && !*end && !errno && i >= 0 &&
                                  i < fy_node_sequence_item_count(cur);
                        if (!ok) {
                                add_error(errs, xasprintf("--set %s: index \"%s\" is not in the "
                                                          "list of %d in %s",
                                                          set, seg,
                                                          fy_node_sequence_item_count(cur), file));
                                return -EINVAL;
                        }
                        cur = fy_node_sequence_get_by_index(cur, (int)i);
                } else if (cur && fy_node_is_mapping(cur)) {
                        struct fy_node *m = cur;
                        cur = fy_node_mapping_lookup_by_string(m, seg, -1);
                        if (!cur && streq(seg, "sysctls") && m != fy_document_root(doc)) {
                                /* a node without sysctls of its own gets them
                                 * (nodes.server.sysctls.net.core.busy_poll=50) */
                                struct fy_node *k = fy_node_create_scalar_copy(doc, seg, 7),
                                               *mp = fy_node_create_mapping(doc);
                                if (k && mp && fy_node_mapping_append(m, k, mp) == 0) {
                                        cur = mp;
                                        seg = next;
                                        continue;
                                }
                        }
                        if (!cur) {
                                /* a key with dots of its own, a sysctl's
                                 * (nodes.client.sysctls.net.mptcp.stale_loss_cnt):
                                 * the rest of the path is that key */
                                size_t off = (size_t)(seg - path);
                                memcpy(seg, set + off, (size_t)(eq - set) - off);
                                last = seg;
                                cur = m;
                                break;
                        }
                } else
                        cur = NULL;
                if (!cur) {
                        add_error(errs,
                                  xasprintf("--set %s: %s has nothing at \"%s\"", set, file, seg));
                        return -EINVAL;
                }
                seg = next;
        }
        (void)parent;
        struct fy_node *v = fy_node_create_scalar_copy(doc, eq + 1, strlen(eq + 1));
        if (v && c->n_set_nodes < ELEMENTSOF(c->set_nodes))
                c->set_nodes[c->n_set_nodes++] = v;
        if (!last || !cur || !v) {
                add_error(errs, xasprintf("--set %s: expected PATH=VALUE", set));
                return -EINVAL;
        }
        if (fy_node_is_mapping(cur)) {
                struct fy_node_pair *pair = fy_node_mapping_lookup_pair_by_string(cur, last, -1);
                if (pair)
                        return fy_node_pair_set_value(pair, v) == 0 ? 0 : -EINVAL;
                struct fy_node *k = fy_node_create_scalar_copy(doc, last, strlen(last));
                if (k && c->n_set_nodes < ELEMENTSOF(c->set_nodes))
                        c->set_nodes[c->n_set_nodes++] = k; /* a key --set added */
                return fy_node_mapping_append(cur, k, v) == 0 ? 0 : -EINVAL;
        }
        add_error(errs,
                  xasprintf("--set %s: \"%s\" is not inside a mapping in %s", set, last, file));
        return -EINVAL;
}

/* Line and column (1-based) of byte off in text. */
static struct topo_pos text_pos(const char *text, size_t off)
{
        struct topo_pos p = {1, 1};
        for (size_t i = 0; i < off; i++) {
                if (text[i] == '\n') {
                        p.line++;
                        p.col = 1;
                } else if (((unsigned char)text[i] & 0xc0) != 0x80)
                        p.col++;
        }
        return p;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                len = 4, cp = c & 0x07;
        else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return len;
}

/* What libfyaml must never see: more than the size limit, a NUL, bytes that
 * are not UTF-8 (libfyaml 0.7.12 spins forever on a directive line holding
 * one), more nodes or deeper nesting than a topology can need. The counting
 * pass reads parser events and builds nothing, so a huge or deep file costs
 * no memory and no quadratic duplicate-key checks. */
int topo_yaml_pre_check(const char *name, const char *text, size_t len, struct topo_errors *errs)
{
        if (len > LIM_TOPO_FILE_BYTES) {
                add_error(errs, xasprintf("%s: %zu bytes, more than a topology may have (%d)", name,
                                          len, LIM_TOPO_FILE_BYTES));
                return -EFBIG;
        }
        for (size_t i = 0; i < len;) {
                size_t n = text[i] ? utf8_len((const unsigned char *)text + i, len - i) : 0;
                if (!n) {
                        struct topo_pos p = text_pos(text, i);
                        add_error(errs, xasprintf("%s:%d:%d: byte 0x%02x is not UTF-8 text%s", name,
                                                  p.line, p.col, (unsigned char)text[i],
                                                  text[i] ? "" : " (a NUL)"));
                        return -EINVAL;
                }
                i += n;
        }
        struct fy_diag_cfg dcfg;
        fy_diag_cfg_default(&dcfg);
        dcfg.fp = NULL;
        struct fy_diag *diag = fy_diag_create(&dcfg);
        if (!diag)
                return -ENOMEM;
        fy_diag_set_collect_errors(diag, true);
        struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = diag};
        struct fy_parser *fyp = fy_parser_create(&cfg);
        if (!fyp) {
                fy_diag_destroy(diag);
                return -ENOMEM;
        }
        int r = 0, depth = 0;
        unsigned nodes = 0;
        if (fy_parser_set_string(fyp, text, len) < 0)
                r = -ENOMEM;
        struct fy_event *ev;
        while (r == 0 && (ev = fy_parser_parse(fyp))) {
                enum fy_event_type type = ev->type;
                struct fy_token *tok = fy_event_get_token(ev);
                const struct fy_mark *m = tok ? fy_token_start_mark(tok) : NULL;
                struct topo_pos p = {m ? m->line + 1 : 0, m ? m->column + 1 : 0};
                fy_parser_event_free(fyp, ev);
                if (type == FYET_MAPPING_START || type == FYET_SEQUENCE_START)
                        depth++;
                else if (type == FYET_MAPPING_END || type == FYET_SEQUENCE_END)
                        depth--;
                if (type == FYET_MAPPING_START || type == FYET_SEQUENCE_START ||
                    type == FYET_SCALAR || type == FYET_ALIAS)
                        nodes++;
                if (depth > LIM_TOPO_YAML_DEPTH) {
                        add_error(errs, xasprintf("%s:%d:%d: nested deeper than a topology may "
                                                  "be (%d levels)",
                                                  name, p.line, p.col, LIM_TOPO_YAML_DEPTH));
                        r = -E2BIG;
                } else if (nodes > LIM_TOPO_YAML_NODES) {
                        add_error(errs, xasprintf("%s:%d:%d: more values than a topology may "
                                                  "have (%d)",
                                                  name, p.line, p.col, LIM_TOPO_YAML_NODES));
                        r = -E2BIG;
                }
        }
        /* syntax errors are reported, with their place, by the document build */
        fy_parser_destroy(fyp);
        fy_diag_destroy(diag);
        return r;
}

struct fy_document *topo_yaml_document(const char *name, const char *text, size_t len,
                                       struct topo_errors *errs)
{
        if (topo_yaml_pre_check(name, text, len, errs) < 0)
                return NULL;
        struct fy_diag_cfg dcfg;
        fy_diag_cfg_default(&dcfg);
        dcfg.fp = NULL;
        dcfg.colorize = false;
        struct fy_diag *diag = fy_diag_create(&dcfg);
        if (!diag) {
                add_error(errs, xasprintf("%s: out of memory", name));
                return NULL;
        }
        fy_diag_set_collect_errors(diag, true);
        struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_COLLECT_DIAG, .diag = diag};
        struct fy_document *doc = fy_document_build_from_string(&cfg, text, len);
        if (!doc) {
                void *it = NULL;
                struct fy_diag_error *de;
                while ((de = fy_diag_errors_iterate(diag, &it)))
                        add_error(errs, xasprintf("%s:%d:%d: YAML syntax: %s", name, de->line,
                                                  de->column, de->msg));
        }
        fy_diag_destroy(diag);
        return doc;
}

/* --set matrix.AXIS=VALUE: the cell, applied to the model once it is parsed
 * (a later --set of an axis wins over an earlier one and over cell:) */
static void set_cell(struct ctx *c, const char *file, const char *set, struct topo_errors *errs)
{
        const char *eq = strchr(set, '=');
        _cleanup_free_ char *axis = eq ? strndup(set + 7, (size_t)(eq - set - 7)) : NULL;
        int a = axis ? topo_axis_find(axis) : -1;
        if (a < 0) {
                add_error(errs, xasprintf("--set %s: %s: matrix.AXIS=VALUE with an axis of pm, "
                                          "endpoints, scheduler, protocol",
                                          set, file));
                return;
        }
        const char *why = topo_axis_check((enum topo_axis)a, eq + 1);
        if (why) {
                add_error(errs, xasprintf("--set %s: %s", set, why));
                return;
        }
        c->cell[a] = eq + 1;
        c->cell_pos = (struct topo_pos){0, 0};
}

static int parse_doc(const char *name, const char *text, size_t len, char *const *sets,
                     unsigned n_sets, struct topo **ret, struct topo_errors *errs)
{
        unsigned before = errs->n;
        struct fy_document *doc = topo_yaml_document(name, text, len, errs);
        if (!doc && errs->n > before)
                return -EINVAL;
        struct topo *t = xcalloc(1, sizeof *t);
        t->file = xstrdup(name);
        struct ctx c = {.file = name, .errs = errs, .t = t};
        if (!doc)
                parse_root(&c, NULL); /* an empty stream gives no document */
        else {
                for (unsigned i = 0; i < n_sets; i++)
                        if (!strncmp(sets[i], "matrix.", 7))
                                set_cell(&c, name, sets[i], errs);
                        else
                                apply_set(&c, doc, name, sets[i], errs);
                if (errs->n)
                        ;
                else if (fy_document_root(doc) &&
                         fy_node_get_type(fy_document_root(doc)) == FYNT_SCALAR &&
                         /* its length, not its text: libfyaml 0.8 leaks the text
                          * of a root scalar with escapes (fuzz-topo found it) */
                         fy_node_get_scalar_length(fy_document_root(doc)) == 0)
                        parse_root(&c, NULL);
                else
                        parse_root(&c, fy_document_root(doc));
        }
        if (!errs->n) {
                for (unsigned a = 0; a < TOPO_AXES; a++)
                        t->cell[a] = c.cell[a] ? topo_axis_canonical(a, c.cell[a]) : NULL;
                char *why = topo_apply_cell(t);
                if (why) {
                        add_at(errs, name, c.cell_pos, !c.cell_pos.line, why);
                        free(why);
                }
        }
        fy_document_destroy(doc);
        if (errs->n) {
                topo_free(t);
                return -EINVAL;
        }
        *ret = t;
        return 0;
}

/* The file's bytes, at most one more than the limit (pre_check refuses those). */
int topo_read_file(const char *path, char **ret, size_t *ret_len, struct topo_errors *errs)
{
        int r = read_file_max(path, LIM_TOPO_FILE_BYTES + 1, ret, ret_len);
        if (r == -EFBIG)
                add_error(errs, xasprintf("%s: larger than a topology may be (%d bytes)", path,
                                          LIM_TOPO_FILE_BYTES));
        else if (r < 0)
                add_error(errs, xasprintf("%s: cannot read: %s", path, strerror(-r)));
        return r;
}

int topo_parse_file(const char *path, struct topo **ret, struct topo_errors *errs)
{
        return topo_parse_file_set(path, NULL, 0, ret, errs);
}

int topo_parse_file_set(const char *path, char *const *sets, unsigned n_sets, struct topo **ret,
                        struct topo_errors *errs)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = topo_read_file(path, &text, &len, errs);
        if (r < 0)
                return r;
        return parse_doc(path, text, len, sets, n_sets, ret, errs);
}

int topo_parse_text_set(const char *name, const char *text, size_t len, char *const *sets,
                        unsigned n_sets, struct topo **ret, struct topo_errors *errs)
{
        return parse_doc(name, text, len, sets, n_sets, ret, errs);
}

int topo_parse_string(const char *name, const char *yaml, struct topo **ret,
                      struct topo_errors *errs)
{
        return parse_doc(name, yaml, strlen(yaml), NULL, 0, ret, errs);
}
