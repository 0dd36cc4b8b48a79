/* backend.h - where a topology's nodes live. One driver table per backend;
 * an operation a backend lacks is NULL and callers treat it as -EOPNOTSUPP.
 * Drivers name every external object with the run id and undo what they
 * made, in reverse, on every exit path. */
#pragma once
#include <stdio.h>
#include "../agent/client.h"
#include "../topo/topo.h"

struct lab_node {
        const struct topo_node *tn;
        struct agent_conn *agent;
        struct json_object *hello;      /* the agent's hello reply */
        struct json_object *configured; /* what its kernel said once configured */
        char *netns;                    /* netns backend: the namespace's name */
        char *console;                  /* VM backends: the console log's path */
        char *kernel;                   /* what the node boots (spec as given), NULL: the host's */
        /* the booted kernel's identity: {release, image_sha256, tree, commit,
         * dirty}, NULL where the backend does not choose the kernel */
        struct json_object *kernel_id;
        char *hypervisor;  /* libvirt: the URI of the hypervisor the node ran on */
        const char *accel; /* "kvm", "tcg" or "host" (no VM): static */
        double ready_s;    /* from the start of the run to the agent's hello */
};

struct lab_crash {
        char *node;
        char *what;  /* "kernel panic", "oops", "BUG", "WARNING", "domain died", ... */
        char *trace; /* excerpt of the node's console */
};

struct backend_ops;

struct lab {
        struct topo *t;
        char run_id[16];
        const char *agent_path;
        const struct backend_ops *ops;
        struct lab_node *nodes;
        void *priv;
        const char *kernel;    /* --kernel, NULL: the topology's or the backend's default */
        const char *uri;       /* libvirt URI */
        const char *link_mode; /* libvirt: udp (default) or bridge */
        const char *inventory; /* ssh: the inventory file (docs/inventory.md) */
        char *run_dir;         /* where this run's files go (console logs, sockets) */
        uint64_t t0;           /* monotonic start of the run, usec */
        struct lab_crash crash;
        bool input_error; /* the failure is the user's input (a kernel path...): exit 2 */
};

/* A program of the lab's beside its agent (build tree or install): mptcpload
 * (the agent runs the one beside its own binary first), the TCG instruction
 * counter plugin; NAME alone when the agent's path names no directory. May
 * not exist. */
char *lab_beside_agent(const struct lab *lab, const char *name);

/* What the agent's state op is asked about a node, to compare it before and
 * after: its interfaces (by the topology's names) and the sysctls the
 * topology sets on it, and of MPTCP's net.mptcp.enabled only, or (all_mptcp)
 * every net.mptcp sysctl the kernel has */
struct json_object *node_state_args(const struct topo_node *tn, bool all_mptcp);

struct backend_ops {
        const char *name;
        const char *summary;
        /* Can this backend run here? On failure *why says which privilege or tool is missing. */
        int (*preflight)(struct lab *lab, char **why);
        /* Nodes up and an agent connected (and greeted) on each. */
        int (*create)(struct lab *lab, char **err);
        /* The links between nodes exist (interfaces named as in the topology). */
        int (*wire)(struct lab *lab, char **err);
        /* CPU time a node's VM has used so far (ns); NULL where that means nothing. */
        int (*cpu_time)(struct lab *lab, unsigned node, uint64_t *ret_ns);
        /* the guest instructions the node's vCPUs executed so far (a TCG
         * plugin's count), -ENODATA where nobody counts them */
        int (*insns)(struct lab *lab, unsigned node, uint64_t *ret);
        /* Everything created goes away; safe on a half-built lab. */
        void (*destroy)(struct lab *lab);
        /* Removes from this host what runs that died without tearing down left
         * (never what a live run owns); counts what it removed and failed on. */
        void (*cleanup)(unsigned *removed, unsigned *failed);
        /* What a node is, for people: "VM mptcplab-RUN-client (qemu:///system,
         * tcg)", "network namespace mptcplab-RUN-client". Allocated. */
        char *(*describe)(const struct lab *lab, unsigned node);
        /* How the links are made: "udp", "bridge", "veth". */
        const char *(*link_kind)(const struct lab *lab);
        /* What --links may choose (NULL-terminated), the first the default;
         * NULL: this backend makes its links one way. */
        const char *const *link_modes;
        /* The node kernel's log as a file of the run's directory (a VM's
         * console; the host kernel's messages since the run began, for a
         * namespace), before teardown. Returns its path, allocated, or NULL
         * (said at debug level) when there is none. */
        char *(*collect_log)(struct lab *lab, unsigned node);
        /* Machines the lab does not create: undo every change now and compare
         * each node with what it was before the run. Returns a JSON array of
         * [{node, machine, differs: [what]}] when any differs (the run is
         * dirty), else NULL. NULL where nodes go away with the run. */
        struct json_object *(*restore)(struct lab *lab);
        /* A booted lab may serve the next run of a series when only what the
         * agent configures differs (its agents reset between runs): where a
         * boot costs more than putting the nodes back. */
        bool reusable;
        /* Stops (pause) or resumes every node's vCPUs: a kept lab waits so
         * while another one measures. NULL: its nodes cost nothing idle. */
        int (*pause)(struct lab *lab, bool pause, char **err);
};

extern const struct backend_ops backend_netns;
extern const struct backend_ops backend_libvirt;
extern const struct backend_ops backend_ssh;
const struct backend_ops *backend_find(const char *name);
void backend_list(FILE *f);
/* The backends' names, NULL-terminated (for a plan's backend: key). */
const char *const *backend_names(void);
/* ssh.c: cleanup --inventory FILE: what killed runs left on those machines */
int ssh_cleanup_inventory(const char *path, unsigned *removed, unsigned *failed);
/* ssh.c: each node named in want ({node: release}) runs that release,
 * switched by kexec where it does not (the end of a series: the machines go
 * back to the kernels they ran before it). run_dir holds the ssh sockets. */
int ssh_set_kernels(const char *inventory, struct topo *t, struct json_object *want,
                    const char *run_dir, char **err);
/* The first crash pattern (panic, BUG, oops, WARNING, ...) in a kernel
 * log's text at or after from; *what names it. NULL: none. */
const char *crash_find(const char *text, const char *from, const char **what);
/* lab->crash from a hit of crash_find (the first crash of a run only): the
 * node, what, and an excerpt of text around hit. */
void crash_record(struct lab *lab, const char *node, const char *what, const char *text,
                  const char *hit);
/* Every backend's cleanup. Returns how many objects could not be removed. */
unsigned backend_cleanup_all(unsigned *removed);
