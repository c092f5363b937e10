// Time to send a report through the real page, at the server's floor, in
// Debian's Chromium (with and without its JIT) and Firefox ESR (with and
// without Tor Browser's "Safer" JavaScript preferences): what issue 18's
// targets are about (a median of at most 2 s with the JIT, 5 s without,
// and jitless/JIT at most 3).
//
//   cargo build && target/debug/quietline serve --demo --listen 127.0.0.1:18080 --data-dir "$(mktemp -d)" --pow-expected-rate 100000 &
//   cd web && npm run bench:send -- --base http://127.0.0.1:18080 [--sends 15] [--browsers all]
//
// Each send is a fresh page (a reporter's visit): the journey to the demo
// force (e2e/firefox-lib.mjs, sendReport, driven by puppeteer-core: Chromium
// over CDP, Firefox over WebDriver BiDi), then the time from selecting
// "Send report" to the reply code: sealing, the challenge, the proof of work
// in the page's workers, the POST. The expected rate is raised so the
// benchmark's own sends do not raise the difficulty; every send's
// difficulty is read from its Quietline-Pow header and printed. Bounded:
// each browser starts no new send after 240 s. Prints a markdown table and
// one JSON line. Nothing leaves the machine; nothing is asserted about time.

import { cpus, loadavg } from "node:os";
import puppeteer from "puppeteer-core";
import { CHROMIUM, CHROMIUM_ARGS, parseArgs } from "../e2e/lib.mjs";
import { launchFirefox, saferApplied, sendReport } from "../e2e/firefox-lib.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const SENDS = Number(opt("sends", 15));
const BROWSERS = (opt("browsers", "all") === "all" ? "chromium,chromium-jitless,firefox,firefox-safer" : opt("browsers", "")).split(",");
const { base } = parseArgs(argv);
const BUDGET_MS = 240_000;

async function launch(name) {
  if (name.startsWith("chromium")) {
    return puppeteer.launch({
      browser: "chrome", executablePath: CHROMIUM, headless: true, timeout: 60_000,
      args: [...CHROMIUM_ARGS, ...(name === "chromium-jitless" ? ["--js-flags=--jitless"] : [])],
    });
  }
  return launchFirefox({ safer: name === "firefox-safer" });
}

const input = { force: "demo", category: "drugs", details: "Benchmark report: boxes unloaded at night.", where: "Canal Street", ongoing: "unknown", how: "saw" };
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const at = (xs, q) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const rows = [];
for (const name of BROWSERS) {
  const browser = await launch(name);
  const version = await browser.version();
  const ms = [];
  const bits = [];
  try {
    const deadline = Date.now() + BUDGET_MS;
    for (let i = 0; i < SENDS && Date.now() < deadline; i++) {
      const page = await browser.newPage();
      let pow = "";
      page.on("request", (r) => {
        if (r.method() === "POST" && r.url() === `${base}/api/v1/reports`) pow = r.headers()["quietline-pow"] || "";
      });
      await page.goto(`${base}/`);
      if (name === "firefox-safer" && !(await saferApplied(page))) throw new Error("the Safer preferences did not take effect");
      const { sendMs } = await sendReport(page, input);
      ms.push(sendMs);
      bits.push(Buffer.from(pow.split(".")[0], "base64url")[1]);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  rows.push({ browser: name, version, sends: ms.length, bits: [...new Set(bits)], median_ms: at(ms, 0.5), p90_ms: at(ms, 0.9), min_ms: Math.min(...ms), max_ms: Math.max(...ms), ms });
  console.error(`${name}: ${JSON.stringify(rows.at(-1))}`);
}

const s = (x) => `${(x / 1000).toFixed(2)} s`;
console.log(`${cpus().length} CPUs (${cpus()[0] && cpus()[0].model}), load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}\n`);
console.log("| browser | sends | difficulty | median time to send | p90 | min / max |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(`| ${r.browser} (${r.version}) | ${r.sends} | ${r.bits.join(", ")} | ${s(r.median_ms)} | ${s(r.p90_ms)} | ${s(r.min_ms)} / ${s(r.max_ms)} |`);
const row = (n) => rows.find((r) => r.browser === n);
for (const [slow, fast] of [["chromium-jitless", "chromium"], ["firefox-safer", "firefox"]]) {
  if (row(slow) && row(fast)) console.log(`\n${slow} / ${fast}, medians: ${(row(slow).median_ms / row(fast).median_ms).toFixed(2)}`);
}
console.log(JSON.stringify({ load: loadavg(), rows }));
