/* The queue on one thread: order, dispatch limits, time budget, overflow
 * policies, validation. (Cross-thread behaviour: test_queue_threads.c.) */
#include "helpers.h"

#include <time.h>

static void record_seq(const hive_event *ev, void *user)
{
    tlog *l = user;
    char w[32];
    snprintf(w, sizeof w, "%lld", (long long)hive_event_int(ev, "seq", -1));
    tlog_add(l, w);
}

static hive_bus *bus_with(size_t cap, hive_overflow ov)
{
    hive_bus *bus = hive_bus_create(&(hive_bus_config){ .queue_capacity = cap, .overflow = ov });
    cr_assert_not_null(bus);
    return bus;
}

static void post_seq(hive_bus *bus, hive_event_id id, int from, int to, int expect_rc)
{
    for (int i = from; i < to; i++) {
        hive_field f[] = { HIVE_INT("seq", i) };
        cr_assert_eq(hive_bus_post(bus, id, f, 1), expect_rc, "seq %d", i);
    }
}

Test(queue, fifo_and_dispatch_limits, .timeout = 5)
{
    hive_bus *bus = bus_with(16, HIVE_OVERFLOW_DROP_NEWEST);
    tlog log = { 0 };
    hive_event_id id = hive_bus_intern(bus, "q:x");
    hive_bus_subscribe_id(bus, id, record_seq, &log, NULL);
    post_seq(bus, id, 0, 5, HIVE_OK);
    cr_expect_eq(log.len, 0, "nothing runs before dispatch");
    cr_expect_eq(hive_bus_dispatch(bus, 2), 2);
    cr_expect_str_eq(log.buf, "0 1 ");
    cr_expect_eq(hive_bus_dispatch(bus, 0), 3);
    cr_expect_str_eq(log.buf, "0 1 2 3 4 ");
    cr_expect_eq(hive_bus_dispatch(bus, 0), 0);
    cr_expect_eq(hive_bus_count(bus, id), 5);
    hive_bus_destroy(bus);
}

static void repost(const hive_event *ev, void *user)
{
    (*(int *)user)++;
    hive_bus_post(ev->bus, ev->id, NULL, 0);
}

Test(queue, dispatch_all_means_queued_at_start, .timeout = 5)
{
    hive_bus *bus = bus_with(16, HIVE_OVERFLOW_DROP_NEWEST);
    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "q:again");
    hive_bus_subscribe_id(bus, id, repost, &n, NULL);
    hive_bus_post(bus, id, NULL, 0);
    hive_bus_post(bus, id, NULL, 0);
    /* Each handler posts another: dispatch(0) must still return. */
    cr_expect_eq(hive_bus_dispatch(bus, 0), 2);
    cr_expect_eq(n, 2);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.queued, 2);
    hive_bus_destroy(bus);
}

static void slow(const hive_event *ev, void *user)
{
    (void)ev;
    (*(int *)user)++;
    nanosleep(&(struct timespec){ 0, 3000000 }, NULL); /* 3 ms */
}

Test(queue, dispatch_for_respects_the_budget, .timeout = 5)
{
    hive_bus *bus = bus_with(16, HIVE_OVERFLOW_DROP_NEWEST);
    int n = 0;
    hive_event_id id = hive_bus_intern(bus, "q:slow");
    hive_bus_subscribe_id(bus, id, slow, &n, NULL);
    for (int i = 0; i < 10; i++) hive_bus_post(bus, id, NULL, 0);
    /* 1 ms budget, 3 ms per event: the first always runs, then it stops. */
    cr_expect_eq(hive_bus_dispatch_for(bus, 1000000), 1);
    /* 10 ms: at most 4 more (checked between events). */
    int got = hive_bus_dispatch_for(bus, 10000000);
    cr_expect(got >= 1 && got <= 4, "got %d", got);
    /* A generous budget drains the queue. */
    int rest = hive_bus_dispatch_for(bus, 5000000000ull);
    cr_expect_eq(1 + got + rest, 10);
    cr_expect_eq(n, 10);
    cr_expect_eq(hive_bus_dispatch_for(bus, 1000000), 0);
    hive_bus_destroy(bus);
}

Test(queue, drop_newest, .timeout = 5)
{
    hive_bus *bus = bus_with(4, HIVE_OVERFLOW_DROP_NEWEST);
    tlog log = { 0 };
    hive_event_id id = hive_bus_intern(bus, "q:x");
    hive_bus_subscribe_id(bus, id, record_seq, &log, NULL);
    post_seq(bus, id, 0, 4, HIVE_OK);
    post_seq(bus, id, 4, 6, HIVE_EFULL);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.dropped, 2);
    cr_expect_eq(c.posted, 4);
    cr_expect_eq(c.queued, 4);
    cr_expect_eq(hive_bus_dispatch(bus, 0), 4);
    cr_expect_str_eq(log.buf, "0 1 2 3 ");
    hive_bus_destroy(bus);
}

Test(queue, drop_oldest, .timeout = 5)
{
    hive_bus *bus = bus_with(4, HIVE_OVERFLOW_DROP_OLDEST);
    tlog log = { 0 };
    hive_event_id id = hive_bus_intern(bus, "q:x");
    hive_bus_subscribe_id(bus, id, record_seq, &log, NULL);
    char big[300] = { 0 };
    memset(big, 'b', 299);
    hive_field spill[] = { HIVE_INT("seq", 100), HIVE_STR("big", big) };
    cr_assert_eq(hive_bus_post(bus, id, spill, 2), HIVE_OK); /* dropped below: freed */
    post_seq(bus, id, 0, 6, HIVE_OK);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.dropped, 3);
    cr_expect_eq(c.posted, 7);
    cr_expect_eq(c.queued, 4);
    cr_expect_eq(hive_bus_dispatch(bus, 0), 4);
    cr_expect_str_eq(log.buf, "2 3 4 5 ");
    hive_bus_destroy(bus);
}

Test(queue, block_on_owner_thread_does_not_deadlock, .timeout = 5)
{
    hive_bus *bus = bus_with(2, HIVE_OVERFLOW_BLOCK);
    hive_event_id id = hive_bus_intern(bus, "q:x");
    post_seq(bus, id, 0, 2, HIVE_OK);
    post_seq(bus, id, 2, 3, HIVE_EFULL);
    cr_expect_eq(hive_bus_dispatch(bus, 0), 2);
    post_seq(bus, id, 3, 5, HIVE_OK);
    hive_bus_destroy(bus);
}

Test(queue, capacity_rounds_up_to_power_of_two, .timeout = 5)
{
    hive_bus *bus = bus_with(5, HIVE_OVERFLOW_DROP_NEWEST);
    hive_event_id id = hive_bus_intern(bus, "q:x");
    post_seq(bus, id, 0, 8, HIVE_OK);
    post_seq(bus, id, 8, 9, HIVE_EFULL);
    hive_bus_destroy(bus);
}

static void add_seq(const hive_event *ev, void *user)
{
    *(int64_t *)user += hive_event_int(ev, "seq", 0);
    cr_assert_str_eq(hive_event_str(ev, "s"), "payload");
}

Test(queue, ring_wraps_many_times, .timeout = 5)
{
    hive_bus *bus = bus_with(8, HIVE_OVERFLOW_DROP_NEWEST);
    int64_t sum = 0, want = 0;
    hive_event_id id = hive_bus_intern(bus, "q:x");
    hive_bus_subscribe_id(bus, id, add_seq, &sum, NULL);
    for (int round = 0; round < 1000; round++) {
        for (int i = 0; i < 5; i++) {
            hive_field f[] = { HIVE_INT("seq", round * 5 + i), HIVE_STR("s", "payload") };
            want += round * 5 + i;
            cr_assert_eq(hive_bus_post(bus, id, f, 2), HIVE_OK);
        }
        cr_assert_eq(hive_bus_dispatch(bus, 0), 5);
    }
    cr_expect_eq(sum, want);
    hive_bus_destroy(bus);
}


Test(queue, post_validation, .timeout = 5)
{
    hive_bus *bus = small_bus();
    hive_event_id id = hive_bus_intern(bus, "q:x");
    hive_field nokey[] = { { .key = NULL, .type = HIVE_T_INT } };
    hive_field notype[] = { { .key = "k", .type = HIVE_T_NONE } };
    hive_field badtype[] = { { .key = "k", .type = (hive_type)99 } };
    hive_field nullbytes[] = { HIVE_BYTES("b", NULL, 3) };
    hive_field nullmp[] = { HIVE_MSGPACK("m", NULL, 3, NULL) };
    cr_expect_eq(hive_bus_post(NULL, id, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, 0, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id + 1, NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id, NULL, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id, nokey, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id, notype, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id, badtype, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id, nullbytes, 1), HIVE_EINVAL);
    cr_expect_eq(hive_bus_post(bus, id, nullmp, 1), HIVE_EINVAL);
    hive_bus_counters c;
    hive_bus_stats(bus, &c);
    cr_expect_eq(c.posted, 0);
    cr_expect_eq(hive_bus_dispatch(NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_bus_dispatch_for(NULL, 0), HIVE_EINVAL);
    hive_bus_destroy(bus);
}
