/* Topology parser: every malformed file under tests/topo/bad gives exactly the
 * errors its "# expect:" lines list (all of them, each FILE:LINE:COL), every
 * good file gives its reviewed canonical YAML, and every file round-trips
 * (parse -> YAML -> parse -> the same YAML). */
#include "../../src/shared/check.h"
#include "shared/util.h"
#include "topo/inventory.h"
#include "topo/plan.h"
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

static int parse_topo(const char *path, struct topo_errors *errs)
{
        struct topo *t = NULL;
        int r = topo_parse_file(path, &t, errs);
        CHECK(r < 0 ? t == NULL : t != NULL);
        topo_free(t);
        return r;
}

/* an inventory, and then whether it places topologies/two-paths.yaml */
static int parse_inventory(const char *path, struct topo_errors *errs)
{
        struct inventory *inv = NULL;
        int r = inventory_parse_file(path, &inv, errs);
        CHECK(r < 0 ? inv == NULL : inv != NULL);
        if (inv) {
                _cleanup_free_ char *tp = xasprintf("%s/topologies/two-paths.yaml", src_dir);
                struct topo *t = NULL;
                CHECK_EQ_INT(topo_parse_file(tp, &t, errs), 0);
                r = t ? inventory_check(inv, t, errs) : -EINVAL;
                topo_free(t);
        }
        inventory_free(inv);
        return r;
}

static void check_bad(const char *path, int (*parse)(const char *, struct topo_errors *))
{
        char *text = NULL;
        CHECK_EQ_INT(read_file(path, &text, NULL), 0);
        struct topo_errors errs = {0};
        int r = parse(path, &errs);
        CHECK(r < 0);
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
        /* a sysctl's key has dots of its own: the rest of the path is the key,
         * changed where the topology names it, added where it does not */
        free(path);
        path = xasprintf("%s/topologies/failover-backup.yaml", src_dir);
        char *sys[] = {"nodes.client.sysctls.net.mptcp.stale_loss_cnt=1",
                       "nodes.client.sysctls.net.ipv4.tcp_congestion_control=reno"};
        CHECK_EQ_INT(topo_parse_file_set(path, sys, 2, &t, &errs), 0);
        if (t) {
                const struct topo_node *cl = &t->nodes[topo_find_node(t, "client")];
                CHECK_EQ_INT(cl->n_sysctls, 2);
                for (unsigned i = 0; i < cl->n_sysctls; i++)
                        CHECK(streq(cl->sysctls[i].key, "net.mptcp.stale_loss_cnt")
                                      ? streq(cl->sysctls[i].value, "1")
                                      : streq(cl->sysctls[i].key,
                                              "net.ipv4.tcp_congestion_control") &&
                                                streq(cl->sysctls[i].value, "reno"));
        }
        t = topo_free(t);
        topo_errors_clear(&errs);
        /* a link's MTU (both ends), in the dump; below 576, or below IPv6's 1280
         * where an end has an IPv6 address, refused with the link */
        char *mtu[] = {"links.1.mtu=576"};
        CHECK_EQ_INT(topo_parse_file_set(path, mtu, 1, &t, &errs), 0);
        if (t) {
                CHECK(t->links[1].mtu == 576 && t->links[0].mtu == 0);
                _cleanup_free_ char *y = topo_to_yaml(t);
                CHECK(strstr(y, "    mtu: 576\n") != NULL);
        }
        t = topo_free(t);
        topo_errors_clear(&errs);
        char *small[] = {"links.1.mtu=575"};
        CHECK(topo_parse_file_set(path, small, 1, &t, &errs) < 0 && errs.n == 1 &&
              strstr(errs.msgs[0], "link 2: mtu") && strstr(errs.msgs[0], "576 to 65535"));
        topo_errors_clear(&errs);
        const char v6[] = "name: v6\nnodes: {a: {}, b: {}}\nlinks:\n"
                          "  - endpoints: [\"a:eth0 fd00::1/64\", \"b:eth0 fd00::2/64\"]\n"
                          "    mtu: 1000\n";
        CHECK(topo_parse_string("v6.yaml", v6, &t, &errs) < 0 && errs.n == 1 &&
              strstr(errs.msgs[0], "below IPv6's 1280"));
        t = topo_free(t);
        topo_errors_clear(&errs);
        /* strict reverse-path filtering on a node with two addressed
         * interfaces drops MPTCP's joined subflows: refused where it is set;
         * loose (2) is fine, and so is strict on a one-interface node */
        const char rp[] =
                "name: rp\nnodes:\n  a:\n    sysctls: {net.ipv4.conf.eth1.rp_filter: %s}\n"
                "  b:\n    sysctls: {net.ipv4.conf.all.rp_filter: 1}\n  c: {}\nlinks:\n"
                "  - endpoints: [\"a:eth0 10.0.1.1/24\", \"c:eth0 10.0.1.2/24\"]\n"
                "  - endpoints: [\"a:eth1 10.0.2.1/24\", \"c:eth1 10.0.2.2/24\"]\n"
                "  - endpoints: [\"b:eth0 10.0.3.1/24\", \"c:eth2 10.0.3.2/24\"]\n";
        _cleanup_free_ char *strict = xasprintf(rp, "1"), *loose = xasprintf(rp, "2");
        CHECK(topo_parse_string("rp.yaml", strict, &t, &errs) < 0 && errs.n == 1 &&
              strstr(errs.msgs[0],
                     "rp.yaml:4:15: node a sysctls: net.ipv4.conf.eth1.rp_filter = 1") &&
              strstr(errs.msgs[0], "2 (loose)"));
        t = topo_free(t);
        topo_errors_clear(&errs);
        CHECK_EQ_INT(topo_parse_string("rp.yaml", loose, &t, &errs), 0);
        t = topo_free(t);
        topo_errors_clear(&errs);
        /* a node without sysctls gets a mapping for the one set */
        char *add[] = {"nodes.server.sysctls.net.core.busy_poll=50"};
        CHECK_EQ_INT(topo_parse_file_set(path, add, 1, &t, &errs), 0);
        if (t) {
                const struct topo_node *sv = &t->nodes[topo_find_node(t, "server")];
                CHECK(sv->n_sysctls == 1 && streq(sv->sysctls[0].key, "net.core.busy_poll") &&
                      streq(sv->sysctls[0].value, "50"));
        }
        t = topo_free(t);
        topo_errors_clear(&errs);
        char *noeq[] = {"links.0.shape.rate"};
        CHECK(topo_parse_file_set(path, noeq, 1, &t, &errs) < 0 && errs.n == 1 &&
              strstr(errs.msgs[0], "PATH=VALUE"));
        topo_errors_clear(&errs);
        free(path);
}

/* Writes len bytes to a fresh file and parses it: returns the parser's result,
 * and the first error message in *msg (malloc'd) when there is one. */
static int parse_bytes(const char *text, size_t len, char **msg)
{
        char path[] = "/tmp/mptcplab-test-topo-XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        CHECK_EQ_INT(write_all(fd, text, len), 0);
        close(fd);
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        int r = topo_parse_file(path, &t, &errs);
        *msg = errs.n ? xstrdup(errs.msgs[0]) : NULL;
        if (r < 0 && !errs.n)
                CHECK(!"an error without a message");
        topo_free(t);
        topo_errors_clear(&errs);
        unlink(path);
        return r;
}

#define ONE_PATH                                                                                   \
        "name: x\nnodes:\n  a:\n  b:\nlinks:\n  - endpoints: [\"a:eth0 10.0.1.1/24\", "            \
        "\"b:eth0 10.0.1.2/24\"]\n"

/* Each input here once hung, ate memory or passed validate and failed a run
 * (the reliability review's P1-P6): now each is refused with a message, fast. */
static void check_hostile(void)
{
        static const struct {
                const char *yaml, *want;
        } cases[] = {
                {"% \377\n", ":1:3: byte 0xff is not UTF-8 text"},           /* P1: hung */
                {"name: x\n\355\240\200\n", ":2:1: byte 0xed is not UTF-8"}, /* surrogate */
                {ONE_PATH "    shape: {rate: 7bit}\n", "is out of range (8bit to 34gbit)"},
                {ONE_PATH "    shape: {rate: 35gbit}\n", "is out of range (8bit to 34gbit)"},
                {ONE_PATH "    shape: {delay: 61s}\n", "is out of range (at most 60s)"},
                {ONE_PATH "    shape: {rate: 0x1p4mbit}\n", "has an unknown unit"},
                {ONE_PATH "    shape: {rate: 1e3mbit}\n", "has an unknown unit"},
                {ONE_PATH "    shape: {rate: 1.2.3mbit}\n", "is not a decimal number"},
                {"name: x\ndefaults: {memory: 1e300GiB}\n", "has an unknown unit"},
                {"name: x\ndefaults: {memory: 0x1p40B}\n", "has an unknown unit"},
                {"name: x\ndefaults: {memory: 9999999GiB}\n", "is out of range"},
                {"name: \"t\\0x\"\n", "name holds a NUL character"},
                {ONE_PATH
                 "workloads:\n  - {name: w, tool: mptcpload, from: a, to: b, port: 65535}\n",
                 "port \"65535\" is not a whole number from 1024 to 65534"},
                {"name: x\nnodes: {a: , b: }\nlinks:\n  - endpoints: [\"a:abcdefghijklmn "
                 "10.0.1.1/24\", \"b:e 10.0.1.2/24\"]\n",
                 "is not a valid interface name (at most 13 characters)"},
        };
        for (unsigned i = 0; i < ELEMENTSOF(cases); i++) {
                char *msg = NULL;
                CHECK(parse_bytes(cases[i].yaml, strlen(cases[i].yaml), &msg) < 0);
                if (!msg || !strstr(msg, cases[i].want))
                        fprintf(stderr, "case %u: got \"%s\", want \"%s\"\n", i, msg,
                                cases[i].want);
                CHECK(msg && strstr(msg, cases[i].want));
                free(msg);
        }
        /* a NUL byte in the file itself */
        char *msg = NULL;
        CHECK(parse_bytes("name: x\n\0\n", 10, &msg) < 0);
        CHECK(msg && strstr(msg, ":2:1: byte 0x00 is not UTF-8 text (a NUL)"));
        free(msg);
        /* size, depth and count limits, checked before a document is built (P2) */
        size_t big = 300 * 1024;
        char *text = xcalloc(1, big + 1);
        memset(text, '#', big);
        CHECK(parse_bytes(text, big, &msg) == -EFBIG);
        CHECK(msg && strstr(msg, "larger than a topology may be"));
        free(msg);
        memset(text, '[', 100000);
        uint64_t t0 = now_usec();
        CHECK(parse_bytes(text, 100000, &msg) < 0);
        CHECK(msg && strstr(msg, "nested deeper than a topology may be (32 levels)"));
        free(msg);
        free(text);
        char *many = xstrdup("name: x\nnodes:\n");
        for (unsigned i = 0; i < 12000; i++) {
                char *m = xasprintf("%s  n%u: {}\n", many, i);
                free(many);
                many = m;
        }
        CHECK(parse_bytes(many, strlen(many), &msg) < 0);
        CHECK(msg && strstr(msg, "more values than a topology may have (10000)"));
        free(msg);
        free(many);
        fprintf(stderr, "limits refused in %.2f s\n", (double)(now_usec() - t0) / 1e6);
}

/* The canonical dump quotes what needs quoting, so parse(dump(t)) == t (P6). */
static void check_dump_quoting(void)
{
        static const char yaml[] = ONE_PATH "description: 'say \"hi\" \\ back\ttab'\n"
                                            "kernel: \"/tmp/a\\\"b\"\n";
        struct topo *t = NULL, *t2 = NULL;
        struct topo_errors errs = {0};
        CHECK_EQ_INT(topo_parse_string("q", yaml, &t, &errs), 0);
        if (!t)
                return;
        char *y = topo_to_yaml(t);
        CHECK_EQ_INT(topo_parse_string("dump", y, &t2, &errs), 0);
        for (unsigned i = 0; i < errs.n; i++)
                fprintf(stderr, "%s\n%s\n", errs.msgs[i], y);
        if (t2) {
                CHECK_STR(t2->description, "say \"hi\" \\ back\ttab");
                CHECK_STR(t2->kernel, "/tmp/a\"b");
        }
        free(y);
        topo_free(t);
        topo_free(t2);
        topo_errors_clear(&errs);
}

/* --set list indexes outside the list are refused, never wrapped (P5). */
static void check_set_index(void)
{
        char *path = xasprintf("%s/topologies/two-paths.yaml", src_dir);
        const char *idx[] = {"4294967296", "99999999999999999999", "-1", "2", "+1", "0x1"};
        for (unsigned i = 0; i < ELEMENTSOF(idx); i++) {
                char *set = xasprintf("links.%s.shape.rate=1mbit", idx[i]);
                struct topo *t = NULL;
                struct topo_errors errs = {0};
                CHECK(topo_parse_file_set(path, &set, 1, &t, &errs) < 0);
                CHECK(errs.n == 1 && strstr(errs.msgs[0], "is not in the list of 2"));
                topo_errors_clear(&errs);
                topo_free(t);
                free(set);
        }
        free(path);
}

/* A plan on the ssh backend names its inventory; an inventory is only for
 * that backend. */
static void check_plan_inventory(void)
{
        static const struct {
                const char *head, *error;
        } cases[] = {
                {"name: n\nbackend: ssh\n", "backend ssh needs inventory: FILE"},
                {"name: n\ninventory: lab.yaml\n", "inventory: is for backend: ssh"},
                {"name: n\nbackend: ssh\ninventory: lab.yaml\n", NULL},
        };
        for (unsigned i = 0; i < ELEMENTSOF(cases); i++) {
                char path[] = "/tmp/mptcplab-plan-XXXXXX";
                int fd = mkstemp(path);
                _cleanup_free_ char *text =
                        xasprintf("%sscenarios: [{topology: %s/topologies/two-paths.yaml}]\n",
                                  cases[i].head, src_dir);
                CHECK(fd >= 0 && write_all(fd, text, strlen(text)) == 0);
                close(fd);
                struct plan *p = NULL;
                struct topo_errors errs = {0};
                int r = plan_parse_file(path, NULL, &p, &errs);
                if (cases[i].error)
                        CHECK(r < 0 && errs.n == 1 && strstr(errs.msgs[0], cases[i].error));
                else
                        CHECK(r == 0 && p && p->inventory && strstr(p->inventory, "/lab.yaml"));
                plan_free(p);
                topo_errors_clear(&errs);
                unlink(path);
        }
}

/* A matrix (docs/topology.md): its cells, what a cell does to the model,
 * its name in history, and the stored text read back as the same cell */
static void check_matrix(void)
{
        char *path = xasprintf("%s/topologies/asymmetric-paths.yaml", src_dir);
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        CHECK_EQ_INT(topo_parse_file(path, &t, &errs), 0);
        char ***cells = NULL;
        size_t n = t ? topo_matrix_cells(&t->matrix, &cells) : 0;
        /* 2 path managers x 4 endpoint flags x 2 schedulers, no protocol axis */
        CHECK_EQ_INT(n, 16);
        CHECK(t && !t->cell_set && streq(topo_label(t), "asymmetric-paths"));
        topo_cells_free(cells, n);
        t = topo_free(t);

        /* signal alone: the server announces, the client keeps no endpoint;
         * userspace on every MPTCP host; TCP for every workload */
        char *sets[] = {"matrix.endpoints=signal", "matrix.pm=userspace", "matrix.protocol=tcp",
                        "matrix.scheduler=bpf_rr"};
        CHECK_EQ_INT(topo_parse_file_set(path, sets, 4, &t, &errs), 0);
        if (t) {
                const struct topo_node *cl = &t->nodes[topo_find_node(t, "client")],
                                       *sv = &t->nodes[topo_find_node(t, "server")];
                CHECK_EQ_INT(cl->mptcp.n_endpoints, 0);
                CHECK(sv->mptcp.n_endpoints == 1 && sv->mptcp.endpoints[0].flags == TOPO_EP_SIGNAL);
                CHECK(streq(cl->mptcp.pm_type, "userspace") &&
                      streq(sv->mptcp.pm_type, "userspace"));
                for (unsigned w = 0; w < t->n_workloads; w++)
                        CHECK(t->workloads[w].protocol == TOPO_PROTO_TCP);
                CHECK(streq(t->label, "asymmetric-paths{pm=userspace,endpoints=signal,"
                                      "scheduler=bpf_rr,protocol=tcp}"));
                /* what a run stores reads back as the same model */
                char *y = topo_to_yaml(t);
                struct topo *t2 = NULL;
                CHECK_EQ_INT(topo_parse_string("stored.yaml", y, &t2, &errs), 0);
                char *y2 = t2 ? topo_to_yaml(t2) : NULL;
                CHECK(y2 && streq(y, y2) && streq(t2->label, t->label));
                free(y);
                free(y2);
                topo_free(t2);
        }
        t = topo_free(t);
        /* flags in any order and either separator are one value */
        char *fm[] = {"matrix.endpoints=fullmesh subflow"};
        CHECK_EQ_INT(topo_parse_file_set(path, fm, 1, &t, &errs), 0);
        if (t) {
                const struct topo_node *cl = &t->nodes[topo_find_node(t, "client")],
                                       *sv = &t->nodes[topo_find_node(t, "server")];
                CHECK(cl->mptcp.n_endpoints == 1 &&
                      cl->mptcp.endpoints[0].flags == (TOPO_EP_SUBFLOW | TOPO_EP_FULLMESH));
                CHECK_EQ_INT(sv->mptcp.n_endpoints, 0);
                CHECK(streq(t->label, "asymmetric-paths{endpoints=subflow+fullmesh}"));
        }
        t = topo_free(t);
        char *bad[] = {"matrix.color=red", "matrix.endpoints=fullmesh"};
        CHECK(topo_parse_file_set(path, bad, 2, &t, &errs) < 0);
        CHECK(errs.n == 2 && strstr(errs.msgs[0], "--set matrix.color=red") &&
              strstr(errs.msgs[1], "endpoints need signal, subflow or laminar"));
        topo_errors_clear(&errs);

        /* a protocol axis: MPTCP's axes do not apply to TCP, made once */
        struct topo_matrix m = {0};
        char *pm[] = {"kernel", "userspace"}, *ep[] = {"subflow", "signal"},
             *pr[] = {"tcp", "mptcp"};
        m.values[TOPO_AXIS_PM] = pm;
        m.n[TOPO_AXIS_PM] = 2;
        m.values[TOPO_AXIS_ENDPOINTS] = ep;
        m.n[TOPO_AXIS_ENDPOINTS] = 2;
        m.values[TOPO_AXIS_PROTOCOL] = pr;
        m.n[TOPO_AXIS_PROTOCOL] = 2;
        n = topo_matrix_cells(&m, &cells);
        CHECK_EQ_INT(n, 5);
        unsigned tcp = 0;
        for (size_t k = 0; k < n; k++)
                if (streq(cells[k][TOPO_AXIS_PROTOCOL], "tcp")) {
                        tcp++;
                        CHECK(!cells[k][TOPO_AXIS_PM] && !cells[k][TOPO_AXIS_ENDPOINTS]);
                }
        CHECK_EQ_INT(tcp, 1);
        char **cs = topo_cell_sets(cells[n - 1]);
        CHECK(cs[0] && streq(cs[0], "matrix.pm=userspace") &&
              streq(cs[1], "matrix.endpoints=signal") && streq(cs[2], "matrix.protocol=mptcp") &&
              !cs[3]);
        for (char **c = cs; *c; c++)
                free(*c);
        free(cs);
        topo_cells_free(cells, n);
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
        check_matrix();
        for (unsigned i = 0; i < n; i++) {
                check_bad(bad[i], parse_topo);
                free(bad[i]);
        }
        free(bad);
        fprintf(stderr, "%u malformed files checked\n", n);

        /* inventories (docs/inventory.md): the malformed ones, each error at
         * its FILE:LINE:COL, and one that places two-paths on two machines */
        dir = xasprintf("%s/tests/inventory/bad", src_dir);
        bad = list_yaml(dir, &n);
        free(dir);
        CHECK(n >= 5);
        for (unsigned i = 0; i < n; i++) {
                check_bad(bad[i], parse_inventory);
                free(bad[i]);
        }
        free(bad);
        fprintf(stderr, "%u malformed inventories checked\n", n);
        {
                _cleanup_free_ char *ip = xasprintf("%s/tests/inventory/lab.yaml", src_dir);
                struct topo_errors ie = {0};
                CHECK_EQ_INT(parse_inventory(ip, &ie), 0);
                for (unsigned i = 0; i < ie.n; i++)
                        fprintf(stderr, "unexpected: %s\n", ie.msgs[i]);
                CHECK_EQ_INT(ie.n, 0);
                struct inventory *inv = NULL;
                CHECK_EQ_INT(inventory_parse_file(ip, &inv, &ie), 0);
                const struct inv_node *cl = inv ? inventory_node(inv, "client") : NULL;
                const struct inv_machine *m = cl ? inventory_machine(inv, cl->machine) : NULL;
                CHECK(m && streq(m->ssh, "root@192.0.2.10") && m->port == 2222 && m->kexec);
                CHECK(m && m->n_options == 2 && streq(m->options[1], "/root/.ssh/lab"));
                CHECK(cl && cl->n_nics == 2 && streq(cl->nics[0].mac, "52:54:00:aa:bb:01") &&
                      cl->nics[1].dev && streq(cl->nics[1].dev, "enp4s0"));
                inventory_free(inv);
                topo_errors_clear(&ie);
        }

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
        check_hostile();
        check_dump_quoting();
        check_set_index();
        check_plan_inventory();
        return CHECK_DONE();
}
