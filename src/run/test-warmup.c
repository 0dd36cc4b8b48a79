/* warmup: auto's rule on made-up runs: each clause alone. */
#include "../shared/check.h"
#include "warmup.h"

int main(void)
{
        struct topo_workload mp = {.protocol = TOPO_PROTO_MPTCP, .warmup_us = 10000000},
                             tcp = {.protocol = TOPO_PROTO_TCP, .warmup_us = 10000000};
        /* settled 3.4 s into a 5 s warm-up: 4 s (whole seconds, up) */
        CHECK_EQ_INT(warmup_needed(&mp, 5, 3.4, 0), 4000000);
        /* an interval end a few ms late is not a second more */
        CHECK_EQ_INT(warmup_needed(&mp, 5, 3.005, 0), 3000000);
        /* still moving at its end: one second more than it had */
        CHECK_EQ_INT(warmup_needed(&mp, 5, 5, 0), 6000000);
        /* at least 2 s for MPTCP, 1 s for TCP */
        CHECK_EQ_INT(warmup_needed(&mp, 5, 0.3, 0), 2000000);
        CHECK_EQ_INT(warmup_needed(&tcp, 5, 0.3, 0), 1000000);
        /* subflows that joined late, or intervals that could not say: the longest */
        CHECK_EQ_INT(warmup_needed(&mp, 5, 3.4, 2), 10000000);
        CHECK_EQ_INT(warmup_needed(&mp, 5, -1, 0), 10000000);
        /* never past the topology's */
        CHECK_EQ_INT(warmup_needed(&mp, 10, 10, 0), 10000000);
        struct topo_workload short_mp = {.protocol = TOPO_PROTO_MPTCP, .warmup_us = 1500000};
        CHECK_EQ_INT(warmup_needed(&short_mp, 1.5, 0.2, 0), 1500000);
        return CHECK_DONE();
}
