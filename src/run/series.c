/* series.c - the conductor of a series: the topology read once, the host
 * taken, warm-up and counted runs (A B A B, or blocked), each stored as it
 * ends, then judged. State lives in one struct series_ctx per call. */
#include "series.h"
#include "warmup.h"
#include "../backend/kernel.h"
#include "../load/load.h"
#include "../results/metrics.h"
#include "../results/mibs.h"
#include "../results/run_json.h"
#include "../shared/json.h"
#include "../shared/owner.h"
#include "../shared/util.h"
#include "../stats/stats.h"
#include "../store/store.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>

/* What makes runs alike for their noise (store_samples_like), per side. */
struct like {
        char *hash, *kernels, *accel, *tools;
};

static void like_clear(struct like *l)
{
        free(l->hash);
        free(l->kernels);
        free(l->accel);
        free(l->tools);
        *l = (struct like){0};
}

struct side {
        const char *name; /* "A", "B", or NULL */
        const char *kernel;
        char **sets;
        unsigned n_sets;
        /* warmup: auto, shared by both sides so that they are measured alike:
         * what every run uses (0: nothing learned yet, so the topology's
         * warm-up, the longest), and what the runs so far showed is needed,
         * taken into use once both sides have run (the loop) */
        uint64_t *warmup_us, *learned;
        unsigned n_wl;
        unsigned slot; /* which kept lab its runs reuse (series_ctx.keep) */
};

/* One series in progress */
struct series_ctx {
        const struct series_opts *o;
        struct series_result *res;
        /* the topology's bytes, read once: every run of the series parses and
         * hashes the same experiment, even if the file is edited meanwhile */
        char *text;
        size_t len;
        struct topo *topo; /* side A's model of it: the workloads' key metrics */
        struct store *db;
        struct hostlock lock;
        /* machines (ssh): the release each node ran before the series' first
         * run, and the one it ran last */
        struct json_object *kernels_before, *kernels_last;
        struct like likes[2];
        struct side a, b;
        uint64_t *warm_use, *warm_learned;
        struct pending_teardown *pending; /* the last run's teardown, going on */
        /* booted topologies kept between runs (backend_ops.reusable): one the
         * sides share when they boot the same kernels (a --set comparison),
         * else one a side, the other's paused while one measures */
        struct lab_keep *keep[2];
        bool keeps; /* the backend keeps labs between this series' runs */
};

/* A node's kernel as history and the verdicts name it: the release the node
 * said it runs, and the commit of the build tree it came from. */
static const char *kernel_name(struct json_object *info, char *buf, size_t len)
{
        const char *rel = jstr(jobj(info, "hello"), "kernel") ?: "?";
        struct json_object *id = jobj(info, "kernel_id");
        const char *commit = jstr(id, "commit");
        bool dirty = json_object_get_boolean(jpath(id, "dirty", NULL));
        if (commit)
                snprintf(buf, len, "%s (commit %.12s%s)", rel, commit, dirty ? ", dirty" : "");
        else
                snprintf(buf, len, "%s", rel);
        return buf;
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
        if (json_write_file(path, o, JSON_C_TO_STRING_PLAIN) < 0) {
                free(path);
                return NULL;
        }
        return path;
}

/* FNV-1a over the topology file and the overrides: which experiment this was. */
static char *topo_hash(const struct series_ctx *c, char *const *sets, unsigned n)
{
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < c->len; i++)
                h = (h ^ (unsigned char)c->text[i]) * 1099511628211ULL;
        for (unsigned i = 0; i < n; i++)
                for (const char *p = sets[i]; *p; p++)
                        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        return xasprintf("%016llx", (unsigned long long)h);
}

static void learn_warmup(const struct topo *t, const struct run_result *res, const struct side *sd)
{
        /* a kept lab's first run is its boot's first connections, slower to
         * settle than those of the runs that follow it on the same boot */
        if (res->boot_run[0] && res->boot_index == 0)
                return;
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
static unsigned seed_warmup(const struct series_ctx *c, const char *backend,
                            const struct side *sides[], unsigned n_sides, uint64_t *use,
                            uint64_t *learned)
{
        struct store *db = c->db;
        const struct topo *t = c->topo;
        if (!db || !t)
                return 0;
        _cleanup_free_ uint64_t *need = xcalloc(t->n_workloads + 1, sizeof *need);
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        unsigned used = 0;
        _cleanup_free_ char *hash0 = NULL;
        for (unsigned k = 0; k < n_sides; k++) {
                _cleanup_free_ char *hash = topo_hash(c, sides[k]->sets, sides[k]->n_sets);
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
                        double bi = -1; /* a kept lab's first run: its boot's (learn_warmup) */
                        if (jdouble(jobj(rj, "boot"), "index", &bi) && bi == 0)
                                continue;
                        for (unsigned i = 0; i < t->n_workloads; i++) {
                                const struct topo_workload *w = &t->workloads[i];
                                if (!w->warmup_auto || !w->warmup_us)
                                        continue;
                                double ws = -1, ss = -1, lj = 0;
                                bool found = false;
                                for (size_t q = 0; wls && q < json_object_array_length(wls); q++) {
                                        struct json_object *x = json_object_array_get_idx(wls, q);
                                        const char *name = jstr(x, "name"), *st = jstr(x, "status");
                                        /* an invalid window (an outlier, too few
                                         * subflows) settled as any other */
                                        if (!name || !streq(name, w->name) || !st ||
                                            (!streq(st, "ok") && !streq(st, "invalid")))
                                                continue;
                                        found = jdouble(x, "warmup_s", &ws) && ws > 0;
                                        if (!jdouble(x, "settled_s", &ss))
                                                ss = -1;
                                        /* judged again by today's rule where
                                         * the run kept its intervals */
                                        const struct load_ops *lo = load_find(w->tool);
                                        struct json_object *iv = jarr(x, "intervals");
                                        if (found && lo && iv && json_object_array_length(iv))
                                                ss = tool_settled_at(iv, ws,
                                                                     lo->settle_slack_bps(w));
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

/* machines (ssh): what each node ran before the series, and last */
static void note_machine_kernels(struct series_ctx *c, struct json_object *nodes)
{
        json_object_object_foreach (nodes, kname, kinfo) {
                struct json_object *kid = jobj(kinfo, "kernel_id");
                const char *rel = jstr(kid, "release"), *from = jstr(kid, "switched_from");
                if (!rel || !jstr(kid, "machine"))
                        continue;
                if (!json_object_object_get_ex(c->kernels_before, kname, NULL))
                        json_object_object_add(c->kernels_before, kname,
                                               json_object_new_string(from ? from : rel));
                json_object_object_add(c->kernels_last, kname, json_object_new_string(rel));
        }
}

/* The run's record: its store row (kernels, accelerators, tool versions, its
 * run JSON and samples), stored, or spooled in its run directory when the
 * database refuses it; its samples added to the series' (all, counted runs
 * only) and its run JSON to the series' runs. Returns the run's outcome. */
static enum outcome keep_run(struct series_ctx *c, const struct topo *t,
                             const struct run_result *res, const struct side *sd, bool warmup,
                             const char *started, enum outcome rc, struct samples *all)
{
        const struct series_opts *o = c->o;
        unsigned n_metrics;
        metric_all(&n_metrics);
        unsigned max = res->n_wl * n_metrics + 1; /* every metric of every workload */
        _cleanup_free_ struct store_sample *samples = xcalloc(max, sizeof *samples);
        unsigned n = run_samples(res, samples, max);
        struct json_object *rj = run_json(t, res), *kernels = json_object_new_object(),
                           *accel = json_object_new_object();
        /* the newest of the nodes' kernels' build times (uname -v): the
         * order of history */
        char built[32] = "", kbuf[256];
        json_object_object_foreach (res->nodes, name, info) {
                char b[32];
                if (kernel_build_time(jstr(jobj(info, "hello"), "kernel_version"), b) == 0 &&
                    strcmp(b, built) > 0)
                        memcpy(built, b, sizeof built);
                json_object_object_add(
                        kernels, name,
                        json_object_new_string(kernel_name(info, kbuf, sizeof kbuf)));
                json_object_object_add(accel, name, json_object_get(jpath(info, "accel", NULL)));
        }
        const char *accel_s = json_object_to_json_string_ext(accel, JSON_C_TO_STRING_PLAIN);
        /* tool versions: ours, and what each node runs */
        struct json_object *tools = json_object_new_object();
        json_object_object_add(tools, "mptcplab", json_object_new_string(MPTCPLAB_VERSION));
        json_object_object_foreach (res->nodes, tname, tinfo) {
                struct json_object *nt = json_object_new_object();
                json_object_object_add(
                        nt, "iperf3",
                        json_object_get(jpath(tinfo, "hello", "iperf3", "version", NULL)));
                json_object_object_add(
                        nt, "iperf3_mptcp_flag",
                        json_object_get(jpath(tinfo, "hello", "iperf3", "mptcp_flag", NULL)));
                json_object_object_add(nt, "mptcpize",
                                       json_object_get(jpath(tinfo, "hello", "mptcpize", NULL)));
                json_object_object_add(nt, "mptcpload",
                                       json_object_get(jpath(tinfo, "hello", "mptcpload", NULL)));
                /* where the node has them (a guest has neither) */
                struct json_object *ipr = jpath(tinfo, "hello", "iproute2", NULL),
                                   *mpd = jpath(tinfo, "hello", "mptcpd", "version", NULL);
                if (ipr)
                        json_object_object_add(nt, "iproute2", json_object_get(ipr));
                if (mpd)
                        json_object_object_add(nt, "mptcpd", json_object_get(mpd));
                json_object_object_add(tools, tname, nt);
        }
        _cleanup_free_ char *hash = topo_hash(c, sd->sets, sd->n_sets);
        _cleanup_free_ char *ended = iso8601_now();
        if (!warmup) { /* what the lab's noise of this side is looked up by */
                struct like *lk = &c->likes[sd->name && streq(sd->name, "B")];
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
                               .series = c->res->series,
                               .side = sd->name,
                               .topology = topo_label(t),
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
                               .shared_host = res->shared_host,
                               .lab = o->lab,
                               .kernel_built = *built ? built : NULL,
                               .samples = samples,
                               .n_samples = n};
        char *err = NULL;
        if (!warmup) { /* for the counter table of compare and check */
                json_object_object_add(rj, "side",
                                       sd->name ? json_object_new_string(sd->name) : NULL);
                json_object_array_add(c->res->runs_json, json_object_get(rj));
        }
        if (c->db && store_add_run(c->db, &sr, &err) < 0) {
                /* the run's samples are not lost: kept for `mptcplab import` */
                _cleanup_free_ char *spool = spool_run(&sr, res->run_dir);
                log_error("%s; the run is kept in %s: store it later with `mptcplab import %s`",
                          err, spool ? spool : "(nowhere: cannot write it)",
                          spool ? spool : "FILE");
                free(err);
                rc = OUTCOME_INFRA;
        }
        for (unsigned i = 0; i < n && all && !warmup; i++)
                samples_add(all, res->run_id, sd->name, accel_s, samples[i].workload,
                            samples[i].metric, samples[i].value, samples[i].valid,
                            samples[i].reason);
        json_object_put(rj);
        json_object_put(kernels);
        json_object_put(accel);
        json_object_put(tools);
        return rc;
}

/* Where the run's time went, added to the series' */
static void account(struct series_timing *tm, const struct run_result *res, bool warmup)
{
        if (warmup) {
                tm->warmup_runs += res->wall_s;
                return;
        }
        struct run_overhead ov;
        run_overhead(res, &ov);
        tm->measured += ov.measured_s;
        tm->boot += ov.boot_s;
        tm->configure += ov.configure_s;
        tm->warmup += ov.warmup_s;
        tm->tools += ov.tools_s;
        tm->teardown += ov.teardown_s;
        tm->reset += ov.reset_s;
}

/* One run of the topology, stored. Returns the run's outcome. */
static enum outcome one_run(struct series_ctx *c, const struct side *sd, bool warmup,
                            struct samples *all)
{
        const struct series_opts *o = c->o;
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        if (topo_parse_text_set(o->file, c->text, c->len, sd->sets, sd->n_sets, &t, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                topo_errors_clear(&errs);
                return OUTCOME_INPUT;
        }
        struct run_opts ro = {.backend = o->backend,
                              .agent_path = o->agent_path,
                              .kernel = sd->kernel,
                              .uri = o->uri,
                              .links = o->links,
                              .inventory = o->inventory,
                              .run_dir = o->run_dir,
                              .pending = &c->pending,
                              .keep = c->keeps ? &c->keep[sd->slot] : NULL,
                              /* a boot's first run without a warm-up run
                               * before it: the topology's warm-up, the longest */
                              .warmup_us = sd->n_wl == t->n_workloads && !(c->keeps && !warmup &&
                                                                           !c->keep[sd->slot])
                                                   ? sd->warmup_us
                                                   : NULL,
                              /* the uncounted run: short */
                              .duration_cap_us = warmup ? 3000000 : 0};
        struct run_result *res = NULL;
        char *started = iso8601_now();
        lab_keep_pause(c->keep[!sd->slot]); /* nothing else runs while it measures */
        enum outcome rc = lab_run(t, &ro, &res);
        if (res && ro.warmup_us)
                learn_warmup(t, res, sd);
        if (res && res->nodes)
                note_machine_kernels(c, res->nodes);
        if (res) {
                res->shared_host = hostlock_shared(&c->lock);
                if (res->shared_host)
                        log_warn("run %s shared this host with another run: its numbers are of "
                                 "both",
                                 res->run_id);
                if (o->on_run && !o->on_run(o->user, o, t, res, sd->name, warmup) &&
                    rc == OUTCOME_OK)
                        rc = OUTCOME_INFRA;
        }
        if (res && res->run_dir) {
                free(c->res->last_run_dir);
                c->res->last_run_dir = xstrdup(res->run_dir);
                snprintf(c->res->last_id, sizeof c->res->last_id, "%s", res->run_id);
        }
        /* a matrix cell the nodes cannot be: nothing ran, nothing is kept */
        if (res && res->skip && !c->res->skip)
                c->res->skip = sd->name ? xasprintf("side %s: %s", sd->name, res->skip)
                                        : xstrdup(res->skip);
        /* samples are judged whether or not the database keeps them (--no-store) */
        if (res && !res->skip && rc != OUTCOME_INPUT &&
            !(rc == OUTCOME_INFRA && !res->crash_node && res->error &&
              streq(res->error, "interrupted")))
                rc = keep_run(c, t, res, sd, warmup, started, rc, all);
        if (res) {
                account(&c->res->timing, res, warmup);
                /* one line per run for the record on stderr */
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
        bool taken = res && res->topo_taken; /* then lab_run frees t */
        run_result_free(res);
        if (!taken)
                topo_free(t);
        return rc;
}

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

/* The lab's own noise for these runs' settings, and the smallest change n runs
 * a side (and twice as many) can see: for each key metric, and the CPU costs.
 * NULL when the store cannot say (no database, no counted run). */
static struct json_object *noise_of(struct store *db, const struct like *lk, unsigned n,
                                    const struct topo *t)
{
        struct json_object *out = json_object_new_array();
        struct samples like = {0};
        char *err = NULL;
        if (!db || !lk->hash ||
            store_samples_like(db, lk->hash, lk->kernels, lk->accel, &like, &err) < 0) {
                free(err);
                json_object_put(out);
                return NULL;
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
        samples_clear(&like);
        return out;
}

/* The topology read once and parsed for both sides (key metrics checked),
 * the backend's preflight, the store, the host. */
static enum outcome prepare(struct series_ctx *c)
{
        const struct series_opts *o = c->o;
        char *err = NULL;
        /* the input first (it needs nothing), then privileges and the daemon: a user
         * who cannot run the backend hears that, not a complaint about a database in
         * someone else's home */
        struct topo_errors errs = {0};
        if (topo_read_file(o->file, &c->text, &c->len, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                topo_errors_clear(&errs);
                return OUTCOME_INPUT;
        }
        for (int side = 0; side < (o->compare ? 2 : 1); side++) {
                struct topo *t = NULL;
                if (topo_parse_text_set(o->file, c->text, c->len, side ? o->sets_b : o->sets_a,
                                        side ? o->n_sets_b : o->n_sets_a, &t, &errs) < 0 ||
                    metric_check_topo(t, &errs) < 0) {
                        for (unsigned i = 0; i < errs.n; i++)
                                fprintf(stderr, "%s\n", errs.msgs[i]);
                        topo_errors_clear(&errs);
                        topo_free(t);
                        return OUTCOME_INPUT;
                }
                if (side == 0)
                        c->topo = t;
                else
                        topo_free(t);
        }
        const struct backend_ops *be = backend_find(o->backend);
        struct lab probe = {.uri = o->uri, .inventory = o->inventory};
        if (be && be->preflight && be->preflight(&probe, &err) < 0) {
                log_error("%s", err);
                free(err);
                return probe.input_error ? OUTCOME_INPUT : OUTCOME_INFRA;
        }
        if (!o->no_store && store_open(o->db, &c->db, &err) < 0) {
                log_error("%s", err);
                free(err);
                return OUTCOME_INFRA;
        }
        _cleanup_free_ char *holder_note = xasprintf("mptcplab %s %s",
                                                     o->compare    ? "compare"
                                                     : o->baseline ? "check"
                                                                   : "run",
                                                     o->file);
        char *holder = NULL;
        int lr = hostlock_take(&c->lock, o->allow_concurrent, holder_note, &holder);
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
                return OUTCOME_INFRA;
        }
        return OUTCOME_OK;
}

/* A check's baseline, before anything runs (a wrong name costs nothing), and
 * like with like: the baseline's runs used this topology file's content and
 * these overrides (by hash), or the comparison judges a setting. */
static enum outcome load_baseline(struct series_ctx *c)
{
        const struct series_opts *o = c->o;
        struct series_result *r = c->res;
        char *err = NULL;
        if (store_samples(c->db, o->baseline, "baseline", true, &r->base, &err) < 0 ||
            r->base.n == 0) {
                log_error("%s", err ? err : "the baseline has no samples (mptcplab baseline list)");
                free(err);
                return OUTCOME_INPUT;
        }
        struct json_object *meta = NULL;
        _cleanup_free_ char *hash = topo_hash(c, c->a.sets, c->a.n_sets);
        if (store_run_meta(c->db, o->baseline, "baseline", &meta, &err) < 0) {
                free(err);
                return OUTCOME_OK;
        }
        enum outcome rc = OUTCOME_OK;
        const char *bh = NULL;
        for (size_t i = 0; i < json_object_array_length(meta) && !bh; i++)
                bh = jstr(json_object_array_get_idx(meta, i), "topology_hash");
        if (bh && !streq(bh, hash) && !o->allow_different) {
                log_error("check: the baseline %s ran %s with other content or other --set "
                          "overrides (topology hash %s, now %s): that judges a setting, not the "
                          "kernel. Save a baseline of these settings, or pass --allow-different",
                          o->baseline, o->file, bh, hash);
                rc = OUTCOME_INPUT;
        } else if (bh && !streq(bh, hash)) {
                r->baseline_hash = xstrdup(bh);
                r->hash = xstrdup(hash);
        }
        r->base_meta = meta;
        return rc;
}

/* --runs auto: the first look, when the intervals can reach the level the
 * family of key tests needs over every look (fewer runs could only stop on a
 * weaker claim). A key metric from a counter the backend may lack counts
 * once the runs so far have it (s: NULL before any). */
static unsigned first_look(const struct topo *t, unsigned looks, unsigned cells,
                           const struct samples *s)
{
        unsigned k = 0, nm;
        const struct metric *m = metric_all(&nm);
        for (unsigned w = 0; t && w < t->n_workloads; w++)
                for (unsigned i = 0; i < nm; i++)
                        k += metric_is_key(&m[i], &t->workloads[w]) &&
                             (!m[i].where_counted ||
                              (s && samples_has(s, NULL, t->workloads[w].name, &m[i])));
        size_t need = stats_runs_for_level(
                stats_family_level(0.95, (k ? k : 1) * looks * (cells ? cells : 1)));
        return need > 3 ? (unsigned)need : 3;
}

/* Are the key metrics decided after the runs so far (--runs auto)? */
static bool decided(struct series_ctx *c)
{
        struct series_result *r = c->res;
        struct verdicts v = {.looks = r->looks, .cells = c->o->family_cells};
        if (c->o->compare)
                verdicts_compute(&r->samples, "A", &r->samples, "B", c->topo, &v);
        else
                verdicts_compute(&r->base, NULL, &r->samples, NULL, c->topo, &v);
        bool d = v.decided;
        verdicts_clear(&v);
        return d;
}

/* Is a key test of this side short of `want` valid runs while it has
 * samples at all (runs that were not valid: an outlier window, a subflow
 * that never joined)? */
static bool short_of_valid(const struct series_ctx *c, const char *side, size_t want)
{
        const struct topo *t = c->topo;
        unsigned nm;
        const struct metric *m = metric_all(&nm);
        for (unsigned w = 0; w < t->n_workloads; w++)
                for (unsigned k = 0; k < nm; k++) {
                        const char *wl = t->workloads[w].name;
                        if (!metric_is_key(&m[k], &t->workloads[w]) ||
                            !samples_has(&c->res->samples, side, wl, &m[k]))
                                continue;
                        double *v;
                        size_t n;
                        samples_values(&c->res->samples, side, wl, &m[k], true, &v, &n);
                        free(v);
                        if (n < want)
                                return true;
                }
        return false;
}

/* Runs that were not valid leave a key test short of the 3 valid runs a
 * side it needs to be judged: one more run of side s (1: B) replaces each,
 * at most runs / 2 + 1 of them (a side whose every run is invalid stays
 * short, and its check fails saying so) */
static enum outcome replace_invalid(struct series_ctx *c, int s, unsigned runs)
{
        const struct series_opts *o = c->o;
        struct series_result *r = c->res;
        const char *side = o->compare ? (s ? "B" : "A") : NULL;
        enum outcome rc = OUTCOME_OK;
        /* a kernel that crashed is judged by that already */
        if (runs < 3 || (s ? r->crashed_b : r->crashed_a))
                return rc;
        for (unsigned extra = 0;
             extra < runs / 2 + 1 && rc == OUTCOME_OK && !r->skip && short_of_valid(c, side, 3);
             extra++) {
                fprintf(stderr,
                        "mptcplab: %s%s has fewer than 3 valid runs of a key test: one more "
                        "run replaces a run that was not valid\n",
                        side ? "side " : "the series", side ? side : "");
                enum outcome r1 = one_run(c, s ? &c->b : &c->a, false, &r->samples);
                if (r1 == OUTCOME_INFRA || r1 == OUTCOME_INPUT)
                        rc = r1;
                *(s ? &r->crashed_b : &r->crashed_a) += r1 == OUTCOME_REGRESSION;
                r->replaced++;
        }
        return rc;
}

/* Side A's warm-up run warmed the kept lab side B reuses: B needs none */
static bool warmed_by_a(const struct series_ctx *c)
{
        return c->keeps && c->a.slot == c->b.slot && c->keep[c->b.slot];
}

/* The runs: warm-ups first (not counted), then A B A B ... so drift hits both
 * sides; --order blocked: A's warm-up and runs, then B's (a kernel switch on
 * machines costs a boot). */
static enum outcome run_all(struct series_ctx *c, unsigned runs, bool warmup)
{
        const struct series_opts *o = c->o;
        struct series_result *r = c->res;
        unsigned nw = c->a.n_wl, done_runs = 0,
                 look0 = o->runs_auto ? first_look(c->topo, r->looks, o->family_cells, NULL) : 0;
        enum outcome rc = OUTCOME_OK;
        if (o->blocked) {
                for (int s2 = 0; s2 < 2 && rc == OUTCOME_OK; s2++) {
                        for (int i = warmup ? -1 : 0; i < (int)runs && rc == OUTCOME_OK && !r->skip;
                             i++) {
                                if (i < 0 && s2 && warmed_by_a(c))
                                        continue;
                                /* both sides warm up as long: what the store
                                 * taught, not what side A's runs learned */
                                enum outcome r1 =
                                        one_run(c, s2 ? &c->b : &c->a, i < 0, &r->samples);
                                if (r1 == OUTCOME_INFRA || r1 == OUTCOME_INPUT)
                                        rc = r1;
                                *(s2 ? &r->crashed_b : &r->crashed_a) += r1 == OUTCOME_REGRESSION;
                                memcpy(c->warm_learned, c->warm_use, nw * sizeof *c->warm_use);
                        }
                        /* the side's replacements in its own block, before
                         * the kernels switch */
                        if (rc == OUTCOME_OK && !r->skip)
                                rc = replace_invalid(c, s2, runs);
                }
                r->runs = runs;
                return rc;
        }
        for (int i = warmup ? -1 : 0; i < (int)runs && rc == OUTCOME_OK && !r->skip; i++) {
                /* a run's outcome 1: a node's kernel crashed there */
                enum outcome r1 = one_run(c, &c->a, i < 0, &r->samples);
                if (r1 == OUTCOME_INFRA || r1 == OUTCOME_INPUT)
                        rc = r1;
                r->crashed_a += r1 == OUTCOME_REGRESSION;
                if (o->compare && rc == OUTCOME_OK && !r->skip && !(i < 0 && warmed_by_a(c))) {
                        enum outcome r2 = one_run(c, &c->b, i < 0, &r->samples);
                        if (r2 == OUTCOME_INFRA || r2 == OUTCOME_INPUT)
                                rc = r2;
                        r->crashed_b += r2 == OUTCOME_REGRESSION;
                }
                /* what both sides' runs taught is used from the next pair on */
                memcpy(c->warm_use, c->warm_learned, nw * sizeof *c->warm_use);
                if (i >= 0)
                        done_runs = (unsigned)i + 1;
                /* the first pair says which counted key metrics the nodes have */
                if (o->runs_auto && done_runs == 1)
                        look0 = first_look(c->topo, r->looks, o->family_cells, &r->samples);
                if (o->runs_auto && rc == OUTCOME_OK && done_runs >= look0 && done_runs < runs &&
                    decided(c)) {
                        fprintf(stderr,
                                "mptcplab: --runs auto: every key metric is decided after %u "
                                "run(s) a side\n",
                                done_runs);
                        break;
                }
        }
        r->runs = done_runs ? done_runs : runs;
        for (int s = 0; s < (o->compare ? 2 : 1) && rc == OUTCOME_OK && !r->skip; s++)
                rc = replace_invalid(c, s, r->runs);
        return rc;
}

/* Machines go back to the kernels they ran before the series. */
static enum outcome restore_kernels(struct series_ctx *c)
{
        enum outcome rc = OUTCOME_OK;
        struct json_object *back = json_object_new_object();
        json_object_object_foreach (c->kernels_before, bn, bv) {
                const char *last = jstr(c->kernels_last, bn);
                if (last && !streq(last, json_object_get_string(bv)))
                        json_object_object_add(back, bn, json_object_get(bv));
        }
        char *err = NULL;
        if (json_object_object_length(back) && c->o->inventory && c->res->last_run_dir) {
                fprintf(stderr,
                        "mptcplab: the machines go back to the kernels they ran before: %s\n",
                        json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN));
                if (ssh_set_kernels(c->o->inventory, c->topo, back, c->res->last_run_dir, &err) <
                    0) {
                        log_error("the machines could not go back to their kernels: %s", err);
                        free(err);
                        rc = OUTCOME_INFRA;
                }
        }
        json_object_put(back);
        return rc;
}

/* The verdicts of a compare (A against B) or a check (the baseline against
 * these runs), the MIB counters that moved, and for a check the baseline's
 * runs. A comparison across accelerators is refused. */
static enum outcome judge(struct series_ctx *c)
{
        const struct series_opts *o = c->o;
        struct series_result *r = c->res;
        const struct samples *base = o->compare ? &r->samples : &r->base;
        const char *bs = o->compare ? "A" : NULL, *cs = o->compare ? "B" : NULL;
        r->what = o->compare ? xasprintf("compare %s: A = %s%s, B = %s%s; %u runs each, %s, "
                                         "series %s",
                                         o->file, o->kernel_a ? o->kernel_a : "default kernel",
                                         o->n_sets_a ? " (+--set)" : "",
                                         o->kernel_b ? o->kernel_b : "default kernel",
                                         o->n_sets_b ? " (+--set)" : "", r->runs,
                                         o->blocked ? "blocked (all A, then all B)" : "interleaved",
                                         r->series)
                             : xasprintf("check %s against baseline %s; %u runs, series %s",
                                         o->file, o->baseline, r->runs, r->series);
        char *why = NULL;
        if (accel_mixed(base, bs, &r->samples, cs, &why)) {
                log_error("%s: %s: KVM and TCG guests cannot be compared %s",
                          o->compare ? "compare" : "check", why,
                          o->compare ? "(numbers of the emulator, not of the kernel)"
                                     : "(save a baseline on this accelerator)");
                free(why);
                return OUTCOME_INPUT;
        }
        r->verdicts.looks = r->looks;
        r->verdicts.cells = o->family_cells;
        verdicts_compute(base, bs, &r->samples, cs, c->topo, &r->verdicts);
        r->judged = true;
        char *err = NULL;
        if (o->baseline &&
            store_run_reports(c->db, o->baseline, "baseline", &r->base_runs, &err) < 0) {
                free(err);
                r->base_runs = NULL;
        }
        if (o->compare || r->base_runs)
                r->mibs = mib_changes(o->compare ? r->runs_json : r->base_runs, bs, r->runs_json,
                                      cs, &r->mib_base_runs, &r->mib_cand_runs);
        r->accel = c->likes[0].accel ? xstrdup(c->likes[0].accel) : NULL;
        r->tools = c->likes[0].tools ? xstrdup(c->likes[0].tools) : NULL;
        if (r->verdicts.regressions)
                return OUTCOME_REGRESSION;
        /* a key test with too few valid runs judged nothing: never a pass (a
         * bisect step that measured nothing is skipped, not called good);
         * a candidate that crashed is a regression whatever was judged */
        if (o->compare ? r->crashed_b : r->crashed_a)
                return OUTCOME_OK;
        for (size_t i = 0; i < r->verdicts.n; i++) {
                const struct test_result *t = &r->verdicts.t[i];
                if (t->gates && t->j.verdict == VERDICT_INSUFFICIENT) {
                        log_error("%s: key test %s judged nothing: %zu valid run(s) of %s, %zu of "
                                  "%s (3 a side needed); the warnings above say why",
                                  o->compare ? "compare" : "check", t->name, t->base_valid,
                                  o->compare ? "A" : "the baseline", t->cand_valid,
                                  o->compare ? "B" : "the candidate");
                        return OUTCOME_INFRA;
                }
        }
        if (!r->verdicts.n) {
                log_error("%s: no test judged: no workload has a valid run on both sides",
                          o->compare ? "compare" : "check");
                return OUTCOME_INFRA;
        }
        return OUTCOME_OK;
}

enum outcome series_run(const struct series_opts *o, struct series_result *r)
{
        *r = (struct series_result){.asked = {.file = o->file,
                                              .baseline = o->baseline,
                                              .lab = o->lab,
                                              .db = o->db,
                                              .runs = o->runs,
                                              .compare = o->compare,
                                              .blocked = o->blocked,
                                              .no_store = o->no_store},
                                    .looks = 1,
                                    .runs_json = json_object_new_array()};
        struct series_ctx c = {.o = o, .res = r, .lock = {.fd = -1, .conc_fd = -1}};
        uint64_t t0 = now_usec();
        enum outcome rc = prepare(&c);
        if (rc != OUTCOME_OK)
                goto out;
        r->series[0] = 's';
        random_hex(r->series + 1, 16); /* 128 random bits: two series never merge */
        unsigned nw = c.topo->n_workloads;
        c.warm_use = xcalloc(nw + 1, sizeof *c.warm_use);
        c.warm_learned = xcalloc(nw + 1, sizeof *c.warm_learned);
        c.a = (struct side){.name = o->compare ? "A" : NULL,
                            .kernel = o->kernel_a,
                            .sets = o->sets_a,
                            .n_sets = o->n_sets_a,
                            .warmup_us = c.warm_use,
                            .learned = c.warm_learned,
                            .n_wl = nw};
        c.b = c.a;
        c.b.name = "B";
        c.b.kernel = o->kernel_b;
        c.b.sets = o->sets_b;
        c.b.n_sets = o->n_sets_b;
        /* sides that boot the same kernels share one kept lab */
        c.b.slot = !streq_null(o->kernel_a, o->kernel_b);
        const struct side *sides[] = {&c.a, &c.b};
        const struct backend_ops *be = backend_find(o->backend);
        r->timing.warmup_history = seed_warmup(&c, be ? be->name : "", sides, o->compare ? 2 : 1,
                                               c.warm_use, c.warm_learned);
        c.kernels_before = json_object_new_object();
        c.kernels_last = json_object_new_object();
        unsigned runs = o->runs ? o->runs : 1;
        c.keeps = be && be->reusable && o->runs;
        /* --warmup-runs auto: where runs reuse kept VMs and stored runs taught
         * the workloads' warm-ups, no warm-up run (a boot's first run warms
         * up longest instead) */
        bool warmup = o->runs > 0 && !o->no_warmup_run &&
                      (o->warmup_run_forced || !c.keeps || !r->timing.warmup_history);
        if (o->baseline)
                rc = load_baseline(&c);
        /* --runs auto: judged after every run from the first look on, so the
         * family of key tests is corrected for every look that could stop it */
        r->looks = o->runs_auto ? runs - 2 : 1;
        if (c.db && rc == OUTCOME_OK)
                fprintf(stderr, "mptcplab: series %s, %s%u run(s)%s, results in %s\n", r->series,
                        o->runs_auto ? "at most " : "", runs, warmup ? " after a warm-up" : "",
                        store_path(c.db));
        if (rc == OUTCOME_OK)
                rc = run_all(&c, runs, warmup);
        else
                r->runs = runs;
        /* the last run's VMs go before anything is judged or printed */
        r->timing.teardown += lab_keep_release(&c.keep[0]) + lab_keep_release(&c.keep[1]);
        r->timing.teardown += lab_run_settle(&c.pending);
        enum outcome back = restore_kernels(&c);
        if (rc == OUTCOME_OK)
                rc = back;
        r->runs_auto_done = o->runs_auto && rc == OUTCOME_OK && !r->skip;
        if (r->skip)
                fprintf(stderr, "mptcplab: %s skipped: %s\n", topo_label(c.topo), r->skip);
        if (rc == OUTCOME_OK && !r->skip && (o->compare || o->baseline))
                rc = judge(&c);
        if (rc != OUTCOME_INFRA && rc != OUTCOME_INPUT && !r->skip &&
            (o->runs || o->compare || o->baseline)) {
                r->noise_looked = true;
                r->noise = noise_of(c.db, &c.likes[0], r->runs, c.topo);
        }
        r->judged_outcome = rc;
        /* a kernel that crashes is the worst regression there is: the candidate is A
         * in a plain run or a check, B in a compare */
        r->crashed = o->compare ? r->crashed_b : r->crashed_a;
        if (r->crashed && (rc == OUTCOME_OK || rc == OUTCOME_REGRESSION))
                rc = OUTCOME_REGRESSION;
out:
        r->timing.wall = (double)(now_usec() - t0) / 1e6;
        if (r->timing.measured > 0 && (o->runs || o->compare || o->baseline)) {
                const struct series_timing *tm = &r->timing;
                char reset[64] = "";
                if (tm->reset > 0)
                        snprintf(reset, sizeof reset, "VMs put back between runs %.0f s, ",
                                 tm->reset);
                fprintf(stderr,
                        "mptcplab: %.0f s for %.0f s measured (%.2fx): warm-up runs %.0f s, boot "
                        "%.0f s, configuring %.0f s, workload warm-ups %.0f s, tools starting "
                        "and stopping %.0f s, %steardown %.0f s, other %.0f s\n",
                        tm->wall, tm->measured, tm->wall / tm->measured, tm->warmup_runs, tm->boot,
                        tm->configure, tm->warmup, tm->tools, reset, tm->teardown,
                        series_timing_other(tm));
        }
        like_clear(&c.likes[0]);
        like_clear(&c.likes[1]);
        json_object_put(c.kernels_before);
        json_object_put(c.kernels_last);
        free(c.warm_use);
        free(c.warm_learned);
        free(c.text);
        r->topo = c.topo;
        store_close(c.db);
        hostlock_release(&c.lock);
        r->outcome = rc;
        return rc;
}
