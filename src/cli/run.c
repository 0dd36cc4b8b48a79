/* run.c - run, compare and check: their options, the series they ask for,
 * and what they show of it (each run's table, the verdicts, the JSON, the
 * report). */
#include "verbs.h"
#include "../report/report.h"
#include "../report/run_report.h"
#include "../report/matrix_report.h"
#include "../report/series_report.h"
#include "../run/matrix.h"
#include "../run/series.h"
#include "../results/metrics.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "../store/store.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>

int cli_exit_code(enum outcome o)
{
        return (int)o; /* the same numbers (results/result.h) */
}

/* Each run as it ends: `run` shows its table; a single run's JSON is its own */
bool show_run(void *user, const struct series_opts *o, const struct topo *t,
              const struct run_result *res, const char *side, bool warmup)
{
        struct run_ui *ui = user;
        if (!o->compare && !o->baseline && !res->skip)
                report_table(stdout, t, res);
        if (ui && ui->json_out && !o->runs && !o->compare && !o->baseline) {
                _cleanup_json_ struct json_object *j = run_json(t, res);
                int r = json_write_file(ui->json_out, j, JSON_C_TO_STRING_PRETTY);
                if (r < 0) {
                        log_error("cannot write %s: %s", ui->json_out, strerror(-r));
                        return false;
                }
        }
        return true;
}

/* The report of what ran, next to the last run's files: its index.html (or NULL) */
static char *write_report(const struct series_result *r)
{
        const struct series_asked *o = &r->asked;
        struct store *db = NULL;
        char *err = NULL;
        if (store_open(o->db, &db, &err) < 0) {
                log_warn("no report: %s", err);
                free(err);
                return NULL;
        }
        _cleanup_free_ char *dir = xasprintf("%s/report", r->last_run_dir);
        char *index = NULL;
        if (report_write(db, o->runs || o->compare || o->baseline ? r->series : r->last_id,
                         o->baseline, dir, &index, &err) == 0)
                fprintf(stderr, "mptcplab: report in %s\n", index);
        else {
                log_warn("no report: %s", err);
                free(err);
        }
        store_close(db);
        return index;
}

int series_finish(const struct series_result *r, FILE *f, const char *json_out, bool bisect)
{
        const struct series_asked *o = &r->asked;
        int rc = cli_exit_code(r->outcome);
        if (r->series[0]) { /* else it never began, and the error is said */
                series_print(f, r);
                if (json_out && (o->runs || o->compare || o->baseline)) {
                        _cleanup_json_ struct json_object *j = series_json(r, rc);
                        int e = json_write_file(json_out, j, JSON_C_TO_STRING_PRETTY);
                        if (e < 0) {
                                log_error("cannot write %s: %s", json_out, strerror(-e));
                                if (rc == EXIT_OK)
                                        rc = EXIT_INFRA;
                        }
                }
                if (!o->no_store && r->last_run_dir && rc != EXIT_INFRA && rc != EXIT_INPUT)
                        free(write_report(r));
        }
        if (bisect)
                return rc == EXIT_INFRA ? 125 : rc == EXIT_INPUT ? 128 : rc;
        return rc;
}

/* Each cell's report, and the matrix's page (a heat map and the cells)
 * beside the last cell's */
static void matrix_reports(const struct matrix_result *m, bool no_store)
{
        char **reports = xcalloc(m->n + 1, sizeof *reports);
        const char *last = NULL;
        for (size_t k = 0; k < m->n; k++) {
                const struct series_result *r = &m->cells[k].r;
                if (!m->cells[k].ran || r->skip || !r->series[0] || !r->last_run_dir)
                        continue;
                if (!no_store && r->outcome != OUTCOME_INFRA && r->outcome != OUTCOME_INPUT)
                        reports[k] = write_report(r);
                last = r->last_run_dir;
        }
        if (last) {
                _cleanup_free_ char *dir = xasprintf("%s/matrix", last);
                char *index = NULL, *err = NULL;
                if (matrix_report_write(m, reports, dir, &index, &err) == 0)
                        fprintf(stderr, "mptcplab: the matrix's report in %s\n", index);
                else
                        log_warn("no matrix report: %s", err);
                free(index);
                free(err);
        }
        for (size_t k = 0; k < m->n; k++)
                free(reports[k]);
        free(reports);
}

static char **add_set(char **v, unsigned *n, const char *s)
{
        v = xreallocarray(v, *n + 1, sizeof(char *));
        v[(*n)++] = (char *)s;
        return v;
}

/* run, compare and check share their options. */
static int run_like(int argc, char **argv, const char *verb)
{
        enum {
                O_RUNS = 256,
                O_THRESHOLD,
                O_SET,
                O_SET_A,
                O_SET_B,
                O_KA,
                O_KB,
                O_DB,
                O_NOSTORE,
                O_BISECT,
                O_BASELINE,
                O_LINKS,
                O_INVENTORY,
                O_CONCURRENT,
                O_MAX_RUNS,
                O_WARMUP_RUNS,
                O_ALLOW_DIFFERENT,
                O_ORDER,
                O_MATRIX
        };
        static const struct option opts[] = {
                {"backend", required_argument, NULL, 'b'},
                {"json", required_argument, NULL, 'j'},
                {"agent", required_argument, NULL, 'a'},
                {"verbose", no_argument, NULL, 'v'},
                {"kernel", required_argument, NULL, 'k'},
                {"uri", required_argument, NULL, 'u'},
                {"run-dir", required_argument, NULL, 'd'},
                {"runs", required_argument, NULL, O_RUNS},
                {"set", required_argument, NULL, O_SET},
                {"set-a", required_argument, NULL, O_SET_A},
                {"set-b", required_argument, NULL, O_SET_B},
                {"kernel-a", required_argument, NULL, O_KA},
                {"kernel-b", required_argument, NULL, O_KB},
                {"db", required_argument, NULL, O_DB},
                {"no-store", no_argument, NULL, O_NOSTORE},
                {"bisect", no_argument, NULL, O_BISECT},
                {"baseline", required_argument, NULL, O_BASELINE},
                {"threshold", required_argument, NULL, O_THRESHOLD},
                {"links", required_argument, NULL, O_LINKS},
                {"inventory", required_argument, NULL, O_INVENTORY},
                {"allow-concurrent", no_argument, NULL, O_CONCURRENT},
                {"max-runs", required_argument, NULL, O_MAX_RUNS},
                {"warmup-runs", required_argument, NULL, O_WARMUP_RUNS},
                {"allow-different", no_argument, NULL, O_ALLOW_DIFFERENT},
                {"order", required_argument, NULL, O_ORDER},
                {"matrix", no_argument, NULL, O_MATRIX},
                {NULL, 0, NULL, 0},
        };
        char agent_buf[PATH_MAX];
        struct series_opts o = {.backend = "libvirt", .compare = streq(verb, "compare")};
        const char *json_out = NULL;
        bool bisect = false, matrix = false;
        int c, rc;
        char *end;
        optind = 1;
        while ((c = getopt_long(argc, argv, "b:j:a:vk:u:d:", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        o.backend = optarg;
                        break;
                case 'j':
                        json_out = optarg;
                        break;
                case 'a':
                        o.agent_path = optarg;
                        break;
                case 'v':
                        log_set_level(LOG_LVL_DEBUG);
                        break;
                case 'k':
                        o.kernel_a = o.kernel_b = optarg;
                        break;
                case 'u':
                        o.uri = optarg;
                        break;
                case 'd':
                        o.run_dir = optarg;
                        break;
                case O_MAX_RUNS:
                        o.max_runs = (unsigned)strtoul(optarg, &end, 10);
                        if (*end || o.max_runs < 3 || o.max_runs > 1000) {
                                log_error("%s: --max-runs %s is not a number from 3 to 1000", verb,
                                          optarg);
                                return EXIT_INPUT;
                        }
                        break;
                case O_WARMUP_RUNS:
                        if (!streq(optarg, "0") && !streq(optarg, "1") && !streq(optarg, "auto")) {
                                log_error("%s: --warmup-runs is auto, 0 or 1, not %s", verb,
                                          optarg);
                                return EXIT_INPUT;
                        }
                        o.no_warmup_run = streq(optarg, "0");
                        o.warmup_run_forced = streq(optarg, "1");
                        break;
                case O_RUNS:
                        if (streq(optarg, "auto")) {
                                o.runs_auto = true;
                                break;
                        }
                        o.runs = (unsigned)strtoul(optarg, &end, 10);
                        if (*end || o.runs < 1 || o.runs > 1000) {
                                log_error("%s: --runs %s is not a number from 1 to 1000", verb,
                                          optarg);
                                return EXIT_INPUT;
                        }
                        break;
                case O_SET:
                        o.sets_a = add_set(o.sets_a, &o.n_sets_a, optarg);
                        o.sets_b = add_set(o.sets_b, &o.n_sets_b, optarg);
                        break;
                case O_SET_A:
                        o.sets_a = add_set(o.sets_a, &o.n_sets_a, optarg);
                        break;
                case O_SET_B:
                        o.sets_b = add_set(o.sets_b, &o.n_sets_b, optarg);
                        break;
                case O_KA:
                        o.kernel_a = optarg;
                        break;
                case O_KB:
                        o.kernel_b = optarg;
                        break;
                case O_DB:
                        o.db = optarg;
                        break;
                case O_NOSTORE:
                        o.no_store = true;
                        break;
                case O_BISECT:
                        bisect = true;
                        break;
                case O_CONCURRENT:
                        o.allow_concurrent = true;
                        break;
                case O_ALLOW_DIFFERENT:
                        o.allow_different = true;
                        break;
                case O_BASELINE:
                        o.baseline = optarg;
                        break;
                case O_INVENTORY:
                        o.inventory = optarg;
                        break;
                case O_ORDER:
                        if (!streq(optarg, "interleaved") && !streq(optarg, "blocked")) {
                                log_error("%s: --order %s: interleaved (A B A B, the default) or "
                                          "blocked (every A run, then every B run)",
                                          verb, optarg);
                                return EXIT_INPUT;
                        }
                        o.blocked = streq(optarg, "blocked");
                        break;
                case O_MATRIX:
                        matrix = true;
                        break;
                case O_LINKS: /* checked against the backend's modes below */
                        o.links = optarg;
                        break;
                case O_THRESHOLD:
                        if (metric_set_threshold(optarg) < 0) {
                                log_error(
                                        "%s: --threshold %s: expected METRIC=PERCENT with a metric "
                                        "of docs/verdicts.md (goodput_mbps=0.5)",
                                        verb, optarg);
                                return EXIT_INPUT;
                        }
                        break;
                default:
                        cli_usage(stderr);
                        return EXIT_INPUT;
                }
        }
        if (optind + 1 != argc) {
                log_error("%s: expected one topology file", verb);
                rc = EXIT_INPUT;
                goto out;
        }
        o.file = argv[optind];
        const struct backend_ops *be = backend_find(o.backend);
        if (o.links && be && !be->link_modes) {
                log_error("%s: --links: the %s backend makes its links one way", verb, o.backend);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.links && be && !strv_has(be->link_modes, o.links)) {
                _cleanup_free_ char *modes = strv_join(be->link_modes, ", ");
                log_error("%s: --links %s: the %s backend takes %s", verb, o.links, o.backend,
                          modes);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.compare &&
            (o.n_sets_a == o.n_sets_b &&
             !memcmp(o.sets_a, o.sets_b, o.n_sets_a * sizeof(char *))) &&
            !o.kernel_a && !o.kernel_b)
                log_warn("compare: both sides are the same (an A/A comparison)");
        if (streq(verb, "check") && !o.baseline) {
                log_error("check: --baseline NAME is required");
                rc = EXIT_INPUT;
                goto out;
        }
        if ((o.compare || o.baseline) && o.no_store && o.baseline) {
                log_error("check needs the database (--no-store)");
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.runs_auto && !o.compare && !o.baseline) {
                log_error("%s: --runs auto needs a comparison (compare, or check --baseline)",
                          verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.blocked && !o.compare) {
                log_error("%s: --order goes with compare", verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.blocked && o.runs_auto) {
                log_error("%s: --order blocked takes a fixed --runs N: --runs auto stops after a "
                          "pair, which a blocked order does not have until side B",
                          verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.max_runs && !o.runs_auto) {
                log_error("%s: --max-runs goes with --runs auto", verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.runs_auto)
                o.runs = o.max_runs ? o.max_runs : 12;
        if ((o.compare || o.baseline) && !o.runs)
                o.runs = 5;
        if (!o.agent_path)
                o.agent_path = find_agent(agent_buf, sizeof agent_buf);
        if (matrix && !o.runs)
                o.runs = 1;
        struct run_ui ui = {.json_out = matrix ? NULL : json_out};
        o.on_run = show_run;
        o.user = &ui;
        if (matrix) {
                struct matrix_result mr;
                rc = cli_exit_code(matrix_run(&o, &mr));
                if (mr.n) {
                        matrix_print(stdout, &mr);
                        if (json_out) {
                                _cleanup_json_ struct json_object *j = matrix_json(&mr, rc);
                                if (json_write_file(json_out, j, JSON_C_TO_STRING_PRETTY) < 0) {
                                        log_error("cannot write %s", json_out);
                                        if (rc == EXIT_OK)
                                                rc = EXIT_INFRA;
                                }
                        }
                        matrix_reports(&mr, o.no_store);
                }
                matrix_result_clear(&mr);
                if (bisect)
                        rc = rc == EXIT_INFRA ? 125 : rc == EXIT_INPUT ? 128 : rc;
                goto out;
        }
        struct series_result res;
        series_run(&o, &res);
        rc = series_finish(&res, stdout, json_out, bisect);
        series_result_clear(&res);
out:
        free(o.sets_a);
        free(o.sets_b);
        return rc;
}

int verb_run(int argc, char **argv)
{
        return run_like(argc, argv, "run");
}

int verb_compare(int argc, char **argv)
{
        return run_like(argc, argv, "compare");
}

int verb_check(int argc, char **argv)
{
        return run_like(argc, argv, "check");
}
