/* replay.c - counted frames and their replay buffer (see replay.h). */
#include "events/internal.h"
#include "hive/common.h"
#include "net/core/replay.h"

#include <string.h>

static void drop_head(hive__replay *r)
{
    hive__rpitem *it = r->head;
    r->head = it->next;
    if (!r->head) r->tail = NULL;
    r->bytes -= it->n;
    hive__free(it);
}

int hive__replay_push(hive__replay *r, const void *const *pieces, const size_t *lens, int n)
{
    uint64_t seq = ++r->sent;
    if (!r->max) {
        r->lost_upto = seq;   /* nothing is kept: only an ack makes it whole */
        return HIVE_OK;
    }
    size_t total = 0;
    for (int i = 0; i < n; i++) total += lens[i];
    if (total > r->max) {
        r->lost_upto = seq;
        return HIVE_OK;
    }
    while (r->head && r->bytes + total > r->max) {
        if (r->head->seq > r->lost_upto) r->lost_upto = r->head->seq;
        drop_head(r);
    }
    hive__rpitem *it = hive__malloc(sizeof *it + total);
    if (!it) {
        r->lost_upto = seq;
        return HIVE_ENOMEM;
    }
    it->next = NULL;
    it->seq = seq;
    it->n = total;
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        memcpy(it->data + off, pieces[i], lens[i]);
        off += lens[i];
    }
    if (r->tail) r->tail->next = it;
    else r->head = it;
    r->tail = it;
    r->bytes += total;
    return HIVE_OK;
}

int hive__replay_ack(hive__replay *r, uint64_t n)
{
    if (n < r->acked || n > r->sent) return HIVE_EPROTO;
    r->acked = n;
    while (r->head && r->head->seq <= n) drop_head(r);
    return HIVE_OK;
}

bool hive__replay_covers(const hive__replay *r, uint64_t peer_recv)
{
    return peer_recv >= r->acked && peer_recv <= r->sent && r->lost_upto <= peer_recv;
}

void hive__replay_free(hive__replay *r)
{
    while (r->head) drop_head(r);
    memset(r, 0, sizeof *r);
}
