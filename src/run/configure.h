/* configure.h - a node configured as its topology says (configure.c) */
#pragma once
#include "node.h"

/* First sysctls, addresses and links up; then, once every node
 * has its side of each link up, routes, rules and MPTCP */
int configure_node(struct run *r, unsigned ni, char **err);
int configure_node_paths(struct run *r, unsigned ni, char **err);
