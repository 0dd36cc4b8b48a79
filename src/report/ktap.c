/* ktap.c - judged comparisons shown: KTAP (the exit status's evidence), an
 * LKP-shaped table that pastes into a netdev mail, and JSON. */
#include "ktap.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>

void ktap_print(FILE *f, const struct verdicts *v, const char *what)
{
        fprintf(f, "KTAP version 1\n1..%zu\n# %s\n", v->n, what);
        fprintf(f,
                "# %u key test(s) gate the exit status, each at %.2f%% confidence so that the "
                "chance of any false regression among them%s is at most 5%% (Bonferroni); the "
                "others inform at 95%%\n",
                v->n_gates, 100 * v->gate_level,
                v->looks > 1 ? ", over every look of --runs auto," : "");
        double bound = v->family_error * (v->looks ? v->looks : 1);
        if (bound > 0.05 + 1e-9)
                fprintf(f,
                        "# but with this few runs the intervals reach less than that: the chance "
                        "of "
                        "a false regression among the key tests is up to %.1f%% (more runs a side "
                        "lower it)\n",
                        100 * (bound < 1 ? bound : 1));
        for (size_t i = 0; i < v->n; i++) {
                const struct test_result *t = &v->t[i];
                enum verdict vd = t->j.verdict;
                bool regression = vd == VERDICT_REGRESSION && t->gates;
                const char *skip = vd == VERDICT_NOISY || vd == VERDICT_INSUFFICIENT ? " # SKIP "
                                   : t->gates                                        ? " # gates: "
                                              : " # informs: ";
                fprintf(f,
                        "%s %zu %s%s%s: %.4g -> %.4g %s, change %+.2f%% [%.3g%% CI %+.2f%%, "
                        "%+.2f%%], threshold %.3g%%\n",
                        regression ? "not ok" : "ok", i + 1, t->name, skip, verdict_name(vd),
                        t->j.base_median, t->j.cand_median, t->metric->unit, 100 * t->j.rel_change,
                        100 * t->j.shift.confidence, 100 * t->j.rel_lo, 100 * t->j.rel_hi,
                        100 * t->threshold);
                fprintf(f,
                        "#   samples: base %zu valid, %zu invalid; candidate %zu valid, %zu "
                        "invalid; CV base %.2f%%, candidate %.2f%%\n",
                        t->base_valid, t->base_invalid, t->cand_valid, t->cand_invalid,
                        100 * t->j.base_cv, 100 * t->j.cand_cv);
                if (t->max_time > 0)
                        fprintf(f,
                                "#   over the bound of %gs (max_time): base %zu of %zu runs, "
                                "candidate %zu of %zu\n",
                                t->max_time, t->base_over, t->base_valid, t->cand_over,
                                t->cand_valid);
        }
        fprintf(f, "# %u regression(s) in %zu test(s)\n", v->regressions, v->n);
}

static double pct_of(double sd, double mean)
{
        return mean != 0 ? 100 * sd / fabs(mean) : 0;
}

void lkp_print(FILE *f, const struct verdicts *v)
{
        fprintf(f, "#\n# %14s %8s %9s %14s %8s %6s  %-27s %s\n", "base", "±%stddev", "%change",
                "candidate", "±%stddev", "n", "HL shift [CI]", "metric");
        for (size_t i = 0; i < v->n; i++) {
                const struct test_result *t = &v->t[i];
                char change[32] = "", shift[64] = "", n[16];
                if (t->base_valid && t->cand_valid && t->base_mean != 0)
                        snprintf(change, sizeof change, "%+.2f%%",
                                 100 * (t->cand_mean - t->base_mean) / fabs(t->base_mean));
                if (t->j.verdict != VERDICT_INSUFFICIENT)
                        snprintf(shift, sizeof shift, "%+.4g [%+.4g, %+.4g]", t->j.shift.estimate,
                                 t->j.shift.lo, t->j.shift.hi);
                snprintf(n, sizeof n, "%zu/%zu", t->base_valid, t->cand_valid);
                fprintf(f, "# %14.6g %7.2f%% %9s %14.6g %7.2f%% %6s  %-27s %s%s%s\n", t->base_mean,
                        pct_of(t->base_sd, t->base_mean), change, t->cand_mean,
                        pct_of(t->cand_sd, t->cand_mean), n, shift, t->name,
                        t->metric->unit[0] ? " " : "", t->metric->unit);
        }
}

struct json_object *verdicts_json(const struct verdicts *v)
{
        struct json_object *tests = json_object_new_array();
        for (size_t i = 0; i < v->n; i++) {
                const struct test_result *r = &v->t[i];
                struct json_object *t = json_object_new_object();
                json_object_object_add(t, "name", json_object_new_string(r->name));
                json_object_object_add(t, "metric", json_object_new_string(r->metric->name));
                json_object_object_add(t, "unit", json_object_new_string(r->metric->unit));
                json_object_object_add(t, "verdict",
                                       json_object_new_string(verdict_name(r->j.verdict)));
                json_object_object_add(t, "base_median", json_object_new_double(r->j.base_median));
                json_object_object_add(t, "cand_median", json_object_new_double(r->j.cand_median));
                json_object_object_add(t, "base_mean", json_object_new_double(r->base_mean));
                json_object_object_add(t, "cand_mean", json_object_new_double(r->cand_mean));
                json_object_object_add(t, "base_stddev", json_object_new_double(r->base_sd));
                json_object_object_add(t, "cand_stddev", json_object_new_double(r->cand_sd));
                json_object_object_add(t, "change", json_object_new_double(r->j.rel_change));
                json_object_object_add(t, "ci_low", json_object_new_double(r->j.rel_lo));
                json_object_object_add(t, "ci_high", json_object_new_double(r->j.rel_hi));
                json_object_object_add(t, "shift", json_object_new_double(r->j.shift.estimate));
                json_object_object_add(t, "shift_low", json_object_new_double(r->j.shift.lo));
                json_object_object_add(t, "shift_high", json_object_new_double(r->j.shift.hi));
                json_object_object_add(t, "confidence",
                                       json_object_new_double(r->j.shift.confidence));
                json_object_object_add(t, "p", json_object_new_double(r->j.shift.p));
                json_object_object_add(t, "threshold", json_object_new_double(r->threshold));
                json_object_object_add(t, "base_cv", json_object_new_double(r->j.base_cv));
                json_object_object_add(t, "cand_cv", json_object_new_double(r->j.cand_cv));
                json_object_object_add(t, "base_valid", json_object_new_int((int)r->base_valid));
                json_object_object_add(t, "base_invalid",
                                       json_object_new_int((int)r->base_invalid));
                json_object_object_add(t, "cand_valid", json_object_new_int((int)r->cand_valid));
                json_object_object_add(t, "cand_invalid",
                                       json_object_new_int((int)r->cand_invalid));
                json_object_array_add(tests, t);
        }
        return tests;
}

void mib_table_print(FILE *f, struct json_object *rows, unsigned na, unsigned nb)
{
        fprintf(f,
                "#\n# MIB counters that moved differently (mean delta per run, %u vs %u runs; "
                "listed when 10%% and 1 apart)\n# %14s %14s %9s  %s\n",
                na, nb, "base", "candidate", "%change", "workload/node/counter");
        for (size_t i = 0; i < jlen(rows); i++) {
                struct json_object *row = json_object_array_get_idx(rows, i);
                double x = 0, y = 0;
                jdouble(row, "base", &x);
                jdouble(row, "candidate", &y);
                char change[32] = "new";
                if (x != 0)
                        snprintf(change, sizeof change, "%+.1f%%", 100 * (y - x) / fabs(x));
                fprintf(f, "# %14.1f %14.1f %9s  %s\n", x, y, change, jstr(row, "counter"));
        }
}
