// bench/web_rtt.mjs - the JavaScript client's round trip, for bench-web:
// N sequential echoes of a small message over ws://, then one line
// `rtt_us median=<n> min=<n> max=<n>` on stdout.
//   node --experimental-websocket bench/web_rtt.mjs ws://127.0.0.1:PORT/ N
import { HiveClient } from "../web/hive.js";

const [url, nArg] = process.argv.slice(2);
const n = Number(nArg || 2000);
const cli = new HiveClient();
const samples = [];
let t0 = 0;
cli.bus.subscribe("net:client.recv.bench:echo", () => {
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (samples.length < n) send();
    else finish();
});
cli.bus.subscribe("net:client.handshakecomplete", () => {
    for (let i = 0; i < 50; i++) cli.send("bench:ping", { i });   // warm-up, not echoed
    send();
});
cli.bus.subscribe("net:client.close", (ev) => {
    if (samples.length < n) { console.error("closed early:", ev.reason_name, ev.message); process.exit(1); }
});
function send() {
    t0 = process.hrtime.bigint();
    cli.send("bench:msg", { seq: samples.length, text: "0123456789abcdef0123456789abcdef" });
}
function finish() {
    samples.sort((a, b) => a - b);
    console.log(`rtt_us median=${samples[n >> 1].toFixed(1)} min=${samples[0].toFixed(1)} max=${samples[n - 1].toFixed(1)}`);
    cli.close();
    setTimeout(() => process.exit(0), 100);
}
cli.connect(url);
setTimeout(() => { console.error("timed out"); process.exit(1); }, 60000);
