/* series.h - repetitions and verdicts on top of single runs: run --runs N,
 * compare (two kernels or settings, A B A B), check (against a saved
 * baseline). The conductor of a series: it runs, stores and judges, and says
 * how it went in a typed result; it never prints data (stdout) and never
 * returns an exit status. Its callers show the result (report/series_report.h). */
#pragma once
#include "lab.h"
#include "../results/verdicts.h"

struct series_opts {
        const char *file;
        char **sets_a, **sets_b; /* --set applies to both; --set-a / --set-b to one side */
        unsigned n_sets_a, n_sets_b;
        const char *kernel_a, *kernel_b;
        unsigned runs;      /* counted runs per side; 0: a single run, no warm-up */
        bool runs_auto;     /* runs is the most; stop when every key metric is decided */
        unsigned max_runs;  /* --max-runs, with runs_auto */
        bool no_warmup_run; /* --warmup-runs 0 */
        bool compare, no_store;
        bool blocked;          /* --order blocked: every A run, then every B run */
        bool allow_concurrent; /* share the host with other runs, and say so */
        bool allow_different;  /* check against a baseline of other topology settings */
        const char *baseline;  /* check: compare against this baseline */
        const char *backend, *agent_path, *uri, *run_dir, *db;
        const char *links;     /* --links udp|bridge (libvirt) */
        const char *inventory; /* --inventory FILE (ssh) */
        const char *lab;       /* the lab's name in the results (a nightly plan's) */
        /* Each run as it ends (warm-up runs too), for a caller that shows runs
         * (`run` prints each one's table); the result is freed after. A false
         * return makes the run's outcome OUTCOME_INFRA (its JSON could not be
         * written). NULL: nothing. */
        bool (*on_run)(void *user, const struct series_opts *o, const struct topo *t,
                       const struct run_result *res, const char *side, bool warmup);
        void *user;
};

/* Where a series' time went (its JSON's "timing") */
struct series_timing {
        double wall, measured, warmup_runs, boot, configure, warmup, tools, teardown;
        unsigned warmup_history; /* stored runs that taught the first warm-ups (0: none) */
};

/* What a series did and found; filled by series_run, emptied by
 * series_result_clear. Everything a caller prints or writes is here. */
struct series_result {
        const struct series_opts *o;
        struct topo *topo; /* side A's model of the topology, as read once */
        char series[40];   /* its id: "s" and 128 random bits in hex ("" before it has one) */
        enum outcome outcome;
        enum outcome judged_outcome; /* before a crashed kernel made it a regression */
        unsigned runs;               /* counted runs a side (--runs auto: as many as it took) */
        unsigned looks;              /* how often --runs auto judged (1: once) */
        bool runs_auto_done;         /* --runs auto ran to its end and says how many runs it took */
        /* check: the baseline's settings differ, and --allow-different let it be */
        char *baseline_hash, *hash;
        char *what;  /* a compare or check was judged: what, for the KTAP's head */
        bool judged; /* and its verdicts are there (not refused across accelerators) */
        struct verdicts verdicts;
        struct samples samples;        /* the counted runs' samples (sides A/B in a compare) */
        struct samples base;           /* a check's baseline samples */
        struct json_object *runs_json; /* the counted runs' run JSON, each with "side" */
        struct json_object *base_runs; /* a check's baseline runs' run JSON */
        struct json_object *base_meta; /* a check's baseline runs' host, accelerator, tools, lab */
        char *accel, *tools;           /* this series' accelerators and tool versions (JSON) */
        struct json_object *mibs;      /* the MIB counters that moved differently, or NULL */
        unsigned mib_base_runs, mib_cand_runs;
        bool noise_looked;         /* the stored noise was looked up: noise says what it found */
        struct json_object *noise; /* [{test, key, cv, stored_runs, series, runs, ...}] */
        unsigned crashed_a, crashed_b, crashed; /* runs whose kernel crashed; the candidate's */
        struct series_timing timing;
        char *last_run_dir; /* the last run's files (its report goes there) */
        char last_id[40];   /* and its id */
};

/* Runs the series o asks for; returns its outcome (also in ret->outcome). */
enum outcome series_run(const struct series_opts *o, struct series_result *ret);
void series_result_clear(struct series_result *r);
