/* load.c - the table of load tools, and what their interval series tell
 * alike. */
#include "load.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "../stats/stats.h"

#include <math.h>

extern const struct load_ops iperf3_load_ops, mptcpload_load_ops;

const struct load_ops *load_find(enum topo_tool tool)
{
        static const struct load_ops *const all[] = {&iperf3_load_ops, &mptcpload_load_ops};
        for (unsigned i = 0; i < ELEMENTSOF(all); i++)
                if (all[i]->tool == tool)
                        return all[i];
        return NULL;
}

struct json_object *load_intervals(const char *out, double warmup_s,
                                   void (*point)(struct json_object *x, double warmup_s, double *t,
                                                 double *bps, struct json_object **subflows))
{
        _cleanup_json_ struct json_object *o = out ? json_tokener_parse(out) : NULL;
        struct json_object *series = json_object_new_array(), *iv = jarr(o, "intervals");
        for (size_t i = 0; i < jlen(iv) && i < 100000; i++) {
                double t = -1, bps = -1;
                struct json_object *sub = NULL;
                point(json_object_array_get_idx(iv, i), warmup_s, &t, &bps, &sub);
                if (!isfinite(t) || !isfinite(bps) || t < 0 || bps < 0)
                        continue;
                struct json_object *s = json_object_new_object();
                json_object_object_add(s, "t", json_object_new_double(t));
                json_object_object_add(s, "bps", json_object_new_double(bps));
                if (sub)
                        json_object_object_add(s, "subflows", json_object_get(sub));
                json_object_array_add(series, s);
        }
        return series;
}

/* When a workload's rate settled, in seconds from its start: the end of the
 * last warm-up interval whose rate is more than 10% (plus slack_bps, what
 * the tool's whole-block counting can add to one interval) off the median of
 * the measured ones (0: every warm-up interval was within). Returns warmup_s
 * when the last warm-up interval is off (not settled within the warm-up), -1
 * when the intervals cannot say (none measured, or none in the warm-up). */
double tool_settled_at(struct json_object *intervals, double warmup_s, double slack_bps)
{
        size_t n = intervals ? json_object_array_length(intervals) : 0, nm = 0;
        _cleanup_free_ double *m = xcalloc(n + 1, sizeof *m);
        bool any_warm = false;
        for (size_t i = 0; i < n; i++) {
                struct json_object *x = json_object_array_get_idx(intervals, i);
                double t = jpath_double(x, -1, "t", NULL), bps = jpath_double(x, -1, "bps", NULL);
                if (t > warmup_s + 1e-6)
                        m[nm++] = bps;
                else
                        any_warm = true;
        }
        if (!nm || !any_warm)
                return -1;
        /* an interval off by more than the tolerance is not settled, unless a
         * neighbour is off the other way too and the two average within it: a
         * write that blocked across an interval's edge puts a dip and a spike
         * side by side (seen under TCG: 12.5 then 27.2 Mbit/s at 20), which is
         * no change of rate */
        double med = stats_median(m, nm), settled = 0, tol = 0.10 * med + slack_bps;
        for (size_t i = 0; i < n; i++) {
                struct json_object *x = json_object_array_get_idx(intervals, i);
                double t = jpath_double(x, -1, "t", NULL),
                       d = jpath_double(x, -1, "bps", NULL) - med;
                if (t > warmup_s + 1e-6 || fabs(d) <= tol)
                        continue;
                bool compensated = false;
                for (size_t j = i ? i - 1 : i + 1; j <= i + 1 && j < n; j += 2) {
                        double e = jpath_double(json_object_array_get_idx(intervals, j), -1, "bps",
                                                NULL) -
                                   med;
                        compensated |= (d > 0 ? e < -tol : e > tol) && fabs((d + e) / 2) <= tol;
                }
                /* one interval off between two on the rate (the next may be
                 * the window's first) is a blip of TCG's timers and iperf3's
                 * 128 KiB writes, not the rate settling:
                 * counted, it made a longer warm-up find a later "settling"
                 * (more intervals to blip in), and warm-ups only grow */
                bool blip = false;
                if (!compensated && i > 0 && i + 1 < n) {
                        struct json_object *p = json_object_array_get_idx(intervals, i - 1),
                                           *q = json_object_array_get_idx(intervals, i + 1);
                        blip = fabs(jpath_double(p, -1, "bps", NULL) - med) <= tol &&
                               fabs(jpath_double(q, -1, "bps", NULL) - med) <= tol;
                }
                if (!compensated && !blip)
                        settled = t;
        }
        return settled;
}
