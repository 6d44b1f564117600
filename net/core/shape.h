/*
 * net/core/shape.h - declared shapes of packet types (hive/net.h DECLARED
 * SHAPES): the fields a received body must or may have, and what happens
 * when it does not. A shape is a small table, kept by the endpoint by
 * packet name and pointed at from the packet table's entries, so the I/O
 * thread checks a body with one walk of its map and no allocation.
 */
#ifndef HIVE_NET_SHAPE_H
#define HIVE_NET_SHAPE_H

#include "hive/net.h"

typedef struct hive__shape_field {
    char *key;
    size_t klen;
    hive_vtype type;
    bool required;
} hive__shape_field;

typedef struct hive__shape {
    struct hive__shape *next;
    char *name;                   /* the packet type's name */
    hive_shape_policy policy;
    size_t n;
    hive__shape_field f[];
} hive__shape;

/* A copy of fields[0..n) for the packet type `name`. Checks the table
 * (keys non-NULL, non-empty, distinct; types known). Returns HIVE_OK and
 * *out, HIVE_EINVAL, HIVE_ENOMEM. */
int  hive__shape_new(hive__shape **out, const char *name, const hive_shape_field *fields, size_t n,
                     hive_shape_policy policy);
void hive__shape_free_all(hive__shape *list);
/* The shape for name in list, or NULL. */
const hive__shape *hive__shape_find(const hive__shape *list, const char *name);

/*
 * hive__shape_check - does the decoded body o fit sh? Returns 0, or
 * HIVE_ETYPE (not a map, or a field of another type) / HIVE_ENOENT (a
 * required field absent), with a line saying which in why[0..n).
 */
int hive__shape_check(const hive__shape *sh, const msgpack_object *o, char *why, size_t n);

/* Does one value have type t? */
bool hive__vtype_match(hive_vtype t, const msgpack_object *v);

#endif /* HIVE_NET_SHAPE_H */
