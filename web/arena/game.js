/*
 * game.js - the arena's rules that a client needs, as the C demo has them
 * (demo/common/game.c, snapshot.c, interp.c, predict.c): movement with
 * walls and pillars, snapshot checking, interpolation of other players and
 * prediction of one's own. No drawing and no network here, so Node's test
 * runner checks it (tests/web/arena_game.test.mjs).
 *
 * The server simulates in float32; Math.fround after each step keeps the
 * prediction on the server's numbers, so a reconciliation rarely moves us.
 */
const f = Math.fround;

export const ARENA_W = 800, ARENA_H = 500, RADIUS = 14;
export const SPEED = 190, IT_SPEED = 230;
export const MAX_PLAYERS = 16;
export const UP = 1, DOWN = 2, LEFT = 4, RIGHT = 8;
export const SNAP_IT = 1, SNAP_FROZEN = 2;

export const PILLARS = [
    { x: 150, y: 110, w: 90, h: 36 }, { x: 560, y: 110, w: 90, h: 36 },
    { x: 150, y: 354, w: 90, h: 36 }, { x: 560, y: 354, w: 90, h: 36 },
    { x: 372, y: 212, w: 56, h: 76 },
];

export function speed(isIt) {
    return isIt ? IT_SPEED : SPEED;
}

/* Push a circle out of a rectangle (game.c push_out). */
function pushOut(p, r) {
    const cx = p.x < r.x ? r.x : (p.x > r.x + r.w ? r.x + r.w : p.x);
    const cy = p.y < r.y ? r.y : (p.y > r.y + r.h ? r.y + r.h : p.y);
    const dx = f(p.x - cx), dy = f(p.y - cy);
    const d2 = f(f(dx * dx) + f(dy * dy));
    if (d2 >= RADIUS * RADIUS) return;
    if (d2 > 1e-6) {
        const d = f(Math.sqrt(d2));
        p.x = f(cx + f(f(dx / d) * RADIUS));
        p.y = f(cy + f(f(dy / d) * RADIUS));
        return;
    }
    const left = p.x - r.x, right = r.x + r.w - p.x, top = p.y - r.y, bottom = r.y + r.h - p.y;
    const m = Math.min(left, right, top, bottom);
    if (m === left) p.x = r.x - RADIUS;
    else if (m === right) p.x = r.x + r.w + RADIUS;
    else if (m === top) p.y = r.y - RADIUS;
    else p.y = r.y + r.h + RADIUS;
}

/* One step of movement from input bits (game.c demo_move). p: {x, y}. */
export function move(p, bits, spd, dt) {
    let vx = 0, vy = 0;
    if (bits & LEFT) vx -= 1;
    if (bits & RIGHT) vx += 1;
    if (bits & UP) vy -= 1;
    if (bits & DOWN) vy += 1;
    if (vx !== 0 && vy !== 0) {
        vx = f(vx * 0.70710678);
        vy = f(vy * 0.70710678);
    }
    p.x = f(p.x + f(f(vx * spd) * dt));
    p.y = f(p.y + f(f(vy * spd) * dt));
    for (const r of PILLARS) pushOut(p, r);
    p.x = Math.min(Math.max(p.x, RADIUS), ARENA_W - RADIUS);
    p.y = Math.min(Math.max(p.y, RADIUS), ARENA_H - RADIUS);
}

const isUint = (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
const isCoord = (v, max) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= max;

/*
 * A received demo:snapshot, checked as snapshot.c checks it: it came from
 * the network. Returns {tick, seq, it, players: [{id, x, y, score, flags,
 * ack, frozen}]}, or null when anything is malformed.
 */
export function decodeSnapshot(m) {
    if (typeof m !== "object" || m === null || !isUint(m.q) || !isUint(m.it) || !Array.isArray(m.p) ||
        !Number.isSafeInteger(m.t) || m.t < 0 || m.p.length > MAX_PLAYERS)
        return null;
    const players = [];
    for (const e of m.p) {
        if (!Array.isArray(e) || e.length !== 7) return null;
        const [id, x, y, score, flags, ack, frozen] = e;
        if (!isUint(id) || id === 0 || !isCoord(x, ARENA_W) || !isCoord(y, ARENA_H) || !isUint(score) ||
            !isUint(flags) || flags > 3 || !isUint(ack) || !isUint(frozen))
            return null;
        if (players.some((p) => p.id === id)) return null;
        players.push({ id, x, y, score, flags, ack, frozen });
    }
    return { tick: m.t, seq: m.q, it: m.it, players };
}

export const INTERP_KEEP = 32;

/* Other players, drawn a little in the past between two snapshots
 * (interp.c). */
export class Interp {
    constructor() {
        this.snaps = [];
        this.serverTick = 0;
        this.have = false;
        this.received = 0;
        this.jumps = 0;
    }

    latest() {
        return this.snaps.length ? this.snaps[this.snaps.length - 1] : null;
    }

    /* Keep a snapshot (older or duplicate ticks: false) and pull the
     * clock estimate toward it. */
    push(s) {
        if (this.snaps.length && s.tick <= this.latest().tick) return false;
        if (this.snaps.length === INTERP_KEEP) this.snaps.shift();
        this.snaps.push(s);
        this.received++;
        if (!this.have || Math.abs(s.tick - this.serverTick) > 20) {
            if (this.have) this.jumps++;
            this.serverTick = s.tick;
            this.have = true;
        } else {
            this.serverTick += (s.tick - this.serverTick) * 0.1;
        }
        return true;
    }

    advance(dt, tickHz) {
        if (this.have) this.serverTick += dt * tickHz;
    }

    /* Position of player id at server tick `at`: blended between the two
     * snapshots around it, else the nearest one's; null when none has it. */
    sample(at, id) {
        let before = null, after = null, tb = 0, ta = 0;
        for (const s of this.snaps) {
            const p = s.players.find((q) => q.id === id);
            if (!p) continue;
            if (s.tick <= at) { before = p; tb = s.tick; }
            else if (!after) { after = p; ta = s.tick; }
        }
        if (before && after) {
            const k = (at - tb) / (ta - tb);
            return { x: before.x + (after.x - before.x) * k, y: before.y + (after.y - before.y) * k };
        }
        const p = before ?? after;
        return p ? { x: p.x, y: p.y } : null;
    }
}

export const PREDICT_KEEP = 128;

/* One's own player, moved at once and reconciled with the server's word
 * (predict.c). */
export class Predict {
    constructor(tickHz) {
        this.nextSeq = 0;
        this.hist = [];
        this.x = 0;
        this.y = 0;
        this.ox = 0;
        this.oy = 0;
        this.frozen = 0;
        this.isIt = false;
        this.have = false;
        this.dt = f(1 / (tickHz > 0 ? tickHz : 60));
        this.corrections = 0;
    }

    _step(bits) {
        if (this.frozen) {
            this.frozen--;
            return;
        }
        move(this, bits, speed(this.isIt), this.dt);
    }

    /* One tick of input: its sequence number, after predicting it. */
    input(bits) {
        const seq = ++this.nextSeq;
        if (this.hist.length === PREDICT_KEEP) this.hist.shift();
        this.hist.push({ seq, bits });
        if (this.have) this._step(bits);
        return seq;
    }

    /* After input `ack` the server had us at (x, y). */
    reconcile(x, y, ack, isIt, frozen) {
        while (this.hist.length && this.hist[0].seq <= ack) this.hist.shift();
        const oldx = this.x + this.ox, oldy = this.y + this.oy;
        this.x = x;
        this.y = y;
        this.isIt = isIt;
        this.frozen = frozen;
        for (const h of this.hist) this._step(h.bits);
        if (!this.have) {
            this.have = true;
            this.ox = this.oy = 0;
            return;
        }
        let dx = oldx - this.x, dy = oldy - this.y;
        const d2 = dx * dx + dy * dy;
        if (d2 > 0.01) this.corrections++;
        if (d2 > 80 * 80) dx = dy = 0;
        this.ox = dx;
        this.oy = dy;
    }

    /* Fade the visual correction (once a frame). */
    smooth(dt) {
        const k = Math.exp(-dt * 23);
        this.ox *= k;
        this.oy *= k;
        if (Math.abs(this.ox) < 0.01) this.ox = 0;
        if (Math.abs(this.oy) < 0.01) this.oy = 0;
    }
}

/* Untrusted text made safe to show (game.c demo_clean_text): no control
 * characters, trimmed, at most max UTF-16 units. */
export function cleanText(s, max = 160) {
    if (typeof s !== "string") return "";
    /* Tabs and newlines become spaces, other controls go; whole code
     * points only, so a cut never splits a surrogate pair. */
    // eslint-disable-next-line no-control-regex
    const t = s.replace(/[\t\n\r]/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "").replace(/^ +| +$/g, "");
    return [...t].slice(0, max).join("").replace(/ +$/, "");
}
