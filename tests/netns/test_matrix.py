"""A topology's matrix on the netns backend (issue: path managers, flags and
schedulers). `run --matrix` makes a series of every cell: each cell is stored
under its own name, the endpoint flags it names are the ones the kernel has
(signal: the server's endpoint only; subflow: the client's), a TCP cell runs
TCP, and a cell whose scheduler the kernel lacks is a SKIP with the reason,
never a failure and never the default. `compare --matrix` judges every cell's
key tests as one family and says at which level. A nightly plan over a 2 x 2
matrix (TCP is one cell: three) stores one history per cell. rp_filter=1 on
a node with several addressed interfaces is refused before anything runs."""
import json
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, PRIVATE, SRC, check, done, need_root, netns_list  # noqa: E402

need_root()
before = netns_list()
db = os.path.join(PRIVATE, "matrix.db")
topo = os.path.join(SRC, "tests/netns/matrix.yaml")
topo2 = os.path.join(SRC, "tests/netns/matrix2.yaml")


def lab(*args, timeout=600):
    return subprocess.run([MPTCPLAB, *args], capture_output=True, text=True, timeout=timeout)


def rows(q, *a):
    con = sqlite3.connect(db)
    r = con.execute(q, a).fetchall()
    con.close()
    return r


# run --matrix: five cells (2 flags x 2 schedulers over MPTCP, and TCP once)
out = os.path.join(PRIVATE, "run.json")
p = lab("run", topo, "--backend", "netns", "--matrix", "--runs", "1", "--warmup-runs", "0",
        "--db", db, "--json", out)
print(p.stdout)
print(p.stderr[-1500:], file=sys.stderr)
j = json.load(open(out)) if os.path.exists(out) else {}
cells = j.get("cells", [])
labels = [c.get("label") for c in cells]
check(p.returncode == 0 and len(cells) == 5 and j.get("schema") == "mptcplab.matrix/1",
      "run --matrix: exit 0, five cells in the JSON (rc %d): %s" % (p.returncode, labels))
sched = open("/proc/sys/net/mptcp/available_schedulers").read().split()
skipped = [c for c in cells if c.get("skip")]
check(len(skipped) == 2 and all(c["axes"].get("scheduler") == "bpf_rr" for c in skipped) and
      all("not bpf_rr" in c["skip"] and "offers the scheduler(s)" in c["skip"] for c in skipped),
      "the two bpf_rr cells are skipped, saying what the kernel offers (%s): %s" %
      (sched, [c.get("skip") for c in skipped]))
check(len(re.findall(r"^ok \d+ matrix\{.*scheduler=bpf_rr.*\} # SKIP node \w+: kernel .* offers", p.stdout,
                     re.M)) == 2, "the KTAP marks them SKIP with the reason")
ran = [c for c in cells if not c.get("skip")]
check(len(ran) == 3 and all(c.get("outcome") == 0 and c.get("series") for c in ran),
      "the other three ran: %s" % [(c.get("label"), c.get("outcome")) for c in ran])
# --matrix with --set matrix.AXIS=VALUE: that axis fixed, the matrix of the others
out2 = os.path.join(PRIVATE, "fixed.json")
p2 = lab("run", topo, "--backend", "netns", "--matrix", "--set", "matrix.scheduler=bpf_rr", "--runs", "1",
         "--warmup-runs", "0", "--no-store", "--json", out2)
j2 = json.load(open(out2)) if os.path.exists(out2) else {}
axes2 = [c.get("axes", {}) for c in j2.get("cells", [])]
check(len(axes2) == 3 and all(a.get("scheduler") in ("bpf_rr", None) for a in axes2),
      "--matrix --set matrix.scheduler=bpf_rr: 2 bpf_rr cells and the TCP one (rc %d): %s" % (p2.returncode, axes2))
stored = dict(rows("SELECT topology, count(*) FROM runs WHERE warmup = 0 GROUP BY topology"))
check(stored == {"matrix{endpoints=subflow,scheduler=default,protocol=mptcp}": 1,
                 "matrix{endpoints=signal,scheduler=default,protocol=mptcp}": 1,
                 "matrix{protocol=tcp}": 1},
      "each cell that ran is stored under its own name, nothing for a skipped one: %s" % stored)


def run_of(label):
    r = rows("SELECT result_json FROM runs WHERE topology = ? AND warmup = 0", label)
    return json.loads(r[0][0]) if r else {}


for flags, has_client, has_server in (("subflow", True, False), ("signal", False, True)):
    r = run_of("matrix{endpoints=%s,scheduler=default,protocol=mptcp}" % flags)
    eps = {n["name"]: ((n.get("configured") or {}).get("mptcp_endpoints") or {}).get("endpoints", [])
           for n in r.get("nodes", [])}
    wl = (r.get("workloads") or [{}])[0]
    check(bool(eps.get("client")) == has_client and bool(eps.get("server")) == has_server and
          all(flags in e.get("flags", []) for e in eps.get("client", []) + eps.get("server", [])),
          "endpoints=%s: the kernel lists the endpoints the cell names: %s" % (flags, eps))
    check(abs((wl.get("mptcp") or {}).get("subflows_per_connection", 0) - 2) < 0.01,
          "endpoints=%s: 2 subflows a connection: %s" % (flags, wl.get("mptcp")))
    check(r.get("topology", {}).get("cell", {}).get("endpoints") == flags,
          "the run JSON names its cell: %s" % r.get("topology", {}).get("cell"))
r = run_of("matrix{protocol=tcp}")
wl = (r.get("workloads") or [{}])[0]
check(wl.get("mptcp_method") == "tcp" and (wl.get("mptcp") or {}).get("mp_capable", 1) == 0,
      "the TCP cell ran TCP: %s %s" % (wl.get("mptcp_method"), wl.get("mptcp")))
tools = json.loads(rows("SELECT tools FROM runs WHERE topology = 'matrix{protocol=tcp}'")[0][0] or "{}")
check(all((tools.get(n) or {}).get("iproute2") for n in ("client", "server")),
      "every run records iproute2's version where the node has it: %s" % tools)

# compare --matrix: one family over every cell, its level said
out = os.path.join(PRIVATE, "compare.json")
p = lab("compare", topo2, "--backend", "netns", "--matrix", "--runs", "3", "--warmup-runs", "0",
        "--db", db, "--json", out)
print(p.stdout)
print(p.stderr[-800:], file=sys.stderr)
j = json.load(open(out)) if os.path.exists(out) else {}
m = re.search(r"# the key tests of every cell are one family: (\d+) test\(s\) in 3 judged cell\(s\), each at "
              r"([\d.]+)% confidence.*Bonferroni over 3 cells", p.stdout)
check(p.returncode == 0 and m and j.get("family_cells") == 3,
      "compare --matrix (A/A): exit 0, one family over 3 cells, its level said (rc %d)" % p.returncode)
levels = [c.get("gate_level") for c in j.get("cells", []) if c.get("series")]
k = int(m.group(1)) if m else 0
check(len(levels) == 3 and k >= 3 and all(abs(lv - (1 - 0.05 / k)) < 1e-6 for lv in levels),
      "each cell's key tests judged at 1 - 0.05/%d: %s" % (k, levels))
check(len(re.findall(r"^#   bulk\.goodput_mbps \(key\): ", p.stdout, re.M)) == 3,
      "one line per cell and key metric, with its change and interval")

# a nightly over the 2 x 2 matrix, two nights: a history per cell
plan = os.path.join(PRIVATE, "plan.yaml")
open(plan, "w").write("name: matrix-nightly\nbackend: netns\nscenarios:\n  - topology: %s\n    runs: 1\n"
                      "    warmup_run: false\n" % topo2)
ndb = os.path.join(PRIVATE, "nightly.db")
for night in (1, 2):
    p = lab("nightly", plan, "--db", ndb)
    check(p.returncode == 0 and len(re.findall(r"^ok \d+ matrix2\{", p.stdout, re.M)) == 3,
          "night %d: exit 0, a test per cell (rc %d): %s" % (night, p.returncode, p.stdout[-600:]))
con = sqlite3.connect(ndb)
hist = dict(con.execute("SELECT topology, count(DISTINCT series) FROM runs GROUP BY topology").fetchall())
con.close()
check(hist == {"matrix2{endpoints=subflow,protocol=mptcp}": 2, "matrix2{endpoints=signal,protocol=mptcp}": 2,
               "matrix2{protocol=tcp}": 2}, "two nights in each cell's history: %s" % hist)

# three paths of unequal rates: a subflow on each, and how the sender's bytes
# split against the links' capacity shares (path_share_error), with the
# retransmissions and re-injections per GB sent
out = os.path.join(PRIVATE, "three.json")
p = lab("run", os.path.join(SRC, "tests/netns/three-paths.yaml"), "--backend", "netns", "--runs", "1",
        "--warmup-runs", "0", "--db", db, "--json", out)
r = run_of("three-paths-netns")
wl = (r.get("workloads") or [{}])[0]
sent = {i["dev"]: i["tx_bytes"] for i in wl.get("interfaces", []) if i.get("node") == "client"}
total = sum(sent.values()) or 1
shares = {d: b / total for d, b in sent.items()}
met = wl.get("metrics") or {}
check(p.returncode == 0 and len(shares) == 3 and all(v > 0.05 for v in shares.values()),
      "three paths: exit 0, the client sent on each of its three links (rc %d): %s" % (p.returncode, shares))
expect = 0.5 * sum(abs(shares[d] - c) for d, c in (("eth0", 20 / 35), ("eth1", 10 / 35), ("eth2", 5 / 35)))
check(abs(met.get("path_share_error", -1) - expect) < 1e-6,
      "path_share_error is half the distance of the byte shares from 20:10:5 (%.4f): %s" %
      (expect, met.get("path_share_error")))
check(met.get("retrans_per_gb", -1) >= 0 and met.get("reinjections_per_gb", -1) >= 0,
      "retransmissions and re-injections per GB sent are measured: %s %s" %
      (met.get("retrans_per_gb"), met.get("reinjections_per_gb")))

# a key test with too few valid runs judged nothing: B's server denies joins
# to its initial address, so the client's two subflow endpoints never join
# and every run of B has 3 subflows where the topology implies 4 (not
# valid); the compare says so and fails, and a bisect step skips it (125),
# never calls it good
p = lab("compare", os.path.join(SRC, "tests/netns/three-paths.yaml"), "--backend", "netns", "--runs", "3",
        "--warmup-runs", "0", "--db", db, "--set", "workloads.0.duration=1s",
        "--set-b", "nodes.server.sysctls.net.mptcp.allow_join_initial_addr_port=0", "--bisect")
check(p.returncode == 125 and "key test bulk.goodput_mbps judged nothing: 3 valid run(s) of A, 0 of B" in p.stderr,
      "a compare whose B has no valid run: 125 under --bisect, saying why (rc %d): %s" %
      (p.returncode, p.stderr[-400:]))

# strict rp_filter with several addressed interfaces: refused before anything runs
p = lab("run", topo2, "--backend", "netns", "--no-store", "--set", "matrix.protocol=mptcp",
        "--set", "nodes.server.sysctls.net.ipv4.conf.all.rp_filter=1")
check(p.returncode == 2 and "rp_filter" in p.stderr, "rp_filter=1: exit 2, saying why: %s" % p.stderr[-300:])

check(netns_list() == before, "no namespace left")
done()
