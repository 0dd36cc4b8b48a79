/* libvirt.c - the VM backend: one transient libvirt domain per node, booting
 * the kernel under test directly (no disk) with a generated initramfs that
 * holds that kernel's modules, the lab's userland and the agent. Domains are
 * started with VIR_DOMAIN_START_AUTODESTROY, so libvirtd destroys them when
 * our connection goes away, whatever killed us. Links are udp point-to-point
 * NICs (no host set-up), or with --links bridge a host bridge per link holding
 * the two VMs' taps: the bridges are made by an agent of ours in the host's
 * namespace, which removes them when it exits, also when we die (SIGTERM on
 * our death). The agent speaks over a virtio-serial channel whose host end is
 * a unix socket in the run's directory, next to the console log. */
#include "backend.h"
#include "insnpage.h"
#include "kernel.h"
#include "kvm.h"
#include "lvremote.h"
#include "../nl/nl.h"
#include "../shared/limits.h"
#include "../shared/owner.h"
#include "../shared/spawn.h"
#include "../shared/util.h"

#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>

#ifndef MPTCPLAB_GUEST_DIR
#define MPTCPLAB_GUEST_DIR "lab/guest"
#endif

#define QBOOT_ROM "/usr/share/qemu/qboot.rom"

/* A hypervisor the run uses: the run's URI, and any a node names with uri:. */
struct lv_hv {
        char *uri;
        virConnectPtr conn;
        char *host;                 /* the host the URI names; "" for this one */
        bool remote;                /* files go by upload, console and agent by streams */
        char addr[INET_ADDRSTRLEN]; /* remote: where its VMs' udp links are */
        bool kvm, kvm_decided;
        const char *kvm_why;
};

struct lv_node {
        virDomainPtr dom;
        struct lv_hv *hv;
        char *kernel_path, *initrd_path; /* what QEMU opens: a copy it can read, or uploaded */
        struct lvr_pump *cons, *chan;    /* remote: console and agent streams */
        int chan_fd;
        char *name;  /* domain name */
        char *sock;  /* agent channel */
        char *image; /* initramfs */
        char *xml, *create_error;
        struct kernel_spec ks;
        uint64_t created_us;
        off_t scanned;         /* console bytes already looked at */
        bool counting;         /* TCG here: the plugin counts its instructions */
        struct insn_page insn; /* when counting */
        struct lab *lab;
        unsigned index;
};

struct lv {
        struct lv_hv *hv; /* [0]: the run's URI */
        unsigned n_hv;
        bool probing;
        unsigned udp_base;
        struct lv_node *n;
        struct agent_conn *host; /* --links bridge: owns the bridges */
        char *plugin;            /* the instruction counter, where QEMU reads it */
        char **bridges;          /* per link, --links bridge */
};

static bool bridged(const struct lab *lab)
{
        return lab->link_mode && streq(lab->link_mode, "bridge");
}

static void silence(void *user, virErrorPtr e)
{
        /* errors are fetched with virGetLastErrorMessage() and reported once */
}

static const char *uri_of(struct lab *lab)
{
        if (lab->uri)
                return lab->uri;
        const char *env = getenv("MPTCPLAB_LIBVIRT_URI");
        return env && *env ? env : "qemu:///system";
}

static int lv_preflight(struct lab *lab, char **why)
{
        virSetErrorFunc(NULL, silence);
        virConnectPtr c = virConnectOpen(uri_of(lab));
        if (!c) {
                *why = xasprintf("cannot connect to libvirt at %s: %s (is libvirtd running? "
                                 "lab/setup-libvirt starts it)",
                                 uri_of(lab), virGetLastErrorMessage());
                return -ECONNREFUSED;
        }
        virConnectClose(c);
        return 0;
}

static const char *guest_dir(void)
{
        const char *env = getenv("MPTCPLAB_GUEST_DIR");
        return env && *env ? env : MPTCPLAB_GUEST_DIR;
}

static char *cache_dir(void)
{
        return lab_cache_path("images");
}

/* Can any user read path (every directory on the way open to others)? */
static bool world_readable(const char *path)
{
        _cleanup_free_ char *p = realpath(path, NULL);
        struct stat st;
        if (!p || stat(p, &st) < 0 || !(st.st_mode & S_IROTH))
                return false;
        for (char *slash = strrchr(p, '/'); slash && slash != p; slash = strrchr(p, '/')) {
                *slash = 0;
                if (stat(p, &st) < 0 || !(st.st_mode & S_IXOTH))
                        return false;
        }
        return true;
}

/* QEMU runs as libvirt-qemu: a file it could not read where it lies (a kernel
 * of a build tree under /root, the plugin of a build directory) is copied into
 * the cache directory SUB, by path, size and mtime, as PREFIX-HASH. *ret: the
 * path QEMU opens (malloc'd). */
static int stage_for_qemu(const char *src, const char *sub, const char *prefix, char **ret,
                          char **err)
{
        if (world_readable(src)) {
                *ret = xstrdup(src);
                return 0;
        }
        struct stat st;
        if (stat(src, &st) < 0) {
                *err = xasprintf("%s: %s", src, strerror(errno));
                return -errno;
        }
        uint64_t h = 1469598103934665603ULL;
        _cleanup_free_ char *id =
                xasprintf("%s %lld %lld", src, (long long)st.st_size, (long long)st.st_mtime);
        for (const char *c = id; *c; c++)
                h = (h ^ (unsigned char)*c) * 1099511628211ULL;
        _cleanup_free_ char *dir = lab_cache_path(sub);
        int r = mkdir_p(dir);
        char *dst = xasprintf("%s/%s-%016llx", dir, prefix, (unsigned long long)h);
        if (r == 0 && access(dst, R_OK) != 0) {
                _cleanup_free_ char *tmp = xasprintf("%s.%d.tmp", dst, (int)getpid());
                char *argv[] = {"cp", "--", (char *)src, tmp, NULL};
                int status = 0;
                r = spawn_run(argv, 60000, NULL, NULL, &status);
                if (r == 0 && (status || chmod(tmp, 0644) < 0 || rename(tmp, dst) < 0))
                        r = -EIO;
                if (r < 0)
                        unlink(tmp);
        }
        if (r < 0) {
                *err = xasprintf("cannot copy %s to %s, where QEMU can read it: %s", src, dir,
                                 strerror(-r));
                free(dst);
                return r;
        }
        *ret = dst;
        return 0;
}

static int stage_kernel(struct lab *lab, struct lv_node *ln, char **err)
{
        if (world_readable(ln->ks.image))
                return 0;
        _cleanup_free_ char *prefix = xasprintf("vmlinuz-%s", ln->ks.release);
        char *e = NULL;
        int r = stage_for_qemu(ln->ks.image, "kernels", prefix, &ln->kernel_path, &e);
        if (r < 0) {
                *err = xasprintf("kernel image: %s", e);
                free(e);
        }
        return r;
}

static int build_image(struct lab *lab, struct lv_node *ln, char **err)
{
        _cleanup_free_ char *script = xasprintf("%s/build-image", guest_dir());
        _cleanup_free_ char *cache = cache_dir();
        /* mptcpload lives next to the agent (build tree or install) */
        _cleanup_free_ char *mlpath = lab_beside_agent(lab, "mptcpload");
        bool have_ml = access(mlpath, X_OK) == 0;
        char *argv[16];
        unsigned k = 0;
        argv[k++] = script;
        argv[k++] = "--release";
        argv[k++] = ln->ks.release;
        if (ln->ks.modroot) { /* none: everything the lab needs is built in */
                argv[k++] = "--modroot";
                argv[k++] = ln->ks.modroot;
        }
        argv[k++] = "--agent";
        argv[k++] = (char *)lab->agent_path;
        argv[k++] = "--cache";
        argv[k++] = cache;
        if (have_ml) {
                argv[k++] = "--extra";
                argv[k++] = mlpath;
        }
        argv[k] = NULL;
        char *out = NULL, *errout = NULL;
        int st = 0;
        int r = spawn_run(argv, 120000, &out, &errout, &st);
        if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                *err = xasprintf("node %s: building the guest image for %s failed: %s%s",
                                 lab->nodes[ln->index].tn->name, ln->ks.release,
                                 r < 0 ? strerror(-r) : "", errout ? errout : "");
                free(out);
                free(errout);
                return r < 0 ? r : -EIO;
        }
        out[strcspn(out, "\n")] = 0;
        ln->image = out;
        if (errout && *errout) {
                errout[strcspn(errout, "\n")] = 0;
                log_info("%s", errout);
        }
        free(errout);
        return 0;
}

/* UDP ports for the links: two per link, all free on 127.0.0.1 right now. */
static unsigned pick_udp_base(unsigned need, const char *run_id)
{
        unsigned seed = (unsigned)strtoul(run_id, NULL, 16);
        for (unsigned attempt = 0; attempt < 50; attempt++) {
                unsigned base = 20000 + (seed + attempt * 7919) % 30000;
                bool ok = true;
                for (unsigned p = base; p < base + need && ok; p++) {
                        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                        struct sockaddr_in sa = {.sin_family = AF_INET,
                                                 .sin_port = htons((uint16_t)p),
                                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                        ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
                        if (fd >= 0)
                                close(fd);
                }
                if (ok)
                        return base;
        }
        return 0;
}

static void mac_of(unsigned link, unsigned side, char *buf, size_t len)
{
        snprintf(buf, len, "52:54:00:%02x:%02x:%02x", (link >> 8) & 0xff, link & 0xff, side + 1);
}

/* Paths in our XML come from us and the user's kernel path: escape them. */
static char *xml_escape(const char *s)
{
        struct strbuf b = {0};
        strbuf_printf(&b, "%s", "");
        for (; *s; s++)
                switch (*s) {
                case '&':
                        strbuf_printf(&b, "&amp;");
                        break;
                case '<':
                        strbuf_printf(&b, "&lt;");
                        break;
                case '>':
                        strbuf_printf(&b, "&gt;");
                        break;
                case '\'':
                        strbuf_printf(&b, "&apos;");
                        break;
                case '"':
                        strbuf_printf(&b, "&quot;");
                        break;
                default:
                        strbuf_printf(&b, "%c", *s);
                }
        return b.s;
}

/* Where a node's end of a udp link lives: 127.0.0.1 between VMs of this host,
 * else the address of the node's hypervisor host as its peer reaches it. */
static void udp_addr(const struct lv_node *me, const struct lv_node *peer,
                     char buf[INET_ADDRSTRLEN])
{
        strcpy(buf, "127.0.0.1");
        if (me->hv == peer->hv && !me->hv->remote)
                return;
        if (me->hv->remote)
                snprintf(buf, INET_ADDRSTRLEN, "%s", me->hv->addr);
        else if (lvr_addr_towards(peer->hv->addr, buf, INET_ADDRSTRLEN) < 0)
                strcpy(buf, "0.0.0.0");
}

static char *domain_xml(struct lab *lab, struct lv *lv, struct lv_node *ln)
{
        const struct topo_node *tn = lab->nodes[ln->index].tn;
        const struct topo *t = lab->t;
        struct strbuf b = {0};
        bool remote = ln->hv->remote, kvm = ln->hv->kvm;
        _cleanup_free_ char *img = xml_escape(ln->kernel_path ? ln->kernel_path : ln->ks.image);
        _cleanup_free_ char *initrd = xml_escape(remote ? ln->initrd_path : ln->image);
        _cleanup_free_ char *con = xml_escape(lab->nodes[ln->index].console);
        _cleanup_free_ char *sock = xml_escape(ln->sock);
        strbuf_printf(&b, "<domain type='%s'%s>\n  <name>%s</name>\n", kvm ? "kvm" : "qemu",
                      ln->counting ? " xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'"
                                   : "",
                      ln->name);
        strbuf_printf(&b, "  <memory unit='KiB'>%llu</memory>\n  <vcpu>%u</vcpu>\n",
                      (unsigned long long)(tn->memory >> 10), tn->cpus);
        strbuf_printf(&b, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n");
        /* qboot loads a kernel sooner than SeaBIOS under TCG */
        if (access(QBOOT_ROM, R_OK) == 0)
                strbuf_printf(&b, "    <loader readonly='yes' type='rom'>" QBOOT_ROM "</loader>\n");
        strbuf_printf(&b, "    <kernel>%s</kernel>\n    <initrd>%s</initrd>\n", img, initrd);
        /* loglevel 5 keeps WARNINGs (KERN_WARNING) on the console; panic=-1 reboots at
         * once and on_reboot destroys the domain, so a panicked node disappears.
         * Boot-only switches, nothing a measurement sees: no BIOS EDD probe, no
         * crypto self-tests at algorithm registration, no PS/2 mouse or PnP
         * probe: under TCG the agent answers 1.4 s sooner (5.4 -> 4.0 s) */
        strbuf_printf(&b,
                      "    <cmdline>console=ttyS0 loglevel=5 panic=-1 edd=off cryptomgr.notests "
                      "i8042.noaux i8042.nopnp %smptcplab.node=%s mptcplab.if=",
                      lv->probing ? "mptcplab.probe " : "", tn->name);
        for (unsigned i = 0; i < tn->n_ifaces; i++) {
                const struct topo_link *l = &t->links[tn->ifaces[i].link];
                unsigned side = l->end[0].node == ln->index && l->end[0].iface == i ? 0 : 1;
                char mac[32];
                mac_of((unsigned)tn->ifaces[i].link, side, mac, sizeof mac);
                strbuf_printf(&b, "%s%s@%s", i ? "," : "", tn->ifaces[i].name, mac);
        }
        strbuf_printf(&b, "</cmdline>\n  </os>\n");
        /* ACPI costs about 0.5 s of boot under TCG, but without it (no HPET, no PM
         * timer) the guest cannot calibrate its TSC against the PIT and calls its
         * clock unstable: timekeeping matters more in a performance lab */
        /* a KVM guest gets the host's PMU: hardware cycles (cycles_per_byte) */
        strbuf_printf(&b, kvm ? "  <features><acpi/><apic/><pmu state='on'/></features>\n"
                              : "  <features><acpi/><apic/></features>\n");
        strbuf_printf(&b, kvm ? "  <cpu mode='host-passthrough'/>\n" : "  <cpu mode='maximum'/>\n");
        strbuf_printf(&b, "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
                          "  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n"
                          "  <devices>\n    <controller type='usb' model='none'/>\n");
        if (remote) {
                /* on another host: console and channel come to us as libvirt streams */
                strbuf_printf(&b,
                              "    <serial type='pty'><target port='0'/></serial>\n"
                              "    <console type='pty'><target type='serial' port='0'/></console>\n"
                              "    <channel type='unix'><source mode='bind'/>"
                              "<target type='virtio' name='mptcplab.agent'/></channel>\n");
        } else {
                strbuf_printf(
                        &b,
                        "    <serial type='file'><source path='%s'/><target port='0'/></serial>\n",
                        con);
                strbuf_printf(&b,
                              "    <console type='file'><source path='%s'/><target type='serial' "
                              "port='0'/></console>\n",
                              con);
                strbuf_printf(&b,
                              "    <channel type='unix'><source mode='bind' path='%s'/>"
                              "<target type='virtio' name='mptcplab.agent'/></channel>\n",
                              sock);
        }
        for (unsigned i = 0; i < tn->n_ifaces && !lv->probing; i++) {
                unsigned li = (unsigned)tn->ifaces[i].link;
                const struct topo_link *l = &t->links[li];
                unsigned side = l->end[0].node == ln->index && l->end[0].iface == i ? 0 : 1;
                unsigned lport = lv->udp_base + 2 * li + side,
                         rport = lv->udp_base + 2 * li + !side;
                char mac[32];
                mac_of(li, side, mac, sizeof mac);
                if (lv->bridges) {
                        /* the tap is named after the run too: mtRUNID-LINKa|b */
                        strbuf_printf(&b,
                                      "    <interface type='bridge'><mac address='%s'/>"
                                      "<source bridge='%s'/><target dev='mt%s-%u%c'/>"
                                      "<model type='virtio'/></interface>\n",
                                      mac, lv->bridges[li], lab->run_id, li, side ? 'b' : 'a');
                        continue;
                }
                const struct lv_node *peer = &lv->n[l->end[!side].node];
                char here[INET_ADDRSTRLEN], there[INET_ADDRSTRLEN];
                udp_addr(ln, peer, here);
                udp_addr(peer, ln, there);
                strbuf_printf(&b,
                              "    <interface type='udp'><mac address='%s'/>"
                              "<source address='%s' port='%u'><local address='%s' "
                              "port='%u'/>"
                              "</source><model type='virtio'/></interface>\n",
                              mac, there, rport, here, lport);
        }
        strbuf_printf(&b,
                      "    <memballoon model='none'/>\n    <video><model type='none'/></video>\n"
                      "  </devices>\n");
        if (ln->counting) {
                /* QEMU's own option: libvirt has no element for TCG plugins */
                _cleanup_free_ char *arg = xasprintf("%s,page=%s", lv->plugin, ln->insn.path);
                _cleanup_free_ char *x = xml_escape(arg);
                strbuf_printf(&b,
                              "  <qemu:commandline><qemu:arg value='-plugin'/>"
                              "<qemu:arg value='%s'/></qemu:commandline>\n",
                              x);
        }
        strbuf_printf(&b, "</domain>\n");
        return b.s;
}

/* ---- crash detection from the console ---- */

/* Looks at what the console got since the last look (never the whole file
 * again: a chatty guest costs us only its new bytes); records the first crash.
 * Returns 1 on a crash, -EFBIG when the console passed its cap, else 0. */
static int scan_console(struct lab *lab, struct lv_node *ln)
{
        struct lab_node *n = &lab->nodes[ln->index];
        if (!n->console)
                return 0;
        _cleanup_close_ int fd = open(n->console, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return 0;
        if (st.st_size < ln->scanned) /* rotated by virtlogd: a new file */
                ln->scanned = 0;
        if (st.st_size > LIM_CONSOLE_BYTES)
                return -EFBIG;
        if (st.st_size <= ln->scanned)
                return 0;
        /* a little of what came before, for the lines above a crash */
        off_t from_off = ln->scanned > 8192 ? ln->scanned - 8192 : 0;
        size_t len = (size_t)(st.st_size - from_off);
        if (len > (8u << 20))
                len = 8u << 20;
        _cleanup_free_ char *text = xcalloc(1, len + 1);
        ssize_t got = pread(fd, text, len, from_off);
        if (got <= 0)
                return 0;
        len = (size_t)got;
        text[len] = 0;
        for (size_t i = 0; i < len; i++) /* a NUL from the guest would end strstr early */
                if (!text[i])
                        text[i] = ' ';
        const char *from = text + (ln->scanned - from_off);
        const char *what = NULL, *hit = crash_find(text, from, &what);
        if (!hit) {
                /* keep a partial last line for the next look */
                const char *nl = strrchr(from, '\n');
                if (nl)
                        ln->scanned = from_off + (off_t)(nl + 1 - text);
                return 0;
        }
        crash_record(lab, n->tn->name, what, text, hit);
        ln->scanned = from_off + (off_t)len;
        return 1;
}

/* One node: a crash pattern on its console, or a domain that stopped running. */
static int node_health(struct lab *lab, struct lv_node *ln, char **why)
{
        const char *name = lab->nodes[ln->index].tn->name;
        int sc = scan_console(lab, ln);
        if (sc == -EFBIG) {
                *why = xasprintf("node %s: its console passed %d MiB (%s): a guest that "
                                 "floods its console is stopped before it fills the disk",
                                 name, LIM_CONSOLE_BYTES >> 20, lab->nodes[ln->index].console);
                return -EFBIG;
        }
        if (sc > 0 || (lab->crash.node && streq(lab->crash.node, name))) {
                *why = xasprintf("node %s: %s on its console", lab->crash.node, lab->crash.what);
                return -EHOSTDOWN;
        }
        int state = 0, reason = 0;
        if (!ln->dom)
                return 0;
        if (virDomainGetState(ln->dom, &state, &reason, 0) < 0 || state != VIR_DOMAIN_RUNNING) {
                scan_console(lab, ln);
                if (!lab->crash.node) {
                        lab->crash.node = xstrdup(name);
                        lab->crash.what = xstrdup("domain died");
                        lab->crash.trace = xstrdup("");
                }
                *why = xasprintf("node %s: its VM is not running any more (%s)", name,
                                 lab->crash.what);
                return -EHOSTDOWN;
        }
        return 0;
}

/* Asked while any agent call waits: every node, since the one that dies is often
 * not the one being waited for (a crashed server stalls the client's iperf3). */
static int lv_health(void *user, char **why)
{
        struct lv_node *me = user;
        struct lab *lab = me->lab;
        struct lv *lv = lab->priv;
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                int r = node_health(lab, &lv->n[i], why);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Starts a node's domain. On another host it starts paused, gets its console
 * stream (so that nothing of the boot is missed) and its agent channel, then
 * runs. */
static int start_domain(struct lv_node *ln, const char *xml, virDomainPtr *ret, char **err)
{
        struct lab *lab = ln->lab;
        struct lv_hv *hv = ln->hv;
        unsigned flags = VIR_DOMAIN_START_AUTODESTROY | (hv->remote ? VIR_DOMAIN_START_PAUSED : 0);
        virDomainPtr d = virDomainCreateXML(hv->conn, xml, flags);
        if (!d) {
                *err = xstrdup(virGetLastErrorMessage());
                return -EIO;
        }
        if (hv->remote) {
                char *e = NULL;
                int r = lvr_console_to_file(hv->conn, d, lab->nodes[ln->index].console, &ln->cons,
                                            &e);
                if (r == 0 && !((struct lv *)lab->priv)->probing)
                        r = lvr_channel_fd(hv->conn, d, "mptcplab.agent", &ln->chan_fd, &ln->chan,
                                           &e);
                if (r == 0 && virDomainResume(d) < 0) {
                        e = xasprintf("cannot resume it: %s", virGetLastErrorMessage());
                        r = -EIO;
                }
                if (r < 0) {
                        *err = e;
                        virDomainDestroy(d);
                        virDomainFree(d);
                        ln->cons = lvr_pump_stop(ln->cons);
                        ln->chan = lvr_pump_stop(ln->chan);
                        return r;
                }
        }
        *ret = d;
        return 0;
}

/* /dev/kvm answering is not enough (nested set-ups pass a one-instruction test and
 * then fail in QEMU's CPU set-up or hang): boot a node's kernel and image once
 * under KVM on its hypervisor, and use KVM there only when that VM says it came
 * up. The answer is cached per hypervisor (host kernel and QEMU binary here,
 * host name and libvirt's hypervisor version elsewhere) and guest kernel. */
static bool kvm_boots(struct lab *lab, struct lv *lv, struct lv_node *ln, const char **why)
{
        static char reason[512];
        struct lv_hv *hv = ln->hv;
        _cleanup_free_ char *dir = cache_dir();
        _cleanup_free_ char *cached = NULL;
        if (hv->remote) {
                unsigned long ver = 0;
                virConnectGetVersion(hv->conn, &ver);
                cached = xasprintf("%s/kvm-probe-remote-%s-%lu-%s", dir, hv->host, ver,
                                   ln->ks.release);
        } else {
                struct utsname u;
                struct stat st;
                uname(&u);
                if (stat("/usr/bin/qemu-system-x86_64", &st) < 0)
                        st.st_mtime = 0;
                cached = xasprintf("%s/kvm-probe-%s-%ld-%s", dir, u.release, (long)st.st_mtime,
                                   ln->ks.release);
        }
        _cleanup_free_ char *prev = NULL;
        if (read_file(cached, &prev, NULL) == 0) {
                prev[strcspn(prev, "\n")] = 0;
                snprintf(reason, sizeof reason, "%s (cached in %s)", prev, cached);
                *why = reason;
                return streq(prev, "ok");
        }
        _cleanup_free_ char *console = xasprintf("%s/kvm-probe%s%s.console.log", lab->run_dir,
                                                 hv->remote ? "-" : "", hv->host);
        char *saved_console = lab->nodes[ln->index].console, *saved_name = ln->name;
        lab->nodes[ln->index].console = console;
        ln->name = xasprintf("mptcplab-%s-kvmprobe", lab->run_id);
        hv->kvm = lv->probing = true;
        _cleanup_free_ char *xml = domain_xml(lab, lv, ln);
        hv->kvm = false;
        bool ok = false;
        virDomainPtr d = NULL;
        char *e = NULL;
        if (start_domain(ln, xml, &d, &e) < 0) {
                snprintf(reason, sizeof reason, "a KVM guest does not start: %s", e);
                reason[strcspn(reason, "\n")] = 0;
                free(e);
        } else {
                uint64_t until = now_usec() + 20000000;
                while (!ok && now_usec() < until && !spawn_interrupted) {
                        _cleanup_free_ char *text = NULL;
                        ok = read_file(console, &text, NULL) == 0 &&
                             strstr(text, "mptcplab: probe ok");
                        if (!ok)
                                usleep(100000);
                }
                if (!ok)
                        snprintf(reason, sizeof reason,
                                 "a KVM guest did not come up within 20 s (console: %s)", console);
                virDomainDestroy(d); /* already gone when it powered off */
                virDomainFree(d);
                ln->cons = lvr_pump_stop(ln->cons);
        }
        lv->probing = false;
        lab->nodes[ln->index].console = saved_console;
        free(ln->name);
        ln->name = saved_name;
        if (spawn_interrupted && !ok) { /* ^C: no answer to remember */
                *why = "interrupted";
                return false;
        }
        if (ok)
                snprintf(reason, sizeof reason, "ok");
        /* a permission problem is the host's set-up, not KVM's answer: said, not kept */
        if (strstr(reason, "Could not access KVM kernel module")) {
                log_warn("QEMU (as libvirt's qemu user) cannot open /dev/kvm: add that user to "
                         "/dev/kvm's group (lab/setup-libvirt does) and restart libvirtd");
                *why = reason;
                return false;
        }
        FILE *f = fopen(cached, "we");
        if (f) {
                fprintf(f, "%s\n", reason);
                fclose(f);
        }
        *why = reason;
        return ok;
}

/* Under TCG here, the plugin counts each VM's guest instructions
 * (insns_per_byte); nobody counts them under KVM or on another host. */
static int start_counting(struct lab *lab, struct lv *lv, char **err)
{
        bool any = false;
        for (unsigned i = 0; i < lab->t->n_nodes; i++)
                any |= !lv->n[i].hv->remote && !lv->n[i].hv->kvm;
        if (!any)
                return 0;
        const char *why = NULL;
        _cleanup_free_ char *so = lab_beside_agent(lab, "mptcplab-insncount.so");
        _cleanup_free_ char *found = insnpage_plugin(so, "qemu-system-x86_64", &why);
        char *e = NULL;
        if (!found) {
                log_info("no guest instruction counts (insns_per_byte): %s", why);
                return 0;
        }
        if (stage_for_qemu(found, "plugins", "mptcplab-insncount.so", &lv->plugin, &e) < 0 ||
            strchr(lv->plugin, ',')) {
                log_warn("no guest instruction counts (insns_per_byte): %s",
                         e ? e : "a comma in the plugin's path");
                free(e);
                return 0;
        }
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                if (ln->hv->remote || ln->hv->kvm)
                        continue;
                int r = insnpage_make(&ln->insn, ln->name, &e);
                if (r < 0) {
                        *err = xasprintf("node %s: %s", lab->nodes[i].tn->name, e);
                        free(e);
                        return r;
                }
                ln->counting = true;
        }
        return 0;
}

static void *create_domain(void *arg)
{
        struct lv_node *ln = arg;
        ln->created_us = now_usec();
        if (start_domain(ln, ln->xml, &ln->dom, &ln->create_error) < 0)
                ln->dom = NULL;
        /* QEMU has loaded its plugins before libvirt answers */
        else if (ln->counting && insnpage_attached(&ln->insn, &ln->create_error) < 0)
                ln->counting = false;
        return NULL;
}

static int connect_agent(struct lv_node *ln, int timeout_ms, int *ret_fd)
{
        uint64_t until = now_usec() + (uint64_t)timeout_ms * 1000;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(ln->sock) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, ln->sock);
        for (;;) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
                        *ret_fd = fd;
                        return 0;
                }
                int e = -errno;
                close(fd);
                if (spawn_interrupted)
                        return -EINTR;
                if (now_usec() >= until)
                        return e;
                usleep(20000);
        }
}

/* --links bridge: a bridge per link, made and owned by an agent in the host's namespace */
static int make_bridges(struct lab *lab, struct lv *lv, char **err)
{
        /* the bridges are named after the run, and the agent holds the run's
         * bridge owner lock, so that `mptcplab cleanup` knows they are in use */
        _cleanup_free_ char *name = xasprintf("host-%s", lab->run_id);
        _cleanup_free_ char *owner = xasprintf("bridges-%s", lab->run_id);
        char *argv[] = {(char *)lab->agent_path, "--stdio", "--name", name, "--owner", owner, NULL};
        int r = agent_conn_spawn("host", argv, &lv->host);
        if (r < 0) {
                *err = xasprintf("host: cannot start the agent %s for the link bridges: %s",
                                 lab->agent_path, strerror(-r));
                return r;
        }
        lv->bridges = xcalloc(lab->t->n_links, sizeof *lv->bridges);
        for (unsigned i = 0; i < lab->t->n_links; i++) {
                lv->bridges[i] = xasprintf("mb%s-%u", lab->run_id, i);
                char *e = NULL;
                struct json_object *res = NULL;
                r = agent_call(lv->host, "bridge_add",
                               agent_args("name", json_object_new_string(lv->bridges[i]), NULL),
                               10000, &res, &e);
                json_object_put(res);
                if (r < 0) {
                        *err = xasprintf("link %u: cannot make the host bridge %s: %s", i + 1,
                                         lv->bridges[i], e);
                        free(e);
                        return r;
                }
        }
        log_info("links: a host bridge per link (%s...)", lv->bridges[0]);
        return 0;
}

/* The hypervisor of a URI, connected on first use. Returns its index in lv->hv. */
static int hv_open(struct lv *lv, const char *uri, const char *node, char **err)
{
        for (unsigned i = 0; i < lv->n_hv; i++)
                if (streq(lv->hv[i].uri, uri))
                        return (int)i;
        struct lv_hv *hv = &lv->hv[lv->n_hv];
        *hv = (struct lv_hv){.uri = xstrdup(uri), .host = lvr_uri_host(uri)};
        lv->n_hv++;
        hv->remote = *hv->host != 0;
        _cleanup_free_ char *who = node ? xasprintf("node %s: ", node) : xstrdup("");
        if (hv->remote && lvr_resolve4(hv->host, hv->addr, sizeof hv->addr) < 0) {
                *err = xasprintf("%scannot resolve %s (of %s) to an IPv4 address", who, hv->host,
                                 uri);
                return -EHOSTUNREACH;
        }
        if (!(hv->conn = virConnectOpen(uri))) {
                *err = xasprintf("%scannot connect to libvirt at %s: %s", who, uri,
                                 virGetLastErrorMessage());
                return -ECONNREFUSED;
        }
        /* a hypervisor host that vanishes is noticed within ~15 s */
        if (hv->remote && virConnectSetKeepAlive(hv->conn, 5, 3) < 0)
                log_debug("%s: no keepalive: %s", uri, virGetLastErrorMessage());
        return (int)(lv->n_hv - 1);
}

static int lv_create(struct lab *lab, char **err)
{
        struct topo *t = lab->t;
        struct lv *lv = xcalloc(1, sizeof *lv);
        lab->priv = lv;
        lv->n = xcalloc(t->n_nodes, sizeof *lv->n);
        lv->hv = xcalloc(t->n_nodes + 1, sizeof *lv->hv);
        virSetErrorFunc(NULL, silence);
        lvr_event_loop_start();
        int r;
        if ((r = hv_open(lv, uri_of(lab), NULL, err)) < 0)
                return r;
        for (unsigned i = 0; i < t->n_nodes; i++)
                if ((r = hv_open(lv, t->nodes[i].uri ? t->nodes[i].uri : uri_of(lab),
                                 t->nodes[i].name, err)) < 0)
                        return r;
                else
                        lv->n[i].hv = &lv->hv[r];
        if (bridged(lab))
                for (unsigned i = 0; i < t->n_nodes; i++)
                        if (lv->n[i].hv->remote) {
                                *err = xasprintf("--links bridge needs every node on this host; "
                                                 "node %s is on %s",
                                                 t->nodes[i].name, lv->n[i].hv->uri);
                                lab->input_error = true;
                                return -EINVAL;
                        }
        _cleanup_free_ char *dflt = NULL;
        /* kernels and images first: a bad kernel fails before any VM exists */
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                struct lab_node *n = &lab->nodes[i];
                ln->lab = lab;
                ln->index = i;
                const char *spec = n->tn->kernel ? n->tn->kernel
                                   : lab->kernel ? lab->kernel
                                                 : t->kernel;
                if (!spec) {
                        if (!dflt && !(dflt = kernel_default_release())) {
                                *err = xasprintf(
                                        "no kernel given (--kernel) and no Debian cloud "
                                        "kernel in /boot (apt install linux-image-cloud-amd64)");
                                lab->input_error = true;
                                return -ENOENT;
                        }
                        spec = dflt;
                }
                if ((r = kernel_resolve(spec, &ln->ks, err)) < 0) {
                        char *e = xasprintf("node %s: %s", n->tn->name, *err);
                        free(*err);
                        *err = e;
                        lab->input_error = true;
                        return r;
                }
                n->kernel = xstrdup(spec);
                n->kernel_id = kernel_identity_json(&ln->ks);
                /* what this topology needs of the kernel, before anything boots */
                struct kernel_missing miss[16];
                int nm = kernel_check(&ln->ks, t, miss, ELEMENTSOF(miss));
                if (nm > 0) {
                        _cleanup_free_ char *what = kernel_missing_text(miss, (unsigned)nm);
                        *err = xasprintf("node %s: kernel %s (%s) lacks what %s needs: %s (see "
                                         "mptcplab kernel check)",
                                         n->tn->name, spec, ln->ks.release, t->file, what);
                        for (int k = 0; k < nm; k++)
                                free(miss[k].have);
                        return -EOPNOTSUPP;
                }
                n->hypervisor = xstrdup(ln->hv->uri);
                if ((r = build_image(lab, ln, err)) < 0 ||
                    (!ln->hv->remote && (r = stage_kernel(lab, ln, err)) < 0))
                        return r;
                char *e = NULL;
                if (ln->hv->remote &&
                    ((r = lvr_upload(ln->hv->conn, ln->ks.image, &ln->kernel_path, &e)) < 0 ||
                     (r = lvr_upload(ln->hv->conn, ln->image, &ln->initrd_path, &e)) < 0)) {
                        *err = xasprintf("node %s: %s (on %s)", n->tn->name, e, ln->hv->uri);
                        free(e);
                        return r;
                }
                ln->name = xasprintf("mptcplab-%s-%s", lab->run_id, n->tn->name);
                ln->sock = xasprintf("%s/%s.agent.sock", lab->run_dir, n->tn->name);
                n->console = xasprintf("%s/%s.console.log", lab->run_dir, n->tn->name);
                unlink(n->console);
        }
        if (bridged(lab) && (r = make_bridges(lab, lv, err)) < 0)
                return r;
        /* KVM or TCG, per hypervisor, probed with the first node it runs */
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lv_hv *hv = lv->n[i].hv;
                if (hv->kvm_decided)
                        continue;
                hv->kvm_decided = true;
                if (hv->remote) {
                        char *caps = virConnectGetCapabilities(hv->conn);
                        hv->kvm = caps && strstr(caps, "<domain type='kvm'");
                        hv->kvm_why = "its libvirt offers no KVM domains";
                        free(caps);
                } else
                        hv->kvm = kvm_usable(&hv->kvm_why);
                hv->kvm = hv->kvm && kvm_boots(lab, lv, &lv->n[i], &hv->kvm_why);
                log_info("guests %s%s run under %s%s%s", hv->remote ? "on " : "here", hv->host,
                         hv->kvm ? "KVM" : "TCG (software emulation)", hv->kvm ? "" : ": ",
                         hv->kvm ? "" : hv->kvm_why);
        }
        if (spawn_interrupted) {
                *err = xstrdup("interrupted");
                return -EINTR;
        }
        if ((r = start_counting(lab, lv, err)) < 0)
                return r;
        /* the udp ports last, right before QEMU binds them: the window in which
         * another program could take one is the domains' start, not the image
         * build and the KVM probe (review C3) */
        if (!bridged(lab) && !(lv->udp_base = pick_udp_base(2 * t->n_links, lab->run_id))) {
                *err = xasprintf("no run of %u free udp ports on this host (20000-50000)",
                                 2 * t->n_links);
                return -EADDRINUSE;
        }
        /* then every domain at once (libvirt connections are thread-safe), and
         * only then wait: they boot in parallel */
        pthread_t *th = xcalloc(t->n_nodes, sizeof *th);
        bool *started = xcalloc(t->n_nodes, sizeof *started);
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                ln->xml = domain_xml(lab, lv, ln);
                lab->nodes[i].accel = ln->hv->kvm ? "kvm" : "tcg";
                _cleanup_free_ char *xml_path =
                        xasprintf("%s/%s.xml", lab->run_dir, lab->nodes[i].tn->name);
                FILE *f = fopen(xml_path, "we");
                if (f) {
                        fputs(ln->xml, f);
                        fclose(f);
                }
                log_debug("node %s: creating its domain at %.2fs", lab->nodes[i].tn->name,
                          (double)(now_usec() - lab->t0) / 1e6);
                started[i] = pthread_create(&th[i], NULL, create_domain, ln) == 0;
                if (!started[i])
                        create_domain(ln);
        }
        for (unsigned i = 0; i < t->n_nodes; i++)
                if (started[i])
                        pthread_join(th[i], NULL);
        free(th);
        free(started);
        for (unsigned i = 0; i < t->n_nodes; i++)
                if (lv->n[i].create_error) {
                        *err = xasprintf(
                                "node %s: cannot start its VM: %s (domain XML in %s/%s.xml)",
                                lab->nodes[i].tn->name, lv->n[i].create_error, lab->run_dir,
                                lab->nodes[i].tn->name);
                        return -EIO;
                }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                struct lab_node *n = &lab->nodes[i];
                int fd = ln->chan ? ln->chan_fd : -1;
                if (!ln->chan && (r = connect_agent(ln, 10000, &fd)) < 0) {
                        *err = xasprintf("node %s: cannot connect to the agent channel %s: %s",
                                         n->tn->name, ln->sock, strerror(-r));
                        return r;
                }
                log_debug("node %s: agent channel connected at %.2fs", n->tn->name,
                          (double)(now_usec() - lab->t0) / 1e6);
                agent_conn_fds(n->tn->name, fd, fd, &n->agent);
                n->agent->health = lv_health;
                n->agent->health_user = ln;
                char *e = NULL;
                /* TCG boots in about 3 s on two cores; 90 s is silence, not slowness */
                r = agent_hello(n->agent, 90000, 5000, &n->hello, &e);
                if (r < 0) {
                        *err = xasprintf("node %s: no answer from the agent while booting: %s "
                                         "(console: %s)",
                                         n->tn->name, e, n->console);
                        free(e);
                        return r;
                }
                n->ready_s = (double)(now_usec() - lab->t0) / 1e6;
                const char *kr = jstr(n->hello, "kernel");
                if (kr && !streq(kr, ln->ks.release))
                        log_warn("node %s: booted %s, expected %s", n->tn->name, kr,
                                 ln->ks.release);
        }
        return 0;
}

/* libvirt's destroy of a TCG guest takes 2 s (SIGTERM, then it waits for
 * QEMU): every domain at once, as they were created */
static void *destroy_domain(void *arg)
{
        struct lv_node *ln = arg;
        if (virDomainDestroy(ln->dom) < 0)
                log_warn("node %s: cannot destroy %s: %s", ln->lab->nodes[ln->index].tn->name,
                         ln->name, virGetLastErrorMessage());
        virDomainFree(ln->dom);
        ln->dom = NULL;
        return NULL;
}

static void lv_destroy(struct lab *lab)
{
        struct lv *lv = lab->priv;
        if (!lv)
                return;
        pthread_t *th = xcalloc(lab->t->n_nodes, sizeof *th);
        bool *started = xcalloc(lab->t->n_nodes, sizeof *started);
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                struct lab_node *n = &lab->nodes[i];
                /* a VM need not be put back: no bye (its agent would revert
                 * every qdisc and address, 1-2 s under TCG), the domain goes */
                if (n->agent)
                        n->agent->health = NULL;
                n->agent = agent_conn_close(n->agent, 0);
                if (ln->dom &&
                    !(started[i] = pthread_create(&th[i], NULL, destroy_domain, ln) == 0))
                        destroy_domain(ln);
        }
        for (unsigned i = 0; i < lab->t->n_nodes; i++)
                if (started[i])
                        pthread_join(th[i], NULL);
        free(th);
        free(started);
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                ln->cons = lvr_pump_stop(ln->cons);
                ln->chan = lvr_pump_stop(ln->chan);
                free(ln->kernel_path);
                free(ln->initrd_path);
                if (ln->sock)
                        unlink(ln->sock);
                free(ln->sock);
                free(ln->name);
                free(ln->image);
                free(ln->xml);
                free(ln->create_error);
                kernel_spec_clear(&ln->ks);
                if (ln->insn.path) /* after its domain: QEMU no longer counts */
                        insnpage_close(&ln->insn);
        }
        lvr_pumps_wait(2000);
        for (unsigned i = 0; i < lv->n_hv; i++) {
                if (lv->hv[i].conn)
                        virConnectClose(lv->hv[i].conn);
                free(lv->hv[i].uri);
                free(lv->hv[i].host);
        }
        free(lv->hv);
        free(lv->plugin);
        /* the taps left with their domains; bye makes the host agent remove the bridges */
        lv->host = agent_conn_close(lv->host, 5000);
        for (unsigned i = 0; lv->bridges && i < lab->t->n_links; i++)
                free(lv->bridges[i]);
        free(lv->bridges);
        free(lv->n);
        free(lv);
        lab->priv = NULL;
}

static int lv_cpu_time(struct lab *lab, unsigned node, uint64_t *ret_ns)
{
        struct lv *lv = lab->priv;
        virDomainInfo info;
        if (!lv || !lv->n[node].dom || virDomainGetInfo(lv->n[node].dom, &info) < 0)
                return -EIO;
        *ret_ns = info.cpuTime;
        return 0;
}

static int lv_insns(struct lab *lab, unsigned node, uint64_t *ret)
{
        struct lv *lv = lab->priv;
        if (!lv || !lv->n[node].counting)
                return -ENODATA;
        return insnpage_read(&lv->n[node].insn, ret);
}

struct stale {
        char **names;
        unsigned n;
};

/* mbRUNID-N: a link bridge of a VM run, stale when nobody holds that run's
 * bridge owner lock (its host agent is gone) */
static void stale_bridge(const char *name, const struct nlr_link_info *info, void *user)
{
        struct stale *s = user;
        if (strncmp(name, "mb", 2) || strlen(name) < 12 || name[10] != '-' ||
            strspn(name + 2, "0123456789abcdef") != 8)
                return;
        _cleanup_free_ char *owner = xasprintf("bridges-%.8s", name + 2);
        if (owner_held(owner) > 0)
                return;
        s->names = xreallocarray(s->names, s->n + 1, sizeof *s->names);
        s->names[s->n++] = xstrdup(name);
}

static void lv_cleanup(unsigned *removed, unsigned *failed)
{
        struct nlr *nl = NULL;
        struct stale s = {NULL, 0};
        if (nlr_open(&nl) == 0)
                nlr_link_foreach(nl, stale_bridge, &s);
        for (unsigned i = 0; i < s.n; i++) {
                int r = nlr_link_del(nl, s.names[i]);
                if (r < 0) {
                        log_error("cannot remove the bridge %s: %s", s.names[i], strerror(-r));
                        (*failed)++;
                } else {
                        log_info("removed stale link bridge %s", s.names[i]);
                        (*removed)++;
                }
                free(s.names[i]);
        }
        free(s.names);
        nlr_close(nl);
        insnpage_sweep(removed, failed);
}

static char *lv_describe(const struct lab *lab, unsigned node)
{
        const struct lab_node *n = &lab->nodes[node];
        return xasprintf("VM mptcplab-%s-%s (%s, %s)", lab->run_id, n->tn->name,
                         n->hypervisor ?: "?", n->accel ?: "?");
}

static const char *lv_link_kind(const struct lab *lab)
{
        return lab->link_mode ? lab->link_mode : "udp";
}

/* the console log is already a file of the run's directory */
static char *lv_collect_log(struct lab *lab, unsigned node)
{
        const char *c = lab->nodes[node].console;
        return c && access(c, F_OK) == 0 ? xstrdup(c) : NULL;
}

/* A kept lab's VMs stopped while another lab measures: QEMU's virtual clock
 * stops with them, so their guests see no time pass (no watchdog fires) */
static int lv_pause(struct lab *lab, bool pause, char **err)
{
        struct lv *lv = lab->priv;
        for (unsigned i = 0; lv && i < lab->t->n_nodes; i++) {
                virDomainPtr d = lv->n[i].dom;
                if (d && (pause ? virDomainSuspend(d) : virDomainResume(d)) < 0) {
                        *err = xasprintf("node %s: cannot %s its VM %s: %s", lab->t->nodes[i].name,
                                         pause ? "pause" : "resume", lv->n[i].name,
                                         virGetLastErrorMessage());
                        return -EIO;
                }
        }
        return 0;
}

static const char *const lv_link_modes[] = {"udp", "bridge", NULL};

const struct backend_ops backend_libvirt = {
        .describe = lv_describe,
        .link_kind = lv_link_kind,
        .link_modes = lv_link_modes,
        .collect_log = lv_collect_log,
        .cpu_time = lv_cpu_time,
        .insns = lv_insns,
        .name = "libvirt",
        .summary = "a VM per node booting the kernel under test (KVM where it works, else TCG)",
        .preflight = lv_preflight,
        .create = lv_create,
        .destroy = lv_destroy,
        .cleanup = lv_cleanup,
        .reusable = true,
        .pause = lv_pause,
};
