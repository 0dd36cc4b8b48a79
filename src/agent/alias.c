/* alias.c - the topology's interface names on a machine whose NICs have
 * names of their own (the ssh backend, docs/inventory.md): `--alias
 * eth0=enp3s0` or `--alias eth0=mac:52:54:00:aa:bb:01`. Requests say the
 * topology's names; every "dev" and every per-device sysctl key is turned
 * into the NIC's name before an operation sees it, and back in replies. No
 * NIC is renamed: the machine keeps its names. */
#include "agent.h"
#include "../nl/nl.h"
#include "../shared/util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <string.h>

/* The interface whose MAC is mac (lower case), allocated, or NULL */
static char *dev_of_mac(const char *mac)
{
        DIR *d = opendir("/sys/class/net");
        struct dirent *e;
        char *found = NULL;
        while (d && !found && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *path = xasprintf("/sys/class/net/%s/address", e->d_name);
                _cleanup_free_ char *addr = NULL;
                if (read_file(path, &addr, NULL) < 0)
                        continue;
                addr[strcspn(addr, "\n")] = 0;
                if (strcasecmp(addr, mac) == 0)
                        found = xstrdup(e->d_name);
        }
        if (d)
                closedir(d);
        return found;
}

int alias_add(struct agent *a, const char *spec, char **err)
{
        const char *eq = strchr(spec, '=');
        _cleanup_free_ char *name = eq ? xstrndup(spec, (size_t)(eq - spec)) : NULL;
        if (!name || !valid_ifname(name)) {
                *err = xasprintf("--alias %s: not NAME=DEV or NAME=mac:MAC", spec);
                return -EINVAL;
        }
        char *dev;
        if (!strncmp(eq + 1, "mac:", 4)) {
                dev = dev_of_mac(eq + 5);
                if (!dev) {
                        *err = xasprintf("--alias %s: no interface here has the MAC address %s",
                                         spec, eq + 5);
                        return -ENODEV;
                }
        } else if (valid_ifname(eq + 1)) {
                dev = xstrdup(eq + 1);
                _cleanup_free_ char *path = xasprintf("/sys/class/net/%s", dev);
                if (access(path, F_OK) < 0) {
                        *err = xasprintf("--alias %s: no interface %s here", spec, dev);
                        free(dev);
                        return -ENODEV;
                }
        } else {
                *err = xasprintf("--alias %s: not NAME=DEV or NAME=mac:MAC", spec);
                return -EINVAL;
        }
        for (unsigned i = 0; i < a->n_alias; i++)
                if (streq(a->alias_to[i], dev) || streq(a->alias_from[i], name)) {
                        *err = xasprintf("--alias %s: %s is already %s", spec, a->alias_to[i],
                                         a->alias_from[i]);
                        free(dev);
                        return -EEXIST;
                }
        a->alias_from = xreallocarray(a->alias_from, a->n_alias + 1, sizeof *a->alias_from);
        a->alias_to = xreallocarray(a->alias_to, a->n_alias + 1, sizeof *a->alias_to);
        a->alias_from[a->n_alias] = TAKE_PTR(name);
        a->alias_to[a->n_alias] = dev;
        a->n_alias++;
        return 0;
}

void alias_free(struct agent *a)
{
        for (unsigned i = 0; i < a->n_alias; i++) {
                free(a->alias_from[i]);
                free(a->alias_to[i]);
        }
        free(a->alias_from);
        free(a->alias_to);
        a->alias_from = a->alias_to = NULL;
        a->n_alias = 0;
}

static char *xstrdup_or_null(const char *s)
{
        return s ? xstrdup(s) : NULL;
}

static const char *map(char **from, char **to, unsigned n, const char *s)
{
        for (unsigned i = 0; i < n; i++)
                if (streq(from[i], s))
                        return to[i];
        return NULL;
}

/* "net.ipv4.conf.eth0.rp_filter" with eth0 mapped; NULL when nothing maps */
static char *map_sysctl(char **from, char **to, unsigned n, const char *key)
{
        static const char *const prefixes[] = {"net.ipv4.conf.", "net.ipv6.conf.",
                                               "net.ipv4.neigh.", "net.ipv6.neigh."};
        for (unsigned p = 0; p < ELEMENTSOF(prefixes); p++) {
                size_t pl = strlen(prefixes[p]);
                if (strncmp(key, prefixes[p], pl))
                        continue;
                const char *dev = key + pl, *dot = strchr(dev, '.');
                if (!dot)
                        return NULL;
                _cleanup_free_ char *d = xstrndup(dev, (size_t)(dot - dev));
                const char *m = map(from, to, n, d);
                return m ? xasprintf("%s%s%s", prefixes[p], m, dot) : NULL;
        }
        return NULL;
}

static void rewrite(struct json_object *o, char **from, char **to, unsigned n)
{
        if (json_object_is_type(o, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        rewrite(json_object_array_get_idx(o, i), from, to, n);
                return;
        }
        if (!json_object_is_type(o, json_type_object))
                return;
        json_object_object_foreach (o, key, val) {
                const char *s = json_object_is_type(val, json_type_string)
                                        ? json_object_get_string(val)
                                        : NULL;
                if (s && streq(key, "dev")) {
                        const char *m = map(from, to, n, s);
                        if (m)
                                json_object_object_add(o, key, json_object_new_string(m));
                } else if (s && streq(key, "key")) {
                        _cleanup_free_ char *m = map_sysctl(from, to, n, s);
                        if (m)
                                json_object_object_add(o, key, json_object_new_string(m));
                } else if ((streq(key, "devs") || streq(key, "sysctls")) &&
                           json_object_is_type(val, json_type_array)) {
                        /* the state op's lists of names */
                        for (size_t i = 0; i < json_object_array_length(val); i++) {
                                struct json_object *x = json_object_array_get_idx(val, i);
                                if (!json_object_is_type(x, json_type_string))
                                        continue;
                                const char *xs = json_object_get_string(x);
                                _cleanup_free_ char *m =
                                        streq(key, "devs") ? xstrdup_or_null(map(from, to, n, xs))
                                                           : map_sysctl(from, to, n, xs);
                                if (m)
                                        json_object_array_put_idx(val, i,
                                                                  json_object_new_string(m));
                        }
                } else
                        rewrite(val, from, to, n);
        }
}

void alias_request(struct agent *a, struct json_object *args)
{
        if (a->n_alias)
                rewrite(args, a->alias_from, a->alias_to, a->n_alias);
}

void alias_reply(struct agent *a, struct json_object *result)
{
        if (a->n_alias)
                rewrite(result, a->alias_to, a->alias_from, a->n_alias);
}

/* the first NIC holding an address, from one dump of all addresses */
struct addr_owner {
        const char *ip;
        char *dev;
};

static void addr_owner_cb(const char *dev, const char *cidr, void *user)
{
        struct addr_owner *o = user;
        size_t n = strcspn(cidr, "/");
        if (!o->dev && strlen(o->ip) == n && !strncmp(cidr, o->ip, n))
                o->dev = xstrdup(dev);
}

/* The interface a controller's ssh connection arrived on, from sshd's
 * SSH_CONNECTION ("client port server port"): the lab must never address,
 * shape or take it down. NULL when the agent was not started by sshd. */
struct json_object *alias_management(struct agent *a)
{
        const char *sc = getenv("SSH_CONNECTION");
        char client[INET6_ADDRSTRLEN + 1] = "", server[INET6_ADDRSTRLEN + 1] = "";
        if (!sc || sscanf(sc, "%46s %*u %46s", client, server) != 2)
                return NULL;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "controller", json_object_new_string(client));
        json_object_object_add(o, "address", json_object_new_string(server));
        /* the NIC holding the address the connection came to */
        struct addr_owner own = {server, NULL};
        if (nlr_addr_foreach(a->nl, NULL, addr_owner_cb, &own) < 0) {
                free(own.dev);
                own.dev = NULL;
        }
        _cleanup_free_ char *dev = own.dev;
        json_object_object_add(o, "dev", dev ? json_object_new_string(dev) : NULL);
        return o;
}
