/* alloc.c - the allocator hook every Hive module allocates through. */
#include "events/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *default_malloc(size_t n, void *u) { (void)u; return malloc(n); }
static void *default_realloc(void *p, size_t n, void *u) { (void)u; return realloc(p, n); }
static void  default_free(void *p, void *u) { (void)u; free(p); }

static hive_allocator g_alloc = { default_malloc, default_realloc, default_free, NULL };

int hive_set_allocator(const hive_allocator *a)
{
    if (!a) {
        g_alloc = (hive_allocator){ default_malloc, default_realloc, default_free, NULL };
        return HIVE_OK;
    }
    if (!a->malloc_fn || !a->realloc_fn || !a->free_fn) return HIVE_EINVAL;
    g_alloc = *a;
    return HIVE_OK;
}

void *hive__malloc(size_t size)
{
    /* malloc(0) may legally return NULL; Hive never wants that ambiguity. */
    return g_alloc.malloc_fn(size ? size : 1, g_alloc.user);
}

void *hive__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    /* The C library's calloc gets large blocks as fresh zero pages: no
     * memset touching every page (the bus queue relies on this to start
     * cheaply). A hooked allocator gets malloc + memset. */
    if (g_alloc.malloc_fn == default_malloc)
        return n && size ? calloc(n, size) : calloc(1, 1);
    void *p = hive__malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *hive__realloc(void *ptr, size_t size)
{
    return g_alloc.realloc_fn(ptr, size ? size : 1, g_alloc.user);
}

void hive__free(void *ptr)
{
    if (ptr) g_alloc.free_fn(ptr, g_alloc.user);
}

char *hive__strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = hive__malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

uint64_t hive_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
