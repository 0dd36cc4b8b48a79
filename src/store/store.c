#include "store.h"
#include "../shared/json.h"
#include "../shared/util.h"

#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#define SCHEMA_VERSION 3

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
        /* 1 -> 2: how the run shared its host, and each node's accelerator */
        "ALTER TABLE runs ADD COLUMN shared_host INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE runs ADD COLUMN accel TEXT;",
        /* 2 -> 3: the lab a run came from, runs excluded from history (with
         * why), and the change points found in it with their triage */
        "ALTER TABLE runs ADD COLUMN lab TEXT;"
        "ALTER TABLE runs ADD COLUMN excluded TEXT;"
        "CREATE TABLE change_points ("
        "  id INTEGER PRIMARY KEY,"
        "  topology TEXT NOT NULL, workload TEXT NOT NULL, metric TEXT NOT NULL,"
        "  series_before TEXT NOT NULL, series_after TEXT NOT NULL,"
        "  kernels_before TEXT, kernels_after TEXT,"
        "  mean_before REAL, mean_after REAL, rel REAL, p REAL,"
        "  regression INTEGER NOT NULL,"
        "  state TEXT NOT NULL DEFAULT 'new', note TEXT,"
        "  found_at TEXT NOT NULL, updated_at TEXT,"
        "  UNIQUE (topology, workload, metric, series_after));",
};

/* -EBUSY when another writer holds the database: worth waiting for */
static int sqlite_errno(struct store *s)
{
        int c = sqlite3_errcode(s->db);
        return c == SQLITE_BUSY || c == SQLITE_LOCKED ? -EBUSY : -EIO;
}

static int fail(struct store *s, char **err, const char *what)
{
        *err = xasprintf("%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
        return sqlite_errno(s);
}

static int exec(struct store *s, const char *sql, char **err)
{
        char *msg = NULL;
        if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
                *err = xasprintf("%s: %s", s->path, msg ? msg : "error");
                sqlite3_free(msg);
                return sqlite_errno(s);
        }
        return 0;
}

static int read_version(struct store *s)
{
        sqlite3_stmt *st;
        int version = -1;
        if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                version = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
        return version;
}

/* WAL keeps its index in shared memory, which only works among processes of
 * one host: a database on a network filesystem shared by lab hosts corrupts. */
static bool on_network_fs(const char *dir)
{
        struct statfs f;
        if (statfs(dir, &f) < 0)
                return false;
        switch ((unsigned long)f.f_type) {
        case 0x6969:     /* NFS */
        case 0xff534d42: /* CIFS */
        case 0xfe534d42: /* SMB2 */
        case 0x517b:     /* SMB */
        case 0x65735546: /* FUSE (sshfs and friends) */
        case 0x01021997: /* 9p */
        case 0x47504653: /* GPFS */
        case 0x00c36400: /* Ceph */
                return true;
        }
        return false;
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
        else
                s->path = lab_data_path("results.db");
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
        if (on_network_fs(strchr(s->path, '/') ? dir : ".")) {
                *err = xasprintf("%s: on a network filesystem; SQLite's WAL needs every process "
                                 "on one host (use a local path, one database per lab host, "
                                 "--db)",
                                 s->path);
                store_close(s);
                return -EREMOTE;
        }
        sqlite3_busy_timeout(s->db, 10000);
        /* switching a new file to WAL takes a lock that SQLite's busy handler does
         * not wait for: a second process opening it at that moment retries */
        for (uint64_t until = now_usec() + 10000000;;) {
                r = exec(s,
                         "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                         "PRAGMA foreign_keys=ON;",
                         err);
                if (r != -EBUSY || now_usec() >= until)
                        break;
                free(*err);
                *err = NULL;
                usleep(20000);
        }
        if (r < 0) {
                store_close(s);
                return r;
        }
        /* migrations under the write lock, the version read again inside it: two
         * processes opening a new database at once must not both migrate */
        for (;;) {
                int version = read_version(s);
                if (version > SCHEMA_VERSION) {
                        *err = xasprintf("%s: schema version %d is newer than this mptcplab (%d)",
                                         s->path, version, SCHEMA_VERSION);
                        store_close(s);
                        return -EPROTO;
                }
                if (version == SCHEMA_VERSION)
                        break;
                if ((r = exec(s, "BEGIN IMMEDIATE", err)) < 0) {
                        store_close(s);
                        return r;
                }
                version = read_version(s);
                if (version >= 0 && version < SCHEMA_VERSION) {
                        _cleanup_free_ char *sql = xasprintf("%s PRAGMA user_version=%d;",
                                                             migrations[version], version + 1);
                        r = exec(s, sql, err);
                }
                if (version < 0)
                        r = fail(s, err, "cannot read the schema version");
                if (r < 0 || (r = exec(s, "COMMIT", err)) < 0) {
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

static int64_t add_run_once(struct store *s, const struct store_run *r, char **err)
{
        sqlite3_stmt *st = NULL;
        int rc = exec(s, "BEGIN IMMEDIATE", err);
        if (rc < 0)
                return rc;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT INTO runs (run_id, series, side, topology, topology_file,"
                               " topology_hash, backend, host, kernels, tools, started_at,"
                               " ended_at, status, error, warmup, result_json, shared_host, accel,"
                               " lab)"
                               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
        sqlite3_bind_int(st, 17, r->shared_host);
        bind_text(st, 18, r->accel);
        bind_text(st, 19, r->lab);
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

static const char *where_of(const char *kind)
{
        return streq(kind, "series") ? "r.series = ?1"
               : streq(kind, "run")  ? "r.run_id = ?1"
                                    : "r.id IN (SELECT run FROM baseline_runs WHERE baseline = ?1)";
}

int store_run_reports(struct store *s, const char *what, const char *kind, struct json_object **ret,
                      char **err)
{
        _cleanup_free_ char *sql =
                xasprintf("SELECT r.run_id AS run, r.side, r.result_json FROM runs r WHERE %s AND "
                          "r.warmup = 0 ORDER BY r.id",
                          where_of(kind));
        struct json_object *rows = NULL;
        int r = query_json(s, sql, what, 0, &rows, err);
        if (r < 0)
                return r;
        /* the run JSON itself, with its side */
        struct json_object *out = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(rows); i++) {
                struct json_object *row = json_object_array_get_idx(rows, i);
                const char *text = jstr(row, "result_json"), *side = jstr(row, "side");
                struct json_object *rj = text ? json_tokener_parse(text) : NULL;
                if (!rj)
                        continue;
                json_object_object_add(rj, "side", side ? json_object_new_string(side) : NULL);
                json_object_array_add(out, rj);
        }
        json_object_put(rows);
        *ret = out;
        return 0;
}

int store_run_meta(struct store *s, const char *what, const char *kind, struct json_object **ret,
                   char **err)
{
        _cleanup_free_ char *sql = xasprintf(
                "SELECT r.run_id, r.topology_hash, r.host, r.accel, r.tools, r.lab, r.kernels"
                " FROM runs r WHERE %s AND r.warmup = 0 ORDER BY r.id",
                where_of(kind));
        return query_json(s, sql, what, 0, ret, err);
}

int store_metric_history(struct store *s, const char *topology, const char *metric,
                         struct json_object **ret, char **err)
{
        if (!*metric || strspn(metric, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(metric)) {
                *err = xasprintf("not a metric name: %s", metric);
                return -EINVAL;
        }
        _cleanup_free_ char *sql = xasprintf(
                "SELECT r.run_id AS run, r.series, r.started_at, s.workload, s.value,"
                " (SELECT count(*) FROM baseline_runs b WHERE b.run = r.id) AS in_baseline"
                " FROM samples s JOIN runs r ON r.id = s.run"
                " WHERE r.topology = ?1 AND s.metric = '%s' AND s.valid = 1 AND r.warmup = 0"
                " ORDER BY r.id",
                metric);
        return query_json(s, sql, topology, 0, ret, err);
}

/* The samples a query selects (columns: run_id, side, workload, metric,
 * value, valid, reason, accel, series), appended to *ret. */
static int samples_query(struct store *s, const char *sql, const char *const *args, unsigned n_args,
                         struct samples *ret, char **err)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
                return fail(s, err, "query");
        for (unsigned i = 0; i < n_args; i++)
                sqlite3_bind_text(st, (int)i + 1, args[i], -1, SQLITE_TRANSIENT);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                /* SQLite keeps a NaN as NULL: a sample with no value */
                double value = sqlite3_column_type(st, 4) == SQLITE_NULL
                                       ? NAN
                                       : sqlite3_column_double(st, 4);
                if (samples_add(ret, (const char *)sqlite3_column_text(st, 0),
                                (const char *)sqlite3_column_text(st, 1),
                                (const char *)sqlite3_column_text(st, 7),
                                (const char *)sqlite3_column_text(st, 2),
                                (const char *)sqlite3_column_text(st, 3), value,
                                sqlite3_column_int(st, 5) != 0,
                                (const char *)sqlite3_column_text(st, 6)) &&
                    sqlite3_column_text(st, 8))
                        ret->v[ret->n - 1].series =
                                xstrdup((const char *)sqlite3_column_text(st, 8));
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return fail(s, err, "query");
        return 0;
}

#define SAMPLE_COLUMNS                                                                             \
        "SELECT r.run_id, r.side, s.workload, s.metric, s.value, s.valid, s.reason, r.accel,"      \
        " r.series FROM samples s JOIN runs r ON r.id = s.run"

int store_samples(struct store *s, const char *what, const char *kind, bool all,
                  struct samples *ret, char **err)
{
        _cleanup_free_ char *sql =
                xasprintf(SAMPLE_COLUMNS " WHERE %s AND r.warmup = 0%s ORDER BY r.id, s.rowid",
                          where_of(kind), all ? "" : " AND s.valid = 1");
        const char *args[] = {what};
        return samples_query(s, sql, args, 1, ret, err);
}

int store_samples_like(struct store *s, const char *topology_hash, const char *kernels,
                       const char *accel, struct samples *ret, char **err)
{
        const char *args[] = {topology_hash, kernels, accel ? accel : ""};
        return samples_query(
                s,
                SAMPLE_COLUMNS
                " WHERE r.topology_hash = ?1 AND r.kernels = ?2 AND"
                " coalesce(r.accel, '') = ?3 AND r.warmup = 0 AND r.excluded IS NULL AND"
                " r.shared_host = 0 AND s.valid = 1"
                " ORDER BY r.id, s.rowid",
                args, 3, ret, err);
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

/* The rows a prepared statement gives, as JSON objects with each column in its
 * SQLite type; finalizes the statement. */
static int rows_json(struct store *s, sqlite3_stmt *st, struct json_object **ret, char **err)
{
        struct json_object *arr = json_object_new_array();
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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
        return rows_json(s, st, ret, err);
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

int64_t store_add_run(struct store *s, const struct store_run *r, char **err)
{
        /* another writer (a long baseline save, a second lab process) may hold
         * the lock: a finished run waits for it rather than being dropped */
        const char *env = getenv("MPTCPLAB_DB_WAIT_S");
        double wait_s = env && *env ? strtod(env, NULL) : 600;
        uint64_t until = now_usec() + (uint64_t)(wait_s > 0 ? wait_s * 1e6 : 0);
        bool said = false;
        sqlite3_busy_timeout(s->db, 500); /* our loop waits, and says so */
        for (;;) {
                int64_t id = add_run_once(s, r, err);
                if (id != -EBUSY || now_usec() >= until) {
                        sqlite3_busy_timeout(s->db, 10000);
                        return id;
                }
                if (!said)
                        log_warn("%s is locked by another writer; run %s waits for it (up to "
                                 "%.0f s)",
                                 s->path, r->run_id, wait_s);
                said = true;
                free(*err);
                *err = NULL;
                usleep(200000);
        }
}

/* ---- spool: a run that could not be stored, kept as JSON for `mptcplab import` ---- */

static void add_str(struct json_object *o, const char *k, const char *v)
{
        json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

struct json_object *store_run_to_json(const struct store_run *r)
{
        struct json_object *o = json_object_new_object();
        add_str(o, "format", "mptcplab-run-spool-1");
        const char *keys[] = {"run_id",        "series",  "side",    "topology",   "topology_file",
                              "topology_hash", "backend", "host",    "started_at", "ended_at",
                              "status",        "error",   "kernels", "tools",      "result_json",
                              "accel",         "lab"};
        const char *vals[] = {
                r->run_id,        r->series,  r->side,    r->topology,   r->topology_file,
                r->topology_hash, r->backend, r->host,    r->started_at, r->ended_at,
                r->status,        r->error,   r->kernels, r->tools,      r->result_json,
                r->accel,         r->lab};
        for (unsigned i = 0; i < ELEMENTSOF(keys); i++)
                add_str(o, keys[i], vals[i]);
        json_object_object_add(o, "warmup", json_object_new_boolean(r->warmup));
        json_object_object_add(o, "shared_host", json_object_new_boolean(r->shared_host));
        struct json_object *a = json_object_new_array();
        for (unsigned i = 0; i < r->n_samples; i++) {
                struct json_object *x = json_object_new_object();
                add_str(x, "workload", r->samples[i].workload);
                add_str(x, "metric", r->samples[i].metric);
                json_object_object_add(x, "value", json_object_new_double(r->samples[i].value));
                json_object_object_add(x, "valid", json_object_new_boolean(r->samples[i].valid));
                add_str(x, "reason", r->samples[i].reason);
                json_object_array_add(a, x);
        }
        json_object_object_add(o, "samples", a);
        return o;
}

int64_t store_import_json(struct store *s, struct json_object *o, char **err)
{
        const char *fmt = jstr(o, "format");
        if (!fmt || !streq(fmt, "mptcplab-run-spool-1")) {
                *err = xasprintf("not a spooled run (format \"%s\")", fmt ? fmt : "");
                return -EINVAL;
        }
        struct store_run r = {.run_id = jstr(o, "run_id"),
                              .series = jstr(o, "series"),
                              .side = jstr(o, "side"),
                              .topology = jstr(o, "topology"),
                              .topology_file = jstr(o, "topology_file"),
                              .topology_hash = jstr(o, "topology_hash"),
                              .backend = jstr(o, "backend"),
                              .host = jstr(o, "host"),
                              .started_at = jstr(o, "started_at"),
                              .ended_at = jstr(o, "ended_at"),
                              .status = jstr(o, "status"),
                              .error = jstr(o, "error"),
                              .kernels = jstr(o, "kernels"),
                              .tools = jstr(o, "tools"),
                              .result_json = jstr(o, "result_json"),
                              .accel = jstr(o, "accel"),
                              .lab = jstr(o, "lab")};
        jbool(o, "warmup", &r.warmup);
        jbool(o, "shared_host", &r.shared_host);
        struct json_object *a = jarr(o, "samples");
        if (!r.run_id || !r.series || !r.topology || !r.backend || !r.started_at || !r.ended_at ||
            !r.status || !a) {
                *err = xasprintf("spooled run lacks run_id, series, topology, backend, times, "
                                 "status or samples");
                return -EINVAL;
        }
        size_t n = json_object_array_length(a);
        struct store_sample *smp = xcalloc(n + 1, sizeof *smp);
        for (size_t i = 0; i < n; i++) {
                struct json_object *x = json_object_array_get_idx(a, i);
                smp[i].workload = jstr(x, "workload");
                smp[i].metric = jstr(x, "metric");
                smp[i].reason = jstr(x, "reason");
                jbool(x, "valid", &smp[i].valid);
                if (!smp[i].workload || !smp[i].metric || !jdouble(x, "value", &smp[i].value)) {
                        *err = xasprintf("spooled run: sample %zu is incomplete", i + 1);
                        free(smp);
                        return -EINVAL;
                }
        }
        r.samples = smp;
        r.n_samples = (unsigned)n;
        int64_t id = store_add_run(s, &r, err);
        free(smp);
        return id;
}

/* ---- nightly: history, change points and their triage, exclusions ---- */

int store_history_samples(struct store *s, const char *topology, struct samples *ret, char **err)
{
        const char *args[] = {topology};
        return samples_query(s,
                             SAMPLE_COLUMNS " WHERE r.topology = ?1 AND r.warmup = 0 AND"
                                            " r.excluded IS NULL AND r.shared_host = 0 AND"
                                            " s.valid = 1 ORDER BY r.id, s.rowid",
                             args, 1, ret, err);
}

int store_series_kernels(struct store *s, const char *series, char **ret, char **err)
{
        struct json_object *rows = NULL;
        int r = query_json(s,
                           "SELECT kernels FROM runs WHERE series = ?1 AND warmup = 0 ORDER BY id"
                           " LIMIT 1",
                           series, 0, &rows, err);
        if (r < 0)
                return r;
        const char *k = jstr(json_object_array_get_idx(rows, 0), "kernels");
        *ret = k ? xstrdup(k) : NULL;
        json_object_put(rows);
        return 0;
}

int64_t store_change_point_add(struct store *s, const struct store_change_point *c, bool *is_new,
                               char **err)
{
        sqlite3_stmt *st;
        *is_new = false;
        if (sqlite3_prepare_v2(s->db,
                               "INSERT OR IGNORE INTO change_points (topology, workload, metric,"
                               " series_before, series_after, kernels_before, kernels_after,"
                               " mean_before, mean_after, rel, p, regression, found_at)"
                               " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,"
                               " strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
                               -1, &st, NULL) != SQLITE_OK)
                return fail(s, err, "change point");
        const char *t[] = {c->topology,     c->workload,       c->metric,       c->series_before,
                           c->series_after, c->kernels_before, c->kernels_after};
        for (unsigned i = 0; i < ELEMENTSOF(t); i++)
                bind_text(st, (int)i + 1, t[i]);
        sqlite3_bind_double(st, 8, c->mean_before);
        sqlite3_bind_double(st, 9, c->mean_after);
        sqlite3_bind_double(st, 10, c->rel);
        sqlite3_bind_double(st, 11, c->p);
        sqlite3_bind_int(st, 12, c->regression);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return fail(s, err, "change point");
        *is_new = sqlite3_changes(s->db) > 0;
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT id FROM change_points WHERE topology = ?1 AND workload = ?2"
                               " AND metric = ?3 AND series_after = ?4",
                               -1, &q, NULL) != SQLITE_OK)
                return fail(s, err, "change point");
        bind_text(q, 1, c->topology);
        bind_text(q, 2, c->workload);
        bind_text(q, 3, c->metric);
        bind_text(q, 4, c->series_after);
        int64_t id = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -EIO;
        sqlite3_finalize(q);
        return id;
}

int store_changes(struct store *s, const char *topology, const char *state,
                  struct json_object **ret, char **err)
{
        /* two optional filters, as text parameters that match anything when empty */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db,
                               "SELECT id, topology, workload, metric, series_before, series_after,"
                               " kernels_before, kernels_after, mean_before, mean_after, rel, p,"
                               " regression, state, note, found_at, updated_at FROM change_points"
                               " WHERE (?1 = '' OR topology = ?1) AND (?2 = '' OR state = ?2)"
                               " ORDER BY id",
                               -1, &st, NULL) != SQLITE_OK)
                return fail(s, err, "changes");
        sqlite3_bind_text(st, 1, topology ? topology : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, state ? state : "", -1, SQLITE_TRANSIENT);
        return rows_json(s, st, ret, err);
}

int store_change_set_state(struct store *s, int64_t id, const char *state, const char *note,
                           char **err)
{
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db,
                               "UPDATE change_points SET state = ?1, note = ?2,"
                               " updated_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE id = ?3",
                               -1, &st, NULL) != SQLITE_OK)
                return fail(s, err, "changes");
        bind_text(st, 1, state);
        bind_text(st, 2, note);
        sqlite3_bind_int64(st, 3, id);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
                return fail(s, err, "changes");
        if (sqlite3_changes(s->db) == 0) {
                *err = xasprintf("no change point %lld in %s (mptcplab changes)", (long long)id,
                                 s->path);
                return -ENOENT;
        }
        return 0;
}

int store_exclude(struct store *s, const char *run_id, const char *reason, char **err)
{
        int changes = 0;
        if (run_stmt(s, "UPDATE runs SET excluded = ?2 WHERE run_id = ?1 OR series = ?1", run_id,
                     reason, &changes) < 0)
                return fail(s, err, "exclude");
        if (!changes) {
                *err = xasprintf("no run or series %s in %s (mptcplab history)", run_id, s->path);
                return -ENOENT;
        }
        return changes;
}
