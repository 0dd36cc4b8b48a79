/* jobs.c - programs the agent runs for the controller (iperf3, mptcpload):
 * argv arrays only, output captured, a deadline each. Each job is PID 1 of
 * its own PID namespace, so when it ends the kernel kills whatever it started,
 * also a daemon that left its process group; where PID namespaces are refused,
 * its process group is killed instead. */
#include "agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>

int job_spawn(struct agent *a, char *const *argv, char *const *env, uint64_t timeout_us,
              unsigned *ret_id)
{
        unsigned running = 0;
        for (struct job *j = a->jobs; j; j = j->next)
                running += !j->done;
        if (running >= JOBS_MAX)
                return -EAGAIN;
        struct job *j = xcalloc(1, sizeof *j);
        struct spawn_opts o = {.argv = argv,
                               .env_add = env,
                               .pipe_stdout = true,
                               .pipe_stderr = true,
                               .new_pgrp = true,
                               .new_pidns = true,
                               .pdeathsig = SIGKILL};
        int r = spawn_start(&o, &j->sp);
        if (r < 0) {
                free(j);
                return r;
        }
        j->id = ++a->next_job;
        j->argv0 = xstrdup(argv[0]);
        j->start_us = now_usec();
        j->deadline_us = j->start_us + timeout_us;
        j->next = a->jobs;
        a->jobs = j;
        *ret_id = j->id;
        return 0;
}

struct job *job_find(struct agent *a, unsigned id)
{
        for (struct job *j = a->jobs; j; j = j->next)
                if (j->id == id)
                        return j;
        return NULL;
}

struct json_object *job_result(const struct job *j)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "job", json_object_new_int64(j->id));
        if (WIFEXITED(j->status))
                json_object_object_add(o, "exit_code", json_object_new_int(WEXITSTATUS(j->status)));
        else
                json_object_object_add(o, "signal", json_object_new_int(WTERMSIG(j->status)));
        json_object_object_add(o, "timed_out", json_object_new_boolean(j->timed_out));
        json_object_object_add(o, "wall_ms",
                               json_object_new_int64((int64_t)(j->end_us - j->start_us) / 1000));
        json_object_object_add(o, "utime_s",
                               json_object_new_double((double)j->ru.ru_utime.tv_sec +
                                                      (double)j->ru.ru_utime.tv_usec / 1e6));
        json_object_object_add(o, "stime_s",
                               json_object_new_double((double)j->ru.ru_stime.tv_sec +
                                                      (double)j->ru.ru_stime.tv_usec / 1e6));
        json_object_object_add(o, "stdout",
                               json_object_new_string_len(j->out ? j->out : "", (int)j->out_len));
        json_object_object_add(o, "stderr",
                               json_object_new_string_len(j->err ? j->err : "", (int)j->err_len));
        if (j->out_trunc || j->err_trunc)
                json_object_object_add(o, "truncated", json_object_new_boolean(true));
        return o;
}

static void drain(int *fd, char **buf, size_t *len, bool *trunc)
{
        char tmp[65536];
        for (;;) {
                ssize_t n = read(*fd, tmp, sizeof tmp);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        if (n == 0 || errno != EAGAIN) {
                                close(*fd);
                                *fd = -1;
                        }
                        return;
                }
                size_t keep = (size_t)n;
                if (*len + keep > JOB_OUTPUT_MAX) {
                        keep = JOB_OUTPUT_MAX - *len;
                        *trunc = true;
                }
                if (keep) {
                        *buf = xreallocarray(*buf, *len + keep + 1, 1);
                        memcpy(*buf + *len, tmp, keep);
                        *len += keep;
                        (*buf)[*len] = 0;
                }
                return; /* one read per poll round keeps the loop fair */
        }
}

static void finish(struct agent *a, struct job *j)
{
        /* the leader is a zombie until reaped, so its group id still names the
         * job: nothing the job started may outlive it (in a PID namespace the
         * kernel has done this already) */
        kill(-j->sp.pid, SIGKILL);
        /* the rest of its output, for a short while only: a process stuck in
         * the kernel under test may hold the pipes open for ever */
        uint64_t until = now_usec() + 300000;
        int *fds[2] = {&j->sp.out_fd, &j->sp.err_fd};
        for (unsigned i = 0; i < 2; i++)
                if (*fds[i] >= 0)
                        fcntl(*fds[i], F_SETFL, fcntl(*fds[i], F_GETFL) | O_NONBLOCK);
        while (j->sp.out_fd >= 0 || j->sp.err_fd >= 0) {
                struct pollfd p[2] = {{.fd = j->sp.out_fd, .events = POLLIN},
                                      {.fd = j->sp.err_fd, .events = POLLIN}};
                uint64_t now = now_usec();
                if (now >= until || poll(p, 2, (int)((until - now) / 1000) + 1) == 0) {
                        log_warn("%s: job %u (%s): something it started still holds its output "
                                 "open; not waiting for it",
                                 a->node, j->id, j->argv0);
                        break;
                }
                if (p[0].revents)
                        drain(&j->sp.out_fd, &j->out, &j->out_len, &j->out_trunc);
                if (p[1].revents)
                        drain(&j->sp.err_fd, &j->err, &j->err_len, &j->err_trunc);
        }
        /* the leader: exited when its pidfd said so; killed above otherwise */
        if (j->sp.pidfd >= 0) {
                struct pollfd p = {.fd = j->sp.pidfd, .events = POLLIN};
                poll(&p, 1, 1000);
        }
        pid_t r;
        while ((r = wait4(j->sp.pid, &j->status, WNOHANG, &j->ru)) < 0 && errno == EINTR)
                ;
        if (r == 0) {
                log_warn("%s: job %u (%s) does not die (stuck in the kernel?)", a->node, j->id,
                         j->argv0);
                j->status = SIGKILL; /* reported as killed */
        }
        j->sp.pid = 0;
        spawn_close_fds(&j->sp);
        j->done = true;
        j->end_us = now_usec();
        for (unsigned i = 0; i < j->n_waiters; i++) {
                struct reply rep = {.result = job_result(j)};
                agent_send_reply(a, j->waiters[i], &rep);
        }
        free(j->waiters);
        j->waiters = NULL;
        j->n_waiters = 0;
}

unsigned jobs_pollfds(struct agent *a, struct pollfd *p, unsigned max, struct job **owners)
{
        unsigned n = 0;
        for (struct job *j = a->jobs; j; j = j->next) {
                if (j->done)
                        continue;
                int fds[] = {j->sp.out_fd, j->sp.err_fd, j->sp.pidfd};
                for (unsigned i = 0; i < 3 && n < max; i++)
                        if (fds[i] >= 0) {
                                p[n] = (struct pollfd){.fd = fds[i], .events = POLLIN};
                                owners[n++] = j;
                        }
        }
        return n;
}

void jobs_handle(struct agent *a, struct pollfd *p, unsigned n, struct job **owners)
{
        for (unsigned i = 0; i < n; i++) {
                struct job *j = owners[i];
                if (!p[i].revents || j->done)
                        continue;
                if (p[i].fd == j->sp.out_fd)
                        drain(&j->sp.out_fd, &j->out, &j->out_len, &j->out_trunc);
                else if (p[i].fd == j->sp.err_fd)
                        drain(&j->sp.err_fd, &j->err, &j->err_len, &j->err_trunc);
                else if (p[i].fd == j->sp.pidfd)
                        finish(a, j);
        }
}

int jobs_tick(struct agent *a)
{
        uint64_t now = now_usec(), next = 0;
        for (struct job *j = a->jobs; j; j = j->next) {
                if (j->done)
                        continue;
                if (!j->timed_out && now >= j->deadline_us) {
                        log_warn("%s: job %u (%s) passed its deadline, stopping it", a->node, j->id,
                                 j->argv0);
                        j->timed_out = true;
                        kill(-j->sp.pid, SIGTERM);
                        j->kill_at_us = now + 2000000;
                } else if (j->kill_at_us && now >= j->kill_at_us) {
                        kill(-j->sp.pid, SIGKILL); /* ignored SIGTERM (PID 1 without a handler) */
                        j->kill_at_us = 0;
                }
                uint64_t t = j->kill_at_us ? j->kill_at_us : j->timed_out ? 0 : j->deadline_us;
                if (t && (!next || t < next))
                        next = t;
        }
        if (!next)
                return -1;
        return next > now ? (int)((next - now) / 1000 + 1) : 0;
}

void jobs_kill_all(struct agent *a)
{
        for (struct job *j = a->jobs; j; j = j->next)
                if (!j->done && j->sp.pid > 0)
                        kill(-j->sp.pid, SIGTERM);
        uint64_t until = now_usec() + 2000000;
        for (struct job *j = a->jobs; j; j = j->next) {
                if (j->done)
                        continue;
                uint64_t now = now_usec();
                if (j->sp.pidfd >= 0) {
                        struct pollfd p = {.fd = j->sp.pidfd, .events = POLLIN};
                        if (poll(&p, 1, now < until ? (int)((until - now) / 1000) : 0) == 0)
                                kill(-j->sp.pid, SIGKILL);
                }
                finish(a, j); /* answers whoever still waits for it */
        }
        while (a->jobs) {
                struct job *j = a->jobs;
                a->jobs = j->next;
                free(j->out);
                free(j->err);
                free(j->argv0);
                free(j);
        }
}
