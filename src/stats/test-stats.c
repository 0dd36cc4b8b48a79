/* Statistics against answers computed independently: the expected values below
 * come from a brute-force Python script (itertools.combinations over every
 * split of the pooled samples for exact Mann-Whitney p-values, the sorted list
 * of all pairwise differences for Hodges-Lehmann and its interval), not from
 * this code's recurrence or formulas. The script is in the comment of each set. */
#include "../shared/check.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>

/* xorshift64* and Box-Muller: the same synthetic lab every time */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static double uniform(void)
{
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}
/* goodput's threshold in the metric registry (src/results/metrics.c) */
#define GOODPUT_TH 0.005

static double normal(double mean, double sd)
{
        double u = uniform(), v = uniform();
        return mean + sd * sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

/* The decision rule of compare/check on synthetic data with the noise seen on
 * the VM lab (goodput CV 0.3%): two key goodput tests (TCP and MPTCP), each at
 * the Bonferroni level, 5 runs a side. Counts comparisons with any regression
 * among the key tests: A/A, and with one workload 2% slower. */
static void simulate_decision_rule(void)
{
        const unsigned comparisons = 2000, k = 2;
        double level = stats_family_level(0.95, k);
        /* A/A, one workload 2% slower, one workload 1% slower (the one-path
         * 1% rate cut of two-paths, exactly twice the goodput threshold) */
        const double cut[] = {0, 0.02, 0.01};
        unsigned any_regression[3] = {0};
        for (unsigned c = 0; c < comparisons; c++) {
                for (unsigned shifted = 0; shifted < 3; shifted++) {
                        bool any = false;
                        for (unsigned t = 0; t < k; t++) {
                                double mean = t ? 37.5 : 19.13, a[5], b[5];
                                double b_mean = t == 0 ? mean * (1 - cut[shifted]) : mean;
                                for (int i = 0; i < 5; i++) {
                                        a[i] = normal(mean, mean * 0.003);
                                        b[i] = normal(b_mean, mean * 0.003);
                                }
                                struct judgement j;
                                stats_judge_at(a, 5, b, 5, true, GOODPUT_TH, 3, level, &j);
                                any |= j.verdict == VERDICT_REGRESSION;
                        }
                        any_regression[shifted] += any;
                }
        }
        fprintf(stderr,
                "decision rule, %u comparisons of 5+5, %u key tests at %.2f%% each, threshold "
                "%.1f%%: false regressions %.2f%%, a 2%% regression found %.2f%%, a 1%% "
                "regression found %.2f%%\n",
                comparisons, k, 100 * level, 100 * GOODPUT_TH,
                100.0 * any_regression[0] / comparisons, 100.0 * any_regression[1] / comparisons,
                100.0 * any_regression[2] / comparisons);
        CHECK(any_regression[0] <= comparisons / 20);
        CHECK(any_regression[1] >= comparisons * 95 / 100);
        CHECK(any_regression[2] >= comparisons * 90 / 100);
}

/* --runs auto as compare runs it (src/cli/series.c): two key goodput tests
 * (CV 0.3%), at most 12 runs a side, the level covering every look from the
 * third run on, the first look at the run count that reaches that level, a
 * stop when both intervals are decisive. Over 2000 A/A comparisons the
 * family-wise false regressions stay at most 5%; a 2% regression of one
 * workload is found in at least 95%; and the runs used are reported. */
static void simulate_runs_auto(void)
{
        const unsigned comparisons = 2000, k = 2, max = 12, looks = max - 2;
        double level = stats_family_level(0.95, k * looks);
        size_t first = stats_runs_for_level(level);
        CHECK(first == 6); /* 1 - 2/C(12,6) = 99.78% >= 99.75%; 5 a side reach 99.2% */
        unsigned false_alarms = 0, found = 0, runs_aa = 0, runs_reg = 0;
        for (unsigned c = 0; c < comparisons; c++)
                for (int shifted = 0; shifted < 2; shifted++) {
                        double a[2][12], b[2][12];
                        for (unsigned t = 0; t < k; t++) {
                                double mean = t ? 37.5 : 19.13;
                                double b_mean = shifted && t == 0 ? mean * 0.98 : mean;
                                for (unsigned i = 0; i < max; i++) {
                                        a[t][i] = normal(mean, mean * 0.003);
                                        b[t][i] = normal(b_mean, mean * 0.003);
                                }
                        }
                        bool regression = false;
                        unsigned n = first;
                        for (;; n++) {
                                bool decided = true;
                                regression = false;
                                for (unsigned t = 0; t < k; t++) {
                                        struct judgement j;
                                        stats_judge_at(a[t], n, b[t], n, true, GOODPUT_TH, 3, level,
                                                       &j);
                                        decided &= j.decisive;
                                        regression |= j.verdict == VERDICT_REGRESSION;
                                }
                                if (decided || n == max)
                                        break;
                        }
                        if (shifted) {
                                found += regression;
                                runs_reg += n;
                        } else {
                                false_alarms += regression;
                                runs_aa += n;
                        }
                }
        fprintf(stderr,
                "--runs auto, %u comparisons, at most %u runs a side, first look at %zu, "
                "%.3f%% a test: false regressions %.2f%% (mean %.1f runs a side), a 2%% "
                "regression found %.2f%% (mean %.1f runs)\n",
                comparisons, max, first, 100 * level, 100.0 * false_alarms / comparisons,
                (double)runs_aa / comparisons, 100.0 * found / comparisons,
                (double)runs_reg / comparisons);
        CHECK(false_alarms <= comparisons / 20);
        CHECK(found >= comparisons * 95 / 100);
}

/* The minimum detectable change against a simulation of our own (another
 * random stream): at the change it returns, the rule finds a regression in
 * about 80% of comparisons; at 70% of it, clearly less often. More runs see
 * less; more noise needs more; no noise leaves the threshold. */
static void check_min_detectable(void)
{
        double level = 0.975, th = 0.01;
        double d5 = stats_min_detectable(0.05, 5, th, level, 0.8);
        double d12 = stats_min_detectable(0.05, 12, th, level, 0.8);
        double d5q = stats_min_detectable(0.10, 5, th, level, 0.8);
        fprintf(stderr,
                "min detectable, CV 5%%: 5 runs %.2f%%, 12 runs %.2f%%; CV 10%%, 5 runs "
                "%.2f%%; CV 0, 5 runs %.2f%%\n",
                100 * d5, 100 * d12, 100 * d5q, 100 * stats_min_detectable(0, 5, th, level, 0.8));
        CHECK(d5 > th && d12 > th && d12 < d5 && d5q > d5);
        CHECK(stats_min_detectable(0, 5, th, level, 0.8) <= th + 0.001);
        CHECK(stats_min_detectable(0.05, 1, th, level, 0.8) == -1); /* no interval of 1 run */
        for (int scale = 0; scale < 2; scale++) {
                double d = scale ? d5 * 0.7 : d5;
                unsigned hits = 0, sims = 2000;
                for (unsigned s = 0; s < sims; s++) {
                        double a[5], b[5];
                        for (int i = 0; i < 5; i++) {
                                a[i] = normal(100, 5);
                                b[i] = normal(100 * (1 - d), 5 * (1 - d));
                        }
                        struct judgement j;
                        stats_judge_at(a, 5, b, 5, true, th, 2, level, &j);
                        hits += j.verdict == VERDICT_REGRESSION;
                }
                fprintf(stderr, "  a %.2f%% change found in %.1f%%\n", 100 * d,
                        100.0 * hits / sims);
                if (scale)
                        CHECK(hits < sims * 70 / 100);
                else
                        CHECK(hits >= sims * 75 / 100 && hits <= sims * 86 / 100);
        }
}

int main(void)
{
        simulate_decision_rule();
        simulate_runs_auto();
        check_min_detectable();

        /* 3 against 3 cannot reach 95%: the whole range of the 9 differences is
         * the interval, and it covers 1 - 2/C(6,3) = 90%, which is what it says */
        double a33[] = {1.0, 1.1, 1.2}, b33[] = {2.0, 2.1, 2.2};
        struct shift s3;
        CHECK_EQ_INT(stats_shift(a33, 3, b33, 3, 0.95, &s3), 0);
        CHECK_NEAR(s3.confidence, 0.9, 1e-12);
        CHECK_NEAR(s3.lo, 0.8, 1e-12);
        CHECK_NEAR(s3.hi, 1.2, 1e-12);
        /* the median's interval from order statistics: 6 values reach 1 - 2/64 =
         * 96.9% with the whole range; 10 values: [x(2), x(9)], 1 - 2*11/1024 = 97.9%;
         * 5 values cannot reach 95% (the range, 93.75%) */
        double m6[] = {6, 1, 5, 2, 4, 3}, m10[] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, lo, hi;
        CHECK_NEAR(stats_median_interval(m6, 6, &lo, &hi), 1 - 2.0 / 64, 1e-12);
        CHECK(lo == 1 && hi == 6);
        CHECK_NEAR(stats_median_interval(m10, 10, &lo, &hi), 1 - 22.0 / 1024, 1e-12);
        CHECK(lo == 2 && hi == 9);
        CHECK_NEAR(stats_median_interval(m6, 5, &lo, &hi), 1 - 2.0 / 32, 1e-12);
        CHECK(stats_min(m10, 10) == 1 && stats_max(m10, 10) == 10);
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
        /* a 5% threshold: the change (4%) is real, under the threshold, but its
         * interval reaches past it: unknown (noisy), never "same", which needs
         * the whole interval inside +-threshold; --runs auto would go on */
        stats_judge(a1, 5, b1, 5, true, 0.05, 3, &j);
        CHECK(j.rel_hi < 0 && -j.rel_lo > 0.05);
        CHECK_EQ_INT(j.verdict, VERDICT_NOISY);
        CHECK(!j.decisive);
        /* a 10% threshold holds the whole interval: same */
        stats_judge(a1, 5, b1, 5, true, 0.10, 3, &j);
        CHECK_EQ_INT(j.verdict, VERDICT_SAME);

        /* a share (not_recovered): Newcombe's own example (Stat Med 1998, method
         * 10), 56/70 against 48/80: 0.2000 [0.0524, 0.3339] */
        {
                double sa[80], sb[70];
                for (int i = 0; i < 80; i++)
                        sa[i] = i < 48;
                for (int i = 0; i < 70; i++)
                        sb[i] = i < 56;
                stats_judge_share(sa, 80, sb, 70, false, 0.10, 3, 0.95, &j);
                CHECK_NEAR(j.rel_change, 0.2, 1e-12);
                CHECK_NEAR(j.rel_lo, 0.0524, 5e-5);
                CHECK_NEAR(j.rel_hi, 0.3339, 5e-5);
                CHECK_NEAR(j.base_median, 0.6, 1e-12);
                CHECK_EQ_INT(j.verdict, VERDICT_REGRESSION); /* more runs that did not recover */
                /* 0 of 20 against 13 of 20 at the 97.5% a two-test family asks */
                double none[20] = {0}, many[20];
                for (int i = 0; i < 20; i++)
                        many[i] = i < 13;
                stats_judge_share(none, 20, many, 20, false, 0.10, 3, 0.975, &j);
                CHECK(j.rel_lo > 0.33 && j.rel_lo < 0.34 && j.verdict == VERDICT_REGRESSION);
                stats_judge_share(many, 20, none, 20, false, 0.10, 3, 0.975, &j);
                CHECK_EQ_INT(j.verdict, VERDICT_IMPROVEMENT);
                /* 3 of 20 against 5 of 20: unknown, never same */
                double three[20] = {0}, five[20] = {0};
                for (int i = 0; i < 5; i++)
                        five[i] = 1, three[i] = i < 3;
                stats_judge_share(three, 20, five, 20, false, 0.10, 3, 0.95, &j);
                CHECK_EQ_INT(j.verdict, VERDICT_NOISY);
                /* none of 200 against none of 200: same within 10 points */
                double z200[200] = {0};
                stats_judge_share(z200, 200, z200, 200, false, 0.10, 3, 0.95, &j);
                CHECK_EQ_INT(j.verdict, VERDICT_SAME);
                CHECK(j.rel_hi > 0 && j.rel_hi < 0.02);
        }

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
