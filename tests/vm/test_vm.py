"""The libvirt backend with real TCG (or KVM) guests booting Debian's cloud
kernel: a two-node run, links over host bridges, a kernel panic injected with
SysRq, a controller killed with SIGKILL, a node on another hypervisor over
qemu+ssh, and bad kernels. Skips (77) where libvirt cannot be reached."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, SRC, check, done, need_root, run_lab, wait_until  # noqa: E402

need_root()
if subprocess.run(["virsh", "-q", "-c", "qemu:///system", "version"], capture_output=True,
                  timeout=60).returncode != 0:
    print("SKIP: libvirtd does not answer on qemu:///system (lab/setup-libvirt starts it)")
    sys.exit(77)


def bridges():
    out = subprocess.run(["ip", "-j", "link", "show", "type", "bridge"], capture_output=True, text=True).stdout
    return {b["ifname"] for b in json.loads(out or "[]") if b["ifname"].startswith("mb")}


def ports(bridge):
    out = subprocess.run(["ip", "-j", "link", "show", "master", bridge], capture_output=True, text=True).stdout
    return {b["ifname"] for b in json.loads(out or "[]")}


def domains():
    out = subprocess.run(["virsh", "-q", "-c", "qemu:///system", "list", "--name"],
                         capture_output=True, text=True).stdout
    return [d for d in out.split() if d.startswith("mptcplab-")]


before = domains()
tmp = tempfile.mkdtemp()

# 1. two nodes, two shaped paths with netem in the guests
out = os.path.join(tmp, "run.json")
p = run_lab("run", os.path.join(SRC, "topologies/two-paths.yaml"), "--backend", "libvirt",
            "--json", out, "--run-dir", tmp, timeout=600)
print(p.stdout)
print(p.stderr[-3000:], file=sys.stderr)
check(p.returncode == 0, "two-paths on VMs exits 0 (got %d)" % p.returncode)
r = json.load(open(out))
check(r["status"] == "ok" and r["backend"] == "libvirt", "run status ok on libvirt")
for n in r["nodes"]:
    check(n["kernel"] and n["kernel"] != os.uname().release, "node %s ran its own kernel %s" % (n["name"], n["kernel"]))
    check(0 < n["ready_s"] < 90, "node %s boot time recorded: %.1fs" % (n["name"], n["ready_s"]))
    check(os.path.getsize(n["console"]) > 0, "node %s console kept in %s" % (n["name"], n["console"]))
    check(n.get("what", "").startswith("VM mptcplab-%s-%s (" % (r["run_id"][:8], n["name"])) and
          n.get("kernel_log") == n["console"], "the backend says what node %s is (%s) and its log is the console" %
          (n["name"], n.get("what")))
wl = {w["name"]: w for w in r["workloads"]}
mp = wl["bulk-mptcp"]
check(mp["status"] == "ok" and abs(mp["mptcp"]["subflows_per_connection"] - 3) < 0.01,
      "MPTCP valid with 3 subflows per connection")
tx = {i["dev"]: i["tx_bytes"] for i in mp["interfaces"] if i["node"] == "client"}
check(min(tx.values()) > 0.3 * sum(tx.values()), "both paths carried MPTCP traffic: %s" % tx)
check(mp["goodput"]["receiver_bps"] <= 40e6 and wl["bulk-tcp"]["goodput"]["receiver_bps"] <= 20e6,
      "netem's rate holds in the guests")
check(mp["goodput"]["receiver_bps"] > 1.5 * wl["bulk-tcp"]["goodput"]["receiver_bps"],
      "MPTCP %.2f Mbit/s > 1.5 x TCP %.2f Mbit/s over two paths" % (
          mp["goodput"]["receiver_bps"] / 1e6, wl["bulk-tcp"]["goodput"]["receiver_bps"] / 1e6))
# under TCG the plugin counts each VM's guest instructions over the window: the
# count follows the work (MPTCP moved about twice TCP's bytes), and its page goes
tcg = all(n["accel"] == "tcg" for n in r["nodes"])
if tcg:
    ins = {w: wl[w]["cpu"]["insns_client"] + wl[w]["cpu"]["insns_server"]
           if wl[w]["cpu"].get("insns_client") and wl[w]["cpu"].get("insns_server") else 0
           for w in wl}
    print("# guest instructions over the window: %s; per byte: %s" % (
        ins, {w: wl[w]["metrics"].get("insns_per_byte") for w in wl}))
    check(all(v > 1e7 for v in ins.values()) and
          all(wl[w]["metrics"].get("insns_per_byte", 0) > 0 for w in wl),
          "TCG: both VMs' guest instructions counted (insns_per_byte)")
    check(ins["bulk-mptcp"] > 1.3 * ins["bulk-tcp"],
          "TCG: MPTCP's %.2fx the bytes took %.2fx the instructions (the count follows the work)" % (
              mp["goodput"]["receiver_bps"] / wl["bulk-tcp"]["goodput"]["receiver_bps"],
              ins["bulk-mptcp"] / ins["bulk-tcp"]))
    left = [f for f in os.listdir("/run/mptcplab/insns") if r["run_id"][:8] in f] \
        if os.path.isdir("/run/mptcplab/insns") else []
    check(not left, "TCG: no instruction counter page left (%s)" % left)
else:
    print("# KVM guests: no instruction counts (TCG only)")
check(domains() == before, "no domain left after the run")
print("# measured: tcp %.2f mptcp %.2f Mbit/s, ready %s, wall %.1fs" % (
    wl["bulk-tcp"]["goodput"]["receiver_bps"] / 1e6, mp["goodput"]["receiver_bps"] / 1e6,
    ", ".join("%s %.1fs" % (n["name"], n["ready_s"]) for n in r["nodes"]), r["wall_s"]))

# 1b. mptcpload inside the guests (the image carries it), rr over netem paths, the
# links this time through host bridges (--links bridge)
out = os.path.join(tmp, "load.json")
p = run_lab("run", os.path.join(SRC, "tests/vm/load.yaml"), "--backend", "libvirt", "--json", out,
            "--run-dir", tmp, "--no-store", "--links", "bridge", timeout=600)
r = json.load(open(out)) if os.path.exists(out) else {"workloads": [], "nodes": []}
w = r["workloads"][0] if r["workloads"] else {}
check(p.returncode == 0 and w.get("status") == "ok", "mptcpload rr in VMs: exit %d, %s" % (p.returncode, w.get("reason")))
ml = w.get("mptcpload", {})
# 5 ms each way: a transaction takes at least 10 ms, so 4 flows make at most 400/s
check(0 < ml.get("transactions_per_s", 0) <= 400 and ml.get("latency_p50_us", 0) >= 10000,
      "rr rate and latency follow netem's delay: %.0f/s, p50 %.0f us" % (ml.get("transactions_per_s", 0), ml.get("latency_p50_us", 0)))
check(abs(w.get("mptcp", {}).get("subflows_per_connection", 0) - 3) < 0.01, "3 subflows per connection")
check(r.get("links") == "bridge", "the result says the links were bridges")
check(not bridges(), "no link bridge left after the run")


def start(topo, *extra):
    p = subprocess.Popen([MPTCPLAB, "run", topo, "--backend", "libvirt", "--run-dir", tmp, *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rid, lines = None, []
    while True:
        line = p.stderr.readline()
        if not line:
            break
        lines.append(line)
        if " run " in line and rid is None:
            rid = line.split(" run ")[1].split(":")[0]
        if "workload 1/" in line:
            break
    return p, rid, lines


# 2. a panic in the server (SysRq c) while the client sends to it
out = os.path.join(tmp, "crash.json")
p, rid, _ = start(os.path.join(SRC, "tests/vm/crash.yaml"), "--json", out)
time.sleep(3)
t0 = time.monotonic()
k = subprocess.run(["virsh", "-q", "-c", "qemu:///system", "send-key", "mptcplab-%s-server" % rid,
                    "KEY_LEFTALT", "KEY_SYSRQ", "KEY_C"], capture_output=True, text=True)
check(k.returncode == 0, "SysRq c sent to the server: %s" % k.stderr.strip())
_, err = p.communicate(timeout=120)
took = time.monotonic() - t0
check(p.returncode == 1, "a crashed node: exit 1 (got %d)" % p.returncode)
check(took < 20, "crash noticed and the run over within %.1fs" % took)
r = json.load(open(out))
check(r["status"] == "crashed" and r["crash"]["node"] == "server", "result marked crashed on node server")
check("sysrq" in r["crash"]["trace"].lower() and "panic" in r["crash"]["trace"].lower(),
      "the trace excerpt is in the result: %r" % r["crash"]["trace"][:200])
check(r["workloads"][0]["status"] == "crashed", "the workload is marked crashed")
check(wait_until(lambda: not [d for d in domains() if rid in d], 10), "no domain of the crashed run left")

# 3. the controller killed with SIGKILL: libvirt's autodestroy removes the domains, and
# the host agent that made the link bridges (--links bridge) removes them
p, rid, _ = start(os.path.join(SRC, "topologies/two-paths.yaml"), "--links", "bridge")
check(len([d for d in domains() if rid in d]) == 2, "two domains running for %s" % rid)
# review V1: a kernel under test that escapes QEMU is not root on the host
users = subprocess.run(["ps", "-o", "user=", "-C", "qemu-system-x86_64"], capture_output=True, text=True).stdout.split()
check(users and "root" not in users, "QEMU runs as an unprivileged user (%s)" % sorted(set(users)))
mine = {"mb%s-0" % rid, "mb%s-1" % rid}
check(mine <= bridges() and all(ports(b) == {"%s%s" % (b.replace("mb", "mt", 1), s) for s in "ab"} for b in mine),
      "a bridge per link, each with the two VMs' taps: %s" % {b: sorted(ports(b)) for b in mine})
p.send_signal(signal.SIGKILL)
p.wait()
gone = wait_until(lambda: not [d for d in domains() if rid in d], 15)
check(gone, "SIGKILL: the domains of %s are gone (left: %s)" % (rid, [d for d in domains() if rid in d]))
check(wait_until(lambda: not (mine & bridges()), 10), "SIGKILL: the link bridges are gone (left: %s)" % (mine & bridges()))
pages = [f for f in os.listdir("/run/mptcplab/insns") if rid in f] if os.path.isdir("/run/mptcplab/insns") else []
check(not pages, "SIGKILL: no instruction counter page left (%s)" % pages)

# 4. a node on another hypervisor (uri: qemu+ssh://...). The other host here is this one
# through a private sshd on the loopback: the kernel and image go by upload into a storage
# pool, console and agent by libvirt streams, exactly as to a remote host.
sshd_bin = "/usr/sbin/sshd"
check(os.path.exists(sshd_bin), "sshd is installed (lab/setup installs openssh-server)")
sd = tempfile.mkdtemp()
for k in ("key", "hostkey"):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(sd, k)], check=True)
shutil.copy(os.path.join(sd, "key.pub"), os.path.join(sd, "authorized_keys"))
with socket.socket() as so:
    so.bind(("127.0.0.1", 0))
    port = so.getsockname()[1]
with open(os.path.join(sd, "sshd_config"), "w") as f:
    f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s/hostkey\nAuthorizedKeysFile %s/authorized_keys\n"
            "PermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\nUsePAM no\n"
            "PidFile %s/sshd.pid\n" % (port, sd, sd, sd))
os.makedirs("/run/sshd", exist_ok=True)
sshd = subprocess.Popen([sshd_bin, "-D", "-e", "-f", os.path.join(sd, "sshd_config")],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    uri = "qemu+ssh://root@127.0.0.1:%d/system?keyfile=%s/key&no_verify=1" % (port, sd)
    check(wait_until(lambda: subprocess.run(["virsh", "-q", "-c", uri, "version"], capture_output=True).returncode == 0, 10),
          "libvirt answers over ssh at %s" % uri)
    out = os.path.join(tmp, "remote.json")
    p = run_lab("run", os.path.join(SRC, "tests/vm/load.yaml"), "--backend", "libvirt", "--json", out,
                "--run-dir", tmp, "--no-store", "--set", "nodes.server.uri=" + uri, timeout=600)
    print(p.stderr[-2000:], file=sys.stderr)
    r = json.load(open(out)) if os.path.exists(out) else {"workloads": [], "nodes": []}
    w = r["workloads"][0] if r["workloads"] else {}
    check(p.returncode == 0 and w.get("status") == "ok", "a node over qemu+ssh: exit %d, rr %s" % (p.returncode, w.get("status")))
    nodes = {n["name"]: n for n in r["nodes"]}
    check(nodes.get("server", {}).get("hypervisor") == uri and nodes.get("client", {}).get("hypervisor") == "qemu:///system",
          "the result records each node's hypervisor")
    check(0 < nodes.get("server", {}).get("ready_s", 0) < 90, "the remote node's boot time recorded: %.1fs" % nodes.get("server", {}).get("ready_s", 0))
    con = open(nodes["server"]["console"]).read() if "server" in nodes else ""
    check("guest server ready" in con, "its console came over the libvirt stream into %s" % nodes.get("server", {}).get("console"))
    xml = open(os.path.join(r.get("run_dir", tmp), "server.xml")).read() if r.get("run_dir") else ""
    check("/var/lib/libvirt/mptcplab/" in xml and "type='pty'" in xml, "its kernel and image were uploaded to the pool")
    check(abs(w.get("mptcp", {}).get("subflows_per_connection", 0) - 3) < 0.01, "MPTCP between the hosts: 3 subflows per connection")
    # SIGKILL: the ssh connection goes with the controller, and libvirtd over there
    # destroys the domain (autodestroy)
    p, rid, _ = start(os.path.join(SRC, "tests/vm/load.yaml"), "--set", "nodes.server.uri=" + uri)
    check(len([d for d in domains() if rid in d]) == 2, "a run with a remote node has its two domains")
    p.send_signal(signal.SIGKILL)
    p.wait()
    check(wait_until(lambda: not [d for d in domains() if rid in d], 20),
          "SIGKILL: the remote node's domain is gone too (left: %s)" % [d for d in domains() if rid in d])
finally:
    sshd.terminate()
    sshd.wait(10)
    shutil.rmtree(sd, ignore_errors=True)

# 5. bad kernels: exit 2, a clear error, no domain ever made. A bzImage whose
# version string is not a release (review A10: it named files and volumes)
evil = os.path.join(tmp, "evil-bzImage")
img = bytearray(0x1000)
img[0x202:0x206] = b"HdrS"
img[0x20e:0x210] = (0x100).to_bytes(2, "little")
img[0x300:0x318] = b"6.1<x>'/../../etc/a b c"
open(evil, "wb").write(bytes(img))
for spec, words in (("/nonexistent/bzImage", "No such file"),
                    (evil, "its version string is not a kernel release"),
                    ("/etc/hostname", "not an x86 bzImage"),
                    ("9.9.9-nosuch-amd64", "/boot/vmlinuz-9.9.9-nosuch-amd64 not found")):
    p = run_lab("run", os.path.join(SRC, "topologies/two-paths.yaml"), "--backend", "libvirt",
                "--kernel", spec, "--run-dir", tmp, timeout=120)
    check(p.returncode == 2 and words in p.stderr and "node client" in p.stderr,
          "--kernel %s: exit 2 and says %r" % (spec, words))

# 6. kept VMs (issue 25): a --set comparison runs every run of both sides on one
# boot. Between runs the agents undo every change and the nodes must be found
# as booted, or the next run boots its own: so one boot for all four runs also
# says MTU 1000 (side B) was put back before each A run. Its cost shows in the
# instructions per byte: every B run above every A run. A comparison of two
# kernels keeps one boot a side (the idle side's VMs paused). Nothing is left.
import sqlite3  # noqa: E402
short = ["--set", "workloads.0.duration=3s", "--set", "workloads.1.duration=3s"]


def stored(db):
    """The runs in the store, in order, each with its side"""
    return [dict(json.loads(j), side=side) for (j, side) in sqlite3.connect(db).execute(
        "select result_json, side from runs order by id")]


db = os.path.join(tmp, "keep.db")
p = run_lab("compare", os.path.join(SRC, "topologies/two-paths.yaml"), "--backend", "libvirt",
            "--runs", "2", "--warmup-runs", "0", "--set-b", "links.0.mtu=1000",
            "--set-b", "links.1.mtu=1000", "--db", db, "--run-dir", tmp, *short, timeout=900)
print(p.stderr[-2000:], file=sys.stderr)
# two runs a side judge nothing (3 valid ones are needed): the compare
# ends saying so, exit 3, never a pass
check(p.returncode == 3 and re.search(r"judged nothing: \d valid run\(s\) of A, \d of B", p.stderr),
      "a --set compare on kept VMs ends, saying 2 runs a side judged nothing (%d)" % p.returncode)
runs = stored(db)
check(len(runs) == 4 and len({r["boot"]["run"] for r in runs}) == 1 and
      [r["boot"]["index"] for r in runs] == [0, 1, 2, 3],
      "its four runs share one boot: %s" % [r.get("boot") for r in runs])
check(runs[0]["overhead"]["boot_s"] > 0 and all(r["overhead"]["boot_s"] == 0 for r in runs[1:]),
      "only the first run's boot counts: %s" % [r["overhead"]["boot_s"] for r in runs])


def ipb(r):
    return {x["name"]: x for x in r["workloads"]}["bulk-tcp"]["metrics"].get("insns_per_byte")


if all(ipb(r) for r in runs):  # counted under TCG (KVM: no count)
    a = [ipb(r) for r in runs if r["side"] == "A"]
    b = [ipb(r) for r in runs if r["side"] == "B"]
    check(min(b) > 1.1 * max(a), "MTU 1000 on B's runs only: instructions per byte A %s, B %s" %
          (["%.1f" % x for x in a], ["%.1f" % x for x in b]))
check(domains() == before, "the kept VMs are gone after the compare")

db = os.path.join(tmp, "keep2.db")
p = run_lab("compare", os.path.join(SRC, "topologies/two-paths.yaml"), "--backend", "libvirt",
            "--runs", "2", "--warmup-runs", "0", "--kernel-a", "6.1.0-56-cloud-amd64",
            "--kernel-b", "6.12.111+deb12-cloud-amd64", "--db", db, "--run-dir", tmp, *short,
            timeout=900)
print(p.stderr[-2000:], file=sys.stderr)
# two runs a side judge nothing (3 valid ones are needed): the compare
# ends saying so, exit 3, never a pass
check(p.returncode == 3 and re.search(r"judged nothing: \d valid run\(s\) of A, \d of B", p.stderr),
      "a kernel compare on kept VMs ends, saying 2 runs a side judged nothing (%d)" % p.returncode)
runs = stored(db)
boot = {s: {r["boot"]["run"] for r in runs if r["side"] == s} for s in "AB"}
check(len(runs) == 4 and len(boot["A"]) == 1 and len(boot["B"]) == 1 and boot["A"] != boot["B"],
      "one boot a side: %s" % boot)
check(all({n["name"]: n for n in r["nodes"]}["client"]["kernel"].startswith(
    "6.1.0" if r["side"] == "A" else "6.12") for r in runs), "each side ran its kernel")

# a matrix cell the guest kernel cannot be: laminar endpoints on 6.1, and a
# scheduler 6.12 lacks, are SKIPs with the reason (nothing runs, nothing is
# stored), never a failure and never the default
out = os.path.join(tmp, "laminar.json")
lam = "has no laminar endpoints (they came with Linux 6.18)"
for kernel, want in (("6.1.0-56-cloud-amd64", [lam, "has no scheduler but its built-in one"]),
                     ("6.12.111+deb12-cloud-amd64", [lam, "offers the scheduler(s) [\"default\"], not bpf_rr"])):
    p = run_lab("run", os.path.join(SRC, "tests/vm/laminar.yaml"), "--backend", "libvirt", "--matrix",
                "--runs", "1", "--warmup-runs", "0", "--kernel", kernel, "--db", os.path.join(tmp, "lam.db"),
                "--run-dir", tmp, "--json", out, timeout=600)
    cells = json.load(open(out)).get("cells", []) if os.path.exists(out) else []
    check(p.returncode == 0 and len(cells) == 2 and
          all(c.get("skip") and w in c["skip"] and kernel in c["skip"] for c, w in zip(cells, want)),
          "laminar on %s: exit 0, both cells SKIP saying why (rc %d): %s" %
          (kernel, p.returncode, [c.get("skip") for c in cells]))
    check(re.search(r"^ok 1 laminar\{endpoints=subflow\+laminar,scheduler=default\} # SKIP node client: kernel ",
                    p.stdout, re.M), "the KTAP says SKIP: %s" % p.stdout[:300])
check(not os.path.exists(os.path.join(tmp, "lam.db")) or
      not stored(os.path.join(tmp, "lam.db")), "a skipped cell stores no run")
check(domains() == before, "nothing left at the end")
done()
