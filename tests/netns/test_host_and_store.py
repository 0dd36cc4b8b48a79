"""One measuring run per host, and no finished run lost to a busy database
(review C1, S2, S3, S4): a second run is refused naming the first; runs with
--allow-concurrent both go and both say they shared the host; a database held
by another writer for 30 s delays the store, it does not drop the run; when
the wait runs out the run is spooled and `mptcplab import` stores it; two
processes creating a database at once both succeed; ids are 128 bits; the
accelerator of every node is stored and a check across accelerators refused."""
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, PRIVATE, SRC, check, done, need_root, netns_list, run_lab  # noqa: E402

need_root()
tmp = os.path.join(PRIVATE, "host")
os.makedirs(tmp)
db = os.path.join(tmp, "results.db")
topo = os.path.join(SRC, "tests/netns/short.yaml")
before = netns_list()
common = ["--backend", "netns", "--db", db, "--run-dir", tmp]


def start(*extra, env=None):
    return subprocess.Popen([MPTCPLAB, "run", topo, *common, *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


# 1. two runs at once: the second is refused, naming the first
first = start()
time.sleep(1.0)
t0 = time.monotonic()
second = run_lab("run", topo, *common)
check(second.returncode == 3 and "another measuring run holds this host" in second.stderr
      and "pid %d: mptcplab run" % first.pid in second.stderr and time.monotonic() - t0 < 5,
      "a second run is refused at once, naming the first (%s)" % second.stderr.strip()[-200:])
first.communicate(timeout=120)
check(first.returncode == 0, "the first run is not disturbed (exit %d)" % first.returncode)

# 2. --allow-concurrent: both go, and both results say the host was shared
outs = [os.path.join(tmp, "c%d.json" % i) for i in (1, 2)]
ps = [start("--allow-concurrent", "--json", o) for o in outs]
for p in ps:
    p.communicate(timeout=120)
check(all(p.returncode == 0 for p in ps), "two --allow-concurrent runs both ran (%s)" % [p.returncode for p in ps])
shared = [json.load(open(o)).get("shared_host") for o in outs]
check(shared == [True, True], "both results say the host was shared: %s" % shared)
con = sqlite3.connect(db)
rows = con.execute("SELECT shared_host FROM runs ORDER BY id DESC LIMIT 2").fetchall()
check(rows == [(1,), (1,)], "and so do their rows in the database: %s" % rows)
row = con.execute("SELECT shared_host, accel, run_id FROM runs ORDER BY id LIMIT 1").fetchone()
check(row[0] == 0, "the run alone on the host is stored as not shared")
check(json.loads(row[1]) == {"client": "host", "server": "host"}, "each node's accelerator is stored: %s" % row[1])
check(len(row[2]) == 32 and int(row[2], 16) >= 0, "run ids are 128 random bits (%s)" % row[2])
con.close()


# 3. another writer holds the database for 30 s while a run ends: the run waits
def hold(seconds, ready):
    c = sqlite3.connect(db, timeout=30)
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO baselines (name, created_at, source) VALUES ('lock', 'now', 'test')")
    ready.set()
    time.sleep(seconds)
    c.rollback()
    c.close()


ready = threading.Event()
holder = threading.Thread(target=hold, args=(30, ready))
holder.start()
ready.wait()
t0 = time.monotonic()
p = run_lab("run", topo, *common, "--json", os.path.join(tmp, "locked.json"))
took = time.monotonic() - t0
holder.join()
rid = json.load(open(os.path.join(tmp, "locked.json"))).get("run_id", "") if p.returncode == 0 else ""
con = sqlite3.connect(db)
n = con.execute("SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run WHERE r.run_id = ?", (rid,)).fetchone()[0]
con.close()
check(p.returncode == 0 and took >= 29 and n > 0 and "waits for it" in p.stderr,
      "database held 30 s by another writer: the run waited %.0f s and stored %d samples" % (took, n))

# 4. the wait runs out: the run is spooled in its directory and imported later
ready = threading.Event()
holder = threading.Thread(target=hold, args=(12, ready))
holder.start()
ready.wait()
env = dict(os.environ, MPTCPLAB_DB_WAIT_S="2")
p = subprocess.run([MPTCPLAB, "run", topo, *common], capture_output=True, text=True, env=env, timeout=120)
holder.join()
spool = [w.strip("`:") for w in p.stderr.split() if w.strip("`:").endswith(".spool.json")]
spool = [w for w in spool if os.path.exists(w)]
check(p.returncode == 3 and spool, "a run that cannot be stored in time is spooled: %s" % p.stderr.strip()[-300:])
if spool:
    path = spool[0]
    kept = json.load(open(path))
    r = run_lab("import", "--db", db, path)
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM samples s JOIN runs r ON r.id = s.run WHERE r.run_id = ?",
                    (kept["run_id"],)).fetchone()[0]
    con.close()
    check(r.returncode == 0 and n == len(kept["samples"]) > 0 and not os.path.exists(path),
          "mptcplab import stores all %d spooled samples" % len(kept["samples"]))

# 5. review S2: two processes creating one new database at once both succeed
fails = 0
for i in range(10):
    fresh = os.path.join(tmp, "new%d.db" % i)
    ps = [subprocess.Popen([MPTCPLAB, "history", "--db", fresh], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True) for _ in range(2)]
    fails += sum(p.wait() != 0 for p in ps)
check(fails == 0, "10 pairs of processes create a new database at once: %d failure(s)" % fails)

# 6. a check against a baseline from another accelerator is refused
con = sqlite3.connect(db)
series = con.execute("SELECT series FROM runs ORDER BY id LIMIT 1").fetchone()[0]
con.close()
r = run_lab("baseline", "save", "acc", "--run", series, "--db", db)
con = sqlite3.connect(db)
con.execute("UPDATE runs SET accel = '{\"client\":\"kvm\",\"server\":\"kvm\"}' WHERE series = ?", (series,))
con.commit()
con.close()
p = run_lab("check", topo, "--baseline", "acc", "--runs", "1", *common)
check(r.returncode == 0 and p.returncode == 2 and "accelerator" in p.stderr,
      "check against a KVM baseline from host runs is refused (exit %d: %s)" % (p.returncode, p.stderr.strip()[-160:]))

# 7. review C4: a series parses the file once; an edit during the series changes nothing
edited = os.path.join(tmp, "edited.yaml")
with open(topo) as f:
    text = f.read()
with open(edited, "w") as f:
    f.write(text)
p = subprocess.Popen([MPTCPLAB, "run", edited, "--runs", "2", *common, "--json", os.path.join(tmp, "ed.json")],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(2)
with open(edited, "w") as f:
    f.write(text.replace("rate: 20mbit", "rate: 5mbit"))
p.communicate(timeout=300)
res = json.load(open(os.path.join(tmp, "ed.json")))
g = [x["value"] for x in res["samples"] if x["metric"] == "goodput_mbps"]
con = sqlite3.connect(db)
hashes = {h for (h,) in con.execute("SELECT topology_hash FROM runs WHERE series = ?", (res["series"],))}
con.close()
check(p.returncode == 0 and len(g) == 2 and all(v > 15 for v in g) and len(hashes) == 1,
      "a topology edited mid-series: every run measured what was read at the start (%s, %d hash)" % (g, len(hashes)))

check(netns_list() == before, "nothing left")
done()
