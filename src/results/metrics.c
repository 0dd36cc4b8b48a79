#include "metrics.h"
#include "events.h"
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
/* both nodes' counts over the window per byte received, where both were
 * counted (-1: not) */
static bool per_byte(const struct wl_result *w, double client, double server, double *ret)
{
        double bytes = window_gbit(w) * 1e9 / 8;
        *ret = bytes > 0 ? (client + server) / bytes : 0;
        return bytes > 0 && client >= 0 && server >= 0;
}
/* hardware cycles of both nodes per byte received, where both have a PMU
 * (bare metal, KVM guests with one): no scheduler or tick in the figure */
static bool cycles_per_byte(const struct wl_result *w, double *ret)
{
        return per_byte(w, w->cycles_client, w->cycles_server, ret);
}
/* guest instructions of both VMs per byte received, counted by the TCG plugin
 * (src/tcgplugin): no host load, no stolen time, no tick in the figure */
static bool insns_per_byte(const struct wl_result *w, double *ret)
{
        return per_byte(w, w->insns_client, w->insns_server, ret);
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

/* a path event's figures: the workload's primary event (results/events.h) */
#define EVENT_GETTER(fn, field)                                                                    \
        static bool fn(const struct wl_result *w, double *ret)                                     \
        {                                                                                          \
                const struct ev_result *e = events_primary(w);                                     \
                *ret = e ? e->field : -1;                                                          \
                return e && e->field >= 0;                                                         \
        }
EVENT_GETTER(outage, outage_s)
EVENT_GETTER(recovery, recovery_s)
EVENT_GETTER(pm_reaction, pm_first_s)
EVENT_GETTER(event_latency, worst_latency_ms)
EVENT_GETTER(slow_tx, slow_transactions)
/* 1: the primary event's recovery did not come within its span */
static bool not_recovered(const struct wl_result *w, double *ret)
{
        const struct ev_result *e = events_primary(w);
        *ret = e && !e->recovered ? 1 : 0;
        return e && e->recovery_s >= 0;
}
/* an MPTCP counter's delta over both nodes (the MIB the run keeps) */
static double mib_total(const struct wl_result *w, const char *name)
{
        double sum = 0;
        json_object_object_foreach (w->mib, node, counters) {
                (void)node;
                struct json_object *v;
                if (json_object_object_get_ex(counters, name, &v))
                        sum += json_object_get_double(v);
        }
        return sum;
}
/* ... for a workload with events: what the events cost in re-sent data and
 * stale subflows */
static bool mib_sum(const struct wl_result *w, const char *name, double *ret)
{
        *ret = 0;
        if (!w->n_events || !w->mib)
                return false;
        *ret = mib_total(w, name);
        return true;
}
#define MIB_GETTER(fn, name)                                                                       \
        static bool fn(const struct wl_result *w, double *ret)                                     \
        {                                                                                          \
                return mib_sum(w, name, ret);                                                      \
        }
MIB_GETTER(mptcp_retrans, "MPTcpExtMPTCPRetrans")
GETTER(path_share, w->path_share_error, w->have_path_share)
GETTER(fallbacks, (double)(w->fallbacks > w->tool_fallbacks ? w->fallbacks : w->tool_fallbacks),
       w->w->protocol == TOPO_PROTO_MPTCP && w->mp_capable + w->fallbacks > 0)
/* counts per GB the sender put on its interfaces over the same span as the
 * kernel's counters (the whole run, warm-up included); the kernel counts
 * segments, not bytes */
static bool retrans_per_gb(const struct wl_result *w, double *ret)
{
        *ret = w->sent_gb > 0 && w->retransmits >= 0 ? (double)w->retransmits / w->sent_gb : 0;
        return w->sent_gb > 0 && w->retransmits >= 0;
}
static bool reinject_per_gb(const struct wl_result *w, double *ret)
{
        bool have = w->w->protocol == TOPO_PROTO_MPTCP && w->sent_gb > 0 && w->mib;
        *ret = have ? mib_total(w, "MPTcpExtMPTCPRetrans") / w->sent_gb : 0;
        return have;
}
MIB_GETTER(duplicate_data, "MPTcpExtDuplicateData")
MIB_GETTER(stale, "MPTcpExtSubflowStale")
MIB_GETTER(recovered, "MPTcpExtSubflowRecover")

static struct metric metrics[] = {
        {"goodput_mbps", "Mbit/s", "goodput", true, 0.005, goodput, true, false, false},
        {"completion_s", "s", "completion time", false, 0.02, completion, true, false, false},
        {"aggregation_efficiency", "", "goodput / shaped capacity", true, 0.005, aggregation, false,
         false, false},
        {"path_share_error", "", "bytes per link off the links' capacity shares", false, 0.10,
         path_share, false, false, false},
        {"retrans_per_gb", "/GB", "retransmitted segments per GB sent", false, 0.25, retrans_per_gb,
         false, false, false},
        {"reinjections_per_gb", "/GB", "MPTCP re-injected segments per GB sent", false, 0.25,
         reinject_per_gb, false, false, false},
        {"fallbacks", "", "MPTCP connections that fell back to TCP", false, 0.25, fallbacks, false,
         false, false},
        {"cpu_s", "s", "CPU of both tools", false, 0.05, cpu_s, false, false, false},
        {"cpu_s_per_gbit", "s/Gbit", "CPU per Gbit", false, 0.05, cpu_per_gbit, false, false,
         false},
        {"node_cpu_s_per_gbit", "s/Gbit", "node CPU per Gbit (guest accounting)", false, 0.05,
         node_cpu_per_gbit, false, false, false},
        {"vm_cpu_s_per_gbit", "s/Gbit", "VM CPU per Gbit (hypervisor)", false, 0.05,
         vm_cpu_per_gbit, false, false, false},
        {"cycles_per_byte", "cycles/B", "CPU cycles per byte (hardware counters)", false, 0.05,
         cycles_per_byte, false, false, false},
        {"insns_per_byte", "insns/B", "guest instructions per byte (TCG plugin)", false, 0.05,
         insns_per_byte, false, true, false},
        {"node_cpu_client_pct", "%", "client node busy", false, 0.05, node_cpu_client, false, false,
         false},
        {"node_cpu_server_pct", "%", "server node busy", false, 0.05, node_cpu_server, false, false,
         false},
        {"vm_cpu_client_s", "s", "client VM CPU", false, 0.05, vm_cpu_client, false, false, false},
        {"vm_cpu_server_s", "s", "server VM CPU", false, 0.05, vm_cpu_server, false, false, false},
        {"retransmits", "", "retransmitted segments", false, 0.25, retransmits, false, false,
         false},
        {"subflows_per_connection", "", "subflows per connection", true, 0.01, subflows, false,
         false, false},
        {"transactions_per_s", "/s", "transactions", true, 0.02, tps, false, false, false},
        {"connections_per_s", "/s", "connections", true, 0.02, cps, false, false, false},
        {"latency_p50_us", "us", "latency p50", false, 0.05, p50, false, false, false},
        {"latency_p99_us", "us", "latency p99", false, 0.10, p99, false, false, false},
        {"recovery_s", "s", "recovery after the path event", false, 0.10, recovery, false, false,
         false},
        {"not_recovered", "", "runs not recovered within the event's span (a share)", false, 0.10,
         not_recovered, false, false, true},
        {"outage_s", "s", "longest outage after the path event", false, 0.10, outage, false, false,
         false},
        {"pm_reaction_s", "s", "path event to the first path-manager event", false, 0.10,
         pm_reaction, false, false, false},
        {"event_latency_max_ms", "ms", "slowest transaction around the path event", false, 0.10,
         event_latency, false, false, false},
        {"event_slow_transactions", "", "transactions over 1 s around the path event", false, 0.25,
         slow_tx, false, false, false},
        {"mptcp_retrans", "", "MPTCP re-injections (MPTCPRetrans)", false, 0.25, mptcp_retrans,
         false, false, false},
        {"duplicate_data", "", "duplicate data received (DuplicateData)", false, 0.25,
         duplicate_data, false, false, false},
        {"subflows_stale", "", "subflows marked stale", false, 0.25, stale, false, false, false},
        {"subflows_recovered", "", "stale subflows recovered", false, 0.25, recovered, false, false,
         false},
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
        /* a workload with path events is judged by its recovery (its goodput
         * informs); a fixed-size transfer by its completion time, a stream by
         * its goodput (each has the other's figure too: it informs) */
        if (w && w->n_events)
                return streq(m->name, "recovery_s");
        if (streq(m->name, "recovery_s"))
                return false;
        if (w && streq(m->name, "goodput_mbps"))
                return !w->size_bytes;
        /* a bulk transfer's CPU cost: guest instructions per byte, where they
         * are counted (TCG guests); the steadiest CPU figure (docs/verdicts.md) */
        if (streq(m->name, "insns_per_byte"))
                return w && (!w->mode || streq(w->mode, "stream"));
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
