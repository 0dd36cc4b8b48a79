/* undo.c - what the agent changed, so it can put the node back as it found it. */
#include "agent.h"

struct undo {
        enum undo_kind kind;
        char *s1, *s2, *s3;
        unsigned u1, u2;
        struct undo *next; /* newer first */
};

void undo_push(struct agent *a, enum undo_kind kind, const char *s1, const char *s2, const char *s3,
               unsigned u1, unsigned u2)
{
        struct undo *u = xcalloc(1, sizeof *u);
        *u = (struct undo){kind, xstrdup(s1), xstrdup(s2), xstrdup(s3), u1, u2, a->undo};
        a->undo = u;
}

bool undo_has(struct agent *a, enum undo_kind kind, const char *s1)
{
        for (struct undo *u = a->undo; u; u = u->next)
                if (u->kind == kind && (!s1 || (u->s1 && streq(u->s1, s1))))
                        return true;
        return false;
}

static void undo_free(struct undo *u)
{
        free(u->s1);
        free(u->s2);
        free(u->s3);
        free(u);
}

/* Drops the record of exactly this change (every field), which the client
 * reverted itself: deleting 10.0.0.1 must not forget that 10.0.0.2 was added. */
void undo_forget(struct agent *a, enum undo_kind kind, const char *s1, const char *s2,
                 const char *s3, unsigned u1, unsigned u2)
{
        for (struct undo **pp = &a->undo; *pp; pp = &(*pp)->next) {
                struct undo *u = *pp;
                if (u->kind == kind && streq_null(u->s1, s1) && streq_null(u->s2, s2) &&
                    streq_null(u->s3, s3) && u->u1 == u1 && u->u2 == u2) {
                        *pp = u->next;
                        undo_free(u);
                        return;
                }
        }
}

static int undo_one(struct agent *a, struct undo *u, char *what, size_t len)
{
        int r = 0;
        switch (u->kind) {
        case UNDO_ADDR:
                snprintf(what, len, "address %s on %s", u->s2, u->s1);
                r = nlr_addr_del(a->nl, u->s1, u->s2);
                break;
        case UNDO_ROUTE:
                snprintf(what, len, "route %s table %u", u->s1, u->u1);
                r = nlr_route_del(a->nl, u->s1, u->s2, u->s3, u->u1);
                break;
        case UNDO_RULE:
                snprintf(what, len, "rule from %s table %u", u->s1, u->u1);
                r = nlr_rule_del(a->nl, u->s1, u->u1, u->u2);
                break;
        case UNDO_QDISC:
                snprintf(what, len, "qdisc on %s", u->s1);
                r = nlr_qdisc_reset(a->nl, u->s1);
                break;
        case UNDO_ENDPOINT:
                snprintf(what, len, "mptcp endpoint %u", u->u1);
                r = a->mpm ? mpm_endpoint_del(a->mpm, u->u1) : 0;
                break;
        case UNDO_LIMITS:
                snprintf(what, len, "mptcp limits back to %u/%u", u->u1, u->u2);
                r = a->mpm ? mpm_limits_set(a->mpm, u->u1, u->u2) : 0;
                break;
        case UNDO_SYSCTL:
                snprintf(what, len, "sysctl %s back to %s", u->s1, u->s2);
                r = sysctl_write(u->s1, u->s2);
                break;
        case UNDO_DEVICE:
                snprintf(what, len, "bridge %s removed", u->s1);
                r = nlr_link_del(a->nl, u->s1);
                break;
        case UNDO_LINK:
                snprintf(what, len, "link %s back to %s mtu %u", u->s1, u->u1 ? "up" : "down",
                         u->u2);
                r = nlr_link_set(a->nl, u->s1, (int)u->u1, u->u2);
                if (r == -ENODEV)
                        r = 0;
                break;
        }
        return r;
}

unsigned undo_all(struct agent *a, struct json_object *log)
{
        unsigned failed = 0;
        while (a->undo) {
                struct undo *u = a->undo;
                a->undo = u->next;
                char what[512];
                int r = undo_one(a, u, what, sizeof what);
                if (r < 0) {
                        failed++;
                        log_warn("%s: cannot revert %s: %s", a->node, what, strerror(-r));
                }
                if (log) {
                        char *line = xasprintf("%s%s%s", what, r < 0 ? ": " : "",
                                               r < 0 ? strerror(-r) : "");
                        json_object_array_add(log, json_object_new_string(line));
                        free(line);
                }
                undo_free(u);
        }
        return failed;
}

int undo_routes_restore(struct agent *a, unsigned *ret)
{
        /* oldest first, as they were added (a gateway's own route before the
         * routes through it) */
        struct undo *v[1024];
        unsigned n = 0;
        for (struct undo *u = a->undo; u && n < ELEMENTSOF(v); u = u->next)
                if (u->kind == UNDO_ROUTE)
                        v[n++] = u;
        *ret = 0;
        while (n--) {
                int r = nlr_route_restore(a->nl, v[n]->s1, v[n]->s2, v[n]->s3, v[n]->u1);
                if (r < 0)
                        return r;
                (*ret)++;
        }
        return 0;
}
