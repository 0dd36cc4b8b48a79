/* yamlx.h - what the lab's small YAML files (a nightly plan, an inventory)
 * share: their parse context and scalar helpers, errors as FILE:LINE:COL.
 * Private to src/topo. */
#pragma once
#include "topo.h"

#include <libfyaml.h>
#include <stdbool.h>

struct pctx {
        const char *file;
        struct topo_errors *errs;
        const char *const *backends; /* a plan's backend: names; NULL: anything */
};

/* parse.c's: the place of a node (its first token), and a document built
 * after the pre-check, with syntax errors as FILE:LINE:COL */
struct topo_pos topo_yaml_node_pos(struct fy_node *n);
struct fy_document *topo_yaml_document(const char *name, const char *text, size_t len,
                                       struct topo_errors *errs);
#define pos_of topo_yaml_node_pos

#define perr(c, n, ...) topo_errors_addf((c)->errs, (c)->file, pos_of(n), __VA_ARGS__)

/* A non-empty scalar, or NULL with an error naming what. */
const char *yx_str(struct pctx *c, struct fy_node *v, const char *what);
/* The same, copied into *dst (replacing what was there). */
void yx_dup_str(struct pctx *c, struct fy_node *v, const char *what, char **dst);
/* true or false into *dst; false (with an error naming what) otherwise. */
bool yx_bool(struct pctx *c, struct fy_node *v, const char *what, bool *dst);
/* path relative to the directory of file (unless absolute), allocated. */
char *yx_resolve(const char *file, const char *path);
