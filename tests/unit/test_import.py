"""`mptcplab import` treats a file as untrusted input (issue 23): ids must be
the lab's own form, numbers must be measured values, and an imported goodput
meets the rule a fresh one meets (at most twice what the run's own topology
can carry, or 1 Tbit/s unshaped), else the sample is stored invalid with the
reason. No root: a spool file made by hand, a private SQLite file."""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, check, done  # noqa: E402

RUN = "0123456789abcdef0123456789abcdef"
SERIES = "s" + "fedcba9876543210" * 2
YAML = ("name: imp\nnodes: {client: {}, server: {}}\nlinks:\n"
        "  - endpoints: [\"client:eth0 10.0.1.1/24\", \"server:eth0 10.0.1.2/24\"]\n"
        "    shape: {rate: 20mbit}\n"
        "workloads:\n  - {name: bulk, tool: iperf3, from: client, to: server, duration: 5s}\n")


def spool(run_id=RUN, series=SERIES, goodput=19.2, topology=True, workloads=None):
    res = {"schema": "mptcplab.run/1", "topology": {"name": "imp", "yaml": YAML}} if topology else None
    if res and workloads:
        res["workloads"] = workloads
    return {"format": "mptcplab-run-spool-1", "run_id": run_id, "series": series, "topology": "imp",
            "backend": "netns", "started_at": "2026-12-01T00:00:00Z", "ended_at": "2026-12-01T00:00:10Z",
            "status": "ok", "result_json": json.dumps(res) if res else None,
            "samples": [{"workload": "bulk", "metric": "goodput_mbps", "value": goodput, "valid": True}]}


def imp(d, name, obj):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        json.dump(obj, f)
    return subprocess.run([MPTCPLAB, "import", "--db", os.path.join(d, "r.db"), path],
                          capture_output=True, text=True, timeout=60)


with tempfile.TemporaryDirectory() as d:
    p = imp(d, "inject.json", spool(run_id="x'); DROP TABLE runs;--"))
    check(p.returncode == 2 and "run id \"x'); DROP TABLE runs;--\" is not the lab's form" in p.stderr,
          "a run id that is not 32 hex digits is refused, exit 2: %s" % p.stderr.strip()[-160:])
    p = imp(d, "series.json", spool(series="nightly-1"))
    check(p.returncode == 2 and "series id \"nightly-1\" is not the lab's form" in p.stderr,
          "a series id of another form is refused: %s" % p.stderr.strip()[-160:])
    p = imp(d, "neg.json", spool(goodput=-3))
    check(p.returncode == 2 and "is -3: not a measured value" in p.stderr,
          "a negative goodput is refused: %s" % p.stderr.strip()[-160:])
    p = imp(d, "huge.json", spool(goodput=1e308))
    check(p.returncode == 0, "a goodput of 1e308 is imported (the run is kept): %s" % p.stderr.strip()[-160:])
    con = sqlite3.connect(os.path.join(d, "r.db"))
    rows = con.execute("SELECT r.run_id, s.valid, s.reason FROM samples s JOIN runs r ON r.id = s.run").fetchall()
    check(len(rows) == 1 and rows[0][0] == RUN and rows[0][1] == 0 and
          "implausible" in rows[0][2] and "20.00 Mbit/s of shaped paths" in rows[0][2],
          "... as an invalid sample, for the fresh run's reason: %s" % rows)
    check(con.execute("SELECT count(*) FROM runs").fetchone()[0] == 1, "nothing else was stored")
    # a plausible goodput stays valid; without its topology the unshaped bound holds
    p = imp(d, "fine.json", spool(run_id="1" * 32, goodput=39.9))
    p2 = imp(d, "notopo.json", spool(run_id="2" * 32, goodput=2e6, topology=False))
    p3 = imp(d, "notopo2.json", spool(run_id="3" * 32, goodput=2e5, topology=False))
    v = dict(con.execute("SELECT r.run_id, s.valid FROM samples s JOIN runs r ON r.id = s.run").fetchall())
    check(p.returncode == 0 and v.get("1" * 32) == 1, "39.9 Mbit/s over 20 Mbit/s of paths stays valid (under twice)")
    check(p2.returncode == 0 and p3.returncode == 0 and v.get("2" * 32) == 0 and v.get("3" * 32) == 1,
          "no topology: 2 Tbit/s is invalid, 200 Gbit/s is not (%s)" % v)
    # a run with a path event whose sender lost a subflow's list (the subflow
    # closed: an interval with one subflow, one with none, one without the
    # key) is reported, its events plotted (a report once asserted on it)
    sf = [{"bytes_acked": 1000}, {"bytes_acked": 2000}]
    ivs = [{"t": 0.05, "subflows": sf}, {"t": 0.1, "subflows": sf[:1]}, {"t": 0.15, "subflows": []},
           {"t": 0.2}, {"t": 0.25, "subflows": "?"}]
    wl = {"name": "bulk", "status": "ok", "duration_s": 1.0, "path_rate_bps": 20000000, "intervals": ivs,
          "receiver_bins": {"t0_s": 0, "width_s": 0.01, "bytes": [2500] * 100},
          "events": [{"action": "down", "at_s": 0.5, "applied_s": 0.5004, "target_bps": 10e6}],
          "pm_events": {"client": [{"type": "sub_closed", "t_s": 0.7}], "server": "?"}}
    ev = "4" * 32
    p = imp(d, "events.json", spool(run_id=ev, goodput=19, workloads=[wl]))
    out = os.path.join(d, "rep")
    p2 = subprocess.run([MPTCPLAB, "report", ev, "--db", os.path.join(d, "r.db"), "--out", out],
                        capture_output=True, text=True, timeout=120)
    check(p.returncode == 0 and p2.returncode == 0 and os.path.getsize(os.path.join(out, "events-bulk.svg")) > 0,
          "a run whose subflows closed under an event is reported, its events plotted (exit %d, %d): %s"
          % (p.returncode, p2.returncode, p2.stderr.strip()[-200:]))
done()
