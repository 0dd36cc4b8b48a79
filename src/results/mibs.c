/* mibs.c - the MIB counters of a comparison: per workload, node and counter,
 * the mean delta per run on each side, keeping only the counters that moved
 * differently. The counters come with every run (run-json.md,
 * workloads[].mib: nstat's view of MPTcpExt, TcpExt and Tcp). */
#include "mibs.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>

/* {"workload/node/counter": [sum, runs]} of one side */
static void add_side(struct json_object *acc, struct json_object *runs, const char *side)
{
        for (size_t i = 0; i < jlen(runs); i++) {
                struct json_object *r = json_object_array_get_idx(runs, i);
                const char *s = jstr(r, "side");
                if (side && (!s || !streq(s, side)))
                        continue;
                struct json_object *wls = jarr(r, "workloads");
                for (size_t w = 0; w < jlen(wls); w++) {
                        struct json_object *wl = json_object_array_get_idx(wls, w);
                        const char *name = jstr(wl, "name");
                        struct json_object *mib = jobj(wl, "mib");
                        if (!name || !mib || !streq(jstr(wl, "status") ?: "", "ok"))
                                continue;
                        json_object_object_foreach (mib, node, counters) {
                                if (!json_object_is_type(counters, json_type_object))
                                        continue;
                                json_object_object_foreach (counters, c, v) {
                                        _cleanup_free_ char *key =
                                                xasprintf("%s/%s/%s", name, node, c);
                                        jsum_add(acc, key, 1, 0, json_object_get_double(v));
                                }
                        }
                }
        }
}

static unsigned count_runs(struct json_object *runs, const char *side)
{
        unsigned n = 0;
        for (size_t i = 0; i < jlen(runs); i++) {
                const char *s = jstr(json_object_array_get_idx(runs, i), "side");
                n += !side || (s && streq(s, side));
        }
        return n;
}

static double mean_of(struct json_object *acc, const char *key, unsigned runs)
{
        struct json_object *e = jarr(acc, key);
        return e && runs ? json_object_get_double(json_object_array_get_idx(e, 0)) / runs : 0;
}

struct json_object *mib_changes(struct json_object *base, const char *base_side,
                                struct json_object *cand, const char *cand_side, unsigned *ret_na,
                                unsigned *ret_nb)
{
        struct json_object *a = json_object_new_object(), *b = json_object_new_object();
        add_side(a, base, base_side);
        add_side(b, cand, cand_side);
        unsigned na = count_runs(base, base_side), nb = count_runs(cand, cand_side);
        struct json_object *rows = json_object_new_array(), *keys = json_object_new_object();
        json_object_object_foreach (a, ka, va)
                json_object_object_add(keys, ka, NULL);
        json_object_object_foreach (b, kb, vb)
                json_object_object_add(keys, kb, NULL);
        json_object_object_foreach (keys, k, unused) {
                double x = mean_of(a, k, na), y = mean_of(b, k, nb);
                if (fabs(y - x) < 1 || fabs(y - x) < 0.1 * fmax(fabs(x), fabs(y)))
                        continue;
                struct json_object *row = json_object_new_object();
                json_object_object_add(row, "counter", json_object_new_string(k));
                json_object_object_add(row, "base", json_object_new_double(x));
                json_object_object_add(row, "candidate", json_object_new_double(y));
                json_object_array_add(rows, row);
        }
        json_object_put(keys);
        json_object_put(a);
        json_object_put(b);
        *ret_na = na;
        *ret_nb = nb;
        return rows;
}
