#include "events.h"
#include "../stats/stats.h"
#include "../shared/util.h"

#include <math.h>

/* bytes in [a, b) on the time line, bins pro rata at the edges */
static double bytes_in(const struct ev_timeline *tl, double a, double b)
{
        double sum = 0;
        if (b <= a)
                return 0;
        double ia = (a - tl->t0_s) / tl->width_s, ib = (b - tl->t0_s) / tl->width_s;
        if (ia < 0)
                ia = 0;
        if (ib > tl->n)
                ib = tl->n;
        for (unsigned i = (unsigned)floor(ia); (double)i < ib && i < tl->n; i++) {
                double lo = fmax(ia, i), hi = fmin(ib, i + 1.0);
                if (hi > lo)
                        sum += tl->bytes[i] * (hi - lo);
        }
        return sum;
}

static double rate_bps(const struct ev_timeline *tl, double a, double b)
{
        return b > a ? bytes_in(tl, a, b) * 8 / (b - a) : 0;
}

/* A stall: 100 ms or more under 10% of the level (a second stall, the
 * recovery's second without one, an outage worth waiting out) */
#define STALL_S 0.1

/* Does [a, b) hold STALL_S or more of bins under thr bytes? (a second that
 * averages 90% may still hold a stall, made up by the burst the reorder
 * queue releases after it) */
static bool stalls(const struct ev_timeline *tl, double a, double b, double thr)
{
        unsigned run = 0, need = (unsigned)ceil(STALL_S / tl->width_s - 1e-9);
        for (double s = a; s + tl->width_s <= b + 1e-9; s += tl->width_s) {
                run = bytes_in(tl, s, s + tl->width_s) < thr ? run + 1 : 0;
                if (run >= need)
                        return true;
        }
        return false;
}

static int dcmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void one(const struct ev_timeline *tl, struct ev_result *e, double end)
{
        double t = e->applied_s >= 0 ? e->applied_s : e->at_s, w = tl->width_s;
        double start = tl->t0_s;
        /* the level: the second before the event (less when the window began later) */
        double from = fmax(start, t - 1.0);
        e->level_bps = t - from >= 0.1 ? rate_bps(tl, from, t) : -1;
        e->outage_s = e->outage_at_s = e->second_stall_s = e->recovery_s = e->pm_first_s = -1;
        e->worst_latency_ms = e->slow_transactions = -1;
        if (tl->n_lat) {
                /* transactions that ended in the event's span: their worst, and
                 * how many took over a second */
                double worst = 0, slow = 0;
                for (unsigned i = 0; i < tl->n_lat; i++) {
                        double bt = tl->lat_t0_s + i * tl->lat_width_s;
                        if (bt + tl->lat_width_s <= t || bt >= end)
                                continue;
                        worst = fmax(worst, tl->lat_max_us[i] / 1e3);
                        slow += tl->lat_slow[i];
                }
                e->worst_latency_ms = worst;
                e->slow_transactions = slow;
        }
        if (end - t < 0.1)
                return; /* the window ends at once: nothing to say */
        /* stretches of bins under 10% of the level, after the event */
        if (e->level_bps > 0) {
                double thr = 0.1 * e->level_bps * w / 8, best = 0, best_at = 0, second = 0;
                double run_start = -1;
                unsigned i0 = (unsigned)fmax(0, floor((t - start) / w));
                for (unsigned i = i0; i <= tl->n; i++) {
                        double bt = start + i * w;
                        bool low = i < tl->n && bt < end && tl->bytes[i] < thr;
                        if (low && run_start < 0)
                                run_start = fmax(bt, t);
                        if (!low && run_start >= 0) {
                                double len = fmin(bt, end) - run_start;
                                if (len > best) {
                                        if (best >= STALL_S)
                                                second = fmax(second, best);
                                        best = len;
                                        best_at = run_start - t;
                                } else if (len >= STALL_S && len > second)
                                        second = len;
                                run_start = -1;
                        }
                        if (bt >= end)
                                break;
                }
                e->outage_s = best;
                e->outage_at_s = best_at;
                e->second_stall_s = second;
        }
        /* the target: the capacity that remains, else the plateau reached (the
         * median 100 ms goodput of the last second before the end) */
        if (e->target_bps <= 0 && end - t >= 1.5) {
                double v[10];
                for (unsigned k = 0; k < 10; k++)
                        v[k] = rate_bps(tl, end - 1.0 + k * 0.1, end - 0.9 + k * 0.1);
                qsort(v, 10, sizeof v[0], dcmp);
                e->target_bps = (v[4] + v[5]) / 2;
        }
        /* recovery: from the event to the first instant from which the next
         * second carries >= 90% of the target, without a stall in it */
        e->recovered = false;
        if (e->target_bps > 0) {
                /* from an instant the receiver gets data (not inside an outage:
                 * a second that starts in one may still average 90%) */
                double thr = e->level_bps > 0 ? 0.1 * e->level_bps * w / 8 : 0;
                /* and not before the worst outage is over: data the reorder
                 * queue still held, or the surviving path alone, can carry a
                 * first second before the sender schedules onto the dead path
                 * and stalls. An outage shorter than a stall (100 ms) is a
                 * dip, not a disruption to wait out */
                double after = e->outage_s >= STALL_S - 1e-9 ? t + e->outage_at_s + e->outage_s : t;
                for (double s = after; s + 1.0 <= end + 1e-9; s += w)
                        if (bytes_in(tl, s, s + w) >= thr &&
                            rate_bps(tl, s, s + 1.0) >= 0.9 * e->target_bps &&
                            !stalls(tl, s, s + 1.0, thr)) {
                                e->recovery_s = s - t;
                                e->recovered = true;
                                break;
                        }
                /* never within its span: the span, a lower bound, so that a
                 * kernel that does not recover compares as the worse one */
                if (!e->recovered)
                        e->recovery_s = end - t;
        }
        /* the path manager's first word within the event's own span */
        for (unsigned k = 0; k < tl->n_pm && tl->pm_s[k] < end; k++)
                if (tl->pm_s[k] >= t) {
                        e->pm_first_s = tl->pm_s[k] - t;
                        break;
                }
}

void events_compute(const struct ev_timeline *tl, struct ev_result *events, unsigned n)
{
        double window_end = tl->t0_s + tl->n * tl->width_s;
        if (tl->end_s > 0)
                window_end = fmin(window_end, tl->end_s);
        for (unsigned i = 0; i < n; i++) {
                double end = window_end;
                /* up to the next event that happens later (not one at the same instant) */
                for (unsigned j = i + 1; j < n; j++)
                        if (events[j].at_s > events[i].at_s) {
                                double nt = events[j].applied_s >= 0 ? events[j].applied_s
                                                                     : events[j].at_s;
                                end = fmin(end, nt);
                                break;
                        }
                one(tl, &events[i], end);
        }
}

const struct ev_result *events_primary(const struct wl_result *w)
{
        for (unsigned i = 0; i < w->n_events; i++)
                if (w->events[i].ev && topo_ev_disrupts(w->events[i].ev->action))
                        return &w->events[i];
        return w->n_events ? &w->events[0] : NULL;
}
