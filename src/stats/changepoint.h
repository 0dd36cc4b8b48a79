/* changepoint.h - change points in a metric's history: E-divisive means in
 * the form Apache Otava (formerly Hunter) uses it. Binary segmentation: in a
 * window of the series, the split that maximises the energy statistic of
 * Matteson & James (2014) with alpha = 1 is the candidate; instead of their
 * permutation test (random, slow), Welch's t-test between the two sides
 * decides whether it is significant, so the answer is the same every time.
 * A candidate must also move the mean by at least min_rel (the metric's
 * threshold): noise that is significant but too small to matter is not a
 * change. Accepted splits divide the window and each side is searched again.
 * Long series are searched in overlapping windows (Otava's window_len) so a
 * step far from the middle of a long history still stands out.
 *
 * By default a night far from the nights on both sides of it (cp_outliers)
 * is left out first: one noisy night would otherwise widen Welch's variance
 * of its side until a real step is no longer significant. Welch's test on
 * every night (Otava's t-test, the lab's before) and Mann-Whitney's (Otava's
 * other tester; ranks cannot reach p < 0.001 with few nights a side) are
 * kept to compare (docs/nightly.md). Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct change_point {
        size_t index;       /* the first point after the change */
        size_t before;      /* the last point before it that counted (index - 1 but
                             * for a night left out between them) */
        double p;           /* the test's two-sided p-value between the two sides */
        double mean_before; /* the level of the segment before, up to the previous
                             * change: its mean (its median under Mann-Whitney) */
        double mean_after;  /* the same of the segment after, up to the next change */
        double rel;         /* mean_after / mean_before - 1 */
};

enum cp_test {
        CP_OUTLIERS_OUT, /* outlier nights left out, then Welch's (the default) */
        CP_WELCH,        /* Welch's on every value */
        CP_RANK,         /* Mann-Whitney's, levels are medians */
};

struct cp_options {
        enum cp_test test;
        double max_p;   /* significance: 0.001 by default */
        double min_rel; /* the smallest relative change of the mean that counts */
        size_t min_seg; /* the fewest points on either side of a change: 3 */
        size_t window;  /* points searched at once: 64 */
        /* CP_OUTLIERS_OUT: n flags set to the points left out (cp_outliers),
         * for the caller to say so; NULL: not wanted */
        bool *left_out;
};

/* Finds the change points of x[0..n), in order of index, at most max of
 * them; returns how many. */
size_t cp_detect(const double *x, size_t n, const struct cp_options *o, struct change_point *out,
                 size_t max);
/* Marks out[i] the points of x[0..n) far from both sides: more than k
 * times the noise (the robust spread of successive differences, over
 * sqrt(2)) from the median of the up to 3 points before it and from that of
 * the up to 3 after it, in the same direction, and further from the nearer
 * of the two than they are apart. The farthest is marked first and the rest
 * judged again with the marked ones out of their neighbours; at least 1
 * point on each side, so
 * the first and the last (tonight: a spike or a new level, nobody can tell
 * yet) are never marked. None when the noise is 0 or n < 7.
 * Returns how many. */
size_t cp_outliers(const double *x, size_t n, double k, bool *out);
/* Welch's t-test: the two-sided p-value of a difference of means. */
double cp_welch_p(const double *a, size_t n, const double *b, size_t m);
