/* measure.h - readings of a workload's nodes and their deltas (measure.c) */
#pragma once
#include "node.h"

/* The measured window's two edges: when each was read, both nodes'
 * counters, and the VMs' CPU time where the backend has it. */
struct window {
        uint64_t at[2];
        struct json_object *stat[2][2]; /* [edge][client, server] */
        uint64_t vm[2][2];
        bool have_vm[2];
        uint64_t insns[2][2]; /* [edge][client, server]: guest instructions (TCG plugin) */
        bool have_insns[2];
        /* [edge][client, server]: the host's clock (usec) as each counters
         * call was sent and answered; the node's clock is the reply's mono_ns */
        uint64_t sent[2][2], got[2][2];
};

void window_clear(struct window *w);
/* Waits until `when` (now_usec()), then reads edge `edge` of the window. */
int window_edge(struct run *r, const struct topo_workload *w, struct lab_node *cn,
                struct lab_node *sn, uint64_t when, struct window *win, unsigned edge, char **err);
/* How fast node k's (0 client, 1 server) clock ran against the host's over
 * the window: its elapsed time over the host's, less 1, in parts per million;
 * *unc the error the calls' round trips allow. false when a reading lacks it. */
bool clock_rate_ppm(const struct window *win, unsigned k, double *ppm, double *unc);
/* A counter's delta between two "counters" readings (saturating) */
int64_t delta(struct json_object *a, struct json_object *b, const char *grp, const char *name);
int link_bytes(struct lab_node *n, const char *dev, uint64_t *tx, uint64_t *rx, char **err);
/* Busy share of all CPUs, in %; -1 when a reading lacks it */
double node_busy_pct(struct json_object *before, struct json_object *after);
/* The kernel's user, nice, system and softirq time of all CPUs, in s; -1: none */
double node_cpu_s(struct json_object *before, struct json_object *after);
/* Every MPTcpExt, TcpExt and Tcp counter that moved, as "GroupName": delta */
struct json_object *mib_deltas(struct json_object *before, struct json_object *after);
/* Each core's user, system, softirq and busy share of the window, in % */
struct json_object *cpu_per_core(struct json_object *before, struct json_object *after);
/* Hardware cycles between two readings; -1 without a PMU */
double cycles_delta(struct json_object *before, struct json_object *after);
