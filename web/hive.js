/*
 * hive.js - Hive's JavaScript client (ES module, browsers and Node >= 20.10).
 *
 * A second, independent implementation of docs/PROTOCOL.md over ws:// and
 * wss://: the handshake, the registry, heartbeats (ping/pong with round
 * trip), counted frames and their acks, close reasons by stable name. Its
 * events have the C client's names and data, on a small bus with the C
 * bus's wildcard rules:
 *
 *   net:client.connect            {addr}
 *   net:client.handshakecomplete  {cid, session, app_version, registry}
 *   net:client.recv               {name, pid, msg}
 *   net:client.recv.<name>        {name, pid, msg}
 *   net:client.close              {reason, reason_name, message, remote}
 *
 *   import { HiveClient } from "./hive.js";
 *   const cli = new HiveClient({ app: "arena" });
 *   cli.bus.subscribe("net:client.recv.arena:chat", (ev) => console.log(ev.msg.text));
 *   cli.connect("ws://localhost:8080/");
 *   cli.send("arena:chat", { text: "hi" });      // once open
 *
 * Not in this version: resume after a lost link (the hello says
 * resume: false, so the server keeps no session for it), compression and
 * large-message pieces (not offered, so the server never sends them).
 */
import { encode, decode } from "@msgpack/msgpack";

export const PROTOCOL_VERSION = 2;

/* Close reasons: code -> stable name (docs/PROTOCOL.md, Close). */
export const CLOSE_NAMES = {
    0: "normal", 1: "server_shutdown", 2: "timeout", 3: "handshake_timeout", 4: "proto_mismatch",
    5: "bad_magic", 6: "bad_handshake", 7: "bad_frame", 8: "frame_too_large", 9: "bad_msgpack",
    10: "unknown_packet", 11: "unexpected_packet", 12: "auth_failed", 13: "server_full",
    14: "app_mismatch", 15: "tls_error", 16: "kicked", 17: "peer_vanished", 18: "connect_failed",
    19: "no_memory", 20: "slow_consumer", 21: "rate_limited", 22: "slow_sender", 23: "busy",
    25: "session_invalid", 26: "bad_shape", 27: "bad_compression", 28: "bad_transfer",
};
export const CLOSE = Object.fromEntries(Object.entries(CLOSE_NAMES).map(([k, v]) => [v, Number(k)]));
export function closeName(code) {
    return code >= 1000 ? "application" : CLOSE_NAMES[code] ?? "unknown";
}

const PID = { HELLO: 1, WELCOME: 2, REJECT: 3, READY: 4, CLOSE: 5, PING: 6, PONG: 7, ACK: 8 };
const FLAG_COMPRESSED = 0x01, FLAG_COUNTED = 0x02;
const MIN_MAX_FRAME = 8192;
const ACK_BYTES = 32768, ACK_MS = 50;

/* ------------------------------------------------------------------ */
/* The bus: `*` matches one segment, `**` one or more; segments are      */
/* separated by ':' or '.'.                                             */

function segments(name) {
    return name.split(/[:.]/);
}

function matchSegs(p, i, n, j) {
    if (i === p.length) return j === n.length;
    if (p[i] === "**") {
        for (let k = j + 1; k <= n.length; k++) if (matchSegs(p, i + 1, n, k)) return true;
        return false;
    }
    if (j === n.length) return false;
    return (p[i] === "*" || p[i] === n[j]) && matchSegs(p, i + 1, n, j + 1);
}

export function patternMatches(pattern, name) {
    return matchSegs(segments(pattern), 0, segments(name), 0);
}

export class Bus {
    constructor() {
        this.subs = [];
        this.nextId = 1;
    }
    /* Returns an id for unsubscribe. Handlers get (event) where event is
     * the data object with `name` added. */
    subscribe(pattern, fn) {
        const id = this.nextId++;
        this.subs.push({ id, pattern, fn, exact: !pattern.includes("*") });
        return id;
    }
    unsubscribe(id) {
        this.subs = this.subs.filter((s) => s.id !== id);
    }
    publish(name, data = {}) {
        const ev = { ...data, name: data.name ?? name, event: name };
        for (const s of this.subs.slice()) {
            if (s.exact ? s.pattern === name : patternMatches(s.pattern, name)) s.fn(ev);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Frames (docs/PROTOCOL.md, Wire: Frames and Varints)                  */

export function varintEncode(v, out) {
    do {
        let b = v & 0x7f;
        v = Math.floor(v / 128);
        if (v) b |= 0x80;
        out.push(b);
    } while (v);
    return out;
}

/* {value, size} or null when incomplete; throws "bad_frame" when invalid. */
export function varintDecode(buf, off, end) {
    let v = 0, mul = 1;
    for (let i = 0; i < 5; i++) {
        if (off + i >= end) return null;
        const b = buf[off + i];
        if (i === 4 && (b & 0x80 || b > 0x0f)) throw new ProtocolError("bad_frame", "varint too long");
        v += (b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80)) return { value: v, size: i + 1 };
    }
    throw new ProtocolError("bad_frame", "varint too long");
}

export class ProtocolError extends Error {
    constructor(reason, message) {
        super(message);
        this.reason = reason;
    }
}

export function encodeFrame(pid, flags, body) {
    const head = varintEncode(pid, []);
    head.push(flags);
    const len = varintEncode(head.length + body.length, []);
    const out = new Uint8Array(len.length + head.length + body.length);
    out.set(len, 0);
    out.set(head, len.length);
    out.set(body, len.length + head.length);
    return out;
}

/* Reassembles frames from a byte stream (WebSocket messages may split or
 * pack them in any way). */
export class FrameReader {
    constructor(maxFrame) {
        this.buf = new Uint8Array(0);
        this.maxFrame = maxFrame;
    }
    push(bytes) {
        const b = new Uint8Array(this.buf.length + bytes.length);
        b.set(this.buf, 0);
        b.set(bytes, this.buf.length);
        this.buf = b;
    }
    /* The next whole frame {pid, flags, body, size}, or null. */
    next() {
        const b = this.buf;
        const len = varintDecode(b, 0, b.length);
        if (!len) return null;
        if (len.value < 2) throw new ProtocolError("bad_frame", "length below 2");
        if (len.value > this.maxFrame) throw new ProtocolError("frame_too_large", `frame of ${len.value} bytes`);
        const end = len.size + len.value;
        const pid = varintDecode(b, len.size, Math.min(end, b.length));
        if (!pid) {
            if (b.length >= end) throw new ProtocolError("bad_frame", "pid runs past the frame");
            return null;
        }
        if (pid.size >= len.value) throw new ProtocolError("bad_frame", "no flags byte");
        if (b.length < len.size + pid.size + 1) return null;
        const flags = b[len.size + pid.size];
        if (flags & ~(FLAG_COMPRESSED | FLAG_COUNTED)) throw new ProtocolError("bad_frame", "unknown flags");
        if (b.length < end) return null;
        const body = b.slice(len.size + pid.size + 1, end);
        this.buf = b.slice(end);
        return { pid: pid.value, flags, body, size: end };
    }
}

function decodeBody(body) {
    try {
        return decode(body);
    } catch (e) {
        throw new ProtocolError("bad_msgpack", String(e.message || e));
    }
}

/* The registry table {name: id | [id, delivery] | [id, delivery, channel]}. */
function parseRegistry(reg) {
    if (typeof reg !== "object" || reg === null || Array.isArray(reg))
        throw new ProtocolError("bad_handshake", "registry is not a map");
    const byName = new Map(), byId = new Map();
    for (const [name, entry] of Object.entries(reg)) {
        let id = entry, delivery = 0;
        if (Array.isArray(entry)) {
            if (entry.length < 2 || entry.length > 3) throw new ProtocolError("bad_handshake", "bad registry entry");
            [id, delivery] = entry;
        }
        if (!Number.isInteger(id) || id < 64 || id > 16777215 || ![0, 1, 2].includes(delivery))
            throw new ProtocolError("bad_handshake", `bad registry entry for ${name}`);
        if (byId.has(id)) throw new ProtocolError("bad_handshake", `id ${id} twice`);
        byName.set(name, { id, delivery });
        byId.set(id, name);
    }
    return { byName, byId };
}

/* ------------------------------------------------------------------ */
/* The client                                                          */

export const STATE = { IDLE: "idle", CONNECTING: "connecting", HANDSHAKING: "handshaking", OPEN: "open", CLOSING: "closing", CLOSED: "closed" };

export class HiveClient {
    /*
     * opts: app ("hive"), appVersion ("0"), conntype ("player"), token
     * (credentials for the server's auth hook), maxFrame (65536),
     * connectTimeoutMs (5000), handshakeTimeoutMs (5000), bus (a Bus to
     * publish on; a new one by default), WebSocket (the constructor;
     * globalThis.WebSocket by default).
     */
    constructor(opts = {}) {
        this.opts = {
            app: "hive", appVersion: "0", conntype: "player", maxFrame: 65536,
            connectTimeoutMs: 5000, handshakeTimeoutMs: 5000, ...opts,
        };
        this.bus = opts.bus ?? new Bus();
        this.WebSocket = opts.WebSocket ?? globalThis.WebSocket;
        this.state = STATE.IDLE;
        this.cid = 0;
        this.rttMs = -1;
        this.stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
    }

    connect(url) {
        if (this.state !== STATE.IDLE && this.state !== STATE.CLOSED) throw new Error("hive: already connected");
        if (!this.WebSocket) throw new Error("hive: no WebSocket here (Node: run with --experimental-websocket)");
        this.url = url;
        this.state = STATE.CONNECTING;
        this.reader = new FrameReader(this.opts.maxFrame);
        this.registry = { byName: new Map(), byId: new Map() };
        this.countedIn = 0;
        this.ackedIn = 0;
        this.unackedBytes = 0;
        this.countedOut = 0;
        this.unrelOut = 0;
        this.closeInfo = null;
        this.lastRx = this.lastTx = Date.now();
        const ws = new this.WebSocket(url);
        ws.binaryType = "arraybuffer";
        this.ws = ws;
        this.bus.publish("net:client.connect", { addr: url });
        this.timer = setTimeout(() => this._fail("connect_failed", "the server did not answer in time", 0), this.opts.connectTimeoutMs);
        ws.onopen = () => this._onOpen();
        ws.onmessage = (m) => this._onMessage(m.data);
        ws.onerror = () => {};
        ws.onclose = (e) => this._onWsClose(e);
    }

    /* Send msg (any msgpack-able value) as packet `name`. reliable: true
     * (default) or false. Returns false when it cannot be sent now. */
    send(name, msg, { reliable } = {}) {
        if (this.state !== STATE.OPEN) return false;
        const t = this.registry.byName.get(name);
        if (!t) throw new Error(`hive: "${name}" is no packet type of this server's registry`);
        const rel = reliable ?? t.delivery === 0;
        const body = encode(msg);
        if (rel) this.countedOut++;
        else this.unrelOut++;
        this._sendFrame(t.id, rel ? FLAG_COUNTED : 0, body);
        return true;
    }

    /* Close with reason (0 = normal, or an application code >= 1000). */
    close(reason = 0, message = "") {
        if (this.state === STATE.CLOSED || this.state === STATE.CLOSING || this.state === STATE.IDLE) return;
        if (this.state === STATE.OPEN || this.state === STATE.HANDSHAKING) {
            const body = { reason, name: closeName(reason), message: String(message).slice(0, 255) };
            if (this.state === STATE.OPEN) body.received = this.countedIn;
            this._sendFrame(PID.CLOSE, 0, encode(body));
        }
        this._finish(reason, message, 0);
    }

    /* ---- internals ---- */

    _sendFrame(pid, flags, body) {
        const f = encodeFrame(pid, flags, body);
        this.stats.framesOut++;
        this.stats.bytesOut += f.length;
        this.lastTx = Date.now();
        try {
            this.ws.send(f);
        } catch {
            /* the socket is closing: onclose reports */
        }
    }

    _onOpen() {
        clearTimeout(this.timer);
        this.state = STATE.HANDSHAKING;
        const hello = {
            magic: "HIVE", proto: PROTOCOL_VERSION, app: this.opts.app, app_version: this.opts.appVersion,
            conntype: this.opts.conntype, max_frame: this.opts.maxFrame, resume: false,
        };
        if (this.opts.token !== undefined) hello.token = this.opts.token;
        this._sendFrame(PID.HELLO, 0, encode(hello));
        this.timer = setTimeout(() => this._fail("handshake_timeout", "no welcome in time", 0), this.opts.handshakeTimeoutMs);
    }

    _onMessage(data) {
        if (this.state === STATE.CLOSED || this.state === STATE.CLOSING) return;
        const bytes = new Uint8Array(data);
        this.stats.bytesIn += bytes.length;
        this.lastRx = Date.now();
        this.reader.push(bytes);
        try {
            for (let f; (f = this.reader.next());) {
                this.stats.framesIn++;
                this._onFrame(f);
                if (this.state === STATE.CLOSED || this.state === STATE.CLOSING) return;
            }
        } catch (e) {
            if (e instanceof ProtocolError) this._violation(e.reason, e.message);
            else throw e;
        }
    }

    _violation(reason, message) {
        /* Frame-level violations are told to the peer, then the link ends. */
        const code = CLOSE[reason];
        this._sendFrame(PID.CLOSE, 0, encode({ reason: code, name: reason, message }));
        this._finish(code, message, 0);
    }

    _onFrame(f) {
        if (f.flags & FLAG_COMPRESSED) throw new ProtocolError("bad_frame", "compression was not agreed");
        if ((f.flags & FLAG_COUNTED) && f.pid < 64) throw new ProtocolError("bad_frame", "counted Hive packet");
        const body = decodeBody(f.body);
        if (this.state === STATE.HANDSHAKING) {
            if (f.pid === PID.WELCOME) return this._onWelcome(body);
            if (f.pid === PID.REJECT || f.pid === PID.CLOSE) return this._onPeerClose(body);
            throw new ProtocolError(f.pid < 64 && f.pid > 15 ? "unknown_packet" : "unexpected_packet", `pid ${f.pid} before the welcome`);
        }
        switch (f.pid) {
        case PID.CLOSE: return this._onPeerClose(body);
        case PID.PING: this._sendFrame(PID.PONG, 0, f.body); return;
        case PID.PONG: {
            const t = Array.isArray(body) ? body[0] : body;
            const now = this._clockUs();
            if (typeof t === "number" && t <= now && now - t < 60e6) {
                const rtt = (now - t) / 1000;
                this.rttMs = this.rttMs < 0 ? rtt : this.rttMs * 0.875 + rtt * 0.125;
            }
            return;
        }
        case PID.ACK: return;   /* we keep no replay buffer: nothing to free */
        case PID.WELCOME: case PID.REJECT: case PID.HELLO: case PID.READY:
            throw new ProtocolError("unexpected_packet", `pid ${f.pid} after the handshake`);
        }
        if (f.pid < 64) {
            if (f.pid <= 15) return;   /* a Hive packet we never asked for (remote events...): ignored */
            throw new ProtocolError("unknown_packet", `pid ${f.pid}`);
        }
        const name = this.registry.byId.get(f.pid);
        if (!name) throw new ProtocolError("unknown_packet", `pid ${f.pid} is in no table`);
        if (f.flags & FLAG_COUNTED) {
            this.countedIn++;
            this.unackedBytes += f.size;
            if (this.unackedBytes >= ACK_BYTES) this._ack();
            else if (!this.ackTimer) this.ackTimer = setTimeout(() => this._ack(), ACK_MS);
        }
        const ev = { name, pid: f.pid, msg: body };
        this.bus.publish("net:client.recv", ev);
        this.bus.publish(`net:client.recv.${name}`, ev);
    }

    _ack() {
        clearTimeout(this.ackTimer);
        this.ackTimer = null;
        if (this.state !== STATE.OPEN || this.countedIn === this.ackedIn) return;
        this.ackedIn = this.countedIn;
        this.unackedBytes = 0;
        this._sendFrame(PID.ACK, 0, encode(this.countedIn));
    }

    _onWelcome(w) {
        if (typeof w !== "object" || w === null) throw new ProtocolError("bad_handshake", "welcome is not a map");
        if (w.proto !== PROTOCOL_VERSION) throw new ProtocolError("proto_mismatch", `server speaks ${w.proto}`);
        if (!(w.cid > 0) || !(w.heartbeat_ms > 0) || !(w.heartbeat_timeout_ms > w.heartbeat_ms) || !(w.max_frame >= MIN_MAX_FRAME))
            throw new ProtocolError("bad_handshake", "welcome lacks cid, heartbeat or max_frame");
        if (w.pieces === true || w.compress !== undefined) throw new ProtocolError("bad_handshake", "agreed to what was not offered");
        this.registry = parseRegistry(w.registry);
        clearTimeout(this.timer);
        this.cid = w.cid;
        this.session = w.session;
        this.heartbeatMs = w.heartbeat_ms;
        this.heartbeatTimeoutMs = w.heartbeat_timeout_ms;
        this.peerMaxFrame = w.max_frame;
        this._sendFrame(PID.READY, 0, encode({}));
        this.state = STATE.OPEN;
        this.hb = setInterval(() => this._heartbeat(), Math.max(20, Math.min(this.heartbeatMs, 1000) / 2));
        this._ping();
        this.bus.publish("net:client.handshakecomplete", {
            cid: w.cid, session: w.session, app_version: w.app_version ?? "", registry: [...this.registry.byName.keys()],
        });
    }

    _clockUs() {
        return Math.floor((globalThis.performance?.now?.() ?? Date.now()) * 1000);
    }

    _ping() {
        this._sendFrame(PID.PING, 0, encode([this._clockUs(), this.unrelOut]));
    }

    _heartbeat() {
        const now = Date.now();
        if (now - this.lastRx > this.heartbeatTimeoutMs) {
            this._finish(CLOSE.timeout, "no sign of life from the server in time", 1);
            return;
        }
        if (now - this.lastTx >= this.heartbeatMs) this._ping();
    }

    _onPeerClose(body) {
        const reason = body && Number.isInteger(body.reason) ? body.reason : CLOSE.bad_handshake;
        this._finish(reason, body && typeof body.message === "string" ? body.message : "", 1);
    }

    _fail(reason, message, remote) {
        this._finish(CLOSE[reason], message, remote);
    }

    _onWsClose(e) {
        if (this.state === STATE.CLOSED) return;
        if (this.state === STATE.CLOSING) {
            this._report();
            return;
        }
        if (this.state === STATE.CONNECTING) this._finish(CLOSE.connect_failed, `WebSocket closed (${e.code})`, 0);
        else this._finish(CLOSE.peer_vanished, `WebSocket closed (${e.code})`, 1);
    }

    _finish(reason, message, remote) {
        if (this.state === STATE.CLOSED || this.state === STATE.CLOSING) return;
        clearTimeout(this.timer);
        clearTimeout(this.ackTimer);
        clearInterval(this.hb);
        this.closeInfo = { reason, reason_name: closeName(reason), message: message ?? "", remote };
        const neverOpened = this.state === STATE.CONNECTING;
        this.state = STATE.CLOSING;
        try {
            /* The close frame queued before this leaves first (RFC 6455). */
            this.ws.close(1000);
        } catch {
            /* already closed */
        }
        /* Report once the WebSocket is closed, or at once if it never opens. */
        this.closeTimer = setTimeout(() => this._report(), 3000);
        if (neverOpened || this.ws.readyState === 3) this._report();
    }

    _report() {
        if (this.state === STATE.CLOSED) return;
        clearTimeout(this.closeTimer);
        this.state = STATE.CLOSED;
        this.bus.publish("net:client.close", this.closeInfo);
    }
}
