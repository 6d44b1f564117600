/*
 * arena.js - the Hive demo arena in a browser tab: the same game, the same
 * server and the same look as the SDL client (demo/client/), over ws:// or
 * wss:// with web/hive.js.
 *
 * The page connects back to the server it came from. Its query string:
 *   ?name=NAME   your name in the arena (default "web")
 * Arrows or WASD move; Enter opens the chat box, Enter sends, Escape
 * cancels (or, with the box closed, leaves the game).
 *
 * Every packet the server sends is its own event on the client's bus
 * (`net:client.recv.demo:snapshot`, ...), handled by a small function, as
 * in the C client. `window.hiveArena` holds what a test or a curious
 * player in the console may want to read (state, counts, the last lines).
 */
import { HiveClient } from "../hive.js";
import {
    ARENA_W, ARENA_H, RADIUS, PILLARS, UP, DOWN, LEFT, RIGHT, SNAP_IT, SNAP_FROZEN,
    decodeSnapshot, Interp, Predict, cleanText,
} from "./game.js";

const W = 1120, H = 700;
const AX = 16, AY = 52;                       /* the arena's place, as in client.h */
const PX = AX + ARENA_W + 16, PW = W - PX - 16;
const CHAT_Y = AY + ARENA_H + 12;
const CHAT_KEEP = 8, RTT_KEEP = 120;

const COL = {
    text: "rgb(225,230,240)", dim: "rgb(140,150,170)", gold: "rgb(255,205,90)",
    panel: "rgb(24,28,40)", edge: "rgb(60,70,96)", it: "rgb(255,110,90)", bg: "rgb(14,16,24)",
};
const PALETTE = [
    [94, 176, 255], [255, 196, 70], [120, 220, 120], [236, 120, 220],
    [100, 230, 220], [250, 150, 100], [180, 150, 255], [220, 230, 110],
];
/* ids come from the network: any integer must give a colour, never throw. */
const color = (id, a = 1) => `rgba(${PALETTE[((id % PALETTE.length) + PALETTE.length) % PALETTE.length].join(",")},${a})`;
const isId = (v) => Number.isInteger(v) && v > 0 && v <= 0xffffffff;
const FONT = {
    small: "12px 'DejaVu Sans', Verdana, sans-serif",
    normal: "14px 'DejaVu Sans', Verdana, sans-serif",
    bold: "bold 14px 'DejaVu Sans', Verdana, sans-serif",
    title: "bold 20px 'DejaVu Sans', Verdana, sans-serif",
};

const params = new URLSearchParams(location.search);
const myName = cleanText(params.get("name") ?? "web", 23) || "web";
const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`;

/* Everything the page knows; window.hiveArena for tests and the console. */
const st = {
    url, name: myName, handshaken: false, joined: false, closed: false, closeText: "",
    myId: 0, tickHz: 60, netHz: 30, roster: new Map(),
    snapshots: 0, badSnapshots: 0, othersSeen: 0, tags: 0, myTags: 0, timesTagged: 0, chatsSent: 0,
    me: null, resumes: 0, lines: [], rttMs: -1, rttHist: [], lossPct: 0, kbIn: 0, kbOut: 0,
    win: { first: 0, max: 0, got: 0 }, flashId: 0, flashUntil: 0,
};
window.hiveArena = st;

const interp = new Interp();
let pred = new Predict(60);
const keys = { up: false, down: false, left: false, right: false };
let chatOpen = false, edit = "";

/* A tab that sleeps, or Wi-Fi that drops for a moment, comes back as the
 * same player: Hive resumes the session. */
const cli = new HiveClient({ app: "hive-demo", appVersion: "1", reconnectAttempts: 10 });
const bus = cli.bus;
st.client = cli;   /* for the console: hiveArena.client.rttMs, .stats, ... */
const nameOf = (id) => st.roster.get(id) ?? "?";

function line(kind, text, from = 0, who = "") {
    st.lines.push({ kind, text, from, who });
    if (st.lines.length > CHAT_KEEP) st.lines.shift();
}

/* ---- the conversation ---- */

bus.subscribe("net:client.handshakecomplete", () => {
    st.handshaken = true;
    cli.send("demo:join", { name: myName });
});

bus.subscribe("net:client.reconnecting", (ev) => {
    line("system", `Connection lost (${ev.reason_name}), reconnecting in ${ev.delay_ms} ms...`);
});
bus.subscribe("net:client.resumed", () => {
    st.resumes++;
    line("system", "Reconnected.");
});
/* Back, but as a new session: the old player is gone; the handshake that
 * follows joins again. */
bus.subscribe("net:client.session.invalidated", () => {
    st.joined = false;
    st.roster.clear();
});

bus.subscribe("net:client.close", (ev) => {
    st.closed = true;
    st.joined = false;
    st.closeText = ev.reason_name + (ev.message ? `: ${ev.message}` : "");
    line("system", `Disconnected: ${st.closeText}`);
});

bus.subscribe("net:client.recv.demo:accepted", ({ msg: m }) => {
    const ok = m && isId(m.id) && m.tick_hz >= 1 && m.tick_hz <= 1000 &&
        m.net_hz >= 1 && m.net_hz <= 1000;
    if (!ok) {
        cli.close(1000, "bad demo:accepted");
        return;
    }
    st.myId = m.id;
    st.tickHz = m.tick_hz;
    st.netHz = m.net_hz;
    st.joined = true;
    pred = new Predict(Math.round(m.tick_hz));
    for (const e of Array.isArray(m.roster) ? m.roster : [])
        if (Array.isArray(e) && e.length === 2 && isId(e[0])) st.roster.set(e[0], cleanText(e[1], 23));
    line("system", `Welcome to the arena, ${nameOf(st.myId)}! Arrows/WASD move, Enter chats.`);
    startTicks();
});

bus.subscribe("net:client.recv.demo:player.joined", ({ msg: m }) => {
    if (!m || !isId(m.id)) return;
    st.roster.set(m.id, cleanText(m.name, 23));
    line("system", `${nameOf(m.id)} joined`);
});

bus.subscribe("net:client.recv.demo:player.left", ({ msg: m }) => {
    if (!m || !isId(m.id)) return;
    line("system", `${nameOf(m.id)} left`);
    st.roster.delete(m.id);
});

bus.subscribe("net:client.recv.demo:snapshot", ({ msg }) => {
    const s = decodeSnapshot(msg);
    if (!s) {
        st.badSnapshots++;   /* untrusted input: counted, not worth a disconnect */
        return;
    }
    if (st.snapshots === 0) st.win.first = st.win.max = s.seq;
    st.snapshots++;
    st.win.got++;
    st.win.max = Math.max(st.win.max, s.seq);
    interp.push(s);
    st.othersSeen = Math.max(st.othersSeen, s.players.filter((p) => p.id !== st.myId).length);
    const me = st.joined ? s.players.find((p) => p.id === st.myId) : null;
    if (me) {
        pred.reconcile(me.x, me.y, me.ack, s.it === st.myId, me.frozen);
        st.me = { x: me.x, y: me.y, ack: me.ack };   /* the server's word on us */
    }
});

bus.subscribe("net:client.recv.demo:tag", ({ msg: m }) => {
    if (!m || !isId(m.tagger) || !isId(m.tagged)) return;
    st.tags++;
    if (m.tagger === st.myId) st.myTags++;
    if (m.tagged === st.myId) st.timesTagged++;
    st.flashId = m.tagged;
    st.flashUntil = performance.now() + 600;
    line("system", m.idle ? `${nameOf(m.tagger)} stood still: ${nameOf(m.tagged)} is it now`
        : `${nameOf(m.tagger)} tagged ${nameOf(m.tagged)}`);
});

bus.subscribe("net:client.recv.demo:chat", ({ msg: m }) => {
    if (!m || !Number.isInteger(m.from) || m.from < 0 || typeof m.text !== "string") return;
    line("chat", cleanText(m.text), m.from, cleanText(m.name, 23));
});

bus.subscribe("net:client.recv.demo:announce", ({ msg: m }) => {
    if (m && typeof m.text === "string") line("announce", cleanText(m.text));
});

/* Input every simulation tick, predicted here and sent unreliably (a newer
 * input makes a lost one worthless). */
let tickTimer = null;
function startTicks() {
    clearInterval(tickTimer);
    tickTimer = setInterval(() => {
        if (!st.joined || st.closed) return;
        const bits = chatOpen ? 0 : (keys.up ? UP : 0) | (keys.down ? DOWN : 0) | (keys.left ? LEFT : 0) | (keys.right ? RIGHT : 0);
        const seq = pred.input(bits);
        cli.send("demo:input", { seq, bits });
    }, 1000 / st.tickHz);
}

/* Four round-trip samples a second for the graph; loss and bandwidth once
 * a second. */
setInterval(() => {
    st.rttMs = cli.rttMs;
    if (cli.rttMs >= 0 && cli.state === "open") {
        st.rttHist.push(cli.rttMs);
        if (st.rttHist.length > RTT_KEEP) st.rttHist.shift();
    }
}, 250);
let lastIn = 0, lastOut = 0;
setInterval(() => {
    const w = st.win;
    if (st.snapshots) {
        const expected = w.max >= w.first ? w.max - w.first + 1 : 0;
        st.lossPct = expected && w.got < expected ? (100 * (expected - w.got)) / expected : 0;
        w.first = w.max + 1;
        w.got = 0;
    }
    st.kbIn = (cli.stats.bytesIn - lastIn) / 1024;
    st.kbOut = (cli.stats.bytesOut - lastOut) / 1024;
    lastIn = cli.stats.bytesIn;
    lastOut = cli.stats.bytesOut;
}, 1000);

function sendChat(text) {
    text = cleanText(text);
    if (!st.joined || st.closed || !text) return;
    if (cli.send("demo:chat", { text })) st.chatsSent++;
}

function leave(why) {
    if (st.closed) return;
    cli.close(0, why);
}

/* ---- keyboard ---- */

const canvas = document.getElementById("arena");
const KEYMAP = {
    ArrowUp: "up", KeyW: "up", ArrowDown: "down", KeyS: "down",
    ArrowLeft: "left", KeyA: "left", ArrowRight: "right", KeyD: "right",
};

function setChat(open) {
    chatOpen = open;
    edit = "";
    keys.up = keys.down = keys.left = keys.right = false;
}

window.addEventListener("keydown", (e) => {
    if (chatOpen) {
        if (e.key === "Enter") {
            sendChat(edit);
            setChat(false);
        } else if (e.key === "Escape") {
            setChat(false);
        } else if (e.key === "Backspace") {
            edit = [...edit].slice(0, -1).join("");
        } else if (e.key.length === 1 || [...e.key].length === 1) {
            if (edit.length < 150) edit += e.key;
        } else {
            return;
        }
        e.preventDefault();
        return;
    }
    if (e.key === "Enter") setChat(true);
    else if (e.key === "Escape") leave("pressed Escape");
    else if (KEYMAP[e.code]) keys[KEYMAP[e.code]] = true;
    else return;
    e.preventDefault();
});
window.addEventListener("keyup", (e) => {
    if (!chatOpen && KEYMAP[e.code]) keys[KEYMAP[e.code]] = false;
});
/* A tab in the background gets no keyup: let go of everything. */
window.addEventListener("blur", () => { keys.up = keys.down = keys.left = keys.right = false; });
/* A page going into the back/forward cache may come back: only a page
 * that is really gone says goodbye. */
window.addEventListener("pagehide", (e) => { if (!e.persisted) leave("page closed"); });

/* ---- drawing ---- */

const g = canvas.getContext("2d");

function text(s, x, y, font, fill, align = 0) {
    g.font = font;
    g.fillStyle = fill;
    g.textBaseline = "top";
    g.textAlign = align === 0 ? "left" : align === 1 ? "center" : "right";
    g.fillText(s, x, y);
    return g.measureText(s).width;
}

function box(x, y, w, h) {
    g.fillStyle = COL.panel;
    g.fillRect(x, y, w, h);
    g.strokeStyle = COL.edge;
    g.lineWidth = 1;
    g.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
}

function disc(x, y, r, fill) {
    g.fillStyle = fill;
    g.beginPath();
    g.arc(x, y, r, 0, Math.PI * 2);
    g.fill();
}

function ring(x, y, r, width, stroke) {
    g.strokeStyle = stroke;
    g.lineWidth = width;
    g.beginPath();
    g.arc(x, y, r + width / 2, 0, Math.PI * 2);
    g.stroke();
}

function drawFloor() {
    g.fillStyle = "rgb(28,33,46)";
    g.fillRect(AX, AY, ARENA_W, ARENA_H);
    g.strokeStyle = "rgb(36,42,58)";
    g.lineWidth = 1;
    g.beginPath();
    for (let x = 50; x < ARENA_W; x += 50) { g.moveTo(AX + x + 0.5, AY); g.lineTo(AX + x + 0.5, AY + ARENA_H); }
    for (let y = 50; y < ARENA_H; y += 50) { g.moveTo(AX, AY + y + 0.5); g.lineTo(AX + ARENA_W, AY + y + 0.5); }
    g.stroke();
    for (let i = 0; i < 3; i++) {
        g.strokeStyle = `rgb(${96 - i * 20},${110 - i * 20},${150 - i * 25})`;
        g.strokeRect(AX - 1 - i + 0.5, AY - 1 - i + 0.5, ARENA_W + 1 + 2 * i, ARENA_H + 1 + 2 * i);
    }
    for (const p of PILLARS) {
        const x = AX + p.x, y = AY + p.y;
        g.fillStyle = "rgba(14,16,24,0.63)";
        g.fillRect(x + 4, y + 5, p.w, p.h);
        g.fillStyle = "rgb(74,84,112)";
        g.fillRect(x, y, p.w, p.h);
        g.fillStyle = "rgb(112,124,160)";
        g.fillRect(x, y, p.w, 4);
        g.strokeStyle = "rgb(54,62,84)";
        g.strokeRect(x + 0.5, y + 0.5, p.w - 1, p.h - 1);
    }
}

function visiblePlayers() {
    const s = interp.latest();
    if (!s) return [];
    const ratio = st.tickHz / (st.netHz > 0 ? st.netHz : 30);
    const at = interp.serverTick - (2 * ratio + 1);
    const out = [];
    for (const p of s.players) {
        let pos;
        if (p.id === st.myId && pred.have) pos = { x: pred.x + pred.ox, y: pred.y + pred.oy };
        else pos = interp.sample(at, p.id);
        if (pos) out.push({ ...p, x: pos.x, y: pos.y });
    }
    return out;
}

function drawArena(now) {
    drawFloor();
    const ps = visiblePlayers();
    const pulse = 0.5 + 0.5 * Math.sin((now / 1000) * 8);
    for (const p of ps) {
        const x = AX + p.x, y = AY + p.y;
        disc(x + 3, y + 4, RADIUS, "rgba(10,12,18,0.6)");
        if (p.flags & SNAP_IT) ring(x, y, RADIUS + 3, 3 + 3 * pulse, "rgba(255,70,50,0.9)");
        disc(x, y, RADIUS, color(p.id));
        disc(x - 4, y - 5, RADIUS * 0.35, "rgba(255,255,255,0.27)");
        if (p.flags & SNAP_FROZEN) ring(x, y, RADIUS - 3, 3, "rgba(200,240,255,0.86)");
        if (p.id === st.myId) ring(x, y, RADIUS, 2, "#fff");
        if (p.id === st.flashId && now < st.flashUntil) {
            const k = 1 - (st.flashUntil - now) / 600;
            ring(x, y, RADIUS + 6 + k * 30, 3, `rgba(255,220,120,${1 - k})`);
        }
    }
    for (const p of ps) {
        const x = AX + p.x, y = AY + p.y;
        const label = p.flags & SNAP_IT ? `${nameOf(p.id)}  IT` : nameOf(p.id);
        text(label, x + 1, y - 37, FONT.bold, "rgba(0,0,0,0.7)", 1);
        text(label, x, y - 38, FONT.bold, p.flags & SNAP_IT ? COL.it : "rgb(235,238,245)", 1);
    }
    if (!st.joined) {
        text(st.closed ? st.closeText : "connecting...", AX + ARENA_W / 2, AY + ARENA_H / 2 - 12, FONT.title,
            "rgb(220,225,240)", 1);
    }
}

function titleBar() {
    text("HIVE ARENA", AX, 14, FONT.title, COL.gold);
    text("a game of tag on the Hive bus", AX + 150, 19, FONT.normal, COL.dim);
    const s = interp.latest();
    const where = url.replace(/\/$/, "");
    const right = st.joined ? `${nameOf(st.myId)}  |  ${where}  |  ${s ? s.players.length : 0} players`
        : `${st.closed ? "disconnected" : "connecting"}  |  ${where}`;
    text(right, W - 16, 19, FONT.normal, COL.text, 2);
}

function scoreboard(y) {
    const s = interp.latest();
    const rows = s ? [...s.players].sort((a, b) => b.score - a.score || a.id - b.id) : [];
    const h = 34 + Math.max(rows.length, 1) * 22 + 8;
    box(PX, y, PW, h);
    text("SCORE", PX + 12, y + 9, FONT.bold, COL.gold);
    text("1 point per second not \"it\"", PX + PW - 12, y + 11, FONT.small, COL.dim, 2);
    let yy = y + 34;
    if (!rows.length) text("nobody yet", PX + 12, yy, FONT.normal, COL.dim);
    for (const r of rows) {
        g.fillStyle = color(r.id);
        g.fillRect(PX + 12, yy + 4, 10, 10);
        const you = r.id === st.myId;
        text(nameOf(r.id) + (you ? " (you)" : ""), PX + 30, yy, you ? FONT.bold : FONT.normal, COL.text);
        if (r.flags & SNAP_IT) text("IT", PX + PW - 70, yy, FONT.bold, COL.it);
        text(String(r.score), PX + PW - 12, yy, FONT.bold, COL.text, 2);
        yy += 22;
    }
    return y + h;
}

function statLine(y, label, value) {
    text(label, PX + 12, y, FONT.normal, COL.dim);
    text(value, PX + PW - 12, y, FONT.bold, COL.text, 2);
}

function rttGraph(x, y, w, h) {
    g.fillStyle = "rgb(16,19,28)";
    g.fillRect(x, y, w, h);
    g.strokeStyle = COL.edge;
    g.lineWidth = 1;
    g.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
    const hist = st.rttHist;
    let top = 2;
    for (const v of hist) top = Math.max(top, v * 1.2);
    g.strokeStyle = "rgb(40,46,64)";
    g.beginPath();
    g.moveTo(x + 1, y + h / 2 + 0.5);
    g.lineTo(x + w - 2, y + h / 2 + 0.5);
    g.stroke();
    text(`${top.toFixed(1)} ms`, x + 4, y + 2, FONT.small, COL.dim);
    if (hist.length < 2) return;
    g.strokeStyle = "rgb(110,220,160)";
    g.beginPath();
    hist.forEach((v, i) => {
        const px = x + w - 2 - (hist.length - 1 - i) * (w - 4) / (RTT_KEEP - 1);
        const py = y + h - 2 - (v / top) * (h - 4);
        if (i === 0) g.moveTo(px, py);
        else g.lineTo(px, py);
    });
    g.stroke();
}

function network(y) {
    const h = 196;
    box(PX, y, PW, h);
    text("NETWORK", PX + 12, y + 9, FONT.bold, COL.gold);
    text(location.protocol === "https:" ? "wss" : "ws", PX + PW - 12, y + 11, FONT.small, COL.dim, 2);
    statLine(y + 32, "round trip", st.rttMs >= 0 ? `${st.rttMs.toFixed(2)} ms` : "-");
    statLine(y + 52, "snapshot loss", `${st.lossPct.toFixed(1)} %`);
    statLine(y + 72, "in", `${st.kbIn.toFixed(1)} kB/s`);
    statLine(y + 92, "out", `${st.kbOut.toFixed(1)} kB/s`);
    rttGraph(PX + 12, y + 118, PW - 24, 66);
    return y + h;
}

function legend(y) {
    const h = H - 12 - y;
    if (h < 60) return;
    box(PX, y, PW, h);
    text("YOU", PX + 12, y + 9, FONT.bold, COL.gold);
    text(`tagged others ${st.myTags}, got tagged ${st.timesTagged}`, PX + 12, y + 30, FONT.normal, COL.text);
    text(`${st.snapshots} snapshots, ${pred.corrections} prediction fixes`, PX + 12, y + 50, FONT.small, COL.dim);
    const rules = ["IT (red ring) chases everyone.", "Touch a player to pass IT on.",
        "The new IT is frozen for a second", "(blue ring): time to run!"];
    const yy = y + 76;
    if (yy + 22 + 4 * 17 > y + h) return;
    text("HOW TO PLAY", PX + 12, yy, FONT.bold, COL.gold);
    rules.forEach((r, i) => text(r, PX + 12, yy + 22 + i * 17, FONT.small, COL.text));
}

function chatBox(now) {
    const x = AX, y = CHAT_Y, w = ARENA_W, h = H - CHAT_Y - 12;
    box(x, y, w, h);
    const lh = 18, fit = Math.floor((h - 30) / lh);
    let yy = y + 6;
    for (const l of st.lines.slice(-fit)) {
        let xx = x + 10;
        if (l.kind === "chat") {
            xx += text(`${l.who}:`, xx, yy, FONT.bold, color(l.from)) + 6;
            text(l.text, xx, yy, FONT.normal, COL.text);
        } else {
            text(l.text, xx, yy, l.kind === "announce" ? FONT.bold : FONT.normal, l.kind === "announce" ? COL.gold : COL.dim);
        }
        yy += lh;
    }
    const iy = y + h - 24;
    g.strokeStyle = COL.edge;
    g.beginPath();
    g.moveTo(x + 1, iy - 2.5);
    g.lineTo(x + w - 2, iy - 2.5);
    g.stroke();
    if (chatOpen) text(`> ${edit}${Math.floor(now / 500) % 2 === 0 ? "_" : ""}`, x + 10, iy, FONT.normal, COL.text);
    else text("Enter: chat   Arrows/WASD: move   Esc: leave", x + 10, iy + 2, FONT.small, COL.dim);
}

let last = performance.now();
function frame(now) {
    /* Whatever one frame meets, the next one is asked for. */
    requestAnimationFrame(frame);
    const dt = Math.min(0.25, (now - last) / 1000);
    last = now;
    interp.advance(dt, Math.round(st.tickHz));
    pred.smooth(dt);
    g.fillStyle = COL.bg;
    g.fillRect(0, 0, W, H);
    drawArena(now);
    titleBar();
    let y = scoreboard(AY);
    y = network(y + 10);
    legend(y + 10);
    chatBox(now);
}

line("system", `Connecting to ${url} ...`);
canvas.focus();
cli.connect(url);
requestAnimationFrame(frame);
