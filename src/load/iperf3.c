#include "iperf3.h"

#include <math.h>
#include "../stats/stats.h"
#include "../shared/json.h"
#include "../shared/util.h"

const char *iperf3_mptcp_method(const struct topo_workload *w, const struct load_caps *c)
{
        if (w->protocol == TOPO_PROTO_TCP)
                return "tcp";
        if (c->iperf3_mptcp_flag)
                return "--mptcp";
        if (c->mptcpize)
                return "mptcpize";
        return NULL;
}

static void add(struct json_object *a, const char *s)
{
        json_object_array_add(a, json_object_new_string(s));
}

static struct json_object *prefix(const struct topo_workload *w, const struct load_caps *c,
                                  const char **why)
{
        const char *m = iperf3_mptcp_method(w, c);
        if (!m) {
                *why = "MPTCP asked, but this iperf3 has no --mptcp and mptcpize is not installed";
                return NULL;
        }
        struct json_object *a = json_object_new_array();
        if (streq(m, "mptcpize")) {
                add(a, "mptcpize");
                add(a, "run");
        }
        add(a, "iperf3");
        return a;
}

struct json_object *iperf3_server_argv(const struct topo_workload *w, unsigned port,
                                       const struct load_caps *c, const char **why)
{
        struct json_object *a = prefix(w, c, why);
        if (!a)
                return NULL;
        char p[16];
        snprintf(p, sizeof p, "%u", port);
        add(a, "-s");
        add(a, "-1"); /* one test, then exit */
        add(a, "-J");
        add(a, "-p");
        add(a, p);
        if (w->protocol == TOPO_PROTO_MPTCP && c->iperf3_mptcp_flag)
                add(a, "--mptcp");
        return a;
}

struct json_object *iperf3_client_argv(const struct topo_workload *w, const char *target,
                                       unsigned port, const struct load_caps *c, const char **why)
{
        struct json_object *a = prefix(w, c, why);
        if (!a)
                return NULL;
        char p[16], t[32], P[16];
        snprintf(p, sizeof p, "%u", port);
        snprintf(t, sizeof t, "%.3f", (double)w->duration_us / 1e6);
        snprintf(P, sizeof P, "%u", w->flows);
        add(a, "-c");
        add(a, target);
        add(a, "-p");
        add(a, p);
        if (w->size_bytes) { /* a fixed-size transfer, timed whole */
                char n[32];
                snprintf(n, sizeof n, "%llu", (unsigned long long)w->size_bytes);
                add(a, "-n");
                add(a, n);
        } else {
                add(a, "-t");
                add(a, t);
        }
        add(a, "-J");
        if (w->warmup_us) {
                char O[16];
                snprintf(O, sizeof O, "%llu", (unsigned long long)(w->warmup_us / 1000000));
                add(a, "-O");
                add(a, O);
                /* warmup: auto learns from when the rate settled: half seconds */
                if (w->warmup_auto) {
                        add(a, "-i");
                        add(a, "0.5");
                }
        }
        if (w->flows > 1) {
                add(a, "-P");
                add(a, P);
        }
        if (w->reverse)
                add(a, "-R");
        if (w->protocol == TOPO_PROTO_MPTCP && c->iperf3_mptcp_flag)
                add(a, "--mptcp");
        return a;
}

void iperf3_result_clear(struct iperf3_result *r)
{
        free(r->version);
        memset(r, 0, sizeof *r);
}

int iperf3_parse(const char *text, struct iperf3_result *ret, char **err)
{
        memset(ret, 0, sizeof *ret);
        enum json_tokener_error jerr;
        _cleanup_json_ struct json_object *o = json_tokener_parse_verbose(text, &jerr);
        if (!o || !json_object_is_type(o, json_type_object)) {
                *err = xasprintf("iperf3 output is not JSON (%s)",
                                 o ? "not an object" : json_tokener_error_desc(jerr));
                return -EINVAL;
        }
        const char *e = jstr(o, "error");
        if (e) {
                *err = xasprintf("iperf3: %s", e);
                return -EINVAL;
        }
        struct json_object *sent = jpath(o, "end", "sum_sent", NULL);
        struct json_object *recv = jpath(o, "end", "sum_received", NULL);
        if (!sent || !recv) {
                *err = xasprintf("iperf3 report has no end.sum_sent/sum_received");
                return -EINVAL;
        }
        /* numbers from a guest are untrusted: json-c takes NaN and Infinity */
        ret->sent_bps = jpath_double(sent, -1, "bits_per_second", NULL);
        ret->recv_bps = jpath_double(recv, -1, "bits_per_second", NULL);
        if (!(ret->sent_bps >= 0) || !(ret->recv_bps >= 0) || !isfinite(ret->sent_bps) ||
            !isfinite(ret->recv_bps)) {
                *err = xasprintf("iperf3 report has no finite bits_per_second (%g sent, %g "
                                 "received)",
                                 ret->sent_bps, ret->recv_bps);
                return -EINVAL;
        }
        int64_t rt;
        ret->retransmits = jint(sent, "retransmits", &rt) && rt >= 0 ? rt : -1;
        ret->seconds = jpath_double(recv, 0, "seconds", NULL);
        if (!isfinite(ret->seconds) || ret->seconds < 0) {
                *err = xasprintf("iperf3 report: seconds is %g", ret->seconds);
                return -EINVAL;
        }
        ret->cpu_host_pct =
                jpath_double(o, -1, "end", "cpu_utilization_percent", "host_total", NULL);
        ret->cpu_remote_pct =
                jpath_double(o, -1, "end", "cpu_utilization_percent", "remote_total", NULL);
        /* a CPU share that is not a share is "not reported", never a sample */
        if (!isfinite(ret->cpu_host_pct) || ret->cpu_host_pct < 0 || ret->cpu_host_pct > 100)
                ret->cpu_host_pct = -1;
        if (!isfinite(ret->cpu_remote_pct) || ret->cpu_remote_pct < 0 || ret->cpu_remote_pct > 100)
                ret->cpu_remote_pct = -1;
        const char *v = json_object_get_string(jpath(o, "start", "version", NULL));
        ret->version = v ? xstrdup(v) : NULL;
        return 0;
}

/* ---- the driver ---- */

static int parse(const struct topo_workload *w, const char *out, struct load_result *ret,
                 char **err)
{
        struct iperf3_result ir = {0};
        int r = iperf3_parse(out, &ir, err);
        if (r < 0)
                return r;
        *ret = (struct load_result){.sent_bps = ir.sent_bps,
                                    .recv_bps = ir.recv_bps,
                                    .seconds = ir.seconds > 0 ? ir.seconds : -1,
                                    .own_cpu = true,
                                    .cpu_client_pct = ir.cpu_host_pct,
                                    .cpu_server_pct = ir.cpu_remote_pct,
                                    .cpu_client_s = -1,
                                    .time_wait_client = -1,
                                    .time_wait_server = -1,
                                    .errors = -1,
                                    .server_errors = -1,
                                    .server_accepted = -1};
        iperf3_result_clear(&ir);
        return 0;
}

/* iperf3 -O reports the omitted (warm-up) intervals from 0, then the measured
 * ones from 0 again: one time line */
static void point(struct json_object *x, double warmup_s, double *t, double *bps,
                  struct json_object **subflows)
{
        bool omitted = false;
        jbool(jobj(x, "sum"), "omitted", &omitted);
        *t = jpath_double(x, -1, "sum", "end", NULL) + (omitted ? 0 : warmup_s);
        *bps = jpath_double(x, -1, "sum", "bits_per_second", NULL);
}

static struct json_object *intervals(const char *out, double warmup_s)
{
        return load_intervals(out, warmup_s, point);
}

/* iperf3 counts whole writes (128 KiB) in its 0.5 s intervals: one interval
 * can be two blocks a stream off whatever the rate does */
static double settle_slack_bps(const struct topo_workload *w)
{
        return 2.0 * 131072 * 8 * w->flows / 0.5;
}

/* iperf3's control connection goes to the target: it has no other */
static struct json_object *client_argv(const struct topo_workload *w, const char *target,
                                       const char *control, unsigned port,
                                       const struct load_caps *c, const char **why)
{
        return iperf3_client_argv(w, target, port, c, why);
}

const struct load_ops iperf3_load_ops = {
        .name = "iperf3",
        .tool = TOPO_TOOL_IPERF3,
        .base_port = 5201,
        .ports = 1,
        .method = iperf3_mptcp_method,
        .server_argv = iperf3_server_argv,
        .client_argv = client_argv,
        .parse = parse,
        .intervals = intervals,
        .settle_slack_bps = settle_slack_bps,
};
