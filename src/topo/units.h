/* units.h - the units tc users know. Pure functions; each returns 0 or a
 * negative errno and, on error, a short explanation in *why (static string). */
#pragma once
#include <stdint.h>

/* "20mbit", "1.5gbit", "800kbit", "100bit" -> bits per second. */
int parse_rate(const char *s, uint64_t *ret_bps, const char **why);
/* "10ms", "250us", "1.5s" -> microseconds. */
int parse_time(const char *s, uint64_t *ret_usec, const char **why);
/* "0.1%" -> 0.1 (percent, 0..100). */
int parse_percent(const char *s, double *ret_pct, const char **why);
/* "384MiB", "1GiB", "512KiB" -> bytes. */
int parse_size(const char *s, uint64_t *ret_bytes, const char **why);

/* Formats a rate as tc would print it ("20Mbit"). buf of at least 32 bytes. */
const char *format_rate(uint64_t bps, char *buf, unsigned len);
