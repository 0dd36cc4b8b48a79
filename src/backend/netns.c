/* netns.c - the network namespace backend: one namespace per node, named
 * mptcplab-RUNID-NODE and owned by that node's agent (which creates it and
 * removes it when it exits, also when we die: it gets SIGTERM then); links
 * are veth pairs created straight into the two namespaces. Shares the host
 * kernel, so it cannot compare kernels: for development and CI. */
#include "backend.h"
#include "../nl/nl.h"
#include "../shared/owner.h"
#include "../shared/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/utsname.h>

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
        /* a namespace shares the host's kernel: a host-wide sysctl written for one
         * node would change the host (and other runs), and outlive a killed run */
        for (unsigned i = 0; lab->t && i < lab->t->n_nodes; i++) {
                const struct topo_node *n = &lab->t->nodes[i];
                for (unsigned k = 0; k < n->n_sysctls; k++)
                        if (!sysctl_per_netns(n->sysctls[k].key)) {
                                *why = xasprintf("%s:%d:%d: node %s: sysctl %s is host-wide, not "
                                                 "one of the node's network namespace: the netns "
                                                 "backend cannot set it (use --backend libvirt, "
                                                 "where the node is a VM)",
                                                 lab->t->file, n->sysctls[k].pos.line,
                                                 n->sysctls[k].pos.col, n->name, n->sysctls[k].key);
                                lab->input_error = true;
                                return -EINVAL;
                        }
        }
        /* nor can it boot another kernel: a --kernel other than the host's
         * would compare the host's kernel with itself under two names */
        struct utsname u;
        uname(&u);
        if (lab->kernel && !streq(lab->kernel, u.release)) {
                *why = xasprintf("--kernel %s: the netns backend runs the host's kernel (%s) and "
                                 "cannot boot another (use --backend libvirt)",
                                 lab->kernel, u.release);
                lab->input_error = true;
                return -EINVAL;
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
                n->accel = "host";
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

/* A namespace of ours whose agent is gone (killed, crashed): nothing in it may
 * live on, and its name goes. Returns 0, or -EBUSY when it is not ours to take. */
static int netns_remove(const char *name, bool kill_inside)
{
        char path[256];
        snprintf(path, sizeof path, "/run/netns/%s", name);
        _cleanup_free_ char *owner = xasprintf("netns-%s", name);
        if (owner_held(owner) > 0)
                return -EBUSY;
        pid_t pids[64];
        unsigned n = netns_pids(path, pids, ELEMENTSOF(pids));
        if (n && !kill_inside) {
                log_warn("namespace %s has no owner but %u process(es) in it (pid %d): left alone",
                         name, n, (int)pids[0]);
                return -EBUSY;
        }
        for (unsigned i = 0; i < n && i < ELEMENTSOF(pids); i++) {
                log_warn("namespace %s: pid %d outlived its agent: killed", name, (int)pids[i]);
                kill(pids[i], SIGKILL);
        }
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                return -errno;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        owner_forget(owner);
        return 0;
}

static void netns_destroy(struct lab *lab)
{
        /* the agents own the namespaces: bye restores the node, EOF ends the
         * agent, and its exit removes /run/netns/NAME; the veths die with it.
         * An agent that was killed leaves its name behind: ours to remove. */
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lab_node *n = &lab->nodes[i];
                n->agent = agent_conn_close(n->agent, 10000);
                if (n->netns) {
                        char path[256];
                        snprintf(path, sizeof path, "/run/netns/%s", n->netns);
                        int r = access(path, F_OK) == 0 ? netns_remove(n->netns, true) : 0;
                        if (r < 0)
                                log_warn("node %s: cannot remove namespace %s: %s", n->tn->name,
                                         n->netns, strerror(-r));
                }
                free(n->netns);
                n->netns = NULL;
        }
}

/* /run/netns/mptcplab-*: removed only when no agent holds its owner lock and
 * no process is inside (`ip netns exec` hides which namespace a process is in,
 * so argv proves nothing). */
static void netns_cleanup(unsigned *removed, unsigned *failed)
{
        DIR *d = opendir("/run/netns");
        struct dirent *e;
        while (d && (e = readdir(d))) {
                if (strncmp(e->d_name, "mptcplab-", 9))
                        continue;
                int r = netns_remove(e->d_name, false);
                if (r == -EBUSY)
                        continue;
                if (r < 0) {
                        log_error("cannot remove namespace %s: %s", e->d_name, strerror(-r));
                        (*failed)++;
                } else {
                        log_info("removed stale namespace %s", e->d_name);
                        (*removed)++;
                }
        }
        if (d)
                closedir(d);
}

static char *netns_describe(const struct lab *lab, unsigned node)
{
        return xasprintf("network namespace %s", lab->nodes[node].netns ?: "(none yet)");
}

static const char *netns_link_kind(const struct lab *lab)
{
        return "veth";
}

/* The namespaces share the host's kernel: its messages since the run began
 * (/dev/kmsg records carry CLOCK_MONOTONIC-like microseconds), one file for
 * every node, written once. */
static char *netns_collect_log(struct lab *lab, unsigned node)
{
        _cleanup_free_ char *path = xasprintf("%s/kernel.log", lab->run_dir);
        if (node > 0)
                return access(path, F_OK) == 0 ? TAKE_PTR(path) : NULL;
        _cleanup_close_ int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                log_debug("no kernel log: /dev/kmsg: %m");
                return NULL;
        }
        _cleanup_fclose_ FILE *f = fopen(path, "we");
        if (!f) {
                log_debug("no kernel log: %s: %m", path);
                return NULL;
        }
        char rec[8192];
        for (;;) {
                ssize_t n = read(fd, rec, sizeof rec - 1);
                if (n < 0 && errno == EPIPE) /* overwritten while read: go on */
                        continue;
                if (n <= 0)
                        break;
                rec[n] = 0;
                /* "prio,seq,usec,flags;text\n" */
                unsigned long long usec = 0;
                char *text = strchr(rec, ';');
                if (!text || sscanf(rec, "%*u,%*u,%llu", &usec) != 1 || usec < lab->t0)
                        continue;
                fprintf(f, "[%12.6f] %s", usec / 1e6, text + 1);
        }
        return TAKE_PTR(path);
}

const struct backend_ops backend_netns = {
        .describe = netns_describe,
        .link_kind = netns_link_kind,
        .collect_log = netns_collect_log,
        .name = "netns",
        .summary = "network namespaces and veth pairs on this host (shares the host kernel)",
        .preflight = netns_preflight,
        .create = netns_create,
        .wire = netns_wire,
        .destroy = netns_destroy,
        .cleanup = netns_cleanup,
};
