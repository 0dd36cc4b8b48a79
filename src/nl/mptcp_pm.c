/* mptcp_pm.c - the in-kernel MPTCP path manager through generic netlink
 * (family "mptcp_pm", uapi <linux/mptcp.h>) with libnl-genl-3. */
#include "nl.h"
#include "../shared/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/mptcp.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

struct mpm {
        struct nl_sock *sk;
        int family;
};

int mpm_open(struct mpm **ret)
{
        struct mpm *h = xcalloc(1, sizeof *h);
        h->sk = nl_socket_alloc();
        if (!h->sk) {
                free(h);
                return -ENOMEM;
        }
        int r = genl_connect(h->sk);
        if (r >= 0) {
                fcntl(nl_socket_get_fd(h->sk), F_SETFD, FD_CLOEXEC);
                nl_socket_set_timeout(h->sk);
                r = genl_ctrl_resolve(h->sk, MPTCP_PM_NAME);
        }
        if (r < 0) {
                r = nl_to_errno(r);
                nl_socket_free(h->sk);
                free(h);
                /* no such family: the kernel was built without MPTCP */
                return r == -ENOENT ? -EPROTONOSUPPORT : r;
        }
        h->family = r;
        *ret = h;
        return 0;
}

struct mpm *mpm_close(struct mpm *h)
{
        if (h) {
                nl_socket_free(h->sk);
                free(h);
        }
        return NULL;
}

/* nl_socket_get_cb() takes a reference: a clone of it, that reference given back */
static struct nl_cb *clone_cb(struct mpm *h)
{
        struct nl_cb *base = nl_socket_get_cb(h->sk), *c = nl_cb_clone(base);
        nl_cb_put(base);
        return c;
}

static struct nl_msg *msg_new(struct mpm *h, uint8_t cmd, int flags)
{
        struct nl_msg *m = nlmsg_alloc();
        if (!m)
                abort();
        if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, h->family, 0, flags, cmd, MPTCP_PM_VER))
                abort();
        return m;
}

static int transact(struct mpm *h, struct nl_msg *m, nl_recvmsg_msg_cb_t cb, void *user)
{
        struct nl_cb *cbs = clone_cb(h);
        if (cb)
                nl_cb_set(cbs, NL_CB_VALID, NL_CB_CUSTOM, cb, user);
        /* a reply (when one comes) arrives first, then the ack */
        int r = nl_send_auto(h->sk, m);
        if (r >= 0 && cb)
                r = nl_recvmsgs(h->sk, cbs);
        if (r >= 0)
                r = nl_wait_for_ack(h->sk);
        nl_cb_put(cbs);
        nlmsg_free(m);
        return nl_to_errno(r < 0 ? r : 0);
}

struct limits {
        unsigned sub, add;
};

static int limits_cb(struct nl_msg *msg, void *arg)
{
        struct limits *l = arg;
        struct nlattr *tb[MPTCP_PM_ATTR_MAX + 1];
        if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MPTCP_PM_ATTR_MAX, NULL) < 0)
                return NL_SKIP;
        if (tb[MPTCP_PM_ATTR_SUBFLOWS])
                l->sub = nla_get_u32(tb[MPTCP_PM_ATTR_SUBFLOWS]);
        if (tb[MPTCP_PM_ATTR_RCV_ADD_ADDRS])
                l->add = nla_get_u32(tb[MPTCP_PM_ATTR_RCV_ADD_ADDRS]);
        return NL_OK;
}

int mpm_limits_get(struct mpm *h, unsigned *subflows, unsigned *add_addr_accepted)
{
        struct limits l = {0, 0};
        int r = transact(h, msg_new(h, MPTCP_PM_CMD_GET_LIMITS, 0), limits_cb, &l);
        if (r < 0)
                return r;
        *subflows = l.sub;
        *add_addr_accepted = l.add;
        return 0;
}

int mpm_limits_set(struct mpm *h, unsigned subflows, unsigned add_addr_accepted)
{
        struct nl_msg *m = msg_new(h, MPTCP_PM_CMD_SET_LIMITS, 0);
        nla_put_u32(m, MPTCP_PM_ATTR_SUBFLOWS, subflows);
        nla_put_u32(m, MPTCP_PM_ATTR_RCV_ADD_ADDRS, add_addr_accepted);
        return transact(h, m, NULL, NULL);
}

static void put_addr(struct nl_msg *m, const struct mpm_endpoint *ep, bool full)
{
        struct nlattr *n = nla_nest_start(m, MPTCP_PM_ATTR_ADDR | NLA_F_NESTED);
        if (ep->family) {
                nla_put_u16(m, MPTCP_PM_ADDR_ATTR_FAMILY, (uint16_t)ep->family);
                if (ep->family == AF_INET)
                        nla_put(m, MPTCP_PM_ADDR_ATTR_ADDR4, 4, &ep->addr.v4);
                else
                        nla_put(m, MPTCP_PM_ADDR_ATTR_ADDR6, 16, &ep->addr.v6);
        }
        if (ep->id)
                nla_put_u8(m, MPTCP_PM_ADDR_ATTR_ID, (uint8_t)ep->id);
        if (full) {
                if (ep->ifindex > 0)
                        nla_put_s32(m, MPTCP_PM_ADDR_ATTR_IF_IDX, ep->ifindex);
                nla_put_u32(m, MPTCP_PM_ADDR_ATTR_FLAGS, ep->flags);
                if (ep->port)
                        nla_put_u16(m, MPTCP_PM_ADDR_ATTR_PORT, (uint16_t)ep->port);
        }
        nla_nest_end(m, n);
}

struct list {
        struct mpm_endpoint *v;
        unsigned n;
};

static int addr_cb(struct nl_msg *msg, void *arg)
{
        struct list *l = arg;
        struct nlattr *tb[MPTCP_PM_ATTR_MAX + 1], *a[MPTCP_PM_ADDR_ATTR_MAX + 1];
        if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MPTCP_PM_ATTR_MAX, NULL) < 0 ||
            !tb[MPTCP_PM_ATTR_ADDR])
                return NL_SKIP;
        if (nla_parse_nested(a, MPTCP_PM_ADDR_ATTR_MAX, tb[MPTCP_PM_ATTR_ADDR], NULL) < 0)
                return NL_SKIP;
        struct mpm_endpoint ep = {0};
        if (a[MPTCP_PM_ADDR_ATTR_ID])
                ep.id = nla_get_u8(a[MPTCP_PM_ADDR_ATTR_ID]);
        if (a[MPTCP_PM_ADDR_ATTR_ADDR4]) {
                ep.family = AF_INET;
                memcpy(&ep.addr.v4, nla_data(a[MPTCP_PM_ADDR_ATTR_ADDR4]), 4);
        } else if (a[MPTCP_PM_ADDR_ATTR_ADDR6]) {
                ep.family = AF_INET6;
                memcpy(&ep.addr.v6, nla_data(a[MPTCP_PM_ADDR_ATTR_ADDR6]), 16);
        }
        if (a[MPTCP_PM_ADDR_ATTR_IF_IDX])
                ep.ifindex = nla_get_s32(a[MPTCP_PM_ADDR_ATTR_IF_IDX]);
        if (a[MPTCP_PM_ADDR_ATTR_FLAGS])
                ep.flags = nla_get_u32(a[MPTCP_PM_ADDR_ATTR_FLAGS]);
        if (a[MPTCP_PM_ADDR_ATTR_PORT])
                ep.port = nla_get_u16(a[MPTCP_PM_ADDR_ATTR_PORT]);
        l->v = xreallocarray(l->v, l->n + 1, sizeof ep);
        l->v[l->n++] = ep;
        return NL_OK;
}

int mpm_endpoint_list(struct mpm *h, struct mpm_endpoint **ret, unsigned *ret_n)
{
        struct list l = {NULL, 0};
        struct nl_msg *m = msg_new(h, MPTCP_PM_CMD_GET_ADDR, NLM_F_DUMP);
        struct nl_cb *cbs = clone_cb(h);
        nl_cb_set(cbs, NL_CB_VALID, NL_CB_CUSTOM, addr_cb, &l);
        int r = nl_send_auto(h->sk, m);
        if (r >= 0)
                r = nl_recvmsgs(h->sk, cbs);
        nl_cb_put(cbs);
        nlmsg_free(m);
        if (r < 0) {
                free(l.v);
                return nl_to_errno(r);
        }
        *ret = l.v;
        *ret_n = l.n;
        return 0;
}

int mpm_endpoint_add(struct mpm *h, const struct mpm_endpoint *ep, unsigned *ret_id)
{
        struct nl_msg *m = msg_new(h, MPTCP_PM_CMD_ADD_ADDR, 0);
        put_addr(m, ep, true);
        int r = transact(h, m, NULL, NULL);
        if (r < 0 || !ret_id)
                return r;
        if (ep->id) {
                *ret_id = ep->id;
                return 0;
        }
        /* the reply carries no id: find the endpoint the kernel just made */
        struct mpm_endpoint *v;
        unsigned n;
        if ((r = mpm_endpoint_list(h, &v, &n)) < 0)
                return r;
        r = -ENOENT;
        for (unsigned i = 0; i < n; i++)
                if (v[i].family == ep->family &&
                    !memcmp(&v[i].addr, &ep->addr, ep->family == AF_INET ? 4 : 16)) {
                        *ret_id = v[i].id;
                        r = 0;
                }
        free(v);
        return r;
}

int mpm_endpoint_del(struct mpm *h, unsigned id)
{
        struct nl_msg *m = msg_new(h, MPTCP_PM_CMD_DEL_ADDR, 0);
        struct mpm_endpoint ep = {.id = id};
        put_addr(m, &ep, false);
        int r = transact(h, m, NULL, NULL);
        return r == -EINVAL || r == -ENOENT ? 0 : r; /* already gone */
}

int mpm_endpoint_flush(struct mpm *h)
{
        struct nl_msg *m = msg_new(h, MPTCP_PM_CMD_FLUSH_ADDRS, 0);
        struct mpm_endpoint ep = {0};
        put_addr(m, &ep, false);
        return transact(h, m, NULL, NULL);
}

int mpm_endpoint_set_backup(struct mpm *h, const struct mpm_endpoint *ep, bool backup)
{
        struct mpm_endpoint e = *ep;
        e.flags = backup ? e.flags | MPM_BACKUP : e.flags & ~(unsigned)MPM_BACKUP;
        e.ifindex = 0;
        e.port = 0;
        struct nl_msg *m = msg_new(h, MPTCP_PM_CMD_SET_FLAGS, 0);
        put_addr(m, &e, true);
        return transact(h, m, NULL, NULL);
}

/* ---- events ---- */

struct mpm_events {
        struct nl_sock *sk;
        void (*cb)(const struct mpm_event *e, void *user);
        void *user;
};

int mpm_events_open(struct mpm_events **ret)
{
        struct mpm_events *h = xcalloc(1, sizeof *h);
        if (!(h->sk = nl_socket_alloc())) {
                free(h);
                return -ENOMEM;
        }
        /* events are not answers to a request of ours */
        nl_socket_disable_seq_check(h->sk);
        int r = genl_connect(h->sk), grp = -1;
        if (r >= 0) {
                fcntl(nl_socket_get_fd(h->sk), F_SETFD, FD_CLOEXEC);
                nl_socket_set_timeout(h->sk);
                r = grp = genl_ctrl_resolve_grp(h->sk, MPTCP_PM_NAME, MPTCP_PM_EV_GRP_NAME);
        }
        if (r >= 0)
                r = nl_socket_add_membership(h->sk, grp);
        if (r >= 0)
                r = nl_socket_set_nonblocking(h->sk);
        if (r < 0) {
                r = nl_to_errno(r);
                nl_socket_free(h->sk);
                free(h);
                return r == -ENOENT ? -EPROTONOSUPPORT : r;
        }
        /* a burst of events (10,000 connections opening) must not overflow it */
        nl_socket_set_buffer_size(h->sk, 4 << 20, 0);
        *ret = h;
        return 0;
}

struct mpm_events *mpm_events_close(struct mpm_events *h)
{
        if (h) {
                nl_socket_free(h->sk);
                free(h);
        }
        return NULL;
}

int mpm_events_fd(struct mpm_events *h)
{
        return nl_socket_get_fd(h->sk);
}

const char *mpm_event_name(unsigned type)
{
        switch (type) {
        case MPTCP_EVENT_CREATED:
                return "created";
        case MPTCP_EVENT_ESTABLISHED:
                return "established";
        case MPTCP_EVENT_CLOSED:
                return "closed";
        case MPTCP_EVENT_ANNOUNCED:
                return "announced";
        case MPTCP_EVENT_REMOVED:
                return "removed";
        case MPTCP_EVENT_SUB_ESTABLISHED:
                return "sub_established";
        case MPTCP_EVENT_SUB_CLOSED:
                return "sub_closed";
        case MPTCP_EVENT_SUB_PRIORITY:
                return "sub_priority";
        case 15:
                return "listener_created";
        case 16:
                return "listener_closed";
        default:
                return "?";
        }
}

static void ev_addr(struct nlattr *a4, struct nlattr *a6, char *buf, size_t len, int *family)
{
        if (a4 && nla_len(a4) >= 4) {
                inet_ntop(AF_INET, nla_data(a4), buf, (socklen_t)len);
                *family = AF_INET;
        } else if (a6 && nla_len(a6) >= 16) {
                inet_ntop(AF_INET6, nla_data(a6), buf, (socklen_t)len);
                *family = AF_INET6;
        }
}

static int event_cb(struct nl_msg *msg, void *arg)
{
        struct mpm_events *h = arg;
        struct nlattr *tb[MPTCP_ATTR_MAX + 1];
        struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
        /* an event's attributes are the kernel's, but checked all the same */
        static struct nla_policy pol[MPTCP_ATTR_MAX + 1] = {
                [MPTCP_ATTR_TOKEN] = {.type = NLA_U32}, [MPTCP_ATTR_FAMILY] = {.type = NLA_U16},
                [MPTCP_ATTR_LOC_ID] = {.type = NLA_U8}, [MPTCP_ATTR_REM_ID] = {.type = NLA_U8},
                [MPTCP_ATTR_SPORT] = {.type = NLA_U16}, [MPTCP_ATTR_DPORT] = {.type = NLA_U16},
                [MPTCP_ATTR_BACKUP] = {.type = NLA_U8}, [MPTCP_ATTR_ERROR] = {.type = NLA_U8},
        };
        if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, MPTCP_ATTR_MAX, pol) < 0)
                return NL_SKIP;
        struct mpm_event e = {.t_ns = now_usec() * 1000, .type = g->cmd, .backup = -1, .error = -1};
        if (tb[MPTCP_ATTR_TOKEN])
                e.token = nla_get_u32(tb[MPTCP_ATTR_TOKEN]);
        ev_addr(tb[MPTCP_ATTR_SADDR4], tb[MPTCP_ATTR_SADDR6], e.saddr, sizeof e.saddr, &e.family);
        ev_addr(tb[MPTCP_ATTR_DADDR4], tb[MPTCP_ATTR_DADDR6], e.daddr, sizeof e.daddr, &e.family);
        if (tb[MPTCP_ATTR_SPORT])
                e.sport = ntohs(nla_get_u16(tb[MPTCP_ATTR_SPORT]));
        if (tb[MPTCP_ATTR_DPORT])
                e.dport = ntohs(nla_get_u16(tb[MPTCP_ATTR_DPORT]));
        if (tb[MPTCP_ATTR_LOC_ID])
                e.loc_id = nla_get_u8(tb[MPTCP_ATTR_LOC_ID]);
        if (tb[MPTCP_ATTR_REM_ID])
                e.rem_id = nla_get_u8(tb[MPTCP_ATTR_REM_ID]);
        if (tb[MPTCP_ATTR_BACKUP])
                e.backup = nla_get_u8(tb[MPTCP_ATTR_BACKUP]);
        if (tb[MPTCP_ATTR_ERROR])
                e.error = nla_get_u8(tb[MPTCP_ATTR_ERROR]);
        h->cb(&e, h->user);
        return NL_OK;
}

int mpm_events_read(struct mpm_events *h, void (*cb)(const struct mpm_event *e, void *user),
                    void *user)
{
        h->cb = cb;
        h->user = user;
        struct nl_cb *cbs = nl_socket_get_cb(h->sk), *c = nl_cb_clone(cbs);
        nl_cb_put(cbs);
        nl_cb_set(c, NL_CB_VALID, NL_CB_CUSTOM, event_cb, h);
        int r;
        /* nonblocking: each turn reads one datagram's events; 0 once none is
         * waiting (libnl turns EAGAIN into 0) */
        unsigned turns = 0;
        while ((r = nl_recvmsgs_report(h->sk, c)) > 0 && ++turns < 4096)
                ;
        nl_cb_put(c);
        r = r < 0 ? nl_to_errno(r) : 0;
        return r == -EAGAIN || r == -EWOULDBLOCK ? 0 : r;
}
