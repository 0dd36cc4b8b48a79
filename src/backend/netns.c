/* netns.c - the network namespace backend: one namespace per node, named
 * mptcplab-RUNID-NODE and owned by that node's agent (which creates it and
 * removes it when it exits, also when we die: it gets SIGTERM then); links
 * are veth pairs created straight into the two namespaces. Shares the host
 * kernel, so it cannot compare kernels: for development and CI. */
#include "backend.h"
#include "../nl/nl.h"
#include "../shared/util.h"

#include <fcntl.h>

static int netns_preflight(struct lab *lab, char **why)
{
        if (geteuid() != 0) {
                *why = xasprintf("the netns backend needs root: CAP_SYS_ADMIN to create network "
                                 "namespaces and CAP_NET_ADMIN for veth pairs, qdiscs and MPTCP "
                                 "endpoints (run it with sudo)");
                return -EPERM;
        }
        if (access("/proc/self/ns/net", R_OK) < 0) {
                *why = xasprintf("this kernel has no network namespaces (/proc/self/ns/net)");
                return -EOPNOTSUPP;
        }
        return 0;
}

static int netns_create(struct lab *lab, char **err)
{
        struct topo *t = lab->t;
        for (unsigned i = 0; i < t->n_nodes; i++)
                if (t->nodes[i].uri)
                        log_warn("node %s: uri %s is for the libvirt backend; netns runs every "
                                 "node on this host",
                                 t->nodes[i].name, t->nodes[i].uri);
        /* start all agents first, then greet them: the namespaces come up in parallel */
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lab_node *n = &lab->nodes[i];
                n->netns = xasprintf("mptcplab-%s-%s", lab->run_id, n->tn->name);
                char *argv[] = {(char *)lab->agent_path,
                                "--stdio",
                                "--netns",
                                n->netns,
                                "--name",
                                n->tn->name,
                                NULL};
                int r = agent_conn_spawn(n->tn->name, argv, &n->agent);
                if (r < 0) {
                        *err = xasprintf("node %s: cannot start the agent %s: %s", n->tn->name,
                                         lab->agent_path, strerror(-r));
                        return r;
                }
        }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lab_node *n = &lab->nodes[i];
                char *e = NULL;
                int r = agent_call(n->agent, "hello", NULL, 15000, &n->hello, &e);
                if (r < 0) {
                        *err = xasprintf("node %s: agent hello: %s", n->tn->name, e);
                        free(e);
                        return r;
                }
        }
        return 0;
}

static int netns_wire(struct lab *lab, char **err)
{
        struct topo *t = lab->t;
        struct nlr *nl;
        int r = nlr_open(&nl);
        if (r < 0) {
                *err = xasprintf("cannot open rtnetlink in the host namespace: %s", strerror(-r));
                return r;
        }
        for (unsigned i = 0; i < t->n_links && r >= 0; i++) {
                const struct topo_link *l = &t->links[i];
                int fd[2] = {-1, -1};
                const char *name[2];
                for (unsigned s = 0; s < 2; s++) {
                        struct lab_node *n = &lab->nodes[l->end[s].node];
                        char path[256];
                        snprintf(path, sizeof path, "/run/netns/%s", n->netns);
                        name[s] = n->tn->ifaces[l->end[s].iface].name;
                        if ((fd[s] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
                                r = -errno;
                                *err = xasprintf("link %u: cannot open namespace %s: %s", i + 1,
                                                 path, strerror(errno));
                        }
                }
                if (r >= 0 && (r = nlr_veth_create(nl, name[0], fd[0], name[1], fd[1])) < 0)
                        *err = xasprintf("link %u: cannot create veth pair %s:%s - %s:%s: %s (%s)",
                                         i + 1, lab->nodes[l->end[0].node].tn->name, name[0],
                                         lab->nodes[l->end[1].node].tn->name, name[1], strerror(-r),
                                         nl_last_error());
                for (unsigned s = 0; s < 2; s++)
                        if (fd[s] >= 0)
                                close(fd[s]);
        }
        nlr_close(nl);
        return r;
}

static void netns_destroy(struct lab *lab)
{
        /* the agents own the namespaces: bye restores the node, EOF ends the
         * agent, and its exit removes /run/netns/NAME; the veths die with it */
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lab_node *n = &lab->nodes[i];
                n->agent = agent_conn_close(n->agent, 10000);
                if (n->netns) {
                        char path[256];
                        snprintf(path, sizeof path, "/run/netns/%s", n->netns);
                        if (access(path, F_OK) == 0)
                                log_warn("node %s: namespace %s is still there after its agent "
                                         "exited",
                                         n->tn->name, n->netns);
                }
                free(n->netns);
                n->netns = NULL;
        }
}

const struct backend_ops backend_netns = {
        .name = "netns",
        .summary = "network namespaces and veth pairs on this host (shares the host kernel)",
        .preflight = netns_preflight,
        .create = netns_create,
        .wire = netns_wire,
        .destroy = netns_destroy,
};
