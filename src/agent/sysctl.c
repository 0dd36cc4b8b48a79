/* sysctl.c - /proc/sys by a sysctl's dotted name: checked, read, written.
 * Used by the sysctl operations and by the undo list. */
#include "agent.h"

#include <ctype.h>

int sysctl_path(const char *key, char *buf, size_t len)
{
        if (!*key || key[0] == '.' || strstr(key, "..") || strlen(key) > 200)
                return -EINVAL;
        for (const char *k = key; *k; k++)
                if (!isalnum((unsigned char)*k) && !strchr("._-", *k))
                        return -EINVAL;
        int n = snprintf(buf, len, "/proc/sys/%s", key);
        for (char *p = buf + 10; *p; p++)
                if (*p == '.')
                        *p = '/';
        return n < (int)len ? 0 : -ENAMETOOLONG;
}

int sysctl_read(const char *key, char **ret)
{
        char path[512];
        int e = sysctl_path(key, path, sizeof path);
        if (e < 0)
                return e;
        if ((e = read_file(path, ret, NULL)) < 0)
                return e;
        size_t n = strlen(*ret);
        while (n && ((*ret)[n - 1] == '\n' || (*ret)[n - 1] == ' '))
                (*ret)[--n] = 0;
        return 0;
}

int sysctl_write(const char *key, const char *value)
{
        char path[512];
        int r = sysctl_path(key, path, sizeof path);
        if (r < 0)
                return r;
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(value, f);
        return fclose(f) < 0 ? -errno : 0;
}
