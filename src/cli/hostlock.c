#include "hostlock.h"
#include "../shared/util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

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
        l->fd = open_lock(file);
        if (l->fd < 0)
                return l->fd;
        if (flock(l->fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                char *text = NULL;
                _cleanup_free_ char *path = lock_path(file);
                if (r == -EBUSY && read_file_max(path, 4096, &text, NULL) == 0)
                        text[strcspn(text, "\n")] = 0;
                *holder = text;
                close(l->fd);
                l->fd = -1;
                return r;
        }
        _cleanup_free_ char *line = xasprintf("pid %d: %s\n", (int)getpid(), what);
        if (ftruncate(l->fd, 0) == 0)
                (void)!pwrite(l->fd, line, strlen(line), 0);
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
