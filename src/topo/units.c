#include "units.h"
#include "../shared/limits.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct unit {
        const char *name;
        double mult;
};

/* Splits "12.5mbit" into 12.5 and "mbit": decimal digits with at most one
 * point, nothing else (strtod alone would take hex floats, exponents, inf). */
static int split_number(const char *s, double *ret_v, const char **ret_unit, const char **why)
{
        if (!s || !*s) {
                *why = "is empty";
                return -EINVAL;
        }
        if (!((*s >= '0' && *s <= '9') || *s == '.')) {
                *why = "does not start with a number";
                return -EINVAL;
        }
        size_t n = strspn(s, "0123456789.");
        const char *dot = memchr(s, '.', n);
        if (n > 32 || (dot && memchr(dot + 1, '.', n - (size_t)(dot + 1 - s))) ||
            (n == 1 && *s == '.')) {
                *why = "is not a decimal number";
                return -EINVAL;
        }
        char num[33];
        memcpy(num, s, n);
        num[n] = 0;
        char *end;
        errno = 0;
        double v = strtod(num, &end);
        end = (char *)s + n;
        if (errno || !isfinite(v) || v < 0) {
                *why = "is not a non-negative number";
                return -EINVAL;
        }
        *ret_v = v;
        *ret_unit = end;
        return 0;
}

static int lookup(const struct unit *units, const char *u, double *mult)
{
        for (; units->name; units++)
                if (strcasecmp(units->name, u) == 0) {
                        *mult = units->mult;
                        return 0;
                }
        return -EINVAL;
}

int parse_rate(const char *s, uint64_t *ret_bps, const char **why)
{
        static const struct unit units[] = {
                {"bit", 1},           {"kbit", 1e3},           {"mbit", 1e6},
                {"gbit", 1e9},        {"tbit", 1e12},          {"kibit", 1024.0},
                {"mibit", 1048576.0}, {"gibit", 1073741824.0}, {NULL, 0},
        };
        double v, mult;
        const char *u;
        int r = split_number(s, &v, &u, why);
        if (r < 0)
                return r;
        if (!*u) {
                *why = "has no unit (try 20mbit)";
                return -EINVAL;
        }
        if (lookup(units, u, &mult) < 0) {
                size_t n = strlen(u);
                /* tc reads "mbps" as megabytes per second: a classic factor-8 mistake. */
                *why = n >= 3 && strcasecmp(u + n - 3, "bps") == 0
                               ? "uses a bytes-per-second unit (write bits: kbit, mbit, gbit)"
                               : "has an unknown unit (expected bit, kbit, mbit, gbit)";
                return -EINVAL;
        }
        double bps = v * mult;
        if (bps < (double)LIM_RATE_MIN_BPS || bps > (double)LIM_RATE_MAX_BPS) {
                *why = "is out of range (8bit to 34gbit)";
                return -ERANGE;
        }
        *ret_bps = (uint64_t)llround(bps);
        return 0;
}

int parse_time(const char *s, uint64_t *ret_usec, const char **why)
{
        static const struct unit units[] = {
                {"us", 1},    {"usec", 1},  {"ms", 1e3},  {"msec", 1e3},   {"s", 1e6},
                {"sec", 1e6}, {"min", 6e7}, {"h", 3.6e9}, {"hour", 3.6e9}, {NULL, 0},
        };
        double v, mult;
        const char *u;
        int r = split_number(s, &v, &u, why);
        if (r < 0)
                return r;
        if (!*u) {
                *why = "has no unit (try 10ms)";
                return -EINVAL;
        }
        if (lookup(units, u, &mult) < 0) {
                *why = "has an unknown unit (expected us, ms, s, min, h)";
                return -EINVAL;
        }
        double us = v * mult;
        if (us > 86400e6) {
                *why = "is out of range (at most one day)";
                return -ERANGE;
        }
        *ret_usec = (uint64_t)llround(us);
        return 0;
}

int parse_percent(const char *s, double *ret_pct, const char **why)
{
        double v;
        const char *u;
        int r = split_number(s, &v, &u, why);
        if (r < 0)
                return r;
        if (strcmp(u, "%") != 0) {
                *why = "is not a percentage (try 0.1%)";
                return -EINVAL;
        }
        if (v > 100) {
                *why = "is above 100%";
                return -ERANGE;
        }
        *ret_pct = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret_bytes, const char **why)
{
        static const struct unit units[] = {
                {"B", 1},      {"KiB", 1024.0},  {"MiB", 1048576.0},  {"GiB", 1073741824.0},
                {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0}, {NULL, 0},
        };
        double v, mult;
        const char *u;
        int r = split_number(s, &v, &u, why);
        if (r < 0)
                return r;
        if (!*u) {
                *why = "has no unit (try 384MiB)";
                return -EINVAL;
        }
        if (lookup(units, u, &mult) < 0) {
                *why = "has an unknown unit (expected KiB, MiB, GiB)";
                return -EINVAL;
        }
        double bytes = v * mult;
        if (!isfinite(bytes) || bytes > 1099511627776.0) {
                *why = "is out of range (at most 1TiB)";
                return -ERANGE;
        }
        *ret_bytes = (uint64_t)llround(bytes);
        return 0;
}

const char *format_rate(uint64_t bps, char *buf, unsigned len)
{
        if (bps >= 1000000000ULL && bps % 1000000000ULL == 0)
                snprintf(buf, len, "%lluGbit", (unsigned long long)(bps / 1000000000ULL));
        else if (bps >= 1000000ULL)
                snprintf(buf, len, "%gMbit", (double)bps / 1e6);
        else if (bps >= 1000ULL)
                snprintf(buf, len, "%gKbit", (double)bps / 1e3);
        else
                snprintf(buf, len, "%llubit", (unsigned long long)bps);
        return buf;
}
