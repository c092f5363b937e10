// The built page: deterministic, within budget, CSP-clean, and its bundled
// crypto (as transformed by esbuild, with the build's plugins) still matches
// the Rust vectors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runInThisContext } from "node:vm";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

import { buildFiles, pageSizes, outDirFrom, firstLoadFiles, route, ATTACH_BUDGET_BYTES, BUDGET_BYTES, COPY_BUDGET_BYTES, FIRST_LOAD_FILES, KEYCHECK_BUDGET_BYTES, LANGS, LATER_BUDGET_BYTES, OUTPUT_FILES, PAGE_FILES, WORDS_BUDGET_BYTES, WORKER_BUDGET_BYTES } from "../build.mjs";
import { jsOptions, frontCode, frontDecode } from "../build-options.mjs";
import { wordlist } from "@scure/bip39/wordlists/english.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const vectors = (name) => JSON.parse(readFileSync(new URL(`../../crypto/tests/vectors/${name}`, import.meta.url), "utf8")).cases;
const text = (bytes) => Buffer.from(bytes).toString("utf8");

let first;
const built = async () => (first ??= await buildFiles());

test("the build is deterministic: same sources and lock file, same bytes", async () => {
  const a = await built();
  const b = await buildFiles();
  assert.deepEqual(Object.keys(a).sort(), [
    "app.css", "app.js", "attach.js", "copy.js", "index.cy.html", "index.html", "keycheck.js", "lang-cy-later.js", "lang-cy.js", "lang-en-later.js", "lang-en.js",
    "licences.txt", "pins.json", "pow-worker.js", "pq.js", "staying-safe.cy.html", "staying-safe.html", "words.js",
  ]);
  assert.deepEqual(Object.keys(a).sort(), [...OUTPUT_FILES].sort(), "OUTPUT_FILES lists every file");
  for (const name of Object.keys(a)) assert.ok(Buffer.from(a[name]).equals(Buffer.from(b[name])), name);
  for (const [name, bytes] of Object.entries(a)) {
    assert.ok(!text(bytes).includes(root.replace(/\/$/, "")), `${name} has no absolute path`);
  }
});

test(`the page (HTML + CSS + JS + worker, Brotli) fits ${BUDGET_BYTES} bytes; gzip -9 without the worker too, the worker ${WORKER_BUDGET_BYTES}`, async (t) => {
  assert.deepEqual(PAGE_FILES, ["index.html", "app.css", "app.js", "lang-en.js", "pow-worker.js"], "the worker is a page file");
  assert.deepEqual(FIRST_LOAD_FILES, ["index.html", "app.css", "app.js", "lang-en.js"]);
  const files = await built();
  const { sizes, total, totalBrotli } = pageSizes(files);
  for (const name of PAGE_FILES) t.diagnostic(`${name}: ${sizes[name].raw} B, gzip -9 ${sizes[name].gzip} B, Brotli ${sizes[name].brotli} B`);
  t.diagnostic(`Brotli, with the worker: ${totalBrotli} B of ${BUDGET_BYTES} B`);
  assert.ok(totalBrotli <= BUDGET_BYTES, `${totalBrotli} B (Brotli, with the worker) is over the page budget`);
  // Every language's first load: its page, the CSS, app.js and its catalogue (no less favourable in Welsh).
  assert.deepEqual(LANGS, ["en", "cy"]);
  for (const code of LANGS) {
    const firstLoad = firstLoadFiles(code).reduce((n, name) => n + gzipSync(files[name], { level: 9 }).length, 0);
    t.diagnostic(`gzip -9: first load in ${code} ${firstLoad} B of ${BUDGET_BYTES} B; with the worker (fetched on sending) ${firstLoad + sizes["pow-worker.js"].gzip} B`);
    assert.ok(firstLoad <= BUDGET_BYTES, `the first load in ${code}, ${firstLoad} B, is over the page budget`);
    const later = gzipSync(files[`lang-${code}-later.js`], { level: 9 }).length;
    assert.ok(later <= LATER_BUDGET_BYTES, `lang-${code}-later.js, ${later} B, is over its budget`);
  }
  t.diagnostic(`gzip -9 total in en with the worker: ${total} B`);
  assert.ok(sizes["pow-worker.js"].gzip <= WORKER_BUDGET_BYTES, `the worker's ${sizes["pow-worker.js"].gzip} B is over its budget`);
});

test("words.js (the reply code's word list) is its own bundle, within its budget, outside the first load; app.js carries no word list", async () => {
  const files = await built();
  assert.ok(!FIRST_LOAD_FILES.includes("words.js") && !PAGE_FILES.includes("words.js"));
  const gz = gzipSync(files["words.js"], { level: 9 }).length;
  assert.ok(gz <= WORDS_BUDGET_BYTES, `words.js is ${gz} B gzip, over its ${WORDS_BUDGET_BYTES} B`);
  const app = text(files["app.js"]);
  assert.ok(app.includes('"/words.js"') && text(files["words.js"]).includes("QuietlineWords"));
  for (const word of ["abandon", "zoo", "satoshi"]) assert.ok(!app.includes(word), `app.js has no "${word}"`);
});

test("keycheck.js (the check before sealing) is its own bundle, within its budget, outside the first load, with the committed pins; pins.json is served as committed", async () => {
  const files = await built();
  assert.ok(!FIRST_LOAD_FILES.includes("keycheck.js") && !PAGE_FILES.includes("keycheck.js"));
  const gz = gzipSync(files["keycheck.js"], { level: 9 }).length;
  assert.ok(gz <= KEYCHECK_BUDGET_BYTES, `keycheck.js is ${gz} B gzip, over its ${KEYCHECK_BUDGET_BYTES} B`);
  const keycheck = text(files["keycheck.js"]);
  assert.ok(text(files["app.js"]).includes('"/keycheck.js"') && keycheck.includes("QuietlineKeycheck"));
  const pins = JSON.parse(readFileSync(new URL("../pins.json", import.meta.url), "utf8"));
  assert.deepEqual(JSON.parse(text(files["pins.json"])), pins);
  for (const f of Object.values(pins.forces)) for (const s of f.signers) assert.ok(keycheck.includes(s), `keycheck.js pins ${s}`);
  assert.ok(text(files["licences.txt"]).includes("@noble/ed25519 3.2.0 (MIT)"));
});

test("attach.js (attachments) is its own bundle, within its budget, outside the first load, and speaks the catalogue's short names", async () => {
  const files = await built();
  assert.ok(!FIRST_LOAD_FILES.includes("attach.js") && !PAGE_FILES.includes("attach.js"));
  const gz = gzipSync(files["attach.js"], { level: 9 }).length;
  assert.ok(gz <= ATTACH_BUDGET_BYTES, `attach.js is ${gz} B gzip, over its ${ATTACH_BUDGET_BYTES} B`);
  const attach = text(files["attach.js"]);
  assert.ok(text(files["app.js"]).includes('"/attach.js"') && attach.includes("QuietlineAttach"));
  assert.ok(!attach.includes('"att.meta.place"'));
  // exifr, the cleaner and the sealing are in attach.js only.
  assert.ok(!text(files["app.js"]).includes("Exif"), "app.js carries no EXIF reader");
});

test("copy.js (own copies and the conversation) is its own bundle, within its budget, outside the first load, and speaks the catalogue's short names", async () => {
  const files = await built();
  assert.ok(!FIRST_LOAD_FILES.includes("copy.js") && !PAGE_FILES.includes("copy.js"));
  const gz = gzipSync(files["copy.js"], { level: 9 }).length;
  assert.ok(gz <= COPY_BUDGET_BYTES, `copy.js is ${gz} B gzip, over its ${COPY_BUDGET_BYTES} B`);
  const copy = text(files["copy.js"]);
  assert.ok(text(files["app.js"]).includes('"/copy.js"') && copy.includes("QuietlineCopy"));
  // Its words are looked up under the short names the catalogue bundles use.
  assert.ok(!copy.includes('"replies.you.report"') && !copy.includes('"replies.from"'));
});

test("each language's pages work under the CSP: no inline script, style or handler; nothing from elsewhere", async () => {
  const files = await built();
  for (const name of Object.keys(files).filter((n) => n.endsWith(".html"))) {
    const html = text(files[name]);
    const { lang } = route(name);
    assert.ok(html.startsWith(`<!doctype html>\n<html lang="${lang}">`), `${name} is in ${lang}`);
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.deepEqual(scripts.map(([, attrs]) => /\bsrc="([^"]*)"/.exec(attrs)[1]), [`/lang-${lang}.js`, "/app.js"], name);
    for (const [, , body] of scripts) assert.equal(body.trim(), "");
    assert.ok(!/<style\b/i.test(html), "no <style>");
    assert.ok(!/\sstyle=/i.test(html), "no style attribute");
    assert.ok(!/\son[a-z]+=/i.test(html), "no inline handler");
    assert.match(html, /<link rel="stylesheet" href="\/app\.css">/);
    for (const [, url] of html.matchAll(/\b(?:href|src|action)="([^"]*)"/g)) {
      assert.ok(url.startsWith("/") || url.startsWith("#") || url.startsWith("?lang="), `${name}: same-origin URL: ${url}`);
    }
    assert.ok(!html.includes("{{"), `${name}: every placeholder filled`);
    // Exit goes through the server, which redirects to its neutral site.
    assert.match(html, /<a href="\/exit" class="exit-button" data-exit/);
    // The switch: the other language as a link in that language.
    const other = LANGS.find((c) => c !== lang);
    assert.match(html, new RegExp(`<a href="\\?lang=${other}" hreflang="${other}" lang="${other}" data-lang="${other}">`));
  }
  // The no-JavaScript page says what it must, in both languages.
  for (const needed of ["Nothing has been sent", "JavaScript", "Safest", "Safer", "999", "101", "Crimestoppers", "Exit this page", "Cymraeg"]) {
    assert.ok(text(files["index.html"]).includes(needed), needed);
  }
  for (const needed of ["Nid oes dim wedi’i anfon", "JavaScript", "Safest", "Safer", "999", "101", "Crimestoppers", "Gadael y dudalen hon", "English"]) {
    assert.ok(text(files["index.cy.html"]).includes(needed), needed);
  }
});

test("app.js, pow-worker.js and app.css use no storage, no eval and no other origin", async () => {
  const files = await built();
  for (const name of ["app.js", "pow-worker.js", "words.js", "copy.js", "lang-en.js", "lang-cy.js", "lang-en-later.js", "lang-cy-later.js"]) {
    const js = text(files[name]);
    const workerOnly = name === "pow-worker.js" ? ["importScripts", "fetch(", "XMLHttpRequest"] : []; // it only computes
    for (const banned of ["localStorage", "sessionStorage", "indexedDB", "document.cookie", "eval(", "new Function", "innerHTML", "sourceMappingURL", ".style.", "cssText", "setAttribute(\"style", ...workerOnly]) {
      assert.ok(!js.includes(banned), `${name} has no ${banned}`);
    }
    // No URL with a host: the page talks only to its own origin (relative /api/v1/… paths).
    assert.deepEqual(js.match(/\b(?:https?|wss?):\/\/[a-z0-9]/gi), null, `${name} names no other origin`);
  }
  // The page starts its worker from its own origin, by the path the server serves it at.
  const js = text(files["app.js"]);
  assert.ok(js.includes('new Worker("/pow-worker.js")'), "app.js starts /pow-worker.js");
  assert.ok(!/\bblob:|createObjectURL/.test(js), "no worker from a blob: URL (CSP worker-src 'self')");
  assert.ok(text(files["licences.txt"]).includes("@noble/hashes 2.4.0 (MIT)"), "the worker's SHA-256 is credited");
  const css = text(files["app.css"]);
  assert.ok(!/@import|url\(|@font-face/.test(css), "app.css loads nothing");
});

test("the output directory: dist/ by default, --out-dir or QUIETLINE_WEB_OUT_DIR otherwise (build.rs uses it)", () => {
  assert.equal(outDirFrom([], {}), join(root, "dist"));
  assert.equal(outDirFrom(["--out-dir", "/tmp/x"], {}), "/tmp/x");
  assert.equal(outDirFrom(["--out-dir=/tmp/y"], {}), "/tmp/y");
  assert.equal(outDirFrom([], { QUIETLINE_WEB_OUT_DIR: "/tmp/z" }), "/tmp/z");
  assert.equal(outDirFrom(["--out-dir", "/tmp/x"], { QUIETLINE_WEB_OUT_DIR: "/tmp/z" }), "/tmp/x", "the argument wins");
  assert.throws(() => outDirFrom(["--out-dir"], {}));
  assert.throws(() => outDirFrom(["--bogus"], {}));
});

test("the front-coded word list decodes to exactly the BIP39 English list", () => {
  const packed = frontCode(wordlist);
  assert.deepEqual(frontDecode(packed), wordlist);
  assert.ok(packed.length < wordlist.join("\n").length);
});

test("the crypto module as bundled passes the reply-code and envelope vectors", async () => {
  const out = await esbuild.build({ ...jsOptions(root), entryPoints: ["src/quietline-crypto.js"], format: "esm" });
  const dir = mkdtempSync(join(tmpdir(), "quietline-web-"));
  try {
    const file = join(dir, "bundle.mjs");
    writeFileSync(file, out.outputFiles[0].contents);
    // The word list as the page gets it: the built words.js, run as a script.
    runInThisContext(text((await built())["words.js"]));
    assert.deepEqual(globalThis.QuietlineWords, wordlist, "words.js registers the BIP39 English list");
    const q = await import(pathToFileURL(file).href);
    const hx = q.fromHex;
    for (const c of vectors("reply-code-v1.json")) {
      assert.equal(q.replyCodeToWords(hx(c.entropy)), c.mnemonic);
      assert.equal(q.toHex(q.wordsToReplyCode(c.mnemonic.toUpperCase())), c.entropy);
      const s = await q.deriveReplySecrets(hx(c.entropy));
      assert.equal(q.toHex(s.replyPublicKey), c.reply_pk);
      assert.equal(q.toHex(s.replyPrivateKey), c.reply_sk);
      assert.equal(q.toHex(await q.slotAddress(s.slotKey, 3)), c.slots[3]);
    }
    assert.throws(() => q.wordsToReplyCode("abandon ".repeat(12)), { code: "checksum" });
    for (const c of vectors("envelope-v1.json").filter((c) => !("error" in c) && c.payload.length < 5000)) {
      const sealed = c.kind === 1
        ? await q.sealReport(text(hx(c.routing)), hx(c.recipient_pk), hx(c.payload), { ephIkm: hx(c.eph_ikm) })
        : await q.sealReply(hx(c.routing), hx(c.recipient_pk), hx(c.payload), { ephIkm: hx(c.eph_ikm) });
      assert.equal(q.toHex(sealed), c.envelope, c.name);
      assert.equal(q.toHex(await q.openEnvelope(hx(c.recipient_sk), c.kind, sealed)), c.payload, c.name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
