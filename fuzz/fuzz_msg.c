/*
 * fuzz_msg.c - libFuzzer target for the message checks, the builder's
 * counting and the readers (hive/msg.h).
 *
 * Input: [path length byte][path][body bytes]. Invariants (abort() on a
 * violation, so libFuzzer reports it as a crash):
 *   - hive_msg_check (the explaining walk) agrees with the receiver's scan
 *     and with hive_msg_view_init, and always explains a refusal;
 *   - hive__msgpack_count accepts every body the scan accepts, as 1 value;
 *   - a body copied into map_begin/array_begin ... _end as one element
 *     gets the counted header, and is valid unless the extra level takes
 *     it past the nesting limit;
 *   - every reader, given the path from the input or each element of the
 *     root, returns only its documented codes and never reads outside
 *     the object.
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include <stdlib.h>
#include <string.h>

#include "net/wire/frame.h"
#include "hive/msg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static bool known(int rc) { return rc == 0 || rc == HIVE_ENOENT || rc == HIVE_ETYPE || rc == HIVE_EINVAL; }

static void read_all(const msgpack_object *root, const char *path)
{
    const msgpack_object *o;
    int rc = hive_msg_find(root, path, &o);
    CHECK(known(rc));
    CHECK((rc == 0) == (o != NULL));
    CHECK(hive_msg_path(root, path) == o);
    int64_t i; uint64_t u; double d; bool b; const char *s; const void *p; size_t n; uint32_t k;
    CHECK(known(hive_msg_path_int(root, path, &i)));
    CHECK(known(hive_msg_path_uint(root, path, &u)));
    CHECK(known(hive_msg_path_double(root, path, &d)));
    CHECK(known(hive_msg_path_bool(root, path, &b)));
    CHECK(known(hive_msg_path_str(root, path, &s, &n)));
    CHECK(known(hive_msg_path_bin(root, path, &p, &n)));
    CHECK(known(hive_msg_path_nil(root, path)));
    CHECK(known(hive_msg_path_array(root, path, &o, &k)));
    CHECK(known(hive_msg_path_map(root, path, &o, &k)));
    char buf[8];
    long cl = hive_msg_copy_str(root, path, buf, sizeof buf);
    CHECK(cl >= 0 || known((int)cl));
    CHECK(strlen(buf) < sizeof buf);
    (void)hive_msg_int_or(root, path, 0);
    (void)hive_msg_str_or(root, path, "", &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t plen = data[0];
    if (plen > size - 1) plen = size - 1;
    char path[256];
    memcpy(path, data + 1, plen);
    path[plen] = '\0';
    const uint8_t *body = data + 1 + plen;
    size_t len = size - 1 - plen;

    char why[128];
    int scan = hive__msgpack_scan(body, len);
    int chk = hive_msg_check(body, len, why, sizeof why);
    CHECK((scan == 0) == (chk == 0));
    CHECK(chk == 0 ? why[0] == '\0' : why[0] != '\0');
    uint64_t count = 0;
    int cnt = hive__msgpack_count(body, len, &count, NULL, 0);
    if (scan == 0) CHECK(cnt == 0 && count == 1);

    hive_msg_view v;
    int vr = hive_msg_view_init(&v, body, len);
    CHECK((vr == 0) == (scan == 0) || vr == HIVE_ENOMEM);

    if (scan == 0) {
        /* One element in a begun array: its header must be 0x91. */
        hive_msg m;
        hive_msg_init(&m);
        CHECK(hive_msg_array_begin(&m) == 0);
        CHECK(hive_msg_raw(&m, body, len) == 0);
        CHECK(hive_msg_array_end(&m) == 0);
        CHECK(hive_msg_size(&m) == len + 1);
        CHECK(((const uint8_t *)hive_msg_data(&m))[0] == 0x91);
        /* Valid, unless the wrapping level took it past the depth limit. */
        int wc = hive_msg_check(hive_msg_data(&m), hive_msg_size(&m), why, sizeof why);
        CHECK(wc == 0 || strstr(why, "nested deeper") != NULL);
        /* As a map value: a key, the body, and the map counts one pair. */
        hive_msg_reset(&m);
        CHECK(hive_msg_map_begin(&m) == 0);
        CHECK(hive_msg_key(&m, "k") == 0);
        CHECK(hive_msg_raw(&m, body, len) == 0);
        CHECK(hive_msg_map_end(&m) == 0);
        CHECK(((const uint8_t *)hive_msg_data(&m))[0] == 0x81);
        hive_msg_free(&m);
    }

    if (vr == 0) {
        read_all(v.obj, path);
        read_all(v.obj, NULL);
        uint32_t i = 0;
        const msgpack_object *e;
        while ((e = hive_msg_next(v.obj, &i))) read_all(e, path);
        const msgpack_object *key, *val;
        i = 0;
        while (hive_msg_next_pair(v.obj, &i, &key, &val)) read_all(val, path);
        hive_msg_step st[] = { HIVE_MSG_KEY(path), HIVE_MSG_IDX(plen), HIVE_MSG_IDX(0) };
        const msgpack_object *w;
        CHECK(known(hive_msg_walk_find(v.obj, st, 3, &w)));
        hive_msg_view_free(&v);
    }
    return 0;
}
