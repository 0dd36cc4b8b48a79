/* html.c - `mptcplab report`: a directory with index.html and the SVG plots it
 * shows, made by gnuplot from the templates in reports/ (the data filled in as
 * datablocks, so each plot's .gp stays next to its SVG and re-plots with
 * `gnuplot NAME.gp` there). No JavaScript, nothing fetched: the page is whole
 * on its own. Everything comes from the results database. */
#include "report.h"
#include "ktap.h"
#include "../results/mibs.h"
#include "../shared/json.h"
#include "../shared/spawn.h"
#include "../shared/util.h"

#include <math.h>
#include <sys/stat.h>

#ifndef MPTCPLAB_REPORTS_DIR
#define MPTCPLAB_REPORTS_DIR "reports"
#endif

struct sb {
        char *s;
        size_t len;
        FILE *f;
};

static void sb_open(struct sb *b)
{
        b->s = NULL;
        b->len = 0;
        b->f = open_memstream(&b->s, &b->len);
        if (!b->f)
                abort();
}

static char *sb_close(struct sb *b)
{
        fclose(b->f);
        return b->s;
}

static void html_text(FILE *f, const char *s)
{
        static const char *const ent[256] = {
                ['<'] = "&lt;", ['>'] = "&gt;", ['&'] = "&amp;", ['"'] = "&quot;"};
        for (; s && *s; s++)
                if (ent[(unsigned char)*s])
                        fputs(ent[(unsigned char)*s], f);
                else
                        fputc(*s, f);
}

/* A name for a file: letters, digits, '-', '_' and '.', others become '_' */
static char *file_part(const char *s)
{
        char *r = xstrdup(s);
        for (char *p = r; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
                        *p = '_';
        return r;
}

/* gnuplot strings in the templates are "..."; a title is data, never code */
static char *gp_string(const char *s)
{
        struct sb b;
        sb_open(&b);
        for (; s && *s; s++)
                if (*s == '"' || *s == '\\' || *s == '@' || *s == '\n')
                        fputc('_', b.f);
                else
                        fputc(*s, b.f);
        return sb_close(&b);
}

/* Fills reports/NAME.gp's @KEY@ tokens (keys[i], values[i]) into DIR/OUT.gp,
 * runs gnuplot there, and says whether DIR/OUT.svg came out. */
static bool plot(const char *dir, const char *name, const char *out, const char *const *keys,
                 const char *const *values, unsigned n, char **err)
{
        _cleanup_free_ char *tpl_path = xasprintf("%s/%s.gp", MPTCPLAB_REPORTS_DIR, name);
        _cleanup_free_ char *tpl = NULL;
        if (read_file(tpl_path, &tpl, NULL) < 0) {
                free(*err);
                *err = xasprintf("cannot read the plot template %s", tpl_path);
                return false;
        }
        struct sb b;
        sb_open(&b);
        for (const char *p = tpl; *p;) {
                bool done = false;
                for (unsigned i = 0; i < n && *p == '@'; i++) {
                        size_t kl = strlen(keys[i]);
                        if (!strncmp(p + 1, keys[i], kl) && p[1 + kl] == '@') {
                                fputs(values[i], b.f);
                                p += kl + 2;
                                done = true;
                                break;
                        }
                }
                if (!done)
                        fputc(*p++, b.f);
        }
        _cleanup_free_ char *text = sb_close(&b);
        _cleanup_free_ char *gp = xasprintf("%s/%s.gp", dir, out);
        FILE *f = fopen(gp, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                free(*err);
                *err = xasprintf("cannot write %s", gp);
                return false;
        }
        _cleanup_free_ char *cd = xasprintf("cd '%s'", dir);
        char *argv[] = {"gnuplot", "-e", cd, gp, NULL};
        char *o = NULL, *e = NULL;
        int st = 0, r = spawn_run(argv, 60000, &o, &e, &st);
        bool ok = r == 0 && st == 0;
        if (!ok) {
                free(*err);
                *err = xasprintf("gnuplot %s: %s", gp, r < 0 ? strerror(-r) : e ? e : "failed");
        }
        free(o);
        free(e);
        return ok;
}

bool report_plot(const char *dir, const char *tpl, const char *out, const char *const *keys,
                 const char *const *values, unsigned n, char **err)
{
        return plot(dir, tpl, out, keys, values, n, err);
}

void report_html_text(FILE *f, const char *s)
{
        html_text(f, s);
}

struct ctx {
        struct store *db;
        const char *id, *dir;
        struct json_object *runs;
        struct samples samples;
        const char *base_side, *cand_side; /* "A"/"B" for a comparison, else NULL/NULL */
        FILE *html;
        unsigned plots;
        char *err;
};

static bool side_is(struct json_object *o, const char *side)
{
        const char *s = jstr(o, "side");
        return !side || (s && streq(s, side));
}

/* a side as a plot's key names it */
static const char *side_label(const struct ctx *c, bool cand)
{
        if (!c->cand_side)
                return cand ? "" : "runs";
        if (streq(c->cand_side, "B"))
                return cand ? "B (candidate)" : "A (base)";
        return cand ? "candidate" : "baseline";
}

static void add_plot(struct ctx *c, const char *file, const char *caption)
{
        fprintf(c->html, "<figure><img src=\"%s.svg\" alt=\"", file);
        html_text(c->html, caption);
        fprintf(c->html, "\"><figcaption>");
        html_text(c->html, caption);
        fprintf(c->html, " (<a href=\"%s.gp\">%s.gp</a>)</figcaption></figure>\n", file, file);
        c->plots++;
}

/* One plot: PREFIX-NAME.gp from template tpl with TITLE and OUT filled in
 * besides keys/vals, gnuplot run, and the figure added to the page. */
static void plot_of(struct ctx *c, const char *tpl, const char *prefix, const char *name,
                    const char *title, const char *const *keys, const char *const *vals, unsigned n)
{
        _cleanup_free_ char *fname = file_part(name);
        _cleanup_free_ char *file = xasprintf("%s-%s", prefix, fname);
        _cleanup_free_ char *out = xasprintf("%s.svg", file);
        _cleanup_free_ char *gt = gp_string(title);
        const char *k[16], *v[16];
        unsigned m = 0;
        k[m] = "TITLE", v[m++] = gt;
        k[m] = "OUT", v[m++] = out;
        for (unsigned i = 0; i < n && m < ELEMENTSOF(k); i++)
                k[m] = keys[i], v[m++] = vals[i];
        if (plot(c->dir, tpl, file, k, v, m, &c->err))
                add_plot(c, file, title);
}

/* goodput over time of each workload of the first counted run */
static void plot_goodput_time(struct ctx *c)
{
        struct json_object *run = json_object_array_get_idx(c->runs, 0);
        struct json_object *wls = jarr(run, "workloads");
        for (size_t w = 0; w < jlen(wls); w++) {
                struct json_object *wl = json_object_array_get_idx(wls, w);
                struct json_object *iv = jarr(wl, "intervals");
                const char *name = jstr(wl, "name");
                if (!name || !iv || jlen(iv) == 0)
                        continue;
                /* per subflow: the rate of its bytes_acked between two samples */
                unsigned nsub = 0;
                for (size_t i = 0; i < jlen(iv); i++) {
                        size_t k = jlen(jarr(json_object_array_get_idx(iv, i), "subflows"));
                        nsub = k > nsub ? (unsigned)k : nsub;
                }
                if (nsub > 8)
                        nsub = 8;
                struct sb d;
                sb_open(&d);
                double prev_t = 0, prev_b[8] = {0};
                for (size_t i = 0; i < jlen(iv); i++) {
                        struct json_object *x = json_object_array_get_idx(iv, i);
                        double t = 0, bps = 0;
                        jdouble(x, "t", &t);
                        jdouble(x, "bps", &bps);
                        fprintf(d.f, "%.3f %.4f", t, bps / 1e6);
                        struct json_object *sf = jarr(x, "subflows");
                        for (unsigned k = 0; k < nsub; k++) {
                                double acked = -1;
                                jdouble(jidx(sf, k), "bytes_acked", &acked);
                                double rate = acked >= 0 && t > prev_t && prev_b[k] > 0
                                                      ? (acked - prev_b[k]) * 8 / (t - prev_t) / 1e6
                                                      : 0;
                                fprintf(d.f, " %.4f", rate > 0 ? rate : 0);
                                prev_b[k] = acked >= 0 ? acked : prev_b[k];
                        }
                        fputc('\n', d.f);
                        prev_t = t;
                }
                _cleanup_free_ char *data = sb_close(&d);
                double warm = 0, cap = 0;
                jdouble(wl, "warmup_s", &warm);
                int64_t rate = 0;
                jint(wl, "path_rate_bps", &rate);
                cap = (double)rate / 1e6;
                _cleanup_free_ char *title = xasprintf("%s: goodput over time, run %.8s", name,
                                                       jstr(run, "run_id") ?: "");
                _cleanup_free_ char *ws = xasprintf("%g", warm);
                _cleanup_free_ char *cs = xasprintf("%g", cap);
                _cleanup_free_ char *ns = xasprintf("%u", nsub);
                const char *keys[] = {"WARMUP", "CAPACITY", "NSUB", "DATA"};
                const char *vals[] = {ws, cs, ns, data};
                plot_of(c, "goodput-time", "goodput", name, title, keys, vals, ELEMENTSOF(keys));
        }
}

/* A workload's path events in the first counted run (reports/events.gp) */
static void plot_events(struct ctx *c)
{
        struct json_object *run = json_object_array_get_idx(c->runs, 0);
        struct json_object *wls = jarr(run, "workloads");
        for (size_t w = 0; w < jlen(wls); w++) {
                struct json_object *wl = json_object_array_get_idx(wls, w);
                struct json_object *evs = jarr(wl, "events"), *bins = jobj(wl, "receiver_bins");
                struct json_object *by = jarr(bins, "bytes");
                const char *name = jstr(wl, "name");
                double width = 0, t0 = 0, ymax = 1;
                if (!name || !jlen(evs) || !jlen(by) || !jdouble(bins, "width_s", &width) ||
                    !(width > 0))
                        continue;
                jdouble(bins, "t0_s", &t0);
                /* the receiver, bins summed to 50 ms */
                unsigned per = width < 0.05 ? (unsigned)(0.05 / width + 0.5) : 1;
                struct sb d, s, cp, e, pm;
                sb_open(&d);
                for (size_t i = 0; i + per <= jlen(by); i += per) {
                        double sum = 0;
                        for (unsigned k = 0; k < per; k++)
                                sum += json_object_get_double(json_object_array_get_idx(by, i + k));
                        double mbps = sum * 8 / (per * width) / 1e6;
                        ymax = mbps > ymax ? mbps : ymax;
                        fprintf(d.f, "%.3f %.4f\n", t0 + (double)(i + per) * width, mbps);
                }
                /* the sender's subflows: rates of bytes_acked between samples */
                struct json_object *iv = jarr(wl, "intervals");
                unsigned nsub = 0;
                for (size_t i = 0; i < jlen(iv); i++) {
                        size_t k = jlen(jarr(json_object_array_get_idx(iv, i), "subflows"));
                        nsub = k > nsub ? (unsigned)k : nsub;
                }
                nsub = nsub > 8 ? 8 : nsub;
                sb_open(&s);
                double prev_t = 0, prev_b[8] = {0};
                for (size_t i = 0; i < jlen(iv); i++) {
                        struct json_object *x = json_object_array_get_idx(iv, i);
                        double t = 0;
                        jdouble(x, "t", &t);
                        fprintf(s.f, "%.3f", t);
                        struct json_object *sf = jarr(x, "subflows");
                        for (unsigned k = 0; k < nsub; k++) {
                                double acked = -1;
                                jdouble(jidx(sf, k), "bytes_acked", &acked);
                                double rate = acked >= 0 && t > prev_t && prev_b[k] > 0
                                                      ? (acked - prev_b[k]) * 8 / (t - prev_t) / 1e6
                                                      : 0;
                                fprintf(s.f, " %.4f", rate > 0 ? rate : 0);
                                prev_b[k] = acked >= 0 ? acked : prev_b[k];
                        }
                        fputc('\n', s.f);
                        prev_t = t;
                }
                if (!nsub)
                        fputs("0\n", s.f);
                /* capacity: the topology's to the first event, then each event's */
                sb_open(&cp);
                sb_open(&e);
                int64_t rate = 0;
                jint(wl, "path_rate_bps", &rate);
                fprintf(cp.f, "0 %.4f\n", (double)rate / 1e6);
                for (size_t k = 0; k < jlen(evs); k++) {
                        struct json_object *x = json_object_array_get_idx(evs, k);
                        double at = 0, tgt = -1;
                        if (!jdouble(x, "applied_s", &at))
                                jdouble(x, "at_s", &at);
                        jdouble(x, "target_bps", &tgt);
                        if (tgt > 0)
                                fprintf(cp.f, "%.4f %.4f\n", at, tgt / 1e6);
                        _cleanup_free_ char *label = gp_string(jstr(x, "action"));
                        fprintf(e.f, "%.4f \"%s\"\n", at, label);
                }
                double dur = 0;
                jdouble(wl, "duration_s", &dur);
                fprintf(cp.f, "%.4f %.4f\n", dur, 0.0);
                /* the path manager's events of both ends */
                sb_open(&pm);
                unsigned row = 0, marks = 0;
                json_object_object_foreach (jobj(wl, "pm_events"), node, list) {
                        (void)node;
                        for (size_t k = 0; k < jlen(list); k++) {
                                struct json_object *x = json_object_array_get_idx(list, k);
                                double t = -1;
                                if (!jdouble(x, "t_s", &t) || t < 0 || t > dur)
                                        continue;
                                _cleanup_free_ char *ty = gp_string(jstr(x, "type"));
                                fprintf(pm.f, "%.4f %u \"%s\"\n", t, row, ty);
                                marks++;
                        }
                        row++;
                }
                /* the bursts of data the receiver's reorder queue releases at
                 * once are cut at 1.5x the capacity: the stalls are the story */
                double top = 0;
                for (size_t k = 0; k < jlen(evs); k++) {
                        double tgt = 0;
                        jdouble(json_object_array_get_idx(evs, k), "target_bps", &tgt);
                        top = tgt > top ? tgt : top;
                }
                top = ((double)rate > top ? (double)rate : top) / 1e6;
                if (top > 0 && ymax > 1.5 * top)
                        ymax = 1.5 * top;
                _cleanup_free_ char *data = sb_close(&d), *subs = sb_close(&s),
                                    *caps = sb_close(&cp), *events = sb_close(&e),
                                    *pms = sb_close(&pm);
                _cleanup_free_ char *ns = xasprintf("%u", nsub);
                _cleanup_free_ char *ym = xasprintf("%g", ymax);
                const char *pmplot = marks ? ", $pm using 1:(-ymax*(0.04+0.05*$2)):3 with points "
                                             "pt 7 ps 0.5 lc rgb \"#aa3300\" title "
                                             "\"path-manager events\""
                                           : "";
                _cleanup_free_ char *title =
                        xasprintf("%s: path events, run %.8s", name, jstr(run, "run_id") ?: "");
                const char *keys[] = {"NSUB", "YMAX",   "DATA", "SUBS",
                                      "CAP",  "EVENTS", "PM",   "PMPLOT"};
                const char *vals[] = {ns, ym, data, subs, caps, events, pms, pmplot};
                plot_of(c, "events", "events", name, title, keys, vals, ELEMENTSOF(keys));
        }
}

/* Each path event's figures over the counted runs of each side: median
 * with its interval (stats_median_interval), the worst, and the bound */
static void events_table(struct ctx *c)
{
        struct json_object *run0 = json_object_array_get_idx(c->runs, 0);
        struct json_object *wls = jarr(run0, "workloads");
        static const char *const fields[] = {"late_ms",    "outage_s",   "second_stall_s",
                                             "recovery_s", "pm_first_s", "bound_s"};
        bool head = false;
        for (size_t w = 0; w < jlen(wls); w++) {
                struct json_object *wl0 = json_object_array_get_idx(wls, w);
                const char *name = jstr(wl0, "name");
                struct json_object *evs0 = jarr(wl0, "events");
                if (!name || !jlen(evs0))
                        continue;
                if (!head) {
                        fputs("<h2>Path events</h2>\n<p>Each event's figures over the counted "
                              "runs: the median [95% interval of the median] and the worst "
                              "(docs/events.md defines them). late: when it was applied after "
                              "its instant; recovery: until a second at 90% of the capacity "
                              "that remains; bound: what the kernel cannot beat.</p>\n<table>"
                              "<tr><th>workload</th><th>event</th><th>side</th><th>runs</th>",
                              c->html);
                        for (unsigned f = 0; f < ELEMENTSOF(fields); f++)
                                fprintf(c->html, "<th>%s</th>", fields[f]);
                        fputs("<th>not recovered</th></tr>\n", c->html);
                        head = true;
                }
                for (size_t k = 0; k < jlen(evs0); k++)
                        for (unsigned sd = 0; sd < (c->cand_side ? 2u : 1u); sd++) {
                                const char *side = sd ? c->cand_side : c->base_side;
                                struct json_object *e0 = json_object_array_get_idx(evs0, k);
                                fputs("<tr><td>", c->html);
                                html_text(c->html, name);
                                fprintf(c->html, "</td><td>%zu: ", k + 1);
                                html_text(c->html, jstr(e0, "action"));
                                double at = 0;
                                jdouble(e0, "at_s", &at);
                                fprintf(c->html, " at %g s</td><td>%s</td>", at, side ? side : "");
                                double v[ELEMENTSOF(fields)][64];
                                size_t n[ELEMENTSOF(fields)] = {0}, runs = 0, notrec = 0;
                                for (size_t r = 0; r < jlen(c->runs); r++) {
                                        struct json_object *x =
                                                json_object_array_get_idx(c->runs, r);
                                        if (!side_is(x, side))
                                                continue;
                                        struct json_object *xw = NULL;
                                        struct json_object *xws = jarr(x, "workloads");
                                        for (size_t i = 0; i < jlen(xws); i++) {
                                                struct json_object *y =
                                                        json_object_array_get_idx(xws, i);
                                                if (jstr(y, "name") && streq(jstr(y, "name"), name))
                                                        xw = y;
                                        }
                                        struct json_object *e = jidx(jarr(xw, "events"), k);
                                        if (!e)
                                                continue;
                                        runs++;
                                        bool rec = true;
                                        if (jbool(e, "recovered", &rec) && !rec)
                                                notrec++;
                                        for (unsigned f = 0; f < ELEMENTSOF(fields); f++) {
                                                double d;
                                                if (n[f] < 64 && jdouble(e, fields[f], &d) &&
                                                    isfinite(d))
                                                        v[f][n[f]++] = d;
                                        }
                                }
                                fprintf(c->html, "<td>%zu</td>", runs);
                                for (unsigned f = 0; f < ELEMENTSOF(fields); f++) {
                                        if (!n[f]) {
                                                fputs("<td>-</td>", c->html);
                                                continue;
                                        }
                                        double lo, hi, med = stats_median(v[f], n[f]);
                                        stats_median_interval(v[f], n[f], &lo, &hi);
                                        fprintf(c->html, "<td>%.3f [%.3f, %.3f] worst %.3f</td>",
                                                med, lo, hi, stats_max(v[f], n[f]));
                                }
                                fprintf(c->html, "<td>%zu</td></tr>\n", notrec);
                        }
        }
        if (head)
                fputs("</table>\n", c->html);
}

/* every repetition of each metric, per side, in run order */
static void plot_ab(struct ctx *c, const struct verdicts *v)
{
        for (size_t i = 0; i < v->n; i++) {
                const struct test_result *t = &v->t[i];
                _cleanup_free_ char *wl = xstrdup(t->name);
                *strrchr(wl, '.') = 0;
                struct sb d;
                sb_open(&d);
                unsigned order = 0, count = 0;
                const char *last_run = NULL;
                double *side_v[2] = {xcalloc(c->samples.n + 1, sizeof(double)),
                                     xcalloc(c->samples.n + 1, sizeof(double))};
                size_t side_n[2] = {0, 0};
                for (size_t k = 0; k < c->samples.n; k++) {
                        const struct sample *x = &c->samples.v[k];
                        if (!last_run || !streq(last_run, x->run))
                                order++;
                        last_run = x->run;
                        if (!streq(x->workload, wl) || x->metric != t->metric || !x->valid ||
                            !isfinite(x->value))
                                continue;
                        int s = c->cand_side && x->side && streq(x->side, c->cand_side) ? 1 : 0;
                        fprintf(d.f, "%d %.6g %u\n", s, x->value, order);
                        side_v[s][side_n[s]++] = x->value;
                        count++;
                }
                _cleanup_free_ char *data = sb_close(&d);
                /* each side's box: quartiles, whiskers at the extremes, the median */
                struct sb bx;
                sb_open(&bx);
                for (int s = 0; s < 2; s++)
                        if (side_n[s]) {
                                double q[5];
                                stats_quartiles(side_v[s], side_n[s], q);
                                fprintf(bx.f, "%d %.6g %.6g %.6g %.6g %.6g\n", s, q[1], q[0], q[4],
                                        q[3], q[2]);
                        }
                _cleanup_free_ char *box = sb_close(&bx);
                free(side_v[0]);
                free(side_v[1]);
                if (!count)
                        continue;
                _cleanup_free_ char *title = xasprintf("%s: every repetition", t->name);
                _cleanup_free_ char *yl =
                        xasprintf("%s%s%s%s", t->metric->label, t->metric->unit[0] ? " (" : "",
                                  t->metric->unit, t->metric->unit[0] ? ")" : "");
                _cleanup_free_ char *gy = gp_string(yl);
                const char *keys[] = {"YLABEL", "BASE", "CAND", "DATA", "BOX"};
                const char *vals[] = {gy, side_label(c, false), side_label(c, true), data, box};
                plot_of(c, "ab", "ab", t->name, title, keys, vals, ELEMENTSOF(keys));
        }
}

/* One metric of one workload over the topology's runs in the database,
 * baselines marked. */
static void plot_history_of(struct ctx *c, const char *topology, const char *wl,
                            const struct metric *m)
{
        struct json_object *rows = NULL;
        char *e = NULL;
        if (store_metric_history(c->db, topology, m->name, &rows, &e) < 0) {
                free(e);
                return;
        }
        struct sb d;
        sb_open(&d);
        unsigned n = 0;
        for (size_t i = 0; i < jlen(rows); i++) {
                struct json_object *x = json_object_array_get_idx(rows, i);
                double val;
                int64_t in_base = 0;
                if (!streq(jstr(x, "workload") ?: "", wl) || !jdouble(x, "value", &val) ||
                    !isfinite(val))
                        continue;
                jint(x, "in_baseline", &in_base);
                fprintf(d.f, "%u %.6g %d\n", ++n, val, in_base > 0);
        }
        json_object_put(rows);
        _cleanup_free_ char *data = sb_close(&d);
        if (n < 2)
                return;
        _cleanup_free_ char *title =
                xasprintf("%s %s: %s of the last %u runs", topology, wl, m->label, n);
        _cleanup_free_ char *yl = xasprintf("%s%s%s%s", m->label, m->unit[0] ? " (" : "", m->unit,
                                            m->unit[0] ? ")" : "");
        _cleanup_free_ char *gy = gp_string(yl);
        _cleanup_free_ char *name = xasprintf("%s.%s", wl, m->name);
        const char *keys[] = {"YLABEL", "DATA"};
        const char *vals[] = {gy, data};
        plot_of(c, "history", "history", name, title, keys, vals, ELEMENTSOF(keys));
}

/* the history of each workload's key metrics (the run says which) and of its
 * CPU cost per Gbit */
static void plot_history(struct ctx *c, const char *topology)
{
        struct json_object *wls = jarr(json_object_array_get_idx(c->runs, 0), "workloads");
        for (size_t w = 0; w < jlen(wls); w++) {
                struct json_object *x = json_object_array_get_idx(wls, w);
                const char *name = jstr(x, "name");
                struct json_object *keys = jarr(x, "key_metrics");
                unsigned nm;
                const struct metric *m = metric_all(&nm);
                for (unsigned k = 0; name && k < nm; k++) {
                        bool key = !keys ? m[k].key : false;
                        for (size_t i = 0; i < jlen(keys); i++)
                                key |= streq(
                                        json_object_get_string(json_object_array_get_idx(keys, i))
                                                ?: "",
                                        m[k].name);
                        if (key || streq(m[k].name, "node_cpu_s_per_gbit"))
                                plot_history_of(c, topology, name, &m[k]);
                }
        }
}

/* the latency percentiles of rr/crr workloads, per side */
static void plot_latency(struct ctx *c)
{
        struct json_object *wls = jarr(json_object_array_get_idx(c->runs, 0), "workloads");
        for (size_t w = 0; w < jlen(wls); w++) {
                const char *name = jstr(json_object_array_get_idx(wls, w), "name");
                struct sb d;
                sb_open(&d);
                unsigned n = 0;
                for (size_t r = 0; r < jlen(c->runs); r++) {
                        struct json_object *run = json_object_array_get_idx(c->runs, r);
                        int s = c->cand_side && side_is(run, c->cand_side) ? 1 : 0;
                        struct json_object *rw = jarr(run, "workloads");
                        for (size_t k = 0; k < jlen(rw); k++) {
                                struct json_object *x = json_object_array_get_idx(rw, k);
                                struct json_object *ml = jobj(x, "mptcpload");
                                if (!ml || !name || !streq(jstr(x, "name") ?: "", name))
                                        continue;
                                /* the distribution mptcpload measured; runs stored
                                 * before it was kept give their three percentiles */
                                struct json_object *cdf = jarr(ml, "latency_cdf");
                                for (size_t q = 0; q < jlen(cdf); q++) {
                                        struct json_object *pt = json_object_array_get_idx(cdf, q);
                                        double pc = json_object_get_double(
                                                       json_object_array_get_idx(pt, 0)),
                                               us = json_object_get_double(
                                                       json_object_array_get_idx(pt, 1));
                                        if (isfinite(pc) && isfinite(us) && us > 0) {
                                                fprintf(d.f, "%.3f %.5f %d\n", us, pc / 100, s);
                                                n++;
                                        }
                                }
                                static const char *const keys[] = {
                                        "latency_p50_us", "latency_p99_us", "latency_p999_us"};
                                static const double share[] = {0.5, 0.99, 0.999};
                                for (unsigned q = 0; q < 3 && !jlen(cdf); q++) {
                                        double us = 0;
                                        if (jdouble(ml, keys[q], &us) && us > 0) {
                                                fprintf(d.f, "%.3f %.3f %d\n", us, share[q], s);
                                                n++;
                                        }
                                }
                                fputc('\n', d.f);
                        }
                }
                _cleanup_free_ char *data = sb_close(&d);
                if (!n)
                        continue;
                _cleanup_free_ char *title =
                        xasprintf("%s: latency distribution of every run", name);
                const char *keys[] = {"BASE", "CAND", "DATA"};
                const char *vals[] = {side_label(c, false), side_label(c, true), data};
                plot_of(c, "latency", "latency", name, title, keys, vals, ELEMENTSOF(keys));
        }
}

/* CPU per core per node, the mean over each side's runs */
static void plot_cpu(struct ctx *c)
{
        struct json_object *wls = jarr(json_object_array_get_idx(c->runs, 0), "workloads");
        const char *sides[2] = {c->cand_side ? c->base_side : NULL, c->cand_side};
        for (size_t w = 0; w < jlen(wls); w++) {
                const char *name = jstr(json_object_array_get_idx(wls, w), "name");
                struct sb d;
                sb_open(&d);
                unsigned rows = 0;
                for (unsigned s = 0; s < (c->cand_side ? 2u : 1u); s++) {
                        /* sum[node/cpu] = {user, system, softirq, runs} */
                        struct json_object *acc = json_object_new_object();
                        for (size_t r = 0; r < jlen(c->runs); r++) {
                                struct json_object *run = json_object_array_get_idx(c->runs, r);
                                if (!side_is(run, sides[s]))
                                        continue;
                                struct json_object *rw = jarr(run, "workloads");
                                for (size_t k = 0; k < jlen(rw); k++) {
                                        struct json_object *x = json_object_array_get_idx(rw, k);
                                        struct json_object *cc = jobj(x, "cpu_cores");
                                        if (!cc || !name || !streq(jstr(x, "name") ?: "", name))
                                                continue;
                                        json_object_object_foreach (cc, node, cores) {
                                                if (!json_object_is_type(cores, json_type_object))
                                                        continue;
                                                json_object_object_foreach (cores, cpu, v) {
                                                        _cleanup_free_ char *key =
                                                                xasprintf("%s %s", node, cpu);
                                                        static const char *const f[] = {
                                                                "user", "system", "softirq"};
                                                        for (unsigned z = 0; z < 3; z++) {
                                                                double y = 0;
                                                                jdouble(v, f[z], &y);
                                                                jsum_add(acc, key, 4, z, y);
                                                        }
                                                        jsum_add(acc, key, 4, 3, 1); /* runs */
                                                }
                                        }
                                }
                        }
                        json_object_object_foreach (acc, key, e) {
                                double cnt =
                                        json_object_get_double(json_object_array_get_idx(e, 3));
                                /* a label goes into a gnuplot datablock: letters, digits,
                                 * ' ', '_', '.', '-' only (a stored run is data, not code) */
                                if (cnt <= 0 ||
                                    strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
                                                "XYZ0123456789 _.-") != strlen(key))
                                        continue;
                                fprintf(d.f, "\"%s%s%s\"", key, sides[s] ? " " : "",
                                        sides[s] ? sides[s] : "");
                                for (size_t z = 0; z < 3; z++)
                                        fprintf(d.f, " %.3f",
                                                json_object_get_double(
                                                        json_object_array_get_idx(e, z)) /
                                                        cnt);
                                fputc('\n', d.f);
                                rows++;
                        }
                        json_object_put(acc);
                }
                _cleanup_free_ char *data = sb_close(&d);
                if (!rows)
                        continue;
                _cleanup_free_ char *title =
                        xasprintf("%s: CPU per core and node%s (mean of the runs)", name,
                                  c->cand_side ? ", A vs B" : "");
                const char *keys[] = {"DATA"};
                const char *vals[] = {data};
                plot_of(c, "cpu-cores", "cpu", name, title, keys, vals, ELEMENTSOF(keys));
        }
}

static void meta_row(FILE *f, const char *k, const char *v)
{
        fputs("<tr><th>", f);
        html_text(f, k);
        fputs("</th><td>", f);
        html_text(f, v);
        fputs("</td></tr>\n", f);
}

static void describe_runs(struct ctx *c)
{
        FILE *f = c->html;
        struct json_object *run = json_object_array_get_idx(c->runs, 0);
        fputs("<h2>What ran</h2>\n<table class=\"meta\">\n", f);
        meta_row(f, "report of", c->id);
        meta_row(f, "topology", jstr(jobj(run, "topology"), "name"));
        meta_row(f, "topology file", jstr(jobj(run, "topology"), "file"));
        meta_row(f, "backend", jstr(run, "backend"));
        meta_row(f, "links", jstr(run, "links"));
        char n[32];
        snprintf(n, sizeof n, "%zu", jlen(c->runs));
        meta_row(f, "counted runs", n);
        for (unsigned s = 0; s < (c->cand_side ? 2u : 1u); s++) {
                const char *side = s ? c->cand_side : c->base_side;
                for (size_t r = 0; r < jlen(c->runs); r++) {
                        struct json_object *x = json_object_array_get_idx(c->runs, r);
                        if (!side_is(x, side))
                                continue;
                        struct json_object *nodes = jarr(x, "nodes");
                        for (size_t k = 0; k < jlen(nodes); k++) {
                                struct json_object *nd = json_object_array_get_idx(nodes, k);
                                _cleanup_free_ char *key =
                                        xasprintf("%s%s node %s", side ? "side " : "",
                                                  side ? side : "", jstr(nd, "name") ?: "?");
                                const char *commit = jstr(jobj(nd, "kernel_id"), "commit");
                                _cleanup_free_ char *val = xasprintf(
                                        "kernel %s%s%s%s, %s, iperf3 %s", jstr(nd, "kernel") ?: "?",
                                        commit ? " (commit " : "", commit ?: "", commit ? ")" : "",
                                        jstr(nd, "accel") ?: "?",
                                        jstr(jobj(nd, "iperf3"), "version") ?: "?");
                                meta_row(f, key, val);
                        }
                        break;
                }
        }
        fputs("</table>\n", f);
        /* the topology with every shaping parameter, as the run recorded it */
        struct json_object *wls = jarr(run, "workloads");
        fputs("<h2>Workloads</h2>\n<table><tr><th>workload</th><th>tool</th><th>protocol</th>"
              "<th>from</th><th>to</th><th>duration</th><th>shaped capacity</th></tr>\n",
              f);
        for (size_t w = 0; w < jlen(wls); w++) {
                struct json_object *x = json_object_array_get_idx(wls, w);
                double dur = 0;
                int64_t cap = 0;
                jdouble(x, "duration_s", &dur);
                jint(x, "path_rate_bps", &cap);
                fputs("<tr><td>", f);
                html_text(f, jstr(x, "name"));
                fputs("</td><td>", f);
                html_text(f, jstr(x, "tool"));
                fputs("</td><td>", f);
                html_text(f, jstr(x, "protocol"));
                fputs("</td><td>", f);
                html_text(f, jstr(x, "from"));
                fputs("</td><td>", f);
                html_text(f, jstr(x, "to"));
                if (cap)
                        fprintf(f, "</td><td>%g s</td><td>%.3f Mbit/s</td></tr>\n", dur,
                                (double)cap / 1e6);
                else
                        fprintf(f, "</td><td>%g s</td><td>unshaped</td></tr>\n", dur);
        }
        fputs("</table>\n", f);
        /* every link's shaping, every node's settings: the topology as parsed */
        const char *yaml = jstr(jobj(run, "topology"), "yaml");
        if (yaml) {
                fputs("<h2>Topology (as parsed, every shaping parameter)</h2>\n<pre>", f);
                html_text(f, yaml);
                fputs("</pre>\n", f);
        }
        /* runs left out of the verdicts, and why */
        fputs("<h2>Runs left out</h2>\n<ul class=\"left-out\">\n", f);
        unsigned left = 0;
        for (size_t i = 0; i < c->samples.n; i++) {
                const struct sample *x = &c->samples.v[i];
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = !c->samples.v[k].valid && streq(c->samples.v[k].run, x->run);
                if (x->valid || seen)
                        continue;
                fputs("<li>run ", f);
                html_text(f, x->run);
                fputs(" (", f);
                html_text(f, x->workload);
                fputs("): ", f);
                html_text(f, x->reason ?: "not valid");
                fputs("</li>\n", f);
                left++;
        }
        if (!left)
                fputs("<li>none</li>\n", f);
        fputs("</ul>\n", f);
}

/* The counted runs and samples of what (a series, else a run; or a baseline)
 * appended to c's; as_side, when given, replaces their side. */
static int load(struct ctx *c, const char *what, bool baseline, const char *as_side, char **err)
{
        const char *kind = baseline ? "baseline" : "series";
        struct json_object *runs = NULL;
        int r = store_run_reports(c->db, what, kind, &runs, err);
        if (r == 0 && jlen(runs) == 0 && !baseline) {
                json_object_put(runs);
                runs = NULL;
                kind = "run";
                r = store_run_reports(c->db, what, kind, &runs, err);
        }
        if (r < 0)
                return r;
        if (jlen(runs) == 0) {
                json_object_put(runs);
                *err = baseline ? xasprintf("no baseline %s in %s (mptcplab baseline list)", what,
                                            store_path(c->db))
                                : xasprintf("no counted run or series %s in %s (mptcplab history)",
                                            what, store_path(c->db));
                return -ENOENT;
        }
        size_t from = c->samples.n;
        if ((r = store_samples(c->db, what, kind, true, &c->samples, err)) < 0) {
                json_object_put(runs);
                return r;
        }
        for (size_t i = 0; as_side && i < c->samples.n; i++)
                if (i >= from) {
                        free(c->samples.v[i].side);
                        c->samples.v[i].side = xstrdup(as_side);
                }
        for (size_t i = 0; i < jlen(runs); i++) {
                struct json_object *x = json_object_array_get_idx(runs, i);
                if (as_side)
                        json_object_object_add(x, "side", json_object_new_string(as_side));
                json_object_array_add(c->runs, json_object_get(x));
        }
        json_object_put(runs);
        return 0;
}

int report_write(struct store *db, const char *id, const char *baseline, const char *out_dir,
                 char **ret_index, char **err)
{
        if (strchr(out_dir, '\'')) {
                *err = xasprintf("%s: a report directory may not have a ' in its path", out_dir);
                return -EINVAL;
        }
        struct ctx c = {.db = db, .id = id, .dir = out_dir, .runs = json_object_new_array()};
        int r = 0;
        /* a check's report: the baseline's runs are side "base", ours "candidate" */
        if (baseline && ((r = load(&c, baseline, true, "base", err)) < 0 ||
                         (r = load(&c, id, false, "candidate", err)) < 0)) {
                json_object_put(c.runs);
                samples_clear(&c.samples);
                return r;
        }
        if (baseline) {
                c.base_side = "base";
                c.cand_side = "candidate";
        } else if ((r = load(&c, id, false, NULL, err)) < 0) {
                json_object_put(c.runs);
                samples_clear(&c.samples);
                return r;
        }
        for (size_t i = 0; !baseline && i < jlen(c.runs); i++)
                if (side_is(json_object_array_get_idx(c.runs, i), "B") &&
                    jstr(json_object_array_get_idx(c.runs, i), "side")) {
                        c.base_side = "A";
                        c.cand_side = "B";
                }
        if ((r = mkdir_p(out_dir)) < 0) {
                *err = xasprintf("cannot make %s: %s", out_dir, strerror(-r));
                json_object_put(c.runs);
                samples_clear(&c.samples);
                return r;
        }
        struct sb h;
        sb_open(&h);
        c.html = h.f;
        struct json_object *run0 = json_object_array_get_idx(c.runs, 0);
        const char *topology = jstr(jobj(run0, "topology"), "name");
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>mptcplab "
              "report ",
              h.f);
        html_text(h.f, id);
        fputs("</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto}"
              "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;"
              "padding:2px 6px;text-align:left}pre{background:#f6f6f6;padding:6px;overflow-x:auto}"
              "figure{margin:1em 0}img{max-width:100%}</style>\n</head><body>\n<h1>mptcplab: ",
              h.f);
        html_text(h.f, topology);
        fputs(c.cand_side ? ", A vs B" : "", h.f);
        fputs("</h1>\n", h.f);
        describe_runs(&c);
        /* the tables, exactly as compare and check print them */
        struct verdicts v = {0};
        verdicts_compute(&c.samples, c.base_side, &c.samples, c.cand_side, NULL, &v);
        if (c.cand_side) {
                struct sb t;
                sb_open(&t);
                ktap_print(t.f, &v, "report");
                lkp_print(t.f, &v);
                unsigned na, nb;
                struct json_object *mibs =
                        mib_changes(c.runs, c.base_side, c.runs, c.cand_side, &na, &nb);
                mib_table_print(t.f, mibs, na, nb);
                json_object_put(mibs);
                _cleanup_free_ char *text = sb_close(&t);
                fputs("<h2>Verdicts, the LKP table and the MIB counters</h2>\n<pre "
                      "id=\"tables\">",
                      h.f);
                html_text(h.f, text);
                fputs("</pre>\n", h.f);
        }
        /* every metric's values as numbers, for a reader and for the tests */
        fputs("<h2>Metrics (mean of the valid runs)</h2>\n<table id=\"metrics\"><tr><th>test</th>"
              "<th>unit</th><th>base mean</th><th>n</th>",
              h.f);
        if (c.cand_side)
                fputs("<th>candidate mean</th><th>n</th><th>verdict</th>", h.f);
        fputs("</tr>\n", h.f);
        for (size_t i = 0; i < v.n; i++) {
                const struct test_result *t = &v.t[i];
                fputs("<tr><td>", h.f);
                html_text(h.f, t->name);
                fputs("</td><td>", h.f);
                html_text(h.f, t->metric->unit);
                fprintf(h.f, "</td><td class=\"num\">%.6g</td><td>%zu</td>", t->base_mean,
                        t->base_valid);
                if (c.cand_side)
                        fprintf(h.f, "<td class=\"num\">%.6g</td><td>%zu</td><td>%s</td>",
                                t->cand_mean, t->cand_valid, verdict_name(t->j.verdict));
                fputs("</tr>\n", h.f);
        }
        fputs("</table>\n<h2>Plots</h2>\n", h.f);
        events_table(&c);
        plot_events(&c);
        plot_goodput_time(&c);
        plot_ab(&c, &v);
        plot_latency(&c);
        plot_cpu(&c);
        plot_history(&c, topology ? topology : "");
        verdicts_clear(&v);
        fprintf(h.f, "<p>Reproduce: <code>mptcplab %s ", c.cand_side ? "compare" : "run");
        html_text(h.f, jstr(jobj(run0, "topology"), "file"));
        fprintf(h.f, " --backend ");
        html_text(h.f, jstr(run0, "backend"));
        fprintf(h.f, "%s</code> (the kernels and settings of each side are above).</p>\n",
                c.cand_side ? " --kernel-a ... --kernel-b ..." : "");
        fputs("</body></html>\n", h.f);
        _cleanup_free_ char *html = sb_close(&h);
        _cleanup_free_ char *index = xasprintf("%s/index.html", out_dir);
        FILE *f = fopen(index, "we");
        r = 0;
        if (!f || fputs(html, f) < 0 || fclose(f) != 0) {
                *err = xasprintf("cannot write %s", index);
                r = -EIO;
        }
        if (c.err) { /* a plot that failed is said, the report stands */
                log_warn("report %s: %s", out_dir, c.err);
                free(c.err);
        }
        if (r == 0)
                *ret_index = TAKE_PTR(index);
        json_object_put(c.runs);
        samples_clear(&c.samples);
        return r;
}
