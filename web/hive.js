/*
 * hive.js - Hive's JavaScript client (ES module, browsers and Node >= 20.10).
 *
 * A second, independent implementation of docs/PROTOCOL.md over ws:// and
 * wss://: the handshake, the registry, heartbeats (ping/pong with round
 * trip), counted frames and their acks, close reasons by stable name, and
 * resume: with reconnectAttempts set, a lost link (the server vanished,
 * or went silent - a laptop lid, a tab the browser put to sleep) dials
 * again and gets the same session back, every reliable message either
 * side sent arriving exactly once and in order. Its events have the C
 * client's names and data, on a small bus with the C bus's wildcard rules:
 *
 *   net:client.connect              {addr}
 *   net:client.handshakecomplete    {cid, session, app_version, registry}
 *   net:client.recv                 {name, pid, msg}
 *   net:client.recv.<name>          {name, pid, msg}
 *   net:client.stats                {cid, rtt_ms, frames_in, frames_out, bytes_in, bytes_out, resumes, unacked}
 *   net:client.reconnecting         {attempt, delay_ms, reason, reason_name, message}
 *   net:client.resumed              {cid, resumes, replayed}
 *   net:client.redirected           {addr, from_cid, cid}
 *   net:client.session.invalidated  {old_cid, cid, reason, reason_name, message, undelivered}
 *   net:client.close                {reason, reason_name, message, remote}
 *
 *   import { HiveClient } from "./hive.js";
 *   const cli = new HiveClient({ app: "arena", reconnectAttempts: 10 });
 *   cli.bus.subscribe("net:client.recv.arena:chat", (ev) => console.log(ev.msg.text));
 *   cli.connect("ws://localhost:8080/");
 *   cli.send("arena:chat", { text: "hi" });      // once open
 *
 * Reconnecting follows the C client: delays grow by reconnectFactor from
 * reconnectDelayMs to reconnectMaxDelayMs with equal jitter; a first dial
 * that fails, and closes either side chose (kicked, a protocol error,
 * close()), never reconnect; an attempt that completes resets the count.
 * Sessions refused a resume come back as new ones, announced by
 * session.invalidated before their handshakecomplete. A session the
 * server moves to another server (a close or a refused resume with reason
 * redirect, docs/PROTOCOL.md "Handoff") follows by itself when it can be
 * resumed (reconnectAttempts set): net:client.redirected, a dial to the
 * new address, then resumed there.
 *
 * Not in this version: compression and large-message pieces (not offered,
 * so the server never sends them), and channels (ws carries one lane).
 *
 * Thread-safety is the browser's: one event loop, no locks.
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
    25: "session_invalid", 26: "bad_shape", 27: "bad_compression", 28: "bad_transfer", 29: "redirect",
};
export const CLOSE = Object.fromEntries(Object.entries(CLOSE_NAMES).map(([k, v]) => [v, Number(k)]));
export function closeName(code) {
    return code >= 1000 ? "application" : CLOSE_NAMES[code] ?? "unknown";
}

const PID = { HELLO: 1, WELCOME: 2, REJECT: 3, READY: 4, CLOSE: 5, PING: 6, PONG: 7, ACK: 8, RESUME: 9, RESUMED: 10 };
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
        this.off = 0;              /* where the next frame starts: frames are read in place */
        this.maxFrame = maxFrame;
    }
    /* Add received bytes; what was already read is dropped here, once per
     * push, so a message packed with small frames costs linear time. */
    push(bytes) {
        const rest = this.buf.length - this.off;
        const b = new Uint8Array(rest + bytes.length);
        b.set(this.buf.subarray(this.off), 0);
        b.set(bytes, rest);
        this.buf = b;
        this.off = 0;
    }
    /* The next whole frame {pid, flags, body, size}, or null. */
    next() {
        const b = this.off ? this.buf.subarray(this.off) : this.buf;
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
        this.off += end;
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

export const STATE = {
    IDLE: "idle", CONNECTING: "connecting", HANDSHAKING: "handshaking", OPEN: "open",
    RECONNECTING: "reconnecting", CLOSING: "closing", CLOSED: "closed",
};

const TOKEN_BYTES = 16;

export class HiveClient {
    /*
     * opts: app ("hive"), appVersion ("0"), conntype ("player"), token
     * (credentials for the server's auth hook), maxFrame (65536),
     * connectTimeoutMs (5000), handshakeTimeoutMs (5000), statsIntervalMs
     * (1000: a round-trip sample and net:client.stats this often; 0 off),
     * reconnectAttempts (0: a lost link ends the client), reconnectDelayMs
     * (250), reconnectMaxDelayMs (10000), reconnectFactor (2),
     * resumeBufferBytes (1 MiB: reliable messages kept until the server
     * acknowledges them), maxBufferedBytes (4 MiB: past this many bytes
     * waiting in the WebSocket, send refuses, as the C client's send
     * queue limit does), bus (a Bus to publish on; a new one by default),
     * WebSocket (the constructor; globalThis.WebSocket by default).
     */
    constructor(opts = {}) {
        this.opts = {
            app: "hive", appVersion: "0", conntype: "player", maxFrame: 65536,
            connectTimeoutMs: 5000, handshakeTimeoutMs: 5000, statsIntervalMs: 1000,
            reconnectAttempts: 0, reconnectDelayMs: 250, reconnectMaxDelayMs: 10000, reconnectFactor: 2,
            resumeBufferBytes: 1 << 20, maxBufferedBytes: 4 << 20, ...opts,
        };
        this.bus = opts.bus ?? new Bus();
        this.WebSocket = opts.WebSocket ?? globalThis.WebSocket;
        this.state = STATE.IDLE;
        this.cid = 0;
        this.rttMs = -1;
        this.resumes = 0;
        this.stats = { framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0 };
    }

    /* Dial url (ws:// or wss://). Events tell the rest; throws only on
     * misuse (already connected, no WebSocket). */
    connect(url) {
        if (this.state !== STATE.IDLE && this.state !== STATE.CLOSED) throw new Error("hive: already connected");
        if (!this.WebSocket) throw new Error("hive: no WebSocket here (Node: run with --experimental-websocket)");
        this.url = url;
        this._newSession();
        this.oldCid = 0;
        this.attempt = 0;
        this.closeInfo = null;
        this._dial();
    }

    /* Send msg (any msgpack-able value) as packet `name`. reliable: true
     * (default) or false. Returns false when it cannot be sent now: not
     * open; more than maxBufferedBytes already waiting in the WebSocket (a
     * link slower than the game's sends: the game should send less); or,
     * while reconnecting, an unreliable message (dropped, as a lossy link
     * would) or a full resume buffer. Reliable messages sent while
     * reconnecting with a session to resume are kept and leave with the
     * resume. */
    send(name, msg, { reliable } = {}) {
        const keep = this._holding();
        if (this.state !== STATE.OPEN && !keep) return false;
        if (this.state === STATE.OPEN && this.ws && this.ws.bufferedAmount > this.opts.maxBufferedBytes) return false;
        const t = this.registry.byName.get(name);
        if (!t) throw new Error(`hive: "${name}" is no packet type of this server's registry`);
        const rel = reliable ?? t.delivery === 0;
        if (!rel) {
            if (keep) return false;
            this.unrelOut++;
            this._sendFrame(t.id, 0, encode(msg));
            return true;
        }
        const f = encodeFrame(t.id, FLAG_COUNTED, encode(msg));
        if (keep && this.replayBytes + f.length > this.opts.resumeBufferBytes) return false;
        this.countedOut++;
        this._keep(f);
        if (!keep) this._sendBytes(f);
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

    /* Between links of a session that a resume can bring back: reliable
     * sends are kept for it (as the C client's). */
    _holding() {
        return (this.state === STATE.RECONNECTING || this.state === STATE.CONNECTING || this.state === STATE.HANDSHAKING) &&
            this.cid > 0 && this.resumeToken !== null && !this.replayLost;
    }

    /* What a session keeps across links. */
    _newSession() {
        clearTimeout(this.ackTimer);
        this.ackTimer = null;
        this.resumes = 0;
        this.registry = { byName: new Map(), byId: new Map() };
        this.cid = 0;
        this.resumeToken = null;
        this.countedIn = 0;
        this.ackedIn = 0;
        this.unackedBytes = 0;
        this.countedOut = 0;
        this.peerAcked = 0;
        this.replay = [];          /* counted frames the server has not acknowledged: {n, f} */
        this.replayBytes = 0;
        this.replayLost = false;   /* the buffer had to drop one: no resume */
        this.unrelOut = 0;
    }

    _keep(f) {
        this.replay.push({ n: this.countedOut, f });
        this.replayBytes += f.length;
        while (this.replayBytes > this.opts.resumeBufferBytes && this.replay.length) {
            this.replayBytes -= this.replay.shift().f.length;
            this.replayLost = true;
        }
    }

    _acked(n) {
        this.peerAcked = n;
        while (this.replay.length && this.replay[0].n <= n) this.replayBytes -= this.replay.shift().f.length;
        if (!this.replay.length || this.replay[0].n === n + 1) this.replayLost = false;
    }

    _dial() {
        this.state = STATE.CONNECTING;
        this.reader = new FrameReader(this.opts.maxFrame);
        this.lastRx = this.lastTx = this.lastPing = this.lastStats = Date.now();
        const ws = new this.WebSocket(this.url);
        ws.binaryType = "arraybuffer";
        this.ws = ws;
        this.bus.publish("net:client.connect", { addr: this.url });
        this.timer = setTimeout(() => this._linkFailed(CLOSE.connect_failed, "the server did not answer in time"),
            this.opts.connectTimeoutMs);
        ws.onopen = () => { if (this.ws === ws) this._onOpen(); };
        ws.onmessage = (m) => { if (this.ws === ws) this._onMessage(m.data); };
        ws.onerror = () => {};
        ws.onclose = (e) => { if (this.ws === ws) this._onWsClose(e); };
    }

    _sendBytes(f) {
        this.stats.framesOut++;
        this.stats.bytesOut += f.length;
        this.lastTx = Date.now();
        /* A socket that is closing takes nothing (browsers log each try);
         * onclose tells the rest. */
        if (!this.ws || this.ws.readyState !== 1) return;
        try {
            this.ws.send(f);
        } catch {
            /* closing under us: onclose reports */
        }
    }

    _sendFrame(pid, flags, body) {
        this._sendBytes(encodeFrame(pid, flags, body));
    }

    _onOpen() {
        clearTimeout(this.timer);
        this.state = STATE.HANDSHAKING;
        this.resuming = this.resumeToken !== null && !this.replayLost;
        if (this.resuming) {
            this._sendFrame(PID.RESUME, 0, encode({
                magic: "HIVE", proto: PROTOCOL_VERSION, app: this.opts.app, cid: this.cid,
                token: this.resumeToken, recv: this.countedIn, max_frame: this.opts.maxFrame,
            }));
        } else {
            const hello = {
                magic: "HIVE", proto: PROTOCOL_VERSION, app: this.opts.app, app_version: this.opts.appVersion,
                conntype: this.opts.conntype, max_frame: this.opts.maxFrame, resume: this.opts.reconnectAttempts > 0,
            };
            if (this.opts.token !== undefined) hello.token = this.opts.token;
            this._sendFrame(PID.HELLO, 0, encode(hello));
        }
        this.timer = setTimeout(() => this._linkFailed(CLOSE.handshake_timeout, "no answer to the handshake in time"),
            this.opts.handshakeTimeoutMs);
    }

    _onMessage(data) {
        if (this.state !== STATE.HANDSHAKING && this.state !== STATE.OPEN) return;
        const bytes = new Uint8Array(data);
        this.stats.bytesIn += bytes.length;
        this.lastRx = Date.now();
        this.reader.push(bytes);
        const ws = this.ws;
        try {
            for (let f; (f = this.reader.next());) {
                this.stats.framesIn++;
                this._onFrame(f);
                if (this.ws !== ws || (this.state !== STATE.HANDSHAKING && this.state !== STATE.OPEN)) return;
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
            if (!this.resuming && f.pid === PID.WELCOME) return this._onWelcome(body);
            if (this.resuming && f.pid === PID.RESUMED) return this._onResumed(body);
            if (f.pid === PID.REJECT || f.pid === PID.CLOSE) return this._onReject(body);
            throw new ProtocolError(f.pid < 64 && f.pid > 15 ? "unknown_packet" : "unexpected_packet", `pid ${f.pid} before the handshake ended`);
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
        case PID.ACK: {
            const n = Array.isArray(body) && body.length === 1 ? body[0] : body;
            if (!Number.isInteger(n) || n < this.peerAcked || n > this.countedOut)
                throw new ProtocolError("bad_frame", "an ack backwards or past what was sent");
            this._acked(n);
            return;
        }
        case PID.WELCOME: case PID.REJECT: case PID.HELLO: case PID.READY: case PID.RESUME: case PID.RESUMED:
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
        const token = w.resume_token;
        if (token !== undefined && !(token instanceof Uint8Array && token.length === TOKEN_BYTES))
            throw new ProtocolError("bad_handshake", "resume_token is not 16 bytes");
        const registry = parseRegistry(w.registry);
        clearTimeout(this.timer);
        /* A link that was lost and came back as a new session (resume off,
         * or refused): what the game knew of the old one is void. */
        if (this.oldCid) {
            this.bus.publish("net:client.session.invalidated", {
                old_cid: this.oldCid, cid: w.cid, reason: CLOSE.session_invalid, reason_name: "session_invalid",
                message: "the server offered no resume", undelivered: 0,
            });
            this.oldCid = 0;
        }
        this._newSession();
        this.registry = registry;
        this.cid = w.cid;
        this.session = w.session;
        this.resumeToken = this.opts.reconnectAttempts > 0 && token ? token : null;
        this.heartbeatMs = w.heartbeat_ms;
        this.heartbeatTimeoutMs = w.heartbeat_timeout_ms;
        this.peerMaxFrame = w.max_frame;
        this._sendFrame(PID.READY, 0, encode({}));
        this._opened();
        this.bus.publish("net:client.handshakecomplete", {
            cid: w.cid, session: w.session, app_version: w.app_version ?? "", registry: [...this.registry.byName.keys()],
        });
    }

    _onResumed(r) {
        let why = null;
        if (typeof r !== "object" || r === null || r.cid !== this.cid || !(r.token instanceof Uint8Array) ||
            r.token.length !== TOKEN_BYTES || !Number.isInteger(r.recv) || r.recv_lanes !== undefined)
            why = "a resumed that does not fit the session";
        else if (r.recv < this.peerAcked || r.recv > this.countedOut || (this.replay.length && this.replay[0].n > r.recv + 1) ||
            (!this.replay.length && r.recv !== this.countedOut))
            why = "the server lacks what this side no longer holds";
        if (why) {
            /* The session cannot go on: say so on this link, then a fresh
             * handshake on a new one (as the C client does). */
            this._sendFrame(PID.CLOSE, 0, encode({ reason: CLOSE.session_invalid, name: "session_invalid", message: why }));
            this._invalidate(why);
            this._dropLink();
            this._dial();
            return;
        }
        clearTimeout(this.timer);
        this.resumeToken = r.token;
        this._acked(r.recv);
        /* What the server missed, in order, then an ack: it shows the server
         * that resumed arrived (and so retires the token we used). */
        const again = this.replay.length;
        for (const e of this.replay) this._sendBytes(e.f);
        this.ackedIn = -1;
        this._opened();
        this._ack();
        this.resumes++;
        this.lateRedirects = 0;
        this.bus.publish("net:client.resumed", { cid: this.cid, resumes: this.resumes, replayed: again });
    }

    _opened() {
        this.state = STATE.OPEN;
        this.attempt = 0;
        clearInterval(this.hb);
        this.hb = setInterval(() => this._heartbeat(), Math.max(20, Math.min(this.heartbeatMs, 1000) / 2));
        this._ping();
    }

    _clockUs() {
        return Math.floor((globalThis.performance?.now?.() ?? Date.now()) * 1000);
    }

    _ping() {
        this.lastPing = Date.now();
        this._sendFrame(PID.PING, 0, encode([this._clockUs(), this.unrelOut]));
    }

    _heartbeat() {
        const now = Date.now();
        if (now - this.lastRx > this.heartbeatTimeoutMs) {
            this._linkLost(CLOSE.timeout, "no sign of life from the server in time");
            return;
        }
        /* A ping when silent, and one per stats interval anyway, so a busy
         * link still measures its round trip. */
        const every = this.opts.statsIntervalMs;
        if (now - this.lastTx >= this.heartbeatMs || (every > 0 && now - this.lastPing >= every)) this._ping();
        if (every > 0 && now - this.lastStats >= every) {
            this.lastStats = now;
            this.bus.publish("net:client.stats", {
                cid: this.cid, rtt_ms: this.rttMs, frames_in: this.stats.framesIn, frames_out: this.stats.framesOut,
                bytes_in: this.stats.bytesIn, bytes_out: this.stats.bytesOut, resumes: this.resumes,
                unacked: this.replay.length,
            });
        }
    }

    _onReject(body) {
        const reason = body && Number.isInteger(body.reason) ? body.reason : CLOSE.bad_handshake;
        const message = body && typeof body.message === "string" ? body.message : "";
        if (this.resuming && reason === CLOSE.redirect && this._followRedirect(body, true)) return;
        if (this.resuming && (reason === CLOSE.session_invalid || reason === CLOSE.redirect)) {
            /* The session is gone: a fresh handshake on a new link. */
            this._invalidate(message);
            this._dropLink();
            this._dial();
            return;
        }
        this._finish(reason, message, 1);
    }

    /* The session is gone for good: what the game knew of it is void, and
     * the reliable messages it still held are lost with it. */
    _invalidate(message) {
        const old = this.cid, undelivered = this.replay.length;
        this.resumeToken = null;
        this.oldCid = 0;
        this.bus.publish("net:client.session.invalidated", {
            old_cid: old, cid: 0, reason: CLOSE.session_invalid, reason_name: "session_invalid",
            message: message || "the server refused the resume", undelivered,
        });
    }

    /* Where a redirect sends the session: the URL to dial, or null when
     * it cannot be followed (malformed; another transport than ours). A
     * bare host:port is dialed with this link's scheme and path. */
    _redirectUrl(body) {
        if (typeof body.to !== "string" || !body.to.length || body.to.length > 255 || !Number.isInteger(body.to_cid) ||
            body.to_cid < 1 || body.to_cid > 0xffffffff || !(body.to_token instanceof Uint8Array) ||
            body.to_token.length !== TOKEN_BYTES)
            return null;
        try {
            const cur = new URL(this.url);
            if (!body.to.includes("://")) return new URL(`${cur.protocol}//${body.to}${cur.pathname}${cur.search}`).href;
            const to = new URL(body.to);
            return to.protocol === cur.protocol ? to.href : null;
        } catch {
            return null;
        }
    }

    /* The server moved the session (HANDOFF): keep it, go where the close
     * (or, late, a refused resume) said, resume there. False when it
     * cannot be followed: no session to resume, a bad target, or a fifth
     * late redirect in a row (servers pointing round in a circle). */
    _followRedirect(body, late) {
        if (this.opts.reconnectAttempts <= 0 || this.resumeToken === null || this.replayLost) return false;
        if (late && this.lateRedirects >= 4) return false;
        const url = this._redirectUrl(body);
        if (!url) return false;
        /* the source's final acknowledgement */
        if (Number.isInteger(body.received) && body.received >= this.peerAcked && body.received <= this.countedOut)
            this._acked(body.received);
        const from = this.cid;
        this.lateRedirects = late ? (this.lateRedirects ?? 0) + 1 : 0;
        this.cid = body.to_cid;
        this.resumeToken = body.to_token;
        this.url = url;
        this._dropLink();
        this.state = STATE.RECONNECTING;
        this.attempt = 1;   /* failing to get there is a loss like any other */
        this.bus.publish("net:client.redirected", { addr: url, from_cid: from, cid: this.cid });
        this.timer = setTimeout(() => this._dial(), 1);
        return true;
    }

    _onPeerClose(body) {
        if (body && body.reason === CLOSE.redirect && this._followRedirect(body, false)) return;
        const reason = body && Number.isInteger(body.reason) ? body.reason : CLOSE.bad_handshake;
        this._finish(reason, body && typeof body.message === "string" ? body.message : "", 1);
    }

    _dropLink() {
        clearTimeout(this.timer);
        clearTimeout(this.ackTimer);
        this.ackTimer = null;
        clearInterval(this.hb);
        const ws = this.ws;
        this.ws = null;
        try {
            ws.close(1000);
        } catch {
            /* already closed */
        }
    }

    /* An open link was lost (the peer vanished, or went silent). */
    _linkLost(reason, message) {
        if (this.opts.reconnectAttempts > 0) this._reconnect(reason, message);
        else this._finish(reason, message, 1);
    }

    /* A dial, or its handshake, failed. While reconnecting that is one
     * more attempt; otherwise the end. */
    _linkFailed(reason, message) {
        if (this.cid || this.attempt > 0) this._reconnect(reason, message);
        else this._finish(reason, message, 0);
    }

    _reconnect(reason, message) {
        this._dropLink();
        if (this.attempt >= this.opts.reconnectAttempts) {
            /* Out of attempts: the close carries the last one's reason. */
            this._finish(reason, message, reason === CLOSE.peer_vanished || reason === CLOSE.timeout ? 1 : 0);
            return;
        }
        this.attempt++;
        /* A replay buffer that had to drop an unacknowledged message cannot
         * make a resume whole: the session ends here, said out loud. */
        if (this.resumeToken && this.replayLost) this._invalidate("the resume buffer dropped unacknowledged messages");
        if (!this.resumeToken && !this.oldCid && this.cid) this.oldCid = this.cid;   /* no resume offered */
        this.state = STATE.RECONNECTING;
        /* Equal jitter: a floor of half the backoff, the rest random. */
        const o = this.opts;
        const base = Math.min(o.reconnectMaxDelayMs, o.reconnectDelayMs * o.reconnectFactor ** (this.attempt - 1));
        const delay = Math.round(base / 2 + Math.random() * base / 2);
        this.bus.publish("net:client.reconnecting", {
            attempt: this.attempt, delay_ms: delay, reason, reason_name: closeName(reason), message,
        });
        this.timer = setTimeout(() => this._dial(), delay);
    }

    _onWsClose(e) {
        if (this.state === STATE.CLOSED) return;
        if (this.state === STATE.CLOSING) {
            this._report();
            return;
        }
        const why = `WebSocket closed (${e.code})`;
        if (this.state === STATE.CONNECTING) this._linkFailed(CLOSE.connect_failed, why);
        else if (this.state === STATE.HANDSHAKING) this._linkFailed(CLOSE.peer_vanished, why);
        else this._linkLost(CLOSE.peer_vanished, why);
    }

    _finish(reason, message, remote) {
        if (this.state === STATE.CLOSED || this.state === STATE.CLOSING) return;
        clearTimeout(this.timer);
        clearTimeout(this.ackTimer);
        this.ackTimer = null;
        clearInterval(this.hb);
        this.closeInfo = { reason, reason_name: closeName(reason), message: message ?? "", remote };
        const ws = this.ws;
        const noLink = !ws || this.state === STATE.CONNECTING || this.state === STATE.RECONNECTING;
        this.state = STATE.CLOSING;
        try {
            /* The close frame queued before this leaves first (RFC 6455). */
            ws?.close(1000);
        } catch {
            /* already closed */
        }
        /* Report once the WebSocket is closed, or at once if there is none. */
        this.closeTimer = setTimeout(() => this._report(), 3000);
        if (noLink || ws.readyState === 3) this._report();
    }

    _report() {
        if (this.state === STATE.CLOSED) return;
        clearTimeout(this.closeTimer);
        this.state = STATE.CLOSED;
        this.bus.publish("net:client.close", this.closeInfo);
    }
}
