#include "inventory.h"
#include "yamlx.h"
#include "../shared/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* [user@]host[:port] as ssh and ProxyJump take it; never an option ("-o...")
 * and nothing a shell or ssh_config would read as more than a name */
static bool ssh_destination_ok(const char *s, bool port_ok)
{
        if (!*s || *s == '-' || strlen(s) > 255)
                return false;
        const char *at = strchr(s, '@'), *host = at ? at + 1 : s;
        for (const char *p = s; at && p < at; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
                        return false;
        if (at == s || !*host || *host == '-' || strchr(host, '@'))
                return false;
        if (*host == '[') { /* [v6 address] */
                const char *end = strchr(host, ']');
                if (!end || end == host + 1)
                        return false;
                for (const char *p = host + 1; p < end; p++)
                        if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                                return false;
                host = end + 1;
                if (!*host)
                        return true;
                if (*host != ':' || !port_ok)
                        return false;
        }
        const char *colon = strchr(host, ':');
        if (colon && (!port_ok || colon == host))
                return false;
        for (const char *p = host; *p && p != colon; p++)
                if (!isalnum((unsigned char)*p) && !strchr(".-_", *p))
                        return false;
        if (colon) {
                char *end;
                unsigned long port = strtoul(colon + 1, &end, 10);
                if (*end || !isdigit((unsigned char)colon[1]) || port < 1 || port > 65535)
                        return false;
        }
        return true;
}

/* aa:bb:cc:dd:ee:ff (either case) into lower case; NULL when it is not one */
static char *mac_norm(const char *s)
{
        if (strlen(s) != 17)
                return NULL;
        char *m = xstrdup(s);
        for (unsigned i = 0; i < 17; i++)
                if (i % 3 == 2 ? m[i] != ':' : !isxdigit((unsigned char)m[i])) {
                        free(m);
                        return NULL;
                } else
                        m[i] = (char)tolower((unsigned char)m[i]);
        return m;
}

static void parse_machine(struct pctx *c, struct inv_machine *m, const char *name,
                          struct fy_node *n)
{
        m->name = xstrdup(name);
        m->boot_timeout = 300;
        m->pos = pos_of(n);
        if (fy_node_get_type(n) != FYNT_MAPPING) {
                perr(c, n,
                     "machine %s is a mapping (ssh, port, options, jump, kexec, boot_timeout)",
                     name);
                return;
        }
        bool have_ssh = false;
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(n, &it))) {
                const char *k = fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "";
                struct fy_node *v = fy_node_pair_value(pair);
                _cleanup_free_ char *what = xasprintf("machine %s: %s", name, k);
                const char *x;
                if (streq(k, "ssh")) {
                        have_ssh = true;
                        if ((x = yx_str(c, v, what)) && !ssh_destination_ok(x, false))
                                perr(c, v,
                                     "%s \"%s\" is not an ssh destination ([user@]host; the port "
                                     "goes in port:)",
                                     what, x);
                        else if (x)
                                yx_dup_str(c, v, what, &m->ssh);
                } else if (streq(k, "port")) {
                        char *end;
                        x = yx_str(c, v, what);
                        unsigned long p = x ? strtoul(x, &end, 10) : 0;
                        if (x && (*end || !isdigit((unsigned char)*x) || p < 1 || p > 65535))
                                perr(c, v, "%s \"%s\" is not a port (1 to 65535)", what, x);
                        else if (x)
                                m->port = (unsigned)p;
                } else if (streq(k, "jump")) {
                        if ((x = yx_str(c, v, what)) && !ssh_destination_ok(x, true))
                                perr(c, v, "%s \"%s\" is not a jump host ([user@]host[:port])",
                                     what, x);
                        else if (x)
                                yx_dup_str(c, v, what, &m->jump);
                } else if (streq(k, "kexec"))
                        yx_bool(c, v, what, &m->kexec);
                else if (streq(k, "boot_timeout")) {
                        char *end;
                        x = yx_str(c, v, what);
                        unsigned long b = x ? strtoul(x, &end, 10) : 0;
                        if (x && (*end || !isdigit((unsigned char)*x) || b < 10 || b > 3600))
                                perr(c, v, "%s \"%s\" is not a number of seconds (10 to 3600)",
                                     what, x);
                        else if (x)
                                m->boot_timeout = (unsigned)b;
                } else if (streq(k, "options")) {
                        if (fy_node_get_type(v) != FYNT_SEQUENCE) {
                                perr(c, v, "%s is a list of ssh arguments ([-i, KEYFILE])", what);
                                continue;
                        }
                        void *si = NULL;
                        struct fy_node *e;
                        while ((e = fy_node_sequence_iterate(v, &si)))
                                if ((x = yx_str(c, e, what))) {
                                        m->options = xreallocarray(m->options, m->n_options + 1,
                                                                   sizeof(char *));
                                        m->options[m->n_options++] = xstrdup(x);
                                }
                } else
                        perr(c, fy_node_pair_key(pair),
                             "machine %s: unknown key \"%s\" (ssh, port, options, jump, kexec, "
                             "boot_timeout)",
                             name, k);
        }
        if (!have_ssh)
                perr(c, n, "machine %s: ssh is required (its destination, [user@]host)", name);
}

static void parse_nic(struct pctx *c, struct inv_node *nd, const char *iface, struct fy_node *v)
{
        struct inv_nic *nic = &nd->nics[nd->n_nics++];
        nic->iface = xstrdup(iface);
        nic->pos = pos_of(v);
        _cleanup_free_ char *what = xasprintf("node %s: interface %s", nd->name, iface);
        if (fy_node_get_type(v) != FYNT_MAPPING) {
                perr(c, v, "%s is {mac: ADDRESS} or {name: DEVICE}", what);
                return;
        }
        unsigned before = c->errs->n;
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(v, &it))) {
                const char *k = fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "";
                struct fy_node *x = fy_node_pair_value(pair);
                const char *s;
                if (streq(k, "mac")) {
                        if ((s = yx_str(c, x, what)) && !(nic->mac = mac_norm(s)))
                                perr(c, x,
                                     "%s: mac \"%s\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
                                     what, s);
                } else if (streq(k, "name")) {
                        if ((s = yx_str(c, x, what)) && !ifname_valid(s))
                                perr(c, x, "%s: name \"%s\" is not an interface name", what, s);
                        else if (s)
                                nic->dev = xstrdup(s);
                } else
                        perr(c, fy_node_pair_key(pair), "%s: unknown key \"%s\" (mac or name)",
                             what, k);
        }
        if (!!nic->mac == !!nic->dev && c->errs->n == before) /* one error a NIC */
                perr(c, v, "%s: give the NIC by mac or by name, one of them", what);
}

static void parse_node(struct pctx *c, struct inventory *inv, const char *name, struct fy_node *n)
{
        struct inv_node *nd = &inv->nodes[inv->n_nodes++];
        nd->name = xstrdup(name);
        nd->pos = pos_of(n);
        if (fy_node_get_type(n) != FYNT_MAPPING) {
                perr(c, n, "node %s is a mapping (machine, interfaces)", name);
                return;
        }
        struct fy_node *machine = NULL;
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(n, &it))) {
                const char *k = fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "";
                struct fy_node *v = fy_node_pair_value(pair);
                _cleanup_free_ char *what = xasprintf("node %s: %s", name, k);
                if (streq(k, "machine")) {
                        yx_dup_str(c, v, what, &nd->machine);
                        machine = v;
                } else if (streq(k, "interfaces")) {
                        if (fy_node_get_type(v) != FYNT_MAPPING) {
                                perr(c, v, "%s is a mapping (eth0: {mac: ...})", what);
                                continue;
                        }
                        nd->nics = xcalloc((size_t)fy_node_mapping_item_count(v) + 1,
                                           sizeof *nd->nics);
                        void *ii = NULL;
                        struct fy_node_pair *ip;
                        while ((ip = fy_node_mapping_iterate(v, &ii)))
                                parse_nic(c, nd, fy_node_get_scalar0(fy_node_pair_key(ip)) ?: "",
                                          fy_node_pair_value(ip));
                } else
                        perr(c, fy_node_pair_key(pair),
                             "node %s: unknown key \"%s\" (machine, interfaces)", name, k);
        }
        if (!nd->machine) {
                perr(c, n, "node %s: machine is required", name);
                return;
        }
        struct inv_machine *m = (struct inv_machine *)inventory_machine(inv, nd->machine);
        if (!m)
                perr(c, machine, "node %s: machine \"%s\" is not in machines", name, nd->machine);
        else if (m->used)
                /* a machine is one node: its kernel, its sysctls, its MPTCP endpoints */
                perr(c, machine, "node %s: machine %s already holds another node", name,
                     nd->machine);
        else
                m->used = true;
        /* two interfaces on one NIC would be one interface */
        for (unsigned i = 0; i < nd->n_nics; i++)
                for (unsigned j = 0; j < i; j++) {
                        const struct inv_nic *a = &nd->nics[i], *b = &nd->nics[j];
                        if ((a->mac && b->mac && streq(a->mac, b->mac)) ||
                            (a->dev && b->dev && streq(a->dev, b->dev)))
                                topo_errors_addf(c->errs, c->file, a->pos,
                                                 "node %s: interfaces %s and %s are the same NIC "
                                                 "(%s)",
                                                 name, b->iface, a->iface, a->mac ?: a->dev);
                }
}

static void parse_root(struct pctx *c, struct inventory *inv, struct fy_node *root)
{
        if (!root || fy_node_get_type(root) != FYNT_MAPPING) {
                perr(c, root, "an inventory is a mapping (machines, nodes)");
                return;
        }
        struct fy_node *machines = fy_node_mapping_lookup_by_string(root, "machines", -1),
                       *nodes = fy_node_mapping_lookup_by_string(root, "nodes", -1);
        void *it = NULL;
        struct fy_node_pair *pair;
        while ((pair = fy_node_mapping_iterate(root, &it))) {
                const char *k = fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "";
                if (!streq(k, "machines") && !streq(k, "nodes"))
                        perr(c, fy_node_pair_key(pair), "unknown key \"%s\" (machines, nodes)", k);
        }
        if (!machines || fy_node_get_type(machines) != FYNT_MAPPING ||
            !fy_node_mapping_item_count(machines)) {
                perr(c, machines ? machines : root,
                     "machines is required: a mapping of at least one machine");
                return;
        }
        if (!nodes || fy_node_get_type(nodes) != FYNT_MAPPING) {
                perr(c, nodes ? nodes : root, "nodes is required: topology node -> machine");
                return;
        }
        inv->nodes_pos = pos_of(nodes);
        inv->machines =
                xcalloc((size_t)fy_node_mapping_item_count(machines), sizeof *inv->machines);
        it = NULL;
        while ((pair = fy_node_mapping_iterate(machines, &it)))
                parse_machine(c, &inv->machines[inv->n_machines++],
                              fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "",
                              fy_node_pair_value(pair));
        inv->nodes = xcalloc((size_t)fy_node_mapping_item_count(nodes) + 1, sizeof *inv->nodes);
        it = NULL;
        while ((pair = fy_node_mapping_iterate(nodes, &it)))
                parse_node(c, inv, fy_node_get_scalar0(fy_node_pair_key(pair)) ?: "",
                           fy_node_pair_value(pair));
}

int inventory_parse_string(const char *name, const char *yaml, struct inventory **ret,
                           struct topo_errors *errs)
{
        unsigned before = errs->n;
        struct fy_document *doc = topo_yaml_document(name, yaml, strlen(yaml), errs);
        struct inventory *inv = xcalloc(1, sizeof *inv);
        inv->file = xstrdup(name);
        struct pctx c = {.file = name, .errs = errs};
        if (doc)
                parse_root(&c, inv, fy_document_root(doc));
        else if (errs->n == before)
                perr(&c, NULL, "the inventory is empty");
        fy_document_destroy(doc);
        if (errs->n > before) {
                inventory_free(inv);
                return -EINVAL;
        }
        *ret = inv;
        return 0;
}

int inventory_parse_file(const char *path, struct inventory **ret, struct topo_errors *errs)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = topo_read_file(path, &text, &len, errs);
        if (r < 0)
                return r;
        if (strlen(text) != len) {
                topo_errors_addf(errs, path, (struct topo_pos){0},
                                 "the inventory holds a NUL byte");
                return -EINVAL;
        }
        return inventory_parse_string(path, text, ret, errs);
}

const struct inv_node *inventory_node(const struct inventory *inv, const char *name)
{
        for (unsigned i = 0; i < inv->n_nodes; i++)
                if (streq(inv->nodes[i].name, name))
                        return &inv->nodes[i];
        return NULL;
}

const struct inv_machine *inventory_machine(const struct inventory *inv, const char *name)
{
        for (unsigned i = 0; i < inv->n_machines; i++)
                if (streq(inv->machines[i].name, name))
                        return &inv->machines[i];
        return NULL;
}

int inventory_check(const struct inventory *inv, const struct topo *t, struct topo_errors *errs)
{
        unsigned before = errs->n;
        for (unsigned i = 0; i < t->n_nodes; i++) {
                const struct topo_node *tn = &t->nodes[i];
                const struct inv_node *nd = inventory_node(inv, tn->name);
                if (!nd) {
                        topo_errors_addf(errs, inv->file, inv->nodes_pos,
                                         "node %s of %s is on no machine: nodes has no %s",
                                         tn->name, t->name, tn->name);
                        continue;
                }
                for (unsigned k = 0; k < tn->n_ifaces; k++) {
                        bool found = false;
                        for (unsigned j = 0; j < nd->n_nics && !found; j++)
                                found = streq(nd->nics[j].iface, tn->ifaces[k].name);
                        if (!found)
                                topo_errors_addf(errs, inv->file, nd->pos,
                                                 "node %s: interface %s of %s is on no NIC "
                                                 "(interfaces: {%s: {mac: ...}})",
                                                 tn->name, tn->ifaces[k].name, t->name,
                                                 tn->ifaces[k].name);
                }
        }
        return errs->n > before ? -EINVAL : 0;
}

struct inventory *inventory_free(struct inventory *inv)
{
        if (!inv)
                return NULL;
        for (unsigned i = 0; i < inv->n_machines; i++) {
                struct inv_machine *m = &inv->machines[i];
                free(m->name);
                free(m->ssh);
                for (unsigned k = 0; k < m->n_options; k++)
                        free(m->options[k]);
                free(m->options);
                free(m->jump);
        }
        free(inv->machines);
        for (unsigned i = 0; i < inv->n_nodes; i++) {
                struct inv_node *nd = &inv->nodes[i];
                free(nd->name);
                free(nd->machine);
                for (unsigned k = 0; k < nd->n_nics; k++) {
                        free(nd->nics[k].iface);
                        free(nd->nics[k].mac);
                        free(nd->nics[k].dev);
                }
                free(nd->nics);
        }
        free(inv->nodes);
        free(inv->file);
        free(inv);
        return NULL;
}
