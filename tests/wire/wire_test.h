/* wire_test.h - helpers shared by the wire tests. */
#ifndef HIVE_TESTS_WIRE_H
#define HIVE_TESTS_WIRE_H

#include <string.h>
#include "net/wire/frame.h"

/* Write a frame (header + body) into out; returns its size. */
static inline size_t wt_frame(uint8_t *out, uint32_t pid, uint8_t flags, const void *body, size_t len)
{
    size_t h = hive__frame_header(out, pid, flags, len);
    if (len) memcpy(out + h, body, len);
    return h + len;
}

#endif
