/* plan.h - a nightly plan (docs/nightly.md): which topologies run how often,
 * on which kernel, against which baseline, where the report goes, in how
 * much time. Parsed with libfyaml; errors say FILE:LINE:COL. */
#pragma once
#include "topo.h"

#include <stdbool.h>
#include <stdint.h>

struct plan_scenario {
        char *topology; /* the file, relative to the plan's directory when not absolute */
        unsigned runs;  /* counted runs: 5 */
        char **sets;    /* --set PATH=VALUE of this scenario */
        unsigned n_sets;
        char *baseline;  /* check against it, NULL: a plain series */
        bool warmup_run; /* the uncounted run first: true */
        struct topo_pos pos;
};

struct plan {
        char *file;
        char *name;      /* what the nightly is called (required) */
        char *lab;       /* the lab's name in the results: the host name by default */
        char *db;        /* the results database, NULL: the default */
        char *backend;   /* a backend's name; NULL: libvirt */
        char *inventory; /* backend ssh: the machines (docs/inventory.md) */
        char *kernel; /* a release, bzImage or build tree; NULL with kernel_drop or the default */
        char *kernel_drop;  /* a directory where CI drops builds: the newest entry is taken */
        char *report;       /* where the nightly's report goes, NULL: the last run's directory */
        uint64_t budget_us; /* a scenario not started within it is skipped: 0 none */
        bool confirm;       /* run the compare that confirms a new change point */
        struct plan_scenario *s;
        unsigned n;
};

/* backends: the names backend: may take (NULL-terminated; NULL: any). */
int plan_parse_file(const char *path, const char *const *backends, struct plan **ret,
                    struct topo_errors *errs);
struct plan *plan_free(struct plan *p);
