/* route.c - rtnetlink through libnl-route-3. */
#include "nl.h"
#include "../shared/limits.h"
#include "../shared/util.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/pkt_sched.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/fifo.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

struct nlr {
        struct nl_sock *sk;
};

static __thread char last_error[256];

const char *nl_last_error(void)
{
        return last_error;
}

/* libnl error to -errno, remembering libnl's words for the caller's message. */
int nl_to_errno(int nlerr)
{
        static const struct {
                int nle, err;
        } map[] = {
                {NLE_EXIST, EEXIST},        {NLE_OBJ_NOTFOUND, ENOENT},
                {NLE_NOACCESS, EACCES},     {NLE_PERM, EPERM},
                {NLE_INVAL, EINVAL},        {NLE_OPNOTSUPP, EOPNOTSUPP},
                {NLE_NODEV, ENODEV},        {NLE_NOADDR, EADDRNOTAVAIL},
                {NLE_BUSY, EBUSY},          {NLE_RANGE, ERANGE},
                {NLE_AGAIN, EAGAIN},        {NLE_NOMEM, ENOMEM},
                {NLE_MSGSIZE, EMSGSIZE},    {NLE_AF_NOSUPPORT, EAFNOSUPPORT},
                {NLE_MISSING_ATTR, EINVAL}, {NLE_PROTO_MISMATCH, EPROTO},
        };
        if (nlerr >= 0)
                return nlerr;
        snprintf(last_error, sizeof last_error, "%s", nl_geterror(nlerr));
        for (unsigned i = 0; i < ELEMENTSOF(map); i++)
                if (map[i].nle == -nlerr)
                        return -map[i].err;
        return -EIO;
}

int nlr_open(struct nlr **ret)
{
        struct nlr *h = xcalloc(1, sizeof *h);
        h->sk = nl_socket_alloc();
        if (!h->sk) {
                free(h);
                return -ENOMEM;
        }
        int r = nl_connect(h->sk, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(h->sk);
                free(h);
                return nl_to_errno(r);
        }
        fcntl(nl_socket_get_fd(h->sk), F_SETFD, FD_CLOEXEC);
        nl_socket_set_timeout(h->sk);
        *ret = h;
        return 0;
}

struct nlr *nlr_close(struct nlr *h)
{
        if (h) {
                nl_socket_free(h->sk);
                free(h);
        }
        return NULL;
}

static int get_link(struct nlr *h, const char *dev, struct rtnl_link **ret)
{
        int r = rtnl_link_get_kernel(h->sk, 0, dev, ret);
        if (r < 0) {
                r = nl_to_errno(r);
                return r == -ENOENT || r == -EINVAL ? -ENODEV : r;
        }
        return 0;
}

int nlr_ifindex(struct nlr *h, const char *dev)
{
        struct rtnl_link *l;
        int r = get_link(h, dev, &l);
        if (r < 0)
                return r;
        r = rtnl_link_get_ifindex(l);
        rtnl_link_put(l);
        return r;
}

static void fill_info(struct rtnl_link *l, struct nlr_link_info *i)
{
        memset(i, 0, sizeof *i);
        i->ifindex = rtnl_link_get_ifindex(l);
        i->admin_up = rtnl_link_get_flags(l) & IFF_UP;
        i->carrier = rtnl_link_get_carrier(l);
        i->mtu = rtnl_link_get_mtu(l);
        rtnl_link_operstate2str(rtnl_link_get_operstate(l), i->operstate, sizeof i->operstate);
        i->rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
        i->tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
        i->rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
        i->tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
}

int nlr_link_get(struct nlr *h, const char *dev, struct nlr_link_info *ret)
{
        struct rtnl_link *l;
        int r = get_link(h, dev, &l);
        if (r < 0)
                return r;
        fill_info(l, ret);
        rtnl_link_put(l);
        return 0;
}

int nlr_link_foreach(struct nlr *h, nlr_link_cb cb, void *user)
{
        struct nl_cache *c;
        int r = rtnl_link_alloc_cache(h->sk, AF_UNSPEC, &c);
        if (r < 0)
                return nl_to_errno(r);
        for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
                struct nlr_link_info i;
                fill_info((struct rtnl_link *)o, &i);
                cb(rtnl_link_get_name((struct rtnl_link *)o), &i, user);
        }
        nl_cache_free(c);
        return 0;
}

int nlr_link_set(struct nlr *h, const char *dev, int up, unsigned mtu)
{
        struct rtnl_link *l;
        int r = get_link(h, dev, &l);
        if (r < 0)
                return r;
        struct rtnl_link *chg = rtnl_link_alloc();
        if (up == 1)
                rtnl_link_set_flags(chg, IFF_UP);
        else if (up == 0)
                rtnl_link_unset_flags(chg, IFF_UP);
        if (mtu)
                rtnl_link_set_mtu(chg, mtu);
        r = nl_to_errno(rtnl_link_change(h->sk, l, chg, 0));
        rtnl_link_put(chg);
        rtnl_link_put(l);
        return r;
}

int nlr_veth_create(struct nlr *h, const char *name_a, int nsfd_a, const char *name_b, int nsfd_b)
{
        struct rtnl_link *l = rtnl_link_veth_alloc();
        if (!l)
                return -ENOMEM;
        struct rtnl_link *peer = rtnl_link_veth_get_peer(l);
        rtnl_link_set_name(l, name_a);
        rtnl_link_set_ns_fd(l, nsfd_a);
        rtnl_link_set_name(peer, name_b);
        rtnl_link_set_ns_fd(peer, nsfd_b);
        int r = nl_to_errno(rtnl_link_add(h->sk, l, NLM_F_CREATE | NLM_F_EXCL));
        rtnl_link_put(peer);
        rtnl_link_veth_release(l);
        return r;
}

int nlr_bridge_create(struct nlr *h, const char *name)
{
        struct rtnl_link *l = rtnl_link_bridge_alloc();
        if (!l)
                return -ENOMEM;
        rtnl_link_set_name(l, name);
        int r = nl_to_errno(rtnl_link_add(h->sk, l, NLM_F_CREATE | NLM_F_EXCL));
        rtnl_link_put(l);
        if (r < 0)
                return r;
        struct rtnl_link *cur, *chg = rtnl_link_alloc();
        if ((r = get_link(h, name, &cur)) == 0) {
                /* a host without IPv6 refuses the inet6 part: then there is nothing to stop */
                rtnl_link_inet6_set_addr_gen_mode(chg, rtnl_link_inet6_str2addrgenmode("none"));
                if (rtnl_link_change(h->sk, cur, chg, 0) < 0) {
                        rtnl_link_put(chg);
                        chg = rtnl_link_alloc();
                }
                rtnl_link_set_flags(chg, IFF_UP);
                r = nl_to_errno(rtnl_link_change(h->sk, cur, chg, 0));
                rtnl_link_put(cur);
        }
        rtnl_link_put(chg);
        if (r < 0)
                nlr_link_del(h, name);
        return r;
}

int nlr_link_del(struct nlr *h, const char *dev)
{
        struct rtnl_link *l;
        int r = get_link(h, dev, &l);
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;
        r = nl_to_errno(rtnl_link_delete(h->sk, l));
        rtnl_link_put(l);
        return r;
}

/* ---- addresses ---- */

static int build_addr(struct nlr *h, const char *dev, const char *cidr, struct rtnl_addr **ret)
{
        int ifindex = nlr_ifindex(h, dev);
        if (ifindex < 0)
                return ifindex;
        struct nl_addr *local;
        int r = nl_addr_parse(cidr, AF_UNSPEC, &local);
        if (r < 0 || !strchr(cidr, '/')) {
                if (r >= 0)
                        nl_addr_put(local);
                snprintf(last_error, sizeof last_error, "\"%s\" is not ADDRESS/PREFIX", cidr);
                return -EINVAL;
        }
        struct rtnl_addr *a = rtnl_addr_alloc();
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_local(a, local);
        rtnl_addr_set_family(a, nl_addr_get_family(local));
        rtnl_addr_set_prefixlen(a, nl_addr_get_prefixlen(local));
        /* IPv6: no duplicate address detection delay in a lab */
        if (nl_addr_get_family(local) == AF_INET6)
                rtnl_addr_set_flags(a, IFA_F_NODAD);
        nl_addr_put(local);
        *ret = a;
        return 0;
}

int nlr_addr_add(struct nlr *h, const char *dev, const char *cidr)
{
        struct rtnl_addr *a;
        int r = build_addr(h, dev, cidr, &a);
        if (r < 0)
                return r;
        r = nl_to_errno(rtnl_addr_add(h->sk, a, NLM_F_EXCL));
        rtnl_addr_put(a);
        return r;
}

int nlr_addr_del(struct nlr *h, const char *dev, const char *cidr)
{
        struct rtnl_addr *a;
        int r = build_addr(h, dev, cidr, &a);
        if (r < 0)
                return r == -ENODEV ? 0 : r;
        r = nl_to_errno(rtnl_addr_delete(h->sk, a, 0));
        rtnl_addr_put(a);
        return r == -EADDRNOTAVAIL || r == -ENOENT ? 0 : r;
}

int nlr_addr_foreach(struct nlr *h, const char *dev, nlr_addr_cb cb, void *user)
{
        int ifindex = 0;
        if (dev && (ifindex = nlr_ifindex(h, dev)) < 0)
                return ifindex;
        struct nl_cache *c, *lc;
        int r = rtnl_addr_alloc_cache(h->sk, &c);
        if (r < 0)
                return nl_to_errno(r);
        r = rtnl_link_alloc_cache(h->sk, AF_UNSPEC, &lc);
        if (r < 0) {
                nl_cache_free(c);
                return nl_to_errno(r);
        }
        for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
                struct rtnl_addr *a = (struct rtnl_addr *)o;
                if (ifindex && rtnl_addr_get_ifindex(a) != ifindex)
                        continue;
                char buf[INET6_ADDRSTRLEN + 8], name[IFNAMSIZ] = "?";
                nl_addr2str(rtnl_addr_get_local(a), buf, sizeof buf);
                if (!strchr(buf, '/'))
                        snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "/%d",
                                 rtnl_addr_get_prefixlen(a));
                rtnl_link_i2name(lc, rtnl_addr_get_ifindex(a), name, sizeof name);
                cb(name, buf, user);
        }
        nl_cache_free(lc);
        nl_cache_free(c);
        return 0;
}

/* ---- routes and rules ---- */

static int build_route(struct nlr *h, const char *dst, const char *via, const char *dev,
                       unsigned table, struct rtnl_route **ret)
{
        struct nl_addr *gw = NULL, *d = NULL;
        int family = AF_INET, r;
        if (via) {
                if ((r = nl_addr_parse(via, AF_UNSPEC, &gw)) < 0) {
                        snprintf(last_error, sizeof last_error, "via \"%s\" is not an address",
                                 via);
                        return -EINVAL;
                }
                family = nl_addr_get_family(gw);
        }
        if (streq(dst, "default")) {
                d = nl_addr_build(family, NULL, 0);
                nl_addr_set_prefixlen(d, 0);
        } else if ((r = nl_addr_parse(dst, AF_UNSPEC, &d)) < 0) {
                nl_addr_put(gw);
                snprintf(last_error, sizeof last_error, "dst \"%s\" is not an address/prefix", dst);
                return -EINVAL;
        }
        family = nl_addr_get_family(d);
        struct rtnl_route *rt = rtnl_route_alloc();
        rtnl_route_set_family(rt, (uint8_t)family);
        rtnl_route_set_dst(rt, d);
        rtnl_route_set_table(rt, table ? table : RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        rtnl_route_set_scope(rt, via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
        nl_addr_put(d);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (gw) {
                rtnl_route_nh_set_gateway(nh, gw);
                nl_addr_put(gw);
        }
        if (dev) {
                int ifindex = nlr_ifindex(h, dev);
                if (ifindex < 0) {
                        rtnl_route_nh_free(nh);
                        rtnl_route_put(rt);
                        return ifindex;
                }
                rtnl_route_nh_set_ifindex(nh, ifindex);
        }
        rtnl_route_add_nexthop(rt, nh);
        *ret = rt;
        return 0;
}

int nlr_route_add(struct nlr *h, const char *dst, const char *via, const char *dev, unsigned table)
{
        struct rtnl_route *rt;
        int r = build_route(h, dst, via, dev, table, &rt);
        if (r < 0)
                return r;
        r = nl_to_errno(rtnl_route_add(h->sk, rt, NLM_F_EXCL));
        rtnl_route_put(rt);
        return r;
}

int nlr_route_del(struct nlr *h, const char *dst, const char *via, const char *dev, unsigned table)
{
        struct rtnl_route *rt;
        int r = build_route(h, dst, via, dev, table, &rt);
        if (r < 0)
                return r == -ENODEV ? 0 : r;
        r = nl_to_errno(rtnl_route_delete(h->sk, rt, 0));
        rtnl_route_put(rt);
        return r == -ENOENT || r == -ESRCH ? 0 : r;
}

int nlr_route_foreach(struct nlr *h, unsigned table, nlr_route_cb cb, void *user)
{
        struct nl_cache *c, *lc;
        int r = rtnl_route_alloc_cache(h->sk, AF_UNSPEC, 0, &c);
        if (r < 0)
                return nl_to_errno(r);
        if ((r = rtnl_link_alloc_cache(h->sk, AF_UNSPEC, &lc)) < 0) {
                nl_cache_free(c);
                return nl_to_errno(r);
        }
        for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
                struct rtnl_route *rt = (struct rtnl_route *)o;
                if (table && rtnl_route_get_table(rt) != table)
                        continue;
                if (rtnl_route_get_type(rt) != RTN_UNICAST)
                        continue;
                char dst[INET6_ADDRSTRLEN + 8], via[INET6_ADDRSTRLEN] = "", dev[IFNAMSIZ] = "";
                struct nl_addr *d = rtnl_route_get_dst(rt);
                if (!d || nl_addr_get_prefixlen(d) == 0)
                        snprintf(dst, sizeof dst, "default");
                else
                        nl_addr2str(d, dst, sizeof dst);
                if (rtnl_route_get_nnexthops(rt) > 0) {
                        struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
                        if (rtnl_route_nh_get_gateway(nh))
                                nl_addr2str(rtnl_route_nh_get_gateway(nh), via, sizeof via);
                        rtnl_link_i2name(lc, rtnl_route_nh_get_ifindex(nh), dev, sizeof dev);
                }
                cb(dst, via[0] ? via : NULL, dev[0] ? dev : NULL, rtnl_route_get_table(rt), user);
        }
        nl_cache_free(lc);
        nl_cache_free(c);
        return 0;
}

static int build_rule(const char *from, unsigned table, unsigned prio, struct rtnl_rule **ret)
{
        struct nl_addr *src;
        if (nl_addr_parse(from, AF_UNSPEC, &src) < 0) {
                snprintf(last_error, sizeof last_error, "from \"%s\" is not an address", from);
                return -EINVAL;
        }
        struct rtnl_rule *rule = rtnl_rule_alloc();
        rtnl_rule_set_family(rule, nl_addr_get_family(src));
        rtnl_rule_set_src(rule, src);
        rtnl_rule_set_table(rule, table);
        rtnl_rule_set_prio(rule, prio);
        rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
        nl_addr_put(src);
        *ret = rule;
        return 0;
}

int nlr_rule_add(struct nlr *h, const char *from, unsigned table, unsigned prio)
{
        struct rtnl_rule *rule;
        int r = build_rule(from, table, prio, &rule);
        if (r < 0)
                return r;
        r = nl_to_errno(rtnl_rule_add(h->sk, rule, NLM_F_EXCL));
        rtnl_rule_put(rule);
        return r;
}

int nlr_rule_del(struct nlr *h, const char *from, unsigned table, unsigned prio)
{
        struct rtnl_rule *rule;
        int r = build_rule(from, table, prio, &rule);
        if (r < 0)
                return r;
        r = nl_to_errno(rtnl_rule_delete(h->sk, rule, 0));
        rtnl_rule_put(rule);
        return r == -ENOENT ? 0 : r;
}

/* ---- qdiscs ---- */

static struct rtnl_qdisc *qdisc_new(int ifindex, uint32_t parent, uint32_t handle, const char *kind)
{
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), parent);
        rtnl_tc_set_handle(TC_CAST(q), handle);
        if (rtnl_tc_set_kind(TC_CAST(q), kind) < 0) {
                rtnl_qdisc_put(q);
                return NULL;
        }
        return q;
}

static int add_tbf(struct nlr *h, int ifindex, uint32_t parent, uint32_t handle,
                   const struct nlr_shape *s)
{
        struct rtnl_qdisc *t = qdisc_new(ifindex, parent, handle, "tbf");
        if (!t)
                return -EOPNOTSUPP;
        uint64_t bytes_per_sec = s->rate_bps / 8;
        if (s->rate_bps > LIM_RATE_MAX_BPS || bytes_per_sec == 0) {
                rtnl_qdisc_put(t);
                snprintf(last_error, sizeof last_error, "rate outside 8bit..34gbit");
                return -ERANGE;
        }
        /* burst: at least 10 ms worth so the token bucket works at any HZ */
        uint64_t burst = bytes_per_sec / 100;
        if (burst < 32 * 1024)
                burst = 32 * 1024;
        rtnl_qdisc_tbf_set_rate(t, (int)bytes_per_sec, (int)burst, 0);
        if (s->limit)
                rtnl_qdisc_tbf_set_limit(t, (int)(s->limit * 1514));
        else
                rtnl_qdisc_tbf_set_limit_by_latency(t, 100000); /* 100 ms of queue */
        int r = nl_to_errno(rtnl_qdisc_add(h->sk, t, NLM_F_CREATE | NLM_F_REPLACE));
        rtnl_qdisc_put(t);
        return r;
}

int nlr_qdisc_shape(struct nlr *h, const char *dev, const struct nlr_shape *s)
{
        int ifindex = nlr_ifindex(h, dev);
        if (ifindex < 0)
                return ifindex;
        bool netem = s->delay_us || s->jitter_us || s->loss_pct > 0;
        int r;
        if (!netem) {
                if (!s->rate_bps)
                        return nlr_qdisc_reset(h, dev);
                return add_tbf(h, ifindex, TC_H_ROOT, TC_HANDLE(1, 0), s);
        }
        struct rtnl_qdisc *q = qdisc_new(ifindex, TC_H_ROOT, TC_HANDLE(1, 0), "netem");
        if (!q)
                return -EOPNOTSUPP;
        rtnl_netem_set_limit(q, s->limit ? (int)s->limit : 10000);
        rtnl_netem_set_delay(q, (int)s->delay_us);
        if (s->jitter_us)
                rtnl_netem_set_jitter(q, (int)s->jitter_us);
        if (s->loss_pct > 0)
                rtnl_netem_set_loss(q, (int)(uint32_t)(s->loss_pct / 100.0 * 4294967295.0));
        r = nl_to_errno(rtnl_qdisc_add(h->sk, q, NLM_F_CREATE | NLM_F_REPLACE));
        rtnl_qdisc_put(q);
        if (r < 0)
                return r;
        if (s->rate_bps) {
                /* libnl 3.7 has no netem rate setter: a tbf child does the rate */
                struct nlr_shape child = *s;
                child.limit = 0;
                r = add_tbf(h, ifindex, TC_HANDLE(1, 1), TC_HANDLE(10, 0), &child);
        }
        return r;
}

int nlr_qdisc_blackhole(struct nlr *h, const char *dev)
{
        int ifindex = nlr_ifindex(h, dev);
        if (ifindex < 0)
                return ifindex;
        /* no handle: the kernel grafts it in place of whatever root is there
         * (a tbf or netem of another kind at 1: would refuse a change of kind) */
        struct rtnl_qdisc *q = qdisc_new(ifindex, TC_H_ROOT, 0, "pfifo");
        if (!q)
                return -EOPNOTSUPP;
        rtnl_qdisc_fifo_set_limit(q, 0);
        int r = nl_to_errno(rtnl_qdisc_add(h->sk, q, NLM_F_CREATE | NLM_F_REPLACE));
        rtnl_qdisc_put(q);
        return r;
}

int nlr_route_restore(struct nlr *h, const char *dst, const char *via, const char *dev,
                      unsigned table)
{
        int r = nlr_route_add(h, dst, via, dev, table);
        /* still there, or through a link that is down as well: not this link's */
        return r == -EEXIST || r == -ENETUNREACH || r == -ENETDOWN ? 0 : r;
}

int nlr_qdisc_reset(struct nlr *h, const char *dev)
{
        int ifindex = nlr_ifindex(h, dev);
        if (ifindex < 0)
                return ifindex == -ENODEV ? 0 : ifindex;
        struct rtnl_qdisc *q = rtnl_qdisc_alloc();
        rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
        rtnl_tc_set_parent(TC_CAST(q), TC_H_ROOT);
        int r = nl_to_errno(rtnl_qdisc_delete(h->sk, q));
        rtnl_qdisc_put(q);
        /* nothing to delete: the default qdisc is already there */
        return r == -ENOENT || r == -EINVAL ? 0 : r;
}

int nlr_qdisc_foreach(struct nlr *h, const char *dev, nlr_qdisc_cb cb, void *user)
{
        int ifindex = nlr_ifindex(h, dev);
        if (ifindex < 0)
                return ifindex;
        struct nl_cache *c;
        int r = rtnl_qdisc_alloc_cache(h->sk, &c);
        if (r < 0)
                return nl_to_errno(r);
        for (struct nl_object *o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
                struct rtnl_tc *tc = TC_CAST(o);
                if (rtnl_tc_get_ifindex(tc) != ifindex)
                        continue;
                cb(rtnl_tc_get_kind(tc), rtnl_tc_get_handle(tc), rtnl_tc_get_parent(tc), user);
        }
        nl_cache_free(c);
        return 0;
}

int nlr_netem_get(struct nlr *h, const char *dev, struct nlr_shape *ret)
{
        int ifindex = nlr_ifindex(h, dev);
        if (ifindex < 0)
                return ifindex;
        struct nl_cache *c;
        int r = rtnl_qdisc_alloc_cache(h->sk, &c);
        if (r < 0)
                return nl_to_errno(r);
        struct rtnl_qdisc *q = rtnl_qdisc_get_by_parent(c, ifindex, TC_H_ROOT);
        r = -ENOENT;
        if (q && streq(rtnl_tc_get_kind(TC_CAST(q)), "netem")) {
                memset(ret, 0, sizeof *ret);
                ret->delay_us = (uint32_t)rtnl_netem_get_delay(q);
                ret->jitter_us = (uint32_t)rtnl_netem_get_jitter(q);
                ret->loss_pct = (double)(uint32_t)rtnl_netem_get_loss(q) / 4294967295.0 * 100.0;
                ret->limit = (uint32_t)rtnl_netem_get_limit(q);
                r = 0;
        }
        if (q)
                rtnl_qdisc_put(q);
        nl_cache_free(c);
        return r;
}

int nlr_qdisc_available(const char *kind)
{
        /* A child in a new network namespace tries the qdisc on its loopback, so the
         * probe never touches a real interface. */
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(3);
                struct nlr *h;
                if (nlr_open(&h) < 0)
                        _exit(3);
                struct rtnl_qdisc *q = qdisc_new(1, TC_H_ROOT, TC_HANDLE(1, 0), kind);
                if (!q)
                        _exit(1);
                if (streq(kind, "tbf"))
                        rtnl_qdisc_tbf_set_rate(q, 1000000, 131072, 0),
                                rtnl_qdisc_tbf_set_limit(q, 100000);
                int r = rtnl_qdisc_add(h->sk, q, NLM_F_CREATE);
                _exit(r < 0 ? 1 : 0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(st) || WEXITSTATUS(st) == 3)
                return -EPERM;
        return WEXITSTATUS(st) == 0;
}

void nl_socket_set_timeout(struct nl_sock *sk)
{
        /* a kernel that never answers must not hang the agent */
        struct timeval tv = {.tv_sec = 10};
        setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}
