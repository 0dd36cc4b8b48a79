"""The agent in fresh namespaces: what it configures through netlink is
checked against what the kernel reports through iproute2, and everything it
changed is gone after bye; its namespace is gone after it exits."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import Agent, check, done, ip_json, need_root, netns_list, tc_json  # noqa: E402

need_root()
tag = "mptcplab-t%d" % os.getpid()
na, nb = tag + "-a", tag + "-b"
a = Agent("--netns", na, "--name", "a")
b = Agent("--netns", nb, "--name", "b")
try:
    ha = a.ok("hello")
    check(na in netns_list() and nb in netns_list(), "agents created their named namespaces")
    # the link between them comes from the test, through iproute2
    subprocess.run(["ip", "link", "add", "eth0", "netns", na, "type", "veth", "peer", "name", "eth0",
                    "netns", nb], check=True)
    # what the agent will change, before it changes anything (state: the ssh
    # backend's snapshot of a machine)
    watch = {"devs": ["eth0", "lo"], "sysctls": ["net.ipv4.ip_forward", "net.mptcp.enabled"]}
    state0 = a.ok("state", **watch)
    check(set(state0["devs"]) == {"eth0", "lo"} and state0["sysctls"]["net.ipv4.ip_forward"] == "0"
          and "subflows" in state0["mptcp_limits"] and state0["mptcp_endpoints"]["endpoints"] == [],
          "state: devs, sysctls, MPTCP limits and endpoints: %s" % state0)
    check(a.call("state", devs=["a/b"])["error"]["errno"] == "EINVAL", "state refuses a bad device name")
    check(a.call("state", sysctls=["../x"])["error"]["errno"] == "EINVAL", "state refuses a bad sysctl")
    for ag, addr in ((a, "10.9.1.1/24"), (b, "10.9.1.2/24")):
        ag.ok("link_set", dev="eth0", up=True)
        ag.ok("addr_add", dev="eth0", addr=addr)
    a.ok("addr_add", dev="eth0", addr="fd00:9::1/64")
    a.ok("link_wait", dev="eth0", timeout_ms=5000)

    addrs = {x["local"] + "/" + str(x["prefixlen"]) for i in ip_json(na, "addr", "show", "dev", "eth0")
             for x in i["addr_info"]}
    check({"10.9.1.1/24", "fd00:9::1/64"} <= addrs, "addresses are in the kernel: %s" % sorted(addrs))
    listed = {x["addr"] for x in a.ok("addr_list", dev="eth0")["addrs"]}
    check({"10.9.1.1/24", "fd00:9::1/64"} <= listed, "addr_list reports them")
    rep = a.call("addr_add", dev="eth0", addr="10.9.1.1/24")
    check(rep["error"]["errno"] == "EEXIST", "adding it twice: EEXIST")
    rep = a.call("addr_add", dev="nosuch0", addr="10.9.2.1/24")
    check(rep["error"]["errno"] == "ENODEV", "unknown device: ENODEV")

    a.ok("route_add", dst="10.9.8.0/24", via="10.9.1.2", table=100)
    a.ok("route_add", dst="default", via="10.9.1.2", dev="eth0", table=100)
    routes = ip_json(na, "route", "show", "table", "100")
    got = {(r["dst"], r.get("gateway"), r.get("dev")) for r in routes}
    check(("10.9.8.0/24", "10.9.1.2", "eth0") in got and ("default", "10.9.1.2", "eth0") in got,
          "routes in table 100: %s" % sorted(got))
    a.ok("rule_add", **{"from": "10.9.1.1/32", "table": 100, "prio": 1000})
    rules = ip_json(na, "rule", "show")
    check(any(r.get("priority") == 1000 and r.get("src") == "10.9.1.1" and r.get("table") == "100"
              for r in rules), "source rule to table 100 is there")

    a.ok("qdisc_set", dev="eth0", rate_bps=20000000)
    q = [x for x in tc_json(na, "qdisc", "show", "dev", "eth0") if x.get("root")]
    check(q and q[0]["kind"] == "tbf" and q[0]["options"]["rate"] == 2500000,
          "rate 20mbit is a root tbf of 2500000 bytes/s: %s" % q)
    if ha["qdiscs"]["netem"]:
        a.ok("qdisc_set", dev="eth0", rate_bps=20000000, delay_us=10000, jitter_us=1000, loss_pct=0.5)
        q = tc_json(na, "qdisc", "show", "dev", "eth0")
        kinds = sorted(x["kind"] for x in q)
        net = [x for x in q if x["kind"] == "netem"][0]["options"]
        check(kinds == ["netem", "tbf"], "netem root with a tbf child: %s" % kinds)
        check(abs(net["delay"]["delay"] - 0.010) < 1e-6 and abs(net["loss-random"]["loss"] - 0.005) < 1e-4,
              "netem delay 10ms loss 0.5%%: %s" % net)
        qn = a.ok("qdisc_list", dev="eth0")["netem"]
        check(qn["delay_us"] == 10000 and abs(qn["loss_pct"] - 0.5) < 1e-3, "qdisc_list reads netem back")
    else:
        rep = a.call("qdisc_set", dev="eth0", delay_us=10000)
        check(rep["error"]["errno"] == "EOPNOTSUPP" and "netem" in rep["error"]["message"],
              "without netem, delay is refused and netem named: %s" % rep["error"]["message"])
        q = [x for x in tc_json(na, "qdisc", "show", "dev", "eth0") if x.get("root")]
        check(q and q[0]["kind"] == "tbf", "the refused request left the tbf in place")

    # review P4: the ends of the rate range validate accepts are taken by the kernel too
    for bps in (8, 34000000000):
        rep = a.call("qdisc_set", dev="eth0", rate_bps=bps)
        check(rep["ok"], "rate %d bit/s, the end of validate's range, is configured (%s)" % (bps, rep.get("error")))
    rep = a.call("qdisc_set", dev="eth0", rate_bps=7)
    check(rep["error"]["errno"] == "EINVAL", "rate 7 bit/s is refused by the agent as by validate")
    a.ok("qdisc_set", dev="eth0", rate_bps=20000000)

    lim = a.ok("mptcp_limits", subflows=4, add_addr_accepted=3)
    out = subprocess.run(["ip", "-n", na, "mptcp", "limits", "show"], capture_output=True, text=True).stdout
    check(lim == {"subflows": 4, "add_addr_accepted": 3} and "subflows 4" in out and
          "add_addr_accepted 3" in out, "limits set: %s" % out.strip())
    e1 = a.ok("mptcp_endpoint_add", addr="10.9.1.1", dev="eth0", flags=["subflow", "backup"])["id"]
    e2 = a.ok("mptcp_endpoint_add", addr="fd00:9::1", dev="eth0", flags=["signal"], id=42)["id"]
    out = subprocess.run(["ip", "-n", na, "mptcp", "endpoint", "show"], capture_output=True, text=True).stdout
    check(("10.9.1.1 id %d subflow backup dev eth0" % e1) in out, "v4 endpoint in the kernel")
    check(e2 == 42 and "fd00:9::1 id 42 signal dev eth0" in out, "v6 endpoint with id 42 in the kernel")
    lst = a.ok("mptcp_endpoint_list")["endpoints"]
    check(sorted(x["id"] for x in lst) == sorted([e1, 42]), "endpoint_list reports both")
    a.ok("mptcp_endpoint_del", id=42)
    out = subprocess.run(["ip", "-n", na, "mptcp", "endpoint", "show"], capture_output=True, text=True).stdout
    check("fd00:9::1" not in out, "endpoint 42 deleted")

    old = a.ok("sysctl_set", key="net.ipv4.ip_forward", value="1")["old"]
    out = subprocess.run(["ip", "netns", "exec", na, "cat", "/proc/sys/net/ipv4/ip_forward"],
                         capture_output=True, text=True).stdout.strip()
    check(old == "0" and out == "1", "sysctl written inside the namespace only")
    rep = a.call("sysctl_set", key="kernel.core_pattern", value="|/x")
    check(rep["error"]["errno"] == "EPERM" and open("/proc/sys/kernel/core_pattern").read() != "|/x\n",
          "a host-wide sysctl is refused by an agent in a namespace (review P7)")

    # a bridge of the agent's own: up, no IPv6 link-local, a second one of that name refused
    a.ok("bridge_add", name="mbr0")
    br = ip_json(na, "-d", "link", "show", "dev", "mbr0")
    check(br and br[0].get("linkinfo", {}).get("info_kind") == "bridge" and "UP" in br[0]["flags"],
          "bridge_add made a bridge that is up")
    check(not [x for x in ip_json(na, "addr", "show", "dev", "mbr0")[0]["addr_info"]],
          "the bridge has no address of its own (no IPv6 link-local)")
    rep = a.call("bridge_add", name="mbr0")
    check(not rep["ok"] and rep["error"]["errno"] == "EEXIST", "a second bridge_add mbr0: EEXIST")

    state1 = a.ok("state", **watch)
    check(state1 != state0 and state1["devs"]["eth0"]["qdiscs"] != state0["devs"]["eth0"]["qdiscs"],
          "state sees what the agent changed")
    # reset (which bye and exit also do) puts the node back as it was
    rev = a.ok("reset")
    state2 = a.ok("state", **watch)
    diff = [k for k in ("devs", "sysctls", "mptcp_limits", "mptcp_endpoints") if state2[k] != state0[k]]
    check(not diff, "after reset the state is the one before: %s" %
          ({k: (state0[k], state2[k]) for k in diff} if diff else "same"))
    check(rev["failed"] == 0 and len(rev["reverted"]) >= 8, "reset reverted %d changes" % len(rev["reverted"]))
    out = subprocess.run(["ip", "-n", na, "mptcp", "endpoint", "show"], capture_output=True, text=True).stdout
    check(out.strip() == "", "after bye: no endpoints")
    out = subprocess.run(["ip", "-n", na, "mptcp", "limits", "show"], capture_output=True, text=True).stdout
    check("subflows 2" in out and "add_addr_accepted 0" in out, "after bye: limits back to defaults")
    addrs = {x["local"] for i in ip_json(na, "addr", "show", "dev", "eth0") for x in i["addr_info"]
             if x.get("scope") == "global"}
    check(not addrs, "after bye: addresses removed (%s)" % addrs)
    check(not ip_json(na, "route", "show", "table", "100"), "after bye: table 100 empty")
    check(not any(r.get("priority") == 1000 for r in ip_json(na, "rule", "show")), "after bye: rule removed")
    q = [x for x in tc_json(na, "qdisc", "show", "dev", "eth0") if x["kind"] in ("tbf", "netem")]
    check(not q, "after bye: shaping removed")
    out = subprocess.run(["ip", "netns", "exec", na, "cat", "/proc/sys/net/ipv4/ip_forward"],
                         capture_output=True, text=True).stdout.strip()
    check(out == "0", "after bye: sysctl restored")
    check(not ip_json(na, "link", "show", "type", "bridge"), "after bye: the bridge is gone")
    # review A6: deleting one address forgets that change only; reset removes the other
    a.ok("addr_add", dev="lo", addr="10.9.0.1/32")
    a.ok("addr_add", dev="lo", addr="10.9.0.2/32")
    a.ok("addr_del", dev="lo", addr="10.9.0.1/32")
    res = a.ok("reset")
    out = subprocess.run(["ip", "-n", na, "addr", "show", "dev", "lo"], capture_output=True, text=True).stdout
    check("10.9.0.2" not in out and res["failed"] == 0 and any("10.9.0.2" in x for x in res["reverted"]),
          "addr_add .1 .2, addr_del .1, reset: .2 is reverted, nothing fails")
finally:
    ra = a.close()
    rb = b.close()
check(ra == 0 and rb == 0, "agents exit 0")
check(na not in netns_list() and nb not in netns_list(), "namespaces removed when the agents exit")
done()
