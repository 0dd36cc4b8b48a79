/* matrix.c - a topology's matrix and the cell a model is: what each axis
 * changes in the model (docs/topology.md, matrix:), the cells of a matrix,
 * and the names history knows them by. */
#include "topo.h"
#include "../shared/util.h"

#include <string.h>

const char *const topo_ep_flag_names[5] = {"signal", "subflow", "backup", "fullmesh", "laminar"};

static const char *const axis_names[TOPO_AXES] = {"pm", "endpoints", "scheduler", "protocol"};

const char *topo_axis_name(enum topo_axis a)
{
        return (unsigned)a < TOPO_AXES ? axis_names[a] : "?";
}

int topo_axis_find(const char *name)
{
        for (unsigned a = 0; a < TOPO_AXES; a++)
                if (streq(name, axis_names[a]))
                        return (int)a;
        return -1;
}

/* The flags of an endpoints value ("subflow fullmesh" or "subflow+fullmesh"),
 * or -1 with a word that is none */
static int flags_of(const char *value, const char **bad)
{
        _cleanup_free_ char *v = xstrdup(value);
        unsigned flags = 0;
        char *save = NULL;
        for (char *w = strtok_r(v, " +,", &save); w; w = strtok_r(NULL, " +,", &save)) {
                unsigned bit = 0;
                for (unsigned f = 0; f < ELEMENTSOF(topo_ep_flag_names); f++)
                        if (streq(w, topo_ep_flag_names[f]))
                                bit = 1u << f;
                if (!bit) {
                        *bad = "a flag is not signal, subflow, backup, fullmesh or laminar";
                        return -1;
                }
                flags |= bit;
        }
        return (int)flags;
}

static bool valid_scheduler(const char *s)
{
        /* a kernel's scheduler name (MPTCP_SCHED_NAME_MAX 16) */
        size_t n = strlen(s);
        if (!n || n >= 16)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
                      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

const char *topo_axis_check(enum topo_axis a, const char *value)
{
        const char *bad = NULL;
        int f;
        switch (a) {
        case TOPO_AXIS_PM:
                return streq(value, "kernel") || streq(value, "userspace")
                               ? NULL
                               : "a path manager is kernel or userspace";
        case TOPO_AXIS_ENDPOINTS:
                if ((f = flags_of(value, &bad)) < 0)
                        return bad;
                if (!(f & (TOPO_EP_SIGNAL | TOPO_EP_SUBFLOW | TOPO_EP_LAMINAR)))
                        return "endpoints need signal, subflow or laminar";
                if ((f & TOPO_EP_FULLMESH) && !(f & TOPO_EP_SUBFLOW))
                        return "fullmesh needs subflow";
                return NULL;
        case TOPO_AXIS_SCHEDULER:
                return valid_scheduler(value) ? NULL
                                              : "a scheduler's name is 1-15 letters, digits, "
                                                "'_' or '-' (default, bpf_rr)";
        case TOPO_AXIS_PROTOCOL:
                return streq(value, "tcp") || streq(value, "mptcp") ? NULL
                                                                    : "a protocol is tcp or mptcp";
        case TOPO_AXES:
                break;
        }
        return "no such axis";
}

char *topo_axis_canonical(enum topo_axis a, const char *value)
{
        if (a != TOPO_AXIS_ENDPOINTS)
                return xstrdup(value);
        const char *bad;
        int f = flags_of(value, &bad);
        struct strbuf b = {0};
        /* in the kernel's order of the flags, whatever order they were given */
        for (unsigned i = 0; f > 0 && i < ELEMENTSOF(topo_ep_flag_names); i++)
                if (f & (1 << i))
                        strbuf_printf(&b, "%s%s", b.len ? "+" : "", topo_ep_flag_names[i]);
        return b.s ? b.s : xstrdup(value);
}

/* Which nodes connect (the from of an MPTCP workload) and which accept */
static void roles(const struct topo *t, bool *connects, bool *accepts)
{
        for (unsigned w = 0; w < t->n_workloads; w++) {
                const struct topo_workload *wl = &t->workloads[w];
                connects[wl->from] = true;
                accepts[wl->to] = true;
        }
}

/* endpoints: the connecting nodes' endpoints get the value's subflow,
 * fullmesh, laminar and backup flags; the accepting nodes' get signal (and
 * backup when nothing else takes it). A node left with no flag loses its
 * endpoints: "signal" alone is a server that announces and a client that
 * only accepts. */
static char *apply_endpoints(struct topo *t, const char *value)
{
        const char *bad;
        unsigned f = (unsigned)flags_of(value, &bad);
        unsigned conn = f & (TOPO_EP_SUBFLOW | TOPO_EP_FULLMESH | TOPO_EP_LAMINAR),
                 acc = f & TOPO_EP_SIGNAL;
        if (f & TOPO_EP_BACKUP)
                conn ? (conn |= TOPO_EP_BACKUP) : (acc |= TOPO_EP_BACKUP);
        bool connects[64] = {false}, accepts[64] = {false};
        roles(t, connects, accepts);
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct topo_node *n = &t->nodes[i];
                if (n->kind == TOPO_NODE_ROUTER || !n->mptcp.enabled)
                        continue;
                unsigned want = connects[i] ? conn : accepts[i] ? acc : 0;
                if (want && !n->mptcp.n_endpoints)
                        return xasprintf("matrix endpoints \"%s\": node %s has no endpoints in "
                                         "the topology to give %s",
                                         value, n->name, connects[i] ? "subflows" : "signal");
                if (!want) {
                        for (unsigned e = 0; e < n->mptcp.n_endpoints; e++)
                                free(n->mptcp.endpoints[e].dev);
                        n->mptcp.n_endpoints = 0;
                }
                for (unsigned e = 0; e < n->mptcp.n_endpoints; e++)
                        n->mptcp.endpoints[e].flags = want;
        }
        return NULL;
}

char *topo_apply_cell(struct topo *t)
{
        struct strbuf b = {0};
        strbuf_printf(&b, "%s", t->name);
        bool any = false;
        for (unsigned a = 0; a < TOPO_AXES; a++) {
                const char *v = t->cell[a];
                if (!v)
                        continue;
                const char *why = topo_axis_check(a, v);
                if (why) {
                        free(b.s);
                        return xasprintf("matrix %s \"%s\": %s", axis_names[a], v, why);
                }
                char *err = NULL;
                switch ((enum topo_axis)a) {
                case TOPO_AXIS_PM:
                        for (unsigned i = 0; i < t->n_nodes; i++)
                                if (t->nodes[i].mptcp.enabled &&
                                    t->nodes[i].kind == TOPO_NODE_HOST) {
                                        free(t->nodes[i].mptcp.pm_type);
                                        t->nodes[i].mptcp.pm_type = xstrdup(v);
                                }
                        break;
                case TOPO_AXIS_ENDPOINTS:
                        err = apply_endpoints(t, v);
                        break;
                case TOPO_AXIS_SCHEDULER: /* configure sets it, where the kernel has it */
                        break;
                case TOPO_AXIS_PROTOCOL:
                        for (unsigned w = 0; w < t->n_workloads; w++)
                                t->workloads[w].protocol =
                                        streq(v, "tcp") ? TOPO_PROTO_TCP : TOPO_PROTO_MPTCP;
                        break;
                case TOPO_AXES:
                        break;
                }
                if (err) {
                        free(b.s);
                        return err;
                }
                _cleanup_free_ char *canon = topo_axis_canonical(a, v);
                strbuf_printf(&b, "%s%s=%s", any ? "," : "{", axis_names[a], canon);
                any = true;
        }
        if (any)
                strbuf_printf(&b, "}");
        t->cell_set = any;
        free(t->label);
        t->label = b.s;
        return NULL;
}

size_t topo_matrix_cells(const struct topo_matrix *m, char ****ret)
{
        /* every combination of the axes that have values, the last fastest */
        size_t total = 1;
        for (unsigned a = 0; a < TOPO_AXES; a++)
                total *= m->n[a] ? m->n[a] : 1;
        char ***cells = xcalloc(total + 1, sizeof *cells);
        size_t n = 0;
        for (size_t k = 0; k < total; k++) {
                char *pick[TOPO_AXES] = {NULL};
                size_t rest = k;
                for (unsigned a = TOPO_AXES; a-- > 0;) {
                        if (!m->n[a])
                                continue;
                        pick[a] = m->values[a][rest % m->n[a]];
                        rest /= m->n[a];
                }
                /* a TCP cell: MPTCP's axes do not apply, it is made once */
                if (pick[TOPO_AXIS_PROTOCOL] && streq(pick[TOPO_AXIS_PROTOCOL], "tcp")) {
                        bool first = true;
                        for (unsigned a = 0; a < TOPO_AXIS_PROTOCOL; a++)
                                if (m->n[a] && pick[a] != m->values[a][0])
                                        first = false;
                        if (!first)
                                continue;
                        for (unsigned a = 0; a < TOPO_AXIS_PROTOCOL; a++)
                                pick[a] = NULL;
                }
                cells[n] = xcalloc(TOPO_AXES, sizeof(char *));
                for (unsigned a = 0; a < TOPO_AXES; a++)
                        cells[n][a] = pick[a] ? xstrdup(pick[a]) : NULL;
                n++;
        }
        *ret = cells;
        return n;
}

void topo_cells_free(char ***cells, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                for (unsigned a = 0; a < TOPO_AXES; a++)
                        free(cells[i][a]);
                free(cells[i]);
        }
        free(cells);
}

char **topo_cell_sets(char *const *cell)
{
        char **v = xcalloc(TOPO_AXES + 1, sizeof *v);
        unsigned n = 0;
        for (unsigned a = 0; a < TOPO_AXES; a++)
                if (cell[a])
                        v[n++] = xasprintf("matrix.%s=%s", axis_names[a], cell[a]);
        return v;
}
