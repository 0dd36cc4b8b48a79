/* inventory.h - the real machines a topology runs on with --backend ssh
 * (docs/inventory.md): each topology node on a machine of its own, reached
 * over ssh, each of the node's interfaces on one of that machine's NICs (by
 * MAC address or name). Parsed with libfyaml; errors say FILE:LINE:COL. */
#pragma once
#include "topo.h"

#include <stdbool.h>

struct inv_machine {
        char *name;
        char *ssh;      /* the destination: [user@]host */
        unsigned port;  /* 0: ssh's own default */
        char **options; /* more ssh arguments, word by word (never a shell) */
        unsigned n_options;
        char *jump;            /* ProxyJump, NULL: none */
        bool kexec;            /* may kexec into another kernel (--kernel) */
        unsigned boot_timeout; /* s from a kexec to ssh answering again (default 300) */
        bool used;             /* a node is on it */
        struct topo_pos pos;
};

struct inv_nic {
        char *iface; /* the topology's interface name */
        char *mac;   /* lower-case aa:bb:..., or NULL */
        char *dev;   /* the machine's interface name, or NULL */
        struct topo_pos pos;
};

struct inv_node {
        char *name;    /* a topology node */
        char *machine; /* an inv_machine's name */
        struct inv_nic *nics;
        unsigned n_nics;
        struct topo_pos pos;
};

struct inventory {
        char *file;
        struct inv_machine *machines;
        unsigned n_machines;
        struct inv_node *nodes;
        unsigned n_nodes;
        struct topo_pos nodes_pos;
};

int inventory_parse_file(const char *path, struct inventory **ret, struct topo_errors *errs);
int inventory_parse_string(const char *name, const char *yaml, struct inventory **ret,
                           struct topo_errors *errs);
/* Whether the inventory places the whole topology: every node on a machine,
 * every interface of it on a NIC. Errors name the inventory's place. */
int inventory_check(const struct inventory *inv, const struct topo *t, struct topo_errors *errs);
const struct inv_node *inventory_node(const struct inventory *inv, const char *name);
const struct inv_machine *inventory_machine(const struct inventory *inv, const char *name);
struct inventory *inventory_free(struct inventory *inv);
