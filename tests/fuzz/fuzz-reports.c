/* libFuzzer: the parsers of what the tools in a guest print (iperf3 -J,
 * mptcpload's JSON). A guest is untrusted (review A4): whatever is accepted
 * must be finite and not negative, or the -1 of "not reported". */
#include "load/iperf3.h"
#include "load/mptcpload-driver.h"
#include "shared/util.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sane(double v, bool unknown_ok)
{
        if (!isfinite(v) || (v < 0 && !(unknown_ok && v == -1)))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = xcalloc(1, size + 1), *err = NULL;
        memcpy(text, data, size);
        struct iperf3_result ir;
        if (iperf3_parse(text, &ir, &err) == 0) {
                sane(ir.sent_bps, false);
                sane(ir.recv_bps, false);
                sane(ir.seconds, false);
                sane(ir.cpu_host_pct, true);
                sane(ir.cpu_remote_pct, true);
                if (ir.retransmits < -1)
                        abort();
        } else if (!err)
                abort();
        iperf3_result_clear(&ir);
        free(err);
        err = NULL;
        struct mptcpload_result mr;
        if (mptcpload_parse(text, &mr, &err) == 0) {
                double v[] = {mr.throughput_bps, mr.tps,     mr.cps,   mr.p50_us,
                              mr.p99_us,         mr.p999_us, mr.cpu_s, mr.subflows};
                for (unsigned i = 0; i < ELEMENTSOF(v); i++)
                        sane(v[i], false);
                sane(mr.goodput_up_bps, true);
                sane(mr.goodput_down_bps, true);
                if (mr.fallbacks < 0 || mr.errors < 0 || mr.server_accepted < -1 ||
                    mr.server_errors < -1)
                        abort();
        } else if (!err)
                abort();
        free(err);
        free(text);
        return 0;
}
