/* events.h - a workload's path events, through the agents (events.c): the
 * nodes' clocks read and the path manager heard before the client starts,
 * the events scheduled on each node's clock once it has, and after its end
 * what was applied when, what the path manager said and what the receiver's
 * bins show (results/events.h). Internal to src/run. */
#pragma once
#include "node.h"
#include "../results/result.h"

struct ev_node {
        struct lab_node *n;
        int64_t offset_us;         /* the agent's clock - the controller's */
        int64_t uncert_us;         /* half the round trip that measured it */
        int64_t pm_t0_us;          /* when it began to listen, on its clock (-1: not) */
        struct json_object *items; /* what it does, in the order sent */
        unsigned *item_event;      /* each item's event */
        unsigned n_items;
};

struct wl_events {
        struct ev_node *nodes;
        unsigned n;
        uint64_t zero_us; /* the measured window's start, on the controller's clock */
};

/* Before the client starts: the clocks of every node the events touch, and
 * the path manager heard on the workload's two ends */
int events_prepare(struct run *r, const struct topo_workload *w, struct wl_events *x, char **err);
/* Once the client runs: every event sent to its nodes, for zero_us + at */
int events_schedule(struct wl_events *x, uint64_t zero_us, char **err);
/* After the client's end: what happened, into res (its events, bins and
 * path-manager events); the client's report for its bins and subflows */
int events_collect(struct run *r, const struct topo_workload *w, struct wl_events *x,
                   struct json_object *client_report, struct wl_result *res, char **err);
/* Cancels what is still scheduled and stops listening (a failed workload) */
void events_cancel(struct wl_events *x);
/* Every link, endpoint and address the events touched, back as the topology
 * has them (the next workload starts from the topology) */
int events_restore(struct run *r, const struct topo_workload *w, char **err);
void events_clear(struct wl_events *x);
