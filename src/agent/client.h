/* client.h - the controller's side of the agent protocol: one connection per
 * node over a byte stream (pipes to a local agent, a unix socket, a virtio
 * port, ssh). Calls are synchronous and every one has a deadline. */
#pragma once
#include "../shared/json.h"
#include "../shared/spawn.h"

struct agent_conn {
        char *node;
        int in_fd, out_fd; /* we read replies from in_fd, write requests to out_fd */
        struct spawn proc; /* pid 0 when the agent is not our child */
        struct line_reader lr;
        int64_t next_id;
        bool broken;
        /* the agent refused its node before serving (a bad inventory: the NIC
         * it was to take is the management one): bad input, not a broken node */
        bool refused;
        /* Asked every half second while a call waits: a backend that can tell the
         * node is dead (domain gone, kernel panic on its console) says so here,
         * and the call fails at once instead of at its deadline. */
        int (*health)(void *user, char **why);
        void *health_user;
};

/* Set by the controller's SIGINT/SIGTERM handler; calls return -EINTR once it is. */
extern volatile int agent_interrupted;

/* Starts a local agent with argv; the agent dies (and cleans up) if we do. */
int agent_conn_spawn(const char *node, char *const *argv, struct agent_conn **ret);
int agent_conn_fds(const char *node, int in_fd, int out_fd, struct agent_conn **ret);
/* Says bye (so the agent restores the node), closes, and reaps the agent. */
struct agent_conn *agent_conn_close(struct agent_conn *c, int timeout_ms);

/* Sends {op, args} (args is consumed; NULL for none) and waits for the reply.
 * Returns 0 and *ret_result (caller puts it), or -errno with *ret_error set to a
 * message (caller frees). */
int agent_call(struct agent_conn *c, const char *op, struct json_object *args, int timeout_ms,
               struct json_object **ret_result, char **ret_error);
/* hello, sent again every resend_ms until a reply to any of them comes or
 * timeout_ms pass: a request the node's channel lost while its agent was
 * starting (virtio-serial before the port is open) costs one resend, not
 * the run. hello is idempotent (the agent caches its answer). */
int agent_hello(struct agent_conn *c, int timeout_ms, int resend_ms,
                struct json_object **ret_result, char **ret_error);

/* Small builder: agent_args("dev", json_object_new_string("eth0"), ..., NULL). */
struct json_object *agent_args(const char *key, ...);
