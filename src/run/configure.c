/* configure.c - a node configured as its topology says: sysctls, addresses,
 * links up; then routes (a table per interface with source rules, so each
 * subflow leaves by its own interface), shaping and MPTCP limits and
 * endpoints. Every change goes through the node's agent, which undoes it. */
#include "lab.h"
#include "configure.h"
#include "../topo/units.h"

#include <arpa/inet.h>

static void network_of(const struct topo_addr *a, char *buf, size_t len)
{
        struct topo_addr n = topo_addr_network(a);
        topo_addr_str(&n, true, buf, (unsigned)len);
}

/* The interface a route leaves by: its dev, or the one whose subnet holds via. */
static int route_iface(const struct topo_node *tn, const struct topo_route *rt)
{
        if (rt->dev)
                return topo_find_iface(tn, rt->dev);
        for (unsigned i = 0; i < tn->n_ifaces; i++)
                for (unsigned a = 0; a < tn->ifaces[i].n_addrs; a++)
                        if (rt->has_via && topo_addr_in(&tn->ifaces[i].addrs[a], &rt->via))
                                return (int)i;
        return -1;
}

static int add_route(struct lab_node *n, const struct topo_route *rt, unsigned table, char **err)
{
        char dst[64] = "default", via[64];
        if (rt->dst.prefix)
                topo_addr_str(&rt->dst, true, dst, sizeof dst);
        struct json_object *args = agent_args("dst", S(dst), NULL);
        if (rt->has_via)
                json_object_object_add(args, "via",
                                       S(topo_addr_str(&rt->via, false, via, sizeof via)));
        if (rt->dev)
                json_object_object_add(args, "dev", S(rt->dev));
        if (table)
                json_object_object_add(args, "table", I(table));
        return node_call(n, "routes", "route_add", args, CALL_MS, NULL, err);
}

static bool sysctl_given(const struct topo_node *tn, const char *key)
{
        for (unsigned i = 0; i < tn->n_sysctls; i++)
                if (streq(tn->sysctls[i].key, key))
                        return true;
        return false;
}

static int set_sysctl(struct lab_node *n, const char *key, const char *value, char **err)
{
        return node_call(n, "sysctls", "sysctl_set",
                         agent_args("key", S(key), "value", S(value), NULL), CALL_MS, NULL, err);
}

/* First phase: sysctls, addresses, links up. */
int configure_node(struct run *r, unsigned ni, char **err)
{
        struct lab_node *n = &r->lab->nodes[ni];
        const struct topo_node *tn = n->tn;
        int e;
        char buf[64];

        /* 1. sysctls: the lab's own first, so the topology's can override them */
        if (tn->kind == TOPO_NODE_ROUTER) {
                if (!sysctl_given(tn, "net.ipv4.ip_forward") &&
                    (e = set_sysctl(n, "net.ipv4.ip_forward", "1", err)) < 0)
                        return e;
                if (!sysctl_given(tn, "net.ipv6.conf.all.forwarding") &&
                    (e = set_sysctl(n, "net.ipv6.conf.all.forwarding", "1", err)) < 0)
                        return e;
        }
        if ((e = set_sysctl(n, "net.mptcp.enabled", tn->mptcp.enabled ? "1" : "0", err)) < 0)
                return e;
        if (tn->mptcp.pm_type &&
            (e = set_sysctl(n, "net.mptcp.pm_type", streq(tn->mptcp.pm_type, "kernel") ? "0" : "1",
                            err)) < 0)
                return e;
        /* a matrix cell's scheduler, where the kernel has more than its
         * built-in one (caps_mptcp_lacks skipped the cell that asks for one
         * the kernel lacks) */
        const char *sched = r->lab->t->cell[TOPO_AXIS_SCHEDULER];
        if (sched && tn->kind == TOPO_NODE_HOST && tn->mptcp.enabled &&
            jpath(n->hello, "mptcp", "schedulers", NULL) &&
            !sysctl_given(tn, "net.mptcp.scheduler") &&
            (e = set_sysctl(n, "net.mptcp.scheduler", sched, err)) < 0)
                return e;
        for (unsigned i = 0; i < tn->n_sysctls; i++)
                if ((e = set_sysctl(n, tn->sysctls[i].key, tn->sysctls[i].value, err)) < 0)
                        return e;

        /* 2. interfaces: addresses, up, and wait for carrier */
        for (unsigned i = 0; i < tn->n_ifaces; i++) {
                const struct topo_iface *ifc = &tn->ifaces[i];
                for (unsigned a = 0; a < ifc->n_addrs; a++)
                        if ((e = node_call(n, "addresses", "addr_add",
                                           agent_args("dev", S(ifc->name), "addr",
                                                      S(topo_addr_str(&ifc->addrs[a], true, buf,
                                                                      sizeof buf)),
                                                      NULL),
                                           CALL_MS, NULL, err)) < 0)
                                return e;
                /* the link's MTU first, at both ends (the agent puts the old one back) */
                struct json_object *args =
                        agent_args("dev", S(ifc->name), "up", json_object_new_boolean(true), NULL);
                unsigned mtu = ifc->link >= 0 ? r->lab->t->links[ifc->link].mtu : 0;
                if (mtu)
                        json_object_object_add(args, "mtu", I(mtu));
                if ((e = node_call(n, "links", "link_set", args, CALL_MS, NULL, err)) < 0)
                        return e;
        }
        return 0;
}

struct json_object *shape_args(const char *dev, const struct topo_shape *sh)
{
        struct json_object *args = agent_args("dev", S(dev), NULL);
        if (sh->rate_bps)
                json_object_object_add(args, "rate_bps", I(sh->rate_bps));
        if (sh->delay_us)
                json_object_object_add(args, "delay_us", I(sh->delay_us));
        if (sh->jitter_us)
                json_object_object_add(args, "jitter_us", I(sh->jitter_us));
        if (sh->loss_pct > 0)
                json_object_object_add(args, "loss_pct", json_object_new_double(sh->loss_pct));
        if (sh->limit)
                json_object_object_add(args, "limit", I(sh->limit));
        return args;
}

const struct topo_addr *endpoint_addr(const struct topo_node *tn, const struct topo_endpoint *ep)
{
        const struct topo_iface *ifc = &tn->ifaces[topo_find_iface(tn, ep->dev)];
        return ep->addr.family ? &ep->addr : &ifc->addrs[0];
}

struct json_object *endpoint_args(const struct topo_node *tn, const struct topo_endpoint *ep)
{
        char buf[64];
        struct json_object *flags = json_object_new_array();
        for (unsigned f = 0; f < ELEMENTSOF(topo_ep_flag_names); f++)
                if (ep->flags & (1u << f))
                        json_object_array_add(flags, S(topo_ep_flag_names[f]));
        struct json_object *args =
                agent_args("addr", S(topo_addr_str(endpoint_addr(tn, ep), false, buf, sizeof buf)),
                           "dev", S(ep->dev), "flags", flags, NULL);
        if (ep->id)
                json_object_object_add(args, "id", I(ep->id));
        if (ep->port)
                json_object_object_add(args, "port", I(ep->port));
        return args;
}

/* Second phase, once every node has brought its side of each link up. */
int configure_node_paths(struct run *r, unsigned ni, char **err)
{
        struct lab_node *n = &r->lab->nodes[ni];
        const struct topo_node *tn = n->tn;
        struct topo *t = r->lab->t;
        int e;

        for (unsigned i = 0; i < tn->n_ifaces; i++)
                if ((e = node_call(
                             n, "links", "link_wait",
                             agent_args("dev", S(tn->ifaces[i].name), "timeout_ms", I(10000), NULL),
                             CALL_MS, NULL, err)) < 0)
                        return e;

        /* 3. routes: main table (first route per destination), and per-interface
         * tables with source rules, so each subflow leaves by its own interface */
        for (unsigned i = 0; i < tn->n_routes; i++) {
                bool dup = false;
                for (unsigned j = 0; j < i; j++)
                        dup |= tn->routes[j].dst.family == tn->routes[i].dst.family &&
                               tn->routes[j].dst.prefix == tn->routes[i].dst.prefix &&
                               !memcmp(&tn->routes[j].dst.u, &tn->routes[i].dst.u,
                                       sizeof tn->routes[i].dst.u);
                if (!dup && (e = add_route(n, &tn->routes[i], 0, err)) < 0)
                        return e;
        }
        unsigned addressed = topo_addressed_ifaces(tn);
        if (tn->kind == TOPO_NODE_HOST && addressed > 1) {
                for (unsigned i = 0; i < tn->n_ifaces; i++) {
                        const struct topo_iface *ifc = &tn->ifaces[i];
                        unsigned table = 100 + i;
                        for (unsigned a = 0; a < ifc->n_addrs; a++) {
                                char net[64], from[64];
                                network_of(&ifc->addrs[a], net, sizeof net);
                                struct topo_route conn = {.dev = ifc->name};
                                topo_addr_parse(net, true, &conn.dst);
                                if ((e = add_route(n, &conn, table, err)) < 0)
                                        return e;
                                struct topo_addr host = ifc->addrs[a];
                                host.prefix = host.family == AF_INET ? 32 : 128;
                                topo_addr_str(&host, true, from, sizeof from);
                                if ((e = node_call(n, "policy routing", "rule_add",
                                                   agent_args("from", S(from), "table", I(table),
                                                              "prio", I(1000 + i), NULL),
                                                   CALL_MS, NULL, err)) < 0)
                                        return e;
                        }
                        for (unsigned k = 0; k < tn->n_routes; k++)
                                if (route_iface(tn, &tn->routes[k]) == (int)i &&
                                    (e = add_route(n, &tn->routes[k], table, err)) < 0)
                                        return e;
                }
        }

        /* 4. shaping: each direction on its sender's egress */
        for (unsigned li = 0; li < t->n_links; li++)
                for (unsigned s = 0; s < 2; s++) {
                        const struct topo_link *l = &t->links[li];
                        const struct topo_shape *sh = &l->shape[s];
                        if (l->end[s].node != ni || !sh->set)
                                continue;
                        struct json_object *args = shape_args(tn->ifaces[l->end[s].iface].name, sh);
                        if ((e = node_call(n, "qdiscs", "qdisc_set", args, CALL_MS, NULL, err)) < 0)
                                return e;
                }

        /* 5. MPTCP: limits, then endpoints (their addresses exist now) */
        if (tn->mptcp.has_limits &&
            (e = node_call(n, "mptcp limits", "mptcp_limits",
                           agent_args("subflows", I(tn->mptcp.subflows), "add_addr_accepted",
                                      I(tn->mptcp.add_addr_accepted), NULL),
                           CALL_MS, NULL, err)) < 0)
                return e;
        for (unsigned i = 0; i < tn->mptcp.n_endpoints; i++) {
                struct json_object *args = endpoint_args(tn, &tn->mptcp.endpoints[i]);
                if ((e = node_call(n, "mptcp endpoints", "mptcp_endpoint_add", args, CALL_MS, NULL,
                                   err)) < 0)
                        return e;
        }
        return 0;
}

/* rp_filter's value as the node reported it, -1 unknown */
static int rp_value(struct json_object *sysctls, const char *key)
{
        const char *v = jstr(sysctls, key);
        return v && v[0] >= '0' && v[0] <= '2' && !v[1] ? v[0] - '0' : -1;
}

int configure_record(struct run *r, unsigned ni, char **err)
{
        struct lab_node *n = &r->lab->nodes[ni];
        const struct topo_node *tn = n->tn;
        struct json_object *keys = json_object_new_array(), *devs = json_object_new_array();
        json_object_array_add(keys, S("net.ipv4.conf.all.rp_filter"));
        json_object_array_add(keys, S("net.ipv4.conf.default.rp_filter"));
        /* what a TCP segment carries (the most a shaped path's payload can be) */
        json_object_array_add(keys, S("net.ipv4.tcp_timestamps"));
        for (unsigned i = 0; i < tn->n_ifaces; i++) {
                _cleanup_free_ char *k =
                        xasprintf("net.ipv4.conf.%s.rp_filter", tn->ifaces[i].name);
                json_object_array_add(keys, S(k));
                json_object_array_add(devs, S(tn->ifaces[i].name));
        }
        struct json_object *dirs = json_object_new_array(), *st = NULL;
        json_object_array_add(dirs, S("net.mptcp"));
        int e = node_call(n, "record", "state",
                          agent_args("sysctls", keys, "sysctl_dirs", dirs, "devs", devs, NULL),
                          CALL_MS, &st, err);
        if (e < 0)
                return e;
        struct json_object *c = json_object_new_object(), *sysctls = jobj(st, "sysctls");
        json_object_object_add(c, "sysctls", json_object_get(sysctls));
        json_object_object_add(c, "mptcp_limits", json_object_get(jobj(st, "mptcp_limits")));
        json_object_object_add(c, "mptcp_endpoints", json_object_get(jobj(st, "mptcp_endpoints")));
        json_object_put(st);
        json_object_put(n->configured);
        n->configured = c;
        /* the kernel filters with the larger of all's and the interface's */
        unsigned addressed = topo_addressed_ifaces(tn);
        int all = rp_value(sysctls, "net.ipv4.conf.all.rp_filter");
        for (unsigned i = 0; addressed > 1 && i < tn->n_ifaces; i++) {
                _cleanup_free_ char *k =
                        xasprintf("net.ipv4.conf.%s.rp_filter", tn->ifaces[i].name);
                int own = rp_value(sysctls, k), eff = own > all ? own : all;
                if (eff == 1 && tn->ifaces[i].n_addrs)
                        log_warn("node %s: %s has strict reverse-path filtering (rp_filter 1, the "
                                 "system's, not the topology's): subflows MPTCP joins over it may "
                                 "be dropped",
                                 tn->name, tn->ifaces[i].name);
        }
        return 0;
}
