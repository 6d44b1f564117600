/*
 * fuzz_frame.c - libFuzzer target for the frame layer (net/frame.h).
 *
 * The input is a byte stream as a peer would send it. It is decoded two
 * ways, which must agree exactly:
 *   1. hive__frame_decode over the whole buffer, frame after frame;
 *   2. hive__rxbuf fed in chunks whose sizes come from the input itself.
 * Every frame's body then goes through hive__frame_check_body, and valid
 * bodies through hive_msg_view_init and the registry table decoder.
 * Invariants are checked with abort(), so libFuzzer reports a violation
 * as a crash. Build and run: tools/fuzz.sh (make fuzz).
 */
#include <stdlib.h>
#include <string.h>

#include "net/wire/frame.h"
#include "net/wire/registry_wire.h"
#include "hive/msg.h"

#define FUZZ_MAX_FRAME 4096u
#define MAX_FRAMES 256

#define CHECK(c) do { if (!(c)) abort(); } while (0)

typedef struct seen {
    uint32_t pid;
    size_t body_off;   /* offset of the body in the input */
    size_t body_len;
} seen;

static void check_body(const uint8_t *body, size_t len)
{
    int rc = hive__frame_check_body(body, len);
    CHECK(rc == 0 || rc == HIVE_EMSGPACK);
    hive_msg_view v;
    int vr = hive_msg_view_init(&v, body, len);
    /* The view runs the same checks: the two must agree. */
    CHECK((rc == 0) == (vr == 0) || vr == HIVE_ENOMEM);
    if (vr != 0) return;

    hive_registry *r = NULL;
    if (hive__registry_from_msgpack(v.obj, &r) == 0) {
        /* A table that decodes must survive a round trip unchanged. */
        hive_msg m;
        hive_msg_init(&m);
        CHECK(hive__registry_pack(r, &m.pk) == 0);
        hive_msg_view v2;
        CHECK(hive_msg_view_init(&v2, hive_msg_data(&m), hive_msg_size(&m)) == 0);
        hive_registry *r2 = NULL;
        CHECK(hive__registry_from_msgpack(v2.obj, &r2) == 0);
        CHECK(hive_registry_count(r2) == hive_registry_count(r));
        for (size_t i = 0; i < hive_registry_count(r); i++) {
            const char *n1, *n2;
            uint32_t id1, id2;
            CHECK(hive_registry_at(r, i, &n1, &id1) == 0);
            CHECK(hive_registry_at(r2, i, &n2, &id2) == 0);
            CHECK(id1 == id2 && strcmp(n1, n2) == 0);
            CHECK(hive_registry_delivery(r, id1) == hive_registry_delivery(r2, id2));
            CHECK(hive_registry_id(r, n1) == (int)id1);
        }
        hive_registry_destroy(r2);
        hive_msg_view_free(&v2);
        hive_msg_free(&m);
        hive_registry_destroy(r);
    }
    hive_msg_view_free(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static seen a[MAX_FRAMES];
    size_t na = 0, off = 0;
    int end_a;

    /* 1. Direct decode. */
    for (;;) {
        hive__frame f;
        end_a = hive__frame_decode(data + off, size - off, FUZZ_MAX_FRAME, &f);
        CHECK(end_a == 0 || end_a == 1 || end_a == HIVE_EPROTO || end_a == HIVE_ETOOBIG);
        if (end_a == 0) {
            /* "Need more" must be true: the declared frame is not all here. */
            uint32_t flen;
            size_t lu;
            if (hive__varint_decode(data + off, size - off, &flen, &lu) == 0)
                CHECK(size - off < lu + flen);
        }
        if (end_a != 1) break;
        CHECK(f.size >= 3 && f.size <= size - off);
        CHECK(f.body >= data + off && f.body + f.body_len == data + off + f.size);
        CHECK((f.flags & ~HIVE__FLAGS_KNOWN) == 0);
        if (na < MAX_FRAMES) a[na] = (seen){ f.pid, (size_t)(f.body - data), f.body_len };
        na++;
        /* Re-encoding the header gives back the same bytes when the
         * sender used minimal varints; at least the size must fit. */
        uint8_t h[HIVE__FRAME_HEADER_MAX];
        size_t hl = hive__frame_header(h, f.pid, f.flags, f.body_len);
        CHECK(hl > 0 && hl + f.body_len <= f.size);
        check_body(f.body, f.body_len);
        off += f.size;
        if (na >= MAX_FRAMES) { end_a = 2; break; }
    }

    /* 2. The same stream through rxbuf, in input-chosen chunk sizes. */
    hive__rxbuf rx = { 0 };
    size_t nb = 0, pos = 0, k = 0;
    int end_b = 0;
    while (pos < size && end_b == 0 && nb < MAX_FRAMES) {
        size_t chunk = (size_t)(data[k++ % size] % 64) + 1;
        if (chunk > size - pos) chunk = size - pos;
        if (hive__rxbuf_append(&rx, data + pos, chunk) != 0) { hive__rxbuf_free(&rx); return 0; }
        pos += chunk;
        hive__frame f;
        int rc = 0;
        while (nb < MAX_FRAMES && (rc = hive__rxbuf_next(&rx, FUZZ_MAX_FRAME, &f)) == 1) {
            CHECK(nb < na);
            CHECK(f.pid == a[nb].pid && f.body_len == a[nb].body_len);
            CHECK(memcmp(f.body, data + a[nb].body_off, f.body_len) == 0);
            nb++;
        }
        if (nb >= MAX_FRAMES) { end_b = 2; break; }
        end_b = rc;
        /* Never more than one incomplete frame plus the last chunk. */
        CHECK(rx.len - rx.off <= FUZZ_MAX_FRAME + HIVE__FRAME_HEADER_MAX + chunk);
        CHECK(rx.cap <= 2 * (FUZZ_MAX_FRAME + HIVE__FRAME_HEADER_MAX + 64) || rx.cap <= 4096);
    }
    hive__rxbuf_free(&rx);
    if (end_a != 2 && end_b != 2) {
        CHECK(nb == na);
        CHECK(end_b == end_a);
    }

    /* 3. The whole input as one body and one varint. */
    check_body(data, size);
    uint32_t v;
    size_t used;
    int vr = hive__varint_decode(data, size, &v, &used);
    if (vr == 0) {
        uint8_t e[HIVE__VARINT_MAX];
        size_t n = hive__varint_encode(v, e);
        CHECK(n >= 1 && n <= used);
        uint32_t v2;
        size_t u2;
        CHECK(hive__varint_decode(e, n, &v2, &u2) == 0 && v2 == v && u2 == n);
    } else {
        CHECK(vr == HIVE_EAGAIN || vr == HIVE_EPROTO);
    }
    return 0;
}
