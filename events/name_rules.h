/*
 * events/name_rules.h - the one grammar of Hive names (bus.h, NAMES), for
 * every module that checks one: bus event names and packet-registry names
 * (net/registry.c, which also checks names that arrive from the network,
 * not NUL-terminated).
 */
#ifndef HIVE_EVENTS_NAME_RULES_H
#define HIVE_EVENTS_NAME_RULES_H

#include <stddef.h>

/* hive__name_valid_n - 1 when s[0..n) is a well-formed name: segments of
 * [A-Za-z0-9_-/+@#$] joined by ':' or '.', none empty, 0 < n < HIVE_NAME_MAX;
 * 0 otherwise (NULL, a NUL inside, a bad byte). Pure; thread-safe. */
int hive__name_valid_n(const char *s, size_t n);

#endif /* HIVE_EVENTS_NAME_RULES_H */
