/* A bad config says which field was wrong; defaults can be read back. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>
#include "hive/hive.h"

static void expect_field(const char *field)
{
    const hive_create_error_info *e = hive_create_error();
    cr_assert_eq(e->code, HIVE_EINVAL, "code %d (%s)", e->code, e->message);
    cr_expect_str_eq(e->field, field);
    cr_expect_neq(strstr(e->message, field), NULL, "message \"%s\" names %s", e->message, field);
}

Test(create_error, server_names_the_bad_field, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_assert_null(hive_server_create(&(hive_server_config){ .max_connections = HIVE_MAX_CONNECTIONS + 1 }, bus));
    expect_field("max_connections");
    cr_expect_neq(strstr(hive_create_error()->message, "4000"), NULL, "the limit is in the message");
    cr_assert_null(hive_server_create(&(hive_server_config){ .max_frame = 100 }, bus));
    expect_field("max_frame");
    cr_assert_null(hive_server_create(&(hive_server_config){ .max_peers_per_addr = HIVE_MAX_PEERS_PER_ADDR + 1 }, bus));
    expect_field("max_peers_per_addr");
    cr_expect_neq(strstr(hive_create_error()->message, "4095"), NULL, "the limit is in the message");
    cr_assert_null(hive_server_create(&(hive_server_config){ .heartbeat_ms = 500, .heartbeat_timeout_ms = 500 }, bus));
    expect_field("heartbeat_ms");
    char longname[HIVE_HELLO_STR_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert_null(hive_server_create(&(hive_server_config){ .app = longname }, bus));
    expect_field("app");
    cr_assert_null(hive_server_create(&(hive_server_config){ .app_version = longname }, bus));
    expect_field("app_version");
    cr_assert_null(hive_server_create(NULL, NULL));
    expect_field("bus");

    /* A success clears the record. */
    hive_server *s = hive_server_create(NULL, bus);
    cr_assert_not_null(s);
    cr_expect_eq(hive_create_error()->code, HIVE_OK);
    cr_expect_str_eq(hive_create_error()->field, "");
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

Test(create_error, client_names_the_bad_field, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_assert_null(hive_client_create(&(hive_client_config){ .heartbeat_ms = 20000 }, bus));
    expect_field("heartbeat_ms");
    cr_assert_null(hive_client_create(&(hive_client_config){ .max_frame = 1 }, bus));
    expect_field("max_frame");
    cr_assert_null(hive_client_create(&(hive_client_config){ .token = "x", .token_len = HIVE_TOKEN_MAX + 1 }, bus));
    expect_field("token_len");
    cr_assert_null(hive_client_create(&(hive_client_config){ .token_len = 4 }, bus));
    expect_field("token");
    char longname[HIVE_HELLO_STR_MAX + 2];
    memset(longname, 'c', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert_null(hive_client_create(&(hive_client_config){ .conntype = longname }, bus));
    expect_field("conntype");
    cr_assert_null(hive_client_create(NULL, NULL));
    expect_field("bus");
    hive_bus_destroy(bus);
}

static void *other_thread_fails(void *bus)
{
    hive_server_create(&(hive_server_config){ .max_connections = 99999 }, bus);
    return (void *)(hive_create_error()->code == HIVE_EINVAL ? bus : NULL);
}

Test(create_error, the_record_is_per_thread, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    cr_assert_null(hive_server_create(&(hive_server_config){ .max_frame = 1 }, bus));
    pthread_t t;
    void *ok = NULL;
    cr_assert_eq(pthread_create(&t, NULL, other_thread_fails, bus), 0);
    pthread_join(t, &ok);
    cr_expect_eq(ok, bus, "the other thread saw its own failure");
    cr_expect_str_eq(hive_create_error()->field, "max_frame", "this thread's record is untouched");
    hive_bus_destroy(bus);
}

Test(config_get, server_reads_back_every_default, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_server *s = hive_server_create(&(hive_server_config){ .heartbeat_timeout_ms = 1500 }, bus);
    cr_assert_not_null(s);
    hive_server_config c;
    cr_assert_eq(hive_server_config_get(s, &c), HIVE_OK);
    cr_expect_str_eq(c.addr, HIVE_DEFAULT_ADDR);
    cr_expect_str_eq(c.app, HIVE_DEFAULT_APP);
    cr_expect_str_eq(c.app_version, HIVE_DEFAULT_APP_VERSION);
    cr_expect_eq(c.max_connections, HIVE_DEFAULT_MAX_CONNECTIONS);
    cr_expect_eq(c.max_frame, HIVE_DEFAULT_MAX_FRAME);
    cr_expect_eq(c.handshake_timeout_ms, HIVE_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    cr_expect_eq(c.heartbeat_timeout_ms, 1500);
    cr_expect_eq(c.heartbeat_ms, 500, "a third of a short timeout");
    cr_expect_eq(c.close_linger_ms, HIVE_DEFAULT_CLOSE_LINGER_MS);
    cr_expect_eq(c.pull_capacity, HIVE_DEFAULT_PULL_CAPACITY);
    cr_expect_eq(c.max_peers_per_addr, HIVE_DEFAULT_MAX_PEERS_PER_ADDR);
    cr_expect_eq(hive_server_config_get(NULL, &c), HIVE_EINVAL);
    cr_expect_eq(hive_server_config_get(s, NULL), HIVE_EINVAL);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
}

Test(config_get, client_reads_back_every_default, .timeout = 10)
{
    hive_bus *bus = hive_bus_create(NULL);
    hive_client *k = hive_client_create(NULL, bus);
    cr_assert_not_null(k);
    hive_client_config c;
    cr_assert_eq(hive_client_config_get(k, &c), HIVE_OK);
    cr_expect_str_eq(c.app, HIVE_DEFAULT_APP);
    cr_expect_str_eq(c.app_version, HIVE_DEFAULT_APP_VERSION);
    cr_expect_str_eq(c.conntype, HIVE_DEFAULT_CONNTYPE);
    cr_expect_eq(c.connect_timeout_ms, HIVE_DEFAULT_CONNECT_TIMEOUT_MS);
    cr_expect_eq(c.handshake_timeout_ms, HIVE_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    cr_expect_eq(c.heartbeat_timeout_ms, HIVE_DEFAULT_HEARTBEAT_TIMEOUT_MS);
    cr_expect_eq(c.heartbeat_ms, HIVE_DEFAULT_HEARTBEAT_MS);
    cr_expect_eq(c.max_frame, HIVE_DEFAULT_MAX_FRAME);
    cr_expect_eq(c.pull_capacity, HIVE_DEFAULT_PULL_CAPACITY);
    cr_expect_eq(c.token, NULL);
    hive_client_destroy(k);
    hive_bus_destroy(bus);
}
