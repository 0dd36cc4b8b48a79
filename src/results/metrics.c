#include "metrics.h"
#include "../shared/util.h"

#include <math.h>

#define GETTER(fn, expr, have)                                                                     \
        static bool fn(const struct wl_result *w, double *ret)                                     \
        {                                                                                          \
                *ret = (expr);                                                                     \
                return (have);                                                                     \
        }

/* goodput is the receiver's own count, warm-up excluded (run.c, the tools' drivers) */
GETTER(goodput, w->recv_bps / 1e6, w->recv_bps >= 0)
GETTER(aggregation, w->recv_bps / (double)w->path_rate_bps,
       w->path_rate_bps > 0 && w->recv_bps >= 0)
/* Gbit the receiver got in the measured window (a fixed-size transfer: all of it) */
static double window_gbit(const struct wl_result *w)
{
        double secs = w->w->size_bytes ? w->completion_s : (double)w->w->duration_us / 1e6;
        return w->recv_bps >= 0 && secs > 0 ? w->recv_bps * secs / 1e9 : 0;
}
GETTER(completion, w->completion_s, w->completion_s > 0)
GETTER(cpu_s, w->cpu_client_s + w->cpu_server_s, true)
static bool cpu_per_gbit(const struct wl_result *w, double *ret)
{
        double gbit = window_gbit(w);
        *ret = gbit > 0 ? (w->cpu_client_s + w->cpu_server_s) / gbit : 0;
        return gbit > 0;
}
/* the guest kernel's own accounting of both nodes over the window's edges */
static bool node_cpu_per_gbit(const struct wl_result *w, double *ret)
{
        double gbit = window_gbit(w);
        *ret = gbit > 0 ? (w->node_cpu_client_s + w->node_cpu_server_s) / gbit : 0;
        return gbit > 0 && w->node_cpu_client_s >= 0 && w->node_cpu_server_s >= 0;
}
/* the hypervisor's: both VMs' CPU time (libvirt) over the window */
static bool vm_cpu_per_gbit(const struct wl_result *w, double *ret)
{
        double gbit = window_gbit(w);
        *ret = gbit > 0 ? (w->vm_cpu_client_s + w->vm_cpu_server_s) / gbit : 0;
        return gbit > 0 && w->vm_cpu_client_s >= 0 && w->vm_cpu_server_s >= 0;
}
/* hardware cycles of both nodes per byte received, where both have a PMU
 * (bare metal, KVM guests with one): no scheduler or tick in the figure */
static bool cycles_per_byte(const struct wl_result *w, double *ret)
{
        double bytes = window_gbit(w) * 1e9 / 8;
        *ret = bytes > 0 ? (w->cycles_client + w->cycles_server) / bytes : 0;
        return bytes > 0 && w->cycles_client >= 0 && w->cycles_server >= 0;
}
GETTER(node_cpu_client, w->node_cpu_client_pct, w->node_cpu_client_pct >= 0)
GETTER(node_cpu_server, w->node_cpu_server_pct, w->node_cpu_server_pct >= 0)
GETTER(vm_cpu_client, w->vm_cpu_client_s, w->vm_cpu_client_s >= 0)
GETTER(vm_cpu_server, w->vm_cpu_server_s, w->vm_cpu_server_s >= 0)
GETTER(retransmits, (double)w->retransmits, w->retransmits >= 0)
GETTER(subflows, w->subflows_per_conn, true)
GETTER(tps, w->tps, w->tps > 0)
GETTER(cps, w->cps, w->cps > 0)
GETTER(p50, w->lat_p50_us, w->lat_p50_us > 0)
GETTER(p99, w->lat_p99_us, w->lat_p99_us > 0)

static struct metric metrics[] = {
        {"goodput_mbps", "Mbit/s", "goodput", true, 0.005, goodput, true},
        {"completion_s", "s", "completion time", false, 0.02, completion, true},
        {"aggregation_efficiency", "", "goodput / shaped capacity", true, 0.005, aggregation,
         false},
        {"cpu_s", "s", "CPU of both tools", false, 0.05, cpu_s, false},
        {"cpu_s_per_gbit", "s/Gbit", "CPU per Gbit", false, 0.05, cpu_per_gbit, false},
        {"node_cpu_s_per_gbit", "s/Gbit", "node CPU per Gbit (guest accounting)", false, 0.05,
         node_cpu_per_gbit, false},
        {"vm_cpu_s_per_gbit", "s/Gbit", "VM CPU per Gbit (hypervisor)", false, 0.05,
         vm_cpu_per_gbit, false},
        {"cycles_per_byte", "cycles/B", "CPU cycles per byte (hardware counters)", false, 0.05,
         cycles_per_byte, false},
        {"node_cpu_client_pct", "%", "client node busy", false, 0.05, node_cpu_client, false},
        {"node_cpu_server_pct", "%", "server node busy", false, 0.05, node_cpu_server, false},
        {"vm_cpu_client_s", "s", "client VM CPU", false, 0.05, vm_cpu_client, false},
        {"vm_cpu_server_s", "s", "server VM CPU", false, 0.05, vm_cpu_server, false},
        {"retransmits", "", "retransmitted segments", false, 0.25, retransmits, false},
        {"subflows_per_connection", "", "subflows per connection", true, 0.01, subflows, false},
        {"transactions_per_s", "/s", "transactions", true, 0.02, tps, false},
        {"connections_per_s", "/s", "connections", true, 0.02, cps, false},
        {"latency_p50_us", "us", "latency p50", false, 0.05, p50, false},
        {"latency_p99_us", "us", "latency p99", false, 0.10, p99, false},
};

const struct metric *metric_all(unsigned *n)
{
        *n = ELEMENTSOF(metrics);
        return metrics;
}

const struct metric *metric_find(const char *name)
{
        for (unsigned i = 0; i < ELEMENTSOF(metrics); i++)
                if (streq(metrics[i].name, name))
                        return &metrics[i];
        return NULL;
}

bool metric_is_key(const struct metric *m, const struct topo_workload *w)
{
        if (w && w->n_key_metrics) {
                for (unsigned i = 0; i < w->n_key_metrics; i++)
                        if (streq(w->key_metrics[i], m->name))
                                return true;
                return false;
        }
        /* a fixed-size transfer is judged by its completion time, a stream by
         * its goodput (each has the other's figure too: it informs) */
        if (w && streq(m->name, "goodput_mbps"))
                return !w->size_bytes;
        if (streq(m->name, "completion_s"))
                return w && w->size_bytes;
        return m->key;
}

double metric_threshold(const struct metric *m)
{
        return m->threshold;
}

int metric_set_threshold(const char *spec)
{
        const char *eq = strchr(spec, '=');
        char *end;
        double pct = eq ? strtod(eq + 1, &end) : -1;
        if (!eq || *end || !isfinite(pct) || pct <= 0 || pct >= 100)
                return -EINVAL;
        for (unsigned i = 0; i < ELEMENTSOF(metrics); i++)
                if (strlen(metrics[i].name) == (size_t)(eq - spec) &&
                    !strncmp(metrics[i].name, spec, (size_t)(eq - spec))) {
                        metrics[i].threshold = pct / 100;
                        return 0;
                }
        return -ENOENT;
}

int metric_check_topo(const struct topo *t, struct topo_errors *errs)
{
        int r = 0;
        for (unsigned w = 0; w < t->n_workloads; w++) {
                const struct topo_workload *wl = &t->workloads[w];
                for (unsigned k = 0; k < wl->n_key_metrics; k++)
                        if (!metric_find(wl->key_metrics[k])) {
                                topo_errors_addf(errs, t->file, wl->key_metric_pos[k],
                                                 "workload %s: key_metrics: no metric \"%s\" "
                                                 "(docs/verdicts.md lists them)",
                                                 wl->name, wl->key_metrics[k]);
                                r = -EINVAL;
                        }
        }
        return r;
}
