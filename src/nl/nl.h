/* nl.h - the lab's netlink layer over libnl-3: rtnetlink (links, addresses,
 * routes, rules, qdiscs) and the generic netlink family mptcp_pm. Every call
 * acts on the network namespace the calling process is in. Errors are
 * negative errno values; nl_last_error() holds the last libnl/kernel text. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct nlr;
int nlr_open(struct nlr **ret);
struct nlr *nlr_close(struct nlr *h);
const char *nl_last_error(void);
/* libnl error code to -errno (keeps libnl's text for nl_last_error()). */
int nl_to_errno(int nlerr);
struct nl_sock;
void nl_socket_set_timeout(struct nl_sock *sk);

int nlr_ifindex(struct nlr *h, const char *dev);

struct nlr_link_info {
        int ifindex;
        bool admin_up, carrier;
        unsigned mtu;
        char operstate[16];
        uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
};
int nlr_link_get(struct nlr *h, const char *dev, struct nlr_link_info *ret);
/* up: 1 up, 0 down, -1 unchanged; mtu 0: unchanged. */
int nlr_link_set(struct nlr *h, const char *dev, int up, unsigned mtu);
typedef void (*nlr_link_cb)(const char *name, const struct nlr_link_info *info, void *user);
int nlr_link_foreach(struct nlr *h, nlr_link_cb cb, void *user);
/* A veth pair whose ends are created directly in two namespaces (fds of /proc/PID/ns/net). */
int nlr_veth_create(struct nlr *h, const char *name_a, int nsfd_a, const char *name_b, int nsfd_b);
int nlr_link_del(struct nlr *h, const char *dev);
/* A bridge, up, with no IPv6 link-local address of its own (so the host sends
 * nothing into the link it joins); EEXIST when the name is taken. */
int nlr_bridge_create(struct nlr *h, const char *name);

/* cidr: "10.0.1.1/24" */
int nlr_addr_add(struct nlr *h, const char *dev, const char *cidr);
int nlr_addr_del(struct nlr *h, const char *dev, const char *cidr);
typedef void (*nlr_addr_cb)(const char *dev, const char *cidr, void *user);
int nlr_addr_foreach(struct nlr *h, const char *dev, nlr_addr_cb cb, void *user);

/* dst: "10.0.2.0/24" or "default" (family from via, else AF_INET); via, dev may be NULL;
 * table 0: main. */
int nlr_route_add(struct nlr *h, const char *dst, const char *via, const char *dev, unsigned table);
int nlr_route_del(struct nlr *h, const char *dst, const char *via, const char *dev, unsigned table);
typedef void (*nlr_route_cb)(const char *dst, const char *via, const char *dev, unsigned table,
                             void *user);
int nlr_route_foreach(struct nlr *h, unsigned table, nlr_route_cb cb, void *user);
/* "from SRC lookup TABLE" with a priority. */
int nlr_rule_add(struct nlr *h, const char *from, unsigned table, unsigned prio);
int nlr_rule_del(struct nlr *h, const char *from, unsigned table, unsigned prio);

struct nlr_shape {
        uint64_t rate_bps;
        uint32_t delay_us, jitter_us;
        double loss_pct;
        uint32_t limit; /* packets */
};
/* Root qdisc: netem (plus a tbf child for the rate) when delay, jitter or loss are
 * asked; tbf alone for a rate only. Replaces what is there. */
int nlr_qdisc_shape(struct nlr *h, const char *dev, const struct nlr_shape *s);
/* A pfifo of limit 0 at the root: every packet the interface sends is
 * dropped, silently, the link staying up (a blackhole; the host kernel has
 * neither netem nor a matchall classifier). Replaces what is there. */
int nlr_qdisc_blackhole(struct nlr *h, const char *dev);
/* Adds a route again after its link came back up: one that is there already,
 * or whose link is still down, is no error. */
int nlr_route_restore(struct nlr *h, const char *dst, const char *via, const char *dev,
                      unsigned table);
/* Deletes the root qdisc (the kernel puts its default back). Absent is success. */
int nlr_qdisc_reset(struct nlr *h, const char *dev);
typedef void (*nlr_qdisc_cb)(const char *kind, uint32_t handle, uint32_t parent, void *user);
int nlr_qdisc_foreach(struct nlr *h, const char *dev, nlr_qdisc_cb cb, void *user);
/* Netem parameters of the root qdisc, for checking what the kernel holds. */
int nlr_netem_get(struct nlr *h, const char *dev, struct nlr_shape *ret);
/* Whether this kernel can create a qdisc of this kind; probes in a throwaway namespace. */
int nlr_qdisc_available(const char *kind);

/* ---- mptcp_pm ---- */
struct mpm;
int mpm_open(struct mpm **ret);
struct mpm *mpm_close(struct mpm *h);

enum {
        MPM_SIGNAL = 1 << 0,
        MPM_SUBFLOW = 1 << 1,
        MPM_BACKUP = 1 << 2,
        MPM_FULLMESH = 1 << 3,
};

struct mpm_endpoint {
        unsigned id;
        int family;
        union {
                struct in_addr v4;
                struct in6_addr v6;
        } addr;
        int ifindex;
        unsigned flags;
        unsigned port;
};
int mpm_limits_get(struct mpm *h, unsigned *subflows, unsigned *add_addr_accepted);
int mpm_limits_set(struct mpm *h, unsigned subflows, unsigned add_addr_accepted);
/* Adds and returns the id the kernel gave (or the one asked). */
int mpm_endpoint_add(struct mpm *h, const struct mpm_endpoint *ep, unsigned *ret_id);
int mpm_endpoint_del(struct mpm *h, unsigned id);
/* The backup flag of endpoint id set or cleared (MPTCP_PM_CMD_SET_FLAGS: the
 * kernel sends MP_PRIO on the connections' subflows from that address). */
int mpm_endpoint_set_backup(struct mpm *h, const struct mpm_endpoint *ep, bool backup);

/* The path manager's events (genl group mptcp_pm_events): a socket that
 * receives them, each with the time it was read. */
struct mpm_events;
int mpm_events_open(struct mpm_events **ret);
struct mpm_events *mpm_events_close(struct mpm_events *h);
int mpm_events_fd(struct mpm_events *h);
struct mpm_event {
        uint64_t t_ns; /* CLOCK_MONOTONIC when read */
        unsigned type; /* MPTCP_EVENT_* */
        uint32_t token;
        int family;
        char saddr[48], daddr[48]; /* "" when the event has none */
        unsigned sport, dport, loc_id, rem_id;
        int backup, error; /* -1: not in the event */
};
/* "created", "sub_established", ...; "?" for one this build does not know */
const char *mpm_event_name(unsigned type);
/* Reads what is waiting (never blocks); cb for each event. */
int mpm_events_read(struct mpm_events *h, void (*cb)(const struct mpm_event *e, void *user),
                    void *user);
int mpm_endpoint_flush(struct mpm *h);
int mpm_endpoint_list(struct mpm *h, struct mpm_endpoint **ret, unsigned *ret_n);
