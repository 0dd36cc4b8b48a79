/* report.h - `mptcplab report ID`: a run's or a series' report directory
 * (index.html and its SVG plots, docs/report.md). */
#pragma once
#include "../store/store.h"

#include <stdbool.h>
#include <stdio.h>

/* Writes the report of a series or a run (ID) from the database into
 * out_dir; *ret_index is the index.html's path. With a baseline (the report
 * of a check), the baseline's runs are the base side and ID's the candidate.
 * A plot gnuplot could not make is said on stderr and left out; no run at all
 * is -ENOENT with *err. */
int report_write(struct store *db, const char *id, const char *baseline, const char *out_dir,
                 char **ret_index, char **err);

/* reports/TPL.gp with its @KEY@ tokens filled (keys[i] by values[i]) written
 * to DIR/OUT.gp and run by gnuplot there: whether DIR/OUT.svg came out
 * (*err says why not) */
bool report_plot(const char *dir, const char *tpl, const char *out, const char *const *keys,
                 const char *const *values, unsigned n, char **err);
/* s as HTML text: <, >, & and " escaped */
void report_html_text(FILE *f, const char *s);
