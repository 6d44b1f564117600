/*
 * proto.h - the demo's messages. Each is a packet type the server
 * registers (its name is a bus name, so the server hears a join as the
 * event `net:server.recv.demo:join` and the client hears a snapshot as
 * `net:client.recv.demo:snapshot`). Bodies are msgpack maps:
 *
 *   demo:join          C->S reliable    {name}
 *   demo:accepted      S->C reliable    {id, tick_hz, net_hz, it, roster: [[id, name], ...]}
 *   demo:player.joined S->C reliable    {id, name}
 *   demo:player.left   S->C reliable    {id, name, reason}
 *   demo:input         C->S unreliable  {seq, bits}            every client tick
 *   demo:snapshot      S->C unreliable  see snapshot.h         every server net tick
 *   demo:tag           S->C reliable    {tagger, tagged}
 *   demo:chat          C->S reliable    {text}
 *                      S->C reliable    {from, name, text}
 *   demo:announce      S->C reliable    {text}                 the server's own news
 *   demo:ping          C->S unreliable  {t}                    echoed back as demo:pong
 *   demo:pong          S->C unreliable  {t}
 *
 * Unreliable packets are the ones where a newer one makes a lost one
 * worthless; everything that must arrive once and in order is reliable.
 */
#ifndef DEMO_PROTO_H
#define DEMO_PROTO_H

#include <hive/net.h>

#define DEMO_APP "hive-demo"
#define DEMO_APP_VERSION "1"

#define DEMO_P_JOIN      "demo:join"
#define DEMO_P_ACCEPTED  "demo:accepted"
#define DEMO_P_JOINED    "demo:player.joined"
#define DEMO_P_LEFT      "demo:player.left"
#define DEMO_P_INPUT     "demo:input"
#define DEMO_P_SNAPSHOT  "demo:snapshot"
#define DEMO_P_TAG       "demo:tag"
#define DEMO_P_CHAT      "demo:chat"
#define DEMO_P_ANNOUNCE  "demo:announce"
#define DEMO_P_PING      "demo:ping"
#define DEMO_P_PONG      "demo:pong"

#define DEMO_CHAT_MAX 160         /* bytes of chat text kept */

/* Close reasons of the demo's own (>= HIVE_CLOSE_APP_MIN). */
#define DEMO_CLOSE_NO_JOIN   (HIVE_CLOSE_APP_MIN + 1)   /* connected but never joined */
#define DEMO_CLOSE_FULL      (HIVE_CLOSE_APP_MIN + 2)   /* arena full */
#define DEMO_CLOSE_FLOOD     (HIVE_CLOSE_APP_MIN + 3)   /* chat flood */

/* demo_proto_register - register every packet type on a server (before
 * it starts). Returns 0 or the first error. */
int demo_proto_register(hive_server *srv);

/* demo_close_text - a short text for a close reason, the demo's own
 * codes included. */
const char *demo_close_text(int reason);

#endif
