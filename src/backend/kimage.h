/* kimage.h - a kernel's identity from its bytes (untrusted input). */
#pragma once
#include <stddef.h>

/* The GNU build id of the kernel inside a bzImage, hex. -errno and *err
 * (allocated) when the image is no bzImage, its payload does not decompress
 * or its kernel has no build id. */
int kimage_build_id(const void *image, size_t len, char **ret, char **err);
/* The build id among raw ELF notes (a running kernel's /sys/kernel/notes). */
int knotes_build_id(const void *notes, size_t len, char **ret);
