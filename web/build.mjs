// Builds the reporter page into dist/: for each language (one catalogue,
// src/i18n/<code>.json) its no-JavaScript page, its "Staying safe online"
// page and its catalogue bundle (index.html, staying-safe.html,
// lang-en.js for the default language; index.cy.html, staying-safe.cy.html,
// lang-cy.js for Welsh, …); and app.css, app.js, pow-worker.js, pq.js,
// words.js, copy.js, keycheck.js, attach.js (fixed names, no hashes), pins.json and licences.txt. Also files.txt, the
// list the server embeds (build.rs): each file, its URL path and language. Deterministic:
// the same lock file and sources give the same bytes (no timestamps, no
// absolute paths, no source maps). Usage: `npm run build` (→ dist/), or
// `node build.mjs --out-dir DIR` (also QUIETLINE_WEB_OUT_DIR=DIR), which is
// how the server's build.rs builds the page into Cargo's OUT_DIR to embed it.
// The tests import buildFiles() to check determinism and the size budget.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlibConstants, gzipSync } from "node:zlib";
import { TARGET, jsOptions } from "./build-options.mjs";
import { catalogueBundles, keyIds, renderPage, shortKeys } from "./build-i18n.mjs";

const root = dirname(fileURLToPath(import.meta.url));

/** The page budget: HTML + CSS + JS that a visitor loads, each gzip -9, added up (40 KB = 40 × 1024 bytes). */
export const BUDGET_BYTES = 40 * 1024;
/**
 * The proof-of-work worker's own budget, gzip -9. It is fetched only when the
 * reporter sends, and is mostly SHA-256 (@noble/hashes), which a worker cannot
 * share with app.js. Counted with the page it takes the total over 40 KB;
 * BENCHMARKS.md reports both figures.
 */
export const WORKER_BUDGET_BYTES = 3 * 1024;
/**
 * A language's second catalogue bundle (lang-<code>-later.js: the messages
 * after sending or checking a code, fetched with words.js), gzip -9.
 */
export const LATER_BUDGET_BYTES = 4 * 1024;
/** The page's languages: one catalogue each (src/i18n/<code>.json), the default first. */
export const DEFAULT_LANG = "en";
export const LANGS = [DEFAULT_LANG, ...readdirSync(join(root, "src", "i18n"))
  .filter((f) => /^[a-z]{2,3}(-[a-z0-9]+)*\.json$/.test(f)).map((f) => f.slice(0, -5)).filter((c) => c !== DEFAULT_LANG).sort()];
/** A language's file name: "index.html" in the default language, "index.cy.html" in Welsh. */
export const langFile = (name, code) => (code === DEFAULT_LANG ? name : name.replace(/\.html$/, `.${code}.html`));
/** The files a visitor loads to see and fill in the page in language `code` (the 40 KB budget). */
export const firstLoadFiles = (code) => [langFile("index.html", code), "app.css", "app.js", `lang-${code}.js`];
/** The first load in the default language. */
export const FIRST_LOAD_FILES = firstLoadFiles(DEFAULT_LANG);
/**
 * The files that make up the page, in dist/, all counted in the budget:
 * pow-worker.js (the proof-of-work search) is fetched only when the reporter
 * sends, but every report needs it.
 */
export const PAGE_FILES = [...FIRST_LOAD_FILES, "pow-worker.js"];
/**
 * The X-Wing bundle (src/pq.js): fetched only when the chosen force's key, or
 * a reply found, is X-Wing (crypto/FORMAT.md#suite), so it is not in the page
 * budget; it has its own, gzip -9.
 */
export const PQ_BUDGET_BYTES = 32 * 1024;
/**
 * The reply code's word list (src/words.js): fetched when a reply code is
 * made (sending a report) or typed (checking for replies), so it is not in
 * the first load; it has its own budget, gzip -9.
 */
export const WORDS_BUDGET_BYTES = 8 * 1024;
/**
 * The reporter's own copies and the conversation (src/copy.js): fetched
 * when a message has been sent or a reply code is checked, so it is not in
 * the first load; it has its own budget, gzip -9. It carries its own copy of
 * the envelope code (HPKE, as pq.js does), since a bundle of its own cannot
 * share app.js's.
 */
export const COPY_BUDGET_BYTES = 24 * 1024;
/**
 * The check before sealing (src/keycheck.js, with the pins, Ed25519 from
 * @noble/ed25519 and SHA-256/512 from @noble/hashes; about 10.7 KB gzip):
 * fetched just before sealing, so it is not in the first load; it has its
 * own budget, gzip -9.
 */
export const KEYCHECK_BUDGET_BYTES = 12 * 1024;
/**
 * The attachments (src/attach.js: the metadata reader exifr, the cleaner,
 * the STREAM sealing and the upload): fetched only when a reporter chooses
 * a file, so not in the first load; its own budget, gzip -9.
 */
export const ATTACH_BUDGET_BYTES = 32 * 1024;
/** Every file the build writes, in the order the server lists them (src/assets.rs). */
export const OUTPUT_FILES = [
  ...LANGS.flatMap((c) => [langFile("index.html", c), langFile("staying-safe.html", c), `lang-${c}.js`, `lang-${c}-later.js`]),
  "app.css", "app.js", "pow-worker.js", "pq.js", "words.js", "copy.js", "keycheck.js", "pins.json", "attach.js", "licences.txt",
];

/** Each output file's URL path and language (files.txt, for build.rs): the pages share a path per language. */
export function route(name) {
  const m = /^(index|staying-safe)(?:\.([a-z0-9-]+))?\.html$/.exec(name);
  if (m) return { path: m[1] === "index" ? "/" : "/staying-safe", lang: m[2] || DEFAULT_LANG };
  return { path: `/${name}`, lang: "" };
}

/** Build every output file in memory: { name: Uint8Array }. */
export async function buildFiles() {
  const js = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/app.js"],
    format: "iife",
    metafile: true,
  });
  // The worker is a bundle of its own (a worker cannot share the page's
  // script), built with the same options.
  const worker = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/pow-worker.js"],
    format: "iife",
    metafile: true,
  });
  // The X-Wing code, also its own bundle: it registers globalThis.QuietlinePQ.
  const pqJs = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/pq.js"],
    format: "iife",
    metafile: true,
  });
  // The word list, its own bundle too: it registers globalThis.QuietlineWords.
  const wordsJs = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/words.js"],
    format: "iife",
    metafile: true,
  });
  // The own copies and the conversation: it registers globalThis.QuietlineCopy.
  const copyJs = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/copy.js"],
    format: "iife",
    metafile: true,
  });
  // The check before sealing, with the pins built in: it registers globalThis.QuietlineKeycheck.
  const keycheckJs = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/keycheck.js"],
    format: "iife",
    metafile: true,
  });
  // The attachments (the file step once a file is chosen): it registers globalThis.QuietlineAttach.
  const attachJs = await esbuild.build({
    ...jsOptions(root),
    entryPoints: ["src/attach.js"],
    format: "iife",
    metafile: true,
  });
  const css = await esbuild.build({
    absWorkingDir: root,
    entryPoints: ["src/app.css"],
    bundle: true,
    minify: true,
    target: TARGET,
    charset: "utf8",
    write: false,
    logLevel: "warning",
  });
  // Each language's pages and catalogue bundle, from the same templates.
  const catalogues = Object.fromEntries(LANGS.map((c) => [c, JSON.parse(readFileSync(join(root, "src", "i18n", `${c}.json`), "utf8"))]));
  const files = {};
  const ids = keyIds(root, catalogues[DEFAULT_LANG]);
  for (const c of LANGS) {
    for (const page of ["index.html", "staying-safe.html"]) {
      files[langFile(page, c)] = new TextEncoder().encode(renderPage(root, page, c, catalogues));
    }
    const { first, later } = catalogueBundles(root, c, catalogues, ids);
    files[`lang-${c}.js`] = new TextEncoder().encode(first);
    files[`lang-${c}-later.js`] = new TextEncoder().encode(later);
  }
  Object.assign(files, {
    "app.css": css.outputFiles[0].contents,
    "app.js": shortKeys(js.outputFiles[0].contents, ids),
    "pow-worker.js": worker.outputFiles[0].contents,
    "pq.js": pqJs.outputFiles[0].contents,
    "words.js": wordsJs.outputFiles[0].contents,
    // Its words are the catalogue's short names too (t() looks them up so).
    "copy.js": shortKeys(copyJs.outputFiles[0].contents, ids),
    "keycheck.js": keycheckJs.outputFiles[0].contents,
    // The pins as committed (web/pins.json), served for anyone to compare
    // (quietline verify-page); keycheck.js carries the same in its bundle.
    "pins.json": new Uint8Array(readFileSync(join(root, "pins.json"))),
    "attach.js": shortKeys(attachJs.outputFiles[0].contents, ids),
    "licences.txt": new TextEncoder().encode(licences([js.metafile, worker.metafile, pqJs.metafile, wordsJs.metafile, copyJs.metafile, keycheckJs.metafile, attachJs.metafile])),
  });
  for (const [name, bytes] of Object.entries(files)) {
    if (Buffer.from(bytes).toString("utf8").includes(root)) {
      throw new Error(`${name} contains the absolute build path ${root}`);
    }
  }
  return files;
}

/**
 * The licence of every third-party package that ends up in app.js,
 * pow-worker.js, pq.js, words.js, copy.js, keycheck.js or attach.js, so the minified bundles carry their notices alongside them.
 */
function licences(metafiles) {
  const packages = new Set();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m) packages.add(m[1]);
    }
  }
  let out = "Third-party software in app.js, pow-worker.js, pq.js, words.js, copy.js, keycheck.js and attach.js, with the licence of each package.\n";
  for (const name of [...packages].sort()) {
    const dir = join(root, "node_modules", name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE"].map((f) => join(dir, f)).find(existsSync);
    out += `\n${"=".repeat(72)}\n${name} ${pkg.version} (${pkg.license})\n${"=".repeat(72)}\n\n`;
    out += file ? readFileSync(file, "utf8").trim() + "\n" : `(no licence file shipped; licence: ${pkg.license})\n`;
  }
  return out;
}

/** gzip -9 sizes of the page files and their total. */
export function pageSizes(files) {
  const sizes = {};
  let total = 0;
  let totalBrotli = 0;
  for (const name of PAGE_FILES) {
    const gz = gzipSync(files[name], { level: 9 }).length;
    // What the server's build.rs makes too (quality 11), and what browsers
    // get over HTTPS.
    const br = brotliCompressSync(files[name], {
      params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: files[name].length },
    }).length;
    sizes[name] = { raw: files[name].length, gzip: gz, brotli: br };
    total += gz;
    totalBrotli += br;
  }
  return { sizes, total, totalBrotli };
}

/** Build and write dist/ (emptied first). Returns the files. */
export async function buildPage(outDir = join(root, "dist")) {
  const files = await buildFiles();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(outDir, name), bytes);
  // The list the server embeds: file, URL path, language ("" for a file of every language).
  writeFileSync(join(outDir, "files.txt"), OUTPUT_FILES.map((f) => `${f}\t${route(f).path}\t${route(f).lang}\n`).join(""));
  return files;
}

/** The output directory from `--out-dir DIR` / `--out-dir=DIR`, else QUIETLINE_WEB_OUT_DIR, else dist/. */
export function outDirFrom(argv, env) {
  let dir = env.QUIETLINE_WEB_OUT_DIR || "";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--out-dir") {
      dir = argv[++i] || "";
      if (!dir) throw new Error("--out-dir needs a directory");
    } else if (argv[i].startsWith("--out-dir=")) {
      dir = argv[i].slice("--out-dir=".length);
    } else {
      throw new Error(`unknown argument ${argv[i]} (usage: node build.mjs [--out-dir DIR])`);
    }
  }
  return dir ? resolve(dir) : join(root, "dist");
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildPage(outDirFrom(process.argv.slice(2), process.env));
  const { sizes, total } = pageSizes(files);
  for (const c of LANGS.slice(1)) {
    const n = firstLoadFiles(c).reduce((sum, f) => sum + gzipSync(files[f], { level: 9 }).length, 0);
    console.log(`first load in ${c}, gzip -9: ${n} B (budget ${BUDGET_BYTES} B)`);
  }
  for (const name of PAGE_FILES) {
    const sha = createHash("sha256").update(files[name]).digest("hex");
    console.log(`${name.padEnd(13)} ${String(sizes[name].raw).padStart(7)} B  gzip -9 ${String(sizes[name].gzip).padStart(6)} B  sha256 ${sha}`);
  }
  const firstLoad = total - sizes["pow-worker.js"].gzip;
  console.log(`page gzip -9: ${firstLoad} B (budget ${BUDGET_BYTES} B); with the proof-of-work worker: ${total} B`);
  // The same list as `quietline serve` prints at start, in sha256sum's format.
  for (const name of OUTPUT_FILES) {
    console.log(`${createHash("sha256").update(files[name]).digest("hex")}  ${name}`);
  }
  // The tests fail over budget; the build itself still produces the page.
  if (total > BUDGET_BYTES) console.warn(`warning: ${total - BUDGET_BYTES} B over the page budget`);
}
