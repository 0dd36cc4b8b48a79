#include "client.h"
#include "../shared/util.h"

#include <signal.h>

volatile int agent_interrupted;

static struct agent_conn *conn_new(const char *node)
{
        struct agent_conn *c = xcalloc(1, sizeof *c);
        c->node = xstrdup(node);
        c->in_fd = c->out_fd = -1;
        c->proc.in_fd = c->proc.out_fd = c->proc.err_fd = c->proc.pidfd = -1;
        c->next_id = 1;
        return c;
}

int agent_conn_spawn(const char *node, char *const *argv, struct agent_conn **ret)
{
        struct agent_conn *c = conn_new(node);
        /* own process group: a ^C reaches the controller only, which then tears
         * down in order; SIGTERM on our death lets the agent restore its node */
        struct spawn_opts o = {.argv = argv,
                               .pipe_stdin = true,
                               .pipe_stdout = true,
                               .new_pgrp = true,
                               .pdeathsig = SIGTERM};
        int r = spawn_start(&o, &c->proc);
        if (r < 0) {
                agent_conn_close(c, 0);
                return r;
        }
        c->in_fd = c->proc.out_fd;
        c->out_fd = c->proc.in_fd;
        line_reader_init(&c->lr, c->in_fd);
        *ret = c;
        return 0;
}

int agent_conn_fds(const char *node, int in_fd, int out_fd, struct agent_conn **ret)
{
        struct agent_conn *c = conn_new(node);
        c->in_fd = in_fd;
        c->out_fd = out_fd;
        line_reader_init(&c->lr, c->in_fd);
        *ret = c;
        return 0;
}

struct agent_conn *agent_conn_close(struct agent_conn *c, int timeout_ms)
{
        if (!c)
                return NULL;
        if (!c->broken && c->out_fd >= 0 && timeout_ms > 0) {
                char *err = NULL;
                struct json_object *res = NULL;
                int saved = agent_interrupted;
                agent_interrupted = 0; /* teardown must run even after ^C */
                if (agent_call(c, "bye", NULL, timeout_ms, &res, &err) < 0)
                        log_warn("%s: agent did not say bye: %s", c->node, err ? err : "?");
                else {
                        int64_t failed = 0;
                        if (jint(res, "failed", &failed) && failed)
                                log_warn("%s: agent could not revert %lld change(s)", c->node,
                                         (long long)failed);
                }
                agent_interrupted = saved;
                json_object_put(res);
                free(err);
        }
        if (c->proc.pid > 0) {
                spawn_close_fds(&c->proc); /* EOF on its stdin: it exits */
                c->in_fd = c->out_fd = -1;
                if (spawn_wait(&c->proc, timeout_ms > 0 ? timeout_ms : 2000, NULL) == -ETIMEDOUT)
                        spawn_stop(&c->proc, 3000);
        } else {
                if (c->in_fd >= 0)
                        close(c->in_fd);
                if (c->out_fd >= 0 && c->out_fd != c->in_fd)
                        close(c->out_fd);
        }
        line_reader_free(&c->lr);
        free(c->node);
        free(c);
        return NULL;
}

struct json_object *agent_args(const char *key, ...)
{
        struct json_object *o = json_object_new_object();
        va_list ap;
        va_start(ap, key);
        for (const char *k = key; k; k = va_arg(ap, const char *)) {
                struct json_object *v = va_arg(ap, struct json_object *);
                json_object_object_add(o, k, v);
        }
        va_end(ap);
        return o;
}

/* Sends OP with a new id (*ret_id). */
static int call_send(struct agent_conn *c, const char *op, struct json_object *args,
                     int64_t *ret_id, char **ret_error)
{
        if (c->broken) {
                json_object_put(args);
                *ret_error = xasprintf("agent connection is broken");
                return -EPIPE;
        }
        int64_t id = c->next_id++;
        struct json_object *req = json_object_new_object();
        json_object_object_add(req, "v", json_object_new_int(1));
        json_object_object_add(req, "id", json_object_new_int64(id));
        json_object_object_add(req, "op", json_object_new_string(op));
        if (args)
                json_object_object_add(req, "args", args);
        int r = json_write_line(c->out_fd, req);
        json_object_put(req);
        if (r < 0) {
                c->broken = true;
                *ret_error = xasprintf("cannot send %s: %s", op, strerror(-r));
                return r;
        }
        *ret_id = id;
        return 0;
}

/* Waits for the reply to a request of id first_id or later (a request sent
 * again has a new id; the replies to the earlier ones count as well) until
 * deadline (now_usec()). At a soft deadline: -EAGAIN, the connection still
 * good; at a hard one -ETIMEDOUT, and the stream is no longer trusted (the
 * error counts from started, when the call began). */
static int call_wait(struct agent_conn *c, const char *op, int64_t first_id, uint64_t started,
                     uint64_t deadline, bool soft, struct json_object **ret_result,
                     char **ret_error)
{
        for (;;) {
                if (agent_interrupted) {
                        *ret_error = xasprintf("interrupted during %s", op);
                        c->broken = true; /* a reply may still come: do not trust the stream */
                        return -EINTR;
                }
                uint64_t now = now_usec();
                if (now >= deadline) {
                        if (soft)
                                return -EAGAIN;
                        c->broken = true;
                        *ret_error = xasprintf("no reply to %s within %d ms", op,
                                               (int)((deadline - started) / 1000));
                        return -ETIMEDOUT;
                }
                if (c->health) {
                        char *why = NULL;
                        if (c->health(c->health_user, &why) < 0) {
                                c->broken = true;
                                *ret_error = xasprintf("%s during %s", why ? why : "node died", op);
                                free(why);
                                return -EHOSTDOWN;
                        }
                }
                int slice = (int)((deadline - now) / 1000 + 1);
                if (c->health && slice > 500)
                        slice = 500;
                char *line = NULL;
                int r = line_reader_next(&c->lr, slice, &line);
                if (r == -EINTR || r == -ETIMEDOUT)
                        continue;
                if (r <= 0) {
                        c->broken = true;
                        *ret_error = r == 0 ? xasprintf("agent closed the connection during %s", op)
                                            : xasprintf("reading the agent: %s", strerror(-r));
                        return r == 0 ? -EPIPE : r;
                }
                struct json_object *rep = json_tokener_parse(line);
                int64_t rid = -2;
                const char *refused = jstr(rep, "refused");
                if (refused) {
                        c->broken = c->refused = true;
                        *ret_error = xasprintf("the agent refused its node: %s", refused);
                        json_object_put(rep);
                        free(line);
                        return -EINVAL;
                }
                log_debug("%s: got %.80s", c->node, line);
                if (!rep || !jint(rep, "id", &rid) || rid < first_id || rid >= c->next_id) {
                        log_debug("%s: ignoring line from agent: %.200s", c->node, line);
                        json_object_put(rep);
                        free(line);
                        continue;
                }
                free(line);
                bool ok = false;
                jbool(rep, "ok", &ok);
                if (ok) {
                        struct json_object *res = jobj(rep, "result");
                        *ret_result = res ? json_object_get(res) : json_object_new_object();
                        json_object_put(rep);
                        return 0;
                }
                struct json_object *e = jobj(rep, "error");
                const char *msg = jstr(e, "message"), *en = jstr(e, "errno");
                *ret_error = xstrdup(msg ? msg : "unknown error");
                r = en ? errno_from_name(en) : -EIO;
                json_object_put(rep);
                return r;
        }
}

int agent_call(struct agent_conn *c, const char *op, struct json_object *args, int timeout_ms,
               struct json_object **ret_result, char **ret_error)
{
        *ret_result = NULL;
        *ret_error = NULL;
        int64_t id;
        int r = call_send(c, op, args, &id, ret_error);
        if (r < 0)
                return r;
        uint64_t started = now_usec();
        return call_wait(c, op, id, started, started + (uint64_t)timeout_ms * 1000, false,
                         ret_result, ret_error);
}

int agent_hello(struct agent_conn *c, int timeout_ms, int resend_ms,
                struct json_object **ret_result, char **ret_error)
{
        *ret_result = NULL;
        *ret_error = NULL;
        int64_t first = 0, id;
        uint64_t started = now_usec(), deadline = started + (uint64_t)timeout_ms * 1000;
        for (unsigned sent = 0;; sent++) {
                int r = call_send(c, "hello", NULL, &id, ret_error);
                if (r < 0)
                        return r;
                if (!sent)
                        first = id;
                else
                        log_debug("%s: no reply to hello yet: sent again", c->node);
                uint64_t next = now_usec() + (uint64_t)resend_ms * 1000;
                bool last = next >= deadline;
                r = call_wait(c, "hello", first, started, last ? deadline : next, !last, ret_result,
                              ret_error);
                if (r != -EAGAIN)
                        return r;
        }
}
