// A report sent end to end from Firefox ESR with Tor Browser's "Safer"
// JavaScript preferences (no JIT, no WebAssembly: firefox-lib.mjs), against
// a real server that tests/it/browser_firefox.rs runs on loopback at the
// server's default proof-of-work floor:
//
//   node e2e/firefox-safer-send.mjs --base URL --input '{"force","category","details","where","ongoing","how"}'
//
// fills in the journey (choices by their values and fields by their ids, so
// the script does not depend on the page's wording or language), sends, and
// prints {"ok":true,"words":[12],"pow":"<Quietline-Pow header>","send_ms",
// "safer":true} — send_ms from selecting Send report to the confirmation.
// The page runs under its real CSP; a script error, a CSP report or a
// request to another origin fails the run. Every wait is bounded.

import { assert, parseArgs, SCRIPT_LIMIT_MS, STEP_TIMEOUT_MS } from "./lib.mjs";
import { launchFirefox, saferApplied, sendReport } from "./firefox-lib.mjs";

function result(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const step = (text) => console.error(`- ${text}`);

async function run({ base, input }, browser) {
  const page = await browser.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const problems = [];
  let pow = "";
  page.on("request", (r) => {
    // data: URLs are Firefox's own (a built-in font) and go nowhere.
    if (!r.url().startsWith(`${base}/`) && !r.url().startsWith("data:")) problems.push(`request to another origin: ${r.url()}`);
    if (r.method() === "POST" && r.url() === `${base}/api/v1/reports`) pow = r.headers()["quietline-pow"] || "";
  });
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  page.on("console", (m) => {
    if (/Content[- ]Security[- ]Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });

  await page.goto(`${base}/`);
  assert.ok(await saferApplied(page), "the Safer preferences are in force (no WebAssembly)");
  const { words, sendMs } = await sendReport(page, input, step);
  assert.match(pow, /^[\w-]{78}\.([\w-]{12}|[\w-]{55})$/, "the POST carried a Quietline-Pow header of FORMAT.md's shape");
  assert.deepEqual(problems, [], "no request elsewhere, no CSP violation, no script error");
  step(`sent in ${sendMs} ms`);
  return { words, pow, send_ms: sendMs, safer: true };
}

let browser;
setTimeout(() => {
  result({ ok: false, error: `the script took longer than ${SCRIPT_LIMIT_MS / 1000} s` });
  process.exit(1);
}, SCRIPT_LIMIT_MS).unref();
try {
  const args = parseArgs();
  browser = await launchFirefox({ safer: true });
  const value = await run(args, browser);
  await browser.close();
  result({ ok: true, ...value });
  process.exit(0);
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e));
  if (browser) await browser.close().catch(() => {});
  result({ ok: false, error: String(e && e.message ? e.message : e) });
  process.exit(1);
}
