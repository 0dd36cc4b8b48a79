/* Expected values are the unit definitions tc(8) documents: kbit = 1000 bit/s,
 * mbit = 10^6, kibit = 1024; ms = 1000 us. */
#include "../../src/shared/check.h"
#include "topo/units.h"
#include "shared/spawn.h"
#include "shared/util.h"

#include <errno.h>
#include <stdint.h>

static void rate_ok(const char *s, uint64_t want)
{
        uint64_t v = 0;
        const char *why = NULL;
        int r = parse_rate(s, &v, &why);
        if (r < 0)
                fprintf(stderr, "rate %s: %s\n", s, why);
        CHECK_EQ_INT(r, 0);
        CHECK_EQ_INT(v, want);
}

static void rate_bad(const char *s, const char *why_part)
{
        uint64_t v = 12345;
        const char *why = NULL;
        CHECK(parse_rate(s, &v, &why) < 0);
        CHECK_EQ_INT(v, 12345); /* untouched on failure */
        CHECK(why && strstr(why, why_part));
}

/* A program stopped at its deadline that exits on SIGTERM: spawn_run says so,
 * and kills nothing else (it once sent SIGKILL to pid -0, its own group). */
static void check_spawn_deadline(void)
{
        char *argv[] = {"sleep", "5", NULL};
        char *out = NULL, *err = NULL;
        uint64_t t0 = now_usec();
        int st = 0, r = spawn_run(argv, 200, &out, &err, &st);
        CHECK_EQ_INT(r, -ETIMEDOUT);
        CHECK(now_usec() - t0 < 3000000);
        free(out);
        free(err);
        fprintf(stderr, "still here after the deadline of a spawned program\n");
}

int main(void)
{
        check_spawn_deadline();
        rate_ok("20mbit", 20000000);
        rate_ok("20Mbit", 20000000);
        rate_ok("1.5gbit", 1500000000);
        rate_ok("800kbit", 800000);
        rate_ok("100bit", 100);
        rate_ok("1kibit", 1024);
        rate_ok("2mibit", 2097152);
        rate_bad("20mbps", "bytes-per-second");
        rate_bad("20", "no unit");
        rate_bad("fast", "does not start with a number");
        rate_bad("-5mbit", "does not start with a number");
        rate_bad("20parsecs", "unknown unit");
        rate_bad("0mbit", "out of range");
        rate_bad("", "empty");

        uint64_t us;
        const char *why;
        CHECK_EQ_INT(parse_time("10ms", &us, &why), 0);
        CHECK_EQ_INT(us, 10000);
        CHECK_EQ_INT(parse_time("250us", &us, &why), 0);
        CHECK_EQ_INT(us, 250);
        CHECK_EQ_INT(parse_time("1.5s", &us, &why), 0);
        CHECK_EQ_INT(us, 1500000);
        CHECK_EQ_INT(parse_time("2min", &us, &why), 0);
        CHECK_EQ_INT(us, 120000000);
        CHECK(parse_time("10", &us, &why) < 0 && strstr(why, "no unit"));
        CHECK(parse_time("10 ms", &us, &why) < 0);
        CHECK(parse_time("2days", &us, &why) < 0 && strstr(why, "unknown unit"));

        double pct;
        CHECK_EQ_INT(parse_percent("0.1%", &pct, &why), 0);
        CHECK_NEAR(pct, 0.1, 1e-12);
        CHECK_EQ_INT(parse_percent("100%", &pct, &why), 0);
        CHECK(parse_percent("0.1", &pct, &why) < 0 && strstr(why, "not a percentage"));
        CHECK(parse_percent("101%", &pct, &why) == -ERANGE);

        uint64_t bytes;
        CHECK_EQ_INT(parse_size("384MiB", &bytes, &why), 0);
        CHECK_EQ_INT(bytes, 384ULL * 1024 * 1024);
        CHECK_EQ_INT(parse_size("1GiB", &bytes, &why), 0);
        CHECK_EQ_INT(bytes, 1ULL << 30);
        CHECK(parse_size("384", &bytes, &why) < 0);
        CHECK(parse_size("384MB", &bytes, &why) < 0);

        char buf[32];
        CHECK_STR(format_rate(20000000, buf, sizeof buf), "20Mbit");
        CHECK_STR(format_rate(2000000000, buf, sizeof buf), "2Gbit");
        CHECK_STR(format_rate(800000, buf, sizeof buf), "800Kbit");
        /* what format_rate prints, parse_rate reads back */
        uint64_t back;
        CHECK_EQ_INT(parse_rate(format_rate(1500000, buf, sizeof buf), &back, &why), 0);
        CHECK_EQ_INT(back, 1500000);
        return CHECK_DONE();
}
