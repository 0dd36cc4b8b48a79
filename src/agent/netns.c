/* netns.c - a named network namespace for the agent itself (netns backend):
 * /run/netns/NAME bound to the namespace this process moves into, so
 * `ip netns exec NAME ...` works for debugging while the run lasts. */
#include "agent.h"
#include "../shared/owner.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#define NETNS_DIR "/run/netns"

static int owner_fd = -1;

/* The namespace is ours (its owner lock, "netns-NAME", held until we exit),
 * so `mptcplab cleanup` never mistakes it for a leftover. */
int netns_enter_new(const char *name)
{
        char path[256];
        if (strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        _cleanup_free_ char *owner = xasprintf("netns-%s", name);
        owner_fd = owner_claim(owner, "mptcplab-agent");
        if (owner_fd < 0)
                return owner_fd;
        snprintf(path, sizeof path, NETNS_DIR "/%s", name);
        if (mkdir("/run", 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
        if (fd < 0) {
                int r = -errno;
                owner_release(owner, owner_fd);
                owner_fd = -1;
                return r;
        }
        close(fd);
        if (unshare(CLONE_NEWNET) < 0 ||
            mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0) {
                int r = -errno;
                unlink(path);
                owner_release(owner, owner_fd);
                owner_fd = -1;
                return r;
        }
        return 0;
}

void netns_release(const char *name)
{
        char path[256];
        snprintf(path, sizeof path, NETNS_DIR "/%s", name);
        if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                log_warn("cannot unmount %s: %s", path, strerror(errno));
        if (unlink(path) < 0 && errno != ENOENT)
                log_warn("cannot remove %s: %s", path, strerror(errno));
        _cleanup_free_ char *owner = xasprintf("netns-%s", name);
        owner_release(owner, owner_fd);
        owner_fd = -1;
}
