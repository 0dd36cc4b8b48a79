/* topo.c - the topology model: lookups, canonical YAML output, freeing. */
#include "topo.h"
#include "units.h"
#include "../shared/util.h"

int topo_find_node(const struct topo *t, const char *name)
{
        for (unsigned i = 0; i < t->n_nodes; i++)
                if (t->nodes[i].name && streq(t->nodes[i].name, name))
                        return (int)i;
        return -1;
}

int topo_find_iface(const struct topo_node *n, const char *name)
{
        for (unsigned i = 0; i < n->n_ifaces; i++)
                if (streq(n->ifaces[i].name, name))
                        return (int)i;
        return -1;
}

unsigned topo_addressed_ifaces(const struct topo_node *n)
{
        unsigned k = 0;
        for (unsigned i = 0; i < n->n_ifaces; i++)
                k += n->ifaces[i].n_addrs > 0;
        return k;
}

bool topo_same_frame(const struct topo *a, const struct topo *b)
{
        if (!streq_null(a->kernel, b->kernel) || a->n_nodes != b->n_nodes ||
            a->n_links != b->n_links)
                return false;
        for (unsigned i = 0; i < a->n_nodes; i++) {
                const struct topo_node *x = &a->nodes[i], *y = &b->nodes[i];
                if (!streq_null(x->name, y->name) || x->kind != y->kind || x->cpus != y->cpus ||
                    x->memory != y->memory || !streq_null(x->kernel, y->kernel) ||
                    !streq_null(x->uri, y->uri) || x->n_ifaces != y->n_ifaces)
                        return false;
                for (unsigned k = 0; k < x->n_ifaces; k++)
                        if (!streq_null(x->ifaces[k].name, y->ifaces[k].name) ||
                            x->ifaces[k].link != y->ifaces[k].link)
                                return false;
        }
        for (unsigned i = 0; i < a->n_links; i++)
                for (int s = 0; s < 2; s++)
                        if (a->links[i].end[s].node != b->links[i].end[s].node ||
                            a->links[i].end[s].iface != b->links[i].end[s].iface)
                                return false;
        return true;
}

int topo_link_of_addr(const struct topo *t, unsigned node, const struct topo_addr *a)
{
        const struct topo_node *n = &t->nodes[node];
        for (unsigned i = 0; i < n->n_ifaces; i++)
                for (unsigned k = 0; k < n->ifaces[i].n_addrs; k++) {
                        const struct topo_addr *x = &n->ifaces[i].addrs[k];
                        if (x->family == a->family &&
                            !memcmp(&x->u, &a->u, a->family == AF_INET ? 4 : 16))
                                return n->ifaces[i].link;
                }
        return -1;
}

const struct topo_addr *topo_first_addr(const struct topo_node *n)
{
        for (unsigned i = 0; i < n->n_ifaces; i++)
                if (n->ifaces[i].n_addrs)
                        return &n->ifaces[i].addrs[0];
        return NULL;
}

int topo_link_dir(const struct topo_link *l, unsigned from, unsigned to)
{
        return l->end[0].node == from && l->end[1].node == to   ? 0
               : l->end[1].node == from && l->end[0].node == to ? 1
                                                                : -1;
}

double topo_path_payload_bps(const struct topo *t, unsigned from, unsigned to, int link,
                             unsigned hdr)
{
        double sum = 0;
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                if (link >= 0 && (unsigned)link != i)
                        continue;
                int dir = topo_link_dir(l, from, to);
                if (dir < 0)
                        continue;
                if (!l->shape[dir].rate_bps || !topo_shape_needs_netem(&l->shape[dir]))
                        return 0;
                double mtu = l->mtu ? l->mtu : 1500;
                sum += (double)l->shape[dir].rate_bps * (mtu - hdr) / (mtu + 14);
        }
        return sum;
}

uint64_t topo_path_rate_sum(const struct topo *t, unsigned from, unsigned to)
{
        uint64_t sum = 0;
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                int dir = topo_link_dir(l, from, to);
                if (dir < 0)
                        continue;
                if (!l->shape[dir].set || !l->shape[dir].rate_bps)
                        return 0;
                sum += l->shape[dir].rate_bps;
        }
        return sum;
}

struct topo *topo_free(struct topo *t)
{
        if (!t)
                return NULL;
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct topo_node *n = &t->nodes[i];
                free(n->name);
                free(n->kernel);
                free(n->uri);
                for (unsigned j = 0; j < n->n_ifaces; j++) {
                        free(n->ifaces[j].name);
                        free(n->ifaces[j].addrs);
                }
                free(n->ifaces);
                for (unsigned j = 0; j < n->mptcp.n_endpoints; j++)
                        free(n->mptcp.endpoints[j].dev);
                free(n->mptcp.endpoints);
                free(n->mptcp.pm_type);
                for (unsigned j = 0; j < n->n_sysctls; j++) {
                        free(n->sysctls[j].key);
                        free(n->sysctls[j].value);
                }
                free(n->sysctls);
                for (unsigned j = 0; j < n->n_routes; j++)
                        free(n->routes[j].dev);
                free(n->routes);
        }
        free(t->nodes);
        free(t->links);
        for (unsigned i = 0; i < t->n_workloads; i++) {
                free(t->workloads[i].name);
                free(t->workloads[i].mode);
                for (unsigned k = 0; k < t->workloads[i].n_key_metrics; k++)
                        free(t->workloads[i].key_metrics[k]);
                free(t->workloads[i].key_metrics);
                free(t->workloads[i].key_metric_pos);
                free(t->workloads[i].events);
        }
        free(t->workloads);
        free(t->file);
        free(t->name);
        free(t->label);
        for (unsigned a = 0; a < TOPO_AXES; a++) {
                for (unsigned i = 0; i < t->matrix.n[a]; i++)
                        free(t->matrix.values[a][i]);
                free(t->matrix.values[a]);
                free(t->cell[a]);
        }
        free(t->description);
        free(t->kernel);
        free(t);
        return NULL;
}

/* ---- canonical YAML ---- */

/* A YAML double-quoted scalar: '"' and '\\' escaped, control bytes as \\xNN, so
 * any string the parser accepted reads back the same. */
static void sb_quoted(struct strbuf *b, const char *s)
{
        strbuf_printf(b, "\"");
        for (; *s; s++) {
                unsigned char ch = (unsigned char)*s;
                if (ch == '"' || ch == '\\')
                        strbuf_printf(b, "\\%c", ch);
                else if (ch < 0x20 || ch == 0x7f)
                        strbuf_printf(b, "\\x%02x", ch);
                else
                        strbuf_printf(b, "%c", ch);
        }
        strbuf_printf(b, "\"");
}

/* "PREFIXvalue\n" with the value quoted */
static void sb_line_quoted(struct strbuf *b, const char *prefix, const char *value)
{
        strbuf_printf(b, "%s", prefix);
        sb_quoted(b, value);
        strbuf_printf(b, "\n");
}

static void shape_yaml(struct strbuf *b, const struct topo_shape *s);

static void event_yaml(struct strbuf *b, const struct topo *t, const struct topo_event *e,
                       const char *sep)
{
        char buf[64];
        strbuf_printf(b, "%s{at: %lluus", sep, (unsigned long long)e->at_us);
        switch (e->action) {
        case TOPO_EV_ENDPOINT_DEL:
        case TOPO_EV_ENDPOINT_ADD:
                strbuf_printf(b, ", endpoint: %s",
                              e->action == TOPO_EV_ENDPOINT_DEL ? "del" : "add");
                break;
        case TOPO_EV_BACKUP:
                strbuf_printf(b, ", backup: %s", e->backup ? "true" : "false");
                break;
        case TOPO_EV_ADDRESS_DEL:
                strbuf_printf(b, ", address: del");
                if (e->addr.family)
                        strbuf_printf(b, ", addr: \"%s\"",
                                      topo_addr_str(&e->addr, false, buf, sizeof buf));
                break;
        default:
                strbuf_printf(b, ", link: %d, action: %s", e->link, topo_ev_action_name(e->action));
                if (e->dirs != (TOPO_DIR_AB | TOPO_DIR_BA))
                        strbuf_printf(b, ", direction: %s", e->dirs == TOPO_DIR_AB ? "ab" : "ba");
                if (e->action == TOPO_EV_SHAPE) {
                        strbuf_printf(b, ", shape: ");
                        shape_yaml(b, &e->shape);
                }
        }
        if (e->node >= 0)
                strbuf_printf(b, ", node: %s, dev: %s", t->nodes[e->node].name,
                              t->nodes[e->node].ifaces[e->iface].name);
        strbuf_printf(b, "}");
}

static void shape_yaml(struct strbuf *b, const struct topo_shape *s)
{
        char buf[32];
        const char *sep = "";
        strbuf_printf(b, "{");
        if (s->rate_bps) {
                strbuf_printf(b, "rate: %s", format_rate(s->rate_bps, buf, sizeof buf));
                sep = ", ";
        }
        if (s->delay_us) {
                strbuf_printf(b, "%sdelay: %lluus", sep, (unsigned long long)s->delay_us);
                sep = ", ";
        }
        if (s->jitter_us) {
                strbuf_printf(b, "%sjitter: %lluus", sep, (unsigned long long)s->jitter_us);
                sep = ", ";
        }
        if (s->loss_pct > 0) {
                strbuf_printf(b, "%sloss: %g%%", sep, s->loss_pct);
                sep = ", ";
        }
        if (s->limit)
                strbuf_printf(b, "%slimit: %u", sep, s->limit);
        strbuf_printf(b, "}");
}

static bool shape_eq(const struct topo_shape *a, const struct topo_shape *b)
{
        return a->set == b->set && a->rate_bps == b->rate_bps && a->delay_us == b->delay_us &&
               a->jitter_us == b->jitter_us && a->loss_pct == b->loss_pct && a->limit == b->limit;
}

char *topo_to_yaml(const struct topo *t)
{
        struct strbuf b = {0};
        char buf[64];
        strbuf_printf(&b, "name: %s\n", t->name);
        if (t->description)
                sb_line_quoted(&b, "description: ", t->description);
        if (t->kernel)
                sb_line_quoted(&b, "kernel: ", t->kernel);
        /* the cell, applied again when the text is read back: the same model */
        bool cell = false;
        for (unsigned a = 0; a < TOPO_AXES; a++)
                if (t->cell[a]) {
                        if (!cell)
                                strbuf_printf(&b, "cell:\n");
                        cell = true;
                        _cleanup_free_ char *key = xasprintf("  %s: ", topo_axis_name(a));
                        sb_line_quoted(&b, key, t->cell[a]);
                }
        strbuf_printf(&b, "nodes:\n");
        for (unsigned i = 0; i < t->n_nodes; i++) {
                const struct topo_node *n = &t->nodes[i];
                strbuf_printf(&b, "  %s:\n", n->name);
                strbuf_printf(&b, "    kind: %s\n",
                              n->kind == TOPO_NODE_ROUTER ? "router" : "host");
                strbuf_printf(&b, "    cpus: %u\n    memory: %lluMiB\n", n->cpus,
                              (unsigned long long)(n->memory >> 20));
                if (n->kernel)
                        sb_line_quoted(&b, "    kernel: ", n->kernel);
                if (n->uri)
                        sb_line_quoted(&b, "    uri: ", n->uri);
                strbuf_printf(&b, "    mptcp:\n      enabled: %s\n",
                              n->mptcp.enabled ? "true" : "false");
                if (n->mptcp.pm_type)
                        strbuf_printf(&b, "      path_manager: %s\n", n->mptcp.pm_type);
                if (n->mptcp.has_limits)
                        strbuf_printf(&b, "      limits: {subflows: %u, add_addr_accepted: %u}\n",
                                      n->mptcp.subflows, n->mptcp.add_addr_accepted);
                if (n->mptcp.n_endpoints)
                        strbuf_printf(&b, "      endpoints:\n");
                for (unsigned e = 0; e < n->mptcp.n_endpoints; e++) {
                        const struct topo_endpoint *ep = &n->mptcp.endpoints[e];
                        strbuf_printf(&b, "        - {dev: %s", ep->dev);
                        if (ep->addr.family)
                                strbuf_printf(&b, ", addr: \"%s\"",
                                              topo_addr_str(&ep->addr, false, buf, sizeof buf));
                        if (ep->id)
                                strbuf_printf(&b, ", id: %u", ep->id);
                        if (ep->port)
                                strbuf_printf(&b, ", port: %u", ep->port);
                        strbuf_printf(&b, ", flags: [");
                        const char *sep = "";
                        for (unsigned f = 0; f < ELEMENTSOF(topo_ep_flag_names); f++)
                                if (ep->flags & (1u << f)) {
                                        strbuf_printf(&b, "%s%s", sep, topo_ep_flag_names[f]);
                                        sep = ", ";
                                }
                        strbuf_printf(&b, "]}\n");
                }
                if (n->n_sysctls)
                        strbuf_printf(&b, "    sysctls:\n");
                for (unsigned s = 0; s < n->n_sysctls; s++) {
                        _cleanup_free_ char *key = xasprintf("      %s: ", n->sysctls[s].key);
                        sb_line_quoted(&b, key, n->sysctls[s].value);
                }
                if (n->n_routes)
                        strbuf_printf(&b, "    routes:\n");
                for (unsigned r = 0; r < n->n_routes; r++) {
                        const struct topo_route *rt = &n->routes[r];
                        strbuf_printf(&b, "      - {dst: \"%s\"",
                                      rt->dst.prefix
                                              ? topo_addr_str(&rt->dst, true, buf, sizeof buf)
                                              : "default");
                        if (rt->has_via)
                                strbuf_printf(&b, ", via: \"%s\"",
                                              topo_addr_str(&rt->via, false, buf, sizeof buf));
                        if (rt->dev)
                                strbuf_printf(&b, ", dev: %s", rt->dev);
                        strbuf_printf(&b, "}\n");
                }
        }
        strbuf_printf(&b, "links:\n");
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                strbuf_printf(&b, "  - endpoints:\n");
                for (unsigned s = 0; s < 2; s++) {
                        const struct topo_node *n = &t->nodes[l->end[s].node];
                        const struct topo_iface *ifc = &n->ifaces[l->end[s].iface];
                        strbuf_printf(&b, "      - \"%s:%s", n->name, ifc->name);
                        for (unsigned a = 0; a < ifc->n_addrs; a++)
                                strbuf_printf(&b, " %s",
                                              topo_addr_str(&ifc->addrs[a], true, buf, sizeof buf));
                        strbuf_printf(&b, "\"\n");
                }
                if (l->mtu)
                        strbuf_printf(&b, "    mtu: %u\n", l->mtu);
                if (shape_eq(&l->shape[0], &l->shape[1]) && l->shape[0].set) {
                        strbuf_printf(&b, "    shape: ");
                        shape_yaml(&b, &l->shape[0]);
                        strbuf_printf(&b, "\n");
                } else if (l->shape[0].set || l->shape[1].set) {
                        strbuf_printf(&b, "    shape:\n");
                        for (unsigned s = 0; s < 2; s++)
                                if (l->shape[s].set) {
                                        strbuf_printf(&b, "      %s: ", s ? "ba" : "ab");
                                        shape_yaml(&b, &l->shape[s]);
                                        strbuf_printf(&b, "\n");
                                }
                }
        }
        if (t->n_workloads)
                strbuf_printf(&b, "workloads:\n");
        for (unsigned i = 0; i < t->n_workloads; i++) {
                const struct topo_workload *w = &t->workloads[i];
                strbuf_printf(&b, "  - {name: %s, tool: %s", w->name, topo_tool_name(w->tool));
                if (w->mode)
                        strbuf_printf(&b, ", mode: %s", w->mode);
                strbuf_printf(&b, ", from: %s, to: %s", t->nodes[w->from].name,
                              t->nodes[w->to].name);
                if (w->target.family)
                        strbuf_printf(&b, ", target: \"%s\"",
                                      topo_addr_str(&w->target, false, buf, sizeof buf));
                if (w->size_bytes) {
                        strbuf_printf(&b, ", size: %lluB", (unsigned long long)w->size_bytes);
                        if (w->max_time_us)
                                strbuf_printf(&b, ", max_time: %lluus",
                                              (unsigned long long)w->max_time_us);
                } else if (w->warmup_auto)
                        strbuf_printf(&b, ", duration: %lluus, warmup: auto",
                                      (unsigned long long)w->duration_us);
                else
                        strbuf_printf(&b, ", duration: %lluus, warmup: %llus",
                                      (unsigned long long)w->duration_us,
                                      (unsigned long long)(w->warmup_us / 1000000));
                strbuf_printf(&b, ", protocol: %s, flows: %u",
                              w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp", w->flows);
                if (w->reverse)
                        strbuf_printf(&b, ", reverse: true");
                if (w->bidir)
                        strbuf_printf(&b, ", bidir: true");
                if (w->port)
                        strbuf_printf(&b, ", port: %u", w->port);
                for (unsigned k = 0; k < w->n_key_metrics; k++)
                        strbuf_printf(&b, "%s%s", k ? ", " : ", key_metrics: [", w->key_metrics[k]);
                if (w->n_key_metrics)
                        strbuf_printf(&b, "]");
                for (unsigned k = 0; k < w->n_events; k++)
                        event_yaml(&b, t, &w->events[k], k ? ", " : ", events: [");
                if (w->n_events)
                        strbuf_printf(&b, "]");
                strbuf_printf(&b, "}\n");
        }
        return b.s;
}

const struct topo_workload *topo_find_workload(const struct topo *t, const char *name)
{
        for (unsigned i = 0; t && name && i < t->n_workloads; i++)
                if (streq(t->workloads[i].name, name))
                        return &t->workloads[i];
        return NULL;
}

const char *topo_tool_name(enum topo_tool t)
{
        return t == TOPO_TOOL_IPERF3 ? "iperf3" : "mptcpload";
}
