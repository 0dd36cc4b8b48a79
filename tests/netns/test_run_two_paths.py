"""End to end on the netns backend: two-paths-rate runs, MPTCP uses both
paths (interface byte counters, independent of iperf3), the subflow count
matches the topology, and nothing is left behind."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import SRC, check, done, need_root, netns_list, run_lab  # noqa: E402

need_root()
before = netns_list()
links_before = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.count("veth")
with tempfile.TemporaryDirectory() as d:
    out = os.path.join(d, "run.json")
    p = run_lab("run", os.path.join(SRC, "topologies/two-paths-rate.yaml"), "--backend", "netns",
                "--json", out)
    print(p.stdout)
    print(p.stderr[-2000:], file=sys.stderr)
    check(p.returncode == 0, "run exits 0 (got %d)" % p.returncode)
    check("bulk-mptcp" in p.stdout and "Mbit/s" in p.stdout, "a table on stdout")
    check("workload 2/2" in p.stderr and "left)" in p.stderr, "progress with time left on stderr")
    r = json.load(open(out))
check(r["schema"] == "mptcplab.run/1" and r["backend"] == "netns", "JSON schema and backend")
wl = {w["name"]: w for w in r["workloads"]}
tcp, mp = wl["bulk-tcp"], wl["bulk-mptcp"]
check(tcp["status"] == "ok" and mp["status"] == "ok", "both workloads valid")
check(mp["mptcp_method"] in ("mptcpize", "--mptcp") and tcp["mptcp_method"] == "tcp", "MPTCP method recorded")
check(mp["mptcp"]["mp_capable"] >= 1 and mp["mptcp"]["fallbacks"] == 0, "MPTCP really negotiated")
check(abs(mp["mptcp"]["subflows_per_connection"] - 3) < 0.01,
      "3 subflows per connection (initial, subflow endpoint, signalled address): %s" % mp["mptcp"])
check(tcp["mptcp"]["mp_capable"] == 0, "the TCP workload opened no MPTCP connection")

def shares(w):
    tx = {i["dev"]: i["tx_bytes"] for i in w["interfaces"] if i["node"] == "client"}
    total = sum(tx.values())
    return {k: v / total for k, v in tx.items()}, total

s, total = shares(mp)
check(min(s.values()) > 0.3, "MPTCP: both client interfaces carry traffic: %s" % s)
s_tcp, _ = shares(tcp)
check(s_tcp["eth1"] < 0.01, "TCP: one path only: %s" % s_tcp)
# the interface counters saw at least the bytes iperf3 says arrived (warm-up included in them)
got = mp["goodput"]["receiver_bps"] * mp["duration_s"] / 8
check(total >= got, "client interfaces sent %d bytes >= %d iperf3 received" % (total, got))
# shaped at 2 x 20 Mbit/s: no more than the wire allows
check(mp["goodput"]["receiver_bps"] <= 40e6 and tcp["goodput"]["receiver_bps"] <= 20e6,
      "goodput within the shaped rates")
check(mp["path_rate_bps"] == 40000000 and mp["aggregation_efficiency"] > 0, "aggregation efficiency computed")
# the headline: MPTCP over two 20 Mbit/s paths gets well over one path's worth
# (splitting 20 Mbit/s over both paths would pass every check above)
check(mp["goodput"]["receiver_bps"] > 1.5 * tcp["goodput"]["receiver_bps"],
      "MPTCP %.2f Mbit/s > 1.5 x TCP %.2f Mbit/s" % (mp["goodput"]["receiver_bps"] / 1e6,
                                                   tcp["goodput"]["receiver_bps"] / 1e6))
check(all(n["kernel"] == os.uname().release for n in r["nodes"]), "node kernels recorded")
check(all(n.get("what") == "network namespace mptcplab-%s-%s" % (r["run_id"][:8], n["name"]) for n in r["nodes"]),
      "the backend says what each node is: %s" % [n.get("what") for n in r["nodes"]])
klogs = {n.get("kernel_log") for n in r["nodes"]}
check(len(klogs) == 1 and None not in klogs and os.path.exists(klogs.pop()),
      "one kernel log for the namespaces (they share the host's kernel), in the run directory")
# hardware cycles: counted where the host has a PMU, else null with the
# metric left out; never a number without a PMU to count it
pmu = os.path.exists("/sys/bus/event_source/devices/cpu")
cyc = [mp["cpu"].get("cycles_client"), mp["cpu"].get("cycles_server")]
check(all(c is not None and c > 0 for c in cyc) if pmu else cyc == [None, None],
      "cycles %s where the host %s a PMU" % (cyc, "has" if pmu else "has no"))
check(("cycles_per_byte" in mp["metrics"]) == pmu, "cycles_per_byte only with a PMU: %s" % sorted(mp["metrics"]))
# what each node's kernel said once configured: every net.mptcp sysctl it has,
# rp_filter, the limits and endpoints as configured (issue 26's "every run records")
conf = {n["name"]: n.get("configured") or {} for n in r["nodes"]}
check(all(c.get("sysctls", {}).get("net.mptcp.enabled") == "1" and
          "net.mptcp.stale_loss_cnt" in c["sysctls"] and
          c["sysctls"].get("net.ipv4.conf.eth1.rp_filter") in ("0", "2") for c in conf.values()),
      "the run records each node's net.mptcp sysctls and rp_filter: %s" %
      {k: sorted(c.get("sysctls", {}))[:6] for k, c in conf.items()})
check(conf["client"].get("mptcp_limits", {}).get("subflows") == 2 and
      [e["dev"] for e in conf["client"].get("mptcp_endpoints", {}).get("endpoints", [])] == ["eth1"],
      "... and the MPTCP limits and endpoints as the kernel reports them: %s" % conf["client"].get("mptcp_limits"))
# strict reverse-path filtering on a node with two addressed interfaces would drop
# MPTCP's joined subflows: a topology (here --set) asking for it is refused, exit 2
p = run_lab("run", os.path.join(SRC, "topologies/two-paths-rate.yaml"), "--backend", "netns",
            "--set", "nodes.client.sysctls.net.ipv4.conf.all.rp_filter=1")
check(p.returncode == 2 and "(--set): node client sysctls: net.ipv4.conf.all.rp_filter = 1 is strict" in p.stderr,
      "rp_filter=1 on the two-path client: refused, exit 2 (%d): %s" % (p.returncode, p.stderr.strip()[-200:]))
check(netns_list() == before, "no namespace left (%s)" % netns_list())
links_after = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout.count("veth")
check(links_after == links_before, "no veth left in the host namespace")
print("# measured: tcp %.2f Mbit/s, mptcp %.2f Mbit/s, ratio %.2f, wall %.1fs" % (
    tcp["goodput"]["receiver_bps"] / 1e6, mp["goodput"]["receiver_bps"] / 1e6,
    mp["goodput"]["receiver_bps"] / tcp["goodput"]["receiver_bps"], r["wall_s"]))
done()
