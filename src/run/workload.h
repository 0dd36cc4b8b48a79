/* workload.h - one workload run and measured (workload.c) */
#pragma once
#include "node.h"
#include "../results/result.h"

/* Workload wi of the topology, measured into res; <0 with *err
 * when the run cannot go on (a workload that ran and failed is res's status) */
int run_workload(struct run *r, unsigned wi, struct wl_result *res, char **err);
