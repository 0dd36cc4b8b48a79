/* matrix_report.c - a matrix's cells shown: see matrix_report.h */
#include "matrix_report.h"
#include "report.h"
#include "series_report.h"
#include "../results/metrics.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* A run's level of one key metric: the median of its valid samples, their
 * CV and how many (the table, the JSON and the heat map show the same) */
static double key_median(const struct series_result *r, const char *wl, const struct metric *m,
                         double *cv, size_t *n)
{
        double *v;
        samples_values(&r->samples, NULL, wl, m, true, &v, n);
        double med = *n ? stats_median(v, *n) : NAN;
        if (cv)
                *cv = *n > 1 ? stats_cv(v, *n) : 0;
        free(v);
        return med;
}

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
                        size_t n;
                        double cv, med = key_median(r, wls[w], &m[k], &cv, &n);
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

/* ---- the matrix's page: a heat map and a table of the cells ---- */

struct cell_value {
        double v;      /* median (run), or relative change (comparison); NaN: none */
        double colour; /* what the heat map shows: see matrix.gp */
};

/* The key tests of the matrix, in order of first appearance */
static unsigned key_tests(const struct matrix_result *m, const char **names,
                          const struct metric **metrics, unsigned max)
{
        unsigned n = 0, nm;
        const struct metric *all = metric_all(&nm);
        for (size_t k = 0; k < m->n; k++) {
                const struct series_result *r = &m->cells[k].r;
                if (!m->cells[k].ran || r->skip)
                        continue;
                const char *wls[64];
                unsigned n_wl = samples_workloads(&r->samples, wls, ELEMENTSOF(wls));
                for (unsigned w = 0; w < n_wl; w++)
                        for (unsigned i = 0; i < nm; i++) {
                                if (!metric_is_key(&all[i], topo_find_workload(r->topo, wls[w])) ||
                                    !samples_has(&r->samples, NULL, wls[w], &all[i]))
                                        continue;
                                _cleanup_free_ char *name = xasprintf("%s.%s", wls[w], all[i].name);
                                bool seen = false;
                                for (unsigned j = 0; j < n; j++)
                                        seen |= streq(names[j], name);
                                if (!seen && n < max) {
                                        names[n] = xstrdup(name);
                                        metrics[n++] = &all[i];
                                }
                        }
        }
        return n;
}

/* A cell's value of test `name`: its median (run) or its change (a comparison) */
static double cell_value(const struct series_result *r, const char *name, const struct metric *m)
{
        if (r->judged) {
                for (size_t i = 0; i < r->verdicts.n; i++)
                        if (streq(r->verdicts.t[i].name, name) &&
                            r->verdicts.t[i].j.verdict != VERDICT_INSUFFICIENT)
                                return r->verdicts.t[i].j.rel_change;
                return NAN;
        }
        const char *dot = strrchr(name, '.');
        _cleanup_free_ char *wl = xstrndup(name, (size_t)(dot - name));
        size_t n;
        return key_median(r, wl, m, NULL, &n);
}

/* a string gnuplot reads as data between "...", never as code */
static char *gp_safe(const char *s)
{
        char *r = xstrdup(s ? s : "");
        for (char *p = r; *p; p++)
                if (*p == '"' || *p == '\\' || *p == '@' || *p == '\n' || *p == '\'')
                        *p = '_';
        return r;
}

static void fmt_value(char *buf, size_t len, bool compare, double v)
{
        if (isnan(v))
                snprintf(buf, len, "-");
        else if (compare)
                snprintf(buf, len, "%+.2f%%", 100 * v);
        else
                snprintf(buf, len, "%.4g", v);
}

int matrix_report_write(const struct matrix_result *m, char *const *reports, const char *dir,
                        char **index, char **err)
{
        if (strchr(dir, '\'')) {
                *err = xasprintf("%s: a report directory may not have a ' in its path", dir);
                return -EINVAL;
        }
        int e = mkdir_p(dir);
        if (e < 0) {
                *err = xasprintf("cannot make %s: %s", dir, strerror(-e));
                return e;
        }
        bool compare = m->family_cells > 0;
        const char *names[16];
        const struct metric *metrics[16];
        unsigned nt = key_tests(m, names, metrics, ELEMENTSOF(names));
        struct cell_value *cv = xcalloc(m->n * (nt ? nt : 1) + 1, sizeof *cv);
        /* the colour: a run's level against its column's best cell (100%), a
         * comparison's change with worse negative */
        double lo = compare ? 0 : 100, hi = compare ? 0 : 100;
        for (unsigned t = 0; t < nt; t++) {
                double best = NAN;
                for (size_t k = 0; k < m->n; k++) {
                        const struct matrix_cell_result *c = &m->cells[k];
                        double v = c->ran && !c->r.skip ? cell_value(&c->r, names[t], metrics[t])
                                                        : NAN;
                        cv[k * nt + t].v = v;
                        if (!isnan(v) &&
                            (isnan(best) || (metrics[t]->higher_is_better ? v > best : v < best)))
                                best = v;
                }
                for (size_t k = 0; k < m->n; k++) {
                        double v = cv[k * nt + t].v, col = NAN;
                        if (!isnan(v) && compare)
                                col = 100 * v * (metrics[t]->higher_is_better ? 1 : -1);
                        else if (!isnan(v) && best != 0 && v != 0)
                                col = 100 * (metrics[t]->higher_is_better ? v / best : best / v);
                        cv[k * nt + t].colour = col;
                        if (!isnan(col)) {
                                lo = fmin(lo, col);
                                hi = fmax(hi, col);
                        }
                }
        }
        struct strbuf data = {0}, xt = {0}, yt = {0};
        for (size_t k = 0; k < m->n; k++)
                for (unsigned t = 0; t < nt; t++) {
                        char lab[32];
                        const struct matrix_cell_result *c = &m->cells[k];
                        if (c->ran && c->r.skip)
                                snprintf(lab, sizeof lab, "SKIP");
                        else
                                fmt_value(lab, sizeof lab, compare, cv[k * nt + t].v);
                        double col = cv[k * nt + t].colour;
                        if (isnan(col))
                                strbuf_printf(&data, "%u %zu NaN \"%s\"\n", t, k, lab);
                        else
                                strbuf_printf(&data, "%u %zu %.6g \"%s\"\n", t, k, col, lab);
                }
        for (unsigned t = 0; t < nt; t++) {
                _cleanup_free_ char *s = gp_safe(names[t]);
                strbuf_printf(&xt, "%s\"%s\" %u", t ? ", " : "", s, t);
        }
        for (size_t k = 0; k < m->n; k++) {
                /* the axes alone: the title names the topology */
                const char *l = m->cells[k].label ? m->cells[k].label : "?", *b = strchr(l, '{');
                _cleanup_free_ char *s = gp_safe(b ? b + 1 : l);
                char *close = strrchr(s, '}');
                if (close)
                        *close = 0;
                for (char *p = s; *p; p++)
                        if (*p == ',')
                                *p = ' ';
                strbuf_printf(&yt, "%s\"%s\" %zu", k ? ", " : "", s, k);
        }
        double span = fmax(fabs(lo), fabs(hi));
        if (compare && span < 1)
                span = 1;
        char w[16], h[16], xmax[16], ymax[16], cbmin[32], cbmax[32];
        snprintf(w, sizeof w, "%u", 820 + 120 * nt);
        snprintf(h, sizeof h, "%zu", 140 + 28 * m->n);
        snprintf(xmax, sizeof xmax, "%g", nt - 0.5);
        snprintf(ymax, sizeof ymax, "%g", m->n - 0.5);
        snprintf(cbmin, sizeof cbmin, "%g", compare ? -span : floor(lo < 100 ? lo : 99));
        snprintf(cbmax, sizeof cbmax, "%g", compare ? span : 100.0);
        _cleanup_free_ char *title = gp_safe(m->file);
        _cleanup_free_ char *ttl = xasprintf("matrix %s", title);
        const char *keys[] = {"TITLE", "OUT",  "DATA",  "W",     "H",       "XTICS",  "YTICS",
                              "XMAX",  "YMAX", "CBMIN", "CBMAX", "CBLABEL", "PALETTE"};
        const char *vals[] = {ttl,
                              "matrix.svg",
                              data.s ? data.s : "",
                              w,
                              h,
                              xt.s ? xt.s : "",
                              yt.s ? yt.s : "",
                              xmax,
                              ymax,
                              cbmin,
                              cbmax,
                              compare ? "change, % (worse below 0)" : "% of the best cell",
                              compare ? "0 '#b2182b', 0.5 '#f7f7f7', 1 '#2166ac'"
                                      : "0 '#d73027', 0.5 '#fee08b', 1 '#1a9850'"};
        char *perr = NULL;
        bool plotted =
                nt && report_plot(dir, "matrix", "matrix", keys, vals, ELEMENTSOF(keys), &perr);
        if (nt && !plotted) {
                log_warn("matrix report: no heat map: %s", perr ? perr : "?");
        }
        free(perr);
        free(data.s);
        free(xt.s);
        free(yt.s);

        _cleanup_free_ char *path = xasprintf("%s/index.html", dir);
        FILE *f = fopen(path, "we");
        if (!f) {
                *err = xasprintf("cannot write %s: %s", path, strerror(errno));
                free(cv);
                for (unsigned t = 0; t < nt; t++)
                        free((char *)names[t]);
                return -errno;
        }
        fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
        report_html_text(f, ttl);
        fputs("</title><style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px "
              "solid #ddd}td.num{text-align:right}</style></head><body>\n<h1>",
              f);
        report_html_text(f, ttl);
        fprintf(f, "</h1>\n<p>%zu cell(s)%s.</p>\n", m->n,
                compare ? "; each key test's change between the sides, the cells judged as one "
                          "family"
                        : "; each key test's median over the cell's runs");
        if (plotted)
                fputs("<p><img src=\"matrix.svg\" alt=\"heat map of the cells\"></p>\n", f);
        fputs("<table><tr><th>cell</th><th>outcome</th>", f);
        for (unsigned t = 0; t < nt; t++) {
                fputs("<th>", f);
                report_html_text(f, names[t]);
                fputs("</th>", f);
        }
        fputs("<th>report</th></tr>\n", f);
        for (size_t k = 0; k < m->n; k++) {
                const struct matrix_cell_result *c = &m->cells[k];
                fputs("<tr><td>", f);
                report_html_text(f, c->label ? c->label : "(not run)");
                fputs("</td><td>", f);
                if (!c->ran)
                        fputs("not run", f);
                else if (c->r.skip) {
                        fputs("SKIP: ", f);
                        report_html_text(f, c->r.skip);
                } else
                        fputs(c->r.outcome == OUTCOME_OK           ? "ok"
                              : c->r.outcome == OUTCOME_REGRESSION ? "regression"
                              : c->r.outcome == OUTCOME_INPUT      ? "bad input"
                                                                   : "could not run",
                              f);
                fputs("</td>", f);
                for (unsigned t = 0; t < nt; t++) {
                        char lab[32];
                        fmt_value(lab, sizeof lab, compare, cv[k * nt + t].v);
                        fprintf(f, "<td class=\"num\">%s</td>", lab);
                }
                fputs("<td>", f);
                if (reports && reports[k]) {
                        fputs("<a href=\"file://", f);
                        report_html_text(f, reports[k]);
                        fputs("\">its report</a>", f);
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n</body></html>\n", f);
        free(cv);
        for (unsigned t = 0; t < nt; t++)
                free((char *)names[t]);
        if (fclose(f) != 0) {
                *err = xasprintf("cannot write %s", path);
                return -EIO;
        }
        *index = xstrdup(path);
        return 0;
}
