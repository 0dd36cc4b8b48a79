/* ktap.h - verdicts as people and programs read them: KTAP, the LKP table,
 * JSON; and the MIB counters that moved differently between two sides. */
#pragma once
#include "../results/verdicts.h"

#include <json-c/json.h>
#include <stdio.h>

/* KTAP version 1: one test per result, "not ok" only for a regression,
 * "# SKIP" for noisy or insufficient; `what` says what was compared. */
void ktap_print(FILE *f, const struct verdicts *v, const char *what);
/* LKP's compare shape: base ±%stddev, %change, candidate ±%stddev, metric,
 * with n and the Hodges-Lehmann shift and its interval; as "# " lines. */
void lkp_print(FILE *f, const struct verdicts *v);
struct json_object *verdicts_json(const struct verdicts *v);

/* The MIB counters that moved differently (results/mibs.h's rows), as "# " lines */
void mib_table_print(FILE *f, struct json_object *rows, unsigned na, unsigned nb);
