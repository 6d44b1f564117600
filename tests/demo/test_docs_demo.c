/* docs/DEMO.md teaches from the demo's code: every excerpt it shows must
 * still be in the file it names, and its screenshot must be a real one. */
#include "proto_checks.h"

static char *repo_file(const char *rel)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/../../%s", bindir(), rel);
    return slurp(path);
}

#define TAG "<!-- excerpt: "

Test(docs_demo, excerpts_match_the_code, .timeout = 30)
{
    char *doc = repo_file("docs/DEMO.md");
    cr_assert_not_null(doc, "docs/DEMO.md is missing");
    int excerpts = 0;
    for (char *p = strstr(doc, TAG); p; p = strstr(p + 1, TAG)) {
        char path[256];
        const char *s = p + strlen(TAG);
        size_t n = strcspn(s, " -");
        cr_assert_lt(n, sizeof path);
        memcpy(path, s, n);
        path[n] = 0;
        char *open = strstr(p, "```c\n");
        cr_assert_not_null(open);
        open += 5;
        char *close = strstr(open, "\n```");
        cr_assert_not_null(close);
        char *code = repo_file(path);
        cr_assert_not_null(code, "DEMO.md quotes %s, which does not exist", path);
        /* Lines that are only "..." separate chunks; each chunk must be
         * in the file as it stands. */
        char *block = strndup(open, (size_t)(close - open) + 1);
        char chunk[8192] = "";
        for (char *line = strtok(block, "\n");; line = strtok(NULL, "\n")) {
            bool elide = !line || !strcmp(line + strspn(line, " "), "...");
            if (elide) {
                if (chunk[0]) cr_expect(strstr(code, chunk), "DEMO.md's excerpt of %s is out of date:\n%s", path, chunk);
                chunk[0] = 0;
                if (!line) break;
                continue;
            }
            cr_assert_lt(strlen(chunk) + strlen(line) + 2, sizeof chunk);
            strcat(chunk, line);
            strcat(chunk, "\n");
        }
        free(block);
        free(code);
        excerpts++;
    }
    cr_expect_geq(excerpts, 5);
    free(doc);
}

Test(docs_demo, screenshot_is_a_client_window, .timeout = 30)
{
    char *doc = repo_file("docs/DEMO.md");
    cr_assert_not_null(doc);
    cr_expect(strstr(doc, "](screenshot.png)"), "DEMO.md shows no screenshot");
    free(doc);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/../../docs/screenshot.png", bindir());
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "docs/screenshot.png is missing");
    unsigned char h[24];
    cr_assert_eq(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    cr_expect_eq(memcmp(h, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_expect_eq((h[16] << 24 | h[17] << 16 | h[18] << 8 | h[19]), 1120);
    cr_expect_eq((h[20] << 24 | h[21] << 16 | h[22] << 8 | h[23]), 700);
}

/* The README shows the web arena next to the SDL client, and the picture
 * is a real capture of the page's 1120 x 700 canvas. */
Test(docs_demo, readme_shows_the_web_arena, .timeout = 30)
{
    char *doc = repo_file("README.md");
    cr_assert_not_null(doc);
    cr_expect(strstr(doc, "](docs/screenshot.png)"), "README shows no SDL screenshot");
    cr_expect(strstr(doc, "](docs/screenshot-web.png)"), "README shows no web screenshot");
    cr_expect(strstr(doc, "make demo WEB=1"), "README does not say how to open the web arena");
    free(doc);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/../../docs/screenshot-web.png", bindir());
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "docs/screenshot-web.png is missing");
    unsigned char h[24];
    cr_assert_eq(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    cr_expect_eq(memcmp(h, "\x89PNG\r\n\x1a\n", 8), 0);
    cr_expect_eq((h[16] << 24 | h[17] << 16 | h[18] << 8 | h[19]), 1120);
    cr_expect_eq((h[20] << 24 | h[21] << 16 | h[22] << 8 | h[23]), 700);
}
