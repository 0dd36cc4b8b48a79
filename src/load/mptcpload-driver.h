/* mptcpload-driver.h - mptcpload as a lab workload: argv for its server and
 * client, and its JSON report parsed. Pure functions. */
#pragma once
#include "load.h"
#include <json-c/json.h>

struct mptcpload_result {
        double throughput_bps, tps, cps, p50_us, p99_us, p999_us, cpu_s;
        /* stream: what the receivers got in the measured window, -1 unknown */
        double goodput_up_bps, goodput_down_bps;
        int64_t fallbacks, errors;
        int64_t server_accepted, server_errors; /* -1: the server did not say */
        /* sockets the test left in TIME_WAIT towards its data port, -1: unknown */
        int64_t time_wait_client, time_wait_server;
        double subflows;
        double completion_s; /* --bytes: the receiver's time for all of it, -1: none */
        bool incomplete;     /* --bytes: not all of it arrived by the deadline */
        /* rr/crr: the latency distribution, (percentile, us) points in
         * increasing order of both */
        double cdf_p[16], cdf_us[16];
        unsigned n_cdf;
};

struct json_object *mptcpload_server_argv(const struct topo_workload *w, unsigned port);
struct json_object *mptcpload_client_argv(const struct topo_workload *w, const char *target,
                                          unsigned port);
/* The client's JSON report. Numbers from a guest are untrusted: every one must
 * be finite and not negative (or -1 where "unknown" is allowed), else -EINVAL
 * and *err naming the field. */
int mptcpload_parse(const char *text, struct mptcpload_result *ret, char **err);
