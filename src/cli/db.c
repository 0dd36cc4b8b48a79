/* db.c - the verbs that read the results database or file records in it:
 * history, baseline, report. */
#include "verbs.h"
#include "../report/report.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "../store/store.h"

#include <errno.h>
#include <stdio.h>

/* The database for a verb that only reads or files records; NULL (said) on failure. */
struct store *open_db(const char *path)
{
        struct store *db = NULL;
        char *err = NULL;
        if (store_open(path, &db, &err) < 0) {
                log_error("%s", err);
                free(err);
                return NULL;
        }
        return db;
}

int verb_history(int argc, char **argv)
{
        const char *dbp = NULL, *topo = NULL;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (argv[i][0] != '-')
                        topo = argv[i];
                else {
                        log_error("history: unknown option %s", argv[i]);
                        return EXIT_INPUT;
                }
        }
        struct store *db;
        struct json_object *rows;
        char *err = NULL;
        if (store_open(dbp, &db, &err) < 0 || store_history(db, topo, 50, &rows, &err) < 0) {
                log_error("%s", err);
                free(err);
                return EXIT_INFRA;
        }
        printf("%-10s %-10s %-4s %-18s %-8s %-21s %-8s %-7s %s\n", "run", "series", "side",
               "topology", "backend", "started", "status", "warmup", "kernels");
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                struct json_object *r = json_object_array_get_idx(rows, i);
                printf("%-10s %-10s %-4s %-18s %-8s %-21s %-8s %-7s %s\n", jstr(r, "run_id"),
                       jstr(r, "series"), jstr(r, "side") ?: "-", jstr(r, "topology"),
                       jstr(r, "backend"), jstr(r, "started_at"), jstr(r, "status"),
                       json_object_get_int(jpath(r, "warmup", NULL)) ? "yes" : "no",
                       jstr(r, "kernels") ?: "");
        }
        json_object_put(rows);
        store_close(db);
        return EXIT_OK;
}

int verb_baseline(int argc, char **argv)
{
        const char *dbp = NULL, *run = NULL, *name = NULL, *sub = argc > 1 ? argv[1] : NULL;
        for (int i = 2; i < argc; i++) {
                if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (streq(argv[i], "--run") && i + 1 < argc)
                        run = argv[++i];
                else if (argv[i][0] != '-' && !name)
                        name = argv[i];
                else {
                        log_error("baseline: unexpected %s", argv[i]);
                        return EXIT_INPUT;
                }
        }
        if (!sub || (!streq(sub, "save") && !streq(sub, "list")) ||
            (streq(sub, "save") && (!name || !run))) {
                log_error("usage: mptcplab baseline save NAME --run SERIES|RUN [--db PATH] | "
                          "baseline list [--db PATH]");
                return EXIT_INPUT;
        }
        char *err = NULL;
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        int rc = EXIT_OK;
        if (streq(sub, "save")) {
                int n = store_baseline_save(db, name, run, &err);
                if (n < 0) {
                        log_error("%s", err);
                        free(err);
                        rc = n == -ENOENT ? EXIT_INPUT : EXIT_INFRA;
                } else
                        printf("baseline %s: %d run(s) from %s\n", name, n, run);
        } else {
                struct json_object *rows;
                if (store_baseline_list(db, &rows, &err) < 0) {
                        log_error("%s", err);
                        free(err);
                        rc = EXIT_INFRA;
                } else {
                        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                                struct json_object *r = json_object_array_get_idx(rows, i);
                                printf("%-20s %-21s %-12s %3d runs  %s\n", jstr(r, "name"),
                                       jstr(r, "created_at"), jstr(r, "source"),
                                       json_object_get_int(jpath(r, "runs", NULL)),
                                       jstr(r, "topology") ?: "");
                        }
                        json_object_put(rows);
                }
        }
        store_close(db);
        return rc;
}

/* mptcplab report ID [--baseline NAME] [--out DIR] [--db PATH]: a series' or
 * a run's report (against a baseline: a check's) */
int verb_report(int argc, char **argv)
{
        const char *id = NULL, *out = NULL, *dbp = NULL, *baseline = NULL;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--out") && i + 1 < argc)
                        out = argv[++i];
                else if (streq(argv[i], "--baseline") && i + 1 < argc)
                        baseline = argv[++i];
                else if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (!id && argv[i][0] != '-')
                        id = argv[i];
                else {
                        id = NULL;
                        break;
                }
        }
        if (!id) {
                fprintf(stderr, "usage: mptcplab report SERIES|RUN [--baseline NAME] [--out DIR] "
                                "[--db PATH]\n");
                return EXIT_INPUT;
        }
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        _cleanup_free_ char *reports = lab_data_path("reports");
        _cleanup_free_ char *dflt = xasprintf("%s/%s", reports, id);
        char *index = NULL, *err = NULL;
        int r = report_write(db, id, baseline, out ? out : dflt, &index, &err);
        store_close(db);
        if (r < 0) {
                log_error("report %s: %s", id, err);
                free(err);
                return r == -ENOENT ? EXIT_INPUT : EXIT_INFRA;
        }
        printf("%s\n", index);
        free(index);
        return EXIT_OK;
}
