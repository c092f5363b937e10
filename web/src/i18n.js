// The page's words: every sentence the page shows comes from a message
// catalogue, one file per language (src/i18n/en.json, src/i18n/cy.json, …).
// This module owns the catalogue in use and looking up its messages; it
// does not know any language's words itself, and draws nothing.
//
// Each catalogue is built into a bundle of its own, /lang-<code>.js, which
// registers globalThis.QuietlineText[<code>] (build.mjs). The page as served
// loads the bundle of its own language before app.js (the server chose the
// language: `?lang=` or Accept-Language); another language is fetched with a
// same-origin <script> when the reporter switches to it. Node tests call
// useCatalogue() with the JSON itself.
//
// Messages are whole sentences with named holes, "{name}"; a message whose
// wording depends on a number is an object keyed by the plural category of
// that number in the language (Intl.PluralRules: "zero", "one", "two",
// "few", "many", "other"), "other" always present. Nothing here joins
// sentences from parts.

let code = "en";
let messages = {};

/** The language in use (a BCP 47 tag, e.g. "en", "cy"). */
export const lang = () => code;

/** Use `catalogue` (a catalogue's JSON object) for language `tag`. */
export function useCatalogue(tag, catalogue) {
  code = tag;
  messages = catalogue;
}

/**
 * The message `key`, its holes filled from `vars`. A missing key throws: the
 * catalogue test (test/i18n.test.js) keeps every catalogue complete, so this
 * only happens in development.
 */
export function t(key, vars) {
  let m = messages[key];
  if (m == null) throw new Error(`no message ${key} in the ${code} catalogue`);
  if (typeof m === "object" && !Array.isArray(m)) {
    m = m[new Intl.PluralRules(code).select(vars.n)] ?? m.other;
  }
  return vars ? m.replace(/\{(\w+)\}/g, (all, k) => (k in vars ? vars[k] : all)) : m;
}

/** The languages the page offers, [{ code, name }], as the catalogue in use lists them. */
export const languages = () => messages._languages || [];

// Each bundle is fetched once; a failed fetch (offline) is forgotten so the
// next try fetches again.
const loading = {};
const fetchBundle = (file) => (loading[file] ||= new Promise((ok, no) => {
  const s = document.createElement("script");
  s.src = file;
  s.onload = ok;
  s.onerror = () => no(new Error(`${file} could not be loaded`), delete loading[file]);
  document.head.append(s);
}));
const catalogueOf = (tag) => (globalThis.QuietlineText || {})[tag];
let later = false;

/**
 * The messages needed once a report is sealed or a code is checked
 * (/lang-<code>-later.js; build-i18n.mjs LATER): fetched with the word list.
 * Rejects if they cannot be loaded.
 */
export async function loadLater() {
  if (!catalogueOf(code) || catalogueOf(code) !== messages) return; // node tests: the whole catalogue is in use
  await fetchBundle(`/lang-${code}-later.js`);
  later = true;
}

/**
 * Fetch the catalogue of `tag` (/lang-<tag>.js, and its later messages if
 * those of the language in use were fetched) unless it is here already, and
 * use it. Rejects if it cannot be loaded; the one in use stays.
 */
export async function switchTo(tag) {
  await fetchBundle(`/lang-${tag}.js`);
  if (later) await fetchBundle(`/lang-${tag}-later.js`);
  useCatalogue(tag, catalogueOf(tag));
}
