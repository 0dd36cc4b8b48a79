/* result.h - what one run measured, typed: each workload's result (rates,
 * CPU, MPTCP counters, latency, validity) and the run around them. The
 * conductor fills them; the metric registry reads them; report and store
 * show and keep them. No behaviour here: the types only. */
#pragma once
#include "../topo/topo.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* How a run or a series ended. The command line turns it into its exit
 * status (cli/verbs.h), which has the same numbers: 0 ok, 1 a regression or
 * a node's kernel crashed, 2 bad input, 3 infrastructure. */
enum outcome { OUTCOME_OK = 0, OUTCOME_REGRESSION = 1, OUTCOME_INPUT = 2, OUTCOME_INFRA = 3 };

struct iface_bytes {
        char *node, *dev;
        uint64_t tx_bytes, rx_bytes;
};

enum wl_status { WL_OK, WL_INVALID, WL_FAILED, WL_CRASHED };

/* One path event of a workload as it happened and what it did
 * (results/events.h computes the figures from the receiver's bins) */
struct ev_result {
        const struct topo_event *ev;
        double at_s;            /* asked: from the start of the measured window */
        double applied_s;       /* when the last of its nodes applied it, on the same time line */
        double late_ms;         /* applied - asked */
        double node_late_ms;    /* the same on the latest node's own clock (no offset in it) */
        double clock_uncert_ms; /* how far the nodes' clocks may be off the controller's */
        char *error;            /* a node could not apply it */
        /* what the receiver saw (-1: not computed: the event restores, or the
         * window ended first) */
        double level_bps;         /* goodput over the second before it */
        double target_bps;        /* 90% of this is recovery: the capacity that remains */
        double outage_s;          /* the longest stretch under 10% of level_bps after it */
        double outage_at_s;       /* where that stretch began, from the event */
        double second_stall_s;    /* the next longest such stretch of 100 ms or more, 0: none */
        double recovery_s;        /* until goodput held >= 90% of target_bps for a second */
        bool recovered;           /* false: it did not within the event's span, and
                                   * recovery_s is that span (a lower bound) */
        double pm_first_s;        /* until the first path-manager event on either node */
        double worst_latency_ms;  /* rr, crr: the slowest transaction ending in its span */
        double slow_transactions; /* ... and those over 1 s (-1 both: not rr) */
        double bound_s;           /* the lower bound the kernel allows (docs/events.md) */
};

struct wl_result {
        const struct topo_workload *w;
        enum wl_status status;
        char *reason; /* why invalid or failed */
        char *method; /* tcp, --mptcp, mptcpize */
        char *target;
        double sent_bps, recv_bps;
        int64_t retransmits;
        double cpu_client_pct, cpu_server_pct;           /* iperf3's own accounting */
        double cpu_client_s, cpu_server_s;               /* rusage of the two processes */
        double node_cpu_client_pct, node_cpu_server_pct; /* /proc/stat busy share, whole node */
        double node_cpu_client_s, node_cpu_server_s;     /* user+nice+system+softirq, -1: none */
        double window_s;     /* the measured window as the controller read its edges */
        double completion_s; /* a fixed-size transfer's time (size:), -1: not one */
        bool incomplete;     /* ... not all through: completion_s is its deadline */
        double vm_cpu_client_s, vm_cpu_server_s; /* the VMs' CPU time (libvirt), -1: none */
        double cycles_client, cycles_server;     /* hardware cycles of each node, -1: no PMU */
        double insns_client, insns_server; /* guest instructions (TCG plugin), -1: not counted */
        /* how fast each node's clock ran against the host's over the window
         * (ppm), and the error the readings allow; have_clock: measured */
        double clock_ppm[2], clock_unc_ppm;
        bool have_clock;
        int64_t mp_capable, mp_join, add_addr, fallbacks;
        unsigned connections; /* MPTCP connections the client opened (MP_CAPABLE SYN/ACKs) */
        double subflows_per_conn;
        double tps, cps, lat_p50_us, lat_p99_us, lat_p999_us; /* mptcpload rr/crr */
        double lat_cdf_p[16], lat_cdf_us[16];                 /* its latency distribution */
        unsigned n_lat_cdf;
        int64_t tool_fallbacks;                     /* what mptcpload saw itself */
        int64_t time_wait_client, time_wait_server; /* what mptcpload left, -1: unknown */
        unsigned expected_subflows;
        uint64_t path_rate_bps; /* sum of shaped rates from -> to, 0 if unshaped */
        /* how far the sender's bytes on its direct links sat from those links'
         * shares of the capacity: half the sum of |bytes share - capacity
         * share| (0: split as the capacities, 1: all on a link of no share);
         * have_path_share false: not measured (TCP, one link, a link not
         * shaped, nothing sent) */
        bool have_path_share;
        double path_share_error;
        /* the sender's bytes out of all its interfaces over the whole run, 0: unknown */
        double sent_gb;
        struct iface_bytes *ifaces;
        unsigned n_ifaces;
        double wall_s;
        double warmup_s;    /* the warm-up this run used */
        double settled_s;   /* when the rate settled (tool_settled_at), -1: unknown */
        int64_t late_joins; /* subflows that joined after the window began */
        /* what a report shows besides the metrics, kept in the run's JSON:
         * {node: {"MPTcpExtMPJoinAckRx": delta, ...}} for every MPTcpExt, TcpExt
         * and Tcp counter that moved (what nstat shows), {node: {"cpu0": {"user",
         * "system", "softirq", "busy"} in % of the window}}, and the tools'
         * per-interval series [{"t", "bps", "subflows": [{"rtt_us", ...}]}] */
        struct json_object *mib, *cpu_cores, *intervals;
        /* a workload with events: each event, the receiver's bins
         * ({"width_s", "bytes": [...]} from the window's start) and the path
         * manager's events ({node: [{"t_s", "type", ...}]}, t_s on the same line) */
        struct ev_result *events;
        unsigned n_events;
        struct json_object *bins, *pm_events;
};

struct run_result {
        char run_id[40];  /* 128 random bits; its first 8 digits name the lab's objects */
        bool shared_host; /* measured next to another run (--allow-concurrent) */
        const char *backend;
        const char *links; /* how links were made: veth (netns), udp or bridge (libvirt) */
        char *started_at;  /* ISO 8601 UTC */
        double wall_s, setup_s, teardown_s;
        bool teardown_deferred; /* its teardown overlaps the next run's boot */
        double teardown_wait_s; /* how long this run waited for the last one's teardown */
        struct wl_result *wl;
        unsigned n_wl;
        struct json_object *nodes; /* name -> {hello, ready_s, kernel_spec, console} */
        char *run_dir;
        char *crash_node, *crash_what, *crash_trace; /* set when a node's kernel crashed */
        char *error;                                 /* why the run stopped, if it did */
        char *skip;                /* a matrix cell its nodes cannot be: why, and nothing ran */
        struct json_object *dirty; /* machines that differ after the run (ssh), or NULL */
        /* a lab kept between runs (run_opts.keep): the run that booted it,
         * how many runs it served before this one, and the seconds this run
         * spent putting it back for the next (its agents' reset) */
        char boot_run[16];
        unsigned boot_index;
        double reset_s;
        /* lab_run took the run's topology (the caller must not free it): its
         * lab is kept for the next run, or torn down on a thread */
        bool topo_taken;
};

/* Frees a run's result (NULL is fine); returns NULL */
struct run_result *run_result_free(struct run_result *r);
/* "ok", "invalid", "failed", "crashed": as the table and the run JSON say it */
const char *wl_status_name(enum wl_status s);
