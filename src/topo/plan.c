#include "plan.h"
#include "yamlx.h"
#include "units.h"
#include "../shared/util.h"

#include "../shared/limits.h"

#include <ctype.h>
#include <errno.h>
#include <libfyaml.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void parse_scenario(struct pctx *c, struct plan *p, struct fy_node *n, unsigned i)
{
        struct plan_scenario *s = &p->s[i];
        s->runs = 5;
        s->warmup_run = true;
        s->pos = pos_of(n);
        if (fy_node_get_type(n) != FYNT_MAPPING) {
                perr(c, n, "scenario %u must be a mapping (topology, runs, set, baseline)", i + 1);
                return;
        }
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(n, &it))) {
                const char *k = fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "";
                struct fy_node *v = fy_node_pair_value(pair);
                _cleanup_free_ char *what = xasprintf("scenario %u: %s", i + 1, k);
                const char *x;
                if (streq(k, "topology")) {
                        if ((x = yx_str(c, v, what)))
                                s->topology = yx_resolve(p->file, x);
                } else if (streq(k, "runs")) {
                        char *end;
                        x = yx_str(c, v, what);
                        unsigned long r = x ? strtoul(x, &end, 10) : 0;
                        if (x && (*end || r < 1 || r > 1000 || !isdigit((unsigned char)*x)))
                                perr(c, v, "%s \"%s\" is not a number from 1 to 1000", what, x);
                        else if (x)
                                s->runs = (unsigned)r;
                } else if (streq(k, "warmup_run"))
                        yx_bool(c, v, what, &s->warmup_run);
                else if (streq(k, "baseline"))
                        yx_dup_str(c, v, what, &s->baseline);
                else if (streq(k, "set")) {
                        if (fy_node_get_type(v) != FYNT_SEQUENCE) {
                                perr(c, v, "%s is a list of PATH=VALUE", what);
                                continue;
                        }
                        void *si = NULL;
                        struct fy_node *e;
                        while ((e = fy_node_sequence_iterate(v, &si))) {
                                const char *sv = yx_str(c, e, what);
                                if (sv && !strchr(sv, '='))
                                        perr(c, e, "%s \"%s\" is not PATH=VALUE", what, sv);
                                else if (sv) {
                                        s->sets = xreallocarray(s->sets, s->n_sets + 1,
                                                                sizeof(char *));
                                        s->sets[s->n_sets++] = xstrdup(sv);
                                }
                        }
                } else
                        perr(c, fy_node_pair_key(pair),
                             "scenario %u: unknown key \"%s\" (topology, runs, set, baseline, "
                             "warmup_run)",
                             i + 1, k);
        }
        if (!s->topology)
                perr(c, n, "scenario %u: topology is required (a topology file)", i + 1);
        else if (access(s->topology, R_OK) < 0)
                perr(c, n, "scenario %u: topology %s: %s", i + 1, s->topology, strerror(errno));
}

static void parse_root(struct pctx *c, struct plan *p, struct fy_node *root)
{
        if (!root || fy_node_get_type(root) != FYNT_MAPPING) {
                perr(c, root, "a plan is a mapping (name, scenarios, ...)");
                return;
        }
        struct fy_node *scen = NULL;
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(root, &it))) {
                const char *k = fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "";
                struct fy_node *v = fy_node_pair_value(pair);
                const char *x, *why;
                if (streq(k, "name"))
                        yx_dup_str(c, v, "name", &p->name);
                else if (streq(k, "lab"))
                        yx_dup_str(c, v, "lab", &p->lab);
                else if (streq(k, "db"))
                        yx_dup_str(c, v, "db", &p->db);
                else if (streq(k, "report")) {
                        if ((x = yx_str(c, v, "report")))
                                p->report = yx_resolve(p->file, x);
                } else if (streq(k, "backend")) {
                        yx_dup_str(c, v, "backend", &p->backend);
                        if (p->backend && c->backends && !strv_has(c->backends, p->backend)) {
                                _cleanup_free_ char *names = strv_join(c->backends, ", ");
                                perr(c, v, "backend \"%s\" is not a backend (%s)", p->backend,
                                     names);
                        }
                } else if (streq(k, "inventory")) {
                        if ((x = yx_str(c, v, "inventory")))
                                p->inventory = yx_resolve(p->file, x);
                } else if (streq(k, "kernel")) {
                        if (fy_node_get_type(v) == FYNT_MAPPING) {
                                struct fy_node *d = fy_node_mapping_lookup_by_string(v, "drop", -1);
                                if (!d || fy_node_mapping_item_count(v) != 1)
                                        perr(c, v, "kernel is a release, a path, or {drop: DIR}");
                                else if ((x = yx_str(c, d, "kernel: drop")))
                                        p->kernel_drop = yx_resolve(p->file, x);
                        } else if ((x = yx_str(c, v, "kernel")))
                                p->kernel = strchr(x, '/') ? yx_resolve(p->file, x) : xstrdup(x);
                } else if (streq(k, "budget")) {
                        if ((x = yx_str(c, v, "budget")) && parse_time(x, &p->budget_us, &why) < 0)
                                perr(c, v, "budget \"%s\" %s", x, why);
                } else if (streq(k, "confirm"))
                        yx_bool(c, v, "confirm", &p->confirm);
                else if (streq(k, "scenarios"))
                        scen = v;
                else
                        perr(c, fy_node_pair_key(pair),
                             "unknown key \"%s\" (name, lab, db, backend, inventory, kernel, "
                             "budget, "
                             "report, confirm, scenarios)",
                             k);
        }
        if (!p->name)
                perr(c, root, "name is required");
        if (p->backend && streq(p->backend, "ssh") && !p->inventory)
                perr(c, root,
                     "backend ssh needs inventory: FILE (the machines: docs/inventory.md)");
        if (p->inventory && !(p->backend && streq(p->backend, "ssh")))
                perr(c, root, "inventory: is for backend: ssh");
        if (!scen || fy_node_get_type(scen) != FYNT_SEQUENCE ||
            !fy_node_sequence_item_count(scen)) {
                perr(c, scen ? scen : root, "scenarios is required: a list of at least one");
                return;
        }
        int count = fy_node_sequence_item_count(scen);
        if (count > LIM_TOPO_WORKLOADS) {
                perr(c, scen, "at most %d scenarios", LIM_TOPO_WORKLOADS);
                return;
        }
        p->s = xcalloc((size_t)count, sizeof *p->s);
        void *si = NULL;
        struct fy_node *e;
        while ((e = fy_node_sequence_iterate(scen, &si)))
                parse_scenario(c, p, e, p->n++);
}

int plan_parse_file(const char *path, const char *const *backends, struct plan **ret,
                    struct topo_errors *errs)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = topo_read_file(path, &text, &len, errs);
        if (r < 0)
                return r;
        unsigned before = errs->n;
        struct fy_document *doc = topo_yaml_document(path, text, len, errs);
        struct plan *p = xcalloc(1, sizeof *p);
        p->file = xstrdup(path);
        struct pctx c = {.file = path, .errs = errs, .backends = backends};
        if (doc)
                parse_root(&c, p, fy_document_root(doc));
        else if (errs->n == before)
                perr(&c, NULL, "the plan is empty");
        fy_document_destroy(doc);
        if (errs->n) {
                plan_free(p);
                return -EINVAL;
        }
        *ret = p;
        return 0;
}

struct plan *plan_free(struct plan *p)
{
        if (!p)
                return NULL;
        for (unsigned i = 0; i < p->n; i++) {
                free(p->s[i].topology);
                for (unsigned k = 0; k < p->s[i].n_sets; k++)
                        free(p->s[i].sets[k]);
                free(p->s[i].sets);
                free(p->s[i].baseline);
        }
        free(p->s);
        free(p->file);
        free(p->name);
        free(p->lab);
        free(p->db);
        free(p->backend);
        free(p->inventory);
        free(p->kernel);
        free(p->kernel_drop);
        free(p->report);
        free(p);
        return NULL;
}
