// The message catalogues (src/i18n/*.json): every catalogue has every key
// and no other, each message has the same holes in every language, every
// key is used and every key used exists, and the keys to review name real
// keys. Adding a language is adding one file: these tests take each file in
// src/i18n/ as it comes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { scriptKeys, templateKeys, renderPage, catalogueBundles, keyIds, LATER } from "../build-i18n.mjs";
import { LANGS } from "../build.mjs";
import { t, useCatalogue } from "../src/i18n.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = new URL("../src/i18n/", import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
// In the build's order (the default language first), as build.mjs reads them.
const catalogues = Object.fromEntries(LANGS.map((c) => [c, JSON.parse(readFileSync(new URL(`${c}.json`, dir), "utf8"))]));
const en = catalogues.en;
const keysOf = (c) => Object.keys(c).filter((k) => !k.startsWith("_")).sort();
const holes = (m) => [...new Set((typeof m === "string" ? [m] : Object.values(m)).flatMap((s) => [...s.matchAll(/\{(\w+)\}/g)].map((x) => x[1])))].sort();

test("every catalogue is built, the default first", () => {
  assert.deepEqual([...LANGS].sort(), files.map((f) => f.slice(0, -5)).sort());
  assert.equal(LANGS[0], "en");
});

test("every catalogue has every key, and no key the others lack", () => {
  const want = keysOf(en);
  for (const [code, c] of Object.entries(catalogues)) {
    const have = keysOf(c);
    assert.deepEqual(want.filter((k) => !have.includes(k)), [], `${code}.json lacks these keys`);
    assert.deepEqual(have.filter((k) => !want.includes(k)), [], `${code}.json has keys en.json does not`);
    assert.equal(typeof c._name, "string", `${code}.json names its language (_name)`);
    assert.ok(Array.isArray(c._review), `${code}.json lists what a translator must review (_review)`);
    for (const k of c._review) assert.ok(k in c, `${code}.json _review names a key it has: ${k}`);
  }
});

test("each message has the same holes in every language; plural messages have 'other'", () => {
  for (const [code, c] of Object.entries(catalogues)) {
    for (const k of keysOf(en)) {
      const m = c[k];
      assert.ok(typeof m === "string" || (m && typeof m.other === "string"), `${code} ${k}: a string, or plural forms with "other"`);
      assert.ok(typeof m === "string" ? m.trim() === m && m.length > 0 : true, `${code} ${k}: no blank or padded message`);
      assert.deepEqual(holes(m), holes(en[k]), `${code} ${k}: the same {holes} as in English`);
    }
  }
});

test("every key is used, and every key the page uses is in the catalogues", () => {
  const { js, data } = scriptKeys(root, en);
  const used = new Set([...js, ...data, ...templateKeys(root)]);
  assert.deepEqual(keysOf(en).filter((k) => !used.has(k)), [], "keys no script or template uses");
  for (const k of templateKeys(root)) assert.ok(k in en, `a template uses ${k}, which en.json lacks`);
  for (const k of data) assert.ok(k in en, `a template marks ${k} (data-t), which en.json lacks`);
  // The source's t("…") calls, each key written out whole.
  const src = new URL("../src/", import.meta.url);
  for (const f of readdirSync(src).filter((n) => n.endsWith(".js"))) {
    const text = readFileSync(new URL(f, src), "utf8");
    for (const [, k] of text.matchAll(/\bt\("([^"]+)"/g)) assert.ok(k in en, `${f} asks for ${k}, which en.json lacks`);
    assert.ok(!/\bt\(`/.test(text), `${f}: no key built at run time (t(\`…\`)): the tests could not find it`);
  }
  // Every key app.js uses has a dot, so the build's short names (keyIds) cannot clash with other strings.
  for (const k of js) assert.ok(k.includes("."), `${k} has a dot`);
});

test("the bundles: each language carries every message the scripts use, the later ones apart", () => {
  const ids = keyIds(root, en);
  for (const code of LANGS) {
    const { first, later } = catalogueBundles(root, code, catalogues, ids);
    const load = (js) => {
      const g = {};
      new Function("globalThis", js)(g);
      return g.QuietlineText[code];
    };
    const a = load(first);
    const b = load(later);
    for (const [k, id] of ids) {
      assert.ok((LATER.test(k) ? b : a)[id] !== undefined, `${code}: ${k}`);
      assert.equal((LATER.test(k) ? a : b)[id], undefined, `${code}: ${k} in one bundle only`);
    }
    assert.deepEqual(a._languages.map((l) => l.code), LANGS);
  }
});

test("the start page, the questions and the checks are in the first bundle (they show before words.js)", () => {
  for (const k of ["start.title", "what.title", "check.send", "code.title", "code.err.load", "send.err.load", "err.lang_load", "date.months", "date.dmy", "check.when.date_time", "time.pm"]) {
    assert.ok(!LATER.test(k), k);
  }
});

test("no message is built from parts: no message starts or ends with a space or joins with another", () => {
  for (const [code, c] of Object.entries(catalogues)) {
    for (const k of keysOf(c)) {
      for (const m of typeof c[k] === "string" ? [c[k]] : Object.values(c[k])) {
        assert.ok(!/^\s|\s$/.test(m), `${code} ${k}: "${m}"`);
      }
    }
  }
});

test("t(): holes filled, plural forms by the language's rules, a missing key refused", () => {
  useCatalogue("en", en);
  assert.equal(t("err.code.count", { n: 1 }), "Your reply code has 12 words. You entered 1 word");
  assert.equal(t("err.code.count", { n: 3 }), "Your reply code has 12 words. You entered 3 words");
  assert.throws(() => t("no.such.key"), /no message no\.such\.key in the en catalogue/);
  useCatalogue("cy", catalogues.cy);
  // Welsh counts with the singular noun: one form does for every number.
  assert.equal(t("wait.busy.report", { n: 2 }), "Mae’r gwasanaeth yn brysur; byddwn yn rhoi cynnig arall arni ymhen 2 eiliad. Mae eich adroddiad yn cael ei gadw ar y dudalen hon.");
  useCatalogue("en", en);
});

test("the pages render in each language, with the switch to the others", () => {
  for (const code of LANGS) {
    const html = renderPage(root, "index.html", code, catalogues);
    assert.ok(html.includes(`<html lang="${code}">`));
    assert.ok(html.includes(`<span aria-current="true">${catalogues[code]._name}</span>`));
  }
  // A message used as HTML may hold <strong> only.
  const bad = { ...catalogues, en: { ...en, "nojs.help.999": "call <a href=x>999</a>" } };
  assert.throws(() => renderPage(root, "index.html", "en", bad), /only <strong> is allowed/);
});
