/* hostlock.h - one measuring run at a time on a host. Two runs on two cores
 * measure each other, so a run takes the host's lock (flock on a file in
 * /run/lock, dropped by the kernel however the run ends) and a second run
 * is refused with the holder's name. --allow-concurrent runs take a shared
 * lock of their own instead, and every run that met one records that it
 * shared the host. */
#pragma once
#include <stdbool.h>

struct hostlock {
        int fd;      /* the exclusive lock, or -1 */
        int conc_fd; /* the concurrent runs' shared lock, or -1 */
        bool concurrent;
};

/* Takes the host for `what` (shown to a run that is refused). Returns 0, or
 * -EBUSY with *holder (malloc'd, "pid 123: mptcplab run x.yaml ...") when
 * another run holds it, or -errno. */
int hostlock_take(struct hostlock *l, bool concurrent, const char *what, char **holder);
/* The same for another lock of its own (a nightly's: one at a time). */
int hostlock_take_named(struct hostlock *l, const char *file, const char *what, char **holder);
/* Did this run share the host (it is concurrent, or one is running now)? */
bool hostlock_shared(const struct hostlock *l);
void hostlock_release(struct hostlock *l);
