#include "kernel.h"
#include "../shared/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

void kernel_spec_clear(struct kernel_spec *k)
{
        free(k->image);
        free(k->modroot);
        free(k->release);
        free(k->config);
        *k = (struct kernel_spec){0};
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
        _cleanup_free_ char *moddir = xasprintf("%s/lib/modules/%s", k.modroot, k.release);
        _cleanup_free_ char *dep = xasprintf("%s/modules.dep", moddir);
        if (access(dep, R_OK) < 0) {
                *err = xasprintf("kernel %s (%s): no modules in %s (for a build tree: make "
                                 "modules_install INSTALL_MOD_PATH=DIR and pass %s:DIR)",
                                 spec, k.release, moddir, path);
                kernel_spec_clear(&k);
                return -ENOENT;
        }
        static const char *const needed[] = {"virtio_net.ko", "virtio_console.ko", "virtio_pci.ko"};
        for (unsigned i = 0; i < ELEMENTSOF(needed); i++)
                if (!has_module(moddir, needed[i]) &&
                    !(k.config && file_has_line(k.config, "CONFIG_VIRTIO_NET=y"))) {
                        *err = xasprintf("kernel %s (%s): no %s in %s: the lab needs virtio "
                                         "(CONFIG_VIRTIO_PCI, CONFIG_VIRTIO_NET, "
                                         "CONFIG_VIRTIO_CONSOLE)",
                                         spec, k.release, needed[i], moddir);
                        kernel_spec_clear(&k);
                        return -EOPNOTSUPP;
                }
        if (k.config && !file_has_line(k.config, "\nCONFIG_MPTCP=y")) {
                *err = xasprintf("kernel %s (%s): %s has no CONFIG_MPTCP=y", spec, k.release,
                                 k.config);
                kernel_spec_clear(&k);
                return -EOPNOTSUPP;
        }
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
