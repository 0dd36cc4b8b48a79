/* A path event's figures from made-up receiver bins: a 20 Mbit/s transfer
 * whose path dies, with an outage, a second stall and a recovery at known
 * instants; one that never recovers (censored at its span); the level taken
 * from a plateau when the capacity is unknown; the path manager's first
 * word inside the event's span only. */
#include "../shared/check.h"
#include "../shared/util.h"
#include "events.h"

#define W         0.01 /* 10 ms bins */
#define N         2000 /* 20 s */
#define BIN(mbps) ((mbps)*1e6 / 8 * W)

static double bytes[N];

static void fill(double from_s, double to_s, double mbps)
{
        for (unsigned i = (unsigned)(from_s / W + 0.5); i < (unsigned)(to_s / W + 0.5) && i < N;
             i++)
                bytes[i] = BIN(mbps);
}

static struct topo_event down = {.action = TOPO_EV_DOWN, .link = 0}, up = {.action = TOPO_EV_UP};

/* path 0 down at 5 s (10 Mbit/s remain) and up at 15 s (20 again), both
 * applied on time, no bound */
static void down_up(struct ev_result ev[2])
{
        ev[0] = (struct ev_result){
                .ev = &down, .at_s = 5, .applied_s = 5, .target_bps = 10e6, .bound_s = -1};
        ev[1] = (struct ev_result){
                .ev = &up, .at_s = 15, .applied_s = 15, .target_bps = 20e6, .bound_s = -1};
}

int main(void)
{
        /* 20 Mbit/s to 5 s; nothing for 0.7 s; 10 Mbit/s; a 0.3 s stall at
         * 7.5 s; 10 Mbit/s until the link comes back at 15 s, then 20 */
        fill(0, 5.0, 20);
        fill(5.0, 5.7, 0);
        fill(5.7, 7.5, 10);
        fill(7.5, 7.8, 0);
        fill(7.8, 15.0, 10);
        fill(15.0, 20.0, 20);
        double pm[] = {2.0, 5.35, 15.5};
        struct ev_timeline tl = {
                .bytes = bytes, .n = N, .width_s = W, .t0_s = 0, .pm_s = pm, .n_pm = 3};
        struct ev_result ev[2];
        down_up(ev);
        events_compute(&tl, ev, 2);
        CHECK_NEAR(ev[0].level_bps, 20e6, 1);
        CHECK_NEAR(ev[0].outage_s, 0.7, 1e-9);
        CHECK_NEAR(ev[0].outage_at_s, 0, 1e-9);
        CHECK_NEAR(ev[0].second_stall_s, 0.3, 1e-9);
        /* the first second at >= 9 Mbit/s from an instant data arrives: 5.7 s
         * (the second from 5.6 s also averages 9 Mbit/s, but starts inside
         * the outage) */
        CHECK(ev[0].recovered);
        CHECK_NEAR(ev[0].recovery_s, 0.7, 1e-6);
        CHECK_NEAR(ev[0].pm_first_s, 0.35, 1e-9);
        /* the link back: no outage, at 90% of 20 Mbit/s at once */
        CHECK_NEAR(ev[1].level_bps, 10e6, 1);
        CHECK_NEAR(ev[1].outage_s, 0, 1e-9);
        CHECK(ev[1].recovered);
        CHECK_NEAR(ev[1].recovery_s, 0, 1e-9);
        CHECK_NEAR(ev[1].pm_first_s, 0.5, 1e-9);

        /* the first event's figures stop at the second: a pm event after it
         * is not the first's; one that does not recover is censored at 10 s */
        double pm2[] = {15.2};
        tl.pm_s = pm2;
        tl.n_pm = 1;
        fill(5.0, 15.0, 5); /* half the 10 Mbit/s that remain, throughout */
        struct ev_result c[2];
        down_up(c);
        events_compute(&tl, c, 2);
        CHECK(!c[0].recovered);
        CHECK_NEAR(c[0].recovery_s, 10, 1e-9);
        CHECK_NEAR(c[0].pm_first_s, -1, 0);
        CHECK_NEAR(c[0].outage_s, 0, 1e-9); /* 5 Mbit/s is no outage of a 20 Mbit/s level */

        /* the surviving path carries the first second after the event at
         * full rate; the sender then stalls 0.8 s on the dead one: recovery
         * comes after that outage, not at the event */
        fill(0, 5.0, 20);
        fill(5.0, 6.0, 10);
        fill(6.0, 6.8, 0);
        fill(6.8, 15.0, 10);
        struct ev_result late[2];
        down_up(late);
        events_compute(&tl, late, 2);
        CHECK_NEAR(late[0].outage_s, 0.8, 1e-9);
        CHECK_NEAR(late[0].outage_at_s, 1.0, 1e-9);
        CHECK(late[0].recovered);
        CHECK_NEAR(late[0].recovery_s, 1.8, 1e-6);

        /* a dip shorter than a stall (30 ms at 15.8 s) after the link is
         * back is its outage, but no disruption to wait out: at 90% of 20
         * Mbit/s from the event on */
        fill(15.0, 20.0, 20);
        fill(15.8, 15.83, 0);
        struct ev_result dip[2];
        down_up(dip);
        events_compute(&tl, dip, 2);
        CHECK_NEAR(dip[1].outage_s, 0.03, 1e-9);
        CHECK(dip[1].recovered);
        CHECK_NEAR(dip[1].recovery_s, 0, 1e-9);

        /* the workload ends at 19 s, its bins a second later: the link back
         * at 15 s and half its 20 Mbit/s is censored at 4 s, and the subflow
         * its teardown closed at 19.5 s is no reaction to it */
        fill(15.0, 20.0, 10);
        double pm3[] = {19.5};
        tl.pm_s = pm3;
        tl.end_s = 19.0;
        struct ev_result e2[2];
        down_up(e2);
        events_compute(&tl, e2, 2);
        CHECK(!e2[1].recovered);
        CHECK_NEAR(e2[1].recovery_s, 4, 1e-9);
        CHECK_NEAR(e2[1].pm_first_s, -1, 0);
        tl.end_s = 0; /* the bins' end: the same teardown is taken for one */
        events_compute(&tl, e2, 2);
        CHECK_NEAR(e2[1].recovery_s, 5, 1e-9);
        CHECK_NEAR(e2[1].pm_first_s, 4.5, 1e-9);

        /* capacity unknown (unshaped): the target is the plateau reached,
         * the median 100 ms of the last second before the next event */
        fill(0, 5.0, 20);
        fill(5.0, 15.0, 5);
        fill(15.0, 20.0, 20);
        struct ev_result u[2] = {
                {.ev = &down, .at_s = 5, .applied_s = 5, .target_bps = 0, .bound_s = -1},
                {.ev = &up, .at_s = 15, .applied_s = 15, .target_bps = 0, .bound_s = -1},
        };
        events_compute(&tl, u, 2);
        CHECK_NEAR(u[0].target_bps, 5e6, 1);
        CHECK(u[0].recovered);
        CHECK_NEAR(u[0].recovery_s, 0, 1e-9);

        /* a burst after the outage (the reorder queue released at once)
         * makes a second that starts before it average 90%: still no
         * recovery until the data flows again */
        fill(0, 20, 10);
        fill(5.0, 5.6, 0);
        for (unsigned i = 560; i < 565; i++)
                bytes[i] = BIN(100); /* 50 ms of 100 Mbit/s */
        struct ev_result b = {.ev = &down, .at_s = 5, .applied_s = 5, .target_bps = 10e6};
        events_compute(&tl, &b, 1);
        CHECK_NEAR(b.outage_s, 0.6, 1e-9);
        CHECK(b.recovered && b.recovery_s >= 0.6 - 1e-9);

        /* applied late: the figures count from when it was applied */
        fill(0, 20, 20);
        fill(5.2, 5.5, 0);
        struct ev_result l = {.ev = &down, .at_s = 5, .applied_s = 5.2, .target_bps = 10e6};
        events_compute(&tl, &l, 1);
        CHECK_NEAR(l.outage_s, 0.3, 1e-9);
        CHECK_NEAR(l.outage_at_s, 0, 1e-9);

        /* rr: the slowest transaction ending in each event's span, and those
         * over a second; bins on the client's line, 0.5 s after the receiver's */
        double lmax[20] = {0}, lslow[20] = {0};
        for (unsigned i = 0; i < 20; i++)
                lmax[i] = 300; /* us, 1 s bins */
        lmax[4] = 1500000;     /* 5.5 s on the line: in the first event's span */
        lslow[4] = 2;
        lmax[16] = 900000; /* 16.5 s: the second's */
        tl.lat_max_us = lmax;
        tl.lat_slow = lslow;
        tl.n_lat = 20;
        tl.lat_width_s = 1;
        tl.lat_t0_s = 0.5;
        struct ev_result r2[2] = {
                {.ev = &down, .at_s = 5, .applied_s = 5, .target_bps = 10e6},
                {.ev = &up, .at_s = 15, .applied_s = 15, .target_bps = 20e6},
        };
        events_compute(&tl, r2, 2);
        CHECK_NEAR(r2[0].worst_latency_ms, 1500, 1e-9);
        CHECK_NEAR(r2[0].slow_transactions, 2, 0);
        CHECK_NEAR(r2[1].worst_latency_ms, 900, 1e-9);
        CHECK_NEAR(r2[1].slow_transactions, 0, 0);
        tl.n_lat = 0;
        events_compute(&tl, r2, 2);
        CHECK(r2[0].worst_latency_ms == -1 && r2[0].slow_transactions == -1);

        /* the primary event: the first that takes a path away */
        struct topo_event restore = {.action = TOPO_EV_RESTORE};
        struct ev_result two[2] = {{.ev = &restore}, {.ev = &down}};
        struct wl_result w = {.events = two, .n_events = 2};
        CHECK(events_primary(&w) == &two[1]);
        w.n_events = 1;
        CHECK(events_primary(&w) == &two[0]);
        w.n_events = 0;
        CHECK(events_primary(&w) == NULL);
        return CHECK_DONE();
}
