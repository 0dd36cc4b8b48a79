"""Two network namespaces that play machines for the ssh backend: each with
its own sshd reachable from the host over a management veth (mgmt, the host
side 10.251.N.1, the machine 10.251.N.2), cabled to each other by two veth
pairs whose ends have the machines' own names (lab0, lab1), not the
topology's. Standard library only; needs root and /usr/sbin/sshd."""
import json
import os
import socket
import subprocess
import tempfile
import time

from labtest import wait_until


def sh(*argv, check_rc=True):
    return subprocess.run(argv, capture_output=True, text=True, check=check_rc)


class NsMachines:
    MGMT = {"a": "10.251.1.", "b": "10.251.2."}

    def __init__(self, tag):
        self.tag = tag
        self.ns = {"a": tag + "a", "b": tag + "b"}
        self.dir = tempfile.mkdtemp(prefix="mptcplab-ssh-")
        os.chmod(self.dir, 0o755)
        self.sshds = []

    def nsx(self, m, *argv):
        return sh("ip", "netns", "exec", self.ns[m], *argv).stdout

    def up(self):
        """both machines, their sshds listening and their test NICs up and settled"""
        d = self.dir
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "key"))
        sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "hostkey"))
        os.rename(os.path.join(d, "key.pub"), os.path.join(d, "authorized_keys"))
        os.makedirs("/run/sshd", exist_ok=True)
        for m, ns in self.ns.items():
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            # the management NIC: a veth to the host, named mgmt on the machine
            sh("ip", "link", "add", self.tag + m + "h", "type", "veth", "peer", "name", "mgmt", "netns", ns)
            sh("ip", "addr", "add", self.MGMT[m] + "1/24", "dev", self.tag + m + "h")
            sh("ip", "link", "set", self.tag + m + "h", "up")
            sh("ip", "-n", ns, "addr", "add", self.MGMT[m] + "2/24", "dev", "mgmt")
            sh("ip", "-n", ns, "link", "set", "mgmt", "up")
            cfg = os.path.join(d, "sshd-%s.conf" % m)
            with open(cfg, "w") as f:
                f.write("Port 22\nListenAddress %s2\nHostKey %s/hostkey\nAuthorizedKeysFile %s/authorized_keys\n"
                        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\n"
                        "UsePAM no\nPidFile %s/sshd-%s.pid\n" % (self.MGMT[m], d, d, d, m))
            self.sshds.append(subprocess.Popen(["ip", "netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", cfg],
                                               stdout=subprocess.DEVNULL,
                                               stderr=open(os.path.join(d, "sshd-%s.log" % m), "w")))
        # the cables: a:lab0 - b:lab0, a:lab1 - b:lab1
        for i in (0, 1):
            sh("ip", "link", "add", "lab%d" % i, "netns", self.ns["a"], "type", "veth",
               "peer", "name", "lab%d" % i, "netns", self.ns["b"])
        # test NICs are up on a machine, with settings of its own that the run
        # must leave as it found them
        for m in self.ns:
            for i in (0, 1):
                sh("ip", "-n", self.ns[m], "link", "set", "lab%d" % i, "up")
            self.nsx(m, "sysctl", "-qw", "net.ipv4.conf.lab0.rp_filter=2")

        def reachable(m):
            with socket.socket() as so:
                so.settimeout(0.5)
                return so.connect_ex((self.MGMT[m] + "2", 22)) == 0
        ok = wait_until(lambda: reachable("a") and reachable("b"), 10)

        # carrier and IPv6 link-local addresses (DAD) come a moment after "up"
        def settled():
            s1 = {m: self.state(m) for m in self.ns}
            time.sleep(1)
            return s1 if s1 == {m: self.state(m) for m in self.ns} and "fe80" in s1["b"]["addrs"] else None
        return ok and wait_until(lambda: settled() is not None, 15)

    def state(self, m):
        """What the lab may change on a machine, seen by iproute2 and sysctl"""
        links = json.loads(self.nsx(m, "ip", "-j", "link", "show"))
        for ln in links:  # counters and timers move by themselves
            for k in ("stats64", "stats", "linkinfo"):
                ln.pop(k, None)
        return {
            "links": sorted((ln["ifname"], ln.get("operstate"), tuple(ln.get("flags", [])), ln.get("mtu"))
                            for ln in links),
            "addrs": self.nsx(m, "ip", "-br", "addr", "show"),
            # a set: a link that went down and up has its routes again, listed later
            "routes": sorted(self.nsx(m, "ip", "route", "show", "table", "all").splitlines()),
            "rules": self.nsx(m, "ip", "rule", "show"),
            "qdiscs": sorted((q["dev"], q["kind"]) for q in json.loads(self.nsx(m, "tc", "-j", "qdisc", "show"))),
            "mptcp_endpoints": self.nsx(m, "ip", "mptcp", "endpoint", "show"),
            "mptcp_limits": self.nsx(m, "ip", "mptcp", "limits", "show"),
            "sysctls": self.nsx(m, "sysctl", "net.mptcp", "net.ipv4.conf.lab0", "net.ipv4.conf.lab1",
                                "net.ipv4.tcp_congestion_control"),
        }

    def states(self):
        return {m: self.state(m) for m in self.ns}

    def inventory(self, name, client_nics="{eth0: {name: lab0}, eth1: {name: lab1}}",
                  server_nics="{eth0: {name: lab0}, eth1: {name: lab1}}"):
        path = os.path.join(self.dir, name)
        opts = ("[-i, %s/key, -o, StrictHostKeyChecking=no, -o, UserKnownHostsFile=/dev/null, -o, LogLevel=ERROR]"
                % self.dir)
        with open(path, "w") as f:
            f.write("machines:\n"
                    "  box-a: {ssh: root@%s2, options: %s}\n"
                    "  box-b: {ssh: root@%s2, options: %s}\n"
                    "nodes:\n"
                    "  client: {machine: box-a, interfaces: %s}\n"
                    "  server: {machine: box-b, interfaces: %s}\n"
                    % (self.MGMT["a"], opts, self.MGMT["b"], opts, client_nics, server_nics))
        return path

    def down(self):
        for p in self.sshds:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        for m in self.ns:
            subprocess.run(["ip", "link", "del", self.tag + m + "h"], capture_output=True)
