// The reporter's side under node, with the page's own crypto module
// (web/src/quietline-crypto.js), for console/tests/node_page.rs.
//
//   node reporter.mjs MODULE seal FORCE PUBLIC_KEY   → {"envelope": b64url, "words": "…"}
//   node reporter.mjs MODULE follow-up FORCE PUBLIC_KEY WORDS MESSAGE → {"envelope": b64url}
//   node reporter.mjs MODULE slot WORDS I             → {"address": hex}
//   node reporter.mjs MODULE open WORDS ENVELOPE      → the reply payload (JSON)
import { pathToFileURL } from "node:url";

const [modulePath, cmd, ...args] = process.argv.slice(2);
const q = await import(pathToFileURL(modulePath).href);
// The page loads these two with a <script> tag when it first needs them
// (the word list, and the X-Wing code for a hybrid key); under node they
// register the same globals by being imported.
await import(new URL("pq.js", pathToFileURL(modulePath)).href);
await import(new URL("words.js", pathToFileURL(modulePath)).href);

const report = {
  category: "weapons",
  details: "A knife is kept under the counter; sealed by node",
  where: { known: true, description: "Corner shop, High Street" },
  when: { known: true, date: "2026-11-25", ongoing: false, description: "" },
  people: [{ name: "", description: "shop assistant, evenings" }],
  vehicles: [],
  how_known: "told",
  how_known_details: "",
};

async function secretsFrom(words) {
  return q.deriveReplySecrets(q.wordsToReplyCode(words));
}

let out;
switch (cmd) {
  case "seal": {
    const [force, pk] = args;
    const entropy = q.generateReplyCode();
    const secrets = await q.deriveReplySecrets(entropy);
    const payload = q.reportPayload({ sentAt: "2026-11-27T10:00:00Z", lang: "en", report, reply: q.replyMaterial(secrets) });
    const env = await q.sealReport(force, q.publicKeyFromBase64url(pk), payload);
    out = { envelope: q.toBase64url(env), words: q.replyCodeToWords(entropy) };
    break;
  }
  case "follow-up": {
    const [force, pk, words, message] = args;
    const secrets = await secretsFrom(words);
    const payload = q.followUpPayload({ sentAt: "2026-11-28T10:00:00Z", lang: "en", message, reply: q.replyMaterial(secrets) });
    out = { envelope: q.toBase64url(await q.sealReport(force, q.publicKeyFromBase64url(pk), payload)) };
    break;
  }
  case "slot": {
    const [words, i] = args;
    const secrets = await secretsFrom(words);
    out = { address: q.toHex(await q.slotAddress(secrets.slotKey, Number(i))) };
    break;
  }
  case "open": {
    const [words, envelope] = args;
    const secrets = await secretsFrom(words);
    out = await q.openReply(secrets.replyPrivateKey, q.fromBase64url(envelope));
    break;
  }
  default:
    throw new Error(`unknown command ${cmd}`);
}
process.stdout.write(JSON.stringify(out) + "\n");
