/* lab.h - one run of a topology: bring it up on a backend, configure every
 * node through its agent, run the workloads, measure, tear down. */
#pragma once
#include "../backend/backend.h"
#include "../results/result.h"
#include "../topo/topo.h"

/* The teardown of a run that goes on while the caller starts the next one
 * (run_opts.pending): at most one at a time, on its own thread. */
struct pending_teardown;

/* A booted topology kept between the runs of a series (run_opts.keep): its
 * nodes put back (each agent's reset) after a run, checked equal to what
 * they were once booted before the next, which only reconfigures them. */
struct lab_keep;

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
        /* Where a backend that can (backend_ops.reusable) keeps the run's lab
         * for the next run, and takes a kept one from: reused when it was
         * booted for the same kernel and frame (topo_same_frame) and its
         * nodes are as booted; otherwise torn down first. NULL: every run
         * boots and tears down its own. */
        struct lab_keep **keep;
};

/* How the run ended (a crashed node's kernel: OUTCOME_REGRESSION); *ret is
 * filled when workloads ran. */
enum outcome lab_run(struct topo *t, const struct run_opts *o, struct run_result **ret);
/* Waits for the deferred teardown in *pending, if any; returns the seconds waited. */
double lab_run_settle(struct pending_teardown **pending);
/* Stops a kept lab's nodes while another one measures (NULL is fine);
 * lab_run resumes them when it reuses the lab. */
void lab_keep_pause(struct lab_keep *k);
/* Tears the kept lab in *k down (if any); returns the seconds it took. */
double lab_keep_release(struct lab_keep **k);
