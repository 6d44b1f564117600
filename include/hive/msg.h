/*
 * hive/msg.h - short helpers over msgpack-c for building and reading
 * message bodies. Hive has no codec of its own: every byte is written by
 * msgpack-c's packer and read by its unpacker; these helpers only save
 * the boilerplate and turn msgpack-c's results into HIVE_E* codes.
 *
 * Building:
 *     hive_msg m;
 *     hive_msg_init(&m);
 *     hive_msg_map(&m, 2);
 *     hive_msg_kv_str(&m, "text", "hello");
 *     hive_msg_kv_int(&m, "to", 7);
 *     send(hive_msg_data(&m), hive_msg_size(&m));
 *     hive_msg_free(&m);
 * Any msgpack_pack_*(&m.pk, ...) call may be mixed in. The helpers do not
 * count map/array elements: declaring n and writing n is the caller's job.
 *
 * Reading:
 *     hive_msg_view v;
 *     if (hive_msg_view_init(&v, raw, len) == 0) {
 *         const char *s; size_t n;
 *         if (hive_msg_get_str(v.obj, "text", &s, &n) == 0) ...   (s is NOT NUL-terminated)
 *         hive_msg_view_free(&v);
 *     }
 *
 * Memory: msgpack-c's buffers and zones use the C library's malloc, not
 * the hive_set_allocator() hook. THREADS: a hive_msg / hive_msg_view is
 * used by one thread at a time; the getters only read and are reentrant.
 */
#ifndef HIVE_MSG_H
#define HIVE_MSG_H

#include <msgpack.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Building                                                             */
/* ------------------------------------------------------------------ */

/* A message being built: msgpack_sbuffer + a msgpack_packer writing into
 * it. pk points at buf, so a hive_msg must not be copied or moved after
 * hive_msg_init (keep it where it was initialised). */
typedef struct hive_msg {
    msgpack_sbuffer buf;
    msgpack_packer  pk;
} hive_msg;

/* hive_msg_init - an empty message; allocates nothing yet. */
void hive_msg_init(hive_msg *m);

/* hive_msg_reset - forget the content, keep the memory for the next one. */
void hive_msg_reset(hive_msg *m);

/* hive_msg_free - release the memory. m is left empty and may be reused
 * without another init. NULL is a no-op. */
void hive_msg_free(hive_msg *m);

/* hive_msg_data / hive_msg_size - the encoded bytes so far, owned by m and
 * valid until the next write, reset or free. data may be NULL when size is 0. */
const void *hive_msg_data(const hive_msg *m);
size_t hive_msg_size(const hive_msg *m);

/* Writers. Each appends one msgpack value and returns 0, or HIVE_ENOMEM
 * when the buffer could not grow (the message is then incomplete: reset
 * it). A NULL string, or a NULL bin pointer with len > 0, writes nil. */
int hive_msg_map(hive_msg *m, uint32_t n);       /* header of a map of n pairs */
int hive_msg_array(hive_msg *m, uint32_t n);     /* header of an array of n values */
int hive_msg_nil(hive_msg *m);
int hive_msg_bool(hive_msg *m, bool v);
int hive_msg_int(hive_msg *m, int64_t v);
int hive_msg_uint(hive_msg *m, uint64_t v);
int hive_msg_double(hive_msg *m, double v);
int hive_msg_str(hive_msg *m, const char *s);                 /* NUL-terminated */
int hive_msg_strn(hive_msg *m, const char *s, size_t len);    /* len bytes */
int hive_msg_bin(hive_msg *m, const void *p, size_t len);
/* hive_msg_raw - append already-encoded msgpack bytes verbatim (for
 * forwarding a received object). The caller vouches they are exactly one
 * object (hive_msg_view_init proves that for received bytes). */
int hive_msg_raw(hive_msg *m, const void *p, size_t len);

/* Map pairs: the key string, then the value. hive_msg_key writes only the
 * key, to be followed by any value (a nested map, an array, ...). */
int hive_msg_key(hive_msg *m, const char *key);
int hive_msg_kv_nil(hive_msg *m, const char *key);
int hive_msg_kv_bool(hive_msg *m, const char *key, bool v);
int hive_msg_kv_int(hive_msg *m, const char *key, int64_t v);
int hive_msg_kv_uint(hive_msg *m, const char *key, uint64_t v);
int hive_msg_kv_double(hive_msg *m, const char *key, double v);
int hive_msg_kv_str(hive_msg *m, const char *key, const char *v);
int hive_msg_kv_bin(hive_msg *m, const char *key, const void *p, size_t len);

/* ------------------------------------------------------------------ */
/* Reading                                                              */
/* ------------------------------------------------------------------ */

/* hive_msg_get - the value stored under a string key in a map object;
 * NULL when map is NULL, not a map, or has no such key (first match wins).
 * The result is borrowed from map's zone. */
const msgpack_object *hive_msg_get(const msgpack_object *map, const char *key);

/*
 * Typed getters: read map[key]. Each returns 0 and stores the value (out
 * pointers may be NULL), HIVE_ENOENT when the key is absent, HIVE_ETYPE
 * when map is not a map or the value has another type, HIVE_EINVAL for a
 * NULL map or key.
 *   get_int:    integers that fit int64_t (a larger unsigned is HIVE_ETYPE);
 *   get_uint:   non-negative integers;
 *   get_double: floats, and integers converted to double;
 *   get_str:    a string; *s points into the message and is NOT
 *               NUL-terminated: use *len;
 *   get_bin:    a bin value, borrowed like get_str.
 */
int hive_msg_get_int(const msgpack_object *map, const char *key, int64_t *out);
int hive_msg_get_uint(const msgpack_object *map, const char *key, uint64_t *out);
int hive_msg_get_double(const msgpack_object *map, const char *key, double *out);
int hive_msg_get_bool(const msgpack_object *map, const char *key, bool *out);
int hive_msg_get_str(const msgpack_object *map, const char *key, const char **s, size_t *len);
int hive_msg_get_bin(const msgpack_object *map, const char *key, const void **p, size_t *len);

/* hive_msg_str_eq - true when o is a string equal to the NUL-terminated s. */
bool hive_msg_str_eq(const msgpack_object *o, const char *s);

/*
 * A decoded message: msgpack-c's unpacked holder (which owns a zone) and
 * the root object. Strings and bins inside point into the raw bytes given
 * to hive_msg_view_init, so those must outlive the view.
 */
typedef struct hive_msg_view {
    msgpack_unpacked up;
    const msgpack_object *obj;   /* the root; NULL when not initialised */
} hive_msg_view;

/*
 * hive_msg_view_init - decode raw[0..len) as exactly one msgpack object.
 * Returns 0 (v->obj set; free with hive_msg_view_free), or HIVE_EMSGPACK
 * for empty, truncated, malformed or trailing bytes, or declared sizes the
 * bytes cannot hold (the same checks as the frame body check); on failure
 * nothing needs freeing, though hive_msg_view_free is then harmless.
 * HIVE_EINVAL for NULL v, or NULL raw with len > 0. HIVE_ENOMEM.
 */
int hive_msg_view_init(hive_msg_view *v, const void *raw, size_t len);

/* hive_msg_view_free - release the zone; v->obj becomes NULL. Safe on a
 * view whose init failed, twice, and on NULL. */
void hive_msg_view_free(hive_msg_view *v);

#ifdef __cplusplus
}
#endif

#endif /* HIVE_MSG_H */
