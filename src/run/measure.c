/* measure.c - what a workload's nodes say around it: byte counters of every
 * interface, the MIB (nstat's MPTcpExt, TcpExt, Tcp), /proc/stat, hardware
 * cycles and the VMs' CPU time, at the measured window's edges. Numbers from
 * a guest are untrusted: deltas saturate, never overflow. */
#include "measure.h"

#include <time.h>

static int64_t counter(struct json_object *c, const char *grp, const char *name)
{
        int64_t v = 0;
        jint(jobj(c, grp), name, &v);
        return v;
}

/* b - a for two readings of a guest's counter: never negative, never an
 * overflow (the values are untrusted; a counter that went back counts 0) */
static int64_t sat_delta(int64_t a, int64_t b)
{
        int64_t d;
        if (a < 0 || b < a || __builtin_sub_overflow(b, a, &d))
                return 0;
        return d;
}

int64_t delta(struct json_object *a, struct json_object *b, const char *grp, const char *name)
{
        return sat_delta(counter(a, grp, name), counter(b, grp, name));
}

int link_bytes(struct lab_node *n, const char *dev, uint64_t *tx, uint64_t *rx, char **err)
{
        struct json_object *res;
        int e = node_call(n, "interface counters", "link_get", agent_args("dev", S(dev), NULL),
                          CALL_MS, &res, err);
        if (e < 0)
                return e;
        int64_t t = 0, x = 0;
        jint(res, "tx_bytes", &t);
        jint(res, "rx_bytes", &x);
        *tx = (uint64_t)t;
        *rx = (uint64_t)x;
        json_object_put(res);
        return 0;
}

/* The eight /proc/stat columns (user .. steal) of one CPU line between two
 * readings, into d; their total, or -1 when a reading lacks them. */
static double cpu_line_deltas(struct json_object *before, struct json_object *after, double d[8])
{
        if (!json_object_is_type(before, json_type_array) ||
            !json_object_is_type(after, json_type_array) || json_object_array_length(before) < 8 ||
            json_object_array_length(after) < 8)
                return -1;
        double total = 0;
        for (size_t i = 0; i < 8; i++) {
                d[i] = (double)sat_delta(
                        json_object_get_int64(json_object_array_get_idx(before, i)),
                        json_object_get_int64(json_object_array_get_idx(after, i)));
                total += d[i];
        }
        return total;
}

/* Busy share of all CPUs between two /proc/stat readings (user..steal), in %. */
double node_busy_pct(struct json_object *before, struct json_object *after)
{
        double d[8], total = cpu_line_deltas(jpath(before, "cpu", "cpu", NULL),
                                             jpath(after, "cpu", "cpu", NULL), d);
        return total > 0 ? 100.0 * (total - d[3] - d[4]) / total : -1; /* idle, iowait */
}

/* Every MPTcpExt, TcpExt and Tcp counter that moved between two readings of a
 * node (nstat's view), as "GroupName": delta; guest values, so deltas saturate. */
struct json_object *mib_deltas(struct json_object *before, struct json_object *after)
{
        static const char *const groups[] = {"MPTcpExt", "TcpExt", "Tcp"};
        struct json_object *o = json_object_new_object();
        for (unsigned g = 0; g < ELEMENTSOF(groups); g++) {
                struct json_object *b = jobj(before, groups[g]), *a = jobj(after, groups[g]);
                if (!a)
                        continue;
                json_object_object_foreach (a, name, v) {
                        int64_t x = 0, y = json_object_get_int64(v);
                        jint(b, name, &x);
                        int64_t d = sat_delta(x, y);
                        if (d) {
                                _cleanup_free_ char *key = xasprintf("%s%s", groups[g], name);
                                json_object_object_add(o, key, json_object_new_int64(d));
                        }
                }
        }
        return o;
}

/* The CPU time the kernel accounted to a node's work between two readings:
 * user, nice, system and softirq of all its CPUs (/proc/stat's USER_HZ, 100
 * on every Linux ABI), in seconds; -1 when a reading lacks them. */
double node_cpu_s(struct json_object *before, struct json_object *after)
{
        double d[8], total = cpu_line_deltas(jpath(before, "cpu", "cpu", NULL),
                                             jpath(after, "cpu", "cpu", NULL), d);
        return total > 0 ? (d[0] + d[1] + d[2] + d[6]) / 100.0 : -1;
}

void window_clear(struct window *w)
{
        for (unsigned e = 0; e < 2; e++)
                for (unsigned n = 0; n < 2; n++)
                        json_object_put(w->stat[e][n]);
}

/* Waits until `when` (now_usec()), then reads edge `edge` of the window. */
int window_edge(struct run *r, const struct topo_workload *w, struct lab_node *cn,
                struct lab_node *sn, uint64_t when, struct window *win, unsigned edge, char **err)
{
        for (uint64_t now; (now = now_usec()) < when;) {
                /* a signal too: a teardown on its thread (overlap_teardown)
                 * clears agent_interrupted for its goodbyes */
                if (agent_interrupted || run_signalled()) {
                        *err = xstrdup("interrupted");
                        return -EINTR;
                }
                /* a node that crashes while we wait is seen now, not when the
                 * window ends (the agent calls' own health check) */
                char *why = NULL;
                if (cn->agent && cn->agent->health &&
                    cn->agent->health(cn->agent->health_user, &why) < 0) {
                        *err = xasprintf("%s while measuring", why ? why : "a node died");
                        free(why);
                        return -EHOSTDOWN;
                }
                uint64_t left = when - now;
                struct timespec ts = {.tv_sec = (time_t)(left / 1000000),
                                      .tv_nsec = (long)(left % 1000000) * 1000};
                if (ts.tv_sec > 0) {
                        ts.tv_sec = 0;
                        ts.tv_nsec = 200000000; /* a ^C is seen within 0.2 s */
                }
                nanosleep(&ts, NULL);
        }
        win->at[edge] = now_usec();
        win->have_vm[edge] = r->lab->ops->cpu_time &&
                             r->lab->ops->cpu_time(r->lab, w->from, &win->vm[edge][0]) == 0 &&
                             r->lab->ops->cpu_time(r->lab, w->to, &win->vm[edge][1]) == 0;
        win->have_insns[edge] = r->lab->ops->insns &&
                                r->lab->ops->insns(r->lab, w->from, &win->insns[edge][0]) == 0 &&
                                r->lab->ops->insns(r->lab, w->to, &win->insns[edge][1]) == 0;
        struct lab_node *nodes[2] = {cn, sn};
        for (unsigned k = 0; k < 2; k++) {
                win->sent[edge][k] = now_usec();
                int e = node_call(nodes[k], "counters", "counters", NULL, CALL_MS,
                                  &win->stat[edge][k], err);
                win->got[edge][k] = now_usec();
                if (e < 0)
                        return e;
        }
        return 0;
}

bool clock_rate_ppm(const struct window *win, unsigned k, double *ppm, double *unc)
{
        int64_t g0, g1;
        if (!jint(win->stat[0][k], "mono_ns", &g0) || !jint(win->stat[1][k], "mono_ns", &g1) ||
            g1 <= g0)
                return false;
        /* the node read its clock somewhere between send and reply: the
         * middle, give or take half of each round trip */
        double h0 = (double)(win->sent[0][k] + win->got[0][k]) / 2,
               h1 = (double)(win->sent[1][k] + win->got[1][k]) / 2, host_us = h1 - h0;
        if (host_us < 1e6)
                return false;
        *ppm = ((double)(g1 - g0) / 1e3 / host_us - 1) * 1e6;
        *unc = ((double)(win->got[0][k] - win->sent[0][k]) +
                (double)(win->got[1][k] - win->sent[1][k])) /
               2 / host_us * 1e6;
        return true;
}

/* Each core's user, system and softirq share of the window (/proc/stat
 * columns 0, 2 and 6 of 8), and its busy share, in %. */
struct json_object *cpu_per_core(struct json_object *before, struct json_object *after)
{
        struct json_object *o = json_object_new_object(), *b = jobj(before, "cpu"),
                           *a = jobj(after, "cpu");
        if (!a || !b)
                return o;
        json_object_object_foreach (a, name, arr) {
                struct json_object *prev = jarr(b, name);
                /* the guest names its CPUs: only "cpuN" goes on (into plots and files) */
                if (strncmp(name, "cpu", 3) || !name[3] ||
                    strspn(name + 3, "0123456789") != strlen(name + 3))
                        continue;
                double d[8], total = cpu_line_deltas(prev, arr, d);
                if (total <= 0)
                        continue;
                struct json_object *c = json_object_new_object();
                json_object_object_add(c, "user",
                                       json_object_new_double(100 * (d[0] + d[1]) / total));
                json_object_object_add(c, "system", json_object_new_double(100 * d[2] / total));
                json_object_object_add(c, "softirq", json_object_new_double(100 * d[6] / total));
                json_object_object_add(c, "busy",
                                       json_object_new_double(100 * (total - d[3] - d[4]) / total));
                json_object_object_add(o, name, c);
        }
        return o;
}

/* A node's hardware cycles between two counters calls; -1 where it has no
 * PMU or the count went backwards (an agent restarted: untrusted anyway). */
double cycles_delta(struct json_object *before, struct json_object *after)
{
        int64_t a = 0, b = 0;
        if (!jint(before, "cycles", &b) || !jint(after, "cycles", &a) || b < 0 || a < b)
                return -1;
        return (double)(a - b);
}
