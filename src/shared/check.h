/* check.h - a tiny assertion layer for unit tests: failures are counted and
 * printed with file:line; main returns failures ? 1 : 0. */
#pragma once
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
                        check_failures++;                                                          \
                }                                                                                  \
        } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
        do {                                                                                       \
                long long _a = (long long)(a), _b = (long long)(b);                                \
                if (_a != _b) {                                                                    \
                        fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__,  \
                                #a, _a, _b);                                                       \
                        check_failures++;                                                          \
                }                                                                                  \
        } while (0)

#define CHECK_NEAR(a, b, eps)                                                                      \
        do {                                                                                       \
                double _a = (a), _b = (b);                                                         \
                if (fabs(_a - _b) > (eps)) {                                                       \
                        fprintf(stderr, "%s:%d: %s == %.9g, expected %.9g\n", __FILE__, __LINE__,  \
                                #a, _a, _b);                                                       \
                        check_failures++;                                                          \
                }                                                                                  \
        } while (0)

#define CHECK_STR(a, b)                                                                            \
        do {                                                                                       \
                const char *_a = (a), *_b = (b);                                                   \
                if (!_a || !_b || strcmp(_a, _b)) {                                                \
                        fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,        \
                                __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)");             \
                        check_failures++;                                                          \
                }                                                                                  \
        } while (0)

#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d failure(s)\n", check_failures), 1) : 0)
