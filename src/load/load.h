/* load.h - a load tool as a driver: how its server and client are started on
 * the workload's two nodes, and what its report says, in one result for
 * every tool. The conductor runs any tool through this table
 * (run/workload.c); a new tool is a new entry, not a branch there.
 *
 * A driver's parts, in the order a workload uses them: prepare (method,
 * port, server_argv, client_argv), start and wait (the conductor, through
 * the agents: argv arrays with deadlines), parse (the report into a
 * load_result, every number checked), and the tool's validity facts (its
 * errors and accepted connections, for results/validity.h). Pure. */
#pragma once
#include "../topo/topo.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* What both of the workload's nodes have (their agents' hello) */
struct load_caps {
        bool iperf3_mptcp_flag; /* iperf3 has --mptcp (3.19+) */
        bool mptcpize;          /* mptcpize run is there */
};

/* One tool's report in the lab's terms */
struct load_result {
        double sent_bps, recv_bps; /* recv: what the receivers got in the window; -1 unknown */
        double seconds;            /* a fixed-size transfer's time, -1: not one */
        bool incomplete; /* ... that did not all arrive: seconds is its deadline (a lower bound) */
        bool own_cpu;    /* the tool says its CPU share itself (below) */
        double cpu_client_pct, cpu_server_pct;
        double cpu_client_s; /* else: the client's CPU over the window (rusage), -1 */
        double tps, cps, p50_us, p99_us, p999_us; /* rr/crr; 0 for a stream */
        double cdf_p[16], cdf_us[16];             /* the latency distribution */
        unsigned n_cdf;
        int64_t fallbacks;                          /* connections the tool saw fall back */
        int64_t time_wait_client, time_wait_server; /* -1: unknown */
        /* the tool's own view of its connections, for the validity rules */
        bool counts_connections;
        int64_t errors, server_errors, server_accepted; /* -1: not said */
};

struct load_ops {
        const char *name; /* "iperf3"; its steps are "iperf3 server" and "iperf3 client" */
        enum topo_tool tool;
        unsigned base_port, ports; /* workload i's port: base_port + ports * i */
        /* how MPTCP is obtained: "tcp", "mptcp", "--mptcp", "mptcpize"; NULL: it cannot be */
        const char *(*method)(const struct topo_workload *w, const struct load_caps *c);
        /* argv arrays; NULL with *why when the nodes cannot do what w asks */
        struct json_object *(*server_argv)(const struct topo_workload *w, unsigned port,
                                           const struct load_caps *c, const char **why);
        /* control: where a tool's control connection goes when it has one
         * (NULL: the target; path events keep it off the paths they touch) */
        struct json_object *(*client_argv)(const struct topo_workload *w, const char *target,
                                           const char *control, unsigned port,
                                           const struct load_caps *c, const char **why);
        /* the client's report (untrusted: from a guest): 0, or -errno and *err */
        int (*parse)(const struct topo_workload *w, const char *out, struct load_result *ret,
                     char **err);
        /* its interval series, in the run JSON's shape ([{"t", "bps", "subflows"}]: t
         * from the start, warm-up included) */
        struct json_object *(*intervals)(const char *out, double warmup_s);
        /* how far an interval may be off the rate by the tool's own counting */
        double (*settle_slack_bps)(const struct topo_workload *w);
};

/* The driver of a tool; NULL for none */
const struct load_ops *load_find(enum topo_tool tool);

/* A tool's interval series in the run JSON's shape: point reads one interval
 * of its report's "intervals" (t from the start, warm-up included; bps; the
 * first connection's subflows, or none); intervals without finite numbers
 * >= 0 are left out. Numbers from a guest: never trusted. */
struct json_object *load_intervals(const char *out, double warmup_s,
                                   void (*point)(struct json_object *x, double warmup_s, double *t,
                                                 double *bps, struct json_object **subflows));

/* When a workload's rate settled, from its interval series as the run keeps
 * it ([{"t": end of the interval in s from the start, warm-up included, "bps"}]):
 * the end of the last warm-up interval (t <= warmup_s) more than 10% plus
 * slack_bps off the median of the measured ones and not made good by a
 * neighbour off the other way, nor a lone one between two intervals on the
 * rate (a blip; the next may be a measured one); 0 when none is; warmup_s when the last one
 * is (not settled); -1 when the series cannot say. */
double tool_settled_at(struct json_object *intervals, double warmup_s, double slack_bps);
