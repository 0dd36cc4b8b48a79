#include "changepoint.h"
#include "stats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The regularized incomplete beta function I_x(a, b) by its continued
 * fraction (Lentz's method), for the t distribution's tail. */
static double betacf(double a, double b, double x)
{
        const double tiny = 1e-300;
        double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
        if (fabs(d) < tiny)
                d = tiny;
        d = 1 / d;
        double h = d;
        for (int m = 1; m <= 300; m++) {
                int m2 = 2 * m;
                double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
                d = 1 + aa * d;
                if (fabs(d) < tiny)
                        d = tiny;
                c = 1 + aa / c;
                if (fabs(c) < tiny)
                        c = tiny;
                d = 1 / d;
                h *= d * c;
                aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
                d = 1 + aa * d;
                if (fabs(d) < tiny)
                        d = tiny;
                c = 1 + aa / c;
                if (fabs(c) < tiny)
                        c = tiny;
                d = 1 / d;
                double del = d * c;
                h *= del;
                if (fabs(del - 1) < 1e-15)
                        break;
        }
        return h;
}

static double ibeta(double a, double b, double x)
{
        if (x <= 0)
                return 0;
        if (x >= 1)
                return 1;
        double bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x));
        return x < (a + 1) / (a + b + 2) ? bt * betacf(a, b, x) / a
                                         : 1 - bt * betacf(b, a, 1 - x) / b;
}

double cp_welch_p(const double *a, size_t n, const double *b, size_t m)
{
        if (n < 2 || m < 2)
                return 1;
        double ma = stats_mean(a, n), mb = stats_mean(b, m);
        double va = pow(stats_stddev(a, n), 2) / (double)n,
               vb = pow(stats_stddev(b, m), 2) / (double)m;
        if (va + vb <= 0)
                return ma == mb ? 1 : 0; /* no noise at all: any difference is certain */
        double t = (mb - ma) / sqrt(va + vb);
        double df = (va + vb) * (va + vb) / (va * va / (double)(n - 1) + vb * vb / (double)(m - 1));
        /* two-sided: P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2) */
        return ibeta(df / 2, 0.5, df / (df + t * t));
}

/* The chosen test's p-value between a[0..n) and b[0..m), and their levels */
static double side_test(const struct cp_options *o, const double *a, size_t n, const double *b,
                        size_t m, double *la, double *lb)
{
        if (o->test == CP_RANK) {
                *la = stats_median(a, n);
                *lb = stats_median(b, m);
                return stats_mann_whitney_p(a, n, b, m);
        }
        *la = stats_mean(a, n);
        *lb = stats_mean(b, m);
        return cp_welch_p(a, n, b, m);
}

size_t cp_outliers(const double *x, size_t n, double k, bool *out)
{
        for (size_t i = 0; i < n; i++)
                out[i] = false;
        if (n < 7)
                return 0;
        /* the night-to-night noise: the spread of successive differences
         * (a step is one large difference among many), over sqrt(2) */
        double *d = calloc(n, sizeof *d);
        if (!d)
                abort();
        for (size_t i = 0; i + 1 < n; i++)
                d[i] = x[i + 1] - x[i];
        double md = stats_median(d, n - 1);
        for (size_t i = 0; i + 1 < n; i++)
                d[i] = fabs(d[i] - md);
        double sigma = 1.4826 * stats_median(d, n - 1) / sqrt(2);
        free(d);
        if (!(sigma > 0))
                return 0; /* nothing to scale by */
        /* the farthest night first, then the rest judged again without it:
         * a far night must not make its neighbour look far (one night 6%
         * high among five: the median of two nights before the next one is
         * half the outlier, and that night was left out too, leaving three
         * nights a side and no step; CI, stop 32) */
        size_t got = 0;
        for (;;) {
                size_t worst = 0;
                double worst_by = 0;
                for (size_t i = 1; i + 1 < n; i++) {
                        if (out[i])
                                continue;
                        double b[3], a[3];
                        size_t nb = 0, na = 0;
                        for (size_t j = i; j-- > 0 && nb < 3;)
                                if (!out[j])
                                        b[nb++] = x[j];
                        for (size_t j = i + 1; j < n && na < 3; j++)
                                if (!out[j])
                                        a[na++] = x[j];
                        if (!nb || !na)
                                continue;
                        double before = stats_median(b, nb), after = stats_median(a, na);
                        double db = x[i] - before, da = x[i] - after;
                        /* far from both, on the same side of both, and further
                         * from the nearer than the two sides are apart: not a
                         * night of a new level (close to those after it), nor
                         * one between two (a step that took a night), nor the
                         * first of a step down a little below the nights
                         * after it */
                        double near = fmin(fabs(db), fabs(da));
                        if (near > k * sigma && near > fabs(before - after) &&
                            (db > 0) == (da > 0) && near > worst_by) {
                                worst = i;
                                worst_by = near;
                        }
                }
                if (!worst)
                        break;
                out[worst] = true;
                got++;
        }
        return got;
}

/* The energy statistic of a split of x[lo..hi) at tau (Matteson & James,
 * alpha = 1): how much more the two sides differ from each other than
 * within themselves, scaled by mk / (m + k). */
static double energy(const double *x, size_t lo, size_t tau, size_t hi)
{
        size_t m = tau - lo, k = hi - tau;
        double between = 0, within_a = 0, within_b = 0;
        for (size_t i = lo; i < tau; i++)
                for (size_t j = tau; j < hi; j++)
                        between += fabs(x[i] - x[j]);
        for (size_t i = lo; i < tau; i++)
                for (size_t j = i + 1; j < tau; j++)
                        within_a += fabs(x[i] - x[j]);
        for (size_t i = tau; i < hi; i++)
                for (size_t j = i + 1; j < hi; j++)
                        within_b += fabs(x[i] - x[j]);
        double e = 2 * between / (double)(m * k) -
                   (m > 1 ? within_a / ((double)m * (m - 1) / 2) : 0) -
                   (k > 1 ? within_b / ((double)k * (k - 1) / 2) : 0);
        return e * (double)m * (double)k / (double)(m + k);
}

struct found {
        bool *at; /* at[i]: a change point before x[i] */
        size_t n;
};

static void segment(const double *x, size_t lo, size_t hi, const struct cp_options *o,
                    struct found *f)
{
        if (hi - lo < 2 * o->min_seg)
                return;
        size_t best = 0;
        double best_q = -INFINITY;
        for (size_t tau = lo + o->min_seg; tau + o->min_seg <= hi; tau++) {
                double q = energy(x, lo, tau, hi);
                if (q > best_q) {
                        best_q = q;
                        best = tau;
                }
        }
        if (!best)
                return;
        double ma, mb;
        double p = side_test(o, x + lo, best - lo, x + best, hi - best, &ma, &mb);
        double rel = ma != 0 ? mb / ma - 1 : 0;
        if (p >= o->max_p || fabs(rel) < o->min_rel)
                return;
        f->at[best] = true;
        segment(x, lo, best, o, f);
        segment(x, best, hi, o, f);
}

static size_t detect(const double *x, size_t n, const struct cp_options *opt,
                     struct change_point *out, size_t max)
{
        struct cp_options o = *opt;
        if (!(o.max_p > 0))
                o.max_p = 0.001;
        if (!o.min_seg)
                o.min_seg = 3;
        if (!o.window)
                o.window = 64;
        if (o.window < 4 * o.min_seg)
                o.window = 4 * o.min_seg;
        if (n < 2 * o.min_seg)
                return 0;
        struct found f = {calloc(n + 1, sizeof(bool)), n};
        if (!f.at)
                abort();
        /* windows that overlap by half, so every step lies well inside one */
        size_t step = o.window / 2;
        for (size_t lo = 0;; lo += step) {
                size_t hi = lo + o.window < n ? lo + o.window : n;
                segment(x, lo, hi, &o, &f);
                if (hi == n)
                        break;
        }
        /* points found in two windows a little apart are one change: keep the
         * stronger of any two closer than min_seg, then measure each against its
         * neighbours and drop what no longer holds */
        size_t k = 0;
        size_t *idx = calloc(n + 1, sizeof *idx);
        if (!idx)
                abort();
        for (size_t i = 1; i < n; i++)
                if (f.at[i])
                        idx[k++] = i;
        bool changed = true;
        while (changed) {
                changed = false;
                for (size_t c = 0; c < k; c++) {
                        size_t lo = c ? idx[c - 1] : 0, hi = c + 1 < k ? idx[c + 1] : n;
                        size_t at = idx[c];
                        double ma, mb;
                        double p = side_test(&o, x + lo, at - lo, x + at, hi - at, &ma, &mb);
                        double rel = ma != 0 ? mb / ma - 1 : 0;
                        if (at - lo < o.min_seg || hi - at < o.min_seg || p >= o.max_p ||
                            fabs(rel) < o.min_rel) {
                                memmove(idx + c, idx + c + 1, (k - c - 1) * sizeof *idx);
                                k--;
                                changed = true;
                                break;
                        }
                }
        }
        size_t got = 0;
        for (size_t c = 0; c < k && got < max; c++) {
                size_t lo = c ? idx[c - 1] : 0, hi = c + 1 < k ? idx[c + 1] : n, at = idx[c];
                double ma, mb;
                double p = side_test(&o, x + lo, at - lo, x + at, hi - at, &ma, &mb);
                out[got++] = (struct change_point){.index = at,
                                                   .p = p,
                                                   .mean_before = ma,
                                                   .mean_after = mb,
                                                   .rel = ma != 0 ? mb / ma - 1 : 0};
        }
        free(idx);
        free(f.at);
        return got;
}

size_t cp_detect(const double *x, size_t n, const struct cp_options *opt, struct change_point *out,
                 size_t max)
{
        if (opt->test != CP_OUTLIERS_OUT) {
                size_t got = detect(x, n, opt, out, max);
                for (size_t c = 0; c < got; c++)
                        out[c].before = out[c].index - 1;
                return got;
        }
        /* the nights far from both sides left out, the rest searched with
         * Welch's test; indexes back onto x */
        bool *skip = calloc(n + 1, sizeof *skip);
        double *y = calloc(n + 1, sizeof *y);
        size_t *map = calloc(n + 1, sizeof *map);
        if (!skip || !y || !map)
                abort();
        cp_outliers(x, n, 5, skip);
        if (opt->left_out)
                memcpy(opt->left_out, skip, n * sizeof *skip);
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (!skip[i]) {
                        map[m] = i;
                        y[m++] = x[i];
                }
        struct cp_options o = *opt;
        o.test = CP_WELCH;
        size_t got = detect(y, m, &o, out, max);
        for (size_t c = 0; c < got; c++) {
                out[c].before = map[out[c].index - 1];
                out[c].index = map[out[c].index];
        }
        free(skip);
        free(y);
        free(map);
        return got;
}
