/* mptcpload-driver.h - mptcpload as a lab workload: argv for its server and
 * client, and its JSON report parsed. Pure functions. */
#pragma once
#include "../topo/topo.h"
#include <json-c/json.h>

struct mptcpload_result {
        double throughput_bps, tps, cps, p50_us, p99_us, p999_us, cpu_s;
        int64_t fallbacks, errors;
        double subflows;
};

struct json_object *mptcpload_server_argv(const struct topo_workload *w, unsigned port);
struct json_object *mptcpload_client_argv(const struct topo_workload *w, const char *target,
                                          unsigned port);
int mptcpload_parse(const char *text, struct mptcpload_result *ret, char **err);
