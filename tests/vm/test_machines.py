"""Bare metal, played by two VMs the lab boots itself (lab/vm-machines: the
lab's machine image with dropbear and kexec-tools, a management NIC on a host
bridge, two cables between them). `compare --backend ssh` of two-paths-rate
between Debian's 6.1.0-56 and 6.12.111 kernels, 3 runs a side, blocked
order: the machines boot 6.1.0-56, switch to 6.12.111 by kexec for side B,
and go back afterwards. Checks: every run's kernel is in the results,
verified by release and by build id against the image it was switched to;
the machines end as they began (kernel, links, addresses, routes, rules,
qdiscs, MPTCP endpoints and limits, sysctls, no per-run directory), and
nothing the test made is left on the host."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, PRIVATE, SRC, check, done, need_root  # noqa: E402

need_root()
A, B = "6.1.0-56-cloud-amd64", "6.12.111+deb12-cloud-amd64"
if subprocess.run(["virsh", "-q", "-c", "qemu:///system", "version"], capture_output=True,
                  timeout=60).returncode != 0:
    print("SKIP: libvirtd does not answer on qemu:///system (lab/setup-libvirt starts it)")
    sys.exit(77)
for k in (A, B):
    if not os.path.exists("/boot/vmlinuz-" + k):
        check(False, "kernel %s is installed (lab/setup installs it)" % k)
        done()

VMM = os.path.join(SRC, "lab/vm-machines")
d = os.path.join(PRIVATE, "machines")
topo = os.path.join(SRC, "topologies/two-paths-rate.yaml")


def host_state():
    """what lab/vm-machines makes on the host: its bridge (mlvm*), the VMs'
    taps (vnet*) and their domains"""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    doms = subprocess.run(["virsh", "-q", "-c", "qemu:///system", "list", "--name"], capture_output=True,
                          text=True).stdout
    names = (ln.split(":")[1].strip().split("@")[0] for ln in links.splitlines())
    return sorted(n for n in names if n.startswith(("mlvm", "vnet"))), sorted(doms.split())


def machine(box, script):
    inv = open(os.path.join(d, "inventory.yaml")).read()
    addr = [ln.split("ssh: ")[1].split(",")[0] for ln in inv.splitlines() if ln.strip().startswith(box + ":")][0]
    p = subprocess.run(["ssh", "-o", "BatchMode=yes", "-i", os.path.join(d, "key"), "-o",
                        "UserKnownHostsFile=%s/known_hosts" % d, "-o", "LogLevel=ERROR", addr, script],
                       capture_output=True, text=True, timeout=120)
    return p.stdout


STATE = ("uname -r; ip -j link show; echo; ip addr show; ip route show table all; "
         "ip rule show; tc qdisc show; ip mptcp endpoint show; ip mptcp limits show; "
         "for f in /proc/sys/net/mptcp/* /proc/sys/net/ipv4/tcp_congestion_control; do echo $f $(cat $f); done; "
         "ls -d /run/mptcplab-* 2>/dev/null; cat /sys/kernel/kexec_loaded")


def state(box):
    out = machine(box, STATE)
    # the kernel's counters move by themselves, and so does an address's
    # duplicate address detection (a link-local address of the management NIC
    # was still "tentative" when a just-booted machine's state was first read,
    # and done after: CI 2026-12-07): keep only what the lab may change
    return "\n".join(ln.replace(" tentative", "") for ln in out.splitlines() if "valid_lft" not in ln)


before_host = host_state()
env = dict(os.environ, MPTCPLAB_BUILD=os.path.dirname(MPTCPLAB))
up = subprocess.run([VMM, "up", d, "--kernel", A, "--also", B], capture_output=True, text=True, env=env,
                    timeout=900)
print(up.stderr[-2000:], file=sys.stderr)
try:
    check(up.returncode == 0, "lab/vm-machines boots two machine VMs on %s" % A)
    if up.returncode != 0:
        done()
    inv = os.path.join(d, "inventory.yaml")
    before = {b: state(b) for b in ("box-a", "box-b")}
    check(all(s.startswith(A) for s in before.values()), "both machines run %s before the comparison" % A)
    # reproduce: a run stored from VMs (the libvirt backend), again on the machines
    # short workloads without warm-up: this checks the mechanics, it judges nothing
    short = ["--set", "workloads.0.duration=3s", "--set", "workloads.1.duration=3s",
             "--set", "workloads.0.warmup=0s", "--set", "workloads.1.warmup=0s"]
    vmrun = os.path.join(d, "vmrun.json")
    p = subprocess.run([MPTCPLAB, "run", topo, "--kernel", A, "--json", vmrun, *short],
                       capture_output=True, text=True, timeout=600)
    vid = json.load(open(vmrun)).get("run_id") if os.path.exists(vmrun) else None
    check(p.returncode == 0 and vid, "a run of two-paths-rate on VMs, stored (%s)" % p.stderr.strip()[-300:])
    rj = os.path.join(d, "reproduce.json")
    p = subprocess.run([MPTCPLAB, "reproduce", vid or "none", "--inventory", inv, "--warmup-runs", "0",
                        "--json", rj], capture_output=True, text=True, timeout=900)
    print(p.stdout[-1500:], p.stderr[-1500:], file=sys.stderr)
    rep = json.load(open(rj)) if os.path.exists(rj) else {}
    rows = [ln.split() for ln in p.stdout.splitlines() if ln.startswith("bulk-")]
    gp = {r[0]: (float(r[1]), float(r[2])) for r in rows if r[0].endswith(".goodput_mbps") and len(r) == 3}
    check(p.returncode == 0 and rep.get("original") == vid and rep.get("reproduced") and
          rep.get("original_backend") == "libvirt" and len(gp) == 2 and
          all(abs(m / v - 1) < 0.1 for v, m in gp.values()),
          "reproduce RUN on the machines: stored, and both goodputs side by side (VM, machines): %s" % gp)
    hist = subprocess.run([MPTCPLAB, "history"], capture_output=True, text=True).stdout
    check(rep.get("reproduced") and rep["reproduced"][:8] in hist and " ssh " in hist,
          "the machines' series is in the store with the ssh backend")

    out = os.path.join(d, "compare.json")
    p = subprocess.run([MPTCPLAB, "compare", topo, "--backend", "ssh", "--inventory", inv,
                        "--kernel-a", A, "--kernel-b", B, "--runs", "3", "--order", "blocked",
                        "--warmup-runs", "0", *short, "--json", out],
                       capture_output=True, text=True, timeout=2400)
    print(p.stdout[:3000], file=sys.stderr)  # the KTAP and the kernels
    print(p.stderr[-2000:], file=sys.stderr)
    check(p.returncode in (0, 1) and "KTAP version 1" in p.stdout,
          "compare --backend ssh between %s and %s ends with a verdict (exit %d)" % (A, B, p.returncode))
    res = json.load(open(out)) if os.path.exists(out) else {}
    runs = res.get("run_kernels") or []
    check(res.get("order") == "blocked" and [r.get("side") for r in runs] == ["A"] * 3 + ["B"] * 3,
          "blocked order: three A runs, then three B runs (%s)" % [r.get("side") for r in runs])
    kid = [{n: x or {} for n, x in (r.get("kernels") or {}).items()} for r in runs]
    want = [A] * 3 + [B] * 3
    check(len(kid) == 6 and all(len(k) == 2 and all(x.get("release") == w and x.get("verified") == "build" and
                                                     x.get("build_id") for x in k.values())
                                for k, w in zip(kid, want)),
          "every run's kernel is in the results, verified by release and build id: %s"
          % [{n: (x.get("release"), x.get("verified"), (x.get("build_id") or "")[:12]) for n, x in k.items()}
             for k in kid])
    ids = {w: {x.get("build_id") for k, ww in zip(kid, want) if ww == w for x in k.values()} for w in (A, B)}
    check(all(len(v) == 1 for v in ids.values()) and ids[A] != ids[B],
          "one build id per kernel, and the two differ: %s" % ids)
    switched = [i for i, k in enumerate(kid) if any(x.get("switched_from") for x in k.values())]
    kx = [round(x.get("kexec_s", 0), 1) for k in kid for x in k.values() if x.get("switched_from")]
    check(switched == [3], "the machines switched kernels once, before side B's first run (runs %s; kexec to "
          "ssh answering on %s: %s s)" % (switched, B, kx))
    check("go back to the kernels they ran before" in p.stderr, "after the comparison the machines go back")
    after = {b: state(b) for b in ("box-a", "box-b")}
    for b in before:
        if before[b] != after[b]:
            import difflib
            print("\n".join(difflib.unified_diff(before[b].splitlines(), after[b].splitlines(), lineterm="")),
                  file=sys.stderr)
    check(after == before, "both machines are as before: kernel %s, links, addresses, routes, rules, qdiscs, "
          "MPTCP endpoints and limits, sysctls, no per-run directory, no kexec image loaded" % A)
finally:
    subprocess.run([VMM, "down", d], capture_output=True, text=True)
check(host_state() == before_host, "nothing of the machines is left on the host (links, domains)")
done()
