/* insncount.c - a QEMU TCG plugin that counts the guest instructions each
 * vCPU executes, into a counter page the controller reads (insncount.h).
 *
 *   qemu-system-x86_64 ... -plugin /path/mptcplab-insncount.so,page=/run/mptcplab/insns/X
 *
 * Each translated block gets one execution callback that adds the block's
 * instruction count to the running vCPU's slot. A block left early (an
 * exception or an interrupt in its middle) counts whole: the count is of
 * blocks entered, the same for the same work, which is what a per-byte cost
 * needs. Instructions do not depend on how busy the host is the way time
 * does; the guest's idle loop halts, and a halted vCPU executes nothing.
 *
 * Built against qemu-plugin.h from Debian's QEMU source (lab/setup fetches
 * it); API version 1, as QEMU 7.2 has it. */
#include <qemu-plugin.h>

#include "insncount.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static struct insncount_slot *page;
static unsigned n_vcpus;

static void tb_exec(unsigned int vcpu, void *udata)
{
        if (vcpu < n_vcpus) {
                /* the vCPU's own thread is the slot's only writer: a plain add,
                 * stored whole (the reader never sees half a count) */
                uint64_t v = page[1 + vcpu].v + (uint64_t)(uintptr_t)udata;
                __atomic_store_n(&page[1 + vcpu].v, v, __ATOMIC_RELAXED);
        }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
        size_t n = qemu_plugin_tb_n_insns(tb);
        qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec, QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(uintptr_t)n);
}

static int fail(const char *what)
{
        char line[256];
        snprintf(line, sizeof line, "mptcplab-insncount: %s\n", what);
        qemu_plugin_outs(line);
        return -1;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
        const char *path = NULL;
        for (int i = 0; i < argc; i++)
                if (!strncmp(argv[i], "page=", 5))
                        path = argv[i] + 5;
                else
                        return fail("unknown argument (only page=FILE)");
        if (!path)
                return fail("no page=FILE");
        if (info->system_emulation == false)
                return fail("counts a system emulator's vCPUs only");
        int vcpus = info->system.max_vcpus;
        if (vcpus < 1 || vcpus > INSNCOUNT_MAX_VCPUS)
                return fail("too many vCPUs for one counter page");
        /* the controller made the file, sized it and keeps it: no O_CREAT */
        int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return fail("cannot open the counter page");
        void *p = mmap(NULL, INSNCOUNT_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
                return fail("cannot map the counter page");
        page = p;
        n_vcpus = (unsigned)vcpus;
        /* never unmapped: a vCPU may still run a block while QEMU exits */
        memset(page, 0, INSNCOUNT_PAGE);
        page[0].n = n_vcpus;
        __atomic_store_n(&page[0].v, INSNCOUNT_MAGIC, __ATOMIC_RELEASE);
        qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
        return 0;
}
