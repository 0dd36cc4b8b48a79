/* verbs.h - the command line's verbs (main.c's table) and what they share:
 * exit codes, the agent binary, the results database. */
#pragma once
#include "../results/result.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* 1: a regression (compare, check) or a node's kernel crashed */
enum { EXIT_OK = 0, EXIT_REGRESSION = 1, EXIT_INPUT = 2, EXIT_INFRA = 3 };

/* The exit status of an outcome (documented in the README and the man page) */
int cli_exit_code(enum outcome o);

/* main.c: the usage of every verb */
void cli_usage(FILE *f);
/* main.c: the agent binary ($MPTCPLAB_AGENT, next to mptcplab, the build's) */
const char *find_agent(char *buf, size_t len);
/* db.c: the results database for a verb that reads or files records; NULL (said) */
struct store;
struct store *open_db(const char *path);
int verb_history(int argc, char **argv);
int verb_baseline(int argc, char **argv);
int verb_report(int argc, char **argv);
/* run.c: run, compare and check; and what every caller of a series shows of
 * it: its lines on f, its JSON (when asked), its report; the exit status
 * (git bisect run's with bisect: 3 -> 125, 2 -> 128) */
struct series_result;
struct series_opts;
struct topo;
struct run_result;
/* series_opts.on_run of every verb that runs a series: a plain series shows
 * each run's table on stdout; a single run writes its run JSON to user's
 * json_out (user: a struct run_ui, or NULL) */
struct run_ui {
        const char *json_out;
};
bool show_run(void *user, const struct series_opts *o, const struct topo *t,
              const struct run_result *res, const char *side, bool warmup);
int series_finish(const struct series_result *r, FILE *f, const char *json_out, bool bisect);
int verb_run(int argc, char **argv);
int verb_compare(int argc, char **argv);
int verb_check(int argc, char **argv);
/* --threshold METRIC=PERCENT: the smallest change that matters for one metric. */
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
