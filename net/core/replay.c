/* replay.c - counted frames and their replay buffer (see replay.h). */
#include "events/internal.h"
#include "hive/common.h"
#include "net/core/replay.h"

#include <string.h>

static size_t entry_len(const hive__replay *r, size_t at)
{
    uint32_t n;
    memcpy(&n, r->buf + at, sizeof n);
    return n;
}

static void drop_front(hive__replay *r)
{
    size_t n = entry_len(r, r->off);
    r->off += sizeof(uint32_t) + n;
    r->bytes -= n;
    r->first++;
    if (r->off == r->len) r->off = r->len = 0;
}

/* Nothing kept (a frame had to be skipped: what is kept stays contiguous). */
static void clear(hive__replay *r, uint64_t next_first)
{
    r->off = r->len = 0;
    r->bytes = 0;
    r->first = next_first;
}

int hive__replay_push(hive__replay *r, const void *const *pieces, const size_t *lens, int n)
{
    uint64_t seq = ++r->sent;
    if (r->off == r->len) r->first = seq;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += lens[i];
    size_t need = sizeof(uint32_t) + total;
    if (r->bytes + total <= r->max && r->len + need <= r->cap) {
        /* The common case, once the buffer has grown to the flow: room
         * at the tail and under the bound. One pass, nothing to drop. */
        uint8_t *at = r->buf + r->len;
        uint32_t n32 = (uint32_t)total;
        memcpy(at, &n32, sizeof n32);
        at += sizeof n32;
        for (int i = 0; i < n; i++) {
            memcpy(at, pieces[i], lens[i]);
            at += lens[i];
        }
        r->len += need;
        r->bytes += total;
        return HIVE_OK;
    }
    if (!r->max || total > r->max) {
        /* Not kept: only an ack past it makes the session whole again. */
        r->lost_upto = seq;
        clear(r, seq + 1);
        return HIVE_OK;
    }
    while (r->off < r->len && r->bytes + total > r->max) {
        if (r->first > r->lost_upto) r->lost_upto = r->first;
        drop_front(r);
    }
    if (r->off == r->len) r->first = seq;
    if (r->len + need > r->cap) {
        if (r->off) {   /* slide the live entries to the front first */
            memmove(r->buf, r->buf + r->off, r->len - r->off);
            r->len -= r->off;
            r->off = 0;
        }
        if (r->len + need > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + need) cap *= 2;
            uint8_t *b = hive__realloc(r->buf, cap);
            if (!b) {
                r->lost_upto = seq;
                clear(r, seq + 1);
                return HIVE_ENOMEM;
            }
            r->buf = b;
            r->cap = cap;
        }
    }
    uint32_t n32 = (uint32_t)total;
    memcpy(r->buf + r->len, &n32, sizeof n32);
    size_t at = r->len + sizeof n32;
    for (int i = 0; i < n; i++) {
        memcpy(r->buf + at, pieces[i], lens[i]);
        at += lens[i];
    }
    r->len = at;
    r->bytes += total;
    return HIVE_OK;
}

int hive__replay_ack(hive__replay *r, uint64_t n)
{
    if (n < r->acked || n > r->sent) return HIVE_EPROTO;
    r->acked = n;
    while (r->off < r->len && r->first <= n) drop_front(r);
    /* A buffer that has grown large and emptied gives its memory back. */
    if (r->off == r->len && r->cap > 65536) {
        hive__free(r->buf);
        r->buf = NULL;
        r->cap = 0;
        r->off = r->len = 0;
    }
    return HIVE_OK;
}

bool hive__replay_covers(const hive__replay *r, uint64_t peer_recv)
{
    return peer_recv >= r->acked && peer_recv <= r->sent && r->lost_upto <= peer_recv;
}

bool hive__replay_next(const hive__replay *r, size_t *cursor, uint64_t *seq, const uint8_t **p, size_t *n)
{
    size_t at = r->off + *cursor;
    if (at >= r->len) return false;
    *seq = *cursor ? *seq + 1 : r->first;
    *n = entry_len(r, at);
    *p = r->buf + at + sizeof(uint32_t);
    *cursor += sizeof(uint32_t) + *n;
    return true;
}

void hive__replay_free(hive__replay *r)
{
    hive__free(r->buf);
    memset(r, 0, sizeof *r);
}
