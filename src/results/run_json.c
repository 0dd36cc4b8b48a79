/* run_json.c - one run's result as the run JSON (docs/run-json.md): what the
 * store keeps of a run, what `run --json` writes, what reports read. */
#include "run_json.h"
#include "metrics.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>

void run_overhead(const struct run_result *r, struct run_overhead *ret)
{
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
        *ret = (struct run_overhead){.measured_s = measured,
                                     .boot_s = boot,
                                     .configure_s = r->setup_s - boot - r->teardown_wait_s,
                                     .warmup_s = warm,
                                     .tools_s = tools,
                                     .teardown_s = r->teardown_s + r->teardown_wait_s,
                                     .reset_s = r->reset_s};
}

#define STR(x) json_object_new_string(x)
#define DBL(x) json_object_new_double(x)
#define INT(x) json_object_new_int64((int64_t)(x))

/* -1 (not computed) as null */
static struct json_object *opt_dbl(double v)
{
        return v >= 0 && isfinite(v) ? json_object_new_double(v) : NULL;
}

/* A workload's path events (docs/run-json.md): each as asked and applied,
 * its figures and bound, the receiver's bins and the path manager's events */
static void events_json(struct json_object *j, const struct wl_result *w)
{
        struct json_object *evs = json_object_new_array();
        for (unsigned k = 0; k < w->n_events; k++) {
                const struct ev_result *e = &w->events[k];
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "action",
                                       json_object_new_string(topo_ev_action_name(e->ev->action)));
                if (e->ev->link >= 0)
                        json_object_object_add(o, "link", json_object_new_int(e->ev->link));
                json_object_object_add(o, "at_s", json_object_new_double(e->at_s));
                json_object_object_add(o, "applied_s", opt_dbl(e->applied_s));
                json_object_object_add(o, "late_ms",
                                       e->applied_s >= 0 ? json_object_new_double(e->late_ms)
                                                         : NULL);
                json_object_object_add(o, "node_late_ms",
                                       e->applied_s >= 0 ? json_object_new_double(e->node_late_ms)
                                                         : NULL);
                json_object_object_add(o, "clock_uncertainty_ms",
                                       json_object_new_double(e->clock_uncert_ms));
                json_object_object_add(o, "error",
                                       e->error ? json_object_new_string(e->error) : NULL);
                json_object_object_add(o, "level_bps", opt_dbl(e->level_bps));
                json_object_object_add(o, "target_bps", opt_dbl(e->target_bps));
                json_object_object_add(o, "outage_s", opt_dbl(e->outage_s));
                json_object_object_add(o, "outage_at_s", opt_dbl(e->outage_at_s));
                json_object_object_add(o, "second_stall_s", opt_dbl(e->second_stall_s));
                json_object_object_add(o, "recovery_s", opt_dbl(e->recovery_s));
                json_object_object_add(o, "recovered", json_object_new_boolean(e->recovered));
                json_object_object_add(o, "pm_first_s", opt_dbl(e->pm_first_s));
                json_object_object_add(o, "bound_s", opt_dbl(e->bound_s));
                json_object_object_add(o, "worst_latency_ms", opt_dbl(e->worst_latency_ms));
                json_object_object_add(o, "slow_transactions", opt_dbl(e->slow_transactions));
                json_object_object_add(o, "recovery_over_bound",
                                       e->bound_s > 0 && e->recovery_s >= 0
                                               ? json_object_new_double(e->recovery_s / e->bound_s)
                                               : NULL);
                json_object_array_add(evs, o);
        }
        json_object_object_add(j, "events", evs);
        json_object_object_add(j, "receiver_bins", json_object_get(w->bins));
        json_object_object_add(j, "pm_events", json_object_get(w->pm_events));
}

struct json_object *run_json(const struct topo *t, const struct run_result *r)
{
        struct json_object *o = json_object_new_object(), *wls = json_object_new_array();
        json_object_object_add(o, "schema", STR("mptcplab.run/1"));
        json_object_object_add(o, "run_id", STR(r->run_id));
        json_object_object_add(o, "shared_host", json_object_new_boolean(r->shared_host));
        json_object_object_add(o, "backend", STR(r->backend));
        json_object_object_add(o, "links", STR(r->links));
        json_object_object_add(o, "started_at", STR(r->started_at));
        json_object_object_add(o, "setup_s", DBL(r->setup_s));
        json_object_object_add(o, "wall_s", DBL(r->wall_s));
        {
                /* where the run's time went: the measured windows, and the rest */
                struct run_overhead ov;
                run_overhead(r, &ov);
                struct json_object *o2 = json_object_new_object();
                json_object_object_add(o2, "wall_s", DBL(r->wall_s));
                json_object_object_add(o2, "measured_s", DBL(ov.measured_s));
                json_object_object_add(o2, "boot_s", DBL(ov.boot_s));
                json_object_object_add(o2, "configure_s", DBL(ov.configure_s));
                json_object_object_add(o2, "warmup_s", DBL(ov.warmup_s));
                json_object_object_add(o2, "tools_s", DBL(ov.tools_s));
                /* a teardown overlapped with the next boot costs what that
                 * run waited for it (teardown_wait_s), not its length */
                json_object_object_add(o2, "teardown_s", DBL(ov.teardown_s));
                json_object_object_add(o2, "teardown_overlapped",
                                       json_object_new_boolean(r->teardown_deferred));
                if (r->boot_run[0])
                        json_object_object_add(o2, "reset_s", DBL(r->reset_s));
                json_object_object_add(o2, "other_s",
                                       DBL(r->wall_s - r->setup_s - ov.measured_s - ov.warmup_s -
                                           ov.tools_s - r->teardown_s - r->reset_s));
                json_object_object_add(o, "overhead", o2);
        }
        if (r->boot_run[0]) {
                /* a lab kept between runs: which run booted it, and how many
                 * runs it served before this one (0: this run booted it) */
                struct json_object *b = json_object_new_object();
                json_object_object_add(b, "run", STR(r->boot_run));
                json_object_object_add(b, "index", INT(r->boot_index));
                json_object_object_add(o, "boot", b);
        }
        struct json_object *topo = json_object_new_object();
        json_object_object_add(topo, "name", STR(t->name));
        json_object_object_add(topo, "file", STR(t->file));
        if (t->label && !streq(t->label, t->name)) {
                /* a matrix cell (docs/topology.md): its axes and its name in history */
                struct json_object *cell = json_object_new_object();
                for (unsigned a = 0; a < TOPO_AXES; a++)
                        if (t->cell[a])
                                json_object_object_add(cell, topo_axis_name(a), STR(t->cell[a]));
                json_object_object_add(topo, "cell", cell);
                json_object_object_add(topo, "label", STR(t->label));
        }
        {
                /* the model as parsed, --set applied: every link's shaping */
                _cleanup_free_ char *yaml = topo_to_yaml(t);
                json_object_object_add(topo, "yaml", STR(yaml));
        }
        json_object_object_add(o, "topology", topo);
        struct json_object *nodes = json_object_new_array();
        json_object_object_foreach (r->nodes, name, info) {
                struct json_object *n = json_object_new_object(), *hello = jobj(info, "hello");
                json_object_object_add(n, "name", STR(name));
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
                struct json_object *conf = jobj(info, "configured");
                if (conf) /* runs before 2026-12-07 and the golden files have none */
                        json_object_object_add(n, "configured", json_object_get(conf));
                json_object_array_add(nodes, n);
        }
        json_object_object_add(o, "nodes", nodes);
        json_object_object_add(o, "run_dir", STR(r->run_dir));
        json_object_object_add(o, "status",
                               STR(r->crash_node ? "crashed"
                                   : r->error    ? "failed"
                                                 : "ok"));
        json_object_object_add(o, "error", r->error ? STR(r->error) : NULL);
        /* machines (ssh backend) that differ after the run from before it */
        json_object_object_add(o, "dirty", json_object_get(r->dirty));
        if (r->crash_node) {
                struct json_object *c = json_object_new_object();
                json_object_object_add(c, "node", STR(r->crash_node));
                json_object_object_add(c, "what", STR(r->crash_what));
                json_object_object_add(c, "trace", STR(r->crash_trace));
                json_object_object_add(o, "crash", c);
        }
        for (unsigned i = 0; i < r->n_wl; i++) {
                const struct wl_result *w = &r->wl[i];
                if (!w->w)
                        continue;
                struct json_object *j = json_object_new_object();
                json_object_object_add(j, "name", STR(w->w->name));
                json_object_object_add(j, "tool", STR(topo_tool_name(w->w->tool)));
                json_object_object_add(j, "protocol",
                                       STR(w->w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp"));
                json_object_object_add(j, "mptcp_method", w->method ? STR(w->method) : NULL);
                json_object_object_add(j, "from", STR(t->nodes[w->w->from].name));
                json_object_object_add(j, "to", STR(t->nodes[w->w->to].name));
                json_object_object_add(j, "target", w->target ? STR(w->target) : NULL);
                json_object_object_add(j, "duration_s", DBL((double)w->w->duration_us / 1e6));
                json_object_object_add(j, "warmup_s", DBL(w->warmup_s));
                json_object_object_add(j, "warmup_auto",
                                       json_object_new_boolean(w->w->warmup_auto));
                if (w->w->size_bytes)
                        json_object_object_add(j, "completed",
                                               json_object_new_boolean(!w->incomplete));
                json_object_object_add(j, "settled_s",
                                       w->settled_s >= 0 ? DBL(w->settled_s) : NULL);
                json_object_object_add(j, "late_joins", json_object_new_int64(w->late_joins));
                json_object_object_add(j, "flows", INT(w->w->flows));
                json_object_object_add(j, "status", STR(wl_status_name(w->status)));
                json_object_object_add(j, "reason", w->reason ? STR(w->reason) : NULL);
                struct json_object *g = json_object_new_object();
                json_object_object_add(g, "sender_bps", DBL(w->sent_bps));
                json_object_object_add(g, "receiver_bps", DBL(w->recv_bps));
                json_object_object_add(j, "goodput", g);
                json_object_object_add(j, "retransmits", INT(w->retransmits));
                struct json_object *cpu = json_object_new_object();
                json_object_object_add(cpu, "client_pct", DBL(w->cpu_client_pct));
                json_object_object_add(cpu, "server_pct", DBL(w->cpu_server_pct));
                json_object_object_add(cpu, "client_s", DBL(w->cpu_client_s));
                json_object_object_add(cpu, "server_s", DBL(w->cpu_server_s));
                json_object_object_add(cpu, "node_client_pct", DBL(w->node_cpu_client_pct));
                json_object_object_add(cpu, "node_server_pct", DBL(w->node_cpu_server_pct));
                json_object_object_add(cpu, "node_client_s",
                                       w->node_cpu_client_s >= 0 ? DBL(w->node_cpu_client_s)
                                                                 : NULL);
                json_object_object_add(cpu, "node_server_s",
                                       w->node_cpu_server_s >= 0 ? DBL(w->node_cpu_server_s)
                                                                 : NULL);
                json_object_object_add(cpu, "window_s", DBL(w->window_s));
                json_object_object_add(cpu, "vm_client_s",
                                       w->vm_cpu_client_s >= 0 ? DBL(w->vm_cpu_client_s) : NULL);
                json_object_object_add(cpu, "cycles_client",
                                       w->cycles_client >= 0 ? DBL(w->cycles_client) : NULL);
                json_object_object_add(cpu, "cycles_server",
                                       w->cycles_server >= 0 ? DBL(w->cycles_server) : NULL);
                json_object_object_add(cpu, "vm_server_s",
                                       w->vm_cpu_server_s >= 0 ? DBL(w->vm_cpu_server_s) : NULL);
                json_object_object_add(cpu, "insns_client",
                                       w->insns_client >= 0 ? DBL(w->insns_client) : NULL);
                json_object_object_add(cpu, "insns_server",
                                       w->insns_server >= 0 ? DBL(w->insns_server) : NULL);
                json_object_object_add(j, "cpu", cpu);
                if (w->have_clock) {
                        /* each node's clock against the host's over the window */
                        struct json_object *ck = json_object_new_object();
                        json_object_object_add(ck, "client_ppm", DBL(w->clock_ppm[0]));
                        json_object_object_add(ck, "server_ppm", DBL(w->clock_ppm[1]));
                        json_object_object_add(ck, "uncertainty_ppm", DBL(w->clock_unc_ppm));
                        json_object_object_add(j, "clock", ck);
                }
                struct json_object *mp = json_object_new_object();
                json_object_object_add(mp, "mp_capable", INT(w->mp_capable));
                json_object_object_add(mp, "mp_join", INT(w->mp_join));
                json_object_object_add(mp, "add_addr", INT(w->add_addr));
                json_object_object_add(mp, "fallbacks", INT(w->fallbacks));
                json_object_object_add(mp, "subflows_per_connection", DBL(w->subflows_per_conn));
                json_object_object_add(mp, "expected_subflows", INT(w->expected_subflows));
                json_object_object_add(j, "mptcp", mp);
                json_object_object_add(j, "path_rate_bps", INT(w->path_rate_bps));
                /* every metric of the registry this workload has, as judged */
                struct json_object *mj = json_object_new_object();
                unsigned nm;
                const struct metric *m = metric_all(&nm);
                double v;
                for (unsigned k = 0; k < nm; k++)
                        if (m[k].get(w, &v) && isfinite(v))
                                json_object_object_add(mj, m[k].name, DBL(v));
                struct json_object *agg = NULL;
                json_object_object_get_ex(mj, "aggregation_efficiency", &agg);
                json_object_object_add(j, "aggregation_efficiency", json_object_get(agg));
                json_object_object_add(j, "metrics", mj);
                struct json_object *keys = json_object_new_array();
                for (unsigned k = 0; k < nm; k++)
                        if (metric_is_key(&m[k], w->w) && (!m[k].where_counted || m[k].get(w, &v)))
                                json_object_array_add(keys, STR(m[k].name));
                json_object_object_add(j, "key_metrics", keys);
                json_object_object_add(j, "mib", json_object_get(w->mib));
                json_object_object_add(j, "cpu_cores", json_object_get(w->cpu_cores));
                json_object_object_add(j, "intervals", json_object_get(w->intervals));
                if (w->n_events)
                        events_json(j, w);
                struct json_object *ifs = json_object_new_array();
                for (unsigned k = 0; k < w->n_ifaces; k++) {
                        struct json_object *x = json_object_new_object();
                        json_object_object_add(x, "node", STR(w->ifaces[k].node));
                        json_object_object_add(x, "dev", STR(w->ifaces[k].dev));
                        json_object_object_add(x, "tx_bytes", INT(w->ifaces[k].tx_bytes));
                        json_object_object_add(x, "rx_bytes", INT(w->ifaces[k].rx_bytes));
                        json_object_array_add(ifs, x);
                }
                json_object_object_add(j, "interfaces", ifs);
                json_object_object_add(j, "wall_s", DBL(w->wall_s));
                if (w->w->tool == TOPO_TOOL_MPTCPLOAD) {
                        struct json_object *ml = json_object_new_object();
                        json_object_object_add(ml, "transactions_per_s", DBL(w->tps));
                        json_object_object_add(ml, "connections_per_s", DBL(w->cps));
                        json_object_object_add(ml, "latency_p50_us", DBL(w->lat_p50_us));
                        json_object_object_add(ml, "latency_p99_us", DBL(w->lat_p99_us));
                        json_object_object_add(ml, "latency_p999_us", DBL(w->lat_p999_us));
                        struct json_object *cdf = json_object_new_array();
                        for (unsigned k = 0; k < w->n_lat_cdf; k++) {
                                struct json_object *pt = json_object_new_array();
                                json_object_array_add(pt, DBL(w->lat_cdf_p[k]));
                                json_object_array_add(pt, DBL(w->lat_cdf_us[k]));
                                json_object_array_add(cdf, pt);
                        }
                        json_object_object_add(ml, "latency_cdf", cdf);
                        json_object_object_add(ml, "fallbacks_seen", INT(w->tool_fallbacks));
                        json_object_object_add(ml, "time_wait_client", INT(w->time_wait_client));
                        json_object_object_add(ml, "time_wait_server", INT(w->time_wait_server));
                        json_object_object_add(j, "mptcpload", ml);
                }
                json_object_array_add(wls, j);
        }
        json_object_object_add(o, "workloads", wls);
        return o;
}
