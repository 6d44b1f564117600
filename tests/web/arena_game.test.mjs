// The web arena's rules (web/arena/game.js) against the C demo's
// (demo/common/game.c and friends): the same numbers from the same inputs.
// Run by tests/web/test_js_client.c with the client tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { move, speed, decodeSnapshot, Interp, Predict, cleanText, RIGHT, LEFT, UP, DOWN, RADIUS, ARENA_W } from "../../web/arena/game.js";

test("move: walls stop a player, pillars push it out, diagonals are not faster", () => {
    const p = { x: 30, y: 30 };
    for (let i = 0; i < 600; i++) move(p, LEFT | UP, speed(false), 1 / 60);
    assert.deepEqual(p, { x: RADIUS, y: RADIUS });
    const q = { x: ARENA_W - 20, y: 250 };
    for (let i = 0; i < 60; i++) move(q, RIGHT, speed(true), 1 / 60);
    assert.equal(q.x, ARENA_W - RADIUS);
    /* Walking right into the middle pillar (x 372..428, y 212..288). */
    const r = { x: 300, y: 250 };
    for (let i = 0; i < 120; i++) move(r, RIGHT, speed(false), 1 / 60);
    assert.ok(Math.abs(r.x - (372 - RADIUS)) < 1e-3, `stopped at ${r.x}`);
    const d = { x: 100, y: 250 }, s = { x: 100, y: 250 };
    move(d, RIGHT | DOWN, 190, 1 / 60);
    move(s, RIGHT, 190, 1 / 60);
    assert.ok(Math.abs(Math.hypot(d.x - 100, d.y - 250) - (s.x - 100)) < 1e-3);
    /* float32 like the server: one step right at 190/s from 100 is
     * exactly what C computes in floats. */
    assert.equal(s.x, Math.fround(100 + Math.fround(Math.fround(190) * Math.fround(1 / 60))));
});

test("snapshots: the well-formed one decodes, malformed ones are refused", () => {
    const ok = { t: 10, q: 3, it: 2, p: [[1, 10.5, 20, 4, 0, 7, 0], [2, 30, 40, 0, 1, 9, 12]] };
    const s = decodeSnapshot(ok);
    assert.equal(s.players.length, 2);
    assert.deepEqual(s.players[1], { id: 2, x: 30, y: 40, score: 0, flags: 1, ack: 9, frozen: 12 });
    const bad = [
        null, 7, "x", {}, { ...ok, p: "no" }, { ...ok, q: -1 }, { ...ok, it: 1.5 },
        { ...ok, p: [[1, 10, 20, 4, 0, 7]] },                       // six fields
        { ...ok, p: [[0, 10, 20, 4, 0, 7, 0]] },                    // id 0
        { ...ok, p: [[1, 900, 20, 4, 0, 7, 0]] },                   // off the arena
        { ...ok, p: [[1, NaN, 20, 4, 0, 7, 0]] },
        { ...ok, p: [[1, 10, 20, 4, 4, 7, 0]] },                    // unknown flag
        { ...ok, p: [[1, 10, 20, 4, 0, 7, 0], [1, 10, 20, 4, 0, 7, 0]] },   // the same id twice
        { ...ok, p: Array.from({ length: 17 }, (_, i) => [i + 1, 1, 1, 0, 0, 0, 0]) },
    ];
    for (const b of bad) assert.equal(decodeSnapshot(b), null, JSON.stringify(b));
});

test("interpolation: blends between snapshots, never extrapolates, drops old ticks", () => {
    const ip = new Interp();
    const snap = (tick, x) => ({ tick, seq: tick, it: 0, players: [{ id: 5, x, y: 0, score: 0, flags: 0, ack: 0, frozen: 0 }] });
    assert.ok(ip.push(snap(10, 100)));
    assert.ok(ip.push(snap(12, 120)));
    assert.equal(ip.push(snap(11, 0)), false, "an older tick is ignored");
    assert.deepEqual(ip.sample(11, 5), { x: 110, y: 0 });
    assert.deepEqual(ip.sample(50, 5), { x: 120, y: 0 });
    assert.deepEqual(ip.sample(0, 5), { x: 100, y: 0 });
    assert.equal(ip.sample(11, 6), null);
    for (let t = 13; t < 100; t++) ip.push(snap(t, t));
    assert.equal(ip.snaps.length, 32);
});

test("prediction: replays unacknowledged inputs from the server's word", () => {
    const pr = new Predict(60);
    pr.reconcile(100, 100, 0, false, 0);
    for (let i = 0; i < 10; i++) pr.input(RIGHT);
    const predicted = pr.x;
    assert.ok(predicted > 100);
    /* The server applied 4 of the 10 and agrees on where they led. */
    const at4 = { x: 100, y: 100 };
    for (let i = 0; i < 4; i++) move(at4, RIGHT, speed(false), pr.dt);
    pr.reconcile(at4.x, at4.y, 4, false, 0);
    assert.equal(pr.hist.length, 6);
    assert.equal(pr.x, predicted, "the same code gives the same place");
    assert.equal(pr.corrections, 0);
    /* Frozen by a tag: the server says so and we stop. */
    pr.reconcile(at4.x, at4.y, 4, true, 60);
    assert.equal(pr.x, at4.x);
    assert.ok(pr.corrections === 1 && pr.ox > 0, "the jump becomes a fading offset");
    pr.smooth(1);
    assert.equal(pr.ox, 0);
});

test("text from the network is cleaned", () => {
    assert.equal(cleanText("  hi\u0000\u001b[31m\tthere \n"), "hi[31m there");
    assert.equal(cleanText("\u{1F600}".repeat(3), 2), "\u{1F600}\u{1F600}", "whole emoji");
    assert.equal(cleanText(42), "");
    assert.equal(cleanText("x".repeat(500)).length, 160);
});
