// The JavaScript client (web/hive.js) against the C server that
// tests/web/test_js_client.c runs (HIVE_WS_URL). Run by that test:
//   node --experimental-websocket --test tests/web/client.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { HiveClient, Bus, patternMatches, FrameReader, encodeFrame, varintEncode, closeName, STATE } from "../../web/hive.js";

const URL_ = process.env.HIVE_WS_URL;

function waitFor(bus, pattern, ms = 5000) {
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => { bus.unsubscribe(id); reject(new Error(`no ${pattern} in ${ms} ms`)); }, ms);
        const id = bus.subscribe(pattern, (ev) => { clearTimeout(t); bus.unsubscribe(id); resolve(ev); });
    });
}

async function open(opts = {}) {
    const cli = new HiveClient(opts);
    const hs = waitFor(cli.bus, "net:client.handshakecomplete");
    cli.connect(URL_);
    const ev = await hs;
    return { cli, ev };
}

test("bus wildcards follow the C bus's rules", () => {
    assert.ok(patternMatches("net:client.*", "net:client.close"));
    assert.ok(!patternMatches("net:client.*", "net:client.recv.game:chat"));
    assert.ok(patternMatches("net:client.recv.**", "net:client.recv.game:chat"));
    assert.ok(patternMatches("**", "a"));
    assert.ok(!patternMatches("net:**", "net"));
    const bus = new Bus();
    let n = 0;
    bus.subscribe("game:player.*", () => n++);
    bus.publish("game:player.scored", {});
    bus.publish("game:other", {});
    assert.equal(n, 1);
});

test("frames: the PROTOCOL.md example, split anywhere, and bad headers", () => {
    const f = encodeFrame(300, 0, new Uint8Array([0x81, 0xa1, 0x61, 0x01]));
    assert.deepEqual([...f], [0x07, 0xac, 0x02, 0x00, 0x81, 0xa1, 0x61, 0x01]);
    const r = new FrameReader(65536);
    for (const b of [...f, ...f]) r.push(new Uint8Array([b]));
    assert.equal(r.next().pid, 300);
    assert.equal(r.next().pid, 300);
    assert.equal(r.next(), null);
    const bad = new FrameReader(8192);
    bad.push(new Uint8Array(varintEncode(100000, [])));
    assert.throws(() => bad.next(), (e) => e.reason === "frame_too_large");
    const flags = new FrameReader(8192);
    flags.push(new Uint8Array([0x02, 0x40, 0x80]));
    assert.throws(() => flags.next(), (e) => e.reason === "bad_frame");
    assert.equal(closeName(16), "kicked");
    assert.equal(closeName(4242), "application");
});

test("handshake: a cid, the server's registry", async () => {
    const { cli, ev } = await open({ conntype: "spectator" });
    assert.ok(ev.cid > 0);
    assert.ok(ev.registry.includes("game:chat") && ev.registry.includes("game:echo"));
    assert.equal(cli.state, STATE.OPEN);
    const closed = waitFor(cli.bus, "net:client.close");
    cli.close();
    const c = await closed;
    assert.equal(c.reason_name, "normal");
    assert.equal(c.remote, 0);
});

test("100 messages echo back exactly once, in order; round trip measured", async () => {
    const { cli } = await open();
    const got = [];
    const done = new Promise((resolve) => cli.bus.subscribe("net:client.recv.game:echo", (ev) => {
        got.push(ev.msg.n);
        if (got.length === 100) resolve();
    }));
    for (let i = 0; i < 100; i++) cli.send("game:chat", { n: i, text: "x".repeat(i * 10) });
    await done;
    assert.deepEqual(got, [...Array(100).keys()]);
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(cli.rttMs >= 0 && cli.rttMs < 1000, `rtt ${cli.rttMs}`);
    assert.equal(cli.countedIn, 100);
    assert.throws(() => cli.send("game:nosuch", {}), /no packet type/);
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("a kick arrives as close kicked, remote", async () => {
    const { cli } = await open();
    const closed = waitFor(cli.bus, "net:client.close");
    cli.send("game:kickme", {});
    const c = await closed;
    assert.equal(c.reason_name, "kicked");
    assert.equal(c.remote, 1);
    assert.equal(c.message, "asked for it");
});

test("a broadcast from a browser reaches every client, native ones included", async () => {
    const a = await open(), b = await open();
    const heard = waitFor(b.cli.bus, "net:client.recv.game:echo");
    a.cli.send("game:shout", { text: "hello all" });
    assert.equal((await heard).msg.text, "hello all");
    a.cli.close();
    b.cli.close();
    await Promise.all([waitFor(a.cli.bus, "net:client.close"), waitFor(b.cli.bus, "net:client.close")]);
});

test("a malformed frame from the client is answered with close bad_frame", async () => {
    const { cli } = await open();
    const closed = waitFor(cli.bus, "net:client.close");
    cli.ws.send(new Uint8Array([0x02, 0x40, 0x80]));   // flags 0x80: no such bit
    const c = await closed;
    assert.equal(c.reason_name, "bad_frame");
    assert.equal(c.remote, 1);
});

test("an app mismatch is rejected during the handshake", async () => {
    const cli = new HiveClient({ app: "not-this-one" });
    const closed = waitFor(cli.bus, "net:client.close");
    cli.connect(URL_);
    const c = await closed;
    assert.equal(c.reason_name, "app_mismatch");
    assert.equal(c.remote, 1);
});

test("no server there: connect_failed", async () => {
    const cli = new HiveClient({ connectTimeoutMs: 2000 });
    const closed = waitFor(cli.bus, "net:client.close");
    cli.connect("ws://127.0.0.1:1/");
    assert.equal((await closed).reason_name, "connect_failed");
});

test("resume: a lost link comes back as the same session, every message exactly once", async () => {
    const { cli, ev } = await open({ reconnectAttempts: 5, reconnectDelayMs: 50 });
    assert.ok(cli.resumeToken instanceof Uint8Array && cli.resumeToken.length === 16, "the welcome had a token");
    const got = [];
    cli.bus.subscribe("net:client.recv.game:echo", (e) => got.push(e.msg.n));
    /* The server sends 50 at once; the link dies while they travel. */
    cli.send("game:burst", { n: 50 });
    const reconnecting = waitFor(cli.bus, "net:client.reconnecting");
    const resumed = waitFor(cli.bus, "net:client.resumed", 10000);
    cli.ws.close();
    const r = await reconnecting;
    assert.equal(r.reason_name, "peer_vanished");
    assert.equal(cli.state, STATE.RECONNECTING);
    /* Sent while the link is down: kept, and sent with the resume. */
    for (let i = 50; i < 60; i++) assert.ok(cli.send("game:chat", { n: i }));
    assert.equal(cli.send("game:pos", { x: 1 }), false, "unreliable while reconnecting: dropped");
    const rs = await resumed;
    assert.equal(rs.cid, ev.cid, "the same session");
    assert.equal(rs.resumes, 1);
    assert.ok(rs.replayed >= 10, `replayed ${rs.replayed}`);
    const deadline = Date.now() + 5000;
    while (got.length < 60 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.deepEqual(got, [...Array(60).keys()], "every echo once, in order");
    assert.equal(cli.cid, ev.cid);
    cli.close();
    assert.equal((await waitFor(cli.bus, "net:client.close")).reason_name, "normal");
});

test("resume refused: session.invalidated, then a new session", async () => {
    const { cli, ev } = await open({ reconnectAttempts: 5, reconnectDelayMs: 50 });
    cli.resumeToken = new Uint8Array(16);   /* not the server's: the resume must be refused */
    const invalidated = waitFor(cli.bus, "net:client.session.invalidated", 10000);
    const again = new Promise((resolve) => {
        const id = cli.bus.subscribe("net:client.handshakecomplete", (e) => { cli.bus.unsubscribe(id); resolve(e); });
    });
    cli.ws.close();
    const inv = await invalidated;
    assert.equal(inv.old_cid, ev.cid);
    assert.equal(inv.reason_name, "session_invalid");
    const hs = await again;
    assert.notEqual(hs.cid, ev.cid, "a new cid");
    assert.equal(cli.state, STATE.OPEN);
    const echo = waitFor(cli.bus, "net:client.recv.game:echo");
    cli.send("game:chat", { n: 7 });
    assert.equal((await echo).msg.n, 7, "the new session works");
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("redirect: the server moves the session to another one; every message exactly once, in order", async () => {
    const { cli } = await open({ reconnectAttempts: 5, reconnectDelayMs: 20 });
    const got = [];
    cli.bus.subscribe("net:client.recv.game:echo", (ev) => got.push(ev.msg.i));
    for (let i = 0; i < 20; i++) assert.ok(cli.send("game:chat", { i }));
    const red = waitFor(cli.bus, "net:client.redirected", 8000);
    const res = waitFor(cli.bus, "net:client.resumed", 8000);
    const from = cli.cid;
    assert.ok(cli.send("game:moveme", {}));
    /* sent while the session moves: the source freezes them, the target
     * gets them from the resume */
    for (let i = 20; i < 40; i++) assert.ok(cli.send("game:chat", { i }));
    const r = await red;
    assert.equal(r.from_cid, from);
    assert.match(r.addr, /^ws:\/\/127\.0\.0\.1:\d+\/$/);
    assert.notEqual(r.addr, URL_);
    const rs = await res;
    assert.equal(rs.cid, r.cid);
    assert.equal(cli.state, STATE.OPEN);
    for (let i = 40; i < 60; i++) assert.ok(cli.send("game:chat", { i }));
    for (let k = 0; k < 400 && got.length < 60; k++) await new Promise((ok) => setTimeout(ok, 10));
    assert.deepEqual(got, [...Array(60).keys()]);
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("send refuses while more than maxBufferedBytes wait in the WebSocket", async () => {
    const { cli } = await open({ maxBufferedBytes: 1000 });
    const big = "x".repeat(60000);   /* under the server's max_frame */
    assert.ok(cli.send("game:chat", { text: big }), "the first goes: nothing was waiting");
    assert.ok(cli.ws.bufferedAmount > 1000, `buffered ${cli.ws.bufferedAmount}`);
    assert.equal(cli.send("game:chat", { text: big }), false, "refused while the first waits");
    for (let k = 0; k < 500 && cli.ws.bufferedAmount > 1000; k++) await new Promise((ok) => setTimeout(ok, 5));
    assert.ok(cli.send("game:chat", { text: "small" }), "taken again once it drained");
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("a first dial that fails closes at once: there was no session to get back", async () => {
    const cli = new HiveClient({ reconnectAttempts: 2, reconnectDelayMs: 20, connectTimeoutMs: 1000 });
    const tries = [];
    cli.bus.subscribe("net:client.reconnecting", (e) => tries.push(e.attempt));
    const closed = waitFor(cli.bus, "net:client.close", 10000);
    cli.connect("ws://127.0.0.1:1/");
    const c = await closed;
    assert.equal(c.reason_name, "connect_failed");
    assert.deepEqual(tries, [], "a first dial that fails is not a lost link");
});

test("stats: a round trip every interval even on a busy link", async () => {
    const { cli } = await open({ statsIntervalMs: 200 });
    const samples = [];
    cli.bus.subscribe("net:client.stats", (e) => samples.push(e.rtt_ms));
    const t = setInterval(() => cli.send("game:pos", { x: 1 }), 10);   /* never silent */
    await new Promise((r) => setTimeout(r, 1000));
    clearInterval(t);
    assert.ok(samples.length >= 3, `${samples.length} stats events`);
    assert.ok(samples.every((v) => v >= 0 && v < 1000), samples.join(","));
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("a resume buffer that dropped unacknowledged messages ends the session out loud", async () => {
    const { cli, ev } = await open({ reconnectAttempts: 3, reconnectDelayMs: 50, resumeBufferBytes: 300 });
    for (let i = 0; i < 10; i++) cli.send("game:chat", { n: i, text: "x".repeat(100) });   /* 1 KiB > 300 B */
    const invalidated = waitFor(cli.bus, "net:client.session.invalidated", 10000);
    const again = waitFor(cli.bus, "net:client.handshakecomplete", 10000);
    cli.ws.close();
    const inv = await invalidated;
    assert.equal(inv.old_cid, ev.cid);
    assert.equal(inv.cid, 0);
    assert.ok(inv.undelivered >= 1);
    assert.notEqual((await again).cid, ev.cid);
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("a client used again after close still acknowledges in time", async () => {
    const { cli } = await open();
    cli.close();
    await waitFor(cli.bus, "net:client.close");
    const hs = waitFor(cli.bus, "net:client.handshakecomplete");
    cli.connect(URL_);
    await hs;
    const echo = waitFor(cli.bus, "net:client.recv.game:echo");
    cli.send("game:chat", { n: 1 });
    await echo;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cli.ackedIn, cli.countedIn, "the echo was acknowledged by the timer");
    cli.close();
    await waitFor(cli.bus, "net:client.close");
});

test("frames: a megabyte of small frames in one message is read in place, not copied per frame", () => {
    const one = encodeFrame(300, 0, new Uint8Array([0xc0]));
    const n = Math.floor((1 << 20) / one.length);
    const all = new Uint8Array(n * one.length);
    for (let i = 0; i < n; i++) all.set(one, i * one.length);
    const r = new FrameReader(65536);
    r.push(all);
    const buf = r.buf;
    let got = 0;
    while (r.next()) got++;
    assert.equal(got, n);
    /* Read in place: no frame copied the rest of the buffer. */
    assert.equal(r.buf, buf);
    assert.equal(r.off, n * one.length);
});
