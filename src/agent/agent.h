/* agent.h - mptcplab-agent internals. The agent is the only program that
 * touches a node's kernel. It reads one JSON request per line and writes one
 * reply per line, tagged with the request's id:
 *   {"v":1,"id":7,"op":"addr_add","args":{"dev":"eth0","addr":"10.0.1.1/24"}}
 *   {"v":1,"id":7,"ok":true,"result":{}}
 *   {"v":1,"id":7,"ok":false,"error":{"errno":"ENODEV","message":"..."}}
 * Every change it makes is recorded in the undo list and reverted by "reset",
 * "bye", end of input and SIGTERM. docs/agent-protocol.md lists the operations. */
#pragma once

#include "../nl/nl.h"
#include "../shared/json.h"
#include "../shared/spawn.h"
#include "../shared/util.h"

#include <poll.h>
#include <sys/resource.h>

#define AGENT_PROTOCOL 1
#define JOB_OUTPUT_MAX (8u << 20)
#define JOBS_MAX       64 /* running at once: every one of them is polled */

struct undo;

struct job {
        unsigned id;
        struct spawn sp;
        char *argv0;
        char *out, *err;
        size_t out_len, err_len;
        bool out_trunc, err_trunc;
        uint64_t start_us, deadline_us, kill_at_us;
        bool done, timed_out;
        int status;
        struct rusage ru;
        uint64_t end_us;
        int64_t *waiters; /* request ids waiting for this job */
        unsigned n_waiters;
        struct job *next;
};

struct agent {
        const char *node;
        int in_fd, out_fd;
        struct nlr *nl;
        struct mpm *mpm; /* opened on first use */
        struct undo *undo;
        struct job *jobs;
        struct cond_wait *waits;
        unsigned next_job;
        bool quit;
        bool shares_host_kernel; /* --netns: host-wide sysctls are not ours to write */
        bool dry_run;            /* the fuzzer's: validate every request, touch nothing */
        /* cached capability probes: -1 unknown */
        int have_netem, have_tbf, have_htb;
        struct json_object *hello; /* computed once: probes cost time on a TCG guest */
        /* --alias: the topology's interface names (from) and this machine's (to) */
        char **alias_from, **alias_to;
        unsigned n_alias;
        /* events.c: the scheduled path events, and the path manager's events heard */
        struct sched_item *sched;
        unsigned n_sched;
        uint64_t sched_t0_us;
        struct mpm_events *pm;
        struct json_object *pm_log;
        uint64_t pm_t0_us;
        unsigned pm_dropped;
        /* cable.c: the armed listener (fd + 1, 0: none), its NIC and nonce */
        int cable_fd1;
        char *cable_dev;
        char cable_nonce[33];
};

/* events.c: path events at offsets ("schedule", "schedule_report") and the
 * path manager's events ("pm_listen", "pm_events"), docs/agent-protocol.md */
struct reply;
int op_schedule(struct agent *a, struct json_object *args, struct reply *r);
int op_schedule_report(struct agent *a, struct json_object *args, struct reply *r);
int op_pm_listen(struct agent *a, struct json_object *args, struct reply *r);
int op_pm_events(struct agent *a, struct json_object *args, struct reply *r);
/* Runs the items that are due; returns ms until the next (-1: none) */
int sched_tick(struct agent *a);
/* The path manager's socket to poll (-1: not listening), and its reading */
int pm_fd(struct agent *a);
void pm_read(struct agent *a);
void events_free(struct agent *a);

/* cable.c: is this NIC cabled to that one (docs/agent-protocol.md) */
struct reply;
int op_cable_arm(struct agent *a, struct json_object *args, struct reply *r);
int op_cable_send(struct agent *a, struct json_object *args, struct reply *r);
int op_cable_check(struct agent *a, struct json_object *args, struct reply *r);
void cable_close(struct agent *a);

/* alias.c: --alias NAME=DEV|NAME=mac:MAC, and the rewriting of requests and
 * replies between the topology's interface names and the machine's */
int alias_add(struct agent *a, const char *spec, char **err);
void alias_free(struct agent *a);
void alias_request(struct agent *a, struct json_object *args);
void alias_reply(struct agent *a, struct json_object *result);
struct json_object *alias_management(struct agent *a);

/* A reply on its way out: result or error. Handlers fill one of them. */
struct reply {
        struct json_object *result;
        const char *err_name; /* "EINVAL" */
        char *message;
        bool deferred;  /* answered later (a job's end, a condition) */
        int64_t req_id; /* the request's id, for an answer that comes later */
};

/* A condition the agent waits for without blocking its loop (link_wait,
 * wait_listen): looked at every few milliseconds between requests, jobs and
 * signals, and answered when it holds, fails or times out. */
struct cond_wait {
        int64_t req_id;
        uint64_t until_us, timeout_ms;
        char *dev;
        unsigned port;
        /* 1: done (r filled), 0: not yet, < 0: failed (r filled) */
        int (*check)(struct agent *a, struct cond_wait *w, struct reply *r);
        struct cond_wait *next;
};
/* Looks at every pending condition and answers the settled ones; returns the
 * poll timeout in ms until the next look (-1: none pending). */
int waits_tick(struct agent *a);
/* Answers every pending condition with ECANCELED (the agent is going). */
void waits_cancel(struct agent *a);

/* reply.c */
_printf_(3, 4) int reply_error(struct reply *r, int err, const char *fmt, ...);
void agent_send_reply(struct agent *a, int64_t id, struct reply *r);

/* names.c: a possible interface name (ifname_valid), an address with its prefix */
bool valid_ifname(const char *s);
bool valid_cidr(const char *s);
/* One request line: parsed, checked (version, id, NUL in strings, non-finite
 * numbers), dispatched and answered (request.c). */
void agent_handle_line(struct agent *a, const char *line);

int agent_dispatch(struct agent *a, int64_t id, const char *op, struct json_object *args,
                   struct reply *r);

/* jobs.c */
int job_spawn(struct agent *a, char *const *argv, char *const *env, uint64_t timeout_us,
              unsigned *ret_id);
struct job *job_find(struct agent *a, unsigned id);
struct json_object *job_result(const struct job *j);
/* Adds poll entries for all running jobs; returns the count added. */
unsigned jobs_pollfds(struct agent *a, struct pollfd *p, unsigned max, struct job **owners);
void jobs_handle(struct agent *a, struct pollfd *p, unsigned n, struct job **owners);
/* Enforces deadlines; returns ms until the next one (-1: none). */
int jobs_tick(struct agent *a);
void jobs_kill_all(struct agent *a);

/* undo.c */
enum undo_kind {
        UNDO_ADDR,
        UNDO_ROUTE,
        UNDO_RULE,
        UNDO_QDISC,
        UNDO_ENDPOINT,
        UNDO_LIMITS,
        UNDO_SYSCTL,
        UNDO_LINK,
        UNDO_DEVICE, /* a device the agent created: deleted */
};
void undo_push(struct agent *a, enum undo_kind kind, const char *s1, const char *s2, const char *s3,
               unsigned u1, unsigned u2);
bool undo_has(struct agent *a, enum undo_kind kind, const char *s1);
void undo_forget(struct agent *a, enum undo_kind kind, const char *s1, const char *s2,
                 const char *s3, unsigned u1, unsigned u2);
/* Every route recorded, added again (a link back up after a path event):
 * 0 with the count, or the first error */
int undo_routes_restore(struct agent *a, unsigned *ret);
/* Reverts everything recorded, newest first; returns how many steps failed. */
unsigned undo_all(struct agent *a, struct json_object *log);

/* netns.c */
int netns_enter_new(const char *name);
void netns_release(const char *name);

/* sysctl.c: "net.ipv4.ip_forward" to its /proc/sys path (-EINVAL for
 * anything that could leave /proc/sys); its value read (trailing newline
 * gone) or written */
int sysctl_path(const char *key, char *buf, size_t len);
int sysctl_read(const char *key, char **ret);
int sysctl_write(const char *key, const char *value);
