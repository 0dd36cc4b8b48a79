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
        struct json_object *hello; /* the agent's hello reply */
        char *netns;               /* netns backend: the namespace's name */
};

struct backend_ops;

struct lab {
        struct topo *t;
        char run_id[16];
        const char *agent_path;
        const struct backend_ops *ops;
        struct lab_node *nodes;
        void *priv;
};

struct backend_ops {
        const char *name;
        const char *summary;
        /* Can this backend run here? On failure *why says which privilege or tool is missing. */
        int (*preflight)(struct lab *lab, char **why);
        /* Nodes up and an agent connected (and greeted) on each. */
        int (*create)(struct lab *lab, char **err);
        /* The links between nodes exist (interfaces named as in the topology). */
        int (*wire)(struct lab *lab, char **err);
        /* Everything created goes away; safe on a half-built lab. */
        void (*destroy)(struct lab *lab);
};

extern const struct backend_ops backend_netns;
const struct backend_ops *backend_find(const char *name);
void backend_list(FILE *f);
