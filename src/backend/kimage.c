/* kimage.c - a kernel's identity from its bytes: the GNU build id inside a
 * bzImage (its compressed vmlinux: gzip, xz, lzma, lz4 or zstd, as the x86
 * boot protocol's setup header locates it) and the one a running kernel
 * reports in /sys/kernel/notes.
 * Two builds of the same source and release differ in their build id, so
 * "the machine runs the image we asked for" is checked with it. Every length
 * and offset comes from the image: checked before use (untrusted input). */
#include "kimage.h"
#include "../shared/util.h"

#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

static uint32_t le32(const unsigned char *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* the uncompressed size the kernel's build appends to its payload is an
 * upper bound we trust only this far */
#define VMLINUX_MAX (256u << 20)
/* what an xz or lzma decoder may allocate: a kernel's payload is made with a
 * dictionary of at most 32 MiB; a header asking more is not a kernel's */
#define LZMA_MEMLIMIT (128u << 20)

static int unpack_gzip(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                       size_t *got)
{
        z_stream z = {.next_in = (Bytef *)in,
                      .avail_in = (uInt)len,
                      .next_out = out,
                      .avail_out = (uInt)cap};
        if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
                return -ENOMEM;
        int r = inflate(&z, Z_FINISH);
        *got = z.total_out;
        inflateEnd(&z);
        return r == Z_STREAM_END || r == Z_BUF_ERROR ? 0 : -EBADMSG;
}

static int unpack_lzma(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                       size_t *got, bool xz)
{
        lzma_stream s = LZMA_STREAM_INIT;
        lzma_ret r = xz ? lzma_stream_decoder(&s, LZMA_MEMLIMIT, LZMA_CONCATENATED)
                        : lzma_alone_decoder(&s, LZMA_MEMLIMIT);
        if (r != LZMA_OK)
                return -ENOMEM;
        s.next_in = in;
        s.avail_in = len;
        s.next_out = out;
        s.avail_out = cap;
        r = lzma_code(&s, LZMA_FINISH);
        *got = s.total_out;
        lzma_end(&s);
        /* trailing bytes after the stream (the appended size) are not an error */
        return r == LZMA_STREAM_END || r == LZMA_OK || r == LZMA_DATA_ERROR ? (*got ? 0 : -EBADMSG)
                                                                            : -EBADMSG;
}

/* lz4's legacy frame (what the kernel's build makes): blocks of at most
 * 8 MiB, each prefixed by its compressed size */
static int unpack_lz4(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                      size_t *got)
{
        size_t i = 4, o = 0;
        while (i + 4 <= len && o < cap) {
                uint32_t bs = le32(in + i);
                if (bs == 0x184C2102u) { /* a new frame: concatenated */
                        i += 4;
                        continue;
                }
                i += 4;
                if (bs == 0 || bs > len - i || bs > (uint32_t)LZ4_compressBound(8 << 20))
                        break; /* the appended size, or the end */
                int n = LZ4_decompress_safe((const char *)in + i, (char *)out + o, (int)bs,
                                            (int)(cap - o < (8u << 20) ? cap - o : 8u << 20));
                if (n < 0)
                        return -EBADMSG;
                o += (size_t)n;
                i += bs;
        }
        *got = o;
        return o ? 0 : -EBADMSG;
}

static int unpack_zstd(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
                       size_t *got)
{
        ZSTD_DStream *d = ZSTD_createDStream();
        if (!d)
                return -ENOMEM;
        ZSTD_inBuffer ib = {in, len, 0};
        ZSTD_outBuffer ob = {out, cap, 0};
        size_t r = 0;
        while (ib.pos < ib.size && ob.pos < ob.size) {
                r = ZSTD_decompressStream(d, &ob, &ib);
                if (ZSTD_isError(r) || r == 0)
                        break;
        }
        ZSTD_freeDStream(d);
        *got = ob.pos;
        return ob.pos && !ZSTD_isError(r) ? 0 : -EBADMSG;
}

/* The GNU build id among ELF notes (namesz, descsz, type, name, desc, each
 * padded to 4 bytes), as lower-case hex */
int knotes_build_id(const void *notes, size_t len, char **ret)
{
        const unsigned char *p = notes;
        size_t i = 0;
        while (i + 12 <= len) {
                uint32_t nsz = le32(p + i), dsz = le32(p + i + 4), type = le32(p + i + 8);
                size_t name = i + 12, npad = ((size_t)nsz + 3) & ~(size_t)3,
                       dpad = ((size_t)dsz + 3) & ~(size_t)3;
                if (nsz > len || dsz > len || npad + dpad > len - name)
                        return -EBADMSG;
                if (type == NT_GNU_BUILD_ID && nsz == 4 && !memcmp(p + name, "GNU", 4) &&
                    dsz >= 8 && dsz <= 64) {
                        char *hex = xcalloc(1, 2 * dsz + 1);
                        for (uint32_t k = 0; k < dsz; k++)
                                sprintf(hex + 2 * k, "%02x", p[name + npad + k]);
                        *ret = hex;
                        return 0;
                }
                i = name + npad + dpad;
        }
        return -ENOENT;
}

static int elf_build_id(const unsigned char *e, size_t len, char **ret)
{
        if (len < sizeof(Elf64_Ehdr) || memcmp(e, ELFMAG, SELFMAG) || e[EI_CLASS] != ELFCLASS64)
                return -EBADMSG;
        Elf64_Ehdr h;
        memcpy(&h, e, sizeof h);
        if (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phoff > len ||
            (size_t)h.e_phnum * sizeof(Elf64_Phdr) > len - h.e_phoff)
                return -EBADMSG;
        for (unsigned i = 0; i < h.e_phnum; i++) {
                Elf64_Phdr ph;
                memcpy(&ph, e + h.e_phoff + i * sizeof ph, sizeof ph);
                if (ph.p_type != PT_NOTE || ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
                        continue;
                if (knotes_build_id(e + ph.p_offset, ph.p_filesz, ret) == 0)
                        return 0;
        }
        return -ENOENT;
}

/* the x86 boot protocol's setup header: setup_sects at 0x1f1, "HdrS" at
 * 0x202, the version banner's pointer at 0x20e, payload_offset and
 * payload_length at 0x248 (protocol 2.08 and later) */
static int setup_header(const unsigned char *img, size_t len, size_t *payload, size_t *plen,
                        char **err)
{
        if (len < 0x250 || memcmp(img + 0x202, "HdrS", 4)) {
                *err = xstrdup("not a bzImage (no \"HdrS\" setup header at 0x202)");
                return -EBADMSG;
        }
        unsigned version = (unsigned)img[0x206] | (unsigned)img[0x207] << 8;
        if (version < 0x208) {
                *err = xasprintf("boot protocol %u.%02u: older than 2.08, no payload fields",
                                 version >> 8, version & 0xff);
                return -EBADMSG;
        }
        size_t setup = ((size_t)(img[0x1f1] ? img[0x1f1] : 4) + 1) * 512;
        size_t off = setup + le32(img + 0x248), n = le32(img + 0x24c);
        if (off > len || n > len - off || n < 8) {
                *err = xasprintf("its payload (offset %zu, %zu bytes) is outside the file's %zu "
                                 "bytes",
                                 off, n, len);
                return -EBADMSG;
        }
        *payload = off;
        *plen = n;
        return 0;
}

int kimage_build_id(const void *image, size_t len, char **ret, char **err)
{
        const unsigned char *img = image;
        size_t off, n;
        int r = setup_header(img, len, &off, &n, err);
        if (r < 0)
                return r;
        const unsigned char *p = img + off;
        /* the build appends vmlinux's size (le32) after the compressed data */
        size_t cap = le32(p + n - 4);
        if (cap < sizeof(Elf64_Ehdr) || cap > VMLINUX_MAX) {
                *err = xasprintf("its payload says the kernel is %zu bytes", cap);
                return -EBADMSG;
        }
        unsigned char *out = malloc(cap);
        if (!out) {
                *err = xstrdup("out of memory");
                return -ENOMEM;
        }
        size_t got = 0;
        const char *fmt;
        if (p[0] == 0x1f && p[1] == 0x8b)
                fmt = "gzip", r = unpack_gzip(p, n, out, cap, &got);
        else if (!memcmp(p,
                         "\xfd"
                         "7zXZ",
                         6))
                fmt = "xz", r = unpack_lzma(p, n, out, cap, &got, true);
        else if (p[0] == 0x5d && p[1] == 0)
                fmt = "lzma", r = unpack_lzma(p, n, out, cap, &got, false);
        else if (le32(p) == 0x184C2102u)
                fmt = "lz4", r = unpack_lz4(p, n, out, cap, &got);
        else if (le32(p) == 0xFD2FB528u)
                fmt = "zstd", r = unpack_zstd(p, n, out, cap, &got);
        else {
                *err = xasprintf("its payload is compressed in a way the lab cannot read (magic "
                                 "%02x %02x %02x %02x; it reads gzip, xz, lzma, lz4, zstd)",
                                 p[0], p[1], p[2], p[3]);
                free(out);
                return -EOPNOTSUPP;
        }
        if (r < 0)
                *err = xasprintf("its %s payload does not decompress", fmt);
        else if ((r = elf_build_id(out, got, ret)) < 0)
                *err = xasprintf("its kernel (%s, %zu bytes) has %s", fmt, got,
                                 r == -ENOENT ? "no GNU build id note" : "no readable ELF header");
        free(out);
        return r;
}
