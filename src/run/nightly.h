/* nightly.h - the conductor of a nightly plan: its kernel, its scenarios'
 * series, the change points of each topology's history */
#pragma once
#include "series.h"
#include "../topo/plan.h"

struct store;

/* The kernel the plan runs: the newest build CI dropped in its kernel_drop
 * directory (a bzImage or a build tree), else its kernel; NULL with *err
 * when the drop has none */
char *nightly_kernel(const struct plan *p, char **err);

struct nightly_opts {
        const struct plan *p;
        const char *kernel, *dbpath, *lab, *agent_path;
        /* each scenario's runs (series_opts.on_run), and its series once it
         * ran: the caller shows it and says the exit status it stands for */
        bool (*on_run)(void *user, const struct series_opts *o, const struct topo *t,
                       const struct run_result *res, const char *side, bool warmup);
        int (*on_series)(void *user, const struct series_result *r);
        void *user;
};

/* Runs the plan's scenarios within its budget: [{"topology", "exit" |
 * "skipped"}]; *infra when one could not run (or was skipped) */
struct json_object *nightly_scenarios(const struct nightly_opts *o, bool *infra);

/* The change points of one topology's history: per workload and metric (only
 * key metrics unless all_metrics), the medians of each night in order,
 * searched with the metric's threshold as the smallest change; new ones are
 * stored, all are added to found as {"id", "new", "night"} */
int nightly_analyse(struct store *db, const char *topology, const struct topo *t, bool all_metrics,
                    struct json_object *found, char **err);
/* The kernel a night ran, as --kernel takes it, or NULL */
char *nightly_night_kernel(struct store *db, const char *series);

/* A scenario whose topology has a matrix becomes one scenario per cell (its
 * sets and the cell's matrix.AXIS=VALUE), each with its own history;
 * topos[i] is scenario i's model, parsed again for each cell. Errors into
 * errs; returns -EINVAL then. */
int nightly_expand_matrix(struct plan *p, struct topo ***topos, struct topo_errors *errs);
