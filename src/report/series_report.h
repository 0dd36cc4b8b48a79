/* series_report.h - a series' typed result shown: the lines compare, check
 * and run --runs print on stdout, and the series JSON (docs/run-json.md). */
#pragma once
#include "../results/series.h"

#include <json-c/json.h>
#include <stdio.h>

void series_print(FILE *f, const struct series_result *r);
/* exit_code: what the process exits with, recorded in the JSON */
struct json_object *series_json(const struct series_result *r, int exit_code);
