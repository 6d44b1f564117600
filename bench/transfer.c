/*
 * bench/transfer.c - large messages (hive/net.h LARGE MESSAGES) on
 * loopback, server to client, each scheme measured in the same run:
 *
 *   transfer.<scheme>.pieces_mbps    one 16 MiB reliable message, sent as
 *                                    a transfer (16 KiB pieces), MB/s
 *   transfer.<scheme>.frames_mbps    the same 16 MiB as 256 messages of
 *                                    64 KiB (single frames: no_pieces on
 *                                    the client); ratio: pieces vs frames
 *   transfer.<scheme>.snap_gap_ms    the longest gap between 30 Hz
 *                                    snapshots received during the 16 MiB
 *                                    transfer (unreliable on enet://)
 *
 * Both ends run in this one thread, so the numbers include both sides'
 * work. Run: bin/Release/bench-transfer.
 */
#include "hive/hive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (16u << 20)
#define SMALL (64u << 10)

static int levels, snaps;
static uint64_t last_snap, max_gap;

static void on_level(const hive_event *ev, void *u) { (void)ev; (void)u; levels++; }
static void on_snap(const hive_event *ev, void *u)
{
    (void)ev; (void)u;
    uint64_t now = hive_now_ns();
    if (snaps && now - last_snap > max_gap) max_gap = now - last_snap;
    last_snap = now;
    snaps++;
}

/* Sends n messages of len bytes each (one 16 MiB, or 256 of 64 KiB) and
 * snapshots at 30 Hz until all arrived; returns MB/s. */
static double run(const char *scheme, bool pieces, size_t len, int n, double *gap_ms)
{
    hive_bus *bus = hive_bus_create(NULL);
    char addr[64];
    snprintf(addr, sizeof addr, "%s127.0.0.1:0", scheme);
    hive_server *s = hive_server_create(&(hive_server_config){ .addr = addr, .max_frame = 32u << 20,
                                                              .compress_threshold = -1 }, bus);
    hive_server_register(s, "game:level", 0, HIVE_RELIABLE);
    hive_server_register(s, "game:snap", 0, HIVE_UNRELIABLE);
    if (!s || hive_server_start(s) != HIVE_OK) exit(1);
    hive_client *c = hive_client_create(&(hive_client_config){ .max_frame = 32u << 20, .no_pieces = !pieces,
                                                              .compress_threshold = -1 }, bus);
    snprintf(addr, sizeof addr, "%s127.0.0.1:%u", scheme, (unsigned)hive_server_port(s));
    hive_bus_subscribe(bus, "net:client.recv.game:level", on_level, NULL, NULL);
    hive_bus_subscribe(bus, "net:client.recv.game:snap", on_snap, NULL, NULL);
    hive_client_connect(c, addr);
    hive_conn_info ci;
    while (hive_client_get_state(c) != HIVE_CLIENT_OPEN ||
           hive_server_conn_info(s, hive_client_cid(c), &ci) != 0 || !ci.open) {
        hive_server_service(s, 1);
        hive_client_service(c, 1);
    }
    uint8_t *b = malloc(len);
    for (size_t i = 0; i < len; i++) b[i] = (uint8_t)(i * 2654435761u >> 24);
    hive_msg m, snap;
    hive_msg_init(&m);
    hive_msg_map(&m, 1);
    hive_msg_kv_bin(&m, "b", b, len - 16);
    hive_msg_init(&snap);
    hive_msg_map(&snap, 1);
    hive_msg_kv_str(&snap, "s", "32 players, their positions");
    levels = snaps = 0;
    max_gap = 0;
    hive_cid cid = hive_client_cid(c);
    uint64_t t0 = hive_now_ns(), next = t0;
    int sent = 0;
    while (levels < n && hive_now_ns() - t0 < 60000000000ull) {
        /* Frames are paced as a game would have to without pieces: the
         * next only once the queue is under 256 KiB (a full send queue
         * closes the connection: SEND QUEUES). A transfer needs none. */
        hive_conn_stats cs;
        while (sent < n && (n == 1 || (hive_server_conn_stats(s, cid, &cs) == 0 && cs.send_queue_bytes < (256u << 10))) &&
               hive_server_send_msg(s, cid, "game:level", &m) == HIVE_OK)
            sent++;
        if (hive_now_ns() >= next) {
            hive_server_send_msg(s, cid, "game:snap", &snap);
            next += 33333333u;
        }
        hive_server_service(s, 0);
        hive_client_service(c, 0);
    }
    double secs = (double)(hive_now_ns() - t0) / 1e9;
    *gap_ms = max_gap / 1e6;
    hive_msg_free(&m);
    hive_msg_free(&snap);
    free(b);
    hive_client_destroy(c);
    hive_server_destroy(s);
    hive_bus_destroy(bus);
    return (double)len * n / secs / 1e6;
}

int main(void)
{
    const char *schemes[] = { "tcp://", "" };
    for (int i = 0; i < 2; i++) {
        const char *name = schemes[i][0] ? "tcp" : "enet";
        double gp, gf;
        double p = run(schemes[i], true, BIG, 1, &gp);
        double f = run(schemes[i], false, SMALL, BIG / SMALL, &gf);
        printf("hive-bench transfer.%s.pieces_mbps value=%.1f unit=MB/s\n", name, p);
        printf("hive-bench transfer.%s.frames_mbps value=%.1f unit=MB/s\n", name, f);
        printf("hive-bench transfer.%s.pieces_mbps ratio=%.3f vs=transfer.%s.frames_mbps\n", name, p / f, name);
        printf("hive-bench transfer.%s.snap_gap_ms value=%.1f unit=ms\n", name, gp);
        printf("hive-bench transfer.%s.snap_gap_ms_frames value=%.1f unit=ms\n", name, gf);
        fflush(stdout);
    }
    return 0;
}
