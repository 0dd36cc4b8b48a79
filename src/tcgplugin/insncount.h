/* insncount.h - the shared counter page between QEMU's instruction counting
 * plugin (insncount.c, in QEMU's process) and the libvirt backend (which reads
 * it at the measured window's edges).
 *
 * The page is a file the controller makes and sizes; the plugin maps it
 * MAP_SHARED and adds the guest instructions each vCPU executes to its own
 * 64-byte slot (one writer per slot, no lock). Slot 0 says the plugin is
 * there: its magic and the number of vCPUs it counts. */
#pragma once
#include <stdint.h>

#define INSNCOUNT_MAGIC     0x31534e494c4d4cULL /* "LMLINS1": little-endian bytes */
#define INSNCOUNT_PAGE      4096
#define INSNCOUNT_MAX_VCPUS (INSNCOUNT_PAGE / 64 - 1)

struct insncount_slot {
        uint64_t v; /* slot 0: INSNCOUNT_MAGIC; slot 1 + i: vCPU i's instructions */
        uint64_t n; /* slot 0: vCPUs counted; else 0 */
        uint64_t pad[6];
};
