// The page's pure checks and wording (no DOM).
import { EN, CY } from "./use-en.js";
import { useCatalogue } from "../src/i18n.js";
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import "../src/words.js"; // the word list, as the page loads it (loadWords)
import { parseDate, parseTime, tidyCodeInput, checkReplyCode, suggestWord, formatDate, formatSentAt } from "../src/validate.js";
import { CATEGORY_LABELS, HOW_KNOWN_LABELS } from "../src/labels.js";
import { CATEGORIES, HOW_KNOWN } from "../src/quietline-crypto.js";

const today = new Date(2026, 10, 27);

test("dates: empty, partial, unreal, future, and good", () => {
  assert.deepEqual(parseDate("", " ", "", today), { value: null });
  assert.deepEqual(parseDate("20", "11", "2026", today), { value: "2026-11-20" });
  assert.deepEqual(parseDate("07", "3", "2025", today), { value: "2025-03-07" });
  assert.equal(parseDate("1", "March", "2025", today).field, "month");
  assert.deepEqual(parseDate("20", "", "2026", today), { error: "The date must include a month", field: "month" });
  assert.deepEqual(parseDate("", "", "2026", today), { error: "The date must include a day and a month", field: "day" });
  assert.equal(parseDate("31", "2", "2026", today).error, "The date must be a real date");
  assert.equal(parseDate("29", "2", "2024", today).value, "2024-02-29");
  assert.equal(parseDate("x", "2", "2026", today).field, "day");
  assert.equal(parseDate("1", "13", "2026", today).field, "month");
  assert.equal(parseDate("1", "ma", "2026", today).field, "month");
  assert.equal(parseDate("1", "2", "26", today).error, "The year must include 4 numbers");
  assert.equal(parseDate("28", "11", "2026", today).error, "The date must be today or in the past");
  assert.equal(parseDate("27", "11", "2026", today).value, "2026-11-27");
  assert.equal(parseDate("1", "1", "1066", today).field, "year");
});

test("times: 24-hour, am/pm, noon and midnight", () => {
  const ok = { "22:15": "22:15", "22.15": "22:15", "2215": "22:15", "9:30": "09:30", "9pm": "21:00", "10:15 pm": "22:15",
    "12am": "00:00", "12pm": "12:00", "12:30AM": "00:30", noon: "12:00", midnight: "00:00", "0:00": "00:00", "": null };
  for (const [typed, want] of Object.entries(ok)) assert.deepEqual(parseTime(typed), { value: want }, typed);
  for (const bad of ["25:00", "9", "13pm", "0am", "12:60", "ten", "9:5"]) assert.ok(parseTime(bad).error, bad);
});

test("typed reply codes: list numbers and commas are tidied away", () => {
  assert.equal(tidyCodeInput("1. abandon, 2) ability").split(/\s+/).filter(Boolean).join(" "), "abandon ability");
  const rc = JSON.parse(readFileSync(new URL("../../crypto/tests/vectors/reply-code-v1.json", import.meta.url), "utf8")).cases[0];
  const numbered = rc.mnemonic.split(" ").map((w, i) => `${i + 1}. ${w}`).join("\n");
  assert.equal(Buffer.from(checkReplyCode(numbered).entropy).toString("hex"), rc.entropy);
});

test("typed reply codes: one plain message for each of the three errors", () => {
  assert.equal(checkReplyCode("").error, "Enter your 12-word reply code");
  assert.equal(checkReplyCode("abandon").error, "Your reply code has 12 words. You entered 1 word");
  assert.equal(checkReplyCode("abandon ".repeat(11)).error, "Your reply code has 12 words. You entered 11 words");
  assert.equal(checkReplyCode("abandon ".repeat(11) + "zzzzzz").error, "Word 12, ‘zzzzzz’, is not one of the reply code words. Check how it is spelled");
  assert.match(checkReplyCode("abandon ".repeat(12)).error, /^These 12 words are not a reply code/);
  assert.ok(checkReplyCode("abandon ".repeat(11) + "about").entropy);
});

test("dates shown to people", () => {
  assert.equal(formatDate("2026-11-20"), "20 November 2026");
  assert.equal(formatDate("nonsense"), "nonsense");
  assert.match(formatSentAt("2026-11-28T09:00:00Z"), /^(27|28) November 2026 at \d{1,2}(:\d\d)?(am|pm)$/);
  assert.equal(formatSentAt("not a date"), "not a date");
});

test("every payload value has a plain-English label, and nothing else does", () => {
  assert.deepEqual(Object.keys(CATEGORY_LABELS), [...CATEGORIES]);
  assert.deepEqual(Object.keys(HOW_KNOWN_LABELS), [...HOW_KNOWN]);
  for (const [label] of Object.values(CATEGORY_LABELS)) assert.ok(label.length > 2);
});

test("the payload constants match the Rust crate", () => {
  const rs = readFileSync(new URL("../../crypto/src/payload.rs", import.meta.url), "utf8");
  const list = (name) => {
    const body = new RegExp(`pub const ${name}: \\[&str; \\d+\\] = \\[([^\\]]*)\\]`).exec(rs)[1];
    return [...body.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
  };
  assert.deepEqual(list("CATEGORIES"), [...CATEGORIES]);
  assert.deepEqual(list("HOW_KNOWN"), [...HOW_KNOWN]);
});

test("a code word not in the list: the list's word is suggested, never put in silently", () => {
  const list = globalThis.QuietlineWords;
  // UK spellings of the list's American words.
  for (const [uk, us] of [["licence", "license"], ["colour", "color"], ["armour", "armor"], ["defence", "defense"], ["catalogue", "catalog"], ["mum", "mom"]]) {
    assert.equal(suggestWord(uk), us, uk);
  }
  // Near misses: one letter missing, extra, changed, or two swapped; and the first four letters.
  for (const [typo, word] of [["abandn", "abandon"], ["abandonn", "abandon"], ["zebro", "zebra"], ["lyrcis", "lyrics"], ["supr", "supreme"], ["satosh", "satoshi"]]) {
    assert.equal(suggestWord(typo), word, typo);
  }
  // Nothing close, or two as close: no suggestion rather than a guess.
  for (const far of ["zzzzzz", "qqq", "xq", ""]) assert.equal(suggestWord(far), "", far);
  assert.equal(suggestWord("bat"), "", "bag? bar? — more than one");
  const code = "abandon ".repeat(11);
  const uk = checkReplyCode(`${code}licence`);
  assert.equal(uk.entropy, undefined, "never accepted as typed");
  assert.deepEqual([uk.suggest, uk.position, uk.word], ["license", 12, "licence"]);
  assert.equal(uk.error, "Word 12, ‘licence’, is not one of the reply code words. Did you mean ‘license’? The words use American spellings");
  assert.equal(checkReplyCode(`${code}abandn`).error, "Word 12, ‘abandn’, is not one of the reply code words. Did you mean ‘abandon’?");
  delete globalThis.QuietlineWords;
  assert.equal(suggestWord("licence"), "", "no list loaded: no suggestion");
  globalThis.QuietlineWords = list;
});

test("the Welsh catalogue: errors, dates and times in Welsh", () => {
  useCatalogue("cy", CY);
  try {
    assert.equal(parseDate("20", "", "2026", new Date(2026, 10, 28)).error, "Rhaid i’r dyddiad gynnwys mis");
    assert.equal(formatDate("2026-11-20"), "20 Tachwedd 2026");
    assert.deepEqual(parseTime("10:15yh"), { value: "22:15" });
    assert.deepEqual(parseTime("9yb"), { value: "09:00" });
    assert.equal(checkReplyCode("abandon").error, "Mae 12 gair yn eich cod ateb. Nifer y geiriau a roesoch chi: 1");
    assert.match(formatSentAt("2026-11-28T09:00:00Z"), /^(27|28) Tachwedd 2026 am \d{1,2}(:\d\d)?(yb|yh)$/);
  } finally {
    useCatalogue("en", EN);
  }
});
