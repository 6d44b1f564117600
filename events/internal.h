/*
 * events/internal.h - what every layer of Hive uses internally and no
 * user sees: the allocation entry points behind hive_set_allocator, and
 * the recording of why a constructor failed (hive_create_error).
 *
 * Any Hive source may include this; no public header does (the public
 * headers in include/hive/ are the contract, and nothing hive__ is in it).
 */
#ifndef HIVE_EVENTS_INTERNAL_H
#define HIVE_EVENTS_INTERNAL_H

#include "hive/common.h"

/* Allocation: through the installed hive_allocator. malloc(0) returns a
 * unique pointer, calloc checks n*size for overflow, free(NULL) is a
 * no-op, strdup(NULL) is NULL. */
void *hive__malloc(size_t size);
void *hive__calloc(size_t n, size_t size);
void *hive__realloc(void *ptr, size_t size);
void  hive__free(void *ptr);
char *hive__strdup(const char *s);

/*
 * Constructors record their outcome for hive_create_error().
 * hive__create_fail: records code, the config field at fault ("" if
 * none) and a printf-style message; returns code, so a validator can
 * `return hive__create_fail(HIVE_EINVAL, "max_frame", "...")`.
 * hive__create_ok: clears the record. Thread-local.
 */
int  hive__create_fail(int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hive__create_ok(void);

#endif /* HIVE_EVENTS_INTERNAL_H */
