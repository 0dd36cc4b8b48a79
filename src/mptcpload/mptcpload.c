/* mptcpload - an MPTCP load generator shaped like neper: T threads, each with
 * its own epoll set, F flows spread over them, one function table per mode.
 *
 *   mptcpload server [--port P] [--tcp] [--once]
 *   mptcpload client --host H [--port P] [--mode stream|rr|crr] [--flows F]
 *             [--threads T] [--duration S] [--warmup S] [--size N] [--response-size N]
 *             [--interval S] [--tcp] [--bind ADDR[,ADDR...]] [--timeout S]
 *             [--direction up|down|both]
 *
 * A control connection (plain TCP, port P) carries the test's parameters and
 * its end; data connections (port P+1) are MPTCP (IPPROTO_MPTCP) unless --tcp.
 * The client prints JSON on stdout (every effective option, the summary, the
 * per-interval series) and a short summary on stderr. Every wait has a
 * deadline: a vanished peer is an error, never a hang. */
#include "../shared/json.h"
#include "../shared/limits.h"
#include "../shared/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/mptcp.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* the kernel's tcp_info: glibc's lacks the byte counters */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef SOL_MPTCP
#define SOL_MPTCP 284
#endif
#ifndef MPTCP_INFO_FLAG_FALLBACK
#define MPTCP_INFO_FLAG_FALLBACK 1
#endif

enum mode { MODE_STREAM, MODE_RR, MODE_CRR };
static const char *const mode_names[] = {"stream", "rr", "crr"};
/* stream: who sends - the client (up), the server (down), or both at once */
enum dir { DIR_UP, DIR_DOWN, DIR_BOTH };
static const char *const dir_names[] = {"up", "down", "both"};

/* The index of s in a table of names, -1 when it is none of them. */
static int name_index(const char *const *names, unsigned n, const char *s)
{
        for (unsigned i = 0; s && i < n; i++)
                if (streq(names[i], s))
                        return (int)i;
        return -1;
}

#define BIND_MAX 16

struct opts {
        bool server, tcp, once;
        const char *host, *bind_addr;
        const char *control; /* --control: the control connection's host (default: --host) */
        /* --bind A[,B...]: the flows' local addresses, round robin (each
         * address brings its own ephemeral port range) */
        struct sockaddr_storage bind_ss[BIND_MAX];
        socklen_t bind_len[BIND_MAX];
        unsigned n_bind;
        unsigned port, flows, threads;
        enum mode mode;
        enum dir dir;
        double duration, warmup, interval, timeout;
        double bins;    /* the server's receive bins, in s (0: none) */
        uint64_t bytes; /* --bytes: a fixed-size transfer of this much per flow (0: timed) */
        size_t size, resp_size;
};

/* ---- latency histogram: log-linear, 1 us .. ~100 s, 1% resolution ---- */
#define HBUCKETS 2048
struct hist {
        uint64_t b[HBUCKETS];
        uint64_t n;
};

static unsigned hbucket(uint64_t ns)
{
        double us = (double)ns / 1000.0;
        if (us < 1)
                return 0;
        unsigned i = (unsigned)(log(us) / log(1.01)) + 1;
        return i < HBUCKETS ? i : HBUCKETS - 1;
}

static double hvalue_us(unsigned i)
{
        return i == 0 ? 0.5 : pow(1.01, (double)i - 0.5);
}

static double hpercentile(const struct hist *h, double p)
{
        if (!h->n)
                return 0;
        uint64_t want = (uint64_t)ceil(p / 100.0 * (double)h->n), seen = 0;
        for (unsigned i = 0; i < HBUCKETS; i++)
                if ((seen += h->b[i]) >= want)
                        return hvalue_us(i);
        return hvalue_us(HBUCKETS - 1);
}

/* ---- flows and threads ---- */

struct flow {
        int fd;
        size_t done; /* bytes of the current request or response */
        bool sending;
        uint64_t t_start;          /* this transaction's start, ns */
        uint64_t sent;             /* --bytes: what this flow has written */
        bool finished;             /* --bytes: all of it sent and the server closed */
        volatile bool established; /* MPTCP state is only asked of established connections */
};

struct thread {
        pthread_t th;
        unsigned id, first, count; /* flows [first, first + count) */
        const struct opts *o;
        struct sockaddr_storage addr;
        socklen_t addrlen;
        int ep;
        struct flow *flows;
        /* counters, read by the main thread between intervals (relaxed: a sample
         * may be one transaction off, never torn: 64-bit aligned) */
        volatile uint64_t bytes, rx, transactions, connections, errors; /* bytes: both ways */
        volatile unsigned finished;                                     /* --bytes: flows done */
        struct hist hist;
        /* rr with --bins: per bin of the window, the slowest transaction that
         * ended in it (us) and those over 1 s */
        uint32_t *lat_max_us, *lat_slow;
        unsigned n_lat;
        char *error;
};

static volatile int stop_flag, measuring;
/* rr with --bins: the window's start on this clock (ns), set before measuring */
static volatile uint64_t window_t0_ns;

static uint64_t now_ns(void)
{
        return now_usec() * 1000ULL;
}

/* sleeps until now_ns() reaches t, waking early when a flow stops the test */
static void sleep_until(uint64_t t)
{
        for (uint64_t n; !stop_flag && (n = now_ns()) < t;) {
                uint64_t d = t - n < 100000000 ? t - n : 100000000;
                struct timespec ts = {0, (long)d};
                nanosleep(&ts, NULL);
        }
}

static int data_socket(const struct opts *o, int family, unsigned flow_index)
{
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                        o->tcp ? IPPROTO_TCP : IPPROTO_MPTCP);
        if (fd < 0)
                return -errno;
        int one = 1;
        /* small requests and responses must not wait for Nagle; a stream is best
         * left to coalesce, as iperf3 does by default */
        if (o->mode != MODE_STREAM)
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (o->n_bind) {
                const struct sockaddr_storage *ss = &o->bind_ss[flow_index % o->n_bind];
                /* the port is chosen at connect(), by the whole 4-tuple: a port
                 * picked at bind() would be taken for every destination, and
                 * 10,000 flows would run out of the ephemeral range */
                setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
                if (ss->ss_family == family && bind(fd, (const struct sockaddr *)ss,
                                                    o->bind_len[flow_index % o->n_bind]) < 0) {
                        int r = -errno;
                        close(fd);
                        return r;
                }
        }
        return fd;
}

/* A flow's end on the client: an abortive close (SO_LINGER 0, a RST, and for
 * MPTCP a MP_FASTCLOSE) once every byte it was to get has come. A normal close
 * would leave each closed connection's ports in TIME_WAIT for 60 s, on the
 * client (its ephemeral ports: crr at 13,000 connections a second empties the
 * range in 2 s and starves every later workload) and for joined subflows on
 * both sides. neper's crr and netperf's TCP_CRR close normally and leave
 * that to tcp_tw_reuse; a lab that runs workloads back to back cannot. */
static void flow_abort(int fd)
{
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(fd);
}

/* TCP sockets (MPTCP subflows included) in TIME_WAIT in this network namespace
 * whose local (the server) or remote (the client) port is port; -1 when
 * /proc/net/tcp cannot be read */
static int64_t time_wait_count(unsigned port, bool local)
{
        int64_t n = -1;
        static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
        for (unsigned f = 0; f < ELEMENTSOF(files); f++) {
                _cleanup_free_ char *text = NULL;
                if (read_file(files[f], &text, NULL) < 0)
                        continue;
                if (n < 0)
                        n = 0;
                char *save = NULL;
                /* "sl local_address rem_address st ...": addresses as HEX:PORT */
                for (char *line = strtok_r(text, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        char la[64], ra[64];
                        unsigned st;
                        if (sscanf(line, " %*s %63s %63s %x", la, ra, &st) != 3 || st != 6)
                                continue;
                        const char *c = strrchr(local ? la : ra, ':');
                        if (c && strtoul(c + 1, NULL, 16) == port)
                                n++;
                }
        }
        return n;
}

/* What connect's EADDRNOTAVAIL means here, with the numbers that explain it */
static char *ports_exhausted(const struct opts *o, unsigned opened)
{
        _cleanup_free_ char *range = NULL;
        unsigned lo = 0, hi = 0;
        if (read_file("/proc/sys/net/ipv4/ip_local_port_range", &range, NULL) == 0)
                sscanf(range, "%u %u", &lo, &hi);
        return xasprintf("connect: no local port left after %u connection(s) to one destination "
                         "from %u local address(es): the ephemeral range %u-%u has %u ports per "
                         "address (net.ipv4.ip_local_port_range)%s; widen the range%s",
                         opened, o->n_bind ? o->n_bind : 1, lo, hi, hi >= lo ? hi - lo + 1 : 0,
                         o->tcp ? ""
                                : ", and an MPTCP connection takes one per subflow: the kernel "
                                  "binds each joined subflow to a port of its own from it",
                         o->tcp ? " or give more local addresses (--bind A,B,...)" : "");
}

static int flow_connect(struct thread *t, struct flow *f)
{
        int fd = data_socket(t->o, t->addr.ss_family, t->first + (unsigned)(f - t->flows));
        if (fd < 0)
                return fd;
        if (connect(fd, (struct sockaddr *)&t->addr, t->addrlen) < 0 && errno != EINPROGRESS) {
                int r = -errno;
                close(fd);
                return r;
        }
        f->fd = fd;
        f->established = false;
        f->done = 0;
        f->sending = true;
        f->t_start = now_ns();
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = f};
        epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev);
        return 0;
}

static char zeros[1 << 17]; /* stream writes of 128 KiB (as iperf3): measured faster here than 64 or
                               256 KiB */
static char sink[1 << 17];

/* rr sizes go up to 1 MiB: larger messages go out and come in by buffer-sized pieces */
static size_t chunk(size_t left)
{
        return left < sizeof zeros ? left : sizeof zeros;
}

/* A stream's burst, for both ends: write until the socket is full, or read until
 * it is empty, in at most 16 calls so that one flow cannot starve the others of
 * its thread: one epoll_wait per burst. Returns the bytes moved or -errno; the
 * peer's end of the stream, with nothing read before it, is -ECONNRESET. */
static int64_t send_burst(int fd)
{
        int64_t total = 0;
        for (int i = 0; i < 16; i++) {
                ssize_t n = send(fd, zeros, sizeof zeros, MSG_NOSIGNAL);
                if (n < 0)
                        return errno == EAGAIN ? total : -errno;
                total += n;
                if ((size_t)n < sizeof zeros)
                        break;
        }
        return total;
}

static int64_t recv_burst(int fd)
{
        int64_t total = 0;
        for (int i = 0; i < 16; i++) {
                ssize_t n = recv(fd, sink, sizeof sink, 0);
                if (n == 0)
                        return total ? total : -ECONNRESET;
                if (n < 0)
                        return errno == EAGAIN ? total : -errno;
                total += n;
                if ((size_t)n < sizeof sink)
                        break;
        }
        return total;
}

/* --bytes: a flow writes its share and is done once the server, having
 * read all of it, closes */
static int fixed_event(struct thread *t, struct flow *f, uint32_t events)
{
        const struct opts *o = t->o;
        if (f->finished)
                return 0;
        if (f->sent < o->bytes && (events & EPOLLOUT)) {
                for (int i = 0; i < 16 && f->sent < o->bytes; i++) {
                        uint64_t left = o->bytes - f->sent;
                        ssize_t n = send(f->fd, zeros, left < sizeof zeros ? left : sizeof zeros,
                                         MSG_NOSIGNAL);
                        if (n < 0) {
                                if (errno == EAGAIN)
                                        break;
                                return -errno;
                        }
                        f->sent += (uint64_t)n;
                        t->bytes += (uint64_t)n;
                }
                if (f->sent == o->bytes) {
                        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
                        epoll_ctl(t->ep, EPOLL_CTL_MOD, f->fd, &ev);
                }
                return 0;
        }
        if (events & (EPOLLIN | EPOLLHUP)) {
                ssize_t n = recv(f->fd, sink, sizeof sink, 0);
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0 && f->sent == o->bytes) {
                        /* the server closed first, having all of it: an abortive
                         * close here leaves neither side in TIME_WAIT (as crr) */
                        f->finished = true;
                        epoll_ctl(t->ep, EPOLL_CTL_DEL, f->fd, NULL);
                        flow_abort(f->fd);
                        f->fd = -1;
                        t->finished++;
                } else if (n == 0)
                        return -ECONNRESET;
        }
        return 0;
}

/* One event on a flow: the per-mode state machine. Returns <0 on a broken flow. */
static int flow_event(struct thread *t, struct flow *f, uint32_t events)
{
        const struct opts *o = t->o;
        if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
                int err = 0;
                socklen_t l = sizeof err;
                getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &l);
                return -(err ? err : ECONNRESET);
        }
        bool first = !f->established;
        f->established = true;
        if (o->mode == MODE_STREAM) {
                if (first && o->dir != DIR_UP) {
                        /* connected: now wait for what the server sends */
                        struct epoll_event ev = {.events = o->dir == DIR_BOTH ? EPOLLIN | EPOLLOUT
                                                                              : EPOLLIN,
                                                 .data.ptr = f};
                        epoll_ctl(t->ep, EPOLL_CTL_MOD, f->fd, &ev);
                }
                int64_t n;
                if (o->bytes)
                        return fixed_event(t, f, events);
                if (o->dir != DIR_DOWN && (events & EPOLLOUT)) {
                        if ((n = send_burst(f->fd)) < 0)
                                return (int)n;
                        if (measuring)
                                t->bytes += (uint64_t)n;
                }
                if (o->dir != DIR_UP && (events & EPOLLIN)) {
                        if ((n = recv_burst(f->fd)) < 0)
                                return (int)n;
                        if (measuring) {
                                t->bytes += (uint64_t)n;
                                t->rx += (uint64_t)n;
                        }
                }
                return 0;
        }
        /* rr and crr: send a request of size bytes, read a response of resp_size */
        if (f->sending) {
                ssize_t n = send(f->fd, zeros, chunk(o->size - f->done), MSG_NOSIGNAL);
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                f->done += (size_t)n;
                if (f->done == o->size) {
                        f->sending = false;
                        f->done = 0;
                        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = f};
                        epoll_ctl(t->ep, EPOLL_CTL_MOD, f->fd, &ev);
                }
                return 0;
        }
        ssize_t n = recv(f->fd, sink, chunk(o->resp_size - f->done), 0);
        if (n == 0)
                return -ECONNRESET;
        if (n < 0)
                return errno == EAGAIN ? 0 : -errno;
        f->done += (size_t)n;
        if (f->done < o->resp_size)
                return 0;
        uint64_t end = now_ns();
        if (measuring) {
                t->transactions++;
                t->bytes += o->size + o->resp_size;
                t->rx += o->resp_size;
                t->hist.b[hbucket(end - f->t_start)]++;
                t->hist.n++;
                uint64_t bin_ns = (uint64_t)(o->bins * 1e9);
                if (t->n_lat && end >= window_t0_ns && (end - window_t0_ns) / bin_ns < t->n_lat) {
                        unsigned k = (unsigned)((end - window_t0_ns) / bin_ns);
                        uint64_t us = (end - f->t_start) / 1000;
                        if (us > t->lat_max_us[k])
                                t->lat_max_us[k] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
                        if (us > 1000000)
                                t->lat_slow[k]++;
                }
                if (o->mode == MODE_CRR)
                        t->connections++;
        }
        if (o->mode == MODE_CRR) {
                epoll_ctl(t->ep, EPOLL_CTL_DEL, f->fd, NULL);
                flow_abort(f->fd);
                f->fd = -1;
                return flow_connect(t, f);
        }
        f->sending = true;
        f->done = 0;
        f->t_start = end;
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = f};
        epoll_ctl(t->ep, EPOLL_CTL_MOD, f->fd, &ev);
        return 0;
}

static void *thread_main(void *arg)
{
        struct thread *t = arg;
        t->ep = epoll_create1(EPOLL_CLOEXEC);
        for (unsigned i = 0; i < t->count; i++) {
                int r = flow_connect(t, &t->flows[i]);
                if (r < 0) {
                        t->error = r == -EADDRNOTAVAIL ? ports_exhausted(t->o, t->first + i)
                                                       : xasprintf("connect: %s", strerror(-r));
                        stop_flag = 1;
                        return NULL;
                }
        }
        struct epoll_event ev[64];
        while (!stop_flag) {
                int n = epoll_wait(t->ep, ev, 64, 100);
                for (int i = 0; i < n && !stop_flag; i++) {
                        struct flow *f = ev[i].data.ptr;
                        int r = flow_event(t, f, ev[i].events);
                        if (r < 0) {
                                t->errors++;
                                if (!t->error)
                                        t->error = xasprintf("flow: %s", strerror(-r));
                                stop_flag = 1;
                        }
                }
        }
        return NULL;
}

/* ---- MPTCP state of the client's connections ---- */

static struct json_object *subflow_detail(int fd);

struct mp_sample {
        unsigned conns, mptcp, fallback;
        double subflows; /* average subflows per MPTCP connection, the initial one included */
        struct json_object *detail; /* per-subflow state of the first connections */
};

static void sample_mptcp(struct thread *th, unsigned nt, struct mp_sample *s)
{
        memset(s, 0, sizeof *s);
        s->detail = json_object_new_array();
        unsigned sub = 0;
        for (unsigned i = 0; i < nt; i++)
                for (unsigned k = 0; k < th[i].count; k++) {
                        int fd = th[i].flows[k].fd;
                        if (fd < 0 || !th[i].flows[k].established)
                                continue;
                        s->conns++;
                        struct mptcp_info mi;
                        socklen_t len = sizeof mi;
                        memset(&mi, 0, sizeof mi);
                        int r = getsockopt(fd, SOL_MPTCP, MPTCP_INFO, &mi, &len);
                        /* a fallen-back socket answers SOL_MPTCP like TCP would (EOPNOTSUPP
                         * or ENOPROTOOPT); newer kernels flag it instead; an old kernel may
                         * return less than the whole struct: use what came */
                        if (r < 0 && errno != EOPNOTSUPP && errno != ENOPROTOOPT)
                                continue; /* closed under us by a crr flow: not a verdict */
                        if (r < 0 || (len >= offsetof(struct mptcp_info, mptcpi_token) &&
                                      (mi.mptcpi_flags & MPTCP_INFO_FLAG_FALLBACK))) {
                                if (!th[i].o->tcp)
                                        s->fallback++;
                                continue;
                        }
                        s->mptcp++;
                        sub += 1u + mi.mptcpi_subflows;
                        struct json_object *d;
                        if (json_object_array_length(s->detail) < 4 && (d = subflow_detail(fd)))
                                json_object_array_add(s->detail, d);
                }
        s->subflows = s->mptcp ? (double)sub / s->mptcp : 0;
}

/* Per-subflow detail of one connection: MPTCP_TCPINFO (tcp_info per subflow) and
 * MPTCP_SUBFLOW_ADDRS, where the kernel has them (5.16+). Both answer with a
 * header saying how many subflows there are and how big the kernel's element is:
 * read only what both sides know. NULL when the kernel has neither. */
#define MAX_SUBFLOWS 8
static struct json_object *subflow_detail(int fd)
{
        struct {
                struct mptcp_subflow_data d;
                struct tcp_info ti[MAX_SUBFLOWS];
        } ti;
        struct {
                struct mptcp_subflow_data d;
                struct mptcp_subflow_addrs a[MAX_SUBFLOWS];
        } ad;
        memset(&ti, 0, sizeof ti);
        memset(&ad, 0, sizeof ad);
        ti.d.size_subflow_data = ad.d.size_subflow_data = sizeof(struct mptcp_subflow_data);
        ti.d.size_user = sizeof(struct tcp_info);
        ad.d.size_user = sizeof(struct mptcp_subflow_addrs);
        socklen_t tl = sizeof ti, al = sizeof ad;
        bool have_ti = getsockopt(fd, SOL_MPTCP, MPTCP_TCPINFO, &ti, &tl) == 0 &&
                       tl >= sizeof(struct mptcp_subflow_data);
        bool have_ad = getsockopt(fd, SOL_MPTCP, MPTCP_SUBFLOW_ADDRS, &ad, &al) == 0 &&
                       al >= sizeof(struct mptcp_subflow_data);
        if (!have_ti && !have_ad)
                return NULL;
        unsigned n = have_ti ? ti.d.num_subflows : ad.d.num_subflows;
        if (n > MAX_SUBFLOWS)
                n = MAX_SUBFLOWS;
        /* an older kernel's tcp_info may be shorter than ours: fields past it read 0 */
        size_t ti_size = have_ti && ti.d.size_kernel < sizeof(struct tcp_info)
                                 ? ti.d.size_kernel
                                 : sizeof(struct tcp_info);
        struct json_object *arr = json_object_new_array();
        for (unsigned i = 0; i < n; i++) {
                struct json_object *s = json_object_new_object();
                if (have_ti && i < ti.d.num_subflows) {
                        struct tcp_info t;
                        memset(&t, 0, sizeof t);
                        memcpy(&t, (char *)ti.ti + (size_t)i * ti.d.size_user, ti_size);
                        json_object_object_add(s, "rtt_us", json_object_new_int64(t.tcpi_rtt));
                        json_object_object_add(s, "bytes_acked",
                                               json_object_new_int64((int64_t)t.tcpi_bytes_acked));
                        json_object_object_add(
                                s, "bytes_received",
                                json_object_new_int64((int64_t)t.tcpi_bytes_received));
                        json_object_object_add(s, "total_retrans",
                                               json_object_new_int64(t.tcpi_total_retrans));
                        json_object_object_add(s, "snd_cwnd",
                                               json_object_new_int64(t.tcpi_snd_cwnd));
                }
                if (have_ad && i < ad.d.num_subflows) {
                        const struct mptcp_subflow_addrs *x = &ad.a[i];
                        char l[INET6_ADDRSTRLEN] = "?", r[INET6_ADDRSTRLEN] = "?";
                        unsigned lp = 0, rp = 0;
                        if (x->sa_family == AF_INET) {
                                inet_ntop(AF_INET, &x->sin_local.sin_addr, l, sizeof l);
                                inet_ntop(AF_INET, &x->sin_remote.sin_addr, r, sizeof r);
                                lp = ntohs(x->sin_local.sin_port);
                                rp = ntohs(x->sin_remote.sin_port);
                        } else if (x->sa_family == AF_INET6) {
                                inet_ntop(AF_INET6, &x->sin6_local.sin6_addr, l, sizeof l);
                                inet_ntop(AF_INET6, &x->sin6_remote.sin6_addr, r, sizeof r);
                                lp = ntohs(x->sin6_local.sin6_port);
                                rp = ntohs(x->sin6_remote.sin6_port);
                        }
                        char buf[2 * INET6_ADDRSTRLEN + 32];
                        snprintf(buf, sizeof buf, "%s:%u", l, lp);
                        json_object_object_add(s, "local", json_object_new_string(buf));
                        snprintf(buf, sizeof buf, "%s:%u", r, rp);
                        json_object_object_add(s, "remote", json_object_new_string(buf));
                }
                json_object_array_add(arr, s);
        }
        return arr;
}

/* ---- control connection ---- */

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
        char p[16];
        snprintf(p, sizeof p, "%u", port);
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
        int r = getaddrinfo(host, p, &hints, &res);
        if (r)
                return -EHOSTUNREACH;
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
        freeaddrinfo(res);
        return 0;
}

static int ctl_connect(const struct opts *o, struct sockaddr_storage *ss, socklen_t len)
{
        int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
        struct timeval tv = {.tv_sec = (long)o->timeout};
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, (struct sockaddr *)ss, len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static struct json_object *ctl_read(struct line_reader *lr, double timeout, char **err)
{
        char *line = NULL;
        int r = line_reader_next(lr, (int)(timeout * 1000), &line);
        if (r <= 0) {
                *err = xasprintf(r == 0 ? "the server closed the control connection"
                                        : "no answer from the server: %s",
                                 strerror(-r));
                return NULL;
        }
        struct json_object *o = json_tokener_parse(line);
        free(line);
        if (!o)
                *err = xasprintf("the server sent something that is not JSON");
        return o;
}

static void ctl_mark(int cfd, const char *what)
{
        struct json_object *m = json_object_new_string(what);
        json_write_line(cfd, m);
        json_object_put(m);
}

static double rusage_s(void)
{
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int client(const struct opts *o)
{
        struct sockaddr_storage ss, cs;
        socklen_t sslen, cslen;
        const char *chost = o->control ? o->control : o->host;
        if (resolve(o->host, o->port, &ss, &sslen) < 0 ||
            resolve(chost, o->port, &cs, &cslen) < 0) {
                log_error("cannot resolve %s",
                          resolve(o->host, o->port, &ss, &sslen) < 0 ? o->host : chost);
                return 2;
        }
        int cfd = ctl_connect(o, &cs, cslen);
        if (cfd < 0) {
                log_errno(LOG_LVL_ERROR, cfd, "control connection to %s port %u", o->host, o->port);
                return 3;
        }
        struct json_object *req = json_object_new_object();
        json_object_object_add(req, "mode", json_object_new_string(mode_names[o->mode]));
        json_object_object_add(req, "size", json_object_new_int64((int64_t)o->size));
        json_object_object_add(req, "response_size", json_object_new_int64((int64_t)o->resp_size));
        json_object_object_add(req, "tcp", json_object_new_boolean(o->tcp));
        json_object_object_add(req, "direction", json_object_new_string(dir_names[o->dir]));
        json_object_object_add(req, "duration",
                               json_object_new_double(o->duration + o->warmup + 5));
        if (o->bytes) {
                json_object_object_add(req, "bytes", json_object_new_int64((int64_t)o->bytes));
                json_object_object_add(req, "flows", json_object_new_int((int)o->flows));
        }
        if (o->bins > 0) {
                json_object_object_add(req, "bins", json_object_new_double(o->bins));
                json_object_object_add(req, "window", json_object_new_double(o->duration));
        }
        json_write_line(cfd, req);
        json_object_put(req);
        struct line_reader lr;
        line_reader_init(&lr, cfd);
        char *err = NULL;
        struct json_object *rep = ctl_read(&lr, o->timeout, &err);
        if (!rep || !json_object_get_boolean(jpath(rep, "ok", NULL))) {
                log_error("server refused the test: %s", err ? err : jstr(rep, "error") ?: "?");
                return 3;
        }
        json_object_put(rep);
        struct sockaddr_storage ds = ss;
        ((struct sockaddr_in *)&ds)->sin_port =
                htons((uint16_t)(o->port + 1)); /* same offset for v6 */

        struct thread *th = xcalloc(o->threads, sizeof *th);
        struct flow *flows = xcalloc(o->flows, sizeof *flows);
        for (unsigned i = 0; i < o->flows; i++)
                flows[i].fd = -1;
        for (unsigned i = 0, first = 0; i < o->threads; i++) {
                unsigned cnt = o->flows / o->threads + (i < o->flows % o->threads);
                th[i] = (struct thread){.ep = -1,
                                        .id = i,
                                        .first = first,
                                        .count = cnt,
                                        .o = o,
                                        .addr = ds,
                                        .addrlen = sslen,
                                        .flows = flows + first};
                first += cnt;
        }
        unsigned n_lat =
                o->bins > 0 && o->mode != MODE_STREAM ? (unsigned)ceil(o->duration / o->bins) : 0;
        for (unsigned i = 0; i < o->threads && n_lat; i++) {
                th[i].n_lat = n_lat;
                th[i].lat_max_us = xcalloc(n_lat, sizeof *th[i].lat_max_us);
                th[i].lat_slow = xcalloc(n_lat, sizeof *th[i].lat_slow);
        }
        for (unsigned i = 0; i < o->threads; i++)
                pthread_create(&th[i].th, NULL, thread_main, &th[i]);

        struct json_object *series = json_object_new_array();
        uint64_t prev_bytes = 0, prev_tx = 0, prev_conn = 0;
        struct mp_sample mp = {0}, mp_last = {0};
        unsigned fallback_max = 0;
        double sub_sum = 0;
        unsigned sub_n = 0;
        /* the measured window is exactly [warm-up, warm-up + duration]; samples every
         * interval inside it, the last one at its end */
        sleep_until(now_ns() + (uint64_t)(o->warmup * 1e9));
        window_t0_ns = now_ns();
        measuring = 1;
        /* the server counts what it receives between these two marks: the
         * receiver's goodput of an upload */
        ctl_mark(cfd, "start");
        double cpu0 = rusage_s(), cpu_prev = cpu0;
        uint64_t tm0 = now_ns(), tprev = tm0, end = tm0 + (uint64_t)(o->duration * 1e9);
        bool all_done = false;
        for (uint64_t next = tm0; !stop_flag && tprev < end && !all_done;) {
                next += (uint64_t)(o->interval * 1e9);
                sleep_until(next < end ? next : end);
                uint64_t tnow = now_ns();
                double dt = (double)(tnow - tprev) / 1e9;
                tprev = tnow;
                uint64_t b = 0, tx = 0, cn = 0, fin = 0;
                for (unsigned i = 0; i < o->threads; i++) {
                        fin += th[i].finished;
                        b += th[i].bytes;
                        tx += th[i].transactions;
                        cn += th[i].connections;
                }
                json_object_put(mp.detail);
                sample_mptcp(th, o->threads, &mp);
                if (mp.fallback > fallback_max)
                        fallback_max = mp.fallback;
                if (mp.mptcp) {
                        sub_sum += mp.subflows;
                        sub_n++;
                        mp_last = mp;
                }
                struct json_object *s = json_object_new_object();
                json_object_object_add(s, "t", json_object_new_double((double)(tnow - tm0) / 1e9));
                json_object_object_add(s, "bps",
                                       json_object_new_double((double)(b - prev_bytes) * 8 / dt));
                json_object_object_add(s, "tps",
                                       json_object_new_double((double)(tx - prev_tx) / dt));
                json_object_object_add(s, "cps",
                                       json_object_new_double((double)(cn - prev_conn) / dt));
                /* the process's CPU in this interval, all threads, user + system */
                double cpu_now = rusage_s();
                json_object_object_add(s, "cpu_s", json_object_new_double(cpu_now - cpu_prev));
                cpu_prev = cpu_now;
                json_object_object_add(s, "mptcp_connections", json_object_new_int((int)mp.mptcp));
                json_object_object_add(s, "fallbacks", json_object_new_int((int)mp.fallback));
                json_object_object_add(s, "subflows", json_object_new_double(mp.subflows));
                json_object_object_add(s, "subflow_detail", mp.detail);
                mp.detail = NULL;
                json_object_array_add(series, s);
                prev_bytes = b;
                prev_tx = tx;
                prev_conn = cn;
                all_done = o->bytes && fin == o->flows;
        }
        measuring = 0;
        ctl_mark(cfd, "end");
        double secs = (double)(now_ns() - tm0) / 1e9, cpu = rusage_s() - cpu0;
        stop_flag = 1;
        for (unsigned i = 0; i < o->threads; i++)
                pthread_join(th[i].th, NULL);
        uint64_t bytes = 0, rx = 0, tx = 0, cn = 0, errors = 0;
        struct hist h = {{0}, 0};
        const char *first_error = NULL;
        char *incomplete = NULL;
        for (unsigned i = 0; i < o->threads; i++) {
                bytes += th[i].bytes;
                rx += th[i].rx;
                tx += th[i].transactions;
                cn += th[i].connections;
                errors += th[i].errors;
                for (unsigned k = 0; k < HBUCKETS; k++)
                        h.b[k] += th[i].hist.b[k];
                h.n += th[i].hist.n;
                if (th[i].error && !first_error)
                        first_error = th[i].error;
        }
        /* --bytes not all through by the deadline: the kernel's outcome (a
         * failover that never came), said, not an error of the test */
        if (o->bytes && !all_done && !first_error)
                incomplete = xasprintf("the transfer of %llu bytes a flow was not complete "
                                       "within %g s",
                                       (unsigned long long)o->bytes, o->duration);
        for (unsigned i = 0; i < o->flows; i++)
                if (flows[i].fd >= 0)
                        flow_abort(flows[i].fd);
        int64_t tw_client = time_wait_count(o->port + 1, false);
        /* the server's count of what arrived, for the stream mode's receiver goodput */
        struct json_object *done_msg = json_object_new_string("done");
        json_write_line(cfd, done_msg);
        json_object_put(done_msg);
        struct json_object *srv = ctl_read(&lr, o->timeout, &err);
        free(err);
        line_reader_free(&lr);
        close(cfd);

        struct json_object *out = json_object_new_object(), *op = json_object_new_object(),
                           *sum = json_object_new_object(), *lat = json_object_new_object();
        json_object_object_add(op, "host", json_object_new_string(o->host));
        json_object_object_add(op, "port", json_object_new_int((int)o->port));
        json_object_object_add(op, "mode", json_object_new_string(mode_names[o->mode]));
        json_object_object_add(op, "direction", json_object_new_string(dir_names[o->dir]));
        json_object_object_add(op, "protocol", json_object_new_string(o->tcp ? "tcp" : "mptcp"));
        json_object_object_add(op, "flows", json_object_new_int((int)o->flows));
        json_object_object_add(op, "threads", json_object_new_int((int)o->threads));
        json_object_object_add(op, "duration", json_object_new_double(o->duration));
        json_object_object_add(op, "warmup", json_object_new_double(o->warmup));
        json_object_object_add(op, "interval", json_object_new_double(o->interval));
        json_object_object_add(op, "bins", json_object_new_double(o->bins));
        json_object_object_add(op, "bytes", json_object_new_int64((int64_t)o->bytes));
        json_object_object_add(op, "size", json_object_new_int64((int64_t)o->size));
        json_object_object_add(op, "response_size", json_object_new_int64((int64_t)o->resp_size));
        json_object_object_add(op, "bind",
                               o->bind_addr ? json_object_new_string(o->bind_addr) : NULL);
        json_object_object_add(out, "options", op);
        json_object_object_add(sum, "seconds", json_object_new_double(secs));
        json_object_object_add(sum, "bytes", json_object_new_int64((int64_t)bytes));
        json_object_object_add(sum, "throughput_bps",
                               json_object_new_double((double)bytes * 8 / secs));
        json_object_object_add(sum, "bytes_sent", json_object_new_int64((int64_t)(bytes - rx)));
        json_object_object_add(sum, "bytes_received", json_object_new_int64((int64_t)rx));
        /* the server's own totals (whole test, warm-up included) */
        json_object_object_add(sum, "server_bytes", json_object_get(jpath(srv, "bytes", NULL)));
        json_object_object_add(sum, "server_bytes_sent",
                               json_object_get(jpath(srv, "bytes_sent", NULL)));
        /* goodput is what a receiver got in the window, per direction: up is
         * the server's count between the marks, down the client's own */
        int64_t wup = -1, accepted = -1, serrors = -1;
        jint(srv, "window_bytes", &wup);
        jint(srv, "accepted", &accepted);
        jint(srv, "errors", &serrors);
        double up = -1, down = -1;
        if (o->mode == MODE_STREAM) {
                /* binned, the server's window is exactly the duration on its clock */
                double wsecs = jpath(srv, "bins", NULL) ? o->duration : secs;
                up = o->dir != DIR_DOWN && wup >= 0 ? (double)wup * 8 / wsecs
                     : o->dir == DIR_DOWN           ? 0
                                                    : -1;
                down = o->dir != DIR_UP ? (double)rx * 8 / secs : 0;
        }
        /* --bytes: the receiver's time from the start mark to the last byte
         * of the last flow (the server's clock), -1: not all arrived */
        json_object_object_add(sum, "completion_s",
                               o->bytes ? json_object_get(jpath(srv, "completion_s", NULL)) : NULL);
        json_object_object_add(sum, "complete",
                               o->bytes ? json_object_new_boolean(!incomplete) : NULL);
        if (o->bytes) {
                double ct = -1;
                jdouble(srv, "completion_s", &ct);
                /* not all of it: what arrived by the deadline, over it */
                up = ct > 0     ? (double)o->bytes * o->flows * 8 / ct
                     : wup >= 0 ? (double)wup * 8 / o->duration
                                : -1;
        }
        json_object_object_add(sum, "goodput_up_bps", json_object_new_double(up));
        json_object_object_add(sum, "goodput_down_bps", json_object_new_double(down));
        json_object_object_add(sum, "server_accepted", json_object_new_int64(accepted));
        json_object_object_add(sum, "server_errors", json_object_new_int64(serrors));
        json_object_object_add(sum, "transactions", json_object_new_int64((int64_t)tx));
        json_object_object_add(sum, "connections", json_object_new_int64((int64_t)cn));
        json_object_object_add(sum, "transactions_per_s",
                               json_object_new_double((double)tx / secs));
        json_object_object_add(sum, "connections_per_s", json_object_new_double((double)cn / secs));
        json_object_object_add(lat, "p50_us", json_object_new_double(hpercentile(&h, 50)));
        json_object_object_add(lat, "p90_us", json_object_new_double(hpercentile(&h, 90)));
        json_object_object_add(lat, "p99_us", json_object_new_double(hpercentile(&h, 99)));
        json_object_object_add(lat, "p999_us", json_object_new_double(hpercentile(&h, 99.9)));
        /* the distribution, as many points as a CDF plot needs */
        static const double cdf_p[] = {1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9};
        struct json_object *cdf = json_object_new_array();
        for (unsigned i = 0; h.n && i < sizeof cdf_p / sizeof cdf_p[0]; i++) {
                struct json_object *pt = json_object_new_array();
                json_object_array_add(pt, json_object_new_double(cdf_p[i]));
                json_object_array_add(pt, json_object_new_double(hpercentile(&h, cdf_p[i])));
                json_object_array_add(cdf, pt);
        }
        json_object_object_add(lat, "cdf", cdf);
        json_object_object_add(sum, "latency", lat);
        json_object_object_add(sum, "cpu_s", json_object_new_double(cpu));
        json_object_object_add(sum, "cpu_s_per_gb",
                               json_object_new_double(bytes ? cpu / ((double)bytes / 1e9) : 0));
        json_object_object_add(sum, "cpu_us_per_transaction",
                               json_object_new_double(tx ? cpu * 1e6 / (double)tx : 0));
        json_object_object_add(sum, "mptcp_connections", json_object_new_int((int)mp_last.mptcp));
        json_object_object_add(sum, "fallbacks", json_object_new_int((int)fallback_max));
        json_object_object_add(sum, "subflows_per_connection",
                               json_object_new_double(sub_n ? sub_sum / sub_n : 0));
        /* what the test left in TIME_WAIT towards its data port, each side counted
         * in its own namespace after the last flow closed (-1: unknown) */
        int64_t tw_server = -1;
        jint(srv, "time_wait", &tw_server);
        json_object_object_add(sum, "time_wait_client", json_object_new_int64(tw_client));
        json_object_object_add(sum, "time_wait_server", json_object_new_int64(tw_server));
        json_object_object_add(sum, "errors", json_object_new_int64((int64_t)errors));
        json_object_object_add(sum, "error",
                               first_error ? json_object_new_string(first_error) : NULL);
        json_object_object_add(out, "summary", sum);
        json_object_object_add(out, "intervals", series);
        /* rr and crr with --bins: the slowest transaction ending in each bin of
         * the window (on this clock from start_us) and those over 1 s */
        if (n_lat) {
                struct json_object *lb = json_object_new_object(), *mx = json_object_new_array(),
                                   *sl = json_object_new_array();
                for (unsigned k = 0; k < n_lat; k++) {
                        uint32_t m = 0, n = 0;
                        for (unsigned i = 0; i < o->threads; i++) {
                                m = th[i].lat_max_us[k] > m ? th[i].lat_max_us[k] : m;
                                n += th[i].lat_slow[k];
                        }
                        json_object_array_add(mx, json_object_new_int64(m));
                        json_object_array_add(sl, json_object_new_int64(n));
                }
                json_object_object_add(lb, "width_s", json_object_new_double(o->bins));
                json_object_object_add(lb, "start_us",
                                       json_object_new_int64((int64_t)(window_t0_ns / 1000)));
                json_object_object_add(lb, "max_us", mx);
                json_object_object_add(lb, "over_1s", sl);
                json_object_object_add(out, "latency_bins", lb);
        }
        /* the receiver's bytes in bins from the start of the window (--bins) */
        json_object_object_add(out, "receiver_bins", json_object_get(jpath(srv, "bins", NULL)));
        puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY));
        fprintf(stderr,
                "mptcpload: %s %s %u flows: %.2f Mbit/s, %.0f trans/s, %.0f conn/s, p99 %.0f us, "
                "cpu %.2f s, fallbacks %u, subflows/conn %.2f, TIME_WAIT %lld client %lld "
                "server%s%s%s%s\n",
                mode_names[o->mode], o->tcp ? "tcp" : "mptcp", o->flows,
                (double)bytes * 8 / secs / 1e6, (double)tx / secs, (double)cn / secs,
                hpercentile(&h, 99), cpu, fallback_max, sub_n ? sub_sum / sub_n : 0,
                (long long)tw_client, (long long)tw_server, first_error ? ", error: " : "",
                first_error ? first_error : "", incomplete ? ", " : "",
                incomplete ? incomplete : "");
        json_object_put(out);
        json_object_put(srv);
        int rc = first_error ? 3 : 0;
        free(incomplete);
        for (unsigned i = 0; i < o->threads; i++) {
                free(th[i].error);
                free(th[i].lat_max_us);
                free(th[i].lat_slow);
                if (th[i].ep >= 0)
                        close(th[i].ep);
        }
        free(th);
        free(flows);
        return rc;
}

/* ---- server ---- */

struct sconn {
        int fd;
        size_t done;
        uint64_t rx; /* --bytes: what it brought */
        bool sending;
        struct sconn *next, *prev;
};

static void sconn_drop(int ep, struct sconn **list, struct sconn *c)
{
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        if (c->prev)
                c->prev->next = c->next;
        else
                *list = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
}

/* Accepts what the listener holds (at most 4096 a turn, so that the data of
 * those already in keeps moving); false once it cannot accept any more (out
 * of descriptors or memory: said, counted, and the listener leaves the set,
 * or it would stay readable and spin the loop) */
static bool accept_pending(int ep, int lfd, struct sconn **conns, bool tx, uint64_t *accepted,
                           uint64_t *errors)
{
        for (int burst = 0; burst < 4096; burst++) {
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0 &&
                    (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
                        log_error("accept: %s", strerror(errno));
                        (*errors)++;
                        epoll_ctl(ep, EPOLL_CTL_DEL, lfd, NULL);
                        return false;
                }
                if (fd < 0)
                        return true;
                (*accepted)++;
                struct sconn *c = xcalloc(1, sizeof *c);
                c->fd = fd;
                c->next = *conns;
                if (*conns)
                        (*conns)->prev = c;
                *conns = c;
                struct epoll_event e2 = {.events = EPOLLIN | (tx ? EPOLLOUT : 0), .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2);
        }
        return true;
}

static int server_test(const struct opts *o, int cfd, int lfd)
{
        struct line_reader lr;
        line_reader_init(&lr, cfd);
        char *err = NULL;
        struct json_object *req = ctl_read(&lr, o->timeout, &err);
        if (!req) {
                log_error("control: %s", err);
                free(err);
                line_reader_free(&lr);
                return -EPROTO;
        }
        const char *m = jstr(req, "mode"), *ds = jstr(req, "direction");
        int di = ds ? name_index(dir_names, ELEMENTSOF(dir_names), ds) : DIR_UP;
        enum dir dir = di < 0 ? DIR_UP : (enum dir)di;
        int64_t size = 0, rsize = 0;
        jint(req, "size", &size);
        jint(req, "response_size", &rsize);
        double dur = 0, bin_s = 0, window_s = 0;
        int64_t fixed = 0, fixed_flows = 0;
        jint(req, "bytes", &fixed);
        jint(req, "flows", &fixed_flows);
        jdouble(req, "duration", &dur);
        jdouble(req, "bins", &bin_s);
        jdouble(req, "window", &window_s);
        int mi = name_index(mode_names, ELEMENTSOF(mode_names), m);
        enum mode mode = mi < 0 ? MODE_STREAM : (enum mode)mi;
        struct json_object *ok = json_object_new_object();
        bool good = mi >= 0 && di >= 0 && size >= 0 && size <= 1 << 20 && rsize >= 0 &&
                    rsize <= 1 << 20 && dur > 0 && dur < 86400 && fixed >= 0 &&
                    (!fixed || (fixed_flows >= 1 && fixed_flows <= 1000000)) &&
                    (bin_s == 0 || (bin_s >= 0.001 && bin_s <= 1 && window_s > 0 &&
                                    window_s < dur && window_s / bin_s <= 1000000));
        json_object_object_add(ok, "ok", json_object_new_boolean(good));
        if (!good)
                json_object_object_add(ok, "error", json_object_new_string("bad test parameters"));
        json_write_line(cfd, ok);
        json_object_put(ok);
        json_object_put(req);
        if (!good) {
                line_reader_free(&lr);
                return -EINVAL;
        }
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
        struct epoll_event cev = {.events = EPOLLIN, .data.ptr = &cfd};
        epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
        uint64_t bytes = 0, sent = 0, win0 = 0, win1 = 0, accepted = 0, errors = 0,
                 deadline = now_usec() + (uint64_t)(dur * 1e6) + (uint64_t)(o->timeout * 1e6);
        bool done = false, started = false, ended = false, listening = true;
        struct sconn *conns = NULL;
        /* --bins: what arrives, counted by the time it was read from the start
         * mark, in bins of bin_us up to the window's end on this clock */
        uint64_t bin_us = (uint64_t)(bin_s * 1e6), t_start = 0;
        size_t nbins = bin_us ? (size_t)ceil(window_s * 1e6 / (double)bin_us) : 0;
        uint64_t *bins = nbins ? xcalloc(nbins, sizeof *bins) : NULL;
        /* --bytes: flows whose every byte came, and when the last of them did */
        uint64_t completed = 0, t_complete = 0;
#define COUNT_RX(n)                                                                                \
        do {                                                                                       \
                bytes += (uint64_t)(n);                                                            \
                if (started && nbins) {                                                            \
                        uint64_t t_ = now_usec() - t_start;                                        \
                        if (t_ < (uint64_t)(window_s * 1e6) && t_ / bin_us < nbins)                \
                                bins[t_ / bin_us] += (uint64_t)(n);                                \
                }                                                                                  \
        } while (0)
        struct epoll_event evs[64];
        while (!done && !stop_flag && now_usec() < deadline) {
                int n = epoll_wait(ep, evs, 64, 200);
                /* the listener first, every turn and whether or not it was among
                 * the events: with thousands of flows sending, a listener event
                 * is one in 64 and a burst of connections waited in the queue
                 * behind the data of those already in (a run of 10,000 flows
                 * had 9,701 accepted when it ended, all of them established) */
                if (listening)
                        listening = accept_pending(ep, lfd, &conns,
                                                   mode == MODE_STREAM && dir != DIR_UP, &accepted,
                                                   &errors);
                for (int i = 0; i < n; i++) {
                        if (evs[i].data.ptr == NULL)
                                continue;
                        if (evs[i].data.ptr == &cfd) {
                                /* "start" and "end" mark the measured window; "done",
                                 * or the client gone, ends the test */
                                int got = line_reader_fill(&lr);
                                char *line;
                                while (line_reader_pop(&lr, &line) > 0) {
                                        if (streq(line, "\"start\"") && !started) {
                                                started = true;
                                                win0 = bytes;
                                                t_start = now_usec();
                                        } else if (streq(line, "\"end\"") && started && !ended) {
                                                ended = true;
                                                win1 = bytes;
                                        } else
                                                done = true;
                                        free(line);
                                }
                                if (got <= 0 && got != -EAGAIN && got != -EINTR)
                                        done = true;
                                if (done)
                                        break;
                                continue;
                        }
                        struct sconn *c = evs[i].data.ptr;
                        if (mode == MODE_STREAM) {
                                int64_t moved = 0;
                                if (dir != DIR_UP && (evs[i].events & EPOLLOUT) &&
                                    (moved = send_burst(c->fd)) >= 0)
                                        sent += (uint64_t)moved;
                                if (moved >= 0 &&
                                    (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) &&
                                    (moved = recv_burst(c->fd)) >= 0) {
                                        COUNT_RX(moved);
                                        c->rx += (uint64_t)moved;
                                        if (fixed && c->rx == (uint64_t)fixed && moved) {
                                                /* all of this flow: the server closes
                                                 * first (the client then resets: no
                                                 * TIME_WAIT on either side) */
                                                completed++;
                                                t_complete = now_usec();
                                                goto drop;
                                        }
                                }
                                if (moved < 0)
                                        goto drop;
                                continue;
                        }
                        if (c->sending) {
                                ssize_t w = send(c->fd, zeros, chunk((size_t)rsize - c->done),
                                                 MSG_NOSIGNAL);
                                if (w > 0 && (c->done += (size_t)w) == (size_t)rsize &&
                                    mode == MODE_CRR) {
                                        /* the server closes first: TIME_WAIT stays on its
                                         * side, not on the client's ephemeral ports */
                                        goto drop;
                                } else if (w > 0 && c->done == (size_t)rsize) {
                                        c->sending = false;
                                        c->done = 0;
                                        struct epoll_event e2 = {.events = EPOLLIN, .data.ptr = c};
                                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e2);
                                } else if (w < 0 && errno != EAGAIN)
                                        goto drop;
                                continue;
                        }
                        ssize_t r = recv(c->fd, sink, chunk((size_t)size - c->done), 0);
                        if (r <= 0) {
                                if (r < 0 && errno == EAGAIN)
                                        continue;
                        drop:
                                sconn_drop(ep, &conns, c);
                                continue;
                        }
                        COUNT_RX(r);
                        if ((c->done += (size_t)r) == (size_t)size) {
                                c->done = 0;
                                c->sending = true;
                                struct epoll_event e2 = {.events = EPOLLOUT, .data.ptr = c};
                                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e2);
                        }
                }
        }
        struct json_object *res = json_object_new_object();
        json_object_object_add(res, "bytes", json_object_new_int64((int64_t)bytes));
        json_object_object_add(res, "bytes_sent", json_object_new_int64((int64_t)sent));
        int64_t wbytes = ended ? (int64_t)(win1 - win0) : -1;
        if (nbins && started) {
                /* binned: the window is the bins' own, on this clock (an end mark
                 * that crossed a path taken down came late) */
                struct json_object *b = json_object_new_object(), *arr = json_object_new_array();
                wbytes = 0;
                for (size_t i = 0; i < nbins; i++) {
                        wbytes += (int64_t)bins[i];
                        json_object_array_add(arr, json_object_new_int64((int64_t)bins[i]));
                }
                json_object_object_add(b, "width_s", json_object_new_double(bin_s));
                /* bin 0's start on this node's monotonic clock */
                json_object_object_add(b, "start_us", json_object_new_int64((int64_t)t_start));
                json_object_object_add(b, "bytes", arr);
                json_object_object_add(res, "bins", b);
        }
        free(bins);
#undef COUNT_RX
        json_object_object_add(res, "window_bytes", json_object_new_int64(wbytes));
        if (fixed)
                json_object_object_add(
                        res, "completion_s",
                        json_object_new_double(started && completed == (uint64_t)fixed_flows &&
                                                               t_complete > t_start
                                                       ? (double)(t_complete - t_start) / 1e6
                                                       : -1));
        json_object_object_add(res, "accepted", json_object_new_int64((int64_t)accepted));
        json_object_object_add(res, "errors", json_object_new_int64((int64_t)errors));
        json_object_object_add(res, "time_wait",
                               json_object_new_int64(time_wait_count(o->port + 1, true)));
        json_write_line(cfd, res);
        json_object_put(res);
        while (conns) /* a test's connections end with it, also without --once */
                sconn_drop(ep, &conns, conns);
        close(ep);
        line_reader_free(&lr);
        return 0;
}

static int listen_on(const struct opts *o, unsigned port, int proto)
{
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, proto);
        if (fd < 0)
                return -errno;
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                                  .sin6_port = htons((uint16_t)port),
                                  .sin6_addr = in6addr_any};
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            listen(fd, 65535) /* capped by net.core.somaxconn */ < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static int server(const struct opts *o)
{
        int cl = listen_on(o, o->port, IPPROTO_TCP);
        if (cl < 0) {
                log_errno(LOG_LVL_ERROR, cl, "cannot listen on port %u", o->port);
                return 3;
        }
        int dl = listen_on(o, o->port + 1, o->tcp ? IPPROTO_TCP : IPPROTO_MPTCP);
        if (dl < 0) {
                log_errno(LOG_LVL_ERROR, dl, "cannot listen on port %u%s", o->port + 1,
                          o->tcp ? "" : " with MPTCP (kernel without MPTCP? try --tcp)");
                return 3;
        }
        fcntl(dl, F_SETFL, O_NONBLOCK);
        fprintf(stderr, "mptcpload: listening on port %u (control) and %u (%s data)\n", o->port,
                o->port + 1, o->tcp ? "TCP" : "MPTCP");
        do {
                struct pollfd p = {.fd = cl, .events = POLLIN};
                if (poll(&p, 1, 500) <= 0)
                        continue;
                int cfd = accept4(cl, NULL, NULL, SOCK_CLOEXEC);
                if (cfd < 0)
                        continue;
                server_test(o, cfd, dl);
                close(cfd);
                if (o->once)
                        break;
        } while (!stop_flag);
        close(cl);
        close(dl);
        return 0;
}

static void on_signal(int sig)
{
        stop_flag = 1;
}

static void usage(FILE *f)
{
        fprintf(f,
                "usage: mptcpload server [--port P] [--tcp] [--once]\n"
                "       mptcpload client --host H [--port P] [--mode stream|rr|crr] [--flows F]\n"
                "                 [--threads T] [--duration S] [--warmup S] [--size N]\n"
                "                 [--response-size N] [--interval S] [--tcp] [--bind "
                "ADDR[,ADDR...]]\n"
                "                 [--timeout S] [--direction up|down|both] [--bins S] [--bytes N]\n"
                "                 [--control H]\n"
                "  --control H    the control connection goes to H (default: --host), so\n"
                "                 that it can avoid a path a test takes down\n"
                "  --bytes N      a fixed-size upload: each flow sends N bytes and closes; the\n"
                "                 test ends when the server has them all (completion_s), or\n"
                "                 fails at --duration\n"
                "  --bins S       the server counts what it receives in bins of S seconds\n"
                "                 over the window (receiver_bins in the output)\n"
                "  --direction    stream: the client sends (up, default), the server sends\n"
                "                 (down), or both at once on every connection\n");
}

int main(int argc, char **argv)
{
        static const struct option lo[] = {
                {"port", required_argument, NULL, 'p'},
                {"tcp", no_argument, NULL, 'T'},
                {"once", no_argument, NULL, '1'},
                {"host", required_argument, NULL, 'H'},
                {"mode", required_argument, NULL, 'm'},
                {"flows", required_argument, NULL, 'F'},
                {"threads", required_argument, NULL, 't'},
                {"duration", required_argument, NULL, 'd'},
                {"warmup", required_argument, NULL, 'w'},
                {"size", required_argument, NULL, 's'},
                {"response-size", required_argument, NULL, 'r'},
                {"interval", required_argument, NULL, 'i'},
                {"bins", required_argument, NULL, 'B'},
                {"control", required_argument, NULL, 'C'},
                {"bytes", required_argument, NULL, 'N'},
                {"bind", required_argument, NULL, 'b'},
                {"timeout", required_argument, NULL, 'o'},
                {"direction", required_argument, NULL, 'D'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        log_set_program("mptcpload");
        signal(SIGPIPE, SIG_IGN);
        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                usage(stdout);
                return 0;
        }
        if (argc < 2 || (!streq(argv[1], "server") && !streq(argv[1], "client"))) {
                usage(stderr);
                return 2;
        }
        struct opts o = {.server = streq(argv[1], "server"),
                         .port = 5300,
                         .flows = 1,
                         .threads = 1,
                         .duration = 10,
                         .warmup = 1,
                         .interval = 1,
                         .timeout = 10,
                         .size = 1,
                         .resp_size = 1};
        int c, idx = 0, r;
        char *end;
        optind = 2;
        while ((c = getopt_long(argc, argv, "", lo, &idx)) >= 0) {
                double v = optarg ? strtod(optarg, &end) : 0;
                /* NaN passes every range test: refuse it, and fractions of counts */
                bool bad = optarg && (end == optarg || *end || !isfinite(v) || v < 0);
                bool whole = v == floor(v);
                switch (c) {
                case 'p':
                        o.port = (unsigned)v;
                        bad |= !whole || v < 1 || v > LIM_PORT_MAX;
                        break;
                case 'T':
                        o.tcp = true;
                        break;
                case '1':
                        o.once = true;
                        break;
                case 'H':
                        o.host = optarg;
                        bad = false;
                        break;
                case 'C':
                        o.control = optarg;
                        bad = false;
                        break;
                case 'b': {
                        o.bind_addr = optarg;
                        bad = false;
                        _cleanup_free_ char *list = xstrdup(optarg);
                        char *save = NULL;
                        for (char *a = strtok_r(list, ",", &save); a && !bad;
                             a = strtok_r(NULL, ",", &save)) {
                                struct addrinfo hints = {.ai_flags = AI_NUMERICHOST}, *res;
                                if (o.n_bind == BIND_MAX ||
                                    getaddrinfo(a, NULL, &hints, &res) != 0) {
                                        bad = true;
                                        break;
                                }
                                memcpy(&o.bind_ss[o.n_bind], res->ai_addr, res->ai_addrlen);
                                o.bind_len[o.n_bind++] = res->ai_addrlen;
                                freeaddrinfo(res);
                        }
                        break;
                }
                case 'm':
                        bad = (r = name_index(mode_names, ELEMENTSOF(mode_names), optarg)) < 0;
                        o.mode = bad ? o.mode : (enum mode)r;
                        break;
                case 'D':
                        bad = (r = name_index(dir_names, ELEMENTSOF(dir_names), optarg)) < 0;
                        o.dir = bad ? o.dir : (enum dir)r;
                        break;
                case 'F':
                        o.flows = (unsigned)v;
                        bad |= !whole || v < 1 || v > 100000;
                        break;
                case 't':
                        o.threads = (unsigned)v;
                        bad |= !whole || v < 1 || v > 256;
                        break;
                case 'd':
                        o.duration = v;
                        bad |= v <= 0 || v > 86400;
                        break;
                case 'w':
                        o.warmup = v;
                        bad |= v > 3600;
                        break;
                case 's':
                        o.size = (size_t)v;
                        bad |= !whole || v < 1 || v > (1 << 20);
                        break;
                case 'r':
                        o.resp_size = (size_t)v;
                        bad |= !whole || v < 1 || v > (1 << 20);
                        break;
                case 'i':
                        o.interval = v;
                        bad |= v < 0.05 || v > 60;
                        break;
                case 'B':
                        o.bins = v;
                        bad |= v < 0.001 || v > 1;
                        break;
                case 'N':
                        o.bytes = (uint64_t)v;
                        bad |= !whole || v < 1024 || v > 68719476736.0;
                        break;
                case 'o':
                        o.timeout = v;
                        bad |= v < 1 || v > 600;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
                if (bad) {
                        log_error("bad value for --%s: %s", lo[idx].name, optarg);
                        return 2;
                }
        }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }
        if (o.bytes && (o.mode != MODE_STREAM || o.dir != DIR_UP || o.warmup > 0)) {
                log_error("--bytes is a fixed-size upload: --mode stream, --direction up, "
                          "--warmup 0");
                return 2;
        }
        if (o.threads > o.flows)
                o.threads = o.flows;
        /* a flow is a descriptor on each end: the soft limit (1024 by default)
         * would fail at about a thousand flows */
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (!o.server && getrlimit(RLIMIT_NOFILE, &rl) == 0 && o.flows + 64 > rl.rlim_cur) {
                log_error("%u flows need %u descriptors, and this process may open %llu "
                          "(RLIMIT_NOFILE)",
                          o.flows, o.flows + 64, (unsigned long long)rl.rlim_cur);
                return 3;
        }
        struct sigaction sa = {.sa_handler = on_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        if (o.server)
                return server(&o);
        if (!o.host) {
                log_error("client: --host is required");
                return 2;
        }
        return client(&o);
}
