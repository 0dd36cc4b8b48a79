#include "store.h"
#include "../shared/util.h"

#include <sqlite3.h>
#include <sys/stat.h>

#define SCHEMA_VERSION 1

struct store {
        sqlite3 *db;
        char *path;
};

static const char *const migrations[] = {
        /* 0 -> 1 */
        "CREATE TABLE runs ("
        "  id INTEGER PRIMARY KEY,"
        "  run_id TEXT NOT NULL UNIQUE,"
        "  series TEXT NOT NULL,"
        "  side TEXT,"
        "  topology TEXT NOT NULL, topology_file TEXT, topology_hash TEXT,"
        "  backend TEXT NOT NULL, host TEXT, kernels TEXT, tools TEXT,"
        "  started_at TEXT NOT NULL, ended_at TEXT NOT NULL,"
        "  status TEXT NOT NULL, error TEXT, warmup INTEGER NOT NULL DEFAULT 0,"
        "  result_json TEXT);"
        "CREATE INDEX runs_series ON runs(series);"
        "CREATE TABLE samples ("
        "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
        "  workload TEXT NOT NULL, metric TEXT NOT NULL, value REAL,"
        "  valid INTEGER NOT NULL, reason TEXT);"
        "CREATE INDEX samples_run ON samples(run);"
        "CREATE TABLE baselines ("
        "  name TEXT PRIMARY KEY, created_at TEXT NOT NULL, source TEXT NOT NULL);"
        "CREATE TABLE baseline_runs ("
        "  baseline TEXT NOT NULL REFERENCES baselines(name) ON DELETE CASCADE,"
        "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE);",
};

static int fail(struct store *s, char **err, const char *what)
{
        *err = xasprintf("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
        return -EIO;
}

static int exec(struct store *s, const char *sql, char **err)
{
        char *msg = NULL;
        if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                *err = xasprintf("%s: %s", s->path, msg ? msg : "error");
                sqlite3_free(msg);
                return -EIO;
        }
        return 0;
}

/* Undoes the open transaction; on an error path, whose message is already set. */
static void rollback(struct store *s)
{
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_open(const char *path, struct store **ret, char **err)
{
        struct store *s = xcalloc(1, sizeof *s);
        if (path)
                s->path = xstrdup(path);
        else {
                const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
                s->path = x && *x ? xasprintf("%s/mptcplab/results.db", x)
                                  : xasprintf("%s/.local/share/mptcplab/results.db",
                                              home && *home ? home : "/var/lib");
        }
        _cleanup_free_ char *dir = xstrdup(s->path);
        if (strrchr(dir, '/'))
                *strrchr(dir, '/') = 0;
        int r = strchr(s->path, '/') ? mkdir_p(dir) : 0;
        if (r < 0) {
                *err = xasprintf("%s: cannot create its directory: %s", s->path, strerror(-r));
                store_close(s);
                return r;
        }
        if (sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK) {
                r = fail(s, err, "cannot open");
                store_close(s);
                return r;
        }
        sqlite3_busy_timeout(s->db, 10000);
        int version = 0;
        sqlite3_stmt *st;
        if ((r = exec(s,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                      err)) < 0) {
                store_close(s);
                return r;
        }
        if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        if (version > SCHEMA_VERSION) {
                *err = xasprintf("%s: schema version %d is newer than this mptcplab (%d)", s->path,
                                 version, SCHEMA_VERSION);
                store_close(s);
                return -EPROTO;
        }
        for (; version < SCHEMA_VERSION; version++) {
                _cleanup_free_ char *sql =
                        xasprintf("BEGIN IMMEDIATE; %s PRAGMA user_version=%d; COMMIT;",
                                  migrations[version], version + 1);
                if ((r = exec(s, sql, err)) < 0) {
                        rollback(s);
                        store_close(s);
                        return r;
                }
        }
        *ret = s;
        return 0;
}

struct store *store_close(struct store *s)
{
        if (s) {
                if (s->db)
                        sqlite3_close(s->db);
                free(s->path);
                free(s);
        }
        return NULL;
}

const char *store_path(const struct store *s)
{
        return s->path;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
        if (v)
                sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

int64_t store_add_run(struct store *s, const struct store_run *r, char **err)
{
        sqlite3_stmt *st = NULL;
        int rc = exec(s, "BEGIN IMMEDIATE", err);
        if (rc < 0)
                return rc;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT INTO runs (run_id, series, side, topology, topology_file,"
                               " topology_hash, backend, host, kernels, tools, started_at,"
                               " ended_at, status, error, warmup, result_json)"
                               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                               -1, &st, NULL) != SQLITE_OK)
                goto fail;
        const char *texts[] = {r->run_id,        r->series,        r->side,       r->topology,
                               r->topology_file, r->topology_hash, r->backend,    r->host,
                               r->kernels,       r->tools,         r->started_at, r->ended_at,
                               r->status,        r->error};
        for (unsigned i = 0; i < ELEMENTSOF(texts); i++)
                bind_text(st, (int)i + 1, texts[i]);
        sqlite3_bind_int(st, 15, r->warmup);
        bind_text(st, 16, r->result_json);
        if (sqlite3_step(st) != SQLITE_DONE)
                goto fail;
        sqlite3_finalize(st);
        st = NULL;
        int64_t id = sqlite3_last_insert_rowid(s->db);
        if (sqlite3_prepare_v2(s->db,
                               "INSERT INTO samples (run, workload, metric, value, valid, reason)"
                               " VALUES (?,?,?,?,?,?)",
                               -1, &st, NULL) != SQLITE_OK)
                goto fail;
        for (unsigned i = 0; i < r->n_samples; i++) {
                const struct store_sample *x = &r->samples[i];
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, id);
                bind_text(st, 2, x->workload);
                bind_text(st, 3, x->metric);
                sqlite3_bind_double(st, 4, x->value);
                sqlite3_bind_int(st, 5, x->valid);
                bind_text(st, 6, x->reason);
                if (sqlite3_step(st) != SQLITE_DONE)
                        goto fail;
        }
        sqlite3_finalize(st);
        if ((rc = exec(s, "COMMIT", err)) < 0) {
                rollback(s);
                return rc;
        }
        return id;
fail:
        rc = fail(s, err, "cannot store the run");
        sqlite3_finalize(st);
        rollback(s);
        return rc;
}

static int query_json(struct store *s, const char *sql, const char *arg, unsigned limit,
                      struct json_object **ret, char **err);

int store_samples(struct store *s, const char *what, const char *kind, bool all,
                  struct json_object **ret, char **err)
{
        const char *where = streq(kind, "series") ? "r.series = ?1"
                            : streq(kind, "run")  ? "r.run_id = ?1"
                                                  : "r.id IN (SELECT run FROM baseline_runs WHERE "
                                                    "baseline = ?1)";
        _cleanup_free_ char *sql = xasprintf(
                "SELECT r.run_id AS run, r.side, s.workload, s.metric, s.value, s.valid, s.reason"
                " FROM samples s JOIN runs r ON r.id = s.run WHERE %s AND r.warmup = 0%s"
                " ORDER BY r.id",
                where, all ? "" : " AND s.valid = 1");
        return query_json(s, sql, what, 0, ret, err);
}

/* One statement with up to two text parameters; *changes (if asked) gets the rows changed. */
static int run_stmt(struct store *s, const char *sql, const char *a1, const char *a2, int *changes)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return -EIO;
        if (a1)
                sqlite3_bind_text(st, 1, a1, -1, SQLITE_TRANSIENT);
        if (a2)
                sqlite3_bind_text(st, 2, a2, -1, SQLITE_TRANSIENT);
        int r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
        if (changes)
                *changes = sqlite3_changes(s->db);
        sqlite3_finalize(st);
        return r;
}

int store_baseline_save(struct store *s, const char *name, const char *id, char **err)
{
        int rc = exec(s, "BEGIN IMMEDIATE", err), changes = 0;
        if (rc < 0)
                return rc;
        if (run_stmt(s,
                     "INSERT OR REPLACE INTO baselines (name, created_at, source)"
                     " VALUES (?1, strftime('%Y-%m-%dT%H:%M:%SZ','now'), ?2)",
                     name, id, NULL) < 0 ||
            run_stmt(s, "DELETE FROM baseline_runs WHERE baseline = ?1", name, NULL, NULL) < 0 ||
            /* a single run, or the counted runs of a series (of a compare: side A) */
            run_stmt(s,
                     "INSERT INTO baseline_runs (baseline, run) SELECT ?1, id FROM runs"
                     " WHERE (run_id = ?2 OR (series = ?2 AND (side IS NULL OR side = 'A')))"
                     " AND warmup = 0",
                     name, id, &changes) < 0) {
                rc = fail(s, err, "cannot save the baseline");
                rollback(s);
                return rc;
        }
        if (!changes) {
                rollback(s);
                *err = xasprintf("no run or series \"%s\" in %s (see mptcplab history)", id,
                                 s->path);
                return -ENOENT;
        }
        return exec(s, "COMMIT", err) < 0 ? -EIO : changes;
}

static int query_json(struct store *s, const char *sql, const char *arg, unsigned limit,
                      struct json_object **ret, char **err)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return fail(s, err, "query");
        if (arg)
                sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT);
        if (limit)
                sqlite3_bind_int(st, 2, (int)limit);
        struct json_object *arr = json_object_new_array();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                /* one object per row, the columns with their SQLite types */
                struct json_object *o = json_object_new_object(), *v;
                for (int i = 0; i < sqlite3_column_count(st); i++) {
                        switch (sqlite3_column_type(st, i)) {
                        case SQLITE_INTEGER:
                                v = json_object_new_int64(sqlite3_column_int64(st, i));
                                break;
                        case SQLITE_FLOAT:
                                v = json_object_new_double(sqlite3_column_double(st, i));
                                break;
                        case SQLITE_NULL:
                                v = NULL;
                                break;
                        default:
                                v = json_object_new_string(
                                        (const char *)sqlite3_column_text(st, i));
                        }
                        json_object_object_add(o, sqlite3_column_name(st, i), v);
                }
                json_object_array_add(arr, o);
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
                json_object_put(arr);
                return fail(s, err, "query");
        }
        *ret = arr;
        return 0;
}

int store_baseline_list(struct store *s, struct json_object **ret, char **err)
{
        return query_json(
                s,
                "SELECT b.name, b.created_at, b.source, count(br.run) AS runs,"
                " (SELECT topology FROM runs WHERE id ="
                "  (SELECT min(run) FROM baseline_runs WHERE baseline = b.name)) AS topology"
                " FROM baselines b LEFT JOIN baseline_runs br ON br.baseline = b.name"
                " GROUP BY b.name ORDER BY b.created_at",
                NULL, 0, ret, err);
}

int store_history(struct store *s, const char *topology, unsigned limit, struct json_object **ret,
                  char **err)
{
        return query_json(s,
                          "SELECT r.run_id, r.series, r.side, r.topology, r.backend, r.kernels,"
                          " r.started_at, r.status, r.warmup,"
                          " (SELECT printf('%.2f', value) FROM samples WHERE run = r.id AND"
                          "  metric = 'goodput_mbps' ORDER BY rowid DESC LIMIT 1) AS last_goodput"
                          " FROM runs r WHERE (?1 IS NULL OR r.topology = ?1)"
                          " ORDER BY r.id DESC LIMIT ?2",
                          topology, limit ? limit : 50, ret, err);
}
