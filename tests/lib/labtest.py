"""Helpers for mptcplab's Python test suites: drive an agent over stdio,
run the controller, ask the kernel (through iproute2, an independent
observer) what is really there. Standard library only."""
import json
import os
import subprocess
import sys
import time

BUILD = os.environ.get("MPTCPLAB_BUILD", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SRC = os.environ.get("MPTCPLAB_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
AGENT = os.path.join(BUILD, "mptcplab-agent")
MPTCPLAB = os.path.join(BUILD, "mptcplab")

SKIP = 77
failures = 0

# Tests never touch the user's data: every suite gets its own results
# database, run directories and host lock, in a directory of its own that
# goes when the test ends (kept when it fails, for a look).
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

PRIVATE = tempfile.mkdtemp(prefix="mptcplab-test-")
os.chmod(PRIVATE, 0o711)  # QEMU (another user) reaches the run directories below
os.environ["XDG_DATA_HOME"] = os.path.join(PRIVATE, "data")
os.environ["MPTCPLAB_LOCK_DIR"] = PRIVATE
atexit.register(lambda: failures or shutil.rmtree(PRIVATE, ignore_errors=True))


def check(cond, what):
    global failures
    if cond:
        print("ok -", what)
    else:
        failures += 1
        print("not ok -", what)
    return cond


def done():
    print("%d failure(s)" % failures)
    sys.exit(1 if failures else 0)


def need_root():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces)")
        sys.exit(SKIP)


class Agent:
    def __init__(self, *args):
        self.p = subprocess.Popen([AGENT, "--stdio", *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        self.next_id = 1

    def raw(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def call(self, op, **args):
        rid = self.next_id
        self.next_id += 1
        rep = self.raw(json.dumps({"v": 1, "id": rid, "op": op, "args": args}))
        assert rep["id"] == rid, rep
        return rep

    def ok(self, op, **args):
        rep = self.call(op, **args)
        if not rep["ok"]:
            raise AssertionError("%s %s: %s" % (op, args, rep["error"]))
        return rep["result"]

    def close(self, timeout=10):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        return self.p.wait(timeout)


def ip_json(ns, *args):
    out = subprocess.run(["ip", "-n", ns, "-j", *args], check=True, capture_output=True,
                         text=True, timeout=10).stdout
    return json.loads(out) if out.strip() else []


def tc_json(ns, *args):
    out = subprocess.run(["tc", "-n", ns, "-j", *args], check=True, capture_output=True,
                         text=True, timeout=10).stdout
    return json.loads(out) if out.strip() else []


def netns_list():
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def run_lab(*args, timeout=300, **kw):
    return subprocess.run([MPTCPLAB, *args], capture_output=True, text=True, timeout=timeout, **kw)


def wait_until(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


class Postgres:
    """A throwaway PostgreSQL server for a test: initdb in a private directory
    (as the postgres user: the server refuses root), listening only on a unix
    socket there, stopped at exit. .uri is what --db takes."""

    def __init__(self, name="mptcplab"):
        import glob
        import pwd
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise RuntimeError("PostgreSQL's server is not installed (lab/setup installs it)")
        self.bin = os.path.dirname(bins[-1])
        pw = pwd.getpwnam("postgres")
        self.dir = tempfile.mkdtemp(prefix="pg-", dir=PRIVATE)
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        as_pg = ["runuser", "-u", "postgres", "--"]
        subprocess.run(as_pg + [os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust",
                                "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True, timeout=120)
        opts = "-k %s -c listen_addresses='' -c fsync=off" % self.dir
        subprocess.run(as_pg + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-o", opts, "-w",
                                "-t", "60", "-l", os.path.join(self.dir, "log"), "start"],
                       check=True, capture_output=True, timeout=120)
        atexit.register(self.stop)
        # meson stops a test that runs out of time with SIGTERM: exit through
        # atexit, so that the server does not outlive the test
        import signal
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        self.uri = "postgresql:///%s?host=%s&user=postgres" % (name, self.dir)
        subprocess.run(["psql", "-X", "-q", "-d", "postgresql:///postgres?host=%s&user=postgres" % self.dir,
                        "-c", "CREATE DATABASE %s" % name], check=True, capture_output=True, timeout=60)

    def sql(self, query):
        """Rows of a query, each a tuple of text (psql's unaligned output)."""
        p = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-d", self.uri, "-c", query],
                           check=True, capture_output=True, text=True, timeout=60)
        return [tuple(line.split("\t")) for line in p.stdout.splitlines()]

    def stop(self):
        if self.data and os.path.isdir(self.data):
            subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(self.bin, "pg_ctl"), "-D",
                            self.data, "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)
            self.data = None
