/* libFuzzer: the topology parser on any bytes, with the --dump round trip.
 * Whatever parses must dump to YAML that parses again to the same dump (a
 * dump that does not read back was review P6); no input may hang (P1) or
 * take memory beyond the limits (P2). Seeds: tests/topo and topologies/. */
#include "topo/topo.h"
#include "shared/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct topo *t = NULL, *t2 = NULL;
        struct topo_errors errs = {0};
        if (topo_parse_text_set("fuzz.yaml", (const char *)data, size, NULL, 0, &t, &errs) < 0) {
                if (errs.n == 0)
                        abort(); /* a refusal must say why */
                topo_errors_clear(&errs);
                return 0;
        }
        char *y1 = topo_to_yaml(t);
        if (topo_parse_string("dump.yaml", y1, &t2, &errs) < 0) {
                for (unsigned i = 0; i < errs.n; i++)
                        fprintf(stderr, "%s\n", errs.msgs[i]);
                fprintf(stderr, "dump that does not parse:\n%s\n", y1);
                abort();
        }
        char *y2 = topo_to_yaml(t2);
        if (!streq(y1, y2)) {
                fprintf(stderr, "dump 1:\n%s\ndump 2:\n%s\n", y1, y2);
                abort();
        }
        free(y1);
        free(y2);
        topo_free(t);
        topo_free(t2);
        return 0;
}
