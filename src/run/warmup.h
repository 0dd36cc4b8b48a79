/* warmup.h - warmup: auto, learned: how long a workload's rate takes to
 * settle, from what its runs showed. Pure. */
#pragma once
#include "../topo/topo.h"

#include <stdint.h>

/* What one run of w needs: it used used_s of warm-up, its rate settled
 * settled_s in (< 0: the intervals could not say) and late_joins subflows
 * joined inside its window. The warm-up only grows by whole seconds (iperf3
 * -O), is at least 2 s for MPTCP (whose half-second intervals swing by 20%
 * under TCG) and 1 s for TCP, goes back to the longest (the topology's) when
 * subflows joined late or nothing could be said, and is never longer than
 * the topology's. Microseconds. */
uint64_t warmup_needed(const struct topo_workload *w, double used_s, double settled_s,
                       long late_joins);
