/* node.c - a run's calls to its nodes' agents, and its progress lines. */
#include "node.h"

#include "../shared/spawn.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

void progress(struct run *r, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        double el = (double)(now_usec() - r->t0) / 1e6;
        double left = (double)(r->expected_us > r->done_us ? r->expected_us - r->done_us : 0) / 1e6;
        fprintf(stderr, "mptcplab: [%6.1fs] %s (about %.0fs left)\n", el, msg, left);
}

/* One agent call, with an error that names the node and the step. */
int node_call(struct lab_node *n, const char *step, const char *op, struct json_object *args,
              int timeout_ms, struct json_object **ret, char **err)
{
        struct json_object *res = NULL;
        char *e = NULL;
        int r = agent_call(n->agent, op, args, timeout_ms, &res, &e);
        if (r < 0) {
                *err = xasprintf("node %s: %s: %s", n->tn->name, step, e);
                free(e);
                return r;
        }
        if (ret)
                *ret = res;
        else
                json_object_put(res);
        return 0;
}

struct json_object *job_wait(struct lab_node *n, const char *step, int64_t job, int timeout_ms,
                             char **err)
{
        struct json_object *res = NULL;
        if (node_call(n, step, "wait", agent_args("job", I(job), NULL), timeout_ms, &res, err) < 0)
                return NULL;
        return res;
}

const char *first_addr(const struct topo_node *tn, char *buf, size_t len)
{
        const struct topo_addr *a = topo_first_addr(tn);
        return a ? topo_addr_str(a, false, buf, (unsigned)len) : NULL;
}

/* the signal that asked the run to stop: a handler's, so file-scope (the
 * one state of the conductor that is not in a struct) */
static volatile sig_atomic_t got_signal;

bool run_signalled(void)
{
        return got_signal != 0;
}

int run_signal(void)
{
        return (int)got_signal;
}

void run_on_signal(int sig)
{
        if (got_signal) {
                /* a second ^C: go now. libvirt's autodestroy and the agents'
                 * parent-death signal still take everything down */
                signal(sig, SIG_DFL);
                raise(sig);
        }
        got_signal = sig;
        agent_interrupted = 1;
        spawn_interrupted = 1;
}
