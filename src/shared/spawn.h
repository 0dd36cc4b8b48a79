/* spawn.h - start programs from argv arrays (never a shell), with pipes,
 * a pidfd for waiting, and deadlines enforced by the callers' loops. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct spawn {
        pid_t pid;
        int pidfd;  /* readable when the child exits */
        int in_fd;  /* our end of its stdin, or -1 */
        int out_fd; /* our end of its stdout, or -1 */
        int err_fd; /* our end of its stderr, or -1 */
        bool pidns; /* it is PID 1 of its own PID namespace */
        bool pgrp;  /* it leads its own process group: stopped as a group */
};

/* Set by a signal handler (^C): spawn_run stops its child and returns -EINTR. */
extern volatile int spawn_interrupted;

struct spawn_opts {
        char *const *argv;
        char *const *env_add; /* NAME=VALUE entries added to the environment, or NULL */
        bool pipe_stdin;      /* else /dev/null */
        bool pipe_stdout;     /* else inherited */
        bool pipe_stderr;     /* else inherited */
        bool new_pgrp;        /* own process group (signals to ours do not reach it) */
        int pdeathsig;        /* signal the child gets when we die, 0: none */
        /* PID 1 of a new PID namespace (needs CAP_SYS_ADMIN, falls back to a
         * plain child where it is refused): when it exits, the kernel kills
         * everything it started, also what left its process group or session */
        bool new_pidns;
};

/* Returns 0, or -errno (including the exec failure of the child, e.g. -ENOENT). */
int spawn_start(const struct spawn_opts *o, struct spawn *ret);
/* Waits up to timeout_ms (-1: forever) for exit. Returns 0 and the wait status, or -ETIMEDOUT. */
int spawn_wait(struct spawn *s, int timeout_ms, int *ret_status);
/* SIGTERM, then SIGKILL after grace_ms; reaps. Safe to call twice. */
void spawn_stop(struct spawn *s, int grace_ms);
void spawn_close_fds(struct spawn *s);

/* Runs argv to completion with captured output, killing it (and what it
 * started: its own process group) at the deadline or on spawn_interrupted.
 * The child gets SIGTERM when we die, so a script's cleanup traps run.
 * Returns 0 and the status, -ETIMEDOUT, -EINTR, or -errno. */
int spawn_run(char *const *argv, int timeout_ms, char **ret_out, char **ret_err, int *ret_status);
