/* owner.h - who owns a named object on this host (a run's network namespace,
 * the host's measuring slot): a lock file under /run/mptcplab/owners held
 * with flock(2) for as long as the owner lives. The kernel drops the lock
 * when the owner dies however it dies, so "held" is never stale, and a
 * cleanup never takes a live object for a leftover. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#define OWNER_DIR "/run/mptcplab/owners"

/* Takes NAME for this process: the lock fd (O_CLOEXEC, keep it open), or
 * -EBUSY when a live process holds it, or -errno. The file says who holds it
 * ("PID ARGV0 ..." and a note), for owner_describe. */
int owner_claim(const char *name, const char *note);
/* 1: a live process holds NAME; 0: nobody (the file, if any, is a leftover). */
int owner_held(const char *name);
/* The holder's line ("pid 123: mptcplab run two-paths.yaml"), malloc'd, or NULL. */
char *owner_describe(const char *name);
/* Gives NAME up: the file goes, then the lock. */
void owner_release(const char *name, int fd);
/* Removes a leftover file of NAME when nobody holds it. */
void owner_forget(const char *name);

/* Processes whose network namespace is the one bound at path (/run/netns/X):
 * how many, and up to max of their pids. */
unsigned netns_pids(const char *path, pid_t *pids, unsigned max);

/* The host's measuring slot: one measuring run at a time on a host. Two runs
 * on two cores measure each other, so a run takes the host's lock (flock on a
 * file in /run/lock, dropped by the kernel however the run ends) and a second
 * run is refused with the holder's name. --allow-concurrent runs take a
 * shared lock of their own instead, and every run that met one records that
 * it shared the host. */
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
