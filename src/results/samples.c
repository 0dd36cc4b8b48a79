#include "samples.h"
#include "../shared/util.h"
#include "../stats/stats.h"

#include <math.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

bool samples_add(struct samples *s, const char *run, const char *side, const char *accel,
                 const char *workload, const char *metric, double value, bool valid,
                 const char *reason)
{
        const struct metric *m = metric ? metric_find(metric) : NULL;
        if (!m || !run || !workload)
                return false;
        s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
        s->v[s->n++] = (struct sample){.run = xstrdup(run),
                                       .side = dup_or_null(side),
                                       .accel = dup_or_null(accel),
                                       .workload = xstrdup(workload),
                                       .metric = m,
                                       .value = value,
                                       .valid = valid,
                                       .reason = dup_or_null(reason)};
        return true;
}

void samples_clear(struct samples *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].run);
                free(s->v[i].series);
                free(s->v[i].side);
                free(s->v[i].accel);
                free(s->v[i].workload);
                free(s->v[i].reason);
        }
        free(s->v);
        *s = (struct samples){0};
}

static bool matches(const struct sample *x, const char *side, const char *wl,
                    const struct metric *m)
{
        return (!side || (x->side && streq(x->side, side))) && streq(x->workload, wl) &&
               x->metric == m;
}

void samples_values(const struct samples *s, const char *side, const char *wl,
                    const struct metric *m, bool valid, double **v, size_t *n)
{
        *n = 0;
        *v = xcalloc(s->n + 1, sizeof(double));
        for (size_t i = 0; i < s->n; i++)
                if (matches(&s->v[i], side, wl, m) && s->v[i].valid == valid &&
                    isfinite(s->v[i].value))
                        (*v)[(*n)++] = s->v[i].value;
}

bool samples_has(const struct samples *s, const char *side, const char *wl, const struct metric *m)
{
        for (size_t i = 0; i < s->n; i++)
                if (matches(&s->v[i], side, wl, m))
                        return true;
        return false;
}

unsigned samples_workloads(const struct samples *s, const char **out, unsigned max)
{
        unsigned n = 0;
        for (size_t i = 0; i < s->n; i++) {
                bool seen = false;
                for (unsigned k = 0; k < n && !seen; k++)
                        seen = streq(out[k], s->v[i].workload);
                if (!seen && n < max)
                        out[n++] = s->v[i].workload;
        }
        return n;
}

struct json_object *samples_json(const struct samples *s)
{
        struct json_object *a = json_object_new_array();
        for (size_t i = 0; i < s->n; i++) {
                const struct sample *x = &s->v[i];
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "run", json_object_new_string(x->run));
                if (x->accel)
                        json_object_object_add(o, "accel", json_object_new_string(x->accel));
                json_object_object_add(o, "side", x->side ? json_object_new_string(x->side) : NULL);
                json_object_object_add(o, "workload", json_object_new_string(x->workload));
                json_object_object_add(o, "metric", json_object_new_string(x->metric->name));
                json_object_object_add(
                        o, "value", isfinite(x->value) ? json_object_new_double(x->value) : NULL);
                json_object_object_add(o, "valid", json_object_new_boolean(x->valid));
                if (x->reason)
                        json_object_object_add(o, "reason", json_object_new_string(x->reason));
                json_object_array_add(a, o);
        }
        return a;
}

double samples_pooled_cv(const struct samples *s, const char *wl, const struct metric *m,
                         unsigned *runs, unsigned *series)
{
        double num = 0, den = 0;
        *runs = *series = 0;
        for (size_t i = 0; i < s->n; i++) {
                const char *sr = s->v[i].series;
                bool first = true;
                for (size_t k = 0; k < i && first; k++)
                        first = !(s->v[k].series && sr && streq(s->v[k].series, sr));
                if (!sr || !first)
                        continue;
                /* the values of this series */
                double *v = xcalloc(s->n, sizeof *v);
                size_t n = 0;
                for (size_t k = i; k < s->n; k++) {
                        const struct sample *x = &s->v[k];
                        if (x->series && streq(x->series, sr) && x->valid && x->metric == m &&
                            streq(x->workload, wl) && isfinite(x->value))
                                v[n++] = x->value;
                }
                if (n >= 3) {
                        double cv = stats_cv(v, n);
                        num += (double)(n - 1) * cv * cv;
                        den += (double)(n - 1);
                        *runs += (unsigned)n;
                        (*series)++;
                }
                free(v);
        }
        return den > 0 ? sqrt(num / den) : -1;
}
