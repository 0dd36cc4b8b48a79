"""The report of a comparison (issue: reports): compare writes it and prints
its path; every plot the HTML shows exists and is well-formed SVG holding the
axis labels and series its data asks for; the numbers in the HTML are the
database's; the LKP and MIB tables are printed under the KTAP; and a real
headless browser (Debian's chromium) opens the page with no console error and
no missing resource, writing a screenshot next to the report."""
import glob
import html.parser
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import MPTCPLAB, PRIVATE, SRC, check, done, need_root, netns_list  # noqa: E402

need_root()
tmp = os.path.join(PRIVATE, "report")
os.makedirs(tmp)
db = os.path.join(tmp, "results.db")
before = netns_list()
out = os.path.join(tmp, "cmp.json")
p = subprocess.run([MPTCPLAB, "compare", os.path.join(SRC, "tests/netns/short.yaml"), "--backend", "netns",
                    "--db", db, "--run-dir", tmp, "--runs", "3", "--json", out,
                    "--set-b", "links.0.shape.rate=15mbit"], capture_output=True, text=True, timeout=600)
check(p.returncode == 1, "compare with B at 15 of 20 Mbit/s: a regression, exit 1 (got %d)" % p.returncode)
m = re.search(r"report in (\S+index\.html)", p.stderr)
check(m is not None, "compare prints where its report is")
index = m.group(1) if m else ""
rdir = os.path.dirname(index)

# the text tables under the KTAP
lkp = [l for l in p.stdout.splitlines() if "bulk-tcp.goodput_mbps Mbit/s" in l and "%" in l and not l.startswith(("ok", "not ok"))]
check(lkp and re.search(r"-2\d\.\d\d%", lkp[0]), "the LKP table shows goodput about -25%%: %s" % (lkp[:1],))
mib = p.stdout.split("# MIB counters that moved differently")[-1] if "MIB counters" in p.stdout else ""
check("bulk-tcp/client/TcpOutSegs" in mib, "the MIB table lists counters that moved (TcpOutSegs)")


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.cells, self.row, self.rows = [], [], None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a["src"])
        if tag == "tr":
            self.row = []
        if tag in ("td", "th") and self.row is not None:
            self.row.append("")

    def handle_endtag(self, tag):
        if tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.row:
            self.row[-1] += data


page = Page()
page.feed(open(index).read() if index else "")
check(len(page.imgs) >= 10, "the HTML shows %d plots" % len(page.imgs))
bad = []
for src in page.imgs:
    path = os.path.join(rdir, src)
    try:
        root = ET.parse(path).getroot()
        texts = " ".join(root.itertext())
        if not root.tag.endswith("svg"):
            bad.append(src)
        if src.startswith("goodput-") and not ("time (s)" in texts and "aggregate" in texts and "goodput (Mbit/s)" in texts):
            bad.append(src + " (labels)")
        if src.startswith("ab-") and not ("A (base)" in texts and "B (candidate)" in texts):
            bad.append(src + " (sides)")
        if src.startswith("ab-") and open(path).read().count("<polygon") < 2:
            bad.append(src + " (a box per side)")
        if not os.path.exists(path[:-4] + ".gp"):
            bad.append(src + " (no .gp)")
    except (ET.ParseError, FileNotFoundError) as e:
        bad.append("%s: %s" % (src, e))
check(not bad, "every plot exists, is well-formed SVG with its labels and its .gp beside it: %s" % bad)
check(any(s.startswith("goodput-") for s in page.imgs) and any(s.startswith("cpu-") for s in page.imgs),
      "goodput over time and CPU per core are among the plots")

# the numbers in the HTML are the database's
con = sqlite3.connect(db)
series = json.load(open(out))["series"]
vals = {side: [v for (v,) in con.execute(
    "SELECT s.value FROM samples s JOIN runs r ON r.id = s.run WHERE r.series = ? AND r.side = ? AND"
    " r.warmup = 0 AND s.valid = 1 AND s.workload = 'bulk-tcp' AND s.metric = 'goodput_mbps'", (series, side))]
    for side in ("A", "B")}
row = [r for r in page.rows if r and r[0] == "bulk-tcp.goodput_mbps"]
want = ["%.6g" % (sum(vals[s]) / len(vals[s])) for s in ("A", "B")] if all(vals.values()) else []
check(row and want and row[0][2] == want[0] and row[0][4] == want[1],
      "goodput means in the HTML are the database's: %s vs %s" % (row[:1], want))

# a check's report: the baseline's runs are the base side of its A/B plots
p = subprocess.run([MPTCPLAB, "baseline", "save", "rep", "--run", series, "--db", db],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 0, "baseline saved from side A: %s" % p.stderr.strip()[-200:])
p = subprocess.run([MPTCPLAB, "check", os.path.join(SRC, "tests/netns/short.yaml"), "--backend", "netns",
                    "--db", db, "--run-dir", tmp, "--runs", "3", "--baseline", "rep",
                    "--set", "links.0.shape.rate=15mbit", "--allow-different"], capture_output=True, text=True, timeout=600)
m = re.search(r"report in (\S+index\.html)", p.stderr)
check(p.returncode == 1 and m is not None, "check at 15 of 20 Mbit/s: exit 1 (got %d), its report printed" % p.returncode)
cidx = m.group(1) if m else ""
cpage = Page()
cpage.feed(open(cidx).read() if cidx else "")
ab = [s for s in cpage.imgs if s.startswith("ab-bulk-tcp.goodput")]
texts = " ".join(ET.parse(os.path.join(os.path.dirname(cidx), ab[0])).getroot().itertext()) if ab else ""
check("baseline" in texts and "candidate" in texts,
      "the check's A/B goodput plot shows the baseline's runs and the candidate's: %s" % ab)
crow = [r for r in cpage.rows if r and r[0] == "bulk-tcp.goodput_mbps"]
check(crow and crow[0][2] == want[0] and crow[0][3] == "%d" % len(vals["A"]) if want else False,
      "the check's report judges against the baseline's goodput (%s): %s" % (want[:1], crow[:1]))

# a real browser: no console error, no missing resource, a screenshot
chromium = shutil.which("chromium")
if not chromium:
    check(False, "chromium is installed (lab/setup)")
else:
    shot = os.path.join(rdir, "screenshot.png")
    prof = os.path.join(tmp, "chromium-profile")
    b = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--user-data-dir=" + prof, "--enable-logging=stderr", "--v=0",
                        "--window-size=1200,3000", "--screenshot=" + shot, "file://" + index],
                       capture_output=True, text=True, timeout=120)
    console = [l for l in b.stderr.splitlines() if "CONSOLE" in l or "Failed to load" in l or "ERR_FILE_NOT_FOUND" in l]
    check(os.path.exists(shot) and os.path.getsize(shot) > 10000 and not console,
          "chromium opened the report: screenshot %s (%d bytes), console errors: %s" % (
              shot, os.path.getsize(shot) if os.path.exists(shot) else 0, console[:3]))
    print("# screenshot:", shot)

check(netns_list() == before, "nothing left")
done()
