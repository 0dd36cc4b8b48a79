/* lab.c - one run: a topology brought up on a backend, its nodes checked
 * and configured (configure.c), its workloads run (workload.c), torn down
 * (on a thread of its own when the caller asked to overlap it with the
 * next run's boot). */
#include "lab.h"
#include "configure.h"
#include "node.h"
#include "workload.h"
#include "caps.h"
#include "../shared/spawn.h"

#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

/* A run's directory: named by the first 8 digits of its id */
static char *run_dir_of(const struct run_opts *o, const char *id)
{
        _cleanup_free_ char *runs = o->run_dir ? NULL : lab_data_path("runs");
        return xasprintf("%s/%.8s", o->run_dir ? o->run_dir : runs, id);
}

/* What a lab's run left allocated, once its backend is gone. */
/* The lab's crash becomes the run's (said, with its excerpt from where) */
static void take_crash(struct lab *lab, struct run_result *res, const char *where)
{
        log_error("node %s crashed (%s); %s excerpt:\n%s", lab->crash.node, lab->crash.what, where,
                  lab->crash.trace);
        res->crash_node = TAKE_PTR(lab->crash.node);
        res->crash_what = TAKE_PTR(lab->crash.what);
        res->crash_trace = TAKE_PTR(lab->crash.trace);
}

static void lab_free(struct lab *lab)
{
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                json_object_put(lab->nodes[i].hello);
                json_object_put(lab->nodes[i].configured);
                free(lab->nodes[i].console);
                free(lab->nodes[i].kernel);
                json_object_put(lab->nodes[i].kernel_id);
                free(lab->nodes[i].hypervisor);
        }
        free(lab->nodes);
        free(lab->run_dir);
        free(lab->crash.node);
        free(lab->crash.what);
        free(lab->crash.trace);
        free(lab);
}

/* A teardown that overlaps the next run's boot (run_opts.overlap_teardown):
 * at most one, on its own thread (libvirt connections are thread-safe and
 * each run has its own). The topology is freed after it: the lab's nodes
 * point into it. */
struct pending_teardown {
        pthread_t th;
        struct lab *lab;
        struct topo *topo;
        double secs;
};

static void *teardown_thread(void *arg)
{
        struct pending_teardown *p = arg;
        uint64_t t0 = now_usec();
        p->lab->ops->destroy(p->lab);
        p->secs = (double)(now_usec() - t0) / 1e6;
        return NULL;
}

double lab_run_settle(struct pending_teardown **pending)
{
        struct pending_teardown *p = pending ? *pending : NULL;
        if (!p)
                return 0;
        uint64_t t0 = now_usec();
        pthread_join(p->th, NULL);
        log_debug("the previous run's teardown took %.1fs (%.1fs of it waited for)", p->secs,
                  (double)(now_usec() - t0) / 1e6);
        lab_free(p->lab);
        topo_free(p->topo);
        free(p);
        *pending = NULL;
        return (double)(now_usec() - t0) / 1e6;
}

struct lab_keep {
        struct lab *lab;
        struct topo *boot_topo;   /* what it was booted for: lab->t between runs */
        struct json_object **ref; /* each node's state once booted */
        char *kernel;             /* run_opts.kernel it boots */
        unsigned runs;            /* runs it has served */
        bool paused;
};

/* Every node's state now (ref[i]), or <0 with *err */
static int take_states(struct lab *lab, const struct topo *bt, struct json_object **out, char **err)
{
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct lab_node *n = &lab->nodes[i];
                /* every net.mptcp sysctl: a run may set any of them */
                int e = node_call(n, "state", "state", node_state_args(&bt->nodes[i], true),
                                  CALL_MS, &out[i], err);
                if (e < 0)
                        return e;
        }
        return 0;
}

static void refs_free(struct json_object **ref, unsigned n)
{
        for (unsigned i = 0; ref && i < n; i++)
                json_object_put(ref[i]);
        free(ref);
}

/* The lab and each of its nodes on topology t (a kept lab: this run's, or
 * between runs the one it was booted for) */
static void lab_on(struct lab *lab, struct topo *t)
{
        lab->t = t;
        for (unsigned i = 0; i < t->n_nodes; i++)
                lab->nodes[i].tn = &t->nodes[i];
}

/* The keep gone, its lab left to the caller (on the topology it was booted
 * for, which is returned: the caller frees it after the lab) */
static struct topo *keep_dissolve(struct lab_keep *k)
{
        struct topo *t = k->boot_topo;
        lab_on(k->lab, t);
        refs_free(k->ref, t->n_nodes);
        free(k->kernel);
        free(k);
        return t;
}

void lab_keep_pause(struct lab_keep *k)
{
        char *err = NULL;
        if (!k || k->paused || !k->lab->ops->pause)
                return;
        if (k->lab->ops->pause(k->lab, true, &err) < 0) {
                log_warn("%s; it stays running", err);
                free(err);
                return;
        }
        k->paused = true;
}

double lab_keep_release(struct lab_keep **kp)
{
        struct lab_keep *k = kp ? *kp : NULL;
        if (!k)
                return 0;
        uint64_t t0 = now_usec();
        struct lab *lab = k->lab;
        struct topo *t = keep_dissolve(k);
        lab->ops->destroy(lab);
        lab_free(lab);
        topo_free(t);
        *kp = NULL;
        return (double)(now_usec() - t0) / 1e6;
}

/* Can the kept lab serve a run of t with these options? Its nodes are then
 * resumed and checked to be as booted; *why says why not. */
static bool keep_fits(struct lab_keep *k, const struct topo *t, const struct run_opts *o,
                      const struct backend_ops *be, char **why)
{
        if (k->lab->ops != be || !streq_null(k->kernel, o->kernel) ||
            !streq_null(k->lab->uri, o->uri) || !streq_null(k->lab->link_mode, o->links) ||
            !topo_same_frame(k->boot_topo, t)) {
                *why = xstrdup("this run boots other kernels or another frame");
                return false;
        }
        char *err = NULL;
        if (k->paused && be->pause) {
                if (be->pause(k->lab, false, &err) < 0) {
                        *why = err;
                        return false;
                }
                k->paused = false;
        }
        unsigned nn = k->boot_topo->n_nodes;
        struct json_object **now = xcalloc(nn, sizeof *now);
        bool same = take_states(k->lab, k->boot_topo, now, &err) == 0;
        for (unsigned i = 0; same && i < nn; i++)
                if (!json_object_equal(now[i], k->ref[i])) {
                        err = xasprintf(
                                "node %s is not as it was booted: %s", k->lab->nodes[i].tn->name,
                                json_object_to_json_string_ext(now[i], JSON_C_TO_STRING_PLAIN));
                        same = false;
                }
        refs_free(now, nn);
        if (!same)
                *why = err;
        return same;
}

/* The run's own directory, new and ours: consoles, sockets and the spool go
 * there, so one that exists already (someone else's, a symlink) is refused */
static int make_run_dir(const char *dir)
{
        _cleanup_free_ char *parent = xstrdup(dir);
        *strrchr(parent, '/') = 0;
        struct stat st;
        int e;
        if ((e = mkdir_p(parent)) < 0 || (mkdir(dir, 0755) < 0 && (e = -errno)) ||
            (lstat(dir, &st) < 0 && (e = -errno)) ||
            (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ? (e = -EPERM) : 0))
                return e;
        return 0;
}

/* What each node is, as the backend brought it up: the result's "nodes" */
static void describe_nodes(struct run *r, struct run_result *res)
{
        const struct topo *t = r->lab->t;
        const struct backend_ops *be = r->lab->ops;
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lab_node *n = &r->lab->nodes[i];
                if (!n->hello)
                        continue;
                struct json_object *o2 = json_object_new_object();
                json_object_object_add(o2, "hello", json_object_get(n->hello));
                /* a reused lab's nodes were ready before the run began */
                json_object_object_add(o2, "ready_s",
                                       json_object_new_double(r->reused ? 0 : n->ready_s));
                if (n->kernel)
                        json_object_object_add(o2, "kernel_spec", S(n->kernel));
                if (n->kernel_id)
                        json_object_object_add(o2, "kernel_id", json_object_get(n->kernel_id));
                if (n->console)
                        json_object_object_add(o2, "console", S(n->console));
                if (n->hypervisor)
                        json_object_object_add(o2, "hypervisor", S(n->hypervisor));
                if (n->accel)
                        json_object_object_add(o2, "accel", S(n->accel));
                if (be->describe) {
                        _cleanup_free_ char *what = be->describe(r->lab, i);
                        json_object_object_add(o2, "what", S(what));
                }
                json_object_object_add(res->nodes, t->nodes[i].name, o2);
        }
}

/* The nodes up (the backend), checked against what the topology asks,
 * cabled and configured. <0 with *err; *caps_failed when the nodes lack
 * something (infrastructure, not the backend's input) */
static int bring_up(struct run *r, struct run_result *res, bool *caps_failed, char **err)
{
        const struct topo *t = r->lab->t;
        const struct backend_ops *be = r->lab->ops;
        if (r->reused)
                progress(r, "run %.8s: %s on %s, the nodes run %s booted (its run %u on them)",
                         res->run_id, topo_label(t), be->name, r->lab->run_id, r->reused->runs + 1);
        else
                progress(r, "run %s: %s on %s, %u node(s), %u link(s)", r->lab->run_id,
                         topo_label(t), be->name, t->n_nodes, t->n_links);
        int e = r->reused ? 0 : be->create(r->lab, err);
        describe_nodes(r, res);
        if (e < 0)
                return e;
        for (unsigned i = 0; !r->reused && i < t->n_nodes; i++) /* what the backend said, above */
                progress(r, "%s: %s, kernel %s, ready at %.1fs", t->nodes[i].name,
                         jstr(jobj(res->nodes, t->nodes[i].name), "what") ?: be->name,
                         jstr(r->lab->nodes[i].hello, "kernel") ?: "?", r->lab->nodes[i].ready_s);
        struct json_object **hellos = xcalloc(t->n_nodes + 1, sizeof *hellos);
        for (unsigned i = 0; i < t->n_nodes; i++)
                hellos[i] = r->lab->nodes[i].hello;
        e = caps_check(t, hellos, err);
        char *lacks = e < 0 ? NULL : caps_mptcp_lacks(t, hellos);
        free(hellos);
        if (lacks && t->cell_set) {
                /* a matrix cell the kernel cannot be: skipped, never the default */
                progress(r, "skipped: %s", lacks);
                res->skip = lacks;
                return 1;
        }
        if (lacks) {
                *err = lacks;
                e = -EOPNOTSUPP;
        }
        if (e < 0) {
                *caps_failed = true;
                return e;
        }
        if (!r->reused) {
                progress(r, "nodes up; creating links");
                if (be->wire && (e = be->wire(r->lab, err)) < 0)
                        return e;
                /* what a kept lab must be again before each of its next runs */
                if (r->o->keep && be->reusable) {
                        r->ref = xcalloc(t->n_nodes, sizeof *r->ref);
                        if ((e = take_states(r->lab, t, r->ref, err)) < 0)
                                return e;
                }
        }
        for (unsigned i = 0; i < t->n_nodes; i++)
                if ((e = configure_node(r, i, err)) < 0)
                        return e;
        for (unsigned i = 0; i < t->n_nodes; i++) {
                if ((e = configure_node_paths(r, i, err)) < 0 ||
                    (e = configure_record(r, i, err)) < 0)
                        return e;
                /* into what describe_nodes said of the node */
                struct json_object *o = jobj(res->nodes, t->nodes[i].name);
                if (o)
                        json_object_object_add(o, "configured",
                                               json_object_get(r->lab->nodes[i].configured));
        }
        return 0;
}

/* Every workload in turn; <0 with *err when the run cannot go on */
static int run_workloads(struct run *r, struct run_result *res, char **err)
{
        const struct topo *t = r->lab->t;
        for (unsigned i = 0; i < t->n_workloads; i++) {
                const struct topo_workload *w = &t->workloads[i];
                res->wl[i].w = w;
                res->wl[i].node_cpu_client_s = res->wl[i].node_cpu_server_s = -1;
                res->wl[i].completion_s = -1;
                res->wl[i].settled_s = -1;
                res->wl[i].vm_cpu_client_s = res->wl[i].vm_cpu_server_s = -1;
                res->wl[i].cycles_client = res->wl[i].cycles_server = -1;
                res->wl[i].insns_client = res->wl[i].insns_server = -1;
                progress(r, "workload %u/%u %s: %s %s, %.0fs", i + 1, t->n_workloads, w->name,
                         topo_tool_name(w->tool), w->protocol == TOPO_PROTO_MPTCP ? "mptcp" : "tcp",
                         (double)w->duration_us / 1e6);
                int e = run_workload(r, i, &res->wl[i], err);
                if (e < 0) {
                        res->wl[i].status = WL_FAILED;
                        res->wl[i].reason = xstrdup(*err);
                        return e;
                }
                r->done_us += w->duration_us + w->warmup_us + 1500000;
                if (res->wl[i].status == WL_FAILED)
                        log_error("workload %s failed: %s", w->name, res->wl[i].reason);
        }
        return 0;
}

/* After a good run, a lab that can serve the next one is put back (every
 * agent's reset) and kept in *o->keep instead of torn down. True when kept:
 * the lab, and the topology it was booted for, are then the keep's. */
static bool keep_lab(struct run *r, struct run_result *res, enum outcome rc)
{
        const struct run_opts *o = r->o;
        struct lab *lab = r->lab;
        if (!o->keep || !lab->ops->reusable || rc != OUTCOME_OK || res->error || res->crash_node ||
            lab->crash.node || run_signalled() || !(r->reused || r->ref))
                return false;
        for (unsigned i = 0; i < res->n_wl; i++)
                if (res->wl[i].status == WL_FAILED || res->wl[i].status == WL_CRASHED)
                        return false;
        uint64_t t0 = now_usec();
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                struct json_object *rep = NULL;
                char *err = NULL;
                int e = node_call(&lab->nodes[i], "putting it back for the next run", "reset", NULL,
                                  CALL_MS, &rep, &err);
                int failed = e < 0 ? 1 : json_object_get_int(jpath(rep, "failed", NULL));
                json_object_put(rep);
                if (e < 0 || failed) {
                        log_warn("%s; the next run boots its own",
                                 err ? err : "a change was not undone");
                        free(err);
                        res->reset_s = (double)(now_usec() - t0) / 1e6;
                        return false;
                }
        }
        res->reset_s = (double)(now_usec() - t0) / 1e6;
        struct lab_keep *k = r->reused;
        if (!k) {
                k = xcalloc(1, sizeof *k);
                k->lab = lab;
                k->boot_topo = lab->t; /* this run's: the caller leaves it to the keep */
                k->ref = TAKE_PTR(r->ref);
                k->kernel = o->kernel ? xstrdup(o->kernel) : NULL;
        }
        k->runs++;
        lab_on(lab, k->boot_topo);
        *o->keep = k;
        res->topo_taken = !r->reused;
        return true;
}

/* Logs kept, a crash found in them taken, machines put back, the nodes torn
 * down (now, or on a thread while the caller goes on) */
static enum outcome tear_down(struct run *r, struct run_result *res, enum outcome rc)
{
        const struct topo *t = r->lab->t;
        const struct backend_ops *be = r->lab->ops;
        const struct run_opts *o = r->o;
        progress(r, "tearing down");
        agent_interrupted = 0;
        spawn_interrupted = 0;
        /* each node kernel's log, kept in the run's directory */
        for (unsigned i = 0; be->collect_log && i < t->n_nodes; i++) {
                _cleanup_free_ char *klog =
                        r->lab->nodes[i].hello ? be->collect_log(r->lab, i) : NULL;
                struct json_object *nj = jobj(res->nodes, t->nodes[i].name);
                if (klog && nj)
                        json_object_object_add(nj, "kernel_log", S(klog));
        }
        /* a crash found in a log read after the workloads (machines: their
         * dmesg) makes the run a crash as one seen while it ran */
        if (r->lab->crash.node && !res->crash_node) {
                take_crash(r->lab, res, "kernel log");
                rc = OUTCOME_REGRESSION;
        }
        /* machines the lab did not create are put back now and compared */
        if (be->restore && (res->dirty = be->restore(r->lab)))
                log_error("the run is dirty: %s",
                          json_object_to_json_string_ext(res->dirty, JSON_C_TO_STRING_PLAIN));
        /* the last run's teardown first: never two at once */
        res->teardown_wait_s += lab_run_settle(o->pending);
        if (keep_lab(r, res, rc))
                return rc;
        struct topo *own = NULL; /* a reused lab's: the topology it was booted for */
        if (r->reused) {         /* it goes, and the keep is empty */
                own = keep_dissolve(r->reused);
                r->reused = NULL;
                *o->keep = NULL;
        }
        if (o->pending && !run_signalled() && !res->crash_node) {
                /* the VMs go while the caller goes on to the next run's boot;
                 * the next run's measurement waits for them (lab_run_settle) */
                struct pending_teardown *p = xcalloc(1, sizeof *p);
                p->lab = r->lab;
                p->topo = r->lab->t;
                if (pthread_create(&p->th, NULL, teardown_thread, p) == 0) {
                        *o->pending = p;
                        res->teardown_deferred = true;
                        res->topo_taken = !own;
                } else
                        free(p);
        }
        if (!res->teardown_deferred) {
                uint64_t td0 = now_usec();
                be->destroy(r->lab);
                res->teardown_s = (double)(now_usec() - td0) / 1e6;
                lab_free(r->lab);
                topo_free(own);
        }
        return rc;
}

enum outcome lab_run(struct topo *t, const struct run_opts *o, struct run_result **ret)
{
        const struct backend_ops *be = backend_find(o->backend);
        if (!be) {
                log_error("unknown backend \"%s\"; backends:", o->backend);
                backend_list(stderr);
                return OUTCOME_INPUT;
        }
        struct run r = {.t0 = now_usec(), .o = o};
        /* 128 random bits identify the run in the database; the first 32 of them
         * name its namespaces, domains, bridges and directory, where length is
         * short (IFNAMSIZ) and the host lock keeps runs from meeting */
        char id[33];
        random_hex(id, 16);
        char *err = NULL;
        int e;
        double released_s = 0;
        struct lab_keep *k = o->keep ? *o->keep : NULL;
        if (k && !keep_fits(k, t, o, be, &err)) {
                log_info("the kept VMs of run %s cannot serve this run (%s): they go",
                         k->lab->run_id, err);
                free(err);
                err = NULL;
                released_s = lab_keep_release(o->keep);
                k = NULL;
        }
        _cleanup_free_ char *dir = run_dir_of(o, id);
        if (k) {
                r.reused = k;
                r.lab = k->lab;
                r.lab->t0 = r.t0;
                lab_on(r.lab, t);
        } else {
                r.lab = xcalloc(1, sizeof *r.lab);
                *r.lab = (struct lab){.t = t,
                                      .agent_path = o->agent_path,
                                      .ops = be,
                                      .kernel = o->kernel,
                                      .uri = o->uri,
                                      .link_mode = o->links,
                                      .inventory = o->inventory,
                                      .t0 = r.t0};
                snprintf(r.lab->run_id, sizeof r.lab->run_id, "%.8s", id);
                if (be->preflight && be->preflight(r.lab, &err) < 0) {
                        log_error("%s", err);
                        free(err);
                        enum outcome rc = r.lab->input_error ? OUTCOME_INPUT : OUTCOME_INFRA;
                        free(r.lab);
                        return rc;
                }
                r.lab->run_dir = xstrdup(dir);
        }
        if ((e = make_run_dir(dir)) < 0) {
                log_errno(LOG_LVL_ERROR, e, "cannot create the run directory %s", dir);
                if (k) {
                        lab_keep_release(o->keep);
                } else {
                        free(r.lab->run_dir);
                        free(r.lab);
                }
                return OUTCOME_INFRA;
        }
        struct run_result *res = xcalloc(1, sizeof *res);
        res->run_dir = xstrdup(dir);
        snprintf(res->run_id, sizeof res->run_id, "%s", id);
        res->teardown_s = released_s;
        if (o->keep && be->reusable) {
                snprintf(res->boot_run, sizeof res->boot_run, "%s", r.lab->run_id);
                res->boot_index = k ? k->runs : 0;
        }
        res->backend = be->name;
        res->links = be->link_kind ? be->link_kind(r.lab) : "?";
        res->started_at = iso8601_now();
        res->n_wl = t->n_workloads;
        res->wl = xcalloc(t->n_workloads, sizeof *res->wl);
        res->nodes = json_object_new_object();
        r.expected_us = 3000000;
        for (unsigned i = 0; i < t->n_workloads; i++)
                r.expected_us += t->workloads[i].duration_us + t->workloads[i].warmup_us + 1500000;

        struct sigaction sa = {.sa_handler = run_on_signal}; /* no SA_RESTART: waits see EINTR */
        struct sigaction old_int, old_term, old_hup;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        sigaction(SIGHUP, &sa, &old_hup);

        enum outcome rc = OUTCOME_OK;
        if (!k) {
                r.lab->nodes = xcalloc(t->n_nodes, sizeof *r.lab->nodes);
                lab_on(r.lab, t);
        }
        bool caps_failed = false;
        /* > 0: a matrix cell skipped, nothing run */
        if ((e = bring_up(&r, res, &caps_failed, &err)) == 0) {
                /* the last run's VMs are gone before anything is measured */
                res->teardown_wait_s = lab_run_settle(o->pending);
                res->setup_s = (double)(now_usec() - r.t0) / 1e6;
                r.done_us = now_usec() - r.t0;
                progress(&r, "configured in %.1fs", res->setup_s);
                e = run_workloads(&r, res, &err);
        }
        if (e < 0) {
                if (run_signalled())
                        log_error("interrupted by signal %d; tearing down", run_signal());
                else
                        log_error("%s", err ? err : "run failed");
                res->error = xstrdup(run_signalled() ? "interrupted" : err ? err : "run failed");
                if (r.lab->crash.node) {
                        take_crash(r.lab, res, "console");
                        rc = OUTCOME_REGRESSION;
                }
                if (rc == OUTCOME_OK)
                        rc = caps_failed          ? OUTCOME_INFRA
                             : r.lab->input_error ? OUTCOME_INPUT
                                                  : OUTCOME_INFRA;
        }
        free(err);
        rc = tear_down(&r, res, rc);
        refs_free(r.ref, t->n_nodes); /* unless a keep took them */
        res->wall_s = (double)(now_usec() - r.t0) / 1e6;
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        for (unsigned i = 0; i < res->n_wl; i++)
                if (res->wl[i].status == WL_FAILED && res->crash_node)
                        res->wl[i].status = WL_CRASHED;
                else if (res->wl[i].status == WL_FAILED && rc == OUTCOME_OK)
                        rc = OUTCOME_INFRA;
        if (run_signalled() && rc == OUTCOME_OK)
                rc = OUTCOME_INFRA;
        *ret = res;
        return rc;
}
