#include "warmup.h"

#include <math.h>

uint64_t warmup_needed(const struct topo_workload *w, double used_s, double settled_s,
                       long late_joins)
{
        uint64_t used = (uint64_t)(used_s * 1e6 + 0.5), need;
        if (late_joins > 0 || settled_s < 0)
                need = w->warmup_us;
        else if (settled_s >= used_s - 1e-6) /* still moving at its end */
                need = used + 1000000;
        else
                /* interval ends come a few ms late: 1.0001 s is 1 s */
                need = (uint64_t)ceil(settled_s - 0.01) * 1000000;
        uint64_t least = w->protocol == TOPO_PROTO_MPTCP ? 2000000 : 1000000;
        if (need < least)
                need = least;
        return need > w->warmup_us ? w->warmup_us : need;
}
