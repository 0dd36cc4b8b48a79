#include "backend.h"
#include "../shared/util.h"

static const struct backend_ops *const backends[] = {
        &backend_libvirt,
        &backend_netns,
        &backend_ssh,
};

char *lab_beside_agent(const struct lab *lab, const char *name)
{
        const char *slash = strrchr(lab->agent_path, '/');
        return slash ? xasprintf("%.*s/%s", (int)(slash - lab->agent_path), lab->agent_path, name)
                     : xstrdup(name);
}

const struct backend_ops *backend_find(const char *name)
{
        for (unsigned i = 0; i < ELEMENTSOF(backends); i++)
                if (streq(backends[i]->name, name))
                        return backends[i];
        return NULL;
}

void backend_list(FILE *f)
{
        for (unsigned i = 0; i < ELEMENTSOF(backends); i++)
                fprintf(f, "  %-8s %s\n", backends[i]->name, backends[i]->summary);
}

const char *const *backend_names(void)
{
        static const char *names[ELEMENTSOF(backends) + 1];
        for (unsigned i = 0; i < ELEMENTSOF(backends); i++)
                names[i] = backends[i]->name;
        return names;
}

unsigned backend_cleanup_all(unsigned *removed)
{
        unsigned failed = 0;
        *removed = 0;
        for (unsigned i = 0; i < ELEMENTSOF(backends); i++)
                if (backends[i]->cleanup)
                        backends[i]->cleanup(removed, &failed);
        return failed;
}

static const struct {
        const char *pattern, *what;
} crash_patterns[] = {
        {"Kernel panic", "kernel panic"},
        {"BUG:", "BUG"},
        {"Oops", "oops"},
        {"general protection fault", "general protection fault"},
        {"WARNING:", "WARNING"},
        {"Call Trace:", "call trace"},
};

const char *crash_find(const char *text, const char *from, const char **what)
{
        const char *hit = NULL;
        for (unsigned i = 0; i < ELEMENTSOF(crash_patterns); i++) {
                const char *h = strstr(from, crash_patterns[i].pattern);
                if (h && (!hit || h < hit)) {
                        hit = h;
                        *what = crash_patterns[i].what;
                }
        }
        return hit;
}

void crash_record(struct lab *lab, const char *node, const char *what, const char *text,
                  const char *hit)
{
        if (lab->crash.node)
                return;
        /* the excerpt: two lines before, then up to 60 lines or 6 KiB */
        const char *start = hit;
        for (int lines = 0; start > text && lines < 3; start--)
                if (start[-1] == '\n')
                        lines++;
        const char *end = start;
        for (int lines = 0; *end && lines < 60 && end - start < 6144; end++)
                if (*end == '\n')
                        lines++;
        lab->crash.node = xstrdup(node);
        lab->crash.what = xstrdup(what);
        lab->crash.trace = xstrndup(start, (size_t)(end - start));
}
