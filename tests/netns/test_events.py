"""Path events end to end on netns: a carrier lost and regained under an
MPTCP transfer (tests/netns/events.yaml), applied on time, timed from the
receiver's 10 ms bins, heard by the path manager, the paths put back for
the next workload; a topology with impossible events refused with
FILE:LINE:COL and exit 2, nothing started or left behind."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import PRIVATE, SRC, check, done, need_root, netns_list, run_lab  # noqa: E402

need_root()
before = netns_list()

# 1. impossible events: exit 2, every one named where it is, nothing started
bad = os.path.join(SRC, "tests/topo/bad/39-events.yaml")
p = run_lab("run", bad, "--backend", "netns", "--no-store")
print(p.stderr)
check(p.returncode == 2, "impossible events: exit 2 (got %d)" % p.returncode)
check("39-events.yaml:15:24: workload 1 event 1: link: there is no link 2" in p.stderr,
      "an unknown link is named with FILE:LINE:COL")
check("39-events.yaml:16:14: workload 1 event 2: at \"10s\" is outside the workload's duration" in p.stderr,
      "an event after the end is named with FILE:LINE:COL")
check("workload 1/" not in p.stderr and netns_list() == before, "nothing started, nothing left")

# 2. the carrier lost and back
# A join the kernel resets before the event (DSS not matching, 1 run in
# about 10 on host 6.18) leaves nothing to fail over to: the lab says the run
# is not valid, and why; the test then runs it again (at most 3 times).
for attempt in range(3):
    out = os.path.join(PRIVATE, "events%d.json" % attempt)
    p = run_lab("run", os.path.join(SRC, "tests/netns/events.yaml"), "--backend", "netns",
                "--no-store", "--json", out)
    print(p.stderr)
    check(netns_list() == before, "no namespace left after it")
    run = json.load(open(out))
    w = {x["name"]: x for x in run["workloads"]}
    c = w["carrier"]
    bad = [x for x in w.values() if x["status"] == "invalid"]
    if not bad:
        break
    for x in bad:
        print("# run %d, %s not valid: %s" % (attempt + 1, x["name"], x["reason"]))
        check("subflows at the event" in x["reason"] or "a subflow closed" in x["reason"],
              "a run with a subflow lost is not valid, and says so")
check(p.returncode == 0, "the event topology runs (exit %d)" % p.returncode)
check(c["status"] == "ok" and c["key_metrics"] == ["recovery_s"], "ok, judged by recovery_s")
ev = c["events"]
check([e["action"] for e in ev] == ["down", "up"] and all(e["error"] is None for e in ev),
      "both events applied without error")
late = max(e["late_ms"] for e in ev)
print("# events applied at most %.3f ms after their instants (clocks within %.3f ms)" %
      (late, max(e["clock_uncertainty_ms"] for e in ev)))
check(-1 < late < 5, "each applied within 5 ms of its instant on netns")
bins = c["receiver_bins"]
total = sum(bins["bytes"])
window = c["goodput"]["receiver_bps"] * c["duration_s"] / 8
print("# %d bins of %g s: %d bytes; the window's count %d" % (len(bins["bytes"]), bins["width_s"], total, window))
check(len(bins["bytes"]) == 1000 and bins["width_s"] == 0.01, "10 s in 10 ms bins")
check(abs(total - window) <= 0.001 * window, "the bins add up to the window's bytes within 0.1%")
d = ev[0]
print("# down: level %.1f Mbit/s, outage %.3f s, second stall %.3f s, recovery %.3f s (recovered %s), bound %s" %
      (d["level_bps"] / 1e6, d["outage_s"], d["second_stall_s"], d["recovery_s"], d["recovered"], d["bound_s"]))
iv = c["intervals"]


def acked(t):
    """each subflow's bytes acked by its local address, at the last sample before t"""
    last = [x for x in iv if x["t"] <= t and x.get("subflows")][-1]
    return {s["local"].split(":")[0]: s["bytes_acked"] for s in last["subflows"]}


a0, a1 = acked(0.1), acked(1.95)
moved = {k: a1[k] - a0.get(k, 0) for k in a1}
print("# before the event, bytes acked per subflow: %s; level %.1f Mbit/s" % (moved, d["level_bps"] / 1e6))
check(len(moved) == 2 and all(v > 100000 for v in moved.values()),
      "before the event both paths carried data (the sender's subflows, 50 ms samples)")
check(d["target_bps"] == 10e6, "what remains is the other 10 Mbit/s path")
check(d["outage_s"] >= 0.1, "losing a path in use stalls the receiver (%.3f s: data in flight on it "
      "waits for a retransmission timeout, 200 ms at least)" % d["outage_s"])
check(d["recovered"] and 0 < d["recovery_s"] < 6, "it recovers on the other path before the link is back")
check(d["bound_s"] is not None and 0 < d["bound_s"] < 0.2 and d["recovery_s"] > d["bound_s"],
      "no faster than its bound, one round trip of what remains (%s s)" % d["bound_s"])
check(c["metrics"]["recovery_s"] == d["recovery_s"] and c["metrics"]["outage_s"] == d["outage_s"],
      "the registry's metrics are the primary event's")
pm = c["pm_events"]
check(set(pm) == {"client", "server"} and
      all(any(x["type"] == "established" and x["t_s"] < 0 for x in pm[n]) for n in pm),
      "the path manager heard on both ends: the connection established before the window")
# 3. the next workload finds the topology as it was: both paths, both subflows
a = w["after"]
print("# the workload after: %.2f Mbit/s, %.2f subflows" % (a["goodput"]["receiver_bps"] / 1e6,
                                                          a["mptcp"]["subflows_per_connection"]))
check(a["status"] == "ok" and a["goodput"]["receiver_bps"] > 15e6 and
      a["mptcp"]["subflows_per_connection"] >= 2, "the next workload has both paths back")
done()
