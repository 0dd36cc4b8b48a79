#include "topo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int topo_addr_parse(const char *s, bool need_prefix, struct topo_addr *ret)
{
        char buf[INET6_ADDRSTRLEN + 8];
        struct topo_addr a = {0};
        if (!s || strlen(s) >= sizeof buf)
                return -EINVAL;
        strcpy(buf, s);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash = 0;
        else if (need_prefix)
                return -EINVAL;
        if (inet_pton(AF_INET, buf, &a.u.v4) == 1)
                a.family = AF_INET;
        else if (inet_pton(AF_INET6, buf, &a.u.v6) == 1)
                a.family = AF_INET6;
        else
                return -EINVAL;
        unsigned max = a.family == AF_INET ? 32 : 128;
        a.prefix = max;
        if (slash) {
                char *end;
                errno = 0;
                unsigned long p = strtoul(slash + 1, &end, 10);
                if (errno || end == slash + 1 || *end || p > max)
                        return -EINVAL;
                a.prefix = (unsigned)p;
        }
        *ret = a;
        return 0;
}

const char *topo_addr_str(const struct topo_addr *a, bool with_prefix, char *buf, unsigned len)
{
        char ip[INET6_ADDRSTRLEN] = "?";
        inet_ntop(a->family, &a->u, ip, sizeof ip);
        if (with_prefix)
                snprintf(buf, len, "%s/%u", ip, a->prefix);
        else
                snprintf(buf, len, "%s", ip);
        return buf;
}

/* the first `bits` bits of two addresses of one family agree */
static bool same_bits(const struct topo_addr *x, const struct topo_addr *y, unsigned bits)
{
        const unsigned char *a = (const unsigned char *)&x->u, *b = (const unsigned char *)&y->u;
        for (unsigned i = 0; bits && i<16; i++, bits = bits> 8 ? bits - 8 : 0) {
                unsigned char mask = (unsigned char)(0xff00 >> (bits >= 8 ? 8 : bits));
                if ((a[i] & mask) != (b[i] & mask))
                        return false;
        }
        return true;
}

bool topo_addr_in(const struct topo_addr *net, const struct topo_addr *a)
{
        return net->family == a->family && same_bits(net, a, net->prefix);
}

struct topo_addr topo_addr_network(const struct topo_addr *a)
{
        struct topo_addr n = *a;
        unsigned char *p = (unsigned char *)&n.u;
        unsigned bytes = a->family == AF_INET ? 4 : 16;
        for (unsigned i = 0; i < bytes; i++) {
                int bits = (int)a->prefix - (int)i * 8;
                p[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
        }
        return n;
}
