#include "mptcpload-driver.h"

#include <math.h>
#include "../shared/json.h"
#include "../shared/util.h"

static void add(struct json_object *a, const char *s)
{
        json_object_array_add(a, json_object_new_string(s));
}

struct json_object *mptcpload_server_argv(const struct topo_workload *w, unsigned port)
{
        struct json_object *a = json_object_new_array();
        char p[16];
        snprintf(p, sizeof p, "%u", port);
        add(a, "mptcpload");
        add(a, "server");
        add(a, "--port");
        add(a, p);
        add(a, "--once");
        if (w->protocol == TOPO_PROTO_TCP)
                add(a, "--tcp");
        return a;
}

struct json_object *mptcpload_client_argv(const struct topo_workload *w, const char *target,
                                          unsigned port)
{
        struct json_object *a = json_object_new_array();
        char p[16], f[16], t[16], d[32], wu[32], n[32];
        snprintf(p, sizeof p, "%u", port);
        snprintf(f, sizeof f, "%u", w->flows);
        /* a thread per flow up to 4: past that the flows share epoll sets */
        snprintf(t, sizeof t, "%u", w->flows < 4 ? w->flows : 4);
        /* a fixed-size transfer: its duration is its deadline (max_time, else
         * the parser's 60 s), no warm-up */
        snprintf(d, sizeof d, "%.3f", (double)w->duration_us / 1e6);
        snprintf(wu, sizeof wu, "%.3f", w->size_bytes ? 0.0 : (double)w->warmup_us / 1e6);
        snprintf(n, sizeof n, "%llu", (unsigned long long)w->size_bytes);
        const char *args[] = {"mptcpload",  "client", "--host",    target,
                              "--port",     p,        "--mode",    w->mode ? w->mode : "stream",
                              "--flows",    f,        "--threads", t,
                              "--duration", d,        "--warmup",  wu};
        for (unsigned i = 0; i < ELEMENTSOF(args); i++)
                add(a, args[i]);
        if (w->protocol == TOPO_PROTO_TCP)
                add(a, "--tcp");
        if (w->size_bytes) {
                add(a, "--bytes");
                add(a, n);
        }
        if (w->n_events) {
                /* path events: the receiver's 10 ms bins, the sender's subflows
                 * every 50 ms */
                add(a, "--bins");
                add(a, "0.01");
                add(a, "--interval");
                add(a, "0.05");
        }
        if (w->reverse || w->bidir) {
                add(a, "--direction");
                add(a, w->bidir ? "both" : "down");
        }
        return a;
}

/* The numbers of the report: finite and >= 0, or (where allowed) the -1 of "unknown". */
static bool num(struct json_object *s, const char *key, const char *sub, bool unknown_ok,
                double *ret, char **err)
{
        struct json_object *o = NULL;
        if (json_object_object_get_ex(s, key, &o) && sub)
                o = json_object_object_get_ex(o, sub, &o) ? o : NULL;
        if (o && !json_object_is_type(o, json_type_double) &&
            !json_object_is_type(o, json_type_int)) {
                *err = xasprintf("mptcpload report: %s%s%s is not a number", key, sub ? "." : "",
                                 sub ? sub : "");
                return false;
        }
        double v = o ? json_object_get_double(o) : unknown_ok ? -1 : 0;
        if (!isfinite(v) || (v < 0 && !(unknown_ok && v == -1))) {
                *err = xasprintf("mptcpload report: %s%s%s is %g, not a finite number >= 0", key,
                                 sub ? "." : "", sub ? sub : "", v);
                return false;
        }
        *ret = v;
        return true;
}

int mptcpload_parse(const char *text, struct mptcpload_result *ret, char **err)
{
        memset(ret, 0, sizeof *ret);
        _cleanup_json_ struct json_object *o = json_tokener_parse(text);
        struct json_object *s = jobj(o, "summary");
        if (!s) {
                *err = xasprintf("mptcpload output has no summary");
                return -EINVAL;
        }
        const char *e = jstr(s, "error");
        if (e) {
                *err = xasprintf("mptcpload: %s", e);
                return -EIO;
        }
        double fb, er, acc, serr, twc, tws;
        const struct {
                const char *key, *sub;
                bool unknown_ok;
                double *dst;
        } fields[] = {
                {"throughput_bps", NULL, false, &ret->throughput_bps},
                {"transactions_per_s", NULL, false, &ret->tps},
                {"connections_per_s", NULL, false, &ret->cps},
                {"latency", "p50_us", false, &ret->p50_us},
                {"latency", "p99_us", false, &ret->p99_us},
                {"latency", "p999_us", false, &ret->p999_us},
                {"cpu_s", NULL, false, &ret->cpu_s},
                {"subflows_per_connection", NULL, false, &ret->subflows},
                {"goodput_up_bps", NULL, true, &ret->goodput_up_bps},
                {"goodput_down_bps", NULL, true, &ret->goodput_down_bps},
                {"fallbacks", NULL, false, &fb},
                {"errors", NULL, false, &er},
                {"server_accepted", NULL, true, &acc},
                {"server_errors", NULL, true, &serr},
                {"time_wait_client", NULL, true, &twc},
                {"time_wait_server", NULL, true, &tws},
                {"completion_s", NULL, true, &ret->completion_s},
        };
        for (unsigned i = 0; i < ELEMENTSOF(fields); i++)
                if (!num(s, fields[i].key, fields[i].sub, fields[i].unknown_ok, fields[i].dst, err))
                        return -EINVAL;
        /* counts become integers: beyond 2^53 a double is no count (and the
         * conversion would overflow; the fuzzer found 1e300 fallbacks) */
        const double counts[] = {fb, er, acc, serr, twc, tws};
        for (unsigned i = 0; i < ELEMENTSOF(counts); i++)
                if (counts[i] > 9007199254740992.0) {
                        *err = xasprintf("mptcpload report: a count of %g is not a count",
                                         counts[i]);
                        return -EINVAL;
                }
        /* the latency distribution: (percentile, us) pairs, both increasing */
        struct json_object *cdf = jarr(jobj(s, "latency"), "cdf");
        if (jobj(s, "latency") && json_object_object_get_ex(jobj(s, "latency"), "cdf", NULL) &&
            !cdf) {
                *err = xstrdup("mptcpload report: latency.cdf is not a list");
                return -EINVAL;
        }
        for (size_t i = 0; i < jlen(cdf); i++) {
                struct json_object *pt = json_object_array_get_idx(cdf, i);
                double p = NAN, us = NAN;
                if (json_object_is_type(pt, json_type_array) && jlen(pt) == 2) {
                        struct json_object *a = json_object_array_get_idx(pt, 0),
                                           *b = json_object_array_get_idx(pt, 1);
                        if ((json_object_is_type(a, json_type_double) ||
                             json_object_is_type(a, json_type_int)) &&
                            (json_object_is_type(b, json_type_double) ||
                             json_object_is_type(b, json_type_int))) {
                                p = json_object_get_double(a);
                                us = json_object_get_double(b);
                        }
                }
                if (i >= ELEMENTSOF(ret->cdf_p) || !isfinite(p) || !isfinite(us) || p <= 0 ||
                    p >= 100 || us < 0 || us > 1e9 ||
                    (i && (p <= ret->cdf_p[i - 1] || us < ret->cdf_us[i - 1]))) {
                        *err = xasprintf("mptcpload report: latency.cdf point %zu is not a "
                                         "(percentile, us) pair increasing from the last (at "
                                         "most %zu points)",
                                         i, ELEMENTSOF(ret->cdf_p));
                        return -EINVAL;
                }
                ret->cdf_p[i] = p;
                ret->cdf_us[i] = us;
                ret->n_cdf = (unsigned)i + 1;
        }
        ret->fallbacks = (int64_t)fb;
        ret->errors = (int64_t)er;
        ret->server_accepted = (int64_t)acc;
        ret->server_errors = (int64_t)serr;
        ret->time_wait_client = (int64_t)twc;
        ret->time_wait_server = (int64_t)tws;
        return 0;
}

/* ---- the driver ---- */

static const char *method(const struct topo_workload *w, const struct load_caps *c)
{
        return w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp";
}

static struct json_object *server_argv(const struct topo_workload *w, unsigned port,
                                       const struct load_caps *c, const char **why)
{
        return mptcpload_server_argv(w, port);
}

static struct json_object *client_argv(const struct topo_workload *w, const char *target,
                                       const char *control, unsigned port,
                                       const struct load_caps *c, const char **why)
{
        struct json_object *a = mptcpload_client_argv(w, target, port);
        if (control && !streq(control, target)) {
                add(a, "--control");
                add(a, control);
        }
        return a;
}

static int parse(const struct topo_workload *w, const char *out, struct load_result *ret,
                 char **err)
{
        struct mptcpload_result mr;
        int r = mptcpload_parse(out, &mr, err);
        if (r < 0)
                return r;
        /* goodput is the receivers' count in the window; the client's own count
         * (both ways for rr/crr) is what was sent */
        double recv = mr.throughput_bps;
        if (!w->mode || streq(w->mode, "stream")) {
                double up = mr.goodput_up_bps, down = mr.goodput_down_bps;
                recv = up >= 0 && down >= 0 ? up + down : -1;
        }
        /* a fixed-size transfer not all through by its deadline: the kernel's
         * outcome, its completion time censored at the deadline */
        bool incomplete = false;
        if (w->size_bytes && !(mr.completion_s > 0)) {
                struct json_object *c = NULL;
                _cleanup_json_ struct json_object *o = json_tokener_parse(out);
                if (!json_object_object_get_ex(jobj(o, "summary"), "complete", &c) ||
                    json_object_get_boolean(c)) {
                        *err = xstrdup("mptcpload report: the fixed-size transfer has no "
                                       "completion time, and does not say it was incomplete");
                        return -EINVAL;
                }
                incomplete = true;
        }
        *ret = (struct load_result){.sent_bps = mr.throughput_bps,
                                    .recv_bps = recv,
                                    .seconds = !w->size_bytes ? -1
                                               : incomplete   ? (double)w->duration_us / 1e6
                                                              : mr.completion_s,
                                    .incomplete = incomplete,
                                    .cpu_client_pct = -1,
                                    .cpu_server_pct = -1,
                                    .cpu_client_s = mr.cpu_s,
                                    .tps = mr.tps,
                                    .cps = mr.cps,
                                    .p50_us = mr.p50_us,
                                    .p99_us = mr.p99_us,
                                    .p999_us = mr.p999_us,
                                    .n_cdf = mr.n_cdf,
                                    .fallbacks = mr.fallbacks,
                                    .time_wait_client = mr.time_wait_client,
                                    .time_wait_server = mr.time_wait_server,
                                    .counts_connections = true,
                                    .errors = mr.errors,
                                    .server_errors = mr.server_errors,
                                    .server_accepted = mr.server_accepted};
        memcpy(ret->cdf_p, mr.cdf_p, sizeof mr.cdf_p);
        memcpy(ret->cdf_us, mr.cdf_us, sizeof mr.cdf_us);
        return 0;
}

/* mptcpload's intervals are on its own time line from the start; the first
 * connection's subflows (MPTCP_TCPINFO) come with each */
static void point(struct json_object *x, double warmup_s, double *t, double *bps,
                  struct json_object **subflows)
{
        jdouble(x, "t", t);
        jdouble(x, "bps", bps);
        struct json_object *det = jarr(x, "subflow_detail");
        struct json_object *c0 = jlen(det) ? json_object_array_get_idx(det, 0) : NULL;
        if (json_object_is_type(c0, json_type_array))
                *subflows = c0;
}

static struct json_object *intervals(const char *out, double warmup_s)
{
        return load_intervals(out, warmup_s, point);
}

static double settle_slack_bps(const struct topo_workload *w)
{
        return 0; /* its intervals count bytes, not whole writes */
}

const struct load_ops mptcpload_load_ops = {
        .name = "mptcpload",
        .tool = TOPO_TOOL_MPTCPLOAD,
        .base_port = 5301, /* two ports: control on port, data on port + 1 */
        .ports = 2,
        .method = method,
        .server_argv = server_argv,
        .client_argv = client_argv,
        .parse = parse,
        .intervals = intervals,
        .settle_slack_bps = settle_slack_bps,
};
