/*
 * fuzz_registry.c - libFuzzer target for the packet registry.
 *
 * First input byte chooses the mode:
 *   even: the rest is a msgpack table for hive__registry_from_msgpack
 *         (what a server sends in `welcome`); a table that decodes must
 *         pack and decode back to the same table;
 *   odd:  the rest is a script of adds: [name length][name][id varint],
 *         repeated; after every call the registry must still answer
 *         both ways consistently, and a refused add must change nothing.
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include <stdlib.h>
#include <string.h>

#include "net/wire/frame.h"
#include "net/wire/registry_wire.h"
#include "hive/msg.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_consistent(const hive_registry *r)
{
    uint32_t prev = 0;
    for (size_t i = 0; i < hive_registry_count(r); i++) {
        const char *n;
        uint32_t id;
        CHECK(hive_registry_at(r, i, &n, &id) == 0);
        CHECK(id > prev && id >= HIVE_PID_USER_MIN && id <= HIVE_PID_MAX);
        CHECK(hive_registry_id(r, n) == (int)id);
        CHECK(hive_registry_name(r, id) == n);
        prev = id;
    }
    CHECK(hive_registry_at(r, hive_registry_count(r), NULL, NULL) == HIVE_ENOENT);
}

static void table(const uint8_t *data, size_t size)
{
    hive_msg_view v;
    if (hive_msg_view_init(&v, data, size) != 0) return;
    hive_registry *r = NULL;
    int rc = hive__registry_from_msgpack(v.obj, &r);
    CHECK(rc == 0 || rc == HIVE_EPROTO || rc == HIVE_ENOMEM);
    CHECK((rc == 0) == (r != NULL));
    if (rc == 0) {
        check_consistent(r);
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
            uint32_t a, b;
            hive_registry_at(r, i, &n1, &a);
            hive_registry_at(r2, i, &n2, &b);
            CHECK(a == b && strcmp(n1, n2) == 0);
            CHECK(hive_registry_delivery(r, a) == hive_registry_delivery(r2, b));
        }
        hive_registry_destroy(r2);
        hive_msg_view_free(&v2);
        hive_msg_free(&m);
        hive_registry_destroy(r);
    }
    hive_msg_view_free(&v);
}

static void script(const uint8_t *data, size_t size)
{
    hive_registry *r = hive_registry_create();
    if (!r) return;
    size_t pos = 0;
    char name[256];
    while (pos < size) {
        size_t len = data[pos++];
        if (len > size - pos) len = size - pos;
        memcpy(name, data + pos, len);
        name[len] = '\0';
        pos += len;
        uint32_t id = 0;
        size_t used = 0;
        if (hive__varint_decode(data + pos, size - pos, &id, &used) == 0) pos += used;
        else pos = size;

        size_t before = hive_registry_count(r);
        int had_name = hive_registry_id(r, name);
        const char *had_id = hive_registry_name(r, id);
        int rc = hive_registry_add(r, name, id);
        if (rc > 0) {
            CHECK(had_name == HIVE_ENOENT && (id == 0 || had_id == NULL));
            CHECK(id == 0 || (uint32_t)rc == id);
            CHECK(hive_registry_count(r) == before + 1);
            CHECK(hive_registry_id(r, name) == rc);
            CHECK(strcmp(hive_registry_name(r, (uint32_t)rc), name) == 0);
            if (rc % 3 == 0) CHECK(hive_registry_set_delivery(r, (uint32_t)rc, HIVE_UNRELIABLE) == 0);
        } else {
            CHECK(rc == HIVE_EEXIST || rc == HIVE_EINVAL || rc == HIVE_ELIMIT || rc == HIVE_ENOMEM);
            CHECK(rc != HIVE_EEXIST || had_name > 0 || had_id != NULL);
            CHECK(hive_registry_count(r) == before);
        }
    }
    check_consistent(r);
    hive_registry_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    if (data[0] & 1) script(data + 1, size - 1);
    else table(data + 1, size - 1);
    return 0;
}
