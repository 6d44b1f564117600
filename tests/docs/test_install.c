/* make install: headers, libhive.a and hive.pc work for an outside program
 * built with nothing but `pkg-config --cflags --libs hive`. */
#include <criterion/criterion.h>
#include <unistd.h>
#include "docs_util.h"

static const char *program =
    "#include <hive/hive.h>\n"
    "#include <stdio.h>\n"
    "static int seen;\n"
    "static void on(const hive_event *ev, void *u) { (void)u; seen += (int)hive_event_int(ev, \"n\", 0); }\n"
    "int main(void) {\n"
    "    hive_bus *bus = hive_bus_create(NULL);\n"
    "    if (!bus) return 1;\n"
    "    if (hive_bus_subscribe(bus, \"app:**\", on, NULL, NULL) <= 0) return 2;\n"
    "    hive_field f[] = { HIVE_INT(\"n\", 41) };\n"
    "    hive_bus_publish_name(bus, \"app:thing.happened\", f, 1);\n"
    "    hive_bus_destroy(bus);\n"
    "    printf(\"installed hive %s: %d\\n\", HIVE_VERSION_STRING, seen + 1);\n"
    "    return seen == 41 ? 0 : 3;\n"
    "}\n";

Test(install, pkg_config_builds_and_runs_a_program, .timeout = 120)
{
    char dir[] = "/tmp/hive-install-XXXXXX";
    cr_assert_eq(docs_install(dir), 0, "tools/install.sh into %s/prefix failed", dir);
    char cmd[4096];

    snprintf(cmd, sizeof cmd, "%s/prefix/include/hive/hive.h", dir);
    cr_assert_eq(access(cmd, R_OK), 0, "hive.h not installed");
    snprintf(cmd, sizeof cmd, "%s/prefix/lib/pkgconfig/hive.pc", dir);
    cr_assert_eq(access(cmd, R_OK), 0, "hive.pc not installed");

    snprintf(cmd, sizeof cmd, "%s/main.c", dir);
    FILE *f = fopen(cmd, "w");
    cr_assert_not_null(f);
    fputs(program, f);
    fclose(f);

    snprintf(cmd, sizeof cmd,
             "cd %s && PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig "
             "cc %s -o app main.c $(PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig pkg-config --cflags --libs hive) "
             "&& ./app > out.txt && grep -q 'installed hive .*: 42' out.txt",
             dir, dir, docs_sanflags(), dir);
    cr_expect_eq(docs_sh(cmd), 0, "build or run against the installed copy failed: %s", cmd);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    docs_sh(cmd);
}
