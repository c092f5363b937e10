// The catalogues at build time (build.mjs; test/i18n.test.js): each
// language's static pages rendered from the templates in src/ (index.html,
// the no-JavaScript page; staying-safe.html; the parts they share,
// shell.html and footer.html), and each language's catalogue bundle,
// /lang-<code>.js, with the messages the page's scripts use.
//
// Templates: {{key}} is the message, HTML-escaped; {{{key}}} the message as
// HTML, which may hold <strong> and nothing else (checked here); {{lang}}
// the language's code; {{languages}} the "English | Cymraeg" switch;
// {{> name}} the template src/name.html. Catalogues: a JSON object of
// key → message, plus "_name" (the language's name in itself, for the
// switch) and "_review" (keys a professional translator must check before
// launch; not shipped).

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const escape = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The languages, [{ code, name }], from the catalogues (the order given). */
export const languageList = (catalogues) => Object.entries(catalogues).map(([code, c]) => ({ code, name: c._name }));

/** The switch as static HTML: the page's language as text, each other one a link (?lang=) in its own language. */
function switchHtml(code, catalogues) {
  const items = languageList(catalogues).map((l) => (l.code === code
    ? `<li><span aria-current="true">${escape(l.name)}</span></li>`
    : `<li><a href="?lang=${l.code}" hreflang="${l.code}" lang="${l.code}" data-lang="${l.code}">${escape(l.name)}</a></li>`));
  return `<ul>${items.join("")}</ul>`;
}

/** A message for the templates; throws if the catalogue lacks it. */
function message(catalogue, code, key) {
  const m = catalogue[key];
  if (typeof m !== "string") throw new Error(`src/i18n/${code}.json has no message ${key} (a template uses it)`);
  return m;
}

/** Render the template `name` (in src/) in language `code`. */
export function renderPage(root, name, code, catalogues) {
  const cat = catalogues[code];
  const read = (n) => readFileSync(join(root, "src", n), "utf8");
  let html = read(name).replace(/\{\{> (\w+)\}\}\n?/g, (_, n) => read(`${n}.html`));
  html = html.replace(/\{\{\{([\w.-]+)\}\}\}/g, (_, key) => {
    const m = message(cat, code, key);
    if (/<(?!\/?strong>)/.test(m)) throw new Error(`${code}.json ${key}: only <strong> is allowed in a message used as HTML`);
    return m;
  });
  return html.replace(/\{\{([\w.-]+)\}\}/g, (_, key) => {
    if (key === "lang") return code;
    if (key === "languages") return switchHtml(code, catalogues);
    return escape(message(cat, code, key));
  });
}

/**
 * The catalogue keys the page's scripts use: `js`, each quoted string in
 * src/*.js that is a key of the default catalogue; `data`, each data-t /
 * data-t-label in the templates (app.js translates those in place). The
 * same rule decides what the catalogue test calls used.
 */
export function scriptKeys(root, catalogue) {
  const src = join(root, "src");
  const js = new Set();
  const data = new Set();
  for (const f of readdirSync(src).filter((n) => /\.(js|html)$/.test(n))) {
    const text = readFileSync(join(src, f), "utf8");
    if (f.endsWith(".js")) {
      for (const [, k] of text.matchAll(/["'`]([\w.-]+)["'`]/g)) if (k in catalogue) js.add(k);
    } else {
      for (const [, k] of text.matchAll(/data-t(?:-label)?="([\w.-]+)"/g)) data.add(k);
    }
  }
  return { js, data };
}

/** The keys the templates use ({{key}} and {{{key}}}). */
export function templateKeys(root) {
  const keys = new Set();
  for (const f of readdirSync(join(root, "src")).filter((n) => n.endsWith(".html"))) {
    const text = readFileSync(join(root, "src", f), "utf8");
    for (const [, k] of text.matchAll(/\{\{\{?([\w.-]+)\}?\}\}/g)) if (k !== "lang" && k !== "languages") keys.add(k);
  }
  return keys;
}

/**
 * Short names for the keys app.js uses ("0", "1", … "a7", in base 36, in
 * key order), so neither app.js nor the catalogue bundles carry the long
 * ones: they cost about 2.5 KB of the first load (gzip) otherwise. Every
 * such key has a dot in it (test/i18n.test.js), which no other string in
 * the bundle is expected to equal; shortKeys() checks that no key is
 * left quoted in another way.
 */
export function keyIds(root, catalogue) {
  return new Map([...scriptKeys(root, catalogue).js].sort().map((k, i) => [k, i.toString(36)]));
}

/** app.js (bytes) with each catalogue key of `ids` written as its short name. */
export function shortKeys(bytes, ids) {
  const text = Buffer.from(bytes).toString("utf8");
  const out = text.replace(/"([\w-]+(?:\.[\w-]+)+)"/g, (all, k) => (ids.has(k) ? `"${ids.get(k)}"` : all));
  for (const k of ids.keys()) {
    if (["\"", "'", "`"].some((q) => out.includes(`${q}${k}${q}`))) throw new Error(`app.js still has the catalogue key ${k} outside a plain "string" (build-i18n.mjs shortKeys)`);
  }
  return new TextEncoder().encode(out);
}

/**
 * Messages needed only once the word list is (words.js): after a report is
 * sealed (the waiting screen, what sending says and its errors, the reply
 * code and what follows it) or a reply code is checked (the replies and the
 * follow-up). Sending loads them before it starts; only the words for "this
 * page could not load a part it needs" must be there before. They come in a second
 * bundle, /lang-<code>-later.js, fetched with words.js, so the first load
 * carries only what the start page and the questions need.
 */
export const LATER = /^(sent|sentcheck|done|replies|follow|followsent|wait|att)\.|^err\.(message|follow_force|code)\b|^send\.(?!err\.(load|kept)$)/;

/**
 * The catalogue bundles of language `code`: { first, later }, each
 * registering its messages in globalThis.QuietlineText[code]. `first`
 * holds the messages the scripts use under their short names (keyIds),
 * those the templates mark for translating in place (data-t) under their
 * own, and the list of languages for the switch; `later` the LATER ones.
 */
export function catalogueBundles(root, code, catalogues, ids) {
  const cat = catalogues[code];
  const { data } = scriptKeys(root, catalogues.en);
  const need = (k) => {
    if (!(k in cat)) throw new Error(`src/i18n/${code}.json has no message ${k}`);
    return cat[k];
  };
  const first = { _languages: languageList(catalogues) };
  const later = {};
  for (const [k, id] of ids) (LATER.test(k) ? later : first)[id] = need(k);
  for (const k of [...data].sort()) first[k] = need(k);
  const js = (o) => `Object.assign((globalThis.QuietlineText||={})[${JSON.stringify(code)}]||={},${JSON.stringify(o)});\n`;
  return { first: js(first), later: js(later) };
}
