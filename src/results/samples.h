/* samples.h - the samples of runs as typed values: one metric of one
 * workload of one run, valid or not (and why). A run makes them from its
 * typed results through the metric registry; the store gives them back the
 * same way; the verdicts, tables and reports read them from here, never from
 * JSON rows. */
#pragma once
#include "metrics.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct sample {
        char *run;    /* run id */
        char *series; /* its series, NULL when not known */
        char *side;   /* "A", "B", or NULL (a plain series, a baseline) */
        char *accel;  /* node -> accelerator, as JSON text; NULL for old runs */
        char *workload;
        const struct metric *metric; /* always in the registry */
        double value;                /* NaN: the run had none */
        bool valid;
        char *reason; /* why not valid */
};

struct samples {
        struct sample *v;
        size_t n;
};

/* Adds a sample with copies of the strings; a metric unknown to the registry
 * (a name an older lab stored) is no sample: false. A non-finite value (SQLite
 * keeps NaN as NULL) is kept, so the run is still seen, but never a value. */
bool samples_add(struct samples *s, const char *run, const char *side, const char *accel,
                 const char *workload, const char *metric, double value, bool valid,
                 const char *reason);
/* The run-to-run noise of one workload's metric: the coefficient of variation
 * within each series of at least 3 valid values, pooled over the series
 * (weighted by n - 1, so a slow drift between series is not counted as
 * noise). *runs gets how many values it rests on; -1 when no series has 3. */
double samples_pooled_cv(const struct samples *s, const char *wl, const struct metric *m,
                         unsigned *runs, unsigned *series);
void samples_clear(struct samples *s);

/* The finite values of one workload's metric on one side (NULL: all sides),
 * the valid ones or the others; *v is allocated (free it). */
void samples_values(const struct samples *s, const char *side, const char *wl,
                    const struct metric *m, bool valid, double **v, size_t *n);
/* Is there any sample, valid or not, of wl's metric on that side? */
bool samples_has(const struct samples *s, const char *side, const char *wl, const struct metric *m);
/* The distinct workloads, in order of appearance (at most max). */
unsigned samples_workloads(const struct samples *s, const char **out, unsigned max);
/* The samples as the series JSON shows them (docs/run-json.md). */
struct json_object *samples_json(const struct samples *s);
