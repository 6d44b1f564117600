/* shape.c - declared shapes of packet types (see shape.h). */
#include "net/core/shape.h"
#include "events/internal.h"

#include <stdio.h>
#include <string.h>

static const char *vtype_name(hive_vtype t)
{
    switch (t) {
    case HIVE_V_ANY: return "any";
    case HIVE_V_NIL: return "nil";
    case HIVE_V_BOOL: return "bool";
    case HIVE_V_INT: return "int";
    case HIVE_V_UINT: return "uint";
    case HIVE_V_DOUBLE: return "double";
    case HIVE_V_NUMBER: return "number";
    case HIVE_V_STR: return "str";
    case HIVE_V_BIN: return "bin";
    case HIVE_V_ARRAY: return "array";
    case HIVE_V_MAP: return "map";
    }
    return "?";
}

bool hive__vtype_match(hive_vtype t, const msgpack_object *v)
{
    switch (t) {
    case HIVE_V_ANY: return true;
    case HIVE_V_NIL: return v->type == MSGPACK_OBJECT_NIL;
    case HIVE_V_BOOL: return v->type == MSGPACK_OBJECT_BOOLEAN;
    case HIVE_V_INT:
        return v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
               (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && v->via.u64 <= (uint64_t)INT64_MAX);
    case HIVE_V_UINT: return v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    case HIVE_V_DOUBLE: return v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64;
    case HIVE_V_NUMBER:
        return v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64 ||
               v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER || v->type == MSGPACK_OBJECT_POSITIVE_INTEGER;
    case HIVE_V_STR: return v->type == MSGPACK_OBJECT_STR;
    case HIVE_V_BIN: return v->type == MSGPACK_OBJECT_BIN;
    case HIVE_V_ARRAY: return v->type == MSGPACK_OBJECT_ARRAY;
    case HIVE_V_MAP: return v->type == MSGPACK_OBJECT_MAP;
    }
    return false;
}

int hive__shape_new(hive__shape **out, const char *name, const hive_shape_field *fields, size_t n,
                    hive_shape_policy policy)
{
    if (!out || !name || (!fields && n) || n > HIVE_SHAPE_MAX_FIELDS) return HIVE_EINVAL;
    if (policy != HIVE_SHAPE_DROP && policy != HIVE_SHAPE_CLOSE) return HIVE_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (!fields[i].key || !fields[i].key[0] || (unsigned)fields[i].type > HIVE_V_MAP) return HIVE_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(fields[i].key, fields[j].key)) return HIVE_EINVAL;
    }
    hive__shape *s = hive__calloc(1, sizeof *s + n * sizeof s->f[0]);
    if (!s) return HIVE_ENOMEM;
    s->name = hive__strdup(name);
    s->policy = policy;
    bool ok = s->name != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        s->f[i].key = hive__strdup(fields[i].key);
        s->f[i].klen = strlen(fields[i].key);
        s->f[i].type = fields[i].type;
        s->f[i].required = fields[i].required;
        s->n = i + 1;
        ok = s->f[i].key != NULL;
    }
    if (!ok) {
        hive__shape_free_all(s);
        return HIVE_ENOMEM;
    }
    *out = s;
    return HIVE_OK;
}

void hive__shape_free_all(hive__shape *list)
{
    while (list) {
        hive__shape *next = list->next;
        for (size_t i = 0; i < list->n; i++) hive__free(list->f[i].key);
        hive__free(list->name);
        hive__free(list);
        list = next;
    }
}

const hive__shape *hive__shape_find(const hive__shape *list, const char *name)
{
    for (; list; list = list->next)
        if (!strcmp(list->name, name)) return list;
    return NULL;
}

int hive__shape_check(const hive__shape *sh, const msgpack_object *o, char *why, size_t n)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP) {
        snprintf(why, n, "%s: the body is not a map", sh->name);
        return HIVE_ETYPE;
    }
    /* Each declared field: its first occurrence (as hive_msg_get reads). */
    for (size_t i = 0; i < sh->n; i++) {
        const hive__shape_field *f = &sh->f[i];
        const msgpack_object *v = NULL;
        for (uint32_t k = 0; k < o->via.map.size && !v; k++) {
            const msgpack_object *key = &o->via.map.ptr[k].key;
            if (key->type == MSGPACK_OBJECT_STR && key->via.str.size == f->klen &&
                memcmp(key->via.str.ptr, f->key, f->klen) == 0)
                v = &o->via.map.ptr[k].val;
        }
        if (!v) {
            if (!f->required) continue;
            snprintf(why, n, "%s: the required field \"%s\" is missing", sh->name, f->key);
            return HIVE_ENOENT;
        }
        if (!hive__vtype_match(f->type, v)) {
            snprintf(why, n, "%s: the field \"%s\" is not %s %s", sh->name, f->key,
                     f->type == HIVE_V_INT || f->type == HIVE_V_UINT || f->type == HIVE_V_ARRAY ? "an" : "a",
                     vtype_name(f->type));
            return HIVE_ETYPE;
        }
    }
    return 0;
}
