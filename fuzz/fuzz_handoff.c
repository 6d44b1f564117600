/*
 * fuzz_handoff.c - libFuzzer target for handoff tickets (net/wire/handoff.h),
 * what a server adopts from another machine, and for the redirect fields
 * of a close. The input is a msgpack body: decoded (scanned first), then
 *   as a ticket: one that parses must pack (with the frames it carries)
 *   and parse back to the same counts, flags, subject and data;
 *   as a close: a redirect that parses must have all three fields valid.
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include <stdlib.h>
#include <string.h>

#include "net/wire/handoff.h"
#include "net/wire/handshake.h"
#include "net/wire/mpdecode.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static msgpack_zone z, z2;
    static bool ready;
    if (!ready) {
        CHECK(msgpack_zone_init(&z, 4096) && msgpack_zone_init(&z2, 4096));
        ready = true;
    }
    msgpack_zone_clear(&z);
    msgpack_object o;
    if (hive__mp_decode(data, size, &z, &o) != 0) return 0;

    hive__close_msg cm;
    if (hive__close_parse(&o, &cm) == 0 && cm.has_redirect)
        CHECK(cm.reason == HIVE_CLOSE_REDIRECT && cm.to[0] && cm.to_cid > 0 && strlen(cm.to) < sizeof cm.to);

    hive__ticket t;
    if (hive__ticket_parse(&o, &t) != 0) return 0;
    uint32_t nf = t.frames->via.array.size;
    hive__ticket_frame *fr = malloc((nf ? nf : 1) * sizeof *fr);
    CHECK(fr);
    for (uint32_t i = 0; i < nf; i++) {
        const msgpack_object *e = t.frames->via.array.ptr[i].via.array.ptr;
        fr[i] = (hive__ticket_frame){ .lane = (uint8_t)e[0].via.u64, .p = (const uint8_t *)e[1].via.bin.ptr,
                                      .n = e[1].via.bin.size };
    }
    hive_msg m;
    hive_msg_init(&m);
    CHECK(hive__ticket_pack(&m, &t, fr, nf) == 0);
    msgpack_zone_clear(&z2);
    msgpack_object o2;
    CHECK(hive__mp_decode(hive_msg_data(&m), hive_msg_size(&m), &z2, &o2) == 0);
    hive__ticket b;
    CHECK(hive__ticket_parse(&o2, &b) == 0);
    CHECK(strcmp(t.app, b.app) == 0 && t.reg == b.reg && t.from == b.from && t.lanes == b.lanes);
    CHECK(memcmp(t.sent, b.sent, sizeof t.sent) == 0 && memcmp(t.acked, b.acked, sizeof t.acked) == 0 &&
          memcmp(t.recv, b.recv, sizeof t.recv) == 0);
    CHECK(t.peer_max == b.peer_max && t.zstd == b.zstd && t.pieces == b.pieces && t.has_subject == b.has_subject);
    CHECK(t.src_max_frame == b.src_max_frame && t.src_heartbeat_ms == b.src_heartbeat_ms &&
          t.src_heartbeat_timeout_ms == b.src_heartbeat_timeout_ms);
    CHECK(strcmp(t.subject, b.subject) == 0 && t.data_len == b.data_len);
    CHECK(!t.data_len || memcmp(t.data, b.data, t.data_len) == 0);
    CHECK(b.frames->via.array.size == nf);
    hive_msg_free(&m);
    free(fr);
    return 0;
}
