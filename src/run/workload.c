/* workload.c - one workload, whatever its tool (load/load.h's drivers): its
 * server started and listening, the counters and interface bytes read, its
 * client run, the measured window's edges read at its warm-up's end and at
 * its end, everything read again, the report parsed into the result and the
 * validity rules applied (results/validity.h). */
#include "caps.h"
#include "events.h"
#include "lab.h"
#include "measure.h"
#include "workload.h"
#include "../load/load.h"
#include "../results/events.h"
#include "../results/validity.h"

#include <math.h>

/* What a workload holds while it runs */
struct wl_run {
        const struct load_ops *ops;
        struct topo_workload w; /* the topology's, with the warm-up and length this run uses */
        struct lab_node *cn, *sn;
        char server_step[48], client_step[48];
        int64_t sjob, cjob;
        struct json_object *before_c, *before_s, *after_c, *after_s, *cres, *sres;
        struct window win;
        struct wl_events ev; /* its path events, when it has some */
};

static void wl_run_clear(struct wl_run *x)
{
        json_object_put(x->before_c);
        json_object_put(x->before_s);
        json_object_put(x->after_c);
        json_object_put(x->after_s);
        json_object_put(x->cres);
        json_object_put(x->sres);
        window_clear(&x->win);
        events_clear(&x->ev);
}

/* The workload as this run runs it: warmup: auto takes what the series
 * learned it needs (at most the topology's), a warm-up run is short; a copy,
 * so the tools' arguments say it */
static void this_run(const struct run *r, unsigned wi, struct topo_workload *w)
{
        *w = r->lab->t->workloads[wi];
        const uint64_t *learned = r->o->warmup_us;
        uint64_t dcap = r->o->duration_cap_us;
        if (w->warmup_auto && learned && learned[wi] && learned[wi] < w->warmup_us)
                w->warmup_us = learned[wi];
        if (dcap && !w->size_bytes && w->duration_us > dcap) {
                w->duration_us = dcap;
                /* a series' short warm-up run warms up, times nothing: the
                 * path events are for the counted runs */
                w->events = NULL;
                w->n_events = 0;
        }
}

/* Every interface of both ends, named first (a node that dies between two
 * reads leaves no unnamed entry), then their byte counters read */
static int ifaces_before(struct wl_run *x, struct wl_result *res, char **err)
{
        const struct topo_node *ends[2] = {x->cn->tn, x->sn->tn};
        for (unsigned s = 0; s < 2; s++)
                res->n_ifaces += ends[s]->n_ifaces;
        res->ifaces = xcalloc(res->n_ifaces, sizeof *res->ifaces);
        for (unsigned s = 0, k = 0; s < 2; s++)
                for (unsigned i = 0; i < ends[s]->n_ifaces; i++, k++) {
                        res->ifaces[k].node = xstrdup(ends[s]->name);
                        res->ifaces[k].dev = xstrdup(ends[s]->ifaces[i].name);
                }
        int e;
        for (unsigned s = 0, k = 0; s < 2; s++)
                for (unsigned i = 0; i < ends[s]->n_ifaces; i++, k++)
                        if ((e = link_bytes(s ? x->sn : x->cn, ends[s]->ifaces[i].name,
                                            &res->ifaces[k].tx_bytes, &res->ifaces[k].rx_bytes,
                                            err)) < 0)
                                return e;
        return 0;
}

static int ifaces_after(struct wl_run *x, struct wl_result *res, char **err)
{
        const struct topo_node *ends[2] = {x->cn->tn, x->sn->tn};
        for (unsigned s = 0, k = 0; s < 2; s++)
                for (unsigned i = 0; i < ends[s]->n_ifaces; i++, k++) {
                        uint64_t tx, rx;
                        int e = link_bytes(s ? x->sn : x->cn, ends[s]->ifaces[i].name, &tx, &rx,
                                           err);
                        if (e < 0)
                                return e;
                        res->ifaces[k].tx_bytes = tx - res->ifaces[k].tx_bytes;
                        res->ifaces[k].rx_bytes = rx - res->ifaces[k].rx_bytes;
                }
        return 0;
}

/* What the interfaces' byte counters say of the sender: everything it sent
 * (the span of the kernel's counters, warm-up included), and how its bytes
 * split over its direct links to the receiver against their shaped rates */
static void path_shares(const struct topo *t, const struct wl_run *x, struct wl_result *res)
{
        const struct topo_workload *w = &x->w;
        unsigned from = w->reverse ? w->to : w->from, to = w->reverse ? w->from : w->to;
        const char *sender = t->nodes[from].name;
        double all = 0, bytes[64], cap[64], sum_b = 0, sum_c = 0;
        unsigned n = 0;
        bool shaped = true;
        for (unsigned k = 0; k < res->n_ifaces; k++) {
                if (!streq(res->ifaces[k].node, sender))
                        continue;
                all += (double)res->ifaces[k].tx_bytes;
                int i = topo_find_iface(&t->nodes[from], res->ifaces[k].dev);
                int li = i >= 0 ? t->nodes[from].ifaces[i].link : -1;
                if (li < 0)
                        continue;
                const struct topo_link *l = &t->links[li];
                int dir = topo_link_dir(l, from, to);
                if (dir < 0 || n >= ELEMENTSOF(bytes))
                        continue;
                shaped &= l->shape[dir].set && l->shape[dir].rate_bps > 0;
                bytes[n] = (double)res->ifaces[k].tx_bytes;
                cap[n] = (double)l->shape[dir].rate_bps;
                sum_b += bytes[n];
                sum_c += cap[n++];
        }
        res->sent_gb = all / 1e9;
        if (w->protocol != TOPO_PROTO_MPTCP || n < 2 || !shaped || sum_b <= 0 || sum_c <= 0)
                return;
        double d = 0;
        for (unsigned k = 0; k < n; k++)
                d += fabs(bytes[k] / sum_b - cap[k] / sum_c);
        res->path_share_error = d / 2;
        res->have_path_share = true;
}

/* The client from its start to its end, the window's edges read on the way;
 * then the server's end */
static int client_run(struct run *r, struct wl_run *x, struct json_object *cargv,
                      struct wl_result *res, char **err)
{
        const struct topo_workload *w = &x->w;
        int dur_ms = (int)((w->duration_us + w->warmup_us) / 1000), e;
        struct json_object *o = NULL;
        uint64_t t0 = now_usec();
        if ((e = node_call(x->cn, x->client_step, "spawn",
                           agent_args("argv", cargv, "timeout_ms", I(dur_ms + 30000), NULL),
                           CALL_MS, &o, err)) < 0)
                return e;
        jint(o, "job", &x->cjob);
        json_object_put(o);
        /* the path events, on each node's clock, from the window's start */
        if (w->n_events && (e = events_schedule(&x->ev, t0 + w->warmup_us, err)) < 0)
                return e;
        /* CPU is read at the measured window's edges (warm-up and the tools'
         * start and stop left out): both nodes' /proc/stat and the VMs' time;
         * a fixed-size transfer: the window is the whole transfer, read at its
         * start and once the client is done */
        if ((e = window_edge(r, w, x->cn, x->sn, w->size_bytes ? 0 : t0 + w->warmup_us, &x->win, 0,
                             err)) < 0 ||
            (!w->size_bytes &&
             (e = window_edge(r, w, x->cn, x->sn, t0 + w->warmup_us + w->duration_us, &x->win, 1,
                              err)) < 0))
                return e;
        if (!(x->cres = job_wait(x->cn, x->client_step, x->cjob, dur_ms + 40000, err))) {
                /* the agent kills the tool 30 s after its end; no answer 10 s
                 * later means the tool is stuck in the node's kernel (a transfer
                 * that never ends): the kernel's failure, judged like a crash,
                 * never an infrastructure problem to skip */
                if (!r->lab->crash.node && !agent_interrupted && strstr(*err, "no reply to wait")) {
                        r->lab->crash.node = xstrdup(x->cn->tn->name);
                        r->lab->crash.what = xasprintf("workload %s hung: no end within %d s of "
                                                       "its duration",
                                                       w->name, 40);
                        r->lab->crash.trace = xstrdup(*err);
                }
                return -ETIMEDOUT;
        }
        if (w->size_bytes && (e = window_edge(r, w, x->cn, x->sn, 0, &x->win, 1, err)) < 0)
                return e;
        res->wall_s = (double)(now_usec() - t0) / 1e6;
        res->window_s = (double)(x->win.at[1] - x->win.at[0]) / 1e6;
        bool have_vm = x->win.have_vm[0] && x->win.have_vm[1];
        res->vm_cpu_client_s = have_vm ? (double)(x->win.vm[1][0] - x->win.vm[0][0]) / 1e9 : -1;
        res->vm_cpu_server_s = have_vm ? (double)(x->win.vm[1][1] - x->win.vm[0][1]) / 1e9 : -1;
        for (unsigned n = 0; n < 2; n++) {
                const uint64_t *a = x->win.insns[0], *b = x->win.insns[1];
                /* a count that went back is no count (QEMU restarted: untrusted) */
                double d = x->win.have_insns[0] && x->win.have_insns[1] && b[n] >= a[n]
                                   ? (double)(b[n] - a[n])
                                   : -1;
                *(n ? &res->insns_server : &res->insns_client) = d;
        }
        double unc[2] = {0, 0};
        res->have_clock = clock_rate_ppm(&x->win, 0, &res->clock_ppm[0], &unc[0]) &&
                          clock_rate_ppm(&x->win, 1, &res->clock_ppm[1], &unc[1]);
        res->clock_unc_ppm = unc[0] > unc[1] ? unc[0] : unc[1];
        if (!(x->sres = job_wait(x->sn, x->server_step, x->sjob, 20000, err)))
                return -ETIMEDOUT;
        x->sjob = 0;
        return 0;
}

/* What the tool reported, in the result; false (the workload failed, with
 * the tool's words) when its report does not parse */
static bool tool_report(struct wl_run *x, struct wl_result *res)
{
        const struct topo_workload *w = &x->w;
        struct load_result lr;
        char *perr = NULL;
        const char *out = jstr(x->cres, "stdout");
        if (x->ops->parse(w, out ? out : "", &lr, &perr) < 0) {
                const char *serr = jstr(x->cres, "stderr");
                res->status = WL_FAILED;
                res->reason = xasprintf("%s%s%s", perr, serr && *serr ? "; stderr: " : "",
                                        serr ? serr : "");
                free(perr);
                return false;
        }
        res->sent_bps = lr.sent_bps;
        res->recv_bps = lr.recv_bps;
        res->tps = lr.tps;
        res->cps = lr.cps;
        res->lat_p50_us = lr.p50_us;
        res->lat_p99_us = lr.p99_us;
        res->lat_p999_us = lr.p999_us;
        res->n_lat_cdf = lr.n_cdf;
        memcpy(res->lat_cdf_p, lr.cdf_p, sizeof lr.cdf_p);
        memcpy(res->lat_cdf_us, lr.cdf_us, sizeof lr.cdf_us);
        res->tool_fallbacks = lr.fallbacks;
        res->time_wait_client = lr.time_wait_client;
        res->time_wait_server = lr.time_wait_server;
        /* a fixed-size transfer: the receiver's time from first to last byte */
        res->completion_s = w->size_bytes && lr.seconds > 0 ? lr.seconds : -1;
        res->incomplete = lr.incomplete;
        /* what the tools say is checked against what the topology allows */
        struct tool_report tr = {.mptcpload = lr.counts_connections,
                                 .errors = lr.errors,
                                 .server_errors = lr.server_errors,
                                 .server_accepted = lr.server_accepted};
        validity_tool(res, &tr);
        double u = 0, s = 0;
        jdouble(x->cres, "utime_s", &u);
        jdouble(x->cres, "stime_s", &s);
        res->cpu_client_s = u + s;
        u = s = 0;
        jdouble(x->sres, "utime_s", &u);
        jdouble(x->sres, "stime_s", &s);
        res->cpu_server_s = u + s;
        if (lr.own_cpu) {
                res->cpu_client_pct = lr.cpu_client_pct;
                res->cpu_server_pct = lr.cpu_server_pct;
        } else {
                /* the client's own rusage over the measured window, the server
                 * process's over its life */
                int64_t wall_ms = 0;
                jint(x->sres, "wall_ms", &wall_ms);
                res->cpu_client_pct = 100 * lr.cpu_client_s / ((double)w->duration_us / 1e6);
                res->cpu_server_pct =
                        wall_ms > 0 ? 100 * res->cpu_server_s / ((double)wall_ms / 1e3) : -1;
        }
        res->intervals = x->ops->intervals(out, (double)w->warmup_us / 1e6);
        res->settled_s = w->warmup_us ? tool_settled_at(res->intervals, res->warmup_s,
                                                        x->ops->settle_slack_bps(w))
                                      : -1;
        return true;
}

/* What the nodes' counters say of the workload: retransmissions, MPTCP's
 * handshakes and joins, the MIB, CPU of every core, cycles */
static void counters_report(struct wl_run *x, struct wl_result *res)
{
        const struct topo_workload *w = &x->w;
        struct json_object *(*st)[2] = x->win.stat;
        /* TCP retransmissions on the sending node, all subflows included: iperf3's own
         * count comes from TCP_INFO, which an MPTCP socket does not give */
        res->retransmits = delta(w->reverse ? x->before_s : x->before_c,
                                 w->reverse ? x->after_s : x->after_c, "Tcp", "RetransSegs");
        /* subflows that joined once the window had begun: the warm-up did not
         * cover the connection's opening */
        res->late_joins = delta(st[0][1], x->after_s, "MPTcpExt", "MPJoinAckRx") +
                          delta(st[0][0], x->after_c, "MPTcpExt", "MPJoinAckRx");
        res->mib = json_object_new_object();
        json_object_object_add(res->mib, x->cn->tn->name, mib_deltas(x->before_c, x->after_c));
        json_object_object_add(res->mib, x->sn->tn->name, mib_deltas(x->before_s, x->after_s));
        res->cpu_cores = json_object_new_object();
        json_object_object_add(res->cpu_cores, x->cn->tn->name, cpu_per_core(st[0][0], st[1][0]));
        json_object_object_add(res->cpu_cores, x->sn->tn->name, cpu_per_core(st[0][1], st[1][1]));
        res->node_cpu_client_pct = node_busy_pct(st[0][0], st[1][0]);
        res->node_cpu_server_pct = node_busy_pct(st[0][1], st[1][1]);
        res->cycles_client = cycles_delta(st[0][0], st[1][0]);
        res->cycles_server = cycles_delta(st[0][1], st[1][1]);
        res->node_cpu_client_s = node_cpu_s(st[0][0], st[1][0]);
        res->node_cpu_server_s = node_cpu_s(st[0][1], st[1][1]);
        res->mp_capable = delta(x->before_c, x->after_c, "MPTcpExt", "MPCapableSYNACKRX");
        res->mp_join = delta(x->before_s, x->after_s, "MPTcpExt", "MPJoinAckRx") +
                       delta(x->before_c, x->after_c, "MPTcpExt", "MPJoinAckRx");
        res->add_addr = delta(x->before_c, x->after_c, "MPTcpExt", "AddAddr");
        res->fallbacks = delta(x->before_c, x->after_c, "MPTcpExt", "MPCapableFallbackSYNACK") +
                         delta(x->before_s, x->after_s, "MPTcpExt", "MPCapableFallbackACK");
        res->connections = (unsigned)res->mp_capable;
}

/* The first connection's subflows in the sender's last sample before t (s
 * from the window's start); -1: no sample says */
static int subflows_before(struct json_object *intervals, double t)
{
        int n = -1;
        for (size_t i = 0; i < jlen(intervals); i++) {
                struct json_object *x = json_object_array_get_idx(intervals, i);
                double it = 0;
                jdouble(x, "t", &it);
                if (it > t)
                        break;
                struct json_object *sf = jarr(x, "subflows");
                if (sf)
                        n = (int)jlen(sf);
        }
        return n;
}

/* A one-way stream's window that counted more than its shaped paths carry
 * is invalid, said per run (the receiver's count is capped by the paths:
 * more is the window's, not the kernel's). The sender's TCP timestamps say
 * how much of a frame is payload; without the record, none (the most). */
static void window_outlier(struct run *r, struct wl_run *x, struct wl_result *res)
{
        const struct topo_workload *w = &x->w;
        if (res->status != WL_OK || w->bidir || (w->mode && !streq(w->mode, "stream")) ||
            w->n_events || res->recv_bps <= 0)
                return;
        struct lab_node *snd = w->reverse ? x->sn : x->cn;
        const char *ts = jstr(jobj(snd->configured, "sysctls"), "net.ipv4.tcp_timestamps");
        unsigned hdr = 40 + (ts && !streq(ts, "0") ? 12 : 0);
        /* TCP takes the link of the address it goes to; MPTCP all of them */
        const struct topo *t = r->lab->t;
        int link = -1;
        if (w->protocol == TOPO_PROTO_TCP) {
                const struct topo_addr *a =
                        w->target.family ? &w->target : topo_first_addr(&t->nodes[w->to]);
                if (!a || (link = topo_link_of_addr(t, w->to, a)) < 0)
                        return;
        }
        double cap = topo_path_payload_bps(t, w->reverse ? w->to : w->from,
                                           w->reverse ? w->from : w->to, link, hdr);
        char *why = validity_outlier_window(res->recv_bps, cap);
        if (why) {
                log_warn("workload %s: %s", w->name, why);
                res->status = WL_INVALID;
                res->reason = why;
        }
}

/* What the path events did: each applied (or the workload failed, with the
 * node's words), and their figures from the receiver's bins */
static int events_report(struct run *r, struct wl_run *x, struct wl_result *res, char **err)
{
        const char *out = jstr(x->cres, "stdout");
        _cleanup_json_ struct json_object *rep = json_tokener_parse(out ? out : "");
        int e = events_collect(r, &x->w, &x->ev, rep, res, err);
        if (e < 0)
                return e;
        /* the failover it was to time needs the subflows the topology asks
         * for: a join the kernel reset before the event (a DSS mapping that
         * did not match, seen on 6.18) leaves one path, and nothing to fail
         * over to; such a run is not valid */
        const struct ev_result *pe = events_primary(res);
        int have = pe ? subflows_before(res->intervals, pe->at_s) : -1;
        if (pe && res->status == WL_OK && have >= 0 && (unsigned)have < res->expected_subflows) {
                res->status = WL_INVALID;
                res->reason =
                        xasprintf("%d of %u subflows at the event at %.3g s (a subflow closed "
                                  "before it)",
                                  have, res->expected_subflows, pe->at_s);
        }
        for (unsigned k = 0; k < res->n_events; k++)
                if (res->events[k].error && res->status == WL_OK) {
                        res->status = WL_FAILED;
                        res->reason = xasprintf("event %u (%s at %.3g s): %s", k + 1,
                                                topo_ev_action_name(res->events[k].ev->action),
                                                res->events[k].at_s, res->events[k].error);
                }
        return 0;
}

static int measured(struct run *r, struct wl_run *x, struct json_object *cargv,
                    struct wl_result *res, char **err)
{
        int e;
        if ((e = ifaces_before(x, res, err)) < 0 ||
            (e = node_call(x->cn, "counters", "counters", NULL, CALL_MS, &x->before_c, err)) < 0 ||
            (e = node_call(x->sn, "counters", "counters", NULL, CALL_MS, &x->before_s, err)) < 0) {
                json_object_put(cargv);
                return e;
        }
        if (x->w.n_events && (e = events_prepare(r, &x->w, &x->ev, err)) < 0) {
                json_object_put(cargv);
                return e;
        }
        if ((e = client_run(r, x, cargv, res, err)) < 0 ||
            (e = node_call(x->cn, "counters", "counters", NULL, CALL_MS, &x->after_c, err)) < 0 ||
            (e = node_call(x->sn, "counters", "counters", NULL, CALL_MS, &x->after_s, err)) < 0 ||
            (e = ifaces_after(x, res, err)) < 0)
                return e;
        if (!tool_report(x, res))
                return 0;
        path_shares(r->lab->t, x, res);
        counters_report(x, res);
        validity_mptcp(res);
        window_outlier(r, x, res);
        if (x->w.n_events)
                return events_report(r, x, res, err);
        return 0;
}

/* Where the tool's control connection goes when the workload has path
 * events: an address of the server on a link between the two ends that no
 * event touches (a control connection across a link taken down for good
 * never said "done"); NULL when every link is touched: then the target. */
static const char *control_target(const struct topo *t, const struct topo_workload *w, char *buf,
                                  size_t len)
{
        for (unsigned l = 0; l < t->n_links; l++) {
                const struct topo_link *lk = &t->links[l];
                bool touched = false;
                for (unsigned k = 0; k < w->n_events; k++) {
                        const struct topo_event *e = &w->events[k];
                        int el = e->link >= 0 ? e->link : t->nodes[e->node].ifaces[e->iface].link;
                        touched |= el == (int)l;
                }
                for (unsigned s = 0; s < 2 && !touched; s++)
                        if (lk->end[s].node == w->to && lk->end[1 - s].node == w->from &&
                            t->nodes[w->to].ifaces[lk->end[s].iface].n_addrs)
                                return topo_addr_str(
                                        &t->nodes[w->to].ifaces[lk->end[s].iface].addrs[0], false,
                                        buf, (unsigned)len);
        }
        return NULL;
}

int run_workload(struct run *r, unsigned wi, struct wl_result *res, char **err)
{
        struct topo *t = r->lab->t;
        struct wl_run x = {.ops = load_find(t->workloads[wi].tool)};
        if (!x.ops) {
                *err = xasprintf("workload %s: no driver for its tool", t->workloads[wi].name);
                return -EINVAL;
        }
        this_run(r, wi, &x.w);
        const struct topo_workload *w = &x.w;
        for (unsigned k = 0; k < w->n_events; k++)
                if (w->events[k].at_us >= w->duration_us) {
                        *err = xasprintf("workload %s: event %u at %.3g s is past the %.3g s this "
                                         "run measures",
                                         w->name, k + 1, (double)w->events[k].at_us / 1e6,
                                         (double)w->duration_us / 1e6);
                        return -EINVAL;
                }
        snprintf(x.server_step, sizeof x.server_step, "%s server", x.ops->name);
        snprintf(x.client_step, sizeof x.client_step, "%s client", x.ops->name);
        res->warmup_s = (double)w->warmup_us / 1e6;
        x.cn = &r->lab->nodes[w->from];
        x.sn = &r->lab->nodes[w->to];
        char tbuf[64];
        const char *target = w->target.family ? topo_addr_str(&w->target, false, tbuf, sizeof tbuf)
                                              : first_addr(x.sn->tn, tbuf, sizeof tbuf);
        unsigned port = w->port ? w->port : x.ops->base_port + x.ops->ports * wi;
        struct load_caps caps = {hello_has(x.cn->hello, "iperf3", "mptcp_flag") &&
                                         hello_has(x.sn->hello, "iperf3", "mptcp_flag"),
                                 hello_has(x.cn->hello, "mptcpize", NULL) &&
                                         hello_has(x.sn->hello, "mptcpize", NULL)};
        const char *why = NULL;
        res->target = xstrdup(target);
        res->method = xstrdup(x.ops->method(w, &caps));
        res->expected_subflows = validity_expected_subflows(t, w);
        res->path_rate_bps =
                topo_path_rate_sum(t, w->reverse ? w->to : w->from, w->reverse ? w->from : w->to);
        struct json_object *sargv = x.ops->server_argv(w, port, &caps, &why);
        char cbuf[64];
        const char *control = w->n_events ? control_target(t, w, cbuf, sizeof cbuf) : NULL;
        struct json_object *cargv = x.ops->client_argv(w, target, control, port, &caps, &why);
        if (!sargv || !cargv) {
                json_object_put(sargv);
                json_object_put(cargv);
                *err = xasprintf("workload %s: %s", w->name, why);
                return -EINVAL;
        }
        int dur_ms = (int)((w->duration_us + w->warmup_us) / 1000), e;
        struct json_object *o = NULL;
        if ((e = node_call(x.sn, x.server_step, "spawn",
                           agent_args("argv", sargv, "timeout_ms", I(dur_ms + 60000), NULL),
                           CALL_MS, &o, err)) < 0) {
                json_object_put(cargv);
                return e;
        }
        jint(o, "job", &x.sjob);
        json_object_put(o);
        if ((e = node_call(x.sn, x.server_step, "wait_listen",
                           agent_args("port", I(port), "timeout_ms", I(10000), NULL),
                           CALL_MS + 10000, NULL, err)) < 0)
                json_object_put(cargv);
        else
                e = measured(r, &x, cargv, res, err);
        if (w->n_events) {
                /* nothing of the events may reach the next workload: what is
                 * still due is cancelled, and the paths are put back */
                char *rerr = NULL;
                if (e < 0)
                        events_cancel(&x.ev);
                int e2 = events_restore(r, w, &rerr);
                if (e2 < 0 && e >= 0) {
                        e = e2;
                        *err = rerr;
                        rerr = NULL;
                }
                free(rerr);
        }
        if (x.sjob) {
                /* the server must not outlive a failed client (errors here add nothing
                 * to the one that brought us here) */
                char *ignored = NULL;
                if (node_call(x.sn, "server", "kill", agent_args("job", I(x.sjob), NULL), CALL_MS,
                              NULL, &ignored) == 0)
                        json_object_put(job_wait(x.sn, "server", x.sjob, 10000, &ignored));
                free(ignored);
        }
        wl_run_clear(&x);
        return e;
}
