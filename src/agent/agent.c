/* agent.c - mptcplab-agent: the event loop, transports and shutdown. */
#include "agent.h"
#include "../shared/owner.h"

#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#define MAX_JOB_FDS (3 * JOBS_MAX)

static int open_listen(const char *path)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
                return fd < 0 ? -errno : -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void usage(void)
{
        fprintf(stderr,
                "usage: mptcplab-agent [--stdio | --listen PATH | --port DEVICE] [--netns NAME]\n"
                "                      [--name NODE] [--owner NAME] [--alias "
                "NAME=DEV|NAME=mac:MAC]...\n"
                "                      [--debug]\n"
                "  --stdio        requests on stdin, replies on stdout (default)\n"
                "  --listen PATH  serve one client at a time on a unix socket\n"
                "  --port DEVICE  a character device such as /dev/virtio-ports/mptcplab.agent\n"
                "  --netns NAME   create /run/netns/NAME, move into it, remove it on exit\n"
                "  --owner NAME   hold the owner lock NAME (" OWNER_DIR ") while running,\n"
                "                 so that cleanup knows what this agent made is in use\n"
                "  --remove-dir /run/mptcplab-NAME\n"
                "                 remove this directory and the agent in it on exit\n"
                "  --alias NAME=DEV, NAME=mac:MAC\n"
                "                 requests name this machine's NIC DEV (or the one with MAC) "
                "NAME;\n"
                "                 refused for the NIC an ssh connection arrives on\n");
}

/* --remove-dir: the ssh backend's per-run directory, with this binary and
 * the mptcpload copied beside it */
static void remove_run_dir(const char *dir)
{
        if (!dir)
                return;
        _cleanup_free_ char *self = xasprintf("%s/mptcplab-agent", dir);
        _cleanup_free_ char *ml = xasprintf("%s/mptcpload", dir);
        if ((unlink(self) < 0 && errno != ENOENT) || (unlink(ml) < 0 && errno != ENOENT) ||
            rmdir(dir) < 0)
                log_warn("cannot remove %s: %m", dir);
}

static int serve(struct agent *a, int sfd)
{
        struct line_reader lr;
        line_reader_init(&lr, a->in_fd);
        struct pollfd p[3 + MAX_JOB_FDS];
        struct job *owners[MAX_JOB_FDS];
        int rc = 0;
        while (!a->quit) {
                char *line;
                int got = 0;
                while (!a->quit && (got = line_reader_pop(&lr, &line)) > 0) {
                        agent_handle_line(a, line);
                        free(line);
                }
                if (got < 0) {
                        log_error("%s: a request line longer than %u bytes: closing the "
                                  "connection",
                                  a->node, JSON_LINE_MAX);
                        rc = -EMSGSIZE;
                        break;
                }
                if (a->quit || lr.eof)
                        break;
                p[0] = (struct pollfd){.fd = a->in_fd, .events = POLLIN};
                p[1] = (struct pollfd){.fd = sfd, .events = POLLIN};
                p[2] = (struct pollfd){.fd = pm_fd(a), .events = POLLIN};
                unsigned n = jobs_pollfds(a, p + 3, MAX_JOB_FDS, owners);
                int timeout = jobs_tick(a), wt = waits_tick(a), st = sched_tick(a);
                if (wt >= 0 && (timeout < 0 || wt < timeout))
                        timeout = wt;
                if (st >= 0 && (timeout < 0 || st < timeout))
                        timeout = st;
                if (poll(p, 3 + n, timeout) < 0 && errno != EINTR) {
                        rc = -errno;
                        break;
                }
                if (p[1].revents) {
                        struct signalfd_siginfo si;
                        if (read(sfd, &si, sizeof si) == sizeof si) {
                                log_info("%s: signal %u, restoring the node and exiting", a->node,
                                         si.ssi_signo);
                                rc = -EINTR;
                                break;
                        }
                }
                if (p[2].revents)
                        pm_read(a);
                jobs_handle(a, p + 3, n, owners);
                if (p[0].revents) {
                        int r = line_reader_fill(&lr);
                        if (r < 0 && r != -EAGAIN && r != -EINTR)
                                break;
                }
        }
        line_reader_free(&lr);
        return rc;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"stdio", no_argument, NULL, 's'},
                {"listen", required_argument, NULL, 'l'},
                {"port", required_argument, NULL, 'p'},
                {"netns", required_argument, NULL, 'n'},
                {"name", required_argument, NULL, 'N'},
                {"debug", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {"owner", required_argument, NULL, 'o'},
                {"alias", required_argument, NULL, 'a'},
                {"remove-dir", required_argument, NULL, 'R'},
                {NULL, 0, NULL, 0},
        };
        const char *listen_path = NULL, *port = NULL, *netns = NULL, *owner = NULL,
                   *remove_dir = NULL;
        struct agent a = {.node = "node",
                          .in_fd = 0,
                          .out_fd = 1,
                          .have_netem = -1,
                          .have_tbf = -1,
                          .have_htb = -1};
        int c;
        char **aliases = NULL;
        unsigned n_aliases = 0;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        break;
                case 'R':
                        /* only a per-run directory of the ssh backend's */
                        if (strncmp(optarg, "/run/mptcplab-", 14) || strstr(optarg, "/..") ||
                            strchr(optarg + 14, '/')) {
                                log_error("--remove-dir %s: not /run/mptcplab-NAME", optarg);
                                return 2;
                        }
                        remove_dir = optarg;
                        break;
                case 'a':
                        aliases = xreallocarray(aliases, n_aliases + 1, sizeof *aliases);
                        aliases[n_aliases++] = optarg;
                        break;
                case 'l':
                        listen_path = optarg;
                        break;
                case 'p':
                        port = optarg;
                        break;
                case 'n':
                        netns = optarg;
                        break;
                case 'N':
                        a.node = optarg;
                        break;
                case 'o':
                        owner = optarg;
                        break;
                case 'd':
                        log_set_level(LOG_LVL_DEBUG);
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        usage();
                        return 2;
                }
        }
        if (optind < argc) {
                usage();
                return 2;
        }
        char *prog = xasprintf("mptcplab-agent[%s]", a.node);
        log_set_program(prog);
        signal(SIGPIPE, SIG_IGN);

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

        int r, owner_fd = -1;
        if (owner && (owner_fd = owner_claim(owner, "mptcplab-agent")) < 0) {
                log_errno(LOG_LVL_ERROR, owner_fd, "cannot take the owner lock %s", owner);
                return 3;
        }
        a.shares_host_kernel = netns != NULL;
        if (netns && (r = netns_enter_new(netns)) < 0) {
                log_errno(LOG_LVL_ERROR, r, "cannot create network namespace %s", netns);
                return 3;
        }
        if ((r = nlr_open(&a.nl)) < 0) {
                log_errno(LOG_LVL_ERROR, r, "cannot open rtnetlink");
                if (netns)
                        netns_release(netns);
                return 3;
        }
        if (netns)
                nlr_link_set(a.nl, "lo", 1, 0);
        /* the topology's interface names on this machine's NICs; never the one
         * the controller's ssh connection arrives on: refused before anything
         * is touched */
        _cleanup_json_ struct json_object *mgmt = alias_management(&a);
        const char *mgmt_dev = jstr(mgmt, "dev");
        _cleanup_free_ char *refused = NULL;
        for (unsigned i = 0; i < n_aliases && !refused; i++) {
                char *e = NULL;
                if ((r = alias_add(&a, aliases[i], &e)) < 0)
                        refused = e;
                else if (mgmt_dev && streq(a.alias_to[a.n_alias - 1], mgmt_dev))
                        refused = xasprintf(
                                "--alias %s: %s is this machine's management interface (the "
                                "controller's ssh connection from %s arrives on it at %s): the "
                                "lab never addresses, shapes or takes it down",
                                aliases[i], mgmt_dev, jstr(mgmt, "controller"),
                                jstr(mgmt, "address"));
        }
        free(aliases);
        if (refused) {
                log_error("%s", refused);
                /* over --stdio the controller is reading: it is told why, as bad
                 * input, before the connection closes (client.c) */
                if (!listen_path && !port) {
                        struct json_object *m = json_object_new_object();
                        json_object_object_add(m, "refused", json_object_new_string(refused));
                        json_write_line(a.out_fd, m);
                        json_object_put(m);
                }
                alias_free(&a);
                nlr_close(a.nl);
                if (netns)
                        netns_release(netns);
                owner_release(owner, owner_fd);
                remove_run_dir(remove_dir);
                return 2;
        }

        int lfd = -1;
        if (listen_path && (lfd = open_listen(listen_path)) < 0) {
                log_errno(LOG_LVL_ERROR, lfd, "cannot listen on %s", listen_path);
                r = lfd;
        } else if (port) {
                /* probe while nobody is connected yet: hello is then instant */
                struct reply pre = {0};
                agent_dispatch(&a, 0, "hello", NULL, &pre);
                json_object_put(pre.result);
                free(pre.message);
                _cleanup_free_ char *up = NULL;
                if (read_file("/proc/uptime", &up, NULL) == 0)
                        log_info("ready to serve %s at uptime %.*s", port, (int)strcspn(up, " "),
                                 up);
        }
        /* serve: stdio once; a unix socket or a port one client after another */
        while (r >= 0) {
                if (port) {
                        /* a virtio port reads EOF while the host end is closed: reopen
                         * and wait, keeping what this agent changed and runs */
                        int fd = open(port, O_RDWR | O_CLOEXEC | O_NOCTTY);
                        if (fd < 0) {
                                r = log_errno(LOG_LVL_ERROR, -errno, "cannot open %s", port);
                                break;
                        }
                        a.in_fd = a.out_fd = fd;
                        a.quit = false;
                        r = serve(&a, sfd);
                        close(fd);
                        if (r == -EINTR || a.quit)
                                break;
                        r = 0;
                        usleep(50000);
                        continue;
                }
                if (lfd >= 0) {
                        struct pollfd p[2] = {{.fd = lfd, .events = POLLIN},
                                              {.fd = sfd, .events = POLLIN}};
                        if (poll(p, 2, -1) < 0 && errno != EINTR)
                                break;
                        if (p[1].revents)
                                break;
                        if (!p[0].revents)
                                continue;
                        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                        if (cfd < 0)
                                continue;
                        a.in_fd = a.out_fd = cfd;
                        a.quit = false;
                }
                r = serve(&a, sfd);
                if (lfd < 0 || r == -EINTR)
                        break;
                close(a.in_fd);
                r = 0;
        }
        waits_cancel(&a);
        jobs_kill_all(&a);
        events_free(&a);
        unsigned failed = undo_all(&a, NULL);
        if (listen_path && lfd >= 0) {
                close(lfd);
                unlink(listen_path);
        }
        mpm_close(a.mpm);
        cable_close(&a);
        alias_free(&a);
        nlr_close(a.nl);
        json_object_put(a.hello);
        if (netns)
                netns_release(netns);
        owner_release(owner, owner_fd);
        remove_run_dir(remove_dir); /* also when the controller vanished */
        free(prog);
        return failed || r == -EMSGSIZE ? 3 : 0;
}
