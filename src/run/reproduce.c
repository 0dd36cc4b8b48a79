/* reproduce.c - what a stored run, series or comparison ran, ready to run
 * again on machines (cli/reproduce.c runs the series and shows both): its
 * counted runs, its kernels by release, its topology as that run parsed it,
 * written to a file of the lab's. */
#include "reproduce.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "../store/store.h"

#include <errno.h>
#include <stdio.h>

/* The release every node of a side ran (hello's kernel), or NULL with *why
 * when its nodes ran different ones */
static const char *side_release(struct json_object *reps, const char *side, char **why)
{
        const char *rel = NULL;
        for (size_t i = 0; i < json_object_array_length(reps); i++) {
                struct json_object *rj = json_object_array_get_idx(reps, i);
                const char *s = jstr(rj, "side");
                if (side && (!s || !streq(s, side)))
                        continue;
                struct json_object *nodes = jpath(rj, "nodes", NULL);
                for (size_t k = 0; k < json_object_array_length(nodes); k++) {
                        const char *r = jstr(json_object_array_get_idx(nodes, k), "kernel");
                        if (!r)
                                continue;
                        if (rel && !streq(rel, r)) {
                                *why = xasprintf("side %s ran two kernels (%s, %s): one release a "
                                                 "side is what machines can switch to",
                                                 side ? side : "-", rel, r);
                                return NULL;
                        }
                        rel = r;
                }
        }
        if (!rel)
                *why = xasprintf("no kernel release is recorded for side %s", side ? side : "-");
        return rel;
}

static unsigned side_runs(struct json_object *reps, const char *side)
{
        unsigned n = 0;
        for (size_t i = 0; i < json_object_array_length(reps); i++) {
                const char *s = jstr(json_object_array_get_idx(reps, i), "side");
                n += side ? (s && streq(s, side)) : 1;
        }
        return n;
}

static const char *side_yaml(struct json_object *reps, const char *side)
{
        for (size_t i = 0; i < json_object_array_length(reps); i++) {
                struct json_object *rj = json_object_array_get_idx(reps, i);
                const char *s = jstr(rj, "side");
                if (!side || (s && streq(s, side)))
                        return jstr(jobj(rj, "topology"), "yaml");
        }
        return NULL;
}

/* The stored series' samples judged: A against B, or nothing without sides */
int reproduce_judge(struct store *db, const char *id, const char *kind, struct topo *t,
                    struct verdicts *v, struct samples *s, char **err)
{
        int r = store_samples(db, id, kind, false, s, err);
        if (r < 0)
                return r;
        verdicts_compute(s, "A", s, "B", t, v);
        return 0;
}

int reproduction_load(struct store *db, const char *id, unsigned runs_override,
                      struct reproduction *ret, char **err)
{
        *ret = (struct reproduction){0};
        const char *kind = "series";
        if (store_run_reports(db, id, kind, &ret->reps, err) < 0)
                return -EINVAL;
        if (!json_object_array_length(ret->reps)) {
                json_object_put(ret->reps);
                kind = "run";
                if (store_run_reports(db, id, kind, &ret->reps, err) < 0)
                        return -EINVAL;
        }
        struct json_object *reps = ret->reps;
        if (!json_object_array_length(reps)) {
                *err = xasprintf("no counted run of series or run %s in %s (mptcplab history)", id,
                                 store_path(db));
                return -EINVAL;
        }
        struct json_object *first = json_object_array_get_idx(reps, 0);
        bool compare = side_runs(reps, "A") && side_runs(reps, "B");
        const char *yaml = side_yaml(reps, compare ? "A" : NULL);
        if (!yaml) {
                *err = xasprintf("%s %s: its runs do not keep their topology (stored by an older "
                                 "lab)",
                                 kind, id);
                return -EINVAL;
        }
        if (compare && !streq(yaml, side_yaml(reps, "B") ?: "")) {
                *err = xasprintf("series %s compares two settings (--set-a/--set-b): reproduce "
                                 "repeats kernel comparisons only",
                                 id);
                return -EINVAL;
        }
        const char *rel_a = side_release(reps, compare ? "A" : NULL, err), *rel_b = NULL;
        if (!rel_a || (compare && !(rel_b = side_release(reps, "B", err))))
                return -EINVAL;
        /* the topology as that run parsed it, in this run's directory of files */
        _cleanup_free_ char *dir = lab_data_path("reproduce");
        mkdir_p(dir);
        char *path = ret->path = xasprintf("%s/%s-%.8s.yaml", dir,
                                           jstr(jobj(first, "topology"), "name") ?: "topology", id);
        FILE *f = fopen(path, "we");
        bool written = f && fputs(yaml, f) >= 0;
        if (f && fclose(f) != 0)
                written = false;
        if (!written) {
                *err = xasprintf("cannot write %s: %m", path);
                return -EIO;
        }
        struct topo_errors errs = {0};
        if (topo_parse_file(path, &ret->t, &errs) < 0) {
                *err = xasprintf("the stored topology of %s %s does not parse any more (%s)", kind,
                                 id, errs.n ? errs.msgs[0] : "?");
                topo_errors_clear(&errs);
                return -EINVAL;
        }
        ret->kind = kind;
        ret->compare = compare;
        ret->rel_a = rel_a;
        ret->rel_b = rel_b;
        ret->runs = runs_override ? runs_override : side_runs(reps, compare ? "A" : NULL);
        return 0;
}

void reproduction_clear(struct reproduction *r)
{
        json_object_put(r->reps);
        topo_free(r->t);
        free(r->path);
        *r = (struct reproduction){0};
}
