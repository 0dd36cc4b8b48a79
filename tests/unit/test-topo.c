/* Topology parser: every malformed file under tests/topo/bad gives exactly the
 * errors its "# expect:" lines list (all of them, each FILE:LINE:COL), every
 * good file gives its reviewed canonical YAML, and every file round-trips
 * (parse -> YAML -> parse -> the same YAML). */
#include "check.h"
#include "shared/util.h"
#include "topo/topo.h"

#include <dirent.h>

static char *src_dir;

static char **list_yaml(const char *dir, unsigned *n)
{
        DIR *d = opendir(dir);
        char **v = NULL;
        *n = 0;
        if (!d) {
                fprintf(stderr, "cannot open %s\n", dir);
                exit(1);
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name);
                if (l > 5 && streq(e->d_name + l - 5, ".yaml")) {
                        v = xreallocarray(v, *n + 1, sizeof(char *));
                        v[(*n)++] = xasprintf("%s/%s", dir, e->d_name);
                }
        }
        closedir(d);
        return v;
}

static void check_bad(const char *path)
{
        char *text = NULL;
        CHECK_EQ_INT(read_file(path, &text, NULL), 0);
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        int r = topo_parse_file(path, &t, &errs);
        CHECK(r < 0);
        CHECK(t == NULL);
        unsigned expected = 0;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "# expect: ", 10))
                        continue;
                char *want = xasprintf("%s:%s", path, line + 10);
                bool found = false;
                for (unsigned i = 0; i < errs.n; i++)
                        found |= streq(errs.msgs[i], want);
                if (!found) {
                        fprintf(stderr, "%s: missing error: %s\n", path, want);
                        for (unsigned i = 0; i < errs.n; i++)
                                fprintf(stderr, "   got: %s\n", errs.msgs[i]);
                }
                CHECK(found);
                free(want);
                expected++;
        }
        CHECK(expected > 0);
        if (errs.n != expected)
                fprintf(stderr, "%s: %u errors, expected %u\n", path, errs.n, expected);
        CHECK_EQ_INT(errs.n, expected);
        topo_errors_clear(&errs);
        free(text);
}

static void check_roundtrip(const char *path, const char *golden)
{
        struct topo *t = NULL, *t2 = NULL;
        struct topo_errors errs = {0};
        if (topo_parse_file(path, &t, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                CHECK(!"good file failed to parse");
                topo_errors_clear(&errs);
                return;
        }
        char *y1 = topo_to_yaml(t);
        CHECK_EQ_INT(topo_parse_string("roundtrip", y1, &t2, &errs), 0);
        for (unsigned i = 0; i < errs.n; i++)
                fprintf(stderr, "%s\n", errs.msgs[i]);
        char *y2 = t2 ? topo_to_yaml(t2) : NULL;
        CHECK_STR(y2, y1);
        if (golden) {
                char *g = NULL;
                CHECK_EQ_INT(read_file(golden, &g, NULL), 0);
                CHECK_STR(y1, g);
                free(g);
        }
        free(y1);
        free(y2);
        topo_free(t);
        topo_free(t2);
        topo_errors_clear(&errs);
}

/* The model itself, on a standard topology, field by field. */
static void check_two_paths(void)
{
        char *path = xasprintf("%s/topologies/two-paths.yaml", src_dir);
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        CHECK_EQ_INT(topo_parse_file(path, &t, &errs), 0);
        free(path);
        if (!t)
                return;
        CHECK_STR(t->name, "two-paths");
        CHECK_EQ_INT(t->n_nodes, 2);
        CHECK_EQ_INT(t->n_links, 2);
        int c = topo_find_node(t, "client"), s = topo_find_node(t, "server");
        CHECK(c >= 0 && s >= 0);
        for (unsigned i = 0; i < 2; i++)
                for (unsigned d = 0; d < 2; d++) {
                        CHECK(t->links[i].shape[d].set);
                        CHECK_EQ_INT(t->links[i].shape[d].rate_bps, 20000000);
                        CHECK_EQ_INT(t->links[i].shape[d].delay_us, 10000);
                        CHECK(topo_shape_needs_netem(&t->links[i].shape[d]));
                }
        CHECK_EQ_INT(topo_path_rate_sum(t, (unsigned)c, (unsigned)s), 40000000);
        const struct topo_node *cl = &t->nodes[c];
        CHECK_EQ_INT(cl->n_ifaces, 2);
        CHECK_STR(cl->ifaces[1].name, "eth1");
        char buf[64];
        CHECK_STR(topo_addr_str(&cl->ifaces[1].addrs[0], true, buf, sizeof buf), "10.0.2.1/24");
        CHECK(cl->mptcp.has_limits && cl->mptcp.subflows == 2 && cl->mptcp.add_addr_accepted == 2);
        CHECK_EQ_INT(cl->mptcp.n_endpoints, 1);
        CHECK_EQ_INT(cl->mptcp.endpoints[0].flags, TOPO_EP_SUBFLOW);
        CHECK_EQ_INT(t->nodes[s].mptcp.endpoints[0].flags, TOPO_EP_SIGNAL);
        CHECK_EQ_INT(t->n_workloads, 2);
        CHECK_EQ_INT(t->workloads[1].protocol, TOPO_PROTO_MPTCP);
        CHECK_EQ_INT(t->workloads[1].duration_us, 10000000);
        topo_free(t);
}

/* --set overrides: applied to the document, errors named. */
static void check_sets(void)
{
        char *path = xasprintf("%s/topologies/two-paths.yaml", src_dir);
        char *ok[] = {"links.1.shape.rate=19.4mbit", "nodes.client.cpus=2"};
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        CHECK_EQ_INT(topo_parse_file_set(path, ok, 2, &t, &errs), 0);
        if (t) {
                CHECK_EQ_INT(t->links[1].shape[0].rate_bps, 19400000);
                CHECK_EQ_INT(t->links[1].shape[1].rate_bps, 19400000);
                CHECK_EQ_INT(t->links[1].shape[0].delay_us, 10000);
                CHECK_EQ_INT(t->links[0].shape[0].rate_bps, 20000000);
                CHECK_EQ_INT(t->nodes[topo_find_node(t, "client")].cpus, 2);
        }
        t = topo_free(t);
        char *nowhere[] = {"links.7.shape.rate=1mbit"};
        CHECK(topo_parse_file_set(path, nowhere, 1, &t, &errs) < 0);
        CHECK(errs.n == 1 && strstr(errs.msgs[0], "--set links.7.shape.rate=1mbit") &&
              strstr(errs.msgs[0], "\"7\""));
        topo_errors_clear(&errs);
        char *bad[] = {"links.0.shape.rate=fast"};
        CHECK(topo_parse_file_set(path, bad, 1, &t, &errs) < 0);
        CHECK(errs.n == 1 && strstr(errs.msgs[0], "(--set)") && strstr(errs.msgs[0], "\"fast\""));
        topo_errors_clear(&errs);
        char *noeq[] = {"links.0.shape.rate"};
        CHECK(topo_parse_file_set(path, noeq, 1, &t, &errs) < 0 && errs.n == 1 &&
              strstr(errs.msgs[0], "PATH=VALUE"));
        topo_errors_clear(&errs);
        free(path);
}

int main(int argc, char **argv)
{
        src_dir = argc > 1 ? argv[1] : ".";
        unsigned n;
        char *dir = xasprintf("%s/tests/topo/bad", src_dir);
        char **bad = list_yaml(dir, &n);
        free(dir);
        CHECK(n >= 25);
        for (unsigned i = 0; i < n; i++) {
                check_bad(bad[i]);
                free(bad[i]);
        }
        free(bad);
        fprintf(stderr, "%u malformed files checked\n", n);

        dir = xasprintf("%s/tests/topo/good", src_dir);
        char **good = list_yaml(dir, &n);
        free(dir);
        CHECK(n >= 1);
        for (unsigned i = 0; i < n; i++) {
                char *golden = xasprintf("%.*s.expected", (int)(strlen(good[i]) - 5), good[i]);
                check_roundtrip(good[i], golden);
                free(golden);
                free(good[i]);
        }
        free(good);

        dir = xasprintf("%s/topologies", src_dir);
        char **std = list_yaml(dir, &n);
        free(dir);
        CHECK(n >= 6);
        for (unsigned i = 0; i < n; i++) {
                check_roundtrip(std[i], NULL);
                free(std[i]);
        }
        free(std);
        check_two_paths();
        check_sets();
        return CHECK_DONE();
}
