/* matrix.h - a topology's matrix run cell by cell (run, compare or check
 * --matrix): each cell a series of its own (the cell's axes as --set
 * matrix.AXIS=VALUE, so each has its own identity and history), the cells of
 * a comparison judged as one family. Never prints data, never returns an
 * exit status: report/matrix_report.h shows the result. */
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

/* Runs every cell of o->file's matrix with o's options; returns the worst
 * outcome (also in ret->outcome). A file without a matrix is bad input. */
enum outcome matrix_run(const struct series_opts *o, struct matrix_result *ret);
void matrix_result_clear(struct matrix_result *r);
