// Attachments through the page (issue 19): a real JPEG (Chromium's own
// encoder) carrying GPS, camera and time in EXIF (written here with
// piexifjs), and a real PNG with text chunks and an eXIf chunk, are chosen
// on the "Add photos, videos or files" step; the page names the place and
// the camera; Continue seals and uploads both; the report is sent. The Rust
// test (tests/it/browser_attachments.rs) then opens the report with the
// force's key, fetches each blob with a handler token, opens it and checks
// that the metadata is gone and the image data is byte for byte the same.
//
//   node e2e/attachments.mjs [send|phone|resume] --base URL --input '{"answers"}'
//
// `resume`: a 5 MB video (random bytes, "send it as it is") is uploaded; when
// part 2 is first sent the script writes $TMPDIR/part-2 and holds the request
// until the test has stopped the server ($TMPDIR/stopped), then lets it go on
// (it fails: nothing listens) and writes $TMPDIR/failed; the test restarts the
// server on the same data and port; the page asks which parts are held and
// sends the rest, and the report goes. Prints {"ok":true,"sha256","parts":[part
// numbers PUT, in order]}.
//
// `send` prints {"ok":true,"jpeg":base64,"png":base64,"words":[…]}: the
// files as chosen. `button` checks the step's file button in Welsh and then
// English: one control in the page's words (GOV.UK's enhanced file upload),
// named by the step's heading and described by its hint and error, the
// browser's own input hidden; the error summary's link reaching it; the drop
// zone's entered/left announcements; files chosen through it counted; axe
// before and after (screenshots with QUIETLINE_SCREENSHOTS=DIR). `phone` (QUIETLINE_SCREENSHOTS=DIR) shows the step with
// a photo chosen at a phone's width in English and Welsh, checks it with
// axe-core, and saves the screenshots.

import { createHash, randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { crc32 } from "node:zlib";
import { join } from "node:path";
import { assert, axeScan, heading, main, newContext, step } from "./lib.mjs";
import { catalogue, fillReport, readReplyCode, startUrl } from "./flows.mjs";

const piexif = createRequire(import.meta.url)("piexifjs");
const phase = process.argv[2] && !process.argv[2].startsWith("--") ? process.argv.splice(2, 1)[0] : "send";

/** Latitude 51° 30′ 12″ N, longitude 0° 7′ 24.24″ W: "near 51.50, -0.12". */
const GPS = {
  [piexif.GPSIFD.GPSLatitudeRef]: "N",
  [piexif.GPSIFD.GPSLatitude]: [[51, 1], [30, 1], [12, 1]],
  [piexif.GPSIFD.GPSLongitudeRef]: "W",
  [piexif.GPSIFD.GPSLongitude]: [[0, 1], [7, 1], [2424, 100]],
};
export const CAMERA = "Examplephone EP-12 Pro";

/** A picture encoded by the browser itself: { jpeg, png } as Buffers. */
async function encoded(page) {
  const out = await page.evaluate(async () => {
    const c = new OffscreenCanvas(96, 64);
    const g = c.getContext("2d");
    for (let y = 0; y < 64; y += 8) for (let x = 0; x < 96; x += 8) {
      g.fillStyle = `rgb(${(x * 5) % 256}, ${(y * 9) % 256}, ${((x + y) * 3) % 256})`;
      g.fillRect(x, y, 8, 8);
    }
    const b64 = async (type) => {
      const bytes = new Uint8Array(await (await c.convertToBlob({ type, quality: 0.9 })).arrayBuffer());
      let s = "";
      for (const x of bytes) s += String.fromCharCode(x);
      return btoa(s);
    };
    return { jpeg: await b64("image/jpeg"), png: await b64("image/png") };
  });
  return { jpeg: Buffer.from(out.jpeg, "base64"), png: Buffer.from(out.png, "base64") };
}

/** The JPEG with EXIF as a phone writes it: GPS, make, model, serial, time, software, rotated. */
function withExif(jpeg) {
  const exif = piexif.dump({
    "0th": {
      [piexif.ImageIFD.Make]: "Examplephone",
      [piexif.ImageIFD.Model]: "EP-12 Pro",
      [piexif.ImageIFD.Software]: "ExampleOS 17.1",
      [piexif.ImageIFD.Orientation]: 6,
    },
    Exif: {
      [piexif.ExifIFD.DateTimeOriginal]: "2026:11:20 22:15:07",
      [piexif.ExifIFD.BodySerialNumber]: "SN-998877",
    },
    GPS,
  });
  return Buffer.from(piexif.insert(exif, jpeg.toString("latin1")), "latin1");
}

const chunk = (type, data) => {
  const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};

/** The PNG with text chunks (author, software, a comment) and an eXIf chunk with GPS, after IHDR. */
function withText(png) {
  const ihdrEnd = 8 + 12 + png.readUInt32BE(8);
  const exif = Buffer.from(piexif.dump({ "0th": { [piexif.ImageIFD.Make]: "Examplephone" }, GPS }), "latin1").subarray(6);
  return Buffer.concat([
    png.subarray(0, ihdrEnd),
    chunk("tEXt", Buffer.from("Author\0Jo Bloggs", "latin1")),
    chunk("tEXt", Buffer.from("Software\0ExampleCam 2.0", "latin1")),
    chunk("tEXt", Buffer.from("Comment\0taken at 12 Example Street", "latin1")),
    chunk("eXIf", exif),
    png.subarray(ihdrEnd),
  ]);
}

/** Choose files as a reporter does: the step's button opens the browser's file picker. */
async function choose(page, files) {
  const picker = page.waitForEvent("filechooser");
  await page.locator("#files-input").click();
  const chooser = await picker;
  assert.ok(chooser.isMultiple(), "several files can be chosen at once");
  await chooser.setFiles(files);
}

await main(async ({ base, input, browser }) => {
  if (phase === "phone") {
    const dir = process.env.QUIETLINE_SCREENSHOTS;
    const shots = [];
    for (const lang of ["en", "cy"]) {
      const T = catalogue(lang);
      const a = { ...input.answers, ...(input.answersByLang || {})[lang], lang };
      const ctx = await newContext(browser, base, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, bypassCSP: true });
      const page = await ctx.context.newPage();
      const { jpeg } = await (async () => { await page.goto(startUrl(lang)); return encoded(page); })();
      await fillReport(page, a, async () => {}, async (p) => {
        await choose(p, [{ name: "IMG_0001.jpg", mimeType: "image/jpeg", buffer: withExif(jpeg) }, { name: "clip.mp4", mimeType: "video/mp4", buffer: Buffer.alloc(3000, 1) }]);
        await p.getByText(T("att.meta.place", { lat: "51.50", lon: "-0.12" })).waitFor();
        const { violations } = await axeScan(p);
        assert.deepEqual(violations, [], `${lang}: axe on the file step: ${JSON.stringify(violations, null, 1)}`);
        if (dir) {
          const file = join(dir, `${lang}-attachments.png`);
          await p.screenshot({ path: file, fullPage: true });
          shots.push(file);
        }
        await p.getByLabel(T("att.choose.remove"), { exact: true }).check();
      });
      ctx.assertClean();
      await ctx.context.close();
    }
    return { shots };
  }

  if (phase === "resume") return resume(base, input, browser);
  if (phase === "button") return fileButton(base, input, browser);

  const T = catalogue("en");
  const ctx = await newContext(browser, base);
  const page = await ctx.context.newPage();
  if (process.env.QUIETLINE_E2E_DEBUG) {
    page.on("console", (m) => console.error("console:", m.text()));
    page.on("pageerror", (e) => console.error("pageerror:", e.stack || e));
    page.on("response", (r) => console.error("response:", r.status(), r.url()));
  }
  await page.goto("/");
  const raw = await encoded(page);
  const jpeg = withExif(raw.jpeg);
  const png = withText(raw.png);
  await fillReport(page, input.answers, async () => {}, async (p) => {
    step("choose a photo with GPS; drop a PNG with text chunks on the step");
    await choose(p, [{ name: "IMG_0001.jpg", mimeType: "image/jpeg", buffer: jpeg }]);
    await p.getByText(T("att.meta.place", { lat: "51.50", lon: "-0.12" })).first().waitFor();
    const dropped = await p.evaluateHandle((b64) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "screenshot.png", { type: "image/png" }));
      return dt;
    }, png.toString("base64"));
    await p.locator(".drop-zone").dispatchEvent("drop", { dataTransfer: dropped });
    await p.getByRole("heading", { name: /screenshot\.png/ }).waitFor();
    const text = await p.locator(".attachments").innerText();
    assert.ok(text.includes(T("att.meta.device", { device: CAMERA })), `the camera is named:\n${text}`);
    assert.ok(text.includes(T("att.meta.time", { time: "2026-11-20 22:15" })), `the time is named:\n${text}`);
    assert.ok(text.includes(T("att.meta.removed")), "the page says it will remove them");
  });
  const summary = await page.locator("dl.summary").innerText();
  assert.ok(summary.includes("IMG_0001.jpg") && summary.includes("screenshot.png"), `check answers lists the files:\n${summary}`);
  await page.getByRole("button", { name: T("check.send") }).click();
  const words = await readReplyCode(page);
  ctx.assertClean();
  return { jpeg: jpeg.toString("base64"), png: png.toString("base64"), words };
});

/** Wait until `file` exists (the Rust test's signal), checking every 50 ms. */
async function until(file) {
  while (!existsSync(file)) await new Promise((ok) => setTimeout(ok, 50));
}

async function resume(base, input, browser) {
  const T = catalogue("en");
  const dir = process.env.TMPDIR;
  const ctx = await newContext(browser, base);
  const page = await ctx.context.newPage();
  const video = randomBytes(5 * 1000 * 1000);
  const puts = [];
  let held = false;
  // Parts the server acknowledged (several are on their way at once).
  const acked = new Set();
  let ackedNow = () => {};
  page.on("response", (r) => {
    const m = /\/parts\/(\d+)$/.exec(r.url());
    if (m && r.status() === 200) {
      acked.add(Number(m[1]));
      ackedNow();
    }
  });
  await page.route(/\/api\/v1\/blobs\/[0-9a-f]{32}\/parts\/\d+$/, async (route) => {
    const n = Number(route.request().url().split("/").pop());
    puts.push(n);
    if (n === 2 && !held) {
      held = true;
      // Parts 0 and 1 travel beside part 2: the stop comes once the server
      // has acknowledged both (so they are durable and must not be sent again).
      while (!acked.has(0) || !acked.has(1)) await new Promise((ok) => { ackedNow = ok; });
      step("part 2 held; the test stops the server");
      writeFileSync(join(dir, "part-2"), "");
      await until(join(dir, "stopped"));
    }
    await route.continue();
  });
  page.on("requestfailed", (r) => {
    if (/\/parts\/2$/.test(r.url())) writeFileSync(join(dir, "failed"), "");
  });
  await fillReport(page, input.answers, async () => {}, async (p) => {
    await choose(p, [{ name: "clip.mp4", mimeType: "video/mp4", buffer: video }]);
    await p.getByText(T("att.cannot")).waitFor();
    await p.getByLabel(T("att.choose.send"), { exact: true }).check();
    await p.getByRole("button", { name: T("nav.continue") }).click();
    step("the upload is interrupted: the page says it is trying again");
    await p.getByText(T("att.resuming")).waitFor({ timeout: 60_000 });
    await heading(p, T("check.title"), 120_000);
    return true; // Continue was clicked here
  });
  await page.getByRole("button", { name: T("check.send") }).click();
  await readReplyCode(page);
  // The failed request is a fault made on purpose.
  ctx.problems.splice(0, ctx.problems.length, ...ctx.problems.filter((x) => !/parts\/2|ERR_CONNECTION_REFUSED|Failed to load resource/.test(x)));
  ctx.assertClean();
  return { sha256: createHash("sha256").update(video).digest("hex"), parts: puts };
}

// Function declarations: main() above runs before any later const is set.
function escaped(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The status line of the step's button. */
async function status(page) {
  return (await page.locator("#files-input .file-status").innerText()).trim();
}

async function fileButton(base, input, browser) {
  const dir = process.env.QUIETLINE_SCREENSHOTS;
  const shots = [];
  for (const lang of ["cy", "en"]) {
    const T = catalogue(lang);
    const a = { ...input.answers, ...(input.answersByLang || {})[lang], lang };
    const ctx = await newContext(browser, base, { bypassCSP: true });
    const page = await ctx.context.newPage();
    await page.goto(startUrl(lang));
    const { png } = await encoded(page);
    const scan = async (what) => {
      const { violations } = await axeScan(page);
      assert.deepEqual(violations, [], `${lang}: axe on the file step ${what}: ${JSON.stringify(violations, null, 1)}`);
    };
    await fillReport(page, a, async () => {}, async (p) => {
      step(`${lang}: one button in the page's words; the browser's input hidden`);
      const button = p.locator("#files-input");
      assert.equal(await button.evaluate((b) => b.tagName), "BUTTON");
      assert.equal(await status(p), T("files.none"));
      assert.equal((await button.locator(".button").innerText()).trim(), T("files.choose"));
      assert.ok((await button.innerText()).includes(T("files.drop")), "the drop instruction is on the button");
      // Its name: the heading's label, then what it holds.
      const name = new RegExp(`^${escaped(T("files.title"))}.*${escaped(T("files.none"))}.*${escaped(T("files.choose"))}.*${escaped(T("files.drop"))}$`);
      assert.equal(await p.getByRole("button", { name }).count(), 1, "the button is named by the label and its words");
      assert.equal(await p.getByLabel(T("files.title")).getAttribute("id"), "files-input", "the label labels the button");
      assert.equal(await button.getAttribute("aria-describedby"), "files-input-hint");
      const native = p.locator("#files-picker");
      assert.equal(await native.getAttribute("type"), "file");
      assert.ok(await native.isHidden(), "the browser's own input is not shown");
      const focusable = await p.locator(".drop-zone").evaluate((z) => [...z.querySelectorAll("a, button, input, select, textarea, [tabindex]")]
        .filter((el) => el.tabIndex >= 0 && el.getClientRects().length).map((el) => el.id));
      assert.deepEqual(focusable, ["files-input"], "one control to tab to");
      await scan("before a file is chosen");
      if (dir) {
        const file = join(dir, `${lang}-file-button.png`);
        await p.screenshot({ path: file, fullPage: true });
        shots.push(file);
      }

      step(`${lang}: an error links to the button (attach.js cannot be loaded)`);
      await p.route("**/attach.js", (r) => r.abort());
      await choose(p, [{ name: "one.png", mimeType: "image/png", buffer: png }]);
      const link = p.locator(".error-summary a");
      await link.filter({ hasText: T("send.err.load") }).waitFor();
      assert.equal(await link.getAttribute("href"), "#files-input");
      await link.click();
      assert.equal(await p.evaluate(() => document.activeElement.id), "files-input", "the summary's link focuses the button");
      assert.equal(await button.getAttribute("aria-describedby"), "files-input-hint files-input-error");
      await scan("with an error");
      await p.unroute("**/attach.js");
      ctx.problems.splice(0, ctx.problems.length, ...ctx.problems.filter((x) => !/attach\.js|ERR_FAILED|Failed to load resource/.test(x)));

      step(`${lang}: files dragged over the zone and away are announced`);
      const dragged = await p.evaluateHandle((b64) => {
        const dt = new DataTransfer();
        dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "dragged.png", { type: "image/png" }));
        return dt;
      }, png.toString("base64"));
      await button.dispatchEvent("dragenter", { dataTransfer: dragged });
      await p.locator("#files-drag").filter({ hasText: T("att.drag.in") }).waitFor();
      assert.ok(await p.locator(".drop-zone.dragging").count(), "the zone is outlined");
      await p.locator("header").dispatchEvent("dragenter", { dataTransfer: dragged });
      await p.locator("#files-drag").filter({ hasText: T("att.drag.out") }).waitFor();
      assert.equal(await p.locator(".drop-zone.dragging").count(), 0);

      step(`${lang}: files chosen through the button are counted`);
      await choose(p, [{ name: "one.png", mimeType: "image/png", buffer: png }]);
      await p.getByRole("heading", { name: /one\.png/ }).waitFor();
      assert.equal(await status(p), T("att.chosen", { n: 1 }));
      assert.equal(await p.locator(".error-summary").count(), 0, "the old error has gone");
      await choose(p, [{ name: "two.png", mimeType: "image/png", buffer: png }, { name: "three.png", mimeType: "image/png", buffer: png }]);
      await p.getByRole("heading", { name: /three\.png/ }).waitFor();
      assert.equal(await status(p), T("att.chosen", { n: 3 }));
      assert.equal(await p.evaluate(() => document.activeElement.id), "files-input", "focus is back on the button");
      assert.equal(await p.getByRole("button", { name: new RegExp(escaped(T("att.chosen", { n: 3 }))) }).count(), 1, "its name says how many");
      await scan("with files chosen");

      step(`${lang}: removed again, none chosen`);
      for (const f of ["one.png", "two.png", "three.png"]) await p.getByRole("button", { name: T("att.remove.name", { name: f }) }).click();
      assert.equal(await status(p), T("files.none"));
      return false; // fillReport selects Continue: nothing to upload
    });
    ctx.assertClean();
    await ctx.context.close();
  }
  return { shots };
}
