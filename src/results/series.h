/* series.h - what a series of runs did and found, typed: the runs' samples
 * and run JSON, the verdicts, the MIB rows, the lab's noise, the time spent
 * and the outcome. The conductor (run/series.c) fills it, report/ shows it,
 * the command line writes it; none of them needs the others' headers. */
#pragma once
#include "result.h"
#include "verdicts.h"

/* Where a series' time went (its JSON's "timing") */
struct series_timing {
        double wall, measured, warmup_runs, boot, configure, warmup, tools, teardown;
        double reset;            /* kept labs put back between runs */
        unsigned warmup_history; /* stored runs that taught the first warm-ups (0: none) */
};
/* The seconds of a series' wall time no other part of its timing names
 * (storing and parsing between runs, the verdicts) */
double series_timing_other(const struct series_timing *tm);

/* What a series was asked: the options its callers show it by (strings are
 * the caller's, as long as the series_opts they came from) */
struct series_asked {
        const char *file, *baseline, *lab, *db;
        unsigned runs; /* counted runs a side asked for (--runs auto: the most) */
        bool compare, blocked, no_store;
};

/* What a series did and found; filled by run/series.c's series_run, emptied
 * by series_result_clear. Everything a caller prints or writes is here. */
struct series_result {
        struct series_asked asked;
        struct topo *topo; /* side A's model of the topology, as read once */
        char series[40];   /* its id: "s" and 128 random bits in hex ("" before it has one) */
        enum outcome outcome;
        enum outcome judged_outcome; /* before a crashed kernel made it a regression */
        unsigned runs;               /* counted runs a side (--runs auto: as many as it took) */
        unsigned looks;              /* how often --runs auto judged (1: once) */
        unsigned replaced;           /* runs added for runs that were not valid (both sides) */
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
        char *skip;         /* a matrix cell a side's nodes cannot be: why (nothing judged) */
        char *last_run_dir; /* the last run's files (its report goes there) */
        char last_id[40];   /* and its id */
};

void series_result_clear(struct series_result *r);
