/* db.h - the SQL the store speaks, over SQLite (a file: the embedded default)
 * or PostgreSQL (a postgresql:// URI: one database several labs share).
 *
 * Statements are written once, in the dialect both engines accept: ?N (or ?)
 * parameters, ON CONFLICT, RETURNING, no engine functions for the time (the
 * caller binds iso8601_now()). What differs (the schema's DDL, the version record,
 * how a writer locks) is asked of db_dialect() by the store. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct db;
struct db_stmt;

enum db_dialect { DB_SQLITE, DB_POSTGRESQL };
enum db_type { DB_NULL, DB_INT, DB_FLOAT, DB_TEXT };

/* where: a path, or postgresql://... / postgres://... (libpq's URI). */
bool db_is_uri(const char *where);
int db_open(const char *where, struct db **ret, char **err);
struct db *db_close(struct db *d);
enum db_dialect db_dialect(const struct db *d);
/* what messages name: the path, or the URI without its password */
const char *db_name(const struct db *d);
/* the last error's text, and -EBUSY (another writer holds SQLite's lock:
 * worth waiting for) or -EIO */
const char *db_errmsg(const struct db *d);
int db_errno(const struct db *d);
/* how long SQLite waits for a lock before saying busy (no-op on PostgreSQL) */
void db_busy_timeout(struct db *d, int ms);

/* one or more statements without parameters */
int db_exec(struct db *d, const char *sql);

/* NULL with db_errmsg() set when the statement does not compile (SQLite) */
struct db_stmt *db_prepare(struct db *d, const char *sql);
/* i from 1; text NULL binds NULL, a NaN double binds NULL */
void db_bind_text(struct db_stmt *st, int i, const char *v);
void db_bind_int64(struct db_stmt *st, int i, int64_t v);
void db_bind_double(struct db_stmt *st, int i, double v);
/* 1: a row, 0: done, <0: failed (db_errmsg) */
int db_step(struct db_stmt *st);
/* back to before the first step, parameters kept */
void db_reset(struct db_stmt *st);
int db_column_count(struct db_stmt *st);
const char *db_column_name(struct db_stmt *st, int i);
enum db_type db_column_type(struct db_stmt *st, int i);
const char *db_column_text(struct db_stmt *st, int i); /* NULL for NULL */
int64_t db_column_int64(struct db_stmt *st, int i);
double db_column_double(struct db_stmt *st, int i); /* NaN for NULL */
/* rows the last finished INSERT, UPDATE or DELETE changed */
int db_changes(struct db_stmt *st);
struct db_stmt *db_finalize(struct db_stmt *st);
