/*
 * fuzz_netsim_spec.c - libFuzzer target for the network simulator's spec
 * parser (net/transport/netsim.c, hive__netsim_parse), which reads
 * HIVE_NETSIM from the environment and the configs' netsim field.
 *
 * Input: any bytes, made a NUL-terminated string.
 * Invariants (abort() = a crash for libFuzzer):
 *   - the result is HIVE_OK or HIVE_EINVAL, nothing else;
 *   - HIVE_EINVAL comes with a non-empty, NUL-terminated message that
 *     starts with "netsim: ";
 *   - HIVE_OK gives values inside the documented limits;
 *   - a spec printed back from what was parsed parses to the same values.
 * Build and run: tools/fuzz.sh (make fuzz).
 */
#include "net/transport/netsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_limits(const hive__netsim_spec *s)
{
    if (!s->on) return;
    if (s->latency_ms > HIVE__NETSIM_MAX_MS || s->jitter_ms > HIVE__NETSIM_MAX_MS) abort();
    if (s->loss_ppm > 1000000u || s->dup_ppm > 1000000u || s->reorder_ppm > 1000000u) abort();
    if (s->bytes_per_sec && s->bytes_per_sec < HIVE__NETSIM_MIN_BPS / 8) abort();
    if (s->cut_every_ms && s->cut_every_ms < HIVE__NETSIM_MIN_CUT_MS) abort();
    if (!s->send && !s->recv) abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size > 4096) return 0;
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    hive__netsim_spec s;
    char err[200];
    memset(err, 'x', sizeof err);
    int rc = hive__netsim_parse(text, &s, err, sizeof err);
    if (rc == HIVE_EINVAL) {
        if (!memchr(err, 0, sizeof err) || strncmp(err, "netsim: ", 8) != 0) abort();
    } else if (rc != HIVE_OK) {
        abort();
    } else {
        check_limits(&s);
        if (s.on) {
            char again[512];
            snprintf(again, sizeof again,
                     "latency=%ums,jitter=%ums,loss=%u.%04u%%,dup=%u.%04u%%,reorder=%u.%04u%%,"
                     "cut_every=%ums,seed=%llu,dir=%s",
                     s.latency_ms, s.jitter_ms, s.loss_ppm / 10000, s.loss_ppm % 10000, s.dup_ppm / 10000,
                     s.dup_ppm % 10000, s.reorder_ppm / 10000, s.reorder_ppm % 10000, s.cut_every_ms,
                     (unsigned long long)s.seed, s.send && s.recv ? "both" : s.send ? "send" : "recv");
            hive__netsim_spec t;
            if (hive__netsim_parse(again, &t, err, sizeof err) != HIVE_OK) abort();
            if (t.latency_ms != s.latency_ms || t.jitter_ms != s.jitter_ms || t.loss_ppm != s.loss_ppm ||
                t.dup_ppm != s.dup_ppm || t.reorder_ppm != s.reorder_ppm || t.cut_every_ms != s.cut_every_ms ||
                t.seed != s.seed || t.send != s.send || t.recv != s.recv)
                abort();
        }
    }
    free(text);
    return 0;
}
