/* insnpage.h - the controller's end of the TCG instruction counter: the page
 * file QEMU's plugin (src/tcgplugin) counts into, made before the domain
 * starts and read at the measured window's edges.
 *
 * The file lives in INSNPAGE_DIR, named after the domain, world-writable
 * (QEMU runs as libvirt-qemu), and is held with a shared flock for as long
 * as the run keeps it. Once QEMU has mapped it the name goes, so a run leaves
 * nothing behind; a controller killed between the two leaves a file nobody
 * locks, which insnpage_sweep (mptcplab cleanup) removes. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define INSNPAGE_DIR "/run/mptcplab/insns"

struct insn_page {
        int fd; /* -1: none */
        char *path;
        bool named; /* the path still names it */
};

/* The plugin beside the agent and a QEMU that loads plugins: the plugin's
 * path (malloc'd), or NULL with why (static text) */
char *insnpage_plugin(const char *beside_agent, const char *qemu, const char **why);
/* Makes the page for DOMAIN. 0, or -errno with *err. */
int insnpage_make(struct insn_page *p, const char *domain, char **err);
/* After QEMU started: the plugin marked the page (else -ENODATA, with *err),
 * and the page's name goes. */
int insnpage_attached(struct insn_page *p, char **err);
/* The instructions of all vCPUs so far; -ENODATA before the plugin marked it. */
int insnpage_read(const struct insn_page *p, uint64_t *ret);
void insnpage_close(struct insn_page *p);
/* Removes pages nobody holds (a killed controller's). */
void insnpage_sweep(unsigned *removed, unsigned *failed);
