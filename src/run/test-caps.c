/* What a topology asks of its nodes against made-up hellos: each lack alone,
 * named with its node, link and FILE:LINE:COL (the missing-netem branch of
 * the netns suite only runs on a host without netem; this runs everywhere). */
#include "../shared/check.h"
#include "../shared/json.h"
#include "../shared/util.h"
#include "caps.h"

static const char yaml[] =
        "name: c\n"
        "nodes: {client: {}, server: {}}\n"
        "links:\n"
        "  - endpoints: [\"client:eth0 10.0.1.1/24\", \"server:eth0 10.0.1.2/24\"]\n"
        "    shape: {rate: 20mbit, delay: 10ms}\n"
        "  - endpoints: [\"client:eth1 10.0.2.1/24\", \"server:eth1 10.0.2.2/24\"]\n"
        "    shape: {rate: 20mbit}\n"
        "workloads:\n"
        "  - {name: bulk, tool: iperf3, from: client, to: server, protocol: mptcp}\n"
        "  - {name: rr, tool: mptcpload, mode: rr, from: client, to: server}\n";

static const char full[] = "{\"kernel\": \"6.1.0-56-cloud-amd64\", \"qdiscs\": {\"netem\": true, "
                           "\"tbf\": true}, \"mptcp\": {\"available\": true}, \"iperf3\": "
                           "{\"version\": \"3.12\", \"mptcp_flag\": false}, \"mptcpize\": true, "
                           "\"mptcpload\": true}";

/* caps_check with the server's hello changed at path to value (JSON) */
static int check_with(const struct topo *t, const char *a, const char *b, const char *value,
                      char **err)
{
        struct json_object *h[2] = {json_tokener_parse(full), json_tokener_parse(full)};
        struct json_object *where = b ? jobj(h[1], a) : h[1];
        json_object_object_add(where, b ? b : a, value ? json_tokener_parse(value) : NULL);
        *err = NULL;
        int r = caps_check(t, h, err);
        json_object_put(h[0]);
        json_object_put(h[1]);
        return r;
}

int main(void)
{
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        CHECK(topo_parse_string("c.yaml", yaml, &t, &errs) == 0);
        if (!t)
                return 1;
        char *err = NULL;
        CHECK_EQ_INT(check_with(t, "kernel", NULL, "\"6.1.0-56-cloud-amd64\"", &err), 0);
        CHECK(!err);

        CHECK_EQ_INT(check_with(t, "qdiscs", "netem", "false", &err), -EOPNOTSUPP);
        CHECK(err &&
              strstr(err, "c.yaml:5:13: link 1 asks for delay on server:eth0, but the kernel "
                          "of node server (6.1.0-56-cloud-amd64) has no netem qdisc"));
        free(err);
        CHECK_EQ_INT(check_with(t, "qdiscs", "tbf", "false", &err), -EOPNOTSUPP);
        CHECK(err && strstr(err, "c.yaml:7:13: link 2 asks for a rate on server:eth1, but the "
                                 "kernel of node server has no tbf qdisc"));
        free(err);
        CHECK_EQ_INT(check_with(t, "qdiscs", "probe_error", "\"cannot open rtnetlink\"", &err),
                     -EOPNOTSUPP);
        CHECK(err && strstr(err, "link 1 is shaped on server:eth0, but the agent of node server"));
        free(err);
        CHECK_EQ_INT(check_with(t, "mptcp", "available", "false", &err), -EOPNOTSUPP);
        CHECK(err && strstr(err, "node server: kernel 6.1.0-56-cloud-amd64 has no MPTCP"));
        free(err);
        CHECK_EQ_INT(check_with(t, "mptcpload", NULL, "false", &err), -ENOENT);
        CHECK(err && strstr(err, "node server: workload rr needs mptcpload, which is not there"));
        free(err);
        CHECK_EQ_INT(check_with(t, "iperf3", "version", NULL, &err), -ENOENT);
        CHECK(err && strstr(err, "node server: workload bulk needs iperf3"));
        free(err);
        /* MPTCP through iperf3: --mptcp (3.19+) or mptcpize, one of them */
        CHECK_EQ_INT(check_with(t, "mptcpize", NULL, "false", &err), -ENOENT);
        CHECK(err && strstr(err, "workload bulk asks for MPTCP, but iperf3 3.12 has no --mptcp and "
                                 "mptcpize is missing"));
        free(err);
        topo_free(t);
        return CHECK_DONE();
}
