"""lab/guest/build-image under concurrency and kills (review C2, L4): two
builds of one image at once both succeed with one whole image; a build killed
with SIGKILL leaves a directory that the next build sweeps; nothing half-written
is ever published under the content key."""
import glob
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import BUILD, PRIVATE, SKIP, SRC, check, done  # noqa: E402

releases = sorted(d for d in os.listdir("/lib/modules") if os.path.exists("/lib/modules/%s/modules.dep" % d)
                  and "cloud" in d)
if not releases:
    print("SKIP: no Debian cloud kernel modules installed (lab/setup)")
    sys.exit(SKIP)
cache = os.path.join(PRIVATE, "images")
argv = [os.path.join(SRC, "lab/guest/build-image"), "--release", releases[-1], "--modroot", "/",
        "--agent", os.path.join(BUILD, "mptcplab-agent"), "--cache", cache]

ps = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
outs = [p.communicate(timeout=300) for p in ps]
paths = [o[0].strip() for o in outs]
check(all(p.returncode == 0 for p in ps) and paths[0] == paths[1] and os.path.getsize(paths[0]) > 1 << 20,
      "two builds of one image at once: both succeed with the same image (%s)" % [o[1].strip()[-80:] for o in outs])
check(not glob.glob(cache + "/.build.*") and not glob.glob(cache + "/.cpio.*"), "no temporary left behind")

# a build killed mid-way (its controller SIGKILLed): nothing is published, the next build sweeps
os.unlink(paths[0])
p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
for _ in range(100):
    if glob.glob(cache + "/.build.*/bin"):
        break
    time.sleep(0.02)
os.killpg(p.pid, signal.SIGKILL)
p.wait()
left = glob.glob(cache + "/.build.*")
check(left and not os.path.exists(paths[0]), "SIGKILL mid-build: a leftover directory, no image (%d)" % len(left))
q = subprocess.run(argv, capture_output=True, text=True, timeout=300)
check(q.returncode == 0 and q.stdout.strip() == paths[0] and not glob.glob(cache + "/.build.*"),
      "the next build sweeps it and publishes the image")
done()
