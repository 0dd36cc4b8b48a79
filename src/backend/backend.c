#include "backend.h"
#include "../shared/util.h"

static const struct backend_ops *const backends[] = {
        &backend_libvirt,
        &backend_netns,
        &backend_ssh,
};

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
