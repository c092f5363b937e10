// The proof-of-work worker (served as /pow-worker.js, its own bundle): the
// search runs here so the page stays responsive while the reporter waits.
// The page starts several (send.js), each searching its own share of the
// nonces.
//
// In:  { challenge: Uint8Array(58), text: "<the challenge's base64url, exactly
//        as the server gave it>", envelopeHash: Uint8Array(32),
//        start: first nonce, stride: how many workers share the search }
// Out: { tries } about every 250 ms while searching, then
//      { tries, header } once solved: the whole Quietline-Pow header value;
//      { error: true } if WebCrypto refused (no HKDF in this browser).
// The difficulty solved for is the one inside the challenge
// (FORMAT.md#verifying); the page checked its shape before sending it here.
// The page ends the search early by terminating the worker.

import { powHeader, solve } from "./pow.js";

const PROGRESS_MS = 250;

self.onmessage = async ({ data }) => {
  let last = Date.now();
  const onProgress = (tries) => {
    const now = Date.now();
    if (now - last >= PROGRESS_MS) {
      last = now;
      self.postMessage({ tries });
    }
  };
  try {
    const r = await solve(crypto.subtle, data.challenge, data.envelopeHash, data.challenge[1], {
      start: data.start || 0,
      stride: data.stride || 1,
      onProgress,
    });
    self.postMessage({ tries: r.tries, header: powHeader(data.text, r.work) });
  } catch {
    self.postMessage({ error: true });
  }
};
