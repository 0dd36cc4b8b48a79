/* Golden files for what the lab prints and writes, made from stored samples
 * and a made-up run (no VM, no namespace): the KTAP and LKP of a comparison,
 * its verdicts as JSON, one run's table and run JSON, and a series' JSON.
 * A change to any of them fails here; a change that is meant is made with
 *   MPTCPLAB_GOLDEN_UPDATE=1 meson test golden
 * and the new files are committed with it (their diff is the review). */
#include "../../src/report/ktap.h"
#include "../../src/report/run_report.h"
#include "../../src/report/series_report.h"
#include "../../src/results/mibs.h"
#include "../../src/shared/check.h"
#include "../../src/shared/json.h"
#include "../../src/shared/util.h"

#include <errno.h>
#include <stdlib.h>

static const char *dir;
static bool update;

/* text against DIR/name: equal, or the first differing line said */
static void golden(const char *name, const char *text)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, name);
        if (update) {
                FILE *f = fopen(path, "we");
                CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0);
                fprintf(stderr, "wrote %s\n", path);
                return;
        }
        _cleanup_free_ char *want = NULL;
        if (read_file(path, &want, NULL) < 0) {
                fprintf(stderr, "%s: missing (MPTCPLAB_GOLDEN_UPDATE=1 makes it)\n", path);
                check_failures++;
                return;
        }
        if (streq(want, text))
                return;
        unsigned line = 1;
        const char *a = want, *b = text;
        while (*a && *a == *b) {
                line += *a == '\n';
                a++;
                b++;
        }
        fprintf(stderr, "%s:%u: differs from the output:\n  golden: %.*s\n  output: %.*s\n", path,
                line, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
        check_failures++;
}

static char *memfile(void (*fn)(FILE *, const void *), const void *arg)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fn(f, arg);
        fclose(f);
        return buf;
}

static char *json_text(struct json_object *o)
{
        char *s = xasprintf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
        json_object_put(o);
        return s;
}

static void print_verdicts(FILE *f, const void *arg)
{
        const struct verdicts *v = arg;
        ktap_print(f, v, "compare golden: A = 6.12.111, B = 6.12.111+patch; 8 runs each");
        lkp_print(f, v);
}

struct table_arg {
        const struct topo *t;
        const struct run_result *r;
};

static void print_table(FILE *f, const void *arg)
{
        const struct table_arg *a = arg;
        report_table(f, a->t, a->r);
}

static void load_samples(const char *path, struct samples *s)
{
        _cleanup_free_ char *text = NULL;
        CHECK(read_file(path, &text, NULL) == 0);
        _cleanup_json_ struct json_object *rows = json_tokener_parse(text ? text : "");
        for (size_t i = 0; i < jlen(rows); i++) {
                struct json_object *x = json_object_array_get_idx(rows, i);
                double v = 0;
                bool valid = false;
                jdouble(x, "value", &v);
                jbool(x, "valid", &valid);
                CHECK(samples_add(s, jstr(x, "run"), jstr(x, "side"), NULL, jstr(x, "workload"),
                                  jstr(x, "metric"), v, valid, jstr(x, "reason")));
                s->v[s->n - 1].series = xstrdup(jstr(x, "series"));
        }
        CHECK(s->n > 100);
}

/* one run of the golden topology, every field set by hand */
static struct run_result *made_up_run(const struct topo *t)
{
        struct run_result *r = xcalloc(1, sizeof *r);
        snprintf(r->run_id, sizeof r->run_id, "0123456789abcdef0123456789abcdef");
        r->backend = "netns";
        r->links = "veth";
        r->started_at = xstrdup("2026-12-07T03:00:00Z");
        r->wall_s = 31.5;
        r->setup_s = 0.2;
        r->teardown_s = 0.1;
        r->run_dir = xstrdup("/var/lib/mptcplab/runs/01234567");
        r->nodes = json_tokener_parse(
                "{\"client\": {\"hello\": {\"kernel\": \"6.12.111+deb12-cloud-amd64\"}, "
                "\"ready_s\": 0.1, \"kernel_spec\": \"6.12.111+deb12-cloud-amd64\"}, "
                "\"server\": {\"hello\": {\"kernel\": \"6.12.111+deb12-cloud-amd64\"}, "
                "\"ready_s\": 0.1, \"kernel_spec\": \"6.12.111+deb12-cloud-amd64\"}}");
        r->n_wl = t->n_workloads;
        r->wl = xcalloc(r->n_wl, sizeof *r->wl);
        for (unsigned i = 0; i < r->n_wl; i++) {
                struct wl_result *w = &r->wl[i];
                const struct topo_workload *tw = &t->workloads[i];
                bool mp = tw->protocol == TOPO_PROTO_MPTCP;
                *w = (struct wl_result){
                        .w = tw,
                        .status = WL_OK,
                        .method = xstrdup(tw->tool == TOPO_TOOL_MPTCPLOAD ? "mptcp"
                                          : mp                            ? "mptcpize"
                                                                          : "tcp"),
                        .target = xstrdup("10.0.1.2"),
                        .sent_bps = mp ? 38.9e6 : 19.4e6,
                        .recv_bps = mp ? 38.5e6 : 19.13e6,
                        .retransmits = 12 + i,
                        .cpu_client_pct = 3.5,
                        .cpu_server_pct = 2.25,
                        .cpu_client_s = 0.35,
                        .cpu_server_s = 0.225,
                        .node_cpu_client_pct = 5,
                        .node_cpu_server_pct = 4,
                        .node_cpu_client_s = 0.5,
                        .node_cpu_server_s = 0.4,
                        .window_s = 10,
                        .completion_s = -1,
                        .vm_cpu_client_s = -1,
                        .vm_cpu_server_s = -1,
                        .cycles_client = -1,
                        .cycles_server = -1,
                        .insns_client = -1,
                        .insns_server = -1,
                        .mp_capable = mp ? 1 : 0,
                        .mp_join = mp ? 2 : 0,
                        .add_addr = mp ? 1 : 0,
                        .connections = mp ? 1 : 0,
                        .subflows_per_conn = mp ? 3 : 1,
                        .expected_subflows = mp ? 3 : 1,
                        .path_rate_bps = 40000000,
                        .time_wait_client = -1,
                        .time_wait_server = -1,
                        .wall_s = 10.4,
                        .warmup_s = 2,
                        .settled_s = -1,
                };
                if (tw->tool == TOPO_TOOL_MPTCPLOAD) {
                        w->tps = 9001.5;
                        w->cps = 0;
                        w->lat_p50_us = 410;
                        w->lat_p99_us = 530;
                        w->lat_p999_us = 800;
                        w->n_lat_cdf = 2;
                        w->lat_cdf_p[0] = 50;
                        w->lat_cdf_us[0] = 410;
                        w->lat_cdf_p[1] = 99;
                        w->lat_cdf_us[1] = 530;
                        w->time_wait_client = 0;
                        w->time_wait_server = 0;
                }
                if (i == 0) {
                        w->status = WL_INVALID;
                        w->reason = xstrdup("made up: one invalid workload");
                }
                w->n_ifaces = 2;
                w->ifaces = xcalloc(2, sizeof *w->ifaces);
                for (unsigned k = 0; k < 2; k++)
                        w->ifaces[k] = (struct iface_bytes){.node = xstrdup("client"),
                                                            .dev = xasprintf("eth%u", k),
                                                            .tx_bytes = 24000000 + 1000 * k,
                                                            .rx_bytes = 900000 + k};
                w->mib = json_tokener_parse("{\"client\": {\"MPTcpExtMPJoinAckRx\": 0}, "
                                            "\"server\": {\"MPTcpExtMPJoinAckRx\": 2}}");
                w->cpu_cores = json_object_new_object();
                w->intervals = json_tokener_parse("[{\"t\": 0.5, \"bps\": 38000000}]");
        }
        return r;
}

int main(int argc, char **argv)
{
        dir = argc > 1 ? argv[1] : "tests/golden";
        update = getenv("MPTCPLAB_GOLDEN_UPDATE") != NULL;
        _cleanup_free_ char *tp = xasprintf("%s/topo.yaml", dir),
                            *sp = xasprintf("%s/samples.json", dir);
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        if (topo_parse_file(tp, &t, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                return 1;
        }
        struct samples s = {0};
        load_samples(sp, &s);

        /* a comparison: KTAP and LKP as compare prints them, the verdicts' JSON */
        struct verdicts v = {.looks = 1};
        verdicts_compute(&s, "A", &s, "B", t, &v);
        CHECK(v.regressions >= 1); /* the fixture holds a regression: it must show */
        _cleanup_free_ char *ktap = memfile(print_verdicts, &v);
        golden("compare.ktap", ktap);
        _cleanup_free_ char *vj = json_text(verdicts_json(&v));
        golden("verdicts.json", vj);

        /* one run: the table and the run JSON */
        struct run_result *r = made_up_run(t);
        struct table_arg ta = {t, r};
        _cleanup_free_ char *table = memfile(print_table, &ta);
        golden("run.table", table);
        _cleanup_free_ char *rjs = json_text(run_json(t, r));
        golden("run.json", rjs);

        /* a compare's series: what it prints after its runs, and its JSON */
        struct series_result sr = {
                .asked = {.file = "tests/golden/topo.yaml", .runs = 8, .compare = true},
                .outcome = OUTCOME_REGRESSION,
                .judged_outcome = OUTCOME_REGRESSION,
                .runs = 8,
                .looks = 1,
                .what = xstrdup("compare tests/golden/topo.yaml: A = "
                                "6.12.111+deb12-cloud-amd64, B = "
                                "/srv/kernels/6.12.111-patched; 8 runs each, "
                                "interleaved, series "
                                "s0123456789abcdef0123456789abcdef"),
                .judged = true,
                .verdicts = v,
                .samples = s,
                .runs_json = json_object_new_array(),
                .noise_looked = true,
                .crashed_a = 1,
                .timing = {.wall = 400, .measured = 200, .boot = 64}};
        snprintf(sr.series, sizeof sr.series, "s0123456789abcdef0123456789abcdef");
        v = (struct verdicts){0}; /* the result owns them now */
        s = (struct samples){0};
        for (unsigned i = 0; i < 4; i++) {
                struct json_object *runj = run_json(t, r);
                json_object_object_add(runj, "side", json_object_new_string(i % 2 ? "B" : "A"));
                struct json_object *mib = jpath(runj, "workloads", NULL);
                /* side B's runs join more subflows on the server (each run its own
                 * counters: run_json shares the result's) */
                json_object_object_add(json_object_array_get_idx(mib, 1), "mib",
                                       json_tokener_parse(i % 2 ? "{\"server\": "
                                                                  "{\"MPTcpExtMPJoinAckRx\": 6}}"
                                                                : "{\"server\": "
                                                                  "{\"MPTcpExtMPJoinAckRx\": 2}}"));
                json_object_array_add(sr.runs_json, runj);
        }
        sr.mibs = mib_changes(sr.runs_json, "A", sr.runs_json, "B", &sr.mib_base_runs,
                              &sr.mib_cand_runs);
        sr.noise = json_tokener_parse(
                "[{\"test\": \"bulk-mptcp.goodput_mbps\", \"key\": true, \"cv\": 0.0021, "
                "\"stored_runs\": 30, \"series\": 6, \"runs\": 8, \"min_detectable\": "
                "0.0042, \"runs_doubled\": 16, \"min_detectable_doubled\": null}]");
        char *out = NULL;
        size_t outlen = 0;
        FILE *f = open_memstream(&out, &outlen);
        series_print(f, &sr);
        fclose(f);
        golden("compare.out", out);
        free(out);
        _cleanup_free_ char *sj = json_text(series_json(&sr, 1));
        golden("series.json", sj);
        series_result_clear(&sr);

        verdicts_clear(&v);
        samples_clear(&s);
        run_result_free(r);
        topo_free(t);
        return CHECK_DONE();
}
