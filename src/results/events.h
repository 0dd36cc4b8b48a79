/* events.h - what a path event did to a transfer, from the receiver's bins:
 * the goodput level before it, the longest outage after it, a second stall,
 * the recovery time, the first path-manager reaction and the kernel's bound
 * (docs/events.md defines each). Pure: numbers in, numbers out. */
#pragma once
#include "result.h"

struct ev_timeline {
        const double *bytes; /* the receiver's bytes per bin, from the window's start */
        unsigned n;
        double width_s;
        double t0_s;        /* where bin 0 starts on the events' time line */
        const double *pm_s; /* path-manager event times on that line, ascending */
        unsigned n_pm;
        /* rr and crr: per bin, the slowest transaction that ended in it (us)
         * and those over 1 s; n_lat 0: none */
        const double *lat_max_us, *lat_slow;
        unsigned n_lat;
        double lat_width_s, lat_t0_s;
        /* the workload's own end on that line (a stream's duration, a
         * transfer's last byte), 0: the bins' end. The receiver's bins run on
         * past it with what was in flight, and its teardown closes subflows:
         * not an event's outcome */
        double end_s;
};

/* Fills the figures of events[0..n) (their at_s, applied_s set; each
 * target_bps the capacity that remains after it, 0: unknown, then taken from
 * the plateau the goodput reaches; bound_s set or -1). An event's figures
 * stop at the next event or the window's end. */
void events_compute(const struct ev_timeline *tl, struct ev_result *events, unsigned n);

/* The workload's primary event: its first that takes a path away, else its
 * first; NULL without events. Its figures are the registry's metrics. */
const struct ev_result *events_primary(const struct wl_result *w);
