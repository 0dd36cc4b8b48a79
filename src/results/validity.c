#include "validity.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>

unsigned validity_expected_subflows(const struct topo *t, const struct topo_workload *w)
{
        if (w->protocol != TOPO_PROTO_MPTCP)
                return 1;
        const struct topo_node *c = &t->nodes[w->from], *s = &t->nodes[w->to];
        unsigned sub = 0, sig = 0;
        for (unsigned i = 0; i < c->mptcp.n_endpoints; i++)
                sub += !!(c->mptcp.endpoints[i].flags & TOPO_EP_SUBFLOW);
        for (unsigned i = 0; i < s->mptcp.n_endpoints; i++)
                sig += !!(s->mptcp.endpoints[i].flags & TOPO_EP_SIGNAL);
        unsigned limit = c->mptcp.has_limits ? c->mptcp.subflows : 2;
        unsigned acc = c->mptcp.has_limits ? c->mptcp.add_addr_accepted : 0;
        unsigned extra = sub + (sig < acc ? sig : acc);
        return 1 + (extra < limit ? extra : limit);
}

double validity_capacity_bps(const struct topo_workload *w, uint64_t path_rate_bps)
{
        return (double)path_rate_bps * (w->bidir || (w->mode && !streq(w->mode, "stream")) ? 2 : 1);
}

char *validity_implausible(double recv_bps, double cap)
{
        if (isnan(recv_bps))
                return xstrdup("implausible: a goodput that is not a number");
        if (cap > 0 && recv_bps > VALIDITY_IMPLAUSIBLE_FACTOR * cap)
                return xasprintf("implausible: %.2f Mbit/s reported over %.2f Mbit/s of "
                                 "shaped paths",
                                 recv_bps / 1e6, cap / 1e6);
        if (cap <= 0 && recv_bps > VALIDITY_UNSHAPED_MAX_BPS)
                return xasprintf("implausible: %.2f Mbit/s reported over unshaped paths (at "
                                 "most %.0f Gbit/s is believed)",
                                 recv_bps / 1e6, VALIDITY_UNSHAPED_MAX_BPS / 1e9);
        return NULL;
}

char *validity_outlier_window(double recv_bps, double payload_bps)
{
        if (payload_bps <= 0 || !(recv_bps > payload_bps * (1 + VALIDITY_OUTLIER_PCT / 100)))
                return NULL;
        return xasprintf("outlier window: the receiver counted %.3f Mbit/s, %.2f%% more than the "
                         "shaped paths carry (%.3f Mbit/s of TCP payload): the window's edges or "
                         "a guest's clock are off, not the path",
                         recv_bps / 1e6, (recv_bps / payload_bps - 1) * 100, payload_bps / 1e6);
}

static void invalid(struct wl_result *res, char *reason)
{
        res->status = WL_INVALID;
        res->reason = reason;
}

void validity_tool(struct wl_result *res, const struct tool_report *tr)
{
        const struct topo_workload *w = res->w;
        char *why;
        if (tr->mptcpload && (tr->errors > 0 || tr->server_errors > 0))
                invalid(res, xasprintf("mptcpload: %lld client and %lld server connection "
                                       "error(s)",
                                       (long long)tr->errors, (long long)tr->server_errors));
        else if (tr->mptcpload && tr->server_accepted >= 0 &&
                 (!w->mode || !streq(w->mode, "crr")) && tr->server_accepted < (int64_t)w->flows)
                invalid(res, xasprintf("the server accepted %lld of %u connections",
                                       (long long)tr->server_accepted, w->flows));
        else if (res->recv_bps < 0)
                invalid(res, xstrdup("the receiver did not report its goodput"));
        else if ((why = validity_implausible(res->recv_bps,
                                             validity_capacity_bps(w, res->path_rate_bps))))
                invalid(res, why);
}

/* The fewest subflows the sender's samples of its first connection show
 * over the window (mptcpload's MPTCP_TCPINFO); -1 when none says */
static int subflows_held(const struct wl_result *res)
{
        int least = -1;
        for (size_t i = 0; i < jlen(res->intervals); i++) {
                struct json_object *sf =
                        jarr(json_object_array_get_idx(res->intervals, i), "subflows");
                if (sf && (least < 0 || (int)jlen(sf) < least))
                        least = (int)jlen(sf);
        }
        return least;
}

void validity_mptcp(struct wl_result *res)
{
        const struct topo_workload *w = res->w;
        if (w->protocol != TOPO_PROTO_MPTCP) {
                res->subflows_per_conn = 1;
                return;
        }
        bool crr = w->mode && streq(w->mode, "crr");
        res->subflows_per_conn =
                res->mp_capable ? 1.0 + (double)res->mp_join / (double)res->mp_capable : 0;
        if (res->status != WL_OK)
                ; /* already invalid, with its reason */
        else if (res->mp_capable == 0)
                invalid(res, xstrdup("fell back to TCP: no MP_CAPABLE SYN/ACK was received"));
        else if (res->fallbacks > 0 || res->tool_fallbacks > 0)
                invalid(res, xasprintf("%lld connection(s) fell back to TCP",
                                       (long long)(res->fallbacks > res->tool_fallbacks
                                                           ? res->fallbacks
                                                           : res->tool_fallbacks)));
        else if (res->subflows_per_conn + 0.01 < res->expected_subflows && !crr)
                /* crr connections end before every subflow can join */
                invalid(res, xasprintf("%.2f subflows per connection, the topology implies %u",
                                       res->subflows_per_conn, res->expected_subflows));
        else if (!crr && !w->n_events && subflows_held(res) >= 0 &&
                 (unsigned)subflows_held(res) < res->expected_subflows)
                /* joined, then reset (a DSS mapping that did not match, 1 run in
                 * about 10 on host 6.18): the window measured fewer paths */
                invalid(res, xasprintf("a subflow closed: %d of %u subflows in the sender's "
                                       "samples",
                                       subflows_held(res), res->expected_subflows));
        else if (w->warmup_auto && res->late_joins > 0 && w->tool != TOPO_TOOL_MPTCPLOAD)
                /* a learned warm-up that ended before the connection had its
                 * subflows measured its opening; the series goes back to the
                 * longest warm-up */
                invalid(res, xasprintf("%lld subflow(s) joined after the measured window "
                                       "began (warm-up %.0fs, warmup: auto)",
                                       (long long)res->late_joins, res->warmup_s));
}

static bool hex32(const char *s)
{
        if (!s)
                return false;
        size_t i = 0;
        for (; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == 32;
}

bool validity_run_id(const char *id)
{
        return hex32(id);
}

bool validity_series_id(const char *id)
{
        return id && id[0] == 's' && hex32(id + 1);
}
