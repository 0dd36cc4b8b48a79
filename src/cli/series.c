/* series.c - repetitions, the results database, and verdicts: run --runs N,
 * compare (two kernels or settings, interleaved A B A B), check (against a
 * saved baseline), history and baselines. */
#include "series.h"
#include "hostlock.h"
#include "../report/report.h"
#include "../backend/kernel.h"
#include "../report/ktap.h"
#include "../shared/util.h"
#include "../stats/stats.h"
#include "../store/store.h"

#include <fcntl.h>
#include <getopt.h>
#include <sys/stat.h>
#include <limits.h>
#include <math.h>
#include <time.h>

int series_set_threshold(const char *spec)
{
        return metric_set_threshold(spec);
}

/* A node's kernel as history and the verdicts name it: the release the node
 * said it runs, and the commit of the build tree it came from. */
static const char *kernel_name(struct json_object *info)
{
        static char buf[256];
        const char *rel = jstr(jobj(info, "hello"), "kernel") ?: "?";
        struct json_object *id = jobj(info, "kernel_id");
        const char *commit = jstr(id, "commit");
        bool dirty = json_object_get_boolean(jpath(id, "dirty", NULL));
        if (commit)
                snprintf(buf, sizeof buf, "%s (commit %.12s%s)", rel, commit,
                         dirty ? ", dirty" : "");
        else
                snprintf(buf, sizeof buf, "%s", rel);
        return buf;
}

/* The kernels a side ran, once each, as "# " lines under the verdicts. */
static void print_kernels(struct json_object *runs, const char *side, const char *label)
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
                        printf("# %s kernel: %s\n", label, full);
                }
        }
        json_object_put(seen);
}

/* The samples of one run: every metric of every workload, valid or not. */
static unsigned run_samples(const struct run_result *res, struct store_sample *out, unsigned max)
{
        unsigned n = 0;
        for (unsigned i = 0; i < res->n_wl; i++) {
                const struct wl_result *w = &res->wl[i];
                if (!w->w)
                        continue;
                bool valid = w->status == WL_OK;
                const char *reason = valid ? NULL : w->reason ? w->reason : "not valid";
                if (res->crash_node)
                        valid = false, reason = "a node crashed";
                unsigned nm;
                const struct metric *m = metric_all(&nm);
                for (unsigned k = 0; k < nm && n < max; k++) {
                        double v;
                        if (m[k].get(w, &v) && isfinite(v) && v >= 0)
                                out[n++] = (struct store_sample){w->w->name, m[k].name, v, valid,
                                                                 reason};
                }
        }
        return n;
}

/* Writes a run that could not be stored into its run directory (a new file,
 * renamed into place whole). Returns its path, or NULL. */
static char *spool_run(const struct store_run *sr, const char *run_dir)
{
        if (!run_dir)
                return NULL;
        _cleanup_json_ struct json_object *o = store_run_to_json(sr);
        char *path = xasprintf("%s/run-%s.spool.json", run_dir, sr->run_id);
        _cleanup_free_ char *tmp = xasprintf("%s/.spool.XXXXXX", run_dir);
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                free(path);
                return NULL;
        }
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        int r = write_all(fd, text, strlen(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r < 0 || rename(tmp, path) < 0) {
                unlink(tmp);
                free(path);
                return NULL;
        }
        return path;
}

/* FNV-1a over the topology file and the overrides: which experiment this was. */
/* the topology's bytes, read once by series_run: every run of the series
 * parses and hashes the same experiment, even if the file is edited meanwhile */
static char *series_text;
static size_t series_len;
/* side A's model of it: the workloads' key metrics */
static struct topo *series_topo;

static char *topo_hash(char *const *sets, unsigned n)
{
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < series_len; i++)
                h = (h ^ (unsigned char)series_text[i]) * 1099511628211ULL;
        for (unsigned i = 0; i < n; i++)
                for (const char *p = sets[i]; *p; p++)
                        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        return xasprintf("%016llx", (unsigned long long)h);
}

static int write_json(const char *path, struct json_object *j)
{
        if (!path)
                return 0;
        /* a new file of our own next to the target (never a name someone could
         * have planted a symlink at), renamed over it whole */
        _cleanup_free_ char *copy = xstrdup(path);
        char *slash = strrchr(copy, '/');
        _cleanup_free_ char *tmp =
                slash ? xasprintf("%.*s/.mptcplab-json.XXXXXX", (int)(slash - copy), copy)
                      : xstrdup(".mptcplab-json.XXXXXX");
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                log_error("cannot write %s: %s", path, strerror(errno));
                return -errno;
        }
        const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY);
        int r = write_all(fd, text, strlen(text));
        if (r == 0)
                r = write_all(fd, "\n", 1);
        if (fchmod(fd, 0644) < 0 || close(fd) < 0)
                r = r ? r : -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                log_error("cannot write %s: %s", path, strerror(-r));
                unlink(tmp);
        }
        return r;
}

/* the counted runs of this series, as their run JSON (with "side") */
static struct json_object *series_runs;
/* machines (ssh): the release each node ran before the series' first run,
 * and the one it ran last */
static struct json_object *machine_kernels_before, *machine_kernels_last;
/* the directory of the series' last run: its report goes there */
static char *last_run_dir;
static char last_id[40];

/* Where a series' time went (its JSON's "timing"). */
static struct {
        double measured, warmup_runs, boot, configure, warmup, tools, teardown;
} spent;

/* How many stored runs taught a series its first warm-ups (seed_warmup; 0: none) */
static unsigned warmup_history;

/* What makes runs alike for their noise (store_samples_like), per side. */
static struct like {
        char *hash, *kernels, *accel, *tools;
} likes[2];

static void like_clear(struct like *l)
{
        free(l->hash);
        free(l->kernels);
        free(l->accel);
        free(l->tools);
        *l = (struct like){0};
}

/* The baseline's runs (host, accelerator, tools, lab) for `check`. */
static struct json_object *base_meta;

/* What differs between the baseline's runs and these besides the kernel:
 * "# " lines (the topology itself was checked before the runs). */
static void print_differences(struct json_object *meta, const char *lab)
{
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        struct json_object *r0 = json_object_array_get_idx(meta, 0);
        const char *bhost = jstr(r0, "host"), *baccel = jstr(r0, "accel"),
                   *btools = jstr(r0, "tools"), *blab = jstr(r0, "lab");
        unsigned n = 0;
        if (bhost && !streq(bhost, host))
                printf("# differs from the baseline: host %s, now %s\n", bhost, host), n++;
        if (baccel && likes[0].accel && !streq(baccel, likes[0].accel))
                printf("# differs from the baseline: accelerators %s, now %s\n", baccel,
                       likes[0].accel),
                        n++;
        if (btools && likes[0].tools && !streq(btools, likes[0].tools))
                printf("# differs from the baseline: tool versions %s, now %s\n", btools,
                       likes[0].tools),
                        n++;
        if ((blab || lab) && !(blab && lab && streq(blab, lab)))
                printf("# differs from the baseline: lab %s, now %s\n", blab ? blab : "(none)",
                       lab ? lab : "(none)"),
                        n++;
        if (!n)
                printf("# like with like: the baseline ran on this host, accelerator, tool "
                       "versions and topology; only the kernel may differ\n");
}

/* The lab's own noise for these runs' settings, and the smallest change n runs
 * a side (and twice as many) can see: for each key metric, and the CPU costs. */
static struct json_object *print_noise(struct store *db, const struct like *lk, unsigned n,
                                       const struct topo *t)
{
        struct json_object *out = json_object_new_array();
        struct samples like = {0};
        char *err = NULL;
        if (!db || !lk->hash ||
            store_samples_like(db, lk->hash, lk->kernels, lk->accel, &like, &err) < 0) {
                free(err);
                return out;
        }
        const char *wls[64];
        unsigned n_wl = samples_workloads(&like, wls, ELEMENTSOF(wls)), nm, k_gates = 0;
        const struct metric *m = metric_all(&nm);
        for (unsigned w = 0; w < n_wl; w++)
                for (unsigned i = 0; i < nm; i++) {
                        const struct topo_workload *tw = topo_find_workload(t, wls[w]);
                        k_gates +=
                                metric_is_key(&m[i], tw) && samples_has(&like, NULL, wls[w], &m[i]);
                }
        double gate = stats_family_level(0.95, k_gates);
        bool header = false;
        for (unsigned w = 0; w < n_wl; w++)
                for (unsigned i = 0; i < nm; i++) {
                        const struct topo_workload *tw = topo_find_workload(t, wls[w]);
                        bool key = metric_is_key(&m[i], tw);
                        if (!key && !strstr(m[i].name, "_per_gbit"))
                                continue;
                        unsigned runs, series;
                        double cv = samples_pooled_cv(&like, wls[w], &m[i], &runs, &series);
                        if (cv < 0)
                                continue;
                        double level = key ? gate : 0.95, th = metric_threshold(&m[i]);
                        unsigned n1 = n < 3 ? 3 : n, n2 = 2 * n1;
                        double d1 = stats_min_detectable(cv, n1, th, level, 0.8),
                               d2 = stats_min_detectable(cv, n2, th, level, 0.8);
                        if (!header)
                                printf("# the smallest change this lab can see here (80%% power), "
                                       "from its stored runs of the same topology, settings and "
                                       "kernels:\n");
                        header = true;
                        char s1[32], s2[32];
                        snprintf(s1, sizeof s1, d1 < 0 ? "none under 90%%" : "%.1f%%", 100 * d1);
                        snprintf(s2, sizeof s2, d2 < 0 ? "none under 90%%" : "%.1f%%", 100 * d2);
                        printf("#   %s.%s (%s): noise CV %.2f%% over %u runs in %u series; %u "
                               "runs a side detect a %s change, %u runs %s\n",
                               wls[w], m[i].name, key ? "key" : "informs", 100 * cv, runs, series,
                               n1, s1, n2, s2);
                        struct json_object *o = json_object_new_object();
                        _cleanup_free_ char *name = xasprintf("%s.%s", wls[w], m[i].name);
                        json_object_object_add(o, "test", json_object_new_string(name));
                        json_object_object_add(o, "key", json_object_new_boolean(key));
                        json_object_object_add(o, "cv", json_object_new_double(cv));
                        json_object_object_add(o, "stored_runs", json_object_new_int((int)runs));
                        json_object_object_add(o, "series", json_object_new_int((int)series));
                        json_object_object_add(o, "runs", json_object_new_int((int)n1));
                        json_object_object_add(o, "min_detectable",
                                               d1 < 0 ? NULL : json_object_new_double(d1));
                        json_object_object_add(o, "runs_doubled", json_object_new_int((int)n2));
                        json_object_object_add(o, "min_detectable_doubled",
                                               d2 < 0 ? NULL : json_object_new_double(d2));
                        json_object_array_add(out, o);
                }
        if (!header)
                printf("# the smallest change this lab can see here: unknown yet (fewer than 3 "
                       "stored runs of one series with these settings and kernels)\n");
        samples_clear(&like);
        return out;
}

/* this process's hold on the host (series_run takes it for all its runs) */
static struct hostlock host_lock = {.fd = -1, .conc_fd = -1};

struct side {
        const char *name; /* "A", "B", or NULL */
        const char *kernel;
        char **sets;
        unsigned n_sets;
        /* warmup: auto, shared by both sides so that they are measured alike:
         * what every run uses (0: nothing learned yet, so the topology's
         * warm-up, the longest), and what the runs so far showed is needed,
         * taken into use once both sides have run (series_run's loop) */
        uint64_t *warmup_us, *learned;
        unsigned n_wl;
};

/* What a run says about how long each warmup: auto workload takes to settle:
 * the warm-up only grows (whole seconds: iperf3 -O; at least 2 s for MPTCP,
 * whose half-second intervals swing by 20% under TCG, too much to see a
 * ramp that is 8% short for a second), back to the longest when subflows
 * joined inside the window or no interval could say. */
/* What one run of workload w needs: its warm-up (used_s), where its rate
 * settled (settled_s, < 0: the intervals could not say) and how many subflows
 * joined inside its window */
static uint64_t warmup_needed(const struct topo_workload *w, double used_s, double settled_s,
                              long late_joins)
{
        uint64_t used = (uint64_t)(used_s * 1e6 + 0.5), need;
        if (late_joins > 0 || settled_s < 0)
                need = w->warmup_us;
        else if (settled_s >= used_s - 1e-6) /* still moving at its end */
                need = used + 1000000;
        else
                /* interval ends come a few ms late: 1.0001 s is 1 s */
                need = (uint64_t)ceil(settled_s - 0.01) * 1000000;
        uint64_t least = w->protocol == TOPO_PROTO_MPTCP ? 2000000 : 1000000;
        if (need < least)
                need = least;
        return need > w->warmup_us ? w->warmup_us : need;
}

static void learn_warmup(const struct topo *t, const struct run_result *res, const struct side *sd)
{
        for (unsigned i = 0; sd->learned && i < res->n_wl && i < sd->n_wl; i++) {
                const struct wl_result *x = &res->wl[i];
                const struct topo_workload *w = &t->workloads[i];
                if (!x->w || !w->warmup_auto || !w->warmup_us || x->status == WL_FAILED ||
                    x->status == WL_CRASHED)
                        continue;
                uint64_t was = sd->learned[i],
                         need = warmup_needed(w, x->warmup_s, x->settled_s, x->late_joins);
                if (need < was)
                        need = was;
                sd->learned[i] = need;
                if (need != was)
                        fprintf(stderr,
                                "mptcplab: %s%s%s: the rate settled %s%.1fs in; the next runs "
                                "warm up %.0fs (warmup: auto, at most %.0fs)\n",
                                w->name, sd->name ? " side " : "", sd->name ? sd->name : "",
                                x->settled_s >= 0 && x->settled_s < x->warmup_s ? "" : "after ",
                                x->settled_s >= 0 ? x->settled_s : x->warmup_s, (double)need / 1e6,
                                (double)w->warmup_us / 1e6);
        }
}

/* How many of a side's latest runs a series' first warm-ups are learned from */
#define WARMUP_HISTORY 10

/* A series' first runs warm up as long as the latest stored runs of the same
 * settings (topology file and overrides, backend, host; both sides of a
 * comparison) needed, the most any of them needed, when each side has at
 * least 3 such runs; otherwise the longest. The series goes on learning from
 * its own runs. Returns the number of stored runs used (0: none). */
static unsigned seed_warmup(struct store *db, const struct topo *t, const char *backend,
                            const struct side *sides[], unsigned n_sides, uint64_t *use,
                            uint64_t *learned)
{
        if (!db || !t)
                return 0;
        _cleanup_free_ uint64_t *need = xcalloc(t->n_workloads + 1, sizeof *need);
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        unsigned used = 0;
        _cleanup_free_ char *hash0 = NULL;
        for (unsigned k = 0; k < n_sides; k++) {
                _cleanup_free_ char *hash = topo_hash(sides[k]->sets, sides[k]->n_sets);
                if (k == 0)
                        hash0 = xstrdup(hash);
                else if (streq(hash, hash0)) /* an A/A comparison: one history */
                        break;
                struct json_object *runs = NULL;
                char *err = NULL;
                if (store_recent_reports(db, hash, backend, host, WARMUP_HISTORY, &runs, &err) <
                    0) {
                        free(err);
                        return 0;
                }
                unsigned n = 0;
                for (size_t r = 0; r < json_object_array_length(runs); r++) {
                        struct json_object *rj = json_object_array_get_idx(runs, r);
                        struct json_object *wls = jarr(rj, "workloads");
                        for (unsigned i = 0; i < t->n_workloads; i++) {
                                const struct topo_workload *w = &t->workloads[i];
                                if (!w->warmup_auto || !w->warmup_us)
                                        continue;
                                double ws = -1, ss = -1, lj = 0;
                                bool found = false;
                                for (size_t q = 0; wls && q < json_object_array_length(wls); q++) {
                                        struct json_object *x = json_object_array_get_idx(wls, q);
                                        const char *name = jstr(x, "name"), *st = jstr(x, "status");
                                        if (!name || !streq(name, w->name) || !st ||
                                            !streq(st, "ok"))
                                                continue;
                                        found = jdouble(x, "warmup_s", &ws) && ws > 0;
                                        if (!jdouble(x, "settled_s", &ss))
                                                ss = -1;
                                        jdouble(x, "late_joins", &lj);
                                }
                                /* a run without this workload's figures says: the longest */
                                uint64_t nd =
                                        found ? warmup_needed(w, ws, ss, (long)lj) : w->warmup_us;
                                if (nd > need[i])
                                        need[i] = nd;
                        }
                        n++;
                }
                json_object_put(runs);
                if (n < 3)
                        return 0;
                used += n;
        }
        for (unsigned i = 0; i < t->n_workloads; i++) {
                const struct topo_workload *w = &t->workloads[i];
                if (!w->warmup_auto || !w->warmup_us || !need[i])
                        continue;
                use[i] = learned[i] = need[i];
                fprintf(stderr,
                        "mptcplab: %s: the latest %u stored runs of these settings needed %.0fs "
                        "of warm-up; the first runs warm up that long (warmup: auto, at most "
                        "%.0fs)\n",
                        w->name, used, (double)need[i] / 1e6, (double)w->warmup_us / 1e6);
        }
        return used;
}

/* One run of the topology, stored. Returns the run's exit code. */
static void note_machine_kernels(struct json_object *nodes)
{
        json_object_object_foreach (nodes, kname, kinfo) {
                struct json_object *kid = jobj(kinfo, "kernel_id");
                const char *rel = jstr(kid, "release"), *from = jstr(kid, "switched_from");
                if (!rel || !jstr(kid, "machine"))
                        continue;
                if (!json_object_object_get_ex(machine_kernels_before, kname, NULL))
                        json_object_object_add(machine_kernels_before, kname,
                                               json_object_new_string(from ? from : rel));
                json_object_object_add(machine_kernels_last, kname, json_object_new_string(rel));
        }
}

static int one_run(const struct series_opts *o, const struct side *sd, const char *series,
                   bool warmup, struct store *db, struct samples *all, bool print_table)
{
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        if (topo_parse_text_set(o->file, series_text, series_len, sd->sets, sd->n_sets, &t, &errs) <
            0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                topo_errors_clear(&errs);
                return EXIT_INPUT;
        }
        struct run_opts ro = {.backend = o->backend,
                              .agent_path = o->agent_path,
                              .kernel = sd->kernel,
                              .uri = o->uri,
                              .links = o->links,
                              .inventory = o->inventory,
                              .run_dir = o->run_dir,
                              .overlap_teardown = true,
                              .warmup_us = sd->n_wl == t->n_workloads ? sd->warmup_us : NULL,
                              /* the uncounted run: short */
                              .duration_cap_us = warmup ? 3000000 : 0};
        struct run_result *res = NULL;
        char *started = iso8601_now();
        int rc = lab_run(t, &ro, &res);
        if (res && ro.warmup_us)
                learn_warmup(t, res, sd);
        if (res && res->nodes)
                note_machine_kernels(res->nodes);
        if (res) {
                res->shared_host = hostlock_shared(&host_lock);
                if (res->shared_host)
                        log_warn("run %s shared this host with another run: its numbers are of "
                                 "both",
                                 res->run_id);
        }
        if (res && print_table)
                report_table(stdout, t, res);
        if (res && res->run_dir) {
                free(last_run_dir);
                last_run_dir = xstrdup(res->run_dir);
                snprintf(last_id, sizeof last_id, "%s", res->run_id);
        }
        if (res && o->json_out && !o->runs && !o->compare && !o->baseline) {
                /* a single run: its own report is the JSON asked for */
                struct json_object *j = report_json(t, res);
                if (write_json(o->json_out, j) < 0 && rc == EXIT_OK)
                        rc = EXIT_INFRA;
                json_object_put(j);
        }
        /* samples are judged whether or not the database keeps them (--no-store) */
        if (res && rc != EXIT_INPUT &&
            !(rc == EXIT_INFRA && !res->crash_node && res->error &&
              streq(res->error, "interrupted"))) {
                unsigned n_metrics;
                metric_all(&n_metrics);
                unsigned max = res->n_wl * n_metrics + 1; /* every metric of every workload */
                _cleanup_free_ struct store_sample *samples = xcalloc(max, sizeof *samples);
                unsigned n = run_samples(res, samples, max);
                struct json_object *rj = report_json(t, res), *kernels = json_object_new_object(),
                                   *accel = json_object_new_object();
                /* the newest of the nodes' kernels' build times (uname -v): the
                 * order of history */
                char built[32] = "";
                json_object_object_foreach (res->nodes, name, info) {
                        char b[32];
                        if (kernel_build_time(jstr(jobj(info, "hello"), "kernel_version"), b) ==
                                    0 &&
                            strcmp(b, built) > 0)
                                memcpy(built, b, sizeof built);
                        json_object_object_add(kernels, name,
                                               json_object_new_string(kernel_name(info)));
                        json_object_object_add(accel, name,
                                               json_object_get(jpath(info, "accel", NULL)));
                }
                bool shared = res->shared_host;
                const char *accel_s = json_object_to_json_string_ext(accel, JSON_C_TO_STRING_PLAIN);
                /* tool versions: ours, and what each node runs */
                struct json_object *tools = json_object_new_object();
                json_object_object_add(tools, "mptcplab", json_object_new_string(MPTCPLAB_VERSION));
                json_object_object_foreach (res->nodes, tname, tinfo) {
                        struct json_object *nt = json_object_new_object();
                        json_object_object_add(
                                nt, "iperf3",
                                json_object_get(jpath(tinfo, "hello", "iperf3", "version", NULL)));
                        json_object_object_add(nt, "iperf3_mptcp_flag",
                                               json_object_get(jpath(tinfo, "hello", "iperf3",
                                                                     "mptcp_flag", NULL)));
                        json_object_object_add(
                                nt, "mptcpize",
                                json_object_get(jpath(tinfo, "hello", "mptcpize", NULL)));
                        json_object_object_add(
                                nt, "mptcpload",
                                json_object_get(jpath(tinfo, "hello", "mptcpload", NULL)));
                        json_object_object_add(tools, tname, nt);
                }
                _cleanup_free_ char *hash = topo_hash(sd->sets, sd->n_sets);
                _cleanup_free_ char *ended = iso8601_now();
                if (!warmup) { /* what the lab's noise of this side is looked up by */
                        struct like *lk = &likes[sd->name && streq(sd->name, "B")];
                        like_clear(lk);
                        lk->hash = xstrdup(hash);
                        lk->kernels = xstrdup(json_object_to_json_string(kernels));
                        lk->accel = xstrdup(accel_s);
                        lk->tools = xstrdup(json_object_to_json_string(tools));
                }
                char host[256] = "";
                gethostname(host, sizeof host - 1);
                const char *status = res->crash_node ? "crashed" : res->error ? "failed" : "ok";
                struct store_run sr = {.run_id = res->run_id,
                                       .series = series,
                                       .side = sd->name,
                                       .topology = t->name,
                                       .topology_file = o->file,
                                       .topology_hash = hash,
                                       .backend = res->backend,
                                       .host = host,
                                       .started_at = started,
                                       .ended_at = ended,
                                       .status = status,
                                       .error = res->error,
                                       .kernels = json_object_to_json_string(kernels),
                                       .tools = json_object_to_json_string(tools),
                                       .result_json = json_object_to_json_string(rj),
                                       .warmup = warmup,
                                       .accel = accel_s,
                                       .shared_host = shared,
                                       .lab = o->lab,
                                       .kernel_built = *built ? built : NULL,
                                       .samples = samples,
                                       .n_samples = n};
                char *err = NULL;
                if (!warmup) { /* for the counter table of compare and check */
                        json_object_object_add(rj, "side",
                                               sd->name ? json_object_new_string(sd->name) : NULL);
                        json_object_array_add(series_runs, json_object_get(rj));
                }
                if (db && store_add_run(db, &sr, &err) < 0) {
                        /* the run's samples are not lost: kept for `mptcplab import` */
                        _cleanup_free_ char *spool = spool_run(&sr, res->run_dir);
                        log_error("%s; the run is kept in %s: store it later with `mptcplab "
                                  "import %s`",
                                  err, spool ? spool : "(nowhere: cannot write it)",
                                  spool ? spool : "FILE");
                        free(err);
                        rc = EXIT_INFRA;
                }
                for (unsigned i = 0; i < n && all && !warmup; i++)
                        samples_add(all, res->run_id, sd->name, accel_s, samples[i].workload,
                                    samples[i].metric, samples[i].value, samples[i].valid,
                                    samples[i].reason);
                json_object_put(rj);
                json_object_put(kernels);
                json_object_put(accel);
                json_object_put(tools);
        }
        if (res) {
                if (warmup)
                        spent.warmup_runs += res->wall_s;
                else {
                        struct json_object *rj = report_json(t, res), *ov = jobj(rj, "overhead");
                        double x;
                        spent.measured += jdouble(ov, "measured_s", &x) ? x : 0;
                        spent.boot += jdouble(ov, "boot_s", &x) ? x : 0;
                        spent.configure += jdouble(ov, "configure_s", &x) ? x : 0;
                        spent.warmup += jdouble(ov, "warmup_s", &x) ? x : 0;
                        spent.tools += jdouble(ov, "tools_s", &x) ? x : 0;
                        spent.teardown += jdouble(ov, "teardown_s", &x) ? x : 0;
                        json_object_put(rj);
                }
        }
        /* one line per run for the record on stderr */
        if (res) {
                fprintf(stderr, "mptcplab: %s run %s%s%s:", warmup ? "warm-up" : "counted",
                        res->run_id, sd->name ? " side " : "", sd->name ? sd->name : "");
                for (unsigned i = 0; i < res->n_wl; i++)
                        if (res->wl[i].w)
                                fprintf(stderr, " %s %.2f Mbit/s%s", res->wl[i].w->name,
                                        res->wl[i].recv_bps / 1e6,
                                        res->wl[i].status == WL_OK ? "" : " (not valid)");
                fprintf(stderr, "%s\n", res->crash_node ? " CRASHED" : "");
        }
        free(started);
        bool deferred = res && res->teardown_deferred; /* then lab_run frees t */
        run_result_free(res);
        if (!deferred)
                topo_free(t);
        return rc;
}

/* ---- verdicts ---- */

/* The accelerators (node -> kvm/tcg/host) of the samples of one side; a
 * comparison across them measures the emulator, not the kernel. Returns true
 * and *msg when the two sides (or one side within itself) differ. */
static bool accel_mixed(const struct samples *base, const char *base_side,
                        const struct samples *cand, const char *cand_side, char **msg)
{
        const char *seen[2] = {NULL, NULL};
        const struct samples *sets[2] = {base, cand};
        const char *sides[2] = {base_side, cand_side};
        for (unsigned k = 0; k < 2; k++)
                for (size_t i = 0; i < sets[k]->n; i++) {
                        const struct sample *x = &sets[k]->v[i];
                        if (sides[k] && (!x->side || !streq(x->side, sides[k])))
                                continue;
                        if (!x->accel) /* runs stored before accelerators were recorded */
                                continue;
                        if (!seen[k])
                                seen[k] = x->accel;
                        else if (!streq(seen[k], x->accel)) {
                                *msg = xasprintf("the runs of one side used different "
                                                 "accelerators (%s and %s)",
                                                 seen[k], x->accel);
                                return true;
                        }
                }
        if (seen[0] && seen[1] && !streq(seen[0], seen[1])) {
                *msg = xasprintf("the baseline or side A ran on %s, the candidate on %s", seen[0],
                                 seen[1]);
                return true;
        }
        return false;
}

/* Judges every (workload, metric) present on both sides; KTAP on stdout. */
static int judge(const struct samples *base, const char *base_side, const struct samples *cand,
                 const char *cand_side, const struct topo *t, const char *what, unsigned looks,
                 struct json_object **ret_json)
{
        struct verdicts v = {.looks = looks};
        verdicts_compute(base, base_side, cand, cand_side, t, &v);
        ktap_print(stdout, &v, what);
        lkp_print(stdout, &v);
        *ret_json = verdicts_json(&v);
        int rc = v.regressions ? EXIT_REGRESSION : EXIT_OK;
        verdicts_clear(&v);
        return rc;
}

static void invalid_notes(const struct samples *samples)
{
        /* the verdict says why samples were left out: once per run */
        for (size_t i = 0; i < samples->n; i++) {
                const struct sample *x = &samples->v[i];
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = !samples->v[k].valid && streq(samples->v[k].run, x->run);
                if (x->valid || seen)
                        continue;
                printf("# left out: run %s%s%s (%s): %s\n", x->run, x->side ? " side " : "",
                       x->side ?: "", x->workload, x->reason ?: "not valid");
        }
}

static int finish(const struct series_opts *o, int rc)
{
        if (o->bisect)
                return rc == EXIT_INFRA ? 125 : rc == EXIT_INPUT ? 128 : rc;
        return rc;
}

int series_run(const struct series_opts *o)
{
        char *err = NULL;
        struct store *db = NULL;
        /* the input first (it needs nothing), then privileges and the daemon: a user
         * who cannot run the backend hears that, not a complaint about a database in
         * someone else's home */
        struct topo_errors rerrs = {0};
        free(series_text);
        series_text = NULL;
        if (topo_read_file(o->file, &series_text, &series_len, &rerrs) < 0) {
                for (unsigned i = 0; i < rerrs.n; i++)
                        fprintf(stderr, "%s\n", rerrs.msgs[i]);
                topo_errors_clear(&rerrs);
                return finish(o, EXIT_INPUT);
        }
        series_topo = topo_free(series_topo);
        for (int side = 0; side < (o->compare ? 2 : 1); side++) {
                struct topo *t = NULL;
                struct topo_errors errs = {0};
                if (topo_parse_text_set(o->file, series_text, series_len,
                                        side ? o->sets_b : o->sets_a,
                                        side ? o->n_sets_b : o->n_sets_a, &t, &errs) < 0 ||
                    metric_check_topo(t, &errs) < 0) {
                        for (unsigned i = 0; i < errs.n; i++)
                                fprintf(stderr, "%s\n", errs.msgs[i]);
                        topo_errors_clear(&errs);
                        topo_free(t);
                        return finish(o, EXIT_INPUT);
                }
                if (side == 0)
                        series_topo = t;
                else
                        topo_free(t);
        }
        const struct backend_ops *be = backend_find(o->backend);
        struct lab probe = {.uri = o->uri, .inventory = o->inventory};
        if (be && be->preflight && be->preflight(&probe, &err) < 0) {
                log_error("%s", err);
                free(err);
                return finish(o, probe.input_error ? EXIT_INPUT : EXIT_INFRA);
        }
        if (!o->no_store && store_open(o->db, &db, &err) < 0) {
                log_error("%s", err);
                free(err);
                return finish(o, EXIT_INFRA);
        }
        _cleanup_free_ char *holder_note = xasprintf("mptcplab %s %s",
                                                     o->compare    ? "compare"
                                                     : o->baseline ? "check"
                                                                   : "run",
                                                     o->file);
        char *holder = NULL;
        int lr = hostlock_take(&host_lock, o->allow_concurrent, holder_note, &holder);
        if (lr < 0) {
                if (lr == -EBUSY)
                        log_error("another measuring run holds this host (%s): two runs on one "
                                  "host measure each other. Wait for it, or pass "
                                  "--allow-concurrent (the results will say the host was "
                                  "shared)",
                                  holder ? holder : "holder unknown");
                else
                        log_errno(LOG_LVL_ERROR, lr, "cannot take the host lock");
                free(holder);
                store_close(db);
                return finish(o, EXIT_INFRA);
        }
        char series[40] = "s";
        random_hex(series + 1, 16); /* 128 random bits: two series never merge */
        memset(&spent, 0, sizeof spent);
        uint64_t series_t0 = now_usec();
        unsigned nw = series_topo ? series_topo->n_workloads : 0;
        _cleanup_free_ uint64_t *warm_use = xcalloc(nw + 1, sizeof *warm_use),
                                *warm_learned = xcalloc(nw + 1, sizeof *warm_learned);
        struct side a = {o->compare ? "A" : NULL,
                         o->kernel_a,
                         o->sets_a,
                         o->n_sets_a,
                         warm_use,
                         warm_learned,
                         nw};
        struct side b = {"B", o->kernel_b, o->sets_b, o->n_sets_b, warm_use, warm_learned, nw};
        const struct side *sides[] = {&a, &b};
        warmup_history = seed_warmup(db, series_topo, be ? be->name : "", sides, o->compare ? 2 : 1,
                                     warm_use, warm_learned);
        struct samples samples = {0};
        struct json_object *mibs = NULL;
        json_object_put(series_runs);
        series_runs = json_object_new_array();
        json_object_put(machine_kernels_before);
        json_object_put(machine_kernels_last);
        machine_kernels_before = json_object_new_object();
        machine_kernels_last = json_object_new_object();
        int rc = EXIT_OK;
        unsigned runs = o->runs ? o->runs : 1;
        bool warmup = o->runs > 0 && !o->no_warmup_run;
        unsigned crashed_a = 0, crashed_b = 0;
        /* a check's baseline, before anything runs: a wrong name costs nothing */
        struct samples base = {0};
        if (o->baseline &&
            (store_samples(db, o->baseline, "baseline", true, &base, &err) < 0 || base.n == 0)) {
                log_error("%s", err ? err : "the baseline has no samples (mptcplab baseline list)");
                free(err);
                err = NULL;
                rc = EXIT_INPUT;
        }
        /* like with like: the baseline's runs used this topology file's content
         * and these overrides (by hash), or the comparison judges a setting */
        if (o->baseline && rc == EXIT_OK) {
                struct json_object *meta = NULL;
                _cleanup_free_ char *hash = topo_hash(a.sets, a.n_sets);
                if (store_run_meta(db, o->baseline, "baseline", &meta, &err) == 0) {
                        const char *bh = NULL;
                        for (size_t i = 0; i < json_object_array_length(meta) && !bh; i++)
                                bh = jstr(json_object_array_get_idx(meta, i), "topology_hash");
                        if (bh && !streq(bh, hash) && !o->allow_different) {
                                log_error("check: the baseline %s ran %s with other content or "
                                          "other --set overrides (topology hash %s, now %s): "
                                          "that judges a setting, not the kernel. Save a baseline "
                                          "of these settings, or pass --allow-different",
                                          o->baseline, o->file, bh, hash);
                                rc = EXIT_INPUT;
                        } else if (bh && !streq(bh, hash))
                                printf("# --allow-different: the baseline's topology or "
                                       "overrides differ from these (hash %s, now %s)\n",
                                       bh, hash);
                        base_meta = json_object_get(meta);
                } else {
                        free(err);
                        err = NULL;
                }
                json_object_put(meta);
        }
        /* --runs auto: judged after every run from the third on, so the family
         * of key tests is corrected for every look that could stop it */
        unsigned looks = o->runs_auto ? runs - 2 : 1, done_runs = 0, first_look = 3;
        if (o->runs_auto) {
                /* the first look: when the intervals can reach the level the
                 * family needs (fewer runs could only stop on a weaker claim) */
                unsigned k = 0, nm;
                const struct metric *m = metric_all(&nm);
                for (unsigned w = 0; series_topo && w < series_topo->n_workloads; w++)
                        for (unsigned i = 0; i < nm; i++)
                                k += metric_is_key(&m[i], &series_topo->workloads[w]);
                size_t need = stats_runs_for_level(stats_family_level(0.95, (k ? k : 1) * looks));
                first_look = need > 3 ? (unsigned)need : 3;
        }
        if (db && rc == EXIT_OK)
                fprintf(stderr, "mptcplab: series %s, %s%u run(s)%s, results in %s\n", series,
                        o->runs_auto ? "at most " : "", runs, warmup ? " after a warm-up" : "",
                        store_path(db));
        /* warm-ups first (not counted), then A B A B ... so drift hits both
         * sides; --order blocked: A's warm-up and runs, then B's (a kernel
         * switch on machines costs a boot) */
        if (o->blocked && rc == EXIT_OK) {
                for (int s2 = 0; s2 < 2 && rc == EXIT_OK; s2++)
                        for (int i = warmup ? -1 : 0; i < (int)runs && rc == EXIT_OK; i++) {
                                /* both sides warm up as long: what the store
                                 * taught, not what side A's runs learned */
                                int r1 = one_run(o, s2 ? &b : &a, series, i < 0, db, &samples,
                                                 false);
                                if (r1 == EXIT_INFRA || r1 == EXIT_INPUT)
                                        rc = r1;
                                *(s2 ? &crashed_b : &crashed_a) += r1 == EXIT_REGRESSION;
                                memcpy(warm_learned, warm_use, nw * sizeof *warm_use);
                        }
                done_runs = runs;
        }
        for (int i = warmup ? -1 : 0;
             !o->blocked && i < (int)runs && rc != EXIT_INFRA && rc != EXIT_INPUT; i++) {
                /* exit 1 from a run: a node's kernel crashed there */
                int r1 = one_run(o, &a, series, i < 0, db, &samples, !o->compare && !o->baseline);
                if (r1 == EXIT_INFRA || r1 == EXIT_INPUT)
                        rc = r1;
                crashed_a += r1 == EXIT_REGRESSION;
                if (o->compare && rc == EXIT_OK) {
                        int r2 = one_run(o, &b, series, i < 0, db, &samples, false);
                        if (r2 == EXIT_INFRA || r2 == EXIT_INPUT)
                                rc = r2;
                        crashed_b += r2 == EXIT_REGRESSION;
                }
                /* what both sides' runs taught is used from the next pair on */
                memcpy(warm_use, warm_learned, nw * sizeof *warm_use);
                if (i >= 0)
                        done_runs = (unsigned)i + 1;
                if (o->runs_auto && rc == EXIT_OK && done_runs >= first_look && done_runs < runs) {
                        struct verdicts v = {.looks = looks};
                        if (o->compare)
                                verdicts_compute(&samples, "A", &samples, "B", series_topo, &v);
                        else
                                verdicts_compute(&base, NULL, &samples, NULL, series_topo, &v);
                        bool decided = v.decided;
                        verdicts_clear(&v);
                        if (decided) {
                                fprintf(stderr,
                                        "mptcplab: --runs auto: every key metric is decided "
                                        "after %u run(s) a side\n",
                                        done_runs);
                                break;
                        }
                }
        }
        /* the last run's VMs go before anything is judged or printed */
        spent.teardown += lab_run_settle();
        /* machines go back to the kernels they ran before the series */
        struct json_object *back = json_object_new_object();
        json_object_object_foreach (machine_kernels_before, bn, bv) {
                const char *last = jstr(machine_kernels_last, bn);
                if (last && !streq(last, json_object_get_string(bv)))
                        json_object_object_add(back, bn, json_object_get(bv));
        }
        if (json_object_object_length(back) && o->inventory && last_run_dir) {
                fprintf(stderr,
                        "mptcplab: the machines go back to the kernels they ran before: %s\n",
                        json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN));
                if (ssh_set_kernels(o->inventory, series_topo, back, last_run_dir, &err) < 0) {
                        log_error("the machines could not go back to their kernels: %s", err);
                        free(err);
                        err = NULL;
                        if (rc == EXIT_OK)
                                rc = EXIT_INFRA;
                }
        }
        json_object_put(back);
        if (o->runs_auto && rc == EXIT_OK)
                printf("# --runs auto: %u run(s) a side of at most %u; the key tests are judged at "
                       "the level that covers all %u looks\n",
                       done_runs, runs, looks);
        runs = done_runs ? done_runs : runs;
        struct json_object *out = json_object_new_object(), *tests = NULL;
        json_object_object_add(out, "schema", json_object_new_string("mptcplab.series/1"));
        json_object_object_add(out, "series", json_object_new_string(series));
        json_object_object_add(out, "topology", json_object_new_string(o->file));
        if (o->compare)
                json_object_object_add(
                        out, "order",
                        json_object_new_string(o->blocked ? "blocked" : "interleaved"));
        if (o->compare && o->blocked)
                printf("# order blocked: every A run, then every B run; a drift of the machines "
                       "over time is not told apart from the sides' difference\n");
        if (rc == EXIT_OK && o->compare) {
                _cleanup_free_ char *what = xasprintf(
                        "compare %s: A = %s%s, B = %s%s; %u runs each, %s, series %s", o->file,
                        o->kernel_a ? o->kernel_a : "default kernel",
                        o->n_sets_a ? " (+--set)" : "",
                        o->kernel_b ? o->kernel_b : "default kernel",
                        o->n_sets_b ? " (+--set)" : "", runs,
                        o->blocked ? "blocked (all A, then all B)" : "interleaved", series);
                invalid_notes(&samples);
                char *why = NULL;
                if (accel_mixed(&samples, "A", &samples, "B", &why)) {
                        log_error("compare: %s: KVM and TCG guests cannot be compared (numbers "
                                  "of the emulator, not of the kernel)",
                                  why);
                        free(why);
                        rc = EXIT_INPUT;
                } else {
                        rc = judge(&samples, "A", &samples, "B", series_topo, what, looks, &tests);
                        print_kernels(series_runs, "A", "A");
                        print_kernels(series_runs, "B", "B");
                        mib_table_print(stdout, series_runs, "A", series_runs, "B", &mibs);
                }
        } else if (rc == EXIT_OK && o->baseline) {
                {
                        _cleanup_free_ char *what =
                                xasprintf("check %s against baseline %s; %u runs, series %s",
                                          o->file, o->baseline, runs, series);
                        invalid_notes(&samples);
                        char *why = NULL;
                        if (accel_mixed(&base, NULL, &samples, NULL, &why)) {
                                log_error("check: %s: KVM and TCG guests cannot be compared "
                                          "(save a baseline on this accelerator)",
                                          why);
                                free(why);
                                rc = EXIT_INPUT;
                        } else {
                                rc = judge(&base, NULL, &samples, NULL, series_topo, what, looks,
                                           &tests);
                                struct json_object *base_runs = NULL;
                                if (store_run_reports(db, o->baseline, "baseline", &base_runs,
                                                      &err) == 0) {
                                        print_kernels(base_runs, NULL, "baseline");
                                        print_kernels(series_runs, NULL, "candidate");
                                        print_differences(base_meta, o->lab);
                                        mib_table_print(stdout, base_runs, NULL, series_runs, NULL,
                                                        &mibs);
                                }
                                free(err);
                                err = NULL;
                                json_object_put(base_runs);
                        }
                        json_object_object_add(out, "baseline",
                                               json_object_new_string(o->baseline));
                }
        } else if (rc == EXIT_OK && runs > 1) {
                /* a plain series: per metric median and spread */
                printf("# series %s: %u runs\n", series, runs);
                unsigned n_metrics;
                const struct metric *metrics = metric_all(&n_metrics);
                const char *wls[64];
                unsigned n_wl = samples_workloads(&samples, wls, ELEMENTSOF(wls));
                for (unsigned m = 0; m < n_metrics; m++)
                        for (unsigned w = 0; w < n_wl; w++) {
                                double *v;
                                size_t n;
                                samples_values(&samples, NULL, wls[w], &metrics[m], true, &v, &n);
                                if (n)
                                        printf("# %-14s %-24s median %10.4g  CV %6.2f%%  (%zu "
                                               "valid)\n",
                                               wls[w], metrics[m].name, stats_median(v, n),
                                               100 * stats_cv(v, n), n);
                                const struct topo_workload *tw =
                                        topo_find_workload(series_topo, wls[w]);
                                if (n && tw && tw->max_time_us &&
                                    streq(metrics[m].name, "completion_s")) {
                                        /* the distribution over runs, and the bound */
                                        double max = (double)tw->max_time_us / 1e6, lo, hi;
                                        size_t over = 0;
                                        for (size_t k = 0; k < n; k++)
                                                over += v[k] > max;
                                        double cov = stats_median_interval(v, n, &lo, &hi);
                                        printf("# %-14s completion: min %.4g, median %.4g "
                                               "[%.0f%% interval %.4g, %.4g], max %.4g s; %zu of "
                                               "%zu runs over the bound of %g s\n",
                                               wls[w], stats_min(v, n), stats_median(v, n),
                                               100 * cov, lo, hi, stats_max(v, n), over, n, max);
                                }
                                free(v);
                        }
        }
        if (rc != EXIT_INFRA && rc != EXIT_INPUT && (o->runs || o->compare || o->baseline))
                json_object_object_add(out, "noise", print_noise(db, &likes[0], runs, series_topo));
        like_clear(&likes[0]);
        like_clear(&likes[1]);
        /* a kernel that crashes is the worst regression there is: the candidate is A
         * in a plain run or a check, B in a compare */
        unsigned crashed = o->compare ? crashed_b : crashed_a;
        if (crashed && (rc == EXIT_OK || rc == EXIT_REGRESSION)) {
                if (o->compare || o->baseline)
                        printf("# the candidate's kernel crashed in %u run(s): see the runs' "
                               "crash traces (mptcplab history)\n",
                               crashed);
                rc = EXIT_REGRESSION;
        }
        if (crashed_a && o->compare)
                printf("# side A crashed in %u run(s)\n", crashed_a);
        json_object_object_add(out, "crashed_runs", json_object_new_int((int)crashed));
        if (tests)
                json_object_object_add(out, "tests", tests);
        if (mibs)
                json_object_object_add(out, "mib_changes", mibs);
        json_object_object_add(out, "samples", samples_json(&samples));
        json_object_object_add(out, "runs", json_object_new_int((int)runs));
        /* which kernel each counted run's nodes ran, as verified (kernel_id) */
        struct json_object *rk = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(series_runs); i++) {
                struct json_object *rj = json_object_array_get_idx(series_runs, i),
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
        {
                double wall = (double)(now_usec() - series_t0) / 1e6;
                struct json_object *tm = json_object_new_object();
                json_object_object_add(tm, "wall_s", json_object_new_double(wall));
                json_object_object_add(tm, "measured_s", json_object_new_double(spent.measured));
                json_object_object_add(
                        tm, "ratio",
                        spent.measured > 0 ? json_object_new_double(wall / spent.measured) : NULL);
                json_object_object_add(tm, "warmup_runs_s",
                                       json_object_new_double(spent.warmup_runs));
                json_object_object_add(tm, "boot_s", json_object_new_double(spent.boot));
                json_object_object_add(tm, "configure_s", json_object_new_double(spent.configure));
                json_object_object_add(tm, "workload_warmup_s",
                                       json_object_new_double(spent.warmup));
                json_object_object_add(tm, "warmup_history_runs",
                                       json_object_new_int((int)warmup_history));
                json_object_object_add(tm, "tools_s", json_object_new_double(spent.tools));
                json_object_object_add(tm, "teardown_s", json_object_new_double(spent.teardown));
                json_object_object_add(out, "timing", tm);
                if (spent.measured > 0 && (o->runs || o->compare || o->baseline))
                        fprintf(stderr,
                                "mptcplab: %.0f s for %.0f s measured (%.2fx): warm-up runs %.0f "
                                "s, boot %.0f s, configuring %.0f s, workload warm-ups %.0f s, "
                                "tools starting and stopping %.0f s, teardown %.0f s\n",
                                wall, spent.measured, wall / spent.measured, spent.warmup_runs,
                                spent.boot, spent.configure, spent.warmup, spent.tools,
                                spent.teardown);
        }
        samples_clear(&samples);
        samples_clear(&base);
        json_object_put(base_meta);
        base_meta = NULL;
        json_object_object_add(out, "exit", json_object_new_int(rc));
        if ((o->runs || o->compare || o->baseline) && write_json(o->json_out, out) < 0 &&
            rc == EXIT_OK)
                rc = EXIT_INFRA;
        json_object_put(out);
        /* the report of what ran, next to the last run's files */
        if (db && last_run_dir && rc != EXIT_INFRA && rc != EXIT_INPUT) {
                _cleanup_free_ char *dir = xasprintf("%s/report", last_run_dir);
                char *index = NULL;
                if (report_write(db, o->runs || o->compare || o->baseline ? series : last_id,
                                 o->baseline, dir, &index, &err) == 0)
                        fprintf(stderr, "mptcplab: report in %s\n", index);
                else {
                        log_warn("no report: %s", err);
                        free(err);
                        err = NULL;
                }
                free(index);
        }
        store_close(db);
        hostlock_release(&host_lock);
        return finish(o, rc);
}

/* The database for a verb that only reads or files records; NULL (said) on failure. */
struct store *open_db(const char *path)
{
        struct store *db = NULL;
        char *err = NULL;
        if (store_open(path, &db, &err) < 0) {
                log_error("%s", err);
                free(err);
                return NULL;
        }
        return db;
}

int verb_history(int argc, char **argv)
{
        const char *dbp = NULL, *topo = NULL;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (argv[i][0] != '-')
                        topo = argv[i];
                else {
                        log_error("history: unknown option %s", argv[i]);
                        return EXIT_INPUT;
                }
        }
        struct store *db;
        struct json_object *rows;
        char *err = NULL;
        if (store_open(dbp, &db, &err) < 0 || store_history(db, topo, 50, &rows, &err) < 0) {
                log_error("%s", err);
                free(err);
                return EXIT_INFRA;
        }
        printf("%-10s %-10s %-4s %-18s %-8s %-21s %-8s %-7s %s\n", "run", "series", "side",
               "topology", "backend", "started", "status", "warmup", "kernels");
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                struct json_object *r = json_object_array_get_idx(rows, i);
                printf("%-10s %-10s %-4s %-18s %-8s %-21s %-8s %-7s %s\n", jstr(r, "run_id"),
                       jstr(r, "series"), jstr(r, "side") ?: "-", jstr(r, "topology"),
                       jstr(r, "backend"), jstr(r, "started_at"), jstr(r, "status"),
                       json_object_get_int(jpath(r, "warmup", NULL)) ? "yes" : "no",
                       jstr(r, "kernels") ?: "");
        }
        json_object_put(rows);
        store_close(db);
        return EXIT_OK;
}

int verb_baseline(int argc, char **argv)
{
        const char *dbp = NULL, *run = NULL, *name = NULL, *sub = argc > 1 ? argv[1] : NULL;
        for (int i = 2; i < argc; i++) {
                if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (streq(argv[i], "--run") && i + 1 < argc)
                        run = argv[++i];
                else if (argv[i][0] != '-' && !name)
                        name = argv[i];
                else {
                        log_error("baseline: unexpected %s", argv[i]);
                        return EXIT_INPUT;
                }
        }
        if (!sub || (!streq(sub, "save") && !streq(sub, "list")) ||
            (streq(sub, "save") && (!name || !run))) {
                log_error("usage: mptcplab baseline save NAME --run SERIES|RUN [--db PATH] | "
                          "baseline list [--db PATH]");
                return EXIT_INPUT;
        }
        char *err = NULL;
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        int rc = EXIT_OK;
        if (streq(sub, "save")) {
                int n = store_baseline_save(db, name, run, &err);
                if (n < 0) {
                        log_error("%s", err);
                        free(err);
                        rc = n == -ENOENT ? EXIT_INPUT : EXIT_INFRA;
                } else
                        printf("baseline %s: %d run(s) from %s\n", name, n, run);
        } else {
                struct json_object *rows;
                if (store_baseline_list(db, &rows, &err) < 0) {
                        log_error("%s", err);
                        free(err);
                        rc = EXIT_INFRA;
                } else {
                        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                                struct json_object *r = json_object_array_get_idx(rows, i);
                                printf("%-20s %-21s %-12s %3d runs  %s\n", jstr(r, "name"),
                                       jstr(r, "created_at"), jstr(r, "source"),
                                       json_object_get_int(jpath(r, "runs", NULL)),
                                       jstr(r, "topology") ?: "");
                        }
                        json_object_put(rows);
                }
        }
        store_close(db);
        return rc;
}

/* mptcplab report ID [--baseline NAME] [--out DIR] [--db PATH]: a series' or
 * a run's report (against a baseline: a check's) */
int verb_report(int argc, char **argv)
{
        const char *id = NULL, *out = NULL, *dbp = NULL, *baseline = NULL;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--out") && i + 1 < argc)
                        out = argv[++i];
                else if (streq(argv[i], "--baseline") && i + 1 < argc)
                        baseline = argv[++i];
                else if (streq(argv[i], "--db") && i + 1 < argc)
                        dbp = argv[++i];
                else if (!id && argv[i][0] != '-')
                        id = argv[i];
                else {
                        id = NULL;
                        break;
                }
        }
        if (!id) {
                fprintf(stderr, "usage: mptcplab report SERIES|RUN [--baseline NAME] [--out DIR] "
                                "[--db PATH]\n");
                return EXIT_INPUT;
        }
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        _cleanup_free_ char *reports = lab_data_path("reports");
        _cleanup_free_ char *dflt = xasprintf("%s/%s", reports, id);
        char *index = NULL, *err = NULL;
        int r = report_write(db, id, baseline, out ? out : dflt, &index, &err);
        store_close(db);
        if (r < 0) {
                log_error("report %s: %s", id, err);
                free(err);
                return r == -ENOENT ? EXIT_INPUT : EXIT_INFRA;
        }
        printf("%s\n", index);
        free(index);
        return EXIT_OK;
}
