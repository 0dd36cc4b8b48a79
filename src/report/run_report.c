/* run_report.c - a run's results as a readable table and as JSON (schema in
 * docs/run-json.md). */
#include "run_report.h"
#include "../results/metrics.h"

#include <math.h>
#include "../shared/json.h"
#include "../shared/util.h"
#include "../topo/units.h"

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
        fprintf(f, "# %s on %s (%s links), run %s, %s\n", topo_label(t), r->backend, r->links,
                r->run_id, r->started_at);
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
                        wl_status_name(w->status), w->reason ? ": " : "",
                        w->reason ? w->reason : "");
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
