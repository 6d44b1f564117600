/* A queued event owns copies of its strings, bytes and msgpack bytes:
 * the poster may free or overwrite its buffers right after posting. */
#include "helpers.h"

#include <stdlib.h>

typedef struct check {
    int calls;
    char s[300];
    unsigned char b[300];
    size_t blen;
    unsigned char m[300];
    size_t mlen;
    const void *obj;
    void *p;
    int64_t i;
    double d;
    const char *key_seen;
} check;

static void copy_out(const hive_event *ev, void *user)
{
    check *c = user;
    c->calls++;
    const char *s;
    size_t slen;
    const void *b, *m;
    cr_assert_eq(hive_event_get_str(ev, "str", &s, &slen), HIVE_OK);
    cr_assert_eq(strlen(s), slen); /* NUL-terminated copy */
    memcpy(c->s, s, slen + 1);
    cr_assert_eq(hive_event_get_bytes(ev, "bytes", &b, &c->blen), HIVE_OK);
    memcpy(c->b, b, c->blen);
    cr_assert_eq(hive_event_get_msgpack(ev, "mp", &m, &c->mlen, &c->obj), HIVE_OK);
    memcpy(c->m, m, c->mlen);
    c->p = hive_event_ptr(ev, "ptr");
    c->i = hive_event_int(ev, "int", 0);
    c->d = hive_event_double(ev, "dbl", 0);
    c->key_seen = hive_event_field(ev, "int")->key;
}

static void post_and_check(size_t len, size_t extra_fields)
{
    hive_bus *bus = small_bus();
    check c = { 0 };
    hive_event_id id = hive_bus_intern(bus, "q:copy");
    hive_bus_subscribe_id(bus, id, copy_out, &c, NULL);

    char *str = malloc(len + 1);
    unsigned char *bytes = malloc(len), *mp = malloc(len);
    for (size_t i = 0; i < len; i++) {
        str[i] = (char)('a' + i % 26);
        bytes[i] = (unsigned char)i;
        mp[i] = (unsigned char)(255 - i);
    }
    str[len] = '\0';
    int marker, obj;
    static const char *int_key = "int";
    hive_field f[12] = {
        HIVE_STR("str", str), HIVE_BYTES("bytes", bytes, len), HIVE_MSGPACK("mp", mp, len, &obj),
        HIVE_PTR("ptr", &marker), HIVE_INT(int_key, -99), HIVE_DOUBLE("dbl", 1.25),
    };
    size_t n = 6;
    for (size_t i = 0; i < extra_fields; i++) f[n++] = HIVE_INT("pad", i);
    cr_assert_eq(hive_bus_post(bus, id, f, n), HIVE_OK);

    /* Scribble over and free everything the event pointed to. */
    memset(str, 'X', len);
    memset(bytes, 0xEE, len);
    memset(mp, 0xEE, len);
    free(str);
    free(bytes);
    free(mp);
    memset(f, 0, sizeof f);

    cr_assert_eq(hive_bus_dispatch(bus, 0), 1);
    cr_assert_eq(c.calls, 1);
    cr_expect_eq(strlen(c.s), len);
    for (size_t i = 0; i < len; i++) {
        cr_assert_eq(c.s[i], (char)('a' + i % 26));
        cr_assert_eq(c.b[i], (unsigned char)i);
        cr_assert_eq(c.m[i], (unsigned char)(255 - i));
    }
    cr_expect_eq(c.blen, len);
    cr_expect_eq(c.mlen, len);
    cr_expect_null(c.obj, "a queued msgpack field has no decoded object");
    cr_expect_eq(c.p, &marker, "pointers are passed as pointers");
    cr_expect_eq(c.i, -99);
    cr_expect_eq(c.d, 1.25);
    cr_expect_eq(c.key_seen, int_key, "keys are kept by pointer");
    hive_bus_destroy(bus);
}

Test(post_copies, small_event_stored_inline, .timeout = 5) { post_and_check(5, 0); }
Test(post_copies, big_payload_spills_to_heap, .timeout = 5) { post_and_check(200, 0); }
Test(post_copies, many_fields_spill_to_heap, .timeout = 5) { post_and_check(3, 6); }
Test(post_copies, empty_payloads, .timeout = 5) { post_and_check(0, 0); }

Test(post_copies, queued_events_freed_on_destroy, .timeout = 5)
{
    hive_bus *bus = small_bus();
    hive_event_id id = hive_bus_intern(bus, "q:left");
    char big[500];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    hive_field f[] = { HIVE_STR("s", big) };
    for (int i = 0; i < 10; i++) cr_assert_eq(hive_bus_post(bus, id, f, 1), HIVE_OK);
    hive_bus_destroy(bus); /* ASan reports the spilled copies if they leak */
}
