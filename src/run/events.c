/* events.c - a workload's path events through the agents (events.h).
 *
 * Every node keeps its own monotonic clock (a VM's is not the host's). The
 * controller reads each node's with pm_listen, before the client starts, and
 * keeps its offset (the agent's reading against the middle of the call; off
 * by at most half the call's round trip, which is recorded). Events are sent
 * as instants on each node's clock; what the agents report, the path
 * manager's events and the receiver's bins all come back to the
 * controller's clock through these offsets, and from there to the measured
 * window's start. */
#include "events.h"
#include "configure.h"
#include "../results/events.h"
#include "../shared/limits.h"

#include <math.h>

static struct ev_node *node_of(const struct run *r, struct wl_events *x, unsigned ni)
{
        struct lab_node *n = &r->lab->nodes[ni];
        for (unsigned i = 0; i < x->n; i++)
                if (x->nodes[i].n == n)
                        return &x->nodes[i];
        x->nodes = xreallocarray(x->nodes, x->n + 1, sizeof *x->nodes);
        x->nodes[x->n] = (struct ev_node){.n = n, .pm_t0_us = -1, .items = json_object_new_array()};
        return &x->nodes[x->n++];
}

static void add_item(struct ev_node *en, unsigned ev, uint64_t at_us, const char *op,
                     struct json_object *args)
{
        struct json_object *it = json_object_new_object();
        json_object_object_add(it, "at_rel_us", I(at_us));
        json_object_object_add(it, "op", S(op));
        json_object_object_add(it, "args", args);
        json_object_array_add(en->items, it);
        en->item_event = xreallocarray(en->item_event, en->n_items + 1, sizeof *en->item_event);
        en->item_event[en->n_items++] = ev;
}

/* What one event asks of which nodes */
static void plan(const struct run *r, struct wl_events *x, unsigned k, const struct topo_event *e)
{
        const struct topo *t = r->lab->t;
        if (e->link >= 0) {
                const struct topo_link *l = &t->links[e->link];
                for (unsigned s = 0; s < 2; s++) {
                        unsigned ni = l->end[s].node;
                        const char *dev = t->nodes[ni].ifaces[l->end[s].iface].name;
                        /* the shaping of direction s sits on its sender, end s */
                        bool mine = e->dirs & (s ? TOPO_DIR_BA : TOPO_DIR_AB);
                        struct ev_node *en = node_of(r, x, ni);
                        switch (e->action) {
                        case TOPO_EV_DOWN:
                        case TOPO_EV_UP:
                                add_item(
                                        en, k, e->at_us, "link_set",
                                        agent_args("dev", S(dev), "up",
                                                   json_object_new_boolean(e->action == TOPO_EV_UP),
                                                   NULL));
                                break;
                        case TOPO_EV_BLACKHOLE:
                                if (mine)
                                        add_item(en, k, e->at_us, "qdisc_set",
                                                 agent_args("dev", S(dev), "blackhole",
                                                            json_object_new_boolean(true), NULL));
                                break;
                        case TOPO_EV_RESTORE:
                                if (mine && l->shape[s].set)
                                        add_item(en, k, e->at_us, "qdisc_set",
                                                 shape_args(dev, &l->shape[s]));
                                else if (mine)
                                        add_item(en, k, e->at_us, "qdisc_reset",
                                                 agent_args("dev", S(dev), NULL));
                                break;
                        case TOPO_EV_SHAPE:
                                if (mine)
                                        add_item(en, k, e->at_us, "qdisc_set",
                                                 shape_args(dev, &e->shape));
                                break;
                        default:
                                break;
                        }
                }
                return;
        }
        const struct topo_node *tn = &t->nodes[e->node];
        struct ev_node *en = node_of(r, x, (unsigned)e->node);
        char buf[64];
        if (e->action == TOPO_EV_ADDRESS_DEL) {
                const struct topo_iface *ifc = &tn->ifaces[e->iface];
                const struct topo_addr *a = &ifc->addrs[0];
                for (unsigned i = 0; e->addr.family && i < ifc->n_addrs; i++)
                        if (ifc->addrs[i].family == e->addr.family &&
                            !memcmp(&ifc->addrs[i].u, &e->addr.u, sizeof e->addr.u))
                                a = &ifc->addrs[i];
                add_item(en, k, e->at_us, "addr_del",
                         agent_args("dev", S(ifc->name), "addr",
                                    S(topo_addr_str(a, true, buf, sizeof buf)), NULL));
                return;
        }
        const struct topo_endpoint *ep = &tn->mptcp.endpoints[e->endpoint];
        const char *addr = topo_addr_str(endpoint_addr(tn, ep), false, buf, sizeof buf);
        if (e->action == TOPO_EV_ENDPOINT_DEL)
                add_item(en, k, e->at_us, "mptcp_endpoint_del", agent_args("addr", S(addr), NULL));
        else if (e->action == TOPO_EV_ENDPOINT_ADD)
                add_item(en, k, e->at_us, "mptcp_endpoint_add", endpoint_args(tn, ep));
        else if (e->action == TOPO_EV_BACKUP)
                add_item(en, k, e->at_us, "mptcp_endpoint_backup",
                         agent_args("addr", S(addr), "backup", json_object_new_boolean(e->backup),
                                    NULL));
}

int events_prepare(struct run *r, const struct topo_workload *w, struct wl_events *x, char **err)
{
        *x = (struct wl_events){0};
        node_of(r, x, w->from);
        node_of(r, x, w->to);
        for (unsigned k = 0; k < w->n_events; k++)
                plan(r, x, k, &w->events[k]);
        for (unsigned i = 0; i < x->n; i++) {
                struct ev_node *en = &x->nodes[i];
                struct json_object *o = NULL;
                uint64_t c0 = now_usec();
                int e = node_call(en->n, "path events", "pm_listen", NULL, CALL_MS, &o, err);
                uint64_t c1 = now_usec();
                int64_t now = -1;
                jint(o, "now_us", &now);
                json_object_put(o);
                if (e < 0)
                        return e;
                if (now < 0) {
                        *err = xasprintf("node %s: path events: pm_listen gave no clock",
                                         en->n->tn->name);
                        return -EPROTO;
                }
                en->offset_us = now - (int64_t)((c0 + c1) / 2);
                en->uncert_us = (int64_t)(c1 - c0 + 1) / 2;
                en->pm_t0_us = now;
        }
        return 0;
}

int events_schedule(struct wl_events *x, uint64_t zero_us, char **err)
{
        x->zero_us = zero_us;
        for (unsigned i = 0; i < x->n; i++) {
                struct ev_node *en = &x->nodes[i];
                if (!en->n_items)
                        continue;
                for (unsigned k = 0; k < en->n_items; k++) {
                        struct json_object *it = json_object_array_get_idx(en->items, k);
                        int64_t at = 0;
                        jint(it, "at_rel_us", &at);
                        json_object_object_add(
                                it, "at_us",
                                json_object_new_int64((int64_t)zero_us + at + en->offset_us));
                        json_object_object_del(it, "at_rel_us");
                }
                int e = node_call(en->n, "path events", "schedule",
                                  agent_args("items", json_object_get(en->items), NULL), CALL_MS,
                                  NULL, err);
                if (e < 0)
                        return e;
        }
        return 0;
}

static double *bins_read_key(struct json_object *b, const char *key, unsigned *n, double *width,
                             int64_t *start);

/* Bytes, sane: a list of counts from a guest */
static double *bins_read(struct json_object *b, unsigned *n, double *width, int64_t *start)
{
        return bins_read_key(b, "bytes", n, width, start);
}

/* Another series of the same shape; false when absent or malformed (or of
 * another length than one read before it, *n when not 0) */
static bool bins_series(struct json_object *b, const char *key, double **ret, unsigned *n,
                        double *width, int64_t *start)
{
        unsigned m = 0;
        *ret = bins_read_key(b, key, &m, width, start);
        if (*ret && *n && m != *n) {
                free(*ret);
                *ret = NULL;
        }
        if (*ret)
                *n = m;
        return *ret != NULL;
}

static double *bins_read_key(struct json_object *b, const char *key, unsigned *n, double *width,
                             int64_t *start)
{
        struct json_object *arr = jarr(b, key);
        *n = 0;
        if (!arr || !jdouble(b, "width_s", width) || !(*width >= 0.001 && *width <= 1) ||
            !jint(b, "start_us", start) || jlen(arr) == 0 || jlen(arr) > 1000000)
                return NULL;
        double *v = xcalloc(jlen(arr), sizeof *v);
        for (size_t i = 0; i < jlen(arr); i++) {
                struct json_object *o = json_object_array_get_idx(arr, i);
                v[i] = json_object_get_double(o);
                if (!json_object_is_type(o, json_type_int) || !isfinite(v[i]) || v[i] < 0) {
                        free(v);
                        return NULL;
                }
        }
        *n = (unsigned)jlen(arr);
        return v;
}

static int dcmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* The capacity the receiver can get after each event: the direct links
 * between the two ends that are up, not blackholed the data's way, with
 * their endpoints and addresses, not backups while another path is there;
 * 0 when one of them is unshaped (unknown) */
static void capacities(const struct topo *t, const struct topo_workload *w, struct ev_result *ev)
{
        unsigned from = w->reverse ? w->to : w->from, to = w->reverse ? w->from : w->to;
        bool up[LIM_TOPO_LINKS], hole[LIM_TOPO_LINKS], gone[LIM_TOPO_LINKS], bk[LIM_TOPO_LINKS];
        uint64_t rate[LIM_TOPO_LINKS];
        for (unsigned l = 0; l < t->n_links && l < LIM_TOPO_LINKS; l++) {
                const struct topo_link *lk = &t->links[l];
                unsigned s = lk->end[0].node == from ? 0 : 1;
                up[l] = true;
                hole[l] = gone[l] = bk[l] = false;
                rate[l] = lk->shape[s].set ? lk->shape[s].rate_bps : 0;
                /* a backup endpoint on either end of the link */
                for (unsigned e = 0; e < 2; e++) {
                        const struct topo_node *tn = &t->nodes[lk->end[e].node];
                        const char *dev = tn->ifaces[lk->end[e].iface].name;
                        for (unsigned i = 0; i < tn->mptcp.n_endpoints; i++)
                                if (streq(tn->mptcp.endpoints[i].dev, dev) &&
                                    (tn->mptcp.endpoints[i].flags & TOPO_EP_BACKUP))
                                        bk[l] = true;
                }
        }
        for (unsigned k = 0; k < w->n_events; k++) {
                const struct topo_event *e = &w->events[k];
                int l = e->link;
                if (l < 0) {
                        /* the link of the node's interface */
                        l = t->nodes[e->node].ifaces[e->iface].link;
                }
                const struct topo_link *lk = &t->links[l];
                unsigned s = lk->end[0].node == from ? 0 : 1;
                unsigned mydir = s ? TOPO_DIR_BA : TOPO_DIR_AB;
                switch (e->action) {
                case TOPO_EV_DOWN:
                        up[l] = false;
                        break;
                case TOPO_EV_UP:
                        up[l] = true;
                        break;
                case TOPO_EV_BLACKHOLE:
                        hole[l] = true;
                        break; /* data or its acks: gone */
                case TOPO_EV_RESTORE:
                        hole[l] = false;
                        rate[l] = lk->shape[s].set ? lk->shape[s].rate_bps : 0;
                        break;
                case TOPO_EV_SHAPE:
                        hole[l] = false;
                        if (e->dirs & mydir)
                                rate[l] = e->shape.rate_bps;
                        break;
                case TOPO_EV_ENDPOINT_DEL:
                case TOPO_EV_ADDRESS_DEL:
                        gone[l] = true;
                        break;
                case TOPO_EV_ENDPOINT_ADD:
                        gone[l] = false;
                        break;
                case TOPO_EV_BACKUP:
                        bk[l] = e->backup;
                        break;
                }
                uint64_t sum[2] = {0, 0}; /* [0]: active paths, [1]: backups */
                bool unknown[2] = {false, false}, any[2] = {false, false};
                for (unsigned m = 0; m < t->n_links && m < LIM_TOPO_LINKS; m++) {
                        const struct topo_link *x = &t->links[m];
                        bool between = (x->end[0].node == from && x->end[1].node == to) ||
                                       (x->end[0].node == to && x->end[1].node == from);
                        if (!between || !up[m] || hole[m] || gone[m])
                                continue;
                        any[bk[m]] = true;
                        sum[bk[m]] += rate[m];
                        unknown[bk[m]] |= rate[m] == 0;
                }
                unsigned use = any[0] ? 0 : 1;
                ev[k].target_bps = unknown[use] ? 0 : (double)sum[use];
        }
}

/* The smallest round trip among the sender's subflows in its last sample
 * before t (s from the window's start), from the run's intervals; -1 */
static double rtt_before(struct json_object *intervals, double t)
{
        double best = -1;
        for (size_t i = 0; i < jlen(intervals); i++) {
                struct json_object *iv = json_object_array_get_idx(intervals, i);
                double it = -1;
                jdouble(iv, "t", &it);
                if (it > t)
                        break;
                struct json_object *sf = jarr(iv, "subflows");
                double b = -1;
                for (size_t k = 0; k < jlen(sf); k++) {
                        double rtt = -1;
                        jdouble(json_object_array_get_idx(sf, k), "rtt_us", &rtt);
                        if (rtt > 0 && rtt < 60e6 && (b < 0 || rtt < b))
                                b = rtt;
                }
                if (b > 0)
                        best = b / 1e6;
        }
        return best;
}

int events_collect(struct run *r, const struct topo_workload *w, struct wl_events *x,
                   struct json_object *client_report, struct wl_result *res, char **err)
{
        const struct topo *t = r->lab->t;
        res->n_events = w->n_events;
        res->events = xcalloc(w->n_events, sizeof *res->events);
        for (unsigned k = 0; k < w->n_events; k++)
                res->events[k] = (struct ev_result){.ev = &w->events[k],
                                                    .at_s = (double)w->events[k].at_us / 1e6,
                                                    .applied_s = -1,
                                                    .late_ms = -1,
                                                    .node_late_ms = -1e9};
        /* what each node applied, when, on the controller's line from the window's start */
        for (unsigned i = 0; i < x->n; i++) {
                struct ev_node *en = &x->nodes[i];
                if (!en->n_items)
                        continue;
                struct json_object *o = NULL;
                int e = node_call(en->n, "path events", "schedule_report", NULL, CALL_MS, &o, err);
                if (e < 0)
                        return e;
                int64_t t0 = 0;
                jint(o, "t0_us", &t0);
                struct json_object *items = jarr(o, "items");
                for (unsigned k = 0; k < en->n_items && k < jlen(items); k++) {
                        struct json_object *it = json_object_array_get_idx(items, k);
                        struct ev_result *er = &res->events[en->item_event[k]];
                        const char *ierr = jstr(it, "error");
                        int64_t applied = -1;
                        if (ierr && !er->error)
                                er->error = xasprintf("node %s: %s: %s", en->n->tn->name,
                                                      jstr(it, "op") ?: "?", ierr);
                        int64_t asked = 0;
                        if (!jint(it, "applied_us", &applied) || applied < 0)
                                continue;
                        jint(it, "asked_us", &asked);
                        if ((double)(applied - asked) / 1e3 > er->node_late_ms)
                                er->node_late_ms = (double)(applied - asked) / 1e3;
                        if ((double)en->uncert_us / 1e3 > er->clock_uncert_ms)
                                er->clock_uncert_ms = (double)en->uncert_us / 1e3;
                        double s =
                                (double)(t0 + applied - en->offset_us - (int64_t)x->zero_us) / 1e6;
                        if (s > er->applied_s)
                                er->applied_s = s;
                }
                json_object_put(o);
        }
        for (unsigned k = 0; k < w->n_events; k++)
                if (res->events[k].applied_s >= 0)
                        res->events[k].late_ms =
                                (res->events[k].applied_s - res->events[k].at_s) * 1e3;
        /* the path manager, both ends, on the same line */
        res->pm_events = json_object_new_object();
        double *pm = NULL;
        unsigned n_pm = 0;
        for (unsigned i = 0; i < x->n; i++) {
                struct ev_node *en = &x->nodes[i];
                if (en->n != &r->lab->nodes[w->from] && en->n != &r->lab->nodes[w->to])
                        continue;
                struct json_object *o = NULL;
                int e = node_call(en->n, "path events", "pm_events", NULL, CALL_MS, &o, err);
                if (e < 0) {
                        free(pm);
                        return e;
                }
                struct json_object *evs = jarr(o, "events"), *out = json_object_new_array();
                for (size_t k = 0; k < jlen(evs); k++) {
                        struct json_object *pe = json_object_array_get_idx(evs, k);
                        int64_t tu = -1;
                        if (!jint(pe, "t_us", &tu) || tu < 0)
                                continue;
                        double s =
                                (double)(en->pm_t0_us + tu - en->offset_us - (int64_t)x->zero_us) /
                                1e6;
                        struct json_object *c = NULL;
                        json_object_deep_copy(pe, &c, NULL);
                        json_object_object_del(c, "t_us");
                        json_object_object_add(c, "t_s", json_object_new_double(s));
                        json_object_array_add(out, c);
                        /* a reaction to a path event is about subflows and
                         * addresses: not a connection's opening or end, nor
                         * the listener's */
                        const char *ty = jstr(pe, "type");
                        if (ty && (!strncmp(ty, "sub_", 4) || streq(ty, "announced") ||
                                   streq(ty, "removed"))) {
                                pm = xreallocarray(pm, n_pm + 1, sizeof *pm);
                                pm[n_pm++] = s;
                        }
                }
                json_object_object_add(res->pm_events, en->n->tn->name, out);
                json_object_put(o);
        }
        qsort(pm, n_pm, sizeof *pm, dcmp);
        /* the receiver's bins, from the server's clock */
        unsigned nb = 0;
        double width = 0;
        int64_t start = 0;
        struct ev_node *srv = node_of(r, x, w->to);
        double *bytes = bins_read(jobj(client_report, "receiver_bins"), &nb, &width, &start);
        if (!bytes) {
                free(pm);
                *err = xasprintf("workload %s: the receiver's bins are missing or malformed",
                                 w->name);
                return -EPROTO;
        }
        struct json_object *b = json_object_new_object(), *arr = json_object_new_array();
        for (unsigned i = 0; i < nb; i++)
                json_object_array_add(arr, json_object_new_int64((int64_t)bytes[i]));
        /* a fixed-size transfer's events end with it: its bins past the last
         * byte are the deadline's, not an outage */
        if (w->size_bytes && res->completion_s > 0 && res->completion_s / width < (double)nb)
                nb = (unsigned)ceil(res->completion_s / width);
        struct ev_timeline tl = {
                .bytes = bytes,
                .n = nb,
                .width_s = width,
                .t0_s = (double)(start - srv->offset_us - (int64_t)x->zero_us) / 1e6,
                .pm_s = pm,
                .n_pm = n_pm,
                .end_s = w->size_bytes && res->completion_s > 0 ? res->completion_s
                                                                : (double)w->duration_us / 1e6};
        json_object_object_add(b, "width_s", json_object_new_double(width));
        json_object_object_add(b, "t0_s", json_object_new_double(tl.t0_s));
        json_object_object_add(b, "bytes", arr);
        res->bins = b;
        capacities(t, w, res->events);
        /* the kernel's bounds: a round trip of what remains (carrier gone, an
         * endpoint or address removed, a backup flipped); a blackhole is only
         * noticed by a retransmission timeout, 200 ms at least, first */
        for (unsigned k = 0; k < w->n_events; k++) {
                struct ev_result *er = &res->events[k];
                /* the run's intervals: t from the window's start */
                double rtt = rtt_before(res->intervals, er->at_s);
                er->bound_s = -1;
                if (rtt > 0 && topo_ev_disrupts(er->ev->action) && er->ev->action != TOPO_EV_SHAPE)
                        er->bound_s = er->ev->action == TOPO_EV_BLACKHOLE ? 0.2 + rtt : rtt;
        }
        /* rr and crr: the client's latency bins, from its clock */
        struct json_object *lb = jobj(client_report, "latency_bins");
        double *lmax = NULL, *lslow = NULL;
        unsigned nl = 0;
        double lw = 0;
        int64_t lstart = 0;
        if (lb && bins_series(lb, "max_us", &lmax, &nl, &lw, &lstart) &&
            bins_series(lb, "over_1s", &lslow, &nl, &lw, &lstart)) {
                struct ev_node *cl = node_of(r, x, w->from);
                tl.lat_max_us = lmax;
                tl.lat_slow = lslow;
                tl.n_lat = nl;
                tl.lat_width_s = lw;
                tl.lat_t0_s = (double)(lstart - cl->offset_us - (int64_t)x->zero_us) / 1e6;
        }
        events_compute(&tl, res->events, res->n_events);
        free(lmax);
        free(lslow);
        free(bytes);
        free(pm);
        return 0;
}

void events_cancel(struct wl_events *x)
{
        for (unsigned i = 0; i < x->n; i++) {
                char *ignored = NULL;
                if (x->nodes[i].n_items)
                        node_call(x->nodes[i].n, "path events", "schedule_report", NULL, CALL_MS,
                                  NULL, &ignored);
                if (x->nodes[i].pm_t0_us >= 0)
                        node_call(x->nodes[i].n, "path events", "pm_events", NULL, CALL_MS, NULL,
                                  &ignored);
                free(ignored);
        }
}

/* One call; its error kept only when it is the first */
static int call(struct lab_node *n, const char *op, struct json_object *args, int *first,
                char **err)
{
        char *e1 = NULL;
        int e = node_call(n, "putting the paths back", op, args, CALL_MS, NULL, &e1);
        if (e < 0 && *first == 0) {
                *first = e;
                *err = e1;
                e1 = NULL;
        }
        free(e1);
        return e;
}

int events_restore(struct run *r, const struct topo_workload *w, char **err)
{
        const struct topo *t = r->lab->t;
        int first = 0;
        char buf[64];
        bool link_done[LIM_TOPO_LINKS] = {false};
        for (unsigned k = 0; k < w->n_events; k++) {
                const struct topo_event *e = &w->events[k];
                if (e->link >= 0 && !link_done[e->link]) {
                        const struct topo_link *l = &t->links[e->link];
                        link_done[e->link] = true;
                        for (unsigned s = 0; s < 2; s++) {
                                struct lab_node *n = &r->lab->nodes[l->end[s].node];
                                const char *dev = n->tn->ifaces[l->end[s].iface].name;
                                call(n, "link_set",
                                     agent_args("dev", S(dev), "up", json_object_new_boolean(true),
                                                NULL),
                                     &first, err);
                                if (l->shape[s].set)
                                        call(n, "qdisc_set", shape_args(dev, &l->shape[s]), &first,
                                             err);
                                else
                                        call(n, "qdisc_reset", agent_args("dev", S(dev), NULL),
                                             &first, err);
                        }
                        continue;
                }
                if (e->node < 0)
                        continue;
                struct lab_node *n = &r->lab->nodes[e->node];
                const struct topo_node *tn = n->tn;
                if (e->action == TOPO_EV_ADDRESS_DEL) {
                        const struct topo_iface *ifc = &tn->ifaces[e->iface];
                        for (unsigned i = 0; i < ifc->n_addrs; i++) {
                                char *ignored = NULL;
                                /* the ones still there say EEXIST: not an error */
                                node_call(n, "putting the paths back", "addr_add",
                                          agent_args("dev", S(ifc->name), "addr",
                                                     S(topo_addr_str(&ifc->addrs[i], true, buf,
                                                                     sizeof buf)),
                                                     NULL),
                                          CALL_MS, NULL, &ignored);
                                free(ignored);
                        }
                        continue;
                }
                /* an endpoint: as the topology has it, whatever happened to it */
                const struct topo_endpoint *ep = &tn->mptcp.endpoints[e->endpoint];
                char *ignored = NULL;
                node_call(
                        n, "putting the paths back", "mptcp_endpoint_del",
                        agent_args("addr",
                                   S(topo_addr_str(endpoint_addr(tn, ep), false, buf, sizeof buf)),
                                   NULL),
                        CALL_MS, NULL, &ignored);
                free(ignored);
                call(n, "mptcp_endpoint_add", endpoint_args(tn, ep), &first, err);
        }
        return first;
}

void events_clear(struct wl_events *x)
{
        for (unsigned i = 0; i < x->n; i++) {
                json_object_put(x->nodes[i].items);
                free(x->nodes[i].item_event);
        }
        free(x->nodes);
        *x = (struct wl_events){0};
}
