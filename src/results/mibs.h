/* mibs.h - the MIB counters that moved differently between two sides' runs. */
#pragma once
#include <json-c/json.h>

/* From the runs' run JSON (with "side"; side NULL: every run of the array):
 * rows [{"counter": "workload/node/counter", "base", "candidate"}] of the
 * counters whose mean delta per run differs by at least 10% and 1; *ret_na
 * and *ret_nb get each side's runs. */
struct json_object *mib_changes(struct json_object *base, const char *base_side,
                                struct json_object *cand, const char *cand_side, unsigned *ret_na,
                                unsigned *ret_nb);
