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
#include "kernel.h"
#include "kvm.h"
#include "../shared/spawn.h"
#include "../shared/util.h"

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

struct lv_node {
        virDomainPtr dom;
        char *name;  /* domain name */
        char *sock;  /* agent channel */
        char *image; /* initramfs */
        virConnectPtr conn;
        char *xml, *create_error;
        struct kernel_spec ks;
        uint64_t created_us;
        off_t scanned; /* console bytes already looked at */
        struct lab *lab;
        unsigned index;
};

struct lv {
        virConnectPtr conn;
        bool kvm, probing;
        const char *kvm_why;
        unsigned udp_base;
        struct lv_node *n;
        struct agent_conn *host; /* --links bridge: owns the bridges */
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
        const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (x && *x)
                return xasprintf("%s/mptcplab/images", x);
        return xasprintf("%s/.cache/mptcplab/images", home && *home ? home : "/var/cache");
}

static int build_image(struct lab *lab, struct lv_node *ln, char **err)
{
        _cleanup_free_ char *script = xasprintf("%s/build-image", guest_dir());
        _cleanup_free_ char *cache = cache_dir();
        /* mptcpload lives next to the agent (build tree or install) */
        _cleanup_free_ char *ml = xstrdup(lab->agent_path);
        char *slash = strrchr(ml, '/');
        _cleanup_free_ char *mlpath =
                slash ? xasprintf("%.*s/mptcpload", (int)(slash - ml), ml) : xstrdup("mptcpload");
        bool have_ml = access(mlpath, X_OK) == 0;
        char *argv[] = {script,
                        "--release",
                        ln->ks.release,
                        "--modroot",
                        ln->ks.modroot,
                        "--agent",
                        (char *)lab->agent_path,
                        "--cache",
                        cache,
                        have_ml ? "--extra" : NULL,
                        mlpath,
                        NULL};
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
        return 20000 + seed % 30000;
}

static void mac_of(unsigned link, unsigned side, char *buf, size_t len)
{
        snprintf(buf, len, "52:54:00:%02x:%02x:%02x", (link >> 8) & 0xff, link & 0xff, side + 1);
}

struct sb {
        char *s;
        size_t len;
};

_printf_(2, 3) static void sb_add(struct sb *b, const char *fmt, ...)
{
        va_list ap;
        char *piece;
        va_start(ap, fmt);
        if (vasprintf(&piece, fmt, ap) < 0)
                abort();
        va_end(ap);
        size_t n = strlen(piece);
        b->s = xreallocarray(b->s, b->len + n + 1, 1);
        memcpy(b->s + b->len, piece, n + 1);
        b->len += n;
        free(piece);
}

/* Paths in our XML come from us and the user's kernel path: escape them. */
static char *xml_escape(const char *s)
{
        struct sb b = {xstrdup(""), 0};
        for (; *s; s++)
                switch (*s) {
                case '&':
                        sb_add(&b, "&amp;");
                        break;
                case '<':
                        sb_add(&b, "&lt;");
                        break;
                case '>':
                        sb_add(&b, "&gt;");
                        break;
                case '\'':
                        sb_add(&b, "&apos;");
                        break;
                case '"':
                        sb_add(&b, "&quot;");
                        break;
                default:
                        sb_add(&b, "%c", *s);
                }
        return b.s;
}

static char *domain_xml(struct lab *lab, struct lv *lv, struct lv_node *ln)
{
        const struct topo_node *tn = lab->nodes[ln->index].tn;
        const struct topo *t = lab->t;
        struct sb b = {NULL, 0};
        _cleanup_free_ char *img = xml_escape(ln->ks.image);
        _cleanup_free_ char *initrd = xml_escape(ln->image);
        _cleanup_free_ char *con = xml_escape(lab->nodes[ln->index].console);
        _cleanup_free_ char *sock = xml_escape(ln->sock);
        sb_add(&b, "<domain type='%s'>\n  <name>%s</name>\n", lv->kvm ? "kvm" : "qemu", ln->name);
        sb_add(&b, "  <memory unit='KiB'>%llu</memory>\n  <vcpu>%u</vcpu>\n",
               (unsigned long long)(tn->memory >> 10), tn->cpus);
        sb_add(&b, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n");
        /* qboot loads a kernel sooner than SeaBIOS under TCG */
        if (access(QBOOT_ROM, R_OK) == 0)
                sb_add(&b, "    <loader readonly='yes' type='rom'>" QBOOT_ROM "</loader>\n");
        sb_add(&b, "    <kernel>%s</kernel>\n    <initrd>%s</initrd>\n", img, initrd);
        /* loglevel 5 keeps WARNINGs (KERN_WARNING) on the console; panic=-1 reboots at
         * once and on_reboot destroys the domain, so a panicked node disappears */
        sb_add(&b, "    <cmdline>console=ttyS0 loglevel=5 panic=-1 %smptcplab.node=%s mptcplab.if=",
               lv->probing ? "mptcplab.probe " : "", tn->name);
        for (unsigned i = 0; i < tn->n_ifaces; i++) {
                const struct topo_link *l = &t->links[tn->ifaces[i].link];
                unsigned side = l->end[0].node == ln->index && l->end[0].iface == i ? 0 : 1;
                char mac[32];
                mac_of((unsigned)tn->ifaces[i].link, side, mac, sizeof mac);
                sb_add(&b, "%s%s@%s", i ? "," : "", tn->ifaces[i].name, mac);
        }
        sb_add(&b, "</cmdline>\n  </os>\n");
        /* ACPI costs about 0.5 s of boot under TCG, but without it (no HPET, no PM
         * timer) the guest cannot calibrate its TSC against the PIT and calls its
         * clock unstable: timekeeping matters more in a performance lab */
        sb_add(&b, "  <features><acpi/><apic/></features>\n");
        sb_add(&b, lv->kvm ? "  <cpu mode='host-passthrough'/>\n" : "  <cpu mode='maximum'/>\n");
        sb_add(&b, "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
                   "  <on_reboot>destroy</on_reboot>\n  <on_crash>destroy</on_crash>\n"
                   "  <devices>\n    <controller type='usb' model='none'/>\n");
        sb_add(&b, "    <serial type='file'><source path='%s'/><target port='0'/></serial>\n", con);
        sb_add(&b,
               "    <console type='file'><source path='%s'/><target type='serial' "
               "port='0'/></console>\n",
               con);
        sb_add(&b,
               "    <channel type='unix'><source mode='bind' path='%s'/>"
               "<target type='virtio' name='mptcplab.agent'/></channel>\n",
               sock);
        for (unsigned i = 0; i < tn->n_ifaces && !lv->probing; i++) {
                unsigned li = (unsigned)tn->ifaces[i].link;
                const struct topo_link *l = &t->links[li];
                unsigned side = l->end[0].node == ln->index && l->end[0].iface == i ? 0 : 1;
                unsigned local = lv->udp_base + 2 * li + side,
                         remote = lv->udp_base + 2 * li + !side;
                char mac[32];
                mac_of(li, side, mac, sizeof mac);
                if (lv->bridges) {
                        /* the tap is named after the run too: mtRUNID-LINKa|b */
                        sb_add(&b,
                               "    <interface type='bridge'><mac address='%s'/>"
                               "<source bridge='%s'/><target dev='mt%s-%u%c'/>"
                               "<model type='virtio'/></interface>\n",
                               mac, lv->bridges[li], lab->run_id, li, side ? 'b' : 'a');
                        continue;
                }
                sb_add(&b,
                       "    <interface type='udp'><mac address='%s'/>"
                       "<source address='127.0.0.1' port='%u'><local address='127.0.0.1' "
                       "port='%u'/>"
                       "</source><model type='virtio'/></interface>\n",
                       mac, remote, local);
        }
        sb_add(&b, "    <memballoon model='none'/>\n    <video><model type='none'/></video>\n"
                   "  </devices>\n</domain>\n");
        return b.s;
}

/* ---- crash detection from the console ---- */

static const struct {
        const char *pattern, *what;
} crash_patterns[] = {
        {"Kernel panic", "kernel panic"},
        {"BUG:", "BUG"},
        {"Oops", "oops"},
        {"general protection fault", "general protection fault"},
        {"WARNING:", "WARNING"},
        {"Call Trace:", "call trace"},
};

/* Looks at what the console got since the last look; records the first crash. */
static bool scan_console(struct lab *lab, struct lv_node *ln)
{
        struct lab_node *n = &lab->nodes[ln->index];
        _cleanup_free_ char *text = NULL;
        size_t len;
        if (!n->console || read_file(n->console, &text, &len) < 0 || (off_t)len <= ln->scanned)
                return false;
        const char *from = text + ln->scanned;
        const char *hit = NULL, *what = NULL;
        for (unsigned i = 0; i < ELEMENTSOF(crash_patterns); i++) {
                const char *h = strstr(from, crash_patterns[i].pattern);
                if (h && (!hit || h < hit)) {
                        hit = h;
                        what = crash_patterns[i].what;
                }
        }
        if (!hit) {
                /* keep a partial last line for the next look */
                const char *nl = strrchr(from, '\n');
                if (nl)
                        ln->scanned = (off_t)(nl + 1 - text);
                return false;
        }
        if (!lab->crash.node) {
                /* the excerpt: two lines before, then up to 60 lines or 6 KiB */
                const char *start = hit;
                for (int lines = 0; start > text && lines < 3; start--)
                        if (start[-1] == '\n')
                                lines++;
                const char *end = start;
                for (int lines = 0; *end && lines < 60 && end - start < 6144; end++)
                        if (*end == '\n')
                                lines++;
                lab->crash.node = xstrdup(n->tn->name);
                lab->crash.what = xstrdup(what);
                lab->crash.trace = strndup(start, (size_t)(end - start));
        }
        ln->scanned = (off_t)len;
        return true;
}

/* One node: a crash pattern on its console, or a domain that stopped running. */
static int node_health(struct lab *lab, struct lv_node *ln, char **why)
{
        const char *name = lab->nodes[ln->index].tn->name;
        if (scan_console(lab, ln) || (lab->crash.node && streq(lab->crash.node, name))) {
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

/* /dev/kvm answering is not enough (nested set-ups pass a one-instruction test and
 * then fail in QEMU's CPU set-up or hang): boot the first node's kernel and image
 * once under KVM, and use KVM only when that VM says it came up. The answer is
 * cached per host kernel, QEMU binary and guest kernel. */
static bool kvm_boots(struct lab *lab, struct lv *lv, struct lv_node *ln, const char **why)
{
        static char reason[512];
        struct utsname u;
        struct stat st;
        uname(&u);
        if (stat("/usr/bin/qemu-system-x86_64", &st) < 0)
                st.st_mtime = 0;
        _cleanup_free_ char *dir = cache_dir();
        _cleanup_free_ char *cached = xasprintf("%s/kvm-probe-%s-%ld-%s", dir, u.release,
                                                (long)st.st_mtime, ln->ks.release);
        _cleanup_free_ char *prev = NULL;
        if (read_file(cached, &prev, NULL) == 0) {
                prev[strcspn(prev, "\n")] = 0;
                snprintf(reason, sizeof reason, "%s (cached in %s)", prev, cached);
                *why = reason;
                return streq(prev, "ok");
        }
        _cleanup_free_ char *console = xasprintf("%s/kvm-probe.console.log", lab->run_dir);
        char *saved_console = lab->nodes[ln->index].console, *saved_name = ln->name;
        lab->nodes[ln->index].console = console;
        ln->name = xasprintf("mptcplab-%s-kvmprobe", lab->run_id);
        lv->kvm = lv->probing = true;
        _cleanup_free_ char *xml = domain_xml(lab, lv, ln);
        lv->kvm = lv->probing = false;
        lab->nodes[ln->index].console = saved_console;
        free(ln->name);
        ln->name = saved_name;
        bool ok = false;
        virDomainPtr d = virDomainCreateXML(lv->conn, xml, VIR_DOMAIN_START_AUTODESTROY);
        if (!d) {
                snprintf(reason, sizeof reason, "a KVM guest does not start: %s",
                         virGetLastErrorMessage());
                reason[strcspn(reason, "\n")] = 0;
        } else {
                uint64_t until = now_usec() + 20000000;
                while (!ok && now_usec() < until) {
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
        }
        if (ok)
                snprintf(reason, sizeof reason, "ok");
        FILE *f = fopen(cached, "we");
        if (f) {
                fprintf(f, "%s\n", reason);
                fclose(f);
        }
        *why = reason;
        return ok;
}

static void *create_domain(void *arg)
{
        struct lv_node *ln = arg;
        ln->created_us = now_usec();
        ln->dom = virDomainCreateXML(ln->conn, ln->xml, VIR_DOMAIN_START_AUTODESTROY);
        if (!ln->dom)
                ln->create_error = xstrdup(virGetLastErrorMessage());
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
                if (now_usec() >= until)
                        return e;
                usleep(20000);
        }
}

/* --links bridge: a bridge per link, made and owned by an agent in the host's namespace */
static int make_bridges(struct lab *lab, struct lv *lv, char **err)
{
        /* named after the run, so that `mptcplab cleanup` knows whose bridges these are */
        _cleanup_free_ char *name = xasprintf("host-%s", lab->run_id);
        char *argv[] = {(char *)lab->agent_path, "--stdio", "--name", name, NULL};
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

static int lv_create(struct lab *lab, char **err)
{
        struct topo *t = lab->t;
        struct lv *lv = xcalloc(1, sizeof *lv);
        lab->priv = lv;
        lv->n = xcalloc(t->n_nodes, sizeof *lv->n);
        virSetErrorFunc(NULL, silence);
        if (!(lv->conn = virConnectOpen(uri_of(lab)))) {
                *err = xasprintf("cannot connect to libvirt at %s: %s", uri_of(lab),
                                 virGetLastErrorMessage());
                return -ECONNREFUSED;
        }
        lv->udp_base = pick_udp_base(2 * t->n_links, lab->run_id);
        _cleanup_free_ char *dflt = NULL;
        int r;
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
                if ((r = build_image(lab, ln, err)) < 0)
                        return r;
                ln->name = xasprintf("mptcplab-%s-%s", lab->run_id, n->tn->name);
                ln->sock = xasprintf("%s/%s.agent.sock", lab->run_dir, n->tn->name);
                n->console = xasprintf("%s/%s.console.log", lab->run_dir, n->tn->name);
                unlink(n->console);
        }
        if (bridged(lab) && (r = make_bridges(lab, lv, err)) < 0)
                return r;
        lv->kvm = kvm_usable(&lv->kvm_why) && kvm_boots(lab, lv, &lv->n[0], &lv->kvm_why);
        log_info("guests run under %s%s%s", lv->kvm ? "KVM" : "TCG (software emulation)",
                 lv->kvm ? "" : ": ", lv->kvm ? "" : lv->kvm_why);
        /* then every domain at once (libvirt connections are thread-safe), and
         * only then wait: they boot in parallel */
        pthread_t *th = xcalloc(t->n_nodes, sizeof *th);
        bool *started = xcalloc(t->n_nodes, sizeof *started);
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                ln->conn = lv->conn;
                ln->xml = domain_xml(lab, lv, ln);
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
                int fd = -1;
                if ((r = connect_agent(ln, 10000, &fd)) < 0) {
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
                r = agent_call(n->agent, "hello", NULL, 90000, &n->hello, &e);
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

static void lv_destroy(struct lab *lab)
{
        struct lv *lv = lab->priv;
        if (!lv)
                return;
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lv_node *ln = &lv->n[i];
                struct lab_node *n = &lab->nodes[i];
                /* a VM need not be put back: a short bye, then the domain goes */
                if (n->agent)
                        n->agent->health = NULL;
                n->agent = agent_conn_close(n->agent, ln->dom ? 2000 : 0);
                if (ln->dom) {
                        if (virDomainDestroy(ln->dom) < 0)
                                log_warn("node %s: cannot destroy %s: %s", n->tn->name, ln->name,
                                         virGetLastErrorMessage());
                        virDomainFree(ln->dom);
                }
                if (ln->sock)
                        unlink(ln->sock);
                free(ln->sock);
                free(ln->name);
                free(ln->image);
                free(ln->xml);
                free(ln->create_error);
                kernel_spec_clear(&ln->ks);
        }
        if (lv->conn)
                virConnectClose(lv->conn);
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

const struct backend_ops backend_libvirt = {
        .cpu_time = lv_cpu_time,
        .name = "libvirt",
        .summary = "a VM per node booting the kernel under test (KVM where it works, else TCG)",
        .preflight = lv_preflight,
        .create = lv_create,
        .destroy = lv_destroy,
};
