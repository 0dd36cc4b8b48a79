#include "kvm.h"
#include "../shared/util.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

enum { PROBE_OK = 0, PROBE_NODEV, PROBE_API, PROBE_VM, PROBE_RUN, PROBE_EXIT };

static int probe(void)
{
        int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return PROBE_NODEV;
        if (ioctl(kvm, KVM_GET_API_VERSION, 0) != 12)
                return PROBE_API;
        int vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0)
                return PROBE_VM;
        unsigned char *mem =
                mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED)
                return PROBE_VM;
        mem[0] = 0xf4; /* hlt */
        struct kvm_userspace_memory_region region = {.slot = 0,
                                                     .guest_phys_addr = 0x1000,
                                                     .memory_size = 0x1000,
                                                     .userspace_addr = (uint64_t)(uintptr_t)mem};
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
                return PROBE_VM;
        int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (vcpu < 0 || size <= 0)
                return PROBE_VM;
        struct kvm_run *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
        if (run == MAP_FAILED)
                return PROBE_VM;
        struct kvm_sregs sregs;
        if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
                return PROBE_VM;
        sregs.cs.base = 0;
        sregs.cs.selector = 0;
        if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
                return PROBE_VM;
        struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
        if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
                return PROBE_VM;
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
                return PROBE_RUN;
        return run->exit_reason == KVM_EXIT_HLT ? PROBE_OK : PROBE_EXIT;
}

bool kvm_usable(const char **why)
{
        static const char *const reasons[] = {
                [PROBE_NODEV] = "/dev/kvm cannot be opened",
                [PROBE_API] = "/dev/kvm speaks another API version",
                [PROBE_VM] = "KVM cannot create a VM",
                [PROBE_RUN] = "KVM_RUN failed",
                [PROBE_EXIT] = "the test vCPU did not halt (KVM internal error)",
        };
        if (access("/dev/kvm", F_OK) < 0) {
                *why = "no /dev/kvm";
                return false;
        }
        pid_t pid = fork();
        if (pid < 0) {
                *why = "cannot fork the KVM probe";
                return false;
        }
        if (pid == 0) {
                alarm(5); /* a vCPU that hangs is a KVM that does not work */
                _exit(probe());
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(st) && WEXITSTATUS(st) == PROBE_OK)
                return true;
        if (WIFEXITED(st) && (size_t)WEXITSTATUS(st) < ELEMENTSOF(reasons) &&
            reasons[WEXITSTATUS(st)])
                *why = reasons[WEXITSTATUS(st)];
        else
                *why = "the KVM probe hung or crashed";
        return false;
}
