/* events.c - a workload's path events, carried out by the agent at the
 * offsets the controller asked, on this node's monotonic clock ("schedule");
 * when each was applied, said after ("schedule_report"); and the kernel's
 * path-manager events heard meanwhile, each with the time it was read
 * ("pm_listen", "pm_events"). */
#include "agent.h"

#include <math.h>

#define SCHED_MAX  256
#define PM_LOG_MAX 20000

struct sched_item {
        uint64_t due_us, applied_us, done_us;
        char *op;
        struct json_object *args;
        char *error; /* NULL: applied (when applied_us) */
        bool done;
};

/* What a path event may do: change a link, a qdisc, an endpoint, an address */
static const char *const schedulable[] = {
        "link_set",           "qdisc_set",          "qdisc_reset",
        "mptcp_endpoint_add", "mptcp_endpoint_del", "mptcp_endpoint_backup",
        "addr_del",
};

static void sched_clear(struct agent *a)
{
        for (unsigned i = 0; i < a->n_sched; i++) {
                free(a->sched[i].op);
                json_object_put(a->sched[i].args);
                free(a->sched[i].error);
        }
        free(a->sched);
        a->sched = NULL;
        a->n_sched = 0;
}

void events_free(struct agent *a)
{
        sched_clear(a);
        a->pm = mpm_events_close(a->pm);
        json_object_put(a->pm_log);
        a->pm_log = NULL;
}

/* {"items": [{"in_us": N, "op": NAME, "args": {...}}, ...]}: each item's op
 * runs N us after this request was read (or at "at_us" on this node's
 * monotonic clock, as "now_us" of a reply says it). Every item is checked before any is
 * taken; a schedule replaces one that has not been reported. */
int op_schedule(struct agent *a, struct json_object *args, struct reply *r)
{
        uint64_t t0 = now_usec();
        struct json_object *items = jarr(args, "items");
        size_t n = jlen(items);
        if (!items || n == 0 || n > SCHED_MAX)
                return reply_error(r, -EINVAL, "argument \"items\" must be a list of 1 to %d",
                                   SCHED_MAX);
        for (size_t i = 0; i < n; i++) {
                struct json_object *it = json_object_array_get_idx(items, i);
                const char *op = jstr(it, "op");
                int64_t in = -1;
                bool known = false;
                for (unsigned k = 0; op && k < ELEMENTSOF(schedulable); k++)
                        known |= streq(op, schedulable[k]);
                if (!known)
                        return reply_error(r, -EINVAL,
                                           "item %zu: \"op\" must be one of link_set, qdisc_set, "
                                           "qdisc_reset, mptcp_endpoint_add, mptcp_endpoint_del, "
                                           "mptcp_endpoint_backup, addr_del",
                                           i);
                int64_t at = -1;
                if (jint(it, "at_us", &at)) {
                        /* an instant on this node's clock (the controller knows the
                         * offset): from a second ago to an hour ahead */
                        if (at < (int64_t)t0 - 1000000 || at > (int64_t)t0 + 3600000000LL)
                                return reply_error(r, -EINVAL,
                                                   "item %zu: \"at_us\" %lld is not within an "
                                                   "hour of this node's clock (%llu)",
                                                   i, (long long)at, (unsigned long long)t0);
                } else if (!jint(it, "in_us", &in) || in < 0 || in > 3600000000LL)
                        return reply_error(r, -EINVAL,
                                           "item %zu: \"in_us\" (or \"at_us\") must be 0 to "
                                           "3600000000",
                                           i);
                if (!json_object_is_type(jobj(it, "args"), json_type_object))
                        return reply_error(r, -EINVAL, "item %zu: \"args\" must be an object", i);
        }
        sched_clear(a);
        a->sched = xcalloc(n, sizeof *a->sched);
        a->n_sched = (unsigned)n;
        a->sched_t0_us = t0;
        for (size_t i = 0; i < n; i++) {
                struct json_object *it = json_object_array_get_idx(items, i);
                int64_t in = 0, at = -1;
                jint(it, "in_us", &in);
                a->sched[i].due_us = jint(it, "at_us", &at) ? (uint64_t)at : t0 + (uint64_t)in;
                a->sched[i].op = xstrdup(jstr(it, "op"));
                a->sched[i].args = json_object_get(jobj(it, "args"));
        }
        r->result = json_object_new_object();
        json_object_object_add(r->result, "now_us", json_object_new_int64((int64_t)t0));
        return 0;
}

int sched_tick(struct agent *a)
{
        uint64_t next = 0;
        for (unsigned i = 0; i < a->n_sched; i++) {
                struct sched_item *s = &a->sched[i];
                if (s->done)
                        continue;
                uint64_t now = now_usec();
                if (now < s->due_us) {
                        if (!next || s->due_us < next)
                                next = s->due_us;
                        continue;
                }
                struct reply rep = {0};
                s->applied_us = now;
                agent_dispatch(a, -1, s->op, s->args, &rep);
                s->done_us = now_usec();
                s->done = true;
                if (rep.message) {
                        s->error = rep.message;
                        rep.message = NULL;
                        log_warn("%s: scheduled %s failed: %s", a->node, s->op, s->error);
                }
                json_object_put(rep.result);
        }
        if (!next)
                return -1;
        uint64_t now = now_usec();
        /* poll sleeps with a slack of 0.1% of its timeout (up to 100 ms): a
         * 10 s wait woke 5 to 10 ms late. Sleeps of at most 200 ms keep it
         * under 0.2 ms, and the last 2 ms are turned through without
         * sleeping (a wake-up's own latency) */
        if (next <= now + 2000)
                return 0;
        uint64_t ms = (next - now - 2000) / 1000;
        return (int)(ms < 200 ? ms : 200);
}

/* Each item: when it was asked and applied, on this node's clock (us since
 * the schedule was read: "t0_us"), how long it took, and its error. Items not yet
 * due are cancelled and said so. */
int op_schedule_report(struct agent *a, struct json_object *args, struct reply *r)
{
        struct json_object *items = json_object_new_array();
        for (unsigned i = 0; i < a->n_sched; i++) {
                const struct sched_item *s = &a->sched[i];
                struct json_object *o = json_object_new_object();
                json_object_object_add(o, "op", json_object_new_string(s->op));
                json_object_object_add(
                        o, "asked_us",
                        json_object_new_int64((int64_t)s->due_us - (int64_t)a->sched_t0_us));
                json_object_object_add(
                        o, "applied_us",
                        s->done ? json_object_new_int64((int64_t)(s->applied_us - a->sched_t0_us))
                                : NULL);
                json_object_object_add(
                        o, "took_us",
                        s->done ? json_object_new_int64((int64_t)(s->done_us - s->applied_us))
                                : NULL);
                json_object_object_add(o, "error",
                                       !s->done   ? json_object_new_string("not due yet: cancelled")
                                       : s->error ? json_object_new_string(s->error)
                                                  : NULL);
                json_object_array_add(items, o);
        }
        sched_clear(a);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "t0_us", json_object_new_int64((int64_t)a->sched_t0_us));
        json_object_object_add(r->result, "items", items);
        return 0;
}

int op_pm_listen(struct agent *a, struct json_object *args, struct reply *r)
{
        if (a->dry_run) {
                r->result = json_object_new_object();
                return 0;
        }
        a->pm = mpm_events_close(a->pm);
        json_object_put(a->pm_log);
        a->pm_log = json_object_new_array();
        a->pm_dropped = 0;
        int e = mpm_events_open(&a->pm);
        if (e < 0)
                return reply_error(r, e, "the mptcp_pm event group: %s", strerror(-e));
        a->pm_t0_us = now_usec();
        r->result = json_object_new_object();
        json_object_object_add(r->result, "now_us", json_object_new_int64((int64_t)a->pm_t0_us));
        return 0;
}

int pm_fd(struct agent *a)
{
        return a->pm ? mpm_events_fd(a->pm) : -1;
}

static void pm_one(const struct mpm_event *e, void *user)
{
        struct agent *a = user;
        if (json_object_array_length(a->pm_log) >= PM_LOG_MAX) {
                a->pm_dropped++;
                return;
        }
        struct json_object *o = json_object_new_object();
        /* us since pm_listen, on this node's clock */
        json_object_object_add(o, "t_us",
                               json_object_new_int64((int64_t)(e->t_ns / 1000 - a->pm_t0_us)));
        json_object_object_add(o, "type", json_object_new_string(mpm_event_name(e->type)));
        json_object_object_add(o, "token", json_object_new_int64(e->token));
        if (*e->saddr)
                json_object_object_add(o, "saddr", json_object_new_string(e->saddr));
        if (*e->daddr)
                json_object_object_add(o, "daddr", json_object_new_string(e->daddr));
        if (e->sport)
                json_object_object_add(o, "sport", json_object_new_int((int)e->sport));
        if (e->dport)
                json_object_object_add(o, "dport", json_object_new_int((int)e->dport));
        json_object_object_add(o, "loc_id", json_object_new_int((int)e->loc_id));
        json_object_object_add(o, "rem_id", json_object_new_int((int)e->rem_id));
        if (e->backup >= 0)
                json_object_object_add(o, "backup", json_object_new_boolean(e->backup));
        if (e->error >= 0)
                json_object_object_add(o, "error", json_object_new_int(e->error));
        json_object_array_add(a->pm_log, o);
}

void pm_read(struct agent *a)
{
        if (a->pm && mpm_events_read(a->pm, pm_one, a) < 0)
                log_warn("%s: reading the path manager's events: %s", a->node, nl_last_error());
}

/* What was heard since pm_listen; the listening stops */
int op_pm_events(struct agent *a, struct json_object *args, struct reply *r)
{
        if (!a->pm && !a->pm_log)
                return reply_error(r, -ENOENT, "not listening (pm_listen first)");
        pm_read(a);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "events",
                               a->pm_log ? a->pm_log : json_object_new_array());
        json_object_object_add(r->result, "dropped", json_object_new_int((int)a->pm_dropped));
        a->pm_log = NULL;
        a->pm = mpm_events_close(a->pm);
        return 0;
}
