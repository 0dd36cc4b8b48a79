/* matrix.h - what a matrix of cells did and found, typed: each cell's axes,
 * its name in history and its series (results/series.h). The conductor
 * (run/matrix.c) fills it, report/matrix_report.h shows it. */
#pragma once
#include "series.h"

struct matrix_cell_result {
        char **sets; /* the cell's matrix.AXIS=VALUE, NULL-terminated */
        char *label; /* its name in history: "two-paths{pm=kernel,...}" */
        char **axes; /* TOPO_AXES values; NULL where the cell leaves the axis */
        bool ran;    /* its series ran (an interrupted matrix stops early) */
        struct series_result r;
};

struct matrix_result {
        const char *file;
        struct matrix_cell_result *cells;
        size_t n;
        unsigned family_cells; /* the cells judged in one family (compare, check) */
        enum outcome outcome;  /* the worst of the cells' */
};

void matrix_result_clear(struct matrix_result *r);
