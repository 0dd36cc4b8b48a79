/* series.h - repetitions and verdicts on top of single runs. */
#pragma once
#include "run.h"

struct series_opts {
        const char *file;
        char **sets_a, **sets_b; /* --set applies to both; --set-a / --set-b to one side */
        unsigned n_sets_a, n_sets_b;
        const char *kernel_a, *kernel_b;
        unsigned runs;      /* counted runs per side; 0: a single run, no warm-up */
        bool runs_auto;     /* runs is the most; stop when every key metric is decided */
        unsigned max_runs;  /* --max-runs, with runs_auto */
        bool no_warmup_run; /* --warmup-runs 0 */
        bool compare, bisect, no_store;
        bool blocked;          /* --order blocked: every A run, then every B run */
        bool allow_concurrent; /* share the host with other runs, and say so */
        bool allow_different;  /* check against a baseline of other topology settings */
        const char *baseline;  /* check: compare against this baseline */
        const char *backend, *agent_path, *uri, *run_dir, *db, *json_out;
        const char *links;     /* --links udp|bridge (libvirt) */
        const char *inventory; /* --inventory FILE (ssh) */
        const char *lab;       /* the lab's name in the results (a nightly plan's) */
};

/* run --runs N, compare and check. Returns the exit code (mapped for git bisect
 * run with bisect: 3 -> 125, 2 -> 128). */
int series_run(const struct series_opts *o);
/* --threshold METRIC=PERCENT: the smallest change that matters for one metric. */
int series_set_threshold(const char *spec);
int verb_history(int argc, char **argv);
int verb_baseline(int argc, char **argv);
int verb_report(int argc, char **argv);
/* main.c: the agent binary ($MPTCPLAB_AGENT, next to mptcplab, the build's) */
const char *find_agent(char *buf, size_t len);
/* The results database for a verb that reads or files records; NULL (said). */
struct store;
struct store *open_db(const char *path);
/* nightly.c */
int verb_nightly(int argc, char **argv);
int verb_changes(int argc, char **argv);
int verb_exclude(int argc, char **argv);
/* transfer.c */
int verb_import(int argc, char **argv);
int verb_export(int argc, char **argv);
/* reproduce.c */
int verb_reproduce(int argc, char **argv);
/* kernelcmd.c */
int verb_kernel(int argc, char **argv);
