/* The validity rules and id forms on made-up topologies and results: each
 * rule broken alone, in the order the rules are tried, and the exemptions
 * (crr's subflows and server count, mptcpload's late joins). */
#include "../shared/check.h"
#include "../shared/util.h"
#include "validity.h"

static const char topo_yaml[] =
        "name: v\n"
        "nodes:\n"
        "  client:\n"
        "    mptcp:\n"
        "      limits: {subflows: 2, add_addr_accepted: 1}\n"
        "      endpoints: [{dev: eth1, flags: [subflow]}]\n"
        "  server:\n"
        "    mptcp:\n"
        "      endpoints: [{dev: eth1, flags: [signal]}]\n"
        "links:\n"
        "  - endpoints: [\"client:eth0 10.0.1.1/24\", \"server:eth0 10.0.1.2/24\"]\n"
        "    shape: {rate: 20mbit}\n"
        "  - endpoints: [\"client:eth1 10.0.2.1/24\", \"server:eth1 10.0.2.2/24\"]\n"
        "    shape: {rate: 10mbit}\n"
        "workloads:\n"
        "  - {name: mp, tool: iperf3, from: client, to: server, protocol: mptcp, duration: "
        "5s, warmup: auto}\n"
        "  - {name: tcp, tool: iperf3, from: client, to: server, protocol: tcp}\n"
        "  - {name: crr, tool: mptcpload, mode: crr, from: client, to: server, flows: 4}\n"
        "  - {name: bi, tool: mptcpload, mode: stream, from: client, to: server, bidir: true}\n"
        "  - {name: ml, tool: mptcpload, mode: stream, from: client, to: server, flows: 8, "
        "warmup: auto}\n";

static struct wl_result ok_result(const struct topo *t, const char *name)
{
        const struct topo_workload *w = topo_find_workload(t, name);
        return (struct wl_result){.w = w,
                                  .status = WL_OK,
                                  .recv_bps = 25e6,
                                  .path_rate_bps = 30000000,
                                  .mp_capable = 2,
                                  .mp_join = 4,
                                  .expected_subflows = validity_expected_subflows(t, w)};
}

static void expect(struct wl_result *r, enum wl_status st, const char *reason_part)
{
        CHECK_EQ_INT(r->status, st);
        if (reason_part)
                CHECK(r->reason && strstr(r->reason, reason_part));
        else
                CHECK(!r->reason);
        free(r->reason);
        r->reason = NULL;
}

int main(void)
{
        struct topo *t = NULL;
        struct topo_errors errs = {0};
        CHECK(topo_parse_string("v.yaml", topo_yaml, &t, &errs) == 0);
        if (!t) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                return 1;
        }

        /* expected subflows: initial + 1 subflow endpoint + 1 signalled (accepted 1), limit 2 */
        CHECK_EQ_INT(validity_expected_subflows(t, topo_find_workload(t, "mp")), 3);
        CHECK_EQ_INT(validity_expected_subflows(t, topo_find_workload(t, "tcp")), 1);
        t->nodes[0].mptcp.subflows = 1; /* the limit caps the extra subflows */
        CHECK_EQ_INT(validity_expected_subflows(t, topo_find_workload(t, "mp")), 2);
        t->nodes[0].mptcp.subflows = 2;
        t->nodes[0].mptcp.add_addr_accepted = 0; /* a signalled address not accepted */
        CHECK_EQ_INT(validity_expected_subflows(t, topo_find_workload(t, "mp")), 2);
        t->nodes[0].mptcp.add_addr_accepted = 1;

        /* capacity: both directions for bidir and rr/crr */
        CHECK_NEAR(validity_capacity_bps(topo_find_workload(t, "mp"), 30000000), 30e6, 0);
        CHECK_NEAR(validity_capacity_bps(topo_find_workload(t, "bi"), 30000000), 60e6, 0);
        CHECK_NEAR(validity_capacity_bps(topo_find_workload(t, "crr"), 30000000), 60e6, 0);
        CHECK_EQ_INT(topo_path_rate_sum(t, 0, 1), 30000000);

        /* implausible goodput: over twice the shaped paths, or over 1 Tbit/s unshaped */
        char *why;
        CHECK(!validity_implausible(59e6, 30e6));
        CHECK((why = validity_implausible(61e6, 30e6)) && strstr(why, "61.00 Mbit/s"));
        free(why);
        CHECK(!validity_implausible(35e9, 0));
        CHECK((why = validity_implausible(1e308 * 1e6, 0)) && strstr(why, "implausible"));
        free(why);
        CHECK((why = validity_implausible(1e308, 0)) && strstr(why, "unshaped"));
        free(why);
        CHECK((why = validity_implausible(NAN, 30e6)) != NULL);
        free(why);

        /* an outlier window: more than the paths carry of TCP payload (1448
         * of every 1514 bytes with timestamps; 1000-byte MTU: 948 of 1014) */
        CHECK(topo_path_payload_bps(t, 0, 1, -1, 52) == 0); /* tbf's rate: no bound */
        for (unsigned i = 0; i < 2; i++)
                t->links[i].shape[0].delay_us = 1000; /* netem's rate */
        CHECK_NEAR(topo_path_payload_bps(t, 0, 1, -1, 52), 30e6 * 1448 / 1514, 1);
        CHECK_NEAR(topo_path_payload_bps(t, 0, 1, 1, 52), 10e6 * 1448 / 1514, 1);
        t->links[1].mtu = 1000;
        CHECK_NEAR(topo_path_payload_bps(t, 0, 1, -1, 52), 20e6 * 1448 / 1514 + 10e6 * 948 / 1014,
                   1);
        t->links[1].mtu = 0;
        CHECK_EQ_INT(topo_link_of_addr(t, 1, &t->nodes[1].ifaces[1].addrs[0]), 1);
        CHECK_EQ_INT(topo_link_of_addr(t, 0, &t->nodes[1].ifaces[1].addrs[0]), -1);
        double pay = 20e6 * 1448 / 1514;               /* one 20mbit path: 19.128 Mbit/s */
        CHECK(!validity_outlier_window(19.15e6, pay)); /* what such windows count */
        CHECK(!validity_outlier_window(19.18e6, pay)); /* +0.27%: within */
        CHECK((why = validity_outlier_window(19.34e6, pay)) && strstr(why, "1.11% more"));
        free(why);
        CHECK(!validity_outlier_window(1e12, 0)); /* unshaped: no bound */

        /* the tool's rules, one at a time */
        struct tool_report clean = {.server_accepted = -1};
        struct wl_result r = ok_result(t, "mp");
        validity_tool(&r, &clean);
        expect(&r, WL_OK, NULL);
        r.recv_bps = -1;
        validity_tool(&r, &clean);
        expect(&r, WL_INVALID, "did not report its goodput");
        r = ok_result(t, "mp");
        r.recv_bps = 61e6;
        validity_tool(&r, &clean);
        expect(&r, WL_INVALID, "implausible: 61.00 Mbit/s reported over 30.00 Mbit/s");
        r = ok_result(t, "ml");
        struct tool_report ml = {.mptcpload = true, .errors = 2, .server_accepted = 8};
        validity_tool(&r, &ml);
        expect(&r, WL_INVALID, "2 client and 0 server connection error(s)");
        ml.errors = 0;
        ml.server_accepted = 7;
        validity_tool(&r, &ml);
        expect(&r, WL_INVALID, "the server accepted 7 of 8 connections");
        r = ok_result(t, "crr"); /* crr opens connections all the time: no count */
        ml.server_accepted = 1;
        validity_tool(&r, &ml);
        expect(&r, WL_OK, NULL);

        /* MPTCP's rules, after the tool's */
        r = ok_result(t, "mp");
        validity_mptcp(&r);
        expect(&r, WL_OK, NULL);
        CHECK_NEAR(r.subflows_per_conn, 3, 1e-9);
        r.mp_capable = 0;
        validity_mptcp(&r);
        expect(&r, WL_INVALID, "no MP_CAPABLE SYN/ACK");
        r = ok_result(t, "mp");
        r.tool_fallbacks = 3;
        r.fallbacks = 1;
        validity_mptcp(&r);
        expect(&r, WL_INVALID, "3 connection(s) fell back");
        r = ok_result(t, "mp");
        r.mp_join = 3;
        validity_mptcp(&r);
        expect(&r, WL_INVALID, "2.50 subflows per connection, the topology implies 3");
        r = ok_result(t, "crr"); /* crr connections end before their subflows join */
        r.mp_join = 0;
        validity_mptcp(&r);
        expect(&r, WL_OK, NULL);
        r = ok_result(t, "mp");
        r.late_joins = 2;
        r.warmup_s = 1;
        validity_mptcp(&r);
        expect(&r, WL_INVALID, "2 subflow(s) joined after the measured window began");
        r = ok_result(t, "ml"); /* mptcpload's subflows are counted by itself */
        r.late_joins = 2;
        r.mp_join = 2;
        r.expected_subflows = 2;
        validity_mptcp(&r);
        expect(&r, WL_OK, NULL);
        /* a subflow that joined and was reset: the sender's samples show it */
        r = ok_result(t, "ml");
        r.mp_join = 2;
        r.expected_subflows = 2;
        r.intervals = json_tokener_parse("[{\"t\":1,\"subflows\":[{},{}]},"
                                         "{\"t\":2,\"subflows\":[{}]}]");
        validity_mptcp(&r);
        expect(&r, WL_INVALID, "a subflow closed: 1 of 2 subflows");
        json_object_put(r.intervals);
        r = ok_result(t, "ml"); /* both held */
        r.mp_join = 2;
        r.expected_subflows = 2;
        r.intervals = json_tokener_parse("[{\"t\":1,\"subflows\":[{},{}]}]");
        validity_mptcp(&r);
        expect(&r, WL_OK, NULL);
        json_object_put(r.intervals);
        r = ok_result(t, "mp"); /* an invalid workload keeps its first reason */
        r.status = WL_INVALID;
        r.reason = xstrdup("first");
        r.mp_capable = 0;
        validity_mptcp(&r);
        expect(&r, WL_INVALID, "first");
        r = ok_result(t, "tcp");
        r.mp_capable = 0;
        validity_mptcp(&r);
        expect(&r, WL_OK, NULL);
        CHECK_NEAR(r.subflows_per_conn, 1, 0);

        /* ids */
        CHECK(validity_run_id("0123456789abcdef0123456789abcdef"));
        CHECK(!validity_run_id("0123456789abcdef0123456789abcde"));
        CHECK(!validity_run_id("0123456789ABCDEF0123456789abcdef"));
        CHECK(!validity_run_id("x'); DROP TABLE runs;--"));
        CHECK(!validity_run_id(NULL));
        CHECK(validity_series_id("s0123456789abcdef0123456789abcdef"));
        CHECK(!validity_series_id("0123456789abcdef0123456789abcdef"));
        CHECK(!validity_series_id("s0123456789abcdef0123456789abcdef0"));

        topo_free(t);
        topo_errors_clear(&errs);
        return CHECK_DONE();
}
