/* matrix_report.h - a matrix's cells shown: one KTAP test per cell with a
 * line per key metric (its level, or its change with the interval in a
 * comparison), a skipped cell as SKIP with the reason; and the matrix JSON
 * (docs/run-json.md). */
#pragma once
#include "../results/matrix.h"

#include <json-c/json.h>
#include <stdio.h>

void matrix_print(FILE *f, const struct matrix_result *m);
/* exit_code: what the process exits with, recorded in the JSON */
struct json_object *matrix_json(const struct matrix_result *m, int exit_code);
/* The matrix's page in dir: a heat map of every cell and key test (its
 * median, or its change in a comparison; gnuplot, reports/matrix.gp), and a
 * table linking each cell's own report (reports[k]: its index.html, or NULL).
 * *index is the page's path. */
int matrix_report_write(const struct matrix_result *m, char *const *reports, const char *dir,
                        char **index, char **err);
