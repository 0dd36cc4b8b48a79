#include "kernel.h"
#include "kimage.h"
#include "../shared/util.h"

#include "../shared/spawn.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

void kernel_spec_clear(struct kernel_spec *k)
{
        free(k->image);
        free(k->modroot);
        free(k->release);
        free(k->config);
        free(k->tree);
        free(k->sha256);
        free(k->build_id);
        free(k->commit);
        *k = (struct kernel_spec){0};
}

static bool file_has_line(const char *path, const char *needle)
{
        _cleanup_free_ char *t = NULL;
        if (read_file(path, &t, NULL) < 0)
                return false;
        return strstr(t, needle) != NULL;
}

/* A module is there if modules.dep or modules.builtin lists it. */
static bool has_module(const char *moddir, const char *ko)
{
        _cleanup_free_ char *dep = xasprintf("%s/modules.dep", moddir);
        _cleanup_free_ char *bi = xasprintf("%s/modules.builtin", moddir);
        _cleanup_free_ char *needle = xasprintf("/%s", ko);
        return file_has_line(dep, needle) || file_has_line(bi, needle);
}

/* What needs a kernel option: every guest of the lab, or a topology's feature. */
enum need { NEED_GUEST, NEED_RATE, NEED_NETEM, NEED_IPV6, NEED_MPTCP_IPV6, NEED_POLICY };

static const struct kreq {
        const char *option;
        const char *module; /* may be a module (the guest image loads it), else NULL */
        const char *feature;
        enum need need;
} reqs[] = {
        {"CONFIG_BLK_DEV_INITRD", NULL, "the guest image is an initramfs", NEED_GUEST},
        {"CONFIG_DEVTMPFS", NULL, "the guest's /init mounts devtmpfs", NEED_GUEST},
        {"CONFIG_TMPFS", NULL, "the guest's /tmp and /run", NEED_GUEST},
        {"CONFIG_BINFMT_SCRIPT", NULL, "the guest's /init is a shell script", NEED_GUEST},
        {"CONFIG_SERIAL_8250_CONSOLE", NULL, "the console the lab reads crashes from", NEED_GUEST},
        {"CONFIG_ACPI", NULL,
         "the guest's PCI interrupt routing (without it virtio finds no IRQ under QEMU)",
         NEED_GUEST},
        {"CONFIG_PCI_MSI", NULL, "virtio-pci's interrupts (MSI-X)", NEED_GUEST},
        {"CONFIG_VIRTIO_PCI", "virtio_pci.ko", "the VM's virtio devices", NEED_GUEST},
        {"CONFIG_VIRTIO_NET", "virtio_net.ko", "the VM's NICs", NEED_GUEST},
        {"CONFIG_VIRTIO_CONSOLE", "virtio_console.ko", "the agent's virtio-serial port",
         NEED_GUEST},
        {"CONFIG_INET", NULL, "TCP/IP", NEED_GUEST},
        {"CONFIG_MPTCP", NULL, "MPTCP", NEED_GUEST},
        {"CONFIG_NET_NS", NULL,
         "the agent's qdisc probe (it tries each qdisc in a throwaway network namespace)",
         NEED_GUEST},
        {"CONFIG_NET_SCH_TBF", "sch_tbf.ko", "a link's rate without delay (tbf)", NEED_RATE},
        {"CONFIG_NET_SCH_NETEM", "sch_netem.ko", "a link's delay, jitter or loss (netem)",
         NEED_NETEM},
        {"CONFIG_IPV6", NULL, "IPv6 addresses", NEED_IPV6},
        {"CONFIG_MPTCP_IPV6", NULL, "MPTCP over IPv6", NEED_MPTCP_IPV6},
        {"CONFIG_IP_MULTIPLE_TABLES", NULL,
         "policy routing: a host with several addressed interfaces gets a rule per address",
         NEED_POLICY},
};

/* A config's value of an option: 'y', 'm', or 0 (not set or absent). */
static char config_value(const char *text, const char *option)
{
        size_t n = strlen(option);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (!strncmp(p, option, n) && p[n] == '=')
                        return p[n + 1] == 'y' || p[n + 1] == 'm' ? p[n + 1] : 0;
        return 0;
}

static bool topo_needs(const struct topo *t, enum need need)
{
        if (need == NEED_GUEST)
                return true;
        if (!t)
                return false;
        bool v6 = false, mptcp = false, policy = false;
        for (unsigned i = 0; i < t->n_links; i++)
                for (unsigned s = 0; s < 2; s++) {
                        const struct topo_shape *sh = &t->links[i].shape[s];
                        if (need == NEED_NETEM && topo_shape_needs_netem(sh))
                                return true;
                        if (need == NEED_RATE && sh->set && sh->rate_bps &&
                            !topo_shape_needs_netem(sh))
                                return true;
                }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                const struct topo_node *n = &t->nodes[i];
                unsigned addressed = 0;
                mptcp |= n->mptcp.n_endpoints > 0;
                for (unsigned k = 0; k < n->n_ifaces; k++) {
                        addressed += n->ifaces[k].n_addrs > 0;
                        for (unsigned a = 0; a < n->ifaces[k].n_addrs; a++)
                                v6 |= n->ifaces[k].addrs[a].family == AF_INET6;
                }
                policy |= n->kind == TOPO_NODE_HOST && addressed > 1;
        }
        for (unsigned i = 0; i < t->n_workloads; i++)
                mptcp |= t->workloads[i].protocol == TOPO_PROTO_MPTCP;
        return need == NEED_IPV6         ? v6
               : need == NEED_MPTCP_IPV6 ? v6 && mptcp
               : need == NEED_POLICY     ? policy
                                         : false;
}

int kernel_check(const struct kernel_spec *k, const struct topo *t, struct kernel_missing *out,
                 unsigned max)
{
        _cleanup_free_ char *text = NULL;
        if (!k->config || read_file(k->config, &text, NULL) < 0)
                return -ENODATA;
        _cleanup_free_ char *moddir =
                k->modroot ? xasprintf("%s/lib/modules/%s", k->modroot, k->release) : NULL;
        unsigned n = 0;
        for (unsigned i = 0; i < ELEMENTSOF(reqs); i++) {
                if (!topo_needs(t, reqs[i].need))
                        continue;
                char v = config_value(text, reqs[i].option);
                char *have = NULL;
                if (v == 'm' && !reqs[i].module)
                        have = xstrdup("m, but the lab needs it built in");
                else if (v == 'm' && !moddir)
                        have = xstrdup("m, but there is no module directory");
                else if (v == 'm' && !has_module(moddir, reqs[i].module))
                        have = xasprintf("m, but %s is not in %s", reqs[i].module, moddir);
                else if (!v)
                        have = xstrdup("not set");
                if (!have)
                        continue;
                if (n < max)
                        out[n++] = (struct kernel_missing){reqs[i].option, reqs[i].feature, have};
                else
                        free(have);
        }
        return (int)n;
}

struct json_object *kernel_identity_json(const struct kernel_spec *k)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "release", json_object_new_string(k->release));
        json_object_object_add(o, "image", json_object_new_string(k->image));
        if (k->sha256)
                json_object_object_add(o, "image_sha256", json_object_new_string(k->sha256));
        if (k->build_id)
                json_object_object_add(o, "build_id", json_object_new_string(k->build_id));
        if (k->tree)
                json_object_object_add(o, "tree", json_object_new_string(k->tree));
        if (k->commit) {
                json_object_object_add(o, "commit", json_object_new_string(k->commit));
                json_object_object_add(o, "dirty", json_object_new_boolean(k->dirty));
        }
        return o;
}

char *kernel_missing_text(const struct kernel_missing *m, unsigned n)
{
        char *s = xstrdup("");
        for (unsigned i = 0; i < n; i++) {
                char *t = xasprintf("%s%s%s (%s: %s)", s, i ? ", " : "", m[i].option, m[i].have,
                                    m[i].feature);
                free(s);
                s = t;
        }
        return s;
}

int kernel_build_time(const char *version, char ret[static 32])
{
        if (!version || strlen(version) > 256)
                return -ENODATA;
        /* Debian: the changelog's date in parentheses, last */
        size_t n = strlen(version);
        int y, mo, d;
        char tail;
        if (n >= 12 && version[n - 1] == ')' && version[n - 12] == '(' &&
            sscanf(version + n - 11, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) == 4 && tail == ')' &&
            y >= 1991 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31) {
                snprintf(ret, 32, "%04d-%02d-%02d", y, mo, d);
                return 0;
        }
        /* Kbuild: "#N SMP ... Www Mmm DD HH:MM:SS TZ YYYY", the last six words */
        const char *p = version + n;
        for (int words = 0; p > version && words < 6;) {
                p--;
                if (*p == ' ' && p[1] != ' ')
                        words++;
        }
        if (*p == ' ')
                p++;
        char wd[4], mon[4], tz[8];
        int h, mi, sec;
        if (sscanf(p, "%3s %3s %d %d:%d:%d %7s %d%c", wd, mon, &d, &h, &mi, &sec, tz, &y, &tail) !=
            8)
                return -ENODATA;
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        const char *m = strlen(mon) == 3 ? strstr(months, mon) : NULL;
        if (!m || (m - months) % 3 || y < 1991 || y > 9999 || d < 1 || d > 31 || h > 23 ||
            mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
                return -ENODATA;
        /* a time in another zone than UTC: its day is what holds */
        unsigned uy = (unsigned)y % 10000, umo = (unsigned)(m - months) / 3 % 12 + 1,
                 ud = (unsigned)d % 32, uh = (unsigned)h % 24, umi = (unsigned)mi % 60,
                 us = (unsigned)sec % 61;
        if (streq(tz, "UTC"))
                snprintf(ret, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", uy, umo, ud, uh, umi, us);
        else
                snprintf(ret, 32, "%04u-%02u-%02u", uy, umo, ud);
        return 0;
}

/* sha256 of a file, in hex */
static int file_sha256(const char *path, char **ret)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(c);
                return -ENOMEM;
        }
        unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
        ssize_t got;
        while ((got = read(fd, buf, sizeof buf)) > 0)
                EVP_DigestUpdate(c, buf, (size_t)got);
        unsigned len = 0;
        int r = got < 0 ? -errno : EVP_DigestFinal_ex(c, md, &len) == 1 ? 0 : -EIO;
        EVP_MD_CTX_free(c);
        if (r < 0)
                return r;
        char *hex = xcalloc(2 * len + 1, 1);
        for (unsigned i = 0; i < len; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        *ret = hex;
        return 0;
}

/* The tree's git HEAD and whether tracked files differ from it; nothing when
 * the tree is no git work tree (or git is not there). argv, a deadline. */
static void tree_identity(struct kernel_spec *k)
{
        char *argv[] = {"git", "-C", k->tree, "rev-parse", "--verify", "-q", "HEAD", NULL};
        char *out = NULL, *errout = NULL;
        int st = 0;
        if (spawn_run(argv, 10000, &out, &errout, &st) == 0 && WIFEXITED(st) &&
            WEXITSTATUS(st) == 0 && out && strlen(out) >= 40 &&
            strspn(out, "0123456789abcdef") >= 40) {
                out[strspn(out, "0123456789abcdef")] = 0;
                k->commit = xstrdup(out);
                char *sargv[] = {"git",    "-C",          k->tree,
                                 "status", "--porcelain", "--untracked-files=no",
                                 NULL};
                char *sout = NULL, *serr = NULL;
                if (spawn_run(sargv, 30000, &sout, &serr, &st) == 0 && WIFEXITED(st) &&
                    WEXITSTATUS(st) == 0)
                        k->dirty = sout && *sout;
                free(sout);
                free(serr);
        }
        free(out);
        free(errout);
}

/* The x86 boot protocol: "HdrS" at 0x202, and at 0x20e the offset (from 0x200)
 * of a version string that starts with the release. */
static int bzimage_release(const char *path, char **ret, char **err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *err = xasprintf("kernel image %s: %s", path, strerror(errno));
                return -errno;
        }
        unsigned char hdr[0x210];
        if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
            memcmp(hdr + 0x202, "HdrS", 4)) {
                *err = xasprintf("kernel image %s is not an x86 bzImage (no HdrS boot header)",
                                 path);
                return -EINVAL;
        }
        unsigned off = (unsigned)(hdr[0x20e] | hdr[0x20f] << 8) + 0x200;
        char ver[256] = "";
        if (pread(fd, ver, sizeof ver - 1, off) <= 0) {
                *err = xasprintf("kernel image %s: cannot read its version string", path);
                return -EINVAL;
        }
        ver[strcspn(ver, " ")] = 0;
        if (!ver[0]) {
                *err = xasprintf("kernel image %s has an empty version string", path);
                return -EINVAL;
        }
        /* the release names files, cache entries and libvirt volumes: a kernel
         * under test is untrusted input (review A10) */
        if (strspn(ver, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+-") !=
                    strlen(ver) ||
            ver[0] == '.' || ver[0] == '-') {
                *err = xasprintf("kernel image %s: its version string is not a kernel release "
                                 "(letters, digits, '.', '_', '+', '-')",
                                 path);
                return -EINVAL;
        }
        *ret = xstrdup(ver);
        return 0;
}

char *kernel_image_build_id(const char *path)
{
        _cleanup_free_ char *img = NULL, *err = NULL;
        size_t len = 0;
        char *id = NULL;
        int r = read_file(path, &img, &len);
        if (r < 0)
                log_debug("kernel image %s: %s", path, strerror(-r));
        else if (kimage_build_id(img, len, &id, &err) < 0)
                log_debug("kernel image %s: no build id: %s", path, err);
        return id;
}

int kernel_resolve(const char *spec, struct kernel_spec *ret, char **err)
{
        struct kernel_spec k = {0};
        int r;
        _cleanup_free_ char *path = xstrdup(spec), *modroot = NULL;
        char *colon = strchr(path, ':');
        if (colon) {
                *colon = 0;
                modroot = xstrdup(colon + 1);
        }
        struct stat st;
        if (!strchr(path, '/')) {
                /* an installed release */
                k.release = xstrdup(path);
                k.image = xasprintf("/boot/vmlinuz-%s", path);
                k.modroot = xstrdup(modroot ? modroot : "/");
                if (access(k.image, R_OK) < 0) {
                        *err = xasprintf("kernel %s: %s not found (install linux-image-%s, or "
                                         "give a bzImage path or a build tree)",
                                         spec, k.image, spec);
                        kernel_spec_clear(&k);
                        return -ENOENT;
                }
                _cleanup_free_ char *cfg = xasprintf("/boot/config-%s", path);
                if (access(cfg, R_OK) == 0)
                        k.config = TAKE_PTR(cfg);
        } else if (stat(path, &st) < 0) {
                *err = xasprintf("kernel %s: %s", path, strerror(errno));
                return -errno;
        } else if (S_ISDIR(st.st_mode)) {
                k.image = xasprintf("%s/arch/x86/boot/bzImage", path);
                k.modroot = modroot ? xstrdup(modroot) : xasprintf("%s/mod-install", path);
                _cleanup_free_ char *cfg = xasprintf("%s/.config", path);
                if (access(cfg, R_OK) == 0)
                        k.config = TAKE_PTR(cfg);
                if (access(k.image, R_OK) < 0) {
                        *err = xasprintf("kernel tree %s: no %s (build it: make bzImage modules)",
                                         path, k.image);
                        kernel_spec_clear(&k);
                        return -ENOENT;
                }
        } else {
                k.image = xstrdup(path);
                k.modroot = xstrdup(modroot ? modroot : "/");
        }
        char *rel = NULL;
        if ((r = bzimage_release(k.image, &rel, err)) < 0) {
                kernel_spec_clear(&k);
                return r;
        }
        if (k.release && !streq(k.release, rel)) {
                *err = xasprintf("kernel %s: %s says it is %s", spec, k.image, rel);
                free(rel);
                kernel_spec_clear(&k);
                return -EINVAL;
        }
        free(k.release);
        k.release = rel;
        _cleanup_free_ char *cfg_text = NULL;
        if (k.config && read_file(k.config, &cfg_text, NULL) < 0) {
                free(k.config);
                k.config = NULL;
        }
        /* a module directory only when something the lab loads is a module (or
         * when there is no config to tell) */
        bool need_mods = !cfg_text;
        for (unsigned i = 0; cfg_text && i < ELEMENTSOF(reqs); i++)
                need_mods |= reqs[i].module && config_value(cfg_text, reqs[i].option) == 'm';
        _cleanup_free_ char *moddir = xasprintf("%s/lib/modules/%s", k.modroot, k.release);
        _cleanup_free_ char *dep = xasprintf("%s/modules.dep", moddir);
        if (need_mods && access(dep, R_OK) < 0) {
                *err = xasprintf("kernel %s (%s): no modules in %s, and %s (for a build tree: "
                                 "make modules_install INSTALL_MOD_PATH=DIR and pass %s:DIR, "
                                 "or build them in: lab/kernel-config TREE)",
                                 spec, k.release, moddir,
                                 cfg_text ? "its config makes some of what the lab needs modules"
                                          : "it has no config that says what is built in",
                                 path);
                kernel_spec_clear(&k);
                return -ENOENT;
        }
        if (!need_mods) {
                free(k.modroot);
                k.modroot = NULL;
        }
        if (!cfg_text) {
                /* no config: the modules must be there */
                static const char *const needed[] = {"virtio_net.ko", "virtio_console.ko",
                                                     "virtio_pci.ko"};
                for (unsigned i = 0; i < ELEMENTSOF(needed); i++)
                        if (!has_module(moddir, needed[i])) {
                                *err = xasprintf("kernel %s (%s): no %s in %s: the lab needs "
                                                 "virtio (CONFIG_VIRTIO_PCI, CONFIG_VIRTIO_NET, "
                                                 "CONFIG_VIRTIO_CONSOLE)",
                                                 spec, k.release, needed[i], moddir);
                                kernel_spec_clear(&k);
                                return -EOPNOTSUPP;
                        }
        }
        if (S_ISDIR(st.st_mode) && strchr(path, '/'))
                k.tree = xstrdup(path);
        if ((r = file_sha256(k.image, &k.sha256)) < 0) {
                *err = xasprintf("kernel image %s: cannot read it: %s", k.image, strerror(-r));
                kernel_spec_clear(&k);
                return r;
        }
        if (k.tree)
                tree_identity(&k);
        k.build_id = kernel_image_build_id(k.image);
        *ret = k;
        return 0;
}

char *kernel_default_release(void)
{
        DIR *d = opendir("/boot");
        struct dirent *e;
        char *best = NULL;
        while (d && (e = readdir(d))) {
                if (strncmp(e->d_name, "vmlinuz-", 8) || !strstr(e->d_name, "-cloud-"))
                        continue;
                const char *rel = e->d_name + 8;
                if (!best || strverscmp(rel, best) > 0) {
                        free(best);
                        best = xstrdup(rel);
                }
        }
        if (d)
                closedir(d);
        return best;
}
