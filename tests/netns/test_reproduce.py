#!/usr/bin/env python3
"""mptcplab reproduce: a comparison stored from the netns backend is run
again on two "machines" (network namespaces with their own sshd, as in
test_ssh_machines) with --backend ssh: the same topology as parsed (its
--set overrides applied), kernels and number of runs; the new series is
stored, and both verdicts are printed side by side, test by test. Bad ids
and a missing inventory are refused before anything runs; the machines end
as they began."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import SRC, check, done, need_root, run_lab  # noqa: E402
from nsmachines import NsMachines  # noqa: E402

need_root()
if not os.path.exists("/usr/sbin/sshd"):
    print("SKIP: no sshd (lab/setup installs openssh-server)")
    sys.exit(77)

M = NsMachines("mlr%d" % (os.getpid() % 100000))
topo = os.path.join(SRC, "topologies/two-paths-rate.yaml")
short = ["--set", "workloads.0.duration=2s", "--set", "workloads.1.duration=2s",
         "--set", "workloads.0.warmup=0s", "--set", "workloads.1.warmup=0s"]
try:
    check(M.up(), "two machines with sshd, cabled")
    inv = M.inventory("lab.yaml")
    before = M.states()

    # the stored comparison: an A/A compare on the netns backend
    cj = os.path.join(M.dir, "compare.json")
    p = run_lab("compare", topo, "--backend", "netns", "--runs", "3", "--warmup-runs", "0", *short,
                "--json", cj, timeout=600)
    series = json.load(open(cj)).get("series") if os.path.exists(cj) else None
    check(p.returncode in (0, 1) and series, "a comparison stored from the netns backend (%s)" % series)

    # refused before anything runs
    p = run_lab("reproduce", "s0000000000", "--inventory", inv)
    check(p.returncode == 2 and "no counted run of series or run s0000000000" in p.stderr,
          "reproduce of an unknown id: exit 2 (%s)" % p.stderr.strip()[-200:])
    p = run_lab("reproduce", series or "x")
    check(p.returncode == 2 and "--inventory" in p.stderr, "reproduce without --inventory: exit 2")

    rj = os.path.join(M.dir, "reproduce.json")
    p = run_lab("reproduce", series or "x", "--inventory", inv, "--warmup-runs", "0", "--json", rj,
                timeout=900)
    print(p.stdout[-2500:], p.stderr[-1500:], file=sys.stderr)
    rep = json.load(open(rj)) if os.path.exists(rj) else {}
    rows = {r.get("test"): r for r in rep.get("tests", [])}
    check(p.returncode in (0, 1) and rep.get("original") == series and rep.get("original_backend") == "netns"
          and rep.get("reproduced"),
          "reproduce SERIES --inventory: the comparison ran again on the machines (exit %d)" % p.returncode)
    keys = ("bulk-tcp.goodput_mbps", "bulk-mptcp.goodput_mbps")
    check(all(k in rows and "%" in rows[k].get("stored", "") and "%" in rows[k].get("machines", "") for k in keys),
          "both key tests side by side, each with its change, interval and verdict: %s" % rows)
    check("# verdict: stored " in p.stdout and ", machines " in p.stdout, "each side's overall verdict is printed")
    hist = run_lab("history").stdout.splitlines()
    mine = [ln.split() for ln in hist if rep.get("reproduced", "-")[:10] in ln]
    check(len(mine) == 6 and all(" ssh " in " %s " % " ".join(ln) for ln in mine) and
          sorted(ln[2] for ln in mine) == ["A"] * 3 + ["B"] * 3,
          "the machines' series is stored: 3 runs a side, backend ssh (%d rows)" % len(mine))
    # the same experiment: the stored topology as parsed, overrides applied
    yaml = os.path.join(os.environ["XDG_DATA_HOME"], "mptcplab", "reproduce")
    files = [f for f in os.listdir(yaml) if f.endswith(".yaml")] if os.path.isdir(yaml) else []
    check(len(files) == 1 and "duration: 2000000us" in open(os.path.join(yaml, files[0])).read(),
          "the topology it ran is the stored one, --set applied (%s)" % files)
    check(M.states() == before, "both machines are as before")
finally:
    M.down()
done()
