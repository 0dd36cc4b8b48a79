"""Failure paths of `mptcplab run` on the netns backend: netem missing, no
privileges, bad input, interrupted and killed controllers. Each must say
what is wrong and leave no namespace behind."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import PRIVATE, Agent, MPTCPLAB, SRC, check, done, need_root, netns_list, run_lab, wait_until  # noqa: E402

need_root()
topo = lambda n: os.path.join(SRC, "topologies", n)  # noqa: E731
before = netns_list()

# 1. delay asked on a kernel without netem
a = Agent("--name", "probe")
has_netem = a.ok("hello")["qdiscs"]["netem"]
a.close()
if has_netem:
    print("# this kernel has netem: the missing-netem error cannot be shown here")
else:
    t0 = time.monotonic()
    p = run_lab("run", topo("two-paths.yaml"), "--backend", "netns")
    took = time.monotonic() - t0
    print(p.stderr)
    check(p.returncode == 3, "two-paths without netem exits 3 (got %d)" % p.returncode)
    check("no netem qdisc" in p.stderr and "link 1 asks for delay" in p.stderr,
          "the error names netem and the link that asked for delay")
    check("two-paths.yaml:18:13:" in p.stderr, "and points at the shape in the file")
    check(took < 10 and "workload" not in p.stderr, "it fails early (%.1fs), before any workload" % took)
    check(netns_list() == before, "nothing left after the netem failure")

# 2. bad input: exit 2 and the errors, nothing started
p = run_lab("run", os.path.join(SRC, "tests/topo/bad/06-rate-mbps.yaml"), "--backend", "netns")
check(p.returncode == 2 and "06-rate-mbps.yaml:7:19:" in p.stderr, "bad topology: exit 2 with FILE:LINE:COL")
p = run_lab("run", "/nonexistent.yaml")
check(p.returncode == 2 and "/nonexistent.yaml" in p.stderr, "missing file: exit 2, named")
p = run_lab("run", topo("two-paths-rate.yaml"), "--backend", "nosuch")
check(p.returncode == 2 and "unknown backend" in p.stderr and "netns" in p.stderr, "unknown backend: exit 2, lists backends")
# a namespace runs the host's kernel: another --kernel is refused, not silently ignored
p = run_lab("run", topo("two-paths-rate.yaml"), "--backend", "netns", "--kernel", "6.1.0-47-cloud-amd64")
check(p.returncode == 2 and "cannot boot another" in p.stderr and os.uname().release in p.stderr,
      "--kernel other than the host's on netns: exit 2, naming the host's (%d): %s" % (p.returncode, p.stderr.strip()[-300:]))

# review P7: a host-wide sysctl cannot be a node's on netns (it would change the host)
host_topo = os.path.join(PRIVATE, "hostwide.yaml")
with open(topo("two-paths-rate.yaml")) as f:
    text = f.read()
with open(host_topo, "w") as f:
    f.write(text.replace("  client:\n", "  client:\n    sysctls: {vm.swappiness: \"1\"}\n", 1))
swap = open("/proc/sys/vm/swappiness").read()
p = run_lab("run", host_topo, "--backend", "netns")
check(p.returncode == 2 and "hostwide.yaml:" in p.stderr and "vm.swappiness is host-wide" in p.stderr
      and open("/proc/sys/vm/swappiness").read() == swap,
      "a host-wide sysctl on netns: exit 2 naming file, line and key, host untouched (%s)" % p.stderr.strip()[-150:])

# 3. without root: says which privilege and why
p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MPTCPLAB, "run",
                    topo("two-paths-rate.yaml"), "--backend", "netns"], capture_output=True, text=True,
                   timeout=60)
check(p.returncode == 3 and "needs root" in p.stderr and "CAP_SYS_ADMIN" in p.stderr,
      "unprivileged: exit 3 naming the capabilities: %s" % p.stderr.strip())


def start_and_wait_workload():
    p = subprocess.Popen([MPTCPLAB, "run", topo("two-paths-rate.yaml"), "--backend", "netns"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = None
    while True:
        line = p.stderr.readline()
        if not line:
            break
        if " run " in line and run_id is None:
            run_id = line.split(" run ")[1].split(":")[0]
        if "workload 1/2" in line:
            break
    return p, run_id


def ours(run_id):
    return [n for n in netns_list() if n.startswith("mptcplab-%s-" % run_id)]


# 4. ^C in the middle of a workload: orderly teardown, exit 3
p, rid = start_and_wait_workload()
check(rid and len(ours(rid)) == 2, "run %s has its two namespaces" % rid)
time.sleep(1)
p.send_signal(signal.SIGINT)
_, err = p.communicate(timeout=60)
check(p.returncode == 3 and "interrupted" in err, "SIGINT: exit 3, says interrupted")
check(not ours(rid), "SIGINT: namespaces removed")

# 5. SIGKILL: the agents notice their parent died and clean up themselves
p, rid = start_and_wait_workload()
agents = subprocess.run(["pgrep", "-f", "mptcplab-%s-" % rid], capture_output=True, text=True).stdout.split()
check(len(agents) == 2, "two agents running for %s" % rid)
p.kill()
p.wait()
gone = wait_until(lambda: not ours(rid), 15)
check(gone, "SIGKILL: namespaces of %s removed within 15 s (left: %s)" % (rid, ours(rid)))
check(wait_until(lambda: subprocess.run(["pgrep", "-f", "mptcplab-%s-" % rid]).returncode != 0, 10),
      "SIGKILL: no agent survives")
check(wait_until(lambda: subprocess.run(["pgrep", "-x", "iperf3"]).returncode != 0, 10),
      "SIGKILL: no iperf3 survives")
check(netns_list() == before, "nothing left at all")

# 6. `mptcplab cleanup` removes what a run whose agents were SIGKILLed left (a namespace,
# a link bridge of a VM run) and keeps what a live run's agent still owns
agent = os.path.join(os.environ["MPTCPLAB_BUILD"], "mptcplab-agent")
subprocess.run(["ip", "netns", "add", "mptcplab-deadbeef-x"], check=True)
subprocess.run(["ip", "link", "add", "mbdeadbeef-0", "type", "bridge"], check=True)
subprocess.run(["ip", "link", "add", "mbcafe0000-0", "type", "bridge"], check=True)
owner = subprocess.Popen([agent, "--stdio", "--name", "host-cafe0000", "--owner", "bridges-cafe0000"],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
# review L2: a live namespace whose processes do not name it in their argv
# (`ip netns exec` replaces argv) is not a leftover
subprocess.run(["ip", "netns", "add", "mptcplab-bench99-a"], check=True)
inside = subprocess.Popen(["ip", "netns", "exec", "mptcplab-bench99-a", "sleep", "60"])
time.sleep(0.5)
try:
    p = run_lab("cleanup")
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True).stdout
    check(p.returncode == 0 and "mptcplab-deadbeef-x" not in netns_list() and "mbdeadbeef-0" not in links,
          "cleanup: stale namespace and bridge removed (%s)" % p.stderr.strip().replace("\n", "; "))
    check("mbcafe0000-0" in links, "cleanup: a bridge whose run's host agent lives is kept")
    check("mptcplab-bench99-a" in netns_list(), "cleanup: a namespace with a process inside is kept")
finally:
    owner.kill()
    inside.kill()
    subprocess.run(["ip", "link", "del", "mbcafe0000-0"])
    subprocess.run(["ip", "link", "del", "mbdeadbeef-0"], capture_output=True)
    subprocess.run(["ip", "netns", "del", "mptcplab-deadbeef-x"], capture_output=True)
    subprocess.run(["ip", "netns", "del", "mptcplab-bench99-a"], capture_output=True)

# review V2: --json never writes through a symlink (it was PATH.tmp.PID)
victim = os.path.join(PRIVATE, "victim")
with open(victim, "w") as f:
    f.write("precious\n")
out = os.path.join(PRIVATE, "out.json")
os.symlink(victim, out)
p = run_lab("run", os.path.join(SRC, "tests/netns/short.yaml"), "--backend", "netns", "--json", out)
check(p.returncode == 0 and open(victim).read() == "precious\n" and not os.path.islink(out)
      and json.load(open(out)).get("run_id"), "--json replaces a symlink at its path, the file it named is untouched")

# review L5: caches and run directories are pruned to the newest N, never a young run dir
runs = os.path.join(os.environ["XDG_DATA_HOME"], "mptcplab", "runs")
images = os.path.join(PRIVATE, "cache", "mptcplab", "images")
os.makedirs(images, exist_ok=True)
old = time.time() - 3 * 86400
for i in range(5):
    d = os.path.join(runs, "old%d" % i)
    os.makedirs(d, exist_ok=True)
    os.utime(d, (old + i, old + i))
    f = os.path.join(images, "initramfs-x-%d.cpio" % i)
    open(f, "w").close()
    os.utime(f, (old + i, old + i))
os.makedirs(os.path.join(runs, "young"), exist_ok=True)
p = run_lab("cleanup", "--caches", "--keep", "2", env=dict(os.environ, XDG_CACHE_HOME=os.path.join(PRIVATE, "cache")))
left_runs = sorted(os.listdir(runs))
left_img = sorted(os.listdir(images))
# the runs of this test are newer than the old ones: all old ones go, no young one
check(p.returncode == 0 and "young" in left_runs and not [d for d in left_runs if d.startswith("old")]
      and left_img == ["initramfs-x-3.cpio", "initramfs-x-4.cpio"],
      "cleanup --caches --keep 2: the newest kept, young run dirs kept (%s; %s)" % (left_runs, left_img))

# 7. review L3: an agent SIGKILLed mid-run leaves its namespace mounted; the
# controller removes its own run's namespaces once their agent is gone
p, rid = start_and_wait_workload()
pids = subprocess.run(["pgrep", "-f", "mptcplab-%s-client" % rid], capture_output=True, text=True).stdout.split()
check(len(pids) == 1, "the client's agent of %s found" % rid)
for pid in pids:
    os.kill(int(pid), signal.SIGKILL)
_, err = p.communicate(timeout=120)
# exit 3 (infrastructure), not a crash of the controller (-11 was seen before f18d9f7)
check(p.returncode == 3 and "client" in err, "a run whose agent was killed fails with exit 3 (exit %d: %s)" % (
    p.returncode, err.strip()[-200:]))
check(not ours(rid), "the killed agent's namespace is removed by the controller (left: %s)" % ours(rid))
done()
