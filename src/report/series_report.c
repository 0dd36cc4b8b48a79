/* series_report.c - a series shown: what compare, check and run --runs
 * print on stdout (the KTAP and LKP of the verdicts, the kernels, the MIB
 * counters, the medians of a plain series, the lab's noise) and the series
 * JSON (docs/run-json.md), from the typed result alone. */
#include "series_report.h"
#include "ktap.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "../stats/stats.h"

#include <math.h>
#include <unistd.h>

/* The kernels a side ran, once each, as "# " lines under the verdicts. */
static void print_kernels(FILE *f, struct json_object *runs, const char *side, const char *label)
{
        struct json_object *seen = json_object_new_object();
        for (size_t i = 0; i < json_object_array_length(runs); i++) {
                struct json_object *r = json_object_array_get_idx(runs, i);
                const char *sd = jstr(r, "side");
                if (side && (!sd || !streq(sd, side)))
                        continue;
                struct json_object *nodes = jarr(r, "nodes");
                for (size_t k = 0; k < json_object_array_length(nodes); k++) {
                        struct json_object *nd = json_object_array_get_idx(nodes, k);
                        struct json_object *id = jobj(nd, "kernel_id");
                        const char *commit = jstr(id, "commit"), *sha = jstr(id, "image_sha256");
                        bool dirty = commit && json_object_get_boolean(jpath(id, "dirty", NULL));
                        _cleanup_free_ char *full = xasprintf(
                                "%s%s%s%s%s%s%s%.16s%s", jstr(nd, "kernel") ?: "?",
                                commit ? ", commit " : "", commit ?: "", dirty ? " (dirty)" : "",
                                jstr(id, "tree") ? ", tree " : "", jstr(id, "tree") ?: "",
                                sha ? ", image sha256 " : "", sha ?: "", sha ? "..." : "");
                        if (json_object_object_get_ex(seen, full, NULL))
                                continue;
                        json_object_object_add(seen, full, NULL);
                        fprintf(f, "# %s kernel: %s\n", label, full);
                }
        }
        json_object_put(seen);
}

/* What differs between the baseline's runs and these besides the kernel:
 * "# " lines (the topology itself was checked before the runs). */
static void print_differences(FILE *f, struct json_object *meta, const char *lab, const char *accel,
                              const char *tools)
{
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        struct json_object *r0 = json_object_array_get_idx(meta, 0);
        const char *bhost = jstr(r0, "host"), *baccel = jstr(r0, "accel"),
                   *btools = jstr(r0, "tools"), *blab = jstr(r0, "lab");
        unsigned n = 0;
        if (bhost && !streq(bhost, host))
                fprintf(f, "# differs from the baseline: host %s, now %s\n", bhost, host), n++;
        if (baccel && accel && !streq(baccel, accel))
                fprintf(f, "# differs from the baseline: accelerators %s, now %s\n", baccel, accel),
                        n++;
        if (btools && tools && !streq(btools, tools))
                fprintf(f, "# differs from the baseline: tool versions %s, now %s\n", btools,
                        tools),
                        n++;
        if ((blab || lab) && !(blab && lab && streq(blab, lab)))
                fprintf(f, "# differs from the baseline: lab %s, now %s\n", blab ? blab : "(none)",
                        lab ? lab : "(none)"),
                        n++;
        if (!n)
                fprintf(f, "# like with like: the baseline ran on this host, accelerator, tool "
                           "versions and topology; only the kernel may differ\n");
}

static void invalid_notes(FILE *f, const struct samples *samples)
{
        /* the verdict says why samples were left out: once per run */
        for (size_t i = 0; i < samples->n; i++) {
                const struct sample *x = &samples->v[i];
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = !samples->v[k].valid && streq(samples->v[k].run, x->run);
                if (x->valid || seen)
                        continue;
                fprintf(f, "# left out: run %s%s%s (%s): %s\n", x->run, x->side ? " side " : "",
                        x->side ?: "", x->workload, x->reason ?: "not valid");
        }
}

/* A plain series: per metric median and spread (t: the topology, for the
 * workloads' bounds; may be NULL) */
static void print_medians(FILE *f, const struct series_result *r, const struct topo *t)
{
        fprintf(f, "# series %s: %u runs\n", r->series, r->runs);
        unsigned n_metrics;
        const struct metric *metrics = metric_all(&n_metrics);
        const char *wls[64];
        unsigned n_wl = samples_workloads(&r->samples, wls, ELEMENTSOF(wls));
        for (unsigned m = 0; m < n_metrics; m++)
                for (unsigned w = 0; w < n_wl; w++) {
                        double *v;
                        size_t n;
                        samples_values(&r->samples, NULL, wls[w], &metrics[m], true, &v, &n);
                        if (n)
                                fprintf(f,
                                        "# %-14s %-24s median %10.4g  CV %6.2f%%  (%zu "
                                        "valid)\n",
                                        wls[w], metrics[m].name, stats_median(v, n),
                                        100 * stats_cv(v, n), n);
                        const struct topo_workload *tw = topo_find_workload(t, wls[w]);
                        if (n && tw && tw->max_time_us && streq(metrics[m].name, "completion_s")) {
                                /* the distribution over runs, and the bound */
                                double max = (double)tw->max_time_us / 1e6, lo, hi;
                                size_t over = 0;
                                for (size_t k = 0; k < n; k++)
                                        over += v[k] > max;
                                double cov = stats_median_interval(v, n, &lo, &hi);
                                fprintf(f,
                                        "# %-14s completion: min %.4g, median %.4g "
                                        "[%.0f%% interval %.4g, %.4g], max %.4g s; %zu of "
                                        "%zu runs over the bound of %g s\n",
                                        wls[w], stats_min(v, n), stats_median(v, n), 100 * cov, lo,
                                        hi, stats_max(v, n), over, n, max);
                        }
                        free(v);
                }
}

static void print_noise(FILE *f, struct json_object *noise)
{
        if (!jlen(noise)) {
                fprintf(f, "# the smallest change this lab can see here: unknown yet (fewer than 3 "
                           "stored runs of one series with these settings and kernels)\n");
                return;
        }
        fprintf(f, "# the smallest change this lab can see here (80%% power), from its stored runs "
                   "of the same topology, settings and kernels:\n");
        for (size_t i = 0; i < jlen(noise); i++) {
                struct json_object *o = json_object_array_get_idx(noise, i);
                double cv = 0, d1 = -1, d2 = -1;
                int64_t runs = 0, series = 0, n1 = 0, n2 = 0;
                bool key = false;
                jdouble(o, "cv", &cv);
                jint(o, "stored_runs", &runs);
                jint(o, "series", &series);
                jint(o, "runs", &n1);
                jint(o, "runs_doubled", &n2);
                jbool(o, "key", &key);
                jdouble(o, "min_detectable", &d1);
                jdouble(o, "min_detectable_doubled", &d2);
                char s1[32], s2[32];
                snprintf(s1, sizeof s1, d1 < 0 ? "none under 90%%" : "%.1f%%", 100 * d1);
                snprintf(s2, sizeof s2, d2 < 0 ? "none under 90%%" : "%.1f%%", 100 * d2);
                fprintf(f,
                        "#   %s (%s): noise CV %.2f%% over %u runs in %u series; %u runs a side "
                        "detect a %s change, %u runs %s\n",
                        jstr(o, "test"), key ? "key" : "informs", 100 * cv, (unsigned)runs,
                        (unsigned)series, (unsigned)n1, s1, (unsigned)n2, s2);
        }
}

/* The path events of the counted runs: how late the worst was applied
 * (docs/events.md: at most 5 ms on netns, 20 ms under TCG is the goal) and
 * how well the receiver's bins add up to each window's bytes */
static void print_event_timing(FILE *f, struct json_object *runs)
{
        unsigned n = 0, windows = 0;
        double worst = -1, clock = 0, off = 0;
        const char *wrun = NULL, *wwl = NULL, *waction = NULL;
        size_t wk = 0;
        for (size_t i = 0; i < jlen(runs); i++) {
                struct json_object *run = json_object_array_get_idx(runs, i);
                struct json_object *wls = jarr(run, "workloads");
                for (size_t w = 0; w < jlen(wls); w++) {
                        struct json_object *wl = json_object_array_get_idx(wls, w);
                        struct json_object *evs = jarr(wl, "events");
                        for (size_t k = 0; k < jlen(evs); k++) {
                                struct json_object *e = json_object_array_get_idx(evs, k);
                                double late, cu = 0;
                                if (!jdouble(e, "late_ms", &late))
                                        continue;
                                n++;
                                jdouble(e, "clock_uncertainty_ms", &cu);
                                clock = cu > clock ? cu : clock;
                                if (late > worst) {
                                        worst = late;
                                        wrun = jstr(run, "run_id");
                                        wwl = jstr(wl, "name");
                                        waction = jstr(e, "action");
                                        wk = k + 1;
                                }
                        }
                        /* the bins against the window's count (a timed stream) */
                        struct json_object *by = jarr(jobj(wl, "receiver_bins"), "bytes");
                        double rbps = -1, dur = 0, sum = 0;
                        jdouble(jobj(wl, "goodput"), "receiver_bps", &rbps);
                        jdouble(wl, "duration_s", &dur);
                        for (size_t b = 0; b < jlen(by); b++)
                                sum += json_object_get_double(json_object_array_get_idx(by, b));
                        if (jlen(by) && rbps > 0 &&
                            !json_object_object_get_ex(jobj(wl, "metrics"), "completion_s", NULL)) {
                                double win = rbps * dur / 8, d = fabs(sum - win) / win;
                                off = d > off ? d : off;
                                windows++;
                        }
                }
        }
        if (!n)
                return;
        fprintf(f,
                "# path events: %u applied, the latest %.3f ms after its instant (run %.8s, "
                "workload %s, event %zu: %s); the nodes' clocks known within %.3f ms\n",
                n, worst, wrun ? wrun : "?", wwl ? wwl : "?", wk, waction ? waction : "?", clock);
        if (windows)
                fprintf(f,
                        "# the receiver's 10 ms bins add up to each window's bytes within "
                        "%.4f%% (%u windows)\n",
                        100 * off, windows);
}

void series_print(FILE *f, const struct series_result *r)
{
        const struct series_asked *o = &r->asked;
        if (r->skip) /* a matrix cell the nodes cannot be: nothing ran */
                fprintf(f, "# %s: SKIP %s\n", r->topo ? topo_label(r->topo) : o->file, r->skip);
        if (r->baseline_hash)
                fprintf(f,
                        "# --allow-different: the baseline's topology or overrides differ from "
                        "these (hash %s, now %s)\n",
                        r->baseline_hash, r->hash);
        if (r->runs_auto_done)
                fprintf(f,
                        "# --runs auto: %u run(s) a side of at most %u; the key tests are judged "
                        "at the level that covers all %u looks\n",
                        r->runs, o->runs, r->looks);
        if (o->compare && o->blocked)
                fprintf(f, "# order blocked: every A run, then every B run; a drift of the "
                           "machines over time is not told apart from the sides' difference\n");
        if (r->what) {
                invalid_notes(f, &r->samples);
                if (r->judged) {
                        ktap_print(f, &r->verdicts, r->what);
                        lkp_print(f, &r->verdicts);
                }
                if (r->judged && o->compare) {
                        print_kernels(f, r->runs_json, "A", "A");
                        print_kernels(f, r->runs_json, "B", "B");
                        mib_table_print(f, r->mibs, r->mib_base_runs, r->mib_cand_runs);
                } else if (r->judged && r->base_runs) {
                        print_kernels(f, r->base_runs, NULL, "baseline");
                        print_kernels(f, r->runs_json, NULL, "candidate");
                        print_differences(f, r->base_meta, o->lab, r->accel, r->tools);
                        mib_table_print(f, r->mibs, r->mib_base_runs, r->mib_cand_runs);
                }
        } else if (!o->compare && !o->baseline && r->judged_outcome == OUTCOME_OK && r->runs > 1)
                print_medians(f, r, r->topo);
        print_event_timing(f, r->runs_json);
        if (r->noise_looked && r->noise)
                print_noise(f, r->noise);
        if (r->crashed &&
            (r->judged_outcome == OUTCOME_OK || r->judged_outcome == OUTCOME_REGRESSION) &&
            (o->compare || o->baseline))
                fprintf(f,
                        "# the candidate's kernel crashed in %u run(s): see the runs' crash "
                        "traces (mptcplab history)\n",
                        r->crashed);
        if (r->crashed_a && o->compare)
                fprintf(f, "# side A crashed in %u run(s)\n", r->crashed_a);
}

struct json_object *series_json(const struct series_result *r, int exit_code)
{
        const struct series_asked *o = &r->asked;
        struct json_object *out = json_object_new_object();
        json_object_object_add(out, "schema", json_object_new_string("mptcplab.series/1"));
        json_object_object_add(out, "series", json_object_new_string(r->series));
        json_object_object_add(out, "topology", json_object_new_string(o->file));
        if (r->replaced)
                json_object_object_add(out, "replaced_runs", json_object_new_int((int)r->replaced));
        if (o->compare)
                json_object_object_add(
                        out, "order",
                        json_object_new_string(o->blocked ? "blocked" : "interleaved"));
        if (r->what && o->baseline)
                json_object_object_add(out, "baseline", json_object_new_string(o->baseline));
        if (r->noise_looked)
                json_object_object_add(out, "noise",
                                       r->noise ? json_object_get(r->noise)
                                                : json_object_new_array());
        json_object_object_add(out, "crashed_runs", json_object_new_int((int)r->crashed));
        if (r->judged)
                json_object_object_add(out, "tests", verdicts_json(&r->verdicts));
        if (r->mibs)
                json_object_object_add(out, "mib_changes", json_object_get(r->mibs));
        json_object_object_add(out, "samples", samples_json(&r->samples));
        json_object_object_add(out, "runs", json_object_new_int((int)r->runs));
        /* which kernel each counted run's nodes ran, as verified (kernel_id) */
        struct json_object *rk = json_object_new_array();
        for (size_t i = 0; i < jlen(r->runs_json); i++) {
                struct json_object *rj = json_object_array_get_idx(r->runs_json, i),
                                   *e = json_object_new_object(), *nk = json_object_new_object();
                json_object_object_add(e, "run", json_object_get(jpath(rj, "run_id", NULL)));
                json_object_object_add(e, "side", json_object_get(jpath(rj, "side", NULL)));
                struct json_object *nodes = jpath(rj, "nodes", NULL);
                for (size_t k = 0; nodes && k < json_object_array_length(nodes); k++) {
                        struct json_object *nd = json_object_array_get_idx(nodes, k);
                        if (jstr(nd, "name"))
                                json_object_object_add(nk, jstr(nd, "name"),
                                                       json_object_get(jobj(nd, "kernel_id")));
                }
                json_object_object_add(e, "kernels", nk);
                json_object_array_add(rk, e);
        }
        json_object_object_add(out, "run_kernels", rk);
        const struct series_timing *s = &r->timing;
        struct json_object *tm = json_object_new_object();
        json_object_object_add(tm, "wall_s", json_object_new_double(s->wall));
        json_object_object_add(tm, "measured_s", json_object_new_double(s->measured));
        json_object_object_add(tm, "ratio",
                               s->measured > 0 ? json_object_new_double(s->wall / s->measured)
                                               : NULL);
        json_object_object_add(tm, "warmup_runs_s", json_object_new_double(s->warmup_runs));
        json_object_object_add(tm, "boot_s", json_object_new_double(s->boot));
        json_object_object_add(tm, "configure_s", json_object_new_double(s->configure));
        json_object_object_add(tm, "workload_warmup_s", json_object_new_double(s->warmup));
        json_object_object_add(tm, "warmup_history_runs",
                               json_object_new_int((int)s->warmup_history));
        json_object_object_add(tm, "tools_s", json_object_new_double(s->tools));
        json_object_object_add(tm, "teardown_s", json_object_new_double(s->teardown));
        /* kept VMs put back between runs, and every second not said above
         * (storing and parsing between runs, the verdicts) */
        json_object_object_add(tm, "reset_s", json_object_new_double(s->reset));
        json_object_object_add(tm, "other_s", json_object_new_double(series_timing_other(s)));
        json_object_object_add(out, "timing", tm);
        json_object_object_add(out, "exit", json_object_new_int(exit_code));
        return out;
}
