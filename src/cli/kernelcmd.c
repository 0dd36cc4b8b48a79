/* kernelcmd.c - `mptcplab kernel check KERNEL [TOPOLOGY]`: what a kernel lacks
 * for the lab and for a topology, by config option and the feature that needs
 * it; the same check stops a run before any VM boots. */
#include "verbs.h"
#include "../backend/kernel.h"
#include "../shared/util.h"

#include <stdio.h>

int verb_kernel(int argc, char **argv)
{
        if (argc < 3 || !streq(argv[1], "check") || argc > 4 || argv[2][0] == '-' ||
            (argc == 4 && argv[3][0] == '-')) {
                fprintf(stderr, "usage: mptcplab kernel check KERNEL [TOPOLOGY]\n");
                return EXIT_INPUT;
        }
        struct topo *t = NULL;
        if (argc == 4) {
                struct topo_errors errs = {0};
                if (topo_parse_file(argv[3], &t, &errs) < 0) {
                        for (unsigned i = 0; i < errs.n; i++)
                                fprintf(stderr, "%s\n", errs.msgs[i]);
                        topo_errors_clear(&errs);
                        return EXIT_INPUT;
                }
                topo_errors_clear(&errs);
        }
        struct kernel_spec k = {0};
        char *err = NULL;
        int r = kernel_resolve(argv[2], &k, &err);
        if (r < 0) {
                log_error("%s", err);
                free(err);
                topo_free(t);
                return EXIT_INPUT;
        }
        printf("kernel %s: release %s\n", argv[2], k.release);
        printf("  image %s, sha256 %s\n", k.image, k.sha256 ? k.sha256 : "?");
        printf("  build id %s\n", k.build_id ? k.build_id : "(none the lab can read)");
        if (k.tree)
                printf("  tree %s, commit %s%s\n", k.tree, k.commit ? k.commit : "(not a git tree)",
                       k.commit && k.dirty ? " with uncommitted changes" : "");
        printf("  config %s\n", k.config ? k.config : "(none found)");
        printf("  modules %s%s\n", k.modroot ? "from " : "",
               k.modroot ? k.modroot : "none needed: what the lab needs is built in");
        struct kernel_missing miss[32];
        int n = kernel_check(&k, t, miss, ELEMENTSOF(miss));
        int rc = EXIT_OK;
        if (n == -ENODATA) {
                printf("unknown: no config for this kernel (a tree's .config, or "
                       "/boot/config-RELEASE); the agent's probes decide at run time\n");
                rc = EXIT_INFRA;
        } else if (n == 0)
                printf("ok: %s has everything needed by the lab%s%s\n", k.release, t ? " and " : "",
                       t ? t->file : "");
        else {
                for (int i = 0; i < n; i++) {
                        printf("missing %s (%s): %s\n", miss[i].option, miss[i].have,
                               miss[i].feature);
                        free(miss[i].have);
                }
                printf("%d option(s) missing; lab/kernel-config TREE merges them in "
                       "(lab/kernel.config)\n",
                       n);
                rc = EXIT_INFRA;
        }
        kernel_spec_clear(&k);
        topo_free(t);
        return rc;
}
