/* nightly.c - the nightly job (docs/nightly.md): `mptcplab nightly PLAN` runs
 * a plan's scenarios, looks for change points in each topology's history and
 * says what moved; `mptcplab changes` lists and triages the change points;
 * `mptcplab exclude` leaves a run out of history. */
#include "../shared/owner.h"
#include "verbs.h"
#include "../run/nightly.h"
#include "../results/metrics.h"
#include "../report/report.h"
#include "../results/samples.h"
#include "../stats/changepoint.h"
#include "../stats/stats.h"
#include "../store/store.h"
#include "../topo/plan.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A scenario's series, once it ran: its lines on stdout, its exit status */
static int show_scenario(void *user, const struct series_result *r)
{
        return series_finish(r, stdout, NULL, false);
}

/* Is topology i's name one an earlier scenario of the plan already had? */
static bool seen_before(struct topo *const *topos, unsigned i)
{
        for (unsigned k = 0; k < i; k++)
                if (streq(topo_label(topos[k]), topo_label(topos[i])))
                        return true;
        return false;
}

/* What confirms a change point: the same topology, the kernels on both sides */
static void print_confirm(const char *file, struct json_object *c)
{
        const char *kb = jstr(c, "kernels_before"), *ka = jstr(c, "kernels_after");
        if (kb && ka && streq(kb, ka)) {
                printf("#   the kernels are the same on both sides (%s): what changed is not the "
                       "kernel (settings, tools, host: compare the runs' JSON)\n",
                       kb);
                return;
        }
        _cleanup_json_ struct json_object *b = kb ? json_tokener_parse(kb) : NULL,
                                          *a = ka ? json_tokener_parse(ka) : NULL;
        const char *rb = NULL, *ra = NULL;
        json_object_object_foreach (b, n1, v1) {
                (void)n1;
                rb = json_object_get_string(v1);
                break;
        }
        json_object_object_foreach (a, n2, v2) {
                (void)n2;
                ra = json_object_get_string(v2);
                break;
        }
        printf("#   confirm: mptcplab compare %s --kernel-a %s --kernel-b %s --runs 5\n", file,
               rb ? rb : "BEFORE", ra ? ra : "AFTER");
        printf("#   then, between the two builds' commits: git bisect start AFTER BEFORE && git "
               "bisect run lab/bisect-step TREE %s BASELINE (docs/bisect.md)\n",
               file);
}

/* confirm: true in the plan. The compare between the kernels on both sides of
 * a new regression (the scenario's settings of tonight, at least 3 runs a
 * side); its KTAP goes to stderr, the nightly's stdout stays one document.
 * Says the outcome, notes it on the change point, and adds it to out. */
static void run_confirm(const struct plan *p, const struct plan_scenario *s, struct store *db,
                        struct json_object *c, const char *dbpath, const char *lab,
                        struct json_object *out)
{
        const char *kb = jstr(c, "kernels_before"), *ka = jstr(c, "kernels_after");
        if (!kb || !ka || streq(kb, ka))
                return; /* print_confirm said the kernel is not what changed */
        _cleanup_free_ char *before = nightly_night_kernel(db, jstr(c, "series_before") ?: ""),
                            *after = nightly_night_kernel(db, jstr(c, "series_after") ?: "");
        if (jstr(c, "note")) { /* confirmed (or not) on the night it was found */
                printf("#   confirmation: %s\n", jstr(c, "note"));
                return;
        }
        int64_t id = 0;
        jint(c, "id", &id);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "change", json_object_new_int64(id));
        json_object_array_add(out, o);
        if (!before || !after) {
                printf("#   confirmation: not run, the kernel of a night is unknown\n");
                json_object_object_add(o, "outcome", json_object_new_string("not run"));
                return;
        }
        unsigned runs = s->runs > 3 ? s->runs : 3;
        char agent_buf[PATH_MAX];
        struct series_opts so = {.file = s->topology,
                                 .sets_a = s->sets,
                                 .n_sets_a = s->n_sets,
                                 .kernel_a = before,
                                 .kernel_b = after,
                                 .runs = runs,
                                 .compare = true,
                                 .backend = p->backend ? p->backend : "libvirt",
                                 .inventory = p->inventory,
                                 .db = dbpath,
                                 .lab = lab,
                                 .agent_path = find_agent(agent_buf, sizeof agent_buf)};
        fprintf(stderr,
                "mptcplab: nightly %s: confirming change %lld: compare %s --kernel-a %s "
                "--kernel-b %s --runs %u\n",
                p->name, (long long)id, s->topology, before, after, runs);
        /* the confirmation's own lines go to stderr: stdout is the nightly's KTAP */
        struct series_result sr;
        series_run(&so, &sr);
        int r = series_finish(&sr, stderr, NULL, false);
        series_result_clear(&sr);
        const char *outcome = r == EXIT_REGRESSION ? "confirmed"
                              : r == EXIT_OK       ? "not confirmed"
                                                   : "could not run";
        printf("#   confirmation: %s (compare %s --kernel-a %s --kernel-b %s --runs %u: exit "
               "%d)\n",
               outcome, s->topology, before, after, runs, r);
        json_object_object_add(o, "kernel_a", json_object_new_string(before));
        json_object_object_add(o, "kernel_b", json_object_new_string(after));
        json_object_object_add(o, "runs", json_object_new_int((int)runs));
        json_object_object_add(o, "exit", json_object_new_int(r));
        json_object_object_add(o, "outcome", json_object_new_string(outcome));
        /* the triage state stays new: a person decides */
        _cleanup_free_ char *note = xasprintf("%s by the nightly's compare %s -> %s (exit %d)",
                                              outcome, before, after, r);
        char *err = NULL;
        if (store_change_set_state(db, id, "new", note, &err) < 0) {
                log_warn("%s", err);
                free(err);
        }
}

int verb_nightly(int argc, char **argv)
{
        const char *plan_file = NULL, *dbp = NULL, *json_out = NULL;
        bool all_metrics = false;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (streq(argv[i], "--json") && i + 1 < argc)
                        json_out = argv[++i];
                else if (streq(argv[i], "--all-metrics"))
                        all_metrics = true;
                else if (!plan_file && argv[i][0] != '-')
                        plan_file = argv[i];
                else {
                        plan_file = NULL;
                        break;
                }
        }
        if (!plan_file) {
                fprintf(stderr, "usage: mptcplab nightly PLAN [--db PATH] [--json OUT] "
                                "[--all-metrics]\n");
                return EXIT_INPUT;
        }
        struct plan *p = NULL;
        struct topo_errors errs = {0};
        if (plan_parse_file(plan_file, backend_names(), &p, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                topo_errors_clear(&errs);
                return EXIT_INPUT;
        }
        /* the scenarios' topologies, checked before anything runs */
        struct topo **topos = xcalloc(p->n, sizeof *topos);
        int rc = EXIT_OK;
        for (unsigned i = 0; i < p->n; i++)
                if (topo_parse_file_set(p->s[i].topology, p->s[i].sets, p->s[i].n_sets, &topos[i],
                                        &errs) < 0 ||
                    metric_check_topo(topos[i], &errs) < 0)
                        rc = EXIT_INPUT;
        /* a topology's matrix: a scenario per cell, each with its history */
        if (rc == EXIT_OK && nightly_expand_matrix(p, &topos, &errs) < 0)
                rc = EXIT_INPUT;
        for (unsigned i = 0; i < errs.n; i++)
                fprintf(stderr, "%s\n", errs.msgs[i]);
        topo_errors_clear(&errs);
        /* one nightly at a time: a second one finds the first and says so */
        struct hostlock lock;
        char *holder = NULL;
        _cleanup_free_ char *what = xasprintf("mptcplab nightly %s", plan_file);
        int lr = rc == EXIT_OK ? hostlock_take_named(&lock, "mptcplab-nightly.lock", what, &holder)
                               : -1;
        bool locked = rc == EXIT_OK && lr == 0;
        if (rc == EXIT_OK && lr < 0) {
                if (lr == -EBUSY)
                        log_error("another nightly is still running (%s): not starting a second",
                                  holder ? holder : "holder unknown");
                else
                        log_errno(LOG_LVL_ERROR, lr, "cannot take the nightly lock");
                free(holder);
                rc = EXIT_INFRA;
        }
        char *err = NULL;
        _cleanup_free_ char *kernel = NULL;
        if (rc == EXIT_OK && p->kernel_drop && !(kernel = nightly_kernel(p, &err))) {
                log_error("%s", err);
                free(err);
                err = NULL;
                rc = EXIT_INPUT;
        } else if (p->kernel)
                kernel = xstrdup(p->kernel);
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        const char *dbpath = dbp ? dbp : p->db;
        char agent_buf[PATH_MAX];
        struct json_object *out = json_object_new_object(), *scen = json_object_new_array();
        json_object_object_add(out, "schema", json_object_new_string("mptcplab.nightly/1"));
        json_object_object_add(out, "plan", json_object_new_string(p->name));
        json_object_object_add(out, "lab", json_object_new_string(p->lab ? p->lab : host));
        bool infra = false;
        if (rc == EXIT_OK) {
                struct nightly_opts no = {.p = p,
                                          .kernel = kernel,
                                          .dbpath = dbpath,
                                          .lab = p->lab ? p->lab : host,
                                          .agent_path = find_agent(agent_buf, sizeof agent_buf),
                                          .on_run = show_run,
                                          .on_series = show_scenario};
                json_object_put(scen);
                scen = nightly_scenarios(&no, &infra);
        }
        json_object_object_add(out, "scenarios", scen);
        /* history: change points per topology */
        struct store *db = rc == EXIT_OK ? open_db(dbpath) : NULL;
        if (rc == EXIT_OK && !db)
                rc = EXIT_INFRA;
        struct json_object *found = json_object_new_array(), *tests = json_object_new_array(),
                           *confirms = json_object_new_array();
        unsigned n_tests = 0, failed = 0;
        if (db) {
                printf("KTAP version 1\n");
                for (unsigned i = 0; i < p->n; i++) {
                        if (seen_before(topos, i))
                                continue;
                        if (nightly_analyse(db, topo_label(topos[i]), topos[i], all_metrics, found,
                                            &err) < 0) {
                                log_error("%s", err);
                                free(err);
                                err = NULL;
                                infra = true;
                        }
                }
                /* one test per topology: not ok while it has a new regression */
                unsigned distinct = 0;
                for (unsigned i = 0; i < p->n; i++)
                        distinct += !seen_before(topos, i);
                printf("1..%u\n# nightly %s: change points in each topology's history (key "
                       "metrics; E-divisive means, p < 0.001, at least the metric's threshold)\n",
                       distinct, p->name);
                for (unsigned i = 0; i < p->n; i++) {
                        if (seen_before(topos, i))
                                continue;
                        struct json_object *rows = NULL;
                        if (store_changes(db, topo_label(topos[i]), NULL, &rows, &err) < 0) {
                                log_error("%s", err);
                                free(err);
                                err = NULL;
                                infra = true;
                                continue;
                        }
                        unsigned news = 0;
                        for (size_t k = 0; k < json_object_array_length(rows); k++) {
                                struct json_object *c = json_object_array_get_idx(rows, k);
                                int64_t reg = 0;
                                jint(c, "regression", &reg);
                                news += reg && streq(jstr(c, "state") ?: "", "new");
                        }
                        n_tests++;
                        failed += news > 0;
                        const char *skip = jstr(json_object_array_get_idx(scen, i), "skip");
                        if (skip)
                                printf("ok %u %s # SKIP %s\n", n_tests, topo_label(topos[i]), skip);
                        else
                                printf("%s %u %s # %u change point(s), %u new regression(s)\n",
                                       news ? "not ok" : "ok", n_tests, topo_label(topos[i]),
                                       (unsigned)json_object_array_length(rows), news);
                        for (size_t k = 0; k < json_object_array_length(rows); k++) {
                                struct json_object *c = json_object_array_get_idx(rows, k);
                                double rel = 0, mb = 0, ma = 0;
                                int64_t id = 0, reg = 0;
                                jdouble(c, "rel", &rel);
                                jdouble(c, "mean_before", &mb);
                                jdouble(c, "mean_after", &ma);
                                jint(c, "id", &id);
                                jint(c, "regression", &reg);
                                printf("#   change %lld [%s] %s.%s: %.4g -> %.4g (%+.2f%%), a %s, "
                                       "between nights %s and %s\n",
                                       (long long)id, jstr(c, "state") ?: "?",
                                       jstr(c, "workload") ?: "?", jstr(c, "metric") ?: "?", mb, ma,
                                       100 * rel, reg ? "regression" : "improvement",
                                       jstr(c, "series_before") ?: "?",
                                       jstr(c, "series_after") ?: "?");
                                if (reg && streq(jstr(c, "state") ?: "", "new")) {
                                        print_confirm(p->s[i].topology, c);
                                        if (p->confirm)
                                                run_confirm(p, &p->s[i], db, c, dbpath,
                                                            p->lab ? p->lab : host, confirms);
                                }
                        }
                        json_object_array_add(tests, rows);
                }
                printf("# %u of %u topologies with a new regression; `mptcplab changes ack ID "
                       "--note TEXT` acknowledges one\n",
                       failed, n_tests);
        }
        json_object_object_add(out, "change_points", tests);
        json_object_object_add(out, "confirmations", confirms);
        json_object_put(found);
        int exit_rc = rc != EXIT_OK ? rc : failed ? EXIT_REGRESSION : infra ? EXIT_INFRA : EXIT_OK;
        json_object_object_add(out, "exit", json_object_new_int(exit_rc));
        if (json_out && json_write_file(json_out, out, JSON_C_TO_STRING_PRETTY) < 0) {
                log_error("cannot write %s", json_out);
                exit_rc = exit_rc == EXIT_OK ? EXIT_INFRA : exit_rc;
        }
        json_object_put(out);
        /* the report of the last night of the last topology */
        if (db && p->report && p->n) {
                struct samples h = {0};
                if (store_history_samples(db, topo_label(topos[p->n - 1]), &h, &err) == 0 && h.n &&
                    h.v[h.n - 1].series) {
                        time_t now = time(NULL);
                        struct tm tm;
                        gmtime_r(&now, &tm);
                        char day[32];
                        strftime(day, sizeof day, "%Y-%m-%d", &tm);
                        _cleanup_free_ char *dir = xasprintf("%s/%s-%s", p->report, p->name, day);
                        char *index = NULL;
                        if (report_write(db, h.v[h.n - 1].series, NULL, dir, &index, &err) == 0)
                                fprintf(stderr, "mptcplab: nightly report in %s\n", index);
                        else
                                log_warn("no report: %s", err);
                        free(index);
                }
                free(err);
                err = NULL;
                samples_clear(&h);
        }
        store_close(db);
        if (locked)
                hostlock_release(&lock);
        for (unsigned i = 0; i < p->n; i++)
                topo_free(topos[i]);
        free(topos);
        plan_free(p);
        return exit_rc;
}

int verb_changes(int argc, char **argv)
{
        const char *dbp = NULL, *topology = NULL, *state = NULL, *note = NULL, *action = NULL;
        int64_t id = -1;
        bool json = false;
        static const struct option opts[] = {{"db", required_argument, NULL, 'd'},
                                             {"state", required_argument, NULL, 's'},
                                             {"note", required_argument, NULL, 'n'},
                                             {"json", no_argument, NULL, 'j'},
                                             {}};
        static const char usage[] = "usage: mptcplab changes [TOPOLOGY] [--state S] [--json] "
                                    "| changes ack|ignore|fixed|reopen ID --note TEXT\n";
        /* options go anywhere: getopt_long moves the operands to the end */
        int opt;
        optind = 1;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (opt) {
                case 'd':
                        dbp = optarg;
                        break;
                case 's':
                        state = optarg;
                        break;
                case 'n':
                        note = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                default:
                        log_error("changes: %s \"%s\"",
                                  optopt ? "option needs a value:" : "unknown option",
                                  argv[optind - 1]);
                        fputs(usage, stderr);
                        return EXIT_INPUT;
                }
        }
        static const char *const actions[] = {"ack", "ignore", "fixed", "reopen"};
        for (unsigned i = 0; optind < argc && i < ELEMENTSOF(actions); i++)
                if (streq(argv[optind], actions[i]))
                        action = argv[optind++];
        if (action && optind < argc) {
                char *end;
                long long v = strtoll(argv[optind], &end, 10);
                if (*end || v < 1) {
                        log_error("changes %s: \"%s\" is not a change point id", action,
                                  argv[optind]);
                        return EXIT_INPUT;
                }
                id = v;
                optind++;
        } else if (!action && optind < argc)
                topology = argv[optind++];
        if (optind < argc) {
                log_error("changes: unexpected argument \"%s\"", argv[optind]);
                fputs(usage, stderr);
                return EXIT_INPUT;
        }
        static const char *const states[] = {"new", "acknowledged", "ignored", "fixed"};
        if (state) {
                bool ok = false;
                for (unsigned i = 0; i < ELEMENTSOF(states); i++)
                        ok |= streq(state, states[i]);
                if (!ok) {
                        log_error("changes: --state is new, acknowledged, ignored or fixed");
                        return EXIT_INPUT;
                }
        }
        if (action && (id < 0 || (!note && !streq(action, "reopen")))) {
                log_error("changes %s: give the change point's ID and --note TEXT (why)", action);
                return EXIT_INPUT;
        }
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        char *err = NULL;
        int rc = EXIT_OK;
        if (action) {
                const char *st = streq(action, "ack")      ? "acknowledged"
                                 : streq(action, "ignore") ? "ignored"
                                 : streq(action, "fixed")  ? "fixed"
                                                           : "new";
                int r = store_change_set_state(db, id, st, note, &err);
                if (r < 0) {
                        log_error("%s", err);
                        rc = r == -ENOENT ? EXIT_INPUT : EXIT_INFRA;
                } else
                        printf("change %lld: %s%s%s\n", (long long)id, st, note ? ": " : "",
                               note ? note : "");
        } else {
                struct json_object *rows = NULL;
                if (store_changes(db, topology, state, &rows, &err) < 0) {
                        log_error("%s", err);
                        rc = EXIT_INFRA;
                } else if (json)
                        printf("%s\n",
                               json_object_to_json_string_ext(rows, JSON_C_TO_STRING_PRETTY));
                else {
                        printf("%-5s %-13s %-16s %-14s %-22s %9s  %-34s %s\n", "id", "state",
                               "topology", "workload", "metric", "change", "nights (before/after)",
                               "note");
                        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                                struct json_object *c = json_object_array_get_idx(rows, i);
                                double rel = 0;
                                int64_t cid = 0;
                                jdouble(c, "rel", &rel);
                                jint(c, "id", &cid);
                                printf("%-5lld %-13s %-16s %-14s %-22s %+8.2f%%  %.16s/%.16s %s\n",
                                       (long long)cid, jstr(c, "state") ?: "",
                                       jstr(c, "topology") ?: "", jstr(c, "workload") ?: "",
                                       jstr(c, "metric") ?: "", 100 * rel,
                                       jstr(c, "series_before") ?: "",
                                       jstr(c, "series_after") ?: "", jstr(c, "note") ?: "");
                        }
                }
                json_object_put(rows);
        }
        free(err);
        store_close(db);
        return rc;
}

int verb_exclude(int argc, char **argv)
{
        const char *dbp = NULL, *id = NULL, *reason = NULL;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (streq(argv[i], "--reason") && i + 1 < argc)
                        reason = argv[++i];
                else if (!id && argv[i][0] != '-')
                        id = argv[i];
                else {
                        id = NULL;
                        break;
                }
        }
        if (!id || !reason || !*reason) {
                fprintf(stderr, "usage: mptcplab exclude RUN|SERIES --reason TEXT [--db PATH]\n");
                return EXIT_INPUT;
        }
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        char *err = NULL;
        int r = store_exclude(db, id, reason, &err);
        store_close(db);
        if (r < 0) {
                log_error("%s", err);
                free(err);
                return r == -ENOENT ? EXIT_INPUT : EXIT_INFRA;
        }
        printf("%d run(s) of %s excluded from history: %s\n", r, id, reason);
        return EXIT_OK;
}
