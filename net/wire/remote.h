/*
 * net/wire/remote.h - the bodies of remote subscriptions (docs/PROTOCOL.md
 * "Remote subscriptions"): subscribe, unsubscribe, the server's answer and
 * a remote event; the server-side filters they carry, and whether one
 * pattern covers another. Encoding and strict, bounded decoding only;
 * never any I/O.
 */
#ifndef HIVE_NET_REMOTE_WIRE_H
#define HIVE_NET_REMOTE_WIRE_H

#include "hive/net.h"

#define HIVE__PID_SUBSCRIBE   12u   /* client -> server */
#define HIVE__PID_UNSUBSCRIBE 13u   /* client -> server */
#define HIVE__PID_SUBANSWER   14u   /* server -> client: accepted or refused */
#define HIVE__PID_REVENT      15u   /* server -> client: a matching event */

/* Bounds every decoder enforces (hive/net.h REMOTE SUBSCRIPTIONS). */
#define HIVE__RF_MAX      HIVE_FILTERS_MAX       /* filters per subscription */
#define HIVE__RF_VALS_MAX HIVE_FILTER_VALUES_MAX /* values of one `in` */
#define HIVE__RF_STR_MAX  255                    /* bytes of a key or a string value */
#define HIVE__RSUB_ID_MAX 0x7fffffffu
#define HIVE__REV_FIELDS_MAX 64                  /* fields of one remote event */
#define HIVE__REASON_MAX  127

/* One filter value: an integer, a double or a string (not NUL-ended:
 * s/len point into the decoded body, or into a hive__rspec's block). */
typedef struct hive__rval {
    uint8_t type;              /* HIVE_T_INT, HIVE_T_DOUBLE, HIVE_T_STR */
    uint32_t len;
    union { int64_t i; double d; const char *s; } u;
} hive__rval;

typedef struct hive__rfilter {
    const char *key;           /* NUL-ended */
    uint8_t op;                /* hive_filter_op */
    uint16_t n;                /* values (EQ: 1; IN: 1..; RANGE: 2, lo and hi) */
    hive__rval *v;
} hive__rfilter;

/* A subscription as the server keeps it: pattern and filters in one
 * block (one allocation, freed with hive__free). */
typedef struct hive__rspec {
    uint32_t id;
    const char *pattern;
    uint8_t nf;
    hive__rfilter *f;
    size_t bytes;              /* the block's size */
} hive__rspec;

/*
 * hive__rsub_parse - a subscribe body into a new hive__rspec (*out, one
 * block). Returns HIVE_OK; HIVE_EPROTO with a reason in why[HIVE__REASON_MAX+1]
 * for a body that breaks the rules (the id, when it could be read, is in
 * *id, else 0); HIVE_ENOMEM.
 */
int hive__rsub_parse(const msgpack_object *o, hive__rspec **out, uint32_t *id, char *why);

/* hive__rsub_pack - a subscribe body from the API's filters. Checks every
 * bound the decoder checks: HIVE_OK, HIVE_EINVAL (with why), HIVE_ENOMEM. */
int hive__rsub_pack(hive_msg *m, uint32_t id, const char *pattern, const hive_filter *f, size_t n, char *why);

/* hive__rfilters_match - whether an event's fields pass every filter. */
bool hive__rfilters_match(const hive__rspec *s, const hive_field *fields, size_t n);

/*
 * hive__pattern_covers - whether every name that `req` (a name or a bus
 * pattern) can match is matched by `exp` (a name or pattern). Both must
 * be valid patterns.
 */
bool hive__pattern_covers(const char *exp, const char *req);

/* unsubscribe {id}; answer {id, ok, reason}. */
int hive__runsub_pack(hive_msg *m, uint32_t id);
int hive__runsub_parse(const msgpack_object *o, uint32_t *id);
int hive__ranswer_pack(hive_msg *m, uint32_t id, bool ok, const char *reason);
int hive__ranswer_parse(const msgpack_object *o, uint32_t *id, bool *ok, const char **reason, size_t *rlen);

/*
 * A remote event: {name, fields: {key: value}, dropped}. Values: msgpack
 * int (INT), float64 (DOUBLE), str (STR), bin (BYTES), ext type
 * HIVE__EXT_MSGPACK holding the raw msgpack bytes (MSGPACK). PTR fields
 * never travel.
 */
#define HIVE__EXT_MSGPACK 0x48
int hive__revent_pack(hive_msg *m, const char *name, const hive_field *fields, size_t n, uint64_t dropped);
/* Decodes into fields[HIVE__REV_FIELDS_MAX] (borrowing o's bytes; keys
 * and strings are copied, NUL-ended, into scratch[cap], which needs the
 * body's length plus 2 * HIVE__REV_FIELDS_MAX; MSGPACK fields get their
 * own object decoded into zone). HIVE_OK or HIVE_EPROTO. */
int hive__revent_parse(const msgpack_object *o, const char **name, size_t *name_len, hive_field *fields,
                       size_t *n, uint64_t *dropped, msgpack_zone *zone, char *scratch, size_t cap);

#endif /* HIVE_NET_REMOTE_WIRE_H */
