/* metrics.h - the one registry of what the lab measures and judges: each
 * metric's name, unit, better direction, default threshold (the smallest
 * relative change that matters), and how it is computed from a workload's
 * result. The samples stored with a run, the verdicts, the tables and the
 * reports all take a metric's definition from here and from nowhere else. */
#pragma once
#include "result.h"

#include <stdbool.h>

struct metric {
        const char *name;  /* as stored and judged: "goodput_mbps" */
        const char *unit;  /* "Mbit/s", "" for a ratio or a count */
        const char *label; /* for people: "goodput" */
        bool higher_is_better;
        double threshold; /* default; --threshold METRIC=PERCENT changes it for a run */
        /* the metric of one workload's result; false when that workload has none
         * (a CPU share a backend cannot measure, latency of a stream...) */
        bool (*get)(const struct wl_result *w, double *ret);
        /* a key metric decides the exit status; the others inform. Goodput by
         * default; a workload may name its own (key_metrics: in the topology) */
        bool key;
        /* from a counter some backends lack (TCG's instruction counter): key
         * only where the run has it, and listed as key only there */
        bool where_counted;
        /* each run's value is 0 or 1 (a run that did not recover): judged as
         * the share of runs, the change in points (stats_judge_share) */
        bool share;
};

/* Every metric, in the order tables show them. */
const struct metric *metric_all(unsigned *n);
const struct metric *metric_find(const char *name);
/* The threshold in force (the default unless --threshold changed it). */
double metric_threshold(const struct metric *m);
/* Is m a key metric of this workload (its topology's key_metrics, else the
 * registry's default)? */
bool metric_is_key(const struct metric *m, const struct topo_workload *w);
/* Every workload's key_metrics name a metric of the registry: 0, or -EINVAL
 * with a FILE:LINE:COL error in errs for each that does not. */
int metric_check_topo(const struct topo *t, struct topo_errors *errs);
/* "goodput_mbps=0.5": 0, -EINVAL (not METRIC=PERCENT in (0, 100)), -ENOENT. */
int metric_set_threshold(const char *spec);
