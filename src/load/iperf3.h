/* iperf3.h - iperf3 as a workload: argv for server and client (MPTCP through
 * --mptcp where the binary has it, `mptcpize run` otherwise) and the -J
 * report parsed into the numbers the lab keeps. Pure functions. */
#pragma once
#include "load.h"
#include <json-c/json.h>

struct iperf3_result {
        double sent_bps, recv_bps; /* end.sum_sent / end.sum_received */
        int64_t retransmits;       /* -1 when the sender side did not report */
        double cpu_host_pct, cpu_remote_pct;
        double seconds;
        char *version;
};

/* How MPTCP is obtained: "tcp", "--mptcp" or "mptcpize". NULL when it cannot be. */
const char *iperf3_mptcp_method(const struct topo_workload *w, const struct load_caps *c);
/* A JSON array of strings; NULL with *why when MPTCP is asked but impossible. */
struct json_object *iperf3_server_argv(const struct topo_workload *w, unsigned port,
                                       const struct load_caps *c, const char **why);
struct json_object *iperf3_client_argv(const struct topo_workload *w, const char *target,
                                       unsigned port, const struct load_caps *c, const char **why);
/* Parses `iperf3 -J` output; on failure returns -EINVAL and *err (iperf3's own
 * "error" text when it gave one). */
int iperf3_parse(const char *text, struct iperf3_result *ret, char **err);
void iperf3_result_clear(struct iperf3_result *r);
