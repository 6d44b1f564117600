/*
 * fuzz_wsup.c - libFuzzer target for the WebSocket upgrade parser
 * (net/transport/wsup.c), which reads the first bytes of every ws:// link.
 *
 * Invariants (abort() = a crash):
 *   - DONE: the request's size is within the input and the limit and
 *     ends with CRLF CRLF; the kept strings are NUL-ended; an upgrade has
 *     a 24-character key whose accept value is 28 characters;
 *   - BAD: the status is one the header lists, and an answer for it fits
 *     in 512 bytes;
 *   - MORE: only below the size limit;
 *   - every prefix of a DONE request is MORE (or BAD when it is cut in a
 *     way that already breaks a rule), never DONE;
 *   - a request's path mapped to a static file stays under the root
 *     (no "/." segment, no "//");
 *   - no read past the input (ASan).
 */
#include "net/transport/wsup.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);
    hive__ws_req r;
    int st;
    const char *why;
    int rc = hive__ws_parse(in, size, &r, &st, &why);
    if (rc == HIVE__WS_DONE) {
        CHECK(r.size >= 4 && r.size <= size && r.size <= HIVE__WS_REQ_MAX);
        CHECK(!memcmp(in + r.size - 4, "\r\n\r\n", 4));
        CHECK(memchr(r.path, 0, sizeof r.path) && memchr(r.host, 0, sizeof r.host) && memchr(r.origin, 0, sizeof r.origin));
        if (r.upgrade) {
            char acc[29];
            CHECK(strlen(r.key) == 24);
            CHECK(hive__ws_accept(r.key, acc) == 0 && strlen(acc) == 28);
            char buf[256];
            CHECK(hive__ws_answer_101(&r, buf, sizeof buf) > 0);
        }
        /* A served file's path never leaves the root. */
        char fp[512];
        if (hive__ws_file_path("/root", r.path, fp, sizeof fp) == 0) {
            CHECK(!strncmp(fp, "/root/", 6));
            CHECK(!strstr(fp, "/.") && !strstr(fp, "//"));
            CHECK(hive__ws_mime(fp) != NULL);
        }
        for (size_t k = 0; r.size <= 1024 && k < r.size; k++) {
            hive__ws_req q;
            CHECK(hive__ws_parse(in, k, &q, &st, &why) != HIVE__WS_DONE);
        }
    } else if (rc == HIVE__WS_BAD) {
        CHECK(st == 400 || st == 403 || st == 405 || st == 426 || st == 431 || st == 505);
        char buf[512];
        CHECK(hive__ws_answer_error(st, why, buf, sizeof buf) > 0);
    } else {
        CHECK(rc == HIVE__WS_MORE && size < HIVE__WS_REQ_MAX);
    }
    free(in);
    return 0;
}
