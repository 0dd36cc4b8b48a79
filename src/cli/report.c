/* report.c - a run's results as a readable table (stdout) and as JSON
 * (schema in docs/run-json.md). */
#include "run.h"
#include "../results/metrics.h"

#include <math.h>
#include "../shared/util.h"
#include "../topo/units.h"

static const char *status_name(enum wl_status s)
{
        static const char *const names[] = {"ok", "invalid", "failed", "crashed"};
        return names[s];
}

/* Share of the sender's bytes per interface, e.g. "eth0 51% eth1 49%". */
static void path_split(const struct wl_result *w, const char *node, char *buf, size_t len)
{
        uint64_t total = 0;
        for (unsigned i = 0; i < w->n_ifaces; i++)
                if (streq(w->ifaces[i].node, node))
                        total += w->ifaces[i].tx_bytes;
        buf[0] = 0;
        for (unsigned i = 0; i < w->n_ifaces && total; i++)
                if (streq(w->ifaces[i].node, node)) {
                        size_t n = strlen(buf);
                        snprintf(buf + n, len - n, "%s%s %.0f%%", n ? " " : "", w->ifaces[i].dev,
                                 100.0 * (double)w->ifaces[i].tx_bytes / (double)total);
                }
}

void report_table(FILE *f, const struct topo *t, const struct run_result *r)
{
        fprintf(f, "# %s on %s (%s links), run %s, %s\n", t->name, r->backend, r->links, r->run_id,
                r->started_at);
        fprintf(f, "%-14s %-8s %-9s %10s %10s %7s %6s %6s %8s  %-20s %s\n", "workload", "proto",
                "via", "goodput", "sent", "retrans", "cpu-c", "cpu-s", "subflows", "sender paths",
                "status");
        fprintf(f, "%-14s %-8s %-9s %10s %10s %7s %6s %6s %8s  %-20s %s\n", "", "", "", "Mbit/s",
                "Mbit/s", "", "%", "%", "/conn", "", "");
        for (unsigned i = 0; i < r->n_wl; i++) {
                const struct wl_result *w = &r->wl[i];
                if (!w->w)
                        continue;
                char paths[128] = "", sub[16] = "-";
                const char *sender = t->nodes[w->w->reverse ? w->w->to : w->w->from].name;
                path_split(w, sender, paths, sizeof paths);
                if (w->subflows_per_conn > 0)
                        snprintf(sub, sizeof sub, "%.2f", w->subflows_per_conn);
                fprintf(f, "%-14s %-8s %-9s %10.2f %10.2f %7lld %6.1f %6.1f %8s  %-20s %s%s%s\n",
                        w->w->name, w->w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp",
                        w->method ? w->method : "-", w->recv_bps / 1e6, w->sent_bps / 1e6,
                        (long long)w->retransmits, w->cpu_client_pct, w->cpu_server_pct, sub, paths,
                        status_name(w->status), w->reason ? ": " : "", w->reason ? w->reason : "");
                if (w->tps > 0)
                        fprintf(f,
                                "%-14s %.0f transactions/s, %.0f connections/s, latency p50 %.0f "
                                "us, "
                                "p99 %.0f us, p99.9 %.0f us\n",
                                "", w->tps, w->cps, w->lat_p50_us, w->lat_p99_us, w->lat_p999_us);
        }
        struct json_object *n;
        for (unsigned i = 0; i < t->n_nodes; i++)
                if (json_object_object_get_ex(r->nodes, t->nodes[i].name, &n))
                        fprintf(f, "# node %-10s kernel %-24s ready at %.1fs%s%s\n",
                                t->nodes[i].name, jstr(jobj(n, "hello"), "kernel") ?: "?",
                                jpath_double(n, 0, "ready_s", NULL),
                                jstr(n, "hypervisor") ? " on " : "", jstr(n, "hypervisor") ?: "");
        if (r->crash_node)
                fprintf(f, "# CRASHED: node %s, %s (console excerpt in the JSON and %s)\n",
                        r->crash_node, r->crash_what, r->run_dir);
        else if (r->error)
                fprintf(f, "# STOPPED: %s\n", r->error);
        fprintf(f, "# setup %.1fs, wall time %.1fs, files in %s\n", r->setup_s, r->wall_s,
                r->run_dir);
}

#define S(x) json_object_new_string(x)
#define D(x) json_object_new_double(x)
#define I(x) json_object_new_int64((int64_t)(x))

struct json_object *report_json(const struct topo *t, const struct run_result *r)
{
        struct json_object *o = json_object_new_object(), *wls = json_object_new_array();
        json_object_object_add(o, "schema", S("mptcplab.run/1"));
        json_object_object_add(o, "run_id", S(r->run_id));
        json_object_object_add(o, "shared_host", json_object_new_boolean(r->shared_host));
        json_object_object_add(o, "backend", S(r->backend));
        json_object_object_add(o, "links", S(r->links));
        json_object_object_add(o, "started_at", S(r->started_at));
        json_object_object_add(o, "setup_s", D(r->setup_s));
        json_object_object_add(o, "wall_s", D(r->wall_s));
        {
                /* where the run's time went: the measured windows, and the rest */
                double measured = 0, warm = 0, tools = 0, boot = 0;
                for (unsigned i = 0; i < r->n_wl; i++) {
                        const struct wl_result *w = &r->wl[i];
                        if (!w->w)
                                continue;
                        measured += w->window_s;
                        warm += w->warmup_s;
                        tools += w->wall_s - w->window_s - w->warmup_s;
                }
                json_object_object_foreach (r->nodes, nname, ninfo) {
                        (void)nname;
                        double rs = 0;
                        if (jdouble(ninfo, "ready_s", &rs) && rs > boot)
                                boot = rs;
                }
                struct json_object *ov = json_object_new_object();
                json_object_object_add(ov, "wall_s", D(r->wall_s));
                json_object_object_add(ov, "measured_s", D(measured));
                json_object_object_add(ov, "boot_s", D(boot));
                json_object_object_add(ov, "configure_s",
                                       D(r->setup_s - boot - r->teardown_wait_s));
                json_object_object_add(ov, "warmup_s", D(warm));
                json_object_object_add(ov, "tools_s", D(tools));
                /* a teardown overlapped with the next boot costs what that
                 * run waited for it (teardown_wait_s), not its length */
                json_object_object_add(ov, "teardown_s", D(r->teardown_s + r->teardown_wait_s));
                json_object_object_add(ov, "teardown_overlapped",
                                       json_object_new_boolean(r->teardown_deferred));
                json_object_object_add(
                        ov, "other_s",
                        D(r->wall_s - r->setup_s - measured - warm - tools - r->teardown_s));
                json_object_object_add(o, "overhead", ov);
        }
        struct json_object *topo = json_object_new_object();
        json_object_object_add(topo, "name", S(t->name));
        json_object_object_add(topo, "file", S(t->file));
        {
                /* the model as parsed, --set applied: every link's shaping */
                _cleanup_free_ char *yaml = topo_to_yaml(t);
                json_object_object_add(topo, "yaml", S(yaml));
        }
        json_object_object_add(o, "topology", topo);
        struct json_object *nodes = json_object_new_array();
        json_object_object_foreach (r->nodes, name, info) {
                struct json_object *n = json_object_new_object(), *hello = jobj(info, "hello");
                json_object_object_add(n, "name", S(name));
                json_object_object_add(n, "kernel", json_object_get(jpath(hello, "kernel", NULL)));
                json_object_object_add(n, "kernel_version",
                                       json_object_get(jpath(hello, "kernel_version", NULL)));
                json_object_object_add(n, "kernel_spec",
                                       json_object_get(jpath(info, "kernel_spec", NULL)));
                json_object_object_add(n, "kernel_id",
                                       json_object_get(jpath(info, "kernel_id", NULL)));
                json_object_object_add(n, "ready_s", json_object_get(jpath(info, "ready_s", NULL)));
                json_object_object_add(n, "console", json_object_get(jpath(info, "console", NULL)));
                json_object_object_add(n, "what", json_object_get(jpath(info, "what", NULL)));
                json_object_object_add(n, "kernel_log",
                                       json_object_get(jpath(info, "kernel_log", NULL)));
                json_object_object_add(n, "hypervisor",
                                       json_object_get(jpath(info, "hypervisor", NULL)));
                json_object_object_add(n, "accel", json_object_get(jpath(info, "accel", NULL)));
                json_object_object_add(n, "qdiscs", json_object_get(jpath(hello, "qdiscs", NULL)));
                json_object_object_add(n, "iperf3", json_object_get(jpath(hello, "iperf3", NULL)));
                json_object_array_add(nodes, n);
        }
        json_object_object_add(o, "nodes", nodes);
        json_object_object_add(o, "run_dir", S(r->run_dir));
        json_object_object_add(o, "status",
                               S(r->crash_node ? "crashed"
                                 : r->error    ? "failed"
                                               : "ok"));
        json_object_object_add(o, "error", r->error ? S(r->error) : NULL);
        /* machines (ssh backend) that differ after the run from before it */
        json_object_object_add(o, "dirty", json_object_get(r->dirty));
        if (r->crash_node) {
                struct json_object *c = json_object_new_object();
                json_object_object_add(c, "node", S(r->crash_node));
                json_object_object_add(c, "what", S(r->crash_what));
                json_object_object_add(c, "trace", S(r->crash_trace));
                json_object_object_add(o, "crash", c);
        }
        for (unsigned i = 0; i < r->n_wl; i++) {
                const struct wl_result *w = &r->wl[i];
                if (!w->w)
                        continue;
                struct json_object *j = json_object_new_object();
                json_object_object_add(j, "name", S(w->w->name));
                json_object_object_add(j, "tool",
                                       S(w->w->tool == TOPO_TOOL_IPERF3 ? "iperf3" : "mptcpload"));
                json_object_object_add(j, "protocol",
                                       S(w->w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp"));
                json_object_object_add(j, "mptcp_method", w->method ? S(w->method) : NULL);
                json_object_object_add(j, "from", S(t->nodes[w->w->from].name));
                json_object_object_add(j, "to", S(t->nodes[w->w->to].name));
                json_object_object_add(j, "target", w->target ? S(w->target) : NULL);
                json_object_object_add(j, "duration_s", D((double)w->w->duration_us / 1e6));
                json_object_object_add(j, "warmup_s", D(w->warmup_s));
                json_object_object_add(j, "warmup_auto",
                                       json_object_new_boolean(w->w->warmup_auto));
                json_object_object_add(j, "settled_s", w->settled_s >= 0 ? D(w->settled_s) : NULL);
                json_object_object_add(j, "late_joins", json_object_new_int64(w->late_joins));
                json_object_object_add(j, "flows", I(w->w->flows));
                json_object_object_add(j, "status", S(status_name(w->status)));
                json_object_object_add(j, "reason", w->reason ? S(w->reason) : NULL);
                struct json_object *g = json_object_new_object();
                json_object_object_add(g, "sender_bps", D(w->sent_bps));
                json_object_object_add(g, "receiver_bps", D(w->recv_bps));
                json_object_object_add(j, "goodput", g);
                json_object_object_add(j, "retransmits", I(w->retransmits));
                struct json_object *cpu = json_object_new_object();
                json_object_object_add(cpu, "client_pct", D(w->cpu_client_pct));
                json_object_object_add(cpu, "server_pct", D(w->cpu_server_pct));
                json_object_object_add(cpu, "client_s", D(w->cpu_client_s));
                json_object_object_add(cpu, "server_s", D(w->cpu_server_s));
                json_object_object_add(cpu, "node_client_pct", D(w->node_cpu_client_pct));
                json_object_object_add(cpu, "node_server_pct", D(w->node_cpu_server_pct));
                json_object_object_add(cpu, "node_client_s",
                                       w->node_cpu_client_s >= 0 ? D(w->node_cpu_client_s) : NULL);
                json_object_object_add(cpu, "node_server_s",
                                       w->node_cpu_server_s >= 0 ? D(w->node_cpu_server_s) : NULL);
                json_object_object_add(cpu, "window_s", D(w->window_s));
                json_object_object_add(cpu, "vm_client_s",
                                       w->vm_cpu_client_s >= 0 ? D(w->vm_cpu_client_s) : NULL);
                json_object_object_add(cpu, "cycles_client",
                                       w->cycles_client >= 0 ? D(w->cycles_client) : NULL);
                json_object_object_add(cpu, "cycles_server",
                                       w->cycles_server >= 0 ? D(w->cycles_server) : NULL);
                json_object_object_add(cpu, "vm_server_s",
                                       w->vm_cpu_server_s >= 0 ? D(w->vm_cpu_server_s) : NULL);
                json_object_object_add(j, "cpu", cpu);
                struct json_object *mp = json_object_new_object();
                json_object_object_add(mp, "mp_capable", I(w->mp_capable));
                json_object_object_add(mp, "mp_join", I(w->mp_join));
                json_object_object_add(mp, "add_addr", I(w->add_addr));
                json_object_object_add(mp, "fallbacks", I(w->fallbacks));
                json_object_object_add(mp, "subflows_per_connection", D(w->subflows_per_conn));
                json_object_object_add(mp, "expected_subflows", I(w->expected_subflows));
                json_object_object_add(j, "mptcp", mp);
                json_object_object_add(j, "path_rate_bps", I(w->path_rate_bps));
                /* every metric of the registry this workload has, as judged */
                struct json_object *mj = json_object_new_object();
                unsigned nm;
                const struct metric *m = metric_all(&nm);
                double v;
                for (unsigned k = 0; k < nm; k++)
                        if (m[k].get(w, &v) && isfinite(v))
                                json_object_object_add(mj, m[k].name, D(v));
                struct json_object *agg = NULL;
                json_object_object_get_ex(mj, "aggregation_efficiency", &agg);
                json_object_object_add(j, "aggregation_efficiency", json_object_get(agg));
                json_object_object_add(j, "metrics", mj);
                struct json_object *keys = json_object_new_array();
                for (unsigned k = 0; k < nm; k++)
                        if (metric_is_key(&m[k], w->w))
                                json_object_array_add(keys, S(m[k].name));
                json_object_object_add(j, "key_metrics", keys);
                json_object_object_add(j, "mib", json_object_get(w->mib));
                json_object_object_add(j, "cpu_cores", json_object_get(w->cpu_cores));
                json_object_object_add(j, "intervals", json_object_get(w->intervals));
                struct json_object *ifs = json_object_new_array();
                for (unsigned k = 0; k < w->n_ifaces; k++) {
                        struct json_object *x = json_object_new_object();
                        json_object_object_add(x, "node", S(w->ifaces[k].node));
                        json_object_object_add(x, "dev", S(w->ifaces[k].dev));
                        json_object_object_add(x, "tx_bytes", I(w->ifaces[k].tx_bytes));
                        json_object_object_add(x, "rx_bytes", I(w->ifaces[k].rx_bytes));
                        json_object_array_add(ifs, x);
                }
                json_object_object_add(j, "interfaces", ifs);
                json_object_object_add(j, "wall_s", D(w->wall_s));
                if (w->w->tool == TOPO_TOOL_MPTCPLOAD) {
                        struct json_object *ml = json_object_new_object();
                        json_object_object_add(ml, "transactions_per_s", D(w->tps));
                        json_object_object_add(ml, "connections_per_s", D(w->cps));
                        json_object_object_add(ml, "latency_p50_us", D(w->lat_p50_us));
                        json_object_object_add(ml, "latency_p99_us", D(w->lat_p99_us));
                        json_object_object_add(ml, "latency_p999_us", D(w->lat_p999_us));
                        struct json_object *cdf = json_object_new_array();
                        for (unsigned k = 0; k < w->n_lat_cdf; k++) {
                                struct json_object *pt = json_object_new_array();
                                json_object_array_add(pt, D(w->lat_cdf_p[k]));
                                json_object_array_add(pt, D(w->lat_cdf_us[k]));
                                json_object_array_add(cdf, pt);
                        }
                        json_object_object_add(ml, "latency_cdf", cdf);
                        json_object_object_add(ml, "fallbacks_seen", I(w->tool_fallbacks));
                        json_object_object_add(ml, "time_wait_client", I(w->time_wait_client));
                        json_object_object_add(ml, "time_wait_server", I(w->time_wait_server));
                        json_object_object_add(j, "mptcpload", ml);
                }
                json_object_array_add(wls, j);
        }
        json_object_object_add(o, "workloads", wls);
        return o;
}
