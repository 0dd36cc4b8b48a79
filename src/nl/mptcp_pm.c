/* mptcp_pm.c - the in-kernel MPTCP path manager through generic netlink
 * (family "mptcp_pm", uapi <linux/mptcp.h>) with libnl-genl-3. */
#include "nl.h"
#include "../shared/util.h"

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
