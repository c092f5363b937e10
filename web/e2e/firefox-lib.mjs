// Firefox for the browser tests and benchmarks: Debian's Firefox ESR
// (/usr/bin/firefox-esr, never a downloaded browser) driven by puppeteer-core
// over WebDriver BiDi, with or without Tor Browser's "Safer" JavaScript
// preferences. Playwright drives Chromium (lib.mjs); it cannot drive a stock
// Firefox, so Firefox gets puppeteer-core.

import puppeteer from "puppeteer-core";

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
