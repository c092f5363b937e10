// Firefox for the browser tests and benchmarks: Debian's Firefox ESR
// (/usr/bin/firefox-esr, never a downloaded browser) driven by puppeteer-core
// over WebDriver BiDi, with or without Tor Browser's "Safer" JavaScript
// preferences. Playwright drives Chromium (lib.mjs); it cannot drive a stock
// Firefox, so Firefox gets puppeteer-core.

import puppeteer from "puppeteer-core";
import { assert, SEND_TIMEOUT_MS } from "./lib.mjs";

/** Debian's Firefox ESR; QUIETLINE_FIREFOX overrides (for another distribution). */
export const FIREFOX = process.env.QUIETLINE_FIREFOX || "/usr/bin/firefox-esr";

/**
 * What Tor Browser's "Safer" security level sets for JavaScript: no
 * optimising JIT (Ion), no baseline JIT, no native regular expressions, no
 * WebAssembly. The interpreters remain (this is what makes a page's own
 * JavaScript SHA-256 ~50 times slower there).
 */
export const SAFER_PREFS = {
  "javascript.options.ion": false,
  "javascript.options.baselinejit": false,
  "javascript.options.native_regexp": false,
  "javascript.options.wasm": false,
};

/** Firefox makes no traffic of its own, so nothing leaves the machine. */
const QUIET_PREFS = {
  "network.proxy.type": 0,
  "app.update.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "browser.newtabpage.enabled": false,
  "extensions.update.enabled": false,
  // Nothing but loopback resolves.
  "network.dns.localDomains": "",
  "network.dns.disableIPv6": true,
};

/**
 * Launch Firefox ESR headless with a fresh profile (puppeteer makes one in
 * $TMPDIR and removes it at close); `safer` adds SAFER_PREFS.
 */
export async function launchFirefox({ safer = false } = {}) {
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    protocol: "webDriverBiDi",
    timeout: 60_000,
    extraPrefsFirefox: { ...QUIET_PREFS, ...(safer ? SAFER_PREFS : {}) },
  });
}

/**
 * Whether the "Safer" preferences took effect in `page`: with
 * `javascript.options.wasm` false, WebAssembly is not there at all (the JIT
 * preferences have no page-visible sign; they are set in the same profile).
 */
export async function saferApplied(page) {
  return page.evaluate(() => typeof WebAssembly === "undefined");
}

/**
 * The reporter's journey in a puppeteer `page` already on the start page:
 * start → force → what → where and when (where known, when not) → no people
 * → how → files (none) → check answers → Send report, then the reply code. Choices by their
 * values and fields by their ids, so it does not depend on the page's
 * wording or language. `input`: { force, category, details, where, ongoing,
 * how }. Returns { words, sendMs }: the 12 words and the time from selecting
 * Send report to the confirmation (sealing, the proof of work, the POST).
 */
export async function sendReport(page, input, step = () => {}) {
  const choose = async (name, value) => {
    const sel = `input[type=radio][name="${name}"][value="${value}"]`;
    await page.waitForSelector(sel);
    await page.click(sel);
  };
  const fill = async (id, text) => {
    await page.waitForSelector(`#${id}`);
    await page.type(`#${id}`, text);
  };
  const next = () => page.click("main form button[type=submit]");

  step("start");
  await page.waitForSelector("main button.start");
  await page.click("main button.start");
  step("force");
  await choose("force", input.force);
  await next();
  step("what");
  await choose("category", input.category);
  await fill("details", input.details);
  await next();
  step("where and when");
  await choose("where-known", "yes");
  await fill("where", input.where);
  await choose("when-known", "no");
  await choose("ongoing", input.ongoing);
  await next();
  step("people and vehicles (none)");
  await page.waitForSelector("#add-person");
  await next();
  step("how");
  await choose("how", input.how);
  await next();
  step("photos, videos and files (none)");
  await page.waitForSelector("#files-input");
  await next();
  step("check answers, send");
  await page.waitForSelector("#send");
  const summary = await page.$eval("dl.summary", (el) => el.textContent);
  assert.ok(summary.includes(input.details.trim()), "check answers shows what was typed");
  const t0 = Date.now();
  await page.click("#send");
  await page.waitForSelector("ol.reply-code li", { timeout: SEND_TIMEOUT_MS });
  const sendMs = Date.now() - t0;
  const words = await page.$$eval("ol.reply-code li", (lis) => lis.map((li) => li.textContent.trim()));
  assert.equal(words.length, 12, `12 words: ${words.join(" ")}`);
  for (const w of words) assert.match(w, /^[a-z]{3,8}$/);
  return { words, sendMs };
}
