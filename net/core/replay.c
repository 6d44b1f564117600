/* replay.c - counted frames and their replay buffer (see replay.h). */
#include "events/internal.h"
#include "hive/common.h"
#include "net/core/replay.h"
#include "net/wire/handshake.h"

#include <string.h>

#define ENTRY_HDR sizeof(uint32_t)
#define FIRST_BLOCK 4096u

static size_t entry_len(const uint8_t *at)
{
    uint32_t n;
    memcpy(&n, at, sizeof n);
    return n;
}

static bool empty(const hive__replay *r)
{
    return !r->head || (r->head == r->tail && r->off == r->head->len);
}

/* Drops the oldest entry (there is one). A block left with nothing live
 * is freed, except the last one, which is kept for the next push (and
 * freed by hive__replay_ack when it is a large one). */
static void drop_front(hive__replay *r)
{
    hive__replay_block *b = r->head;
    size_t n = entry_len(b->data + r->off);
    r->off += ENTRY_HDR + n;
    r->bytes -= n;
    if (r->pool) *r->pool -= n;
    r->first++;
    if (r->off < b->len) return;
    r->off = 0;
    if (b == r->tail) {
        b->len = 0;
        return;
    }
    r->head = b->next;
    /* At a full send window blocks are emptied as fast as they are
     * filled: keeping one saves the allocator a free and a malloc (and,
     * when it gives the heap's top back to the system, the page faults
     * of touching it again) per block's worth of frames. */
    if (!r->spare && b->cap == HIVE__REPLAY_BLOCK) r->spare = b;
    else hive__free(b);
}

static void free_all(hive__replay *r)
{
    for (hive__replay_block *b = r->head, *next; b; b = next) {
        next = b->next;
        hive__free(b);
    }
    hive__free(r->spare);
    r->head = r->tail = r->spare = NULL;
    r->off = 0;
    if (r->pool) *r->pool -= r->bytes;
    r->bytes = 0;
}

/* Nothing kept (a frame had to be skipped: what is kept stays contiguous). */
static void clear(hive__replay *r, uint64_t next_first)
{
    free_all(r);
    r->first = next_first;
}

/* Room for need bytes at the tail: a new block when the tail is full. */
static uint8_t *reserve(hive__replay *r, size_t need)
{
    hive__replay_block *t = r->tail;
    if (t && t->cap - t->len >= need) return t->data + t->len;
    size_t cap = t ? t->cap * 2 : FIRST_BLOCK;
    if (t && t->len == 0) {   /* the only block, emptied: too small */
        r->head = r->tail = NULL;
        r->off = 0;
        hive__free(t);
        t = NULL;
    }
    if (cap > HIVE__REPLAY_BLOCK) cap = HIVE__REPLAY_BLOCK;
    if (cap < need) cap = need;
    hive__replay_block *b;
    if (r->spare && r->spare->cap >= cap) {
        b = r->spare;
        r->spare = NULL;
        cap = b->cap;
    } else if (!(b = hive__malloc(sizeof *b + cap))) {
        return NULL;
    }
    b->next = NULL;
    b->len = 0;
    b->cap = cap;
    if (t) t->next = b;
    else {
        r->head = b;
        r->off = 0;
    }
    r->tail = b;
    return b->data;
}

int hive__replay_push(hive__replay *r, const void *const *pieces, const size_t *lens, int n)
{
    uint64_t seq = ++r->sent;
    if (empty(r)) r->first = seq;
    size_t total = 0;
    for (int i = 0; i < n; i++) total += lens[i];
    if (!r->max || total > r->max) {
        /* Not kept: only an ack past it makes the session whole again. */
        r->lost_upto = seq;
        clear(r, seq + 1);
        return HIVE_OK;
    }
    size_t *held = r->pool ? r->pool : &r->bytes;   /* lanes 1.. share one bound */
    while (!empty(r) && *held + total > r->max) {
        if (r->first > r->lost_upto) r->lost_upto = r->first;
        drop_front(r);
    }
    if (*held + total > r->max) {   /* other lanes hold the room */
        r->lost_upto = seq;
        clear(r, seq + 1);
        return HIVE_OK;
    }
    if (empty(r)) r->first = seq;
    size_t need = ENTRY_HDR + total;
    uint8_t *at = reserve(r, need);
    if (!at) {
        r->lost_upto = seq;
        clear(r, seq + 1);
        return HIVE_ENOMEM;
    }
    uint32_t n32 = (uint32_t)total;
    memcpy(at, &n32, sizeof n32);
    at += sizeof n32;
    for (int i = 0; i < n; i++) {
        memcpy(at, pieces[i], lens[i]);
        at += lens[i];
    }
    r->tail->len += need;
    r->bytes += total;
    if (r->pool) *r->pool += total;
    return HIVE_OK;
}

int hive__replay_ack(hive__replay *r, uint64_t n)
{
    if (n < r->acked || n > r->sent) return HIVE_EPROTO;
    r->acked = n;
    while (!empty(r) && r->first <= n) drop_front(r);
    /* An emptied buffer keeps one block of the ordinary size for the next
     * frame; one grown for a single large frame goes back. */
    if (empty(r) && r->tail && r->tail->cap > HIVE__REPLAY_BLOCK) free_all(r);
    else if (empty(r) && r->spare) {   /* idle: one block is enough */
        hive__free(r->spare);
        r->spare = NULL;
    }
    return HIVE_OK;
}

bool hive__replay_covers(const hive__replay *r, uint64_t peer_recv)
{
    return peer_recv >= r->acked && peer_recv <= r->sent && r->lost_upto <= peer_recv;
}

bool hive__replay_next(const hive__replay *r, hive__replay_cur *cur, const uint8_t **p, size_t *n)
{
    if (!cur->started) {
        if (empty(r)) return false;
        cur->b = r->head;
        cur->off = r->off;
        cur->seq = r->first;
        cur->started = true;
    } else {
        if (!cur->b) return false;
        cur->off += ENTRY_HDR + entry_len(cur->b->data + cur->off);
        cur->seq++;
    }
    while (cur->b && cur->off >= cur->b->len) {
        cur->b = cur->b->next;
        cur->off = 0;
    }
    if (!cur->b) return false;
    *n = entry_len(cur->b->data + cur->off);
    *p = cur->b->data + cur->off + ENTRY_HDR;
    return true;
}

void hive__replay_free(hive__replay *r)
{
    if (r->lx) {
        for (int i = 0; i < r->lx->n; i++) free_all(&r->lx->r[i]);
        hive__free(r->lx);
    }
    free_all(r);
    memset(r, 0, sizeof *r);
}

int hive__replay_lanes(hive__replay *r, int lanes)
{
    if (lanes <= 1 || r->lx) return HIVE_OK;
    if (lanes > HIVE_CHANNELS_MAX) lanes = HIVE_CHANNELS_MAX;
    hive__lanes *lx = hive__calloc(1, sizeof *lx + (size_t)(lanes - 1) * sizeof lx->r[0]);
    if (!lx) return HIVE_ENOMEM;
    lx->n = lanes - 1;
    for (int i = 0; i < lx->n; i++) {
        lx->r[i].max = r->max;
        lx->r[i].pool = &lx->pool;
    }
    r->lx = lx;
    return HIVE_OK;
}

uint64_t hive__replay_unacked(const hive__replay *r)
{
    uint64_t n = r->sent - r->acked;
    for (int i = 0; r->lx && i < r->lx->n; i++) n += r->lx->r[i].sent - r->lx->r[i].acked;
    return n;
}

bool hive__replay_ack_owed(const hive__replay *r)
{
    if (r->recv != r->ack_sent) return true;
    for (int i = 0; r->lx && i < r->lx->n; i++)
        if (r->lx->r[i].recv != r->lx->r[i].ack_sent) return true;
    return false;
}

bool hive__replay_whole(const hive__replay *r)
{
    if (r->lost_upto > r->acked) return false;
    for (int i = 0; r->lx && i < r->lx->n; i++)
        if (r->lx->r[i].lost_upto > r->lx->r[i].acked) return false;
    return true;
}

int hive__replay_ack_all(hive__replay *r, uint64_t n0, const hive__lanecounts *more)
{
    int extra = r->lx ? r->lx->n : 0;
    if (more->n && more->n != extra) return HIVE_EPROTO;
    /* All checked before any applies: a broken ack changes nothing. */
    if (n0 < r->acked || n0 > r->sent) return HIVE_EPROTO;
    for (int i = 0; i < more->n; i++)
        if (more->v[i] < r->lx->r[i].acked || more->v[i] > r->lx->r[i].sent) return HIVE_EPROTO;
    hive__replay_ack(r, n0);
    for (int i = 0; i < more->n; i++) hive__replay_ack(&r->lx->r[i], more->v[i]);
    return HIVE_OK;
}

bool hive__replay_covers_all(const hive__replay *r, uint64_t n0, const hive__lanecounts *more)
{
    int extra = r->lx ? r->lx->n : 0;
    if (more->n != extra || !hive__replay_covers(r, n0)) return false;
    for (int i = 0; i < extra; i++)
        if (!hive__replay_covers(&r->lx->r[i], more->v[i])) return false;
    return true;
}

void hive__replay_recv_lanes(const hive__replay *r, hive__lanecounts *more)
{
    more->n = (uint8_t)(r->lx ? r->lx->n : 0);
    for (int i = 0; i < more->n; i++) more->v[i] = r->lx->r[i].recv;
}
