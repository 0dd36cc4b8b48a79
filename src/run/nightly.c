/* nightly.c - the conductor of a nightly plan (docs/nightly.md): the kernel
 * CI dropped, the scenarios' series within the plan's budget, and the change
 * points of each topology's history, stored. What the nightly prints is the
 * command line's (cli/nightly.c). */
#include "nightly.h"
#include "../results/metrics.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "../stats/changepoint.h"
#include "../stats/stats.h"
#include "../store/store.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

/* The newest build in a directory where CI drops them: a bzImage file or a
 * build tree (a directory with arch/x86/boot/bzImage), by modification time. */
static char *newest_drop(const char *dir, char **err)
{
        DIR *d = opendir(dir);
        if (!d) {
                *err = xasprintf("kernel drop directory %s: %s", dir, strerror(errno));
                return NULL;
        }
        char *best = NULL;
        time_t best_t = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
                _cleanup_free_ char *img = xasprintf("%s/arch/x86/boot/bzImage", p);
                struct stat st;
                const char *what = stat(img, &st) == 0 ? img : p;
                if (stat(what, &st) < 0 || (!S_ISREG(st.st_mode) && what == p))
                        continue;
                if (!best || st.st_mtime > best_t) {
                        free(best);
                        best = xstrdup(p);
                        best_t = st.st_mtime;
                }
        }
        closedir(d);
        if (!best)
                *err = xasprintf("kernel drop directory %s has no build (a bzImage or a tree)",
                                 dir);
        return best;
}

char *nightly_kernel(const struct plan *p, char **err)
{
        if (p->kernel_drop)
                return newest_drop(p->kernel_drop, err);
        return p->kernel ? xstrdup(p->kernel) : NULL;
}

/* The change points of one topology's history: per workload and metric, the
 * medians of each night (series) in the order the nights ran, searched with
 * the metric's threshold as the smallest change. New ones are stored; all
 * are returned as JSON. Only key metrics unless all_metrics. */
int nightly_analyse(struct store *db, const char *topology, const struct topo *t, bool all_metrics,
                    struct json_object *found, char **err)
{
        struct samples h = {0};
        int r = store_history_samples(db, topology, &h, err);
        if (r < 0)
                return r;
        /* the nights, in order */
        const char **nights = xcalloc(h.n + 1, sizeof *nights);
        size_t n_nights = 0;
        for (size_t i = 0; i < h.n; i++) {
                const char *s = h.v[i].series;
                if (s && (!n_nights || !streq(nights[n_nights - 1], s))) {
                        bool seen = false;
                        for (size_t k = 0; k < n_nights && !seen; k++)
                                seen = streq(nights[k], s);
                        if (!seen)
                                nights[n_nights++] = s;
                }
        }
        const char *wls[64];
        unsigned n_wl = samples_workloads(&h, wls, ELEMENTSOF(wls)), nm;
        const struct metric *m = metric_all(&nm);
        double *x = xcalloc(n_nights + 1, sizeof *x), *v = xcalloc(h.n + 1, sizeof *v);
        size_t *night_of = xcalloc(n_nights + 1, sizeof *night_of);
        for (unsigned w = 0; w < n_wl; w++)
                for (unsigned k = 0; k < nm; k++) {
                        const struct topo_workload *tw = topo_find_workload(t, wls[w]);
                        if (!all_metrics && !metric_is_key(&m[k], tw))
                                continue;
                        /* per-night medians; a night without the metric is skipped */
                        size_t n = 0;
                        for (size_t night = 0; night < n_nights; night++) {
                                size_t c = 0;
                                for (size_t i = 0; i < h.n; i++)
                                        if (h.v[i].series && streq(h.v[i].series, nights[night]) &&
                                            h.v[i].metric == &m[k] &&
                                            streq(h.v[i].workload, wls[w]) &&
                                            isfinite(h.v[i].value))
                                                v[c++] = h.v[i].value;
                                if (!c)
                                        continue;
                                night_of[n] = night;
                                x[n++] = stats_median(v, c);
                        }
                        struct change_point cp[32];
                        bool *far = xcalloc(n + 1, sizeof *far);
                        struct cp_options o = {.left_out = far,
                                               .max_p = 0.001,
                                               .min_rel = metric_threshold(&m[k]),
                                               .min_seg = 3,
                                               .window = 64};
                        size_t got = cp_detect(x, n, &o, cp, ELEMENTSOF(cp));
                        /* the nights left out, said (noise is reported as noise) */
                        for (size_t i = 0; i < n; i++)
                                if (far[i])
                                        log_info("%s %s.%s: night %s (%.4g) is far from the "
                                                 "nights on both sides of it: left out of its "
                                                 "change points",
                                                 topology, wls[w], m[k].name, nights[night_of[i]],
                                                 x[i]);
                        free(far);
                        for (size_t c = 0; c < got; c++) {
                                const char *before = nights[night_of[cp[c].before]],
                                           *after = nights[night_of[cp[c].index]];
                                _cleanup_free_ char *kb = NULL, *ka = NULL;
                                char *e = NULL;
                                if (store_series_kernels(db, before, &kb, &e) < 0 ||
                                    store_series_kernels(db, after, &ka, &e) < 0)
                                        free(e);
                                bool regression =
                                        m[k].higher_is_better ? cp[c].rel < 0 : cp[c].rel > 0;
                                struct store_change_point sc = {.topology = topology,
                                                                .workload = wls[w],
                                                                .metric = m[k].name,
                                                                .series_before = before,
                                                                .series_after = after,
                                                                .kernels_before = kb,
                                                                .kernels_after = ka,
                                                                .mean_before = cp[c].mean_before,
                                                                .mean_after = cp[c].mean_after,
                                                                .rel = cp[c].rel,
                                                                .p = cp[c].p,
                                                                .regression = regression};
                                bool is_new = false;
                                int64_t id = store_change_point_add(db, &sc, &is_new, &e);
                                if (id < 0) {
                                        log_warn("%s", e);
                                        free(e);
                                        continue;
                                }
                                struct json_object *o2 = json_object_new_object();
                                json_object_object_add(o2, "id", json_object_new_int64(id));
                                json_object_object_add(o2, "new", json_object_new_boolean(is_new));
                                json_object_object_add(
                                        o2, "night",
                                        json_object_new_int((int)night_of[cp[c].index] + 1));
                                json_object_array_add(found, o2);
                        }
                }
        free(x);
        free(v);
        free(night_of);
        free(nights);
        samples_clear(&h);
        return 0;
}

/* The kernel a night ran, as --kernel takes it: its first node's spec (a
 * release, an image or a build tree), else the release the node ran. */
char *nightly_night_kernel(struct store *db, const char *series)
{
        struct json_object *runs = NULL;
        char *err = NULL;
        if (store_run_reports(db, series, "series", &runs, &err) < 0) {
                log_warn("%s", err);
                free(err);
                return NULL;
        }
        struct json_object *n0 = jidx(jarr(jidx(runs, 0), "nodes"), 0);
        const char *k = jstr(n0, "kernel_spec") ?: jstr(n0, "kernel");
        char *r = k ? xstrdup(k) : NULL;
        json_object_put(runs);
        return r;
}

struct json_object *nightly_scenarios(const struct nightly_opts *no, bool *infra)
{
        const struct plan *p = no->p;
        struct json_object *scen = json_object_new_array();
        uint64_t t0 = now_usec();
        for (unsigned i = 0; i < p->n; i++) {
                const struct plan_scenario *s = &p->s[i];
                struct json_object *so = json_object_new_object();
                json_object_object_add(so, "topology", json_object_new_string(s->topology));
                if (p->budget_us && now_usec() - t0 > p->budget_us) {
                        log_warn("nightly %s: the budget is spent; %s is skipped", p->name,
                                 s->topology);
                        json_object_object_add(so, "skipped", json_object_new_string("budget"));
                        json_object_array_add(scen, so);
                        *infra = true;
                        continue;
                }
                fprintf(stderr, "mptcplab: nightly %s: scenario %u/%u, %s\n", p->name, i + 1, p->n,
                        s->topology);
                struct series_opts o = {.file = s->topology,
                                        .sets_a = s->sets,
                                        .n_sets_a = s->n_sets,
                                        .kernel_a = no->kernel,
                                        .runs = s->runs,
                                        .no_warmup_run = !s->warmup_run,
                                        .baseline = s->baseline,
                                        .backend = p->backend ? p->backend : "libvirt",
                                        .inventory = p->inventory,
                                        .db = no->dbpath,
                                        .lab = no->lab,
                                        .agent_path = no->agent_path,
                                        .on_run = no->on_run,
                                        .user = no->user};
                struct series_result sr;
                series_run(&o, &sr);
                if (sr.skip) /* a matrix cell the nodes cannot be */
                        json_object_object_add(so, "skip", json_object_new_string(sr.skip));
                int r = no->on_series(no->user, &sr);
                series_result_clear(&sr);
                json_object_object_add(so, "exit", json_object_new_int(r));
                json_object_array_add(scen, so);
                if (r == OUTCOME_INFRA || r == OUTCOME_INPUT)
                        *infra = true;
        }
        return scen;
}

int nightly_expand_matrix(struct plan *p, struct topo ***topos, struct topo_errors *errs)
{
        struct topo **t = *topos;
        struct plan_scenario *s2 = NULL;
        struct topo **t2 = NULL;
        unsigned n2 = 0;
        int rc = 0;
        for (unsigned i = 0; i < p->n; i++) {
                const struct plan_scenario *s = &p->s[i];
                if (!t[i] || !topo_has_matrix(t[i]) || t[i]->cell_set) {
                        s2 = xreallocarray(s2, n2 + 1, sizeof *s2);
                        t2 = xreallocarray(t2, n2 + 1, sizeof *t2);
                        s2[n2] = *s;
                        t2[n2++] = t[i];
                        continue;
                }
                char ***cells = NULL;
                size_t nc = topo_matrix_cells(&t[i]->matrix, &cells);
                for (size_t k = 0; k < nc; k++) {
                        char **cs = topo_cell_sets(cells[k]);
                        struct plan_scenario ns = *s;
                        ns.topology = xstrdup(s->topology);
                        ns.baseline = s->baseline ? xstrdup(s->baseline) : NULL;
                        ns.sets = xcalloc(s->n_sets + TOPO_AXES + 1, sizeof(char *));
                        ns.n_sets = 0;
                        for (unsigned j = 0; j < s->n_sets; j++)
                                ns.sets[ns.n_sets++] = xstrdup(s->sets[j]);
                        for (char **c = cs; *c; c++)
                                ns.sets[ns.n_sets++] = *c;
                        free(cs);
                        struct topo *ct = NULL;
                        if (topo_parse_file_set(ns.topology, ns.sets, ns.n_sets, &ct, errs) < 0)
                                rc = -EINVAL;
                        s2 = xreallocarray(s2, n2 + 1, sizeof *s2);
                        t2 = xreallocarray(t2, n2 + 1, sizeof *t2);
                        s2[n2] = ns;
                        t2[n2++] = ct;
                }
                topo_cells_free(cells, nc);
                /* the scenario's own strings go with it; its cells have copies */
                free(p->s[i].topology);
                for (unsigned j = 0; j < s->n_sets; j++)
                        free(s->sets[j]);
                free(p->s[i].sets);
                free(p->s[i].baseline);
                topo_free(t[i]);
        }
        free(p->s);
        free(t);
        p->s = s2;
        p->n = n2;
        *topos = t2;
        return rc;
}
