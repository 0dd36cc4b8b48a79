/* lvremote.c - files, consoles and agent channels of VMs on other hypervisor
 * hosts, all through libvirt's C API (storage volume upload, domain console
 * and channel streams), so that a topology can span hosts with nothing but a
 * libvirt URI per node. */
#include "lvremote.h"
#include "../shared/util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libvirt/virterror.h>
#include <libxml/uri.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

static void *event_loop(void *arg)
{
        for (;;)
                if (virEventRunDefaultImpl() < 0)
                        usleep(100000);
        return NULL;
}

static void event_loop_once(void)
{
        pthread_t t;
        if (virEventRegisterDefaultImpl() < 0) {
                log_warn("libvirt: no event loop (%s): streams to remote nodes will not work",
                         virGetLastErrorMessage());
                return;
        }
        if (pthread_create(&t, NULL, event_loop, NULL) == 0)
                pthread_detach(t);
}

void lvr_event_loop_start(void)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, event_loop_once);
}

char *lvr_uri_host(const char *uri)
{
        /* libxml2's RFC 3986 parser, the one libvirt itself uses for its URIs */
        xmlURIPtr u = xmlParseURI(uri);
        char *r = xstrdup(u && u->server ? u->server : "");
        xmlFreeURI(u);
        size_t n = strlen(r);
        if (n >= 2 && r[0] == '[' && r[n - 1] == ']') { /* an IPv6 literal keeps its brackets */
                memmove(r, r + 1, n - 2);
                r[n - 2] = 0;
        }
        return r;
}

int lvr_resolve4(const char *host, char *buf, size_t len)
{
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}, *res = NULL;
        int r = getaddrinfo(host, NULL, &hints, &res);
        if (r != 0 || !res)
                return -EHOSTUNREACH;
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, buf, (socklen_t)len);
        freeaddrinfo(res);
        return 0;
}

int lvr_addr_towards(const char *remote, char *buf, size_t len)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
        if (inet_pton(AF_INET, remote, &sa.sin_addr) != 1)
                return -EINVAL;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        socklen_t sl = sizeof sa;
        int r = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
                                getsockname(fd, (struct sockaddr *)&sa, &sl) == 0
                        ? 0
                        : -errno;
        close(fd);
        if (r == 0)
                inet_ntop(AF_INET, &sa.sin_addr, buf, (socklen_t)len);
        return r;
}

/* ---- uploads ---- */

#define POOL_NAME "mptcplab"
#define POOL_DIR  "/var/lib/libvirt/mptcplab"

static virStoragePoolPtr pool_of(virConnectPtr c, char **err)
{
        virStoragePoolPtr p = virStoragePoolLookupByName(c, POOL_NAME);
        if (p) {
                if (!virStoragePoolIsActive(p) && virStoragePoolCreate(p, 0) < 0) {
                        *err = xasprintf("storage pool %s is there but does not start: %s",
                                         POOL_NAME, virGetLastErrorMessage());
                        virStoragePoolFree(p);
                        return NULL;
                }
                virStoragePoolRefresh(p, 0);
                return p;
        }
        /* transient: it goes with libvirtd, the files stay as a cache */
        p = virStoragePoolCreateXML(c,
                                    "<pool type='dir'><name>" POOL_NAME
                                    "</name><target><path>" POOL_DIR "</path></target></pool>",
                                    VIR_STORAGE_POOL_CREATE_WITH_BUILD);
        if (!p)
                *err = xasprintf("cannot make the storage pool %s (%s): %s", POOL_NAME, POOL_DIR,
                                 virGetLastErrorMessage());
        return p;
}

static virStorageVolPtr vol_create(virStoragePoolPtr pool, const char *name, uint64_t size)
{
        _cleanup_free_ char *xml =
                xasprintf("<volume><name>%s</name><capacity unit='bytes'>%llu</capacity>"
                          "<target><format type='raw'/><permissions><mode>0644</mode></permissions>"
                          "</target></volume>",
                          name, (unsigned long long)size);
        return virStorageVolCreateXML(pool, xml, 0);
}

static int send_file(virConnectPtr c, virStorageVolPtr vol, int fd, uint64_t size, char **err)
{
        virStreamPtr st = virStreamNew(c, 0);
        if (!st || virStorageVolUpload(vol, st, 0, size, 0) < 0) {
                *err = xasprintf("upload refused: %s", virGetLastErrorMessage());
                if (st)
                        virStreamFree(st);
                return -EIO;
        }
        static char buf[1 << 16];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                for (ssize_t off = 0; off < n;) {
                        int w = virStreamSend(st, buf + off, (size_t)(n - off));
                        if (w < 0) {
                                *err = xasprintf("upload broke: %s", virGetLastErrorMessage());
                                virStreamAbort(st);
                                virStreamFree(st);
                                return -EIO;
                        }
                        off += w;
                }
        int r = n < 0 ? -errno : 0;
        if (r < 0)
                virStreamAbort(st);
        else if (virStreamFinish(st) < 0) {
                *err = xasprintf("upload did not finish: %s", virGetLastErrorMessage());
                r = -EIO;
        }
        virStreamFree(st);
        return r;
}

int lvr_upload(virConnectPtr c, const char *file, char **ret_path, char **err)
{
        struct stat s;
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &s) < 0) {
                *err = xasprintf("%s: %s", file, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
        _cleanup_free_ char *name =
                xasprintf("%s-%lld-%lld", base, (long long)s.st_size, (long long)s.st_mtime);
        /* NAME.ok is made after NAME is whole: a copy cut short is never used */
        _cleanup_free_ char *okname = xasprintf("%s.ok", name);
        char *e = NULL;
        int r = 0;
        virStoragePoolPtr pool = pool_of(c, &e);
        virStorageVolPtr vol = NULL, ok = NULL;
        if (!pool) {
                r = -EIO;
                goto out;
        }
        vol = virStorageVolLookupByName(pool, name);
        ok = virStorageVolLookupByName(pool, okname);
        if (!vol || !ok) {
                if (vol) {
                        virStorageVolDelete(vol, 0);
                        virStorageVolFree(vol);
                }
                if (!(vol = vol_create(pool, name, (uint64_t)s.st_size))) {
                        e = xasprintf("cannot make volume %s: %s", name, virGetLastErrorMessage());
                        r = -EIO;
                        goto out;
                }
                log_info("uploading %s (%lld KiB) to the node's hypervisor", file,
                         (long long)s.st_size >> 10);
                if ((r = send_file(c, vol, fd, (uint64_t)s.st_size, &e)) < 0)
                        goto out;
                if (!ok && !(ok = vol_create(pool, okname, 1))) {
                        e = xasprintf("cannot mark %s complete: %s", name,
                                      virGetLastErrorMessage());
                        r = -EIO;
                        goto out;
                }
        }
        char *path = virStorageVolGetPath(vol);
        if (!path) {
                e = xasprintf("volume %s has no path: %s", name, virGetLastErrorMessage());
                r = -EIO;
                goto out;
        }
        *ret_path = path;
out:
        if (r < 0)
                *err = xasprintf("uploading %s: %s", file, e ? e : "failed");
        free(e);
        if (ok)
                virStorageVolFree(ok);
        if (vol)
                virStorageVolFree(vol);
        if (pool)
                virStoragePoolFree(pool);
        close(fd);
        return r;
}

/* ---- streams: console and channel ---- */

struct lvr_pump {
        virStreamPtr st;
        int out_fd; /* what the stream says goes here */
        int in_fd;  /* what comes from here goes into the stream; -1: nothing */
        int watch;
        int refs; /* the owner, the stream callback and the fd watches each hold one */
        /* what out_fd did not take yet: never a blocking write on libvirt's event
         * loop (it carries every stream and the keepalive of every node) */
        char *pending;
        size_t plen;
        int out_watch; /* out_fd writable, while something is pending; else -1 */
        bool broken;   /* overflowed: this node's channel is cut, the others go on */
};

#define PUMP_PENDING_MAX (16u << 20)

static int live_pumps;

void lvr_pumps_wait(int ms)
{
        for (int i = 0; i < ms && __atomic_load_n(&live_pumps, __ATOMIC_SEQ_CST) > 0; i += 5)
                usleep(5000);
}

static void pump_unref(void *opaque)
{
        struct lvr_pump *p = opaque;
        if (__atomic_sub_fetch(&p->refs, 1, __ATOMIC_SEQ_CST) > 0)
                return;
        __atomic_sub_fetch(&live_pumps, 1, __ATOMIC_SEQ_CST);
        if (p->out_fd >= 0)
                close(p->out_fd);
        if (p->in_fd >= 0 && p->in_fd != p->out_fd)
                close(p->in_fd);
        free(p->pending);
        free(p);
}

/* Writes what is pending, as much as out_fd takes now. */
static void pump_flush(struct lvr_pump *p)
{
        while (p->plen) {
                ssize_t w = write(p->out_fd, p->pending, p->plen);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return;
                memmove(p->pending, p->pending + w, p->plen - (size_t)w);
                p->plen -= (size_t)w;
        }
}

static void out_writable(int watch, int fd, int events, void *opaque)
{
        struct lvr_pump *p = opaque;
        pump_flush(p);
        if (!p->plen) {
                virEventRemoveHandle(watch);
                p->out_watch = -1;
        }
}

static void pump_cut(struct lvr_pump *p, virStreamPtr st)
{
        virStreamEventRemoveCallback(st);
        if (p->in_fd >= 0)
                shutdown(p->out_fd, SHUT_WR); /* the agent's reader sees EOF */
}

static void from_stream(virStreamPtr st, int events, void *opaque)
{
        struct lvr_pump *p = opaque;
        char buf[1 << 14];
        for (;;) {
                int n = virStreamRecv(st, buf, sizeof buf);
                if (n == -2)
                        return;
                if (n <= 0) {
                        pump_cut(p, st); /* the far end is gone */
                        return;
                }
                pump_flush(p);
                size_t off = 0;
                while (!p->plen && off < (size_t)n) {
                        ssize_t w = write(p->out_fd, buf + off, (size_t)n - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                break;
                        off += (size_t)w;
                }
                if (off == (size_t)n)
                        continue;
                if (p->plen + ((size_t)n - off) > PUMP_PENDING_MAX) {
                        if (!p->broken)
                                log_error("a remote node's agent channel sent %u MiB that the "
                                          "controller did not read: cut",
                                          PUMP_PENDING_MAX >> 20);
                        p->broken = true;
                        pump_cut(p, st);
                        return;
                }
                p->pending = xreallocarray(p->pending, p->plen + ((size_t)n - off), 1);
                memcpy(p->pending + p->plen, buf + off, (size_t)n - off);
                p->plen += (size_t)n - off;
                if (p->out_watch < 0) {
                        __atomic_add_fetch(&p->refs, 1, __ATOMIC_SEQ_CST);
                        p->out_watch = virEventAddHandle(p->out_fd, VIR_EVENT_HANDLE_WRITABLE,
                                                         out_writable, p, pump_unref);
                        if (p->out_watch < 0)
                                __atomic_sub_fetch(&p->refs, 1, __ATOMIC_SEQ_CST);
                }
        }
}

static void into_stream(int watch, int fd, int events, void *opaque)
{
        struct lvr_pump *p = opaque;
        char buf[1 << 14];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                virEventRemoveHandle(watch);
                return;
        }
        /* agent requests are small; a full stream is waited for briefly */
        for (ssize_t off = 0, tries = 0; off < n && tries < 5000;) {
                int w = virStreamSend(p->st, buf + off, (size_t)(n - off));
                if (w == -2) {
                        tries++;
                        usleep(1000);
                        continue;
                }
                if (w < 0) {
                        virEventRemoveHandle(watch);
                        return;
                }
                off += w;
        }
}

static struct lvr_pump *pump_new(virConnectPtr c, int out_fd, int in_fd)
{
        struct lvr_pump *p = xcalloc(1, sizeof *p);
        *p = (struct lvr_pump){.st = virStreamNew(c, VIR_STREAM_NONBLOCK),
                               .out_fd = out_fd,
                               .in_fd = in_fd,
                               .watch = -1,
                               .out_watch = -1};
        if (out_fd >= 0) /* a file takes everything; a socket says when it is full */
                fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
        __atomic_add_fetch(&live_pumps, 1, __ATOMIC_SEQ_CST);
        return p;
}

/* A pump that never ran */
static void pump_discard(struct lvr_pump *p)
{
        __atomic_sub_fetch(&live_pumps, 1, __ATOMIC_SEQ_CST);
        free(p);
}

static int pump_run(struct lvr_pump *p, char **err)
{
        p->refs = 2;
        if (virStreamEventAddCallback(p->st,
                                      VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_ERROR |
                                              VIR_STREAM_EVENT_HANGUP,
                                      from_stream, p, NULL) < 0) {
                *err = xasprintf("stream callback: %s", virGetLastErrorMessage());
                return -EIO; /* stop drops both references */
        }
        if (p->in_fd >= 0) {
                __atomic_add_fetch(&p->refs, 1, __ATOMIC_SEQ_CST);
                p->watch = virEventAddHandle(p->in_fd, VIR_EVENT_HANDLE_READABLE, into_stream, p,
                                             pump_unref);
                if (p->watch < 0) {
                        __atomic_sub_fetch(&p->refs, 1, __ATOMIC_SEQ_CST);
                        *err = xasprintf("cannot watch the channel's socket");
                        return -EIO;
                }
        }
        return 0;
}

int lvr_console_to_file(virConnectPtr c, virDomainPtr d, const char *path, struct lvr_pump **ret,
                        char **err)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0) {
                *err = xasprintf("%s: %s", path, strerror(errno));
                return -errno;
        }
        struct lvr_pump *p = pump_new(c, fd, -1);
        if (!p->st || virDomainOpenConsole(d, NULL, p->st, VIR_DOMAIN_CONSOLE_FORCE) < 0) {
                *err = xasprintf("cannot open its console: %s", virGetLastErrorMessage());
                close(fd);
                if (p->st)
                        virStreamFree(p->st);
                pump_discard(p);
                return -EIO;
        }
        if (pump_run(p, err) < 0) {
                lvr_pump_stop(p);
                return -EIO;
        }
        *ret = p;
        return 0;
}

int lvr_channel_fd(virConnectPtr c, virDomainPtr d, const char *name, int *ret_fd,
                   struct lvr_pump **ret, char **err)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
                *err = xasprintf("socketpair: %s", strerror(errno));
                return -errno;
        }
        struct lvr_pump *p = pump_new(c, sp[1], sp[1]);
        if (!p->st || virDomainOpenChannel(d, name, p->st, VIR_DOMAIN_CHANNEL_FORCE) < 0) {
                *err = xasprintf("cannot open its channel %s: %s", name, virGetLastErrorMessage());
                if (p->st)
                        virStreamFree(p->st);
                close(sp[0]);
                close(sp[1]);
                pump_discard(p);
                return -EIO;
        }
        if (pump_run(p, err) < 0) {
                lvr_pump_stop(p);
                close(sp[0]);
                return -EIO;
        }
        *ret_fd = sp[0];
        *ret = p;
        return 0;
}

struct lvr_pump *lvr_pump_stop(struct lvr_pump *p)
{
        if (!p)
                return NULL;
        if (p->watch >= 0)
                virEventRemoveHandle(p->watch);
        if (p->out_watch >= 0)
                virEventRemoveHandle(p->out_watch);
        /* the remote driver does not call a stream callback's free function when
         * it is removed: the callback's reference goes here (the domain is gone by
         * now, so its stream has nothing more to dispatch) */
        virStreamEventRemoveCallback(p->st); /* fails when EOF removed it already */
        virStreamAbort(p->st);
        virStreamFree(p->st);
        pump_unref(p); /* the callback's */
        pump_unref(p); /* the owner's */
        return NULL;
}
