/* verdicts.h - judged comparisons as typed results, and the ways they are
 * shown: KTAP (the exit status's evidence), an LKP-shaped table that pastes
 * into a netdev mail, and JSON. The judging itself is src/stats (pure). */
#pragma once
#include "metrics.h"
#include "samples.h"
#include "../stats/stats.h"

#include <json-c/json.h>
#include <stdio.h>

/* One (workload, metric) judged: base against candidate. */
struct test_result {
        char *name; /* "bulk-mptcp.goodput_mbps" */
        const struct metric *metric;
        bool gates; /* a key metric: its regression makes the exit status 1 */
        double threshold;
        struct judgement j;
        size_t base_valid, base_invalid, cand_valid, cand_invalid;
        double base_mean, base_sd, cand_mean, cand_sd; /* of the valid samples */
        /* a fixed-size transfer with a bound (max_time): how many valid runs of
         * each side took longer; max_time 0: no bound */
        double max_time;
        size_t base_over, cand_over;
};

struct verdicts {
        /* in: how many times the same comparison is judged as runs are added
         * (--runs auto); the family-wise level covers every look. 0: one */
        unsigned looks;
        struct test_result *t;
        size_t n;
        unsigned regressions; /* of gating tests */
        unsigned n_gates;
        double gate_level; /* each gating test's confidence level */
        bool decided;      /* every gating test's interval is decisive */
        /* the chance of any false regression among the gating tests, from the
         * levels their intervals really reached (few runs reach less) */
        double family_error;
};

void verdicts_add(struct verdicts *v, const struct test_result *t);
/* Judges every (workload, metric of the registry) present on both sides. The
 * key metrics (topo's key_metrics per workload, else the registry's) gate, at
 * the family-wise level; topo may be NULL. */
void verdicts_compute(const struct samples *base, const char *base_side, const struct samples *cand,
                      const char *cand_side, const struct topo *topo, struct verdicts *v);
void verdicts_clear(struct verdicts *v);

/* KTAP version 1: one test per result, "not ok" only for a regression,
 * "# SKIP" for noisy or insufficient; `what` says what was compared. */
void ktap_print(FILE *f, const struct verdicts *v, const char *what);
/* LKP's compare shape: base ±%stddev, %change, candidate ±%stddev, metric,
 * with n and the Hodges-Lehmann shift and its interval; as "# " lines. */
void lkp_print(FILE *f, const struct verdicts *v);
struct json_object *verdicts_json(const struct verdicts *v);

/* The MIB counters (run JSON workloads[].mib) that moved differently between
 * the base and the candidate runs (sides "A"/"B", or NULL: all runs of the
 * array); "# " lines, and the rows as JSON in *ret. */
void mib_table_print(FILE *f, struct json_object *base, const char *base_side,
                     struct json_object *cand, const char *cand_side, struct json_object **ret);
