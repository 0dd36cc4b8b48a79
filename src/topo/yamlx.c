#include "yamlx.h"
#include "../shared/util.h"

#include <stdlib.h>
#include <string.h>

const char *yx_str(struct pctx *c, struct fy_node *v, const char *what)
{
        if (!v || fy_node_get_type(v) != FYNT_SCALAR) {
                perr(c, v, "%s must be a text value", what);
                return NULL;
        }
        const char *s = fy_node_get_scalar0(v);
        if (!s || !*s) {
                perr(c, v, "%s is empty", what);
                return NULL;
        }
        return s;
}

void yx_dup_str(struct pctx *c, struct fy_node *v, const char *what, char **dst)
{
        const char *s = yx_str(c, v, what);
        if (s) {
                free(*dst);
                *dst = xstrdup(s);
        }
}

char *yx_resolve(const char *file, const char *path)
{
        if (path[0] == '/')
                return xstrdup(path);
        const char *slash = strrchr(file, '/');
        return slash ? xasprintf("%.*s/%s", (int)(slash - file), file, path) : xstrdup(path);
}

bool yx_bool(struct pctx *c, struct fy_node *v, const char *what, bool *dst)
{
        const char *x = yx_str(c, v, what);
        if (x && !streq(x, "true") && !streq(x, "false")) {
                perr(c, v, "%s is true or false, not \"%s\"", what, x);
                return false;
        }
        if (x)
                *dst = streq(x, "true");
        return x != NULL;
}
