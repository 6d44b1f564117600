/*
 * The layering written in net/core/ep.h and docs/ARCHITECTURE.md, checked
 * against the sources: who includes whom.
 *
 *   events/         includes nothing of Hive's other layers
 *   net/wire/       net/wire only          net/transport/  net/transport only
 *   net/core/       wire, transport, core
 *   net/server/     wire, transport, core, server (never client)
 *   net/client/     wire, transport, core, client (never server)
 *   include/hive/   only include/hive headers, and no hive__ name
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "docs_util.h"

typedef struct rule {
    const char *dir;            /* folder whose .c/.h files are checked */
    const char *allowed[6];     /* include prefixes it may use (Hive's own) */
} rule;

static const rule RULES[] = {
    { "events", { "events/", "hive/" } },
    { "net/wire", { "net/wire/", "events/", "hive/" } },
    { "net/transport", { "net/transport/", "events/", "hive/" } },
    { "net/core", { "net/core/", "net/wire/", "net/transport/", "events/", "hive/" } },
    { "net/server", { "net/server/", "net/core/", "net/wire/", "net/transport/", "events/", "hive/" } },
    { "net/client", { "net/client/", "net/core/", "net/wire/", "net/transport/", "events/", "hive/" } },
};

static bool allowed(const rule *r, const char *inc)
{
    for (int i = 0; i < 6 && r->allowed[i]; i++)
        if (strncmp(inc, r->allowed[i], strlen(r->allowed[i])) == 0) return true;
    return false;
}

/* Calls fn(path, line) for each `#include "..."` target in dir's sources. */
static int each_include(const char *dir, void (*fn)(const char *file, const char *inc, void *u), void *u)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s (tests run from the repository root)", dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 3 || (strcmp(e->d_name + n - 2, ".c") && strcmp(e->d_name + n - 2, ".h"))) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "%s", path);
        files++;
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            const char *p = line;
            while (*p == ' ' || *p == '\t') p++;
            if (strncmp(p, "#include \"", 10) != 0) continue;
            char inc[512];
            if (sscanf(p + 10, "%511[^\"]", inc) == 1) fn(path, inc, u);
        }
        fclose(f);
    }
    closedir(d);
    return files;
}

static void check_rule(const char *file, const char *inc, void *u)
{
    const rule *r = u;
    /* A header beside the file (no folder) is the folder's own. */
    if (!strchr(inc, '/')) return;
    cr_expect(allowed(r, inc), "%s includes \"%s\": %s may not use that layer", file, inc, r->dir);
    size_t n = strlen(inc);
    cr_expect(n < 2 || strcmp(inc + n - 2, ".c") != 0, "%s includes a .c file (%s): link a library", file, inc);
}

Test(layers, every_folder_includes_only_the_layers_below_it, .timeout = 10)
{
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        cr_expect_gt(each_include(RULES[i].dir, check_rule, (void *)&RULES[i]), 0, "%s has sources", RULES[i].dir);
}

static void check_public(const char *file, const char *inc, void *u)
{
    cr_expect(!strchr(inc, '/') || strncmp(inc, "hive/", 5) == 0,
              "%s includes \"%s\": a public header includes only its siblings", file, inc);
}

Test(layers, public_headers_are_self_contained_and_free_of_internals, .timeout = 10)
{
    cr_expect_gt(each_include("include/hive", check_public, NULL), 0);
    cr_expect_eq(docs_sh("! grep -n 'hive__' include/hive/*.h"), 0, "no hive__ name in a public header");
}

/* Every hive_name( that a public header's comments mention is declared
 * (as a function, macro or type) in the public headers. */
Test(layers, header_comments_name_functions_that_exist, .timeout = 10)
{
    int rc = docs_sh(
        "cd include/hive && "
        "grep -hoE 'hive_[a-z0-9_]+\\(' *.h | tr -d '(' | sort -u > /tmp/hive_named.$$ && "
        "grep -hvE '^[[:space:]]*(/?\\*)' *.h | sed 's|/\\*.*||' > /tmp/hive_code.$$ && "
        "bad=0; for f in $(cat /tmp/hive_named.$$); do "
        "  grep -qE \"(^|[^a-z_0-9])$f([^a-z_0-9]|$)\" /tmp/hive_code.$$ || { echo \"named but not declared: $f\"; bad=1; }; "
        "done; rm -f /tmp/hive_named.$$ /tmp/hive_code.$$; exit $bad");
    cr_expect_eq(rc, 0, "a header comment names a function that does not exist");
}
