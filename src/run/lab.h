/* lab.h - one run of a topology: bring it up on a backend, configure every
 * node through its agent, run the workloads, measure, tear down. */
#pragma once
#include "../backend/backend.h"
#include "../results/result.h"
#include "../topo/topo.h"

/* The teardown of a run that goes on while the caller starts the next one
 * (run_opts.pending): at most one at a time, on its own thread. */
struct pending_teardown;

struct run_opts {
        const char *backend;
        const char *agent_path;
        const char *kernel;    /* --kernel */
        const char *uri;       /* --uri (libvirt) */
        const char *run_dir;   /* --run-dir */
        const char *links;     /* --links udp|bridge (libvirt), NULL: udp */
        const char *inventory; /* --inventory FILE (ssh) */
        /* Tear down on a thread while the caller goes on (a series' next run
         * boots meanwhile; its measurement waits for it): the caller's slot
         * for it, NULL: tear down before returning. lab_run then owns the
         * topology when the result says teardown_deferred, and frees it in
         * lab_run_settle. */
        struct pending_teardown **pending;
        /* per workload, for warmup: auto: the warm-up to use (0 or NULL: the
         * topology's, which is also the most it can be) */
        const uint64_t *warmup_us;
        /* a warm-up run's workloads measure at most this long (0: their
         * duration): it warms the host and teaches the warm-up, nothing more */
        uint64_t duration_cap_us;
};

/* How the run ended (a crashed node's kernel: OUTCOME_REGRESSION); *ret is
 * filled when workloads ran. */
enum outcome lab_run(struct topo *t, const struct run_opts *o, struct run_result **ret);
/* Waits for the deferred teardown in *pending, if any; returns the seconds waited. */
double lab_run_settle(struct pending_teardown **pending);
