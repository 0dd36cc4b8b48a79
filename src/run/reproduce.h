/* reproduce.h - a stored run, series or comparison, ready to run again on
 * machines (the ssh backend) */
#pragma once
#include "series.h"

struct store;

struct reproduction {
        const char *kind;          /* "series" or "run": what the id named */
        struct json_object *reps;  /* its counted runs' run JSON */
        bool compare;              /* sides A and B */
        const char *rel_a, *rel_b; /* the release each side's nodes ran (in reps) */
        char *path;                /* its topology as that run parsed it, written here */
        struct topo *t;            /* and parsed again */
        unsigned runs;             /* runs a side: as many as it had, or the override */
};

/* What id ran: 0, or -EINVAL (no such run, or one that cannot be run again:
 * two settings, two kernels on a side, no stored topology) or -EIO (the
 * topology cannot be written) with *err */
int reproduction_load(struct store *db, const char *id, unsigned runs_override,
                      struct reproduction *ret, char **err);
void reproduction_clear(struct reproduction *r);
/* A stored series' samples judged, A against B (nothing without sides) */
int reproduce_judge(struct store *db, const char *id, const char *kind, struct topo *t,
                    struct verdicts *v, struct samples *s, char **err);
