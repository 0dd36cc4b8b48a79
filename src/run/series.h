/* series.h - repetitions and verdicts on top of single runs: run --runs N,
 * compare (two kernels or settings, A B A B), check (against a saved
 * baseline). The conductor of a series: it runs, stores and judges, and says
 * how it went in a typed result; it never prints data (stdout) and never
 * returns an exit status. Its callers show the result (report/series_report.h). */
#pragma once
#include "lab.h"
#include "../results/series.h"

struct series_opts {
        const char *file;
        char **sets_a, **sets_b; /* --set applies to both; --set-a / --set-b to one side */
        unsigned n_sets_a, n_sets_b;
        const char *kernel_a, *kernel_b;
        unsigned runs;          /* counted runs per side; 0: a single run, no warm-up */
        bool runs_auto;         /* runs is the most; stop when every key metric is decided */
        unsigned max_runs;      /* --max-runs, with runs_auto */
        bool no_warmup_run;     /* --warmup-runs 0 */
        bool warmup_run_forced; /* --warmup-runs 1 (default auto) */
        bool compare, no_store;
        bool blocked;          /* --order blocked: every A run, then every B run */
        bool allow_concurrent; /* share the host with other runs, and say so */
        bool allow_different;  /* check against a baseline of other topology settings */
        const char *baseline;  /* check: compare against this baseline */
        const char *backend, *agent_path, *uri, *run_dir, *db;
        const char *links;     /* --links udp|bridge (libvirt) */
        const char *inventory; /* --inventory FILE (ssh) */
        const char *lab;       /* the lab's name in the results (a nightly plan's) */
        /* a matrix's cells judged together: each cell's key tests gate at the
         * level that keeps the whole matrix's false regressions at 5%. 0: 1 */
        unsigned family_cells;
        /* Each run as it ends (warm-up runs too), for a caller that shows runs
         * (`run` prints each one's table); the result is freed after. A false
         * return makes the run's outcome OUTCOME_INFRA (its JSON could not be
         * written). NULL: nothing. */
        bool (*on_run)(void *user, const struct series_opts *o, const struct topo *t,
                       const struct run_result *res, const char *side, bool warmup);
        void *user;
};

/* Runs the series o asks for; returns its outcome (also in ret->outcome). */
enum outcome series_run(const struct series_opts *o, struct series_result *ret);
