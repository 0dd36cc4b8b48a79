"""The results database and verdicts on the netns backend: a series is stored
run by run, a controller killed mid-run leaves earlier runs intact and no trace
of the interrupted one, baselines are saved and checked against, a real
regression is reported as `not ok` with exit 1, and --bisect maps exit codes."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, SRC, check, done, need_root, netns_list, run_lab, wait_until  # noqa: E402

need_root()
tmp = tempfile.mkdtemp()
db = os.path.join(tmp, "results.db")
topo = os.path.join(SRC, "tests/netns/short.yaml")
before = netns_list()
common = ["--backend", "netns", "--db", db, "--run-dir", tmp]

# 1. a series of 3 counted runs after a warm-up
out = os.path.join(tmp, "series.json")
p = run_lab("run", topo, "--runs", "3", "--json", out, *common)
check(p.returncode == 0, "run --runs 3 exits 0 (got %d): %s" % (p.returncode, p.stderr[-500:]))
s = json.load(open(out))
series = s["series"]
con = sqlite3.connect(db)
rows = con.execute("SELECT warmup, status FROM runs WHERE series = ?", (series,)).fetchall()
check(sorted(rows) == [(0, "ok")] * 3 + [(1, "ok")], "warm-up and 3 counted runs stored: %s" % rows)
n = con.execute("SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run WHERE r.series = ? AND"
                " s.metric = 'goodput_mbps' AND r.warmup = 0", (series,)).fetchone()[0]
check(n == 3, "one goodput sample per counted run (%d)" % n)
g = [x["value"] for x in s["samples"] if x["metric"] == "goodput_mbps"]
check(len(g) == 3 and all(15 < v < 20 for v in g), "goodput samples measured at 20mbit: %s" % g)
# each run's teardown went on beside the next run's boot (waited for before
# anything was measured)
ov = [json.loads(r[0])["overhead"] for r in
      con.execute("SELECT result_json FROM runs WHERE series = ? ORDER BY id", (series,))]
check(all(o.get("teardown_overlapped") is True for o in ov),
      "every run's teardown overlapped the next boot: %s" % [o.get("teardown_overlapped") for o in ov])
check(all(o["teardown_s"] >= 0 for o in ov), "teardown waits reported: %s" % [o["teardown_s"] for o in ov])
check(con.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "the database is in WAL mode")
check(con.execute("PRAGMA user_version").fetchone()[0] == 4, "schema version 4")
con.close()

# 1b. warmup: auto: the first run warms up the longest (3 s) and says when its
# rate settled; the next runs of the series warm up that long (whole seconds)
out2 = os.path.join(tmp, "auto.json")
p = run_lab("run", topo, "--runs", "2", "--warmup-runs", "0", "--set", "workloads.0.warmup=auto",
            "--json", out2, *common)
check(p.returncode == 0, "a series with warmup: auto exits 0 (%d): %s" % (p.returncode, p.stderr[-500:]))
s2 = json.load(open(out2))
con2 = sqlite3.connect(db)
wls = [json.loads(r[0])["workloads"][0] for r in
       con2.execute("SELECT result_json FROM runs WHERE series = ? ORDER BY id", (s2["series"],))]
con2.close()
check(len(wls) == 2 and wls[0]["warmup_auto"] and wls[0]["warmup_s"] == 3,
      "the first run warmed up 3 s: %s" % [(w["warmup_s"], w["settled_s"]) for w in wls])
check(wls[0]["settled_s"] is not None and 0 <= wls[0]["settled_s"] < 3,
      "the first run's rate settled within its warm-up (%s s)" % wls[0]["settled_s"])
need = max(1, -(-(wls[0]["settled_s"] - 0.01) // 1))
check(wls[1]["warmup_s"] == need,
      "the second run warmed up what the first needed, in whole seconds (%s s after %s)"
      % (wls[1]["warmup_s"], wls[0]["settled_s"]))
check("next runs warm up" in p.stderr, "the series says what it learned")

# 1c. a series' first warm-ups come from the latest stored runs of the same
# settings once there are 3 of them: with 2 (1b's) the first run still warms
# up the longest; with 3 it warms up the most any of them needed
def needed(w):  # the rule of learn_warmup, for TCP (at least 1 s, at most 3 s)
    if w["late_joins"] or w["settled_s"] is None:
        return 3
    if w["settled_s"] >= w["warmup_s"] - 1e-6:
        return min(3, w["warmup_s"] + 1)
    return max(1, -(-(w["settled_s"] - 0.01) // 1))
seen = list(wls)
for n_hist in (2, 3):
    out3 = os.path.join(tmp, "auto%d.json" % n_hist)
    p = run_lab("run", topo, "--runs", "1", "--warmup-runs", "0", "--set", "workloads.0.warmup=auto",
                "--json", out3, *common)
    s3 = json.load(open(out3)) if os.path.exists(out3) else {}
    con2 = sqlite3.connect(db)
    w3 = [json.loads(r[0])["workloads"][0] for r in
          con2.execute("SELECT result_json FROM runs WHERE series = ?", (s3.get("series"),))]
    con2.close()
    want = 3 if n_hist < 3 else max(needed(w) for w in seen)
    check(p.returncode == 0 and len(w3) == 1 and w3[0]["warmup_s"] == want and
          s3.get("timing", {}).get("warmup_history_runs") == (0 if n_hist < 3 else 3) and
          (("latest 3 stored runs" in p.stderr) == (n_hist == 3)),
          "with %d stored runs of these settings the first run warms up %s s (%s; history %s)"
          % (n_hist, want, w3 and w3[0]["warmup_s"], s3.get("timing", {}).get("warmup_history_runs")))
    seen += w3

# 2. baseline save / list, check against it
p = run_lab("baseline", "save", "base", "--run", series, "--db", db)
check(p.returncode == 0 and "3 run(s)" in p.stdout, "baseline saved from the series: %s" % p.stdout.strip())
p = run_lab("baseline", "save", "nope", "--run", "s-nosuch", "--db", db)
check(p.returncode == 2 and "s-nosuch" in p.stderr, "unknown series: exit 2")
p = run_lab("baseline", "list", "--db", db)
check("base" in p.stdout and "short" in p.stdout, "baseline list shows it")
p = run_lab("check", topo, "--baseline", "base", "--runs", "3", *common)
lines = p.stdout.splitlines()
check(lines[:1] == ["KTAP version 1"] and lines[1].startswith("1.."), "check prints KTAP")
plan = int(lines[1][3:])
results = [l for l in lines if l.startswith("ok ") or l.startswith("not ok ")]
check(plan == len(results) and plan >= 3, "the plan matches the %d results" % len(results))
check(any("bulk-tcp.goodput_mbps" in l for l in results), "goodput is judged")
check(p.returncode in (0, 1) and (p.returncode == 1) == any(l.startswith("not ok") for l in results),
      "exit code follows the results (%d)" % p.returncode)

# like with like: a changed setting against the baseline is refused before any run
p = run_lab("check", topo, "--baseline", "base", "--runs", "3", "--set", "links.0.shape.rate=10mbit", *common)
check(p.returncode == 2 and "judges a setting, not the kernel" in p.stderr and "counted run" not in p.stderr,
      "check with a --set the baseline did not have: exit 2 before running (%d): %s" % (p.returncode, p.stderr.strip()[-300:]))
check("like with like: the baseline ran on this host" in lines[-40:] or any("like with like" in l for l in lines),
      "check says the baseline ran like with like")

# 3. a real regression: the path at half its rate (asked for: --allow-different)
p = run_lab("check", topo, "--baseline", "base", "--runs", "3", "--set", "links.0.shape.rate=10mbit",
            "--allow-different", "--json", os.path.join(tmp, "check.json"), *common)
print(p.stdout)
check(p.returncode == 1, "halved rate: exit 1 (got %d)" % p.returncode)
reg = [l for l in p.stdout.splitlines() if l.startswith("not ok") and "bulk-tcp.goodput_mbps" in l]
check(reg and "regression" in reg[0] and "change -" in reg[0], "not ok for goodput: %s" % reg)
j = json.load(open(os.path.join(tmp, "check.json")))
t = [x for x in j["tests"] if x["name"] == "bulk-tcp.goodput_mbps"][0]
check(t["verdict"] == "regression" and -0.55 < t["change"] < -0.40, "change about -50%%: %.3f" % t["change"])

# 4. --bisect: exit 2 stays a stop (128), infrastructure failure becomes skip (125)
p = run_lab("run", os.path.join(SRC, "tests/topo/bad/06-rate-mbps.yaml"), "--bisect", *common)
check(p.returncode == 128, "--bisect: bad input -> 128 (got %d)" % p.returncode)
p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MPTCPLAB, "run", topo,
                    "--backend", "netns", "--no-store", "--bisect"], capture_output=True, text=True)
check(p.returncode == 125, "--bisect: infrastructure failure -> 125 (got %d)" % p.returncode)

# 5. killed in the middle of the second counted run
proc = subprocess.Popen([MPTCPLAB, "run", topo, "--runs", "3", *common], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
counted = 0
killed_run = None
while True:
    line = proc.stderr.readline()
    if not line:
        break
    if "counted run" in line:
        counted += 1
    if counted == 1 and ": short on" in line:
        killed_run = line.split(" run ")[1].split(":")[0]
    if counted == 1 and killed_run and "workload 1/1" in line:
        break
time.sleep(1)
proc.send_signal(signal.SIGKILL)
proc.wait()
con = sqlite3.connect(db)
check(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity check ok after SIGKILL")
sid = con.execute("SELECT series FROM runs ORDER BY id DESC LIMIT 1").fetchone()[0]
rows = con.execute("SELECT run_id, warmup, (SELECT count(*) FROM samples WHERE run = runs.id)"
                   " FROM runs WHERE series = ?", (sid,)).fetchall()
check(len(rows) == 2 and all(r[2] > 0 for r in rows), "warm-up and the finished run are intact: %s" % rows)
check(killed_run and not con.execute("SELECT 1 FROM runs WHERE run_id = ?", (killed_run,)).fetchall(),
      "the interrupted run %s is absent" % killed_run)
con.close()
check(wait_until(lambda: netns_list() == before, 15), "no namespace left")

# --runs auto: runs are added until the key metric is decided; it stops at the
# first look the family-wise level allows (5 a side for one key test over the
# looks of at most 7), and the lab's noise and minimum detectable change are said
out = os.path.join(tmp, "auto.json")
p = run_lab("compare", topo, "--runs", "auto", "--max-runs", "7", "--warmup-runs", "0",
            "--set-b", "links.0.shape.rate=15mbit", "--json", out, *common)
j = json.load(open(out)) if os.path.exists(out) else {}
check(p.returncode == 1 and j.get("runs") == 5 and "--runs auto: 5 run(s) a side of at most 7" in p.stdout,
      "compare --runs auto finds the regression after 5 runs a side of 7 (rc %d, runs %s)" % (p.returncode, j.get("runs")))
con = sqlite3.connect(db)
check(con.execute("SELECT count(*) FROM runs WHERE series = ? AND warmup = 1", (j.get("series"),)).fetchone()[0] == 0,
      "--warmup-runs 0: no warm-up run")
con.close()
noise = {x["test"]: x for x in j.get("noise", [])}
g = noise.get("bulk-tcp.goodput_mbps", {})
# never below the metric's threshold (a smaller change is "same" by definition)
th = next((t.get("threshold") for t in j.get("tests", []) if t.get("name") == "bulk-tcp.goodput_mbps"), None)
check(g.get("key") and g.get("stored_runs", 0) >= 5 and th and th <= (g.get("min_detectable") or 0) < 0.05 and
      "smallest change this lab can see" in p.stdout,
      "the noise of side A's settings and the smallest change 5 runs can see: %s" % g)
p = run_lab("run", topo, "--runs", "auto", *common)
check(p.returncode == 2 and "needs a comparison" in p.stderr, "run --runs auto: refused (exit 2)")
done()
