/* run.c - bring a topology up, configure it, run its workloads, tear down. */
#include "run.h"
#include "../results/validity.h"
#include "../shared/spawn.h"
#include "../load/iperf3.h"
#include "../load/mptcpload-driver.h"
#include "../shared/util.h"
#include "../stats/stats.h"
#include "../topo/units.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#define CALL_MS 15000

static volatile sig_atomic_t got_signal;

struct run {
        struct lab *lab; /* on the heap: a teardown may outlive lab_run */
        uint64_t t0;
        uint64_t expected_us; /* rough total, for progress */
        uint64_t done_us;
        const struct run_opts *o;
};

static void progress(struct run *r, const char *fmt, ...) _printf_(2, 3);
static void progress(struct run *r, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        double el = (double)(now_usec() - r->t0) / 1e6;
        double left = (double)(r->expected_us > r->done_us ? r->expected_us - r->done_us : 0) / 1e6;
        fprintf(stderr, "mptcplab: [%6.1fs] %s (about %.0fs left)\n", el, msg, left);
}

/* One agent call, with an error that names the node and the step. */
static int node_call(struct lab_node *n, const char *step, const char *op, struct json_object *args,
                     int timeout_ms, struct json_object **ret, char **err)
{
        struct json_object *res = NULL;
        char *e = NULL;
        int r = agent_call(n->agent, op, args, timeout_ms, &res, &e);
        if (r < 0) {
                *err = xasprintf("node %s: %s: %s", n->tn->name, step, e);
                free(e);
                return r;
        }
        if (ret)
                *ret = res;
        else
                json_object_put(res);
        return 0;
}

#define S(x) json_object_new_string(x)
#define I(x) json_object_new_int64((int64_t)(x))

static bool hello_bool(struct lab_node *n, const char *a, const char *b)
{
        struct json_object *o = jpath(n->hello, a, b, NULL);
        return o && json_object_get_boolean(o);
}

/* Refuses, before anything is configured, what a node's kernel cannot do. */
static int check_capabilities(struct run *r, char **err)
{
        struct topo *t = r->lab->t;
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                for (unsigned s = 0; s < 2; s++) {
                        const struct topo_shape *sh = &l->shape[s];
                        struct lab_node *n = &r->lab->nodes[l->end[s].node];
                        const char *dev = n->tn->ifaces[l->end[s].iface].name;
                        const char *kernel = jstr(n->hello, "kernel");
                        const char *probe = jstr(jobj(n->hello, "qdiscs"), "probe_error");
                        if (sh->set && probe && (sh->rate_bps || topo_shape_needs_netem(sh))) {
                                *err = xasprintf("%s:%d:%d: link %u is shaped on %s:%s, but the "
                                                 "agent of node %s (%s) %s",
                                                 t->file, sh->pos.line, sh->pos.col, i + 1,
                                                 n->tn->name, dev, n->tn->name,
                                                 kernel ? kernel : "?", probe);
                                return -EOPNOTSUPP;
                        }
                        if (topo_shape_needs_netem(sh) && !hello_bool(n, "qdiscs", "netem")) {
                                const char *what = sh->delay_us    ? "delay"
                                                   : sh->jitter_us ? "jitter"
                                                                   : "loss";
                                *err = xasprintf(
                                        "%s:%d:%d: link %u asks for %s on %s:%s, but the kernel of "
                                        "node %s (%s) has no netem qdisc (sch_netem): delay, "
                                        "jitter "
                                        "and loss cannot be shaped there. Use a rate-only topology "
                                        "(e.g. topologies/two-paths-rate.yaml) or a backend whose "
                                        "kernel has netem (--backend libvirt)",
                                        t->file, sh->pos.line, sh->pos.col, i + 1, what,
                                        n->tn->name, dev, n->tn->name, kernel ? kernel : "?");
                                return -EOPNOTSUPP;
                        }
                        if (sh->set && sh->rate_bps && !topo_shape_needs_netem(sh) &&
                            !hello_bool(n, "qdiscs", "tbf")) {
                                *err = xasprintf("%s:%d:%d: link %u asks for a rate on %s:%s, but "
                                                 "the kernel of node %s has no tbf qdisc",
                                                 t->file, sh->pos.line, sh->pos.col, i + 1,
                                                 n->tn->name, dev, n->tn->name);
                                return -EOPNOTSUPP;
                        }
                }
        }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lab_node *n = &r->lab->nodes[i];
                if (!hello_bool(n, "mptcp", "available")) {
                        *err = xasprintf("node %s: kernel %s has no MPTCP (net.mptcp.enabled "
                                         "missing: CONFIG_MPTCP off)",
                                         n->tn->name, jstr(n->hello, "kernel"));
                        return -EOPNOTSUPP;
                }
        }
        for (unsigned i = 0; i < t->n_workloads; i++) {
                const struct topo_workload *w = &t->workloads[i];
                if (w->tool == TOPO_TOOL_MPTCPLOAD) {
                        for (unsigned side = 0; side < 2; side++)
                                if (!hello_bool(&r->lab->nodes[side ? w->to : w->from], "mptcpload",
                                                NULL)) {
                                        *err = xasprintf(
                                                "node %s: workload %s needs mptcpload, which "
                                                "is not there",
                                                r->lab->nodes[side ? w->to : w->from].tn->name,
                                                w->name);
                                        return -ENOENT;
                                }
                        continue;
                }
                for (unsigned side = 0; side < 2; side++) {
                        struct lab_node *n = &r->lab->nodes[side ? w->to : w->from];
                        if (!jpath(n->hello, "iperf3", "version", NULL)) {
                                *err = xasprintf("node %s: workload %s needs iperf3, which is not "
                                                 "installed there",
                                                 n->tn->name, w->name);
                                return -ENOENT;
                        }
                        struct iperf3_caps caps = {hello_bool(n, "iperf3", "mptcp_flag"),
                                                   hello_bool(n, "mptcpize", NULL)};
                        if (!iperf3_mptcp_method(w, &caps)) {
                                *err = xasprintf("node %s: workload %s asks for MPTCP, but iperf3 "
                                                 "%s has no --mptcp and mptcpize is missing",
                                                 n->tn->name, w->name,
                                                 jstr(jobj(n->hello, "iperf3"), "version"));
                                return -ENOENT;
                        }
                }
        }
        return 0;
}

static void network_of(const struct topo_addr *a, char *buf, size_t len)
{
        struct topo_addr n = *a;
        unsigned bytes = a->family == AF_INET ? 4 : 16;
        unsigned char *p = (unsigned char *)&n.u;
        for (unsigned i = 0; i < bytes; i++) {
                int bits = (int)a->prefix - (int)i * 8;
                unsigned char mask = bits >= 8   ? 0xff
                                     : bits <= 0 ? 0
                                                 : (unsigned char)(0xff << (8 - bits));
                p[i] &= mask;
        }
        topo_addr_str(&n, true, buf, (unsigned)len);
}

static bool addr_in(const struct topo_addr *net, const struct topo_addr *a)
{
        if (net->family != a->family)
                return false;
        char x[64], y[64];
        struct topo_addr b = *a;
        b.prefix = net->prefix;
        network_of(net, x, sizeof x);
        network_of(&b, y, sizeof y);
        return streq(x, y);
}

/* The interface a route leaves by: its dev, or the one whose subnet holds via. */
static int route_iface(const struct topo_node *tn, const struct topo_route *rt)
{
        if (rt->dev)
                return topo_find_iface(tn, rt->dev);
        for (unsigned i = 0; i < tn->n_ifaces; i++)
                for (unsigned a = 0; a < tn->ifaces[i].n_addrs; a++)
                        if (rt->has_via && addr_in(&tn->ifaces[i].addrs[a], &rt->via))
                                return (int)i;
        return -1;
}

static int add_route(struct lab_node *n, const struct topo_route *rt, unsigned table, char **err)
{
        char dst[64] = "default", via[64];
        if (rt->dst.prefix)
                topo_addr_str(&rt->dst, true, dst, sizeof dst);
        struct json_object *args = agent_args("dst", S(dst), NULL);
        if (rt->has_via)
                json_object_object_add(args, "via",
                                       S(topo_addr_str(&rt->via, false, via, sizeof via)));
        if (rt->dev)
                json_object_object_add(args, "dev", S(rt->dev));
        if (table)
                json_object_object_add(args, "table", I(table));
        return node_call(n, "routes", "route_add", args, CALL_MS, NULL, err);
}

static bool sysctl_given(const struct topo_node *tn, const char *key)
{
        for (unsigned i = 0; i < tn->n_sysctls; i++)
                if (streq(tn->sysctls[i].key, key))
                        return true;
        return false;
}

static int set_sysctl(struct lab_node *n, const char *key, const char *value, char **err)
{
        return node_call(n, "sysctls", "sysctl_set",
                         agent_args("key", S(key), "value", S(value), NULL), CALL_MS, NULL, err);
}

/* First phase: sysctls, addresses, links up. */
static int configure_node(struct run *r, unsigned ni, char **err)
{
        struct lab_node *n = &r->lab->nodes[ni];
        const struct topo_node *tn = n->tn;
        int e;
        char buf[64];

        /* 1. sysctls: the lab's own first, so the topology's can override them */
        if (tn->kind == TOPO_NODE_ROUTER) {
                if (!sysctl_given(tn, "net.ipv4.ip_forward") &&
                    (e = set_sysctl(n, "net.ipv4.ip_forward", "1", err)) < 0)
                        return e;
                if (!sysctl_given(tn, "net.ipv6.conf.all.forwarding") &&
                    (e = set_sysctl(n, "net.ipv6.conf.all.forwarding", "1", err)) < 0)
                        return e;
        }
        if ((e = set_sysctl(n, "net.mptcp.enabled", tn->mptcp.enabled ? "1" : "0", err)) < 0)
                return e;
        if (tn->mptcp.pm_type &&
            (e = set_sysctl(n, "net.mptcp.pm_type", streq(tn->mptcp.pm_type, "kernel") ? "0" : "1",
                            err)) < 0)
                return e;
        for (unsigned i = 0; i < tn->n_sysctls; i++)
                if ((e = set_sysctl(n, tn->sysctls[i].key, tn->sysctls[i].value, err)) < 0)
                        return e;

        /* 2. interfaces: addresses, up, and wait for carrier */
        for (unsigned i = 0; i < tn->n_ifaces; i++) {
                const struct topo_iface *ifc = &tn->ifaces[i];
                for (unsigned a = 0; a < ifc->n_addrs; a++)
                        if ((e = node_call(n, "addresses", "addr_add",
                                           agent_args("dev", S(ifc->name), "addr",
                                                      S(topo_addr_str(&ifc->addrs[a], true, buf,
                                                                      sizeof buf)),
                                                      NULL),
                                           CALL_MS, NULL, err)) < 0)
                                return e;
                if ((e = node_call(n, "links", "link_set",
                                   agent_args("dev", S(ifc->name), "up",
                                              json_object_new_boolean(true), NULL),
                                   CALL_MS, NULL, err)) < 0)
                        return e;
        }
        return 0;
}

/* Second phase, once every node has brought its side of each link up. */
static int configure_node_paths(struct run *r, unsigned ni, char **err)
{
        struct lab_node *n = &r->lab->nodes[ni];
        const struct topo_node *tn = n->tn;
        struct topo *t = r->lab->t;
        int e;
        char buf[64];

        for (unsigned i = 0; i < tn->n_ifaces; i++)
                if ((e = node_call(
                             n, "links", "link_wait",
                             agent_args("dev", S(tn->ifaces[i].name), "timeout_ms", I(10000), NULL),
                             CALL_MS, NULL, err)) < 0)
                        return e;

        /* 3. routes: main table (first route per destination), and per-interface
         * tables with source rules, so each subflow leaves by its own interface */
        for (unsigned i = 0; i < tn->n_routes; i++) {
                bool dup = false;
                for (unsigned j = 0; j < i; j++)
                        dup |= tn->routes[j].dst.family == tn->routes[i].dst.family &&
                               tn->routes[j].dst.prefix == tn->routes[i].dst.prefix &&
                               !memcmp(&tn->routes[j].dst.u, &tn->routes[i].dst.u,
                                       sizeof tn->routes[i].dst.u);
                if (!dup && (e = add_route(n, &tn->routes[i], 0, err)) < 0)
                        return e;
        }
        unsigned addressed = 0;
        for (unsigned i = 0; i < tn->n_ifaces; i++)
                addressed += tn->ifaces[i].n_addrs > 0;
        if (tn->kind == TOPO_NODE_HOST && addressed > 1) {
                for (unsigned i = 0; i < tn->n_ifaces; i++) {
                        const struct topo_iface *ifc = &tn->ifaces[i];
                        unsigned table = 100 + i;
                        for (unsigned a = 0; a < ifc->n_addrs; a++) {
                                char net[64], from[64];
                                network_of(&ifc->addrs[a], net, sizeof net);
                                struct topo_route conn = {.dev = ifc->name};
                                topo_addr_parse(net, true, &conn.dst);
                                if ((e = add_route(n, &conn, table, err)) < 0)
                                        return e;
                                struct topo_addr host = ifc->addrs[a];
                                host.prefix = host.family == AF_INET ? 32 : 128;
                                topo_addr_str(&host, true, from, sizeof from);
                                if ((e = node_call(n, "policy routing", "rule_add",
                                                   agent_args("from", S(from), "table", I(table),
                                                              "prio", I(1000 + i), NULL),
                                                   CALL_MS, NULL, err)) < 0)
                                        return e;
                        }
                        for (unsigned k = 0; k < tn->n_routes; k++)
                                if (route_iface(tn, &tn->routes[k]) == (int)i &&
                                    (e = add_route(n, &tn->routes[k], table, err)) < 0)
                                        return e;
                }
        }

        /* 4. shaping: each direction on its sender's egress */
        for (unsigned li = 0; li < t->n_links; li++)
                for (unsigned s = 0; s < 2; s++) {
                        const struct topo_link *l = &t->links[li];
                        const struct topo_shape *sh = &l->shape[s];
                        if (l->end[s].node != ni || !sh->set)
                                continue;
                        struct json_object *args =
                                agent_args("dev", S(tn->ifaces[l->end[s].iface].name), NULL);
                        if (sh->rate_bps)
                                json_object_object_add(args, "rate_bps", I(sh->rate_bps));
                        if (sh->delay_us)
                                json_object_object_add(args, "delay_us", I(sh->delay_us));
                        if (sh->jitter_us)
                                json_object_object_add(args, "jitter_us", I(sh->jitter_us));
                        if (sh->loss_pct > 0)
                                json_object_object_add(args, "loss_pct",
                                                       json_object_new_double(sh->loss_pct));
                        if (sh->limit)
                                json_object_object_add(args, "limit", I(sh->limit));
                        if ((e = node_call(n, "qdiscs", "qdisc_set", args, CALL_MS, NULL, err)) < 0)
                                return e;
                }

        /* 5. MPTCP: limits, then endpoints (their addresses exist now) */
        if (tn->mptcp.has_limits &&
            (e = node_call(n, "mptcp limits", "mptcp_limits",
                           agent_args("subflows", I(tn->mptcp.subflows), "add_addr_accepted",
                                      I(tn->mptcp.add_addr_accepted), NULL),
                           CALL_MS, NULL, err)) < 0)
                return e;
        for (unsigned i = 0; i < tn->mptcp.n_endpoints; i++) {
                const struct topo_endpoint *ep = &tn->mptcp.endpoints[i];
                const struct topo_iface *ifc = &tn->ifaces[topo_find_iface(tn, ep->dev)];
                const struct topo_addr *a = ep->addr.family ? &ep->addr : &ifc->addrs[0];
                struct json_object *flags = json_object_new_array();
                static const char *const names[] = {"signal", "subflow", "backup", "fullmesh"};
                for (unsigned f = 0; f < 4; f++)
                        if (ep->flags & (1u << f))
                                json_object_array_add(flags, S(names[f]));
                struct json_object *args =
                        agent_args("addr", S(topo_addr_str(a, false, buf, sizeof buf)), "dev",
                                   S(ep->dev), "flags", flags, NULL);
                if (ep->id)
                        json_object_object_add(args, "id", I(ep->id));
                if (ep->port)
                        json_object_object_add(args, "port", I(ep->port));
                if ((e = node_call(n, "mptcp endpoints", "mptcp_endpoint_add", args, CALL_MS, NULL,
                                   err)) < 0)
                        return e;
        }
        return 0;
}

/* ---- measurement ---- */

static int64_t counter(struct json_object *c, const char *grp, const char *name)
{
        int64_t v = 0;
        jint(jobj(c, grp), name, &v);
        return v;
}

/* b - a for two readings of a guest's counter: never negative, never an
 * overflow (the values are untrusted; a counter that went back counts 0) */
static int64_t sat_delta(int64_t a, int64_t b)
{
        int64_t d;
        if (a < 0 || b < a || __builtin_sub_overflow(b, a, &d))
                return 0;
        return d;
}

static int64_t delta(struct json_object *a, struct json_object *b, const char *grp,
                     const char *name)
{
        return sat_delta(counter(a, grp, name), counter(b, grp, name));
}

static int link_bytes(struct lab_node *n, const char *dev, uint64_t *tx, uint64_t *rx, char **err)
{
        struct json_object *res;
        int e = node_call(n, "interface counters", "link_get", agent_args("dev", S(dev), NULL),
                          CALL_MS, &res, err);
        if (e < 0)
                return e;
        int64_t t = 0, x = 0;
        jint(res, "tx_bytes", &t);
        jint(res, "rx_bytes", &x);
        *tx = (uint64_t)t;
        *rx = (uint64_t)x;
        json_object_put(res);
        return 0;
}

/* Subflows a connection should get: the client's subflow endpoints and the server's
 * announced addresses, within the client's limits. */
static const char *first_addr(const struct topo_node *tn, char *buf, size_t len)
{
        for (unsigned i = 0; i < tn->n_ifaces; i++)
                if (tn->ifaces[i].n_addrs)
                        return topo_addr_str(&tn->ifaces[i].addrs[0], false, buf, (unsigned)len);
        return NULL;
}

static struct json_object *job_wait(struct lab_node *n, const char *step, int64_t job,
                                    int timeout_ms, char **err)
{
        struct json_object *res = NULL;
        if (node_call(n, step, "wait", agent_args("job", I(job), NULL), timeout_ms, &res, err) < 0)
                return NULL;
        return res;
}

/* The eight /proc/stat columns (user .. steal) of one CPU line between two
 * readings, into d; their total, or -1 when a reading lacks them. */
static double cpu_line_deltas(struct json_object *before, struct json_object *after, double d[8])
{
        if (!json_object_is_type(before, json_type_array) ||
            !json_object_is_type(after, json_type_array) || json_object_array_length(before) < 8 ||
            json_object_array_length(after) < 8)
                return -1;
        double total = 0;
        for (size_t i = 0; i < 8; i++) {
                d[i] = (double)sat_delta(
                        json_object_get_int64(json_object_array_get_idx(before, i)),
                        json_object_get_int64(json_object_array_get_idx(after, i)));
                total += d[i];
        }
        return total;
}

/* Busy share of all CPUs between two /proc/stat readings (user..steal), in %. */
static double node_busy_pct(struct json_object *before, struct json_object *after)
{
        double d[8], total = cpu_line_deltas(jpath(before, "cpu", "cpu", NULL),
                                             jpath(after, "cpu", "cpu", NULL), d);
        return total > 0 ? 100.0 * (total - d[3] - d[4]) / total : -1; /* idle, iowait */
}

/* Every MPTcpExt, TcpExt and Tcp counter that moved between two readings of a
 * node (nstat's view), as "GroupName": delta; guest values, so deltas saturate. */
static struct json_object *mib_deltas(struct json_object *before, struct json_object *after)
{
        static const char *const groups[] = {"MPTcpExt", "TcpExt", "Tcp"};
        struct json_object *o = json_object_new_object();
        for (unsigned g = 0; g < ELEMENTSOF(groups); g++) {
                struct json_object *b = jobj(before, groups[g]), *a = jobj(after, groups[g]);
                if (!a)
                        continue;
                json_object_object_foreach (a, name, v) {
                        int64_t x = 0, y = json_object_get_int64(v);
                        jint(b, name, &x);
                        int64_t d = sat_delta(x, y);
                        if (d) {
                                _cleanup_free_ char *key = xasprintf("%s%s", groups[g], name);
                                json_object_object_add(o, key, json_object_new_int64(d));
                        }
                }
        }
        return o;
}

/* The CPU time the kernel accounted to a node's work between two readings:
 * user, nice, system and softirq of all its CPUs (/proc/stat's USER_HZ, 100
 * on every Linux ABI), in seconds; -1 when a reading lacks them. */
static double node_cpu_s(struct json_object *before, struct json_object *after)
{
        double d[8], total = cpu_line_deltas(jpath(before, "cpu", "cpu", NULL),
                                             jpath(after, "cpu", "cpu", NULL), d);
        return total > 0 ? (d[0] + d[1] + d[2] + d[6]) / 100.0 : -1;
}

/* The measured window's two edges: when each was read, both nodes'
 * counters, and the VMs' CPU time where the backend has it. */
struct window {
        uint64_t at[2];
        struct json_object *stat[2][2]; /* [edge][client, server] */
        uint64_t vm[2][2];
        bool have_vm[2];
};

static void window_clear(struct window *w)
{
        for (unsigned e = 0; e < 2; e++)
                for (unsigned n = 0; n < 2; n++)
                        json_object_put(w->stat[e][n]);
}

/* Waits until `when` (now_usec()), then reads edge `edge` of the window. */
static int window_edge(struct run *r, const struct topo_workload *w, struct lab_node *cn,
                       struct lab_node *sn, uint64_t when, struct window *win, unsigned edge,
                       char **err)
{
        for (uint64_t now; (now = now_usec()) < when;) {
                /* got_signal too: a teardown on its thread (overlap_teardown)
                 * clears agent_interrupted for its goodbyes */
                if (agent_interrupted || got_signal) {
                        *err = xstrdup("interrupted");
                        return -EINTR;
                }
                /* a node that crashes while we wait is seen now, not when the
                 * window ends (the agent calls' own health check) */
                char *why = NULL;
                if (cn->agent && cn->agent->health &&
                    cn->agent->health(cn->agent->health_user, &why) < 0) {
                        *err = xasprintf("%s while measuring", why ? why : "a node died");
                        free(why);
                        return -EHOSTDOWN;
                }
                uint64_t left = when - now;
                struct timespec ts = {.tv_sec = (time_t)(left / 1000000),
                                      .tv_nsec = (long)(left % 1000000) * 1000};
                if (ts.tv_sec > 0) {
                        ts.tv_sec = 0;
                        ts.tv_nsec = 200000000; /* a ^C is seen within 0.2 s */
                }
                nanosleep(&ts, NULL);
        }
        win->at[edge] = now_usec();
        win->have_vm[edge] = r->lab->ops->cpu_time &&
                             r->lab->ops->cpu_time(r->lab, w->from, &win->vm[edge][0]) == 0 &&
                             r->lab->ops->cpu_time(r->lab, w->to, &win->vm[edge][1]) == 0;
        int e;
        if ((e = node_call(cn, "counters", "counters", NULL, CALL_MS, &win->stat[edge][0], err)) <
                    0 ||
            (e = node_call(sn, "counters", "counters", NULL, CALL_MS, &win->stat[edge][1], err)) <
                    0)
                return e;
        return 0;
}

/* Each core's user, system and softirq share of the window (/proc/stat
 * columns 0, 2 and 6 of 8), and its busy share, in %. */
static struct json_object *cpu_per_core(struct json_object *before, struct json_object *after)
{
        struct json_object *o = json_object_new_object(), *b = jobj(before, "cpu"),
                           *a = jobj(after, "cpu");
        if (!a || !b)
                return o;
        json_object_object_foreach (a, name, arr) {
                struct json_object *prev = jarr(b, name);
                /* the guest names its CPUs: only "cpuN" goes on (into plots and files) */
                if (strncmp(name, "cpu", 3) || !name[3] ||
                    strspn(name + 3, "0123456789") != strlen(name + 3))
                        continue;
                double d[8], total = cpu_line_deltas(prev, arr, d);
                if (total <= 0)
                        continue;
                struct json_object *c = json_object_new_object();
                json_object_object_add(c, "user",
                                       json_object_new_double(100 * (d[0] + d[1]) / total));
                json_object_object_add(c, "system", json_object_new_double(100 * d[2] / total));
                json_object_object_add(c, "softirq", json_object_new_double(100 * d[6] / total));
                json_object_object_add(c, "busy",
                                       json_object_new_double(100 * (total - d[3] - d[4]) / total));
                json_object_object_add(o, name, c);
        }
        return o;
}

/* The per-interval series of a tool's report, in one shape for both tools:
 * t (seconds from the start, warm-up included), bps, and per subflow (mptcpload
 * only: MPTCP_TCPINFO of the first connections) rtt_us, snd_cwnd, bytes_acked,
 * bytes_received, local, remote. Values from the guest: non-numbers dropped. */
static struct json_object *interval_series(const char *out, bool ml, double warmup_s)
{
        _cleanup_json_ struct json_object *o = out ? json_tokener_parse(out) : NULL;
        struct json_object *series = json_object_new_array(), *iv = jarr(o, "intervals");
        for (size_t i = 0; iv && i < json_object_array_length(iv) && i < 100000; i++) {
                struct json_object *x = json_object_array_get_idx(iv, i),
                                   *s = json_object_new_object();
                double t = -1, bps = -1;
                if (ml) {
                        jdouble(x, "t", &t);
                        jdouble(x, "bps", &bps);
                } else {
                        /* iperf3 -O reports the omitted (warm-up) intervals from 0, then
                         * the measured ones from 0 again: one time line */
                        bool omitted = false;
                        jbool(jobj(x, "sum"), "omitted", &omitted);
                        t = jpath_double(x, -1, "sum", "end", NULL) + (omitted ? 0 : warmup_s);
                        bps = jpath_double(x, -1, "sum", "bits_per_second", NULL);
                }
                if (!isfinite(t) || !isfinite(bps) || t < 0 || bps < 0) {
                        json_object_put(s);
                        continue;
                }
                json_object_object_add(s, "t", json_object_new_double(t));
                json_object_object_add(s, "bps", json_object_new_double(bps));
                struct json_object *det = jarr(x, "subflow_detail");
                if (ml && det && json_object_array_length(det) > 0) {
                        /* the first connection's subflows */
                        struct json_object *c0 = json_object_array_get_idx(det, 0);
                        if (json_object_is_type(c0, json_type_array))
                                json_object_object_add(s, "subflows", json_object_get(c0));
                }
                json_object_array_add(series, s);
        }
        return series;
}

/* A node's hardware cycles between two counters calls; -1 where it has no
 * PMU or the count went backwards (an agent restarted: untrusted anyway). */
static double cycles_delta(struct json_object *before, struct json_object *after)
{
        int64_t a = 0, b = 0;
        if (!jint(before, "cycles", &b) || !jint(after, "cycles", &a) || b < 0 || a < b)
                return -1;
        return (double)(a - b);
}

static int run_iperf3(struct run *r, unsigned wi, struct wl_result *res, char **err)
{
        struct topo *t = r->lab->t;
        /* warmup: auto: what the series learned this workload needs, at most
         * the topology's; a copy, so the tools' arguments say it */
        struct topo_workload wcopy = t->workloads[wi];
        const uint64_t *learned = r->o->warmup_us;
        uint64_t dcap = r->o->duration_cap_us;
        if (wcopy.warmup_auto && learned && learned[wi] && learned[wi] < wcopy.warmup_us)
                wcopy.warmup_us = learned[wi];
        if (dcap && !wcopy.size_bytes && wcopy.duration_us > dcap)
                wcopy.duration_us = dcap;
        const struct topo_workload *w = &wcopy;
        res->warmup_s = (double)w->warmup_us / 1e6;
        struct lab_node *cn = &r->lab->nodes[w->from], *sn = &r->lab->nodes[w->to];
        char tbuf[64];
        const char *target = w->target.family ? topo_addr_str(&w->target, false, tbuf, sizeof tbuf)
                                              : first_addr(sn->tn, tbuf, sizeof tbuf);
        unsigned port = w->port ? w->port : 5201 + wi;
        struct iperf3_caps caps = {
                hello_bool(cn, "iperf3", "mptcp_flag") && hello_bool(sn, "iperf3", "mptcp_flag"),
                hello_bool(cn, "mptcpize", NULL) && hello_bool(sn, "mptcpize", NULL)};
        const char *why = NULL;
        res->target = xstrdup(target);
        bool ml = w->tool == TOPO_TOOL_MPTCPLOAD;
        res->method = xstrdup(ml ? (w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp")
                                 : iperf3_mptcp_method(w, &caps));
        res->expected_subflows = validity_expected_subflows(t, w);
        res->path_rate_bps =
                topo_path_rate_sum(t, w->reverse ? w->to : w->from, w->reverse ? w->from : w->to);
        /* mptcpload takes two ports: control on port, data on port + 1 */
        if (ml && !w->port)
                port = 5301 + 2 * wi;
        struct json_object *sargv =
                ml ? mptcpload_server_argv(w, port) : iperf3_server_argv(w, port, &caps, &why);
        struct json_object *cargv = ml ? mptcpload_client_argv(w, target, port)
                                       : iperf3_client_argv(w, target, port, &caps, &why);
        if (!sargv || !cargv) {
                json_object_put(sargv);
                json_object_put(cargv);
                *err = xasprintf("workload %s: %s", w->name, why);
                return -EINVAL;
        }
        int dur_ms = (int)((w->duration_us + w->warmup_us) / 1000);
        struct json_object *o = NULL, *before_c = NULL, *before_s = NULL, *after_c = NULL,
                           *after_s = NULL, *cres = NULL, *sres = NULL;
        int64_t sjob = 0, cjob = 0;
        struct window win = {0};
        int e;
        if ((e = node_call(sn, "iperf3 server", "spawn",
                           agent_args("argv", sargv, "timeout_ms", I(dur_ms + 60000), NULL),
                           CALL_MS, &o, err)) < 0) {
                json_object_put(cargv);
                return e;
        }
        jint(o, "job", &sjob);
        json_object_put(o);
        if ((e = node_call(sn, "iperf3 server", "wait_listen",
                           agent_args("port", I(port), "timeout_ms", I(10000), NULL),
                           CALL_MS + 10000, NULL, err)) < 0) {
                json_object_put(cargv);
                goto out;
        }
        /* byte counters of every interface on both ends, before and after */
        const struct topo_node *ends[2] = {cn->tn, sn->tn};
        for (unsigned s = 0; s < 2; s++)
                res->n_ifaces += ends[s]->n_ifaces;
        res->ifaces = xcalloc(res->n_ifaces, sizeof *res->ifaces);
        /* every entry named first: a node that dies between two reads leaves
         * no unnamed entry for the report to trip over */
        for (unsigned s = 0, k = 0; s < 2; s++)
                for (unsigned i = 0; i < ends[s]->n_ifaces; i++, k++) {
                        res->ifaces[k].node = xstrdup(ends[s]->name);
                        res->ifaces[k].dev = xstrdup(ends[s]->ifaces[i].name);
                }
        for (unsigned s = 0, k = 0; s < 2; s++)
                for (unsigned i = 0; i < ends[s]->n_ifaces; i++, k++) {
                        if ((e = link_bytes(s ? sn : cn, ends[s]->ifaces[i].name,
                                            &res->ifaces[k].tx_bytes, &res->ifaces[k].rx_bytes,
                                            err)) < 0) {
                                json_object_put(cargv);
                                goto out;
                        }
                }
        if ((e = node_call(cn, "counters", "counters", NULL, CALL_MS, &before_c, err)) < 0 ||
            (e = node_call(sn, "counters", "counters", NULL, CALL_MS, &before_s, err)) < 0) {
                json_object_put(cargv);
                goto out;
        }
        uint64_t t0 = now_usec();
        if ((e = node_call(cn, "iperf3 client", "spawn",
                           agent_args("argv", cargv, "timeout_ms", I(dur_ms + 30000), NULL),
                           CALL_MS, &o, err)) < 0)
                goto out;
        jint(o, "job", &cjob);
        json_object_put(o);
        /* CPU is read at the measured window's edges (warm-up and the tools'
         * start and stop left out): both nodes' /proc/stat and the VMs' time */
        /* a fixed-size transfer: the window is the whole transfer, read at its
         * start and once the client is done */
        if ((e = window_edge(r, w, cn, sn, w->size_bytes ? 0 : t0 + w->warmup_us, &win, 0, err)) <
                    0 ||
            (!w->size_bytes &&
             (e = window_edge(r, w, cn, sn, t0 + w->warmup_us + w->duration_us, &win, 1, err)) < 0))
                goto out;
        if (!(cres = job_wait(cn, "iperf3 client", cjob, dur_ms + 40000, err))) {
                /* the agent kills the tool 30 s after its end; no answer 10 s
                 * later means the tool is stuck in the node's kernel (a transfer
                 * that never ends): the kernel's failure, judged like a crash,
                 * never an infrastructure problem to skip */
                if (!r->lab->crash.node && !agent_interrupted && strstr(*err, "no reply to wait")) {
                        r->lab->crash.node = xstrdup(cn->tn->name);
                        r->lab->crash.what = xasprintf("workload %s hung: no end within %d s of "
                                                       "its duration",
                                                       w->name, 40);
                        r->lab->crash.trace = xstrdup(*err);
                }
                e = -ETIMEDOUT;
                goto out;
        }
        if (w->size_bytes && (e = window_edge(r, w, cn, sn, 0, &win, 1, err)) < 0)
                goto out;
        res->wall_s = (double)(now_usec() - t0) / 1e6;
        res->window_s = (double)(win.at[1] - win.at[0]) / 1e6;
        bool have_vm = win.have_vm[0] && win.have_vm[1];
        res->vm_cpu_client_s = have_vm ? (double)(win.vm[1][0] - win.vm[0][0]) / 1e9 : -1;
        res->vm_cpu_server_s = have_vm ? (double)(win.vm[1][1] - win.vm[0][1]) / 1e9 : -1;
        if (!(sres = job_wait(sn, "iperf3 server", sjob, 20000, err))) {
                e = -ETIMEDOUT;
                goto out;
        }
        sjob = 0;
        if ((e = node_call(cn, "counters", "counters", NULL, CALL_MS, &after_c, err)) < 0 ||
            (e = node_call(sn, "counters", "counters", NULL, CALL_MS, &after_s, err)) < 0)
                goto out;
        for (unsigned s = 0, k = 0; s < 2; s++)
                for (unsigned i = 0; i < ends[s]->n_ifaces; i++, k++) {
                        uint64_t tx, rx;
                        if ((e = link_bytes(s ? sn : cn, ends[s]->ifaces[i].name, &tx, &rx, err)) <
                            0)
                                goto out;
                        res->ifaces[k].tx_bytes = tx - res->ifaces[k].tx_bytes;
                        res->ifaces[k].rx_bytes = rx - res->ifaces[k].rx_bytes;
                }

        /* results */
        struct iperf3_result ir = {0};
        struct mptcpload_result mr;
        char *perr = NULL;
        const char *out = jstr(cres, "stdout");
        if (ml ? mptcpload_parse(out ? out : "", &mr, &perr) < 0
               : iperf3_parse(out ? out : "", &ir, &perr) < 0) {
                const char *serr = jstr(cres, "stderr");
                res->status = WL_FAILED;
                res->reason = xasprintf("%s%s%s", perr, serr && *serr ? "; stderr: " : "",
                                        serr ? serr : "");
                free(perr);
                e = 0;
                goto out;
        }
        if (ml) {
                /* goodput is the receivers' count in the window; the client's own
                 * count (both ways for rr/crr) is what was sent */
                ir.sent_bps = ir.recv_bps = mr.throughput_bps;
                if (!w->mode || streq(w->mode, "stream")) {
                        double up = mr.goodput_up_bps, down = mr.goodput_down_bps;
                        ir.recv_bps = up >= 0 && down >= 0 ? up + down : -1;
                }
                res->tps = mr.tps;
                res->cps = mr.cps;
                res->lat_p50_us = mr.p50_us;
                res->lat_p99_us = mr.p99_us;
                res->lat_p999_us = mr.p999_us;
                res->n_lat_cdf = mr.n_cdf;
                memcpy(res->lat_cdf_p, mr.cdf_p, sizeof mr.cdf_p);
                memcpy(res->lat_cdf_us, mr.cdf_us, sizeof mr.cdf_us);
                res->tool_fallbacks = mr.fallbacks;
                res->time_wait_client = mr.time_wait_client;
                res->time_wait_server = mr.time_wait_server;
        }
        res->sent_bps = ir.sent_bps;
        res->recv_bps = ir.recv_bps;
        /* a fixed-size transfer: the receiver's time from first to last byte */
        res->completion_s = w->size_bytes && !ml && ir.seconds > 0 ? ir.seconds : -1;
        /* what the tools say is checked against what the topology allows */
        struct tool_report tr = {.mptcpload = ml,
                                 .errors = mr.errors,
                                 .server_errors = mr.server_errors,
                                 .server_accepted = mr.server_accepted};
        validity_tool(res, &tr);
        /* TCP retransmissions on the sending node, all subflows included: iperf3's own
         * count comes from TCP_INFO, which an MPTCP socket does not give */
        struct json_object *sb = w->reverse ? before_s : before_c,
                           *sa = w->reverse ? after_s : after_c;
        res->retransmits = delta(sb, sa, "Tcp", "RetransSegs");
        res->cpu_client_pct = ir.cpu_host_pct;
        res->cpu_server_pct = ir.cpu_remote_pct;
        iperf3_result_clear(&ir);
        double u = 0, s = 0;
        jdouble(cres, "utime_s", &u);
        jdouble(cres, "stime_s", &s);
        res->cpu_client_s = u + s;
        u = s = 0;
        jdouble(sres, "utime_s", &u);
        jdouble(sres, "stime_s", &s);
        res->cpu_server_s = u + s;
        if (ml) {
                /* iperf3 says its CPU share itself; for mptcpload: the client's own
                 * rusage over the measured window, the server process's over its life */
                int64_t wall_ms = 0;
                jint(sres, "wall_ms", &wall_ms);
                res->cpu_client_pct = 100 * mr.cpu_s / ((double)w->duration_us / 1e6);
                res->cpu_server_pct =
                        wall_ms > 0 ? 100 * res->cpu_server_s / ((double)wall_ms / 1e3) : -1;
        }

        res->intervals = interval_series(out, ml, (double)w->warmup_us / 1e6);
        /* iperf3 counts whole writes (128 KiB) in its 0.5 s intervals: one
         * interval can be two blocks a stream off whatever the rate does */
        res->settled_s = w->warmup_us ? tool_settled_at(res->intervals, res->warmup_s,
                                                        ml ? 0 : 2.0 * 131072 * 8 * w->flows / 0.5)
                                      : -1;
        /* subflows that joined once the window had begun: the warm-up did not
         * cover the connection's opening */
        res->late_joins = delta(win.stat[0][1], after_s, "MPTcpExt", "MPJoinAckRx") +
                          delta(win.stat[0][0], after_c, "MPTcpExt", "MPJoinAckRx");
        res->mib = json_object_new_object();
        json_object_object_add(res->mib, cn->tn->name, mib_deltas(before_c, after_c));
        json_object_object_add(res->mib, sn->tn->name, mib_deltas(before_s, after_s));
        res->cpu_cores = json_object_new_object();
        json_object_object_add(res->cpu_cores, cn->tn->name,
                               cpu_per_core(win.stat[0][0], win.stat[1][0]));
        json_object_object_add(res->cpu_cores, sn->tn->name,
                               cpu_per_core(win.stat[0][1], win.stat[1][1]));
        res->node_cpu_client_pct = node_busy_pct(win.stat[0][0], win.stat[1][0]);
        res->node_cpu_server_pct = node_busy_pct(win.stat[0][1], win.stat[1][1]);
        res->cycles_client = cycles_delta(win.stat[0][0], win.stat[1][0]);
        res->cycles_server = cycles_delta(win.stat[0][1], win.stat[1][1]);
        res->node_cpu_client_s = node_cpu_s(win.stat[0][0], win.stat[1][0]);
        res->node_cpu_server_s = node_cpu_s(win.stat[0][1], win.stat[1][1]);
        res->mp_capable = delta(before_c, after_c, "MPTcpExt", "MPCapableSYNACKRX");
        res->mp_join = delta(before_s, after_s, "MPTcpExt", "MPJoinAckRx") +
                       delta(before_c, after_c, "MPTcpExt", "MPJoinAckRx");
        res->add_addr = delta(before_c, after_c, "MPTcpExt", "AddAddr");
        res->fallbacks = delta(before_c, after_c, "MPTcpExt", "MPCapableFallbackSYNACK") +
                         delta(before_s, after_s, "MPTcpExt", "MPCapableFallbackACK");
        res->connections = (unsigned)res->mp_capable;
        validity_mptcp(res);
        e = 0;
out:
        if (sjob) {
                /* the server must not outlive a failed client (errors here add nothing
                 * to the one that brought us here) */
                char *ignored = NULL;
                if (node_call(sn, "server", "kill", agent_args("job", I(sjob), NULL), CALL_MS, NULL,
                              &ignored) == 0)
                        json_object_put(job_wait(sn, "server", sjob, 10000, &ignored));
                free(ignored);
        }
        json_object_put(before_c);
        json_object_put(before_s);
        json_object_put(after_c);
        json_object_put(after_s);
        json_object_put(cres);
        json_object_put(sres);
        window_clear(&win);
        return e;
}

static void on_signal(int sig)
{
        if (got_signal) {
                /* a second ^C: go now. libvirt's autodestroy and the agents'
                 * parent-death signal still take everything down */
                signal(sig, SIG_DFL);
                raise(sig);
        }
        got_signal = sig;
        agent_interrupted = 1;
        spawn_interrupted = 1;
}

static char *default_run_dir(const char *run_id)
{
        _cleanup_free_ char *runs = lab_data_path("runs");
        return xasprintf("%s/%s", runs, run_id);
}

struct run_result *run_result_free(struct run_result *r)
{
        if (!r)
                return NULL;
        for (unsigned i = 0; i < r->n_wl; i++) {
                struct wl_result *w = &r->wl[i];
                free(w->reason);
                free(w->method);
                free(w->target);
                json_object_put(w->mib);
                json_object_put(w->cpu_cores);
                json_object_put(w->intervals);
                for (unsigned k = 0; k < w->n_ifaces; k++) {
                        free(w->ifaces[k].node);
                        free(w->ifaces[k].dev);
                }
                free(w->ifaces);
        }
        free(r->wl);
        free(r->started_at);
        free(r->run_dir);
        free(r->crash_node);
        free(r->crash_what);
        free(r->crash_trace);
        free(r->error);
        json_object_put(r->nodes);
        json_object_put(r->dirty);
        free(r);
        return NULL;
}

/* What a lab's run left allocated, once its backend is gone. */
/* The lab's crash becomes the run's (said, with its excerpt from where) */
static void take_crash(struct lab *lab, struct run_result *res, const char *where)
{
        log_error("node %s crashed (%s); %s excerpt:\n%s", lab->crash.node, lab->crash.what, where,
                  lab->crash.trace);
        res->crash_node = TAKE_PTR(lab->crash.node);
        res->crash_what = TAKE_PTR(lab->crash.what);
        res->crash_trace = TAKE_PTR(lab->crash.trace);
}

static void lab_free(struct lab *lab)
{
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                json_object_put(lab->nodes[i].hello);
                free(lab->nodes[i].console);
                free(lab->nodes[i].kernel);
                json_object_put(lab->nodes[i].kernel_id);
                free(lab->nodes[i].hypervisor);
        }
        free(lab->nodes);
        free(lab->run_dir);
        free(lab->crash.node);
        free(lab->crash.what);
        free(lab->crash.trace);
        free(lab);
}

/* A teardown that overlaps the next run's boot (run_opts.overlap_teardown):
 * at most one, on its own thread (libvirt connections are thread-safe and
 * each run has its own). The topology is freed after it: the lab's nodes
 * point into it. */
struct pending_teardown {
        pthread_t th;
        struct lab *lab;
        struct topo *topo;
        double secs;
};
static struct pending_teardown *pending;

static void *teardown_thread(void *arg)
{
        struct pending_teardown *p = arg;
        uint64_t t0 = now_usec();
        p->lab->ops->destroy(p->lab);
        p->secs = (double)(now_usec() - t0) / 1e6;
        return NULL;
}

double lab_run_settle(void)
{
        if (!pending)
                return 0;
        uint64_t t0 = now_usec();
        pthread_join(pending->th, NULL);
        log_debug("the previous run's teardown took %.1fs (%.1fs of it waited for)", pending->secs,
                  (double)(now_usec() - t0) / 1e6);
        lab_free(pending->lab);
        topo_free(pending->topo);
        free(pending);
        pending = NULL;
        return (double)(now_usec() - t0) / 1e6;
}

int lab_run(struct topo *t, const struct run_opts *o, struct run_result **ret)
{
        const struct backend_ops *be = backend_find(o->backend);
        if (!be) {
                log_error("unknown backend \"%s\"; backends:", o->backend);
                backend_list(stderr);
                return EXIT_INPUT;
        }
        struct run r = {.t0 = now_usec(), .o = o};
        r.lab = xcalloc(1, sizeof *r.lab);
        *r.lab = (struct lab){.t = t,
                              .agent_path = o->agent_path,
                              .ops = be,
                              .kernel = o->kernel,
                              .uri = o->uri,
                              .link_mode = o->links,
                              .inventory = o->inventory,
                              .t0 = r.t0};
        /* 128 random bits identify the run in the database; the first 32 of them
         * name its namespaces, domains, bridges and directory, where length is
         * short (IFNAMSIZ) and the host lock keeps runs from meeting */
        char id[33];
        random_hex(id, 16);
        snprintf(r.lab->run_id, sizeof r.lab->run_id, "%.8s", id);
        char *err = NULL;
        int e;
        if (be->preflight && be->preflight(r.lab, &err) < 0) {
                log_error("%s", err);
                free(err);
                int rc = r.lab->input_error ? EXIT_INPUT : EXIT_INFRA;
                free(r.lab);
                return rc;
        }
        r.lab->run_dir = o->run_dir ? xasprintf("%s/%s", o->run_dir, r.lab->run_id)
                                    : default_run_dir(r.lab->run_id);
        /* the run's directory is new and ours: consoles, sockets and the spool go
         * there, so one that exists already (someone else's, a symlink) is refused */
        _cleanup_free_ char *parent = xstrdup(r.lab->run_dir);
        *strrchr(parent, '/') = 0;
        struct stat st;
        if ((e = mkdir_p(parent)) < 0 || (mkdir(r.lab->run_dir, 0755) < 0 && (e = -errno)) ||
            (lstat(r.lab->run_dir, &st) < 0 && (e = -errno)) ||
            (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ? (e = -EPERM) : 0)) {
                log_errno(LOG_LVL_ERROR, e, "cannot create the run directory %s", r.lab->run_dir);
                free(r.lab->run_dir);
                free(r.lab);
                return EXIT_INFRA;
        }
        struct run_result *res = xcalloc(1, sizeof *res);
        res->run_dir = xstrdup(r.lab->run_dir);
        snprintf(res->run_id, sizeof res->run_id, "%s", id);
        res->backend = be->name;
        res->links = be->link_kind ? be->link_kind(r.lab) : "?";
        res->started_at = iso8601_now();
        res->n_wl = t->n_workloads;
        res->wl = xcalloc(t->n_workloads, sizeof *res->wl);
        res->nodes = json_object_new_object();
        r.expected_us = 3000000;
        for (unsigned i = 0; i < t->n_workloads; i++)
                r.expected_us += t->workloads[i].duration_us + t->workloads[i].warmup_us + 1500000;

        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: waits see EINTR */
        struct sigaction old_int, old_term, old_hup;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);

        int rc = EXIT_OK;
        r.lab->nodes = xcalloc(t->n_nodes, sizeof *r.lab->nodes);
        for (unsigned i = 0; i < t->n_nodes; i++)
                r.lab->nodes[i].tn = &t->nodes[i];

        progress(&r, "run %s: %s on %s, %u node(s), %u link(s)", r.lab->run_id, t->name, be->name,
                 t->n_nodes, t->n_links);
        e = be->create(r.lab, &err);
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lab_node *n = &r.lab->nodes[i];
                if (!n->hello)
                        continue;
                struct json_object *o2 = json_object_new_object();
                json_object_object_add(o2, "hello", json_object_get(n->hello));
                json_object_object_add(o2, "ready_s", json_object_new_double(n->ready_s));
                if (n->kernel)
                        json_object_object_add(o2, "kernel_spec", S(n->kernel));
                if (n->kernel_id)
                        json_object_object_add(o2, "kernel_id", json_object_get(n->kernel_id));
                if (n->console)
                        json_object_object_add(o2, "console", S(n->console));
                if (n->hypervisor)
                        json_object_object_add(o2, "hypervisor", S(n->hypervisor));
                if (n->accel)
                        json_object_object_add(o2, "accel", S(n->accel));
                if (be->describe) {
                        _cleanup_free_ char *what = be->describe(r.lab, i);
                        json_object_object_add(o2, "what", S(what));
                }
                json_object_object_add(res->nodes, t->nodes[i].name, o2);
        }
        if (e < 0)
                goto fail;
        for (unsigned i = 0; i < t->n_nodes; i++) /* what the backend said it is, above */
                progress(&r, "%s: %s, kernel %s, ready at %.1fs", t->nodes[i].name,
                         jstr(jobj(res->nodes, t->nodes[i].name), "what") ?: be->name,
                         jstr(r.lab->nodes[i].hello, "kernel") ?: "?", r.lab->nodes[i].ready_s);
        if ((e = check_capabilities(&r, &err)) < 0) {
                rc = EXIT_INFRA;
                goto fail;
        }
        progress(&r, "nodes up; creating links");
        if (be->wire && (e = be->wire(r.lab, &err)) < 0)
                goto fail;
        for (unsigned i = 0; i < t->n_nodes; i++)
                if ((e = configure_node(&r, i, &err)) < 0)
                        goto fail;
        for (unsigned i = 0; i < t->n_nodes; i++)
                if ((e = configure_node_paths(&r, i, &err)) < 0)
                        goto fail;
        /* the last run's VMs are gone before anything is measured */
        res->teardown_wait_s = lab_run_settle();
        res->setup_s = (double)(now_usec() - r.t0) / 1e6;
        r.done_us = now_usec() - r.t0;
        progress(&r, "configured in %.1fs", res->setup_s);
        for (unsigned i = 0; i < t->n_workloads; i++) {
                const struct topo_workload *w = &t->workloads[i];
                res->wl[i].w = w;
                res->wl[i].node_cpu_client_s = res->wl[i].node_cpu_server_s = -1;
                res->wl[i].completion_s = -1;
                res->wl[i].settled_s = -1;
                res->wl[i].vm_cpu_client_s = res->wl[i].vm_cpu_server_s = -1;
                res->wl[i].cycles_client = res->wl[i].cycles_server = -1;
                progress(&r, "workload %u/%u %s: %s %s, %.0fs", i + 1, t->n_workloads, w->name,
                         w->tool == TOPO_TOOL_IPERF3 ? "iperf3" : "mptcpload",
                         w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp",
                         (double)w->duration_us / 1e6);
                if ((e = run_iperf3(&r, i, &res->wl[i], &err)) < 0) {
                        res->wl[i].status = WL_FAILED;
                        res->wl[i].reason = xstrdup(err);
                        goto fail;
                }
                r.done_us += w->duration_us + w->warmup_us + 1500000;
                if (res->wl[i].status == WL_FAILED)
                        log_error("workload %s failed: %s", w->name, res->wl[i].reason);
        }
        goto done;
fail:
        if (got_signal)
                log_error("interrupted by signal %d; tearing down", (int)got_signal);
        else
                log_error("%s", err ? err : "run failed");
        res->error = xstrdup(got_signal ? "interrupted" : err ? err : "run failed");
        if (r.lab->crash.node) {
                take_crash(r.lab, res, "console");
                rc = EXIT_REGRESSION;
        }
        if (rc == EXIT_OK)
                rc = r.lab->input_error ? EXIT_INPUT : EXIT_INFRA;
done:
        free(err);
        progress(&r, "tearing down");
        agent_interrupted = 0;
        spawn_interrupted = 0;
        /* each node kernel's log, kept in the run's directory */
        for (unsigned i = 0; be->collect_log && i < t->n_nodes; i++) {
                _cleanup_free_ char *klog =
                        r.lab->nodes[i].hello ? be->collect_log(r.lab, i) : NULL;
                struct json_object *nj = jobj(res->nodes, t->nodes[i].name);
                if (klog && nj)
                        json_object_object_add(nj, "kernel_log", S(klog));
        }
        /* a crash found in a log read after the workloads (machines: their
         * dmesg) makes the run a crash as one seen while it ran */
        if (r.lab->crash.node && !res->crash_node) {
                take_crash(r.lab, res, "kernel log");
                rc = EXIT_REGRESSION;
        }
        /* machines the lab did not create are put back now and compared */
        if (be->restore && (res->dirty = be->restore(r.lab)))
                log_error("the run is dirty: %s",
                          json_object_to_json_string_ext(res->dirty, JSON_C_TO_STRING_PLAIN));
        /* the last run's teardown first: never two at once */
        res->teardown_wait_s += lab_run_settle();
        if (o->overlap_teardown && !got_signal && !res->crash_node) {
                /* the VMs go while the caller goes on to the next run's boot;
                 * the next run's measurement waits for them (lab_run_settle) */
                struct pending_teardown *p = xcalloc(1, sizeof *p);
                p->lab = r.lab;
                p->topo = t;
                if (pthread_create(&p->th, NULL, teardown_thread, p) == 0) {
                        pending = p;
                        res->teardown_deferred = true;
                } else
                        free(p);
        }
        if (!res->teardown_deferred) {
                uint64_t td0 = now_usec();
                be->destroy(r.lab);
                res->teardown_s = (double)(now_usec() - td0) / 1e6;
                lab_free(r.lab);
        }
        res->wall_s = (double)(now_usec() - r.t0) / 1e6;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        for (unsigned i = 0; i < res->n_wl; i++)
                if (res->wl[i].status == WL_FAILED && res->crash_node)
                        res->wl[i].status = WL_CRASHED;
                else if (res->wl[i].status == WL_FAILED && rc == EXIT_OK)
                        rc = EXIT_INFRA;
        if (got_signal && rc == EXIT_OK)
                rc = EXIT_INFRA;
        *ret = res;
        return rc;
}
