/* validity.h - the rules a measured workload must meet to be a valid sample,
 * and the forms the lab's own ids take. Pure: the conductor applies them to a
 * fresh run, `import` to a run from a file, the unit tests to made-up ones.
 * A workload that breaks a rule is kept, as WL_INVALID with the reason. */
#pragma once
#include "result.h"

#include <stdbool.h>
#include <stdint.h>

/* A goodput above this many times what the shaped paths carry (or above
 * VALIDITY_UNSHAPED_MAX_BPS where nothing is shaped) is a broken report. */
#define VALIDITY_IMPLAUSIBLE_FACTOR 2
#define VALIDITY_UNSHAPED_MAX_BPS   1e12

/* What the load tool said of itself, beyond its rates */
struct tool_report {
        bool mptcpload;
        int64_t errors, server_errors; /* connection errors on either side */
        int64_t server_accepted;       /* -1: the server did not say */
};

/* The subflows per connection a workload's topology implies: the initial
 * one, plus the client's subflow endpoints and the server's signalled
 * addresses the client accepts, up to the client's subflow limit. 1 for TCP. */
unsigned validity_expected_subflows(const struct topo *t, const struct topo_workload *w);
/* The most goodput w's paths can carry (both directions for a bidir or an
 * rr/crr workload), 0 when nothing on them is shaped. */
double validity_capacity_bps(const struct topo_workload *w, uint64_t path_rate_bps);
/* The rules on what the tool reported: errors, connections the server
 * accepted, a receiver goodput at all, a goodput its paths could carry. */
void validity_tool(struct wl_result *res, const struct tool_report *tr);
/* The rules of an MPTCP workload, after validity_tool: MP_CAPABLE seen, no
 * fallback, the subflows its topology implies, no subflow that joined after
 * a learned warm-up's window began. Sets subflows_per_conn. */
void validity_mptcp(struct wl_result *res);
/* A goodput of recv_bps against capacity (validity_capacity_bps): NULL when
 * plausible, else the reason (caller frees). */
char *validity_implausible(double recv_bps, double capacity_bps);

/* A window that counted more than its paths carry: a goodput more than
 * VALIDITY_OUTLIER_PCT above the shaped paths' payload (topo_path_payload_bps)
 * is not the path's but the window's (its edges, or a guest clock). */
#define VALIDITY_OUTLIER_PCT 0.3
/* NULL when recv_bps fits payload_bps (0: nothing shaped), else the reason
 * (caller frees) */
char *validity_outlier_window(double recv_bps, double payload_bps);

/* A run id: 32 lowercase hex digits (128 random bits); a series id: "s" and
 * 32 of them. Anything else came from somewhere else. */
bool validity_run_id(const char *id);
bool validity_series_id(const char *id);
