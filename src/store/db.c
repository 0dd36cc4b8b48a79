#include "db.h"
#include "../shared/util.h"

#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#define MAX_PARAMS 32

struct db {
        enum db_dialect dialect;
        sqlite3 *lite;
        PGconn *pg;
        char *name;
        char *err;
        int errno_;
};

struct db_stmt {
        struct db *db;
        int changes;
        /* SQLite */
        sqlite3_stmt *lite;
        /* PostgreSQL: the statement in its own parameter syntax, the bound
         * values as text with their types, and the result once run */
        char *sql;
        char *values[MAX_PARAMS];
        Oid types[MAX_PARAMS];
        int n_params;
        PGresult *res;
        int row, n_rows;
        bool done;
};

/* PostgreSQL's type oids (catalog/pg_type.dat) */
enum {
        OID_BOOL = 16,
        OID_INT8 = 20,
        OID_INT2 = 21,
        OID_INT4 = 23,
        OID_TEXT = 25,
        OID_OID = 26,
        OID_FLOAT4 = 700,
        OID_FLOAT8 = 701,
        OID_NUMERIC = 1700
};

bool db_is_uri(const char *where)
{
        return where &&
               (!strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11));
}

static void set_err(struct db *d, int code, const char *fmt, ...) _printf_(3, 4);
static void set_err(struct db *d, int code, const char *fmt, ...)
{
        va_list ap;
        free(d->err);
        va_start(ap, fmt);
        if (vasprintf(&d->err, fmt, ap) < 0)
                d->err = NULL;
        va_end(ap);
        /* libpq ends its messages with a newline */
        size_t n = d->err ? strlen(d->err) : 0;
        while (n && (d->err[n - 1] == '\n' || d->err[n - 1] == ' '))
                d->err[--n] = 0;
        d->errno_ = code;
}

/* SQLite's last error, with msg (NULL: SQLite's own) for its text */
static void set_lite_err(struct db *d, const char *msg)
{
        int c = sqlite3_errcode(d->lite);
        set_err(d, c == SQLITE_BUSY || c == SQLITE_LOCKED ? -EBUSY : -EIO, "%s",
                msg ? msg : sqlite3_errmsg(d->lite));
}

/* The URI as messages may show it: a password in it becomes ***. */
static char *redact(const char *uri)
{
        char *s = xstrdup(uri);
        char *scheme = strstr(s, "://"), *at, *colon;
        if (scheme && (at = strchr(scheme + 3, '@')) &&
            (colon = memchr(scheme + 3, ':', at - scheme - 3))) {
                char *r = xasprintf("%.*s:***%s", (int)(colon - s), s, at);
                free(s);
                s = r;
        }
        char *pw = strstr(s, "password=");
        if (pw) {
                size_t end = strcspn(pw, "&");
                char *r = xasprintf("%.*spassword=***%s", (int)(pw - s), s, pw + end);
                free(s);
                s = r;
        }
        return s;
}

static void ignore_notice(void *arg, const char *message)
{
        log_debug("postgresql: %s", message);
}

static int open_pg(struct db *d, const char *uri, char **err)
{
        d->name = redact(uri);
        /* the URI's own settings come first; a connection attempt has a deadline */
        const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
        const char *vals[] = {uri, "mptcplab", "10", NULL};
        d->pg = PQconnectdbParams(keys, vals, 1);
        if (!d->pg || PQstatus(d->pg) != CONNECTION_OK) {
                *err = xasprintf("%s: cannot connect: %s", d->name,
                                 d->pg ? PQerrorMessage(d->pg) : "out of memory");
                size_t n = strlen(*err);
                while (n && (*err)[n - 1] == '\n')
                        (*err)[--n] = 0;
                return -ECONNREFUSED;
        }
        PQsetNoticeProcessor(d->pg, ignore_notice, NULL);
        /* no statement waits forever on a lock another lab holds */
        if (db_exec(d, "SET statement_timeout = '10min'") < 0) {
                *err = xasprintf("%s: %s", d->name, db_errmsg(d));
                return -EIO;
        }
        return 0;
}

int db_open(const char *where, struct db **ret, char **err)
{
        struct db *d = xcalloc(1, sizeof *d);
        int r;
        if (db_is_uri(where)) {
                d->dialect = DB_POSTGRESQL;
                r = open_pg(d, where, err);
        } else {
                d->dialect = DB_SQLITE;
                d->name = xstrdup(where);
                r = 0;
                if (sqlite3_open_v2(where, &d->lite, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                    NULL) != SQLITE_OK) {
                        *err = xasprintf("%s: cannot open: %s", where,
                                         d->lite ? sqlite3_errmsg(d->lite) : "out of memory");
                        r = -EIO;
                }
        }
        if (r < 0) {
                db_close(d);
                return r;
        }
        *ret = d;
        return 0;
}

struct db *db_close(struct db *d)
{
        if (d) {
                if (d->lite)
                        sqlite3_close(d->lite);
                if (d->pg)
                        PQfinish(d->pg);
                free(d->name);
                free(d->err);
                free(d);
        }
        return NULL;
}

enum db_dialect db_dialect(const struct db *d)
{
        return d->dialect;
}

const char *db_name(const struct db *d)
{
        return d->name;
}

const char *db_errmsg(const struct db *d)
{
        return d->err ? d->err : "unknown error";
}

int db_errno(const struct db *d)
{
        return d->errno_ ? d->errno_ : -EIO;
}

void db_busy_timeout(struct db *d, int ms)
{
        if (d->lite)
                sqlite3_busy_timeout(d->lite, ms);
}

int db_exec(struct db *d, const char *sql)
{
        if (d->lite) {
                char *msg = NULL;
                if (sqlite3_exec(d->lite, sql, NULL, NULL, &msg) != SQLITE_OK) {
                        set_lite_err(d, msg);
                        sqlite3_free(msg);
                        return d->errno_;
                }
                return 0;
        }
        PGresult *res = PQexec(d->pg, sql);
        ExecStatusType s = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        int r = 0;
        if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
                set_err(d, -EIO, "%s", res ? PQresultErrorMessage(res) : PQerrorMessage(d->pg));
                r = -EIO;
        }
        PQclear(res);
        return r;
}

/* ?N becomes $N, a bare ? the next number; string literals are left alone */
static char *pg_syntax(const char *sql)
{
        size_t n = strlen(sql);
        char *out = xcalloc(1, n * 3 + 1), *o = out;
        int next = 1;
        bool quoted = false;
        for (const char *p = sql; *p; p++) {
                if (*p == '\'')
                        quoted = !quoted;
                if (quoted || *p != '?') {
                        *o++ = *p;
                        continue;
                }
                if (p[1] >= '0' && p[1] <= '9') {
                        *o++ = '$';
                        continue;
                }
                o += sprintf(o, "$%d", next++);
        }
        return out;
}

struct db_stmt *db_prepare(struct db *d, const char *sql)
{
        struct db_stmt *st = xcalloc(1, sizeof *st);
        st->db = d;
        if (d->lite) {
                if (sqlite3_prepare_v2(d->lite, sql, -1, &st->lite, NULL) != SQLITE_OK) {
                        set_lite_err(d, NULL);
                        free(st);
                        return NULL;
                }
        } else
                st->sql = pg_syntax(sql);
        return st;
}

static void pg_bind(struct db_stmt *st, int i, char *v, Oid type)
{
        if (i < 1 || i > MAX_PARAMS) {
                free(v);
                return;
        }
        free(st->values[i - 1]);
        st->values[i - 1] = v;
        st->types[i - 1] = type;
        if (i > st->n_params)
                st->n_params = i;
}

void db_bind_text(struct db_stmt *st, int i, const char *v)
{
        if (st->lite) {
                if (v)
                        sqlite3_bind_text(st->lite, i, v, -1, SQLITE_TRANSIENT);
                else
                        sqlite3_bind_null(st->lite, i);
        } else
                pg_bind(st, i, v ? xstrdup(v) : NULL, OID_TEXT);
}

void db_bind_int64(struct db_stmt *st, int i, int64_t v)
{
        if (st->lite)
                sqlite3_bind_int64(st->lite, i, v);
        else
                pg_bind(st, i, xasprintf("%lld", (long long)v), OID_INT8);
}

void db_bind_double(struct db_stmt *st, int i, double v)
{
        /* SQLite keeps a NaN as NULL; PostgreSQL would keep it: both get NULL,
         * a sample without a value */
        if (st->lite) {
                if (isfinite(v) || isinf(v))
                        sqlite3_bind_double(st->lite, i, v);
                else
                        sqlite3_bind_null(st->lite, i);
        } else
                pg_bind(st, i,
                        isnan(v)   ? NULL
                        : isinf(v) ? xstrdup(v > 0 ? "Infinity" : "-Infinity")
                                   : xasprintf("%.17g", v),
                        OID_FLOAT8);
}

int db_step(struct db_stmt *st)
{
        struct db *d = st->db;
        if (st->lite) {
                int rc = sqlite3_step(st->lite);
                if (rc == SQLITE_ROW)
                        return 1;
                if (rc == SQLITE_DONE) {
                        st->changes = sqlite3_changes(d->lite);
                        return 0;
                }
                set_lite_err(d, NULL);
                return d->errno_;
        }
        if (!st->res && !st->done) {
                st->res = PQexecParams(d->pg, st->sql, st->n_params, st->types,
                                       (const char *const *)st->values, NULL, NULL, 0);
                ExecStatusType s = st->res ? PQresultStatus(st->res) : PGRES_FATAL_ERROR;
                if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
                        set_err(d, -EIO, "%s",
                                st->res ? PQresultErrorMessage(st->res) : PQerrorMessage(d->pg));
                        PQclear(st->res);
                        st->res = NULL;
                        return -EIO;
                }
                const char *n = PQcmdTuples(st->res);
                st->changes = n && *n ? atoi(n) : 0;
                st->n_rows = PQntuples(st->res);
                st->row = -1;
        }
        if (st->res && st->row + 1 < st->n_rows) {
                st->row++;
                return 1;
        }
        st->done = true;
        return 0;
}

void db_reset(struct db_stmt *st)
{
        if (st->lite)
                sqlite3_reset(st->lite);
        else {
                PQclear(st->res);
                st->res = NULL;
                st->done = false;
        }
}

int db_column_count(struct db_stmt *st)
{
        return st->lite ? sqlite3_column_count(st->lite) : st->res ? PQnfields(st->res) : 0;
}

const char *db_column_name(struct db_stmt *st, int i)
{
        return st->lite ? sqlite3_column_name(st->lite, i) : PQfname(st->res, i);
}

enum db_type db_column_type(struct db_stmt *st, int i)
{
        if (st->lite)
                switch (sqlite3_column_type(st->lite, i)) {
                case SQLITE_INTEGER:
                        return DB_INT;
                case SQLITE_FLOAT:
                        return DB_FLOAT;
                case SQLITE_NULL:
                        return DB_NULL;
                default:
                        return DB_TEXT;
                }
        if (PQgetisnull(st->res, st->row, i))
                return DB_NULL;
        switch (PQftype(st->res, i)) {
        case OID_INT2:
        case OID_INT4:
        case OID_INT8:
        case OID_OID:
                return DB_INT;
        case OID_FLOAT4:
        case OID_FLOAT8:
        case OID_NUMERIC:
                return DB_FLOAT;
        default:
                return DB_TEXT;
        }
}

const char *db_column_text(struct db_stmt *st, int i)
{
        if (st->lite)
                return (const char *)sqlite3_column_text(st->lite, i);
        return PQgetisnull(st->res, st->row, i) ? NULL : PQgetvalue(st->res, st->row, i);
}

int64_t db_column_int64(struct db_stmt *st, int i)
{
        if (st->lite)
                return sqlite3_column_int64(st->lite, i);
        const char *v = db_column_text(st, i);
        if (!v)
                return 0;
        if (PQftype(st->res, i) == OID_BOOL)
                return *v == 't';
        return strtoll(v, NULL, 10);
}

double db_column_double(struct db_stmt *st, int i)
{
        if (db_column_type(st, i) == DB_NULL)
                return NAN;
        if (st->lite)
                return sqlite3_column_double(st->lite, i);
        return strtod(db_column_text(st, i), NULL);
}

int db_changes(struct db_stmt *st)
{
        return st->changes;
}

struct db_stmt *db_finalize(struct db_stmt *st)
{
        if (st) {
                if (st->lite)
                        sqlite3_finalize(st->lite);
                PQclear(st->res);
                for (int i = 0; i < MAX_PARAMS; i++)
                        free(st->values[i]);
                free(st->sql);
                free(st);
        }
        return NULL;
}
