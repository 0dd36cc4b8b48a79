#include "matrix.h"
#include "../topo/topo.h"

#include <stdlib.h>

void matrix_result_clear(struct matrix_result *r)
{
        for (size_t k = 0; k < r->n; k++) {
                struct matrix_cell_result *c = &r->cells[k];
                for (char **s = c->sets; s && *s; s++)
                        free(*s);
                free(c->sets);
                for (unsigned a = 0; c->axes && a < TOPO_AXES; a++)
                        free(c->axes[a]);
                free(c->axes);
                free(c->label);
                if (c->ran)
                        series_result_clear(&c->r);
        }
        free(r->cells);
        *r = (struct matrix_result){0};
}
