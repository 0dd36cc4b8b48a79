/* node.h - what the parts of one run share (lab.c brings it up and down,
 * configure.c configures the nodes, measure.c reads the counters, workload.c
 * runs the load): the run in progress and the calls to its agents. Internal
 * to src/run. */
#pragma once
#include "../backend/backend.h"
#include "../shared/json.h"
#include "../shared/util.h"

#define CALL_MS 15000
#define S(x)    json_object_new_string(x)
#define I(x)    json_object_new_int64((int64_t)(x))

struct run_opts;
struct lab_keep;

struct run {
        struct lab *lab; /* on the heap: a teardown may outlive lab_run */
        uint64_t t0;
        uint64_t expected_us; /* rough total, for progress */
        uint64_t done_us;
        const struct run_opts *o;
        /* run_opts.keep: each node's state once booted, before configuring
         * (what a kept lab must be again before its next run) */
        struct json_object **ref;
        struct lab_keep *reused; /* the kept lab this run reuses, or NULL */
};

/* node.c: a progress line on stderr, with the time spent and left */
void progress(struct run *r, const char *fmt, ...) _printf_(2, 3);
/* One agent call, with an error that names the node and the step. */
int node_call(struct lab_node *n, const char *step, const char *op, struct json_object *args,
              int timeout_ms, struct json_object **ret, char **err);
/* A job's end (its result), or NULL with *err */
struct json_object *job_wait(struct lab_node *n, const char *step, int64_t job, int timeout_ms,
                             char **err);
/* The first address of a node, as text in buf; NULL when it has none */
const char *first_addr(const struct topo_node *tn, char *buf, size_t len);

/* node.c: the run's handler of SIGINT, SIGTERM and SIGHUP (lab.c installs
 * it), and whether (and which) signal asked the run to stop */
void run_on_signal(int sig);
bool run_signalled(void);
int run_signal(void);
