#include "backend.h"
#include "../shared/util.h"

static const struct backend_ops *const backends[] = {
        &backend_libvirt,
        &backend_netns,
        &backend_ssh,
};

struct json_object *node_state_args(const struct topo_node *tn, bool all_mptcp)
{
        struct json_object *o = json_object_new_object(), *d = json_object_new_array(),
                           *k = json_object_new_array();
        for (unsigned i = 0; i < tn->n_ifaces; i++)
                json_object_array_add(d, json_object_new_string(tn->ifaces[i].name));
        for (unsigned i = 0; i < tn->n_sysctls; i++)
                json_object_array_add(k, json_object_new_string(tn->sysctls[i].key));
        if (!all_mptcp)
                json_object_array_add(k, json_object_new_string("net.mptcp.enabled"));
        json_object_object_add(o, "devs", d);
        json_object_object_add(o, "sysctls", k);
        if (all_mptcp) {
                struct json_object *dirs = json_object_new_array();
                json_object_array_add(dirs, json_object_new_string("net.mptcp"));
                json_object_object_add(o, "sysctl_dirs", dirs);
        }
        return o;
}

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
