/* caches.c - the lab's caches and run directories pruned to the newest few. */
#include "caches.h"
#include "../shared/spawn.h"
#include "../shared/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

struct entry {
        char *path;
        time_t mtime;
};

static int newest_first(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

static int rm_rf(const char *path)
{
        char *argv[] = {"rm", "-rf", "--one-file-system", "--", (char *)path, NULL};
        int st = 0;
        int r = spawn_run(argv, 60000, NULL, NULL, &st);
        return r < 0 ? r : st ? -EIO : 0;
}

/* Keeps the newest `keep` entries of dir whose names start with prefix and
 * (when suffix) end with suffix; removes the rest, and never anything younger
 * than min_age seconds (a run in progress). Returns how many went. */
static unsigned prune(const char *dir, const char *prefix, const char *suffix, unsigned keep,
                      time_t min_age, unsigned *failed)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct entry *v = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;
                if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) ||
                    (suffix && (l < sl || strcmp(e->d_name + l - sl, suffix))))
                        continue;
                struct stat st;
                char *p = xasprintf("%s/%s", dir, e->d_name);
                if (lstat(p, &st) < 0) {
                        free(p);
                        continue;
                }
                v = xreallocarray(v, n + 1, sizeof *v);
                v[n++] = (struct entry){p, st.st_mtime};
        }
        closedir(d);
        qsort(v, n, sizeof *v, newest_first);
        unsigned gone = 0;
        time_t now = time(NULL);
        for (size_t i = 0; i < n; i++) {
                if (i >= keep && now - v[i].mtime >= min_age) {
                        if (rm_rf(v[i].path) == 0) {
                                gone++;
                                log_info("removed %s", v[i].path);
                        } else {
                                log_error("cannot remove %s", v[i].path);
                                (*failed)++;
                        }
                }
                free(v[i].path);
        }
        free(v);
        return gone;
}

unsigned caches_prune(unsigned keep_images, unsigned keep_runs, unsigned *failed)
{
        _cleanup_free_ char *images = lab_cache_path("images");
        _cleanup_free_ char *runs = lab_data_path("runs");
        /* a run may be going: its directory is younger than a day */
        return prune(images, "initramfs-", ".cpio", keep_images, 60, failed) +
               prune(runs, "", NULL, keep_runs, 86400, failed);
}
