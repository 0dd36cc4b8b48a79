/* Change-point detection on synthetic series whose answers are known by
 * construction (the step is planted where the test puts it): flat series
 * must stay quiet, steps must be found where they are, within one position,
 * and a slow drift and two steps behave as docs/nightly.md says. The noise is
 * the lab's goodput noise on VMs (CV 0.3%); the minimum relative change is
 * goodput's threshold (1%). The Welch p-value is checked against one computed
 * independently: Python, the t density integrated by Simpson's rule
 * (200000 steps) from Welch's t and degrees of freedom. One night far from
 * both sides (issue 25): the default (such nights left out) still finds a
 * step and makes none, where Welch's on the nights as they are (Otava's)
 * misses it; the rates of all three tests are printed for docs/nightly.md. */
#include "../shared/check.h"
#include "../shared/util.h"
#include "changepoint.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t rng = 0x2545F4914F6CDD1DULL;
static double uniform(void)
{
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return (double)((rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}
static double normal(void)
{
        double u = uniform(), v = uniform();
        return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

static const struct cp_options opt = {.max_p = 0.001, .min_rel = 0.01, .min_seg = 3, .window = 64};

/* One night far from both sides (issue 25): 30 nights of night-to-night
 * noise 0.25%, a 1.5% step down at night 17 (six times the noise, as the
 * held-out history), and one night `size` high at `pos`. Each test's share
 * of series with the step found within one night (and only there), and with
 * a change point where there is none. */
static const char *const test_names[] = {"outlier nights left out", "Welch (Otava's t-test)",
                                         "Mann-Whitney"};

static void rates(enum cp_test test, double step, int pos, double size, unsigned series,
                  unsigned *found, unsigned *spurious)
{
        struct cp_options o = opt;
        o.test = test;
        double x[30];
        struct change_point cp[16];
        *found = *spurious = 0;
        for (unsigned s = 0; s < series; s++) {
                for (unsigned i = 0; i < 30; i++)
                        x[i] = 19.13 * (i >= 17 ? 1 - step : 1) * (1 + 0.0025 * normal());
                if (pos >= 0)
                        x[pos] *= 1 + size;
                size_t k = cp_detect(x, 30, &o, cp, 16);
                bool hit = false, other = false;
                for (size_t j = 0; j < k; j++) {
                        bool near = step > 0 && cp[j].index + 1 >= 17 && cp[j].index <= 18;
                        hit |= near && cp[j].rel < -0.01;
                        other |= !near;
                }
                *found += hit && !other;
                *spurious += other;
        }
}

static void outlier_nights(void)
{
        const unsigned series = 400;
        static const int positions[] = {3, 10, 16, 17, 20, 25, 28};
        static const double sizes[] = {0.02, 0.04, 0.06, -0.04};
        unsigned total[3] = {0}, flat_fp[3] = {0}, clean[3] = {0}, runs = 0, flat_runs = 0;
        for (unsigned t = 0; t < 3; t++) {
                unsigned f, sp;
                rates(t, 0.015, -1, 0, series, &f, &sp);
                clean[t] = f;
                fprintf(stderr, "%-24s no outlier: the 1.5%% step found alone %5.1f%%\n",
                        test_names[t], 100.0 * f / series);
        }
        for (unsigned pi = 0; pi < ELEMENTSOF(positions); pi++)
                for (unsigned si = 0; si < ELEMENTSOF(sizes); si++) {
                        runs += series;
                        flat_runs += series;
                        for (unsigned t = 0; t < 3; t++) {
                                unsigned f, sp, ff, fsp;
                                rates(t, 0.015, positions[pi], sizes[si], series, &f, &sp);
                                rates(t, 0, positions[pi], sizes[si], series, &ff, &fsp);
                                total[t] += f;
                                flat_fp[t] += fsp;
                                fprintf(stderr,
                                        "%-24s night %2d at %+3.0f%%: step found alone %5.1f%%, "
                                        "flat with the night: a change point in %4.1f%%\n",
                                        test_names[t], positions[pi], 100 * sizes[si],
                                        100.0 * f / series, 100.0 * fsp / series);
                        }
                }
        for (unsigned t = 0; t < 3; t++)
                fprintf(stderr,
                        "%-24s over all positions and sizes: step found alone %.1f%%, a change "
                        "point in a flat series with one such night %.2f%%\n",
                        test_names[t], 100.0 * total[t] / runs, 100.0 * flat_fp[t] / flat_runs);
        /* the default finds the step as well as before with an outlier night
         * anywhere, and one night alone makes no change point; Otava's t-test
         * on the same series misses it more often (what the held-out history
         * showed) */
        CHECK(clean[CP_OUTLIERS_OUT] >= series * 95 / 100);
        CHECK(total[CP_OUTLIERS_OUT] >= runs * 95 / 100);
        CHECK(flat_fp[CP_OUTLIERS_OUT] <= flat_runs / 100);
        CHECK(total[CP_WELCH] < total[CP_OUTLIERS_OUT]);
}

int main(void)
{
        /* a = 1..5, b = 3..9: t = 2.77746, df = 9.96610, p = 0.0195945 */
        double a[] = {1, 2, 3, 4, 5}, b[] = {3, 4, 5, 6, 7, 8, 9};
        CHECK_NEAR(cp_welch_p(a, 5, b, 7), 0.0195945, 2e-6);
        /* identical means: p = 1 */
        double c[] = {1, 2, 3}, d[] = {3, 2, 1};
        CHECK_NEAR(cp_welch_p(c, 3, d, 3), 1.0, 1e-12);

        /* outlier nights: a spike is far from both sides; the first night
         * of a new level is not (it is close to those after it); a two-night
         * excursion is, both nights */
        bool fl[11];
        double spike[] = {10, 10.01, 9.99, 10, 10.02, 9.98, 14, 10, 10.01, 9.99, 10};
        CHECK(cp_outliers(spike, 11, 5, fl) == 1 && fl[6]);
        struct cp_options lo = opt;
        bool said[11] = {false};
        lo.left_out = said;
        struct change_point none[4];
        CHECK(cp_detect(spike, 11, &lo, none, 4) == 0 && said[6] && !said[5] && !said[7]);
        double stepped[] = {10, 10.01, 9.99, 10, 10.02, 12, 12.01, 11.99, 12, 12.02};
        CHECK(cp_outliers(stepped, 10, 5, fl) == 0);
        /* the first night of a step down, a little below the nights after it
         * (netns: tbf holds a rate to 0.01%) is that step's, not an outlier */
        double edge[] = {19.1, 19.1, 19.11, 19.1, 19.1, 14.33, 14.40, 14.40, 14.41};
        CHECK(cp_outliers(edge, 9, 5, fl) == 0);
        double two[] = {10, 10.01, 9.99, 10, 10.02, 14, 14, 9.98, 10, 10.01, 9.99};
        CHECK(cp_outliers(two, 11, 5, fl) == 2 && fl[5] && fl[6]);
        /* a far night does not make its neighbour look far: CI's reordered
         * nights (medians of bulk-tcp goodput; night 2 of the low level 6%
         * high). Judged together, night 3 (14.314) was far from the median
         * of nights 1-2 (half the outlier) and left out too, the low level
         * kept three nights and the step was no longer p < 0.001 */
        double ci[] = {14.3185, 15.16115, 14.314,  14.3189, 14.79665, 19.11715,
                       19.0931, 19.1188,  19.1152, 19.0945, 19.11345};
        CHECK(cp_outliers(ci, 11, 5, fl) == 1 && fl[1]);
        struct change_point ci_cp[4];
        CHECK(cp_detect(ci, 11, &opt, ci_cp, 4) == 1 && ci_cp[0].index == 5 && ci_cp[0].rel > 0.2 &&
              ci_cp[0].p < 0.001);
        double same[] = {5, 5, 5, 5, 5, 9, 5, 5, 5}; /* no noise: nothing to scale by */
        CHECK(cp_outliers(same, 9, 5, fl) == 0);

        const unsigned series = 1000, n = 40;
        double x[64];
        struct change_point cp[16];
        /* flat: 0.3% noise around 37.5 */
        unsigned flagged = 0;
        for (unsigned s = 0; s < series; s++) {
                for (unsigned i = 0; i < n; i++)
                        x[i] = 37.5 * (1 + 0.003 * normal());
                flagged += cp_detect(x, n, &opt, cp, 16) > 0;
        }
        fprintf(stderr, "flat, %u series of %u: %u with a change point (%.1f%%)\n", series, n,
                flagged, 100.0 * flagged / series);
        CHECK(flagged <= series / 100);

        /* one 2% step down at a known position (every position from 5 to 35) */
        unsigned found = 0, exact = 0, extra = 0;
        for (unsigned s = 0; s < series; s++) {
                unsigned at = 5 + s % 31;
                for (unsigned i = 0; i < n; i++)
                        x[i] = 37.5 * (i >= at ? 0.98 : 1) * (1 + 0.003 * normal());
                size_t k = cp_detect(x, n, &opt, cp, 16);
                bool hit = false;
                for (size_t j = 0; j < k; j++) {
                        bool near = cp[j].index + 1 >= at && cp[j].index <= at + 1;
                        hit |= near && cp[j].rel < -0.015;
                        exact += cp[j].index == at;
                        extra += !near;
                }
                found += hit;
        }
        fprintf(stderr,
                "2%% step, %u series: found within one position %.1f%% (exactly %.1f%%), "
                "%u other change points\n",
                series, 100.0 * found / series, 100.0 * exact / series, extra);
        CHECK(found >= series * 95 / 100);
        CHECK(extra <= series / 100);

        /* two steps: +3% at 12, -3% at 28; both, each within one position */
        unsigned both = 0;
        for (unsigned s = 0; s < series; s++) {
                for (unsigned i = 0; i < n; i++)
                        x[i] = 37.5 * (i >= 12 && i < 28 ? 1.03 : 1) * (1 + 0.003 * normal());
                size_t k = cp_detect(x, n, &opt, cp, 16);
                bool up = false, down = false;
                for (size_t j = 0; j < k; j++) {
                        up |= cp[j].index >= 11 && cp[j].index <= 13 && cp[j].rel > 0.02;
                        down |= cp[j].index >= 27 && cp[j].index <= 29 && cp[j].rel < -0.02;
                }
                both += up && down && k == 2;
        }
        fprintf(stderr, "two steps, %u series: both found (and nothing else) %.1f%%\n", series,
                100.0 * both / series);
        CHECK(both >= series * 95 / 100);

        /* a long history (200 nights, windows of 64): a step at night 170 is
         * found there, and nothing else */
        {
                double y[200];
                unsigned ok = 0;
                for (unsigned s2 = 0; s2 < 200; s2++) {
                        for (unsigned i = 0; i < 200; i++)
                                y[i] = 19.13 * (i >= 170 ? 0.98 : 1) * (1 + 0.003 * normal());
                        size_t k = cp_detect(y, 200, &opt, cp, 16);
                        ok += k == 1 && cp[0].index >= 169 && cp[0].index <= 171;
                }
                fprintf(stderr, "200 nights, a 2%% step at 170: found alone %.1f%%\n", ok / 2.0);
                CHECK(ok >= 190);
        }

        /* a slow drift: -0.1% a night over 40 nights (-3.9% in all). No single
         * night is a step; what is documented (docs/nightly.md): the drift is
         * reported as one or more change points, each at least the minimum
         * change, none in the first or last 3 nights, and their changes add up
         * to the drift's direction */
        unsigned reported = 0, sane = 0;
        size_t counts[8] = {0};
        for (unsigned s = 0; s < series; s++) {
                for (unsigned i = 0; i < n; i++)
                        x[i] = 37.5 * (1 - 0.001 * i) * (1 + 0.003 * normal());
                size_t k = cp_detect(x, n, &opt, cp, 16);
                reported += k > 0;
                counts[k < 7 ? k : 7]++;
                bool ok = true;
                for (size_t j = 0; j < k; j++)
                        ok &= cp[j].rel < 0 && fabs(cp[j].rel) >= 0.01 && cp[j].index >= 3 &&
                              cp[j].index <= n - 3;
                sane += ok;
        }
        fprintf(stderr,
                "drift of -0.1%%/night, %u series: %.1f%% report it; change points per "
                "series: 0:%zu 1:%zu 2:%zu 3:%zu 4+:%zu\n",
                series, 100.0 * reported / series, counts[0], counts[1], counts[2], counts[3],
                counts[4] + counts[5] + counts[6] + counts[7]);
        CHECK(reported >= series * 95 / 100);
        CHECK(sane == series);

        outlier_nights();
        return CHECK_DONE();
}
