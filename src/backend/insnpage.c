#include "insnpage.h"
#include "../shared/spawn.h"
#include "../shared/util.h"
#include "../tcgplugin/insncount.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

char *insnpage_plugin(const char *beside_agent, const char *qemu, const char **why)
{
        static int loads = -1; /* whether QEMU has -plugin: asked once a process */
        if (access(beside_agent, R_OK) != 0) {
                *why = "the instruction counter plugin was not built (no qemu-plugin.h: "
                       "lab/setup fetches it)";
                return NULL;
        }
        if (loads < 0) {
                char *argv[] = {(char *)qemu, "-help", NULL};
                _cleanup_free_ char *out = NULL;
                int status = 0;
                loads = spawn_run(argv, 10000, &out, NULL, &status) == 0 && status == 0 && out &&
                        strstr(out, "\n-plugin ");
        }
        if (!loads) {
                *why = "this QEMU loads no TCG plugins";
                return NULL;
        }
        return xstrdup(beside_agent);
}

int insnpage_make(struct insn_page *p, const char *domain, char **err)
{
        *p = (struct insn_page){.fd = -1};
        if (mkdir_p(INSNPAGE_DIR) < 0 || chmod(INSNPAGE_DIR, 0755) < 0) {
                *err = xasprintf("cannot make %s: %s", INSNPAGE_DIR, strerror(errno));
                return -errno;
        }
        char *path = xasprintf("%s/%s", INSNPAGE_DIR, domain);
        unlink(path); /* a leftover of the same name is nobody's (run ids are unique) */
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        int e = fd < 0                              ? -errno
                : flock(fd, LOCK_SH) < 0            ? -errno
                : fchmod(fd, 0666) < 0              ? -errno
                : ftruncate(fd, INSNCOUNT_PAGE) < 0 ? -errno
                                                    : 0;
        if (e < 0) {
                *err = xasprintf("cannot make the instruction counter page %s: %s", path,
                                 strerror(-e));
                if (fd >= 0) {
                        close(fd);
                        unlink(path);
                }
                free(path);
                return e;
        }
        *p = (struct insn_page){.fd = fd, .path = path, .named = true};
        return 0;
}

static int read_slots(const struct insn_page *p, struct insncount_slot *s)
{
        if (p->fd < 0)
                return -ENODATA;
        ssize_t n = pread(p->fd, s, INSNCOUNT_PAGE, 0);
        if (n != INSNCOUNT_PAGE)
                return n < 0 ? -errno : -EIO;
        if (s[0].v != INSNCOUNT_MAGIC || s[0].n < 1 || s[0].n > INSNCOUNT_MAX_VCPUS)
                return -ENODATA;
        return 0;
}

int insnpage_attached(struct insn_page *p, char **err)
{
        struct insncount_slot s[INSNCOUNT_PAGE / sizeof(struct insncount_slot)];
        int r = read_slots(p, s);
        if (p->named) {
                unlink(p->path);
                p->named = false;
        }
        if (r < 0)
                *err = xasprintf("QEMU did not load the instruction counter (its page %s has "
                                 "no mark): %s",
                                 p->path, strerror(-r));
        return r;
}

int insnpage_read(const struct insn_page *p, uint64_t *ret)
{
        struct insncount_slot s[INSNCOUNT_PAGE / sizeof(struct insncount_slot)];
        int r = read_slots(p, s);
        if (r < 0)
                return r;
        uint64_t sum = 0;
        for (uint64_t i = 0; i < s[0].n; i++)
                sum += s[1 + i].v;
        *ret = sum;
        return 0;
}

void insnpage_close(struct insn_page *p)
{
        if (p->named)
                unlink(p->path);
        if (p->fd >= 0)
                close(p->fd);
        free(p->path);
        *p = (struct insn_page){.fd = -1};
}

void insnpage_sweep(unsigned *removed, unsigned *failed)
{
        DIR *d = opendir(INSNPAGE_DIR);
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0)
                        continue;
                /* a run that keeps its page holds a shared lock on it */
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        if (unlinkat(dirfd(d), de->d_name, 0) == 0) {
                                log_info("removed stale instruction counter page %s/%s",
                                         INSNPAGE_DIR, de->d_name);
                                (*removed)++;
                        } else
                                (*failed)++;
                }
                close(fd);
        }
        closedir(d);
}
