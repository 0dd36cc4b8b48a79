/* configure.h - a node configured as its topology says (configure.c) */
#pragma once
#include "node.h"

/* First sysctls, addresses and links up; then, once every node
 * has its side of each link up, routes, rules and MPTCP */
int configure_node(struct run *r, unsigned ni, char **err);
int configure_node_paths(struct run *r, unsigned ni, char **err);
/* What the node's kernel says once configured: every net.mptcp sysctl,
 * rp_filter of all, default and each interface, the MPTCP limits and
 * endpoints, into the node's `configured` (the run JSON's); warns where
 * strict reverse-path filtering, not the topology's, is on a node with
 * several addressed interfaces */
int configure_record(struct run *r, unsigned ni, char **err);

/* The agent's arguments for one direction's shape (qdisc_set) on dev, and
 * for adding a topology's endpoint (mptcp_endpoint_add): configuration and
 * path events alike */
struct json_object *shape_args(const char *dev, const struct topo_shape *sh);
struct json_object *endpoint_args(const struct topo_node *tn, const struct topo_endpoint *ep);
/* The address an endpoint uses: its own, else its interface's first */
const struct topo_addr *endpoint_addr(const struct topo_node *tn, const struct topo_endpoint *ep);
