/* main.c - the mptcplab command: a table of verbs. */
#include "verbs.h"
#include "../run/caches.h"
#include "../backend/backend.h"
#include "../shared/spawn.h"
#include "../shared/util.h"
#include "../topo/inventory.h"
#include "../topo/plan.h"
#include "../results/metrics.h"

#include <signal.h>
#include <getopt.h>
#include <time.h>
#include <sys/stat.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>

#ifndef AGENT_BUILD_PATH
#define AGENT_BUILD_PATH "mptcplab-agent"
#endif

/* What run, compare and check share */
#define RUN_OPTIONS                                                                                \
        "  --backend libvirt|netns   where the nodes live (libvirt: VMs, default)\n"               \
        "  --kernel K                a Debian release (6.1.0-56-cloud-amd64), a "                  \
        "bzImage[:MODROOT]\n"                                                                      \
        "                            or a build tree[:MODROOT] (MODROOT: make modules_install\n"   \
        "                            INSTALL_MOD_PATH=MODROOT); default: the newest cloud "        \
        "kernel\n"                                                                                 \
        "  --uri URI                 libvirt URI (qemu:///system)\n"                               \
        "  --links udp|bridge        VM links: udp sockets, or a host bridge per link\n"           \
        "  --inventory FILE          ssh backend: the machines and NICs (docs/inventory.md)\n"     \
        "  --set PATH=VALUE          change the topology (links.0.shape.rate=19mbit)\n"            \
        "  --runs N                  a warm-up run, then N counted runs (a side)\n"                \
        "  --runs auto               compare, check: add runs until every key metric is\n"         \
        "                            decided (docs/verdicts.md), at most --max-runs (12)\n"        \
        "  --warmup-runs auto|0|1    the uncounted run before the counted ones (auto: 1, or\n"     \
        "                            none where kept VMs and stored runs teach the warm-up)\n"     \
        "  --json OUT                the results as JSON (docs/run-json.md)\n"                     \
        "  --run-dir DIR             where run directories go\n"                                   \
        "  --db PATH | --no-store    the results database (~/.local/share/mptcplab/results.db)\n"  \
        "  --threshold METRIC=PCT    the smallest change that matters for a metric\n"              \
        "  --bisect                  exit 3 becomes 125 and 2 becomes 128 (git bisect run)\n"      \
        "  --allow-concurrent        run next to another measuring run; results say so\n"          \
        "  --allow-different         check: against a baseline of other topology settings\n"       \
        "  -v, --verbose             debug logs\n"

static int verb_validate(int argc, char **argv);
static int verb_cleanup(int argc, char **argv);
static int verb_backends(int argc, char **argv);

/* One table: dispatch, `mptcplab --help`, `mptcplab VERB --help` and the man
 * page (`mptcplab --man`, built and installed by meson) all come from it. */
static const struct verb {
        const char *name, *args, *summary, *help;
        int (*fn)(int argc, char **argv);
} verbs[] = {
        {"validate", "FILE... [--dump] [--inventory INV]",
         "check topology files and nightly plans (exit 0 valid, 2 not)",
         "  --dump                    print the parsed model as canonical YAML\n"
         "  --inventory INV           and an inventory of machines (docs/inventory.md)\n"
         "                            against each of them\n",
         verb_validate},
        {"run", "FILE [OPTIONS]",
         "bring the topology up, run its workloads, print a table, tear down", RUN_OPTIONS,
         verb_run},
        {"compare", "FILE --kernel-a A --kernel-b B [--set-a|--set-b PATH=VALUE] [OPTIONS]",
         "A B A B ... after a warm-up each (5 runs a side); KTAP, LKP and MIB tables",
         "  --kernel-a A, --kernel-b B  the two sides' kernels (as --kernel)\n"
         "  --order blocked           every A run, then every B run (one kernel switch a\n"
         "                            side on machines); interleaved (A B A B) by default\n"
         "  --set-a, --set-b PATH=VALUE  a change to one side's topology\n" RUN_OPTIONS,
         verb_compare},
        {"check", "FILE --baseline NAME [OPTIONS]", "the same against a saved baseline",
         "  --baseline NAME           a baseline of `mptcplab baseline save`\n" RUN_OPTIONS,
         verb_check},
        {"history", "[TOPOLOGY-NAME] [--db PATH]", "the runs in the database", "", verb_history},
        {"baseline", "save NAME --run SERIES|RUN | list [--db PATH]",
         "name a series (side A of a compare) as a baseline, or list them", "", verb_baseline},
        {"report", "SERIES|RUN [--baseline NAME] [--out DIR] [--db PATH]",
         "index.html and SVG plots of a stored run or series (docs/report.md)",
         "  --baseline NAME           the report of a check: NAME's runs are the base side\n",
         verb_report},
        {"import", "[--db PATH] FILE...",
         "store runs exported from another store, or kept in their run directory while the "
         "database was busy (those files go once stored)",
         "", verb_import},
        {"export", "[--db PATH] [--topology NAME] [--lab NAME] [--series ID] [--out FILE]",
         "runs and their baselines as JSON lines, for `import` into another store", "",
         verb_export},
        {"nightly", "PLAN [--db PATH] [--json OUT] [--all-metrics]",
         "run a nightly plan's scenarios, then find change points in their history "
         "(docs/nightly.md; exit 1 while a new regression is not acknowledged)",
         "  --all-metrics             look for change points in every metric, not only the "
         "key ones\n",
         verb_nightly},
        {"changes", "[TOPOLOGY] [--state S] [--json] | ack|ignore|fixed|reopen ID --note TEXT",
         "the change points found in history, and their triage", "", verb_changes},
        {"exclude", "RUN|SERIES --reason TEXT [--db PATH]",
         "leave a run (or a series) out of history; it stays in the database", "", verb_exclude},
        {"kernel", "check KERNEL [TOPOLOGY]",
         "what a kernel (release, image or build tree) lacks for the lab and a topology, by "
         "config option (exit 0 ready, 3 lacking or unknown)",
         "", verb_kernel},
        {"reproduce", "SERIES|RUN --inventory FILE [--runs N] [--order blocked] [--db PATH]",
         "a stored run, series or comparison again on real machines (--backend ssh): same "
         "topology, overrides, kernels, workloads and runs; both results side by side",
         "  --inventory FILE          the machines (docs/inventory.md)\n"
         "  --runs N                  runs a side (default: as many as the stored ones)\n"
         "  --order blocked           every A run, then every B run (one kexec a side)\n"
         "  --warmup-runs 0           no uncounted warm-up run a side\n"
         "  --json FILE               both verdicts, test by test\n",
         verb_reproduce},
        {"backends", "", "list the backends", "", verb_backends},
        {"cleanup", "[--caches [--keep N]] [--inventory FILE]",
         "remove what killed runs left behind (never what a live run owns)",
         "  --caches                  also guest images and run directories, but the newest\n"
         "  --keep N                  N of each (5 images, 20 run directories)\n"
         "  --inventory FILE          also the per-run directories killed runs left on those\n"
         "                            machines (ssh backend), never one an agent runs from\n",
         verb_cleanup},
};

#define EXIT_CODES                                                                                 \
        "exit codes: 0 ok, 1 a regression or a node's kernel crashed, 2 bad input,\n"              \
        "3 infrastructure failure\n"

void cli_usage(FILE *f)
{
        fprintf(f, "usage: mptcplab VERB [OPTIONS]   (mptcplab VERB --help)\n");
        for (unsigned i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-9s %s\n            %s\n", verbs[i].name, verbs[i].args,
                        verbs[i].summary);
        fputs(EXIT_CODES, f);
}

static void verb_usage(FILE *f, const struct verb *v)
{
        fprintf(f, "usage: mptcplab %s %s\n%s\n%s%s", v->name, v->args, v->summary, v->help,
                EXIT_CODES);
}

/* roff for mptcplab(1), from the same table */
static void man_page(FILE *f)
{
        fputs(".TH MPTCPLAB 1 \"\" \"mptcplab " MPTCPLAB_VERSION "\" \"User Commands\"\n"
              ".SH NAME\nmptcplab \\- a performance lab for Linux Multipath TCP\n"
              ".SH SYNOPSIS\n.B mptcplab\n.I VERB\n[\\fIOPTIONS\\fR]\n.SH VERBS\n",
              f);
        for (unsigned i = 0; i < ELEMENTSOF(verbs); i++) {
                fprintf(f, ".TP\n.B %s %s\n%s\n", verbs[i].name, verbs[i].args, verbs[i].summary);
                if (*verbs[i].help)
                        fprintf(f, ".nf\n%s.fi\n", verbs[i].help);
        }
        fputs(".SH EXIT STATUS\n0 ok, 1 a regression or a node's kernel crashed, 2 bad input, 3 "
              "infrastructure failure.\n.SH SEE ALSO\nThe project's README.md and docs/.\n",
              f);
}

/* The agent next to this binary (installed or build tree), else the one in PATH. */
const char *find_agent(char *buf, size_t len)
{
        const char *env = getenv("MPTCPLAB_AGENT");
        if (env && *env)
                return env;
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = 0;
                snprintf(buf, len, "%s/mptcplab-agent", dirname(self));
                if (access(buf, X_OK) == 0)
                        return buf;
        }
        if (access(AGENT_BUILD_PATH, X_OK) == 0)
                return AGENT_BUILD_PATH;
        return "mptcplab-agent";
}

static void print_errors(struct topo_errors *e)
{
        for (unsigned i = 0; i < e->n; i++)
                fprintf(stderr, "%s\n", e->msgs[i]);
}

/* A nightly plan has scenarios at its top level; a topology never has. */
static bool is_plan(const char *path)
{
        _cleanup_free_ char *text = NULL;
        if (read_file(path, &text, NULL) < 0)
                return false;
        for (const char *l = text; l; l = strchr(l, '\n'))
                if (!strncmp(l += *l == '\n', "scenarios:", 10))
                        return true;
        return false;
}

/* A plan, and every scenario's topology with its sets, as nightly reads them */
static int validate_plan(const char *path)
{
        struct plan *p = NULL;
        struct topo_errors errs = {0};
        int r = plan_parse_file(path, backend_names(), &p, &errs);
        for (unsigned i = 0; r >= 0 && i < p->n; i++) {
                struct topo *t = NULL;
                if (topo_parse_file_set(p->s[i].topology, p->s[i].sets, p->s[i].n_sets, &t, &errs) <
                            0 ||
                    metric_check_topo(t, &errs) < 0)
                        r = -EINVAL;
                topo_free(t);
        }
        print_errors(&errs);
        if (r < 0)
                fprintf(stderr, "%s: %u error(s)\n", path, errs.n);
        else
                printf("%s: ok (nightly plan %s, %u scenario(s))\n", path, p->name, p->n);
        topo_errors_clear(&errs);
        plan_free(p);
        return r;
}

static int verb_validate(int argc, char **argv)
{
        bool dump = false;
        int rc = EXIT_OK, files = 0;
        const char *inventory = NULL;
        struct inventory *inv = NULL;
        for (int i = 1; i + 1 < argc; i++)
                if (streq(argv[i], "--inventory"))
                        inventory = argv[i + 1];
        if (inventory) {
                struct topo_errors errs = {0};
                if (inventory_parse_file(inventory, &inv, &errs) < 0) {
                        print_errors(&errs);
                        fprintf(stderr, "%s: %u error(s)\n", inventory, errs.n);
                        topo_errors_clear(&errs);
                        return EXIT_INPUT;
                }
        }
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--dump")) {
                        dump = true;
                        continue;
                }
                if (streq(argv[i], "--inventory")) {
                        i++;
                        continue;
                }
                if (argv[i][0] == '-') {
                        log_error("validate: unknown option %s", argv[i]);
                        return EXIT_INPUT;
                }
                files++;
                if (is_plan(argv[i])) {
                        if (validate_plan(argv[i]) < 0)
                                rc = EXIT_INPUT;
                        continue;
                }
                struct topo *t = NULL;
                struct topo_errors errs = {0};
                if (topo_parse_file(argv[i], &t, &errs) < 0 || metric_check_topo(t, &errs) < 0) {
                        print_errors(&errs);
                        fprintf(stderr, "%s: %u error(s)\n", argv[i], errs.n);
                        rc = EXIT_INPUT;
                } else if (inv && inventory_check(inv, t, &errs) < 0) {
                        print_errors(&errs);
                        fprintf(stderr, "%s against %s: %u error(s)\n", inventory, argv[i], errs.n);
                        rc = EXIT_INPUT;
                } else if (dump) {
                        char *y = topo_to_yaml(t);
                        fputs(y, stdout);
                        free(y);
                } else
                        printf("%s: ok (%u nodes, %u links, %u workloads)\n", argv[i], t->n_nodes,
                               t->n_links, t->n_workloads);
                topo_errors_clear(&errs);
                topo_free(t);
        }
        inventory_free(inv);
        if (!files) {
                log_error("validate: no file given");
                return EXIT_INPUT;
        }
        return rc;
}

/* Removes what runs that died without tearing down left (only possible when an
 * agent itself was killed with SIGKILL), each backend its own kind of object,
 * never one that a live owner holds. With --caches, also the guest images and
 * run directories but the newest N of each (--keep, 5 and 20). */
static int verb_cleanup(int argc, char **argv)
{
        bool caches = false;
        long keep = -1;
        const char *inventory = NULL;
        for (int i = 1; i < argc; i++) {
                char *end;
                if (streq(argv[i], "--caches"))
                        caches = true;
                else if (streq(argv[i], "--inventory") && i + 1 < argc)
                        inventory = argv[++i];
                else if (streq(argv[i], "--keep") && i + 1 < argc &&
                         (keep = strtol(argv[i + 1], &end, 10)) >= 0 && !*end && keep < 100000)
                        i++;
                else {
                        log_error("usage: mptcplab cleanup [--caches [--keep N]] [--inventory "
                                  "FILE]");
                        return EXIT_INPUT;
                }
        }
        unsigned removed = 0, failed = backend_cleanup_all(&removed);
        if (inventory && ssh_cleanup_inventory(inventory, &removed, &failed) < 0)
                return EXIT_INPUT;
        if (caches)
                removed += caches_prune(keep >= 0 ? (unsigned)keep : 5,
                                        keep >= 0 ? (unsigned)keep : 20, &failed);
        log_info("cleanup: %u stale object(s) removed", removed);
        return failed ? EXIT_INFRA : EXIT_OK;
}

static int verb_backends(int argc, char **argv)
{
        backend_list(stdout);
        return EXIT_OK;
}

int main(int argc, char **argv)
{
        log_set_program("mptcplab");
        /* an agent or a VM that goes away must give EPIPE on write, not kill us */
        signal(SIGPIPE, SIG_IGN);
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h") ||
            streq(argv[1], "help")) {
                cli_usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? EXIT_INPUT : EXIT_OK;
        }
        if (streq(argv[1], "--man")) {
                man_page(stdout);
                return EXIT_OK;
        }
        for (unsigned i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        for (int k = 2; k < argc; k++)
                                if (streq(argv[k], "--help") || streq(argv[k], "-h")) {
                                        verb_usage(stdout, &verbs[i]);
                                        return EXIT_OK;
                                }
                        return verbs[i].fn(argc - 1, argv + 1);
                }
        log_error("unknown verb \"%s\"", argv[1]);
        cli_usage(stderr);
        return EXIT_INPUT;
}
