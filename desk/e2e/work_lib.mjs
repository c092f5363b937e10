// Shared steps of the desk's work-page scripts (desk/e2e/work*.mjs), which
// desk/tests/it/browser_desk.rs runs against a desk and an intake server
// started in-process on loopback:
//
//   node desk/e2e/<script>.mjs --base http://127.0.0.1:PORT --input '<JSON>'
//
// They reuse the reporter page's harness (web/e2e/lib.mjs: Debian's
// Chromium through playwright-core, nothing resolved but loopback, every
// request recorded and any other origin a failure, axe-core at WCAG 2.2 AA,
// one JSON result line), so the desk needs no second copy of those tools:
// playwright-core and axe-core come from web/'s lock file.

export * from "../../web/e2e/lib.mjs";
import { assert, axeScan, heading, step } from "../../web/e2e/lib.mjs";

/** Sign in with the account's password and a TOTP code (computed by the Rust test). */
export async function signIn(page, { account, password, code }) {
  await page.goto("/");
  await heading(page, "Sign in");
  await page.getByLabel("Account name").fill(account);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByLabel("Enter the code from your authenticator app").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await heading(page, "Queue");
}

/** The case ids linked from the queue table, in order. */
export async function caseIds(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#cases tbody a[href^='/cases/']")].map((a) => a.getAttribute("href").slice("/cases/".length)),
  );
}

/** Press Tab (or Shift+Tab) until the focused element matches `selector`; at most `max` presses. */
export async function tabTo(page, selector, { back = false, max = 250 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return i + 1;
  }
  throw new Error(`${selector} was not reached with ${max} presses of ${back ? "Shift+Tab" : "Tab"}`);
}

/** Every request URL went to `base`. */
export function assertSameOrigin(requests, base) {
  assert.ok(requests.length > 0, "requests were recorded");
  const elsewhere = requests.filter((r) => !r.split(" ")[1].startsWith(`${base}/`));
  assert.deepEqual(elsewhere, [], "no request leaves the desk's origin");
}

/**
 * Scan a desk page as every desk browser test does: axe-core (WCAG 2.2 AA)
 * and the heading order (one h1, no level skipped). Findings go into
 * `violations`, the page's name into `pages`.
 */
export async function scanPage(page, name, { pages, violations }) {
  step(`scan: ${name}`);
  const r = await axeScan(page);
  for (const v of r.violations) violations.push(`${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes.join(", ")}`);
  const levels = await page.evaluate(() => [...document.querySelectorAll("main h1, main h2, main h3, main h4")].map((h) => Number(h.tagName[1])));
  if (levels.filter((l) => l === 1).length !== 1) violations.push(`${name}: ${levels.filter((l) => l === 1).length} h1 elements`);
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] > levels[i - 1] + 1) violations.push(`${name}: heading h${levels[i]} follows h${levels[i - 1]}`);
  }
  pages.push(name);
}
