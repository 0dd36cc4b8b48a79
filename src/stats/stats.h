/* stats.h - the statistics behind a verdict. Pure functions, no I/O.
 *
 * A change is measured as the Hodges-Lehmann estimate of the shift between
 * two samples (the median of all pairwise differences B_j - A_i), with the
 * distribution-free confidence interval that inverts the Mann-Whitney test
 * (Hollander & Wolfe, Nonparametric Statistical Methods, 3rd ed., 4.3):
 * exact for samples without ties up to 20 per side, normal approximation
 * otherwise. Nothing here assumes normal data: run-to-run lab noise is not. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

double stats_median(const double *v, size_t n);
double stats_min(const double *v, size_t n);
/* min, first quartile, median, third quartile, max (type 7: linear between
 * order statistics) */
void stats_quartiles(const double *v, size_t n, double q[5]);
double stats_max(const double *v, size_t n);
/* The distribution-free interval of the median from order statistics
 * [x(j), x(n-j+1)], the narrowest that covers it with at least 95% (fewer than
 * 6 values cannot: then the whole range, and less); returns its coverage. */
double stats_median_interval(const double *v, size_t n, double *lo, double *hi);
double stats_mean(const double *v, size_t n);
double stats_stddev(const double *v, size_t n); /* sample (n - 1) */
/* Coefficient of variation: stddev / |mean|; 0 for fewer than 2 values. */
double stats_cv(const double *v, size_t n);

/* Mann-Whitney U of B over A (pairs with B > A, ties counting 1/2) and the
 * two-sided p-value: exact when there are no ties and n, m <= 20. */
double stats_mann_whitney_u(const double *a, size_t n, const double *b, size_t m);
double stats_mann_whitney_p(const double *a, size_t n, const double *b, size_t m);

struct shift {
        double estimate;   /* Hodges-Lehmann shift B - A */
        double lo, hi;     /* confidence interval of the shift */
        double confidence; /* achieved level (exact intervals are not exactly 95%) */
        double p;          /* two-sided Mann-Whitney p-value */
};
/* The highest confidence any interval of n against m values reaches (the
 * whole range of the differences: 1 - 2 / C(n + m, n) without ties; 3
 * against 3: 90%), and the fewest runs a side whose intervals reach level. */
double stats_max_confidence(size_t n, size_t m);
size_t stats_runs_for_level(double level);
/* Returns 0, or -EINVAL with fewer than 2 values on a side (no interval then). */
int stats_shift(const double *a, size_t n, const double *b, size_t m, double level,
                struct shift *ret);

enum verdict {
        VERDICT_SAME,        /* the interval lies within +-threshold: no change that matters */
        VERDICT_REGRESSION,  /* significant, and worse by at least the threshold */
        VERDICT_IMPROVEMENT, /* significant, and better by at least the threshold */
        VERDICT_NOISY,       /* the interval is too wide to say either */
        VERDICT_INSUFFICIENT /* too few valid samples */
};
const char *verdict_name(enum verdict v);

struct judgement {
        enum verdict verdict;
        double base_median, cand_median;
        double rel_change, rel_lo, rel_hi; /* shift and interval relative to the baseline median */
        double base_cv, cand_cv;
        struct shift shift;
        /* the interval settles it: a regression or an improvement, or it lies
         * within +-threshold (what --runs auto waits for) */
        bool decisive;
};

/* higher_is_better: goodput yes, CPU no. threshold: the smallest relative change
 * that matters (0.02 = 2%). min_samples: fewer valid samples on a side is
 * VERDICT_INSUFFICIENT. */
void stats_judge(const double *base, size_t n, const double *cand, size_t m, bool higher_is_better,
                 double threshold, size_t min_samples, struct judgement *ret);
/* The same at a confidence level of the caller's (a family-wise correction
 * asks more of each test than 0.95). */
void stats_judge_at(const double *base, size_t n, const double *cand, size_t m,
                    bool higher_is_better, double threshold, size_t min_samples, double level,
                    struct judgement *ret);
/* The same for a share (values 0 or 1: a run that did not recover): the
 * change is the difference of the two shares in points (0.65 = 65 points)
 * with Newcombe's hybrid score interval at `level` (exact enough from 10
 * runs a side, and never past 0 or 1); threshold in points. base_median and
 * cand_median are the shares. */
void stats_judge_share(const double *base, size_t n, const double *cand, size_t m,
                       bool higher_is_better, double threshold, size_t min_samples, double level,
                       struct judgement *ret);
/* The minimum detectable change: the smallest relative worsening (0.02 = 2%)
 * that the rule above, at `level` and `threshold`, calls a regression in at
 * least `power` (0.8) of simulated comparisons of n runs against n whose
 * run-to-run noise has coefficient of variation cv (normal, 400 simulations
 * with fixed random numbers: the same answer every time). -1 when not even a
 * 90% change is seen that often, or n is outside 2..STATS_MDC_MAX_N. */
#define STATS_MDC_MAX_N 64
double stats_min_detectable(double cv, size_t n, double threshold, double level, double power);
/* Bonferroni: the level each of k gating tests needs so that the chance of
 * any false regression among them stays at or below 1 - family (0.95 -> 5%). */
static inline double stats_family_level(double family, unsigned k)
{
        return k ? 1 - (1 - family) / (double)k : family;
}
