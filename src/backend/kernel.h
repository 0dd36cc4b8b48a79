/* kernel.h - a kernel under test: what --kernel or a node's kernel: names.
 *   RELEASE          an installed Debian kernel: /boot/vmlinuz-RELEASE, /lib/modules/RELEASE
 *   IMAGE[:MODROOT]  a bzImage file; modules under MODROOT/lib/modules/RELEASE (default /)
 *   TREE[:MODROOT]   a kernel build tree (arch/x86/boot/bzImage); MODROOT is the
 *                    INSTALL_MOD_PATH given to make modules_install (default TREE/mod-install) */
#pragma once

struct kernel_spec {
        char *image;
        char *modroot;
        char *release;
        char *config; /* the kernel's .config when found, else NULL */
};

/* Resolves and checks (a bzImage, modules present, virtio and MPTCP there).
 * On failure returns -errno and *err says what is wrong with which path. */
int kernel_resolve(const char *spec, struct kernel_spec *ret, char **err);
void kernel_spec_clear(struct kernel_spec *k);
/* The newest installed Debian cloud kernel, for a default. NULL when none. */
char *kernel_default_release(void);
