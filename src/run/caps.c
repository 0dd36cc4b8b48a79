/* caps.c - what a topology asks of its nodes' kernels and tools, against
 * what their agents said in hello: refused before anything is configured. */
#include "caps.h"
#include "../load/iperf3.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <errno.h>

bool hello_has(struct json_object *hello, const char *a, const char *b)
{
        struct json_object *o = jpath(hello, a, b, NULL);
        return o && json_object_get_boolean(o);
}

int caps_check(const struct topo *t, struct json_object *const *hellos, char **err)
{
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                for (unsigned s = 0; s < 2; s++) {
                        const struct topo_shape *sh = &l->shape[s];
                        const struct topo_node *tn = &t->nodes[l->end[s].node];
                        struct json_object *hello = hellos[l->end[s].node];
                        const char *dev = tn->ifaces[l->end[s].iface].name;
                        const char *kernel = jstr(hello, "kernel");
                        const char *probe = jstr(jobj(hello, "qdiscs"), "probe_error");
                        if (sh->set && probe && (sh->rate_bps || topo_shape_needs_netem(sh))) {
                                *err = xasprintf("%s:%d:%d: link %u is shaped on %s:%s, but the "
                                                 "agent of node %s (%s) %s",
                                                 t->file, sh->pos.line, sh->pos.col, i + 1,
                                                 tn->name, dev, tn->name, kernel ? kernel : "?",
                                                 probe);
                                return -EOPNOTSUPP;
                        }
                        if (topo_shape_needs_netem(sh) && !hello_has(hello, "qdiscs", "netem")) {
                                const char *what = sh->delay_us    ? "delay"
                                                   : sh->jitter_us ? "jitter"
                                                                   : "loss";
                                *err = xasprintf(
                                        "%s:%d:%d: link %u asks for %s on %s:%s, but the kernel of "
                                        "node %s (%s) has no netem qdisc (sch_netem): delay, "
                                        "jitter "
                                        "and loss cannot be shaped there. Use a rate-only topology "
                                        "(e.g. topologies/two-paths-rate.yaml) or a backend whose "
                                        "kernel has netem (--backend libvirt)",
                                        t->file, sh->pos.line, sh->pos.col, i + 1, what, tn->name,
                                        dev, tn->name, kernel ? kernel : "?");
                                return -EOPNOTSUPP;
                        }
                        if (sh->set && sh->rate_bps && !topo_shape_needs_netem(sh) &&
                            !hello_has(hello, "qdiscs", "tbf")) {
                                *err = xasprintf("%s:%d:%d: link %u asks for a rate on %s:%s, but "
                                                 "the kernel of node %s has no tbf qdisc",
                                                 t->file, sh->pos.line, sh->pos.col, i + 1,
                                                 tn->name, dev, tn->name);
                                return -EOPNOTSUPP;
                        }
                }
        }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                const struct topo_node *tn = &t->nodes[i];
                if (!hello_has(hellos[i], "mptcp", "available")) {
                        *err = xasprintf("node %s: kernel %s has no MPTCP (net.mptcp.enabled "
                                         "missing: CONFIG_MPTCP off)",
                                         tn->name, jstr(hellos[i], "kernel"));
                        return -EOPNOTSUPP;
                }
        }
        for (unsigned i = 0; i < t->n_workloads; i++) {
                const struct topo_workload *w = &t->workloads[i];
                if (w->tool == TOPO_TOOL_MPTCPLOAD) {
                        for (unsigned side = 0; side < 2; side++)
                                if (!hello_has(hellos[side ? w->to : w->from], "mptcpload", NULL)) {
                                        *err = xasprintf(
                                                "node %s: workload %s needs mptcpload, which "
                                                "is not there",
                                                t->nodes[side ? w->to : w->from].name, w->name);
                                        return -ENOENT;
                                }
                        continue;
                }
                for (unsigned side = 0; side < 2; side++) {
                        const struct topo_node *tn = &t->nodes[side ? w->to : w->from];
                        struct json_object *hello = hellos[side ? w->to : w->from];
                        if (!jpath(hello, "iperf3", "version", NULL)) {
                                *err = xasprintf("node %s: workload %s needs iperf3, which is not "
                                                 "installed there",
                                                 tn->name, w->name);
                                return -ENOENT;
                        }
                        struct load_caps caps = {hello_has(hello, "iperf3", "mptcp_flag"),
                                                 hello_has(hello, "mptcpize", NULL)};
                        if (!iperf3_mptcp_method(w, &caps)) {
                                *err = xasprintf("node %s: workload %s asks for MPTCP, but iperf3 "
                                                 "%s has no --mptcp and mptcpize is missing",
                                                 tn->name, w->name,
                                                 jstr(jobj(hello, "iperf3"), "version"));
                                return -ENOENT;
                        }
                }
        }
        return 0;
}

/* "6.1.0-56-cloud-amd64" -> 601; 0 when it is no release */
static unsigned release_of(const char *k)
{
        unsigned major = 0, minor = 0;
        return k && sscanf(k, "%u.%u", &major, &minor) == 2 ? major * 100 + minor : 0;
}

char *caps_mptcp_lacks(const struct topo *t, struct json_object *const *hellos)
{
        const char *sched = t->cell[TOPO_AXIS_SCHEDULER];
        for (unsigned i = 0; i < t->n_nodes; i++) {
                const struct topo_node *tn = &t->nodes[i];
                struct json_object *hello = hellos[i];
                const char *kernel = jstr(hello, "kernel") ?: "?";
                if (tn->kind != TOPO_NODE_HOST || !tn->mptcp.enabled)
                        continue;
                struct json_object *av = jpath(hello, "mptcp", "schedulers", NULL);
                if (sched && !av && !streq(sched, "default"))
                        return xasprintf("node %s: kernel %s has no scheduler but its built-in one "
                                         "(no net.mptcp.available_schedulers), not %s",
                                         tn->name, kernel, sched);
                if (sched && av) {
                        bool has = false;
                        for (size_t k = 0; k < json_object_array_length(av); k++)
                                has |= streq(
                                        json_object_get_string(json_object_array_get_idx(av, k)),
                                        sched);
                        if (!has)
                                return xasprintf(
                                        "node %s: kernel %s offers the scheduler(s) %s, "
                                        "not %s",
                                        tn->name, kernel,
                                        json_object_to_json_string_ext(av, JSON_C_TO_STRING_PLAIN),
                                        sched);
                }
                for (unsigned e = 0; e < tn->mptcp.n_endpoints; e++)
                        if ((tn->mptcp.endpoints[e].flags & TOPO_EP_LAMINAR) &&
                            release_of(kernel) < 618)
                                return xasprintf("node %s: kernel %s has no laminar endpoints "
                                                 "(they came with Linux 6.18)",
                                                 tn->name, kernel);
                if (tn->mptcp.pm_type && streq(tn->mptcp.pm_type, "userspace")) {
                        if (!hello_has(hello, "mptcp", "pm_type"))
                                return xasprintf("node %s: kernel %s has no userspace path "
                                                 "manager (no net.mptcp.pm_type)",
                                                 tn->name, kernel);
                        if (!jobj(hello, "mptcpd"))
                                return xasprintf("node %s: the userspace path manager needs "
                                                 "mptcpd, which is not installed there",
                                                 tn->name);
                        /* with no daemon the connection would run on its first
                         * subflow alone: never silently that */
                        return xasprintf("node %s: the lab does not start mptcpd %s (the "
                                         "userspace path manager) yet",
                                         tn->name, jstr(jobj(hello, "mptcpd"), "version") ?: "");
                }
        }
        return NULL;
}
