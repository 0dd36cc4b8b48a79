#include "mptcpload-driver.h"
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
        char p[16], f[16], t[16], d[32], wu[32];
        snprintf(p, sizeof p, "%u", port);
        snprintf(f, sizeof f, "%u", w->flows);
        /* a thread per flow up to 4: past that the flows share epoll sets */
        snprintf(t, sizeof t, "%u", w->flows < 4 ? w->flows : 4);
        snprintf(d, sizeof d, "%.3f", (double)w->duration_us / 1e6);
        snprintf(wu, sizeof wu, "%.3f", (double)w->warmup_us / 1e6);
        const char *args[] = {"mptcpload",  "client", "--host",    target,
                              "--port",     p,        "--mode",    w->mode ? w->mode : "stream",
                              "--flows",    f,        "--threads", t,
                              "--duration", d,        "--warmup",  wu};
        for (unsigned i = 0; i < ELEMENTSOF(args); i++)
                add(a, args[i]);
        if (w->protocol == TOPO_PROTO_TCP)
                add(a, "--tcp");
        if (w->reverse || w->bidir) {
                add(a, "--direction");
                add(a, w->bidir ? "both" : "down");
        }
        return a;
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
        ret->throughput_bps = jpath_double(s, 0, "throughput_bps", NULL);
        ret->tps = jpath_double(s, 0, "transactions_per_s", NULL);
        ret->cps = jpath_double(s, 0, "connections_per_s", NULL);
        ret->p50_us = jpath_double(s, 0, "latency", "p50_us", NULL);
        ret->p99_us = jpath_double(s, 0, "latency", "p99_us", NULL);
        ret->p999_us = jpath_double(s, 0, "latency", "p999_us", NULL);
        ret->cpu_s = jpath_double(s, 0, "cpu_s", NULL);
        ret->subflows = jpath_double(s, 0, "subflows_per_connection", NULL);
        jint(s, "fallbacks", &ret->fallbacks);
        jint(s, "errors", &ret->errors);
        return 0;
}
