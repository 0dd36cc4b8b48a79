"""`mptcplab kernel check` and --kernel TREE resolution (issue: kernel builds),
on fake build trees: a bzImage with a real x86 boot header (HdrS and a version
string, all the controller reads) and a .config. A tree whose config builds in
what the lab needs wants no module directory; one without CONFIG_NET_NS or
CONFIG_MPTCP is named by option and the feature that needs it; a topology's
needs (netem for delay, tbf for a rate, MPTCP over IPv6) are checked too; a
git tree's commit and dirt are read."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, SRC, check, done  # noqa: E402

tmp = tempfile.mkdtemp(prefix="mptcplab-kcheck-")


def bzimage(path, release):
    b = bytearray(0x400)
    b[0x202:0x206] = b"HdrS"
    off = 0x300
    b[0x20E:0x210] = (off - 0x200).to_bytes(2, "little")
    v = ("%s (lab@test) #1 SMP" % release).encode()
    b[off:off + len(v)] = v
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b)


def fragment():
    return [l for l in open(os.path.join(SRC, "lab/kernel.config")).read().splitlines()
            if l.startswith("CONFIG_")]


def tree(name, drop=(), extra=()):
    t = os.path.join(tmp, name)
    bzimage(os.path.join(t, "arch/x86/boot/bzImage"), "6.1.192-lab")
    lines = [l for l in fragment() if l.split("=")[0] not in drop]
    lines += ["# %s is not set" % o for o in drop] + list(extra) + ["# CONFIG_MODULES is not set"]
    open(os.path.join(t, ".config"), "w").write("\n".join(lines) + "\n")
    return t


def kcheck(*args):
    return subprocess.run([MPTCPLAB, "kernel", "check", *args], capture_output=True, text=True, timeout=60)


# the whole fragment, built in: ready, no module directory wanted
full = tree("full")
p = kcheck(full, os.path.join(SRC, "topologies/two-paths.yaml"))
check(p.returncode == 0 and "release 6.1.192-lab" in p.stdout and
      "none needed" in p.stdout and "ok:" in p.stdout,
      "a tree with lab/kernel.config built in: ready for two-paths, no module directory (rc %d)\n%s%s"
      % (p.returncode, p.stdout, p.stderr))
check(re.search(r"sha256 [0-9a-f]{64}", p.stdout) is not None, "the image's sha256 is shown")

# options missing: named, with the feature that needs them, exit 3
for opt, feature in (("CONFIG_NET_NS", "qdisc probe"), ("CONFIG_MPTCP", "MPTCP")):
    t = tree("no-" + opt, drop=(opt,))
    p = kcheck(t)
    check(p.returncode == 3 and re.search(r"missing %s \(not set\):.*%s" % (opt, feature), p.stdout),
          "a tree without %s: exit 3 (got %d), named with what needs it: %s" % (opt, p.returncode, p.stdout.strip().splitlines()[-2:]))

# a topology's needs: netem for delay (two-paths), not for a rate alone (two-paths-rate)
t = tree("no-netem", drop=("CONFIG_NET_SCH_NETEM",))
p = kcheck(t, os.path.join(SRC, "topologies/two-paths.yaml"))
check(p.returncode == 3 and "missing CONFIG_NET_SCH_NETEM" in p.stdout, "no netem: two-paths (delay) is refused")
p = kcheck(t, os.path.join(SRC, "topologies/two-paths-rate.yaml"))
check(p.returncode == 0, "no netem: two-paths-rate (rates only) is fine (rc %d): %s" % (p.returncode, p.stdout[-200:]))
t = tree("no-tbf", drop=("CONFIG_NET_SCH_TBF",))
p = kcheck(t, os.path.join(SRC, "topologies/two-paths-rate.yaml"))
check(p.returncode == 3 and "missing CONFIG_NET_SCH_TBF" in p.stdout, "no tbf: a rate-only topology is refused")

# modular: a module the lab loads must be in the module directory
t = tree("modular", drop=("CONFIG_VIRTIO_NET",), extra=("CONFIG_MODULES=y", "CONFIG_VIRTIO_NET=m"))
p = kcheck(t)
check(p.returncode == 2 and "no modules in" in p.stderr,
      "CONFIG_VIRTIO_NET=m and no module directory: refused, saying so (rc %d): %s" % (p.returncode, p.stderr.strip()))
mods = os.path.join(t, "mod-install/lib/modules/6.1.192-lab")
os.makedirs(os.path.join(mods, "kernel/drivers/net"))
open(os.path.join(mods, "modules.dep"), "w").write("kernel/drivers/net/virtio_net.ko:\n")
p = kcheck(t)
check(p.returncode == 0 and "modules from" in p.stdout, "with virtio_net.ko installed: ready (rc %d)" % p.returncode)
open(os.path.join(mods, "modules.dep"), "w").write("kernel/drivers/net/other.ko:\n")
p = kcheck(t)
check(p.returncode == 3 and "virtio_net.ko is not in" in p.stdout, "a module directory without virtio_net.ko: named")

# a config without the lab's options: every one named, with its feature
t = os.path.join(tmp, "bare")
bzimage(os.path.join(t, "arch/x86/boot/bzImage"), "6.1.192-lab")
open(os.path.join(t, ".config"), "w").write("# CONFIG_MODULES is not set\nCONFIG_INET=y\n")
p = kcheck(t)
missing = re.findall(r"^missing (CONFIG_\w+)", p.stdout, re.M)
check(p.returncode == 3 and "CONFIG_VIRTIO_NET" in missing and "CONFIG_INET" not in missing and len(missing) >= 8,
      "a bare config: %d options missing, CONFIG_INET not among them" % len(missing))

# the commit of a git tree, and whether it was dirty
if shutil.which("git"):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t")
    g = lambda *a: subprocess.run(["git", "-C", full, *a], env=env, capture_output=True, text=True, check=True).stdout
    g("init", "-q")
    g("add", "-f", ".config")
    g("commit", "-q", "-m", "base")
    head = g("rev-parse", "HEAD").strip()
    p = kcheck(full)
    check("commit %s\n" % head in p.stdout, "the tree's commit is shown: %s" % head)
    open(os.path.join(full, ".config"), "a").write("# a change\n")
    p = kcheck(full)
    check("commit %s with uncommitted changes" % head in p.stdout, "a dirty tree says so")

# not a kernel
p = kcheck(os.path.join(tmp, "nothing"))
check(p.returncode == 2, "a path that is not there: exit 2")
shutil.rmtree(tmp)
done()
