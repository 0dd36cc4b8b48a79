/* topo.h - the topology model: nodes, interfaces, links with shaping, MPTCP
 * settings, sysctls, routes and workloads. Built by topo_parse_file(), which
 * validates every value; the rest of the lab only ever sees a valid model.
 * A topology owns all its strings; topo_free() releases everything. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOPO_NAME_MAX 15 /* node and interface names fit IFNAMSIZ */

struct topo_pos {
        int line, col; /* 1-based; 0 when unknown */
};

struct topo_addr {
        int family; /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } u;
        unsigned prefix;
};

/* One direction of shaping, applied as an egress qdisc on the sending interface. */
struct topo_shape {
        bool set;
        uint64_t rate_bps;  /* 0: unlimited */
        uint64_t delay_us;  /* needs netem */
        uint64_t jitter_us; /* needs netem, and delay */
        double loss_pct;    /* needs netem */
        uint32_t limit;     /* queue limit in packets, 0: default */
        struct topo_pos pos;
};

static inline bool topo_shape_needs_netem(const struct topo_shape *s)
{
        return s->set && (s->delay_us || s->jitter_us || s->loss_pct > 0);
}

struct topo_iface {
        char *name;
        struct topo_addr *addrs;
        unsigned n_addrs;
        int link; /* index into topo.links */
};

enum topo_ep_flag {
        TOPO_EP_SIGNAL = 1 << 0,
        TOPO_EP_SUBFLOW = 1 << 1,
        TOPO_EP_BACKUP = 1 << 2,
        TOPO_EP_FULLMESH = 1 << 3,
        TOPO_EP_LAMINAR = 1 << 4, /* Linux 6.18: subflows to announced addresses from it */
};
/* "signal", "subflow", "backup", "fullmesh", "laminar": bit i of the flags */
extern const char *const topo_ep_flag_names[5];

struct topo_endpoint {
        char *dev;             /* interface name */
        struct topo_addr addr; /* family 0: the interface's first address */
        unsigned flags;        /* enum topo_ep_flag */
        unsigned id;           /* 0: kernel assigns */
        unsigned port;         /* 0: none */
        struct topo_pos pos;
};

struct topo_mptcp {
        bool enabled; /* net.mptcp.enabled, default true */
        bool has_limits;
        unsigned subflows, add_addr_accepted;
        struct topo_endpoint *endpoints;
        unsigned n_endpoints;
        char *pm_type; /* "kernel" or "userspace", NULL: leave */
};

struct topo_sysctl {
        char *key; /* dotted, e.g. net.ipv4.tcp_congestion_control */
        char *value;
        struct topo_pos pos;
};

struct topo_route {
        struct topo_addr dst; /* prefix 0 and family set: default */
        bool has_via;
        struct topo_addr via;
        char *dev; /* may be NULL: chosen by the kernel from via */
        struct topo_pos pos;
};

enum topo_node_kind { TOPO_NODE_HOST, TOPO_NODE_ROUTER };

struct topo_node {
        char *name;
        enum topo_node_kind kind;
        unsigned cpus;
        uint64_t memory;
        char *kernel; /* NULL: the run's kernel */
        char *uri;    /* libvirt URI of this node's hypervisor, NULL: the run's */
        struct topo_iface *ifaces;
        unsigned n_ifaces;
        struct topo_mptcp mptcp;
        struct topo_sysctl *sysctls;
        unsigned n_sysctls;
        struct topo_route *routes;
        unsigned n_routes;
        struct topo_pos pos;
};

struct topo_link_end {
        unsigned node, iface; /* indexes */
};

struct topo_link {
        struct topo_link_end end[2]; /* a, b */
        struct topo_shape shape[2];  /* [0]: a->b (a's egress), [1]: b->a (b's egress) */
        unsigned mtu;                /* both ends' MTU; 0: the interfaces' own */
        struct topo_pos pos;
};

/* A path event on a workload's timeline (docs/topology.md, events:): what
 * happens to a link, an endpoint or an address at an offset from the start of
 * the measured window. */
enum topo_ev_action {
        TOPO_EV_DOWN,         /* the link's carrier: both ends down */
        TOPO_EV_UP,           /* both ends up again, their routes back */
        TOPO_EV_BLACKHOLE,    /* every packet dropped (direction:), the link staying up */
        TOPO_EV_RESTORE,      /* the link's shape back to the topology's */
        TOPO_EV_SHAPE,        /* a step: the link shaped as shape: says */
        TOPO_EV_ENDPOINT_DEL, /* an MPTCP endpoint removed (node:, dev:) */
        TOPO_EV_ENDPOINT_ADD, /* the topology's endpoint on dev: added (back) */
        TOPO_EV_BACKUP,       /* an endpoint's backup flag set or cleared (MP_PRIO) */
        TOPO_EV_ADDRESS_DEL,  /* an interface's address removed */
};
/* "down", "endpoint del", ...: as the topology and the reports name it */
const char *topo_ev_action_name(enum topo_ev_action a);
/* Does the event take a path away (the events whose outage and recovery are timed)? */
bool topo_ev_disrupts(enum topo_ev_action a);

enum { TOPO_DIR_AB = 1, TOPO_DIR_BA = 2 };

struct topo_event {
        uint64_t at_us; /* from the start of the measured window */
        enum topo_ev_action action;
        int link;                /* link events: index into topo.links; else -1 */
        unsigned dirs;           /* blackhole and shape: TOPO_DIR_AB | TOPO_DIR_BA */
        struct topo_shape shape; /* shape: the step (both directions asked) */
        int node;                /* endpoint and address events: the node; else -1 */
        int iface;               /* ... and its interface */
        int endpoint;            /* endpoint events: index into the node's endpoints */
        bool backup;             /* backup: the flag's new value */
        struct topo_addr addr;   /* address del: the address (family 0: the first) */
        struct topo_pos pos;
};

enum topo_tool { TOPO_TOOL_IPERF3, TOPO_TOOL_MPTCPLOAD };
/* "iperf3", "mptcpload": the name a topology gives the tool */
const char *topo_tool_name(enum topo_tool t);
enum topo_proto { TOPO_PROTO_MPTCP, TOPO_PROTO_TCP };

struct topo_workload {
        char *name;
        enum topo_tool tool;
        char *mode;              /* mptcpload: stream, rr, crr; iperf3: NULL */
        unsigned from, to;       /* node indexes */
        struct topo_addr target; /* family 0: first address of `to` */
        uint64_t duration_us;
        uint64_t warmup_us; /* measured but not counted (iperf3 -O) */
        /* warmup: auto (the default): a series' runs learn how long the rate
         * takes to settle and warm up that long, at most warmup_us */
        bool warmup_auto;
        /* a fixed-size transfer (iperf3 -n): its completion time is the key
         * metric; 0: a timed stream. max_time_us: the bound it should meet */
        uint64_t size_bytes, max_time_us;
        enum topo_proto protocol;
        unsigned flows;
        bool reverse;       /* the server sends */
        bool bidir;         /* mptcpload stream: both send at once */
        unsigned port;      /* 0: the lab picks one */
        char **key_metrics; /* the metrics that decide a verdict; none: the registry's */
        struct topo_pos *key_metric_pos; /* where each is named */
        unsigned n_key_metrics;
        struct topo_event *events; /* in time order */
        unsigned n_events;
        struct topo_pos pos;
};

/* A matrix (docs/topology.md, matrix:): the choices MPTCP offers a
 * connection, each axis a list of values. A cell is one value of some axes,
 * chosen by `--set matrix.AXIS=VALUE` (or a topology's cell:), and applied to
 * the model after parsing (src/topo/matrix.c says what each axis changes). */
enum topo_axis {
        TOPO_AXIS_PM,        /* every MPTCP node's path manager: kernel, userspace */
        TOPO_AXIS_ENDPOINTS, /* the endpoints' flags: "subflow fullmesh", "signal", ... */
        TOPO_AXIS_SCHEDULER, /* net.mptcp.scheduler on every MPTCP node */
        TOPO_AXIS_PROTOCOL,  /* every workload's protocol: tcp, mptcp */
        TOPO_AXES
};
struct topo_matrix {
        char **values[TOPO_AXES];
        unsigned n[TOPO_AXES];
        struct topo_pos pos;
};

struct topo {
        char *file;
        char *name;
        /* the name and the cell, as history knows this model:
         * "two-paths{pm=kernel,endpoints=subflow+fullmesh}"; the name alone
         * without a cell */
        char *label;
        struct topo_matrix matrix; /* the file's matrix: (no axes: none) */
        char *cell[TOPO_AXES];     /* the cell this model is; NULL: as the file says */
        bool cell_set;             /* any of them */
        char *description;
        char *kernel; /* default kernel, may be NULL */
        struct topo_node *nodes;
        unsigned n_nodes;
        struct topo_link *links;
        unsigned n_links;
        struct topo_workload *workloads;
        unsigned n_workloads;
};

/* Error list: every problem in a file, each "FILE:LINE:COL: message". */
struct topo_errors {
        char **msgs;
        unsigned n;
};
void topo_errors_clear(struct topo_errors *e);
/* "FILE:LINE:COL: message" ("FILE: message" without a place) */
__attribute__((format(printf, 4, 5))) void
topo_errors_addf(struct topo_errors *e, const char *file, struct topo_pos p, const char *fmt, ...);
/* What a YAML file of the lab's must pass before libfyaml sees it: size,
 * UTF-8, no NUL, count of values and depth (FILE:LINE:COL errors). */
int topo_yaml_pre_check(const char *name, const char *text, size_t len, struct topo_errors *errs);

/* Parses and validates. On success returns 0 and *ret; on failure returns
 * -EINVAL (or -errno when the file cannot be read) and fills *errs. */
int topo_parse_file(const char *path, struct topo **ret, struct topo_errors *errs);
int topo_parse_string(const char *name, const char *yaml, struct topo **ret,
                      struct topo_errors *errs);
/* The same, with PATH=VALUE overrides applied to the document first
 * ("links.1.shape.rate=19.4mbit": dotted keys, list indexes from 0). */
int topo_parse_file_set(const char *path, char *const *sets, unsigned n_sets, struct topo **ret,
                        struct topo_errors *errs);
/* The same from bytes read once (a series parses what it hashed, whatever
 * happens to the file meanwhile); name is the file's name for messages. */
int topo_parse_text_set(const char *name, const char *text, size_t len, char *const *sets,
                        unsigned n_sets, struct topo **ret, struct topo_errors *errs);
/* The file's bytes, at most one more than a topology may have (the parser
 * refuses those); on failure an error in errs. */
int topo_read_file(const char *path, char **ret, size_t *ret_len, struct topo_errors *errs);
struct topo *topo_free(struct topo *t);

/* "pm", "endpoints", "scheduler", "protocol"; -1 for another name */
const char *topo_axis_name(enum topo_axis a);
int topo_axis_find(const char *name);
/* NULL when value is one of the axis's, else why not (static text) */
const char *topo_axis_check(enum topo_axis a, const char *value);
/* The value as a cell and a label show it: flags joined by '+' (allocated) */
char *topo_axis_canonical(enum topo_axis a, const char *value);
/* Applies t->cell to the model (and makes t->label); NULL, or what the cell
 * cannot do to this topology (allocated) */
char *topo_apply_cell(struct topo *t);
/* The cells of the matrix, in order (the last axis fastest): each an array of
 * TOPO_AXES values (NULL where the cell leaves an axis as the file has it).
 * MPTCP's own axes do not apply to a TCP cell, which is made once. Returns
 * how many; *ret freed with topo_cells_free. */
size_t topo_matrix_cells(const struct topo_matrix *m, char ****ret);
void topo_cells_free(char ***cells, size_t n);
/* "matrix.pm=kernel" for each axis the cell sets (allocated, NULL-terminated) */
char **topo_cell_sets(char *const *cell);
/* The name history knows the model by: its label, else its name */
static inline const char *topo_label(const struct topo *t)
{
        return t->label ? t->label : t->name;
}
/* Does the file have a matrix? */
static inline bool topo_has_matrix(const struct topo *t)
{
        for (unsigned a = 0; a < TOPO_AXES; a++)
                if (t->matrix.n[a])
                        return true;
        return false;
}

/* Model back to a canonical YAML text (for round-trip tests and the run record). */
char *topo_to_yaml(const struct topo *t);

int topo_find_node(const struct topo *t, const char *name);
int topo_find_iface(const struct topo_node *n, const char *name);
/* How many of the node's interfaces have an address (several: a table per
 * interface, and strict rp_filter would drop MPTCP's joined subflows) */
unsigned topo_addressed_ifaces(const struct topo_node *n);
/* Do a and b bring up the same machines: the default kernel, the nodes (name,
 * kind, CPUs, memory, kernel, hypervisor, interfaces by name) and the links'
 * ends? What the agent configures (addresses, routes, sysctls, MPTCP, shaping,
 * MTU) and the workloads may differ: a booted topology serves both. */
bool topo_same_frame(const struct topo *a, const struct topo *b);
/* The workload of that name; NULL when t is NULL or has none. */
const struct topo_workload *topo_find_workload(const struct topo *t, const char *name);
/* The most TCP payload the links from one node to another carry (only link
 * `link`, or all of them when it is -1), in bit/s: each link's rate times its
 * MTU less hdr bytes (IP and TCP headers and options) over its frame (MTU and
 * Ethernet's 14). 0 unless every such link's rate is netem's (a shape with a
 * delay, jitter or loss): tbf's bucket lets a window count a burst more. */
double topo_path_payload_bps(const struct topo *t, unsigned from, unsigned to, int link,
                             unsigned hdr);
/* The node's first address (of its first addressed interface), or NULL */
const struct topo_addr *topo_first_addr(const struct topo_node *n);
/* The link of node's interface that has address a, or -1 */
int topo_link_of_addr(const struct topo *t, unsigned node, const struct topo_addr *a);
/* Which way a link carries traffic from one node to another: 0 (a->b), 1
 * (b->a), -1 when it does not join them */
int topo_link_dir(const struct topo_link *l, unsigned from, unsigned to);
/* Sum of the a->b rates of the links between two nodes (0 if any is unshaped). */
uint64_t topo_path_rate_sum(const struct topo *t, unsigned from, unsigned to);

/* "10.0.1.1/24" */
int topo_addr_parse(const char *s, bool need_prefix, struct topo_addr *ret);
const char *topo_addr_str(const struct topo_addr *a, bool with_prefix, char *buf, unsigned len);
/* Does the subnet net (its address and prefix) hold a? Bitwise; families differ: no. */
bool topo_addr_in(const struct topo_addr *net, const struct topo_addr *a);
/* a with every bit past its prefix cleared: 10.0.1.1/24 -> 10.0.1.0/24 */
struct topo_addr topo_addr_network(const struct topo_addr *a);
