/* Small pieces of the controller: which host a libvirt URI names (local or
 * another hypervisor), and how a topology's stream direction reaches
 * mptcpload's argv; the TCG instruction counter's page, with this test
 * playing QEMU's plugin. */
#include "../../src/shared/check.h"
#include <errno.h>
#include "backend/insnpage.h"
#include "backend/kernel.h"
#include "backend/lvremote.h"
#include "load/mptcpload-driver.h"
#include "shared/json.h"
#include "shared/util.h"
#include "tcgplugin/insncount.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void host_is(const char *uri, const char *want)
{
        char *h = lvr_uri_host(uri);
        if (strcmp(h, want) != 0) {
                fprintf(stderr, "lvr_uri_host(%s) = \"%s\", expected \"%s\"\n", uri, h, want);
                check_failures++;
        }
        free(h);
}

static void built_is(const char *version, const char *want)
{
        char got[32] = "";
        int r = kernel_build_time(version, got);
        if (want ? r < 0 || strcmp(got, want) != 0 : r != -ENODATA) {
                fprintf(stderr, "kernel_build_time(\"%s\") = %d \"%s\", expected \"%s\"\n",
                        version ? version : "(null)", r, r < 0 ? "" : got, want ? want : "none");
                check_failures++;
        }
}

/* the argv as one string, for comparisons */
static char *joined(struct json_object *a)
{
        char *s = xstrdup("");
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                char *n = xasprintf("%s%s%s", s, i ? " " : "",
                                    json_object_get_string(json_object_array_get_idx(a, i)));
                free(s);
                s = n;
        }
        json_object_put(a);
        return s;
}

/* the plugin's side: the mark and two vCPUs' counts, through another open */
static void plugin_writes(const char *path, uint64_t a, uint64_t b)
{
        struct insncount_slot s[3] = {{.v = INSNCOUNT_MAGIC, .n = 2}, {.v = a}, {.v = b}};
        int fd = open(path, O_RDWR);
        CHECK(fd >= 0 && pwrite(fd, s, sizeof s, 0) == (ssize_t)sizeof s);
        if (fd >= 0)
                close(fd);
}

static void insn_page(void)
{
        if (geteuid() != 0) {
                printf("# not root: the instruction counter page (under /run) not tested\n");
                return;
        }
        char *err = NULL, name[64];
        snprintf(name, sizeof name, "mptcplab-unit%d-a", (int)getpid());
        struct insn_page p;
        uint64_t v = 0;
        CHECK(insnpage_make(&p, name, &err) == 0);
        struct stat st;
        /* QEMU (libvirt-qemu) opens it for writing: 0666, one page */
        CHECK(stat(p.path, &st) == 0 && (st.st_mode & 0777) == 0666 && st.st_size == 4096);
        CHECK(insnpage_read(&p, &v) == -ENODATA); /* no plugin: no count, never 0 */
        CHECK(insnpage_attached(&p, &err) == -ENODATA && err && strstr(err, "no mark"));
        free(err);
        err = NULL;
        CHECK(access(p.path, F_OK) != 0); /* its name went anyway */
        insnpage_close(&p);

        CHECK(insnpage_make(&p, name, &err) == 0);
        plugin_writes(p.path, 1000, 234);
        CHECK(insnpage_attached(&p, &err) == 0 && access(p.path, F_OK) != 0);
        CHECK(insnpage_read(&p, &v) == 0 && v == 1234);

        /* a controller killed before the name went: its page is nobody's and the
         * sweep removes it; a page a live run holds stays */
        char other[64];
        snprintf(other, sizeof other, "mptcplab-unit%d-b", (int)getpid());
        struct insn_page held;
        CHECK(insnpage_make(&held, other, &err) == 0);
        char *dead_path = xasprintf("%s/mptcplab-unit%d-c", INSNPAGE_DIR, (int)getpid());
        pid_t pid = fork();
        if (pid == 0) {
                struct insn_page q;
                char *e = NULL, n[64];
                snprintf(n, sizeof n, "mptcplab-unit%d-c", (int)getppid());
                _exit(insnpage_make(&q, n, &e) == 0 ? 0 : 1);
        }
        int status = -1;
        waitpid(pid, &status, 0);
        CHECK(status == 0 && access(dead_path, F_OK) == 0);
        unsigned removed = 0, failed = 0;
        insnpage_sweep(&removed, &failed);
        CHECK(access(dead_path, F_OK) != 0 && removed >= 1 && failed == 0);
        CHECK(access(held.path, F_OK) == 0);
        insnpage_close(&held);
        CHECK(access(dead_path, F_OK) != 0);
        free(dead_path);
        insnpage_close(&p);
}

int main(void)
{
        insn_page();
        host_is("qemu:///system", "");
        host_is("qemu:///session", "");
        host_is("qemu+ssh://root@hv2/system", "hv2");
        host_is("qemu+ssh://root@10.1.2.3:2222/system?keyfile=/k&no_verify=1", "10.1.2.3");
        host_is("qemu+tcp://hv3.example.org/system", "hv3.example.org");
        host_is("qemu+ssh://[fd00::5]:22/system", "fd00::5");

        /* a kernel's build time, from its version string: Debian's, Kbuild's */
        built_is("#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)", "2026-11-16");
        built_is("#20 SMP Mon Nov 23 19:18:54 UTC 2026", "2026-11-23T19:18:54Z");
        built_is("#1 SMP PREEMPT_DYNAMIC Thu Jan  2 03:04:05 UTC 2025", "2025-01-02T03:04:05Z");
        built_is("#3 SMP Tue Dec  1 10:00:00 CET 2026", "2026-12-01");
        built_is("#1 SMP PREEMPT_DYNAMIC @0", NULL); /* a reproducible build says nothing */
        built_is("#1 SMP Foo Bar 99 99:99:99 UTC 2026", NULL);
        built_is("#1 SMP Mon Nov 23 19:18:54 UTC 2026 and more", NULL);
        built_is("Debian 6.1 (2026-13-40)", NULL);
        built_is("", NULL);
        built_is(NULL, NULL);

        struct topo_workload w = {.mode = "stream", .flows = 2, .duration_us = 5000000};
        char *s = joined(mptcpload_client_argv(&w, "10.0.1.2", 7000));
        CHECK(!strstr(s, "--direction"));
        free(s);
        w.reverse = true;
        s = joined(mptcpload_client_argv(&w, "10.0.1.2", 7000));
        CHECK(strstr(s, "--direction down") != NULL);
        free(s);
        w.reverse = false;
        w.bidir = true;
        s = joined(mptcpload_client_argv(&w, "10.0.1.2", 7000));
        CHECK(strstr(s, "--direction both") != NULL);
        CHECK(strstr(s, "--flows 2 --threads 2") != NULL);
        CHECK(!strstr(s, "--bytes") && !strstr(s, "--bins"));
        free(s);
        /* a fixed-size upload: --bytes, no warm-up, its bound the deadline */
        w.bidir = false;
        w.size_bytes = 8 << 20;
        w.warmup_us = 3000000;
        w.duration_us = 30000000;
        s = joined(mptcpload_client_argv(&w, "10.0.1.2", 7000));
        CHECK(strstr(s, "--duration 30.000 --warmup 0.000") != NULL);
        CHECK(strstr(s, "--bytes 8388608") != NULL);
        free(s);
        /* path events: the receiver's 10 ms bins and 50 ms samples */
        struct topo_event ev = {.action = TOPO_EV_DOWN};
        w.events = &ev;
        w.n_events = 1;
        s = joined(mptcpload_client_argv(&w, "10.0.1.2", 7000));
        CHECK(strstr(s, "--bins 0.01 --interval 0.05") != NULL);
        free(s);
        return CHECK_DONE();
}
