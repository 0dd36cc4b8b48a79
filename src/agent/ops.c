/* ops.c - the agent's operations. Each validates its arguments, acts through
 * netlink or /proc, records what it changed, and fills a reply. */
#include "agent.h"
#include "../shared/limits.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>

#define ARG_STR(var, key)                                                                          \
        const char *var = jstr(args, key);                                                         \
        if (!var)                                                                                  \
        return reply_error(r, -EINVAL, "argument \"%s\" is missing or not a string", key)

#define ARG_DEV(var, key)                                                                          \
        ARG_STR(var, key);                                                                         \
        if (!valid_ifname(var))                                                                    \
        return reply_error(r, -EINVAL, "argument \"%s\": \"%s\" is not an interface name", key, var)

/* The fuzzer's dispatcher (a->dry_run): every argument is checked as usual,
 * then the operation stops before it touches the system. */
#define ACT(a, r)                                                                                  \
        do {                                                                                       \
                if ((a)->dry_run) {                                                                \
                        (r)->result = json_object_new_object();                                    \
                        return 0;                                                                  \
                }                                                                                  \
        } while (0)

/* An optional integer in [min, max]; returns false (error set) when present but bad. */
static bool arg_uint(struct json_object *args, const char *key, int64_t min, int64_t max,
                     int64_t *val, bool *present, struct reply *r)
{
        struct json_object *v;
        *present = json_object_object_get_ex(args, key, &v);
        if (!*present)
                return true;
        if (!json_object_is_type(v, json_type_int) || (*val = json_object_get_int64(v)) < min ||
            *val > max) {
                reply_error(r, -EINVAL, "argument \"%s\" must be an integer from %lld to %lld", key,
                            (long long)min, (long long)max);
                return false;
        }
        return true;
}

static int nl_fail(struct reply *r, int err, const char *what)
{
        const char *detail = nl_last_error();
        return reply_error(r, err, "%s: %s%s%s", what, strerror(-err), detail[0] ? " (" : "",
                           detail[0] ? detail : "");
}

static int ensure_mpm(struct agent *a, struct reply *r)
{
        if (a->mpm || a->dry_run)
                return 0;
        int e = mpm_open(&a->mpm);
        if (e == -EPROTONOSUPPORT)
                return reply_error(r, e,
                                   "this kernel has no MPTCP path manager (generic netlink "
                                   "family mptcp_pm missing: CONFIG_MPTCP off?)");
        if (e < 0)
                return nl_fail(r, e, "mptcp_pm");
        return 0;
}

/* ---- hello ---- */

/* A program the agent runs: beside the agent's own binary first (a build
 * directory, or the guest image's directory, holds mptcpload next to it),
 * then on PATH. */
static bool have_program(const char *name, char *path, size_t len)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                char *slash = strrchr(self, '/');
                if (slash) {
                        snprintf(path, len, "%.*s/%s", (int)(slash - self), self, name);
                        if (access(path, X_OK) == 0)
                                return true;
                }
        }
        const char *p = getenv("PATH");
        _cleanup_free_ char *copy = xstrdup(p ? p : "/usr/sbin:/usr/bin:/sbin:/bin");
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                snprintf(path, len, "%s/%s", dir, name);
                if (access(path, X_OK) == 0)
                        return true;
        }
        return false;
}

static int qdisc_cached(int *cache, const char *kind)
{
        if (*cache < 0)
                *cache = nlr_qdisc_available(kind);
        return *cache;
}

static int op_hello(struct agent *a, struct json_object *args, struct reply *r)
{
        if (a->hello) {
                r->result = json_object_get(a->hello);
                return 0;
        }
        ACT(a, r);
        struct json_object *o = json_object_new_object();
        struct utsname u;
        uname(&u);
        json_object_object_add(o, "protocol", json_object_new_int(AGENT_PROTOCOL));
        json_object_object_add(o, "node", json_object_new_string(a->node));
        json_object_object_add(o, "kernel", json_object_new_string(u.release));
        /* uname -v: says when the kernel was built (the nightly orders by it) */
        json_object_object_add(o, "kernel_version", json_object_new_string(u.version));
        json_object_object_add(o, "machine", json_object_new_string(u.machine));
        json_object_object_add(o, "pid", json_object_new_int(getpid()));
        /* on a machine reached over ssh: where the controller's connection
         * arrives (docs/agent-protocol.md) */
        json_object_object_add(o, "management", alias_management(a));
        /* the clock the kernel keeps time by: under TCG a TSC calibrated
         * against emulated timers may run off by a part in a thousand */
        _cleanup_free_ char *cs = NULL;
        if (read_file("/sys/devices/system/clocksource/clocksource0/current_clocksource", &cs,
                      NULL) == 0) {
                cs[strcspn(cs, "\n")] = 0;
                json_object_object_add(o, "clocksource", json_object_new_string(cs));
        }

        char path[512];
        _cleanup_free_ char *en = NULL;
        struct json_object *mp = json_object_new_object();
        bool avail = read_file("/proc/sys/net/mptcp/enabled", &en, NULL) == 0;
        json_object_object_add(mp, "available", json_object_new_boolean(avail));
        json_object_object_add(mp, "enabled", json_object_new_boolean(avail && en[0] == '1'));
        /* what a matrix cell may ask of the kernel (docs/topology.md):
         * its schedulers, and which path manager switch it has */
        _cleanup_free_ char *sched = NULL;
        if (avail && read_file("/proc/sys/net/mptcp/available_schedulers", &sched, NULL) == 0) {
                struct json_object *arr = json_object_new_array();
                char *save = NULL;
                for (char *w = strtok_r(sched, " \t\n", &save); w;
                     w = strtok_r(NULL, " \t\n", &save))
                        json_object_array_add(arr, json_object_new_string(w));
                json_object_object_add(mp, "schedulers", arr);
        }
        json_object_object_add(
                mp, "pm_type",
                json_object_new_boolean(access("/proc/sys/net/mptcp/pm_type", F_OK) == 0));
        json_object_object_add(o, "mptcp", mp);
        /* the tools a run records: iproute2's version (ip -V) */
        if (have_program("ip", path, sizeof path)) {
                char *argv[] = {path, "-V", NULL}, *out = NULL;
                int st;
                const char *v;
                if (spawn_run(argv, 5000, &out, NULL, &st) == 0 && out &&
                    (v = strstr(out, "iproute2-"))) {
                        size_t len = strcspn(v + 9, ", \n");
                        json_object_object_add(o, "iproute2",
                                               json_object_new_string_len(v + 9, (int)len));
                }
                free(out);
        }
        /* the userspace path manager's daemon, where it is installed */
        if (have_program("mptcpd", path, sizeof path)) {
                struct json_object *md = json_object_new_object();
                char *argv[] = {path, "--version", NULL}, *out = NULL;
                int st;
                if (spawn_run(argv, 5000, &out, NULL, &st) == 0 && out) {
                        out[strcspn(out, "\n")] = 0;
                        json_object_object_add(md, "version", json_object_new_string(out));
                }
                free(out);
                json_object_object_add(md, "path", json_object_new_string(path));
                json_object_object_add(o, "mptcpd", md);
        }

        struct json_object *q = json_object_new_object();
        json_object_object_add(q, "netem",
                               json_object_new_boolean(qdisc_cached(&a->have_netem, "netem") > 0));
        json_object_object_add(q, "tbf",
                               json_object_new_boolean(qdisc_cached(&a->have_tbf, "tbf") > 0));
        json_object_object_add(q, "htb",
                               json_object_new_boolean(qdisc_cached(&a->have_htb, "htb") > 0));
        /* the probes run in a throwaway network namespace: without one (no
         * CONFIG_NET_NS) no qdisc can be seen, and the hello says why */
        if (a->have_netem < 0 || a->have_tbf < 0)
                json_object_object_add(
                        q, "probe_error",
                        json_object_new_string("cannot make a network namespace to probe qdiscs "
                                               "in (is CONFIG_NET_NS set?)"));
        json_object_object_add(o, "qdiscs", q);

        struct json_object *ip = json_object_new_object();
        if (have_program("iperf3", path, sizeof path)) {
                char *argv[] = {path, "--version", NULL}, *out = NULL, *help = NULL;
                char *hargv[] = {path, "--help", NULL};
                int st;
                if (spawn_run(argv, 5000, &out, NULL, &st) == 0) {
                        char ver[32] = "";
                        if (sscanf(out, "iperf %31s", ver) == 1)
                                json_object_object_add(ip, "version", json_object_new_string(ver));
                }
                /* --mptcp arrived in 3.19 (-m); ask the binary rather than guess from the version
                 */
                spawn_run(hargv, 5000, &help, NULL, &st);
                json_object_object_add(ip, "mptcp_flag",
                                       json_object_new_boolean(help && strstr(help, "--mptcp")));
                json_object_object_add(ip, "path", json_object_new_string(path));
                free(out);
                free(help);
        }
        json_object_object_add(o, "iperf3", ip);
        json_object_object_add(
                o, "mptcpize",
                json_object_new_boolean(have_program("mptcpize", path, sizeof path)));
        json_object_object_add(
                o, "mptcpload",
                json_object_new_boolean(have_program("mptcpload", path, sizeof path)));
        r->result = o;
        return 0;
}

/* ---- links ---- */

static struct json_object *link_json(const struct nlr_link_info *i)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "ifindex", json_object_new_int(i->ifindex));
        json_object_object_add(o, "up", json_object_new_boolean(i->admin_up));
        json_object_object_add(o, "carrier", json_object_new_boolean(i->carrier));
        json_object_object_add(o, "operstate", json_object_new_string(i->operstate));
        json_object_object_add(o, "mtu", json_object_new_int((int)i->mtu));
        json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)i->rx_bytes));
        json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)i->tx_bytes));
        json_object_object_add(o, "rx_packets", json_object_new_int64((int64_t)i->rx_packets));
        json_object_object_add(o, "tx_packets", json_object_new_int64((int64_t)i->tx_packets));
        return o;
}

static int op_link_get(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        struct nlr_link_info i;
        ACT(a, r);
        int e = nlr_link_get(a->nl, dev, &i);
        if (e < 0)
                return nl_fail(r, e, dev);
        r->result = link_json(&i);
        return 0;
}

static void link_list_cb(const char *name, const struct nlr_link_info *i, void *user)
{
        json_object_object_add(user, name, link_json(i));
}

static int op_link_list(struct agent *a, struct json_object *args, struct reply *r)
{
        ACT(a, r);
        struct json_object *o = json_object_new_object();
        int e = nlr_link_foreach(a->nl, link_list_cb, o);
        if (e < 0) {
                json_object_put(o);
                return nl_fail(r, e, "links");
        }
        r->result = o;
        return 0;
}

static int op_link_set(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        bool up = false, has_up = jbool(args, "up", &up), has_mtu;
        int64_t mtu = 0;
        if (!arg_uint(args, "mtu", 68, 65535, &mtu, &has_mtu, r))
                return -EINVAL;
        if (!has_up && !has_mtu)
                return reply_error(r, -EINVAL, "link_set needs \"up\" (boolean) or \"mtu\"");
        struct nlr_link_info old;
        ACT(a, r);
        int e = nlr_link_get(a->nl, dev, &old);
        if (e < 0)
                return nl_fail(r, e, dev);
        e = nlr_link_set(a->nl, dev, has_up ? up : -1, (unsigned)mtu);
        if (e < 0)
                return nl_fail(r, e, dev);
        if (!undo_has(a, UNDO_LINK, dev))
                undo_push(a, UNDO_LINK, dev, NULL, NULL, old.admin_up, old.mtu);
        r->result = json_object_new_object();
        /* a link taken down lost its routes with it (the kernel flushes them):
         * coming back up, it gets the ones the agent gave it (a path event's
         * "up"); nothing to do when it was up or had none */
        if (has_up && up && !old.admin_up) {
                unsigned restored = 0;
                if ((e = undo_routes_restore(a, &restored)) < 0)
                        return nl_fail(r, e, "routes");
                json_object_object_add(r->result, "routes_restored",
                                       json_object_new_int((int)restored));
        }
        return 0;
}

/* A bridge the agent owns: deleted by reset, bye and the agent's exit (the
 * controller's host agent makes the bridges of --links bridge with it). */
static int op_bridge_add(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(name, "name");
        ACT(a, r);
        int e = nlr_bridge_create(a->nl, name);
        if (e == -EEXIST)
                return reply_error(r, e, "bridge_add: a device named %s exists already", name);
        if (e < 0)
                return nl_fail(r, e, name);
        undo_push(a, UNDO_DEVICE, name, NULL, NULL, 0, 0);
        r->result = json_object_new_object();
        return 0;
}

/* ---- waiting for a condition, without blocking the agent ---- */

static int defer_or_settle(struct agent *a, struct cond_wait *w, struct reply *r)
{
        int c = w->check(a, w, r);
        if (c != 0) {
                free(w->dev);
                free(w);
                return c < 0 ? -EIO : 0;
        }
        w->req_id = r->req_id;
        w->next = a->waits;
        a->waits = w;
        r->deferred = true;
        return 0;
}

int waits_tick(struct agent *a)
{
        for (struct cond_wait **pp = &a->waits; *pp;) {
                struct cond_wait *w = *pp;
                struct reply r = {0};
                if (w->check(a, w, &r) == 0) {
                        pp = &w->next;
                        continue;
                }
                *pp = w->next;
                agent_send_reply(a, w->req_id, &r);
                free(w->dev);
                free(w);
        }
        return a->waits ? 20 : -1;
}

void waits_cancel(struct agent *a)
{
        while (a->waits) {
                struct cond_wait *w = a->waits;
                a->waits = w->next;
                struct reply r = {0};
                reply_error(&r, -ECANCELED, "the agent is exiting");
                agent_send_reply(a, w->req_id, &r);
                free(w->dev);
                free(w);
        }
}

static int check_link_up(struct agent *a, struct cond_wait *w, struct reply *r)
{
        struct nlr_link_info i;
        int e = nlr_link_get(a->nl, w->dev, &i);
        if (e < 0)
                return nl_fail(r, e, w->dev);
        if (i.carrier && (streq(i.operstate, "up") || streq(i.operstate, "unknown"))) {
                r->result = link_json(&i);
                return 1;
        }
        if (now_usec() >= w->until_us)
                return reply_error(r, -ETIMEDOUT,
                                   "%s is not up after %llu ms (operstate %s, carrier %d)", w->dev,
                                   (unsigned long long)w->timeout_ms, i.operstate, i.carrier);
        return 0;
}

static int op_link_wait(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        int64_t timeout = 5000;
        bool has;
        if (!arg_uint(args, "timeout_ms", 0, 30000, &timeout, &has, r))
                return -EINVAL;
        ACT(a, r);
        struct cond_wait *w = xcalloc(1, sizeof *w);
        *w = (struct cond_wait){.until_us = now_usec() + (uint64_t)timeout * 1000,
                                .timeout_ms = (uint64_t)timeout,
                                .dev = xstrdup(dev),
                                .check = check_link_up};
        return defer_or_settle(a, w, r);
}

/* ---- addresses ---- */

static int op_addr_add(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        ARG_STR(addr, "addr");
        if (!valid_cidr(addr))
                return reply_error(r, -EINVAL, "\"%s\" is not ADDRESS/PREFIX", addr);
        ACT(a, r);
        int e = nlr_addr_add(a->nl, dev, addr);
        if (e < 0)
                return nl_fail(r, e, addr);
        undo_push(a, UNDO_ADDR, dev, addr, NULL, 0, 0);
        r->result = json_object_new_object();
        return 0;
}

static int op_addr_del(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        ARG_STR(addr, "addr");
        ACT(a, r);
        int e = nlr_addr_del(a->nl, dev, addr);
        if (e < 0)
                return nl_fail(r, e, addr);
        undo_forget(a, UNDO_ADDR, dev, addr, NULL, 0, 0);
        r->result = json_object_new_object();
        return 0;
}

static void addr_list_cb(const char *dev, const char *cidr, void *user)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "dev", json_object_new_string(dev));
        json_object_object_add(o, "addr", json_object_new_string(cidr));
        json_object_array_add(user, o);
}

static int op_addr_list(struct agent *a, struct json_object *args, struct reply *r)
{
        const char *dev = jstr(args, "dev");
        ACT(a, r);
        struct json_object *arr = json_object_new_array();
        int e = nlr_addr_foreach(a->nl, dev, addr_list_cb, arr);
        if (e < 0) {
                json_object_put(arr);
                return nl_fail(r, e, dev ? dev : "addresses");
        }
        r->result = json_object_new_object();
        json_object_object_add(r->result, "addrs", arr);
        return 0;
}

/* ---- routes and rules ---- */

static int route_args(struct json_object *args, struct reply *r, const char **dst, const char **via,
                      const char **dev, unsigned *table)
{
        int64_t t = 0;
        bool has;
        *dst = jstr(args, "dst");
        *via = jstr(args, "via");
        *dev = jstr(args, "dev");
        if (!*dst || (!streq(*dst, "default") && !valid_cidr(*dst)))
                return reply_error(r, -EINVAL,
                                   "argument \"dst\" must be ADDRESS/PREFIX or default");
        if (!*via && !*dev)
                return reply_error(r, -EINVAL, "a route needs \"via\" or \"dev\"");
        unsigned char tmp[16];
        if (*via && inet_pton(AF_INET, *via, tmp) != 1 && inet_pton(AF_INET6, *via, tmp) != 1)
                return reply_error(r, -EINVAL, "argument \"via\": \"%s\" is not an address", *via);
        if (*dev && !valid_ifname(*dev))
                return reply_error(r, -EINVAL, "\"%s\" is not an interface name", *dev);
        if (!arg_uint(args, "table", 1, 0xfffffff, &t, &has, r))
                return -EINVAL;
        *table = (unsigned)t;
        return 0;
}

static int op_route_add(struct agent *a, struct json_object *args, struct reply *r)
{
        const char *dst, *via, *dev;
        unsigned table;
        if (route_args(args, r, &dst, &via, &dev, &table) < 0)
                return -EINVAL;
        ACT(a, r);
        int e = nlr_route_add(a->nl, dst, via, dev, table);
        if (e < 0)
                return nl_fail(r, e, dst);
        undo_push(a, UNDO_ROUTE, dst, via, dev, table, 0);
        r->result = json_object_new_object();
        return 0;
}

static int op_route_del(struct agent *a, struct json_object *args, struct reply *r)
{
        const char *dst, *via, *dev;
        unsigned table;
        if (route_args(args, r, &dst, &via, &dev, &table) < 0)
                return -EINVAL;
        ACT(a, r);
        int e = nlr_route_del(a->nl, dst, via, dev, table);
        if (e < 0)
                return nl_fail(r, e, dst);
        undo_forget(a, UNDO_ROUTE, dst, via, dev, table, 0);
        r->result = json_object_new_object();
        return 0;
}

static void route_list_cb(const char *dst, const char *via, const char *dev, unsigned table,
                          void *user)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "dst", json_object_new_string(dst));
        if (via)
                json_object_object_add(o, "via", json_object_new_string(via));
        if (dev)
                json_object_object_add(o, "dev", json_object_new_string(dev));
        json_object_object_add(o, "table", json_object_new_int64(table));
        json_object_array_add(user, o);
}

static int op_route_list(struct agent *a, struct json_object *args, struct reply *r)
{
        int64_t table = 0;
        bool has;
        if (!arg_uint(args, "table", 1, 0xfffffff, &table, &has, r))
                return -EINVAL;
        ACT(a, r);
        struct json_object *arr = json_object_new_array();
        int e = nlr_route_foreach(a->nl, (unsigned)table, route_list_cb, arr);
        if (e < 0) {
                json_object_put(arr);
                return nl_fail(r, e, "routes");
        }
        r->result = json_object_new_object();
        json_object_object_add(r->result, "routes", arr);
        return 0;
}

static int op_rule(struct agent *a, struct json_object *args, struct reply *r, bool add)
{
        ARG_STR(from, "from");
        int64_t table = 0, prio = 0;
        bool has_t, has_p;
        if (!valid_cidr(from))
                return reply_error(r, -EINVAL, "argument \"from\" must be ADDRESS/PREFIX");
        if (!arg_uint(args, "table", 1, 0xfffffff, &table, &has_t, r) ||
            !arg_uint(args, "prio", 1, 32765, &prio, &has_p, r))
                return -EINVAL;
        if (!has_t || !has_p)
                return reply_error(r, -EINVAL, "a rule needs \"table\" and \"prio\"");
        ACT(a, r);
        int e = add ? nlr_rule_add(a->nl, from, (unsigned)table, (unsigned)prio)
                    : nlr_rule_del(a->nl, from, (unsigned)table, (unsigned)prio);
        if (e < 0)
                return nl_fail(r, e, from);
        if (add)
                undo_push(a, UNDO_RULE, from, NULL, NULL, (unsigned)table, (unsigned)prio);
        else
                undo_forget(a, UNDO_RULE, from, NULL, NULL, (unsigned)table, (unsigned)prio);
        r->result = json_object_new_object();
        return 0;
}

static int op_rule_add(struct agent *a, struct json_object *args, struct reply *r)
{
        return op_rule(a, args, r, true);
}

static int op_rule_del(struct agent *a, struct json_object *args, struct reply *r)
{
        return op_rule(a, args, r, false);
}

/* ---- qdiscs ---- */

static int op_qdisc_set(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        struct nlr_shape s = {0};
        bool blackhole = false;
        if (json_object_object_get_ex(args, "blackhole", NULL) &&
            !jbool(args, "blackhole", &blackhole))
                return reply_error(r, -EINVAL, "argument \"blackhole\" must be a boolean");
        if (blackhole) {
                if (json_object_object_length(args) != 2)
                        return reply_error(r, -EINVAL,
                                           "a blackhole drops everything: no shape with it");
                ACT(a, r);
                int e = nlr_qdisc_blackhole(a->nl, dev);
                if (!undo_has(a, UNDO_QDISC, dev))
                        undo_push(a, UNDO_QDISC, dev, NULL, NULL, 0, 0);
                if (e < 0)
                        return nl_fail(r, e, dev);
                r->result = json_object_new_object();
                json_object_object_add(r->result, "root", json_object_new_string("pfifo"));
                return 0;
        }
        int64_t v;
        bool has;
        if (!arg_uint(args, "rate_bps", LIM_RATE_MIN_BPS, LIM_RATE_MAX_BPS, &v, &has, r))
                return -EINVAL;
        s.rate_bps = has ? (uint64_t)v : 0;
        if (!arg_uint(args, "delay_us", 0, LIM_DELAY_MAX_US, &v, &has, r))
                return -EINVAL;
        s.delay_us = has ? (uint32_t)v : 0;
        if (!arg_uint(args, "jitter_us", 0, LIM_DELAY_MAX_US, &v, &has, r))
                return -EINVAL;
        s.jitter_us = has ? (uint32_t)v : 0;
        if (!arg_uint(args, "limit", 1, LIM_QUEUE_MAX_PKTS, &v, &has, r))
                return -EINVAL;
        s.limit = has ? (uint32_t)v : 0;
        if (json_object_object_get_ex(args, "loss_pct", NULL) &&
            (!jdouble(args, "loss_pct", &s.loss_pct) || !isfinite(s.loss_pct) || s.loss_pct < 0 ||
             s.loss_pct > 100))
                return reply_error(r, -EINVAL,
                                   "argument \"loss_pct\" must be a number from 0 to 100");
        if (s.jitter_us && !s.delay_us)
                return reply_error(r, -EINVAL, "jitter needs a delay");
        bool netem = s.delay_us || s.jitter_us || s.loss_pct > 0;
        ACT(a, r);
        if (netem && qdisc_cached(&a->have_netem, "netem") <= 0)
                return reply_error(
                        r, -EOPNOTSUPP,
                        "%s: delay, jitter and loss need the netem qdisc, and this kernel "
                        "has none (sch_netem not built or not loadable)",
                        dev);
        if (!netem && s.rate_bps && qdisc_cached(&a->have_tbf, "tbf") <= 0)
                return reply_error(r, -EOPNOTSUPP,
                                   "%s: a rate needs the tbf qdisc, and this kernel has none", dev);
        int e = nlr_qdisc_shape(a->nl, dev, &s);
        if (!undo_has(a, UNDO_QDISC, dev))
                undo_push(a, UNDO_QDISC, dev, NULL, NULL, 0, 0);
        if (e < 0)
                return nl_fail(r, e, dev);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "root",
                               json_object_new_string(netem        ? "netem"
                                                      : s.rate_bps ? "tbf"
                                                                   : "default"));
        if (netem && s.rate_bps)
                json_object_object_add(r->result, "child", json_object_new_string("tbf"));
        return 0;
}

static int op_qdisc_reset(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        ACT(a, r);
        int e = nlr_qdisc_reset(a->nl, dev);
        if (e < 0)
                return nl_fail(r, e, dev);
        undo_forget(a, UNDO_QDISC, dev, NULL, NULL, 0, 0);
        r->result = json_object_new_object();
        return 0;
}

static void qdisc_list_cb(const char *kind, uint32_t handle, uint32_t parent, void *user)
{
        struct json_object *o = json_object_new_object();
        char h[16], p[16];
        snprintf(h, sizeof h, "%x:%x", handle >> 16, handle & 0xffff);
        if (parent == 0xffffffffu)
                snprintf(p, sizeof p, "root");
        else
                snprintf(p, sizeof p, "%x:%x", parent >> 16, parent & 0xffff);
        json_object_object_add(o, "kind", json_object_new_string(kind ? kind : "?"));
        json_object_object_add(o, "handle", json_object_new_string(h));
        json_object_object_add(o, "parent", json_object_new_string(p));
        json_object_array_add(user, o);
}

static int op_qdisc_list(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_DEV(dev, "dev");
        ACT(a, r);
        struct json_object *arr = json_object_new_array();
        int e = nlr_qdisc_foreach(a->nl, dev, qdisc_list_cb, arr);
        if (e < 0) {
                json_object_put(arr);
                return nl_fail(r, e, dev);
        }
        r->result = json_object_new_object();
        json_object_object_add(r->result, "qdiscs", arr);
        struct nlr_shape s;
        if (nlr_netem_get(a->nl, dev, &s) == 0) {
                struct json_object *n = json_object_new_object();
                json_object_object_add(n, "delay_us", json_object_new_int64(s.delay_us));
                json_object_object_add(n, "jitter_us", json_object_new_int64(s.jitter_us));
                json_object_object_add(n, "loss_pct", json_object_new_double(s.loss_pct));
                json_object_object_add(n, "limit", json_object_new_int64(s.limit));
                json_object_object_add(r->result, "netem", n);
        }
        return 0;
}

/* ---- MPTCP ---- */

static int op_mptcp_limits(struct agent *a, struct json_object *args, struct reply *r)
{
        int e = ensure_mpm(a, r);
        if (e < 0)
                return e;
        int64_t sub = 0, add = 0;
        bool has_s, has_a;
        if (!arg_uint(args, "subflows", 0, 8, &sub, &has_s, r) ||
            !arg_uint(args, "add_addr_accepted", 0, 8, &add, &has_a, r))
                return -EINVAL;
        unsigned cur_s, cur_a;
        ACT(a, r);
        if ((e = mpm_limits_get(a->mpm, &cur_s, &cur_a)) < 0)
                return nl_fail(r, e, "mptcp limits");
        if (has_s || has_a) {
                unsigned ns = has_s ? (unsigned)sub : cur_s, na = has_a ? (unsigned)add : cur_a;
                if ((e = mpm_limits_set(a->mpm, ns, na)) < 0)
                        return nl_fail(r, e, "mptcp limits");
                if (!undo_has(a, UNDO_LIMITS, NULL))
                        undo_push(a, UNDO_LIMITS, NULL, NULL, NULL, cur_s, cur_a);
                cur_s = ns;
                cur_a = na;
        }
        r->result = json_object_new_object();
        json_object_object_add(r->result, "subflows", json_object_new_int((int)cur_s));
        json_object_object_add(r->result, "add_addr_accepted", json_object_new_int((int)cur_a));
        return 0;
}

/* the endpoint flags by name, as the kernel's uapi numbers them (bit 4 is
 * the kernel's own "implicit"; laminar is Linux 6.18's) */
static const struct {
        const char *name;
        unsigned bit;
} ep_flags[] = {{"signal", 1u << 0},
                {"subflow", 1u << 1},
                {"backup", 1u << 2},
                {"fullmesh", 1u << 3},
                {"laminar", 1u << 5}};

static int op_mptcp_endpoint_add(struct agent *a, struct json_object *args, struct reply *r)
{
        int e = ensure_mpm(a, r);
        if (e < 0)
                return e;
        ARG_STR(addr, "addr");
        struct mpm_endpoint ep = {0};
        if (inet_pton(AF_INET, addr, &ep.addr.v4) == 1)
                ep.family = AF_INET;
        else if (inet_pton(AF_INET6, addr, &ep.addr.v6) == 1)
                ep.family = AF_INET6;
        else
                return reply_error(r, -EINVAL, "\"%s\" is not an IPv4 or IPv6 address", addr);
        const char *dev = jstr(args, "dev");
        if (dev) {
                if (!valid_ifname(dev))
                        return reply_error(r, -EINVAL, "\"%s\" is not an interface name", dev);
                if (!a->dry_run && (ep.ifindex = nlr_ifindex(a->nl, dev)) < 0)
                        return nl_fail(r, ep.ifindex, dev);
        }
        struct json_object *flags = jarr(args, "flags");
        for (size_t i = 0; flags && i < json_object_array_length(flags); i++) {
                const char *f = json_object_get_string(json_object_array_get_idx(flags, i));
                unsigned bit = 0;
                for (unsigned k = 0; k < ELEMENTSOF(ep_flags); k++)
                        if (f && streq(f, ep_flags[k].name))
                                bit = ep_flags[k].bit;
                if (!bit)
                        return reply_error(r, -EINVAL,
                                           "unknown endpoint flag \"%s\" (signal, subflow, backup, "
                                           "fullmesh, laminar)",
                                           f ? f : "?");
                ep.flags |= bit;
        }
        int64_t id = 0, port = 0;
        bool has;
        if (!arg_uint(args, "id", 1, 255, &id, &has, r) ||
            !arg_uint(args, "port", 1, 65535, &port, &has, r))
                return -EINVAL;
        ep.id = (unsigned)id;
        ep.port = (unsigned)port;
        unsigned got;
        ACT(a, r);
        if ((e = mpm_endpoint_add(a->mpm, &ep, &got)) < 0)
                return nl_fail(r, e, addr);
        undo_push(a, UNDO_ENDPOINT, NULL, NULL, NULL, got, 0);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "id", json_object_new_int((int)got));
        return 0;
}

/* "addr": the endpoint of that address, as the kernel lists it (the
 * endpoints the lab adds get their id from the kernel); *ret its entry */
static int endpoint_by_addr(struct agent *a, const char *addr, struct mpm_endpoint *ret,
                            struct reply *r)
{
        struct mpm_endpoint want = {0};
        if (inet_pton(AF_INET, addr, &want.addr.v4) == 1)
                want.family = AF_INET;
        else if (inet_pton(AF_INET6, addr, &want.addr.v6) == 1)
                want.family = AF_INET6;
        else
                return reply_error(r, -EINVAL, "\"%s\" is not an IPv4 or IPv6 address", addr);
        if (a->dry_run) {
                *ret = want;
                ret->id = 1;
                return 0;
        }
        struct mpm_endpoint *v = NULL;
        unsigned n = 0;
        int e = mpm_endpoint_list(a->mpm, &v, &n);
        if (e < 0)
                return nl_fail(r, e, "endpoints");
        e = reply_error(r, -ENOENT, "no MPTCP endpoint has address %s", addr);
        for (unsigned i = 0; i < n; i++)
                if (v[i].family == want.family &&
                    !memcmp(&v[i].addr, &want.addr, want.family == AF_INET ? 4 : 16)) {
                        *ret = v[i];
                        free(r->message);
                        r->message = NULL;
                        e = 0;
                        break;
                }
        free(v);
        return e;
}

/* The backup flag of the endpoint of "addr" set to "backup" (MP_PRIO on its subflows) */
static int op_mptcp_endpoint_backup(struct agent *a, struct json_object *args, struct reply *r)
{
        int e = ensure_mpm(a, r);
        if (e < 0)
                return e;
        ARG_STR(addr, "addr");
        bool backup;
        if (!jbool(args, "backup", &backup))
                return reply_error(r, -EINVAL, "argument \"backup\" is missing or not a boolean");
        struct mpm_endpoint ep;
        if ((e = endpoint_by_addr(a, addr, &ep, r)) < 0)
                return e;
        ACT(a, r);
        if ((e = mpm_endpoint_set_backup(a->mpm, &ep, backup)) < 0)
                return nl_fail(r, e, addr);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "id", json_object_new_int((int)ep.id));
        return 0;
}

static int op_mptcp_endpoint_del(struct agent *a, struct json_object *args, struct reply *r)
{
        int e = ensure_mpm(a, r);
        if (e < 0)
                return e;
        int64_t id;
        bool has;
        if (!arg_uint(args, "id", 1, 255, &id, &has, r))
                return -EINVAL;
        const char *addr = jstr(args, "addr");
        if (has == !!addr)
                return reply_error(r, -EINVAL, "argument \"id\" or \"addr\" is needed (one)");
        if (addr) {
                struct mpm_endpoint ep;
                if ((e = endpoint_by_addr(a, addr, &ep, r)) < 0)
                        return e;
                id = ep.id;
        }
        ACT(a, r);
        if ((e = mpm_endpoint_del(a->mpm, (unsigned)id)) < 0)
                return nl_fail(r, e, "endpoint");
        undo_forget(a, UNDO_ENDPOINT, NULL, NULL, NULL, (unsigned)id, 0);
        r->result = json_object_new_object();
        return 0;
}

static int op_mptcp_endpoint_flush(struct agent *a, struct json_object *args, struct reply *r)
{
        int e = ensure_mpm(a, r);
        if (e < 0)
                return e;
        ACT(a, r);
        if ((e = mpm_endpoint_flush(a->mpm)) < 0)
                return nl_fail(r, e, "flush");
        while (undo_has(a, UNDO_ENDPOINT, NULL))
                for (unsigned id = 1; id < 256; id++)
                        undo_forget(a, UNDO_ENDPOINT, NULL, NULL, NULL, id, 0);
        r->result = json_object_new_object();
        return 0;
}

static int op_mptcp_endpoint_list(struct agent *a, struct json_object *args, struct reply *r)
{
        int e = ensure_mpm(a, r);
        if (e < 0)
                return e;
        struct mpm_endpoint *v;
        unsigned n;
        ACT(a, r);
        if ((e = mpm_endpoint_list(a->mpm, &v, &n)) < 0)
                return nl_fail(r, e, "endpoints");
        struct json_object *arr = json_object_new_array();
        for (unsigned i = 0; i < n; i++) {
                struct json_object *o = json_object_new_object(), *fl = json_object_new_array();
                char buf[INET6_ADDRSTRLEN] = "", ifn[IF_NAMESIZE] = "";
                inet_ntop(v[i].family, &v[i].addr, buf, sizeof buf);
                json_object_object_add(o, "id", json_object_new_int((int)v[i].id));
                json_object_object_add(o, "addr", json_object_new_string(buf));
                if (v[i].ifindex > 0 && if_indextoname((unsigned)v[i].ifindex, ifn))
                        json_object_object_add(o, "dev", json_object_new_string(ifn));
                for (unsigned k = 0; k < ELEMENTSOF(ep_flags); k++)
                        if (v[i].flags & ep_flags[k].bit)
                                json_object_array_add(fl, json_object_new_string(ep_flags[k].name));
                json_object_object_add(o, "flags", fl);
                if (v[i].port)
                        json_object_object_add(o, "port", json_object_new_int((int)v[i].port));
                json_object_array_add(arr, o);
        }
        free(v);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "endpoints", arr);
        return 0;
}

/* ---- sysctls ---- */

static int op_sysctl_get(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_STR(key, "key");
        _cleanup_free_ char *v = NULL;
        char path[512];
        if (sysctl_path(key, path, sizeof path) < 0)
                return reply_error(r, -EINVAL, "\"%s\" is not a sysctl name", key);
        ACT(a, r);
        int e = sysctl_read(key, &v);
        if (e < 0)
                return reply_error(r, e, "sysctl %s", key);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "value", json_object_new_string(v));
        return 0;
}

static int op_sysctl_set(struct agent *a, struct json_object *args, struct reply *r)
{
        ARG_STR(key, "key");
        ARG_STR(value, "value");
        if (strchr(value, '\n'))
                return reply_error(r, -EINVAL, "sysctl value must be one line");
        if (a->shares_host_kernel && !sysctl_per_netns(key))
                return reply_error(r, -EPERM,
                                   "sysctl %s is host-wide: an agent in a network namespace "
                                   "does not write it",
                                   key);
        _cleanup_free_ char *old = NULL;
        char path[512];
        if (sysctl_path(key, path, sizeof path) < 0)
                return reply_error(r, -EINVAL, "\"%s\" is not a sysctl name", key);
        ACT(a, r);
        int e = sysctl_read(key, &old);
        if (e < 0)
                return reply_error(r, e, "sysctl %s", key);
        if ((e = sysctl_write(key, value)) < 0)
                return reply_error(r, e, "sysctl %s = %s", key, value);
        if (!undo_has(a, UNDO_SYSCTL, key))
                undo_push(a, UNDO_SYSCTL, key, old, NULL, 0, 0);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "old", json_object_new_string(old));
        return 0;
}

/* ---- counters ---- */

/* /proc/net/netstat and /proc/net/snmp: a header line of names, then one of values. */
static void parse_pairs(const char *text, struct json_object *out)
{
        _cleanup_free_ char *copy = xstrdup(text);
        char *save = NULL, *names = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (!names) {
                        names = line;
                        continue;
                }
                char *c1 = strchr(names, ':'), *c2 = strchr(line, ':');
                if (!c1 || !c2 || c1 - names != c2 - line ||
                    strncmp(names, line, (size_t)(c1 - names))) {
                        names = line;
                        continue;
                }
                *c1 = 0;
                struct json_object *grp = json_object_new_object();
                char *s1 = NULL, *s2 = NULL;
                char *n = strtok_r(c1 + 1, " ", &s1), *v = strtok_r(c2 + 1, " ", &s2);
                for (; n && v; n = strtok_r(NULL, " ", &s1), v = strtok_r(NULL, " ", &s2))
                        json_object_object_add(grp, n, json_object_new_int64(strtoll(v, NULL, 10)));
                json_object_object_add(out, names, grp);
                names = NULL;
        }
}

/* Hardware cycles of every CPU of this node since the first counters call,
 * where the CPU (bare metal, a KVM guest with a PMU) counts them; -errno
 * where it cannot (no PMU: TCG, most clouds), said once. System-wide
 * counters, one per CPU, opened at the first call and kept. */
static int cycles_read(uint64_t *ret, const char **why)
{
        static int *fds, n_fds, err;
        if (!fds && !err) {
                long ncpu = sysconf(_SC_NPROCESSORS_CONF);
                fds = xcalloc((size_t)(ncpu > 0 ? ncpu : 1), sizeof *fds);
                for (long c = 0; c < ncpu && !err; c++) {
                        struct perf_event_attr pa = {.type = PERF_TYPE_HARDWARE,
                                                     .size = sizeof pa,
                                                     .config = PERF_COUNT_HW_CPU_CYCLES};
                        int fd = (int)syscall(SYS_perf_event_open, &pa, -1, (int)c, -1,
                                              PERF_FLAG_FD_CLOEXEC);
                        if (fd < 0)
                                err = -errno;
                        else
                                fds[n_fds++] = fd;
                }
                if (err) {
                        for (int i = 0; i < n_fds; i++)
                                close(fds[i]);
                        n_fds = 0;
                }
        }
        if (err) {
                *why = err == -ENOENT || err == -EOPNOTSUPP
                               ? "no hardware cycle counter on this node (no PMU)"
                               : "perf_event_open refused the cycle counter";
                return err;
        }
        uint64_t sum = 0;
        for (int i = 0; i < n_fds; i++) {
                uint64_t v = 0;
                if (read(fds[i], &v, sizeof v) != (ssize_t)sizeof v) {
                        *why = "a cycle counter could not be read";
                        return -EIO;
                }
                sum += v;
        }
        *ret = sum;
        return 0;
}

static int op_counters(struct agent *a, struct json_object *args, struct reply *r)
{
        ACT(a, r);
        struct json_object *o = json_object_new_object();
        const char *files[] = {"/proc/net/netstat", "/proc/net/snmp"};
        for (unsigned i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *t = NULL;
                if (read_file(files[i], &t, NULL) == 0)
                        parse_pairs(t, o);
        }
        _cleanup_free_ char *stat = NULL;
        if (read_file("/proc/stat", &stat, NULL) == 0) {
                struct json_object *cpus = json_object_new_object();
                char *save = NULL;
                for (char *line = strtok_r(stat, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        if (strncmp(line, "cpu", 3))
                                continue;
                        char name[16];
                        unsigned long long v[10] = {0};
                        int n = sscanf(line, "%15s %llu %llu %llu %llu %llu %llu %llu %llu", name,
                                       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
                        if (n < 5)
                                continue;
                        struct json_object *arr = json_object_new_array();
                        for (int k = 0; k < 8; k++)
                                json_object_array_add(arr, json_object_new_int64((int64_t)v[k]));
                        json_object_object_add(cpus, name, arr);
                }
                json_object_object_add(o, "cpu", cpus);
                json_object_object_add(o, "clk_tck", json_object_new_int64(sysconf(_SC_CLK_TCK)));
        }
        /* the node's own clock at this reading: the controller compares its
         * pace with its own over a measured window (a guest whose clock runs
         * fast or slow measures, and shapes, its rates by it) */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        json_object_object_add(o, "mono_ns",
                               json_object_new_int64((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
        uint64_t cycles;
        const char *why = NULL;
        if (cycles_read(&cycles, &why) == 0)
                json_object_object_add(o, "cycles", json_object_new_int64((int64_t)cycles));
        else
                json_object_object_add(o, "cycles_error", json_object_new_string(why));
        r->result = o;
        return 0;
}

/* A listening TCP socket on this port (MPTCP listeners show their TCP subflow listener). */
static bool port_listening(unsigned port)
{
        const char *files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        for (unsigned i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *t = NULL;
                if (read_file(files[i], &t, NULL) < 0)
                        continue;
                char *save = NULL;
                for (char *line = strtok_r(t, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        char local[64];
                        unsigned st;
                        if (sscanf(line, " %*d: %63s %*s %x", local, &st) != 2)
                                continue;
                        char *colon = strrchr(local, ':');
                        if (colon && st == 0x0A && strtoul(colon + 1, NULL, 16) == port)
                                return true;
                }
        }
        return false;
}

static int check_listening(struct agent *a, struct cond_wait *w, struct reply *r)
{
        if (port_listening(w->port)) {
                r->result = json_object_new_object();
                return 1;
        }
        if (now_usec() >= w->until_us)
                return reply_error(r, -ETIMEDOUT, "nothing listens on port %u after %llu ms",
                                   w->port, (unsigned long long)w->timeout_ms);
        return 0;
}

static int op_wait_listen(struct agent *a, struct json_object *args, struct reply *r)
{
        int64_t port, timeout = 5000;
        bool has_p, has_t;
        if (!arg_uint(args, "port", 1, 65535, &port, &has_p, r) ||
            !arg_uint(args, "timeout_ms", 0, 30000, &timeout, &has_t, r))
                return -EINVAL;
        if (!has_p)
                return reply_error(r, -EINVAL, "argument \"port\" is missing");
        ACT(a, r);
        struct cond_wait *w = xcalloc(1, sizeof *w);
        *w = (struct cond_wait){.until_us = now_usec() + (uint64_t)timeout * 1000,
                                .timeout_ms = (uint64_t)timeout,
                                .port = (unsigned)port,
                                .check = check_listening};
        return defer_or_settle(a, w, r);
}

/* ---- jobs ---- */

static int op_spawn(struct agent *a, struct json_object *args, struct reply *r)
{
        struct json_object *argv = jarr(args, "argv"), *env = jarr(args, "env");
        int64_t timeout;
        bool has;
        if (!argv || json_object_array_length(argv) == 0 || json_object_array_length(argv) > 256)
                return reply_error(r, -EINVAL,
                                   "argument \"argv\" must be a list of 1 to 256 strings");
        if (!arg_uint(args, "timeout_ms", 1, 86400000, &timeout, &has, r))
                return -EINVAL;
        if (!has)
                return reply_error(r, -EINVAL,
                                   "argument \"timeout_ms\" is required: every job has a deadline");
        size_t n = json_object_array_length(argv), ne = env ? json_object_array_length(env) : 0;
        _cleanup_free_ char **av = xcalloc(n + 1, sizeof(char *));
        _cleanup_free_ char **ev = xcalloc(ne + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                struct json_object *s = json_object_array_get_idx(argv, i);
                if (!json_object_is_type(s, json_type_string))
                        return reply_error(r, -EINVAL, "argv[%zu] is not a string", i);
                av[i] = (char *)json_object_get_string(s);
        }
        for (size_t i = 0; i < ne; i++) {
                struct json_object *s = json_object_array_get_idx(env, i);
                if (!json_object_is_type(s, json_type_string) ||
                    !strchr(json_object_get_string(s), '='))
                        return reply_error(r, -EINVAL, "env[%zu] is not NAME=VALUE", i);
                av[n] = NULL;
                ev[i] = (char *)json_object_get_string(s);
        }
        /* a bare name is found as hello found it: beside the agent, then PATH */
        char path[PATH_MAX];
        if (!strchr(av[0], '/') && have_program(av[0], path, sizeof path))
                av[0] = path;
        unsigned id;
        ACT(a, r);
        int e = job_spawn(a, av, ev, (uint64_t)timeout * 1000, &id);
        if (e < 0)
                return reply_error(r, e, "cannot start %s", av[0]);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "job", json_object_new_int((int)id));
        return 0;
}

static int job_arg(struct agent *a, struct json_object *args, struct reply *r, struct job **ret)
{
        int64_t id;
        bool has;
        if (!arg_uint(args, "job", 1, UINT32_MAX, &id, &has, r))
                return -EINVAL;
        if (!has)
                return reply_error(r, -EINVAL, "argument \"job\" is missing");
        if (!(*ret = job_find(a, (unsigned)id)))
                return reply_error(r, -ESRCH, "no job %lld", (long long)id);
        return 0;
}

static int op_wait(struct agent *a, struct json_object *args, struct reply *r)
{
        struct job *j;
        if (job_arg(a, args, r, &j) < 0)
                return -EINVAL;
        if (j->done) {
                r->result = job_result(j);
                return 0;
        }
        j->waiters = xreallocarray(j->waiters, j->n_waiters + 1, sizeof(int64_t));
        j->waiters[j->n_waiters++] = r->req_id;
        r->deferred = true;
        return 0;
}

static int op_kill(struct agent *a, struct json_object *args, struct reply *r)
{
        struct job *j;
        if (job_arg(a, args, r, &j) < 0)
                return -EINVAL;
        ACT(a, r);
        if (!j->done) {
                kill(-j->sp.pid, SIGTERM);
                j->kill_at_us = now_usec() + 2000000;
        }
        r->result = json_object_new_object();
        return 0;
}

static int op_reset(struct agent *a, struct json_object *args, struct reply *r)
{
        ACT(a, r);
        events_free(a); /* no path event may fire after the node is put back */
        struct json_object *log = json_object_new_array();
        unsigned failed = undo_all(a, log);
        r->result = json_object_new_object();
        json_object_object_add(r->result, "reverted", log);
        json_object_object_add(r->result, "failed", json_object_new_int((int)failed));
        return 0;
}

/* One read-only op's result (NULL, and its error said in *why, when it fails). */
static struct json_object *
state_part(struct agent *a, int (*op)(struct agent *, struct json_object *, struct reply *),
           struct json_object *args, char **why)
{
        struct reply sub = {0};
        int e = op(a, args, &sub);
        json_object_put(args);
        if (e < 0 || !sub.result) {
                if (!*why)
                        *why = xstrdup(sub.message ? sub.message : "failed");
                free(sub.message);
                json_object_put(sub.result);
                return NULL;
        }
        free(sub.message);
        return sub.result;
}

/* o's member key, of any type, with a reference of its own (NULL: none) */
static struct json_object *member(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;
        return o && json_object_object_get_ex(o, key, &v) ? json_object_get(v) : NULL;
}

/* {key: value}, the arguments of a one-argument op */
static struct json_object *one_arg(const char *key, const char *value)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, key, json_object_new_string(value));
        return o;
}

/* The index of the first of n items of arr that is not a string naming a
 * sysctl (dotted), or -1 */
static ssize_t first_bad_sysctl(struct json_object *arr, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                char path[512];
                struct json_object *v = json_object_array_get_idx(arr, i);
                if (!json_object_is_type(v, json_type_string) ||
                    sysctl_path(json_object_get_string(v), path, sizeof path) < 0)
                        return (ssize_t)i;
        }
        return -1;
}

/* Adds KEY: value of every readable sysctl file in the directory DIR (dotted),
 * in name order (the same state gives the same JSON); a directory the kernel
 * lacks adds nothing. */
static void sysctl_dir_add(const char *dir, struct json_object *to)
{
        char path[512];
        if (sysctl_path(dir, path, sizeof path) < 0)
                return;
        struct dirent **names = NULL;
        int n = scandir(path, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *key = xasprintf("%s.%s", dir, names[i]->d_name);
                char *v = NULL;
                if (names[i]->d_type == DT_REG && sysctl_read(key, &v) == 0)
                        json_object_object_add(to, key, json_object_new_string(v));
                free(v);
                free(names[i]);
        }
        free(names);
}

/* What a run may change on this node, for a comparison before and after
 * (docs/agent-protocol.md): of each device named, its link state, addresses,
 * qdiscs and routes (main table); every sysctl named; the MPTCP limits and
 * endpoints. Read-only; the same state gives the same JSON. */
static int op_state(struct agent *a, struct json_object *args, struct reply *r)
{
        struct json_object *devs = jarr(args, "devs"), *keys = jarr(args, "sysctls"),
                           *dirs = jarr(args, "sysctl_dirs");
        size_t nd = devs ? json_object_array_length(devs) : 0,
               nk = keys ? json_object_array_length(keys) : 0,
               ndir = dirs ? json_object_array_length(dirs) : 0;
        if (nd > 64 || nk > 256 || ndir > 8)
                return reply_error(r, -EINVAL, "at most 64 devs, 256 sysctls and 8 sysctl_dirs");
        ssize_t bad = first_bad_sysctl(dirs, ndir);
        if (bad >= 0)
                return reply_error(r, -EINVAL, "sysctl_dirs[%zd] is not a sysctl name", bad);
        for (size_t i = 0; i < nd; i++) {
                const char *d = json_object_get_string(json_object_array_get_idx(devs, i));
                if (!json_object_is_type(json_object_array_get_idx(devs, i), json_type_string) ||
                    !valid_ifname(d))
                        return reply_error(r, -EINVAL, "devs[%zu] is not an interface name", i);
        }
        if ((bad = first_bad_sysctl(keys, nk)) >= 0)
                return reply_error(r, -EINVAL, "sysctls[%zd] is not a sysctl name", bad);
        ACT(a, r);
        char *why = NULL;
        struct json_object *o = json_object_new_object(), *dj = json_object_new_object(),
                           *sj = json_object_new_object();
        struct json_object *routes = state_part(a, op_route_list, json_object_new_object(), &why);
        for (size_t i = 0; i < nd; i++) {
                const char *d = json_object_get_string(json_object_array_get_idx(devs, i));
                struct json_object *x = json_object_new_object(), *rt = json_object_new_array();
                /* what a run sets of a link: up and MTU (counters, carrier and
                 * operstate move by themselves) */
                struct json_object *l = state_part(a, op_link_get, one_arg("dev", d), &why),
                                   *lk = json_object_new_object();
                json_object_object_add(lk, "up", member(l, "up"));
                json_object_object_add(lk, "mtu", member(l, "mtu"));
                json_object_put(l);
                json_object_object_add(x, "link", lk);
                json_object_object_add(x, "addrs",
                                       state_part(a, op_addr_list, one_arg("dev", d), &why));
                /* the qdiscs someone set: the kernel's defaults (handle 0:0,
                 * attached when a link first comes up) are no one's change */
                struct json_object *q = state_part(a, op_qdisc_list, one_arg("dev", d), &why),
                                   *qs = json_object_new_array(), *ql = jarr(q, "qdiscs");
                for (size_t k = 0; ql && k < json_object_array_length(ql); k++) {
                        struct json_object *e = json_object_array_get_idx(ql, k);
                        const char *h = jstr(e, "handle");
                        if (!h || !streq(h, "0:0"))
                                json_object_array_add(qs, json_object_get(e));
                }
                json_object_object_add(x, "qdiscs", qs);
                json_object_object_add(x, "netem", member(q, "netem"));
                json_object_put(q);
                struct json_object *all = jarr(routes, "routes");
                for (size_t k = 0; all && k < json_object_array_length(all); k++) {
                        struct json_object *e = json_object_array_get_idx(all, k);
                        const char *rd = jstr(e, "dev");
                        if (rd && streq(rd, d))
                                json_object_array_add(rt, json_object_get(e));
                }
                json_object_object_add(x, "routes", rt);
                json_object_object_add(dj, d, x);
        }
        json_object_put(routes);
        for (size_t i = 0; i < nk; i++) {
                const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
                struct json_object *v = state_part(a, op_sysctl_get, one_arg("key", k), &why);
                json_object_object_add(sj, k, member(v, "value"));
                json_object_put(v);
        }
        /* every sysctl of a directory (net.mptcp: what this kernel has), one level */
        for (size_t i = 0; i < ndir; i++)
                sysctl_dir_add(json_object_get_string(json_object_array_get_idx(dirs, i)), sj);
        json_object_object_add(o, "devs", dj);
        json_object_object_add(o, "sysctls", sj);
        json_object_object_add(o, "mptcp_limits",
                               state_part(a, op_mptcp_limits, json_object_new_object(), &why));
        json_object_object_add(
                o, "mptcp_endpoints",
                state_part(a, op_mptcp_endpoint_list, json_object_new_object(), &why));
        if (why) {
                json_object_put(o);
                int e = reply_error(r, -EIO, "state: %s", why);
                free(why);
                return e;
        }
        r->result = o;
        return 0;
}

static int op_bye(struct agent *a, struct json_object *args, struct reply *r)
{
        jobs_kill_all(a);
        op_reset(a, args, r);
        a->quit = true;
        return 0;
}

typedef int (*op_fn)(struct agent *a, struct json_object *args, struct reply *r);

static const struct {
        const char *name;
        op_fn fn;
} ops[] = {
        {"hello", op_hello},
        {"link_get", op_link_get},
        {"link_list", op_link_list},
        {"link_set", op_link_set},
        {"link_wait", op_link_wait},
        {"bridge_add", op_bridge_add},
        {"addr_add", op_addr_add},
        {"addr_del", op_addr_del},
        {"addr_list", op_addr_list},
        {"route_add", op_route_add},
        {"route_del", op_route_del},
        {"route_list", op_route_list},
        {"rule_add", op_rule_add},
        {"rule_del", op_rule_del},
        {"qdisc_set", op_qdisc_set},
        {"qdisc_reset", op_qdisc_reset},
        {"qdisc_list", op_qdisc_list},
        {"mptcp_limits", op_mptcp_limits},
        {"mptcp_endpoint_add", op_mptcp_endpoint_add},
        {"mptcp_endpoint_del", op_mptcp_endpoint_del},
        {"mptcp_endpoint_backup", op_mptcp_endpoint_backup},
        {"schedule", op_schedule},
        {"schedule_report", op_schedule_report},
        {"pm_listen", op_pm_listen},
        {"pm_events", op_pm_events},
        {"mptcp_endpoint_flush", op_mptcp_endpoint_flush},
        {"mptcp_endpoint_list", op_mptcp_endpoint_list},
        {"sysctl_get", op_sysctl_get},
        {"sysctl_set", op_sysctl_set},
        {"counters", op_counters},
        {"state", op_state},
        {"cable_arm", op_cable_arm},
        {"cable_send", op_cable_send},
        {"cable_check", op_cable_check},
        {"wait_listen", op_wait_listen},
        {"wait", op_wait},
        {"spawn", op_spawn},
        {"kill", op_kill},
        {"reset", op_reset},
        {"bye", op_bye},
};

int agent_dispatch(struct agent *a, int64_t id, const char *op, struct json_object *args,
                   struct reply *r)
{
        for (unsigned i = 0; i < ELEMENTSOF(ops); i++)
                if (streq(ops[i].name, op))
                        return ops[i].fn(a, args, r);
        return reply_error(r, -ENOSYS, "unknown operation \"%s\"", op);
}
