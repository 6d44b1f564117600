/*
 * arena_browser.mjs URL SHOT - a player in a real browser: headless
 * Chromium (Debian's, driven by puppeteer-core) opens the web arena at
 * URL, joins, walks, chats, takes a screenshot into SHOT and leaves with
 * Escape. Prints one line for tests/demo/test_browser.c,
 *
 *   hive-arena-browser joined=1 snapshots=N others=N moved=N chat_echo=1 ...
 *
 * and exits 0 when the page saw everything a player should, 1 otherwise
 * (with the reason). HIVE_CHROMIUM names the browser (default
 * /usr/bin/chromium).
 */
import { createRequire } from "node:module";

/* puppeteer-core is a development dependency of web/ (its lockfile). */
const require = createRequire(new URL("../../web/package.json", import.meta.url));
const puppeteer = require("puppeteer-core");

const [url, shot] = process.argv.slice(2);
if (!url || !shot) {
    console.error("usage: node arena_browser.mjs URL SCREENSHOT.png");
    process.exit(2);
}
const fail = (why) => {
    console.log(`hive-arena-browser FAILED: ${why}`);
    process.exitCode = 1;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
    executablePath: process.env.HIVE_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    /* --no-sandbox: CI runs as root, where Chromium's sandbox cannot start. */
    args: ["--no-sandbox", "--disable-gpu", "--window-size=1120,700"],
    defaultViewport: { width: 1120, height: 700 },
    timeout: 30000,
});
const errors = [];
try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()}`));
    page.on("response", (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
    await page.goto(`${url}?name=browser`, { waitUntil: "load", timeout: 15000 });
    await page.waitForFunction(() => window.hiveArena && window.hiveArena.joined && window.hiveArena.me, { timeout: 15000 });
    const start = await page.evaluate(() => window.hiveArena.me);

    /* Walk: each arrow held for a while (wherever we spawned, some of
     * these move us), then a chat line. */
    await page.focus("canvas");
    for (const k of ["ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp", "KeyD"]) {
        await page.keyboard.down(k);
        await sleep(500);
        await page.keyboard.up(k);
    }
    const text = "hello from the browser";
    await page.keyboard.press("Enter");
    await page.keyboard.type(text);
    await page.keyboard.press("Enter");
    /* The server sends every chat line to everyone, its sender included. */
    await page.waitForFunction((t) => window.hiveArena.lines.some((l) => l.kind === "chat" && l.text === t),
        { timeout: 10000 }, text).catch(() => {});
    /* The link drops (as when a laptop sleeps): the page resumes its
     * session and plays on. */
    const before = await page.evaluate(() => window.hiveArena.snapshots);
    await page.evaluate(() => window.hiveArena.client.ws.close());
    await page.waitForFunction((n) => window.hiveArena.resumes >= 1 && window.hiveArena.snapshots > n + 30,
        { timeout: 10000 }, before).catch(() => {});
    await page.waitForFunction(() => window.hiveArena.othersSeen >= 1 && window.hiveArena.snapshots >= 90 &&
        window.hiveArena.rttMs >= 0, { timeout: 15000 }).catch(() => {});
    await sleep(500);
    await page.screenshot({ path: shot });
    const s = await page.evaluate((t) => {
        const a = window.hiveArena;
        return {
            joined: a.joined, snapshots: a.snapshots, bad: a.badSnapshots, others: a.othersSeen,
            me: a.me, chats: a.chatsSent, echo: a.lines.some((l) => l.kind === "chat" && l.text === t),
            rtt: a.rttMs, roster: a.roster.size, resumes: a.resumes, myId: a.myId, cid: a.client.cid,
        };
    }, text);
    const moved = Math.hypot(s.me.x - start.x, s.me.y - start.y);
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => window.hiveArena.closed, { timeout: 5000 }).catch(() => {});
    const close = await page.evaluate(() => window.hiveArena.closeText);
    console.log(`hive-arena-browser joined=${s.joined ? 1 : 0} snapshots=${s.snapshots} bad_snapshots=${s.bad} ` +
        `others=${s.others} roster=${s.roster} moved=${moved.toFixed(1)} chats=${s.chats} chat_echo=${s.echo ? 1 : 0} ` +
        `rtt_ms=${s.rtt.toFixed(3)} resumes=${s.resumes} close=${close.split(":")[0] || "none"} errors=${errors.length}`);
    for (const e of errors) console.log(`  ${e}`);
    if (!s.joined) fail("never joined");
    else if (s.snapshots < 90) fail(`only ${s.snapshots} snapshots`);
    else if (s.others < 1) fail("saw no other player");
    else if (moved < 20) fail(`the arrow keys moved us ${moved.toFixed(1)} units`);
    else if (!s.echo) fail("our chat line never came back");
    else if (s.resumes < 1 || s.cid !== s.myId) fail(`the cut link did not resume the session (resumes=${s.resumes})`);
    else if (s.bad) fail(`${s.bad} malformed snapshots`);
    else if (errors.length) fail("the page reported errors");
    else if (!close.startsWith("normal")) fail(`Escape did not close normally (${close})`);
} catch (e) {
    fail(`${e.message}`);
    for (const x of errors) console.log(`  ${x}`);
} finally {
    await browser.close();
}
