#include "verdicts.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>

void verdicts_add(struct verdicts *v, const struct test_result *t)
{
        v->t = xreallocarray(v->t, v->n + 1, sizeof *v->t);
        v->t[v->n] = *t;
        v->t[v->n].name = xstrdup(t->name);
        v->regressions += t->gates && t->j.verdict == VERDICT_REGRESSION;
        v->n++;
}

void verdicts_clear(struct verdicts *v)
{
        for (size_t i = 0; i < v->n; i++)
                free(v->t[i].name);
        free(v->t);
        *v = (struct verdicts){.looks = v->looks, .cells = v->cells};
}

void verdicts_compute(const struct samples *base, const char *base_side, const struct samples *cand,
                      const char *cand_side, const struct topo *topo, struct verdicts *v)
{
        /* the workloads, in order of appearance */
        const char *wls[64];
        unsigned n_wl = samples_workloads(cand, wls, ELEMENTSOF(wls));
        unsigned n_metrics;
        const struct metric *metrics = metric_all(&n_metrics);
        /* the family of gating tests: the key metrics of every workload that has
         * samples on both sides. Each is judged at the Bonferroni level that keeps
         * the chance of any false regression among them at or below 5%. */
        const struct topo_workload *tw[64] = {0};
        unsigned k_gates = 0;
        for (unsigned w = 0; w < n_wl; w++) {
                tw[w] = topo_find_workload(topo, wls[w]);
                for (unsigned m = 0; m < n_metrics; m++)
                        k_gates += metric_is_key(&metrics[m], tw[w]) &&
                                   samples_has(base, base_side, wls[w], &metrics[m]) &&
                                   samples_has(cand, cand_side, wls[w], &metrics[m]);
        }
        v->gate_level = stats_family_level(0.95, k_gates * (v->looks ? v->looks : 1) *
                                                         (v->cells ? v->cells : 1));
        v->decided = k_gates > 0;
        v->n_gates = k_gates;
        for (unsigned w = 0; w < n_wl; w++)
                for (unsigned m = 0; m < n_metrics; m++) {
                        double *a, *b, *ai, *bi;
                        size_t na, nb, nai, nbi;
                        samples_values(base, base_side, wls[w], &metrics[m], true, &a, &na);
                        samples_values(cand, cand_side, wls[w], &metrics[m], true, &b, &nb);
                        samples_values(base, base_side, wls[w], &metrics[m], false, &ai, &nai);
                        samples_values(cand, cand_side, wls[w], &metrics[m], false, &bi, &nbi);
                        free(ai);
                        free(bi);
                        if (na + nai == 0 || nb + nbi == 0) {
                                free(a);
                                free(b);
                                continue;
                        }
                        _cleanup_free_ char *name = xasprintf("%s.%s", wls[w], metrics[m].name);
                        bool gates = metric_is_key(&metrics[m], tw[w]);
                        struct test_result t = {.name = name,
                                                .metric = &metrics[m],
                                                .gates = gates,
                                                .threshold = metric_threshold(&metrics[m]),
                                                .base_valid = na,
                                                .base_invalid = nai,
                                                .cand_valid = nb,
                                                .cand_invalid = nbi,
                                                .base_mean = na ? stats_mean(a, na) : 0,
                                                .base_sd = stats_stddev(a, na),
                                                .cand_mean = nb ? stats_mean(b, nb) : 0,
                                                .cand_sd = stats_stddev(b, nb)};
                        if (tw[w] && tw[w]->max_time_us && streq(metrics[m].name, "completion_s")) {
                                t.max_time = (double)tw[w]->max_time_us / 1e6;
                                for (size_t i = 0; i < na; i++)
                                        t.base_over += a[i] > t.max_time;
                                for (size_t i = 0; i < nb; i++)
                                        t.cand_over += b[i] > t.max_time;
                        }
                        (metrics[m].share ? stats_judge_share : stats_judge_at)(
                                a, na, b, nb, metrics[m].higher_is_better, t.threshold, 3,
                                gates ? v->gate_level : 0.95, &t.j);
                        if (gates && !t.j.decisive)
                                v->decided = false;
                        /* a two-sided interval at confidence c errs on the bad side
                         * with chance (1 - c) / 2 at most; counted as 1 - c */
                        if (gates && t.j.verdict != VERDICT_INSUFFICIENT)
                                v->family_error += 1 - t.j.shift.confidence;
                        verdicts_add(v, &t);
                        free(a);
                        free(b);
                }
}
