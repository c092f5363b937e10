// Sending a payload: seal it to the force, fetch a challenge, have the
// workers solve it (../../crypto/FORMAT.md#proof-of-work), post, and try
// again where that can help: a new challenge on a 429 for the proof, the
// same envelope again after a 503 (how long and how often: retry.js), a new
// key on a 422. A long search can be paused and resumed (the sealed envelope
// stays in memory here meanwhile, never in storage) and starts again on a
// fresh challenge before its challenge expires. No DOM: `fetch`, the workers
// and what the reporter is shown come in through `io`, so node --test drives
// the whole send with a fake server and fake workers (test/send.test.js).

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

// { workers, timer, resolve } while workers search; { timer, resolve } while
// waiting to retry; { paused: true, resolve } while a send is paused.
let work = null;

/**
 * A challenge lives ten to fifteen minutes (FORMAT.md#challenge). A search
 * still running after nine starts again on a new one: each try is a fresh
 * chance, so the tries already made do not bring the answer nearer and
 * nothing is lost by starting again.
 */
export const REFRESH_MS = 9 * 60 * 1000;

/**
 * Stop the search, the wait or the pause, if one runs, and settle prove(),
 * waitToRetry() or waitToResume() with `result`. Returns whether one ran.
 */
export function stopWork(result) {
  if (!work) return false;
  for (const w of work.workers || []) w.terminate();
  clearTimeout(work.timer);
  work.resolve(result);
  work = null;
  return true;
}

/**
 * Pause a search that runs (the reporter will send later): the workers end;
 * the sealed envelope waits in sealAndPost, in memory only, until
 * resumeWork() (a new challenge, a new search) or stopWork() (cancelled).
 * Returns whether a search was running.
 */
export function pauseWork() {
  return Boolean(work && work.workers) && stopWork({ paused: true });
}

/** Resume a paused send. Returns whether one was paused. */
export function resumeWork() {
  return Boolean(work && work.paused) && stopWork({});
}

/** While paused: io.paused() says so; resolves to {} or { cancelled: true }. */
function waitToResume(io) {
  return new Promise((resolve) => {
    work = { paused: true, resolve };
    io.paused();
  });
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
 * envelope, and io.threads workers (io.worker(), pow-worker.js in the page)
 * searching, each its own share of the nonces, while io.solving and io.tries
 * (the tries of all of them) show it. Resolves to { header }, a failure like
 * postReport's (with `challenge: true` when the challenge could not be had),
 * { cancelled: true }, { paused: true } or { refresh: true } (REFRESH_MS).
 */
async function prove(envelope, io, what) {
  const c = await getChallenge(io.fetch);
  if (!c.ok) return { ...c, challenge: true };
  // Difficulty 0: proof of work is off, any work will do (nonce 0, block 1).
  if (!c.difficulty) return { header: `${c.text}.AAAAAAAAAAAB` };
  const envelopeHash = new Uint8Array(await crypto.subtle.digest("SHA-256", envelope));
  return new Promise((resolve) => {
    const n = Math.max(1, io.threads || 1);
    const workers = [];
    const tries = new Array(n).fill(0);
    try {
      for (let i = 0; i < n; i++) workers.push(io.worker());
    } catch {
      for (const w of workers) w.terminate();
      return resolve({ ok: false, status: -1 });
    }
    work = { workers, resolve, timer: setTimeout(() => stopWork({ refresh: true }), REFRESH_MS) };
    workers.forEach((worker, i) => {
      worker.onmessage = ({ data }) => {
        if (data.header) return stopWork(data);
        if (data.error) return stopWork({ ok: false, status: -1 });
        tries[i] = data.tries;
        io.tries(tries.reduce((a, b) => a + b, 0));
      };
      worker.onerror = () => stopWork({ ok: false, status: -1 });
      worker.postMessage({ challenge: c.challenge, text: c.text, envelopeHash, start: i, stride: n });
    });
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
 * `io`: fetch; worker() → a new proof-of-work Worker; threads → how many
 * to start (1 if unset); force(id) → the force's directory entry ({ id,
 * publicKey, … }) as loaded, if any; check(force) → a promise of null when
 * the page may seal to that entry, or a code why not (keycheck.js; then
 * nothing is sealed and the result is { ok: false, keycheck: code, force });
 * reload() → a promise that loads the
 * directory again; and what the reporter is shown: progress(catalogue key),
 * solving(expected tries, what: the `what` given here, "report" or
 * "message"), tries(n), busy(secs to wait), paused() (pauseWork),
 * posting().
 */
export async function sealAndPost(forceId, payload, what, io) {
  let force = io.force(forceId);
  let retries = 0; // after a 503, for this whole send
  for (let attempt = 0; ; attempt++) {
    if (!force) return { ok: false, status: 404, error: "unknown_force" };
    io.progress("send.locking"); // a catalogue key (i18n.js)
    // The check before sealing, each time a key is used (a new one after a 422 too).
    const refused = io.check && (await io.check(force));
    if (refused) return { ok: false, keycheck: refused, force };
    const envelope = await sealReport(force.id, force.publicKey, payload);
    let res;
    for (let proofs = 0; proofs < 2; proofs++) {
      res = await prove(envelope, io, what);
      // Neither is a retry: a long search goes on with a fresh challenge,
      // and a paused one when the reporter says so.
      if (res.paused) {
        res = await waitToResume(io);
        if (res.cancelled) return res;
        res = { refresh: true };
      }
      if (res.refresh) {
        proofs--;
        continue;
      }
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
