"""What the project ships as examples stays valid: every topology, every
nightly plan (with its scenarios' topologies), every test fixture that is
meant to be good. `nightly/example.yaml` said `budget: 4h`, which the parser
refused before hours were a unit (issue 23)."""
import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, SRC, check, done  # noqa: E402

files = sorted(glob.glob(os.path.join(SRC, "topologies", "*.yaml")) +
               glob.glob(os.path.join(SRC, "nightly", "*.yaml")) +
               glob.glob(os.path.join(SRC, "tests", "netns", "*.yaml")) +
               glob.glob(os.path.join(SRC, "tests", "vm", "*.yaml")))
check(len(files) >= 10 and any(f.endswith("nightly/example.yaml") for f in files),
      "%d shipped topologies and plans found" % len(files))
for f in files:
    p = subprocess.run([MPTCPLAB, "validate", f], capture_output=True, text=True)
    check(p.returncode == 0 and ": ok (" in p.stdout, "%s is valid %s" % (
        os.path.relpath(f, SRC), (p.stderr.strip() or p.stdout.strip())[-200:]))
p = subprocess.run([MPTCPLAB, "validate", os.path.join(SRC, "nightly", "example.yaml")],
                   capture_output=True, text=True)
check("nightly plan mptcp-nightly, 2 scenario(s)" in p.stdout, "validate reads a plan as a plan: %s" % p.stdout.strip())

# a key metric the registry does not have is refused by validate (as by a
# run), where it stands (issue 23: validate accepted it before)
import tempfile  # noqa: E402
with tempfile.TemporaryDirectory() as d:
    bad = os.path.join(d, "km.yaml")
    with open(bad, "w") as f:
        f.write(open(os.path.join(SRC, "tests", "netns", "short.yaml")).read().replace(
            "protocol: tcp}", "protocol: tcp, key_metrics: [goodput_mbps, godput_mbps]}"))
    p = subprocess.run([MPTCPLAB, "validate", bad], capture_output=True, text=True)
    check(p.returncode == 2 and (bad + ":10:") in p.stderr and 'no metric "godput_mbps"' in p.stderr,
          "validate: an unknown key metric is exit 2 at FILE:LINE:COL (%s)" % p.stderr.strip()[-200:])
done()
