#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *x, const void *y)
{
        double a = *(const double *)x, b = *(const double *)y;
        return a < b ? -1 : a > b;
}

static double *sorted_copy(const double *v, size_t n)
{
        double *c = malloc((n ? n : 1) * sizeof *c);
        if (!c)
                abort();
        memcpy(c, v, n * sizeof *c);
        qsort(c, n, sizeof *c, cmp_double);
        return c;
}

double stats_median(const double *v, size_t n)
{
        if (!n)
                return NAN;
        double *c = sorted_copy(v, n);
        double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
        free(c);
        return m;
}

double stats_mean(const double *v, size_t n)
{
        double s = 0;
        for (size_t i = 0; i < n; i++)
                s += v[i];
        return n ? s / (double)n : NAN;
}

double stats_stddev(const double *v, size_t n)
{
        if (n < 2)
                return 0;
        double m = stats_mean(v, n), s = 0;
        for (size_t i = 0; i < n; i++)
                s += (v[i] - m) * (v[i] - m);
        return sqrt(s / (double)(n - 1));
}

double stats_cv(const double *v, size_t n)
{
        double m = stats_mean(v, n);
        return n < 2 || m == 0 ? 0 : stats_stddev(v, n) / fabs(m);
}

double stats_mann_whitney_u(const double *a, size_t n, const double *b, size_t m)
{
        double u = 0;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < m; j++)
                        u += b[j] > a[i] ? 1 : b[j] == a[i] ? 0.5 : 0;
        return u;
}

/* Both samples in one sorted array (caller frees). */
static double *pooled_sorted(const double *a, size_t n, const double *b, size_t m)
{
        double *all = malloc((n + m) * sizeof *all);
        if (!all)
                abort();
        memcpy(all, a, n * sizeof *a);
        memcpy(all + n, b, m * sizeof *b);
        qsort(all, n + m, sizeof *all, cmp_double);
        return all;
}

static bool has_ties(const double *a, size_t n, const double *b, size_t m)
{
        double *all = pooled_sorted(a, n, b, m);
        bool ties = false;
        for (size_t i = 1; i < n + m; i++)
                ties |= all[i] == all[i - 1];
        free(all);
        return ties;
}

static double *exact_cdf_table(size_t n, size_t m);

/* P(U <= k) under H0 for sample sizes n, m (n, m <= 20): from a table made
 * once per (n, m) and kept (a confidence interval asks for it once per k, and
 * a series' smallest detectable change simulates thousands of them: without
 * the table, one series of 10 runs spent minutes there) */
static double exact_cdf(size_t n, size_t m, size_t k)
{
        static double *tables[21][21];
        if (n > 20 || m > 20)
                abort();
        if (!tables[n][m])
                tables[n][m] = exact_cdf_table(n, m);
        return tables[n][m][k < n * m ? k : n * m];
}

/* The table of P(U <= k), k = 0..nm: the number of arrangements with U = u
 * over C(n+m, n), by the recurrence f(n, m, u) = f(n-1, m, u-m) + f(n, m-1, u). */
static double *exact_cdf_table(size_t n, size_t m)
{
        size_t umax = n * m;
        /* f[i][j][u] rolled over i: f[j][u] for the current i */
        double *prev = calloc((m + 1) * (umax + 1), sizeof(double));
        double *cur = calloc((m + 1) * (umax + 1), sizeof(double));
        if (!prev || !cur)
                abort();
#define F(t, j, u) (t)[(j) * (umax + 1) + (u)]
        for (size_t j = 0; j <= m; j++)
                F(prev, j, 0) = 1; /* i = 0: one arrangement, U = 0 */
        for (size_t i = 1; i <= n; i++) {
                memset(cur, 0, (m + 1) * (umax + 1) * sizeof(double));
                F(cur, 0, 0) = 1;
                for (size_t j = 1; j <= m; j++)
                        for (size_t u = 0; u <= i * j; u++)
                                F(cur, j, u) = (u >= j ? F(prev, j, u - j) : 0) + F(cur, j - 1, u);
                double *t = prev;
                prev = cur;
                cur = t;
        }
        double total = 0, below = 0;
        for (size_t u = 0; u <= umax; u++)
                total += F(prev, m, u);
        double *cdf = malloc((umax + 1) * sizeof *cdf);
        if (!cdf)
                abort();
        for (size_t u = 0; u <= umax; u++) {
                below += F(prev, m, u);
                cdf[u] = below / total;
        }
#undef F
        free(prev);
        free(cur);
        return cdf;
}

static double normal_cdf(double z)
{
        return 0.5 * erfc(-z / sqrt(2));
}

/* Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9
 * after one Halley step). */
static double normal_quantile(double p)
{
        static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                   -2.759285104469687e+02, 1.383577518672690e+02,
                                   -3.066479806614716e+01, 2.506628277459239e+00};
        static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                   -1.556989798598866e+02, 6.680131188771972e+01,
                                   -1.328068155288572e+01};
        static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                   -2.400758277161838e+00, -2.549732539343734e+00,
                                   4.374664141464968e+00,  2.938163982698783e+00};
        static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                   2.445134137142996e+00, 3.754408661907416e+00};
        double q, r, x;
        if (p <= 0)
                return -INFINITY;
        if (p >= 1)
                return INFINITY;
        if (p < 0.02425) {
                q = sqrt(-2 * log(p));
                x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        } else if (p > 1 - 0.02425) {
                q = sqrt(-2 * log(1 - p));
                x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
                    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        } else {
                q = p - 0.5;
                r = q * q;
                x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
                    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        double e = normal_cdf(x) - p, u = e * sqrt(2 * M_PI) * exp(x * x / 2);
        return x - u / (1 + x * u / 2);
}

static bool use_exact(const double *a, size_t n, const double *b, size_t m)
{
        return n <= 20 && m <= 20 && !has_ties(a, n, b, m);
}

double stats_mann_whitney_p(const double *a, size_t n, const double *b, size_t m)
{
        if (!n || !m)
                return 1;
        double u = stats_mann_whitney_u(a, n, b, m), mu = (double)(n * m) / 2;
        if (use_exact(a, n, b, m)) {
                /* symmetric distribution: two-sided p = 2 P(U <= min(u, nm - u)) */
                double lo = fmin(u, (double)(n * m) - u);
                double p = 2 * exact_cdf(n, m, (size_t)lo);
                return p > 1 ? 1 : p;
        }
        /* normal approximation with tie correction and continuity correction */
        double *all = pooled_sorted(a, n, b, m);
        double tie = 0, N = (double)(n + m);
        for (size_t i = 0; i < n + m;) {
                size_t j = i;
                while (j < n + m && all[j] == all[i])
                        j++;
                double t = (double)(j - i);
                tie += t * t * t - t;
                i = j;
        }
        free(all);
        double var = (double)(n * m) / 12 * ((N + 1) - tie / (N * (N - 1)));
        if (var <= 0)
                return 1;
        double z = (fabs(u - mu) - 0.5) / sqrt(var);
        if (z < 0)
                z = 0;
        return 2 * (1 - normal_cdf(z));
}

double stats_max_confidence(size_t n, size_t m)
{
        if (n < 2 || m < 2)
                return 0;
        if (n > 20 || m > 20)
                return 1;
        return 1 - 2 * exact_cdf(n, m, 0);
}

size_t stats_runs_for_level(double level)
{
        for (size_t n = 2; n <= 20; n++)
                if (stats_max_confidence(n, n) >= level)
                        return n;
        return 21;
}

int stats_shift(const double *a, size_t n, const double *b, size_t m, double level,
                struct shift *ret)
{
        if (n < 2 || m < 2)
                return -EINVAL;
        size_t nm = n * m;
        double *d = malloc(nm * sizeof *d);
        if (!d)
                abort();
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < m; j++)
                        d[i * m + j] = b[j] - a[i];
        qsort(d, nm, sizeof *d, cmp_double);
        ret->estimate = nm % 2 ? d[nm / 2] : (d[nm / 2 - 1] + d[nm / 2]) / 2;
        double alpha = 1 - level;
        /* k: the largest count with P(U <= k - 1) <= alpha / 2; the interval is
         * [d(k), d(nm - k + 1)] in 1-based order statistics */
        size_t k = 0;
        if (use_exact(a, n, b, m)) {
                while (k < nm / 2 && exact_cdf(n, m, k) <= alpha / 2)
                        k++;
                ret->confidence = k ? 1 - 2 * exact_cdf(n, m, k - 1) : 0;
        } else {
                double z = normal_quantile(1 - alpha / 2);
                double c = (double)nm / 2 - z * sqrt((double)nm * (double)(n + m + 1) / 12);
                k = c < 1 ? 0 : (size_t)floor(c + 0.5);
                ret->confidence = level;
        }
        if (k == 0) {
                /* the samples are too small for this level: the whole range, whose
                 * true coverage is 1 - 2 P(U = 0) (3 against 3: 90%, not 100%) */
                ret->lo = d[0];
                ret->hi = d[nm - 1];
                if (use_exact(a, n, b, m))
                        ret->confidence = 1 - 2 * exact_cdf(n, m, 0);
                else if (ret->confidence == 0)
                        ret->confidence = level;
        } else {
                ret->lo = d[k - 1];
                ret->hi = d[nm - k];
        }
        ret->p = stats_mann_whitney_p(a, n, b, m);
        free(d);
        return 0;
}

const char *verdict_name(enum verdict v)
{
        static const char *const names[] = {"same", "regression", "improvement", "noisy",
                                            "insufficient"};
        return names[v];
}

void stats_judge(const double *base, size_t n, const double *cand, size_t m, bool higher_is_better,
                 double threshold, size_t min_samples, struct judgement *ret)
{
        stats_judge_at(base, n, cand, m, higher_is_better, threshold, min_samples, 0.95, ret);
}

/* The verdict from the interval of the change (relative, or in points for a
 * share), in the metric's direction, against the threshold */
static void decide(struct judgement *ret, bool higher_is_better, double threshold)
{
        /* "worse" in the metric's own direction */
        double worse_lo = higher_is_better ? -ret->rel_hi : ret->rel_lo;
        double worse_hi = higher_is_better ? -ret->rel_lo : ret->rel_hi;
        double worse = higher_is_better ? -ret->rel_change : ret->rel_change;
        /* decisive: the interval says enough to stop measuring (--runs auto) */
        ret->decisive = (worse_lo > 0 && worse >= threshold) ||
                        (worse_hi < 0 && -worse >= threshold) ||
                        (worse_hi <= threshold && worse_lo >= -threshold);
        if (worse_lo > 0 && worse >= threshold)
                ret->verdict = VERDICT_REGRESSION;
        else if (worse_hi < 0 && -worse >= threshold)
                ret->verdict = VERDICT_IMPROVEMENT;
        else if (worse_hi <= threshold && worse_lo >= -threshold)
                ret->verdict = VERDICT_SAME;
        else
                /* unknown: neither different nor shown to be within the
                 * threshold, also when the interval clears zero but the
                 * estimate is under the threshold and the interval reaches
                 * past it (a real change of a size the runs cannot tell) */
                ret->verdict = VERDICT_NOISY;
}

void stats_judge_at(const double *base, size_t n, const double *cand, size_t m,
                    bool higher_is_better, double threshold, size_t min_samples, double level,
                    struct judgement *ret)
{
        memset(ret, 0, sizeof *ret);
        ret->base_median = stats_median(base, n);
        ret->cand_median = stats_median(cand, m);
        ret->base_cv = stats_cv(base, n);
        ret->cand_cv = stats_cv(cand, m);
        if (n < min_samples || m < min_samples || n < 2 || m < 2 || ret->base_median == 0) {
                ret->verdict = VERDICT_INSUFFICIENT;
                return;
        }
        stats_shift(base, n, cand, m, level, &ret->shift);
        double scale = fabs(ret->base_median);
        ret->rel_change = ret->shift.estimate / scale;
        ret->rel_lo = ret->shift.lo / scale;
        ret->rel_hi = ret->shift.hi / scale;
        decide(ret, higher_is_better, threshold);
}

/* Wilson's score interval of k successes in n at normal quantile z */
static void wilson(size_t k, size_t n, double z, double *lo, double *hi)
{
        double p = (double)k / (double)n, z2n = z * z / (double)n;
        double mid = (p + z2n / 2) / (1 + z2n),
               half = z * sqrt(p * (1 - p) / (double)n + z2n / (4 * (double)n)) / (1 + z2n);
        *lo = fmax(0, mid - half);
        *hi = fmin(1, mid + half);
}

void stats_judge_share(const double *base, size_t n, const double *cand, size_t m,
                       bool higher_is_better, double threshold, size_t min_samples, double level,
                       struct judgement *ret)
{
        memset(ret, 0, sizeof *ret);
        size_t ka = 0, kb = 0;
        for (size_t i = 0; i < n; i++)
                ka += base[i] >= 0.5;
        for (size_t i = 0; i < m; i++)
                kb += cand[i] >= 0.5;
        if (n < min_samples || m < min_samples || n < 2 || m < 2) {
                ret->verdict = VERDICT_INSUFFICIENT;
                return;
        }
        double pa = (double)ka / (double)n, pb = (double)kb / (double)m;
        ret->base_median = pa;
        ret->cand_median = pb;
        ret->base_cv = stats_cv(base, n);
        ret->cand_cv = stats_cv(cand, m);
        /* Newcombe's hybrid score interval of pb - pa (his method 10) */
        double z = normal_quantile(1 - (1 - level) / 2), la, ua, lb, ub;
        wilson(ka, n, z, &la, &ua);
        wilson(kb, m, z, &lb, &ub);
        double d = pb - pa;
        ret->shift.estimate = ret->rel_change = d;
        ret->shift.lo = ret->rel_lo = d - sqrt((pb - lb) * (pb - lb) + (ua - pa) * (ua - pa));
        ret->shift.hi = ret->rel_hi = d + sqrt((ub - pb) * (ub - pb) + (pa - la) * (pa - la));
        ret->shift.confidence = level;
        /* two-sided p of the pooled z test, for the record */
        double pp = (double)(ka + kb) / (double)(n + m),
               se = sqrt(pp * (1 - pp) * (1 / (double)n + 1 / (double)m));
        ret->shift.p = se > 0 ? 2 * normal_cdf(-fabs(d) / se) : 1;
        decide(ret, higher_is_better, threshold);
}

/* xorshift64* and Box-Muller: a simulation that gives the same answer every time */
static double sim_uniform(uint64_t *st)
{
        *st ^= *st >> 12;
        *st ^= *st << 25;
        *st ^= *st >> 27;
        return (double)((*st * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

static double sim_normal(uint64_t *st)
{
        double u = sim_uniform(st), v = sim_uniform(st);
        return sqrt(-2 * log(u > 0 ? u : 1e-300)) * cos(2 * M_PI * v);
}

/* the share of `sims` comparisons of n against n (normal, CV cv) with the
 * candidate worse by d that the rule calls a regression */
static double detect_rate(double cv, size_t n, double d, double threshold, double level,
                          unsigned sims)
{
        uint64_t st = 0x9E3779B97F4A7C15ULL; /* common random numbers for every d */
        double a[STATS_MDC_MAX_N], b[STATS_MDC_MAX_N];
        unsigned hits = 0;
        for (unsigned s = 0; s < sims; s++) {
                for (size_t i = 0; i < n; i++) {
                        a[i] = 100 * (1 + cv * sim_normal(&st));
                        b[i] = 100 * (1 - d) * (1 + cv * sim_normal(&st));
                }
                struct judgement j;
                stats_judge_at(a, n, b, n, true, threshold, 2, level, &j);
                hits += j.verdict == VERDICT_REGRESSION;
        }
        return (double)hits / sims;
}

double stats_min_detectable(double cv, size_t n, double threshold, double level, double power)
{
        if (n < 2 || n > STATS_MDC_MAX_N || !(cv >= 0) || !isfinite(cv))
                return -1;
        const unsigned sims = 400;
        double lo = 0, hi = 0.9;
        if (detect_rate(cv, n, hi, threshold, level, sims) < power)
                return -1;
        /* detection grows with the change: bisect to 0.05% of the median */
        while (hi - lo > 0.0005) {
                double mid = (lo + hi) / 2;
                if (detect_rate(cv, n, mid, threshold, level, sims) >= power)
                        hi = mid;
                else
                        lo = mid;
        }
        return hi;
}

double stats_min(const double *v, size_t n)
{
        double m = n ? v[0] : NAN;
        for (size_t i = 1; i < n; i++)
                m = v[i] < m ? v[i] : m;
        return m;
}

double stats_max(const double *v, size_t n)
{
        double m = n ? v[0] : NAN;
        for (size_t i = 1; i < n; i++)
                m = v[i] > m ? v[i] : m;
        return m;
}

double stats_median_interval(const double *v, size_t n, double *lo, double *hi)
{
        if (!n) {
                *lo = *hi = NAN;
                return 0;
        }
        double *s = malloc(n * sizeof *s);
        if (!s)
                abort();
        memcpy(s, v, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_double);
        /* the order statistics [x(j), x(n-j+1)] cover the median with chance
         * 1 - 2 P(Bin(n, 1/2) <= j - 1): the largest j that keeps 95% */
        size_t j = 1;
        double cdf = pow(0.5, (double)n), pk = cdf; /* P(Bin <= 0), P(Bin = 0) */
        double conf = 1 - 2 * cdf;
        for (size_t k = 1; k < n / 2; k++) {
                pk = pk * (double)(n - k + 1) / (double)k; /* P(Bin = k) */
                if (1 - 2 * (cdf + pk) < 0.95)
                        break;
                cdf += pk;
                j = k + 1;
                conf = 1 - 2 * cdf;
        }
        *lo = s[j - 1];
        *hi = s[n - j];
        free(s);
        return conf;
}

void stats_quartiles(const double *v, size_t n, double q[5])
{
        if (!n) {
                for (int i = 0; i < 5; i++)
                        q[i] = NAN;
                return;
        }
        double *s = malloc(n * sizeof *s);
        if (!s)
                abort();
        memcpy(s, v, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_double);
        for (int i = 0; i < 5; i++) {
                /* linear between order statistics (Hyndman & Fan type 7, R's default) */
                double h = (double)(n - 1) * i / 4.0;
                size_t lo = (size_t)floor(h);
                size_t hi = lo + 1 < n ? lo + 1 : lo;
                q[i] = s[lo] + (h - (double)lo) * (s[hi] - s[lo]);
        }
        free(s);
}
