/* verdicts.h - judged comparisons as typed results: every (workload,
 * metric) of two sides' samples judged, the key ones gating at a family-wise
 * level. The statistics are src/stats (pure); src/report shows them. */
#pragma once
#include "metrics.h"
#include "samples.h"
#include "../stats/stats.h"

#include <json-c/json.h>

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
        /* in: the matrix cells judged in the same family (each with as many
         * gating tests as this one); 0: one */
        unsigned cells;
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
