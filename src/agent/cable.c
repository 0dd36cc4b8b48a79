/* cable.c - is this NIC cabled to that one? For machines the lab does not
 * wire itself (the ssh backend): one end listens for Ethernet frames of the
 * local experimental EtherType 0x88B5 carrying a nonce (cable_arm), the
 * other end sends a few (cable_send), and the first end says whether one
 * came in on that very NIC (cable_check). Needs no address, so it runs
 * before the topology's addresses exist, and a swapped pair of cables
 * shows as two links whose frames arrive nowhere. */
#include "agent.h"
#include "../shared/util.h"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>

#define CABLE_ETHERTYPE 0x88B5
#define CABLE_MAGIC     "mptcplab-cable "

static int cable_socket(const char *dev, int *ifindex)
{
        *ifindex = (int)if_nametoindex(dev);
        if (!*ifindex)
                return -ENODEV;
        int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(CABLE_ETHERTYPE));
        if (fd < 0)
                return -errno;
        struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                                  .sll_protocol = htons(CABLE_ETHERTYPE),
                                  .sll_ifindex = *ifindex};
        if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
                int e = -errno;
                close(fd);
                return e;
        }
        return fd;
}

static bool good_nonce(const char *s)
{
        size_t n = s ? strlen(s) : 0;
        return n >= 8 && n <= 32 && strspn(s, "0123456789abcdef") == n;
}

static void cable_disarm(struct agent *a)
{
        if (a->cable_fd1)
                close(a->cable_fd1 - 1);
        a->cable_fd1 = 0;
        free(a->cable_dev);
        a->cable_dev = NULL;
}

/* cable_arm's and cable_send's arguments: 0 to go on, 1 when answered (a
 * dry run), < 0 when refused */
static int cable_args(struct agent *a, const char *op, struct json_object *args, const char **dev,
                      const char **nonce, struct reply *r)
{
        *dev = jstr(args, "dev");
        *nonce = jstr(args, "nonce");
        if (!*dev || !valid_ifname(*dev))
                return reply_error(r, -EINVAL, "%s needs \"dev\", an interface name", op);
        if (!good_nonce(*nonce))
                return reply_error(r, -EINVAL, "%s needs \"nonce\": 8-32 hex digits", op);
        if (a->dry_run) {
                r->result = json_object_new_object();
                return 1;
        }
        return 0;
}

int op_cable_arm(struct agent *a, struct json_object *args, struct reply *r)
{
        const char *dev, *nonce;
        int v = cable_args(a, "cable_arm", args, &dev, &nonce, r);
        if (v)
                return v < 0 ? v : 0;
        cable_disarm(a);
        int ifindex, fd = cable_socket(dev, &ifindex);
        if (fd < 0)
                return reply_error(r, fd, "cable_arm %s: %s", dev, strerror(-fd));
        a->cable_fd1 = fd + 1;
        a->cable_dev = xstrdup(dev);
        snprintf(a->cable_nonce, sizeof a->cable_nonce, "%s", nonce);
        r->result = json_object_new_object();
        return 0;
}

int op_cable_send(struct agent *a, struct json_object *args, struct reply *r)
{
        const char *dev, *nonce;
        int v = cable_args(a, "cable_send", args, &dev, &nonce, r);
        if (v)
                return v < 0 ? v : 0;
        int ifindex = (int)if_nametoindex(dev);
        if (!ifindex)
                return reply_error(r, -ENODEV, "cable_send %s: no such interface", dev);
        char payload[64];
        int len = snprintf(payload, sizeof payload, CABLE_MAGIC "%s", nonce);
        struct sockaddr_ll to = {.sll_family = AF_PACKET,
                                 .sll_protocol = htons(CABLE_ETHERTYPE),
                                 .sll_ifindex = ifindex,
                                 .sll_halen = ETH_ALEN};
        memset(to.sll_addr, 0xff, ETH_ALEN); /* broadcast: the peer's MAC is not known here */
        /* a DGRAM packet socket: the kernel writes the Ethernet header */
        _cleanup_close_ int dg =
                socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(CABLE_ETHERTYPE));
        if (dg < 0)
                return reply_error(r, -errno, "cable_send %s: %m", dev);
        if (sendto(dg, payload, (size_t)len, 0, (struct sockaddr *)&to, sizeof to) < 0)
                return reply_error(r, -errno, "cable_send %s: %m", dev);
        r->result = json_object_new_object();
        return 0;
}

int op_cable_check(struct agent *a, struct json_object *args, struct reply *r)
{
        if (a->dry_run) {
                r->result = json_object_new_object();
                return 0;
        }
        if (!a->cable_fd1)
                return reply_error(r, -EINVAL, "cable_check: nothing armed (cable_arm first)");
        bool seen = false;
        char buf[1600];
        ssize_t n;
        /* raw frames: 14 bytes of Ethernet header, then the payload */
        while (!seen && (n = recv(a->cable_fd1 - 1, buf, sizeof buf - 1, 0)) > 0) {
                buf[n] = 0;
                size_t ml = strlen(CABLE_MAGIC);
                for (ssize_t off = 0; off + (ssize_t)ml <= n && !seen; off++)
                        if (!memcmp(buf + off, CABLE_MAGIC, ml) &&
                            !strncmp(buf + off + ml, a->cable_nonce, strlen(a->cable_nonce)))
                                seen = true;
        }
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "dev", json_object_new_string(a->cable_dev));
        json_object_object_add(o, "seen", json_object_new_boolean(seen));
        if (seen)
                cable_disarm(a);
        r->result = o;
        return 0;
}

void cable_close(struct agent *a)
{
        cable_disarm(a);
}
