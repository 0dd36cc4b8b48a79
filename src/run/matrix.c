/* matrix.c - a topology's matrix run cell by cell: see matrix.h */
#include "matrix.h"
#include "node.h"
#include "../shared/util.h"

#include <stdio.h>

static char **sets_plus(char *const *sets, unsigned n, char *const *more, unsigned *ret_n)
{
        unsigned m = 0;
        while (more[m])
                m++;
        char **v = xcalloc(n + m + 1, sizeof *v);
        for (unsigned i = 0; i < n; i++)
                v[i] = sets[i];
        for (unsigned i = 0; i < m; i++)
                v[n + i] = more[i];
        *ret_n = n + m;
        return v;
}

/* worse of two outcomes: infrastructure, bad input, a regression, ok */
static enum outcome worse(enum outcome a, enum outcome b)
{
        static const int rank[] = {[OUTCOME_OK] = 0,
                                   [OUTCOME_REGRESSION] = 1,
                                   [OUTCOME_INPUT] = 2,
                                   [OUTCOME_INFRA] = 3};
        return rank[b] > rank[a] ? b : a;
}

enum outcome matrix_run(const struct series_opts *o, struct matrix_result *ret)
{
        *ret = (struct matrix_result){.file = o->file, .outcome = OUTCOME_OK};
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        if (topo_parse_file_set(o->file, o->sets_a, o->n_sets_a, &t, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                topo_errors_clear(&errs);
                return ret->outcome = OUTCOME_INPUT;
        }
        if (!topo_has_matrix(t)) {
                log_error("%s: --matrix: the topology has no matrix: (docs/topology.md)", o->file);
                topo_free(t);
                return ret->outcome = OUTCOME_INPUT;
        }
        /* an axis the command line fixed (--set matrix.AXIS=VALUE) is that
         * value alone: the matrix of the other axes */
        for (unsigned a = 0; a < TOPO_AXES; a++)
                if (t->cell[a] && t->matrix.n[a]) {
                        for (unsigned i = 0; i < t->matrix.n[a]; i++)
                                free(t->matrix.values[a][i]);
                        t->matrix.values[a][0] = xstrdup(t->cell[a]);
                        t->matrix.n[a] = 1;
                }
        char ***cells = NULL;
        size_t n = topo_matrix_cells(&t->matrix, &cells);
        ret->cells = xcalloc(n + 1, sizeof *ret->cells);
        ret->n = n;
        /* every key test of every cell is one family: a false regression
         * anywhere in the matrix at most 5% */
        ret->family_cells = o->compare || o->baseline ? (unsigned)n : 0;
        for (size_t k = 0; k < n; k++) {
                struct matrix_cell_result *c = &ret->cells[k];
                c->sets = topo_cell_sets(cells[k]);
                c->axes = cells[k];
                cells[k] = NULL;
        }
        free(cells);
        topo_free(t);
        for (size_t k = 0; k < n && !run_signalled(); k++) {
                struct matrix_cell_result *c = &ret->cells[k];
                struct series_opts co = *o;
                co.sets_a = sets_plus(o->sets_a, o->n_sets_a, c->sets, &co.n_sets_a);
                co.sets_b = sets_plus(o->sets_b, o->n_sets_b, c->sets, &co.n_sets_b);
                co.family_cells = ret->family_cells;
                fprintf(stderr, "mptcplab: matrix %s: cell %zu/%zu\n", o->file, k + 1, n);
                series_run(&co, &c->r);
                c->ran = true;
                c->label = xstrdup(c->r.topo ? topo_label(c->r.topo) : "?");
                ret->outcome = worse(ret->outcome, c->r.outcome);
                free(co.sets_a);
                free(co.sets_b);
                /* bad input is the same in every cell */
                if (c->r.outcome == OUTCOME_INPUT)
                        break;
        }
        return ret->outcome;
}
