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

/* The lock file at path taken (created with mode), and "pid N: note" written
 * in it: the fd, or -EBUSY with *holder (the holder's line, when asked), or
 * -errno. A file unlinked by its last holder between our open and our lock
 * guards nothing: then again. */
static int lock_file_take(const char *path, mode_t mode, const char *note, char **holder)
{
        for (;;) {
                int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd < 0)
                        return -errno;
                fchmod(fd, mode); /* whatever the umask */
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                        close(fd);
                        char *text = NULL;
                        if (r == -EBUSY && holder && read_file_max(path, 4096, &text, NULL) == 0)
                                text[strcspn(text, "\n")] = 0;
                        if (holder)
                                *holder = text;
                        else
                                free(text);
                        return r;
                }
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

int owner_claim(const char *name, const char *note)
{
        if (strchr(name, '/') || !*name || name[0] == '.')
                return -EINVAL;
        int r = mkdir_p(OWNER_DIR);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = owner_path(name);
        return lock_file_take(path, 0644, note, NULL);
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

/* ---- the host's measuring slot ---- */

#define LOCK_DIR_DEFAULT "/run/lock"

static char *lock_path(const char *name)
{
        /* tests point this elsewhere to stay out of the way of real runs */
        const char *dir = getenv("MPTCPLAB_LOCK_DIR");
        return xasprintf("%s/%s", dir && *dir ? dir : LOCK_DIR_DEFAULT, name);
}

static int open_lock(const char *name)
{
        _cleanup_free_ char *path = lock_path(name);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd < 0)
                return -errno;
        fchmod(fd, 0666); /* any user's run must be able to take it (umask) */
        return fd;
}

int hostlock_take(struct hostlock *l, bool concurrent, const char *what, char **holder)
{
        *l = (struct hostlock){.fd = -1, .conc_fd = -1, .concurrent = concurrent};
        if (concurrent) {
                l->conc_fd = open_lock("mptcplab-concurrent.lock");
                if (l->conc_fd < 0)
                        return l->conc_fd;
                flock(l->conc_fd, LOCK_SH);
                return 0;
        }
        return hostlock_take_named(l, "mptcplab-host.lock", what, holder);
}

int hostlock_take_named(struct hostlock *l, const char *file, const char *what, char **holder)
{
        *l = (struct hostlock){.fd = -1, .conc_fd = -1};
        _cleanup_free_ char *path = lock_path(file);
        /* any user's run must be able to take it */
        int fd = lock_file_take(path, 0666, what, holder);
        if (fd < 0)
                return fd;
        l->fd = fd;
        return 0;
}

bool hostlock_shared(const struct hostlock *l)
{
        if (l->concurrent)
                return true;
        int fd = open_lock("mptcplab-concurrent.lock");
        if (fd < 0)
                return false;
        bool busy = flock(fd, LOCK_EX | LOCK_NB) < 0;
        close(fd);
        return busy;
}

void hostlock_release(struct hostlock *l)
{
        if (l->fd >= 0)
                close(l->fd);
        if (l->conc_fd >= 0)
                close(l->conc_fd);
        l->fd = l->conc_fd = -1;
}
