/* changepoint.h - change points in a metric's history: E-divisive means in
 * the form Apache Otava (formerly Hunter) uses it. Binary segmentation: in a
 * window of the series, the split that maximises the energy statistic of
 * Matteson & James (2014) with alpha = 1 is the candidate; instead of their
 * permutation test (random, slow), a two-sample test between the two sides
 * decides whether it is significant, so the answer is the same every time.
 * The test is Welch's t-test on each side winsorised at its median +- 3
 * robust standard deviations (1.4826 MAD) by default: one night far from
 * both sides counts as a night at that edge, not as a variance that hides a
 * step, and a step seen by three nights after it is still found. Welch's
 * test on the nights as they are (Otava's t-test, the lab's choice before)
 * and Mann-Whitney's (Otava's MannWhitneySignificanceTester) are kept to
 * compare (docs/nightly.md). A candidate must also move the level (each
 * side's mean, winsorised for the default; the medians under Mann-Whitney)
 * by at least min_rel (the metric's threshold): noise that is significant but
 * too small to matter is not a change. Accepted splits divide the window and
 * each side is searched again. Long series are searched in overlapping
 * windows (Otava's window_len) so a step far from the middle of a long
 * history still stands out. Pure. */
#pragma once
#include <stddef.h>

struct change_point {
        size_t index;       /* the first point after the change */
        double p;           /* the test's two-sided p-value between the two sides */
        double mean_before; /* the level of the segment before, up to the previous
                             * change: its (winsorised) mean, or median */
        double mean_after;  /* the same of the segment after, up to the next change */
        double rel;         /* mean_after / mean_before - 1 */
};

enum cp_test {
        CP_WINSORISED, /* Welch's on each side winsorised (the default) */
        CP_WELCH,      /* Welch's on the values as they are */
        CP_RANK,       /* Mann-Whitney's, levels are medians */
};

struct cp_options {
        enum cp_test test;
        double max_p;   /* significance: 0.001 by default */
        double min_rel; /* the smallest relative change of the mean that counts */
        size_t min_seg; /* the fewest points on either side of a change: 3 */
        size_t window;  /* points searched at once: 64 */
};

/* Finds the change points of x[0..n), in order of index, at most max of
 * them; returns how many. */
size_t cp_detect(const double *x, size_t n, const struct cp_options *o, struct change_point *out,
                 size_t max);
/* Each of v[0..n) clamped to its median +- k * 1.4826 MAD into out (as it
 * is when the MAD is 0: nothing to scale by). */
void cp_winsorise(const double *v, size_t n, double k, double *out);
/* Welch's t-test: the two-sided p-value of a difference of means. */
double cp_welch_p(const double *a, size_t n, const double *b, size_t m);
