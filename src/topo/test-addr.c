/* The address helpers: parsing, subnets held, networks, both families. */
#include "../shared/check.h"
#include "topo.h"

#include <arpa/inet.h>
#include <errno.h>

static struct topo_addr A(const char *s) {
        struct topo_addr a = {0};
        CHECK(topo_addr_parse(s, false, &a) == 0);
        return a;
}

int main(void)
{
        struct topo_addr a;
        CHECK(topo_addr_parse("10.0.1.1/24", true, &a) == 0 && a.family == AF_INET &&
              a.prefix == 24);
        CHECK(topo_addr_parse("10.0.1.1", true, &a) == -EINVAL); /* a prefix was needed */
        CHECK(topo_addr_parse("10.0.1.1/33", false, &a) == -EINVAL);
        CHECK(topo_addr_parse("fd00::1/129", false, &a) == -EINVAL);
        CHECK(topo_addr_parse("fd00::1/64x", false, &a) == -EINVAL);
        CHECK(topo_addr_parse("10.0.1.1", false, &a) == 0 && a.prefix == 32);

        struct topo_addr net = A("10.0.1.254/24"), v6 = A("fd00:2::1/64");
        struct topo_addr in = A("10.0.1.7"), out = A("10.0.2.7"), in6 = A("fd00:2::ffff"),
                         out6 = A("fd00:3::1");
        CHECK(topo_addr_in(&net, &in));
        CHECK(!topo_addr_in(&net, &out));
        CHECK(topo_addr_in(&v6, &in6));
        CHECK(!topo_addr_in(&v6, &out6));
        CHECK(!topo_addr_in(&net, &in6)); /* families differ */
        struct topo_addr odd = A("10.0.1.130/25"), lo = A("10.0.1.1"), hi = A("10.0.1.200");
        CHECK(!topo_addr_in(&odd, &lo) && topo_addr_in(&odd, &hi)); /* a prefix inside a byte */
        struct topo_addr all = A("0.0.0.0/0");
        CHECK(topo_addr_in(&all, &out));

        char buf[64];
        struct topo_addr n = topo_addr_network(&odd);
        CHECK_STR(topo_addr_str(&n, true, buf, sizeof buf), "10.0.1.128/25");
        n = topo_addr_network(&v6);
        CHECK_STR(topo_addr_str(&n, true, buf, sizeof buf), "fd00:2::/64");
        struct topo_addr v6b = A("fd00:2:0:0:8000::1/65");
        n = topo_addr_network(&v6b);
        CHECK_STR(topo_addr_str(&n, true, buf, sizeof buf), "fd00:2:0:0:8000::/65");
        return CHECK_DONE();
}
