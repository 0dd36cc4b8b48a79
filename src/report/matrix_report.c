/* matrix_report.c - a matrix's cells shown: see matrix_report.h */
#include "matrix_report.h"
#include "series_report.h"
#include "../results/metrics.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>

/* A cell's key metrics without a comparison: median and CV of its valid runs */
static void levels(FILE *f, struct json_object *arr, const struct series_result *r)
{
        const char *wls[64];
        unsigned n_wl = samples_workloads(&r->samples, wls, ELEMENTSOF(wls)), nm;
        const struct metric *m = metric_all(&nm);
        for (unsigned w = 0; w < n_wl; w++) {
                const struct topo_workload *tw = topo_find_workload(r->topo, wls[w]);
                for (unsigned k = 0; k < nm; k++) {
                        if (!metric_is_key(&m[k], tw) ||
                            !samples_has(&r->samples, NULL, wls[w], &m[k]))
                                continue;
                        double *v;
                        size_t n;
                        samples_values(&r->samples, NULL, wls[w], &m[k], true, &v, &n);
                        double med = n ? stats_median(v, n) : NAN, cv = n > 1 ? stats_cv(v, n) : 0;
                        if (f)
                                fprintf(f, "#   %s.%s: %.4g %s, CV %.2f%%, %zu valid run(s)\n",
                                        wls[w], m[k].name, med, m[k].unit, 100 * cv, n);
                        if (arr) {
                                struct json_object *o = json_object_new_object();
                                _cleanup_free_ char *name = xasprintf("%s.%s", wls[w], m[k].name);
                                json_object_object_add(o, "test", json_object_new_string(name));
                                json_object_object_add(o, "median", json_object_new_double(med));
                                json_object_object_add(o, "cv", json_object_new_double(cv));
                                json_object_object_add(o, "valid", json_object_new_int((int)n));
                                json_object_array_add(arr, o);
                        }
                        free(v);
                }
        }
}

void matrix_print(FILE *f, const struct matrix_result *m)
{
        size_t ran = 0, skipped = 0;
        unsigned gates = 0;
        double level = 0;
        for (size_t k = 0; k < m->n; k++) {
                const struct matrix_cell_result *c = &m->cells[k];
                ran += c->ran;
                skipped += c->ran && c->r.skip;
                if (c->ran && c->r.judged) {
                        gates += c->r.verdicts.n_gates;
                        level = c->r.verdicts.gate_level;
                }
        }
        fprintf(f, "KTAP version 1\n1..%zu\n# matrix %s: %zu cell(s), %zu skipped\n", m->n, m->file,
                m->n, skipped);
        if (m->family_cells)
                fprintf(f,
                        "# the key tests of every cell are one family: %u test(s) in %zu judged "
                        "cell(s), each at %.2f%% confidence, so that the chance of any false "
                        "regression in the matrix is at most 5%% (Bonferroni over %u cells)\n",
                        gates, ran - skipped, 100 * level, m->family_cells);
        for (size_t k = 0; k < m->n; k++) {
                const struct matrix_cell_result *c = &m->cells[k];
                if (!c->ran) {
                        fprintf(f, "not ok %zu (not run: the matrix stopped)\n", k + 1);
                        continue;
                }
                const struct series_result *r = &c->r;
                if (r->skip) {
                        fprintf(f, "ok %zu %s # SKIP %s\n", k + 1, c->label, r->skip);
                        continue;
                }
                bool bad = r->outcome != OUTCOME_OK;
                fprintf(f, "%s %zu %s%s\n", bad ? "not ok" : "ok", k + 1, c->label,
                        r->outcome == OUTCOME_REGRESSION ? " # a key test regressed"
                        : r->outcome == OUTCOME_INFRA    ? " # could not run (exit 3)"
                        : r->outcome == OUTCOME_INPUT    ? " # bad input (exit 2)"
                                                         : "");
                if (r->series[0])
                        fprintf(f, "#   series %s, %u run(s)\n", r->series, r->runs);
                if (!r->judged) {
                        levels(f, NULL, r);
                        continue;
                }
                for (size_t i = 0; i < r->verdicts.n; i++) {
                        const struct test_result *t = &r->verdicts.t[i];
                        if (!t->gates)
                                continue;
                        fprintf(f,
                                "#   %s (key): %.4g -> %.4g %s, %+.2f%% [%.3g%% CI %+.2f%%, "
                                "%+.2f%%], %s\n",
                                t->name, t->j.base_median, t->j.cand_median, t->metric->unit,
                                100 * t->j.rel_change, 100 * t->j.shift.confidence,
                                100 * t->j.rel_lo, 100 * t->j.rel_hi, verdict_name(t->j.verdict));
                }
        }
        unsigned regressed = 0;
        for (size_t k = 0; k < m->n; k++)
                regressed += m->cells[k].ran && m->cells[k].r.outcome == OUTCOME_REGRESSION;
        fprintf(f, "# %u of %zu cell(s) with a regression\n", regressed, m->n);
}

struct json_object *matrix_json(const struct matrix_result *m, int exit_code)
{
        struct json_object *o = json_object_new_object(), *cells = json_object_new_array();
        json_object_object_add(o, "schema", json_object_new_string("mptcplab.matrix/1"));
        json_object_object_add(o, "file", json_object_new_string(m->file));
        json_object_object_add(o, "family_cells", json_object_new_int((int)m->family_cells));
        for (size_t k = 0; k < m->n; k++) {
                const struct matrix_cell_result *c = &m->cells[k];
                struct json_object *co = json_object_new_object(), *ax = json_object_new_object();
                for (unsigned a = 0; a < TOPO_AXES; a++)
                        if (c->axes && c->axes[a])
                                json_object_object_add(ax, topo_axis_name(a),
                                                       json_object_new_string(c->axes[a]));
                json_object_object_add(co, "axes", ax);
                json_object_object_add(co, "label",
                                       c->label ? json_object_new_string(c->label) : NULL);
                json_object_object_add(co, "ran", json_object_new_boolean(c->ran));
                if (c->ran) {
                        json_object_object_add(
                                co, "skip", c->r.skip ? json_object_new_string(c->r.skip) : NULL);
                        json_object_object_add(co, "outcome", json_object_new_int(c->r.outcome));
                        if (!c->r.skip && c->r.series[0])
                                json_object_object_add(co, "series",
                                                       series_json(&c->r, (int)c->r.outcome));
                        if (c->r.judged) {
                                /* each key test's level: the matrix's family */
                                json_object_object_add(
                                        co, "gates",
                                        json_object_new_int((int)c->r.verdicts.n_gates));
                                json_object_object_add(
                                        co, "gate_level",
                                        json_object_new_double(c->r.verdicts.gate_level));
                        }
                        if (!c->r.skip && !c->r.judged) {
                                struct json_object *lv = json_object_new_array();
                                levels(NULL, lv, &c->r);
                                json_object_object_add(co, "key", lv);
                        }
                }
                json_object_array_add(cells, co);
        }
        json_object_object_add(o, "cells", cells);
        json_object_object_add(o, "exit", json_object_new_int(exit_code));
        return o;
}
