/* iperf3 -J parsing against reports iperf3 3.12 really wrote (tests/data, made
 * with `iperf3 -c 127.0.0.1 -t 1 -O 1 -J` and against a closed port); the
 * expected numbers are the fields of those files as python's json reads them. */
#include <math.h>
#include "../../src/shared/check.h"
#include "load/iperf3.h"
#include "load/mptcpload-driver.h"
#include "shared/json.h"
#include "shared/util.h"

static char *slurp(const char *name)
{
        char *path = xasprintf("%s/%s", getenv("TEST_DATA") ?: "tests/data", name), *t = NULL;
        if (read_file(path, &t, NULL) < 0) {
                fprintf(stderr, "cannot read %s\n", path);
                exit(1);
        }
        free(path);
        return t;
}

static int argv_has(struct json_object *a, const char *s)
{
        for (size_t i = 0; i < json_object_array_length(a); i++)
                if (streq(json_object_get_string(json_object_array_get_idx(a, i)), s))
                        return (int)i;
        return -1;
}

int main(void)
{
        struct iperf3_result r;
        char *err = NULL, *t = slurp("iperf3-tcp.json");
        CHECK_EQ_INT(iperf3_parse(t, &r, &err), 0);
        CHECK_NEAR(r.sent_bps, 11959734307.419403, 1e-3);
        CHECK_NEAR(r.recv_bps, 11958004065.341269, 1e-3);
        CHECK_EQ_INT(r.retransmits, 17);
        CHECK_NEAR(r.cpu_host_pct, 84.9217956287068, 1e-9);
        CHECK_STR(r.version, "iperf 3.12");
        iperf3_result_clear(&r);
        free(t);

        t = slurp("iperf3-refused.json");
        CHECK(iperf3_parse(t, &r, &err) < 0);
        CHECK(err && strstr(err, "Connection refused"));
        free(err);
        err = NULL;
        free(t);
        CHECK(iperf3_parse("not json", &r, &err) < 0 && err && strstr(err, "not JSON"));
        free(err);
        err = NULL;
        CHECK(iperf3_parse("{\"end\":{}}", &r, &err) < 0 && err && strstr(err, "sum_sent"));
        free(err);

        /* review A4: numbers from a guest are untrusted. json-c takes NaN and
         * Infinity; a negative count or share is no sample. */
        static const char *const bad_iperf3[] = {
                "{\"end\":{\"sum_sent\":{\"bits_per_second\":NaN},"
                "\"sum_received\":{\"bits_per_second\":1}}}",
                "{\"end\":{\"sum_sent\":{\"bits_per_second\":1},"
                "\"sum_received\":{\"bits_per_second\":Infinity}}}",
                "{\"end\":{\"sum_sent\":{\"bits_per_second\":1},"
                "\"sum_received\":{\"bits_per_second\":-1e308}}}",
                "{\"end\":{\"sum_sent\":{\"bits_per_second\":1},"
                "\"sum_received\":{\"bits_per_second\":1,\"seconds\":-3}}}",
        };
        for (unsigned i = 0; i < ELEMENTSOF(bad_iperf3); i++) {
                CHECK(iperf3_parse(bad_iperf3[i], &r, &err) < 0 && err);
                free(err);
                err = NULL;
                iperf3_result_clear(&r);
        }
        CHECK_EQ_INT(iperf3_parse("{\"end\":{\"sum_sent\":{\"bits_per_second\":1,"
                                  "\"retransmits\":-5},\"sum_received\":{\"bits_per_second\":1},"
                                  "\"cpu_utilization_percent\":{\"host_total\":NaN,"
                                  "\"remote_total\":250}}}",
                                  &r, &err),
                     0);
        CHECK(r.retransmits == -1 && r.cpu_host_pct == -1 && r.cpu_remote_pct == -1);
        iperf3_result_clear(&r);

        struct mptcpload_result m;
        CHECK_EQ_INT(mptcpload_parse("{\"summary\":{\"throughput_bps\":8e6,\"goodput_up_bps\":7e6,"
                                     "\"goodput_down_bps\":0,\"server_accepted\":4,"
                                     "\"server_errors\":0,\"errors\":0,\"latency\":{}}}",
                                     &m, &err),
                     0);
        CHECK(m.goodput_up_bps == 7e6 && m.server_accepted == 4 && m.server_errors == 0);
        CHECK_EQ_INT(mptcpload_parse("{\"summary\":{\"throughput_bps\":1}}", &m, &err), 0);
        CHECK(m.goodput_up_bps == -1 && m.server_accepted == -1); /* an older server: unknown */
        CHECK(m.completion_s == -1);
        /* a fixed-size upload: its completion time is the key, and must be there */
        struct topo_workload fw = {.mode = "stream", .flows = 1, .size_bytes = 1 << 20};
        struct load_result lr;
        const struct load_ops *mlf = load_find(TOPO_TOOL_MPTCPLOAD);
        CHECK_EQ_INT(mlf->parse(&fw,
                                "{\"summary\":{\"throughput_bps\":8e6,\"goodput_up_bps\":8e6,"
                                "\"goodput_down_bps\":0,\"completion_s\":1.048576}}",
                                &lr, &err),
                     0);
        CHECK(lr.seconds == 1.048576 && lr.recv_bps == 8e6);
        CHECK(mlf->parse(&fw, "{\"summary\":{\"throughput_bps\":8e6,\"completion_s\":-1}}", &lr,
                         &err) < 0 &&
              strstr(err, "does not say it was incomplete"));
        free(err);
        err = NULL;
        /* not all through by its deadline: censored there, and said */
        fw.duration_us = 30000000;
        CHECK_EQ_INT(mlf->parse(&fw,
                                "{\"summary\":{\"throughput_bps\":8e6,\"goodput_up_bps\":1e6,"
                                "\"goodput_down_bps\":0,\"completion_s\":-1,\"complete\":false}}",
                                &lr, &err),
                     0);
        CHECK(lr.incomplete && lr.seconds == 30 && lr.recv_bps == 1e6);
        CHECK(mlf->parse(&fw, "{\"summary\":{\"throughput_bps\":8e6,\"completion_s\":-3}}", &lr,
                         &err) < 0);
        free(err);
        err = NULL;
        CHECK_EQ_INT(mptcpload_parse("{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":"
                                     "[[1,10],[50,20.5],[99.9,300]]}}}",
                                     &m, &err),
                     0);
        CHECK(m.n_cdf == 3 && m.cdf_p[1] == 50 && m.cdf_us[1] == 20.5 && m.cdf_us[2] == 300);
        static const char *const bad_ml[] = {
                "{\"summary\":{\"throughput_bps\":-1e308}}",
                "{\"summary\":{\"throughput_bps\":NaN}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"p99_us\":Infinity}}}",
                "{\"summary\":{\"throughput_bps\":1,\"errors\":-2}}",
                "{\"summary\":{\"throughput_bps\":\"fast\"}}",
                "{\"summary\":{\"throughput_bps\":1,\"goodput_up_bps\":-7}}",
                /* found by fuzz-reports: 1e300 fallbacks overflowed the conversion */
                "{\"summary\":{\"throughput_bps\":1,\"fallbacks\":1e300}}",
                /* a distribution must be (percentile, us) pairs, both increasing */
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":{}}}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":[[50,20],[10,30]]}}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":[[10,20],[50,3]]}}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":[[100,20]]}}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":[[1,\"x\"]]}}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":[[1,-1]]}}}",
                "{\"summary\":{\"throughput_bps\":1,\"latency\":{\"cdf\":[[1,2,3]]}}}",
        };
        for (unsigned i = 0; i < ELEMENTSOF(bad_ml); i++) {
                CHECK(mptcpload_parse(bad_ml[i], &m, &err) < 0 && err);
                if (err)
                        fprintf(stderr, "refused: %s\n", err);
                free(err);
                err = NULL;
        }

        /* argv: MPTCP through mptcpize on 3.12, through --mptcp where the binary has it */
        struct topo_workload w = {.protocol = TOPO_PROTO_MPTCP,
                                  .duration_us = 10000000,
                                  .warmup_us = 2000000,
                                  .flows = 4,
                                  .reverse = true};
        struct load_caps old = {.iperf3_mptcp_flag = false, .mptcpize = true};
        struct load_caps new = {.iperf3_mptcp_flag = true, .mptcpize = true};
        struct load_caps none = {false, false};
        const char *why = NULL;
        struct json_object *a = iperf3_client_argv(&w, "10.0.1.2", 5201, &old, &why);
        CHECK(a);
        CHECK_STR(json_object_get_string(json_object_array_get_idx(a, 0)), "mptcpize");
        CHECK_STR(json_object_get_string(json_object_array_get_idx(a, 1)), "run");
        CHECK(argv_has(a, "--mptcp") < 0);
        CHECK(argv_has(a, "-R") > 0);
        {
                /* a fixed-size transfer: -n, never -t or -O */
                struct topo_workload sz = w;
                sz.size_bytes = 16 << 20;
                sz.warmup_us = 0;
                struct json_object *n = iperf3_client_argv(&sz, "10.0.1.2", 5201, &old, &why);
                int k = argv_has(n, "-n");
                CHECK(k > 0 && streq(json_object_get_string(json_object_array_get_idx(n, k + 1)),
                                     "16777216"));
                CHECK(argv_has(n, "-t") < 0 && argv_has(n, "-O") < 0);
                json_object_put(n);
        }
        int p = argv_has(a, "-P"), o = argv_has(a, "-O"), tt = argv_has(a, "-t");
        CHECK(p > 0 && streq(json_object_get_string(json_object_array_get_idx(a, p + 1)), "4"));
        CHECK(o > 0 && streq(json_object_get_string(json_object_array_get_idx(a, o + 1)), "2"));
        CHECK(tt > 0 &&
              streq(json_object_get_string(json_object_array_get_idx(a, tt + 1)), "10.000"));
        json_object_put(a);
        a = iperf3_client_argv(&w, "10.0.1.2", 5201, &new, &why);
        CHECK_STR(json_object_get_string(json_object_array_get_idx(a, 0)), "iperf3");
        CHECK(argv_has(a, "--mptcp") > 0);
        json_object_put(a);
        a = iperf3_server_argv(&w, 5201, &new, &why);
        CHECK(argv_has(a, "-s") > 0 && argv_has(a, "-1") > 0 && argv_has(a, "--mptcp") > 0);
        json_object_put(a);
        CHECK(iperf3_client_argv(&w, "10.0.1.2", 5201, &none, &why) == NULL);
        CHECK(why && strstr(why, "mptcpize"));
        w.protocol = TOPO_PROTO_TCP;
        a = iperf3_client_argv(&w, "10.0.1.2", 5201, &none, &why);
        CHECK(a && argv_has(a, "--mptcp") < 0 && argv_has(a, "mptcpize") < 0);
        json_object_put(a);
        /* warmup: auto asks for half-second intervals; a fixed warm-up does not */
        w.warmup_auto = true;
        a = iperf3_client_argv(&w, "10.0.1.2", 5201, &none, &why);
        int iv = argv_has(a, "-i");
        CHECK(iv > 0 && streq(json_object_get_string(json_object_array_get_idx(a, iv + 1)), "0.5"));
        json_object_put(a);

        /* when the rate settled: 3 s of warm-up in half seconds, then 4 measured
         * intervals at 20 Mbit/s (median 20) */
        struct {
                double warm[6];
                double slack, want;
        } cases[] = {
                /* a socket-buffer burst, then on the rate from 0.5 s */
                {{90e6, 20e6, 20.5e6, 19.8e6, 20e6, 20e6}, 0, 0.5},
                /* one subflow for 1.5 s (half the rate), then both */
                {{10e6, 10e6, 10e6, 20e6, 20e6, 20e6}, 0, 1.5},
                /* within 10% all along */
                {{19e6, 21e6, 20e6, 20e6, 20e6, 20e6}, 0, 0},
                /* still half at the end of the warm-up: not settled */
                {{20e6, 20e6, 20e6, 20e6, 10e6, 10e6}, 0, 3},
                /* 12% off is off, but not with 1 Mbit/s of slack */
                {{20e6, 20e6, 20e6, 20e6, 22.4e6, 22.4e6}, 0, 3},
                {{20e6, 20e6, 20e6, 20e6, 22.4e6, 22.4e6}, 1e6, 0},
                /* one interval off between two on the rate is a blip (TCG's
                 * timers, 128 KiB writes), wherever it falls: 1 s, 2.5 s,
                 * the last before the window; not the first, nor two in a
                 * row (above and below) */
                {{20e6, 22.4e6, 20e6, 20e6, 20e6, 20e6}, 0, 0},
                {{20e6, 20e6, 20e6, 20e6, 16e6, 20e6}, 0, 0},
                {{20e6, 20e6, 20e6, 20e6, 20e6, 10e6}, 0, 0},
                {{16e6, 20e6, 20e6, 20e6, 20e6, 20e6}, 0, 0.5},
                /* a second of +24% is off, twice */
                {{20e6, 24.8e6, 24.8e6, 20e6, 20e6, 20e6}, 0, 1.5},
                /* a dip and a spike side by side (a write across an edge):
                 * settled after the burst; a dip followed by no spike is not
                 * made good (two dips: settled after them), though a lone one
                 * between two intervals on the rate is a blip */
                {{30e6, 20e6, 12.5e6, 27.5e6, 20e6, 20e6}, 0, 0.5},
                {{30e6, 20e6, 12.5e6, 12.5e6, 20e6, 20e6}, 0, 2.0},
                {{30e6, 20e6, 12.5e6, 20e6, 20e6, 20e6}, 0, 0.5},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                struct json_object *iv_ = json_object_new_array();
                for (int i = 0; i < 10; i++) {
                        struct json_object *x = json_object_new_object();
                        double t_end = 0.5 * (i + 1);
                        double bps = i < 6 ? cases[c].warm[i] : (i == 7 ? 21e6 : 20e6);
                        if (i >= 6) /* measured: 1 s intervals after 3 s */
                                t_end = 3 + (i - 5);
                        json_object_object_add(x, "t", json_object_new_double(t_end));
                        json_object_object_add(x, "bps", json_object_new_double(bps));
                        json_object_array_add(iv_, x);
                }
                double got = tool_settled_at(iv_, 3, cases[c].slack);
                if (fabs(got - cases[c].want) > 1e-9) {
                        fprintf(stderr, "settled case %zu: %g, want %g\n", c, got, cases[c].want);
                        CHECK(0);
                }
                json_object_put(iv_);
        }
        /* nothing measured, or no warm-up interval: it cannot say */
        struct json_object *none_ = json_object_new_array();
        CHECK_NEAR(tool_settled_at(none_, 3, 0), -1, 0);
        struct json_object *x = json_object_new_object();
        json_object_object_add(x, "t", json_object_new_double(4));
        json_object_object_add(x, "bps", json_object_new_double(1e6));
        json_object_array_add(none_, x);
        CHECK_NEAR(tool_settled_at(none_, 3, 0), -1, 0);
        json_object_put(none_);

        /* the drivers' interval series: one time line, the guest's non-numbers left out */
        const struct load_ops *ip = load_find(TOPO_TOOL_IPERF3),
                              *ml = load_find(TOPO_TOOL_MPTCPLOAD);
        CHECK(ip && ml && streq(ip->name, "iperf3") && streq(ml->name, "mptcpload"));
        const char *ipj = "{\"intervals\": [{\"sum\": {\"end\": 0.5, \"bits_per_second\": 1e6, "
                          "\"omitted\": true}}, {\"sum\": {\"end\": 0.5, \"bits_per_second\": "
                          "2e6}}, {\"sum\": {\"end\": 1.0, \"bits_per_second\": -5}}]}";
        struct json_object *s1 = ip->intervals(ipj, 2);
        CHECK_EQ_INT(jlen(s1), 2);
        CHECK_NEAR(jpath_double(json_object_array_get_idx(s1, 0), -1, "t", NULL), 0.5, 1e-9);
        CHECK_NEAR(jpath_double(json_object_array_get_idx(s1, 1), -1, "t", NULL), 2.5, 1e-9);
        json_object_put(s1);
        const char *mlj = "{\"intervals\": [{\"t\": 0.1, \"bps\": 5e6, \"subflow_detail\": "
                          "[[{\"rtt_us\": 100}], [{\"rtt_us\": 200}]]}, {\"t\": \"x\", \"bps\": "
                          "1}, {\"t\": 0.2, \"bps\": 6e6}]}";
        struct json_object *s2 = ml->intervals(mlj, 2);
        CHECK_EQ_INT(jlen(s2), 2);
        CHECK_EQ_INT(jlen(jarr(json_object_array_get_idx(s2, 0), "subflows")), 1);
        CHECK(!jarr(json_object_array_get_idx(s2, 1), "subflows"));
        json_object_put(s2);
        /* ports: iperf3 one a workload, mptcpload two (control, data) */
        CHECK_EQ_INT(ip->base_port + ip->ports * 3, 5204);
        CHECK_EQ_INT(ml->base_port + ml->ports * 3, 5307);
        return CHECK_DONE();
}
