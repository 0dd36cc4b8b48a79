/* Small pieces of the controller: which host a libvirt URI names (local or
 * another hypervisor), and how a topology's stream direction reaches
 * mptcpload's argv. */
#include "../../src/shared/check.h"
#include <errno.h>
#include "backend/kernel.h"
#include "backend/lvremote.h"
#include "load/mptcpload-driver.h"
#include "shared/json.h"
#include "shared/util.h"

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

int main(void)
{
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
