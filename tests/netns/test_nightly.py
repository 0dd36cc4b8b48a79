"""The nightly job (issue: nightly runs) on the netns backend: a plan over a
two-path topology run as ten "nights", one path's rate lowered from night 6 on
(a --set in the plan). The change point is found once three nights after it
have run, between nights 5 and 6, in goodput and nowhere else; the nightly
exits 1 until it is acknowledged, then 0. A second nightly next to a running
one exits 3. A bad plan gets FILE:LINE:COL. `exclude` leaves a night out of
history. The systemd units pass `systemd-analyze verify` and the service's
command line runs once."""
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, PRIVATE, SRC, check, done, need_root, netns_list  # noqa: E402

need_root()
before = netns_list()
tmp = os.path.join(PRIVATE, "nightly")
os.makedirs(tmp)
db = os.path.join(tmp, "results.db")
topo = os.path.join(SRC, "tests/netns/nightly.yaml")


def plan(night, extra=""):
    p = os.path.join(tmp, "night%d.yaml" % night)
    sets = "    set: [links.0.shape.rate=15mbit]\n" if night >= 6 else ""
    open(p, "w").write("name: test-nightly\nlab: testlab\nbackend: netns\n%sscenarios:\n"
                       "  - topology: %s\n    runs: 2\n    warmup_run: false\n%s" % (extra, topo, sets))
    return p


def nightly(night, *args):
    out = os.path.join(tmp, "night%d.json" % night)
    p = subprocess.run([MPTCPLAB, "nightly", plan(night), "--db", db, "--json", out, *args],
                       capture_output=True, text=True, timeout=600)
    return p, (json.load(open(out)) if os.path.exists(out) else {})


def changes():
    p = subprocess.run([MPTCPLAB, "changes", "--db", db, "--json"], capture_output=True, text=True, timeout=60)
    return json.loads(p.stdout or "[]")


# a bad plan: FILE:LINE:COL
bad = os.path.join(tmp, "bad.yaml")
open(bad, "w").write("name: x\nscenarios:\n  - topology: %s\n    runs: many\n  - {runs: 2}\nbudget: 3 days\n" % topo)
p = subprocess.run([MPTCPLAB, "nightly", bad, "--db", db], capture_output=True, text=True, timeout=60)
check(p.returncode == 2 and "bad.yaml:4:11: scenario 1: runs \"many\" is not a number" in p.stderr and
      re.search(r"bad.yaml:5:\d+: scenario 2: topology is required", p.stderr) and
      "bad.yaml:6:9: budget" in p.stderr,
      "a bad plan: exit 2 with FILE:LINE:COL for each error:\n" + p.stderr)

exits = []
for night in range(1, 11):
    p, j = nightly(night)
    exits.append(p.returncode)
    print("# night %d: exit %d, %s" % (night, p.returncode, [l for l in p.stdout.splitlines() if l.startswith(("ok", "not ok", "#   change"))]))
    if night == 8:
        night8 = p
        cps = changes()
        if cps:
            a = subprocess.run([MPTCPLAB, "changes", "ack", str(cps[0]["id"]), "--note", "the test lowered a rate",
                                "--db", db], capture_output=True, text=True, timeout=60)
            check(a.returncode == 0, "changes ack: %s" % a.stdout.strip())
check(exits[:7] == [0] * 7, "nights 1-7 exit 0 (no change yet, or too few nights after it): %s" % exits)
check(exits[7] == 1 and "confirm" not in night8.stdout and "the kernels are the same" in night8.stdout,
      "night 8 (three nights after the change) exits 1, saying the kernel did not change: %s" % exits)
check(exits[8:] == [0, 0], "after the acknowledgement nights 9 and 10 exit 0: %s" % exits)

con = sqlite3.connect(db)
nights = [s for (s,) in con.execute("SELECT series FROM runs GROUP BY series ORDER BY min(id)")]
labs = {l for (l,) in con.execute("SELECT DISTINCT lab FROM runs")}
con.close()
cps = changes()
check(len(nights) == 10 and labs == {"testlab"}, "ten nights stored, each run with the plan's lab name (%s)" % labs)
check(len(cps) == 1 and cps[0]["metric"] == "goodput_mbps" and cps[0]["workload"] == "bulk-tcp" and
      cps[0]["series_before"] == nights[4] and cps[0]["series_after"] == nights[5] and cps[0]["regression"] == 1 and
      cps[0]["rel"] < -0.15 and cps[0]["state"] == "acknowledged",
      "one change point, in goodput, between nights 5 and 6, a regression, acknowledged: %s" % cps)

# exclude: a night leaves history and stays in the database
p = subprocess.run([MPTCPLAB, "exclude", nights[2], "--reason", "a noisy neighbour", "--db", db],
                   capture_output=True, text=True, timeout=60)
con = sqlite3.connect(db)
ex = con.execute("SELECT count(*), min(excluded) FROM runs WHERE series = ?", (nights[2],)).fetchone()
con.close()
check(p.returncode == 0 and ex[0] == 2 and ex[1] == "a noisy neighbour", "exclude marks the night's 2 runs: %s" % (ex,))
p = subprocess.run([MPTCPLAB, "exclude", "s-nosuch", "--reason", "x", "--db", db], capture_output=True, text=True)
check(p.returncode == 2, "exclude of an unknown run: exit 2")

# one nightly at a time
first = subprocess.Popen([MPTCPLAB, "nightly", plan(10), "--db", db], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
line = ""
while "scenario 1/1" not in line:
    line = first.stderr.readline()
    if not line:
        break
p = subprocess.run([MPTCPLAB, "nightly", plan(10), "--db", db], capture_output=True, text=True, timeout=120)
check(p.returncode == 3 and "another nightly is still running" in p.stderr,
      "a second nightly next to a running one: exit 3 (%d): %s" % (p.returncode, p.stderr.strip()[-200:]))
first.communicate(timeout=600)

# the systemd units: verified, and the service's command line run once
units = os.path.join(tmp, "units")
os.makedirs(units)
for u in ("mptcplab-nightly.service", "mptcplab-nightly.timer"):
    text = open(os.path.join(SRC, "lab/systemd", u)).read()
    text = text.replace("/usr/local/bin/mptcplab", MPTCPLAB).replace("/etc/mptcplab/nightly.yaml", plan(10))
    open(os.path.join(units, u), "w").write(text)
if shutil.which("systemd-analyze"):
    v = subprocess.run(["systemd-analyze", "verify", os.path.join(units, "mptcplab-nightly.service"),
                        os.path.join(units, "mptcplab-nightly.timer")], capture_output=True, text=True, timeout=120)
    check(v.returncode == 0, "systemd-analyze verify passes: %s" % v.stderr.strip()[-500:])
svc = open(os.path.join(units, "mptcplab-nightly.service")).read()
env = dict(re.findall(r"^Environment=(\w+)=(.*)$", svc, re.M))
cmd = re.search(r"^ExecStart=(.*)$", svc, re.M).group(1).replace("${PLAN}", env["PLAN"]).split()
p = subprocess.run(cmd + ["--db", db], capture_output=True, text=True, timeout=600)
ok_codes = {0} | {int(c) for c in re.findall(r"^SuccessExitStatus=(.*)$", svc, re.M)[0].split()}
check(p.returncode in ok_codes, "the service's command line runs once and succeeds as systemd counts it (rc %d)" % p.returncode)
check(netns_list() == before, "no namespace left")
done()
