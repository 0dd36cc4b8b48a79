/* libFuzzer: a kernel's identity from its bytes (src/backend/kimage.c): a
 * machine's /boot/vmlinuz and /sys/kernel/notes come over ssh, untrusted.
 * The first byte chooses: even, the bytes are a bzImage; odd, raw notes. A
 * build id found is lower-case hex of 8 to 64 bytes. */
#include "backend/kimage.h"
#include "shared/util.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sane(const char *id)
{
        size_t n = strlen(id);
        if (n < 16 || n > 128 || n % 2 || strspn(id, "0123456789abcdef") != n)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        char *id = NULL, *err = NULL;
        if (data[0] % 2 == 0) {
                if (kimage_build_id(data + 1, size - 1, &id, &err) == 0)
                        sane(id);
                else if (!err)
                        abort(); /* a failure always says why */
        } else if (knotes_build_id(data + 1, size - 1, &id) == 0)
                sane(id);
        free(id);
        free(err);
        return 0;
}
