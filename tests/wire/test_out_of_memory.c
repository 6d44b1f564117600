/* Out of memory: every allocation in the registry and rxbuf may fail;
 * the caller gets HIVE_ENOMEM, the object stays usable, nothing leaks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include "net/wire/frame.h"
#include "net/wire/registry_wire.h"
#include "hive/msg.h"

static long budget = -1;   /* allocations left before failing; -1 = unlimited */
static long failures;

static bool spend(void)
{
    if (budget == 0) { failures++; return false; }
    if (budget > 0) budget--;
    return true;
}
static void *t_malloc(size_t n, void *u) { (void)u; return spend() ? malloc(n) : NULL; }
static void *t_realloc(void *p, size_t n, void *u) { (void)u; return spend() ? realloc(p, n) : NULL; }
static void t_free(void *p, void *u) { (void)u; free(p); }

static void install(void)
{
    hive_allocator a = { t_malloc, t_realloc, t_free, NULL };
    cr_assert_eq(hive_set_allocator(&a), 0);
}

/* Build a 40-entry registry with `n` allocations allowed; returns true
 * when it completed without a single failure. */
static bool build_registry(long n)
{
    char name[32];
    budget = n;
    failures = 0;
    hive_registry *r = hive_registry_create();
    if (!r) { budget = -1; return false; }
    int added = 0, bad = 0;
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "g:%d", (i * 17) % 40);
        int rc = hive_registry_add(r, name, 0);
        if (rc > 0) added++;
        else if (rc != HIVE_ENOMEM) bad++;
    }
    budget = -1;
    /* whatever got in must be consistent */
    for (size_t i = 0; i < hive_registry_count(r); i++) {
        const char *nm;
        uint32_t id;
        if (hive_registry_at(r, i, &nm, &id) != 0 || hive_registry_id(r, nm) != (int)id) bad++;
    }
    if ((size_t)added != hive_registry_count(r)) bad++;
    cr_assert_eq(bad, 0, "budget %ld", n);
    hive_registry_destroy(r);
    return failures == 0;
}

Test(out_of_memory, registry_add, .timeout = 5)
{
    install();
    long n = 0;
    while (!build_registry(n)) {
        n++;
        cr_assert_lt(n, 10000);
    }
    cr_expect_gt(n, 0);
    hive_set_allocator(NULL);
}

Test(out_of_memory, registry_from_msgpack_is_all_or_nothing, .timeout = 5)
{
    hive_registry *src = hive_registry_create();
    char name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "g:%d", i);
        cr_assert_gt(hive_registry_add(src, name, 0), 0);
    }
    hive_msg m;
    hive_msg_init(&m);
    cr_assert_eq(hive__registry_pack(src, &m.pk), 0);
    hive_msg_view v;
    cr_assert_eq(hive_msg_view_init(&v, hive_msg_data(&m), hive_msg_size(&m)), 0);
    install();
    int ok = 0;
    for (long n = 0; n < 10000 && !ok; n++) {
        budget = n;
        hive_registry *out = (hive_registry *)0x1;
        int rc = hive__registry_from_msgpack(v.obj, &out);
        budget = -1;
        if (rc == 0) {
            cr_expect_eq(hive_registry_count(out), 40);
            hive_registry_destroy(out);
            ok = 1;
        } else {
            cr_assert_eq(rc, HIVE_ENOMEM, "budget %ld", n);
            cr_assert_eq(out, (hive_registry *)0x1);
        }
    }
    cr_expect(ok);
    hive_set_allocator(NULL);
    hive_msg_view_free(&v);
    hive_msg_free(&m);
    hive_registry_destroy(src);
}

Test(out_of_memory, rxbuf_append_leaves_the_buffer_intact, .timeout = 5)
{
    uint8_t fr[64];
    size_t n = hive__frame_header(fr, 64, 0, 1);
    fr[n++] = 0xc0;
    hive__rxbuf rx = { 0 };
    hive__frame f;
    install();
    budget = 0;
    cr_expect_eq(hive__rxbuf_append(&rx, fr, n), HIVE_ENOMEM);
    cr_expect_eq(rx.len, 0);
    cr_expect_null(rx.data);
    budget = -1;
    cr_assert_eq(hive__rxbuf_append(&rx, fr, 2), 0);          /* a partial frame */
    size_t cap = rx.cap;
    uint8_t big[256];
    memset(big, 0xc0, sizeof big);
    budget = 0;
    cr_expect_eq(hive__rxbuf_append(&rx, big, sizeof big), HIVE_ENOMEM);
    cr_expect_eq(rx.len - rx.off, 2, "nothing appended");
    cr_expect_eq(rx.cap, cap);
    budget = -1;
    cr_assert_eq(hive__rxbuf_append(&rx, fr + 2, n - 2), 0);  /* the stream goes on */
    cr_expect_eq(hive__rxbuf_next(&rx, 1024, &f), 1);
    cr_expect_eq(f.pid, 64);
    hive__rxbuf_free(&rx);
    hive_set_allocator(NULL);
}
