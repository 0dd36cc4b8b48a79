"""The agent's protocol, without privileges: framing, versioning, argument
validation, jobs with captured output and deadlines."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from labtest import Agent, check, done  # noqa: E402

a = Agent("--name", "proto")
hello = a.ok("hello")
check(hello["protocol"] == 1 and hello["node"] == "proto", "hello names protocol 1 and the node")
check(hello["kernel"] == os.uname().release, "hello reports this kernel's release")

rep = a.raw("this is not json")
check(not rep["ok"] and rep["id"] == -1 and rep["error"]["errno"] == "EINVAL", "garbage gets EINVAL")
rep = a.raw(json.dumps({"v": 1, "op": "hello"}))
check(not rep["ok"] and "id" in rep["error"]["message"], "a request without id is refused")
rep = a.raw(json.dumps({"v": 9, "id": 50, "op": "hello"}))
check(rep["id"] == 50 and rep["error"]["errno"] == "EPROTO", "wrong protocol version: EPROTO, tagged")
# review A5: every argument validated, nothing cut or rounded on the way
rep = a.raw('{"v":1.0,"id":52,"op":"hello"}')
check(rep["error"]["errno"] == "EPROTO" and "1.0" in rep["error"]["message"], "\"v\":1.0 is named as it was sent")
rep = a.raw('{"v":1,"id":18446744073709551615,"op":"hello"}')
check(not rep["ok"] and rep["id"] == -1, "an id beyond int64 is refused, not echoed as INT64_MAX")
rep = a.raw('{"v":1,"id":53,"op":"spawn","args":{"argv":["true\\u0000x"],"timeout_ms":1000}}')
check(rep["id"] == 53 and rep["error"]["errno"] == "EINVAL" and "NUL" in rep["error"]["message"],
      "a string with \\u0000 is refused, not cut")
rep = a.raw('{"v":1,"id":54,"op":"qdisc_set","args":{"dev":"lo","loss_pct":NaN}}')
check(rep["id"] == 54 and rep["error"]["errno"] == "EINVAL", "loss_pct NaN is refused (it reset the qdisc)")
rep = a.call("route_add", dst="10.1.0.0/16", via="not-an-address")
check(rep["error"]["errno"] == "EINVAL" and "via" in rep["error"]["message"], "via is validated like dst")
rep = a.call("format_disk")
check(rep["error"]["errno"] == "ENOSYS", "unknown operation: ENOSYS")
rep = a.raw(json.dumps({"v": 1, "id": 51, "op": "link_get", "args": [1, 2]}))
check(rep["error"]["errno"] == "EINVAL" and "args" in rep["error"]["message"], "args must be an object")

rep = a.call("addr_add", dev="eth0")
check(rep["error"]["errno"] == "EINVAL" and '"addr"' in rep["error"]["message"], "missing argument named")
rep = a.call("addr_add", dev="eth0", addr="10.0.0.300/24")
check(rep["error"]["errno"] == "EINVAL", "bad address refused before netlink")
rep = a.call("link_set", dev="a/b", up=True)
check(rep["error"]["errno"] == "EINVAL", "interface name with '/' refused")
rep = a.call("link_set", dev="x" * 16, up=True)
check(rep["error"]["errno"] == "EINVAL", "interface name of 16 characters refused")
rep = a.call("mptcp_limits", subflows=9)
check(not rep["ok"], "mptcp subflows limit 9 refused")
rep = a.call("mptcp_endpoint_add", addr="10.0.0.1", flags=["turbo"])
check(not rep["ok"], "unknown endpoint flag refused")
rep = a.call("qdisc_set", dev="lo", jitter_us=100)
check(rep["error"]["errno"] == "EINVAL" and "jitter" in rep["error"]["message"], "jitter without delay refused")
rep = a.call("qdisc_set", dev="lo", loss_pct=120.0)
check(rep["error"]["errno"] == "EINVAL", "loss above 100% refused")
rep = a.call("sysctl_get", key="../../etc/shadow")
check(rep["error"]["errno"] == "EINVAL", "sysctl key with .. refused")
rep = a.call("sysctl_set", key="net.ipv4.ip_forward", value="1\n0")
check(rep["error"]["errno"] == "EINVAL", "multi-line sysctl value refused")
r = a.ok("sysctl_get", key="kernel.ostype")
check(r["value"] == "Linux", "sysctl_get reads /proc/sys")

rep = a.call("spawn", argv=["true"])
check(rep["error"]["errno"] == "EINVAL" and "timeout_ms" in rep["error"]["message"], "a job without a deadline is refused")
rep = a.call("spawn", argv=[], timeout_ms=1000)
check(rep["error"]["errno"] == "EINVAL", "empty argv refused")
rep = a.call("spawn", argv=["/nonexistent/program"], timeout_ms=1000)
check(rep["error"]["errno"] == "ENOENT", "missing program: ENOENT at spawn")

# issue 23: mptcpload beside the agent (a build directory, the guest image) is
# found with PATH not naming that directory, by hello and by spawn alike
saved = os.environ["PATH"]
os.environ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin"
b = Agent("--name", "beside")
os.environ["PATH"] = saved
check(b.ok("hello")["mptcpload"] is True, "hello finds mptcpload beside the agent, off PATH")
j = b.ok("spawn", argv=["mptcpload", "--help"], timeout_ms=5000)["job"]
r = b.ok("wait", job=j)
check(r["exit_code"] == 0 and "mptcpload client" in r["stdout"] + r["stderr"],
      "spawn runs the mptcpload beside the agent: %s" % (r["stdout"] + r["stderr"])[:80])
b.close()

# argv is passed as is: no shell sees the semicolon
j = a.ok("spawn", argv=["echo", "a; rm -rf /", "$HOME"], timeout_ms=5000)["job"]
r = a.ok("wait", job=j)
check(r["exit_code"] == 0 and r["stdout"] == "a; rm -rf / $HOME\n", "argv reaches the program untouched")

j = a.ok("spawn", argv=["sh", "-c", "echo out; echo err >&2; exit 3"], timeout_ms=5000)["job"]
r = a.ok("wait", job=j)
check(r["exit_code"] == 3 and r["stdout"] == "out\n" and r["stderr"] == "err\n", "exit code, stdout and stderr captured")

t0 = time.monotonic()
j = a.ok("spawn", argv=["sleep", "30"], timeout_ms=300)["job"]
r = a.ok("wait", job=j)
took = time.monotonic() - t0
# SIGTERM first; PID 1 of a PID namespace ignores it without a handler, so SIGKILL 2 s later
check(r["timed_out"] and r.get("signal") in (9, 15) and took < 5, "a job past its deadline is stopped (%.1fs)" % took)

j = a.ok("spawn", argv=["sh", "-c", "sleep 30 & sleep 30"], timeout_ms=60000)["job"]
a.ok("kill", job=j)
r = a.ok("wait", job=j)
check("signal" in r or r.get("exit_code") == 143, "kill stops a job")
rep = a.call("wait", job=999)
check(rep["error"]["errno"] == "ESRCH", "waiting for an unknown job: ESRCH")

# A job whose child leaves its session (a daemon) must neither hold the agent
# nor outlive the job (review A2, L1): 24 s of sleep behind a 0.3 s job.
mark = "mptcplab-escape-%d" % os.getpid()
t0 = time.monotonic()
j = a.ok("spawn", argv=["sh", "-c", "setsid sh -c 'sleep 24' %s & sleep 0.3; echo started" % mark],
         timeout_ms=30000)["job"]
r = a.ok("wait", job=j)
took = time.monotonic() - t0
check(r["exit_code"] == 0 and r["stdout"] == "started\n" and took < 3,
      "a job whose child left its session is answered when it ends (%.1fs)" % took)
t0 = time.monotonic()
a.ok("hello")
check(time.monotonic() - t0 < 1, "the agent answers right after such a job")
if os.geteuid() == 0:
    left = [p for p in os.listdir("/proc") if p.isdigit()
            and mark.encode() in open("/proc/%s/cmdline" % p, "rb").read()] if True else []
    check(not left, "nothing the job started outlives it (%d left)" % len(left))

# Every running job is polled: past the limit a spawn is refused, never lost (A3)
jobs = []
while True:
    rep = a.call("spawn", argv=["sleep", "30"], timeout_ms=60000)
    if not rep["ok"]:
        break
    jobs.append(rep["result"]["job"])
check(len(jobs) == 64 and rep["error"]["errno"] == "EAGAIN",
      "the 65th running job is refused with EAGAIN (%d ran)" % len(jobs))
for j in jobs:
    a.ok("kill", job=j)
for j in jobs:
    a.ok("wait", job=j)
j = a.ok("spawn", argv=["true"], timeout_ms=5000)["job"]
check(a.ok("wait", job=j)["exit_code"] == 0, "jobs start again once the others ended")

# review A7: waiting for a port (or a link) does not stop the agent answering
t0 = time.monotonic()
a.p.stdin.write(json.dumps({"v": 1, "id": 700, "op": "wait_listen", "args": {"port": 1, "timeout_ms": 2000}}) + "\n")
a.p.stdin.write(json.dumps({"v": 1, "id": 701, "op": "hello"}) + "\n")
a.p.stdin.flush()
first = json.loads(a.p.stdout.readline())
t_first = time.monotonic() - t0
second = json.loads(a.p.stdout.readline())
t_second = time.monotonic() - t0
check(first["id"] == 701 and t_first < 1, "hello answered at once while wait_listen waits (%.2fs)" % t_first)
check(second["id"] == 700 and second["error"]["errno"] == "ETIMEDOUT" and 1.9 < t_second < 4,
      "wait_listen times out on its own deadline (%.2fs)" % t_second)

# a wait still pending when the client says bye is answered, not dropped
j = a.ok("spawn", argv=["sleep", "30"], timeout_ms=60000)["job"]
a.p.stdin.write(json.dumps({"v": 1, "id": 900, "op": "wait", "args": {"job": j}}) + "\n")
a.p.stdin.write(json.dumps({"v": 1, "id": 901, "op": "bye"}) + "\n")
a.p.stdin.flush()
got = [json.loads(a.p.stdout.readline()) for _ in range(2)]
check(sorted(g["id"] for g in got) == [900, 901], "pending wait answered at bye")
check(a.close() == 0, "agent exits 0 after bye")

# Review A1: a line without end is cut at 16 MiB (the connection closes, the
# agent ends), and each byte is scanned once (64 MiB took 1 s, 256 MiB 15.8 s).
b = Agent("--name", "flood")
t0 = time.monotonic()
chunk = "x" * (1 << 20)
try:
    for _ in range(64):
        b.p.stdin.write(chunk)
    b.p.stdin.flush()
except BrokenPipeError:
    pass
rc = b.p.wait(20)
took = time.monotonic() - t0
check(rc != 0 and took < 10, "a 64 MiB line without a newline closes the agent (%.1fs, exit %d)" % (took, rc))
# many requests in one write: every one answered, in order
c = Agent("--name", "batch")
c.p.stdin.write("".join(json.dumps({"v": 1, "id": i, "op": "hello"}) + "\n" for i in range(1, 2001)))
c.p.stdin.flush()
ids = [json.loads(c.p.stdout.readline())["id"] for _ in range(2000)]
check(ids == list(range(1, 2001)), "2000 pipelined requests answered in order")
# a long but legal line (1 MiB of argv, in pieces exec takes) is read whole
rep = c.call("spawn", argv=["true"] + ["y" * 100000] * 10, timeout_ms=5000)
check(rep["ok"] and c.ok("wait", job=rep["result"]["job"])["exit_code"] == 0,
      "a 1 MiB request line is taken")
c.close()
# path events: what may be scheduled is checked before anything is taken;
# items run at their instant and say when; a reset cancels what is not due
a = Agent("--name", "events")
rep = a.call("schedule", items=[{"in_us": 0, "op": "spawn", "args": {"argv": ["true"]}}])
check(rep["error"]["errno"] == "EINVAL" and "link_set" in rep["error"]["message"],
      "a job cannot be scheduled: only link, qdisc, endpoint and address changes")
rep = a.call("schedule", items=[{"in_us": -5, "op": "link_set", "args": {"dev": "nodev0", "up": False}}])
check(rep["error"]["errno"] == "EINVAL" and "in_us" in rep["error"]["message"], "a negative offset is refused")
rep = a.call("schedule", items=[{"at_us": 1, "op": "link_set", "args": {"dev": "nodev0", "up": False}}])
check(rep["error"]["errno"] == "EINVAL" and "at_us" in rep["error"]["message"],
      "an instant far from this node's clock is refused")
r = a.ok("schedule", items=[{"in_us": 100000, "op": "link_set", "args": {"dev": "nodev0", "up": False}},
                            {"in_us": 200000, "op": "link_set", "args": {"dev": "nodev1", "up": False}},
                            {"in_us": 60000000, "op": "link_set", "args": {"dev": "nodev2", "up": False}}])
time.sleep(0.5)
rep = a.ok("schedule_report")
it = rep["items"]
check(len(it) == 3 and it[0]["asked_us"] == 100000 and it[1]["asked_us"] == 200000,
      "the report gives each item as asked")
late = [x["applied_us"] - x["asked_us"] for x in it[:2]]
print("# scheduled items applied %s us after their instants" % late)
check(all(0 <= x < 5000 for x in late), "each applied within 5 ms of its instant")
check("nodev0" in (it[0]["error"] or "") and it[2]["applied_us"] is None and "cancelled" in it[2]["error"],
      "each says its error; the one not yet due is cancelled")
a.ok("schedule", items=[{"in_us": 300000, "op": "link_set", "args": {"dev": "nodev3", "up": False}}])
a.ok("reset")
time.sleep(0.5)
check(a.ok("schedule_report")["items"] == [], "a reset drops what was scheduled, before it is due")
rep = a.call("pm_events")
check(rep["error"]["errno"] == "ENOENT", "pm_events without pm_listen says so")
a.close()

done()
