/* Creating engines: defaults, bad configurations, NULL handling. */
#include "engine_util.h"

Test(config, defaults, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_engine *e = hive_engine_create(&(hive_engine_config){ .bus = bus });
    cr_assert_not_null(e);
    cr_expect_float_eq(hive_engine_tick_dt(e), 1.0 / 60, 1e-9);
    cr_expect_float_eq(hive_engine_net_dt(e), 1.0 / 30, 1e-9);
    cr_expect_eq(hive_engine_bus(e), bus);
    cr_expect_eq(hive_engine_tick(e), 0);
    cr_expect_eq(hive_engine_timer_count(e), 0);
    hive_engine_destroy(e);
    hive_bus_destroy(bus);
}

Test(config, rejects_bad_configurations, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_expect_null(hive_engine_create(NULL));
    cr_expect_null(hive_engine_create(&(hive_engine_config){ 0 }), "a bus is required");
    cr_expect_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .tick_hz = -1 }));
    cr_expect_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .net_hz = 1e9 }));
    cr_expect_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .frame_hz = -5 }));
    cr_expect_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .max_ticks_per_frame = -1 }));
    double nan = 0.0 / 0.0;
    cr_expect_null(hive_engine_create(&(hive_engine_config){ .bus = bus, .tick_hz = nan }));
    hive_bus_destroy(bus);
}

Test(config, null_is_harmless, .timeout = 10)
{
    hive_engine_destroy(NULL);
    hive_engine_stop(NULL);
    cr_expect_eq(hive_engine_step(NULL, 0), HIVE_EINVAL);
    cr_expect_eq(hive_engine_run(NULL), HIVE_EINVAL);
    cr_expect_eq(hive_engine_stats(NULL, &(hive_engine_counters){ 0 }), HIVE_EINVAL);
    cr_expect_null(hive_engine_bus(NULL));
}

Test(config, unheard_ticks_still_count, .timeout = 10)
{
    rig r; rig_init(&r, &(hive_engine_config){ .tick_hz = 30 });
    rig_step(&r, 100 * MS);
    cr_expect_eq(hive_engine_tick(r.e), 3);
    rig_fini(&r);
}
