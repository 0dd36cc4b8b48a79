#include "result.h"

#include <stdlib.h>

struct run_result *run_result_free(struct run_result *r)
{
        if (!r)
                return NULL;
        for (unsigned i = 0; i < r->n_wl; i++) {
                struct wl_result *w = &r->wl[i];
                free(w->reason);
                free(w->method);
                free(w->target);
                json_object_put(w->mib);
                json_object_put(w->cpu_cores);
                json_object_put(w->intervals);
                json_object_put(w->bins);
                json_object_put(w->pm_events);
                for (unsigned k = 0; k < w->n_events; k++)
                        free(w->events[k].error);
                free(w->events);
                for (unsigned k = 0; k < w->n_ifaces; k++) {
                        free(w->ifaces[k].node);
                        free(w->ifaces[k].dev);
                }
                free(w->ifaces);
        }
        free(r->wl);
        free(r->started_at);
        free(r->run_dir);
        free(r->crash_node);
        free(r->crash_what);
        free(r->crash_trace);
        free(r->error);
        free(r->skip);
        json_object_put(r->nodes);
        json_object_put(r->dirty);
        free(r);
        return NULL;
}

const char *wl_status_name(enum wl_status s)
{
        static const char *const names[] = {"ok", "invalid", "failed", "crashed"};
        return names[s];
}
