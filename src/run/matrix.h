/* matrix.h - a topology's matrix run cell by cell (run, compare or check
 * --matrix): each cell a series of its own (the cell's axes as --set
 * matrix.AXIS=VALUE, so each has its own identity and history), the cells of
 * a comparison judged as one family. Never prints data, never returns an
 * exit status: report/matrix_report.h shows the result. */
#pragma once
#include "series.h"
#include "../results/matrix.h"

/* Runs every cell of o->file's matrix with o's options; returns the worst
 * outcome (also in ret->outcome). A file without a matrix is bad input. */
enum outcome matrix_run(const struct series_opts *o, struct matrix_result *ret);
