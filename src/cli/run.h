/* run.h - one run of a topology: bring it up on a backend, configure every
 * node through its agent, run the workloads, measure, tear down. */
#pragma once
#include "../backend/backend.h"
#include "../results/result.h"
#include "../topo/topo.h"

/* 1: a regression (compare, check) or, for run, a node's kernel crashed */
enum { EXIT_OK = 0, EXIT_REGRESSION = 1, EXIT_INPUT = 2, EXIT_INFRA = 3 };

struct run_opts {
        const char *backend;
        const char *agent_path;
        const char *json_out;
        const char *kernel;    /* --kernel */
        const char *uri;       /* --uri (libvirt) */
        const char *run_dir;   /* --run-dir */
        const char *links;     /* --links udp|bridge (libvirt), NULL: udp */
        const char *inventory; /* --inventory FILE (ssh) */
        /* Tear down on a thread while the caller goes on (a series' next run
         * boots meanwhile; its measurement waits for it). lab_run then owns
         * the topology when the result says teardown_deferred, and frees it
         * in lab_run_settle. */
        bool overlap_teardown;
        /* per workload, for warmup: auto: the warm-up to use (0 or NULL: the
         * topology's, which is also the most it can be) */
        const uint64_t *warmup_us;
        /* a warm-up run's workloads measure at most this long (0: their
         * duration): it warms the host and teaches the warm-up, nothing more */
        uint64_t duration_cap_us;
};

/* Returns an exit code (EXIT_*); *ret is filled when workloads ran. */
int lab_run(struct topo *t, const struct run_opts *o, struct run_result **ret);
struct run_result *run_result_free(struct run_result *r);
/* Waits for a deferred teardown, if one is pending; returns the seconds waited. */
double lab_run_settle(void);

/* report.c */
void report_table(FILE *f, const struct topo *t, const struct run_result *r);
struct json_object *report_json(const struct topo *t, const struct run_result *r);
