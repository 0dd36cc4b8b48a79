"""The command line as a person meets it: every verb answers --help with its
own usage and exit 0, and the usage, the --help texts and the man page come
from one table (so a verb in one is in all)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import BUILD, MPTCPLAB, check, done  # noqa: E402

top = subprocess.run([MPTCPLAB, "--help"], capture_output=True, text=True)
verbs = re.findall(r"^  (\w+)\s", top.stdout, re.M)
check(top.returncode == 0 and len(verbs) >= 10, "mptcplab --help lists %d verbs" % len(verbs))
for v in verbs:
    for flag in ("--help", "-h"):
        p = subprocess.run([MPTCPLAB, v, flag], capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.startswith("usage: mptcplab %s" % v) and "exit codes" in p.stdout,
              "mptcplab %s %s: its own usage, exit 0" % (v, flag))
p = subprocess.run([MPTCPLAB, "compare", "topologies/x.yaml", "--help"], capture_output=True, text=True)
check(p.returncode == 0 and "--kernel-a" in p.stdout, "--help after other arguments still helps")
man = os.path.join(BUILD, "mptcplab.1")
text = open(man).read() if os.path.exists(man) else ""
check(text.startswith(".TH MPTCPLAB 1") and all(".B %s " % v in text for v in verbs),
      "the man page (built by meson) has every verb")
# options go anywhere (issue 23): `changes --db X ack 1 --note N` reaches the
# store (which has no change point 1) instead of printing the usage line
import tempfile  # noqa: E402
with tempfile.TemporaryDirectory() as d:
    db = os.path.join(d, "r.db")
    for args in (["--db", db, "ack", "1", "--note", "n"], ["ack", "1", "--note", "n", "--db", db],
                 ["ack", "--db", db, "1", "--note", "n"]):
        p = subprocess.run([MPTCPLAB, "changes", *args], capture_output=True, text=True)
        check(p.returncode == 2 and "no change point 1 in %s" % db in p.stderr and "usage:" not in p.stderr,
              "changes %s: the store is asked (%s)" % (" ".join(args), p.stderr.strip()[-120:]))
    p = subprocess.run([MPTCPLAB, "changes", "--db", db, "--frobnicate"], capture_output=True, text=True)
    check(p.returncode == 2 and 'unknown option "--frobnicate"' in p.stderr, "an unknown option is named")
    p = subprocess.run([MPTCPLAB, "changes", "--db", db, "ack", "1", "2", "--note", "n"], capture_output=True, text=True)
    check(p.returncode == 2 and 'unexpected argument "2"' in p.stderr, "an argument too many is named")
p = subprocess.run([MPTCPLAB, "nosuch"], capture_output=True, text=True)
check(p.returncode == 2 and "unknown verb" in p.stderr, "an unknown verb: exit 2")
done()
