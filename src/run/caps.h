/* caps.h - a topology's needs against its nodes' hello (pure) */
#pragma once
#include "../topo/topo.h"

#include <json-c/json.h>
#include <stdbool.h>

/* Does a hello say true at a (and b within it: "iperf3", "mptcp_flag")? */
bool hello_has(struct json_object *hello, const char *a, const char *b);
/* hellos[i]: node i's hello. 0, or -EOPNOTSUPP (a kernel lacks netem, tbf or
 * MPTCP, or its qdisc probe failed) or -ENOENT (a tool is missing) with *err
 * saying which node, link and FILE:LINE:COL. */
int caps_check(const struct topo *t, struct json_object *const *hellos, char **err);
/* What a node's kernel or tools lack of what the topology asks of MPTCP:
 * a scheduler (net.mptcp.available_schedulers), laminar endpoints (Linux
 * 6.18), the userspace path manager (net.mptcp.pm_type and mptcpd). NULL,
 * or why not, naming the node and its kernel (allocated). A matrix cell
 * asking for it is skipped; a topology of its own is refused. */
char *caps_mptcp_lacks(const struct topo *t, struct json_object *const *hellos);
