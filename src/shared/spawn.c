#include "spawn.h"
#include "util.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

volatile int spawn_interrupted;

static int pidfd_open(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

int spawn_start(const struct spawn_opts *o, struct spawn *ret)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, ex[2] = {-1, -1};
        int r = 0;
        if ((o->pipe_stdin && pipe2(in, O_CLOEXEC) < 0) ||
            (o->pipe_stdout && pipe2(out, O_CLOEXEC) < 0) ||
            (o->pipe_stderr && pipe2(err, O_CLOEXEC) < 0) || pipe2(ex, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        pid_t parent = getpid();
        bool pidns = o->new_pidns;
        /* raw clone without a stack works like fork; the callers are single-threaded */
        pid_t pid = pidns ? (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, 0)
                          : fork();
        if (pid < 0 && pidns && (errno == EINVAL || errno == EPERM || errno == ENOSPC)) {
                pidns = false; /* no CONFIG_PID_NS, or no privilege */
                pid = fork();
        }
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pid == 0) {
                if (o->pdeathsig) {
                        prctl(PR_SET_PDEATHSIG, o->pdeathsig);
                        /* in a new PID namespace the parent is outside it: ppid reads 0 */
                        if (!pidns && getppid() != parent)
                                _exit(127);
                }
                if (o->new_pgrp)
                        setpgid(0, 0);
                /* a parent's blocked signals (signalfd users) and ignored SIGPIPE are
                 * inherited through exec: give the program a clean slate */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(o->pipe_stdin ? in[0] : devnull, 0);
                if (o->pipe_stdout)
                        dup2(out[1], 1);
                if (o->pipe_stderr)
                        dup2(err[1], 2);
                for (char *const *e = o->env_add; e && *e; e++)
                        putenv(*e);
                execvp(o->argv[0], o->argv);
                int e = errno;
                (void)!write(ex[1], &e, sizeof e);
                _exit(127);
        }
        close(ex[1]);
        ex[1] = -1;
        int child_errno;
        ssize_t n;
        while ((n = read(ex[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
                ;
        close(ex[0]);
        ex[0] = -1;
        if (n == sizeof child_errno) {
                waitpid(pid, NULL, 0);
                r = -child_errno;
                goto fail;
        }
        *ret = (struct spawn){.pid = pid,
                              .pidfd = pidfd_open(pid),
                              .in_fd = in[1],
                              .out_fd = out[0],
                              .err_fd = err[0],
                              .pidns = pidns,
                              .pgrp = o->new_pgrp};
        if (in[0] >= 0)
                close(in[0]);
        if (out[1] >= 0)
                close(out[1]);
        if (err[1] >= 0)
                close(err[1]);
        return 0;
fail:
        for (int *p = &in[0]; p <= &in[1]; p++)
                if (*p >= 0)
                        close(*p);
        for (int i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (err[i] >= 0)
                        close(err[i]);
                if (ex[i] >= 0)
                        close(ex[i]);
        }
        return r;
}

int spawn_wait(struct spawn *s, int timeout_ms, int *ret_status)
{
        if (s->pid <= 0)
                return -ECHILD;
        if (timeout_ms >= 0 && s->pidfd >= 0) {
                struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
                int r;
                while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
                        ;
                if (r == 0)
                        return -ETIMEDOUT;
        }
        int st;
        pid_t r;
        while ((r = waitpid(s->pid, &st, 0)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return -errno;
        s->pid = 0;
        if (s->pidfd >= 0)
                close(s->pidfd);
        s->pidfd = -1;
        if (ret_status)
                *ret_status = st;
        return 0;
}

void spawn_stop(struct spawn *s, int grace_ms)
{
        if (s->pid <= 0)
                return;
        /* kept: spawn_wait clears s->pid, and kill(-0) would be our own group */
        pid_t target = s->pgrp ? -s->pid : s->pid;
        kill(target, SIGTERM);
        if (spawn_wait(s, grace_ms, NULL) == -ETIMEDOUT) {
                kill(target, SIGKILL);
                spawn_wait(s, -1, NULL);
        } else if (s->pgrp)
                kill(target, SIGKILL); /* the leader is gone; nothing it started stays */
}

void spawn_close_fds(struct spawn *s)
{
        int *fds[] = {&s->in_fd, &s->out_fd, &s->err_fd, &s->pidfd};
        for (unsigned i = 0; i < ELEMENTSOF(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}

static void drain(int *fd, char **buf, size_t *len)
{
        char tmp[65536];
        ssize_t n = read(*fd, tmp, sizeof tmp);
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                        close(*fd);
                        *fd = -1;
                }
                return;
        }
        *buf = xreallocarray(*buf, *len + (size_t)n + 1, 1);
        memcpy(*buf + *len, tmp, (size_t)n);
        *len += (size_t)n;
        (*buf)[*len] = 0;
}

int spawn_run(char *const *argv, int timeout_ms, char **ret_out, char **ret_err, int *ret_status)
{
        struct spawn s;
        struct spawn_opts o = {.argv = argv,
                               .pipe_stdout = true,
                               .pipe_stderr = true,
                               .new_pgrp = true,
                               .pdeathsig = SIGTERM};
        int r = spawn_start(&o, &s);
        if (r < 0)
                return r;
        char *out = NULL, *err = NULL;
        size_t olen = 0, elen = 0;
        uint64_t deadline = now_usec() + (uint64_t)timeout_ms * 1000;
        while (s.out_fd >= 0 || s.err_fd >= 0) {
                struct pollfd p[2] = {{.fd = s.out_fd, .events = POLLIN},
                                      {.fd = s.err_fd, .events = POLLIN}};
                uint64_t now = now_usec();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                if (spawn_interrupted) {
                        r = -EINTR;
                        break;
                }
                int pr = poll(p, 2, (int)((deadline - now) / 1000 + 1));
                if (pr < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (p[0].revents)
                        drain(&s.out_fd, &out, &olen);
                if (p[1].revents)
                        drain(&s.err_fd, &err, &elen);
        }
        int st = 0;
        if (r == 0) {
                uint64_t now = now_usec();
                r = spawn_wait(&s, now < deadline ? (int)((deadline - now) / 1000 + 1) : 0, &st);
        }
        if (r < 0)
                spawn_stop(&s, 1000);
        spawn_close_fds(&s);
        if (r == 0 && ret_status)
                *ret_status = st;
        if (ret_out)
                *ret_out = out ? out : xstrdup("");
        else
                free(out);
        if (ret_err)
                *ret_err = err ? err : xstrdup("");
        else
                free(err);
        return r;
}
