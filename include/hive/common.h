/*
 * hive/common.h - error codes, the allocator hook and version of Hive.
 *
 * Every Hive function that can fail returns an `int`: 0 (HIVE_OK) or a
 * positive value on success (where documented, e.g. an id), a negative
 * HIVE_E* code on failure. Constructors return NULL on failure.
 * hive_strerror()/hive_err_name() turn a code into text.
 */
#ifndef HIVE_COMMON_H
#define HIVE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HIVE_VERSION_MAJOR 0
#define HIVE_VERSION_MINOR 1
#define HIVE_VERSION_PATCH 0
#define HIVE_VERSION_STRING "0.1.0"

/*
 * The one table of error codes: X(NAME, value, message).
 * HIVE_E<NAME> is the code; hive_err_name() returns "HIVE_E<NAME>".
 */
#define HIVE_ERRNO_MAP(X)                                                    \
    X(INVAL,      -1, "invalid argument")                                    \
    X(NOMEM,      -2, "out of memory")                                       \
    X(NOENT,      -3, "not found")                                           \
    X(EXIST,      -4, "already exists")                                      \
    X(FULL,       -5, "queue or table full")                                 \
    X(NAME,       -6, "malformed event name")                                \
    X(PATTERN,    -7, "malformed subscription pattern")                      \
    X(TYPE,       -8, "field has another type")                              \
    X(STATE,      -9, "operation not valid in the current state")           \
    X(TIMEDOUT,  -10, "timed out")                                           \
    X(CLOSED,    -11, "connection or object closed")                         \
    X(AGAIN,     -12, "need more data, try again")                           \
    X(PROTO,     -13, "protocol error")                                      \
    X(TOOBIG,    -14, "size over the configured limit")                      \
    X(IO,        -15, "input/output or socket error")                        \
    X(ADDR,      -16, "bad or unresolvable address")                         \
    X(TLS,       -17, "TLS error")                                           \
    X(MSGPACK,   -18, "invalid msgpack data")                                \
    X(UNSUPPORTED, -19, "not supported by this build or transport")         \
    X(LIMIT,     -20, "limit reached")

typedef enum hive_errno {
    HIVE_OK = 0,
#define HIVE_ERRNO_ENUM_(name, val, msg) HIVE_E##name = (val),
    HIVE_ERRNO_MAP(HIVE_ERRNO_ENUM_)
#undef HIVE_ERRNO_ENUM_
} hive_errno;

/*
 * hive_strerror - human-readable message for a code.
 * Returns a static string (never NULL; "unknown error" for unknown codes,
 * "success" for values >= 0). Thread-safe.
 */
const char *hive_strerror(int err);

/*
 * hive_err_name - the code's symbolic name, e.g. "HIVE_ENOMEM".
 * Returns a static string (never NULL; "HIVE_OK" for values >= 0,
 * "HIVE_EUNKNOWN" for unknown codes). Thread-safe.
 */
const char *hive_err_name(int err);

/*
 * Allocator hook. All memory Hive allocates itself goes through these
 * three functions (ENet's allocations too, once a network object exists).
 * msgpack-c's zones use the C library's malloc; Hive cannot hook those.
 *
 * realloc(NULL, n) must behave like malloc(n); free(NULL) must be a no-op.
 */
typedef struct hive_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void  (*free_fn)(void *ptr, void *user);
    void  *user;
} hive_allocator;

/*
 * hive_set_allocator - install an allocator for all of Hive.
 *
 * a: the allocator (copied), or NULL to restore the C library's.
 *    All three functions must be set.
 * Returns HIVE_OK, or HIVE_EINVAL when a function pointer is missing.
 *
 * Call it before creating any Hive object, and never while one exists:
 * memory must be freed by the allocator that allocated it.
 * Not thread-safe with respect to other Hive calls.
 */
int hive_set_allocator(const hive_allocator *a);

/*
 * Why a constructor failed.
 *
 * hive_bus_create, hive_server_create, hive_client_create,
 * hive_engine_create and hive_sdl_create return NULL on failure. hive_create_error() then says why: the code
 * (HIVE_EINVAL for a bad config field, HIVE_ENOMEM, ...), the name of the
 * config field at fault, and a message that can be printed as it is:
 *
 *   hive_server *s = hive_server_create(&cfg, bus);
 *   if (!s) fprintf(stderr, "%s\n", hive_create_error()->message);
 *   // "hive_server_config.max_connections: 5000 is over the limit of 4000"
 *
 * The record is per thread and describes the last create call made on
 * the calling thread (code HIVE_OK and empty strings after a success).
 * It is never NULL and stays valid until the next create on that thread.
 * Thread-safe (thread-local).
 */
typedef struct hive_create_error_info {
    int code;               /* HIVE_OK, or the negative HIVE_E* code */
    const char *field;      /* the config field at fault ("max_connections"), or "" */
    char message[200];      /* printable, names the config struct and field */
} hive_create_error_info;

const hive_create_error_info *hive_create_error(void);

/*
 * hive_now_ns - monotonic clock in nanoseconds (CLOCK_MONOTONIC).
 * Thread-safe.
 */
uint64_t hive_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_COMMON_H */
