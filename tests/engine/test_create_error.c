/* A bad engine config says which field was wrong and why; the config in
 * force (defaults filled in) can be read back. */
#include <string.h>
#include "engine_util.h"

/* The last create failed on `field`, and its message names the struct,
 * the field and (when given) the offending value. */
static void expect_field(const char *field, const char *value)
{
    const hive_create_error_info *err = hive_create_error();
    cr_assert_eq(err->code, HIVE_EINVAL, "code %d (%s)", err->code, err->message);
    cr_expect_str_eq(err->field, field);
    char want[64];
    snprintf(want, sizeof want, "hive_engine_config.%s", field);
    cr_expect_neq(strstr(err->message, want), NULL, "message \"%s\" names %s", err->message, want);
    if (value)
        cr_expect_neq(strstr(err->message, value), NULL, "message \"%s\" shows %s", err->message, value);
}

Test(create_error, engine_names_the_bad_field, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_assert_null(hive_engine_create(&(hive_engine_config){ 0 }));
    expect_field("bus", NULL);
    cr_assert_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .tick_hz = -1 }));
    expect_field("tick_hz", "-1");
    cr_assert_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .net_hz = 1e9 }));
    expect_field("net_hz", "1e+09");
    cr_expect_neq(strstr(hive_create_error()->message, "10000"), NULL, "the limit is in the message");
    cr_assert_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .frame_hz = -5 }));
    expect_field("frame_hz", "-5");
    cr_assert_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .max_ticks_per_frame = -2 }));
    expect_field("max_ticks_per_frame", "-2");
    cr_assert_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .tick_hz = 0.0 / 0.0 }));
    expect_field("tick_hz", "nan");
    cr_assert_null(hive_engine_create(NULL));
    cr_expect_eq(hive_create_error()->code, HIVE_EINVAL);

    /* A success clears the record. */
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    cr_assert_not_null(e);
    cr_expect_eq(hive_create_error()->code, HIVE_OK);
    cr_expect_str_eq(hive_create_error()->field, "");
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

Test(create_error, engine_config_get_reads_back_the_defaults, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    cr_assert_not_null(e);
    hive_engine_config c;
    cr_assert_eq(hive_engine_config_get(e, &c), HIVE_OK);
    cr_expect_eq(c.bus, bus);
    cr_expect_float_eq(c.tick_hz, HIVE_ENGINE_DEFAULT_TICK_HZ, 1e-12);
    cr_expect_float_eq(c.net_hz, HIVE_ENGINE_DEFAULT_NET_HZ, 1e-12);
    cr_expect_float_eq(c.frame_hz, HIVE_ENGINE_DEFAULT_TICK_HZ, 1e-12, "frame_hz defaults to tick_hz");
    cr_expect_eq(c.dispatch_budget_ns, HIVE_ENGINE_DEFAULT_DISPATCH_BUDGET_NS);
    cr_expect_eq(c.max_ticks_per_frame, HIVE_ENGINE_DEFAULT_MAX_TICKS_PER_FRAME);
    cr_assert_not_null(c.clock, "the default clock is filled in");
    uint64_t before = hive_now_ns();
    uint64_t t = c.clock(c.clock_user);
    cr_expect(t >= before && t <= hive_now_ns(), "the default clock reads hive_now_ns");
    cr_expect_eq(hive_engine_config_get(NULL, &c), HIVE_EINVAL);
    cr_expect_eq(hive_engine_config_get(e, NULL), HIVE_EINVAL);
    hive_engine_destroy(e);

    /* What was given stays as given; frame_hz follows the tick rate. */
    fake_clock fc = { 5 * MS };
    e = hive_engine_create(&(hive_engine_config){ .bus = bus, .tick_hz = 20, .net_hz = 10,
                                                 .max_ticks_per_frame = 2, .clock = fake_now,
                                                 .clock_user = &fc });
    cr_assert_not_null(e);
    cr_assert_eq(hive_engine_config_get(e, &c), HIVE_OK);
    cr_expect_float_eq(c.tick_hz, 20, 1e-12);
    cr_expect_float_eq(c.net_hz, 10, 1e-12);
    cr_expect_float_eq(c.frame_hz, 20, 1e-12);
    cr_expect_eq(c.max_ticks_per_frame, 2);
    cr_expect_eq(c.clock, fake_now);
    cr_expect_eq(c.clock_user, &fc);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}
