// The desk's sign-in pages in Debian's Chromium, driven by playwright-core
// (the helpers and packages of the reporter page's e2e suite, web/e2e/lib.mjs
// and web/node_modules, are reused; nothing is installed for the desk):
//
//   node desk/e2e/sign_in.mjs --base http://127.0.0.1:PORT --input '<JSON>'
//
// input: { account, oneTime, newPassword, clock, screenshots }. The desk runs
// on a set clock (`clock`, unix seconds): codes are computed here for it (the
// enrolment's code for `clock`, the next sign-in's for `clock + 30`, the next
// step, which the desk accepts as one step ahead and which is not a replay).
//
// First sign-in with the one-time password → choose a password (an error
// first) → enrol (QR code; screenshot) → code → the queue placeholder →
// account page → custody page → sign out → sign in with password and code
// (screenshot of the sign-in page) → lock the desk → the locked page.
// Every page is scanned with axe-core (WCAG 2.2 AA) and must not send a
// request to another origin, break the CSP or throw; desk.js must run
// (body classes). Prints {"ok":true,"pages":[…],"rules_passed":N}.

import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { assert, heading, main, newContext, step, WCAG_22_AA } from "../../web/e2e/lib.mjs";

// axe-core from the page's node_modules (web/), as lib.mjs resolves it.
const require = createRequire(new URL("../../web/e2e/lib.mjs", import.meta.url));
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** RFC 4648 base32 (the key as the enrolment page spells it) to bytes. */
function base32(text) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, "").toUpperCase()) {
    const i = alphabet.indexOf(c);
    assert.ok(i >= 0, `base32 character ${c}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP: HMAC-SHA-1, 6 digits, 30-second steps (what an authenticator app does). */
function totp(secret, unixSecs) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)));
  const mac = createHmac("sha1", secret).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, "0");
}

await main(async ({ base, input, browser }) => {
  const { context, problems, requests } = await newContext(browser, base);
  const page = await context.newPage();
  const pages = [];
  const violations = [];
  let rulesPassed = 0;

  async function scan(name) {
    step(`scan: ${name}`);
    // desk.js ran (an ES module from /assets, allowed by the CSP).
    await page.waitForFunction(() => document.body.classList.contains("govuk-frontend-supported"));
    // axe goes in through the DevTools protocol, which the page's CSP does
    // not govern; the page itself keeps its real CSP.
    if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
    const r = await page.evaluate(async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
      return { violations: r.violations.map((v) => `${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`), passes: r.passes.length };
    }, WCAG_22_AA);
    rulesPassed = Math.max(rulesPassed, r.passes);
    for (const v of r.violations) violations.push(`${name}: ${v}`);
    pages.push(name);
  }

  step("sign in with the one-time password");
  await page.goto("/");
  assert.equal(new URL(page.url()).pathname, "/login", "no session: the sign-in page");
  await heading(page, "Sign in");
  await page.getByRole("button", { name: "Continue" }).click();
  await heading(page, "Sign in");
  assert.equal(await page.locator(".govuk-error-summary").count(), 1, "the error summary");
  await scan("sign in (errors)");
  await page.getByLabel("Account name").fill(input.account);
  await page.getByLabel("Password").fill(input.oneTime);
  await page.getByRole("button", { name: "Continue" }).click();

  await heading(page, "Choose your password");
  await scan("choose your password");
  await page.getByLabel("New password").fill("short");
  await page.getByLabel("Type it again").fill("short");
  await page.getByRole("button", { name: "Continue" }).click();
  await heading(page, "Choose your password");
  await page.locator(".govuk-error-summary a").first().click();
  assert.equal(await page.evaluate(() => document.activeElement.id), "password", "the summary's link focuses the field");
  await scan("choose your password (errors)");
  await page.getByLabel("New password").fill(input.newPassword);
  await page.getByLabel("Type it again").fill(input.newPassword);
  await page.getByRole("button", { name: "Continue" }).click();

  await heading(page, "Set up your authenticator app");
  assert.equal(await page.locator(".desk-qr svg").count(), 1, "the QR code");
  await scan("enrol");
  if (input.screenshots) await page.screenshot({ path: `${input.screenshots}/desk-enrol.png`, fullPage: true });
  const secret = base32(await page.locator("#secret").innerText());
  assert.equal(secret.length, 20, "a 20-byte secret");
  await page.getByLabel("Code from the app").fill(totp(secret, input.clock));
  await page.getByRole("button", { name: "Confirm and sign in" }).click();

  await heading(page, "Queue");
  assert.ok((await page.locator("main").innerText()).includes(input.account));
  await scan("queue (placeholder)");
  await page.getByRole("link", { name: "Account" }).click();
  await heading(page, "Your account");
  await scan("account");
  await page.getByRole("link", { name: "Custody" }).click();
  await heading(page, "Key custody");
  await scan("custody");

  step("sign out, sign in with password and code");
  await page.getByRole("button", { name: /Sign out/ }).click();
  await heading(page, "You have signed out");
  await scan("signed out");
  await page.getByRole("link", { name: "Sign in again" }).click();
  await heading(page, "Sign in");
  await scan("sign in");
  if (input.screenshots) await page.screenshot({ path: `${input.screenshots}/desk-sign-in.png`, fullPage: true });
  await page.getByLabel("Account name").fill(input.account);
  await page.getByLabel("Password").fill(input.newPassword);
  await page.getByRole("button", { name: "Continue" }).click();
  await heading(page, "Enter the code from your authenticator app");
  await page.getByLabel(/Enter the code/).fill("000000" === totp(secret, input.clock + 30) ? "111111" : "000000");
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading(page, "Enter the code from your authenticator app");
  await scan("code (error)");
  await page.getByLabel(/Enter the code/).fill(totp(secret, input.clock + 30));
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading(page, "Queue");

  step("lock the desk");
  await page.getByRole("link", { name: "Custody" }).click();
  await page.getByLabel(/I understand/).check();
  await page.getByRole("button", { name: "Lock the desk" }).click();
  await heading(page, "The desk is locked");
  await scan("locked");

  assert.deepEqual(violations, [], "axe-core: no violation on any page");
  // A form re-shown with its errors answers 422 and the locked desk 503:
  // Chromium logs those statuses; anything else is a problem.
  const expected = /Failed to load resource: the server responded with a status of (422|503)/;
  assert.deepEqual(problems.filter((p) => !expected.test(p)), [], "no request elsewhere, no CSP violation, no script error");
  assert.ok(requests.some((r) => r.includes("/assets/fonts/")), "the GOV.UK fonts load from the desk");
  return { pages, rules_passed: rulesPassed, requests: requests.length };
});
