// The proof-of-work worker (served as /pow-worker.js, its own bundle): the
// search runs here so the page stays responsive while the reporter waits.
//
// In:  { challenge: Uint8Array(58), text: "<the challenge's base64url, exactly
//        as the server gave it>", envelopeHash: Uint8Array(32) }
// Out: { tries } about every 250 ms while searching, then
//      { tries, header } once solved: the whole Quietline-Pow header value.
// The difficulty solved for is the one inside the challenge
// (FORMAT.md#verifying); the page checked its shape before sending it here.
// The page ends the search early by terminating the worker.

import { powHeader, solve } from "./pow.js";

const PROGRESS_MS = 250;
// Tries between looks at the clock: a few milliseconds of work.
const SLICE = 4096;

self.onmessage = ({ data }) => {
  let tries = 0;
  let last = Date.now();
  for (;;) {
    const r = solve(data.challenge, data.envelopeHash, data.challenge[1], { start: tries, maxTries: SLICE });
    tries += r.tries;
    if (r.nonce) return self.postMessage({ tries, header: powHeader(data.text, r.nonce) });
    const now = Date.now();
    if (now - last >= PROGRESS_MS) {
      last = now;
      self.postMessage({ tries });
    }
  }
};
