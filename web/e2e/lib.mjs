// Shared helpers for the end-to-end scripts in this folder, which
// tests/browser.rs runs against a real Quietline server on loopback:
//
//   node e2e/<script>.mjs --base http://127.0.0.1:PORT --input '<JSON>'
//
// Each script drives Debian's Chromium (/usr/bin/chromium, never a browser
// Playwright downloads) through playwright-core, prints its diagnostics on
// stderr, and prints exactly one JSON line on stdout as its last line:
// {"ok":true,...} on success, {"ok":false,"error":"..."} with exit code 1
// otherwise. Every wait is bounded.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export { assert };

/** Debian's Chromium; QUIETLINE_CHROMIUM overrides (for another distribution). */
export const CHROMIUM = process.env.QUIETLINE_CHROMIUM || "/usr/bin/chromium";

/** Playwright's default wait for one action or expectation. */
export const STEP_TIMEOUT_MS = 20_000;

/**
 * The wait for a send to finish: sealing, then the server's proof of work
 * (at its default floor of 21 bits, about a second in this Chromium, but the
 * number of tries is random and the machine may be busy), then the POST.
 * A bound, not a timing: the scripts only wait for the page to get there.
 */
export const SEND_TIMEOUT_MS = 150_000;

/** The axe-core rule tags for WCAG 2.2 AA (A and AA of 2.0, 2.1 and 2.2). */
export const WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

/** The flags every launch gets: headless, as root, and no traffic of Chromium's own. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--no-first-run",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  // Nothing but loopback resolves, so nothing can leave the machine.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
];

/** `--base URL` and `--input JSON` from the command line. */
export function parseArgs(argv = process.argv.slice(2)) {
  const out = { base: "", input: {} };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--base") out.base = argv[++i] || "";
    else if (argv[i] === "--input") out.input = JSON.parse(argv[++i] || "{}");
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(out.base)) {
    throw new Error(`--base must be http://127.0.0.1:PORT (loopback only), not ${JSON.stringify(out.base)}`);
  }
  return out;
}

/**
 * Launch Chromium. Playwright gives every launch a fresh, empty profile
 * (`--user-data-dir` in a new temporary directory, under $TMPDIR, removed at
 * close); tests/browser.rs points TMPDIR at a directory of its own.
 */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/**
 * A new context with checks that hold for every page it opens: every request
 * goes to `base` (the page's own origin), and nothing is refused by the CSP
 * or thrown by the page. `problems` collects what broke them; call
 * `assertClean()` at the end. Options go to browser.newContext, but for
 * `elsewhere`: URL prefixes of other sites the script may go to (Exit this
 * page's neutral site, on loopback).
 */
export async function newContext(browser, base, options = {}) {
  const { elsewhere = [], ...contextOptions } = options;
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1000, height: 800 }, ...contextOptions });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const problems = [];
  const requests = [];
  context.on("request", (r) => {
    requests.push(`${r.method()} ${r.url()}`);
    if (!r.url().startsWith(`${base}/`) && !elsewhere.some((u) => r.url().startsWith(u))) problems.push(`request to another origin: ${r.url()}`);
  });
  context.on("page", (page) => watchPage(page, problems));
  return {
    context,
    problems,
    requests,
    assertClean(what = "the page") {
      assert.deepEqual(problems, [], `${what}: no request elsewhere, no CSP violation, no script error`);
    },
  };
}

function watchPage(page, problems) {
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  page.on("console", (m) => {
    const text = m.text();
    if (/Content[- ]Security[- ]Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
    else if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 404/.test(text)) {
      problems.push(`console error: ${text}`);
    }
  });
}

/** The most a whole script may take; tests/browser.rs allows a little more. */
export const SCRIPT_LIMIT_MS = 180_000;

function result(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

/** Run the script body; print the JSON result line; exit 0 or 1. */
export async function main(body) {
  let browser;
  // page.evaluate has no timeout of its own: a watchdog bounds everything.
  setTimeout(() => {
    console.error(`gave up after ${SCRIPT_LIMIT_MS / 1000} s`);
    result({ ok: false, error: `the script took longer than ${SCRIPT_LIMIT_MS / 1000} s` });
    process.exit(1); // Playwright closes the browser it launched on exit.
  }, SCRIPT_LIMIT_MS).unref();
  try {
    const args = parseArgs();
    browser = await launch();
    const value = await body({ ...args, browser });
    await browser.close();
    browser = null;
    result({ ok: true, ...value });
    process.exit(0);
  } catch (e) {
    console.error(e && e.stack ? e.stack : String(e));
    if (browser) await browser.close().catch(() => {});
    result({ ok: false, error: String(e && e.message ? e.message : e) });
    process.exit(1);
  }
}

/** Log a step on stderr (the Rust test prints it). */
export function step(text) {
  console.error(`- ${text}`);
}

/** Wait for the page's main heading to read `text` (a string is an exact match). */
export async function heading(page, text, timeout = STEP_TIMEOUT_MS) {
  const h1 = page.locator("main h1");
  await h1.filter({ hasText: text }).first().waitFor({ timeout });
  return (await h1.first().textContent()).trim();
}

/** The text of everything visible in <main>, plus every form field's value. */
export async function pageText(page) {
  return page.evaluate(() => {
    const values = [...document.querySelectorAll("input, textarea")].map((f) => f.value).join("\n");
    return `${document.body ? document.body.innerText : ""}\n${values}`;
  });
}

/** SHA-256 (hex) of bytes, as Rust computes it over the stored envelope. */
export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Buffer.from(digest).toString("hex");
}

/** Whether `haystack` (bytes) contains `needle` (a string, as UTF-8). */
export function containsText(haystack, needle) {
  return Buffer.from(haystack).includes(Buffer.from(needle, "utf8"));
}

/**
 * Wait for the page's POST of an envelope to `path`, started by `action`
 * (which may first wait for a proof of work: SEND_TIMEOUT_MS).
 * Returns { body, status, contentType, pow } (pow: the Quietline-Pow header).
 */
export async function capturePost(page, base, path, action) {
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === "POST" && r.url() === `${base}${path}`, { timeout: SEND_TIMEOUT_MS }),
    action(),
  ]);
  const response = await request.response();
  assert.ok(response, `${path}: a response`);
  const headers = await request.allHeaders();
  return {
    body: request.postDataBuffer() || Buffer.alloc(0),
    status: response.status(),
    contentType: headers["content-type"] || "",
    pow: headers["quietline-pow"] || "",
  };
}

/**
 * The two parts of a Quietline-Pow header: { challenge, work } (bytes),
 * checked for shape: work is nonce ‖ block ‖ prev, 9 octets (block 1) or 41.
 */
export function parsePow(header) {
  const m = /^([A-Za-z0-9_-]{78})\.([A-Za-z0-9_-]{12}|[A-Za-z0-9_-]{55})$/.exec(header);
  assert.ok(m, `a Quietline-Pow header of <78 base64url>.<12 or 55 base64url>: ${JSON.stringify(header)}`);
  const challenge = Buffer.from(m[1], "base64url");
  assert.equal(challenge.length, 58);
  assert.equal(challenge[0], 1, "challenge version 1");
  const work = Buffer.from(m[2], "base64url");
  assert.equal(work[8] === 1, work.length === 9, "block 1 has no block before it; blocks 2–255 have one");
  return { text: m[1], challenge, work };
}

/**
 * Make the page's next `GET /api/v1/challenge` answer a challenge of 32
 * bits, so the waiting screen stays up to be looked at: 2^32 tries on
 * average, where a script spends a few seconds at one to three million
 * tries a second there (odds of a solution meanwhile: about 1 in 300 or
 * less). The challenge is made here, so the server would refuse it
 * (pow_forged): the script must cancel, never let it be sent. Later
 * requests go to the server. Returns a function that tells whether it was
 * used.
 */
export async function slowChallengeOnce(page, base) {
  let used = false;
  const url = `${base}/api/v1/challenge`;
  await page.route(url, async (route) => {
    used = true;
    const c = Buffer.alloc(58);
    crypto.getRandomValues(c);
    c[0] = 1;
    c[1] = 32;
    const expires = Math.ceil(Date.now() / 1000 / 300) * 300 + 900;
    c.writeBigUInt64BE(BigInt(expires), 2);
    await route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ challenge: c.toString("base64url"), difficulty: 32, expires }),
    });
  }, { times: 1 });
  return () => used;
}

/** SHA-256 (bytes) of the concatenated parts. */
export async function sha256(...parts) {
  return Buffer.from(await crypto.subtle.digest("SHA-256", Buffer.concat(parts.map((p) => Buffer.from(p)))));
}

/** Leading zero bits of bytes. */
export function leadingZeroBits(bytes) {
  let n = 0;
  for (const b of bytes) {
    if (b) return n + Math.clz32(b) - 24;
    n += 8;
  }
  return n;
}

/**
 * The POST's proof of work holds: its digest over the envelope sent has the
 * challenge's difficulty (or `difficulty`, when given) in leading zero bits.
 * Returns the challenge's difficulty.
 */
export async function checkPow(sent, difficulty) {
  const { challenge, work } = parsePow(sent.pow);
  if (difficulty !== undefined) assert.equal(challenge[1], difficulty, "the challenge's difficulty");
  // FORMAT.md#solution: HMAC(PRK, prev ‖ nonce ‖ block), PRK = HMAC(challenge, SHA-256(envelope)).
  const prk = createHmac("sha256", challenge).update(await sha256(sent.body)).digest();
  const digest = createHmac("sha256", prk).update(work.subarray(9)).update(work.subarray(0, 9)).digest();
  assert.ok(leadingZeroBits(digest) >= challenge[1], `the work solves the challenge: ${digest.toString("hex")}`);
  return challenge[1];
}

const require = createRequire(import.meta.url);
let axeSource;

/**
 * Run axe-core on the page as it is now, for WCAG 2.2 AA; returns the
 * violations as plain lines. The page must be in a context created with
 * `bypassCSP: true` (axe is injected as a script the page's CSP would refuse).
 */
export async function axeScan(page) {
  axeSource ??= readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.addScriptTag({ content: axeSource });
  }
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")) })), passes: r.passes.length };
  }, WCAG_22_AA);
}

