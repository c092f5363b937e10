// A keyboard-only walk through the whole journey: Tab, Shift+Tab, Space and
// Enter to move and act (and typing into the fields), never a click. At each
// focus stop the focused element must show a visible focus indicator.
//
//   node e2e/keyboard.mjs --base URL --input '{"answers":{…},"words":[12],"forceName","followUp"}'
//
// The force must be the first in the list, and each radio answer the first
// of its question (Tab lands on the first radio of an unanswered group;
// moving between radios would need the arrow keys). `words` is a reply code
// with a reply in slot 0. Sends a report and a follow-up; prints
// {"ok":true,"words":[12 of the new report],"stops":N}.

import { assert, heading, main, newContext, step, SEND_TIMEOUT_MS } from "./lib.mjs";

await main(async ({ base, input, browser }) => {
  const { context, assertClean } = await newContext(browser, base);
  const page = await context.newPage();
  const a = input.answers;
  const invisible = [];
  let stops = 0;

  const focused = () => page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const cs = getComputedStyle(e);
    const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0 && cs.outlineColor !== "rgba(0, 0, 0, 0)";
    const shadow = cs.boxShadow && cs.boxShadow !== "none";
    return {
      tag: e.tagName.toLowerCase(),
      id: e.id,
      type: e.getAttribute("type") || "",
      text: (e.textContent || "").trim().replace(/\s+/g, " "),
      checked: !!e.checked,
      visible: outline || !!shadow,
    };
  });
  const describe = (f) => (f ? `${f.tag}${f.id ? "#" + f.id : ""} “${f.text.slice(0, 40)}”` : "nothing");

  /** Press Tab (or Shift+Tab) until `match(focused)`; at most `max` presses. */
  async function tabTo(match, what, { back = false, max = 60 } = {}) {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press(back ? "Shift+Tab" : "Tab");
      const f = await focused();
      stops += 1;
      if (f && !f.visible) invisible.push(`${describe(f)} (on the way to ${what})`);
      if (f && match(f)) return f;
    }
    throw new Error(`${back ? "Shift+Tab" : "Tab"} did not reach ${what} in ${max} presses`);
  }
  const id = (want) => [(f) => f.id === want, `#${want}`];
  const button = (text) => [(f) => f.tag === "button" && f.text === text, `the “${text}” button`];
  const press = async (key, [match, what], opts) => {
    await tabTo(match, what, opts);
    await page.keyboard.press(key);
  };
  const type = async (target, text) => {
    await tabTo(...target);
    await page.keyboard.type(text);
  };
  const choose = async (target) => {
    const f = await tabTo(...target);
    if (!f.checked) await page.keyboard.press("Space");
    assert.ok((await focused()).checked, `${target[1]} is chosen`);
  };

  step("start");
  await page.goto("/");
  await heading(page, "Tell the police something anonymously");
  await press("Enter", button("Start now"));

  step("force");
  await heading(page, "Which police force do you want to tell?");
  await page.locator("#force").waitFor();
  const force = await page.locator("label[for=force]").textContent();
  assert.equal(force.trim(), input.forceName, "the force is the first in the list");
  await choose(id("force"));
  await press("Enter", button("Continue"));

  step("what");
  await heading(page, "What happened?");
  await choose(id("category"));
  await type(id("details"), a.details);
  // Shift+Tab goes back to the field, Tab forward again.
  await tabTo(...button("Continue"));
  await tabTo(...id("details"), { back: true });
  await press("Enter", button("Continue"));

  step("where and when");
  await heading(page, "Where and when");
  await choose(id("where-known"));
  await type(id("where"), a.where);
  await choose(id("when-known"));
  await type(id("date-day"), a.day);
  await type(id("date-month"), a.month);
  await type(id("date-year"), a.year);
  await type(id("time"), a.time);
  await choose(id("ongoing"));
  await press("Enter", button("Continue"));

  step("people and vehicles");
  await heading(page, "People and vehicles (optional)");
  await press("Enter", button("Add a person"));
  // Adding moves focus to the new person's first field.
  assert.equal((await focused()).id, "person-1-name");
  await page.keyboard.type(a.person.name);
  await type(id("person-1-description"), a.person.description);
  await press("Enter", button("Add a vehicle"));
  assert.equal((await focused()).id, "vehicle-1-registration");
  await page.keyboard.type(a.vehicle.registration);
  await type(id("vehicle-1-make_model"), a.vehicle.make_model);
  await type(id("vehicle-1-colour"), a.vehicle.colour);
  await type(id("vehicle-1-description"), a.vehicle.description);
  await press("Enter", button("Continue"));

  step("how");
  await heading(page, "How do you know about this?");
  await choose(id("how"));
  await type(id("how-details"), a.howDetails);
  await press("Enter", button("Continue"));

  step("photos, videos and files (none)");
  await heading(page, "Add photos, videos or files (optional)");
  await press("Enter", button("Continue"));

  step("check and send");
  await heading(page, "Check your answers before sending your report");
  await press("Enter", button("Send report"));
  await heading(page, "Report sent", SEND_TIMEOUT_MS);
  const words = (await page.locator("ol.reply-code li").allTextContents()).map((w) => w.trim());
  assert.equal(words.length, 12);
  await press("Enter", button("I have written them down"));
  await heading(page, "Check you have written down your reply code");
  const asked = await page.locator("main form input[type=text]").evaluateAll((els) => els.map((e) => e.id));
  for (const field of asked) await type(id(field), words[Number(field.slice(5)) - 1]);
  await press("Enter", button("Continue"));
  await heading(page, "Your reply code is written down");
  await press("Enter", button("Finish"));

  step("check for replies");
  await heading(page, "Tell the police something anonymously");
  await press("Enter", button("Check for replies"));
  await heading(page, "Check for replies");
  await type(id("code"), input.words.join(" "));
  await press("Enter", button("Check for replies"));
  await heading(page, "Replies to your report");
  assert.ok((await page.locator("ol.conversation").innerText()).includes(input.replyText), "the reply is shown");

  step("follow-up (to the force that replied: not asked again)");
  await type(id("message"), input.followUp);
  await press("Enter", button("Send message"));
  await heading(page, "Message sent", SEND_TIMEOUT_MS);

  assert.deepEqual(invisible, [], `every focus stop shows where focus is; these did not:\n${invisible.join("\n")}`);
  assertClean("the keyboard journey");
  return { words, stops };
});
