#include "series.h"

#include <stdlib.h>

double series_timing_other(const struct series_timing *tm)
{
        return tm->wall - tm->measured - tm->warmup_runs - tm->boot - tm->configure - tm->warmup -
               tm->tools - tm->teardown - tm->reset;
}

void series_result_clear(struct series_result *r)
{
        free(r->baseline_hash);
        free(r->hash);
        free(r->what);
        verdicts_clear(&r->verdicts);
        samples_clear(&r->samples);
        samples_clear(&r->base);
        json_object_put(r->runs_json);
        json_object_put(r->base_runs);
        json_object_put(r->base_meta);
        json_object_put(r->mibs);
        json_object_put(r->noise);
        free(r->accel);
        free(r->tools);
        free(r->last_run_dir);
        free(r->skip);
        topo_free(r->topo);
        *r = (struct series_result){0};
}
