// The journey on a phone's screen (390 × 844 CSS px), in English and in
// Welsh: on the start page "Start now" and "Check for replies" are both
// within the first screen; on the confirmation all 12 words of the reply
// code (10–12 too) fit on one screen together, with nothing to scroll
// sideways; and a reload with answers typed asks first (beforeunload),
// while the page writes nothing to the device's storage.
//
//   node e2e/phone.mjs --base URL --input '{"answers":{…},"answersCy":{…},"screenshots":"DIR"?}'
//
// With `screenshots`, the Welsh screens are saved there as PNG files
// (docs/screenshots/ in the repository). Prints {"ok":true,"checked":[…]}.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { assert, heading, main, newContext, step } from "./lib.mjs";
import { catalogue, fillReport, readReplyCode, startUrl } from "./flows.mjs";

const PHONE = { width: 390, height: 844 };

await main(async ({ base, input, browser }) => {
  const checked = [];
  if (input.screenshots) mkdirSync(input.screenshots, { recursive: true });
  const shot = async (page, name) => {
    if (!input.screenshots) return;
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(input.screenshots, `${name}.png`), fullPage: true });
  };

  for (const [lang, answers] of [["en", input.answers], ["cy", input.answersCy]]) {
    const T = catalogue(lang);
    const { context, assertClean } = await newContext(browser, base, { viewport: PHONE, isMobile: true, hasTouch: true });
    const page = await context.newPage();

    step(`${lang}: the start page's two buttons are on the first screen`);
    await page.goto(startUrl(lang));
    await heading(page, T("start.title"));
    for (const name of [T("start.start"), T("start.check")]) {
      const box = await page.getByRole("button", { name }).boundingBox();
      assert.ok(box && box.y + box.height <= PHONE.height, `${lang}: “${name}” ends at ${box && box.y + box.height} px, within ${PHONE.height}`);
    }
    checked.push(`${lang}: start buttons on the first screen`);
    if (lang === "cy") await shot(page, "cy-start");

    step(`${lang}: a reload with answers typed asks first; nothing is stored on the device`);
    await page.getByRole("button", { name: T("start.start") }).click();
    await page.getByLabel(answers.forceName, { exact: true }).check();
    await page.getByRole("button", { name: T("nav.continue") }).click();
    await heading(page, T("what.title"));
    await page.getByLabel(T("what.details")).fill("typed, not yet sent");
    let asked = false;
    page.once("dialog", async (d) => {
      asked = d.type() === "beforeunload";
      await d.dismiss();
    });
    await page.reload({ timeout: 3000 }).catch(() => {}); // dismissed: the reload does not happen
    assert.ok(asked, `${lang}: the browser asked before reloading`);
    assert.equal(await page.locator("#details").inputValue(), "typed, not yet sent", "the answer is still there");
    const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
    assert.deepEqual(stored, [0, 0, ""], "nothing in web storage or cookies");
    checked.push(`${lang}: beforeunload, nothing stored`);
    if (lang === "cy") {
      await page.getByLabel(T("cat.domestic"), { exact: true }).check();
      await shot(page, "cy-what-domestic-abuse");
    }
    await context.close();

    step(`${lang}: the whole reply code on one screen`);
    const second = await newContext(browser, base, { viewport: PHONE, isMobile: true, hasTouch: true });
    const p2 = await second.context.newPage();
    await fillReport(p2, answers, async (name) => {
      if (lang === "cy" && name === "check your answers") await shot(p2, "cy-check-answers");
    });
    await p2.getByRole("button", { name: T("check.send") }).click();
    await readReplyCode(p2, lang);
    const fits = await p2.evaluate(() => {
      const ol = document.querySelector("ol.reply-code");
      const bar = document.querySelector(".exit-bar").getBoundingClientRect().height;
      window.scrollTo(0, ol.getBoundingClientRect().top + window.scrollY - bar);
      const items = [...ol.querySelectorAll("li")].map((li) => li.getBoundingClientRect());
      return {
        bottom: Math.max(...items.map((r) => r.bottom)),
        right: Math.max(...items.map((r) => r.right)),
        wide: document.documentElement.scrollWidth,
        height: window.innerHeight,
        width: window.innerWidth,
      };
    });
    assert.ok(fits.bottom <= fits.height, `${lang}: word 12 ends at ${fits.bottom} px, within the ${fits.height} px screen`);
    assert.ok(fits.right <= fits.width && fits.wide <= fits.width, `${lang}: nothing to scroll sideways (${fits.right}, ${fits.wide})`);
    checked.push(`${lang}: reply code on one screen`);
    if (lang === "cy") await shot(p2, "cy-reply-code");
    second.assertClean(`${lang} on a phone`);
    assertClean(`${lang} on a phone`);
  }
  return { checked };
});
