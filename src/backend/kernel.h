/* kernel.h - a kernel under test: what --kernel or a node's kernel: names.
 *   RELEASE          an installed Debian kernel: /boot/vmlinuz-RELEASE, /lib/modules/RELEASE
 *   IMAGE[:MODROOT]  a bzImage file; modules under MODROOT/lib/modules/RELEASE (default /)
 *   TREE[:MODROOT]   a kernel build tree (arch/x86/boot/bzImage); MODROOT is the
 *                    INSTALL_MOD_PATH given to make modules_install (default TREE/mod-install)
 * A kernel whose config builds in everything the lab needs (CONFIG_MODULES=n,
 * or every needed option =y) needs no module directory. */
#pragma once
#include "../topo/topo.h"

#include <json-c/json.h>
#include <stdbool.h>

struct kernel_spec {
        char *image;
        char *modroot; /* NULL: nothing the lab needs is a module */
        char *release;
        char *config;   /* the kernel's .config when found, else NULL */
        char *tree;     /* a build tree, else NULL */
        char *sha256;   /* of the image */
        char *build_id; /* the GNU build id of the kernel inside the image, NULL: unreadable */
        char *commit;   /* the tree's git HEAD; NULL when it is no git work tree */
        bool dirty;     /* the tree had uncommitted changes to tracked files */
};

/* Resolves and checks a kernel (a bzImage with a release, modules present
 * where its config makes something the lab needs a module), and reads its
 * identity. What it lacks for a topology is kernel_check's. On failure
 * returns -errno and *err says what is wrong with which path. */
int kernel_resolve(const char *spec, struct kernel_spec *ret, char **err);
void kernel_spec_clear(struct kernel_spec *k);
/* The build id of the kernel inside a bzImage file, NULL when it has none
 * the lab can read (said at debug level). */
char *kernel_image_build_id(const char *path);
/* The newest installed Debian cloud kernel, for a default. NULL when none. */
char *kernel_default_release(void);

/* One option the kernel lacks, and the feature of the lab or the topology
 * that needs it. */
struct kernel_missing {
        const char *option;  /* "CONFIG_NET_NS" */
        const char *feature; /* what needs it */
        char *have;          /* "not set", "m, but no module directory", ... */
};

/* What k lacks for the lab's guests and for topology t (NULL: the lab alone),
 * read from its config. Returns how many are missing (filled into out, up to
 * max; free each .have), or -ENODATA when the kernel's config is unknown. */
int kernel_check(const struct kernel_spec *k, const struct topo *t, struct kernel_missing *out,
                 unsigned max);
/* {release, image, image_sha256, build_id, tree, commit, dirty} */
struct json_object *kernel_identity_json(const struct kernel_spec *k);
/* When a kernel was built, from its version string (uname -v, or the
 * bzImage's): Debian's "... Debian 6.1.192-2 (2026-11-16)" gives 2026-11-16,
 * a kernel built here "#3 SMP PREEMPT_DYNAMIC Mon Nov 23 18:02:11 UTC 2026"
 * gives 2026-11-23T18:02:11Z. -ENODATA when it says nothing usable (a
 * reproducible build's "@0", a guest's garbage: untrusted input). */
int kernel_build_time(const char *version, char ret[static 32]);
/* "CONFIG_X (feature), CONFIG_Y (feature)" of a check's result. */
char *kernel_missing_text(const struct kernel_missing *m, unsigned n);
