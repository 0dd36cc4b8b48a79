/* store.h - the results database: SQLite (a file, WAL; the default) or
 * PostgreSQL (a postgresql:// URI, shared by several labs), same schema (db.h).
 * A run and all its samples go in one transaction, at the end of the run: a
 * controller killed mid-run leaves the database as it was. Schema versioned
 * (SQLite's user_version, PostgreSQL's mptcplab_schema table) and migrated
 * forward on open. */
#pragma once
#include "../results/samples.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

struct store;

/* path: a file, or postgresql://USER@HOST:PORT/DB (libpq's URI); NULL:
 * $XDG_DATA_HOME/mptcplab/results.db (~/.local/share/...). */
int store_open(const char *path, struct store **ret, char **err);
struct store *store_close(struct store *s);
const char *store_path(const struct store *s);

struct store_sample {
        const char *workload, *metric;
        double value;
        bool valid;
        const char *reason; /* why not valid */
};

struct store_run {
        const char *run_id, *series, *side, *topology, *topology_file, *topology_hash;
        const char *backend, *host, *started_at, *ended_at, *status, *error;
        const char *kernels;      /* JSON object: node -> kernel release */
        const char *tools;        /* JSON object: tool versions */
        const char *result_json;  /* the run's whole JSON report */
        const char *accel;        /* JSON object: node -> kvm, tcg or host */
        const char *lab;          /* the lab's name (a nightly plan's), NULL: none given */
        const char *excluded;     /* why the run is left out of history, NULL: counted */
        const char *kernel_built; /* when its kernel was built (kernel_build_time), NULL: unknown */
        bool warmup;
        bool shared_host; /* measured next to another run (--allow-concurrent) */
        const struct store_sample *samples;
        unsigned n_samples;
};

/* One transaction; returns the row id or -errno with *err. While another
 * writer holds the database it waits, up to $MPTCPLAB_DB_WAIT_S seconds
 * (600), then fails with -EBUSY: the caller spools the run (below). */
int64_t store_add_run(struct store *s, const struct store_run *r, char **err);
/* A run as JSON, to keep it when it cannot be stored, and back into a store
 * (`mptcplab import FILE`). */
struct json_object *store_run_to_json(const struct store_run *r);
/* A run whose run_id the store has is left alone (*existed). An exported
 * baseline (format mptcplab-baseline-1) is stored with those of its runs the
 * store has; returns how many. */
int64_t store_import_json(struct store *s, struct json_object *o, bool *existed, char **err);

/* Which runs `mptcplab export` takes; NULL fields: any. series matches a
 * series or a run id. */
struct store_filter {
        const char *topology, *lab, *series;
};
/* Every run the filter selects (counted, warm-up, failed, excluded), oldest
 * first, as store_run_to_json gives it, then each baseline over them (format
 * mptcplab-baseline-1, the run ids of it exported); fn gets each object and
 * may fail (<0, with *err set) to stop. *err must be NULL on entry. Returns
 * the number of runs. */
int store_export(struct store *s, const struct store_filter *f,
                 int (*fn)(struct json_object *o, void *userdata, char **err), void *userdata,
                 char **err);

/* Samples of a series (or a single run id, or a baseline name), in the order
 * they were stored: valid ones only unless all is set. Appends to *ret. */
int store_samples(struct store *s, const char *what, const char *kind, bool all,
                  struct samples *ret, char **err);
/* kind: "series", "run" or "baseline" */
/* The valid samples of every counted run of the same topology (file and
 * overrides: topology_hash), kernels and accelerators, measured alone on the
 * host: what the lab knows of its own noise there. */
int store_samples_like(struct store *s, const char *topology_hash, const char *kernels,
                       const char *accel, struct samples *ret, char **err);
/* The run JSON (docs/run-json.md) of the counted runs of a series, run or
 * baseline, each with its "side": a JSON array. */
/* One metric (a name of the metric registry, never user text) of every valid
 * counted run of a topology, oldest first: [{run, series, started_at,
 * workload, value, in_baseline}]. */
int store_metric_history(struct store *s, const char *topology, const char *metric,
                         struct json_object **ret, char **err);
/* The run JSON of the latest `limit` counted runs of a topology_hash (file
 * and overrides) on this backend and host that ended ok, measured alone and
 * not excluded, newest first: a JSON array. */
int store_recent_reports(struct store *s, const char *topology_hash, const char *backend,
                         const char *host, unsigned limit, struct json_object **ret, char **err);
/* Each counted run's settings: run_id, topology_hash, host, accel, tools,
 * lab, kernels (JSON rows), for like-with-like checks. */
int store_run_meta(struct store *s, const char *what, const char *kind, struct json_object **ret,
                   char **err);
int store_run_reports(struct store *s, const char *what, const char *kind, struct json_object **ret,
                      char **err);

int store_baseline_save(struct store *s, const char *name, const char *id, char **err);
int store_baseline_list(struct store *s, struct json_object **ret, char **err);
int store_history(struct store *s, const char *topology, unsigned limit, struct json_object **ret,
                  char **err);

/* ---- nightly (docs/nightly.md) ---- */

/* The valid samples of every counted, not excluded run of a topology (by
 * name), measured alone, each with its series: in the order their kernels
 * were built (a kernel that says nothing of it: as if built when it ran). */
int store_history_samples(struct store *s, const char *topology, struct samples *ret, char **err);
/* The kernels (JSON text) of a series' first counted run. */
int store_series_kernels(struct store *s, const char *series, char **ret, char **err);

struct store_change_point {
        const char *topology, *workload, *metric;
        const char *series_before, *series_after; /* the nights on both sides */
        const char *kernels_before, *kernels_after;
        double mean_before, mean_after, rel, p;
        bool regression; /* in the metric's bad direction */
};
/* Records a change point once (topology, workload, metric, night after);
 * returns its id, *is_new when it was not known. */
int64_t store_change_point_add(struct store *s, const struct store_change_point *c, bool *is_new,
                               char **err);
/* The change points (topology, state: NULL for all), as JSON rows. */
int store_changes(struct store *s, const char *topology, const char *state,
                  struct json_object **ret, char **err);
/* Triage: state new, acknowledged, ignored or fixed, with a note. */
int store_change_set_state(struct store *s, int64_t id, const char *state, const char *note,
                           char **err);
/* A run (or every run of a series) left out of history, with why; it stays
 * in the database. Returns how many runs. */
int store_exclude(struct store *s, const char *run_id, const char *reason, char **err);
