/* main.c - the mptcplab command: a table of verbs. */
#include "series.h"
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
        "  --warmup-runs 0|1         the uncounted run before the counted ones (1)\n"              \
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
static int verb_run(int argc, char **argv);
static int verb_compare(int argc, char **argv);
static int verb_check(int argc, char **argv);

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

static void usage(FILE *f)
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

static char **add_set(char **v, unsigned *n, const char *s)
{
        v = xreallocarray(v, *n + 1, sizeof(char *));
        v[(*n)++] = (char *)s;
        return v;
}

/* run, compare and check share their options. */
static int run_like(int argc, char **argv, const char *verb)
{
        enum {
                O_RUNS = 256,
                O_THRESHOLD,
                O_SET,
                O_SET_A,
                O_SET_B,
                O_KA,
                O_KB,
                O_DB,
                O_NOSTORE,
                O_BISECT,
                O_BASELINE,
                O_LINKS,
                O_INVENTORY,
                O_CONCURRENT,
                O_MAX_RUNS,
                O_WARMUP_RUNS,
                O_ALLOW_DIFFERENT,
                O_ORDER
        };
        static const struct option opts[] = {
                {"backend", required_argument, NULL, 'b'},
                {"json", required_argument, NULL, 'j'},
                {"agent", required_argument, NULL, 'a'},
                {"verbose", no_argument, NULL, 'v'},
                {"kernel", required_argument, NULL, 'k'},
                {"uri", required_argument, NULL, 'u'},
                {"run-dir", required_argument, NULL, 'd'},
                {"runs", required_argument, NULL, O_RUNS},
                {"set", required_argument, NULL, O_SET},
                {"set-a", required_argument, NULL, O_SET_A},
                {"set-b", required_argument, NULL, O_SET_B},
                {"kernel-a", required_argument, NULL, O_KA},
                {"kernel-b", required_argument, NULL, O_KB},
                {"db", required_argument, NULL, O_DB},
                {"no-store", no_argument, NULL, O_NOSTORE},
                {"bisect", no_argument, NULL, O_BISECT},
                {"baseline", required_argument, NULL, O_BASELINE},
                {"threshold", required_argument, NULL, O_THRESHOLD},
                {"links", required_argument, NULL, O_LINKS},
                {"inventory", required_argument, NULL, O_INVENTORY},
                {"allow-concurrent", no_argument, NULL, O_CONCURRENT},
                {"max-runs", required_argument, NULL, O_MAX_RUNS},
                {"warmup-runs", required_argument, NULL, O_WARMUP_RUNS},
                {"allow-different", no_argument, NULL, O_ALLOW_DIFFERENT},
                {"order", required_argument, NULL, O_ORDER},
                {NULL, 0, NULL, 0},
        };
        char agent_buf[PATH_MAX];
        struct series_opts o = {.backend = "libvirt", .compare = streq(verb, "compare")};
        int c, rc;
        char *end;
        optind = 1;
        while ((c = getopt_long(argc, argv, "b:j:a:vk:u:d:", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        o.backend = optarg;
                        break;
                case 'j':
                        o.json_out = optarg;
                        break;
                case 'a':
                        o.agent_path = optarg;
                        break;
                case 'v':
                        log_set_level(LOG_LVL_DEBUG);
                        break;
                case 'k':
                        o.kernel_a = o.kernel_b = optarg;
                        break;
                case 'u':
                        o.uri = optarg;
                        break;
                case 'd':
                        o.run_dir = optarg;
                        break;
                case O_MAX_RUNS:
                        o.max_runs = (unsigned)strtoul(optarg, &end, 10);
                        if (*end || o.max_runs < 3 || o.max_runs > 1000) {
                                log_error("%s: --max-runs %s is not a number from 3 to 1000", verb,
                                          optarg);
                                return EXIT_INPUT;
                        }
                        break;
                case O_WARMUP_RUNS:
                        if (!streq(optarg, "0") && !streq(optarg, "1")) {
                                log_error("%s: --warmup-runs is 0 or 1, not %s", verb, optarg);
                                return EXIT_INPUT;
                        }
                        o.no_warmup_run = streq(optarg, "0");
                        break;
                case O_RUNS:
                        if (streq(optarg, "auto")) {
                                o.runs_auto = true;
                                break;
                        }
                        o.runs = (unsigned)strtoul(optarg, &end, 10);
                        if (*end || o.runs < 1 || o.runs > 1000) {
                                log_error("%s: --runs %s is not a number from 1 to 1000", verb,
                                          optarg);
                                return EXIT_INPUT;
                        }
                        break;
                case O_SET:
                        o.sets_a = add_set(o.sets_a, &o.n_sets_a, optarg);
                        o.sets_b = add_set(o.sets_b, &o.n_sets_b, optarg);
                        break;
                case O_SET_A:
                        o.sets_a = add_set(o.sets_a, &o.n_sets_a, optarg);
                        break;
                case O_SET_B:
                        o.sets_b = add_set(o.sets_b, &o.n_sets_b, optarg);
                        break;
                case O_KA:
                        o.kernel_a = optarg;
                        break;
                case O_KB:
                        o.kernel_b = optarg;
                        break;
                case O_DB:
                        o.db = optarg;
                        break;
                case O_NOSTORE:
                        o.no_store = true;
                        break;
                case O_BISECT:
                        o.bisect = true;
                        break;
                case O_CONCURRENT:
                        o.allow_concurrent = true;
                        break;
                case O_ALLOW_DIFFERENT:
                        o.allow_different = true;
                        break;
                case O_BASELINE:
                        o.baseline = optarg;
                        break;
                case O_INVENTORY:
                        o.inventory = optarg;
                        break;
                case O_ORDER:
                        if (!streq(optarg, "interleaved") && !streq(optarg, "blocked")) {
                                log_error("%s: --order %s: interleaved (A B A B, the default) or "
                                          "blocked (every A run, then every B run)",
                                          verb, optarg);
                                return EXIT_INPUT;
                        }
                        o.blocked = streq(optarg, "blocked");
                        break;
                case O_LINKS: /* checked against the backend's modes below */
                        o.links = optarg;
                        break;
                case O_THRESHOLD:
                        if (series_set_threshold(optarg) < 0) {
                                log_error(
                                        "%s: --threshold %s: expected METRIC=PERCENT with a metric "
                                        "of docs/verdicts.md (goodput_mbps=0.5)",
                                        verb, optarg);
                                return EXIT_INPUT;
                        }
                        break;
                default:
                        usage(stderr);
                        return EXIT_INPUT;
                }
        }
        if (optind + 1 != argc) {
                log_error("%s: expected one topology file", verb);
                rc = EXIT_INPUT;
                goto out;
        }
        o.file = argv[optind];
        const struct backend_ops *be = backend_find(o.backend);
        if (o.links && be && !be->link_modes) {
                log_error("%s: --links: the %s backend makes its links one way", verb, o.backend);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.links && be && !strv_has(be->link_modes, o.links)) {
                _cleanup_free_ char *modes = strv_join(be->link_modes, ", ");
                log_error("%s: --links %s: the %s backend takes %s", verb, o.links, o.backend,
                          modes);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.compare &&
            (o.n_sets_a == o.n_sets_b &&
             !memcmp(o.sets_a, o.sets_b, o.n_sets_a * sizeof(char *))) &&
            !o.kernel_a && !o.kernel_b)
                log_warn("compare: both sides are the same (an A/A comparison)");
        if (streq(verb, "check") && !o.baseline) {
                log_error("check: --baseline NAME is required");
                rc = EXIT_INPUT;
                goto out;
        }
        if ((o.compare || o.baseline) && o.no_store && o.baseline) {
                log_error("check needs the database (--no-store)");
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.runs_auto && !o.compare && !o.baseline) {
                log_error("%s: --runs auto needs a comparison (compare, or check --baseline)",
                          verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.blocked && !o.compare) {
                log_error("%s: --order goes with compare", verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.blocked && o.runs_auto) {
                log_error("%s: --order blocked takes a fixed --runs N: --runs auto stops after a "
                          "pair, which a blocked order does not have until side B",
                          verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.max_runs && !o.runs_auto) {
                log_error("%s: --max-runs goes with --runs auto", verb);
                rc = EXIT_INPUT;
                goto out;
        }
        if (o.runs_auto)
                o.runs = o.max_runs ? o.max_runs : 12;
        if ((o.compare || o.baseline) && !o.runs)
                o.runs = 5;
        if (!o.agent_path)
                o.agent_path = find_agent(agent_buf, sizeof agent_buf);
        rc = series_run(&o);
out:
        free(o.sets_a);
        free(o.sets_b);
        return rc;
}

static int verb_run(int argc, char **argv)
{
        return run_like(argc, argv, "run");
}

static int verb_compare(int argc, char **argv)
{
        return run_like(argc, argv, "compare");
}

static int verb_check(int argc, char **argv)
{
        return run_like(argc, argv, "check");
}

struct entry {
        char *path;
        time_t mtime;
};

static int newest_first(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

static int rm_rf(const char *path)
{
        char *argv[] = {"rm", "-rf", "--one-file-system", "--", (char *)path, NULL};
        int st = 0;
        int r = spawn_run(argv, 60000, NULL, NULL, &st);
        return r < 0 ? r : st ? -EIO : 0;
}

/* Keeps the newest `keep` entries of dir whose names start with prefix and
 * (when suffix) end with suffix; removes the rest, and never anything younger
 * than min_age seconds (a run in progress). Returns how many went. */
static unsigned prune(const char *dir, const char *prefix, const char *suffix, unsigned keep,
                      time_t min_age, unsigned *failed)
{
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct entry *v = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t l = strlen(e->d_name), sl = suffix ? strlen(suffix) : 0;
                if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) ||
                    (suffix && (l < sl || strcmp(e->d_name + l - sl, suffix))))
                        continue;
                struct stat st;
                char *p = xasprintf("%s/%s", dir, e->d_name);
                if (lstat(p, &st) < 0) {
                        free(p);
                        continue;
                }
                v = xreallocarray(v, n + 1, sizeof *v);
                v[n++] = (struct entry){p, st.st_mtime};
        }
        closedir(d);
        qsort(v, n, sizeof *v, newest_first);
        unsigned gone = 0;
        time_t now = time(NULL);
        for (size_t i = 0; i < n; i++) {
                if (i >= keep && now - v[i].mtime >= min_age) {
                        if (rm_rf(v[i].path) == 0) {
                                gone++;
                                log_info("removed %s", v[i].path);
                        } else {
                                log_error("cannot remove %s", v[i].path);
                                (*failed)++;
                        }
                }
                free(v[i].path);
        }
        free(v);
        return gone;
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
        if (caches) {
                _cleanup_free_ char *images = lab_cache_path("images");
                _cleanup_free_ char *runs = lab_data_path("runs");
                /* a run may be going: its directory is younger than a day */
                removed += prune(images, "initramfs-", ".cpio", keep >= 0 ? (unsigned)keep : 5, 60,
                                 &failed);
                removed += prune(runs, "", NULL, keep >= 0 ? (unsigned)keep : 20, 86400, &failed);
        }
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
                usage(argc < 2 ? stderr : stdout);
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
        usage(stderr);
        return EXIT_INPUT;
}
