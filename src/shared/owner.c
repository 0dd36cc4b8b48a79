#include "owner.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

static char *owner_path(const char *name)
{
        return xasprintf(OWNER_DIR "/%s.lock", name);
}

int owner_claim(const char *name, const char *note)
{
        if (strchr(name, '/') || !*name || name[0] == '.')
                return -EINVAL;
        int r = mkdir_p(OWNER_DIR);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = owner_path(name);
        for (;;) {
                int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        return -errno;
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                        close(fd);
                        return r;
                }
                /* the previous holder may have unlinked the file between our open
                 * and our lock: then this lock guards nothing, try again */
                struct stat a, b;
                if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino &&
                    a.st_dev == b.st_dev) {
                        _cleanup_free_ char *line =
                                xasprintf("pid %d: %s\n", (int)getpid(), note ? note : "");
                        if (ftruncate(fd, 0) == 0)
                                (void)!pwrite(fd, line, strlen(line), 0);
                        return fd;
                }
                close(fd);
        }
}

int owner_held(const char *name)
{
        _cleanup_free_ char *path = owner_path(name);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return 0;
        if (flock(fd, LOCK_SH | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? 1 : -errno;
        flock(fd, LOCK_UN);
        return 0;
}

char *owner_describe(const char *name)
{
        _cleanup_free_ char *path = owner_path(name);
        char *text = NULL;
        if (read_file_max(path, 4096, &text, NULL) < 0)
                return NULL;
        text[strcspn(text, "\n")] = 0;
        return text;
}

void owner_release(const char *name, int fd)
{
        if (fd < 0)
                return;
        _cleanup_free_ char *path = owner_path(name);
        unlink(path);
        close(fd);
}

void owner_forget(const char *name)
{
        int fd = owner_claim(name, "cleanup");
        owner_release(name, fd);
}

unsigned netns_pids(const char *path, pid_t *pids, unsigned max)
{
        struct stat ns;
        if (stat(path, &ns) < 0)
                return 0;
        DIR *d = opendir("/proc");
        if (!d)
                return 0;
        unsigned n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] < '1' || e->d_name[0] > '9')
                        continue;
                char p[300];
                struct stat st;
                snprintf(p, sizeof p, "/proc/%s/ns/net", e->d_name);
                if (stat(p, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev) {
                        if (n < max)
                                pids[n] = (pid_t)atoi(e->d_name);
                        n++;
                }
        }
        closedir(d);
        return n;
}
