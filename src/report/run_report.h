/* run_report.h - one run's results shown: the table `run` prints (its JSON
 * is results/run_json.h). */
#pragma once
#include "../results/run_json.h"

#include <json-c/json.h>
#include <stdio.h>

void report_table(FILE *f, const struct topo *t, const struct run_result *r);
