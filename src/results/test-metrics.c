/* The metric registry and the samples: names, getters on a made-up result,
 * which metrics are key (a bulk transfer's instructions per byte too), the FILE:LINE:COL of an
 * unknown key metric, and the pooled run-to-run noise. */
#include "../shared/check.h"
#include "../shared/util.h"
#include "samples.h"

static const char yaml[] = "name: m\n"
                           "nodes: {client: {}, server: {}}\n"
                           "links:\n"
                           "  - endpoints: [\"client:eth0 10.0.1.1/24\", \"server:eth0 "
                           "10.0.1.2/24\"]\n"
                           "    shape: {rate: 20mbit}\n"
                           "workloads:\n"
                           "  - {name: s, tool: iperf3, from: client, to: server, duration: 10s}\n"
                           "  - {name: f, tool: iperf3, from: client, to: server, size: 16MiB}\n"
                           "  - {name: r, tool: mptcpload, mode: rr, from: client, to: server}\n"
                           "  - name: k\n"
                           "    tool: iperf3\n"
                           "    from: client\n"
                           "    to: server\n"
                           "    key_metrics: [cpu_s_per_gbit, goodput_mbit]\n";

static double get(const char *name, const struct wl_result *w, bool *have)
{
        double v = NAN;
        const struct metric *m = metric_find(name);
        CHECK(m != NULL);
        *have = m && m->get(w, &v);
        return v;
}

int main(void)
{
        unsigned n;
        const struct metric *all = metric_all(&n);
        CHECK(n >= 18);
        for (unsigned i = 0; i < n; i++) {
                CHECK(metric_find(all[i].name) == &all[i]); /* names are unique */
                CHECK(all[i].unit && all[i].label && all[i].get);
                CHECK(all[i].threshold > 0 && all[i].threshold < 1);
        }
        CHECK(metric_find("goodput_mbit") == NULL);

        struct topo *t = NULL;
        struct topo_errors errs = {0};
        CHECK(topo_parse_string("m.yaml", yaml, &t, &errs) == 0);
        if (!t)
                return 1;
        const struct topo_workload *s = topo_find_workload(t, "s"), *f = topo_find_workload(t, "f"),
                                   *k = topo_find_workload(t, "k");

        /* getters: 20 Mbit/s for 10 s is 0.2 Gbit; 1.5 + 0.5 s of CPU is 10 s/Gbit */
        struct wl_result w = {.w = s,
                              .recv_bps = 20e6,
                              .path_rate_bps = 20000000,
                              .cpu_client_s = 1.5,
                              .cpu_server_s = 0.5,
                              .node_cpu_client_s = -1,
                              .vm_cpu_client_s = -1,
                              .vm_cpu_server_s = -1,
                              .cycles_client = -1,
                              .cycles_server = -1,
                              .insns_client = -1,
                              .insns_server = 0.25e9,
                              .completion_s = -1,
                              .retransmits = 7};
        bool have;
        CHECK_NEAR(get("goodput_mbps", &w, &have), 20, 1e-9);
        CHECK(have);
        CHECK_NEAR(get("aggregation_efficiency", &w, &have), 1, 1e-9);
        CHECK_NEAR(get("cpu_s_per_gbit", &w, &have), 10, 1e-9);
        CHECK(have);
        get("node_cpu_s_per_gbit", &w, &have);
        CHECK(!have); /* a backend without the guest's accounting: no figure, not 0 */
        get("cycles_per_byte", &w, &have);
        CHECK(!have);
        get("insns_per_byte", &w, &have);
        CHECK(!have);            /* one VM not counted: no figure, not half of one */
        w.insns_client = 1.25e9; /* 1.5e9 instructions over 0.2 Gbit (25 MB) */
        CHECK_NEAR(get("insns_per_byte", &w, &have), 60, 1e-9);
        CHECK(have);
        get("completion_s", &w, &have);
        CHECK(!have);
        CHECK_NEAR(get("retransmits", &w, &have), 7, 0);
        /* per GB sent: nothing sent counted, no figure */
        get("retrans_per_gb", &w, &have);
        CHECK(!have);
        w.sent_gb = 0.5;
        CHECK_NEAR(get("retrans_per_gb", &w, &have), 14, 1e-9);
        CHECK(have);
        /* re-injections: an MPTCP workload's, from both nodes' MIB deltas */
        w.mib = json_tokener_parse("{\"client\": {\"MPTcpExtMPTCPRetrans\": 3}, "
                                   "\"server\": {\"MPTcpExtMPTCPRetrans\": 1}}");
        CHECK_NEAR(get("reinjections_per_gb", &w, &have), 8, 1e-9);
        CHECK(have);
        json_object_put(w.mib);
        w.mib = NULL;
        get("path_share_error", &w, &have);
        CHECK(!have);
        w.path_share_error = 0.25;
        w.have_path_share = true;
        CHECK_NEAR(get("path_share_error", &w, &have), 0.25, 1e-12);
        CHECK(have);
        /* fallbacks: the kernel's or the tool's count, whichever saw more */
        get("fallbacks", &w, &have);
        CHECK(!have); /* no MPTCP connection counted at all */
        w.mp_capable = 3;
        w.tool_fallbacks = 2;
        CHECK_NEAR(get("fallbacks", &w, &have), 2, 0);
        CHECK(have);
        w.recv_bps = -1;
        get("goodput_mbps", &w, &have);
        CHECK(!have);

        /* key metrics: goodput for a stream, completion time for a fixed size,
         * a topology's key_metrics over both */
        CHECK(metric_is_key(metric_find("goodput_mbps"), s));
        CHECK(!metric_is_key(metric_find("completion_s"), s));
        CHECK(!metric_is_key(metric_find("goodput_mbps"), f));
        CHECK(metric_is_key(metric_find("completion_s"), f));
        CHECK(metric_is_key(metric_find("cpu_s_per_gbit"), k));
        CHECK(!metric_is_key(metric_find("goodput_mbps"), k));
        /* a bulk transfer's guest instructions per byte gate too (where counted);
         * not a request/response's, not where a topology names its own */
        const struct topo_workload *r = topo_find_workload(t, "r");
        CHECK(metric_is_key(metric_find("insns_per_byte"), s));
        CHECK(metric_is_key(metric_find("insns_per_byte"), f));
        CHECK(r && !metric_is_key(metric_find("insns_per_byte"), r));
        CHECK(!metric_is_key(metric_find("insns_per_byte"), k));
        CHECK(!metric_is_key(metric_find("vm_cpu_s_per_gbit"), s));

        /* an unknown key metric is named where it stands */
        CHECK_EQ_INT(metric_check_topo(t, &errs), -EINVAL);
        CHECK_EQ_INT(errs.n, 1);
        CHECK(errs.n && strstr(errs.msgs[0], "m.yaml:14:35: workload k: key_metrics: no metric "
                                             "\"goodput_mbit\""));
        if (errs.n)
                fprintf(stderr, "%s\n", errs.msgs[0]);
        topo_errors_clear(&errs);

        /* pooled noise: series A 1, 2, 3 (CV 0.5), series B 10, 10, 10 (CV 0),
         * weighted by n - 1: sqrt((2 * 0.25 + 2 * 0) / 4); a series of two adds nothing */
        struct samples sm = {0};
        const struct {
                const char *series;
                double v;
        } vals[] = {{"sA", 1}, {"sB", 10}, {"sA", 2}, {"sB", 10},
                    {"sA", 3}, {"sB", 10}, {"sC", 5}, {"sC", 50}};
        for (unsigned i = 0; i < ELEMENTSOF(vals); i++) {
                CHECK(samples_add(&sm, "r", NULL, NULL, "s", "goodput_mbps", vals[i].v, true,
                                  NULL));
                sm.v[sm.n - 1].series = xstrdup(vals[i].series);
        }
        CHECK(!samples_add(&sm, "r", NULL, NULL, "s", "no_such_metric", 1, true, NULL));
        unsigned runs, series;
        CHECK_NEAR(samples_pooled_cv(&sm, "s", metric_find("goodput_mbps"), &runs, &series),
                   sqrt(0.125), 1e-12);
        CHECK_EQ_INT(runs, 6);
        CHECK_EQ_INT(series, 2);
        samples_clear(&sm);
        topo_free(t);
        return CHECK_DONE();
}
