/* run_json.h - one run's typed result as the run JSON (docs/run-json.md). */
#pragma once
#include "result.h"

#include <json-c/json.h>

struct json_object *run_json(const struct topo *t, const struct run_result *r);
/* Where a run's time went: its JSON's "overhead", typed */
struct run_overhead {
        double measured_s, boot_s, configure_s, warmup_s, tools_s, teardown_s;
        double reset_s; /* a kept lab put back for the next run */
};
void run_overhead(const struct run_result *r, struct run_overhead *ret);
