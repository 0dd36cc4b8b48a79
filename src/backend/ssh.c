/* ssh.c - the ssh backend: each topology node is a real machine of an
 * inventory (docs/inventory.md) that the lab configures but does not create.
 * One ssh master connection per machine (ControlMaster, its socket in the
 * run's directory); the agent binary goes over it into a per-run directory
 * (/run/mptcplab-RUN-nN) and talks JSON lines over an ssh channel. The
 * agent is told which NIC is which topology interface (--alias) and
 * refuses the one the ssh connection arrives on. Everything the agent
 * changes it undoes when its stdin ends: at the end of a run, and when the
 * controller or its ssh connection vanishes. */
#include "backend.h"
#include "../shared/spawn.h"
#include "../shared/util.h"
#include "../topo/inventory.h"
#include "kimage.h"

#include <openssl/evp.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <poll.h>
#include <sys/stat.h>

/* What a machine runs: its release, /proc/version and the build id of
 * /sys/kernel/notes. Untrusted: every field checked. */
struct running {
        char *release, *version, *build_id;
        double uptime;    /* s, when it was read: the run's kernel log starts there */
        char boot_id[37]; /* /proc/sys/kernel/random/boot_id: new at every boot and kexec */
};

static void running_clear(struct running *k)
{
        free(k->release);
        free(k->version);
        free(k->build_id);
        *k = (struct running){0};
}

struct ssh_node {
        const struct inv_machine *m;
        const struct inv_node *in;
        char *ctl;                  /* the master connection's socket */
        char *dir;                  /* the per-run directory on the machine */
        struct json_object *before; /* the agent's state before the run */
        struct running run;         /* the kernel it runs */
        char *img_id, *img_sha;     /* /boot/vmlinuz-R's build id and sha256 */
        uint64_t kexec_t0;          /* when a kexec began, 0: none */
        char old_boot_id[37];       /* the old kernel's boot id */
        const char *want;           /* ssh_set_kernels: the release to run */
        char *switched_from;        /* the release it ran before the kexec */
        bool master;                /* a master connection was started */
};

struct ssh_priv {
        struct inventory *inv;
        struct ssh_node *nodes;
        unsigned n;
};

/* an argv under construction, NULL-terminated */
struct strv {
        char **v;
        unsigned n;
};

static void strv_add(struct strv *a, const char *w)
{
        a->v = xreallocarray(a->v, a->n + 2, sizeof *a->v);
        a->v[a->n++] = xstrdup(w);
        a->v[a->n] = NULL;
}

_printf_(2, 3) static void strv_addf(struct strv *a, const char *fmt, ...)
{
        va_list ap;
        char *w;
        va_start(ap, fmt);
        if (vasprintf(&w, fmt, ap) < 0)
                abort();
        va_end(ap);
        strv_add(a, w);
        free(w);
}

static void strv_free(struct strv *a)
{
        for (unsigned i = 0; i < a->n; i++)
                free(a->v[i]);
        free(a->v);
        *a = (struct strv){0};
}

static char *errors_join(struct topo_errors *e)
{
        size_t len = 1;
        for (unsigned i = 0; i < e->n; i++)
                len += strlen(e->msgs[i]) + 1;
        char *s = xcalloc(1, len);
        for (unsigned i = 0; i < e->n; i++) {
                if (i)
                        strcat(s, "\n");
                strcat(s, e->msgs[i]);
        }
        topo_errors_clear(e);
        return s;
}

/* a kernel release as the machines' /boot names it; nothing a shell or a
 * path could read otherwise */
static bool release_ok(const char *r)
{
        if (!*r || strlen(r) > 64 || *r == '.' || *r == '-')
                return false;
        for (const char *p = r; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("._+-", *p))
                        return false;
        return true;
}

static int ssh_preflight(struct lab *lab, char **why)
{
        if (!lab->inventory) {
                *why = xasprintf("the ssh backend needs --inventory FILE: which machine each node "
                                 "is and which NIC each interface (docs/inventory.md)");
                lab->input_error = true;
                return -EINVAL;
        }
        if (access("/usr/bin/ssh", X_OK) < 0) {
                *why = xasprintf("the ssh backend needs the ssh client (/usr/bin/ssh, Debian's "
                                 "openssh-client)");
                return -ENOENT;
        }
        if (!lab->t)
                return 0;
        struct topo_errors errs = {0};
        struct inventory *inv = NULL;
        if (inventory_parse_file(lab->inventory, &inv, &errs) < 0 ||
            inventory_check(inv, lab->t, &errs) < 0) {
                *why = errors_join(&errs);
                inventory_free(inv);
                lab->input_error = true;
                return -EINVAL;
        }
        inventory_free(inv);
        for (unsigned i = 0; i < lab->t->n_nodes + 1; i++) {
                const char *k = i < lab->t->n_nodes ? lab->t->nodes[i].kernel
                                                    : (lab->kernel ? lab->kernel : lab->t->kernel);
                if (k && !release_ok(k)) {
                        *why = xasprintf("kernel %s: on the ssh backend a kernel is a release "
                                         "the machines have (/boot/vmlinuz-RELEASE, and "
                                         "/boot/initrd.img-RELEASE when it needs one), not a "
                                         "path: the lab does not copy kernels to machines",
                                         k);
                        lab->input_error = true;
                        return -EINVAL;
                }
        }
        return 0;
}

/* ssh's own argv for machine m, up to the destination (the caller adds
 * "--" and the remote command's words) */
static void ssh_base(struct strv *a, const struct ssh_node *sn)
{
        strv_add(a, "ssh");
        strv_add(a, "-o");
        strv_add(a, "BatchMode=yes");
        if (sn->ctl) {
                strv_add(a, "-o");
                strv_add(a, "ControlMaster=auto");
                strv_addf(a, "-oControlPath=%s", sn->ctl);
                strv_add(a, "-o");
                strv_add(a, "ControlPersist=60");
        }
        /* a dead link ends the session within 15 s: the agent then restores */
        strv_add(a, "-o");
        strv_add(a, "ServerAliveInterval=5");
        strv_add(a, "-o");
        strv_add(a, "ServerAliveCountMax=3");
        strv_add(a, "-o");
        strv_add(a, "ConnectTimeout=15");
        if (sn->m->port) {
                strv_add(a, "-p");
                strv_addf(a, "%u", sn->m->port);
        }
        if (sn->m->jump) {
                strv_add(a, "-J");
                strv_add(a, sn->m->jump);
        }
        for (unsigned i = 0; i < sn->m->n_options; i++)
                strv_add(a, sn->m->options[i]);
        strv_add(a, sn->m->ssh);
        strv_add(a, "--");
}

/* A word for the remote shell (ssh hands the command to it as one line):
 * single-quoted, with ' as '\'' */
static void add_quoted(struct strv *a, const char *w)
{
        char *q = xcalloc(1, 4 * strlen(w) + 3), *o = q;
        *o++ = '\'';
        for (const char *p = w; *p; p++) {
                if (*p == '\'') {
                        memcpy(o, "'\\''", 4);
                        o += 4;
                } else
                        *o++ = *p;
        }
        *o = '\'';
        strv_add(a, q);
        free(q);
}

/* Runs a remote command over the machine's master connection, stdin from
 * in_path (or /dev/null); its stderr in *ret_err. Returns the exit status or
 * -errno. */
static int ssh_exec(const struct ssh_node *sn, char *const *words, const char *in_path,
                    int timeout_ms, char **ret_err)
{
        struct strv a = {0};
        ssh_base(&a, sn);
        for (char *const *w = words; *w; w++)
                strv_add(&a, *w);
        int r, status = 0;
        if (!in_path) {
                r = spawn_run(a.v, timeout_ms, NULL, ret_err, &status);
        } else {
                _cleanup_close_ int in = open(in_path, O_RDONLY | O_CLOEXEC);
                struct spawn sp = {0};
                struct spawn_opts so = {.argv = a.v, .pipe_stdin = true, .pipe_stderr = true};
                if (in < 0)
                        r = -errno;
                else
                        r = spawn_start(&so, &sp);
                if (r == 0) {
                        char buf[65536];
                        ssize_t n;
                        while ((n = read(in, buf, sizeof buf)) > 0)
                                if (write_all(sp.in_fd, buf, (size_t)n) < 0)
                                        break;
                        close(sp.in_fd);
                        sp.in_fd = -1;
                        r = spawn_wait(&sp, timeout_ms, &status);
                        if (r < 0)
                                spawn_stop(&sp, 1000);
                        if (ret_err) {
                                char eb[4096];
                                ssize_t en = read(sp.err_fd, eb, sizeof eb - 1);
                                eb[en > 0 ? en : 0] = 0;
                                *ret_err = xstrdup(eb);
                        }
                        spawn_close_fds(&sp);
                }
        }
        strv_free(&a);
        if (r < 0)
                return r;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

static char *first_line(const char *s)
{
        return s && *s ? xstrndup(s, strcspn(s, "\n")) : xstrdup("(no message)");
}

/* A remote script's stdout (fixed text with validated words only);
 * returns ssh's exit status or -errno, *out and *err allocated */
static int ssh_capture(const struct ssh_node *sn, const char *script, int timeout_ms, char **out,
                       char **err)
{
        struct strv a = {0};
        ssh_base(&a, sn);
        strv_add(&a, script);
        int st = 0, r = spawn_run(a.v, timeout_ms, out, err, &st);
        strv_free(&a);
        if (r < 0)
                return r;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

/* base64 (with newlines) to bytes; -EBADMSG when it is not */
static int unbase64(const char *in, unsigned char **ret, size_t *ret_len)
{
        size_t n = strlen(in);
        unsigned char *out = xcalloc(1, n / 4 * 3 + 4);
        EVP_ENCODE_CTX *c = EVP_ENCODE_CTX_new();
        int a = 0, b = 0;
        EVP_DecodeInit(c);
        bool ok = EVP_DecodeUpdate(c, out, &a, (const unsigned char *)in, (int)n) >= 0 &&
                  EVP_DecodeFinal(c, out + a, &b) >= 0;
        EVP_ENCODE_CTX_free(c);
        if (!ok) {
                free(out);
                return -EBADMSG;
        }
        *ret = out;
        *ret_len = (size_t)(a + b);
        return 0;
}

static int machine_running(const struct ssh_node *sn, int timeout_ms, struct running *ret,
                           char **err)
{
        _cleanup_free_ char *out = NULL, *e = NULL;
        int r = ssh_capture(sn,
                            "uname -r && head -n1 /proc/version && cut -d' ' -f1 /proc/uptime "
                            "&& cat /proc/sys/kernel/random/boot_id && base64 /sys/kernel/notes",
                            timeout_ms, &out, &e);
        if (r != 0) {
                _cleanup_free_ char *line = first_line(e);
                *err = xasprintf("%s", r == 255 ? "it does not answer over ssh"
                                       : r < 0  ? strerror(-r)
                                                : line);
                return r < 0 ? r : -EIO;
        }
        char *nl1 = strchr(out, '\n'), *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL,
             *nl3 = nl2 ? strchr(nl2 + 1, '\n') : NULL, *nl4 = nl3 ? strchr(nl3 + 1, '\n') : NULL,
             *end = NULL;
        if (!nl4 || nl4 - nl3 - 1 != 36) {
                *err = xstrdup("uname -r, /proc/version, /proc/uptime and its boot id said nothing "
                               "usable");
                return -EBADMSG;
        }
        *nl1 = *nl2 = *nl3 = *nl4 = 0;
        _cleanup_free_ unsigned char *notes = NULL;
        size_t nlen = 0;
        struct running k = {.release = xstrdup(out),
                            .version = xstrdup(nl1 + 1),
                            .uptime = strtod(nl2 + 1, &end)};
        memcpy(k.boot_id, nl3 + 1, 36);
        if (!release_ok(k.release) || end == nl2 + 1 || *end || !(k.uptime >= 0) ||
            strspn(k.boot_id, "0123456789abcdef-") != 36 || unbase64(nl4 + 1, &notes, &nlen) < 0 ||
            knotes_build_id(notes, nlen, &k.build_id) < 0) {
                *err = xasprintf("its kernel's release \"%.64s\" or /sys/kernel/notes is not "
                                 "what a kernel reports",
                                 k.release);
                running_clear(&k);
                return -EBADMSG;
        }
        *ret = k;
        return 0;
}

/* The image /boot/vmlinuz-R of a machine: its build id and sha256 */
static int machine_image(const struct ssh_node *sn, const char *release, char **build_id,
                         char **sha, char **err)
{
        _cleanup_free_ char *script = xasprintf("base64 /boot/vmlinuz-%s", release);
        _cleanup_free_ char *out = NULL, *e = NULL;
        _cleanup_free_ unsigned char *img = NULL;
        size_t len = 0;
        int r = ssh_capture(sn, script, 120000, &out, &e);
        if (r != 0) {
                _cleanup_free_ char *line = first_line(e);
                *err = xasprintf("cannot read /boot/vmlinuz-%s there: %s", release,
                                 r < 0 ? strerror(-r) : line);
                return -ENOENT;
        }
        if (unbase64(out, &img, &len) < 0) {
                *err = xasprintf("/boot/vmlinuz-%s came over garbled", release);
                return -EBADMSG;
        }
        char *why = NULL;
        if ((r = kimage_build_id(img, len, build_id, &why)) < 0) {
                *err = xasprintf("/boot/vmlinuz-%s: %s", release, why);
                free(why);
                return r;
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        EVP_Digest(img, len, md, &mdlen, EVP_sha256(), NULL);
        *sha = xcalloc(1, 2 * mdlen + 1);
        for (unsigned i = 0; i < mdlen; i++)
                sprintf(*sha + 2 * i, "%02x", md[i]);
        return 0;
}

/* kexec into /boot/vmlinuz-R (and /boot/initrd.img-R when there is one),
 * with the running kernel's command line: systemd's kexec (a clean
 * shutdown) where systemd runs, else kexec -e. The switch runs detached,
 * a second after ssh has returned. */
static int machine_kexec(struct ssh_node *sn, const char *release, char **err)
{
        _cleanup_free_ char *script = xasprintf(
                "command -v kexec >/dev/null || { echo 'no kexec here (install kexec-tools)' >&2; "
                "exit 3; }; i=/boot/vmlinuz-%s; d=/boot/initrd.img-%s; "
                "if [ -r $d ]; then kexec -l $i --initrd=$d --reuse-cmdline; "
                "else kexec -l $i --reuse-cmdline; fi || exit 3; "
                "setsid sh -c 'sleep 1; if [ -d /run/systemd/system ]; then systemctl kexec; "
                "else kexec -e; fi' >/dev/null 2>&1 </dev/null &",
                release, release);
        _cleanup_free_ char *out = NULL, *e = NULL;
        int r = ssh_capture(sn, script, 60000, &out, &e);
        if (r != 0) {
                _cleanup_free_ char *line = first_line(e);
                *err = xasprintf("kexec -l /boot/vmlinuz-%s failed: %s", release,
                                 r < 0 ? strerror(-r) : line);
                return -EIO;
        }
        return 0;
}

static void master_exit(struct ssh_node *sn)
{
        struct strv a = {0};
        strv_add(&a, "ssh");
        strv_addf(&a, "-oControlPath=%s", sn->ctl);
        strv_add(&a, "-O");
        strv_add(&a, "exit");
        strv_add(&a, sn->m->ssh);
        int st;
        spawn_run(a.v, 10000, NULL, NULL, &st);
        strv_free(&a);
}

static const char *node_kernel(const struct lab *lab, unsigned i)
{
        const struct ssh_priv *p = lab->priv;
        if (p && p->nodes[i].want)
                return p->nodes[i].want;
        const struct topo_node *tn = lab->nodes[i].tn;
        return tn->kernel ? tn->kernel : lab->kernel ? lab->kernel : lab->t->kernel;
}

/* First step of a node's kernel: what its machine runs and what the run
 * asks for (the node's kernel:, else --kernel, else the topology's kernel:;
 * none: what it runs); when they differ (by release, or by build id
 * against the machine's /boot/vmlinuz-R) and the inventory allows it, the
 * kexec is started. kernel_finish waits for it: the machines switch at the
 * same time. */
static int kernel_begin(struct lab *lab, unsigned i, char **err)
{
        struct ssh_priv *p = lab->priv;
        struct ssh_node *sn = &p->nodes[i];
        struct lab_node *n = &lab->nodes[i];
        const char *want = node_kernel(lab, i);
        struct running k = {0};
        _cleanup_free_ char *why = NULL;
        int r = machine_running(sn, 60000, &k, &why);
        if (r < 0) {
                *err = xasprintf("node %s (machine %s, %s): reading its kernel: %s", n->tn->name,
                                 sn->m->name, sn->m->ssh, why);
                return r;
        }
        sn->run = k;
        if (!want)
                return 0;
        r = machine_image(sn, want, &sn->img_id, &sn->img_sha, &why);
        if (r < 0 && !streq(k.release, want)) {
                *err = xasprintf("node %s (machine %s): it runs %s, the run asks for %s, and %s",
                                 n->tn->name, sn->m->name, k.release, want, why);
                return r;
        }
        if (r < 0) /* the release, but no image to check the build against */
                log_warn("node %s (machine %s): runs %s as asked; its build is not verified: %s",
                         n->tn->name, sn->m->name, want, why);
        if (streq(k.release, want) && (!sn->img_id || streq(sn->img_id, k.build_id)))
                return 0;
        if (!sn->m->kexec) {
                *err = xasprintf("node %s (machine %s): it runs %s (build id %s), the run asks for "
                                 "%s%s%s, and its inventory entry does not allow kexec (kexec: "
                                 "true): boot it into %s, or allow kexec",
                                 n->tn->name, sn->m->name, k.release, k.build_id, want,
                                 sn->img_id ? " build id " : "", sn->img_id ? sn->img_id : "",
                                 want);
                return -EMEDIUMTYPE;
        }
        log_info("node %s: machine %s runs %s; kexec into %s", n->tn->name, sn->m->name, k.release,
                 want);
        sn->kexec_t0 = now_usec();
        free(why);
        why = NULL;
        if ((r = machine_kexec(sn, want, &why)) < 0) {
                *err = xasprintf("node %s (machine %s): %s", n->tn->name, sn->m->name, why);
                return r;
        }
        /* its connections die with the old kernel */
        master_exit(sn);
        memcpy(sn->old_boot_id, k.boot_id, sizeof sn->old_boot_id);
        sn->switched_from = xstrdup(k.release);
        running_clear(&sn->run);
        return 0;
}

/* Second step: the machine answers running the kernel asked for (after a
 * kexec: within the inventory's boot_timeout), verified by release and
 * build id. n->kernel_id says what ran. */
static int kernel_finish(struct lab *lab, unsigned i, char **err)
{
        struct ssh_priv *p = lab->priv;
        struct ssh_node *sn = &p->nodes[i];
        struct lab_node *n = &lab->nodes[i];
        const char *want = node_kernel(lab, i);
        _cleanup_free_ char *why = NULL;
        if (sn->kexec_t0) {
                /* no master connection: one made to the old kernel in its last
                 * second would hang the next commands */
                struct ssh_node direct = *sn;
                direct.ctl = NULL;
                uint64_t deadline = sn->kexec_t0 + (uint64_t)sn->m->boot_timeout * 1000000;
                int r = -ETIMEDOUT;
                while (now_usec() < deadline && !spawn_interrupted) {
                        sleep(2);
                        free(why);
                        why = NULL;
                        if (machine_running(&direct, 20000, &sn->run, &why) == 0) {
                                /* a new boot (a kexec is one), of the release asked for;
                                 * the old kernel may answer a while during a clean
                                 * shutdown */
                                bool new_boot = !streq(sn->run.boot_id, sn->old_boot_id);
                                if (new_boot && streq(sn->run.release, want)) {
                                        r = 0;
                                        break;
                                }
                                double since = (double)(now_usec() - sn->kexec_t0) / 1e6;
                                if (new_boot) {
                                        *err = xasprintf("node %s (machine %s): after kexec into "
                                                         "%s it booted %s",
                                                         n->tn->name, sn->m->name, want,
                                                         sn->run.release);
                                        return -EMEDIUMTYPE;
                                }
                                running_clear(&sn->run);
                                if (since > 60) {
                                        *err = xasprintf("node %s (machine %s): %.0f s after kexec "
                                                         "into %s it still runs its old kernel "
                                                         "(the same boot id): the switch did "
                                                         "not happen",
                                                         n->tn->name, sn->m->name, since, want);
                                        return -EIO;
                                }
                        }
                }
                if (r < 0) {
                        *err = xasprintf(
                                "node %s (machine %s): after kexec into %s it did not "
                                "answer over ssh running %s within %u s (boot_timeout)%s%s",
                                n->tn->name, sn->m->name, want, want, sn->m->boot_timeout,
                                why ? ": " : "", why ? why : "");
                        return r;
                }
                log_info("node %s: machine %s runs %s after %.1f s", n->tn->name, sn->m->name, want,
                         (double)(now_usec() - sn->kexec_t0) / 1e6);
        }
        const struct running *k = &sn->run;
        if (want && sn->img_id && !streq(sn->img_id, k->build_id)) {
                *err = xasprintf("node %s (machine %s): it runs %s with build id %s, but "
                                 "/boot/vmlinuz-%s has build id %s: not the kernel asked for",
                                 n->tn->name, sn->m->name, k->release, k->build_id, want,
                                 sn->img_id);
                return -EMEDIUMTYPE;
        }
        if (want)
                n->kernel = xstrdup(want);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "release", json_object_new_string(k->release));
        json_object_object_add(o, "version", json_object_new_string(k->version));
        json_object_object_add(o, "build_id", json_object_new_string(k->build_id));
        if (sn->img_sha) {
                _cleanup_free_ char *path = xasprintf("/boot/vmlinuz-%s", want);
                json_object_object_add(o, "image", json_object_new_string(path));
                json_object_object_add(o, "image_sha256", json_object_new_string(sn->img_sha));
        }
        /* "build": the running build id is the image's; "release": there was
         * no image to compare with; absent: no kernel was asked for */
        if (want)
                json_object_object_add(o, "verified",
                                       json_object_new_string(sn->img_id ? "build" : "release"));
        json_object_object_add(o, "machine", json_object_new_string(sn->m->name));
        if (sn->kexec_t0) {
                json_object_object_add(
                        o, "kexec_s",
                        json_object_new_double((double)(now_usec() - sn->kexec_t0) / 1e6));
                json_object_object_add(o, "switched_from",
                                       json_object_new_string(sn->switched_from));
        }
        n->kernel_id = o;
        return 0;
}

/* Does prefix p hold address ip (text)? */
static bool prefix_covers(const struct topo_addr *p, const char *ip)
{
        struct topo_addr a;
        return topo_addr_parse(ip, false, &a) == 0 && topo_addr_in(p, &a);
}

/* The topology must not re-route the controller's path to a machine: no
 * address whose subnet and no route whose destination holds the
 * controller's address (what the agent's hello says the ssh connection
 * comes from). Checked before anything is configured. */
static int check_controller_path(struct lab *lab, char **err)
{
        for (unsigned i = 0; i < lab->t->n_nodes; i++) {
                const struct lab_node *n = &lab->nodes[i];
                const char *ctl = jstr(jobj(n->hello, "management"), "controller");
                char buf[64];
                if (!ctl)
                        continue;
                for (unsigned k = 0; k < n->tn->n_ifaces; k++)
                        for (unsigned j = 0; j < n->tn->ifaces[k].n_addrs; j++) {
                                const struct topo_addr *ad = &n->tn->ifaces[k].addrs[j];
                                if (!prefix_covers(ad, ctl))
                                        continue;
                                int li = n->tn->ifaces[k].link;
                                struct topo_pos pos =
                                        li >= 0 ? lab->t->links[li].pos : (struct topo_pos){0};
                                *err = xasprintf("%s:%d:%d: node %s interface %s: its address %s "
                                                 "puts the "
                                                 "controller's address %s on a test link: the "
                                                 "machine's replies to the lab's ssh connection "
                                                 "would leave by it. Refused before anything is "
                                                 "configured; give the test links a subnet of "
                                                 "their own",
                                                 lab->t->file, pos.line, pos.col, n->tn->name,
                                                 n->tn->ifaces[k].name,
                                                 topo_addr_str(ad, true, buf, sizeof buf), ctl);
                                return -EPERM;
                        }
                for (unsigned k = 0; k < n->tn->n_routes; k++) {
                        const struct topo_route *rt = &n->tn->routes[k];
                        if (!prefix_covers(&rt->dst, ctl))
                                continue;
                        *err = xasprintf("%s:%d:%d: node %s: its route to %s would re-route the "
                                         "machine's "
                                         "path to the controller (%s, the lab's ssh connection). "
                                         "Refused before anything is configured",
                                         lab->t->file, rt->pos.line, rt->pos.col, n->tn->name,
                                         topo_addr_str(&rt->dst, true, buf, sizeof buf), ctl);
                        return -EPERM;
                }
        }
        return 0;
}

static int ssh_create(struct lab *lab, char **err)
{
        struct topo *t = lab->t;
        struct ssh_priv *p = xcalloc(1, sizeof *p);
        lab->priv = p;
        struct topo_errors errs = {0};
        if (inventory_parse_file(lab->inventory, &p->inv, &errs) < 0 ||
            inventory_check(p->inv, t, &errs) < 0) {
                *err = errors_join(&errs);
                lab->input_error = true;
                return -EINVAL;
        }
        p->n = t->n_nodes;
        p->nodes = xcalloc(p->n, sizeof *p->nodes);
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct ssh_node *sn = &p->nodes[i];
                struct lab_node *n = &lab->nodes[i];
                sn->in = inventory_node(p->inv, n->tn->name);
                sn->m = inventory_machine(p->inv, sn->in->machine);
                sn->ctl = xasprintf("%s/ssh-%u.sock", lab->run_dir, i);
                sn->dir = xasprintf("/run/mptcplab-%s-n%u", lab->run_id, i);
                n->accel = "host";
                sn->master = true;
                int r = kernel_begin(lab, i, err);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                int r = kernel_finish(lab, i, err);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct ssh_node *sn = &p->nodes[i];
                struct lab_node *n = &lab->nodes[i];
                /* the agent goes over; it must run there (its libraries) */
                _cleanup_free_ char *target = xasprintf("%s/mptcplab-agent", sn->dir);
                _cleanup_free_ char *mk = xasprintf("umask 077 && mkdir %s && cat > %s && chmod "
                                                    "0700 %s && %s --help >/dev/null",
                                                    sn->dir, target, target, target);
                char *words[] = {mk, NULL};
                char *e = NULL;
                int r = ssh_exec(sn, words, lab->agent_path, 60000, &e);
                if (r != 0) {
                        _cleanup_free_ char *line = first_line(e);
                        *err = xasprintf(
                                "node %s (machine %s, %s): %s: %s", n->tn->name, sn->m->name,
                                sn->m->ssh,
                                r == 255 ? "cannot reach it over ssh"
                                : r < 0  ? "ssh failed"
                                         : "the agent cannot run there (it is built for this "
                                           "host's libraries)",
                                r < 0 ? strerror(-r) : line);
                        free(e);
                        return r < 0 ? r : -EIO;
                }
                free(e);
                /* mptcpload goes beside it when the controller has one beside
                 * its own agent (the agent looks there first, then on PATH) */
                _cleanup_free_ char *mlsrc = lab_beside_agent(lab, "mptcpload");
                e = NULL;
                if (strchr(lab->agent_path, '/') && access(mlsrc, R_OK) == 0) {
                        _cleanup_free_ char *mlt = xasprintf("%s/mptcpload", sn->dir);
                        _cleanup_free_ char *cp =
                                xasprintf("umask 077 && cat > %s && chmod 0700 %s", mlt, mlt);
                        char *cw[] = {cp, NULL};
                        r = ssh_exec(sn, cw, mlsrc, 60000, &e);
                        if (r != 0) {
                                _cleanup_free_ char *line = first_line(e);
                                *err = xasprintf("node %s (machine %s, %s): copying mptcpload: %s",
                                                 n->tn->name, sn->m->name, sn->m->ssh,
                                                 r < 0 ? strerror(-r) : line);
                                free(e);
                                return r < 0 ? r : -EIO;
                        }
                        free(e);
                }
        }
        /* every agent started, then greeted */
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct ssh_node *sn = &p->nodes[i];
                struct lab_node *n = &lab->nodes[i];
                struct strv a = {0};
                ssh_base(&a, sn);
                _cleanup_free_ char *agent = xasprintf("%s/mptcplab-agent", sn->dir);
                strv_add(&a, agent);
                strv_add(&a, "--stdio");
                strv_add(&a, "--remove-dir");
                strv_add(&a, sn->dir);
                strv_add(&a, "--name");
                add_quoted(&a, n->tn->name);
                for (unsigned k = 0; k < sn->in->n_nics; k++) {
                        const struct inv_nic *nic = &sn->in->nics[k];
                        strv_add(&a, "--alias");
                        _cleanup_free_ char *spec =
                                nic->mac ? xasprintf("%s=mac:%s", nic->iface, nic->mac)
                                         : xasprintf("%s=%s", nic->iface, nic->dev);
                        add_quoted(&a, spec);
                }
                int r = agent_conn_spawn(n->tn->name, a.v, &n->agent);
                strv_free(&a);
                if (r < 0) {
                        *err = xasprintf("node %s: cannot start ssh: %s", n->tn->name,
                                         strerror(-r));
                        return r;
                }
        }
        for (unsigned i = 0; i < t->n_nodes; i++) {
                struct lab_node *n = &lab->nodes[i];
                struct ssh_node *sn = &p->nodes[i];
                char *e = NULL;
                int r = agent_call(n->agent, "hello", NULL, 30000, &n->hello, &e);
                /* what the run is compared with when it ends */
                if (r >= 0)
                        r = agent_call(n->agent, "state", node_state_args(n->tn, false), 30000,
                                       &sn->before, &e);
                if (r < 0) {
                        *err = xasprintf("node %s (machine %s, %s): agent %s: %s", n->tn->name,
                                         sn->m->name, sn->m->ssh, n->hello ? "state" : "hello", e);
                        free(e);
                        if (n->agent->refused)
                                lab->input_error = true;
                        return r;
                }
        }
        int r = check_controller_path(lab, err);
        if (r < 0)
                lab->input_error = true;
        return r;
}

/* One agent call whose result is not needed; 0 or -errno with *err set */
static int call(struct lab_node *n, const char *op, struct json_object *args,
                struct json_object **ret, char **err)
{
        struct json_object *res = NULL;
        int r = agent_call(n->agent, op, args, 15000, &res, err);
        if (ret)
                *ret = res;
        else
                json_object_put(res);
        return r;
}

static struct json_object *dev_args(const char *dev, const char *nonce)
{
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "dev", json_object_new_string(dev));
        if (nonce)
                json_object_object_add(o, "nonce", json_object_new_string(nonce));
        return o;
}

/* "box-a's NIC enp3s0" / "box-a's NIC with MAC 52:54:..." */
static char *nic_name(const struct ssh_priv *p, unsigned node, const char *iface)
{
        const struct ssh_node *sn = &p->nodes[node];
        for (unsigned k = 0; k < sn->in->n_nics; k++)
                if (streq(sn->in->nics[k].iface, iface))
                        return sn->in->nics[k].mac
                                       ? xasprintf("%s's NIC with MAC %s", sn->m->name,
                                                   sn->in->nics[k].mac)
                                       : xasprintf("%s's NIC %s", sn->m->name, sn->in->nics[k].dev);
        return xasprintf("%s's NIC for %s", sn->m->name, iface);
}

/* The cables are the machines': each NIC a link names comes up, and a frame
 * sent from one end of each link must arrive at the other end's NIC, or the
 * run stops before anything is measured and says which cable is not where
 * the topology says (the agents' cable_* ops). */
static int ssh_wire(struct lab *lab, char **err)
{
        struct topo *t = lab->t;
        struct ssh_priv *p = lab->priv;
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                for (unsigned s = 0; s < 2; s++) {
                        struct lab_node *n = &lab->nodes[l->end[s].node];
                        const char *dev = n->tn->ifaces[l->end[s].iface].name;
                        struct json_object *args = dev_args(dev, NULL);
                        json_object_object_add(args, "up", json_object_new_boolean(true));
                        char *e = NULL;
                        int r = call(n, "link_set", args, NULL, &e);
                        if (r < 0) {
                                *err = xasprintf("link %u: node %s interface %s: %s", i + 1,
                                                 n->tn->name, dev, e);
                                free(e);
                                return r;
                        }
                }
        }
        for (unsigned i = 0; i < t->n_links; i++) {
                const struct topo_link *l = &t->links[i];
                struct lab_node *a = &lab->nodes[l->end[0].node], *b = &lab->nodes[l->end[1].node];
                const char *da = a->tn->ifaces[l->end[0].iface].name,
                           *db = b->tn->ifaces[l->end[1].iface].name;
                char nonce[33];
                random_hex(nonce, 16);
                char *e = NULL;
                bool seen = false;
                int r = call(b, "cable_arm", dev_args(db, nonce), NULL, &e);
                /* carrier may take a moment after "up": a few tries over 3 s */
                for (unsigned try = 0; r >= 0 && !seen && try < 30; try++) {
                        if (try % 5 == 0)
                                r = call(a, "cable_send", dev_args(da, nonce), NULL, &e);
                        usleep(100000);
                        struct json_object *res = NULL;
                        if (r >= 0 && (r = call(b, "cable_check", NULL, &res, &e)) >= 0)
                                seen = jbool(res, "seen", &seen) && seen;
                        json_object_put(res);
                }
                if (r < 0 || !seen) {
                        _cleanup_free_ char *na = nic_name(p, l->end[0].node, da),
                                            *nb = nic_name(p, l->end[1].node, db);
                        *err = r < 0 ? xasprintf("link %u: checking its cable: %s", i + 1, e)
                                     : xasprintf("link %u (%s:%s - %s:%s): a frame sent from %s "
                                                 "did not arrive at %s within 3 s: the cable is "
                                                 "not where the topology says",
                                                 i + 1, a->tn->name, da, b->tn->name, db, na, nb);
                        free(e);
                        lab->input_error = true;
                        return r < 0 ? r : -EHOSTUNREACH;
                }
        }
        return 0;
}

static void add_fmt(struct json_object *arr, const char *a, const char *b, const char *c)
{
        _cleanup_free_ char *s = xasprintf("%s%s%s", a, b, c);
        json_object_array_add(arr, json_object_new_string(s));
}

/* The parts of a state that differ: "devs.eth0.addrs", "sysctls", ... */
static void state_diff(struct json_object *a, struct json_object *b, const char *prefix, int depth,
                       struct json_object *out)
{
        if (json_object_equal(a, b))
                return;
        if (depth < 3 && json_object_is_type(a, json_type_object) &&
            json_object_is_type(b, json_type_object)) {
                json_object_object_foreach (a, key, va) {
                        _cleanup_free_ char *p =
                                *prefix ? xasprintf("%s.%s", prefix, key) : xstrdup(key);
                        struct json_object *vb = NULL;
                        json_object_object_get_ex(b, key, &vb);
                        state_diff(va, vb, p, depth + 1, out);
                }
                json_object_object_foreach (b, kb, vb2) {
                        (void)vb2;
                        if (!json_object_object_get_ex(a, kb, NULL))
                                add_fmt(out, prefix, *prefix ? "." : "", kb);
                }
                return;
        }
        json_object_array_add(out, json_object_new_string(*prefix ? prefix : "state"));
}

static struct json_object *ssh_restore(struct lab *lab)
{
        struct ssh_priv *p = lab->priv;
        struct json_object *dirty = json_object_new_array();
        for (unsigned i = 0; p && i < p->n; i++) {
                struct ssh_node *sn = &p->nodes[i];
                struct lab_node *n = &lab->nodes[i];
                if (!n->agent || !sn->before)
                        continue;
                struct json_object *after = NULL, *what = json_object_new_array();
                char *e = NULL;
                if (call(n, "reset", NULL, NULL, &e) < 0 ||
                    agent_call(n->agent, "state", node_state_args(n->tn, false), 30000, &after,
                               &e) < 0)
                        add_fmt(what, "cannot compare: ", e ? e : "?", "");
                else
                        state_diff(sn->before, after, "", 0, what);
                free(e);
                json_object_put(after);
                if (json_object_array_length(what)) {
                        struct json_object *d = json_object_new_object();
                        json_object_object_add(d, "node", json_object_new_string(n->tn->name));
                        json_object_object_add(d, "machine", json_object_new_string(sn->m->name));
                        json_object_object_add(d, "differs", what);
                        json_object_array_add(dirty, d);
                } else
                        json_object_put(what);
        }
        if (!json_object_array_length(dirty)) {
                json_object_put(dirty);
                return NULL;
        }
        return dirty;
}

/* What a node of the backend holds (its master connection ended before) */
static void ssh_node_clear(struct ssh_node *sn)
{
        free(sn->ctl);
        free(sn->dir);
        free(sn->img_id);
        free(sn->img_sha);
        free(sn->switched_from);
        running_clear(&sn->run);
        json_object_put(sn->before);
}

static void ssh_priv_free(struct ssh_priv *p)
{
        if (!p)
                return;
        free(p->nodes);
        inventory_free(p->inv);
        free(p);
}

static void ssh_destroy(struct lab *lab)
{
        struct ssh_priv *p = lab->priv;
        for (unsigned i = 0; i < lab->t->n_nodes; i++)
                lab->nodes[i].agent = agent_conn_close(lab->nodes[i].agent, 15000);
        for (unsigned i = 0; p && i < p->n; i++) {
                struct ssh_node *sn = &p->nodes[i];
                if (sn->master && sn->dir) {
                        _cleanup_free_ char *rm = xasprintf("rm -rf %s", sn->dir);
                        char *words[] = {rm, NULL};
                        char *e = NULL;
                        if (ssh_exec(sn, words, NULL, 20000, &e) != 0)
                                log_warn("node %s: cannot remove %s on %s: %s",
                                         lab->nodes[i].tn->name, sn->dir, sn->m->ssh, e ? e : "");
                        free(e);
                        /* the master connection ends with the run */
                        master_exit(sn);
                }
                ssh_node_clear(sn);
        }
        ssh_priv_free(p);
        lab->priv = NULL;
}

static char *ssh_describe(const struct lab *lab, unsigned node)
{
        const struct ssh_priv *p = lab->priv;
        if (!p || node >= p->n || !p->nodes[node].m)
                return xstrdup("machine (not reached yet)");
        return xasprintf("machine %s (%s)", p->nodes[node].m->name, p->nodes[node].m->ssh);
}

/* The machine's kernel messages since the run began (dmesg lines whose
 * printk time is at or after the uptime read before the agent started), as
 * a file of the run's directory, and the first crash among them (panic,
 * oops, BUG, WARNING) as the run's crash. Read after the workloads, never
 * while they measure. A machine without printk times (printk.time=0) has
 * no lines the lab can date: none are taken. */
static char *ssh_collect_log(struct lab *lab, unsigned node)
{
        struct ssh_priv *p = lab->priv;
        if (!p || node >= p->n || !p->nodes[node].run.release)
                return NULL;
        struct ssh_node *sn = &p->nodes[node];
        const char *name = lab->nodes[node].tn->name;
        _cleanup_free_ char *out = NULL, *e = NULL;
        int r = ssh_capture(sn, "dmesg", 30000, &out, &e);
        if (r != 0) {
                log_warn("node %s (machine %s): cannot read its kernel log: %s", name, sn->m->name,
                         r < 0 ? strerror(-r) : e);
                return NULL;
        }
        /* the lines of the run: never longer than all of them */
        _cleanup_free_ char *text = xcalloc(1, strlen(out) + 1);
        size_t len = 0;
        for (char *l = out, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                nl = strchr(l, '\n');
                if (nl)
                        *nl = 0;
                double ts;
                if (sscanf(l, "[%lf]", &ts) == 1 && ts >= sn->run.uptime)
                        len += (size_t)sprintf(text + len, "%s\n", l);
                if (!nl)
                        break;
        }
        _cleanup_free_ char *path = xasprintf("%s/kernel-%s.log", lab->run_dir, name);
        _cleanup_fclose_ FILE *f = fopen(path, "we");
        if (!f || fwrite(text, 1, len, f) != len) {
                log_warn("node %s: cannot write %s: %m", name, path);
                return NULL;
        }
        const char *what = NULL, *hit = crash_find(text, text, &what);
        if (hit)
                crash_record(lab, name, what, text, hit);
        return TAKE_PTR(path);
}

static const char *ssh_link_kind(const struct lab *lab)
{
        return "cable";
}

/* What killed runs left on an inventory's machines: per-run directories
 * (/run/mptcplab-RUN-nN) that no running process was started from. An agent
 * still running from one belongs to a live run, or to one whose ssh session
 * has not ended yet: left alone. The remote script is fixed text. */
int ssh_cleanup_inventory(const char *path, unsigned *removed, unsigned *failed)
{
        struct topo_errors errs = {0};
        struct inventory *inv = NULL;
        if (inventory_parse_file(path, &inv, &errs) < 0) {
                _cleanup_free_ char *e = errors_join(&errs);
                log_error("%s", e);
                return -EINVAL;
        }
        static const char script[] =
                "for d in /run/mptcplab-*-n[0-9]*; do [ -d \"$d\" ] || continue; busy=; "
                "for e in /proc/[0-9]*/exe; do case \"$(readlink \"$e\" 2>/dev/null)\" in "
                "\"$d\"/*) busy=1; break;; esac; done; "
                "if [ -n \"$busy\" ]; then echo \"busy $d\"; elif rm -rf \"$d\"; then echo "
                "\"removed $d\"; else echo \"failed $d\"; fi; done";
        for (unsigned i = 0; i < inv->n_machines; i++) {
                struct ssh_node sn = {.m = &inv->machines[i]};
                struct strv a = {0};
                ssh_base(&a, &sn);
                strv_add(&a, script);
                char *out = NULL, *err = NULL;
                int st = 0, r = spawn_run(a.v, 60000, &out, &err, &st);
                strv_free(&a);
                if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                        _cleanup_free_ char *line = first_line(err);
                        log_error("cleanup: machine %s (%s): %s", inv->machines[i].name,
                                  inv->machines[i].ssh, r < 0 ? strerror(-r) : line);
                        (*failed)++;
                }
                for (char *l = out, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                        nl = strchr(l, '\n');
                        if (nl)
                                *nl = 0;
                        if (!strncmp(l, "removed ", 8)) {
                                log_info("machine %s: removed %s (a killed run's)",
                                         inv->machines[i].name, l + 8);
                                (*removed)++;
                        } else if (!strncmp(l, "busy ", 5))
                                log_info("machine %s: %s is in use by a running agent: left",
                                         inv->machines[i].name, l + 5);
                        else if (!strncmp(l, "failed ", 7)) {
                                log_error("machine %s: cannot remove %s", inv->machines[i].name,
                                          l + 7);
                                (*failed)++;
                        }
                        if (!nl)
                                break;
                }
                free(out);
                free(err);
        }
        inventory_free(inv);
        return 0;
}

int ssh_set_kernels(const char *inventory, struct topo *t, struct json_object *want,
                    const char *run_dir, char **err)
{
        struct lab lab = {.t = t, .inventory = inventory, .run_dir = (char *)run_dir};
        struct ssh_priv *p = xcalloc(1, sizeof *p);
        struct topo_errors errs = {0};
        int r = 0;
        lab.priv = p;
        lab.nodes = xcalloc(t->n_nodes, sizeof *lab.nodes);
        if (inventory_parse_file(inventory, &p->inv, &errs) < 0 ||
            inventory_check(p->inv, t, &errs) < 0) {
                *err = errors_join(&errs);
                r = -EINVAL;
        }
        p->n = r < 0 ? 0 : t->n_nodes;
        p->nodes = xcalloc(t->n_nodes, sizeof *p->nodes);
        for (unsigned i = 0; i < p->n; i++) {
                struct ssh_node *sn = &p->nodes[i];
                lab.nodes[i].tn = &t->nodes[i];
                sn->in = inventory_node(p->inv, t->nodes[i].name);
                sn->m = inventory_machine(p->inv, sn->in->machine);
                sn->ctl = xasprintf("%s/ssh-k%u.sock", run_dir, i);
                sn->want = jstr(want, t->nodes[i].name);
                sn->master = true;
        }
        for (unsigned i = 0; i < p->n && r == 0; i++)
                if (p->nodes[i].want)
                        r = kernel_begin(&lab, i, err);
        for (unsigned i = 0; i < p->n && r == 0; i++)
                if (p->nodes[i].want)
                        r = kernel_finish(&lab, i, err);
        for (unsigned i = 0; i < p->n; i++) {
                master_exit(&p->nodes[i]);
                ssh_node_clear(&p->nodes[i]);
                json_object_put(lab.nodes[i].kernel_id);
                free(lab.nodes[i].kernel);
        }
        ssh_priv_free(p);
        free(lab.nodes);
        return r;
}

const struct backend_ops backend_ssh = {
        .name = "ssh",
        .summary = "real machines of an inventory, over ssh (--inventory FILE)",
        .preflight = ssh_preflight,
        .create = ssh_create,
        .wire = ssh_wire,
        .destroy = ssh_destroy,
        .describe = ssh_describe,
        .link_kind = ssh_link_kind,
        .restore = ssh_restore,
        .collect_log = ssh_collect_log,
};
