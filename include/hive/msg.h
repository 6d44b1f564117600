/*
 * hive/msg.h - short helpers over msgpack-c for building and reading
 * message bodies. Bodies have no codec of Hive's own: every byte is written
 * by msgpack-c's packer and read by its unpacker; these helpers only save
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
 * Any msgpack_pack_*(&m.pk, ...) call may be mixed in. hive_msg_map(&m, n)
 * declares n pairs and the caller writes n; or let the builder count:
 *     hive_msg_map_begin(&m);
 *     hive_msg_kv_str(&m, "text", "hello");
 *     hive_msg_key(&m, "to");
 *     hive_msg_array_begin(&m); hive_msg_int(&m, 7); hive_msg_array_end(&m);
 *     hive_msg_map_end(&m);              (the same bytes as counted calls)
 * Every send call checks that a body is exactly one well-formed msgpack
 * value and refuses it with HIVE_EMSGPACK otherwise (hive_msg_check says
 * why, and so does hive_msg_last_error() after a refused send).
 *
 * Reading (in a recv handler, hive_event_body(ev) in hive/net.h gives the
 * decoded body; elsewhere a hive_msg_view decodes bytes):
 *     const msgpack_object *o = hive_event_body(ev);
 *     int64_t hp = hive_msg_int_or(o, "players.3.hp", 100);  (a path, a default)
 *     const msgpack_object *ps = hive_msg_path(o, "players"), *p;
 *     for (uint32_t i = 0; (p = hive_msg_next(ps, &i)); )    (iterate an array)
 *         hive_msg_path_double(p, "x", &x);                   (0, HIVE_ENOENT, HIVE_ETYPE)
 * Every reader accepts NULL (absent) objects, so calls chain without checks
 * in between. msgpack_object stays available for code that wants its
 * layout; nothing here requires it.
 *
 * Memory: msgpack-c's buffers and zones use the C library's malloc, not
 * the hive_set_allocator() hook. THREADS: a hive_msg / hive_msg_view is
 * used by one thread at a time; the readers only read and are reentrant
 * (any number of threads may read one decoded object at once).
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
/* Containers a hive_msg may have begun (hive_msg_map_begin /
 * hive_msg_array_begin) and not yet ended, nested. */
#define HIVE_MSG_MAX_OPEN 16

typedef struct hive_msg {
    msgpack_sbuffer buf;
    msgpack_packer  pk;
    /* The begun containers, innermost last (internal: use the calls). */
    uint32_t open_n;
    uint32_t open_map;                   /* bit i: open[i] is a map */
    size_t   open[HIVE_MSG_MAX_OPEN];    /* offset of each reserved header */
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
 * forwarding a received object). Nothing is checked here; a begun
 * container's end, hive_msg_check and every send call check the result. */
int hive_msg_raw(hive_msg *m, const void *p, size_t len);

/*
 * Containers the builder counts. *_begin reserves a header; *_end counts
 * the values written since (by any writer, msgpack_pack_* included),
 * writes the smallest header for that count (fixmap/map16/map32,
 * fixarray/array16/array32, exactly what hive_msg_map/hive_msg_array
 * write) and moves the content up behind it. Nestable, and mixable with
 * counted containers. Returns 0, or:
 *   HIVE_ELIMIT    begin: HIVE_MSG_MAX_OPEN containers are already open;
 *   HIVE_ESTATE    end: nothing is open, or the innermost open container is
 *                  of the other kind (array_end for a map_begin);
 *   HIVE_EMSGPACK  end: what was written is not whole values, or a map got
 *                  an odd count (a key without a value); the container
 *                  stays open, hive_msg_last_error() names the problem;
 *   HIVE_ENOMEM    begin: the buffer could not grow.
 * Cost: end walks the container's bytes once (no allocation). A message
 * with a container still open is refused by the send calls.
 */
int hive_msg_map_begin(hive_msg *m);
int hive_msg_map_end(hive_msg *m);
int hive_msg_array_begin(hive_msg *m);
int hive_msg_array_end(hive_msg *m);

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
/* Checking                                                             */
/* ------------------------------------------------------------------ */

/*
 * hive_msg_check - is raw[0..len) exactly one well-formed msgpack value,
 * the only thing a frame body may be? The allocation-free scan the
 * receiver runs on every body, and every send call runs before queueing.
 * why: when not NULL and n > 0, on failure a NUL-terminated sentence
 * naming the problem ("map declared 3 pairs, found 2"), cut to n bytes;
 * "" on success. Returns 0, HIVE_EMSGPACK, or HIVE_EINVAL (NULL raw with
 * len > 0). Thread-safe, allocates nothing.
 */
int hive_msg_check(const void *raw, size_t len, char *why, size_t n);

/*
 * hive_msg_last_error - why the last HIVE_EMSGPACK on this thread was
 * returned, by a send call (hive_server_send*, hive_server_broadcast*,
 * hive_client_send*) or hive_msg_*_end: the same sentence as
 * hive_msg_check's. Thread-local: a static buffer of this thread's, valid
 * until its next refused call; "" when nothing was refused yet. Calls
 * that succeed leave it as it was (read it only after HIVE_EMSGPACK).
 */
const char *hive_msg_last_error(void);

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
 * Arrays and maps.
 *   hive_msg_len:  elements of an array, pairs of a map; 0 for anything
 *                  else and for NULL.
 *   hive_msg_at:   element i of an array; NULL when o is not an array or
 *                  i is out of range.
 *   hive_msg_next: iteration: element *i of an array, and *i advances;
 *                  NULL (and *i untouched) at the end or when o is not an
 *                  array:
 *       uint32_t i = 0;
 *       for (const msgpack_object *e; (e = hive_msg_next(arr, &i)); ) ...
 *   hive_msg_next_pair: the same over a map's pairs: true and *key, *val
 *                  set (either may be NULL), false at the end.
 * Results are borrowed from the object's zone.
 */
uint32_t hive_msg_len(const msgpack_object *o);
const msgpack_object *hive_msg_at(const msgpack_object *arr, uint32_t i);
const msgpack_object *hive_msg_next(const msgpack_object *arr, uint32_t *i);
bool hive_msg_next_pair(const msgpack_object *map, uint32_t *i,
                        const msgpack_object **key, const msgpack_object **val);

/*
 * Paths. A path names a value inside nested maps and arrays, as
 * dot-separated steps: "players.3.x" is map key "players", array index 3,
 * map key "x". A step is a key when the current value is a map (a string
 * key equal to the step; failing that, for a step of digits, an integer
 * key of that value) and an index (decimal digits, no sign) when it is an
 * array. "" or NULL is the
 * root itself. Keys containing '.' need the step form below.
 *
 * hive_msg_find - resolve path from root. Returns 0 and *out, HIVE_ENOENT
 * (root NULL, a key absent, an index out of range), HIVE_ETYPE (a step
 * into something that is not a map or array, or a non-numeric step in an
 * array), HIVE_EINVAL (out NULL, an empty step as in "a..b").
 * hive_msg_path - the same, returning the value or NULL.
 */
int hive_msg_find(const msgpack_object *root, const char *path, const msgpack_object **out);
const msgpack_object *hive_msg_path(const msgpack_object *root, const char *path);

/*
 * The step form, for keys with dots or indexes held in variables:
 *     hive_msg_step st[] = { HIVE_MSG_KEY("players"), HIVE_MSG_IDX(i), HIVE_MSG_KEY("x") };
 *     const msgpack_object *x = hive_msg_walk(root, st, 3);
 * or inline:  hive_msg_walkv(root, HIVE_MSG_KEY("players"), HIVE_MSG_IDX(i), HIVE_MSG_KEY("x"))
 * A HIVE_MSG_KEY step needs a map, a HIVE_MSG_IDX step an array.
 * hive_msg_walk_find returns the same codes as hive_msg_find.
 */
typedef struct hive_msg_step {
    const char *key;      /* a map key, or NULL for an index step */
    uint32_t index;
} hive_msg_step;
#define HIVE_MSG_KEY(k) ((hive_msg_step){ .key = (k) })
#define HIVE_MSG_IDX(i) ((hive_msg_step){ .key = NULL, .index = (uint32_t)(i) })
int hive_msg_walk_find(const msgpack_object *root, const hive_msg_step *steps, size_t n,
                       const msgpack_object **out);
const msgpack_object *hive_msg_walk(const msgpack_object *root, const hive_msg_step *steps, size_t n);
#define hive_msg_walkv(root, ...)                                                   \
    hive_msg_walk((root), (const hive_msg_step[]){ __VA_ARGS__ },                   \
                  sizeof((const hive_msg_step[]){ __VA_ARGS__ }) / sizeof(hive_msg_step))

/*
 * Typed reads of one value. hive_msg_as_*: o itself; hive_msg_path_*: the
 * value at path under root (hive_msg_find, then hive_msg_as_*). Each
 * returns 0 and stores the value (out pointers may be NULL), HIVE_ENOENT
 * when the value is absent (o NULL, or the path leads nowhere),
 * HIVE_ETYPE when it has another type (or the path crosses a scalar).
 * Conversions as for the map getters above: int takes integers that fit
 * int64_t, uint non-negative integers, double floats and integers; str
 * and bin are borrowed, NOT NUL-terminated (use *len). nil, array and map
 * only test the type (array and map give their length: elements, pairs).
 */
int hive_msg_as_int(const msgpack_object *o, int64_t *out);
int hive_msg_as_uint(const msgpack_object *o, uint64_t *out);
int hive_msg_as_double(const msgpack_object *o, double *out);
int hive_msg_as_bool(const msgpack_object *o, bool *out);
int hive_msg_as_str(const msgpack_object *o, const char **s, size_t *len);
int hive_msg_as_bin(const msgpack_object *o, const void **p, size_t *len);
int hive_msg_as_nil(const msgpack_object *o);
int hive_msg_as_array(const msgpack_object *o, uint32_t *n);
int hive_msg_as_map(const msgpack_object *o, uint32_t *npairs);

int hive_msg_path_int(const msgpack_object *root, const char *path, int64_t *out);
int hive_msg_path_uint(const msgpack_object *root, const char *path, uint64_t *out);
int hive_msg_path_double(const msgpack_object *root, const char *path, double *out);
int hive_msg_path_bool(const msgpack_object *root, const char *path, bool *out);
int hive_msg_path_str(const msgpack_object *root, const char *path, const char **s, size_t *len);
int hive_msg_path_bin(const msgpack_object *root, const char *path, const void **p, size_t *len);
int hive_msg_path_nil(const msgpack_object *root, const char *path);
int hive_msg_path_array(const msgpack_object *root, const char *path, const msgpack_object **arr, uint32_t *n);
int hive_msg_path_map(const msgpack_object *root, const char *path, const msgpack_object **map, uint32_t *npairs);

/*
 * With defaults: the value at path, or def when it is absent or has
 * another type (the same conversions). hive_msg_str_or returns a borrowed,
 * NOT NUL-terminated pointer and sets *len (when len is not NULL; def's
 * strlen for the default). hive_msg_copy_str copies the string at path
 * into buf[0..n) NUL-terminated and returns its full length (like
 * snprintf: a result >= n means it was cut), or a negative HIVE_E* code
 * (HIVE_ENOENT, HIVE_ETYPE; HIVE_EINVAL for NULL buf with n > 0); buf is
 * "" on error when n > 0.
 */
int64_t  hive_msg_int_or(const msgpack_object *root, const char *path, int64_t def);
uint64_t hive_msg_uint_or(const msgpack_object *root, const char *path, uint64_t def);
double   hive_msg_double_or(const msgpack_object *root, const char *path, double def);
bool     hive_msg_bool_or(const msgpack_object *root, const char *path, bool def);
const char *hive_msg_str_or(const msgpack_object *root, const char *path, const char *def, size_t *len);
long     hive_msg_copy_str(const msgpack_object *root, const char *path, char *buf, size_t n);

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
