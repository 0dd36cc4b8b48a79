/* changepoint.h - change points in a metric's history: E-divisive means in
 * the form Apache Otava (formerly Hunter) uses it. Binary segmentation: in a
 * window of the series, the split that maximises the energy statistic of
 * Matteson & James (2014) with alpha = 1 is the candidate; instead of their
 * permutation test (random, slow), a Welch t-test between the two sides
 * decides whether it is significant, so the answer is the same every time.
 * A candidate must also move the mean by at least min_rel (the metric's
 * threshold): noise that is significant but too small to matter is not a
 * change. Accepted splits divide the window and each side is searched again.
 * Long series are searched in overlapping windows (Otava's window_len) so a
 * step far from the middle of a long history still stands out. Pure. */
#pragma once
#include <stddef.h>

struct change_point {
        size_t index;       /* the first point after the change */
        double p;           /* Welch's two-sided p-value between the two sides */
        double mean_before; /* of the segment before, up to the previous change */
        double mean_after;  /* of the segment after, up to the next change */
        double rel;         /* mean_after / mean_before - 1 */
};

struct cp_options {
        double max_p;   /* significance: 0.001 by default */
        double min_rel; /* the smallest relative change of the mean that counts */
        size_t min_seg; /* the fewest points on either side of a change: 3 */
        size_t window;  /* points searched at once: 64 */
};

/* Finds the change points of x[0..n), in order of index, at most max of
 * them; returns how many. */
size_t cp_detect(const double *x, size_t n, const struct cp_options *o, struct change_point *out,
                 size_t max);
/* Welch's t-test: the two-sided p-value of a difference of means. */
double cp_welch_p(const double *a, size_t n, const double *b, size_t m);
