/* Statistics against answers computed independently: the expected values below
 * come from a brute-force Python script (itertools.combinations over every
 * split of the pooled samples for exact Mann-Whitney p-values, the sorted list
 * of all pairwise differences for Hodges-Lehmann and its interval), not from
 * this code's recurrence or formulas. The script is in the comment of each set. */
#include "../../tests/unit/check.h"
#include "stats.h"

#include <errno.h>

int main(void)
{
        /* medians and CV by hand */
        double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2};
        CHECK_NEAR(stats_median(odd, 3), 2, 0);
        CHECK_NEAR(stats_median(even, 4), 2.5, 0);
        double cv[] = {9, 10, 11}; /* mean 10, sample sd 1 */
        CHECK_NEAR(stats_cv(cv, 3), 0.1, 1e-12);

        /* D1: B fully below A, n = m = 5, no ties.
         * U = 0; exact two-sided p = 2/252 = 0.0079365 (only the two extreme splits);
         * HL = -0.40; 95% interval from k = 3 (P(U <= 2) = 4/252 = 0.01587 <= 0.025,
         * P(U <= 3) = 7/252 = 0.02778 > 0.025): [d(3), d(23)] = [-0.70, -0.15],
         * achieved confidence 1 - 2 * 4/252 = 0.96825. */
        double a1[] = {10.1, 10.3, 9.95, 10.0, 10.2}, b1[] = {9.6, 9.8, 9.5, 9.7, 9.9};
        CHECK_NEAR(stats_mann_whitney_u(a1, 5, b1, 5), 0, 0);
        CHECK_NEAR(stats_mann_whitney_p(a1, 5, b1, 5), 2.0 / 252, 1e-12);
        struct shift s;
        CHECK_EQ_INT(stats_shift(a1, 5, b1, 5, 0.95, &s), 0);
        CHECK_NEAR(s.estimate, -0.40, 1e-9);
        CHECK_NEAR(s.lo, -0.70, 1e-9);
        CHECK_NEAR(s.hi, -0.15, 1e-9);
        CHECK_NEAR(s.confidence, 1 - 2 * 4.0 / 252, 1e-12);
        struct judgement j;
        /* goodput 4% lower: a regression at a 2% threshold */
        stats_judge(a1, 5, b1, 5, true, 0.02, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_REGRESSION);
        CHECK_NEAR(j.rel_change, -0.40 / 10.1, 1e-9);
        /* the same numbers as CPU (lower is better): an improvement */
        stats_judge(a1, 5, b1, 5, false, 0.02, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_IMPROVEMENT);
        /* a 5% threshold: the change (4%) is real but smaller than what matters */
        stats_judge(a1, 5, b1, 5, true, 0.05, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_SAME);

        /* D2: A/A-like, U = 11, exact p = 212/252 = 0.84127, HL = -0.10,
         * interval [d(3), d(23)] = [-0.60, 0.50]: within +-2% of 37.3 -> same */
        double a2[] = {37.1, 37.5, 36.9, 37.3, 37.6}, b2[] = {37.4, 37.0, 37.2, 37.7, 36.8};
        CHECK_NEAR(stats_mann_whitney_u(a2, 5, b2, 5), 11, 0);
        CHECK_NEAR(stats_mann_whitney_p(a2, 5, b2, 5), 212.0 / 252, 1e-12);
        CHECK_EQ_INT(stats_shift(a2, 5, b2, 5, 0.95, &s), 0);
        CHECK_NEAR(s.estimate, -0.10, 1e-9);
        CHECK_NEAR(s.lo, -0.60, 1e-9);
        CHECK_NEAR(s.hi, 0.50, 1e-9);
        stats_judge(a2, 5, b2, 5, true, 0.02, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_SAME);
        /* a 0.5% threshold cannot be judged from five noisy runs */
        stats_judge(a2, 5, b2, 5, true, 0.005, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_NOISY);

        /* D3: ties, n = m = 8: the exact permutation p (all 12870 splits) is 0.041181;
         * the normal approximation with tie and continuity corrections must be close */
        double a3[] = {5, 6, 6, 7, 8, 8, 9, 10}, b3[] = {7, 8, 8, 9, 10, 11, 11, 12};
        CHECK_NEAR(stats_mann_whitney_u(a3, 8, b3, 8), 51.5, 0);
        CHECK_NEAR(stats_mann_whitney_p(a3, 8, b3, 8), 0.041181, 0.01);
        CHECK_EQ_INT(stats_shift(a3, 8, b3, 8, 0.95, &s), 0);
        CHECK_NEAR(s.estimate, 2.0, 1e-9);
        /* large-sample interval (Hollander & Wolfe 4.3): k = round(nm/2 - z sqrt(nm(n+m+1)/12))
         * = round(13.34) = 13, [d(13), d(52)] = [0, 4] */
        CHECK_NEAR(s.lo, 0, 1e-9);
        CHECK_NEAR(s.hi, 4, 1e-9);

        /* too few samples */
        stats_judge(a1, 2, b1, 5, true, 0.02, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_INSUFFICIENT);
        CHECK_EQ_INT(stats_shift(a1, 1, b1, 5, 0.95, &s), -EINVAL);
        return CHECK_DONE();
}
