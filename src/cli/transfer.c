/* transfer.c - `mptcplab export` and `import`: runs (with their samples) and
 * baselines moved between stores (a lab's SQLite file and a PostgreSQL
 * database several labs share, or two of either), as JSON lines:
 *
 *   {"format": "mptcplab-export-1", "from": STORE, "exported_at": TIME}
 *   {"format": "mptcplab-run-spool-1", ...}        one line per run
 *   {"format": "mptcplab-baseline-1", ...}         one line per baseline
 *   {"format": "mptcplab-export-end", "runs": N, "baselines": M}
 *
 * A run spooled because the database was busy (a single mptcplab-run-spool-1
 * object) is imported the same way. A run the store has already (same run id)
 * is left alone, so importing twice adds nothing. */
#include "verbs.h"

#include "../shared/json.h"
#include "../shared/util.h"
#include "../store/store.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

struct export_ctx {
        FILE *f;
        const char *path;
        unsigned baselines;
};

static int write_line(struct json_object *o, void *userdata, char **err)
{
        struct export_ctx *x = userdata;
        const char *fmt = jstr(o, "format");
        if (fmt && streq(fmt, "mptcplab-baseline-1"))
                x->baselines++;
        if (fprintf(x->f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0) {
                *err = xasprintf("%s: cannot write: %m", x->path);
                return -EIO;
        }
        return 0;
}

int verb_export(int argc, char **argv)
{
        const char *dbp = NULL, *out = NULL;
        struct store_filter f = {0};
        for (int i = 1; i < argc; i++) {
                const char **to = streq(argv[i], "--db")         ? &dbp
                                  : streq(argv[i], "--out")      ? &out
                                  : streq(argv[i], "--topology") ? &f.topology
                                  : streq(argv[i], "--lab")      ? &f.lab
                                  : streq(argv[i], "--series")   ? &f.series
                                                                 : NULL;
                if (!to || i + 1 >= argc) {
                        fprintf(stderr, "usage: mptcplab export [--db PATH] [--topology NAME] "
                                        "[--lab NAME] [--series ID] [--out FILE]\n");
                        return EXIT_INPUT;
                }
                *to = argv[++i];
        }
        struct store *db = open_db(dbp);
        if (!db)
                return EXIT_INFRA;
        /* a file appears whole or not at all */
        _cleanup_free_ char *tmp = out ? xasprintf("%s.tmp.%d", out, (int)getpid()) : NULL;
        struct export_ctx x = {.f = out ? fopen(tmp, "we") : stdout,
                               .path = out ? out : "standard output"};
        if (!x.f) {
                log_error("%s: cannot create: %m", tmp);
                store_close(db);
                return EXIT_INPUT;
        }
        _cleanup_free_ char *now = iso8601_now();
        _cleanup_json_ struct json_object *head = json_object_new_object();
        json_object_object_add(head, "format", json_object_new_string("mptcplab-export-1"));
        json_object_object_add(head, "from", json_object_new_string(store_path(db)));
        json_object_object_add(head, "exported_at", json_object_new_string(now));
        char *err = NULL;
        int n = write_line(head, &x, &err);
        if (n == 0)
                n = store_export(db, &f, write_line, &x, &err);
        if (n >= 0) {
                _cleanup_json_ struct json_object *end = json_object_new_object();
                json_object_object_add(end, "format",
                                       json_object_new_string("mptcplab-export-end"));
                json_object_object_add(end, "runs", json_object_new_int(n));
                json_object_object_add(end, "baselines", json_object_new_int((int)x.baselines));
                if (write_line(end, &x, &err) < 0)
                        n = -EIO;
        }
        if (n >= 0 && (fflush(x.f) != 0 || (out && fsync(fileno(x.f)) < 0))) {
                err = xasprintf("%s: cannot write: %m", x.path);
                n = -EIO;
        }
        if (out)
                fclose(x.f);
        if (n >= 0 && out && rename(tmp, out) < 0) {
                err = xasprintf("%s: cannot rename into place: %m", out);
                n = -EIO;
        }
        store_close(db);
        if (n < 0) {
                if (out)
                        unlink(tmp);
                log_error("export: %s", err);
                free(err);
                return EXIT_INFRA;
        }
        log_info("exported %d run(s) and %u baseline(s) to %s", n, x.baselines, x.path);
        return EXIT_OK;
}

static unsigned line_of(const char *text, size_t off)
{
        unsigned line = 1;
        for (size_t i = 0; i < off && text[i]; i++)
                line += text[i] == '\n';
        return line;
}

/* One file: an export, or a single spooled run. Returns an exit code. */
static int import_file(struct store *db, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_file(path, &text, &len);
        if (r < 0) {
                log_error("%s: cannot read: %s", path, strerror(-r));
                return EXIT_INPUT;
        }
        struct json_tokener *tok = json_tokener_new();
        size_t off = 0;
        unsigned stored = 0, existed = 0, baselines = 0, objects = 0;
        bool export = false, ended = false;
        int rc = EXIT_OK;
        while (off < len) {
                off += strspn(text + off, " \t\r\n");
                if (off >= len)
                        break;
                json_tokener_reset(tok);
                struct json_object *o = json_tokener_parse_ex(tok, text + off, (int)(len - off));
                enum json_tokener_error e = json_tokener_get_error(tok);
                if (!o || e != json_tokener_success) {
                        log_error("%s:%u: not JSON: %s", path, line_of(text, off),
                                  json_tokener_error_desc(e == json_tokener_continue
                                                                  ? json_tokener_error_parse_eof
                                                                  : e));
                        json_object_put(o);
                        rc = EXIT_INPUT;
                        break;
                }
                unsigned line = line_of(text, off);
                off += json_tokener_get_parse_end(tok);
                objects++;
                const char *fmt = jstr(o, "format");
                if (fmt && streq(fmt, "mptcplab-export-1") && objects == 1)
                        export = true;
                else if (fmt && streq(fmt, "mptcplab-export-end"))
                        ended = true;
                else {
                        bool was = false;
                        char *err = NULL;
                        int64_t id = store_import_json(db, o, &was, &err);
                        if (id < 0) {
                                log_error("%s:%u: %s%s%s", path, line,
                                          jstr(o, "run_id") ? jstr(o, "run_id") : "",
                                          jstr(o, "run_id") ? ": " : "", err);
                                free(err);
                                rc = id == -EINVAL ? EXIT_INPUT : EXIT_INFRA;
                        } else if (fmt && streq(fmt, "mptcplab-baseline-1"))
                                baselines++;
                        else if (was)
                                existed++;
                        else
                                stored++;
                }
                json_object_put(o);
        }
        json_tokener_free(tok);
        if (export && !ended && rc == EXIT_OK) {
                log_error("%s: ends before the export's end line: cut short? The %u run(s) "
                          "before the cut are stored whole",
                          path, stored);
                rc = EXIT_INPUT;
        }
        log_info("%s: %u run(s) stored in %s, %u already there, %u baseline(s)", path, stored,
                 store_path(db), existed, baselines);
        /* a spooled run's file has done its job once the run is in the store */
        if (!export && objects == 1 && rc == EXIT_OK)
                unlink(path);
        return rc;
}

int verb_import(int argc, char **argv)
{
        const char *db_path = NULL;
        int i = 1;
        if (i + 1 < argc && streq(argv[i], "--db")) {
                db_path = argv[i + 1];
                i += 2;
        }
        if (i >= argc) {
                fprintf(stderr, "usage: mptcplab import [--db PATH] FILE...\n");
                return EXIT_INPUT;
        }
        struct store *db = open_db(db_path);
        if (!db)
                return EXIT_INFRA;
        int rc = EXIT_OK;
        for (; i < argc; i++) {
                int r = import_file(db, argv[i]);
                if (r != EXIT_OK && (rc == EXIT_OK || r == EXIT_INFRA))
                        rc = r;
        }
        store_close(db);
        return rc;
}
