/* caps.h - a topology's needs against its nodes' hello (pure) */
#pragma once
#include "../topo/topo.h"

#include <json-c/json.h>

/* hellos[i]: node i's hello. 0, or -EOPNOTSUPP (a kernel lacks netem, tbf or
 * MPTCP, or its qdisc probe failed) or -ENOENT (a tool is missing) with *err
 * saying which node, link and FILE:LINE:COL. */
int caps_check(const struct topo *t, struct json_object *const *hellos, char **err);
