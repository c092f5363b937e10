// Sending a payload: seal it to the force, fetch a challenge, have the
// worker solve it (../../crypto/FORMAT.md#proof-of-work), post, and try
// again where that can help: a new challenge on a 429 for the proof, the
// same envelope again after a 503 (how long and how often: retry.js), a new
// key on a 422. No DOM: `fetch`, the worker and what the reporter is shown
// come in through `io`, so node --test drives the whole send with a fake
// server and a fake worker (test/send.test.js).

import { fromBase64url, sealReport } from "./quietline-crypto.js";
import { OPTS } from "./api.js";
import { retryWait } from "./retry.js";

// ---------------------------------------------------------------- requests

/**
 * GET /api/v1/challenge: a proof-of-work challenge (FORMAT.md#challenge).
 * Resolves to { ok: true, text, challenge, difficulty }: the base64url text
 * exactly as received (it goes back in the header), its 58 octets, and the
 * difficulty written inside it (the one a solution needs). Otherwise
 * { ok: false, status } (0 when the request did not complete; 500 when the
 * answer is not a version-1 challenge).
 */
export async function getChallenge(fetch) {
  let res;
  try {
    res = await fetch("/api/v1/challenge", { ...OPTS, headers: { Accept: "application/json" } });
    if (!res.ok) return { ok: false, status: res.status };
    const text = (await res.json()).challenge;
    const challenge = /^[\w-]{78}$/.test(text) && fromBase64url(text);
    if (challenge && challenge[0] === 1 && challenge[1] <= 32) return { ok: true, text, challenge, difficulty: challenge[1] };
  } catch {
    if (!res) return { ok: false, status: 0 };
  }
  return { ok: false, status: 500 };
}

/**
 * POST /api/v1/reports with the envelope bytes and its proof of work (the
 * `Quietline-Pow` header value). Resolves to { ok: true, id } on 201, or
 * { ok: false, status, error, retryAfter } (status 0 when the request did
 * not complete; retryAfter is the Retry-After header's text, or null, which
 * a 503 carries: retry.js). The server's `message` is left out: the page
 * says what happened in its own plain words (app.js, sendError).
 */
export async function postReport(fetch, envelope, pow) {
  let res;
  try {
    res = await fetch("/api/v1/reports", {
      ...OPTS,
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", Accept: "application/json", "Quietline-Pow": pow },
      body: envelope,
    });
  } catch {
    return { ok: false, status: 0, error: "network" };
  }
  let body = {};
  try {
    body = await res.json();
  } catch {
    // A success with no JSON body still counts as sent.
  }
  if (res.status === 201) return { ok: true, id: body && body.id };
  return {
    ok: false,
    status: res.status,
    error: (body && typeof body.error === "string" && body.error) || "",
    retryAfter: res.headers.get("Retry-After"),
  };
}

// ---------------------------------------------------------------- sending

let work = null; // { worker, resolve } while a worker searches; { timer, resolve } while waiting to retry

/**
 * Stop the search or the wait, if one runs, and settle prove() or
 * waitToRetry() with `result`. Returns whether one ran.
 */
export function stopWork(result) {
  if (!work) return false;
  if (work.worker) work.worker.terminate();
  clearTimeout(work.timer);
  work.resolve(result);
  work = null;
  return true;
}

/**
 * After a 503: wait `secs` seconds (io.busy says so meanwhile). Resolves to
 * {} when the time is up, or { cancelled: true } (stopWork).
 */
function waitToRetry(secs, io) {
  return new Promise((resolve) => {
    work = { timer: setTimeout(() => { work = null; resolve({}); }, secs * 1000), resolve };
    io.busy(secs);
  });
}

/**
 * The proof of work over an envelope: a fresh challenge, SHA-256 of the
 * envelope, and a worker (io.worker(), pow-worker.js in the page) searching,
 * while io.solving and io.tries show it. Resolves to { header }, a failure
 * like postReport's (with `challenge: true` when the challenge could not be
 * had), or { cancelled: true }.
 */
async function prove(envelope, io, what) {
  const c = await getChallenge(io.fetch);
  if (!c.ok) return { ...c, challenge: true };
  // Difficulty 0: proof of work is off, any nonce will do (eight zero octets).
  if (!c.difficulty) return { header: `${c.text}.AAAAAAAAAAA` };
  const envelopeHash = new Uint8Array(await crypto.subtle.digest("SHA-256", envelope));
  return new Promise((resolve) => {
    let worker;
    try {
      worker = io.worker();
    } catch {
      return resolve({ ok: false, status: -1 });
    }
    work = { worker, resolve };
    worker.onmessage = ({ data }) => (data.header ? stopWork(data) : io.tries(data.tries));
    worker.onerror = () => stopWork({ ok: false, status: -1 });
    worker.postMessage({ challenge: c.challenge, text: c.text, envelopeHash });
    io.solving(2 ** c.difficulty, what);
  });
}

/**
 * Seal a payload to a force, prove work over the envelope and post it. On
 * 422 (unknown or retired key) the directory is reloaded and the payload
 * sealed again to the force's current key, once; on 429 for the proof of
 * work (expired, spent or outdated) a new challenge is solved, once. On 503
 * (the service cannot store for the moment) the same envelope with the same
 * proof is sent again after Retry-After, a few times (retryWait), Cancel
 * (stopWork) still working. Returns the postReport result with `force` set,
 * or { cancelled: true }.
 *
 * `io`: fetch; worker() → a new proof-of-work Worker; force(id) → the
 * force's directory entry ({ id, publicKey, … }) as loaded, if any;
 * reload() → a promise that loads the directory again; and what the
 * reporter is shown: progress(catalogue key), solving(expected tries, what: the
 * `what` given here, "report" or "message"), tries(n), busy(secs to wait),
 * posting().
 */
export async function sealAndPost(forceId, payload, what, io) {
  let force = io.force(forceId);
  let retries = 0; // after a 503, for this whole send
  for (let attempt = 0; ; attempt++) {
    if (!force) return { ok: false, status: 404, error: "unknown_force" };
    io.progress("send.locking"); // a catalogue key (i18n.js)
    const envelope = await sealReport(force.id, force.publicKey, payload);
    let res;
    for (let proofs = 0; proofs < 2; proofs++) {
      res = await prove(envelope, io, what);
      if (!res.header) break;
      const header = res.header;
      // 503: nothing was stored and the challenge is still good, so the
      // same bytes go again (never sealed again: the report stays the one
      // the reporter checked), after the wait the server asks for.
      for (let secs = 0; ;) {
        io.posting();
        res = await postReport(io.fetch, envelope, header);
        // "Already spent" for this proof after a 503 means this very
        // envelope was stored after all: a challenge is recorded as spent in
        // the same transaction as its report, and a solution fits only the
        // envelope it was solved over (the earlier attempt committed
        // although its answer said otherwise, as when a database connection
        // is lost during a commit). A new challenge would store it twice.
        if (secs && res.error === "pow_spent") res = { ok: true };
        if (!(secs = retryWait(res, retries))) break;
        retries++;
        res = await waitToRetry(secs, io);
        if (res.cancelled) return res;
      }
      // Expired, already spent or outdated (a slow solve, a retry after a
      // lost answer, the difficulty risen since): a new challenge, once.
      if (res.status !== 429 || !/^pow_(expired|spent|outdated)$/.test(res.error)) break;
    }
    if (res.cancelled) return res;
    res.force = force;
    // An unknown force: refresh the list, so "Change" shows the current one.
    if (res.status === 404) await io.reload();
    if (res.ok || res.status !== 422 || attempt > 0) return res;
    io.progress("send.new_key");
    await io.reload();
    force = io.force(forceId);
  }
}
