/* reproduce.c - `mptcplab reproduce ID --inventory FILE`: a stored run,
 * series or comparison again on real machines (the ssh backend): the same
 * topology as that run parsed it (its --set overrides applied), the same
 * kernels (by release: the machines must have them in /boot), the same
 * workloads and number of runs. The new series is stored, then the stored
 * result and the machines' are printed side by side, each with its verdict. */
#include "verbs.h"
#include "../run/reproduce.h"
#include "../results/metrics.h"
#include "../report/ktap.h"
#include "../stats/stats.h"
#include "../shared/util.h"
#include "../store/store.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

/* "-0.93% [-1.01, -0.01] regression" of one test, or the medians of a
 * series without sides */
static char *cell(const struct test_result *t)
{
        if (!t)
                return xstrdup("-");
        const struct judgement *j = &t->j;
        if (j->verdict == VERDICT_INSUFFICIENT)
                return xstrdup("insufficient");
        return xasprintf("%+.2f%% [%+.2f, %+.2f] %s", 100 * j->rel_change, 100 * j->rel_lo,
                         100 * j->rel_hi, verdict_name(j->verdict));
}

static const struct test_result *find_test(const struct verdicts *v, const char *name)
{
        for (size_t i = 0; i < v->n; i++)
                if (streq(v->t[i].name, name))
                        return &v->t[i];
        return NULL;
}

/* The median of a workload's valid values of one metric in the samples */
static double median_of(const struct samples *s, const char *workload, const struct metric *m)
{
        double *v;
        size_t n;
        samples_values(s, NULL, workload, m, true, &v, &n);
        double med = stats_median(v, n);
        free(v);
        return med;
}

int verb_reproduce(int argc, char **argv)
{
        static const struct option opts[] = {
                {"inventory", required_argument, NULL, 'i'},
                {"db", required_argument, NULL, 'd'},
                {"runs", required_argument, NULL, 'r'},
                {"order", required_argument, NULL, 'o'},
                {"warmup-runs", required_argument, NULL, 'w'},
                {"json", required_argument, NULL, 'j'},
                {NULL, 0, NULL, 0},
        };
        const char *inventory = NULL, *dbp = NULL, *order = NULL, *json_out = NULL;
        unsigned runs_override = 0;
        bool no_warmup = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                char *end;
                switch (c) {
                case 'i':
                        inventory = optarg;
                        break;
                case 'd':
                        dbp = optarg;
                        break;
                case 'o':
                        if (!streq(optarg, "interleaved") && !streq(optarg, "blocked")) {
                                log_error("reproduce: --order %s: interleaved or blocked", optarg);
                                return EXIT_INPUT;
                        }
                        order = optarg;
                        break;
                case 'j':
                        json_out = optarg;
                        break;
                case 'w':
                        if (!streq(optarg, "0") && !streq(optarg, "1")) {
                                log_error("reproduce: --warmup-runs is 0 or 1");
                                return EXIT_INPUT;
                        }
                        no_warmup = streq(optarg, "0");
                        break;
                case 'r': {
                        unsigned long n = strtoul(optarg, &end, 10);
                        if (*end || n < 1 || n > 100) {
                                log_error("reproduce: --runs %s: 1 to 100", optarg);
                                return EXIT_INPUT;
                        }
                        runs_override = (unsigned)n;
                        break;
                }
                default:
                        fprintf(stderr,
                                "usage: mptcplab reproduce SERIES|RUN --inventory FILE [--db "
                                "PATH] [--runs N] [--order blocked] [--warmup-runs 0]\n");
                        return EXIT_INPUT;
                }
        }
        if (optind + 1 != argc || !inventory) {
                log_error("reproduce: expected one stored series or run id and --inventory FILE "
                          "(the machines: docs/inventory.md)");
                return EXIT_INPUT;
        }
        const char *id = argv[optind];
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        int rc = EXIT_INPUT;
        char *err = NULL;
        struct reproduction rp = {0};
        _cleanup_free_ char *out_json = NULL, *new_series = NULL, *dir = NULL;
        struct samples old_s = {0}, new_s = {0};
        struct verdicts old_v = {0}, new_v = {0};
        int lr = reproduction_load(db, id, runs_override, &rp, &err);
        if (lr < 0) {
                rc = lr == -EIO ? EXIT_INFRA : EXIT_INPUT;
                goto fail;
        }
        const char *kind = rp.kind, *path = rp.path, *rel_a = rp.rel_a, *rel_b = rp.rel_b;
        struct json_object *first = json_object_array_get_idx(rp.reps, 0);
        bool compare = rp.compare;
        struct topo *t = rp.t;
        unsigned n = rp.runs;
        dir = lab_data_path("reproduce");
        out_json = xasprintf("%s/%.8s.series.json", dir, id);
        fprintf(stderr,
                "mptcplab: reproduce %s %s (%s, %s) on the machines of %s: %s%s%s, %u run(s)%s\n",
                kind, id, jstr(first, "backend") ?: "?", path, inventory, rel_a,
                compare ? " against " : "", compare ? rel_b : "", n, compare ? " a side" : "");
        struct series_opts o = {.file = path,
                                .kernel_a = rel_a,
                                .kernel_b = rel_b,
                                .runs = n,
                                .compare = compare,
                                .no_warmup_run = no_warmup,
                                .blocked = order && streq(order, "blocked"),
                                .backend = "ssh",
                                .inventory = inventory,
                                .db = dbp};
        char agent_buf[PATH_MAX];
        o.agent_path = find_agent(agent_buf, sizeof agent_buf);
        o.on_run = show_run;
        struct series_result sr;
        series_run(&o, &sr);
        rc = series_finish(&sr, stdout, out_json, false);
        if (sr.series[0]) /* the new series, as series_run stored it */
                new_series = xstrdup(sr.series);
        series_result_clear(&sr);
        if (!new_series) {
                log_error("reproduce: the machines' series did not finish (exit %d)", rc);
                goto out;
        }
        store_close(db);
        if (!(db = open_db(dbp))) { /* what series_run stored */
                rc = EXIT_INFRA;
                goto out;
        }
        if (reproduce_judge(db, id, kind, t, &old_v, &old_s, &err) < 0 ||
            reproduce_judge(db, new_series, "series", t, &new_v, &new_s, &err) < 0) {
                log_error("%s", err);
                rc = EXIT_INFRA;
                goto out;
        }
        printf("# reproduce: %s %s (%s) against series %s (ssh, %s)\n", kind, id,
               jstr(first, "backend") ?: "?", new_series, inventory);
        struct json_object *jo = json_object_new_object(), *rows = json_object_new_array();
        json_object_object_add(jo, "original", json_object_new_string(id));
        json_object_object_add(jo, "original_backend",
                               json_object_new_string(jstr(first, "backend") ?: "?"));
        json_object_object_add(jo, "reproduced", json_object_new_string(new_series));
        if (compare) {
                printf("%-34s %-40s %s\n", "test (B against A)", "stored", "machines");
                const struct verdicts *all[2] = {&old_v, &new_v};
                for (int s = 0; s < 2; s++)
                        for (size_t i = 0; i < all[s]->n; i++) {
                                const char *name = all[s]->t[i].name;
                                if (s == 1 && find_test(&old_v, name))
                                        continue;
                                const struct test_result *a = find_test(&old_v, name),
                                                         *b = find_test(&new_v, name);
                                if (!(a ? a->gates : b->gates))
                                        continue; /* the key tests: what each verdict stands on */
                                _cleanup_free_ char *ca = cell(a), *cb = cell(b);
                                printf("%-34s %-40s %s\n", name, ca, cb);
                                struct json_object *row = json_object_new_object();
                                json_object_object_add(row, "test", json_object_new_string(name));
                                json_object_object_add(row, "stored", json_object_new_string(ca));
                                json_object_object_add(row, "machines", json_object_new_string(cb));
                                json_object_array_add(rows, row);
                        }
                printf("# verdict: stored %s, machines %s\n",
                       old_v.regressions ? "regression" : "no regression",
                       new_v.regressions ? "regression" : "no regression");
                json_object_object_add(jo, "stored_regressions",
                                       json_object_new_int((int)old_v.regressions));
                json_object_object_add(jo, "machines_regressions",
                                       json_object_new_int((int)new_v.regressions));
        } else {
                printf("%-34s %-14s %s\n", "metric (median)", "stored", "machines");
                for (unsigned w = 0; w < t->n_workloads; w++) {
                        const char *wn = t->workloads[w].name;
                        static const char *const shown[] = {"goodput_mbps", "cpu_s_per_gbit"};
                        for (unsigned k = 0; k < ELEMENTSOF(shown); k++) {
                                _cleanup_free_ char *name = xasprintf("%s.%s", wn, shown[k]);
                                printf("%-34s %-14.4g %.4g\n", name,
                                       median_of(&old_s, wn, metric_find(shown[k])),
                                       median_of(&new_s, wn, metric_find(shown[k])));
                        }
                }
        }
        json_object_object_add(jo, "tests", rows);
        if (json_out && json_write_file(json_out, jo, JSON_C_TO_STRING_PRETTY) < 0)
                rc = EXIT_INFRA;
        json_object_put(jo);
        goto out;
fail:
        log_error("reproduce: %s", err ? err : "failed");
out:
        free(err);
        verdicts_clear(&old_v);
        verdicts_clear(&new_v);
        samples_clear(&old_s);
        samples_clear(&new_s);
        reproduction_clear(&rp);
        store_close(db);
        return rc;
}
