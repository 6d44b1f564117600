/*
 * fuzz_wsanswer.c - libFuzzer target for the server's answer to a native
 * ws:// client's upgrade request (hive__ws_parse_answer, net/transport/wsup.c):
 * the first bytes a dialing ws:// or wss:// link reads.
 *
 * Invariants (abort() = a crash):
 *   - DONE: the answer's size is within the input and the limit and ends
 *     with CRLF CRLF, and its status line is a 101;
 *   - every prefix of a DONE answer is MORE or BAD, never DONE;
 *   - MORE: only below the size limit;
 *   - BAD: *why is set;
 *   - no read past the input (ASan).
 */
#include "net/transport/wsup.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    if (!in) return 0;
    memcpy(in, data, size);
    size_t n = 0;
    int st = 0;
    const char *why = NULL;
    int rc = hive__ws_parse_answer(in, size, key, &n, &st, &why);
    if (rc == HIVE__WS_DONE) {
        CHECK(n >= 4 && n <= size && n <= HIVE__WS_REQ_MAX);
        CHECK(!memcmp(in + n - 4, "\r\n\r\n", 4));
        CHECK(!memcmp(in, "HTTP/1.1 101 ", 13));
        for (size_t k = 0; n <= 1024 && k < n; k++) {
            size_t m;
            CHECK(hive__ws_parse_answer(in, k, key, &m, &st, &why) != HIVE__WS_DONE);
        }
    } else if (rc == HIVE__WS_MORE) {
        CHECK(size < HIVE__WS_REQ_MAX);
    } else {
        CHECK(rc == HIVE__WS_BAD && why);
    }
    free(in);
    return 0;
}
